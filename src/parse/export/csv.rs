//! A streaming RFC 4180 reader for exported CSV files: delimiter sniffed from the
//! header (`,` `;` tab), UTF-8 BOM stripped, Excel's `sep=;` first line honoured,
//! UTF-16 "Unicode text" exports transcoded, quoted fields spanning lines, `""`
//! escapes, CRLF, LF or lone-CR line ends, and bytes that are not UTF-8 decoded
//! lossily. It yields records with the line they start on; what the columns mean is
//! left to `export::mod`.

use std::io::{self, BufRead};

/// Cuts a CSV stream into records.
pub struct CsvReader<'a> {
    input: &'a mut dyn BufRead,
    pub delimiter: u8,
    /// Line number (1-based) of the next unread line.
    line: u64,
    raw: Vec<u8>,
}

/// One record: its fields and the line it starts on.
#[derive(Debug, Clone, Default)]
pub struct Record {
    pub line: u64,
    pub fields: Vec<String>,
}

impl Record {
    /// True for an empty line (one empty field) or a row of empty fields.
    pub fn is_blank(&self) -> bool {
        self.fields.iter().all(|f| f.trim().is_empty())
    }
}

/// The delimiter used most often outside quotes on the header line; `,` by default.
pub fn sniff_delimiter(header: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in header {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let (i, n) = counts
        .iter()
        .enumerate()
        .max_by_key(|(i, n)| (**n, usize::MAX - i))
        .unwrap_or((0, &0));
    if *n == 0 {
        return b',';
    }
    [b',', b';', b'\t'][i]
}

/// UTF-16 (with a BOM) into UTF-8; other bytes are returned as they are.
pub fn transcode_utf16(data: &[u8]) -> Option<Vec<u8>> {
    let little = data.starts_with(&[0xFF, 0xFE]);
    if !little && !data.starts_with(&[0xFE, 0xFF]) {
        return None;
    }
    let units = data[2..].chunks_exact(2).map(|c| {
        if little {
            u16::from_le_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], c[1]])
        }
    });
    let text: String = char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    Some(text.into_bytes())
}

impl<'a> CsvReader<'a> {
    pub fn new(input: &'a mut dyn BufRead, delimiter: u8) -> CsvReader<'a> {
        CsvReader {
            input,
            delimiter,
            line: 1,
            raw: Vec::new(),
        }
    }

    /// Reads one physical line (LF, CRLF or a lone CR ends it) into `self.raw`,
    /// appending; returns false at the end of the input.
    fn read_line(&mut self) -> io::Result<bool> {
        let start = self.raw.len();
        loop {
            let buf = self.input.fill_buf()?;
            if buf.is_empty() {
                return Ok(self.raw.len() > start);
            }
            match memchr::memchr2(b'\n', b'\r', buf) {
                Some(i) => {
                    let cr = buf[i] == b'\r';
                    self.raw.extend_from_slice(&buf[..=i]);
                    self.input.consume(i + 1);
                    if cr {
                        // CRLF: take the LF too.
                        let next = self.input.fill_buf()?;
                        if next.first() == Some(&b'\n') {
                            self.raw.push(b'\n');
                            self.input.consume(1);
                        }
                    }
                    return Ok(true);
                }
                None => {
                    let n = buf.len();
                    self.raw.extend_from_slice(buf);
                    self.input.consume(n);
                }
            }
        }
    }

    /// The next record, or `None` at the end of the input. A quote left open at the
    /// end of the input closes there.
    pub fn next_record(&mut self) -> io::Result<Option<Record>> {
        self.raw.clear();
        let first = self.line;
        if !self.read_line()? {
            return Ok(None);
        }
        self.line += 1;
        while open_quote(&self.raw) {
            if !self.read_line()? {
                break;
            }
            self.line += 1;
        }
        if first == 1 && self.raw.starts_with(b"\xEF\xBB\xBF") {
            self.raw.drain(..3);
        }
        Ok(Some(Record {
            line: first,
            fields: split_fields(&self.raw, self.delimiter),
        }))
    }
}

/// True when the bytes end inside a quoted field.
fn open_quote(raw: &[u8]) -> bool {
    raw.iter().filter(|&&b| b == b'"').count() % 2 == 1
}

/// Splits one record (line end included) into fields.
pub fn split_fields(raw: &[u8], delimiter: u8) -> Vec<String> {
    let mut end = raw.len();
    while end > 0 && matches!(raw[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    let raw = &raw[..end];
    let mut fields = Vec::new();
    let mut field = Vec::new();
    let mut quoted = false;
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if quoted {
            if b == b'"' {
                if raw.get(i + 1) == Some(&b'"') {
                    field.push(b'"');
                    i += 1;
                } else {
                    quoted = false;
                }
            } else {
                field.push(b);
            }
        } else if b == b'"' {
            quoted = true;
        } else if b == delimiter {
            fields.push(String::from_utf8_lossy(&field).into_owned());
            field.clear();
        } else {
            field.push(b);
        }
        i += 1;
    }
    fields.push(String::from_utf8_lossy(&field).into_owned());
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(text: &[u8], delimiter: u8) -> Vec<(u64, Vec<String>)> {
        let mut input: &[u8] = text;
        let mut r = CsvReader::new(&mut input, delimiter);
        let mut out = Vec::new();
        while let Some(rec) = r.next_record().unwrap() {
            out.push((rec.line, rec.fields));
        }
        out
    }

    #[test]
    fn quoted_multiline_fields_and_line_ends() {
        let got = records(
            b"\xEF\xBB\xBFa,b\r\n1,\"x\r\ny, \"\"q\"\"\"\r\n2,z\r3,w",
            b',',
        );
        assert_eq!(
            got,
            vec![
                (1, vec!["a".to_string(), "b".to_string()]),
                (2, vec!["1".to_string(), "x\r\ny, \"q\"".to_string()]),
                (4, vec!["2".to_string(), "z".to_string()]),
                (5, vec!["3".to_string(), "w".to_string()]),
            ]
        );
    }

    #[test]
    fn sniffs_the_delimiter_outside_quotes() {
        assert_eq!(sniff_delimiter(b"email;status;\"a,b,c\"\n"), b';');
        assert_eq!(sniff_delimiter(b"email\tstatus\n"), b'\t');
        assert_eq!(sniff_delimiter(b"email,status\n"), b',');
        assert_eq!(sniff_delimiter(b"email\n"), b',');
    }

    #[test]
    fn utf16_is_transcoded() {
        let text: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("a\tb\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(transcode_utf16(&text).unwrap(), b"a\tb\n");
        assert!(transcode_utf16(b"a,b").is_none());
    }
}

//! A quoted-printable decoder for the text parts of the skeleton (see `skeleton`).
//!
//! mail-parser's own (`MessageStream::decode_quoted_printable_mime`) decodes byte by
//! byte into a buffer grown from 128 bytes, and was ~10% of all instructions on the
//! DSN benchmark (a few notices carry 60 KB quoted-printable HTML bodies). This one
//! copies runs of plain bytes whole, found by memchr, and yields the very same bytes
//! as mail-parser 0.11.9 (a bump of mail-parser must check them again: the tests
//! compare both on generated bodies), quirks included:
//! - every CR is dropped; after the first one, a line break is written CRLF;
//! - a hard line break drops the spaces and tabs (and form feeds) written before it;
//! - `=` + line break is a soft break; `=` + whitespace waits for what follows;
//! - `=` + a byte that is not hex is kept as written, as is `=X` + one that is not;
//! - `=X` + line break writes the break and stays pending: the next byte completes
//!   the escape (`=A\nB` is a line break and 0xAB);
//! - a second `=` while one is pending makes mail-parser give up on the part (it then
//!   reads the bytes as they are): `None` here.
//!
//! At the closing boundary mail-parser writes the delimiter's first `-` as any byte,
//! then takes it back, with the line break before it when a line feed came before
//! it: the length of a line break in the current style, whether or not the line feed
//! wrote one.

/// Decodes `body` as mail-parser does: the bytes before a closing `--boundary` when
/// `closed`, or a whole body read without a boundary. `None` where mail-parser gives
/// up, or where it would cut more than it decoded (its subtraction overflows).
pub(super) fn decode(body: &[u8], closed: bool) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(body.len());
    let mut state = State::Plain;
    // Trailing whitespace written since the last line break or escape.
    let mut spaces = 0;
    let mut crlf = false;
    let mut i = 0;
    while i < body.len() {
        if state == State::Plain {
            let end = memchr::memchr3(b'=', b'\n', b'\r', &body[i..]).map_or(body.len(), |p| i + p);
            let run = &body[i..end];
            if !run.is_empty() {
                out.extend_from_slice(run);
                let trailing = run
                    .iter()
                    .rev()
                    .take_while(|b| b.is_ascii_whitespace())
                    .count();
                spaces = if trailing == run.len() {
                    spaces + trailing
                } else {
                    trailing
                };
            }
            i = end;
            // The common escapes, in one step.
            match body.get(i..i + 3) {
                Some([b'=', h1, h2]) if hex(*h1).is_some() && hex(*h2).is_some() => {
                    out.push(hex(*h1)? << 4 | hex(*h2)?);
                    spaces = 0;
                    i += 3;
                    continue;
                }
                Some([b'=', b'\n', _]) => {
                    spaces = 0;
                    i += 2;
                    continue;
                }
                _ => {}
            }
            if i == body.len() {
                break;
            }
        }
        // Anything else, byte by byte, as mail-parser reads it.
        let ch = body[i];
        match ch {
            b'=' if state == State::Plain => state = State::Eq,
            b'=' => return None,
            b'\n' => {
                if state == State::Eq {
                    state = State::Plain;
                } else {
                    out.truncate(out.len() - spaces);
                    out.extend_from_slice(line_break(crlf));
                }
                spaces = 0;
            }
            b'\r' => crlf = true,
            _ => escape_byte(
                &mut out,
                &mut state,
                &mut spaces,
                ch,
                i.checked_sub(1).map(|p| body[p]),
            ),
        }
        i += 1;
    }
    if closed {
        // The delimiter's first `-`, written, then taken back.
        escape_byte(
            &mut out,
            &mut state,
            &mut spaces,
            b'-',
            body.last().copied(),
        );
        let back = if body.last() == Some(&b'\n') {
            line_break(crlf).len() + 1
        } else {
            1
        };
        out.truncate(out.len().checked_sub(back)?);
    }
    Some(out)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Plain,
    /// After `=`.
    Eq,
    /// After `=` and a hex digit of this value.
    Hex1(u8),
}

/// A byte other than `=`, CR and LF, in `state`; `last` is the byte before it.
fn escape_byte(out: &mut Vec<u8>, state: &mut State, spaces: &mut usize, ch: u8, last: Option<u8>) {
    match *state {
        State::Plain => {
            *spaces = if ch.is_ascii_whitespace() {
                *spaces + 1
            } else {
                0
            };
            out.push(ch);
        }
        State::Eq => match hex(ch) {
            Some(h) => *state = State::Hex1(h),
            None if ch.is_ascii_whitespace() => {}
            None => {
                *state = State::Plain;
                out.extend_from_slice(&[b'=', ch]);
                *spaces = 0;
            }
        },
        State::Hex1(h1) => {
            *state = State::Plain;
            match hex(ch) {
                Some(h2) => out.push(h1 << 4 | h2),
                // mail-parser writes back the byte before, not the first digit (they
                // differ when a CR or a line feed came between).
                None => out.extend_from_slice(&[b'=', last.unwrap_or(0), ch]),
            }
            *spaces = 0;
        }
    }
}

fn line_break(crlf: bool) -> &'static [u8] {
    if crlf { b"\r\n" } else { b"\n" }
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::decode;

    fn open(s: &str) -> Option<String> {
        decode(s.as_bytes(), false).map(|v| String::from_utf8_lossy(&v).into_owned())
    }

    fn closed(s: &str) -> Option<String> {
        decode(s.as_bytes(), true).map(|v| String::from_utf8_lossy(&v).into_owned())
    }

    #[test]
    fn escapes_and_soft_breaks() {
        let got = open("caf=C3=A9 =3D x=\ny =\r\nz\n").unwrap();
        assert_eq!(got, "café = xy z\r\n");
        assert_eq!(open("a=4").as_deref(), Some("a"));
        assert_eq!(open("a=").as_deref(), Some("a"));
        assert_eq!(
            open("=e9=E9").unwrap().as_bytes(),
            "\u{fffd}\u{fffd}".as_bytes()
        );
    }

    #[test]
    fn line_breaks_drop_trailing_whitespace_and_carriage_returns() {
        assert_eq!(open("a \t\n b  =\n c \n").as_deref(), Some("a\n b   c\n"));
        assert_eq!(open("a =20\n").as_deref(), Some("a  \n"));
        assert_eq!(open("a\nb\r\nc\n").as_deref(), Some("a\nb\r\nc\r\n"));
        assert_eq!(open("a\rb\n").as_deref(), Some("ab\r\n"));
        // `=` then whitespace waits: the whitespace is neither written nor counted.
        assert_eq!(open("a = \n").as_deref(), Some("a "));
        assert_eq!(open("a = z\n").as_deref(), Some("a =z\n"));
        // ... and a hex digit after it starts an escape.
        assert_eq!(open("a = b\n").as_deref(), Some("a\n"));
    }

    #[test]
    fn malformed_escapes_as_mail_parser_reads_them() {
        assert_eq!(open("a=Zb").as_deref(), Some("a=Zb"));
        assert_eq!(open("a=AZ").as_deref(), Some("a=AZ"));
        // The byte before the bad one is written back, not the first digit.
        assert_eq!(open("a=A\rZ").as_deref(), Some("a=\rZ"));
        assert_eq!(open("a=A\nZ").as_deref(), Some("a\n=\nZ"));
        // The escape completes across the line break.
        assert_eq!(decode(b"a=A\nB", false).unwrap(), b"a\n\xab");
        // A second `=` while one is pending: mail-parser gives up.
        for bad in ["a==", "=A=", "= =", "=\r=", "=A\n="] {
            assert_eq!(open(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_closing_boundary_takes_back_a_line_break() {
        assert_eq!(closed("").as_deref(), Some(""));
        assert_eq!(closed("a\n").as_deref(), Some("a"));
        assert_eq!(closed("a  \n").as_deref(), Some("a"));
        assert_eq!(closed("a\r\n").as_deref(), Some("a"));
        assert_eq!(closed("a\n\n").as_deref(), Some("a\n"));
        // In the middle of a line.
        assert_eq!(closed("a b").as_deref(), Some("a b"));
        assert_eq!(closed("a=").as_deref(), Some("a="));
        assert_eq!(closed("a=4").as_deref(), Some("a=4"));
        // After a soft break nothing was written for the line feed, yet as much is
        // taken back.
        assert_eq!(closed("abc=\n").as_deref(), Some("ab"));
        assert_eq!(closed("=\n"), None);
        assert_eq!(closed("a\r=\n"), None);
        assert_eq!(closed("ab\r=\n").as_deref(), Some(""));
        assert_eq!(closed("abc\r=\n").as_deref(), Some("a"));
    }

    /// Every path, long runs included, against a byte-by-byte transcription of
    /// mail-parser's loop.
    #[test]
    fn runs_decode_as_byte_by_byte() {
        let alphabet: &[&[u8]] = &[
            b"=",
            b"A",
            b"f",
            b"3",
            b"Z",
            b" ",
            b"\t",
            b"\r",
            b"\n",
            b"-",
            b"\xe9",
            b"plain text",
        ];
        let mut seed = 0x2545_f491_u64;
        for _ in 0..20_000 {
            let mut body = Vec::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = seed % 24;
            let mut s = seed;
            for _ in 0..len {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                body.extend_from_slice(alphabet[(s >> 33) as usize % alphabet.len()]);
            }
            for closed in [false, true] {
                assert_eq!(
                    decode(&body, closed),
                    reference(&body, closed),
                    "{:?} closed {closed}",
                    String::from_utf8_lossy(&body)
                );
            }
        }
    }

    /// mail-parser 0.11.9's `decode_quoted_printable_mime`, with the boundary's
    /// `--` after the body when `closed`, and a failed subtraction as `None`.
    fn reference(body: &[u8], closed: bool) -> Option<Vec<u8>> {
        let mut input = body.to_vec();
        if closed {
            input.extend_from_slice(b"--");
        }
        let (mut eq, mut hex1) = (false, None::<u8>);
        let (mut last, mut before_last, mut ws, mut crlf) = (0u8, 0u8, 0usize, &b"\n"[..]);
        let mut buf = Vec::new();
        let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
        for (i, &ch) in input.iter().enumerate() {
            match ch {
                b'=' if !eq && hex1.is_none() => eq = true,
                b'=' => return None,
                b'\n' => {
                    if eq {
                        eq = false;
                    } else {
                        buf.truncate(buf.len() - ws);
                        buf.extend_from_slice(crlf);
                    }
                    ws = 0;
                }
                b'\r' => crlf = b"\r\n",
                b'-' if closed && i == input.len() - 1 => {
                    let back = if before_last == b'\n' {
                        crlf.len() + 1
                    } else {
                        1
                    };
                    buf.truncate(buf.len().checked_sub(back)?);
                    return Some(buf);
                }
                _ if eq => match hex(ch) {
                    Some(h) => {
                        eq = false;
                        hex1 = Some(h);
                    }
                    None if ch.is_ascii_whitespace() => {}
                    None => {
                        eq = false;
                        buf.extend_from_slice(&[b'=', ch]);
                        ws = 0;
                    }
                },
                _ => match hex1.take() {
                    Some(h1) => {
                        match hex(ch) {
                            Some(h2) => buf.push(h1 << 4 | h2),
                            None => buf.extend_from_slice(&[b'=', last, ch]),
                        }
                        ws = 0;
                    }
                    None => {
                        ws = if ch.is_ascii_whitespace() { ws + 1 } else { 0 };
                        buf.push(ch);
                    }
                },
            }
            before_last = last;
            last = ch;
        }
        Some(buf)
    }
}

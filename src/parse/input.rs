//! Opening inputs: files, `-` for standard input, gzip detected by its magic bytes and
//! decompressed on the fly, and the head of the content for format sniffing.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

/// Read buffer size: large, so the parser sees few refills.
pub const BUFFER: usize = 1 << 20;

/// How many bytes of content are looked at to detect the format.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// An opened input, positioned at its start, with the head of its (decompressed)
/// content available for sniffing.
pub struct Opened {
    pub name: String,
    pub reader: Box<dyn BufRead + Send>,
    pub head: Vec<u8>,
    /// (year, month) of the file's modification time, for syslog years.
    pub mtime: Option<(i32, u32)>,
    pub compressed: bool,
}

/// Opens a path (or `-`), transparently decompressing gzip.
pub fn open(path: &Path) -> io::Result<Opened> {
    let is_stdin = path == Path::new("-");
    let name = if is_stdin {
        "<stdin>".to_string()
    } else {
        path.display().to_string()
    };
    let (raw, mtime): (Box<dyn Read + Send>, Option<(i32, u32)>) = if is_stdin {
        (Box::new(io::stdin()), None)
    } else {
        let file = File::open(path)?;
        let meta = file.metadata()?;
        if meta.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "is a directory",
            ));
        }
        let mtime = meta.modified().ok().and_then(year_month_of);
        (Box::new(file), mtime)
    };
    let mut buffered = BufReader::with_capacity(BUFFER, raw);
    let compressed = buffered.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    let mut reader: Box<dyn BufRead + Send> = if compressed {
        Box::new(BufReader::with_capacity(
            BUFFER,
            MultiGzDecoder::new(buffered),
        ))
    } else {
        Box::new(buffered)
    };
    let head = peek(&mut reader, SNIFF_BYTES)?;
    Ok(Opened {
        name,
        reader,
        head,
        mtime,
        compressed,
    })
}

/// Copies up to `n` bytes from the front of the reader without consuming them; when
/// the buffer holds less, reads ahead into a chained reader.
fn peek(reader: &mut Box<dyn BufRead + Send>, n: usize) -> io::Result<Vec<u8>> {
    let available = reader.fill_buf()?;
    if available.len() >= n || available.is_empty() {
        return Ok(available[..available.len().min(n)].to_vec());
    }
    // The buffer holds less than we want (small reads from a pipe or a decoder): pull
    // more into a Vec and put it back in front.
    let mut head = Vec::with_capacity(n);
    let taken = std::mem::replace(reader, Box::new(io::empty()));
    let mut limited = taken.take(n as u64);
    limited.read_to_end(&mut head)?;
    let rest = limited.into_inner();
    *reader = Box::new(BufReader::with_capacity(
        BUFFER,
        io::Cursor::new(head.clone()).chain(rest),
    ));
    Ok(head)
}

fn year_month_of(time: std::time::SystemTime) -> Option<(i32, u32)> {
    let secs = time.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    let ts = crate::time::Timestamp(i64::try_from(secs).ok()? * 1_000_000);
    let (year, month, _) = ts.date();
    Some((year, month))
}

/// Expands directories into the files below them (sorted, hidden files skipped);
/// files and `-` pass through.
pub fn expand(paths: &[PathBuf]) -> Vec<io::Result<PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        if path != Path::new("-") && path.is_dir() {
            walk(path, &mut out);
        } else {
            out.push(Ok(path.clone()));
        }
    }
    out
}

fn walk(dir: &Path, out: &mut Vec<io::Result<PathBuf>>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            out.push(Err(io::Error::new(
                e.kind(),
                format!("{}: {e}", dir.display()),
            )));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            !p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'))
        })
        .collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(Ok(path));
        }
    }
}

//! Opening inputs: files, `-` for standard input, gzip detected by its magic bytes and
//! decompressed on the fly, and the head of the content for format sniffing.

use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

// The bufread decoder inflates straight from the file's buffer; the read one would
// copy it through a small buffer of its own first.
use flate2::bufread::MultiGzDecoder;

/// Read buffer size: large, so the parser sees few refills.
pub const BUFFER: usize = 1 << 20;

/// How many bytes of content are looked at to detect the format.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// The first bytes of a gzip stream.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// An opened input, positioned at its start, with the head of its (decompressed)
/// content available for sniffing.
pub struct Opened {
    pub name: String,
    /// The content from its start, unless `whole` (see [`Opened::into_reader`]).
    reader: Box<dyn BufRead + Send>,
    /// The content's first [`SNIFF_BYTES`], or all of it when `whole`.
    pub head: Vec<u8>,
    /// `head` is the whole content: an uncompressed file of up to [`BUFFER`] bytes,
    /// read at once.
    whole: bool,
    /// The file's modification time, which a syslog's year-less times may need.
    modified: Option<std::time::SystemTime>,
    pub compressed: bool,
    /// Size on disk; `None` for standard input, pipes and devices, which cannot be
    /// opened a second time.
    pub size: Option<u64>,
}

impl Opened {
    /// (year, month) of the file's modification time, for syslog years.
    pub fn year_month(&self) -> Option<(i32, u32)> {
        self.modified.and_then(year_month_of)
    }

    /// The bytes formats are detected by: the head's first [`SNIFF_BYTES`].
    pub fn sniff_head(&self) -> &[u8] {
        &self.head[..self.head.len().min(SNIFF_BYTES)]
    }

    /// Whether `head` holds the whole (decompressed) content: a file read at once, or
    /// one that ended within the sniffing window.
    pub fn head_is_all(&self) -> bool {
        self.whole || self.head.len() < SNIFF_BYTES
    }

    /// The content from its start.
    pub fn into_reader(self) -> Box<dyn BufRead + Send> {
        if self.whole {
            Box::new(io::Cursor::new(self.head))
        } else {
            self.reader
        }
    }
}

/// A path to read: as named on the command line, or listed from a folder.
#[derive(Debug, Clone)]
pub struct InputPath {
    pub path: PathBuf,
    /// The folder the file was listed in, held open: the file is opened by its name in
    /// it, so the kernel looks up one name instead of every folder on the way (a fifth
    /// of the time opening a Maildir's emails took).
    #[cfg(unix)]
    folder: Option<Arc<std::os::fd::OwnedFd>>,
}

impl InputPath {
    pub fn new(path: PathBuf) -> InputPath {
        InputPath {
            path,
            #[cfg(unix)]
            folder: None,
        }
    }

    fn open_file(&self) -> io::Result<File> {
        #[cfg(unix)]
        if let Some(folder) = &self.folder {
            use rustix::fs::{Mode, OFlags};
            let name = file_name_bytes(&self.path);
            let flags = OFlags::RDONLY | OFlags::CLOEXEC;
            return Ok(File::from(rustix::fs::openat(
                folder,
                name,
                flags,
                Mode::empty(),
            )?));
        }
        File::open(&self.path)
    }
}

/// Opens a path (or `-`), transparently decompressing gzip.
pub fn open(path: &Path) -> io::Result<Opened> {
    open_reusing(&InputPath::new(path.to_path_buf()), Vec::new())
}

/// [`open`], reading a small file into `buffer` (cleared first): a worker that opens
/// thousands of emails one after another reuses one buffer, instead of new memory for
/// each, which the kernel must hand over zeroed.
pub fn open_reusing(input: &InputPath, buffer: Vec<u8>) -> io::Result<Opened> {
    let path = input.path.as_path();
    let is_stdin = is_stdin(path);
    let name = if is_stdin {
        "<stdin>".to_string()
    } else {
        display_name(path)
    };
    let (raw, modified, size): (Box<dyn Read + Send>, _, _) = if is_stdin {
        (Box::new(io::stdin()), None, None)
    } else {
        let mut file = input.open_file()?;
        let meta = file.metadata()?;
        if meta.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "is a directory",
            ));
        }
        let modified = meta.modified().ok();
        // A pipe or device (`<(zcat log.gz)`) has no size and cannot be read twice.
        let size = meta.is_file().then_some(meta.len());
        // A file that fits a read buffer (an email in a folder, or one with a big
        // attachment) is read whole, straight into the head: no buffer to fill and
        // copy out of, one allocation and one read per file, and none again to parse
        // it. A size of 0 may be a pseudo-file with content (/proc): read as any other.
        let raw: Box<dyn Read + Send> = match size.filter(|&n| n > 0 && n <= BUFFER as u64) {
            Some(n) => {
                let bytes = read_whole(&mut file, n, buffer)?;
                if !bytes.starts_with(&GZIP_MAGIC) {
                    return Ok(Opened {
                        name,
                        reader: Box::new(io::empty()),
                        head: bytes,
                        whole: true,
                        modified,
                        compressed: false,
                        size,
                    });
                }
                // Compressed: inflated below, from the bytes read on.
                Box::new(io::Cursor::new(bytes).chain(file))
            }
            // Progress only for inputs big enough to take a while.
            None if meta.len() > BUFFER as u64 && show_progress() => {
                Box::new(Progress::new(file, name.clone(), meta.len()))
            }
            None => Box::new(file),
        };
        (raw, modified, size)
    };
    // A small file (a compressed email) needs no megabyte of buffer.
    let capacity = size.map_or(BUFFER, |n| (n as usize + 1).clamp(8 << 10, BUFFER));
    let mut buffered = BufReader::with_capacity(capacity, raw);
    let compressed = buffered.fill_buf()?.starts_with(&GZIP_MAGIC);
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
        whole: false,
        modified,
        compressed,
        size,
    })
}

/// Whether the path names standard input: `-` (as paths compare, so `-/` too).
fn is_stdin(path: &Path) -> bool {
    // Comparing by components walks the path; only one that starts as `-` can match.
    path.as_os_str().as_encoded_bytes().starts_with(b"-") && path == Path::new("-")
}

/// The path as `Path::display` shows it, without the formatting machinery (which
/// walked every path twice, counting its characters for padding); a UTF-8 path (the
/// usual) is checked by `str::from_utf8`, quicker than the lossy walk.
fn display_name(path: &Path) -> String {
    match path.to_str() {
        Some(name) => name.to_owned(),
        None => path.to_string_lossy().into_owned(),
    }
}

/// The file's first `n` bytes (as many as it had when opened: one growing meanwhile is
/// read up to there), in `bytes` (cleared first).
fn read_whole(file: &mut File, n: u64, mut bytes: Vec<u8>) -> io::Result<Vec<u8>> {
    bytes.clear();
    if bytes.capacity() < n as usize {
        // Not `reserve`: growing would copy the old bytes, which are not wanted.
        bytes = Vec::with_capacity(n as usize);
    }
    file.take(n).read_to_end(&mut bytes)?;
    Ok(bytes)
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

/// Progress goes to standard error only when a person watches it: a terminal, and
/// not under CI.
fn show_progress() -> bool {
    io::stderr().is_terminal() && std::env::var_os("CI").is_none()
}

/// Counts the bytes read from a file and, once reading takes longer than a moment,
/// shows them with the rate on standard error (the compressed bytes for a .gz).
struct Progress<R> {
    inner: R,
    name: String,
    total: u64,
    done: u64,
    start: Instant,
    next: Instant,
    shown: bool,
}

impl<R> Progress<R> {
    fn new(inner: R, name: String, total: u64) -> Progress<R> {
        let start = Instant::now();
        Progress {
            inner,
            name,
            total,
            done: 0,
            start,
            next: start + Duration::from_millis(500),
            shown: false,
        }
    }

    fn show(&mut self, finished: bool) {
        let secs = self.start.elapsed().as_secs_f64().max(1e-6);
        let mb = self.done as f64 / 1e6;
        let pct = if self.total > 0 {
            self.done as f64 * 100.0 / self.total as f64
        } else {
            0.0
        };
        let mut err = io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[K{}: {mb:.0} MB of {:.0} MB ({pct:.0}%), {:.0} MB/s",
            self.name,
            self.total as f64 / 1e6,
            mb / secs
        );
        if finished {
            let _ = write!(err, "\r\x1b[K");
        }
        let _ = err.flush();
        self.shown = true;
    }
}

impl<R: Read> Read for Progress<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.done += n as u64;
        let now = Instant::now();
        if n == 0 {
            if self.shown {
                self.show(true);
                self.shown = false;
            }
        } else if now >= self.next {
            self.next = now + Duration::from_millis(200);
            self.show(false);
        }
        Ok(n)
    }
}

fn year_month_of(time: std::time::SystemTime) -> Option<(i32, u32)> {
    let secs = time.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    let ts = crate::time::Timestamp(i64::try_from(secs).ok()? * 1_000_000);
    let (year, month, _) = ts.date();
    Some((year, month))
}

/// Expands directories into the files below them (sorted, hidden files skipped);
/// files and `-` pass through.
pub fn expand(paths: &[PathBuf]) -> Vec<io::Result<InputPath>> {
    let mut out = Vec::new();
    let mut open_folders = 0;
    for path in paths {
        if !is_stdin(path) && path.is_dir() {
            walk(path, &mut out, &mut open_folders);
        } else {
            out.push(Ok(InputPath::new(path.clone())));
        }
    }
    out
}

/// A folder listing at least this many files is held open to open them by name.
const FOLDER_FILES_MIN: usize = 16;

/// At most this many folders are held open in a run (a Maildir holds two or three),
/// each until its files are read, far below the usual limit of 1,024 open files; the
/// files of any folder after them are opened by their paths.
const OPEN_FOLDERS_MAX: usize = 64;

fn walk(dir: &Path, out: &mut Vec<io::Result<InputPath>>, open_folders: &mut usize) {
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
    // The entry's type comes with the listing: no stat per file, except for a
    // symbolic link, which is followed. Entries are sorted by their paths' bytes: they
    // all start with the folder's, so that orders them by name, with no name of their
    // own to allocate and no walk over the paths' components in every comparison
    // (which in a Maildir of ten thousand emails took longer than listing it).
    let mut paths: Vec<(PathBuf, bool)> = entries
        .filter_map(|e| {
            let e = e.ok()?;
            let path = e.path();
            if file_name_bytes(&path).starts_with(b".") {
                return None;
            }
            let is_dir = match e.file_type() {
                Ok(t) if t.is_symlink() => path.is_dir(),
                Ok(t) => t.is_dir(),
                Err(_) => path.is_dir(),
            };
            Some((path, is_dir))
        })
        .collect();
    sort_by_name(&mut paths);
    let files = paths.iter().filter(|(_, is_dir)| !is_dir).count();
    #[cfg(unix)]
    let folder = (files >= FOLDER_FILES_MIN && *open_folders < OPEN_FOLDERS_MAX)
        .then(|| {
            use rustix::fs::{Mode, OFlags};
            let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
            rustix::fs::open(dir, flags, Mode::empty()).ok()
        })
        .flatten()
        .map(|fd| {
            *open_folders += 1;
            Arc::new(fd)
        });
    out.reserve(files);
    for (path, is_dir) in paths {
        if is_dir {
            walk(&path, out, open_folders);
        } else {
            out.push(Ok(InputPath {
                path,
                #[cfg(unix)]
                folder: folder.clone(),
            }));
        }
    }
}

/// Sorts a folder's entries by their paths' bytes, which orders them by name (they all
/// start with the folder's path). Most comparisons are of one number: eight bytes of
/// the name from where the names start to differ.
fn sort_by_name(entries: &mut Vec<(PathBuf, bool)>) {
    let Some(((first, _), rest)) = entries.split_first() else {
        return;
    };
    let first = first.as_os_str().as_encoded_bytes();
    let shared = rest.iter().fold(first.len(), |shared, (path, _)| {
        let bytes = path.as_os_str().as_encoded_bytes();
        first[..shared]
            .iter()
            .zip(bytes)
            .take_while(|(a, b)| a == b)
            .count()
    });
    let mut keyed: Vec<(u64, PathBuf, bool)> = std::mem::take(entries)
        .into_iter()
        .map(|(path, is_dir)| {
            let key = order_key(&path.as_os_str().as_encoded_bytes()[shared..]);
            (key, path, is_dir)
        })
        .collect();
    keyed.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| a.1.as_os_str().cmp(b.1.as_os_str()))
    });
    entries.extend(keyed.into_iter().map(|(_, path, is_dir)| (path, is_dir)));
}

/// The first eight bytes as a number that orders as the bytes do: a path holds no NUL,
/// so the zeros after a shorter one sort it first, as a prefix sorts before the longer.
fn order_key(bytes: &[u8]) -> u64 {
    let mut key = [0; 8];
    let n = bytes.len().min(8);
    key[..n].copy_from_slice(&bytes[..n]);
    u64::from_be_bytes(key)
}

/// The last component of a folder entry's path, its name: the bytes after the last
/// slash (a name has none), without `Path::file_name`'s walk over the components.
fn file_name_bytes(path: &Path) -> &[u8] {
    let bytes = path.as_os_str().as_encoded_bytes();
    memchr::memrchr(b'/', bytes).map_or(bytes, |slash| &bytes[slash + 1..])
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::{BUFFER, SNIFF_BYTES, open};

    fn read_all(opened: super::Opened) -> Vec<u8> {
        let mut out = Vec::new();
        opened.into_reader().read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn names_and_stdin_as_paths_show_and_compare() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;
        use std::path::Path;
        for raw in [
            &b"-"[..],
            b"-/",
            b"./-",
            b"-x",
            b"/tmp/a.eml",
            b"caf\xc3\xa9",
            b"bad\xff\xfeend",
            b"\xe2\x82",
        ] {
            let path = Path::new(OsStr::from_bytes(raw));
            assert_eq!(
                super::display_name(path),
                path.display().to_string(),
                "{raw:?}"
            );
            assert_eq!(super::is_stdin(path), path == Path::new("-"), "{raw:?}");
        }
    }

    /// A folder expands to its files below it in name order, its subfolders (a
    /// Maildir's cur/ and new/) walked where they sort, hidden entries left out, names
    /// that are not UTF-8 included.
    #[test]
    fn folders_expand_sorted_without_hidden_entries() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;
        let dir = std::env::temp_dir().join(format!("bouncex-expand-{}", std::process::id()));
        for sub in ["cur", "new", ".trash"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        let names: [&[u8]; 7] = [
            b"b.eml",
            b"a.eml",
            b".hidden",
            b"cur/2",
            b"new/1",
            b".trash/x",
            b"\xff.eml",
        ];
        for name in names {
            std::fs::write(dir.join(OsStr::from_bytes(name)), b"x").unwrap();
        }
        let listed: Vec<Vec<u8>> = super::expand(std::slice::from_ref(&dir))
            .into_iter()
            .map(|p| {
                let p = p.unwrap().path;
                p.strip_prefix(&dir)
                    .unwrap()
                    .as_os_str()
                    .as_bytes()
                    .to_vec()
            })
            .collect();
        std::fs::remove_dir_all(&dir).unwrap();
        let expected: [&[u8]; 5] = [b"a.eml", b"b.eml", b"cur/2", b"new/1", b"\xff.eml"];
        assert_eq!(listed, expected.map(<[u8]>::to_vec));
    }

    /// Sorting by a number made of eight bytes after the shared start orders names as
    /// their bytes do: names that are prefixes of others, that share more than eight
    /// bytes, that differ only past them, or hold bytes above 0x7f.
    #[test]
    fn names_sort_by_their_bytes() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;
        use std::path::PathBuf;
        let pieces: [&[u8]; 8] = [
            b"",
            b"1",
            b"17320000",
            b"0",
            b".M1P2",
            b"\xff",
            b"a",
            b"\x01",
        ];
        let mut names = Vec::new();
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    names.push([a, b, c].concat());
                }
            }
        }
        // A folder's names are unique.
        names.sort();
        names.dedup();
        for folder in ["/m/cur/", "/m/cur/1732", "x"] {
            // Scrambled, as a folder lists its entries.
            let mut entries: Vec<(PathBuf, bool)> = names
                .iter()
                .enumerate()
                .map(|(i, n)| (i * 7919 % 8191, n))
                .map(|(i, n)| {
                    let path = [folder.as_bytes(), n].concat();
                    (PathBuf::from(OsStr::from_bytes(&path)), i % 2 == 0)
                })
                .collect();
            let mut expected = entries.clone();
            expected.sort_by(|a, b| a.0.as_os_str().cmp(b.0.as_os_str()));
            super::sort_by_name(&mut entries);
            assert_eq!(entries, expected, "{folder}");
        }
    }

    /// In a folder held open, a name that is not UTF-8 and a link to a file elsewhere
    /// open as by their paths, and a link to nothing fails as its path does.
    #[test]
    fn held_folders_open_links_and_any_name_as_paths_do() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;
        let dir = std::env::temp_dir().join(format!("bouncex-links-{}", std::process::id()));
        let outside = dir.with_extension("outside");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(&outside, "elsewhere\n").unwrap();
        for i in 0..super::FOLDER_FILES_MIN {
            std::fs::write(dir.join(format!("{i:03}")), format!("mail {i}\n")).unwrap();
        }
        std::fs::write(dir.join(OsStr::from_bytes(b"\xff.eml")), "latin\n").unwrap();
        std::os::unix::fs::symlink(&outside, dir.join("link")).unwrap();
        std::os::unix::fs::symlink(dir.join("gone"), dir.join("lost")).unwrap();
        let listed: Vec<super::InputPath> = super::expand(std::slice::from_ref(&dir))
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert!(listed.iter().all(|p| p.folder.is_some()));
        for input in &listed {
            let held = super::open_reusing(input, Vec::new()).map(read_all);
            let by_path = super::open(&input.path).map(read_all);
            match (held, by_path) {
                (Ok(held), Ok(by_path)) => assert_eq!(held, by_path, "{:?}", input.path),
                (Err(held), Err(by_path)) => {
                    assert_eq!(held.kind(), by_path.kind(), "{:?}", input.path);
                    assert!(input.path.ends_with("lost"), "{:?}", input.path);
                }
                (held, by_path) => panic!("{:?}: {held:?} vs {by_path:?}", input.path),
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::remove_file(&outside).unwrap();
        assert_eq!(listed.len(), super::FOLDER_FILES_MIN + 3);
    }

    /// The files of a folder of many are opened by name in the folder held open since
    /// it was listed: renamed after listing, its files still read, each its own.
    #[test]
    fn a_listed_folder_files_open_by_name_in_it() {
        let dir = std::env::temp_dir().join(format!("bouncex-held-{}", std::process::id()));
        let renamed = dir.with_extension("renamed");
        std::fs::create_dir_all(dir.join("cur")).unwrap();
        let files = super::FOLDER_FILES_MIN + 2;
        for i in 0..files {
            std::fs::write(dir.join(format!("cur/{i:03}")), format!("mail {i}\n")).unwrap();
        }
        // Too few to hold the folder open for: opened by path, which the rename breaks.
        std::fs::write(dir.join("lone.eml"), "alone\n").unwrap();
        let listed = super::expand(std::slice::from_ref(&dir));
        std::fs::rename(&dir, &renamed).unwrap();
        let read: Vec<Option<Vec<u8>>> = listed
            .into_iter()
            .map(|p| {
                super::open_reusing(&p.unwrap(), Vec::new())
                    .ok()
                    .map(read_all)
            })
            .collect();
        std::fs::remove_dir_all(&renamed).unwrap();
        let mut expected: Vec<Option<Vec<u8>>> = (0..files)
            .map(|i| Some(format!("mail {i}\n").into_bytes()))
            .collect();
        expected.push(None);
        assert_eq!(read, expected);
    }

    /// Past [`super::OPEN_FOLDERS_MAX`] folders, files are opened by their paths: every
    /// file of every folder still reads.
    #[test]
    fn folders_past_the_held_open_limit_still_read() {
        let dir = std::env::temp_dir().join(format!("bouncex-many-{}", std::process::id()));
        let folders = super::OPEN_FOLDERS_MAX + 3;
        for f in 0..folders {
            let sub = dir.join(format!("{f:03}"));
            std::fs::create_dir_all(&sub).unwrap();
            for i in 0..super::FOLDER_FILES_MIN {
                std::fs::write(sub.join(format!("{i:03}")), format!("{f} {i}\n")).unwrap();
            }
        }
        let read: Vec<Vec<u8>> = super::expand(std::slice::from_ref(&dir))
            .into_iter()
            .map(|p| read_all(super::open_reusing(&p.unwrap(), Vec::new()).unwrap()))
            .collect();
        std::fs::remove_dir_all(&dir).unwrap();
        let expected: Vec<Vec<u8>> = (0..folders)
            .flat_map(|f| (0..super::FOLDER_FILES_MIN).map(move |i| format!("{f} {i}\n")))
            .map(String::into_bytes)
            .collect();
        assert_eq!(read, expected);
    }

    /// A buffer handed from file to file (a worker's, over a folder of emails) holds
    /// just the file read into it: nothing of a bigger one before it.
    #[test]
    fn a_reused_buffer_holds_only_the_file_read() {
        let dir = std::env::temp_dir().join(format!("bouncex-reuse-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut buffer = vec![b'x'; 100_000];
        let files: [(&str, Vec<u8>); 4] = [
            ("big", vec![b'a'; 50_000]),
            ("small", b"Subject: y\n\nbody\n".to_vec()),
            ("bigger", vec![b'b'; 200_000]),
            ("empty", Vec::new()),
        ];
        for (name, content) in files {
            let path = dir.join(name);
            std::fs::write(&path, &content).unwrap();
            let input = super::InputPath::new(path);
            let opened = super::open_reusing(&input, std::mem::take(&mut buffer)).unwrap();
            assert!(opened.head_is_all(), "{name}");
            assert_eq!(opened.head, content, "{name}");
            buffer = opened.head;
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Files of up to a read buffer are read whole into the head; compressed and bigger
    /// ones are read on from where sniffing stopped. Either way the reader gives the whole content.
    #[test]
    fn the_head_and_the_reader_give_the_content() {
        let dir = std::env::temp_dir().join(format!("bouncex-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let small = b"Subject: x\n\nbody\n".to_vec();
        let big: Vec<u8> = (0..SNIFF_BYTES * 3).map(|i| b"abcdefgh\n"[i % 9]).collect();
        let huge: Vec<u8> = (0..BUFFER + 9).map(|i| b"abcdefgh\n"[i % 9]).collect();
        let empty = Vec::new();
        let files = [
            ("small.eml", &small),
            ("big.log", &big),
            ("huge.log", &huge),
            ("empty", &empty),
        ];
        for (name, content) in files {
            let path = dir.join(name);
            std::fs::write(&path, content).unwrap();
            let opened = open(&path).unwrap();
            assert_eq!(
                opened.sniff_head(),
                &content[..content.len().min(SNIFF_BYTES)]
            );
            assert_eq!(opened.head_is_all(), content.len() <= BUFFER, "{name}");
            assert!(!opened.compressed);
            assert_eq!(&read_all(opened), content, "{name}");
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(content).unwrap();
            let path = dir.join(format!("{name}.gz"));
            std::fs::write(&path, gz.finish().unwrap()).unwrap();
            let opened = open(&path).unwrap();
            assert!(opened.compressed, "{name}.gz");
            assert_eq!(
                opened.sniff_head(),
                &content[..content.len().min(SNIFF_BYTES)]
            );
            assert_eq!(
                opened.head_is_all(),
                content.len() < SNIFF_BYTES,
                "{name}.gz"
            );
            assert_eq!(&read_all(opened), content, "{name}.gz");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

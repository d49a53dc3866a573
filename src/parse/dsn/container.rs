//! Containers of emails: one message per file (`.eml`, a Maildir entry) or an mbox
//! (messages after `From ` lines, body lines `>From ` unescaped, mboxrd style).
//!
//! [`MessageReader`] streams a file message by message with one reused buffer, so memory
//! stays bounded by the largest message (itself capped at [`MAX_MESSAGE`]). Every line
//! end (LF, CRLF or a lone CR) is normalised to LF, so the decoders see one shape. MIME
//! parsing is left to the decoders.

use std::borrow::Cow;
use std::io::{self, BufRead};
use std::sync::LazyLock;

use memchr::memmem::Finder;

/// A message is cut after this many bytes: bounce reports put what matters first, and
/// a huge returned attachment must not grow memory without bound.
pub const MAX_MESSAGE: usize = 8 << 20;

/// What the reader knows of the message it just read into the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageInfo {
    /// 1-based position of the message in the file.
    pub index: u64,
    /// The message was longer than [`MAX_MESSAGE`]; the rest was skipped.
    pub truncated: bool,
}

/// Splits one input into messages.
pub struct MessageReader<'r> {
    input: &'r mut (dyn BufRead + Send),
    /// `Some(true)` for an mbox, decided on the first line.
    mbox: Option<bool>,
    /// A `From ` line read ahead: it opens the next message.
    pending_separator: bool,
    eof: bool,
    index: u64,
    line: Vec<u8>,
}

impl<'r> MessageReader<'r> {
    pub fn new(input: &'r mut (dyn BufRead + Send)) -> MessageReader<'r> {
        MessageReader {
            input,
            mbox: None,
            pending_separator: false,
            eof: false,
            index: 0,
            line: Vec::with_capacity(1024),
        }
    }

    /// True once the first line showed an mbox.
    pub fn is_mbox(&self) -> bool {
        self.mbox == Some(true)
    }

    /// Reads the next message into `buf` (cleared first), LF line ends. `None` at the
    /// end of the input. In an mbox every `From ` separator opens a message, even an
    /// empty one, so the caller can count it.
    pub fn next_message(&mut self, buf: &mut Vec<u8>) -> io::Result<Option<MessageInfo>> {
        buf.clear();
        self.append_message(buf)
    }

    /// Like [`next_message`](Self::next_message), but appends the message to what
    /// `buf` holds (batches of messages for the parallel path).
    pub fn append_message(&mut self, buf: &mut Vec<u8>) -> io::Result<Option<MessageInfo>> {
        let start = buf.len();
        let mut started = std::mem::take(&mut self.pending_separator);
        if self.eof && !started {
            return Ok(None);
        }
        let mut truncated = false;
        // A separator is a `From ` line at the start or after a blank line.
        let mut previous_blank = false;
        loop {
            if let Some(mbox) = self.mbox
                && let Some(blank) = self.copy_plain_run(buf, start, mbox)?
            {
                started = true;
                previous_blank = blank;
                continue;
            }
            self.line.clear();
            if !read_line(self.input, &mut self.line)? {
                self.eof = true;
                break;
            }
            let line = &self.line[..];
            if self.mbox.is_none() {
                // The first line decides: an mbox starts with its `From ` line.
                let is_mbox = line.starts_with(b"From ");
                self.mbox = Some(is_mbox);
                if is_mbox {
                    started = true;
                    continue;
                }
            }
            started = true;
            if self.is_mbox() {
                if previous_blank && line.starts_with(b"From ") {
                    self.pending_separator = true;
                    break;
                }
                previous_blank = line.is_empty();
                // mboxrd: one `>` is removed from `>From `, `>>From `, ...
                let unescaped = match line.iter().position(|&b| b != b'>') {
                    Some(n) if n > 0 && line[n..].starts_with(b"From ") => &line[1..],
                    _ => line,
                };
                truncated |= !push_line(buf, start, unescaped);
            } else {
                truncated |= !push_line(buf, start, line);
            }
        }
        if !started {
            return Ok(None);
        }
        // The blank line before the next separator belongs to the mbox, not the message.
        if self.pending_separator && buf[start..].ends_with(b"\n\n") {
            buf.pop();
        }
        self.index += 1;
        Ok(Some(MessageInfo {
            index: self.index,
            truncated,
        }))
    }
}

impl MessageReader<'_> {
    /// Copies in one piece the whole lines at the front of the input's buffer that need
    /// no care one by one (CRLF becomes LF on the way): in an mbox, up to a line that
    /// starts with `From ` or `>` or ends with a lone CR. Returns whether the last line
    /// copied is blank; `None` when nothing could be copied so (the caller then reads
    /// one line the careful way).
    fn copy_plain_run(
        &mut self,
        buf: &mut Vec<u8>,
        start: usize,
        mbox: bool,
    ) -> io::Result<Option<bool>> {
        let avail = match self.input.fill_buf() {
            Ok(avail) => avail,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(None),
            Err(e) => return Err(e),
        };
        // Never past what the message may still hold: the careful path cuts it there.
        let room = MAX_MESSAGE.saturating_sub(buf.len() - start);
        let window = &avail[..avail.len().min(room)];
        if mbox && (window.starts_with(b"From ") || window.starts_with(b">")) {
            return Ok(None);
        }
        let end = plain_run_end(window, mbox).unwrap_or_else(|| run_end_with_cr(window, mbox));
        if end == 0 {
            // No whole line to copy: the careful path reads one.
            return Ok(None);
        }
        let before = buf.len();
        let mut rest = &avail[..end];
        while let Some(p) = memchr::memchr(b'\r', rest) {
            buf.extend_from_slice(&rest[..p]);
            if rest.get(p + 1) != Some(&b'\n') {
                // A lone CR ends a line (outside an mbox only, see above).
                buf.push(b'\n');
            }
            rest = &rest[p + 1..];
        }
        buf.extend_from_slice(rest);
        self.input.consume(end);
        let copied = &buf[before..];
        Ok(Some(copied == b"\n" || copied.ends_with(b"\n\n")))
    }
}

/// Just past the last whole line of the run at the front of `window` when it holds no
/// CR up to there: the lines that need care (`From `, `>`) found by substring searches
/// instead of a look at every line end. `None` when a CR needs [`run_end_with_cr`].
fn plain_run_end(window: &[u8], mbox: bool) -> Option<usize> {
    let stop = if mbox {
        first_line_needing_care(window)
    } else {
        None
    };
    let (end, looked_at) = match stop {
        Some(p) => (p + 1, p + 1),
        None => (
            memchr::memrchr(b'\n', window).map_or(0, |p| p + 1),
            window.len(),
        ),
    };
    memchr::memchr(b'\r', &window[..looked_at])
        .is_none()
        .then_some(end)
}

/// The LF before the first line of an mbox window that starts with `From ` or `>`.
/// Searched block by block, so that a search costs about what the run copies.
fn first_line_needing_care(window: &[u8]) -> Option<usize> {
    const BLOCK: usize = 1 << 10;
    static FROM_LINE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("\nFrom "));
    static QUOTED_LINE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("\n>"));
    let mut start = 0;
    while start < window.len() {
        // Overlapping the next block by a needle's length less one: a line end in
        // this block is seen with what follows it.
        let block = &window[start..(start + BLOCK + 5).min(window.len())];
        let quoted = QUOTED_LINE.find(block);
        // A `From ` line before the first `>` line lies wholly before this.
        let limit = quoted.map_or(block.len(), |q| (q + 5).min(block.len()));
        let from = FROM_LINE.find(&block[..limit]);
        if let Some(p) = [from, quoted].into_iter().flatten().min() {
            return Some(start + p);
        }
        start += BLOCK;
    }
    None
}

/// [`plain_run_end`] for a window with CRs: one forward pass over the line ends,
/// stopping at the first line that needs care.
fn run_end_with_cr(window: &[u8], mbox: bool) -> usize {
    let mut end = 0;
    for p in memchr::memchr2_iter(b'\n', b'\r', window) {
        if window[p] == b'\r' {
            match window.get(p + 1) {
                // CRLF: the LF ends the line.
                Some(b'\n') => continue,
                // A lone CR ends a line; in an mbox the next line's start is left
                // to the careful path.
                Some(_) if !mbox => {}
                // At the end of the window the LF may follow in the next read.
                _ => break,
            }
        }
        end = p + 1;
        if mbox && (window[end..].starts_with(b"From ") || window[end..].starts_with(b">")) {
            break;
        }
    }
    end
}

/// What [`MessageReader`] reads out of an input read whole, when it is one message
/// within [`MAX_MESSAGE`]: each line end (CRLF, a lone CR) an LF, the last line ended
/// too, and in an mbox the `From ` line dropped and `>From ` lines unescaped. In a pass
/// or two, where the reader goes line by line; borrowed when nothing changes. `None`
/// when it takes the reader: an empty input (no message), a long one (cut), an mbox
/// of several messages.
pub fn whole_message(bytes: &[u8]) -> Option<Cow<'_, [u8]>> {
    if bytes.is_empty() || bytes.len() >= MAX_MESSAGE {
        return None;
    }
    if !bytes.starts_with(b"From ") {
        return Some(with_lf_line_ends(bytes));
    }
    let body = after_first_line(bytes);
    if body.is_empty() {
        // Not even a line end to make: the reader's message is empty.
        return Some(Cow::Borrowed(body));
    }
    mbox_message(with_lf_line_ends(body))
}

/// What follows the first line and its end (LF, CRLF or a lone CR).
fn after_first_line(bytes: &[u8]) -> &[u8] {
    let Some(end) = memchr::memchr2(b'\n', b'\r', bytes) else {
        return &[];
    };
    let rest = &bytes[end + 1..];
    match bytes[end] {
        b'\r' => rest.strip_prefix(b"\n").unwrap_or(rest),
        _ => rest,
    }
}

/// An mbox message's text (LF line ends, after its `From ` line) with one `>` removed
/// from each line that is `From ` behind `>`s (mboxrd); `None` when it holds the next
/// message's separator (a `From ` line after a blank line). Both kinds of line found
/// by one search for `From `.
fn mbox_message(text: Cow<'_, [u8]>) -> Option<Cow<'_, [u8]>> {
    static FROM: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("From "));
    let mut escapes = Vec::new();
    for p in FROM.find_iter(&text) {
        let line_start = text[..p]
            .iter()
            .rposition(|&b| b != b'>')
            .map_or(0, |q| q + 1);
        let before = &text[..line_start];
        if !before.is_empty() && !before.ends_with(b"\n") {
            // Not at a line's start.
            continue;
        }
        if line_start < p {
            escapes.push(line_start);
        } else if before == b"\n" || before.ends_with(b"\n\n") {
            // After a blank line: the next message's separator.
            return None;
        }
    }
    if escapes.is_empty() {
        return Some(text);
    }
    let mut out = Vec::with_capacity(text.len());
    let mut copied = 0;
    for escape in escapes {
        out.extend_from_slice(&text[copied..escape]);
        copied = escape + 1;
    }
    out.extend_from_slice(&text[copied..]);
    Some(Cow::Owned(out))
}

/// `bytes` with each line end (CRLF, a lone CR) an LF and the last line ended, as
/// [`MessageReader`] makes them: borrowed when they are so already.
fn with_lf_line_ends(bytes: &[u8]) -> Cow<'_, [u8]> {
    if bytes.ends_with(b"\n") && memchr::memchr(b'\r', bytes).is_none() {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len() + 1);
    let mut rest = bytes;
    while let Some(cr) = memchr::memchr(b'\r', rest) {
        out.extend_from_slice(&rest[..cr]);
        out.push(b'\n');
        rest = &rest[cr + 1..];
        if let Some(after_crlf) = rest.strip_prefix(b"\n") {
            rest = after_crlf;
        }
    }
    out.extend_from_slice(rest);
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    Cow::Owned(out)
}

/// Appends a line and an LF unless the message (from `start` on) is full; false when it
/// was cut.
fn push_line(buf: &mut Vec<u8>, start: usize, line: &[u8]) -> bool {
    if buf.len() - start + line.len() + 1 > MAX_MESSAGE {
        return false;
    }
    buf.extend_from_slice(line);
    buf.push(b'\n');
    true
}

/// Appends the next line, without its end, to `out`. LF, CRLF and a lone CR all end a
/// line; a last line without an end counts. False at the end of the input.
pub fn read_line(input: &mut dyn BufRead, out: &mut Vec<u8>) -> io::Result<bool> {
    let mut read_any = false;
    loop {
        let buf = match input.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok(read_any);
        }
        read_any = true;
        match memchr::memchr2(b'\n', b'\r', buf) {
            None => {
                let n = buf.len();
                out.extend_from_slice(buf);
                input.consume(n);
            }
            Some(pos) => {
                let cr = buf[pos] == b'\r';
                out.extend_from_slice(&buf[..pos]);
                input.consume(pos + 1);
                if cr {
                    // CRLF: swallow the LF, which may start the next buffer.
                    loop {
                        match input.fill_buf() {
                            Ok(next) => {
                                if next.first() == Some(&b'\n') {
                                    input.consume(1);
                                }
                                break;
                            }
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                            Err(e) => return Err(e),
                        }
                    }
                }
                return Ok(true);
            }
        }
    }
}

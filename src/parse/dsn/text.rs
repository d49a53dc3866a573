//! Reading the free text of bounce notices: where the returned message starts, which
//! lines name a recipient, the error text that goes with it, the SMTP command it
//! answered and whether the MTA gave up. Shared by the plain-text decoders.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use memchr::memmem::Finder;

use super::mail::is_address;
use crate::model::SmtpStage;

/// Whether a text contains a fixed phrase, with the searcher built once per call site:
/// `str::contains` builds a two-way searcher on every call, and the decoders' claim
/// tests run on every email's whole text.
macro_rules! has_phrase {
    ($text:expr, $phrase:literal) => {{
        static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
            std::sync::LazyLock::new(|| memchr::memmem::Finder::new($phrase));
        FINDER.find($text.as_bytes()).is_some()
    }};
}
pub(crate) use has_phrase;

/// Lines with their LF, as `str::split_inclusive('\n')` gives them. Line ends are
/// found by memchr: the standard library's char search scans a word at a time and
/// compares each match through memcmp, a cost paid per line by every heuristic here.
#[derive(Clone)]
pub struct LinesInclusive<'a> {
    rest: &'a str,
}

impl<'a> Iterator for LinesInclusive<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.rest.is_empty() {
            return None;
        }
        let end = memchr::memchr(b'\n', self.rest.as_bytes()).map_or(self.rest.len(), |p| p + 1);
        let (line, rest) = self.rest.split_at(end);
        self.rest = rest;
        Some(line)
    }
}

/// See [`LinesInclusive`].
pub fn lines_inclusive(text: &str) -> LinesInclusive<'_> {
    LinesInclusive { rest: text }
}

/// `str::lines` (LF or CRLF ends), by [`LinesInclusive`].
pub fn lines(text: &str) -> impl Iterator<Item = &str> + Clone {
    lines_inclusive(text).map(without_line_end)
}

/// A line of [`lines_inclusive`] without its LF or CRLF.
fn without_line_end(line: &str) -> &str {
    let Some(line) = line.strip_suffix('\n') else {
        return line;
    };
    line.strip_suffix('\r').unwrap_or(line)
}

/// `str::trim`, by bytes when the text ends in ASCII on both sides or is blank
/// (nearly every line): the standard library decodes a char at each end through its
/// Unicode table, a cost paid on every line the heuristics read. Equal to
/// `str::trim`: every byte `trim_ascii` drops is Unicode whitespace too, and only
/// the vertical tab is Unicode whitespace it keeps.
pub fn trim(text: &str) -> &str {
    let t = text.trim_ascii();
    let stops_trim = |b: Option<&u8>| b.is_some_and(|&b| b.is_ascii() && b != 0x0b);
    if t.is_empty() || stops_trim(t.as_bytes().first()) && stops_trim(t.as_bytes().last()) {
        t
    } else {
        text.trim()
    }
}

/// `s` without the bytes `drop` picks at either end, as `str::trim_matches` with a
/// char predicate, but by bytes (the char pattern decodes every character it looks
/// at). `drop` picks ASCII bytes only, so the cuts fall between characters.
pub fn trim_ascii_matching(s: &str, drop: impl Fn(u8) -> bool) -> &str {
    let bytes = s.as_bytes();
    let start = bytes.iter().position(|&b| !drop(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&b| !drop(b))
        .map_or(start, |last| last + 1);
    &s[start..end]
}

/// `str::split('\n')` (an empty last piece after a final LF included), line ends found
/// by memchr ([`crate::parse::lf_pieces`]).
pub fn split_lf(text: &str) -> impl Iterator<Item = &str> + Clone {
    crate::parse::lf_pieces(text.as_bytes()).map(move |range| &text[range])
}

/// `str::split("\n\n")`, by a searcher built once: the standard library builds a
/// two-way searcher on every call.
pub fn paragraphs(text: &str) -> impl Iterator<Item = &str> {
    static BLANK_LINE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("\n\n"));
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let t = rest?;
        match BLANK_LINE.find(t.as_bytes()) {
            Some(p) => {
                rest = Some(&t[p + 2..]);
                Some(&t[..p])
            }
            None => rest.take(),
        }
    })
}

/// Phrases in a line that announce the returned message (or its headers).
const ORIGINAL_MARKERS: &[&str] = &[
    "below this line is a copy of the message",
    "this is a copy of the message",
    "original message follows",
    "original message",
    "unsent message follows",
    "message header follows",
    "headers of the original message",
    "header of the original message",
    "the original message was received",
    "returned message",
    "original message headers",
    "text of the message follows",
    "content of the original message",
    "a copy of the original message",
    "copy of the message follows",
    "original mail follows",
    "the message headers follow",
    "undelivered message follows",
    "message text follows",
];

/// Whether a line announces the returned original message. Inline: most lines are
/// ruled out by their length and ends, tested in the caller's loop.
#[inline]
pub fn is_original_marker(line: &str) -> bool {
    let t = trim(line);
    is_framed(t) && has_original_marker(t.as_bytes())
}

/// A marker stands framed by rules or ends in a colon; a sentence ending in a full
/// stop only when short ("Original message follows."). The line trimmed.
#[inline]
fn is_framed(t: &str) -> bool {
    if t.len() < 8 || t.len() > 120 {
        return false;
    }
    // By bytes (the chars are ASCII): a char pattern decodes the first and last chars.
    let (first, last) = (t.as_bytes()[0], t.as_bytes()[t.len() - 1]);
    matches!(first, b'-' | b'=' | b'*' | b'[' | b'_' | b'<')
        || matches!(last, b':' | b'-' | b'=')
        || (last == b'.' && t.len() < 40)
}

/// Whether a line holds one of [`ORIGINAL_MARKERS`], ignoring ASCII case. Each says
/// "message" or "mail" (tested): the line is read at its m's only, each marker
/// compared where its word would stand, rather than searched for through the line
/// (and the line is not copied lowercased first: most framed lines hold no marker).
fn has_original_marker(line: &[u8]) -> bool {
    /// The markers, with whether their word is "message" (else "mail") and where
    /// it first stands in them.
    static ANCHORED: LazyLock<Vec<(&[u8], bool, usize)>> = LazyLock::new(|| {
        ORIGINAL_MARKERS
            .iter()
            .map(|m| {
                let word = if m.contains("message") {
                    "message"
                } else {
                    "mail"
                };
                let at = m.find(word).expect("every marker says message or mail");
                (m.as_bytes(), word == "message", at)
            })
            .collect()
    });
    let word_at = |at: usize, word: &[u8]| {
        line.get(at..at + word.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(word))
    };
    memchr::memchr2_iter(b'm', b'M', line).any(|at| {
        let message = word_at(at, b"message");
        if !message && !word_at(at, b"mail") {
            return false;
        }
        ANCHORED.iter().any(|&(marker, says_message, offset)| {
            says_message == message
                && at
                    .checked_sub(offset)
                    .and_then(|start| line.get(start..start + marker.len()))
                    .is_some_and(|there| there.eq_ignore_ascii_case(marker))
        })
    })
}

/// The notice's own text: everything before the returned message.
pub fn before_original(body: &str) -> &str {
    let mut offset = 0;
    for line in lines_inclusive(body) {
        if is_original_marker(line) || starts_header_block(&body[offset..]) {
            return &body[..offset];
        }
        offset += line.len();
    }
    body
}

/// Whether the text starts with what looks like the header block of a returned
/// message: `Return-Path:` or `Received:` followed by more header fields.
/// Both names start with an R: most lines are ruled out by their first byte, tested
/// inline by the callers (the call itself cost more than the test).
#[inline]
fn starts_header_block(text: &str) -> bool {
    text.as_bytes()
        .first()
        .is_some_and(|b| b.eq_ignore_ascii_case(&b'r'))
        && header_block_follows(text)
}

/// [`starts_header_block`] past its first byte.
fn header_block_follows(text: &str) -> bool {
    if !(starts_ci(text, "Return-Path:") || starts_ci(text, "Received:")) {
        return false;
    }
    split_lf(text)
        .skip(1)
        .take(8)
        .filter(|l| is_header_line(l))
        .count()
        >= 2
}

/// `Name: value` with a field name of printable ASCII, or a folded continuation.
fn is_header_line(line: &str) -> bool {
    if line.starts_with([' ', '\t']) {
        return true;
    }
    match line.split_once(':') {
        Some((name, _)) => {
            !name.is_empty() && name.len() < 40 && name.bytes().all(|b| (33..=126).contains(&b))
        }
        None => false,
    }
}

/// Case-insensitive ASCII prefix test.
pub fn starts_ci(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// Case-insensitive substring test (the needle lowercase).
pub fn contains_ci(haystack: &str, needle_lower: &str) -> bool {
    find_ci(haystack, needle_lower).is_some()
}

/// Where a lowercase needle first stands in a text, ignoring case: what
/// `haystack.to_ascii_lowercase().find(needle_lower)` says, without the copy.
pub fn find_ci(haystack: &str, needle_lower: &str) -> Option<usize> {
    let n = needle_lower.as_bytes();
    let Some(&first) = n.first() else {
        return Some(0);
    };
    let h = haystack.as_bytes();
    let last_start = h.len().checked_sub(n.len())?;
    // Only where the first byte matches, in either case, is the rest compared.
    memchr::memchr2_iter(
        first.to_ascii_lowercase(),
        first.to_ascii_uppercase(),
        &h[..=last_start],
    )
    .find(|&i| h[i..i + n.len()].eq_ignore_ascii_case(n))
}

/// The header block of a message returned inline in the text, after a marker line.
/// `notice_len` is the length of [`before_original`] of the body: the lines before
/// it hold neither a marker nor a header block, so the search starts there.
pub fn inline_original(body: &str, notice_len: usize) -> Option<&str> {
    let Some(rest) = body.get(notice_len..) else {
        return inline_original(body, 0);
    };
    let mut offset = notice_len;
    let mut after_marker = None;
    for line in lines_inclusive(rest) {
        let here = offset;
        offset += line.len();
        if after_marker.is_none() {
            if is_original_marker(line) {
                after_marker = Some(offset);
            } else if starts_header_block(&body[here..]) {
                return Some(&body[here..]);
            }
            continue;
        }
        let t = line.trim_end();
        if t.is_empty() {
            continue;
        }
        // The first header line of the original, within a few lines of the marker.
        if is_header_line(t) && !t.starts_with([' ', '\t']) {
            return Some(&body[here..]);
        }
        if here - after_marker.unwrap_or(here) > 400 {
            return None;
        }
    }
    None
}

/// Phrases that say the MTA gave up after temporary failures (lowercase).
const EXPIRED_PHRASES: &[&str] = &[
    "retry timeout exceeded",
    "retry time not reached for any host after a long failure period",
    "have been failing for a long time",
    "has been failing for a long time",
    "delivery time expired",
    "message expired",
    "messages expired",
    "expired after",
    "has expired",
    "too long in queue",
    "been in the queue too long",
    "was in the queue too long",
    "queue lifetime",
    "i've given up",
    "gave up",
    "could not be delivered within",
    "not delivered within",
    "delivery period expired",
    "message timed out",
    "maximum time",
    "deadline exceeded",
];

/// An automaton over lowercase phrases, built once, to search lowercased text: one
/// pass for all of them instead of a search per phrase. Leftmost-first, so that it
/// skips ahead with a SIMD prefilter (a case-insensitive or overlapping automaton
/// steps through every byte). A contiguous NFA rather than the DFA the builder picks
/// for few phrases: the prefilter does most of the searching, so both search as fast,
/// and the DFAs cost more to build (~1M instructions each) than a run's searches.
pub fn phrase_automaton(phrases: &[&str]) -> AhoCorasick {
    AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostFirst)
        .kind(Some(AhoCorasickKind::ContiguousNFA))
        .build(phrases)
        .expect("fixed phrases build an automaton")
}

/// Whether a notice's text says the MTA gave up after temporary failures.
pub fn says_expired(text: &str) -> bool {
    says_expired_lower(&text.to_ascii_lowercase())
}

/// [`says_expired`] of a text already lowercased (ASCII).
pub fn says_expired_lower(lower: &str) -> bool {
    static EXPIRED: LazyLock<AhoCorasick> = LazyLock::new(|| phrase_automaton(EXPIRED_PHRASES));
    EXPIRED.is_match(lower)
}

/// Markers of the SMTP stage (lowercase), in order of preference.
const STAGE_MARKERS: &[(&str, SmtpStage)] = &[
    ("after rcpt to", SmtpStage::Rcpt),
    ("rcpt to response", SmtpStage::Rcpt),
    (">>> rcpt to", SmtpStage::Rcpt),
    ("in rcpt to", SmtpStage::Rcpt),
    ("after mail from", SmtpStage::Mail),
    (">>> mail from", SmtpStage::Mail),
    ("after end of data", SmtpStage::Data),
    ("after data", SmtpStage::Data),
    ("after pipelined data", SmtpStage::Data),
    ("end of data", SmtpStage::Data),
    (">>> data", SmtpStage::Data),
    ("after initial connection", SmtpStage::Connect),
    ("after ehlo", SmtpStage::Helo),
    ("after helo", SmtpStage::Helo),
    (">>> ehlo", SmtpStage::Helo),
    (">>> helo", SmtpStage::Helo),
];

/// The SMTP stage from markers other than Postfix's "in reply to": Exim's "after RCPT
/// TO:", qmail's "RCPT TO response", Sendmail's ">>> DATA" transcript lines. The first
/// marker of the list found anywhere in the text wins.
pub fn stage_marker(text: &str) -> Option<SmtpStage> {
    stage_marker_lower(&text.to_ascii_lowercase())
}

/// [`stage_marker`] of a text already lowercased (ASCII).
pub fn stage_marker_lower(lower: &str) -> Option<SmtpStage> {
    static ANY: LazyLock<AhoCorasick> = LazyLock::new(|| {
        let markers: Vec<&str> = STAGE_MARKERS.iter().map(|(m, _)| *m).collect();
        phrase_automaton(&markers)
    });
    static EACH: LazyLock<Vec<Finder<'static>>> =
        LazyLock::new(|| STAGE_MARKERS.iter().map(|(m, _)| Finder::new(m)).collect());
    // Most texts hold none: one pass says so. Where one is, the markers are searched
    // one by one, in order (a leftmost search may skip a marker that overlaps another).
    if !ANY.is_match(lower) {
        return None;
    }
    EACH.iter()
        .zip(STAGE_MARKERS)
        .find(|(f, _)| f.find(lower.as_bytes()).is_some())
        .map(|(_, (_, stage))| *stage)
}

/// Labels a recipient line may start with (lowercase, with their colon).
const RECIPIENT_LABELS: &[&str] = &[
    "rcpt to:",
    "in:  rcpt to:",
    "in: rcpt to:",
    "recipient:",
    "recipient address:",
    "failed recipient:",
    "original recipient:",
    "final recipient:",
    "invalid recipient:",
    "unknown recipient:",
    "address:",
    "addressee:",
    "e-mail address:",
    "email address:",
    "destinataire:",
    "empfänger:",
];

/// The first bytes of [`RECIPIENT_LABELS`]: a line that starts otherwise (most do:
/// `<`, a local part) is not compared with each label.
const LABEL_FIRST_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < RECIPIENT_LABELS.len() {
        table[RECIPIENT_LABELS[i].as_bytes()[0] as usize] = true;
        i += 1;
    }
    table
};

/// The address a line starts with, (`<a@b>:`, `a@b`, `"a@b":`, `a@b...`,
/// `Recipient: <a@b>`, `550 <a@b>... User unknown`) and what follows it on the line.
pub fn leading_address(line: &str) -> Option<(&str, &str)> {
    leading_address_coded(line).map(|(a, rest, _)| (a, rest))
}

/// [`leading_address`], plus the reply code that led the line (Sendmail transcripts:
/// `554 <a@b>... Remote protocol error`).
pub fn leading_address_coded(line: &str) -> Option<(&str, &str, Option<crate::codes::ReplyCode>)> {
    if !has_at(line) {
        return None;
    }
    let mut t = line.trim_start();
    if t.as_bytes()
        .first()
        .is_some_and(|b| LABEL_FIRST_BYTES[usize::from(b.to_ascii_lowercase())])
    {
        for label in RECIPIENT_LABELS {
            if starts_ci(t, label) {
                t = t[label.len()..].trim_start();
                break;
            }
        }
    }
    let mut code = None;
    if t.len() > 4
        && t.as_bytes()[..3].iter().all(u8::is_ascii_digit)
        && t.as_bytes()[3] == b' '
        && t[4..].starts_with('<')
    {
        code = crate::codes::ReplyCode::parse(&t[..3]);
        t = &t[4..];
    }
    let t = t.strip_prefix("mailto:").unwrap_or(t);
    let (candidate, rest) = if let Some(inner) = t.strip_prefix('<') {
        let end = inner.find('>')?;
        (&inner[..end], &inner[end + 1..])
    } else {
        let quoted = t.starts_with('"');
        let body = t.trim_start_matches(['"', '\'']);
        let skip = t.len() - body.len();
        let end = token_end(body);
        let mut cand = &body[..end];
        // "a@b:", "a@b..." and "a@b":  keep their punctuation out of the address.
        while let Some(c) = cand.strip_suffix([':', '.', '"', '\'']) {
            cand = c;
        }
        // A quoted local part ("a..b"@c) keeps its quotes.
        if quoted && cand.starts_with('@') {
            return None;
        }
        (cand, &t[skip + cand.len()..])
    };
    let candidate = candidate.strip_prefix("mailto:").unwrap_or(candidate);
    is_address(candidate).then_some((candidate, rest, code))
}

/// Whether a line holds an `@`: a line without one, as most are, names no address
/// ([`is_address`] wants one), and is ruled out before it is taken apart.
fn has_at(line: &str) -> bool {
    memchr::memchr(b'@', line.as_bytes()).is_some()
}

/// Where the address token a text starts with ends: at whitespace or `,;>()[]`.
/// Byte by byte while the text is ASCII (a char search decodes every char), by chars
/// from the first non-ASCII byte on.
fn token_end(text: &str) -> usize {
    let stops = |c: char| c.is_whitespace() || matches!(c, ',' | ';' | '>' | '(' | ')' | '[' | ']');
    for (i, &b) in text.as_bytes().iter().enumerate() {
        if !b.is_ascii() {
            return i + text[i..].find(stops).unwrap_or(text.len() - i);
        }
        if stops(char::from(b)) {
            return i;
        }
    }
    text.len()
}

/// Every address in a text, in order (bare, `<...>`, `mailto:` forms).
pub fn addresses(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '<' | '>' | '(' | ')' | ',' | ';' | '"' | '\'' | '[' | ']'
            )
    })
    .map(|t| t.trim_end_matches([':', '.']))
    .map(|t| t.strip_prefix("mailto:").unwrap_or(t))
    .filter(|t| is_address(t))
}

/// Joins lines into one diagnostic: trimmed, single spaces.
pub fn join_lines<'a>(lines: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for l in lines {
        let t = l.trim();
        if t.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(t);
    }
    out
}

/// The error text next to an address in a notice: the rest of the line naming it and
/// the lines after it up to a blank line. With `single`, a notice that does not name
/// the address gives its first paragraph with an SMTP reply code.
pub fn error_near(body: &str, address: &str, single: bool) -> Option<String> {
    // Lowercased once, not for every line.
    let address_lower = address.to_ascii_lowercase();
    let mut body_lines = lines(body);
    while let Some(line) = body_lines.next() {
        let Some(p) = find_ci(line, &address_lower) else {
            continue;
        };
        let after = &line[p + address.len()..];
        let after = after
            .trim_start_matches(['>', ':', '.', ' ', '\t', '"'])
            .trim();
        let mut parts: Vec<&str> = Vec::new();
        if after.len() > 3 {
            parts.push(after);
        }
        for next in body_lines.clone().take(6) {
            if next.trim().is_empty() {
                break;
            }
            parts.push(next);
        }
        let joined = join_lines(parts);
        if has_reply_code(&joined) || joined.len() > 10 {
            return Some(joined);
        }
    }
    if !single {
        return None;
    }
    paragraphs(body)
        .map(|p| join_lines(lines(p)))
        .find(|p| has_reply_code(p))
}

/// A reply code where a remote's reply starts: at the start of the text or a line, or
/// after `: `, `; `, `<<< `, `] ` or `said ` (`... RCPT TO:<a@b>: 550 Bad ...`).
/// For texts where [`crate::codes::extract`] finds none because no enhanced code
/// follows.
pub fn reply_code_in(text: &str) -> Option<crate::codes::ReplyCode> {
    let b = text.as_bytes();
    // Only where a 4 or a 5 stands (memchr2) is a code looked at.
    memchr::memchr2_iter(b'4', b'5', b).find_map(|i| {
        if !(i + 3 <= b.len() && b[i + 1].is_ascii_digit() && b[i + 2].is_ascii_digit()) {
            return None;
        }
        let before = &b[..i];
        let before_ok = before.is_empty()
            || before.ends_with(b"\n")
            || before.ends_with(b": ")
            || before.ends_with(b":")
            || before.ends_with(b"; ")
            || before.ends_with(b"<<< ")
            || before.ends_with(b"] ")
            || before.ends_with(b"said ");
        let after_ok = matches!(b.get(i + 3), None | Some(b' ' | b'-'));
        if !(before_ok && after_ok) {
            return None;
        }
        crate::codes::ReplyCode::new(
            u16::from(b[i] - b'0') * 100
                + u16::from(b[i + 1] - b'0') * 10
                + u16::from(b[i + 2] - b'0'),
        )
    })
}

/// Phrases of the introductions notices open with: a paragraph with one is no error.
const INTRO_PHRASES: &[&str] = &[
    "this is the mail system",
    "this message was created automatically",
    "mime-encapsulated",
    "mime format",
    "multi-part message",
    "i'm sorry to have to inform",
    "i'm afraid i wasn't able",
    "for further assistance",
    "this is an automatically generated",
    "delete your own text",
    "the following addresses had",
    "original message was received",
];

/// Words that make a paragraph an error description.
const ERROR_WORDS: &[&str] = &[
    "error",
    "unknown",
    "not found",
    "no such",
    "does not exist",
    "doesn't exist",
    "invalid",
    "rejected",
    "denied",
    "refused",
    "full",
    "quota",
    "exceed",
    "timed out",
    "timeout",
    "unavailable",
    "failed",
    "blocked",
    "not accept",
    "unable",
    "could not",
    "cannot",
    "can't",
    "expired",
    "suspended",
    "disabled",
    "illegal",
    "unreachable",
    "not allowed",
    "spam",
    "virus",
    "too large",
    "too big",
    "not exist",
    "permission",
    "not listed",
    "not recognized",
    "not delivered",
    "not responding",
];

/// The paragraph of a notice that describes the error: the first with an SMTP reply
/// code, else the first with an error word that is not the notice's introduction.
/// One pass: each paragraph is joined and lowercased once, and the search stops at
/// the first with a reply code.
pub fn error_paragraph(section: &str) -> Option<String> {
    let mut with_error_word = None;
    let paragraphs = paragraphs(section)
        .map(|p| join_lines(lines(p).filter(|l| !is_rule_line(l))))
        .filter(|p| !p.is_empty());
    for p in paragraphs {
        let lower = p.to_ascii_lowercase();
        if INTRO_FINDER.is_match(&lower) {
            continue;
        }
        if has_reply_code(&p) {
            return Some(p);
        }
        if with_error_word.is_none() && ERROR_WORD_FINDER.is_match(&lower) {
            with_error_word = Some(p);
        }
    }
    with_error_word
}

/// [`INTRO_PHRASES`] in one automaton (lowercase text). Only asked whether one
/// occurs, which a leftmost-first automaton (with its prefilter) answers as well.
static INTRO_FINDER: LazyLock<AhoCorasick> = LazyLock::new(|| phrase_automaton(INTRO_PHRASES));

/// [`ERROR_WORDS`] in one automaton (lowercase text), as [`INTRO_FINDER`].
static ERROR_WORD_FINDER: LazyLock<AhoCorasick> = LazyLock::new(|| phrase_automaton(ERROR_WORDS));

/// `----- Transcript of session follows -----` and similar rules.
fn is_rule_line(line: &str) -> bool {
    let t = line.trim();
    t.len() >= 3 && (t.starts_with("---") || t.starts_with("===") || t.starts_with("***"))
}

/// The address a line ends with (`User mailbox exceeds allowed size: a@b`, `Could not
/// be delivered to: <a@b>`, `undeliverable to a@b`) and the text before it.
pub fn trailing_address(line: &str) -> Option<(&str, &str)> {
    if !has_at(line) {
        return None;
    }
    let t = line.trim_end().trim_end_matches(['.', ':']);
    let (start, sep) = t
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace() || *c == ':')?;
    let token = t[start + sep.len_utf8()..].trim_matches(['<', '>', '"', '\'', '(', ')', '[', ']']);
    let token = token.strip_prefix("mailto:").unwrap_or(token);
    if !is_address(token) {
        return None;
    }
    let before = t[..start].trim_end_matches([':', ' ', '\t']).trim();
    (!before.is_empty()).then_some((token, before))
}

/// Phrases before a trailing address that say nothing about the error itself.
const DELIVERY_PHRASES: &[&str] = &[
    "undeliverable to",
    "could not be delivered to",
    "delivery to",
    "not delivered to",
    "failed to deliver to",
    "unable to deliver to",
    "could not deliver to",
    "delivery has failed to these recipients or groups",
    "to",
];

/// Recipients named at the end of a line, each with the error text on the line before
/// the address, or else the error paragraph that follows.
pub fn trailing_blocks(section: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let lines: Vec<&str> = lines(section).collect();
    for (i, line) in lines.iter().enumerate() {
        let Some((address, before)) = trailing_address(line) else {
            continue;
        };
        let lower = before.to_ascii_lowercase();
        // "For further assistance, please contact <support@...>": no recipient.
        if [
            "contact",
            "assistance",
            "please",
            "reply to",
            "from:",
            "sender",
        ]
        .iter()
        .any(|w| lower.contains(w))
        {
            continue;
        }
        let says_nothing = DELIVERY_PHRASES.iter().any(|p| lower.ends_with(p))
            || lower.split_whitespace().count() <= 1;
        let mut diag = if says_nothing {
            String::new()
        } else {
            before.to_string()
        };
        // The lines right after, up to a blank line.
        let following: Vec<&str> = lines[i + 1..]
            .iter()
            .take_while(|l| !l.trim().is_empty())
            .copied()
            .collect();
        let more = join_lines(following);
        if !more.is_empty() && trailing_address(lines.get(i + 1).copied().unwrap_or("")).is_none() {
            if diag.is_empty() {
                diag = more;
            } else {
                diag = format!("{diag} {more}");
            }
        }
        if diag.is_empty() {
            let rest: String = lines[i + 1..].join("\n");
            diag = error_paragraph(&rest).unwrap_or_default();
        }
        if !out.iter().any(|(a, _)| a.eq_ignore_ascii_case(address)) {
            out.push((address.to_string(), diag));
        }
    }
    out
}

/// Whether most of a text is `>`-quoted (at least five lines): a forwarded notice.
pub fn is_quoted(body: &str) -> bool {
    static QUOTED_LINE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("\n>"));
    // Quoted lines counted by a substring search, and the rest only when there are
    // enough of them: most notices quote nothing.
    let quoted =
        usize::from(body.starts_with('>')) + QUOTED_LINE.find_iter(body.as_bytes()).count();
    if quoted < 5 {
        return false;
    }
    let total = lines(body).filter(|l| !l.trim().is_empty()).count();
    quoted * 2 >= total
}

/// A forwarded notice: `> `-quoted lines unquoted, when most of the text is quoted.
pub fn unquote(body: &str) -> Option<String> {
    if !is_quoted(body) {
        return None;
    }
    let mut out = String::with_capacity(body.len());
    for l in lines(body) {
        let u = l
            .strip_prefix("> ")
            .or_else(|| l.strip_prefix('>'))
            .unwrap_or(l);
        out.push_str(u);
        out.push('\n');
    }
    Some(out)
}

/// The first enhanced status code standing as its own token in a text (`#5.1.1`
/// included; not inside an address or a version number).
pub fn first_enhanced(text: &str) -> Option<crate::codes::EnhancedCode> {
    let b = text.as_bytes();
    // A code's class digit stands before a dot: only the dots (memchr) are looked at.
    memchr::memchr_iter(b'.', b).find_map(|dot| {
        let i = dot.checked_sub(1)?;
        if !(i + 5 <= b.len()
            && matches!(b[i], b'2' | b'4' | b'5')
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'.')))
        {
            return None;
        }
        let end = b[i..]
            .iter()
            .position(|c| !(c.is_ascii_digit() || *c == b'.'))
            .map_or(b.len(), |p| i + p);
        crate::codes::EnhancedCode::parse(text[i..end].trim_end_matches('.'))
    })
}

/// The first reply code and enhanced code of class 4 or 5 in a text (a transcript's
/// failing reply after its successful ones).
pub fn failure_codes(
    text: &str,
) -> (
    Option<crate::codes::ReplyCode>,
    Option<crate::codes::EnhancedCode>,
) {
    let mut reply = None;
    let mut enhanced = None;
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() && (reply.is_none() || enhanced.is_none()) {
        let starts = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'.');
        if starts && matches!(b[i], b'4' | b'5') {
            let end = b[i..]
                .iter()
                .position(|c| !(c.is_ascii_digit() || *c == b'.'))
                .map_or(b.len(), |p| i + p);
            let token = text[i..end].trim_end_matches('.');
            if reply.is_none() && token.len() == 3 && matches!(b.get(end), None | Some(b' ' | b'-'))
            {
                reply = crate::codes::ReplyCode::parse(token);
            } else if enhanced.is_none() {
                enhanced = crate::codes::EnhancedCode::parse(token);
            }
            i = end.max(i + 1);
            continue;
        }
        i += 1;
    }
    (reply, enhanced)
}

/// Whether a text holds a reply code or an error word.
pub fn has_error(text: &str) -> bool {
    if has_reply_code(text) {
        return true;
    }
    ERROR_WORD_FINDER.is_match(&text.to_ascii_lowercase())
}

/// Whether the text holds something like an SMTP reply (`550 ...`, `5.1.1`).
pub fn has_reply_code(text: &str) -> bool {
    // A failure code's class is its first digit, a 4 or a 5: a text without either
    // (most paragraphs, by memchr) holds none, and is not taken apart.
    if memchr::memchr2(b'4', b'5', text.as_bytes()).is_none() {
        return false;
    }
    let c = crate::codes::extract(text);
    c.reply.is_some_and(|r| r.class() >= 4) || c.enhanced.is_some_and(|e| e.class >= 4)
}

/// One recipient named in a notice's text and the lines that follow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block<'a> {
    pub address: &'a str,
    /// The reply code the address line started with (`550 <a@b>... User unknown`).
    pub code: Option<crate::codes::ReplyCode>,
    /// The rest of the address line and the lines after it, up to a blank line or the
    /// next address line.
    pub lines: Vec<&'a str>,
}

impl Block<'_> {
    /// The block's lines as one diagnostic.
    pub fn text(&self) -> String {
        join_lines(self.lines.iter().copied())
    }
}

/// Recipient blocks: a line that starts with an address (`<a@b>:`, `  a@b`,
/// `a@b... User unknown`) and the lines after it. Blank lines end a block, except
/// right after the address line (some MTAs leave one there).
pub fn address_blocks(text: &str) -> Vec<Block<'_>> {
    let mut reader = BlockReader::default();
    let mut rest = text;
    // Outside a block, a line without an `@` changes nothing (it names no address):
    // the reader is given the next line with one, the lines before it skipped.
    while let Some(line) = next_line(&mut rest, !reader.open) {
        reader.line(line);
    }
    reader.blocks
}

/// The next line of `rest` as [`lines`] gives it, `rest` moved past it; with
/// `with_at`, the next line that holds an `@`.
fn next_line<'a>(rest: &mut &'a str, with_at: bool) -> Option<&'a str> {
    if with_at {
        let at = memchr::memchr(b'@', rest.as_bytes())?;
        let start = memchr::memrchr(b'\n', &rest.as_bytes()[..at]).map_or(0, |p| p + 1);
        *rest = &rest[start..];
    }
    let line = lines_inclusive(rest).next()?;
    *rest = &rest[line.len()..];
    Some(without_line_end(line))
}

/// [`address_blocks`] line by line.
#[derive(Default)]
struct BlockReader<'a> {
    blocks: Vec<Block<'a>>,
    /// A block takes the lines that follow.
    open: bool,
    /// The open block has no text yet, or its last line ends in a colon: a blank line
    /// does not close it.
    just_opened: bool,
    /// Indent of the open block's address line.
    block_indent: usize,
}

impl<'a> BlockReader<'a> {
    fn line(&mut self, line: &'a str) {
        if line.trim().is_empty() {
            if !self.just_opened {
                self.open = false;
            }
            return;
        }
        let indent = line.len() - line.trim_start().len();
        // A deeper-indented line inside a block is its text, even if it starts with an
        // address (Exim wraps "RCPT TO:\n    <a@b>:" that way).
        let continuation = self.open && indent > self.block_indent && self.block_indent > 0;
        if !continuation && let Some((address, rest, code)) = leading_address_coded(line) {
            let rest_t = rest.trim();
            // "a@b" alone, "<a@b>:", "a@b: error", "a@b... error", "<a@b> (expanded
            // from ...):"
            let shaped = rest_t.is_empty()
                || rest_t.starts_with([':', '.', '(', '>', '"', '[', '\''])
                || starts_ci(rest_t, "on ")
                || starts_ci(rest_t, "for ")
                || rest.starts_with([' ', '\t']) && line.starts_with([' ', '\t', '<']);
            if shaped {
                let first = rest_t.trim_start_matches(['.', ':', '>', '"', '\'']).trim();
                let mut lines = Vec::new();
                // "(expanded from ...):" and Exchange's "on <date>" say nothing.
                let says_nothing = first.is_empty()
                    || (first.starts_with('(') && first.ends_with("):"))
                    || starts_ci(first, "on ");
                if !says_nothing {
                    lines.push(first);
                }
                self.just_opened = lines.is_empty();
                self.block_indent = indent;
                self.blocks.push(Block {
                    address,
                    code,
                    lines,
                });
                self.open = true;
                return;
            }
        }
        if self.open
            && let Some(b) = self.blocks.last_mut()
        {
            b.lines.push(line);
            // "because:" announces the error after a blank line (Domino).
            self.just_opened = line.trim_end().ends_with(':');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_agrees_with_the_standard_library() {
        let ends = [
            "",
            " ",
            "\t",
            "\n",
            "\r\n",
            "\x0b",
            "\x0c",
            "\u{a0}",
            "\u{3000}",
            " \u{85}\n",
        ];
        let middles = ["", "a", "a b", "é", "\x0b", "\u{a0}x\u{a0}", " "];
        for start in ends {
            for middle in middles {
                for end in ends {
                    let text = format!("{start}{middle}{end}");
                    assert_eq!(trim(&text), text.trim(), "{text:?}");
                }
            }
        }
    }

    #[test]
    fn original_markers_are_found_wherever_the_line_holds_them() {
        // Each marker, alone, after other words, at the end, after a false start.
        for marker in ORIGINAL_MARKERS {
            for line in [
                marker.to_string(),
                format!("--- the message: {marker} ---"),
                format!("message message {marker}"),
                format!("{marker}:"),
            ] {
                assert!(has_original_marker(line.as_bytes()), "{line}");
            }
        }
        for line in [
            "message",
            "the original messag",
            "copy of the message",
            "mail follows",
        ] {
            assert!(!has_original_marker(line.as_bytes()), "{line}");
        }
        // As the plain search says, on every cut of every marker next to others, and
        // on every line of the fixtures.
        let plain = |line: &str| ORIGINAL_MARKERS.iter().any(|m| line.contains(m));
        let mut lines = Vec::new();
        for (i, marker) in ORIGINAL_MARKERS.iter().enumerate() {
            let next = ORIGINAL_MARKERS[(i + 1) % ORIGINAL_MARKERS.len()];
            for cut in 0..=marker.len() {
                lines.push(format!("{}{next}", &marker[..cut]));
                lines.push(format!("m {} mail", &marker[cut..]));
            }
        }
        for text in crate::parse::dsn::tests::fixture_texts() {
            lines.extend(text.to_ascii_lowercase().lines().map(str::to_string));
        }
        for line in &lines {
            assert_eq!(has_original_marker(line.as_bytes()), plain(line), "{line}");
            // Case is ignored.
            let upper = line.to_ascii_uppercase();
            assert_eq!(
                has_original_marker(upper.as_bytes()),
                plain(line),
                "{upper}"
            );
        }
    }

    #[test]
    fn original_markers_are_found_in_framed_lines_in_any_case() {
        assert!(is_original_marker(
            "------ This is a copy of the message, including all the headers. ------\n"
        ));
        assert!(is_original_marker("  Original Message Follows.\r\n"));
        assert!(is_original_marker("=== UNDELIVERED MESSAGE FOLLOWS ==="));
        assert!(!is_original_marker(
            "The original message follows and goes on"
        ));
        assert!(!is_original_marker("--- the mail follows ---"));
    }

    #[test]
    fn line_splitters_agree_with_the_standard_library() {
        // Every mix of a few pieces, with LF, CRLF, lone CR and no end at all.
        let pieces = ["a", "", "\n", "\r\n", "\r", "bc\r", "\n\n", "x\r\n\r"];
        let texts = crate::parse::dsn::tests::mixes(&pieces, 4);
        for t in &texts {
            assert_eq!(
                lines(t).collect::<Vec<_>>(),
                t.lines().collect::<Vec<_>>(),
                "{t:?}"
            );
            assert_eq!(
                split_lf(t).collect::<Vec<_>>(),
                t.split('\n').collect::<Vec<_>>(),
                "{t:?}"
            );
            let inclusive: String = lines_inclusive(t).collect();
            assert_eq!(&inclusive, t);
        }
    }

    #[test]
    fn leading_address_shapes() {
        assert_eq!(
            leading_address("<a@b.example>:"),
            Some(("a@b.example", ":"))
        );
        assert_eq!(leading_address("  a@b.example"), Some(("a@b.example", "")));
        assert_eq!(
            leading_address("a@b.example... User unknown"),
            Some(("a@b.example", "... User unknown"))
        );
        assert_eq!(leading_address("hello a@b.example"), None);
    }

    #[test]
    fn stage_markers_by_preference_not_position() {
        // Each marker searched on its own in the lowercased text, in order, as the
        // prefiltered search replaces.
        let one_by_one = |text: &str| {
            let lower = text.to_ascii_lowercase();
            STAGE_MARKERS
                .iter()
                .find(|(m, _)| lower.contains(m))
                .map(|(_, s)| *s)
        };
        let texts = [
            "",
            "550 5.1.1 user unknown",
            "SMTP error after MAIL FROM:<a@b>",
            // A later-listed marker first in the text, in any case.
            ">>> DATA ... After RCPT TO:<a@b>",
            "after initial connection; After Ehlo",
            // Overlapping markers: "in rcpt to response" holds "rcpt to response".
            "failed in rcpt to response",
            "failed after end of data",
            "after pipelined data",
            ">>> helo x >>> ehlo y",
        ];
        for text in texts {
            assert_eq!(stage_marker(text), one_by_one(text), "{text:?}");
        }
        assert_eq!(
            stage_marker(">>> DATA ... After RCPT TO:<a@b>"),
            Some(SmtpStage::Rcpt)
        );
    }

    /// Every short text over the bytes codes are made of: the searches that jump to
    /// candidate digits find what a scan of every byte finds.
    #[test]
    fn code_searches_agree_with_a_scan_of_every_byte() {
        fn reply_scan(b: &[u8]) -> Option<crate::codes::ReplyCode> {
            (0..(b.len() + 1).saturating_sub(3)).find_map(|i| {
                let before = &b[..i];
                let before_ok = before.is_empty()
                    || [&b"\n"[..], b": ", b":", b"; ", b"<<< ", b"] ", b"said "]
                        .iter()
                        .any(|m| before.ends_with(m));
                let code = matches!(b[i], b'4' | b'5')
                    && b[i + 1].is_ascii_digit()
                    && b[i + 2].is_ascii_digit()
                    && before_ok
                    && matches!(b.get(i + 3), None | Some(b' ' | b'-'));
                code.then(|| {
                    let value = b[i..i + 3]
                        .iter()
                        .fold(0u16, |v, d| v * 10 + u16::from(d - b'0'));
                    crate::codes::ReplyCode::new(value)
                })
                .flatten()
            })
        }
        fn enhanced_scan(text: &str) -> Option<crate::codes::EnhancedCode> {
            let b = text.as_bytes();
            (0..(b.len() + 1).saturating_sub(5)).find_map(|i| {
                let starts = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'.');
                if !(matches!(b[i], b'2' | b'4' | b'5') && b[i + 1] == b'.' && starts) {
                    return None;
                }
                let end = b[i..]
                    .iter()
                    .position(|c| !(c.is_ascii_digit() || *c == b'.'))
                    .map_or(b.len(), |p| i + p);
                crate::codes::EnhancedCode::parse(text[i..end].trim_end_matches('.'))
            })
        }
        for text in crate::codes::short_texts(b"5.4 1:;#a\n", 7, 200_000) {
            let text = String::from_utf8(text).expect("an ASCII alphabet");
            assert_eq!(
                reply_code_in(&text),
                reply_scan(text.as_bytes()),
                "{text:?}"
            );
            assert_eq!(first_enhanced(&text), enhanced_scan(&text), "{text:?}");
        }
    }

    /// Skipping the lines without an `@` outside a block gives the blocks reading
    /// every line gives: on every fixture's text and on mixes of the lines that open,
    /// continue and close blocks.
    #[test]
    fn address_blocks_skip_no_line_that_matters() {
        fn every_line(text: &str) -> Vec<Block<'_>> {
            let mut reader = BlockReader::default();
            lines(text).for_each(|l| reader.line(l));
            reader.blocks
        }
        let pieces = [
            "<a@b.example>:\n",
            "  c@d.example\n",
            "x@y.example... User unknown\r\n",
            "    <e@f.example>: deeper\n",
            "because:\n",
            "\n",
            "  \r\n",
            "550 5.1.1 no such user\n",
            "mail to g@h.example failed\n",
            "text",
        ];
        let mut texts = crate::parse::dsn::tests::mixes(&pieces, 4);
        texts.extend(crate::parse::dsn::tests::fixture_texts());
        for text in &texts {
            assert_eq!(address_blocks(text), every_line(text), "{text:?}");
        }
    }

    /// The digit test before taking a text apart changes no answer: over texts of
    /// codes of every class, with and without a 4 or a 5.
    #[test]
    fn reply_code_test_agrees_with_the_codes_found() {
        let from_codes = |text: &str| {
            let c = crate::codes::extract(text);
            c.reply.is_some_and(|r| r.class() >= 4) || c.enhanced.is_some_and(|e| e.class >= 4)
        };
        for alphabet in [&b"5.2 1:;-\n"[..], b"4.2 0x-", b"2.3 1:6-9"] {
            for text in crate::codes::short_texts(alphabet, 11, 100_000) {
                let text = String::from_utf8(text).expect("an ASCII alphabet");
                assert_eq!(has_reply_code(&text), from_codes(&text), "{text:?}");
            }
        }
        for text in [
            "550 5.1.1 unknown",
            "said: 452 full",
            "#4.4.7",
            "250 ok",
            "2.0.0",
            "",
        ] {
            assert_eq!(has_reply_code(text), from_codes(text), "{text:?}");
        }
    }

    #[test]
    fn expiry_phrases() {
        assert!(says_expired("RETRY TIMEOUT EXCEEDED"));
        assert!(says_expired("x: Message Expired after 5 days"));
        assert!(says_expired("retry timeout exceeded"));
        assert!(says_expired(
            "I'm not going to try again; this message has been in the queue too long."
        ));
        assert!(!says_expired("550 5.1.1 user unknown"));
    }
}

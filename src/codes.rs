//! SMTP reply codes (RFC 5321) and enhanced status codes (RFC 3463), and their
//! extraction from free diagnostic text.
//!
//! Diagnostic texts come in many shapes: `host mx[192.0.2.1] said: 550-5.1.1 ...`
//! (multi-line replies joined), `554 5.7.1 ...`, Exchange's `#5.1.1`, Postfix's own
//! `dsn=4.4.1`, or no code at all. Extraction is a byte scan, not a regex: it runs on
//! every failure line of a large log.

use std::fmt;

use serde::{Serialize, Serializer};

/// A basic SMTP reply code such as 550. Only values RFC 5321 allows: first digit 2-5,
/// second digit 0-5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReplyCode(u16);

impl ReplyCode {
    pub fn new(value: u16) -> Option<ReplyCode> {
        let (first, second) = (value / 100, (value / 10) % 10);
        ((2..=5).contains(&first) && second <= 5).then_some(ReplyCode(value))
    }

    pub fn value(self) -> u16 {
        self.0
    }

    /// 2, 3, 4 or 5.
    pub fn class(self) -> u8 {
        (self.0 / 100) as u8
    }

    pub fn parse(text: &str) -> Option<ReplyCode> {
        let b = text.trim().as_bytes();
        if b.len() != 3 || !b.iter().all(u8::is_ascii_digit) {
            return None;
        }
        ReplyCode::new(three_digits(b))
    }
}

impl fmt::Display for ReplyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for ReplyCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u16(self.0)
    }
}

/// An RFC 3463 enhanced status code `class.subject.detail`, e.g. 5.1.1 or 4.7.651.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EnhancedCode {
    pub class: u8,
    pub subject: u16,
    pub detail: u16,
}

impl EnhancedCode {
    /// RFC 3463: class is 2, 4 or 5; subject and detail have one to three digits.
    pub fn new(class: u8, subject: u16, detail: u16) -> Option<EnhancedCode> {
        (matches!(class, 2 | 4 | 5) && subject <= 999 && detail <= 999).then_some(EnhancedCode {
            class,
            subject,
            detail,
        })
    }

    /// Parses exactly `c.s.d` (surrounding white space allowed).
    pub fn parse(text: &str) -> Option<EnhancedCode> {
        let b = text.trim().as_bytes();
        match enhanced_at(b, 0) {
            Some((code, end)) if end == b.len() => Some(code),
            _ => None,
        }
    }
}

impl fmt::Display for EnhancedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

impl Serialize for EnhancedCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Codes found in a diagnostic text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Codes {
    pub reply: Option<ReplyCode>,
    pub enhanced: Option<EnhancedCode>,
}

/// Markers after which a remote server's own reply starts.
const REPLY_MARKERS: &[&[u8]] = &[
    b" said: ",
    b"refused to talk to me: ",
    b"The response was: ",
    b"The error that the other server returned was: ",
    b"Remote server returned '",
    b"Remote Server returned '",
    b"smtp; ",
    b"SMTP; ",
];

/// Where each marker's rare byte stands in it: the last `:`, `;` or `'` it holds.
const MARKER_ANCHORS: [usize; REPLY_MARKERS.len()] = {
    let mut anchors = [usize::MAX; REPLY_MARKERS.len()];
    let mut m = 0;
    while m < REPLY_MARKERS.len() {
        let marker = REPLY_MARKERS[m];
        let mut i = 0;
        while i < marker.len() {
            if matches!(marker[i], b':' | b';' | b'\'') {
                anchors[m] = i;
            }
            i += 1;
        }
        assert!(anchors[m] != usize::MAX, "a reply marker holds : ; or '");
        m += 1;
    }
    anchors
};

/// Where the first occurrence of each marker ends (`usize::MAX` when absent). One pass
/// for all of them: every marker holds a `:`, `;` or `'`, rare in diagnostics, and the
/// markers are compared only where memchr finds one of those.
fn marker_ends(b: &[u8]) -> [usize; REPLY_MARKERS.len()] {
    let mut ends = [usize::MAX; REPLY_MARKERS.len()];
    for p in memchr::memchr3_iter(b':', b';', b'\'', b) {
        for ((end, marker), &anchor) in ends.iter_mut().zip(REPLY_MARKERS).zip(&MARKER_ANCHORS) {
            if *end == usize::MAX
                && marker[anchor] == b[p]
                && let Some(start) = p.checked_sub(anchor)
                && b[start..].starts_with(marker)
            {
                *end = start + marker.len();
            }
        }
    }
    ends
}

/// The reply code a text starts with ("250 2.0.0 Ok"), without looking further: the
/// cheap path for success replies, which say nothing else of interest.
pub fn leading_reply(b: &[u8]) -> Option<ReplyCode> {
    reply_at(b, skip_space(b, 0)).and_then(|c| c.reply)
}

/// Extracts the reply code and enhanced code from a diagnostic text.
///
/// The reply code is taken at the start of the remote reply (after "said:", "smtp;",
/// or at the very start), or anywhere a three-digit code is directly followed by an
/// enhanced code ("... 550 5.1.1 ..."). The enhanced code is the one right after the
/// reply code, else the first well-formed one anywhere (Exchange's "#5.1.1" included).
/// Both are kept even when their classes disagree (Postfix writes `554 ... dsn=4.7.1`
/// when it treats a 5xx greeting as temporary).
pub fn extract(text: &str) -> Codes {
    let b = text.as_bytes();
    // The earliest marker is the reply that refused us: "... said: 550 5.7.350 Remote
    // server returned '550 5.1.1 ...'" quotes the remote's remote after it.
    let mut starts = marker_ends(b);
    starts.sort_unstable();
    let mut codes = starts
        .iter()
        .take_while(|&&start| start != usize::MAX)
        .find_map(|&start| reply_at(b, skip_space(b, start)))
        .or_else(|| reply_at(b, skip_space(b, 0)))
        .or_else(|| reply_with_enhanced_anywhere(b))
        .unwrap_or_default();
    if codes.enhanced.is_none() {
        codes.enhanced = enhanced_anywhere(b);
    }
    codes
}

fn skip_space(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && is_skipped(b[i]) {
        i += 1;
    }
    i
}

/// The bytes [`skip_space`] skips.
fn is_skipped(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'<' | b'"' | b'\'')
}

fn three_digits(b: &[u8]) -> u16 {
    b.iter()
        .take(3)
        .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'))
}

/// A reply code at `i` ("550 ", "550-", "550" at the end), with the enhanced code
/// right after it if there is one.
fn reply_at(b: &[u8], i: usize) -> Option<Codes> {
    let digits = b.get(i..i + 3)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    match b.get(i + 3) {
        None | Some(b' ' | b'-' | b'\t' | b'\r' | b'\n' | b'"' | b'\'') => {}
        _ => return None,
    }
    let reply = ReplyCode::new(three_digits(digits))?;
    let after = skip_space(b, i + 4);
    let enhanced = enhanced_at(b, after)
        .filter(|&(_, end)| ends_token(b, end))
        .map(|(code, _)| code);
    Some(Codes {
        reply: Some(reply),
        enhanced,
    })
}

/// "... 550 5.1.1 ..." or "... 550-5.1.1 ..." anywhere in the text: the first reply
/// code (by position) with an enhanced code after it. An enhanced code's class digit
/// stands before a dot, so only the dots are looked for (memchr), and before each the
/// few places a reply code would have to start for [`reply_at`] to reach it.
fn reply_with_enhanced_anywhere(b: &[u8]) -> Option<Codes> {
    for dot in memchr::memchr_iter(b'.', b) {
        let Some(class) = dot.checked_sub(1) else {
            continue;
        };
        if !matches!(b[class], b'2' | b'4' | b'5') {
            continue;
        }
        // `reply_at(b, i)` reads an enhanced code at `skip_space(b, i + 4)`: that is
        // `class` when everything from `i + 4` to it is skipped space.
        let mut first = class;
        while first > 0 && is_skipped(b[first - 1]) {
            first -= 1;
        }
        let Some(last) = class.checked_sub(4) else {
            continue;
        };
        for i in first.saturating_sub(4)..=last {
            if matches!(b[i], b'2'..=b'5')
                && starts_token(b, i)
                && let Some(codes) = reply_at(b, i)
                && codes.enhanced.is_some()
            {
                return Some(codes);
            }
        }
    }
    None
}

/// `count` reproducible texts of up to 15 bytes drawn from `alphabet` (a linear
/// congruential generator from `seed`), for tests that compare a fast scanner with a
/// plain one.
#[cfg(test)]
pub(crate) fn short_texts(
    alphabet: &[u8],
    mut seed: u64,
    count: usize,
) -> impl Iterator<Item = Vec<u8>> + '_ {
    (0..count).map(move |_| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let len = (seed >> 60) as usize;
        (0..len)
            .map(|k| alphabet[((seed >> (4 * k % 56)) % alphabet.len() as u64) as usize])
            .collect()
    })
}

fn starts_token(b: &[u8], i: usize) -> bool {
    i == 0 || !matches!(b[i - 1], b'0'..=b'9' | b'.' | b'a'..=b'z' | b'A'..=b'Z' | b'_')
}

fn ends_token(b: &[u8], end: usize) -> bool {
    match b.get(end) {
        None => true,
        Some(b'.') => !b.get(end + 1).is_some_and(u8::is_ascii_digit),
        Some(c) => !c.is_ascii_alphanumeric() && *c != b'_',
    }
}

/// Parses `c.s.d` starting at `i`; returns the code and the index after it.
fn enhanced_at(b: &[u8], i: usize) -> Option<(EnhancedCode, usize)> {
    let class = *b.get(i)?;
    if !matches!(class, b'2' | b'4' | b'5') || b.get(i + 1) != Some(&b'.') {
        return None;
    }
    let (subject, j) = number_at(b, i + 2)?;
    if b.get(j) != Some(&b'.') {
        return None;
    }
    let (detail, k) = number_at(b, j + 1)?;
    Some((EnhancedCode::new(class - b'0', subject, detail)?, k))
}

/// One to three digits at `i`; more digits make it no code.
fn number_at(b: &[u8], i: usize) -> Option<(u16, usize)> {
    let mut j = i;
    let mut value = 0u16;
    while j < b.len() && b[j].is_ascii_digit() {
        if j - i == 3 {
            return None;
        }
        value = value * 10 + u16::from(b[j] - b'0');
        j += 1;
    }
    (j > i).then_some((value, j))
}

/// The first well-formed enhanced code that stands as its own token (not inside an
/// IP address or a version number). Its class digit stands before a dot: only the
/// dots are looked for (memchr), not every byte.
fn enhanced_anywhere(b: &[u8]) -> Option<EnhancedCode> {
    memchr::memchr_iter(b'.', b).find_map(|dot| {
        let i = dot.checked_sub(1)?;
        if i + 4 < b.len()
            && matches!(b[i], b'2' | b'4' | b'5')
            && (starts_token(b, i) || b[i - 1] == b'#')
            && let Some((code, end)) = enhanced_at(b, i)
            && ends_token(b, end)
        {
            return Some(code);
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(text: &str) -> (Option<u16>, Option<String>) {
        let c = extract(text);
        (
            c.reply.map(|r| r.value()),
            c.enhanced.map(|e| e.to_string()),
        )
    }

    #[test]
    fn extracts_codes_from_real_shapes() {
        let cases: &[(&str, Option<u16>, Option<&str>)] = &[
            (
                "host gmail-smtp-in.l.google.com[127.0.1.1] said: 550-5.1.1 The email account that you tried to reach does not exist. 550 5.1.1 https://support.google.com (in reply to RCPT TO command)",
                Some(550),
                Some("5.1.1"),
            ),
            ("550 5.7.1 Service unavailable", Some(550), Some("5.7.1")),
            (
                "451 4.7.651 The mail server [192.0.2.5] has been temporarily rate limited",
                Some(451),
                Some("4.7.651"),
            ),
            ("554 delivery error: dd Sorry", Some(554), None),
            (
                "550 sorry, no mailbox here by that name (#5.1.1 - chkusr)",
                Some(550),
                Some("5.1.1"),
            ),
            (
                "connect to mx.example.com[10.5.1.1]:25: Connection refused",
                None,
                None,
            ),
            (
                "Diagnostic: smtp; 552 5.2.2 Mailbox full",
                Some(552),
                Some("5.2.2"),
            ),
            (
                "host x[1.2.3.4] refused to talk to me: 554 5.7.1 blocked using zen.spamhaus.org",
                Some(554),
                Some("5.7.1"),
            ),
            ("TLSv1.2 with cipher 4.4.4.4", None, None),
            ("999 5.1.1 bogus", None, Some("5.1.1")),
            ("remote said 6.1.1 and 5.1.1000", None, None),
            (
                "Delivery failed: 550-5.7.26 unauthenticated",
                Some(550),
                Some("5.7.26"),
            ),
            ("", None, None),
        ];
        for (text, reply, enhanced) in cases {
            assert_eq!(
                ex(text),
                (*reply, enhanced.map(str::to_string)),
                "text: {text}"
            );
        }
    }

    #[test]
    fn marker_ends_are_where_each_first_occurrence_ends() {
        // Each marker searched on its own, as the scan replaces.
        let by_search = |b: &[u8]| -> Vec<usize> {
            REPLY_MARKERS
                .iter()
                .map(|m| memchr::memmem::find(b, m).map_or(usize::MAX, |p| p + m.len()))
                .collect()
        };
        let texts = [
            "",
            ":",
            "smtp; ",
            "smtp; 550 x said: 451 y",
            // Two markers ending at one place, repeats, case, markers at both ends.
            "SMTP; smtp; SMTP; Remote Server returned 'x' Remote server returned '",
            "host a said: said: 550 The response was: 451 refused to talk to me: 554",
            "The error that the other server returned was: 550 5.1.1 x smtp;  said:",
            "said: smtp;SMTP;'': ;",
            " said:  said: ",
        ];
        for text in texts {
            let b = text.as_bytes();
            assert_eq!(marker_ends(b).to_vec(), by_search(b), "{text:?}");
        }
    }

    #[test]
    fn the_earliest_marker_gives_the_reply() {
        assert_eq!(
            ex("x said: 550 5.7.350 Remote server returned '550 5.1.1 User unknown'"),
            (Some(550), Some("5.7.350".to_string()))
        );
        // A marker whose reply is no code gives way to the next.
        assert_eq!(
            ex("smtp; host a said: 451 4.7.1 try later"),
            (Some(451), Some("4.7.1".to_string()))
        );
    }

    #[test]
    fn rejects_impossible_values() {
        assert!(ReplyCode::new(199).is_none());
        assert!(ReplyCode::new(560).is_none());
        assert!(ReplyCode::new(600).is_none());
        assert_eq!(ReplyCode::new(421).map(|c| c.class()), Some(4));
        assert!(EnhancedCode::parse("3.1.1").is_none());
        assert!(EnhancedCode::parse("5.1").is_none());
        assert!(EnhancedCode::parse("5.1.1.1").is_none());
        assert_eq!(
            EnhancedCode::parse(" 4.7.651 ").map(|c| c.detail),
            Some(651)
        );
    }

    #[test]
    fn keeps_both_codes_when_classes_disagree() {
        let c = extract("host h[1.2.3.4] refused to talk to me: 554 4.7.1 go away");
        assert_eq!(c.reply.map(|r| r.class()), Some(5));
        assert_eq!(c.enhanced.map(|e| e.class), Some(4));
    }

    /// Every short text over the bytes codes are made of: the dot-driven searches
    /// find what a byte-by-byte scan finds.
    #[test]
    fn dot_driven_searches_agree_with_a_scan_of_every_byte() {
        fn reply_scan(b: &[u8]) -> Option<Codes> {
            (0..b.len().saturating_sub(3)).find_map(|i| {
                (matches!(b[i], b'2'..=b'5') && starts_token(b, i))
                    .then(|| reply_at(b, i))
                    .flatten()
                    .filter(|c| c.enhanced.is_some())
            })
        }
        fn enhanced_scan(b: &[u8]) -> Option<EnhancedCode> {
            (0..b.len().saturating_sub(4)).find_map(|i| {
                let starts = starts_token(b, i) || b[i - 1] == b'#';
                (matches!(b[i], b'2' | b'4' | b'5') && starts)
                    .then(|| enhanced_at(b, i))
                    .flatten()
                    .filter(|&(_, end)| ends_token(b, end))
                    .map(|(code, _)| code)
            })
        }
        for text in short_texts(b"5.2 1<-#a", 1, 200_000) {
            assert_eq!(
                reply_with_enhanced_anywhere(&text),
                reply_scan(&text),
                "{text:?}"
            );
            assert_eq!(enhanced_anywhere(&text), enhanced_scan(&text), "{text:?}");
        }
    }
}

//! Reading the free text of bounce notices: where the returned message starts, which
//! lines name a recipient, the error text that goes with it, the SMTP command it
//! answered and whether the MTA gave up. Shared by the plain-text decoders.

use std::sync::LazyLock;

use memchr::memmem::Finder;

use super::mail::is_address;
use crate::model::SmtpStage;

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

/// Lowercases ASCII into a reused buffer.
fn lower_into<'b>(s: &str, buf: &'b mut String) -> &'b str {
    buf.clear();
    buf.extend(s.chars().map(|c| c.to_ascii_lowercase()));
    buf
}

/// Whether a line announces the returned original message.
pub fn is_original_marker(line: &str) -> bool {
    let t = line.trim();
    if t.len() < 8 || t.len() > 120 {
        return false;
    }
    let mut buf = String::new();
    let l = lower_into(t, &mut buf);
    let framed = t.starts_with(['-', '=', '*', '[', '_']) || t.ends_with([':', '-', '.']);
    framed && ORIGINAL_MARKERS.iter().any(|m| l.contains(m))
        || l.starts_with("--- below this line")
}

/// The notice's own text: everything before the returned message.
pub fn before_original(body: &str) -> &str {
    let mut offset = 0;
    for line in body.split_inclusive('\n') {
        if is_original_marker(line) || starts_header_block(&body[offset..]) {
            return &body[..offset];
        }
        offset += line.len();
    }
    body
}

/// Whether the text starts with what looks like the header block of a returned
/// message: `Return-Path:` or `Received:` followed by more header fields.
fn starts_header_block(text: &str) -> bool {
    let first = text.split('\n').next().unwrap_or("");
    if !(starts_ci(first, "Return-Path:") || starts_ci(first, "Received: from") || starts_ci(first, "Received: by"))
    {
        return false;
    }
    text.split('\n')
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
    let n = needle_lower.as_bytes();
    if n.is_empty() {
        return true;
    }
    haystack
        .as_bytes()
        .windows(n.len())
        .any(|w| w.eq_ignore_ascii_case(n))
}

/// The header block of a message returned inline in the text, after a marker line.
pub fn inline_original(body: &str) -> Option<&str> {
    let mut offset = 0;
    let mut after_marker = None;
    for line in body.split_inclusive('\n') {
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

static EXPIRED: LazyLock<Vec<Finder<'static>>> = LazyLock::new(|| {
    [
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
        "delivery period expired",
        "message timed out",
        "maximum time",
        "deadline exceeded",
    ]
    .into_iter()
    .map(Finder::new)
    .collect()
});

/// Whether a notice's text says the MTA gave up after temporary failures.
pub fn says_expired(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    EXPIRED.iter().any(|f| f.find(lower.as_bytes()).is_some())
}

/// The SMTP stage from markers other than Postfix's "in reply to": Exim's "after RCPT
/// TO:", qmail's "RCPT TO response", Sendmail's ">>> DATA" transcript lines.
pub fn stage_marker(text: &str) -> Option<SmtpStage> {
    static MARKERS: LazyLock<Vec<(Finder<'static>, SmtpStage)>> = LazyLock::new(|| {
        [
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
        ]
        .into_iter()
        .map(|(m, s)| (Finder::new(m), s))
        .collect()
    });
    let lower = text.to_ascii_lowercase();
    MARKERS
        .iter()
        .find(|(f, _)| f.find(lower.as_bytes()).is_some())
        .map(|(_, s)| *s)
}

/// The address a line starts with, (`<a@b>:`, `a@b`, `"a@b"`, `a@b...`) and what
/// follows it on the line.
pub fn leading_address(line: &str) -> Option<(&str, &str)> {
    let t = line.trim_start();
    let t = t.strip_prefix("RCPT To:").or_else(|| t.strip_prefix("RCPT TO:")).unwrap_or(t);
    let t = t.trim_start();
    let (candidate, rest) = if let Some(inner) = t.strip_prefix('<') {
        let end = inner.find('>')?;
        (&inner[..end], &inner[end + 1..])
    } else {
        let end = t
            .find(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '>' | '(' | ')'))
            .unwrap_or(t.len());
        let mut cand = &t[..end];
        let mut rest = &t[end..];
        // "a@b:" and "a@b..." keep their punctuation out of the address.
        while let Some(c) = cand.strip_suffix([':', '.', '"', '\'']) {
            rest = &t[c.len()..];
            cand = c;
        }
        (cand.trim_start_matches(['"', '\'']), rest)
    };
    let candidate = candidate.strip_prefix("mailto:").unwrap_or(candidate);
    is_address(candidate).then_some((candidate, rest))
}

/// Every address in a text, in order (bare, `<...>`, `mailto:` forms).
pub fn addresses(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| {
        c.is_whitespace() || matches!(c, '<' | '>' | '(' | ')' | ',' | ';' | '"' | '\'' | '[' | ']')
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
    let lines: Vec<&str> = body.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if !contains_ci(line, &address.to_ascii_lowercase()) {
            continue;
        }
        let after = match line.to_ascii_lowercase().find(&address.to_ascii_lowercase()) {
            Some(p) => &line[p + address.len()..],
            None => "",
        };
        let after = after.trim_start_matches(['>', ':', '.', ' ', '\t', '"']).trim();
        let mut parts: Vec<&str> = Vec::new();
        if after.len() > 3 {
            parts.push(after);
        }
        for next in lines.iter().skip(i + 1).take(6) {
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
    body.split("\n\n")
        .map(|p| join_lines(p.lines()))
        .find(|p| has_reply_code(p))
}

/// Whether the text holds something like an SMTP reply (`550 ...`, `5.1.1`).
pub fn has_reply_code(text: &str) -> bool {
    let c = crate::codes::extract(text);
    c.reply.is_some_and(|r| r.class() >= 4) || c.enhanced.is_some_and(|e| e.class >= 4)
}

/// One recipient named in a notice's text and the lines that follow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block<'a> {
    pub address: &'a str,
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
    let mut blocks: Vec<Block<'_>> = Vec::new();
    let mut open = false;
    let mut just_opened = false;
    for line in text.lines() {
        if line.trim().is_empty() {
            if !just_opened {
                open = false;
            }
            continue;
        }
        if let Some((address, rest)) = leading_address(line) {
            let rest_t = rest.trim();
            // "a@b" alone, "<a@b>:", "a@b: error", "a@b... error", "<a@b> (expanded
            // from ...):"
            let shaped = rest_t.is_empty()
                || rest_t.starts_with([':', '.', '(', '>'])
                || rest.starts_with([' ', '\t']) && line.starts_with([' ', '\t', '<']);
            if shaped {
                let first = rest_t.trim_start_matches(['.', ':', '>']).trim();
                let mut lines = Vec::new();
                if !first.is_empty() && !(first.starts_with('(') && first.ends_with("):")) {
                    lines.push(first);
                }
                just_opened = lines.is_empty();
                blocks.push(Block { address, lines });
                open = true;
                continue;
            }
        }
        if open && let Some(b) = blocks.last_mut() {
            b.lines.push(line);
            just_opened = false;
        }
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_address_shapes() {
        assert_eq!(leading_address("<a@b.example>:"), Some(("a@b.example", ":")));
        assert_eq!(leading_address("  a@b.example"), Some(("a@b.example", "")));
        assert_eq!(
            leading_address("a@b.example... User unknown"),
            Some(("a@b.example", "... User unknown"))
        );
        assert_eq!(leading_address("hello a@b.example"), None);
    }

    #[test]
    fn expiry_phrases() {
        assert!(says_expired("retry timeout exceeded"));
        assert!(says_expired("I'm not going to try again; this message has been in the queue too long."));
        assert!(!says_expired("550 5.1.1 user unknown"));
    }
}

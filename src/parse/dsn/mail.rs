//! One email, parsed once for every decoder: its MIME structure, the top-level
//! headers, the human-readable text of the notice, the delivery-status parts and the
//! returned original message.
//!
//! The structure is mail-parser's reading of the message. Most bounces are plain
//! enough that the `skeleton` walk reads every part through by itself, exactly as
//! mail-parser would (tests compare the readings on every fixture and on generated
//! shapes); any other message goes to mail-parser, cut down to its skeleton or
//! whole (`Mail::parse_with`).
//!
//! Decoders only read a [`Mail`]; they never parse MIME themselves. Text is decoded
//! (transfer encoding and charset) and has LF line ends only.

use std::borrow::Cow;
use std::sync::LazyLock;

use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::{HeaderName, MessageParser, MessagePart, MimeHeaders, PartType};
use memchr::memmem::Finder;

use super::skeleton::{Skeleton, params, skeleton_and_fields, type_of};
use crate::model::Timestamp;

/// The MIME parser, built once: MIME headers and Subject decoded, the rest left raw
/// (decoders read the few they need).
pub(super) static PARSER: LazyLock<MessageParser> = LazyLock::new(|| {
    MessageParser::new()
        .with_mime_headers()
        .header_text(HeaderName::Subject)
        .default_header_ignore()
});

/// How [`Mail::parse_with`] reads a message's MIME structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reading {
    /// mail-parser parses the whole message.
    Whole,
    /// mail-parser parses the message's [`skeleton_and_fields`] (compared in tests; the walk
    /// gives way to it).
    #[cfg(test)]
    Skeleton,
    /// The skeleton walk alone, where it read every part through; else as `Skeleton`.
    Walk,
}

/// What kind of message/report part a part is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportPart {
    /// message/delivery-status or message/global-delivery-status (RFC 3464, 6533).
    DeliveryStatus,
    /// message/feedback-report (RFC 5965).
    FeedbackReport,
}

/// An email ready for the decoders.
pub struct Mail<'a> {
    /// The whole message, LF line ends.
    pub raw: &'a [u8],
    /// The top-level header fields the decoders read, unfolded.
    pub headers: Headers<'a>,
    /// Decoded Subject.
    pub subject: String,
    /// `type/subtype` of the top level, lowercased (`text/plain` when absent).
    pub content_type: String,
    /// `report-type` parameter of a multipart/report, lowercased.
    pub report_type: Option<String>,
    /// The notice's own text: the text parts outside the returned message, in order,
    /// joined by blank lines (HTML reduced to text when there is no plain text).
    pub body: String,
    /// Bodies of the machine-readable report parts.
    pub reports: Vec<(ReportPart, String)>,
    /// The header block of the returned original (message/rfc822, message/global,
    /// text/rfc822-headers), when the notice has one as a MIME part.
    pub original: Option<String>,
    /// The first attached message whole, when it is itself a delivery notice
    /// (multipart/report or from a mailer daemon): decoded when the outer one is not.
    pub nested: Option<Vec<u8>>,
    /// Length of the notice's own text in `body`: up to where a returned message
    /// starts (see [`super::text::before_original`]).
    pub notice_len: usize,
}

impl<'a> Mail<'a> {
    /// Parses a message; `None` when it has no header at all.
    pub fn parse(raw: &'a [u8]) -> Option<Mail<'a>> {
        Mail::parse_with(raw, Reading::Walk)
    }

    /// [`Mail::parse`] by one [`Reading`] (tests compare them). Each gives way to the
    /// next when it cannot read the message: the walk alone to mail-parser on the
    /// skeleton ([`skeleton_and_fields`]), that to mail-parser on the whole message (a
    /// skeleton mail-parser reads otherwise than the walk that made it, or one whose
    /// left-out HTML turns out to be the only text).
    pub(super) fn parse_with(raw: &'a [u8], reading: Reading) -> Option<Mail<'a>> {
        let (cut, headers) = if reading == Reading::Whole {
            (None, None)
        } else {
            skeleton_and_fields(raw)
        };
        let headers = headers.unwrap_or_else(|| header_block(raw));
        if headers.is_empty() {
            return None;
        }
        if let Some(cut) = cut {
            let headers = match cut.leaves() {
                Some(_) if reading == Reading::Walk => {
                    if let Some(mail) = Mail::from_walk(raw, headers, &cut) {
                        return Some(mail);
                    }
                    header_block(raw)
                }
                _ => headers,
            };
            if let Some(message) = PARSER.parse(&cut.bytes)
                && cut.matches(&message.parts)
                && let Some(mail) = Mail::read(raw, headers, &cut.bytes, &message, Some(&cut))
            {
                return Some(mail);
            }
            return Mail::read(raw, header_block(raw), raw, &PARSER.parse(raw)?, None);
        }
        Mail::read(raw, headers, raw, &PARSER.parse(raw)?, None)
    }

    /// The mail out of mail-parser's reading of `input`: the message, or its
    /// skeleton `cut`. `None` when the skeleton left out an HTML body and the notice
    /// turns out to have no other text.
    fn read(
        raw: &'a [u8],
        headers: Headers<'a>,
        input: &[u8],
        message: &mail_parser::Message<'_>,
        cut: Option<&Skeleton>,
    ) -> Option<Mail<'a>> {
        let subject = message.subject().unwrap_or_default().to_string();
        let (content_type, report_type) = match message.content_type() {
            Some(ct) => (
                format!(
                    "{}/{}",
                    ct.ctype().to_ascii_lowercase(),
                    ct.subtype().unwrap_or("").to_ascii_lowercase()
                ),
                ct.attribute("report-type").map(|s| s.to_ascii_lowercase()),
            ),
            None => ("text/plain".to_string(), None),
        };
        let mut gathered = Gathered::default();
        for (i, part) in message.parts.iter().enumerate() {
            let kind = part_type(part);
            // A body the skeleton read apart: as it stands in the message, or decoded.
            let apart = cut.and_then(|c| c.body_apart(raw, part.offset_body as usize));
            match &part.body {
                PartType::Multipart(_) => {}
                PartType::Message(m) => {
                    if gathered.original.is_none() {
                        let returned =
                            cut.and_then(|c| c.returned_headers(raw, part.offset_body as usize));
                        // A message the skeleton stood in for is no notice: the walk
                        // read its header block so (and the text made of the block
                        // cannot say otherwise).
                        let headers = match returned {
                            Some(block) => header_text(block),
                            None => {
                                let headers = nested_headers(input, part);
                                if is_returned_notice(headers.as_bytes()) {
                                    gathered.nested = Some(nested_bytes(input, part, m));
                                }
                                headers
                            }
                        };
                        gathered.original = Some(headers);
                    }
                }
                PartType::Text(text) => {
                    let text = match apart {
                        Some(bytes) => text_as_parsed(part, bytes),
                        None => Cow::Borrowed(text.as_ref()),
                    };
                    gathered.text(&kind, text, i == 0);
                }
                PartType::Html(text) => gathered.html.push(match apart {
                    Some(bytes) => text_as_parsed(part, bytes),
                    None => Cow::Borrowed(text.as_ref()),
                }),
                PartType::Binary(bytes) | PartType::InlineBinary(bytes) => {
                    gathered.binary(&kind, apart.unwrap_or(bytes));
                }
            }
        }
        gathered.into_mail(
            raw,
            headers,
            subject,
            (content_type, report_type),
            cut.is_some_and(|c| c.html_emptied),
        )
    }

    /// The mail out of the skeleton walk alone, when it read every part through (see
    /// [`Skeleton::leaves`]): each part's body as mail-parser would give it, without
    /// parsing the message again. mail-parser still reads a Subject with encoded words.
    /// `None` when the walk did not, or the reading gives way as [`Mail::read`]'s does.
    fn from_walk(raw: &'a [u8], headers: Headers<'a>, cut: &Skeleton) -> Option<Mail<'a>> {
        let leaves = cut.leaves()?;
        let subject = match cut.subject_field(raw).map(plain_subject) {
            Some(Some(subject)) => subject,
            None => String::new(),
            Some(None) => PARSER
                .parse_headers(&cut.bytes)?
                .subject()
                .unwrap_or_default()
                .to_string(),
        };
        let top = (!cut.content_type.is_empty()).then_some(cut.content_type.as_str());
        let (content_type, report_type) = match top {
            Some(value) => (
                type_of(value),
                param(value, "report-type").map(str::to_ascii_lowercase),
            ),
            None => ("text/plain".to_string(), None),
        };
        let mut gathered = Gathered::default();
        for (i, leaf) in leaves.iter().enumerate() {
            let kind = leaf.kind.as_str();
            if let Some(block) = cut.returned_headers(raw, leaf.at) {
                if gathered.original.is_none() {
                    gathered.original = Some(header_text(block));
                }
                continue;
            }
            // A body left out is empty to mail-parser.
            let bytes = cut.body_apart(raw, leaf.at).unwrap_or_default();
            let charset = || param(&leaf.content_type, "charset");
            let first = i == 0 && !content_type.starts_with("multipart/");
            match mail_parser_kind(kind) {
                PartKind::Text => gathered.text(kind, text_in_charset(charset(), bytes), first),
                PartKind::Html => gathered.html.push(text_in_charset(charset(), bytes)),
                PartKind::Binary => gathered.binary(kind, bytes),
            }
        }
        gathered.into_mail(
            raw,
            headers,
            subject,
            (content_type, report_type),
            cut.html_emptied,
        )
    }

    /// The first top-level header of this name, unfolded.
    pub fn header(&self, name: Header) -> Option<&str> {
        self.headers.values[name as usize].as_deref()
    }

    /// The notice's own text, before the returned message.
    pub fn notice(&self) -> &str {
        self.body.get(..self.notice_len).unwrap_or(&self.body)
    }

    /// The header block of a message returned inline in the body (see
    /// [`super::text::inline_original`]), looked for after the notice's own text.
    pub fn inline_original(&self) -> Option<&str> {
        super::text::inline_original(&self.body, self.notice_len)
    }

    /// The address in the From header, lowercased.
    pub fn from_address(&self) -> String {
        self.header(Header::From)
            .and_then(first_address)
            .unwrap_or_default()
            .to_ascii_lowercase()
    }

    /// From header text, lowercased (display name and address).
    pub fn from_lower(&self) -> String {
        self.header(Header::From).unwrap_or("").to_ascii_lowercase()
    }

    /// The Date header as a timestamp.
    pub fn date(&self) -> Option<Timestamp> {
        self.header(Header::Date).and_then(parse_date)
    }

    /// The delivery-status parts.
    pub fn delivery_status(&self) -> impl Iterator<Item = &str> {
        self.reports
            .iter()
            .filter(|(k, _)| *k == ReportPart::DeliveryStatus)
            .map(|(_, t)| t.as_str())
    }
}

/// The parts of a notice as [`Mail`] keeps them, gathered part by part in order.
#[derive(Default)]
struct Gathered<'t> {
    texts: Vec<Cow<'t, str>>,
    html: Vec<Cow<'t, str>>,
    reports: Vec<(ReportPart, String)>,
    original: Option<String>,
    nested: Option<Vec<u8>>,
}

impl<'t> Gathered<'t> {
    /// A part mail-parser reads as text (not HTML); `first`: the top-level part.
    fn text(&mut self, kind: &str, text: Cow<'t, str>, first: bool) {
        match kind {
            "message/delivery-status" | "message/global-delivery-status" => self
                .reports
                .push((ReportPart::DeliveryStatus, text.into_owned())),
            "message/feedback-report" => self
                .reports
                .push((ReportPart::FeedbackReport, text.into_owned())),
            // text/rfc822-headers, or a message/rfc822 part mail-parser could not
            // parse as a message.
            "text/rfc822-headers"
            | "text/rfc822-header"
            | "message/rfc822"
            | "message/global"
            | "message/partial"
                if self.original.is_none() =>
            {
                self.original = Some(text.into_owned());
            }
            _ if first || kind.starts_with("text/") || kind.is_empty() => self.texts.push(text),
            _ => {}
        }
    }

    /// A part mail-parser reads as bytes.
    fn binary(&mut self, kind: &str, bytes: &[u8]) {
        match kind {
            "message/delivery-status" | "message/global-delivery-status" => self
                .reports
                .push((ReportPart::DeliveryStatus, lossy(bytes).into_owned())),
            "message/feedback-report" => self
                .reports
                .push((ReportPart::FeedbackReport, lossy(bytes).into_owned())),
            "message/rfc822" | "message/global" | "text/rfc822-headers"
                if self.original.is_none() =>
            {
                self.original = Some(lossy(bytes).into_owned());
            }
            _ => {}
        }
    }

    /// The mail: the notice's text out of its text parts (or its HTML when it has
    /// none). `None` when an HTML body was left out (`html_emptied`) and there is no
    /// other text.
    fn into_mail<'a>(
        self,
        raw: &'a [u8],
        headers: Headers<'a>,
        subject: String,
        (content_type, report_type): (String, Option<String>),
        html_emptied: bool,
    ) -> Option<Mail<'a>> {
        let Gathered {
            texts,
            html,
            mut reports,
            original,
            nested,
        } = self;
        if html_emptied && texts.is_empty() {
            return None;
        }
        let mut body = String::with_capacity(texts.iter().map(|t| t.len() + 1).sum());
        if texts.is_empty() {
            for h in &html {
                body.push_str(&html_to_text(h));
                body.push('\n');
            }
        } else {
            for t in &texts {
                if !body.is_empty() {
                    body.push('\n');
                }
                body.push_str(t);
            }
        }
        // CRs looked for by memchr: `str::contains` on a char walks the text a word at
        // a time, and every body and report is looked at.
        let has_cr = |text: &str| memchr::memchr(b'\r', text.as_bytes()).is_some();
        if has_cr(&body) {
            body = body.replace("\r\n", "\n").replace('\r', "\n");
        }
        for (_, r) in &mut reports {
            if has_cr(r) {
                *r = r.replace("\r\n", "\n").replace('\r', "\n");
            }
        }
        let notice_len = super::text::before_original(&body).len();
        Some(Mail {
            raw,
            headers,
            subject,
            content_type,
            report_type,
            body,
            reports,
            original,
            nested,
            notice_len,
        })
    }
}

/// How mail-parser reads the body of a part of this `type/subtype` when it is not a
/// multipart or a message of its own (a part without a type is text/plain).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PartKind {
    Text,
    Html,
    Binary,
}

fn mail_parser_kind(kind: &str) -> PartKind {
    match kind.split_once('/') {
        Some(("text", "html")) => PartKind::Html,
        Some(("text", _)) => PartKind::Text,
        None if kind.is_empty() => PartKind::Text,
        _ => PartKind::Binary,
    }
}

/// The first parameter of this name in a plainly written Content-Type value (see
/// [`super::skeleton::is_plain_content_type`]), as mail-parser's `attribute` gives it.
fn param<'v>(content_type: &'v str, name: &str) -> Option<&'v str> {
    params(content_type)
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

/// The Subject as mail-parser reads an unstructured field without encoded words:
/// each line's text without the spaces, tabs and CRs around it, the non-empty ones
/// joined by a space. `None` when the field has an encoded word (mail-parser decodes
/// it). `field`: the whole field, name and folds included.
fn plain_subject(field: &[u8]) -> Option<String> {
    let value = &field[memchr::memchr(b':', field)? + 1..];
    if has_encoded_word(value) {
        return None;
    }
    let mut subject = String::new();
    for line in value.split(|&b| b == b'\n') {
        let skipped = |b: &u8| matches!(b, b' ' | b'\t' | b'\r');
        let Some(first) = line.iter().position(|b| !skipped(b)) else {
            continue;
        };
        let last = line.iter().rposition(|b| !skipped(b)).unwrap_or(first);
        if !subject.is_empty() {
            subject.push(' ');
        }
        subject.push_str(&String::from_utf8_lossy(&line[first..=last]));
    }
    Some(subject)
}

/// Whether a header value holds `=?`, where an encoded word starts: found at its `=`s
/// (rare in a header) by memchr, without building a searcher for two bytes.
fn has_encoded_word(value: &[u8]) -> bool {
    memchr::memchr_iter(b'=', value).any(|at| value.get(at + 1) == Some(&b'?'))
}

/// `String::from_utf8_lossy`, with valid UTF-8 (nearly every part) checked by
/// `str::from_utf8`, whose ASCII fast path is many times quicker than the lossy
/// decoder's byte-by-byte walk.
pub(super) fn lossy(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// A text part's body, as mail-parser converts the bytes of a part without a
/// transfer encoding: by the decoder of its charset, or as UTF-8.
pub(super) fn text_as_parsed<'b>(part: &MessagePart<'_>, bytes: &'b [u8]) -> Cow<'b, str> {
    text_in_charset(
        part.content_type().and_then(|ct| ct.attribute("charset")),
        bytes,
    )
}

/// A text body in this charset as mail-parser converts it: by the charset's decoder,
/// or as UTF-8 when it has none.
fn text_in_charset<'b>(charset: Option<&str>, bytes: &'b [u8]) -> Cow<'b, str> {
    let decoder = charset.and_then(|charset| charset_decoder(charset.as_bytes()));
    match decoder {
        // Most bodies are ASCII; these decoders map each ASCII byte to itself, one
        // char push at a time.
        Some(_) if charset.is_some_and(keeps_ascii) && bytes.is_ascii() => lossy(bytes),
        // Decoded as UTF-8 by the lossy decoder's byte-by-byte walk, and copied.
        Some(_) if charset.is_some_and(|c| is_one_of(c, &LOSSY_UTF8_CHARSETS)) => lossy(bytes),
        Some(decode) => Cow::Owned(decode(bytes)),
        None => lossy(bytes),
    }
}

/// Charsets (as mail-parser normalizes their names: lowercase, `_` for `-`) whose
/// decoder in mail-parser maps ASCII to itself (tested).
pub(super) const ASCII_KEEPING_CHARSETS: [&str; 8] = [
    "us_ascii",
    "ascii",
    "iso_8859_1",
    "iso_8859_15",
    "latin1",
    "windows_1252",
    "cp1252",
    "iso_8859_2",
];

/// Charsets (named as in [`ASCII_KEEPING_CHARSETS`]) that mail-parser, built without
/// its `full_encoding` feature, decodes by `String::from_utf8_lossy` (tested):
/// ISO-2022-JP is common in Japanese notices.
pub(super) const LOSSY_UTF8_CHARSETS: [&str; 6] = [
    "iso_2022_jp",
    "shift_jis",
    "euc_jp",
    "gbk",
    "big5",
    "euc_kr",
];

fn keeps_ascii(charset: &str) -> bool {
    is_one_of(charset, &ASCII_KEEPING_CHARSETS)
}

/// Whether a charset is one of these names, as mail-parser normalizes it.
fn is_one_of(charset: &str, names: &[&str]) -> bool {
    let normalized = |b: u8| match b {
        b'-' => b'_',
        b => b.to_ascii_lowercase(),
    };
    names.iter().any(|name| {
        name.len() == charset.len()
            && name
                .bytes()
                .zip(charset.bytes())
                .all(|(n, c)| n == normalized(c))
    })
}

/// `type/subtype` of a part, lowercased; empty without a Content-Type.
pub(super) fn part_type(part: &MessagePart<'_>) -> String {
    match part.content_type() {
        Some(ct) => {
            // One allocation, lowercased in place: this runs on every part.
            let (ctype, subtype) = (ct.ctype(), ct.subtype().unwrap_or(""));
            let mut s = String::with_capacity(ctype.len() + 1 + subtype.len());
            s.push_str(ctype);
            s.push('/');
            s.push_str(subtype);
            s.make_ascii_lowercase();
            s
        }
        None => String::new(),
    }
}

/// Whether a returned message (its header block, or the start of a message pasted
/// into a notice) is a delivery notice itself: a multipart/report, or mail from a
/// mailer daemon. It is then decoded when the notice around it is not.
pub(super) fn is_returned_notice(head: &[u8]) -> bool {
    // Built once: this runs on every returned message.
    static MARKS: LazyLock<[Finder<'static>; 2]> = LazyLock::new(|| {
        [
            Finder::new("multipart/report"),
            Finder::new("mailer-daemon"),
        ]
    });
    let lower = head.to_ascii_lowercase();
    MARKS.iter().any(|mark| mark.find(&lower).is_some())
}

/// Where the first blank line (`\n\n`) starts in `bytes`, by a searcher built once:
/// every message, part and returned message has its header block ended so.
pub(super) fn find_blank_line(bytes: &[u8]) -> Option<usize> {
    static BLANK_LINE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("\n\n"));
    BLANK_LINE.find(bytes)
}

/// The header block of a nested message part, from the bytes mail-parser read (`raw`)
/// when it was not transfer-encoded, else from the decoded nested message.
fn nested_headers(raw: &[u8], part: &MessagePart<'_>) -> String {
    if let PartType::Message(m) = &part.body
        && part.encoding != mail_parser::Encoding::None
    {
        let bytes = m.raw_message.as_ref();
        return header_text(bytes);
    }
    let start = part.offset_body as usize;
    header_text(raw.get(start..).unwrap_or_default())
}

/// The whole nested message of a message/rfc822 part, out of the bytes mail-parser
/// read (`raw`).
fn nested_bytes(raw: &[u8], part: &MessagePart<'_>, m: &mail_parser::Message<'_>) -> Vec<u8> {
    if part.encoding != mail_parser::Encoding::None {
        return m.raw_message.to_vec();
    }
    let start = part.offset_body as usize;
    let end = (part.offset_end as usize).max(start).min(raw.len());
    raw.get(start..end).unwrap_or_default().to_vec()
}

/// The bytes up to the first blank line, as text.
fn header_text(bytes: &[u8]) -> String {
    let end = find_blank_line(bytes).map_or(bytes.len(), |p| p + 1);
    lossy(&bytes[..end]).into_owned()
}

/// The top-level header fields [`Mail::header`] reads. The first of each counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Header {
    AutoSubmitted,
    Date,
    From,
    MessageId,
    Precedence,
    ReturnPath,
    To,
    XAutoreply,
    XAutorespond,
    XFailedRecipients,
    XMailer,
}

/// The names of [`Header`], in its order.
static HEADER_NAMES: FieldNames<11> = FieldNames::new([
    "auto-submitted",
    "date",
    "from",
    "message-id",
    "precedence",
    "return-path",
    "to",
    "x-autoreply",
    "x-autorespond",
    "x-failed-recipients",
    "x-mailer",
]);

/// The top-level fields named by [`Header`], unfolded. Only these are kept: most of a
/// header block is Received, DKIM and ARC fields that nobody reads, whose folds
/// were copied together for nothing.
#[derive(Debug, Default, PartialEq)]
pub struct Headers<'a> {
    values: [Option<Cow<'a, str>>; 11],
    /// Whether the block has a field at all, read or not.
    any: bool,
}

impl Headers<'_> {
    pub fn is_empty(&self) -> bool {
        !self.any
    }

    fn into_owned(self) -> Headers<'static> {
        Headers {
            values: self.values.map(|v| v.map(|v| Cow::Owned(v.into_owned()))),
            any: self.any,
        }
    }
}

/// Lowercase field names, found at the start of a header line ignoring case. A line
/// is compared with the names that start with its first byte, each after a look at
/// the byte where its colon would stand, without finding where the line's own field
/// name ends.
struct FieldNames<const N: usize> {
    names: [&'static str; N],
    /// Bit `i` of entry `b & 31`: `names[i]` starts with `b` (in either case).
    by_first: [u32; 32],
}

impl<const N: usize> FieldNames<N> {
    const fn new(names: [&'static str; N]) -> Self {
        let mut by_first = [0u32; 32];
        let mut i = 0;
        while i < N {
            // Lowercase: a line's name is compared lowercased.
            let mut b = 0;
            while b < names[i].len() {
                assert!(!names[i].as_bytes()[b].is_ascii_uppercase());
                b += 1;
            }
            by_first[(names[i].as_bytes()[0] & 31) as usize] |= 1 << i;
            i += 1;
        }
        FieldNames { names, by_first }
    }

    /// The index of the name of a header line's field (up to its first colon),
    /// ignoring ASCII case, and the value after the colon, untrimmed.
    fn field<'l>(&self, line: &'l str) -> Option<(usize, &'l str)> {
        let bytes = line.as_bytes();
        let mut candidates = self.by_first[usize::from(*bytes.first()? & 31)];
        while candidates != 0 {
            let i = candidates.trailing_zeros() as usize;
            let name = self.names[i].as_bytes();
            // No name has a colon: the line's name is this one when its colon follows.
            if bytes.get(name.len()) == Some(&b':')
                && bytes[..name.len()]
                    .iter()
                    .zip(name)
                    .all(|(b, n)| b.to_ascii_lowercase() == *n)
            {
                return Some((i, &line[name.len() + 1..]));
            }
            candidates &= candidates - 1;
        }
        None
    }
}

/// Top-level header fields of a raw message, unfolded, up to the first blank line.
/// Borrowed from the message unless folded or not UTF-8.
pub fn header_block(raw: &[u8]) -> Headers<'_> {
    let block = top_block(raw);
    match std::str::from_utf8(block) {
        Ok(text) => fields_of(text),
        Err(_) => fields_of(&String::from_utf8_lossy(block)).into_owned(),
    }
}

/// The bytes [`header_block`] reads: up to and including the line feed before the
/// first blank line (`\n\n`), or the whole message without one.
pub(super) fn top_block(raw: &[u8]) -> &[u8] {
    let end = if raw.starts_with(b"\n") {
        0
    } else {
        find_blank_line(raw).map_or(raw.len(), |p| p + 1)
    };
    &raw[..end]
}

/// The fields of a header block that [`Headers`] keeps, unfolded.
fn fields_of(text: &str) -> Headers<'_> {
    let mut fields = FieldsReader::default();
    for line in super::text::split_lf(text) {
        if line.is_empty() {
            break;
        }
        fields.line(line);
    }
    fields.headers
}

/// Reads the lines of a header block into the [`Headers`] it keeps: [`fields_of`],
/// and the skeleton walk on the lines it splits anyway (`skeleton::TopFields`).
#[derive(Default)]
pub(super) struct FieldsReader<'a> {
    pub headers: Headers<'a>,
    /// The slot of the last field line when it is kept, for its folds.
    folding_into: Option<usize>,
}

impl<'a> FieldsReader<'a> {
    /// One line of the block, without its line feed; not empty (a blank line ends
    /// the block).
    pub fn line(&mut self, line: &'a str) {
        let headers = &mut self.headers;
        if line.starts_with([' ', '\t']) {
            if let Some(slot) = self.folding_into
                && let Some(value) = &mut headers.values[slot]
            {
                push_folded(value, super::text::trim(line));
            }
            return;
        }
        // Whether the line is a field at all matters to the first field (a block
        // without one is no mail) and after a kept field (a line that is no field, an
        // mbox `From ` line or a stray line, passes its folds on). Elsewhere neither
        // such a line nor a field not kept leaves anything to fold into.
        if !headers.any || self.folding_into.is_some() {
            if field_name_len(line.as_bytes()).is_none() {
                return;
            }
            headers.any = true;
        }
        self.folding_into = match HEADER_NAMES.field(line) {
            Some((slot, value)) if headers.values[slot].is_none() => {
                headers.values[slot] = Some(Cow::Borrowed(super::text::trim(value)));
                Some(slot)
            }
            _ => None,
        };
    }
}

/// Where the colon ending a line's field name stands, when the name before it is
/// non-empty printable ASCII. One walk over the name, stopping at its first byte
/// that is a colon or not printable: a memchr for the colon costs more than the
/// short names of a header block.
fn field_name_len(line: &[u8]) -> Option<usize> {
    let end = line
        .iter()
        .position(|&b| b == b':' || !(33..=126).contains(&b))?;
    (end > 0 && line[end] == b':').then_some(end)
}

/// `line.split_once(':')` by memchr (the standard library's char search is slower on
/// the short lines of a header block).
pub fn split_at_colon(line: &str) -> Option<(&str, &str)> {
    let colon = memchr::memchr(b':', line.as_bytes())?;
    Some((&line[..colon], &line[colon + 1..]))
}

/// Appends a folded line to a field's value, space-separated. A value still borrowed
/// is copied with room for a few more folds: Received and DKIM fields have several.
fn push_folded(value: &mut Cow<'_, str>, continuation: &str) {
    let added = 1 + continuation.len();
    if let Cow::Borrowed(first) = value {
        let mut owned = String::with_capacity(2 * (first.len() + added));
        owned.push_str(first);
        *value = Cow::Owned(owned);
    }
    let v = value.to_mut();
    v.push(' ');
    v.push_str(continuation);
}

/// The first e-mail address in a header value (`Name <a@b>`, `a@b`, `<a@b>`).
pub fn first_address(value: &str) -> Option<&str> {
    // Byte searches by memchr: this runs on every From, To and Return-Path.
    if let Some(start) = memchr::memchr(b'<', value.as_bytes()) {
        let rest = &value[start + 1..];
        if let Some(end) = memchr::memchr(b'>', rest.as_bytes()) {
            let addr = super::text::trim(&rest[..end]);
            if memchr::memchr(b'@', addr.as_bytes()).is_some() {
                return Some(addr);
            }
        }
    }
    if value.is_ascii() {
        return ascii_tokens(value).map(bare).find(|t| is_address(t));
    }
    value
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '"' | '(' | ')'))
        .map(bare)
        .find(|t| is_address(t))
}

/// A token without the `<>':` around it.
fn bare(t: &str) -> &str {
    super::text::trim_ascii_matching(t, |b| matches!(b, b'<' | b'>' | b'\'' | b':'))
}

/// The tokens of an ASCII header value between whitespace and `,;"()`, as the char
/// split of [`first_address`] gives them, split by bytes: most values are ASCII,
/// and the char split decodes every char to test it.
fn ascii_tokens(value: &str) -> impl Iterator<Item = &str> {
    let is_separator =
        |b: &u8| matches!(b, b'\t'..=b'\r' | b' ' | b',' | b';' | b'"' | b'(' | b')');
    let mut rest = Some(value);
    std::iter::from_fn(move || {
        let text = rest?;
        match text.as_bytes().iter().position(is_separator) {
            Some(at) => {
                rest = Some(&text[at + 1..]);
                Some(&text[..at])
            }
            None => rest.take(),
        }
    })
}

/// A plausible e-mail address: local@domain, the domain with a dot or a bracketed IP.
pub fn is_address(s: &str) -> bool {
    let s = s.as_bytes();
    // Split at the last `@`, found by memrchr (as `rsplit_once('@')`, quicker).
    let Some(at) = memchr::memrchr(b'@', s) else {
        return false;
    };
    let (local, domain) = (&s[..at], &s[at + 1..]);
    if local.is_empty() || domain.len() < 3 {
        return false;
    }
    let domain_ok = match domain.strip_prefix(b"[") {
        Some(ip) => ip.ends_with(b"]"),
        None => is_domain_name(domain),
    };
    // A quoted local part ("a..b"@example.org) may hold anything but a quote.
    if local.len() > 2 && local.starts_with(b"\"") && local.ends_with(b"\"") {
        return domain_ok && !local[1..local.len() - 1].contains(&b'"');
    }
    domain_ok && local.iter().all(|&b| LOCAL_PART_BYTES[usize::from(b)])
}

/// A domain of [`is_address`]: [`DOMAIN_BYTES`] only, a dot among them, neither a
/// dot nor a hyphen first nor a dot last. One walk over the bytes, by table.
fn is_domain_name(domain: &[u8]) -> bool {
    let mut dot = false;
    let allowed = domain.iter().all(|&b| {
        dot |= b == b'.';
        DOMAIN_BYTES[usize::from(b)]
    });
    allowed && dot && !matches!(domain.first(), Some(b'.' | b'-')) && domain.last() != Some(&b'.')
}

/// The bytes of a domain name: ASCII letters and digits, `.-_`, and the bytes of
/// non-ASCII chars.
static DOMAIN_BYTES: [bool; 256] = {
    let mut set = [false; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        set[b] = byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b'_') || byte >= 0x80;
        b += 1;
    }
    set
};

/// The bytes of an unquoted local part: anything but controls, space, DEL and the
/// specials that end an address in a header (`<>(),;:"[]\`).
static LOCAL_PART_BYTES: [bool; 256] = {
    let mut set = [false; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        set[b] = byte > b' '
            && byte != 0x7f
            && !matches!(
                byte,
                b'<' | b'>' | b'(' | b')' | b',' | b';' | b':' | b'"' | b'[' | b']' | b'\\'
            );
        b += 1;
    }
    set
};

/// An RFC 5322 date (as in Date, Arrival-Date, Last-Attempt-Date).
pub fn parse_date(value: &str) -> Option<Timestamp> {
    let value = value.trim();
    let dt =
        common_date(value.as_bytes()).or_else(|| mail_parser::DateTime::parse_rfc822(value))?;
    if !dt.is_valid() {
        return None;
    }
    Some(Timestamp(dt.to_timestamp().checked_mul(1_000_000)?))
}

/// A date in the form nearly every MTA writes, `Mon, 2 Jan 2006 15:04:05 -0700`
/// (the weekday and a closing `(comment)` optional), read as mail-parser reads it,
/// without its byte-by-byte state machine; `None` for any other form, which is left
/// to mail-parser.
fn common_date(s: &[u8]) -> Option<mail_parser::DateTime> {
    let s = match s {
        [a, b, c, b',', b' ', rest @ ..] if [a, b, c].iter().all(|l| l.is_ascii_alphabetic()) => {
            rest
        }
        _ => s,
    };
    let day_len = if s.get(1).is_some_and(u8::is_ascii_digit) {
        2
    } else {
        1
    };
    let (day, s) = digits(s, day_len)?;
    let month = month_number(s.strip_prefix(b" ")?.get(..3)?)?;
    let (year, s) = digits(s.get(4..)?.strip_prefix(b" ")?, 4)?;
    let (hour, s) = digits(s.strip_prefix(b" ")?, 2)?;
    let (minute, s) = digits(s.strip_prefix(b":")?, 2)?;
    let (second, s) = digits(s.strip_prefix(b":")?, 2)?;
    let (sign, s) = s.strip_prefix(b" ")?.split_first()?;
    let (zone, s) = digits(s, 4)?;
    if !(matches!(sign, b'+' | b'-') && (s.is_empty() || is_closing_comment(s))) {
        return None;
    }
    Some(mail_parser::DateTime {
        // Two-digit years as mail-parser takes them.
        year: match year {
            0..=49 => year + 2000,
            50..=99 => year + 1900,
            _ => year,
        } as u16,
        month,
        day: day as u8,
        hour: hour as u8,
        minute: minute as u8,
        second: second as u8,
        tz_hour: ((zone / 100) % 24) as u8,
        tz_minute: ((zone % 100) % 60) as u8,
        tz_before_gmt: *sign == b'-',
    })
}

/// The number written by exactly `len` ASCII digits at the start of `s`, and the rest.
fn digits(s: &[u8], len: usize) -> Option<(u32, &[u8])> {
    let (number, rest) = s.split_at_checked(len)?;
    let value = number.iter().try_fold(0, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
    })?;
    Some((value, rest))
}

/// 1 to 12 for an English month abbreviation, in any case.
fn month_number(name: &[u8]) -> Option<u8> {
    const MONTHS: [&[u8; 3]; 12] = [
        b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov",
        b"dec",
    ];
    let at = MONTHS.iter().position(|m| name.eq_ignore_ascii_case(*m))?;
    Some(at as u8 + 1)
}

/// ` (UTC)`: a comment mail-parser skips whole, with nothing after it (no nested
/// comment or escape, which it reads otherwise).
fn is_closing_comment(s: &[u8]) -> bool {
    s.strip_prefix(b" (")
        .and_then(|s| s.strip_suffix(b")"))
        .is_some_and(|inner| {
            !inner
                .iter()
                .any(|b| matches!(b, b'(' | b')' | b'\\' | b'\n'))
        })
}

/// A crude HTML to text: tags dropped (block tags become line ends), the common
/// entities decoded.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(lt) = memchr::memchr(b'<', rest.as_bytes()) {
        out.push_str(&rest[..lt]);
        let after = &rest[lt + 1..];
        let Some(gt) = memchr::memchr(b'>', after.as_bytes()) else {
            rest = "";
            break;
        };
        let name = tag_name(&after[..gt]);
        let is_one_of = |names: &[&str]| names.iter().any(|n| name.eq_ignore_ascii_case(n));
        if is_one_of(&["br", "p", "div", "tr", "li", "h1", "h2", "h3", "table"]) {
            out.push('\n');
        } else if is_one_of(&["td", "th"]) {
            out.push(' ');
        }
        // An element's end tag carries its name too: only a start tag opens content
        // to skip.
        if !after.starts_with('/') && is_one_of(&["style", "script"]) {
            // Skip the element's content.
            let content = &after[gt + 1..];
            rest = match closing_tag(content, name) {
                Some(p) => &content[p..],
                None => "",
            };
            continue;
        }
        rest = &after[gt + 1..];
    }
    out.push_str(rest);
    decode_entities(out)
}

/// The common HTML entities, decoded. Each starts with the only `&` it holds, and no
/// text it decodes to holds one: the entities of a text never overlap, and one pass
/// from `&` to `&` decodes what a `replace` per entity (`&amp;` last) would.
fn decode_entities(text: String) -> String {
    const ENTITIES: [(&str, &str); 6] = [
        ("&nbsp;", " "),
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&quot;", "\""),
        ("&#39;", "'"),
        ("&amp;", "&"),
    ];
    let Some(first) = memchr::memchr(b'&', text.as_bytes()) else {
        return text;
    };
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..first]);
    let mut rest = &text[first..];
    while let Some(amp) = memchr::memchr(b'&', rest.as_bytes()) {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        match ENTITIES.iter().find(|(entity, _)| rest.starts_with(entity)) {
            Some((entity, decoded)) => {
                out.push_str(decoded);
                rest = &rest[entity.len()..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The name of a tag (the text between `<` and `>`): its leading ASCII letters and
/// digits after any `/`. Compared ignoring case rather than lowercased: the tag's
/// attributes may be long.
fn tag_name(tag: &str) -> &str {
    let tag = tag.trim_start_matches('/');
    let end = tag
        .bytes()
        .position(|b| !b.is_ascii_alphanumeric())
        .unwrap_or(tag.len());
    &tag[..end]
}

/// Where `</name` first stands in `html`, ignoring ASCII case (without a lowercased
/// copy of the rest of the document for every style or script element).
fn closing_tag(html: &str, name: &str) -> Option<usize> {
    let b = html.as_bytes();
    memchr::memchr_iter(b'<', b).find(|&i| {
        b.get(i + 1) == Some(&b'/')
            && b.get(i + 2..i + 2 + name.len())
                .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()))
    })
}

/// The returned original message's identity, recovered from its headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Original {
    pub message_id: Option<String>,
    /// Address in From, lowercased.
    pub from: Option<String>,
    /// Address in To (the first), lowercased.
    pub to: Option<String>,
    pub subject: Option<String>,
    /// A campaign identifier header (X-Campaign-ID, X-Campaign, X-Mailgun-Campaign-Id,
    /// X-MC-Campaign, ...), else List-Id.
    pub campaign: Option<String>,
    pub list_id: Option<String>,
    /// Address in Return-Path.
    pub return_path: Option<String>,
}

/// The headers [`Original`] reads, as indexes into the values found: the first
/// occurrence of each counts.
const MESSAGE_ID: usize = 0;
const FROM: usize = 1;
const TO: usize = 2;
const SUBJECT: usize = 3;
const LIST_ID: usize = 4;
const RETURN_PATH: usize = 5;
/// The headers that name a campaign, in order of preference, from here on.
const CAMPAIGN: usize = 6;
const WANTED_SLOTS: usize = CAMPAIGN + 9;

/// The names of the fields [`Original`] reads, in the order of their slots.
static WANTED_NAMES: FieldNames<WANTED_SLOTS> = FieldNames::new([
    "message-id",
    "from",
    "to",
    "subject",
    "list-id",
    "return-path",
    "x-campaign-id",
    "x-campaignid",
    "x-campaign",
    "x-mailgun-campaign-id",
    "x-mc-campaign",
    "x-ses-campaign",
    "x-mailer-campaign",
    "x-newsletter-id",
    "x-job",
]);

impl Original {
    /// Reads the identity out of a header block.
    pub fn from_headers(text: &str) -> Original {
        let mut values: [Option<Cow<'_, str>>; WANTED_SLOTS] = [const { None }; WANTED_SLOTS];
        let mut found_any = false;
        // The slot of the field the line before began, for its folded lines.
        let mut folding_into: Option<usize> = None;
        for line in super::text::split_lf(text) {
            let line = line.strip_suffix('\r').unwrap_or(line);
            // Bytes tested, not chars: a char pattern decodes the first char of
            // every line.
            let Some(&first) = line.as_bytes().first() else {
                if !found_any {
                    continue;
                }
                break;
            };
            if matches!(first, b' ' | b'\t') {
                if let Some(slot) = folding_into
                    && let Some(value) = &mut values[slot]
                {
                    let value = value.to_mut();
                    value.push(' ');
                    value.push_str(super::text::trim(line));
                }
                continue;
            }
            folding_into = None;
            let Some((slot, value)) = WANTED_NAMES.field(line) else {
                continue;
            };
            found_any = true;
            if values[slot].is_none() {
                values[slot] = Some(Cow::Borrowed(super::text::trim(value)));
                folding_into = Some(slot);
            }
        }
        let get = |slot: usize| values[slot].as_deref();
        let message_id = get(MESSAGE_ID)
            .map(|v| {
                v.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string()
            })
            .filter(|v| !v.is_empty());
        let address = |slot: usize| {
            get(slot)
                .and_then(first_address)
                .map(|a| a.to_ascii_lowercase())
        };
        let subject = get(SUBJECT).map(decode_words).filter(|s| !s.is_empty());
        let list_id = get(LIST_ID)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty());
        let campaign = (CAMPAIGN..WANTED_SLOTS)
            .find_map(get)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .or_else(|| list_id.clone());
        Original {
            message_id,
            from: address(FROM),
            to: address(TO),
            subject,
            campaign,
            list_id,
            return_path: address(RETURN_PATH),
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == Original::default()
    }
}

/// Decodes RFC 2047 encoded words in a header value.
pub fn decode_words(value: &str) -> String {
    if !has_encoded_word(value.as_bytes()) {
        return value.to_string();
    }
    let raw = format!("Subject: {value}\n\n");
    PARSER
        .parse_headers(raw.as_bytes())
        .and_then(|m| m.subject().map(str::to_string))
        .unwrap_or_else(|| value.to_string())
}

/// Whether a header value is one of these words, ignoring case (`Auto-Submitted:
/// auto-replied`).
pub fn header_is(value: Option<&str>, words: &[&str]) -> bool {
    value.is_some_and(|v| {
        let v = v.trim();
        words.iter().any(|w| {
            v.len() >= w.len() && v.as_bytes()[..w.len()].eq_ignore_ascii_case(w.as_bytes())
        })
    })
}

impl std::fmt::Debug for Mail<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mail")
            .field("subject", &self.subject)
            .field("content_type", &self.content_type)
            .field("report_type", &self.report_type)
            .field("reports", &self.reports.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Subject without encoded words reads as mail-parser reads it.
    #[test]
    fn plain_subjects_read_as_mail_parser_reads_them() {
        let fields = [
            "Subject: a b\n",
            "Subject:   a  b  \n",
            "Subject:\n x\n\ty\n",
            "Subject: a\n \n b\n",
            "Subject:\n",
            "SUBJECT: caf\u{e9} = ? x\n",
            "Subject: a\r\n",
        ];
        for field in fields {
            let raw = format!("{field}\nbody");
            let parsed = PARSER.parse(raw.as_bytes()).expect("parsed");
            let theirs = parsed.subject().unwrap_or_default();
            assert_eq!(
                plain_subject(field.as_bytes()).as_deref(),
                Some(theirs),
                "{field:?}"
            );
        }
        assert_eq!(plain_subject(b"Subject: =?UTF-8?B?w6k=?=\n"), None);
        // A byte that is not UTF-8 (Latin-1), replaced as mail-parser replaces it.
        let parsed = PARSER
            .parse(b"Subject: caf\xe9  x\n\nbody")
            .expect("parsed");
        assert_eq!(
            plain_subject(b"Subject: caf\xe9  x\n").as_deref(),
            parsed.subject()
        );
    }

    /// The memchr cut of [`param`] finds what the first of [`params`] by name gives.
    #[test]
    fn param_reads_as_the_first_of_params() {
        use super::super::skeleton::params;
        let values = [
            "text/plain",
            "text/plain; charset=utf-8",
            "text/plain;charset=\"ISO-8859-1\"",
            "text/plain ; CHARSET = \"x\" ; charset=y",
            "text/plain; name=\"a;charset=b\"; charset=c",
            "text/plain; charset; charset==d",
            "text/plain;;=;charset=\t e \t;",
            "text/plain; charset=\"",
            "text/plain; charset=\"\"",
            "text/plain; x-charset=a; charset",
            "multipart/report; report-type=delivery-status;\tboundary=\"=_b\"",
            "text/plain; caf\u{e9}=\u{e9}; charset=\u{e9}t\u{e9}",
            ";charset=a",
            "charset=a",
            "",
        ];
        for value in values {
            for name in ["charset", "report-type", "boundary", "x", ""] {
                let first = params(value).find(|(n, _)| n.eq_ignore_ascii_case(name));
                assert_eq!(
                    param(value, name),
                    first.map(|(_, v)| v),
                    "{value:?} {name}"
                );
            }
        }
    }

    /// The charsets read as UTF-8 directly are those mail-parser decodes so: not
    /// UTF-8, escapes and the bytes of other charsets come out as the lossy decoder
    /// makes them.
    #[test]
    fn lossy_utf8_charsets_decode_as_lossy_utf8() {
        let texts: [&[u8]; 5] = [
            b"plain ascii",
            b"\x1b$B$3$s$K$A$O\x1b(B",
            b"\x82\xb1\x82\xf1 \xa4\xb3 \xb0\xa1",
            "caf\u{e9} \u{65e5}\u{672c}".as_bytes(),
            b"\xff\xfe\x80",
        ];
        for name in LOSSY_UTF8_CHARSETS {
            let decode = charset_decoder(name.as_bytes()).expect("a decoder");
            for text in texts {
                assert_eq!(
                    decode(text),
                    String::from_utf8_lossy(text),
                    "{name} {text:?}"
                );
                let upper = name.to_ascii_uppercase().replace('_', "-");
                assert_eq!(text_in_charset(Some(&upper), text), decode(text), "{name}");
            }
        }
    }

    #[test]
    fn encoded_words_start_at_equals_question_mark() {
        for (value, has) in [
            ("", false),
            ("=", false),
            ("a = ? b", false),
            ("x=?", true),
            ("==?utf-8?q?a?=", true),
            ("a=b=", false),
        ] {
            assert_eq!(has_encoded_word(value.as_bytes()), has, "{value:?}");
            assert_eq!(value.contains("=?"), has, "{value:?}");
        }
    }

    /// mail-parser's reading of a date, as `parse_date` took it before
    /// [`common_date`].
    fn mail_parser_date(value: &str) -> Option<Timestamp> {
        let dt = mail_parser::DateTime::parse_rfc822(value.trim())?;
        if !dt.is_valid() {
            return None;
        }
        Some(Timestamp(dt.to_timestamp().checked_mul(1_000_000)?))
    }

    #[test]
    fn common_dates_are_read_as_mail_parser_reads_them() {
        let mut dates = Vec::new();
        for month in [
            "Jan", "feb", "MAR", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ] {
            dates.push(format!("Mon, 23 {month} 2026 12:34:56 +0000"));
            dates.push(format!("1 {month} 1999 00:00:00 -0530 (EST)"));
        }
        for odd in [
            "Tue, 05 Nov 2024 23:59:59 +0100 (CET)",
            "Sat,  5 Nov 2024 10:00:00 +0100",
            "5 Nov 24 10:00:00 +0100",
            "5 Nov 2024 10:00 +0100",
            "Thu, 31 Feb 2024 10:00:00 +0000",
            "Thu, 32 Jan 2024 10:00:00 +0000",
            "Thu, 00 Jan 2024 10:00:00 +0000",
            "Thu, 10 Jan 0049 10:00:00 +0000",
            "Thu, 10 Jan 0077 10:00:00 +0000",
            "Thu, 10 Jan 1899 10:00:00 +0000",
            "Thu, 10 Jan 3001 10:00:00 +0000",
            "Thu, 10 Jan 2024 24:00:00 +0000",
            "Thu, 10 Jan 2024 23:60:00 +0000",
            "Thu, 10 Jan 2024 23:00:61 +0000",
            "Thu, 10 Jan 2024 23:00:00 +2400",
            "Thu, 10 Jan 2024 23:00:00 +9999",
            "Thu, 10 Jan 2024 23:00:00 -1260",
            "Thu, 10 Jan 2024 23:00:00 -0000",
            "Thu, 10 Jan 2024 23:00:00 +00000",
            "Thu, 10 Jan 2024 23:00:00 GMT",
            "Thu, 10 Jan 2024 23:00:00 +0000 (UTC) -0500",
            "Thu, 10 Jan 2024 23:00:00 +0000 (a (b) c)",
            "Thu, 10 Jan 2024 23:00:00 +0000 (\\) -0500)",
            "Thu, 10 Jan 2024 23:00:00 +0000 (UTC",
            "Thu, 10 Xyz 2024 23:00:00 +0000",
            "Thu 10 Jan 2024 23:00:00 +0000",
            "10 Jan 2024 23:00:00 +0000",
            "2024-01-10T23:00:00Z",
            "",
            "garbage",
        ] {
            dates.push(odd.to_string());
        }
        for date in &dates {
            assert_eq!(parse_date(date), mail_parser_date(date), "{date}");
            if let Some(dt) = common_date(date.as_bytes()) {
                assert_eq!(
                    Some(dt),
                    mail_parser::DateTime::parse_rfc822(date),
                    "{date}"
                );
            }
        }
        // The usual forms take the quick path.
        for usual in [
            "Mon, 23 Nov 2026 12:34:56 +0000",
            "5 Nov 2024 10:00:00 -0800 (PST)",
            "Thu, 10 Jan 2024 23:00:00 +0000 (UTC)",
        ] {
            assert!(common_date(usual.as_bytes()).is_some(), "{usual}");
        }
        assert_eq!(
            common_date(b"Thu, 10 Jan 2024 23:00:00 +0000 (UTC) -0500"),
            None
        );
    }

    #[test]
    fn ascii_tokens_split_as_the_char_split_does() {
        let is_separator = |c: char| c.is_whitespace() || matches!(c, ',' | ';' | '"' | '(' | ')');
        for value in [
            "",
            "a@b.org",
            "\"Name, A\" <a@b.org>; (c) d@e.org,,\t\x0b\x0c\r\n x",
            " lead and trail ",
            "\x1c\x1f a",
        ] {
            let chars: Vec<&str> = value.split(is_separator).collect();
            assert_eq!(ascii_tokens(value).collect::<Vec<_>>(), chars, "{value:?}");
        }
        assert_eq!(first_address("To: 'a@b.org', c@d.org"), Some("a@b.org"));
        assert_eq!(first_address("x\u{a0}a@b.org"), Some("a@b.org"));
        assert_eq!(first_address("x@y"), None);
    }

    /// [`is_address`] as it read by chars, before its tables.
    fn is_address_by_chars(s: &str) -> bool {
        let Some((local, domain)) = s.rsplit_once('@') else {
            return false;
        };
        if local.is_empty() || domain.len() < 3 {
            return false;
        }
        let domain_ok = match domain.strip_prefix('[') {
            Some(ip) => ip.ends_with(']'),
            None => {
                domain.contains('.')
                    && !domain.starts_with(['.', '-'])
                    && !domain.ends_with('.')
                    && domain.bytes().all(|b| {
                        b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_') || b >= 0x80
                    })
            }
        };
        if local.len() > 2 && local.starts_with('"') && local.ends_with('"') {
            return domain_ok && !local[1..local.len() - 1].contains('"');
        }
        domain_ok
            && local.bytes().all(|b| {
                b > b' '
                    && b != 0x7f
                    && !matches!(
                        b,
                        b'<' | b'>' | b'(' | b')' | b',' | b';' | b':' | b'"' | b'[' | b']' | b'\\'
                    )
            })
    }

    /// Every short mix of the bytes that matter reads as the char version read it,
    /// and so do the fixtures' tokens; each token is bared as `trim_matches` bares it.
    #[test]
    fn addresses_read_by_table_as_by_chars() {
        let pieces = [
            "a", "@", ".", "-", "_", "[", "]", "\"", "\u{e9}", " ", "<", ">", ":", "'", "\x7f",
            "b.org", "\\",
        ];
        let mut texts = crate::parse::dsn::tests::mixes(&pieces, 4);
        for text in crate::parse::dsn::tests::fixture_texts() {
            texts.extend(text.split_whitespace().map(str::to_string));
        }
        let marks = |c: char| matches!(c, '<' | '>' | '\'' | ':');
        for text in &texts {
            assert_eq!(is_address(text), is_address_by_chars(text), "{text:?}");
            assert_eq!(bare(text), text.trim_matches(marks), "{text:?}");
        }
    }

    #[test]
    fn header_fields_need_a_printable_name_before_the_colon() {
        assert_eq!(field_name_len(b"Subject: x"), Some(7));
        assert_eq!(field_name_len(b"X:"), Some(1));
        assert_eq!(field_name_len(b": no name"), None);
        assert_eq!(field_name_len(b"no colon"), None);
        assert_eq!(field_name_len(b"From a@b Mon: 12:00"), None);
        assert_eq!(field_name_len(b"Name\t: x"), None);
        assert_eq!(field_name_len("Nämé: x".as_bytes()), None);
        let fields =
            fields_of("From x Mon\nDate:  a\n b\n\tc \nbad line\n d\nTo:\nTO: b\n\nX: y\n");
        assert_eq!(
            fields.values[Header::Date as usize].as_deref(),
            Some("a b c d")
        );
        assert_eq!(fields.values[Header::To as usize].as_deref(), Some(""));
        assert!(!fields.is_empty() && fields_of("From x\nbad\n").is_empty());
    }

    /// Every field of a header block, unfolded, in order: what [`fields_of`] kept
    /// before it kept only the fields of [`Header`].
    fn all_fields(text: &str) -> Vec<(&str, String)> {
        let mut out: Vec<(&str, String)> = Vec::new();
        for line in text.split('\n') {
            if line.is_empty() {
                break;
            }
            if line.starts_with([' ', '\t']) {
                if let Some((_, value)) = out.last_mut() {
                    value.push(' ');
                    value.push_str(line.trim());
                }
            } else if let Some((name, value)) = line.split_once(':')
                && !name.is_empty()
                && name.bytes().all(|b| (33..=126).contains(&b))
            {
                out.push((name, value.trim().to_string()));
            }
        }
        out
    }

    /// The header blocks of the fixtures, and blocks of odd shapes built out of their
    /// lines: [`fields_of`] and [`FieldNames::slot`] read them as the plain search by
    /// name does.
    #[test]
    fn kept_fields_are_the_first_of_each_name() {
        let mut blocks: Vec<String> = crate::parse::dsn::tests::fixture_texts()
            .iter()
            .map(|text| text.replace("\r\n", "\n"))
            .collect();
        let odd = "Return-Path: <>\nreturn-path: x\n y\nnot a field\n\tz\nDATE:\n  \n\
                   X-Mailer: m\nstray line\n\tz\nX-Mailer x: y\n\
                   X-Failed-Recipients : a\nx-failed-recipients:b@c.org,\n d@e.org\n\
                   From x\nTo: \u{a0}a@b.org\n\nTo: late\n";
        blocks.push(odd.to_string());
        let lines: Vec<&str> = odd.lines().collect();
        for i in 0..lines.len() {
            blocks.push(lines[i..].join("\n"));
            blocks.push(
                lines
                    .iter()
                    .rev()
                    .skip(i)
                    .copied()
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
        }
        let names: Vec<String> = HEADER_NAMES.names.iter().map(|n| n.to_string()).collect();
        for block in &blocks {
            let all = all_fields(block);
            let kept = fields_of(block);
            assert_eq!(kept.is_empty(), all.is_empty(), "{block:?}");
            for (i, name) in names.iter().enumerate() {
                let first = all.iter().find(|(n, _)| n.eq_ignore_ascii_case(name));
                assert_eq!(
                    kept.values[i].as_deref(),
                    first.map(|(_, v)| v.as_str()),
                    "{name} in {block:?}"
                );
            }
        }
        // Any line, field or not: its field's name is found as the plain split says.
        for line in blocks.iter().flat_map(|b| b.lines()) {
            let lower = line.split_once(':').map(|(n, _)| n.to_ascii_lowercase());
            let plain = |names: &[&str]| {
                let at = names.iter().position(|n| Some(*n) == lower.as_deref())?;
                Some((at, line.split_once(':')?.1))
            };
            assert_eq!(
                HEADER_NAMES.field(line),
                plain(&HEADER_NAMES.names),
                "{line:?}"
            );
            assert_eq!(
                WANTED_NAMES.field(line),
                plain(&WANTED_NAMES.names),
                "{line:?}"
            );
        }
    }

    #[test]
    fn original_reads_the_first_of_each_wanted_field_ignoring_case() {
        let text = "\n\nReceived: by x\nMESSAGE-id: <id@x>\nfrom: A <A@X.org>\n\
                    From: b@y.org\nsubject: Hello\n  world\nTO: c@z.org,\n d@z.org\n\
                    X-Job: job\n x\nx-campaign: camp\nList-ID: <list.x>\n\
                    Return-Path: <r@x.org>\r\nX-Campaign: later\n more\n\nTo: late@x.org\n";
        let o = Original::from_headers(text);
        assert_eq!(o.message_id.as_deref(), Some("id@x"));
        assert_eq!(o.from.as_deref(), Some("a@x.org"));
        assert_eq!(o.to.as_deref(), Some("c@z.org"));
        assert_eq!(o.subject.as_deref(), Some("Hello world"));
        // X-Campaign is preferred to X-Job, wherever each stands.
        assert_eq!(o.campaign.as_deref(), Some("camp"));
        assert_eq!(o.list_id.as_deref(), Some("<list.x>"));
        assert_eq!(o.return_path.as_deref(), Some("r@x.org"));
        // A later X-Job's folds are its own; a name with space or past the buffer is
        // not wanted.
        let o = Original::from_headers(
            "X-Job: a\nX-Job: b\n c\nFrom : x@y.org\nX-Mailgun-Campaign-Id-Long: z\n",
        );
        assert_eq!(o.campaign.as_deref(), Some("a"));
        assert_eq!(o.from, None);
        let slot = |line| WANTED_NAMES.field(line).map(|(slot, _)| slot);
        assert_eq!(slot("X-MAILGUN-CAMPAIGN-ID: a"), Some(CAMPAIGN + 3));
        assert_eq!(slot("X-Campaign-Id:"), Some(CAMPAIGN));
        assert_eq!(slot("X-Campaign-Idx: a"), None);
        assert_eq!(slot("x: X-Campaign-Id: a"), None);
        // Only an unwanted field before a blank line: the reading goes on.
        let o = Original::from_headers("Date: x\n\nFrom: a@b.org\n\nTo: c@d.org\n");
        assert_eq!((o.from.as_deref(), o.to), (Some("a@b.org"), None));
    }

    /// One pass decodes what the chain of replacements decoded, `&amp;` last.
    #[test]
    fn entities_decode_as_the_chained_replacements_did() {
        let chained = |t: &str| {
            t.replace("&nbsp;", " ")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&amp;", "&")
        };
        for text in [
            "",
            "plain",
            "&",
            "&&",
            "a &lt;b&gt; &amp;nbsp; &amp;amp; &&lt;; &nbsp",
            "&quot;x&quot; &#39;y&#39; &#39 &#3 &amp;&amp;lt; &nbsp;&nbsp;",
            "caf\u{e9} &amp; \u{1f600}&lt;&",
            "&&amp;&lt&lt;;&;",
        ] {
            assert_eq!(decode_entities(text.to_string()), chained(text), "{text:?}");
        }
    }

    #[test]
    fn html_tags_ignore_case_and_style_and_script_are_skipped() {
        assert_eq!(
            html_to_text("<P>a<BR/>b</p><Td class=\"X\">c</TD><tr>d"),
            "\na\nb\n c \nd"
        );
        // A style or script element is skipped up to its end tag, found in any case;
        // the text goes on after it (an end tag alone opens nothing to skip).
        assert_eq!(
            html_to_text("x<STYLE type=\"text/css\">p {}</Style>y<b>z</sTyLe>w"),
            "xyzw"
        );
        assert_eq!(
            html_to_text("x<script>1<2</SCRIPT >y<script>3</script>z"),
            "xyz"
        );
        // Without its end tag, the element runs to the end of the text.
        assert_eq!(html_to_text("x<style>p {}</styl>y"), "x");
        // A tag name ends at its first character that is no ASCII letter or digit.
        assert_eq!(html_to_text("<h1é>a<h2-x>b<h4>c"), "\na\nbc");
        assert_eq!(
            html_to_text("a &lt;b&gt; &amp;nbsp; <unclosed"),
            "a <b> &nbsp; "
        );
    }
}

//! The message as mail-parser needs it to read a bounce: the same MIME structure,
//! without the bytes no decoder reads.
//!
//! A bounce is mostly bytes nobody reads: Received, DKIM and ARC fields at the top,
//! an HTML copy of the notice's text, logos, and the returned message's body.
//! mail-parser would scan, decode and convert all of them. The skeleton leaves out
//! - the top-level fields other than the MIME ones and the Subject (each kept field is
//!   copied whole, with its folds);
//! - the bodies of images, audio, video and application parts;
//! - the body of an HTML part after a plain text part (the notice's text is then read
//!   from the plain one);
//! - the body of a returned message (message/rfc822 or message/global), keeping its
//!   header block, unless that message is itself a bounce;
//! - every body mail-parser would take as it stands (no transfer encoding, not a
//!   message of its own): the reader takes it from the message itself
//!   ([`Skeleton::body_apart`]), so mail-parser need not walk it byte by byte for its
//!   boundary;
//!
//! and it decodes the quoted-printable or base64 body of a text part itself
//! ([`super::qp`], much quicker than mail-parser's decoder, [`super::base64`]; the
//! bytes are then not scanned again by mail-parser): the part keeps its header block, with `Content-Transfer-Encoding:
//! 8bit`, and an empty body; [`Skeleton::body_apart`] has the decoded bytes too.
//! The reader turns either into text as mail-parser would (`mail::text_as_parsed`).
//!
//! A part ends where mail-parser ends it: at the first `--boundary` after its body
//! starts, wherever it stands. Each left-out body is recorded with the part's type,
//! and [`Skeleton::matches`] checks mail-parser's reading of the skeleton against the
//! walk (every left-out body where a part of that type starts, every decoded one
//! where a text part read 8bit starts, the same boundaries in the same order): a
//! message mail-parser reads otherwise is parsed whole instead.
//!
//! Where the walk read every part through, nothing is left for mail-parser to
//! decode: each body is left out, read from the message as it stands, decoded here,
//! or a returned message's header block, every Content-Type is written plainly
//! ([`is_plain_content_type`]), every part's header block is fields, their folds and
//! lines without a colon (which mail-parser skips), and every delimiter starts a
//! line. [`Skeleton::leaves`] then lists the parts in mail-parser's order, and the
//! reader needs no MIME parse at all (over nine of ten bounces of the corpus). Shapes
//! mail-parser has its own reading of (a part without a type and with fields, a
//! multipart closed before its first part, a returned header block running past the
//! next delimiter, ...) still go to mail-parser.

use std::ops::Range;

use mail_parser::{Encoding, HeaderName, MessagePart, MimeHeaders, PartType};
use memchr::memmem;

use super::mail::{
    FieldsReader, Headers, find_blank_line, is_returned_notice, lossy, part_type, top_block,
};
use super::text::{trim, trim_ascii_matching};
use super::{base64, qp};
use crate::parse::trim_line_end;

/// The top-level fields mail-parser reads (lowercase): the MIME structure's, and the
/// Subject.
const SKELETON_FIELDS: [&[u8]; 4] = [
    b"content-type",
    b"content-transfer-encoding",
    b"content-disposition",
    b"subject",
];

/// Multiparts nested deeper than this are not walked: the message is parsed whole.
const MAX_DEPTH: usize = 16;

/// A message cut down for mail-parser, with what was left out.
#[derive(Debug)]
pub(super) struct Skeleton {
    pub bytes: Vec<u8>,
    /// Where in `bytes` a part whose body was left out starts its body (for a returned
    /// message, its header block), with the part's `type/subtype` as the walk read it.
    emptied: Vec<(usize, String)>,
    /// The boundary of each multipart part, in order.
    boundaries: Vec<Vec<u8>>,
    /// Where in `bytes` a returned message's stand-in header block starts, and where
    /// its own header block lies in the message.
    returned: Vec<(usize, Range<usize>)>,
    /// Where in `bytes` a part whose body is read from the message starts its (empty)
    /// body, and where that body lies in the message.
    plain: Vec<(usize, Range<usize>)>,
    /// Text parts whose quoted-printable or base64 body was decoded.
    decoded: Vec<Decoded>,
    /// An HTML body was left out because a plain text part came before it.
    pub html_emptied: bool,
    /// Every leaf part in order, when the walk read each through (see
    /// [`Skeleton::leaves`]).
    leaves: Option<Vec<Leaf>>,
    /// The last top-level Subject field, name to line end with its folds.
    subject: Option<Range<usize>>,
    /// The top-level Content-Type value, unfolded.
    pub content_type: String,
}

/// A part the walk read through: nothing of it is left for mail-parser to decode.
#[derive(Debug)]
pub(super) struct Leaf {
    /// Where in `bytes` its body starts (the key of [`Skeleton::body_apart`] and
    /// [`Skeleton::returned_headers`]); a body found under neither was left out.
    pub at: usize,
    /// `type/subtype`, lowercased; empty without a Content-Type.
    pub kind: String,
    /// Its Content-Type value, unfolded.
    pub content_type: String,
}

/// A text part whose quoted-printable or base64 body the walk decoded.
#[derive(Debug)]
struct Decoded {
    /// Where in `bytes` its rewritten Content-Transfer-Encoding field starts.
    field: usize,
    /// Where in `bytes` its (empty) body starts.
    body: usize,
    /// The body, decoded.
    text: Vec<u8>,
}

/// Why a walk stops: the message has a shape mail-parser has its own reading of.
struct Unusual;

/// The skeleton of a message, or `None` when nothing can be left out or the message
/// has a shape mail-parser reads its own way (then it gets the message as it is);
/// and its top-level fields as `mail::header_block` reads them, read off the walk's
/// lines of the header block where they are the lines it reads (else `None`).
pub(super) fn skeleton_and_fields(message: &[u8]) -> (Option<Skeleton>, Option<Headers<'_>>) {
    let mut walk = Walk {
        message,
        out: Vec::with_capacity(message.len()),
        emptied: Vec::new(),
        boundaries: Vec::new(),
        returned: Vec::new(),
        plain: Vec::new(),
        decoded: Vec::new(),
        text_seen: false,
        html_emptied: false,
        leaves: Vec::new(),
        read_through: true,
        subject: None,
    };
    match walk.top_header_block() {
        Some((head, fields)) => (walk.skeleton(head), fields),
        None => (None, None),
    }
}

/// The skeleton of a message (see [`skeleton_and_fields`]).
#[cfg(test)]
pub(super) fn skeleton(message: &[u8]) -> Option<Skeleton> {
    skeleton_and_fields(message).0
}

impl Walk<'_> {
    /// The skeleton of the message whose top-level header block the walk has read.
    fn skeleton(mut self, head: TopHead) -> Option<Skeleton> {
        let message = self.message;
        let TopHead {
            body,
            content_type,
            encoded,
            decodable: decodable_field,
            kept_every_field,
            plainly_typed,
        } = head;
        self.read_through &= plainly_typed;
        // A message without a body is read as mail-parser reads it.
        self.read_through &= body < message.len();
        if body < message.len() {
            let kind = type_of(&content_type);
            if kind.starts_with("multipart/") {
                let boundary = boundary_of(&content_type)?;
                self.boundaries.push(boundary.clone());
                let end = self
                    .multipart(body, &boundary, kind == "multipart/digest", 0)
                    .ok()?;
                // The epilogue, as it is.
                self.out.extend_from_slice(&message[end..]);
            } else if let Some(field) = decodable_field.filter(|_| read_as_text(&kind, false))
                // Read to the end, with no boundary: whatever it decodes to is read 8bit.
                && let Some(text) = field.decode(&message[body..], false)
            {
                // The field was copied whole, where `field` says.
                self.out.splice(field.value, *b" 8bit");
                self.leaf(&kind, content_type.clone());
                self.decoded.push(Decoded {
                    field: field.start,
                    body: self.out.len(),
                    text,
                });
            } else if !encoded && !is_message(&kind) {
                // Without a boundary, the body runs to the message's end.
                self.leave_plain(kind, content_type.clone(), body..message.len());
            } else {
                self.read_through = false;
                self.out.extend_from_slice(&message[body..]);
            }
        }
        if kept_every_field && self.emptied.is_empty() && self.decoded.is_empty() {
            return None;
        }
        Some(Skeleton {
            bytes: self.out,
            emptied: self.emptied,
            boundaries: self.boundaries,
            returned: self.returned,
            plain: self.plain,
            decoded: self.decoded,
            html_emptied: self.html_emptied,
            leaves: self.read_through.then_some(self.leaves),
            subject: self.subject,
            content_type,
        })
    }
}

/// The header block mail-parser reads in place of a returned message's: one field (a
/// message needs one), then the blank line. The returned message's own fields (dozens
/// of Received, DKIM and ARC lines) are read by `Original::from_headers`, not by
/// mail-parser.
const RETURNED_STAND_IN: &[u8] = b"MIME-Version: 1.0\n\n";

impl Skeleton {
    /// The header block of the returned message whose stand-in starts at `offset` in
    /// the skeleton, out of `message` (the message the skeleton was made of).
    pub fn returned_headers<'m>(&self, message: &'m [u8], offset: usize) -> Option<&'m [u8]> {
        self.returned
            .iter()
            .find(|(at, _)| *at == offset)
            .and_then(|(_, block)| message.get(block.clone()))
    }

    /// The body of the part whose (empty) body starts at `offset` in the skeleton, when
    /// the walk read it apart: as it stands in `message` (the message the skeleton was
    /// made of), or its transfer encoding decoded. The reader converts it to text as
    /// mail-parser would (`mail::text_as_parsed`).
    pub fn body_apart<'a>(&'a self, message: &'a [u8], offset: usize) -> Option<&'a [u8]> {
        match self.plain.iter().find(|(at, _)| *at == offset) {
            Some((_, body)) => message.get(body.clone()),
            None => self
                .decoded
                .iter()
                .find(|d| d.body == offset)
                .map(|d| d.text.as_slice()),
        }
    }

    /// Every leaf part in mail-parser's order, when the walk read each through: no part
    /// is left for mail-parser to decode (each body left out, read from the message,
    /// decoded here, or a returned message's header block), every Content-Type written
    /// plainly. The reader then needs no MIME parse (`mail::Mail::from_walk`).
    pub fn leaves(&self) -> Option<&[Leaf]> {
        self.leaves.as_deref()
    }

    /// The last top-level Subject field of `message` (the message the skeleton was made
    /// of), its name and folds included.
    pub fn subject_field<'m>(&self, message: &'m [u8]) -> Option<&'m [u8]> {
        message.get(self.subject.clone()?)
    }

    /// The skeleton with each decoded body in place of its empty one: what the reader
    /// reads.
    #[cfg(test)]
    pub fn bytes_read(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.bytes.len());
        let mut at = 0;
        for decoded in &self.decoded {
            out.extend_from_slice(&self.bytes[at..decoded.body]);
            out.extend_from_slice(&decoded.text);
            at = decoded.body;
        }
        out.extend_from_slice(&self.bytes[at..]);
        out
    }

    /// Whether mail-parser read the skeleton's structure as the walk did: each
    /// left-out body where a part of that type starts (a returned message parsed as a
    /// message; a body read from the message as it stands, neither transfer-encoded nor
    /// a message by mail-parser's reading), each decoded part's empty body where a text
    /// part starts that takes its transfer encoding (none) from the rewritten field, and
    /// the multipart parts with the walk's boundaries, in order.
    pub fn matches(&self, parts: &[MessagePart<'_>]) -> bool {
        let part_at = |offset: usize| parts.iter().find(|p| p.offset_body as usize == offset);
        let emptied_found = self.emptied.iter().all(|(offset, kind)| {
            part_at(*offset).is_some_and(|part| {
                part_type(part) == *kind
                    && (!is_message(kind) || matches!(part.body, PartType::Message(_)))
            })
        });
        let plain_found = self.plain.iter().all(|(offset, _)| {
            part_at(*offset).is_some_and(|part| {
                part.encoding == Encoding::None
                    && !part.is_encoding_problem
                    && match &part.body {
                        PartType::Text(t) | PartType::Html(t) => t.is_empty(),
                        PartType::Binary(b) | PartType::InlineBinary(b) => b.is_empty(),
                        PartType::Message(_) | PartType::Multipart(_) => false,
                    }
            })
        });
        let boundaries = parts.iter().filter_map(|part| match part.body {
            PartType::Multipart(_) => Some(
                part.content_type()
                    .and_then(|ct| ct.attribute("boundary"))
                    .map(str::as_bytes),
            ),
            _ => None,
        });
        // Read from the rewritten field, the original one names its encoding to
        // mail-parser too: the message whole reads as text what was decoded here.
        let decoded_found = self.decoded.iter().all(|decoded| {
            parts.iter().any(|part| {
                part.offset_body as usize == decoded.body
                    && matches!(part.body, PartType::Text(_) | PartType::Html(_))
                    && part.encoding == Encoding::None
                    && !part.is_encoding_problem
                    && part
                        .headers
                        .iter()
                        .rev()
                        .find(|h| h.name == HeaderName::ContentTransferEncoding)
                        .is_some_and(|h| h.offset_field as usize == decoded.field)
            })
        });
        emptied_found
            && plain_found
            && decoded_found
            && boundaries.eq(self.boundaries.iter().map(|b| Some(b.as_slice())))
    }
}

struct Walk<'m> {
    message: &'m [u8],
    out: Vec<u8>,
    emptied: Vec<(usize, String)>,
    boundaries: Vec<Vec<u8>>,
    returned: Vec<(usize, Range<usize>)>,
    plain: Vec<(usize, Range<usize>)>,
    decoded: Vec<Decoded>,
    /// A plain text part was kept (outside any returned message).
    text_seen: bool,
    html_emptied: bool,
    leaves: Vec<Leaf>,
    /// Every part so far was read through: none is left for mail-parser to decode,
    /// each Content-Type reads as mail-parser reads it ([`strict_content_type`]).
    read_through: bool,
    subject: Option<Range<usize>>,
}

/// What becomes of a part's body.
enum Body {
    Keep,
    /// Left out (recorded as emptied at the body's start).
    Empty,
    /// A multipart part: walked with this boundary (a digest: parts without a type
    /// are messages).
    Multipart {
        boundary: Vec<u8>,
        digest: bool,
    },
    /// A text part's quoted-printable or base64 body, decoded (`field`: where the rewritten
    /// Content-Transfer-Encoding field starts in the skeleton).
    Decoded {
        field: usize,
        text: Vec<u8>,
    },
    /// A returned message: its header block kept, its body left out.
    Returned,
}

impl<'m> Walk<'m> {
    /// Copies the top-level header block cut down to [`SKELETON_FIELDS`] and reads it,
    /// with the fields `mail::header_block` reads (see [`TopFields`]). `None` when a
    /// line of the block is neither a plain `name: value` field nor a fold with text,
    /// since mail-parser has its own reading of those, or when no field is kept (a
    /// message needs one).
    fn top_header_block(&mut self) -> Option<(TopHead, Option<Headers<'m>>)> {
        let message = self.message;
        let mut fields = TopFields::new(message);
        let mut keep = false;
        let mut kept_any = false;
        let mut kept_every_field = true;
        let mut content_type = ContentType::default();
        let mut transfer_encoding = TransferEncoding::default();
        let mut body = message.len();
        for (line, kind) in header_lines(message, 0) {
            if let Some(fields) = &mut fields {
                fields.read(line.clone(), matches!(kind, HeaderLine::Blank));
            }
            content_type.read(&kind);
            // The field and its folds are kept: copied from here on.
            transfer_encoding.read(self.out.len(), &kind);
            match kind {
                HeaderLine::Blank => {
                    body = line.end;
                    keep = true;
                }
                HeaderLine::Fold(text) => {
                    if line.start == 0 || text.iter().all(u8::is_ascii_whitespace) {
                        return None;
                    }
                }
                // An mbox `From ` line left at the top of a saved email: mail-parser
                // reads it as a field of another name (the words up to the first
                // colon) and ignores it.
                HeaderLine::Field { name, .. } if line.start == 0 && name.starts_with(b"From ") => {
                    keep = false;
                    kept_every_field = false;
                }
                HeaderLine::Field { name, .. } => {
                    if name.is_empty() || name.iter().any(|&b| !(33..=126).contains(&b)) {
                        return None;
                    }
                    keep = SKELETON_FIELDS.iter().any(|f| name.eq_ignore_ascii_case(f));
                    if name.eq_ignore_ascii_case(b"subject") {
                        self.subject = Some(line.start..line.end);
                    }
                    kept_any |= keep;
                    kept_every_field &= keep;
                }
                HeaderLine::Other => return None,
            }
            if keep {
                if let (HeaderLine::Fold(_), Some(subject)) = (&kind, &mut self.subject)
                    && subject.end == line.start
                {
                    subject.end = line.end;
                }
                self.out.extend_from_slice(&message[line]);
            }
        }
        let head = TopHead {
            body,
            plainly_typed: content_type.is_plain(),
            content_type: content_type.value.unwrap_or_default(),
            encoded: transfer_encoding.encoded,
            decodable: transfer_encoding.decodable,
            kept_every_field,
        };
        kept_any.then(|| (head, fields.and_then(TopFields::headers)))
    }

    /// Walks the body of a multipart part from `pos`: every part up to and including
    /// the closing boundary. Returns where the closing boundary line's `--` ends (or
    /// the message's end): what follows is the parent's.
    /// `digest`: a multipart/digest, whose parts without a type are messages.
    fn multipart(
        &mut self,
        pos: usize,
        boundary: &[u8],
        digest: bool,
        depth: usize,
    ) -> Result<usize, Unusual> {
        // Bounce notices nest a few multiparts; a MIME bomb nests thousands, which a
        // recursive walk must not follow (mail-parser has its own limits).
        if depth > MAX_DEPTH {
            return Err(Unusual);
        }
        let message = self.message;
        let delimiter = Delimiter::new(boundary);
        let find = |from: usize| delimiter.find(&message[from..]).map(|p| from + p);
        // The preamble, as it is.
        let Some(mut at) = find(pos) else {
            // No part at all: mail-parser reads the multipart as text.
            self.read_through = false;
            self.out.extend_from_slice(&message[pos..]);
            return Ok(message.len());
        };
        self.out.extend_from_slice(&message[pos..at]);
        let first = at;
        loop {
            // A delimiter within a line ends the part before as mail-parser ends
            // it, but what follows is its own reading.
            self.read_through &= at == pos || message[at - 1] == b'\n';
            let after = at + delimiter.bytes.len();
            match message.get(after) {
                None => {
                    self.read_through = false;
                    self.out.extend_from_slice(&message[at..]);
                    return Ok(message.len());
                }
                Some(b'-') if message.get(after + 1) == Some(&b'-') => {
                    // Closed before any part: mail-parser has its own reading.
                    self.read_through &= at != first;
                    self.out.extend_from_slice(&message[at..after + 2]);
                    return Ok(after + 2);
                }
                Some(b'\n' | b'\r' | b' ' | b'\t') => {}
                // A longer boundary starting with this one, or text after it.
                Some(_) => return Err(Unusual),
            }
            // The boundary line and the part's header block, as they are.
            let headers = line_end(message, after);
            if !message[after..headers].iter().all(u8::is_ascii_whitespace) {
                return Err(Unusual);
            }
            let Some(head) = part_header_block(message, headers) else {
                self.read_through = false;
                self.out.extend_from_slice(&message[at..]);
                return Ok(message.len());
            };
            self.read_through &= head.plainly_written;
            let (body, content_type) = (head.body, head.content_type);
            // Its `type/subtype`, read once for every decision below.
            let kind = type_of(&content_type);
            let next = find(body);
            let mut fate = self.body_of(&kind, &content_type, head.encoded, body)?;
            if let (Body::Keep, Some(field), Some(end)) = (&fate, &head.decodable, next)
                && read_as_text(&kind, digest)
                && let Some(text) = field.decode(&message[body..end], true)
            {
                // The part's header block, its transfer encoding now none.
                let field_at = self.out.len() + field.start - at;
                self.out.extend_from_slice(&message[at..field.value.start]);
                self.out.extend_from_slice(b" 8bit");
                self.out.extend_from_slice(&message[field.value.end..body]);
                fate = Body::Decoded {
                    field: field_at,
                    text,
                };
            } else {
                self.out.extend_from_slice(&message[at..body]);
            }
            let next = match fate {
                Body::Empty if next.is_some() => {
                    self.leaf(&kind, content_type);
                    self.emptied.push((self.out.len(), kind));
                    next
                }
                Body::Decoded { field, text } => {
                    self.leaf(&kind, content_type);
                    self.decoded.push(Decoded {
                        field,
                        body: self.out.len(),
                        text,
                    });
                    // An empty body: the line break before the boundary.
                    self.out.push(b'\n');
                    next
                }
                // A part with no header at all (a Sendmail or qmail notice's text) is
                // text/plain, but a message in a digest.
                Body::Keep
                    if !head.encoded
                        && !is_message(&kind)
                        && (!content_type.is_empty()
                            || !digest && body == line_end(message, headers)) =>
                {
                    match next {
                        Some(next) => self.leave_plain(
                            kind,
                            content_type,
                            body..body_end(message, body, next),
                        ),
                        // Unterminated, a part is read otherwise (as text).
                        None => {
                            self.read_through = false;
                            self.out.extend_from_slice(&message[body..]);
                        }
                    }
                    next
                }
                // Unterminated, a part is read otherwise (as text): kept as it is.
                Body::Keep | Body::Empty => {
                    self.read_through = false;
                    self.out
                        .extend_from_slice(&message[body..next.unwrap_or(message.len())]);
                    next
                }
                Body::Returned => {
                    // mail-parser gets a one-field stand-in for its header block; the
                    // original's identity is read from the block itself (see
                    // `Skeleton::returned_headers`).
                    let block_end = nested_header_end(message, body);
                    let nested_end = block_end.unwrap_or(message.len());
                    // A header block running past the next delimiter is cut there by
                    // mail-parser. Else that delimiter is the first after the block.
                    match next {
                        Some(delimiter) if delimiter < nested_end => return Err(Unusual),
                        Some(_) => {}
                        // Unterminated, the message runs to the end: mail-parser reads
                        // it as a message when a blank line ends its header block, as
                        // text (no message) when the block runs to the end.
                        None => self.read_through &= block_end.is_some(),
                    }
                    self.leaf(&kind, content_type);
                    self.emptied.push((self.out.len(), kind));
                    self.returned.push((self.out.len(), body..nested_end));
                    self.out.extend_from_slice(RETURNED_STAND_IN);
                    next
                }
                Body::Multipart {
                    boundary: inner,
                    digest,
                } => {
                    self.boundaries.push(inner.clone());
                    let end = self.multipart(body, &inner, digest, depth + 1)?;
                    // The inner epilogue, as it is.
                    let next = find(end);
                    self.out
                        .extend_from_slice(&message[end..next.unwrap_or(message.len())]);
                    next
                }
            };
            match next {
                Some(n) => at = n,
                None => return Ok(message.len()),
            }
        }
    }

    /// Leaves out a body mail-parser would take as it stands, to be read from the
    /// message ([`Skeleton::body_apart`]).
    fn leave_plain(&mut self, kind: String, content_type: String, body: Range<usize>) {
        self.leaf(&kind, content_type);
        self.emptied.push((self.out.len(), kind));
        self.plain.push((self.out.len(), body));
    }

    /// Records a part read through, its body starting at the end of `out`.
    fn leaf(&mut self, kind: &str, content_type: String) {
        if self.read_through {
            self.leaves.push(Leaf {
                at: self.out.len(),
                kind: kind.to_string(),
                content_type,
            });
        }
    }

    /// Decides what becomes of the body of a part of this `type/subtype` and
    /// Content-Type (`encoded`: with a transfer encoding other than none).
    fn body_of(
        &mut self,
        kind: &str,
        content_type: &str,
        encoded: bool,
        body: usize,
    ) -> Result<Body, Unusual> {
        let (main, sub) = split_once_byte(kind, b'/').unwrap_or((kind, ""));
        Ok(match main {
            "multipart" => match boundary_of(content_type) {
                Some(boundary) => Body::Multipart {
                    boundary,
                    digest: sub == "digest",
                },
                // mail-parser reads a multipart without a boundary as bytes (a
                // boundary lost on a line that lost its fold's indent).
                None if !may_have_param(content_type, "boundary") => Body::Empty,
                None => return Err(Unusual),
            },
            "image" | "audio" | "video" | "application" | "font" | "model" => Body::Empty,
            "text" if sub == "html" && self.text_seen => {
                self.html_emptied = true;
                Body::Empty
            }
            "text" if sub == "plain" => {
                self.text_seen = true;
                Body::Keep
            }
            // Encoded, it is decoded before it is parsed: kept as it is.
            "message" if matches!(sub, "rfc822" | "global") && !encoded => {
                let end = nested_header_end(self.message, body).unwrap_or(self.message.len());
                let nested = &self.message[body..end];
                // A bounce returned inside a bounce is decoded from the nested message.
                if is_returned_notice(nested) {
                    Body::Keep
                } else {
                    Body::Returned
                }
            }
            _ => Body::Keep,
        })
    }
}

/// What the walk reads of the top-level header block.
struct TopHead {
    /// Where the body starts (after the blank line).
    body: usize,
    content_type: String,
    /// It names a transfer encoding other than none.
    encoded: bool,
    /// Where the quoted-printable or base64 Content-Transfer-Encoding field was copied
    /// to.
    decodable: Option<DecodableField>,
    kept_every_field: bool,
    /// Its Content-Type reads the same by a plain split as by mail-parser.
    plainly_typed: bool,
}

/// The top-level fields `mail::header_block` keeps, read off the walk's lines of the
/// top header block: not split into lines again. They are its lines when the block
/// is UTF-8 and the walk's blank line is a bare line feed: it reads on past a blank
/// line that ends in a CR, or is given a message without a blank line.
struct TopFields<'m> {
    /// The bytes `mail::header_block` reads, as text.
    block: &'m str,
    reader: FieldsReader<'m>,
    /// The walk reached the blank line where `block` ends.
    ended: bool,
}

impl<'m> TopFields<'m> {
    /// `None` when the block is not UTF-8 (`mail::header_block` reads it lossily).
    fn new(message: &'m [u8]) -> Option<TopFields<'m>> {
        Some(TopFields {
            block: std::str::from_utf8(top_block(message)).ok()?,
            reader: FieldsReader::default(),
            ended: false,
        })
    }

    /// One line of the walk (line end included), and whether it is the blank line.
    /// A blank line where `block` ends comes after every line of the block, each read
    /// here; a line that runs past it means the walk's block is not `block`.
    fn read(&mut self, line: Range<usize>, blank: bool) {
        if blank {
            self.ended = line.start == self.block.len();
        } else if let Some(text) = self.block.get(line) {
            self.reader.line(text.strip_suffix('\n').unwrap_or(text));
        }
    }

    /// The fields, when the walk's block was `block`.
    fn headers(self) -> Option<Headers<'m>> {
        self.ended.then_some(self.reader.headers)
    }
}

/// What the walk reads of a part's header block.
struct PartHead {
    /// Where the body starts (after the blank line).
    body: usize,
    content_type: String,
    /// It names a transfer encoding other than none.
    encoded: bool,
    decodable: Option<DecodableField>,
    /// Every line is a field, a fold of one, or a line without a colon, and the
    /// Content-Type reads the same by a plain split as by mail-parser.
    plainly_written: bool,
}

/// The header block of a part starting at `pos`. `None` when the message ends before
/// the blank line.
fn part_header_block(message: &[u8], pos: usize) -> Option<PartHead> {
    let mut content_type = ContentType::default();
    let mut transfer_encoding = TransferEncoding::default();
    let mut plain_lines = true;
    // The line before is a field or one of its folds: a fold continues it. Where no
    // field does, mail-parser reads the fold's text as a field of its own.
    let mut in_field = false;
    for (line, kind) in header_lines(message, pos) {
        content_type.read(&kind);
        transfer_encoding.read(line.start, &kind);
        plain_lines &= match kind {
            HeaderLine::Field { name, .. } => {
                !name.is_empty() && name.iter().all(|b| (33..=126).contains(b))
            }
            HeaderLine::Fold(_) => in_field,
            // A line without a colon (a fold that lost its indent) ends the field
            // before it and is skipped, by mail-parser as by the walk.
            HeaderLine::Blank | HeaderLine::Other => true,
        };
        in_field = matches!(kind, HeaderLine::Field { .. } | HeaderLine::Fold(_));
        if matches!(kind, HeaderLine::Blank) {
            return Some(PartHead {
                body: line.end,
                plainly_written: plain_lines && content_type.is_plain(),
                content_type: content_type.value.unwrap_or_default(),
                encoded: transfer_encoding.encoded,
                decodable: transfer_encoding.decodable,
            });
        }
    }
    None
}

/// Whether a Content-Transfer-Encoding value names an encoding other than none.
fn names_encoding(value: &[u8]) -> bool {
    let value = value.trim_ascii();
    !["7bit", "8bit", "binary"]
        .iter()
        .any(|e| value.eq_ignore_ascii_case(e.as_bytes()))
}

/// One line of a header block.
enum HeaderLine<'m> {
    /// `name: value` (the name as written, up to the first colon).
    Field { name: &'m [u8], value: &'m [u8] },
    /// A continuation of the field before (it starts with a space or a tab).
    Fold(&'m [u8]),
    /// The blank line that ends the block.
    Blank,
    /// A line with no colon.
    Other,
}

/// The lines of the header block starting at `pos`, each with its range (line end
/// included), up to and including the blank line that ends it.
fn header_lines(
    message: &[u8],
    pos: usize,
) -> impl Iterator<Item = (Range<usize>, HeaderLine<'_>)> {
    let mut at = Some(pos).filter(|&p| p < message.len());
    // Inlined into the walk's loops (the inliner leaves it out of its own accord): a
    // call per line costs as much as the reading of a short line.
    std::iter::from_fn(
        #[inline(always)]
        move || {
            let start = at?;
            let end = line_end(message, start);
            let text = trim_line_end(&message[start..end]);
            let kind = match text.first() {
                None => HeaderLine::Blank,
                Some(b' ' | b'\t') => HeaderLine::Fold(text),
                Some(_) => match memchr::memchr(b':', text) {
                    Some(colon) => HeaderLine::Field {
                        name: &text[..colon],
                        value: &text[colon + 1..],
                    },
                    None => HeaderLine::Other,
                },
            };
            at = (!matches!(kind, HeaderLine::Blank) && end < message.len()).then_some(end);
            Some((start..end, kind))
        },
    )
}

/// The Content-Type field of a header block read line by line, unfolded: the last
/// one, as mail-parser reads it.
#[derive(Default)]
struct ContentType {
    value: Option<String>,
    /// The line before was this field or one of its folds.
    open: bool,
    /// A fold came within a type or a parameter (not after a `;`), where
    /// mail-parser's reading of the line break is its own.
    folded_within: bool,
}

impl ContentType {
    /// Whether the value reads the same by a plain split as by mail-parser (see
    /// [`plain_params`]); a part without a Content-Type does.
    fn is_plain(&self) -> bool {
        !self.folded_within && self.value.as_deref().is_none_or(is_plain_content_type)
    }

    /// Inlined into the walk's loops: most lines are other fields, for which a call
    /// costs more than the look at the name.
    #[inline(always)]
    fn read(&mut self, line: &HeaderLine<'_>) {
        match line {
            HeaderLine::Field { name, value } => {
                self.open = name.eq_ignore_ascii_case(b"content-type");
                if self.open {
                    self.start(value);
                }
            }
            HeaderLine::Fold(text) if self.open => self.unfold(text),
            HeaderLine::Fold(_) => {}
            HeaderLine::Blank | HeaderLine::Other => self.open = false,
        }
    }

    /// A Content-Type field's first line.
    fn start(&mut self, value: &[u8]) {
        self.value = Some(lossy(value).trim_ascii().to_string());
        self.folded_within = false;
    }

    /// A fold of the Content-Type field.
    fn unfold(&mut self, text: &[u8]) {
        if let Some(v) = self.value.as_mut() {
            self.folded_within |= !v.ends_with(';');
            let text = lossy(text);
            let text = text.trim_ascii();
            // One reallocation for the space and the text.
            v.reserve(1 + text.len());
            v.push(' ');
            v.push_str(text);
        }
    }
}

/// A Content-Transfer-Encoding field that says quoted-printable or base64, on one
/// line: where its line starts and where its value lies.
#[derive(Clone)]
struct DecodableField {
    start: usize,
    value: Range<usize>,
    base64: bool,
}

impl DecodableField {
    /// The body decoded as mail-parser decodes it (see [`qp::decode`]).
    fn decode(&self, body: &[u8], closed: bool) -> Option<Vec<u8>> {
        if self.base64 {
            base64::decode(body, closed)
        } else {
            qp::decode(body, closed)
        }
    }
}

/// The Content-Transfer-Encoding field of a header block read line by line: the last
/// one, as mail-parser reads it.
#[derive(Default)]
struct TransferEncoding {
    /// It names an encoding other than none (the walk then keeps the body as it is).
    encoded: bool,
    /// It is a [`DecodableField`] (the walk decodes a text body itself).
    decodable: Option<DecodableField>,
    /// The line before was this field or one of its folds.
    open: bool,
}

impl TransferEncoding {
    /// `at`: where the line starts in the bytes the field is rewritten in. Inlined
    /// into the walk's loops, as [`ContentType::read`].
    #[inline(always)]
    fn read(&mut self, at: usize, line: &HeaderLine<'_>) {
        match line {
            HeaderLine::Field { name, value } => {
                self.open = name.eq_ignore_ascii_case(b"content-transfer-encoding");
                if self.open {
                    self.start(at..at + name.len() + 1, value);
                }
            }
            // A folded value is left as it is.
            HeaderLine::Fold(_) if self.open => self.decodable = None,
            HeaderLine::Fold(_) => {}
            HeaderLine::Blank | HeaderLine::Other => self.open = false,
        }
    }

    /// A Content-Transfer-Encoding field's first line: `name` its name and colon,
    /// where the line starts in the bytes the field is rewritten in.
    fn start(&mut self, name: Range<usize>, value: &[u8]) {
        self.encoded = names_encoding(value);
        // mail-parser's reading of the value skips spaces, tabs and CRs.
        let skipped = |b: &u8| matches!(b, b' ' | b'\t' | b'\r');
        let first = value.iter().position(|b| !skipped(b));
        let last = value.iter().rposition(|b| !skipped(b));
        let word = first.zip(last).map_or(&[][..], |(f, l)| &value[f..=l]);
        let base64 = word.eq_ignore_ascii_case(b"base64");
        self.decodable =
            (base64 || word.eq_ignore_ascii_case(b"quoted-printable")).then(|| DecodableField {
                start: name.start,
                value: name.end..name.end + value.len(),
                base64,
            });
    }
}

/// Whether mail-parser decodes a part of this `type/subtype` as text (a part without
/// a type is text/plain, but a message in a digest).
fn read_as_text(kind: &str, in_digest: bool) -> bool {
    split_once_byte(kind, b'/').map_or(kind, |(main, _)| main) == "text"
        || kind.is_empty() && !in_digest
}

/// A multipart's boundary delimiter, `--boundary`, found wherever it stands (as
/// mail-parser ends a part). Built for every multipart: a `memmem::Finder` costs more
/// to build than the few searches it serves (for a needle over 32 bytes, most
/// delimiters, it builds Two-Way tables), where AVX2's packed pair search needs only
/// the needle's two rarest bytes.
struct Delimiter {
    bytes: Vec<u8>,
    search: DelimiterSearch,
}

enum DelimiterSearch {
    #[cfg(target_arch = "x86_64")]
    PackedPair(memchr::arch::x86_64::avx2::packedpair::Finder),
    Memmem(memmem::Finder<'static>),
}

impl Delimiter {
    fn new(boundary: &[u8]) -> Delimiter {
        let mut bytes = Vec::with_capacity(boundary.len() + 2);
        bytes.extend_from_slice(b"--");
        bytes.extend_from_slice(boundary);
        #[cfg(target_arch = "x86_64")]
        {
            use memchr::arch::{all::packedpair::Pair, x86_64::avx2::packedpair::Finder};
            // The pair is its first dash and the boundary's last byte, not the two
            // rarest: ranking every byte costs more than the few searches gain. A
            // boundary ending in a dash is ranked: with a dash at both ends, every
            // run of dashes in a body would be a candidate to compare.
            let pair = match u8::try_from(bytes.len() - 1) {
                Ok(last) if bytes[usize::from(last)] != b'-' => Pair::with_indices(&bytes, 0, last),
                _ => Pair::new(&bytes),
            };
            if let Some(finder) = pair.and_then(|pair| Finder::with_pair(&bytes, pair)) {
                return Delimiter {
                    bytes,
                    search: DelimiterSearch::PackedPair(finder),
                };
            }
        }
        let search = DelimiterSearch::Memmem(memmem::Finder::new(&bytes).into_owned());
        Delimiter { bytes, search }
    }

    /// Where the delimiter first stands in `haystack`.
    fn find(&self, haystack: &[u8]) -> Option<usize> {
        match &self.search {
            // A haystack too short for the vectors is searched by memmem's own
            // short-haystack path.
            #[cfg(target_arch = "x86_64")]
            DelimiterSearch::PackedPair(finder) if haystack.len() >= finder.min_haystack_len() => {
                finder.find(haystack, &self.bytes)
            }
            #[cfg(target_arch = "x86_64")]
            DelimiterSearch::PackedPair(_) => memmem::find(haystack, &self.bytes),
            DelimiterSearch::Memmem(finder) => finder.find(haystack),
        }
    }
}

/// The end of a returned message's header block starting at `pos`: after the first
/// empty line, as the original's fields are read (a line end at `pos` itself does not
/// end it); `None` when the block runs to the message's end.
fn nested_header_end(message: &[u8], pos: usize) -> Option<usize> {
    find_blank_line(&message[pos..]).map(|p| pos + p + 2)
}

/// `type/subtype` of a Content-Type value, lowercased.
pub(super) fn type_of(content_type: &str) -> String {
    // By memchr: the char search costs more on every part's value.
    let end = memchr::memchr(b';', content_type.as_bytes()).unwrap_or(content_type.len());
    trim(&content_type[..end]).to_ascii_lowercase()
}

/// Whether mail-parser reads a part of this `type/subtype` as a message of its own
/// when it is not transfer-encoded.
fn is_message(kind: &str) -> bool {
    matches!(kind, "message/rfc822" | "message/global")
}

/// Where mail-parser ends the body of a part that starts at `body` and is followed by
/// a boundary delimiter at `next`: before the line break in front of the delimiter,
/// or at the delimiter when it stands within a line.
fn body_end(message: &[u8], body: usize, next: usize) -> usize {
    let mut end = next;
    if end > body && message[end - 1] == b'\n' {
        end -= 1;
        if end > body && message[end - 1] == b'\r' {
            end -= 1;
        }
    }
    end
}

/// The `boundary` parameter, quoted or not. `None` when absent, empty, named twice, or
/// written in a way mail-parser may read otherwise (escapes, RFC 2231 parts).
fn boundary_of(content_type: &str) -> Option<Vec<u8>> {
    let mut found = None;
    for param in pieces(content_type, b';').skip(1) {
        let Some((name, value)) = split_once_byte(param, b'=') else {
            continue;
        };
        let name = trim(name);
        if name.len() >= 8 && name.as_bytes()[..8].eq_ignore_ascii_case(b"boundary") {
            if name.len() != 8 || found.is_some() {
                return None;
            }
            let value = trim(value);
            let (value, quoted) = match value.strip_prefix('"') {
                Some(quoted) => (quoted.strip_suffix('"')?, true),
                None => (value, false),
            };
            // Byte tests, not a char pattern's walk over every char of a long value.
            let odd = |b: &u8| matches!(b, b'"' | b'\\') || !quoted && matches!(b, b' ' | b'(');
            if value.is_empty() || value.as_bytes().iter().any(odd) {
                return None;
            }
            found = Some(value.as_bytes().to_vec());
        }
    }
    found
}

/// `value.split(char::from(separator))` for an ASCII separator, by memchr: the char
/// pattern's search costs more on every part's Content-Type value.
fn pieces(value: &str, separator: u8) -> impl Iterator<Item = &str> {
    let mut ends = memchr::memchr_iter(separator, value.as_bytes());
    let mut start = Some(0);
    std::iter::from_fn(move || {
        let from = start?;
        let end = ends.next();
        start = end.map(|end| end + 1);
        Some(&value[from..end.unwrap_or(value.len())])
    })
}

/// `s.split_once(char::from(separator))` for an ASCII separator, byte by byte: the
/// char pattern's search costs more on a parameter's few bytes.
fn split_once_byte(s: &str, separator: u8) -> Option<(&str, &str)> {
    let at = s.bytes().position(|b| b == separator)?;
    Some((&s[..at], &s[at + 1..]))
}

/// The parameters of a Content-Type value written plainly (see
/// [`is_plain_content_type`]), `(name, value)` with the quotes taken off; `None` for
/// any other value.
#[cfg(test)]
pub(super) fn plain_params(value: &str) -> Option<impl Iterator<Item = (&str, &str)>> {
    is_plain_content_type(value).then(|| params(value))
}

/// Whether a Content-Type value is written plainly: `type/subtype` then `name=value`
/// or `name="value"` parameters between `;`, printable ASCII, no comments, escapes,
/// encoded words or RFC 2231 parts. mail-parser reads such a value as [`params`]
/// splits it. One pass over the bytes, one table lookup a byte: this runs on every
/// part.
pub(super) fn is_plain_content_type(value: &str) -> bool {
    let b = value.as_bytes();
    // The end of the run of bytes of `class` from `i`.
    let run = |i: usize, class: u8| {
        i + b[i..]
            .iter()
            .position(|&c| BYTE_CLASSES[usize::from(c)] & class == 0)
            .unwrap_or(b.len() - i)
    };
    let token = |i: &mut usize| {
        let start = *i;
        *i = run(start, TOKEN);
        *i > start
    };
    let blanks = |i: &mut usize| *i = run(*i, BLANK);
    // A value's bytes from `start`: a `?` may stand in it, but not as an encoded
    // word's start (mail-parser decodes it in a value).
    let value_run = |start: usize, class: u8| {
        let mut end = run(start, class);
        while b.get(end) == Some(&b'?') {
            if end > start && b[end - 1] == b'=' {
                return None;
            }
            end = run(end + 1, class);
        }
        Some(end)
    };
    let mut i = 0;
    if !token(&mut i) || b.get(i) != Some(&b'/') {
        return false;
    }
    i += 1;
    if !token(&mut i) {
        return false;
    }
    loop {
        blanks(&mut i);
        match b.get(i) {
            None => return true,
            Some(b';') => i += 1,
            Some(_) => return false,
        }
        blanks(&mut i);
        if matches!(b.get(i), None | Some(b';')) {
            continue;
        }
        if !token(&mut i) {
            return false;
        }
        blanks(&mut i);
        if b.get(i) != Some(&b'=') {
            return false;
        }
        i += 1;
        blanks(&mut i);
        if b.get(i) == Some(&b'"') {
            // Within quotes, spaces and parentheses are the value's own.
            let Some(end) = value_run(i + 1, QUOTED) else {
                return false;
            };
            if end == i + 1 || b.get(end) != Some(&b'"') {
                return false;
            }
            i = end + 1;
        } else {
            let Some(end) = value_run(i, BARE) else {
                return false;
            };
            if end == i || !matches!(b.get(end), None | Some(b';' | b' ' | b'\t')) {
                return false;
            }
            i = end;
        }
    }
}

/// [`BYTE_CLASSES`]: a byte of an RFC 2045 token: printable ASCII but the separators
/// (and `*`, which starts an RFC 2231 part).
const TOKEN: u8 = 1;
/// A space or a tab (what mail-parser skips between tokens).
const BLANK: u8 = 2;
/// A byte of a quoted value but its `?` (checked apart for encoded words):
/// printable ASCII or a space, but `"`, `\` and `;`.
const QUOTED: u8 = 4;
/// A byte of an unquoted value but its `?`: printable ASCII but `"`, `\`, `(`, `)`
/// and `;`.
const BARE: u8 = 8;

/// The classes of each byte in a plainly written Content-Type value.
static BYTE_CLASSES: [u8; 256] = {
    let mut classes = [0; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let graphic = c.is_ascii_graphic() && c != b'?';
        let mut class = 0;
        if is_token_byte(c) {
            class |= TOKEN;
        }
        if matches!(c, b' ' | b'\t') {
            class |= BLANK;
        }
        if (graphic || c == b' ') && !matches!(c, b'"' | b'\\' | b';') {
            class |= QUOTED;
        }
        if graphic && !matches!(c, b'"' | b'\\' | b'(' | b')' | b';') {
            class |= BARE;
        }
        classes[b] = class;
        b += 1;
    }
    classes
};

/// Whether mail-parser may find a parameter of this name in a Content-Type value: a
/// value written plainly has it or not, one written otherwise is read its own way.
fn may_have_param(content_type: &str, name: &str) -> bool {
    !is_plain_content_type(content_type)
        || params(content_type).any(|(n, _)| n.eq_ignore_ascii_case(name))
}

/// The parameters of a plainly written Content-Type value ([`is_plain_content_type`]),
/// `(name, value)` with the quotes taken off. No value holds a `;`, and no name a `=`.
pub(super) fn params(value: &str) -> impl Iterator<Item = (&str, &str)> {
    pieces(value, b';').skip(1).filter_map(|piece| {
        let (name, value) = split_once_byte(piece, b'=')?;
        let value = trim_blanks(value);
        let bare = value.strip_prefix('"').and_then(|v| v.strip_suffix('"'));
        Some((trim_blanks(name), bare.unwrap_or(value)))
    })
}

/// `s` without the spaces and tabs around it (what mail-parser skips between tokens).
fn trim_blanks(s: &str) -> &str {
    // Byte by byte, not by the char pattern's decoding: this runs on every parameter.
    trim_ascii_matching(s, |b| matches!(b, b' ' | b'\t'))
}

/// A byte of an RFC 2045 token: printable ASCII but the separators (and `*`, which
/// starts an RFC 2231 part).
const fn is_token_byte(b: u8) -> bool {
    b.is_ascii_graphic()
        && !matches!(
            b,
            b'(' | b')'
                | b'<'
                | b'>'
                | b'@'
                | b','
                | b';'
                | b':'
                | b'\\'
                | b'"'
                | b'/'
                | b'['
                | b']'
                | b'?'
                | b'='
                | b'*'
        )
}

/// The end of the line starting at `pos`, after its line feed.
fn line_end(message: &[u8], pos: usize) -> usize {
    memchr::memchr(b'\n', &message[pos..]).map_or(message.len(), |i| pos + i + 1)
}

#[cfg(test)]
mod tests {
    use super::super::mail::header_block;
    use super::*;

    /// The fields read off the walk's lines are `header_block`'s, wherever the walk
    /// gives them: header blocks of every few lines of tricky shapes (folds, an mbox
    /// `From ` line, a stray line, names in any case and named twice, CRs, bytes that
    /// are not UTF-8), ended by a bare blank line, a CR LF one, a blank line with
    /// spaces, or none.
    #[test]
    fn fields_read_by_the_walk_are_header_blocks() {
        let lines: [&[u8]; 15] = [
            b"From MAILER-DAEMON Thu Apr 29\n",
            b"Date:  Mon, 1 Jan 2024\n",
            b" folded\n",
            b"\tfolded  again \n",
            b"TO: a@b.example\n",
            b"to:c@d.example\r\n",
            b"Received: from x\n",
            b"Subject: s\n",
            b"Content-Type: multipart/report; boundary=b\n",
            b"not a field\n",
            b"X-Mailer: caf\xc3\xa9\n",
            b"X-Failed-Recipients: \xe9t\xe9\n",
            b"Return-Path:\n",
            b"\r\n",
            b"\n",
        ];
        let ends: [&[u8]; 4] = [b"\n", b"\r\n", b" \n", b""];
        let body = b"--b\nContent-Type: text/plain\n\nFrom: x\n\nTo: y\n--b--\n";
        let mut read_off_the_walk = 0;
        let mut messages = 0;
        for a in &lines {
            for b in &lines {
                for c in &lines {
                    for end in &ends {
                        let raw = [a, b, c, end, &body[..]].concat();
                        messages += 1;
                        if let (_, Some(fields)) = skeleton_and_fields(&raw) {
                            read_off_the_walk += 1;
                            assert_eq!(
                                fields,
                                header_block(&raw),
                                "{:?}",
                                String::from_utf8_lossy(&raw)
                            );
                        }
                    }
                }
            }
        }
        // Most shapes are not walked (a stray line, a fold first) or not read off it.
        assert!(
            read_off_the_walk >= 600,
            "{read_off_the_walk} of {messages}"
        );
    }

    /// The byte splits cut where the char patterns cut: empty pieces, separators at
    /// either end or doubled, none at all, non-ASCII text around them.
    #[test]
    fn byte_splits_cut_as_char_patterns() {
        let values = [
            "",
            ";",
            ";;",
            "a",
            "text/plain",
            "text/plain; charset=us-ascii",
            "multipart/report; report-type=delivery-status;\tboundary=\"b=1\";",
            ";é;=;a=b=c;ü=ö",
            "x=;=y; =z = ",
        ];
        for value in values {
            assert!(pieces(value, b';').eq(value.split(';')), "{value:?}");
            for piece in value.split(';') {
                assert_eq!(split_once_byte(piece, b'='), piece.split_once('='));
                assert_eq!(split_once_byte(piece, b'/'), piece.split_once('/'));
            }
        }
    }

    /// The delimiter search finds what memmem finds: short and long boundaries (the
    /// packed pair search and memmem's short-haystack path), runs of dashes, near
    /// misses, a delimiter at either end or nowhere.
    #[test]
    fn delimiters_are_found_where_memmem_finds_them() {
        let long = "----=_NextPart_000_0012_01D9A1B2.C3D4E5F6_long_enough_for_two_way";
        let boundaries = ["b", "b1", "==x==", "----=_Part_1_2.3", long];
        for boundary in boundaries {
            let delimiter = format!("--{boundary}");
            let near = &delimiter[..delimiter.len() - 1];
            let mut haystacks = vec![
                String::new(),
                delimiter.clone(),
                near.to_string(),
                format!("x{delimiter}"),
                format!("{near}-{delimiter}"),
                "-".repeat(300),
                format!("{}{delimiter}", "-".repeat(300)),
            ];
            for filler in [1, 15, 16, 31, 32, 33, 63, 64, 65, 100, 1000] {
                let text = "a-b\n--".repeat(filler);
                haystacks.push(text.clone());
                haystacks.push(format!("{text}{delimiter}"));
                haystacks.push(format!("{text}\n{near}\n{delimiter}--\n{text}"));
                haystacks.push(format!("{delimiter}{text}"));
            }
            let search = Delimiter::new(boundary.as_bytes());
            for haystack in &haystacks {
                let haystack = haystack.as_bytes();
                for start in [0, 1, 7] {
                    let rest = haystack.get(start..).unwrap_or_default();
                    assert_eq!(
                        search.find(rest),
                        memmem::find(rest, delimiter.as_bytes()),
                        "{boundary:?} in {:?}",
                        String::from_utf8_lossy(rest)
                    );
                }
            }
        }
    }
}

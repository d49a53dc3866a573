//! A base64 decoder for the text parts of the skeleton (see `skeleton`), as `qp` is
//! for quoted-printable ones. It yields the very bytes mail-parser 0.11.9's
//! `MessageStream::decode_base64_mime` does (a bump of mail-parser must check them
//! again: the tests compare both on generated bodies), quirks included:
//! - spaces, tabs, CRs and line feeds are skipped, and so is a lone `-`;
//! - `=` ends a group early: one or two letters give one byte (one letter its six
//!   bits shifted left by two), three give two;
//! - letters short of a group at the end are dropped;
//! - any other byte, or a `-` after a `-` that does not start the closing delimiter,
//!   makes mail-parser give up on the part (it then reads the bytes as they are):
//!   `None` here.

/// Decodes `body` as mail-parser does: the bytes before a closing `--boundary` when
/// `closed`, or a whole body read without a boundary. `None` where mail-parser gives
/// up.
pub(super) fn decode(body: &[u8], closed: bool) -> Option<Vec<u8>> {
    // A `-` before the delimiter pairs with its first one, not followed by the
    // boundary.
    if closed && body.last() == Some(&b'-') {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() / 4 * 3);
    let mut group = 0u32;
    let mut letters = 0;
    let mut last = b'\n';
    for &b in body {
        match (letter_value(b), b) {
            (Some(value), _) => {
                group = group << 6 | u32::from(value);
                letters += 1;
                if letters == 4 {
                    out.extend_from_slice(&group.to_be_bytes()[1..]);
                    (group, letters) = (0, 0);
                }
            }
            (None, b'=') => {
                let bytes = (group << (6 * (4 - letters))).to_be_bytes();
                match letters {
                    1 | 2 => out.push(bytes[1]),
                    3 => out.extend_from_slice(&bytes[1..3]),
                    _ => {}
                }
                (group, letters) = (0, 0);
            }
            (None, b' ' | b'\t' | b'\r' | b'\n') => {}
            (None, b'-') if last != b'-' => {}
            (None, _) => return None,
        }
        last = b;
    }
    Some(out)
}

/// The six bits a base64 letter stands for.
fn letter_value(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

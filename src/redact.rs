//! `--redact`: local parts of email addresses become a stable short hash, in every
//! event and delivery before any report sees them, so reports can be shared.
//!
//! `jane.doe@example.org` becomes `r-3f9a1c0b2e@example.org`: the domain stays (the
//! analysis is by domain and provider), the same address always gives the same hash
//! (so counts per address and `bouncex trace` still work), and addresses inside
//! diagnostic texts ("<jane.doe@example.org>: Recipient address rejected") are
//! replaced too. The hash is FNV-1a over the lowercased local part: it hides
//! addresses from a reader of the report, it is not a cryptographic protection
//! against someone who guesses candidate addresses.

use std::sync::Arc;

use crate::model::{Delivery, Event};
use crate::parse::Sink;

/// The redacted form of a local part.
fn hash_local(local: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in local.bytes() {
        h ^= u64::from(b.to_ascii_lowercase());
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // A final mix, so addresses that differ in one character differ everywhere.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    format!("r-{:010x}", h & 0xff_ffff_ffff)
}

/// An address with its local part hashed; a string without `@` is returned as is.
pub fn address(addr: &str) -> String {
    match addr.rsplit_once('@') {
        Some((local, domain)) if !local.is_empty() => format!("{}@{domain}", hash_local(local)),
        _ => addr.to_string(),
    }
}

fn is_local_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b".!#$%&'*+/=?^_`{|}~-".contains(&c)
}

fn is_domain_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'.' || c == b'-'
}

/// Every `local@domain` in a free text with its local part hashed.
pub fn text(s: &str) -> String {
    if !s.contains('@') {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut copied = 0;
    for (at, _) in s.match_indices('@') {
        if at < copied {
            continue;
        }
        let mut start = at;
        while start > copied && is_local_char(b[start - 1]) {
            start -= 1;
        }
        let has_domain = b.get(at + 1).is_some_and(|&c| is_domain_char(c));
        if start == at || !has_domain {
            continue;
        }
        out.push_str(&s[copied..start]);
        out.push_str(&hash_local(&s[start..at]));
        copied = at;
    }
    out.push_str(&s[copied..]);
    out
}

fn event(e: &Event) -> Event {
    let mut e = e.clone();
    e.recipient = Arc::from(address(&e.recipient));
    e.sender = e.sender.as_deref().map(|s| Arc::from(address(s)));
    e.diagnostic = e.diagnostic.as_deref().map(text);
    if let Some(extra) = &e.extra {
        let redacted: Vec<(Arc<str>, Arc<str>)> = extra
            .iter()
            .map(|(k, v)| {
                let v = if v.contains('@') {
                    Arc::from(text(v))
                } else {
                    v.clone()
                };
                (k.clone(), v)
            })
            .collect();
        e.extra = Some(redacted.into());
    }
    e
}

/// Passes redacted copies on to the inner sink.
pub struct RedactSink<'a> {
    pub inner: &'a mut dyn Sink,
}

impl Sink for RedactSink<'_> {
    fn event(&mut self, e: &Event) {
        self.inner.event(&event(e));
    }

    fn delivery(&mut self, d: &Delivery) {
        let mut d = d.clone();
        d.last = event(&d.last);
        d.last_failure = d.last_failure.as_ref().map(event);
        self.inner.delivery(&d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_keep_their_domain_and_hash_stably() {
        let a = address("Jane.Doe@example.org");
        assert_eq!(a, address("jane.doe@example.org"));
        assert!(a.starts_with("r-") && a.ends_with("@example.org"), "{a}");
        assert_ne!(a, address("john@example.org"));
        assert_eq!(address("MAILER-DAEMON"), "MAILER-DAEMON");
    }

    #[test]
    fn addresses_inside_texts_are_replaced() {
        let t = text(
            "550 5.1.1 <jane.doe@example.org>: Recipient address rejected (from bounce+c1.m7@news.example.net)",
        );
        assert!(!t.contains("jane.doe") && !t.contains("bounce+c1"), "{t}");
        assert!(
            t.contains(&format!("<{}>", address("jane.doe@example.org"))),
            "{t}"
        );
        assert!(t.contains("@news.example.net)"), "{t}");
        assert_eq!(text("no address here @ all"), "no address here @ all");
        assert_eq!(text("trailing@"), "trailing@");
    }
}

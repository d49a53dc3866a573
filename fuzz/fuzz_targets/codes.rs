//! Code extraction and classification on arbitrary UTF-8: `codes::extract`,
//! `codes::leading_reply`, `ReplyCode::parse` / `EnhancedCode::parse` (which must
//! round-trip through `Display`), stage detection, `inner_reply`, and the built-in
//! classifier with evidence on, as `bouncex classify` and `explain` call it.
#![no_main]

use std::sync::OnceLock;

use bouncex::classify::{self, Classifier, Diagnosis, explain};
use bouncex::codes::{self, EnhancedCode, ReplyCode};
use libfuzzer_sys::fuzz_target;

fn classifier() -> &'static Classifier {
    static CLASSIFIER: OnceLock<Classifier> = OnceLock::new();
    CLASSIFIER.get_or_init(|| {
        let mut c = Classifier::builtin();
        c.set_evidence(true);
        c
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let found = codes::extract(text);
    let _ = codes::leading_reply(text.as_bytes());
    if let Some(r) = ReplyCode::parse(text) {
        assert_eq!(ReplyCode::parse(&r.to_string()), Some(r));
    }
    if let Some(e) = EnhancedCode::parse(text) {
        assert_eq!(EnhancedCode::parse(&e.to_string()), Some(e));
    }
    // What extraction finds, `explain --code` reads back the same.
    if let Some(r) = found.reply {
        assert_eq!(explain::parse_codes(&r.to_string()).reply, Some(r));
    }
    if let Some(e) = found.enhanced {
        assert_eq!(explain::parse_codes(&e.to_string()).enhanced, Some(e));
    }
    let _ = classify::inner_reply(text);
    let c = classifier();
    let d = Diagnosis::from_text(text);
    let _ = c.classify(&d);
    // Relay and domain set too, so rules that test them get as far as their patterns;
    // the text's two halves stand in for them.
    let mid = text
        .char_indices()
        .nth(text.chars().count() / 2)
        .map_or(0, |(i, _)| i);
    let with_hosts = Diagnosis {
        relay: Some(&text[..mid]),
        domain: Some(&text[mid..]),
        ..d
    };
    let _ = c.classify(&with_hosts);
    let _ = explain::explain(c, text, Some(text));
    let _ = explain::classify_line(c, text);
});

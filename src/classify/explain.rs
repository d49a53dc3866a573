//! `bouncex explain` and `bouncex classify`: one diagnostic in, the verdict and why.
//!
//! [`explain`] runs the classifier on a text plus optional codes given apart from it and
//! reports everything that went into the verdict: the codes and their meaning, the SMTP
//! stage, the rule that matched with where it is written, and what it matched on.
//! [`classify_line`] is the short form, one JSON object per input line.

use serde::Serialize;

use super::{Classifier, Diagnosis, detect_stage, enhanced_meaning, vocabulary};
use crate::codes::{self, EnhancedCode, ReplyCode};

/// Everything `bouncex explain` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    pub input: String,
    pub reply_code: Option<ReplyCode>,
    pub enhanced_code: Option<EnhancedCode>,
    pub enhanced_meaning: Option<String>,
    pub stage: Option<&'static str>,
    pub bucket: &'static str,
    pub reason: &'static str,
    pub reason_meaning: Option<&'static str>,
    pub hard: bool,
    /// "hard" (class 5 or no class) or "soft" (class 4).
    pub severity: &'static str,
    pub rule: String,
    /// `file:line` of the rule, `None` for the fallback.
    pub rule_origin: Option<String>,
    pub rule_note: Option<String>,
    pub evidence: String,
}

/// Codes given apart from the text: "550", "5.1.1" or "550 5.1.1" (either order).
/// Words that are neither are ignored.
pub fn parse_codes(code: &str) -> codes::Codes {
    let mut out = codes::Codes::default();
    for word in code.split(|c: char| c.is_whitespace() || c == ',') {
        if let Some(r) = ReplyCode::parse(word) {
            out.reply = Some(r);
        } else if let Some(e) = EnhancedCode::parse(word.trim_start_matches('#')) {
            out.enhanced = Some(e);
        }
    }
    out
}

/// Classifies `text` with the codes found in it, the codes in `code` taking precedence.
pub fn explain(classifier: &Classifier, text: &str, code: Option<&str>) -> Explanation {
    let mut d = Diagnosis::from_text(text);
    if let Some(code) = code {
        let given = parse_codes(code);
        d.reply_code = given.reply.or(d.reply_code);
        d.enhanced_code = given.enhanced.or(d.enhanced_code);
    }
    d.stage = detect_stage(text);
    let (verdict, index) = classifier.classify_indexed(&d);
    let rule = index.map(|i| &classifier.rules()[i]);
    Explanation {
        input: text.to_string(),
        reply_code: d.reply_code,
        enhanced_code: d.enhanced_code,
        enhanced_meaning: d.enhanced_code.and_then(enhanced_meaning::describe),
        stage: d.stage.map(|s| s.as_str()),
        bucket: verdict.bucket.as_str(),
        reason: verdict.reason,
        reason_meaning: vocabulary::meaning(verdict.reason),
        hard: verdict.hard,
        severity: if verdict.hard { "hard" } else { "soft" },
        rule: verdict.rule.to_string(),
        rule_origin: rule.map(|r| format!("{}:{}", r.origin, r.line)),
        rule_note: rule.and_then(|r| r.note.clone()),
        evidence: verdict.evidence,
    }
}

/// A few aligned `key: value` lines for a terminal.
pub fn render_text(e: &Explanation) -> String {
    let mut lines: Vec<(&str, String)> = vec![("input", e.input.clone())];
    let code = match (e.reply_code, e.enhanced_code) {
        (Some(r), Some(x)) => format!("{r} {x}"),
        (Some(r), None) => r.to_string(),
        (None, Some(x)) => x.to_string(),
        (None, None) => "-".to_string(),
    };
    lines.push(("code", code));
    if let Some(m) = &e.enhanced_meaning {
        lines.push(("meaning", m.clone()));
    }
    if let Some(stage) = e.stage {
        lines.push(("stage", stage.to_string()));
    }
    lines.push(("bucket", format!("{} ({})", e.bucket, e.severity)));
    let reason = match e.reason_meaning {
        Some(m) => format!("{}: {m}", e.reason),
        None => e.reason.to_string(),
    };
    lines.push(("reason", reason));
    let rule = match &e.rule_origin {
        Some(origin) => format!("{} ({origin})", e.rule),
        None => e.rule.clone(),
    };
    lines.push(("rule", rule));
    if let Some(note) = &e.rule_note {
        lines.push(("note", note.clone()));
    }
    if !e.evidence.is_empty() {
        lines.push(("evidence", e.evidence.clone()));
    }
    let width = lines.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (key, value) in lines {
        out.push_str(&format!("{key:>width$}: {value}\n"));
    }
    out
}

/// One `bouncex classify` output record for one input line.
pub fn classify_line(classifier: &Classifier, line: &str) -> serde_json::Value {
    let d = Diagnosis::from_text(line);
    let v = classifier.classify(&d);
    serde_json::json!({
        "input": line,
        "reply_code": d.reply_code,
        "enhanced_code": d.enhanced_code,
        "bucket": v.bucket.as_str(),
        "reason": v.reason,
        "rule": &*v.rule,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_given_apart_win_over_the_text() {
        let c = Classifier::builtin();
        let e = explain(&c, "550 5.7.1 rejected", Some("550 5.1.1"));
        assert_eq!(e.reply_code.map(|r| r.value()), Some(550));
        assert_eq!(
            e.enhanced_code.map(|x| x.to_string()).as_deref(),
            Some("5.1.1")
        );
        assert_eq!(e.bucket, "list_rot");
        let e = explain(&c, "mailbox gone", Some("5.1.1"));
        assert_eq!((e.reply_code, e.bucket), (None, "list_rot"));
        assert_eq!(
            e.enhanced_meaning.as_deref(),
            Some("the destination mailbox does not exist")
        );
        let e = explain(&c, "452 4.2.2 over quota", Some("bogus"));
        assert_eq!((e.bucket, e.hard, e.severity), ("transient", false, "soft"));
        let p = parse_codes("5.1.1 550");
        assert_eq!(p.reply.map(|r| r.value()), Some(550));
        assert_eq!(p.enhanced.map(|x| x.detail), Some(1));
    }

    #[test]
    fn explanation_names_rule_origin_stage_and_evidence() {
        let c = Classifier::builtin();
        let e = explain(
            &c,
            "host mx.example.com[192.0.2.1] said: 554 5.7.1 Service unavailable; Client host [192.0.2.9] blocked using zen.spamhaus.org (in reply to RCPT TO command)",
            None,
        );
        assert_eq!(e.bucket, "reputation");
        assert_eq!(e.reason, "blocklisted");
        assert_eq!(e.stage, Some("rcpt"));
        assert!(e.hard);
        let origin = e.rule_origin.as_deref().unwrap();
        assert!(origin.starts_with("<built-in rules.toml>:"), "{origin}");
        assert!(e.evidence.starts_with("text \""), "{}", e.evidence);
        assert_eq!(e.reason_meaning, vocabulary::meaning("blocklisted"));
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["enhanced_code"], "5.7.1");
        assert_eq!(json["reply_code"], 554);
        assert_eq!(json["severity"], "hard");

        let text = render_text(&e);
        assert!(text.contains("\n  bucket: reputation (hard)\n"), "{text}");
        assert!(text.contains("\n  reason: blocklisted: "), "{text}");
        assert!(text.contains("\n    rule: "), "{text}");
        // Aligned on the colon.
        let columns: Vec<_> = text.lines().map(|l| l.find(": ").unwrap()).collect();
        assert!(columns.iter().all(|&c| c == columns[0]), "{text}");
    }

    #[test]
    fn fallback_has_no_origin() {
        let c = Classifier::builtin();
        let e = explain(&c, "something odd happened", None);
        assert_eq!(e.bucket, "unknown");
        assert_eq!(e.rule, "fallback.unclassified");
        assert_eq!(e.rule_origin, None);
        let text = render_text(&e);
        assert!(text.contains("code: -"), "{text}");
        assert!(!text.contains("evidence"), "{text}");
    }

    #[test]
    fn classify_line_gives_the_ndjson_record() {
        let c = Classifier::builtin();
        let v = classify_line(
            &c,
            "550 5.1.1 <a@example.com>: Recipient address rejected: User unknown",
        );
        assert_eq!(v["reply_code"], 550);
        assert_eq!(v["enhanced_code"], "5.1.1");
        assert_eq!(v["bucket"], "list_rot");
        assert_eq!(v["reason"], "user_unknown");
        assert!(v["rule"].as_str().is_some_and(|r| !r.is_empty()));
        let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys.len(), 6);
        let v = classify_line(&c, "");
        assert_eq!(v["reply_code"], serde_json::Value::Null);
    }
}

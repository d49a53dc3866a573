//! The rule table tests itself: every rule wins on each of its own samples, which
//! proves the ids unique (parse), every rule reachable and none shadowed by an earlier
//! rule.

use super::*;

fn diagnosis_of(sample: &rules::RawSample) -> Diagnosis<'_> {
    match sample {
        rules::RawSample::Text(text) => Diagnosis::from_text(text),
        rules::RawSample::Full {
            text,
            relay,
            domain,
            stage,
        } => {
            let mut d = Diagnosis::from_text(text);
            d.relay = relay.as_deref();
            d.domain = domain.as_deref();
            if let Some(stage) = stage {
                d.stage = SmtpStage::parse(stage);
            }
            d
        }
    }
}

#[test]
fn every_rule_wins_on_its_own_samples() {
    let classifier = Classifier::builtin();
    let mut failures = Vec::new();
    for (i, rule) in classifier.rules().iter().enumerate() {
        if rule.samples.is_empty() {
            failures.push(format!("{}: no samples", rule.id));
        }
        for sample in &rule.samples {
            let d = diagnosis_of(sample);
            let (verdict, index) = classifier.classify_indexed(&d);
            if index != Some(i) {
                failures.push(format!(
                    "{} (line {}): sample {:?} was won by {}",
                    rule.id, rule.line, d.text, verdict.rule
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn wrapped_replies_are_classified_by_the_inner_reply() {
    let c = Classifier::builtin();
    let v = c.classify(&Diagnosis::from_text(
        "host mx.user-unknown.example[192.0.2.1] said: 554 5.7.1 blocked using zen.spamhaus.org (in reply to RCPT TO command)",
    ));
    assert_eq!(v.bucket, Bucket::Reputation);
    assert_eq!(
        inner_reply("host a[1.2.3.4] said: 550 x (in reply to RCPT TO command)"),
        "550 x"
    );
}

#[test]
fn stage_comes_from_postfix_wording() {
    assert_eq!(
        detect_stage("host a said: 550 x (in reply to end of DATA command)"),
        Some(SmtpStage::Data)
    );
    assert_eq!(
        detect_stage("host a[1.2.3.4] refused to talk to me: 554 go away"),
        Some(SmtpStage::Connect)
    );
    assert_eq!(detect_stage("550 x"), None);
}

#[test]
fn user_rules_come_first_and_duplicates_are_refused() {
    let user = rules::parse_rules(
        "[[rule]]\nid = \"mine\"\nreason = \"content_spam\"\ntext = 'user unknown'\nsamples = ['550 user unknown']\n",
        "mine.toml",
    )
    .unwrap();
    let c = Classifier::with_user_rules(user).unwrap();
    let v = c.classify(&Diagnosis::from_text("550 5.1.1 user unknown"));
    assert_eq!((&*v.rule, v.bucket), ("mine", Bucket::Content));
    let dup = rules::parse_rules(
        "[[rule]]\nid = \"class.5xx\"\nreason = \"content_spam\"\n",
        "dup.toml",
    )
    .unwrap();
    let err = Classifier::with_user_rules(dup).unwrap_err().to_string();
    assert!(err.starts_with("dup.toml:1: rule \"class.5xx\": duplicate id"), "{err}");
}

/// Batch classification for `scripts/check-classifier.py`: one diagnostic per line of
/// the file named by `BOUNCEX_CLASSIFY_IN`, one NDJSON record per line written to
/// `BOUNCEX_CLASSIFY_OUT` (the same records as `bouncex classify`). Run with
/// `cargo test --release --lib -- --ignored classify_batch`.
#[test]
#[ignore = "a measurement helper, driven by scripts/check-classifier.py"]
fn classify_batch() {
    use std::io::Write;
    let (Ok(input), Ok(output)) = (
        std::env::var("BOUNCEX_CLASSIFY_IN"),
        std::env::var("BOUNCEX_CLASSIFY_OUT"),
    ) else {
        eprintln!("set BOUNCEX_CLASSIFY_IN and BOUNCEX_CLASSIFY_OUT");
        return;
    };
    let classifier = Classifier::builtin();
    let text = std::fs::read(&input).expect("read BOUNCEX_CLASSIFY_IN");
    let text = String::from_utf8_lossy(&text);
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(&output).expect("create BOUNCEX_CLASSIFY_OUT"),
    );
    for line in text.lines() {
        let record = explain::classify_line(&classifier, line);
        writeln!(out, "{record}").expect("write BOUNCEX_CLASSIFY_OUT");
    }
    out.flush().expect("flush BOUNCEX_CLASSIFY_OUT");
}

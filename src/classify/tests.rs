//! The rule table tests itself: every rule wins on each of its own samples, which
//! proves the ids unique (parse), every rule reachable and none shadowed by an earlier
//! rule.

use super::*;
use crate::model::{EnhancedCode, ReplyCode};

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
    assert!(
        err.starts_with("dup.toml:1: rule \"class.5xx\": duplicate id"),
        "{err}"
    );
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

/// The hand-written cases in `cases.tsv`: bucket and reason.
#[test]
fn hand_written_cases() {
    let c = Classifier::builtin();
    let mut failures = Vec::new();
    let mut n = 0;
    for line in include_str!("cases.tsv").lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let cols: Vec<_> = line.split('\t').collect();
        assert_eq!(cols.len(), 3, "cases.tsv: {line}");
        let v = c.classify(&Diagnosis::from_text(cols[2]));
        if (v.bucket.as_str(), v.reason) != (cols[0], cols[1]) {
            failures.push(format!(
                "want {}/{}, got {}/{} by {}: {}",
                cols[0], cols[1], v.bucket, v.reason, v.rule, cols[2]
            ));
        }
        n += 1;
    }
    assert!(n >= 50, "{n} cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every row of shared/reference/provider-codes.csv, written as a realistic reply in
/// `provider-cases.tsv`, gets the bucket written there; where that is not the csv's
/// suggestion the file says why.
#[test]
fn provider_table() {
    let c = Classifier::builtin();
    let mut failures = Vec::new();
    let mut rows = Vec::new();
    for line in include_str!("provider-cases.tsv").lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let cols: Vec<_> = line.split('\t').collect();
        assert_eq!(cols.len(), 5, "provider-cases.tsv: {line}");
        let row: usize = cols[0].parse().expect("row number");
        let (suggested, ours, text, why) = (cols[1], cols[2], cols[3], cols[4]);
        assert!(
            Bucket::parse(suggested).is_some() && Bucket::parse(ours).is_some(),
            "{line}"
        );
        if suggested != ours && why.trim().is_empty() {
            failures.push(format!(
                "row {row}: {ours} instead of {suggested} needs a reason"
            ));
        }
        if suggested == ours && !why.is_empty() {
            failures.push(format!("row {row}: a reason although the buckets agree"));
        }
        let v = c.classify(&Diagnosis::from_text(text));
        if v.bucket.as_str() != ours {
            failures.push(format!(
                "row {row}: want {ours}, got {} by {}: {text}",
                v.bucket, v.rule
            ));
        }
        rows.push(row);
    }
    rows.sort_unstable();
    assert_eq!(rows, (1..=574).collect::<Vec<_>>(), "one line per csv row");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every registered enhanced code (X.0.0 to X.7.30, written out here), in class 4 and
/// class 5, classifies to a real bucket from the code alone.
#[test]
fn every_registered_enhanced_code_has_a_bucket() {
    #[rustfmt::skip]
    const REGISTRY: &[(u16, u16)] = &[
        (0, 0),
        (1, 0), (1, 1), (1, 2), (1, 3), (1, 4), (1, 5), (1, 6), (1, 7), (1, 8), (1, 9), (1, 10),
        (2, 0), (2, 1), (2, 2), (2, 3), (2, 4),
        (3, 0), (3, 1), (3, 2), (3, 3), (3, 4), (3, 5), (3, 6),
        (4, 0), (4, 1), (4, 2), (4, 3), (4, 4), (4, 5), (4, 6), (4, 7),
        (5, 0), (5, 1), (5, 2), (5, 3), (5, 4), (5, 5), (5, 6),
        (6, 0), (6, 1), (6, 2), (6, 3), (6, 4), (6, 5), (6, 6), (6, 7), (6, 8), (6, 9), (6, 10),
        (7, 0), (7, 1), (7, 2), (7, 3), (7, 4), (7, 5), (7, 6), (7, 7), (7, 8), (7, 9), (7, 10),
        (7, 11), (7, 12), (7, 13), (7, 14), (7, 15), (7, 16), (7, 17), (7, 18), (7, 19), (7, 20),
        (7, 21), (7, 22), (7, 23), (7, 24), (7, 25), (7, 26), (7, 27), (7, 28), (7, 29), (7, 30),
    ];
    assert_eq!(REGISTRY.len(), 81);
    let c = Classifier::builtin();
    let mut failures = Vec::new();
    for class in [4u8, 5] {
        for &(subject, detail) in REGISTRY {
            let code = EnhancedCode::new(class, subject, detail).unwrap();
            assert!(
                enhanced_meaning::meaning(code).is_some(),
                "{code} has a meaning"
            );
            let d = Diagnosis {
                enhanced_code: Some(code),
                ..Diagnosis::default()
            };
            let v = c.classify(&d);
            if v.bucket == Bucket::Unknown {
                failures.push(format!("{code}: unknown ({})", v.rule));
            }
            assert_eq!(v.hard, class == 5, "{code}");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Class 4 forms of list-rot codes are never list rot.
    for code in [
        "4.1.1", "4.1.2", "4.1.6", "4.2.1", "4.4.4", "4.7.13", "4.7.18",
    ] {
        let d = Diagnosis {
            enhanced_code: EnhancedCode::parse(code),
            ..Diagnosis::default()
        };
        assert_ne!(c.classify(&d).bucket, Bucket::ListRot, "{code}");
    }
}

/// Every basic reply code of RFC 5321 and its extensions classifies from the code alone;
/// 4xx never lands in list rot.
#[test]
fn every_failure_reply_code_has_a_bucket() {
    let c = Classifier::builtin();
    let codes = [
        421, 422, 432, 450, 451, 452, 454, 455, 458, 459, 500, 501, 502, 503, 504, 521, 523, 525,
        530, 534, 535, 538, 550, 551, 552, 553, 554, 555, 556,
    ];
    for code in codes {
        let d = Diagnosis {
            reply_code: ReplyCode::new(code),
            ..Diagnosis::default()
        };
        let v = c.classify(&d);
        assert_ne!(v.bucket, Bucket::Unknown, "{code}: {}", v.rule);
        if code < 500 {
            assert!(!v.hard && v.bucket != Bucket::ListRot, "{code}: {}", v.rule);
        }
    }
}

#[test]
fn exchange_wrapper_quotes_the_next_hop() {
    assert_eq!(
        inner_reply(
            "host a[192.0.2.1] said: 550 5.7.350 Remote server returned message detected as spam -> 550 5.1.1 user unknown (in reply to RCPT TO command)"
        ),
        "550 5.1.1 user unknown"
    );
    assert_eq!(inner_reply("550 5.7.1 a -> b"), "550 5.7.1 a -> b");
}

#[test]
fn stage_comes_from_exim_sendmail_and_qmail_wording() {
    let cases = [
        (
            "SMTP error from remote mail server after RCPT TO:<a@example.org>: 550 5.1.1 unknown",
            Some(SmtpStage::Rcpt),
        ),
        (
            "SMTP error from remote mail server after MAIL FROM:<b@example.net> SIZE=1000: 553 sender rejected",
            Some(SmtpStage::Mail),
        ),
        (
            "SMTP error from remote mail server after end of data: 554 5.7.1 spam",
            Some(SmtpStage::Data),
        ),
        (
            "SMTP error from remote mail server after initial connection: 554 go away",
            Some(SmtpStage::Connect),
        ),
        (
            "... while talking to mx.example.org.: >>> RCPT To:<c@example.org> <<< 550 5.1.1 User unknown",
            Some(SmtpStage::Rcpt),
        ),
        (
            "192.0.2.9 does not like recipient. Remote host said: 550 no mailbox here",
            Some(SmtpStage::Rcpt),
        ),
        (
            "Connected to 192.0.2.9 but my name was rejected.",
            Some(SmtpStage::Helo),
        ),
        ("550 nothing to see", None),
    ];
    for (text, want) in cases {
        assert_eq!(detect_stage(text), want, "{text}");
    }
}

/// A user rule `mine` with the given pattern, in front of the built-in table.
fn with_rule(pattern: &str) -> Classifier {
    let src = format!(
        "[[rule]]\nid = \"mine\"\nreason = \"content_spam\"\ntext = '{pattern}'\nsamples = []\n"
    );
    Classifier::with_user_rules(rules::parse_rules(&src, "mine.toml").unwrap()).unwrap()
}

#[test]
fn a_literal_is_found_wherever_it_lies_in_a_long_reply() {
    // Long replies are scanned as two halves side by side: a literal across the
    // middle, or at either end, must still be seen.
    let c = with_rule("zzqq marker");
    for len in [10, 127, 128, 129, 300, 301] {
        for at in 0..=len {
            let text = format!("550 {}zzqq marker{}", "-".repeat(at), "-".repeat(len - at));
            let v = c.classify(&Diagnosis::from_text(&text));
            assert_eq!(&*v.rule, "mine", "len {len}, at {at}");
        }
    }
}

#[test]
fn a_pattern_with_a_short_prefix_is_gated_by_its_suffix() {
    // "8.bit data" starts with one byte: the prefilter keys it on "bit data".
    let c = with_rule("8.bit data|bare lf");
    for text in [
        "550 5.6.9 8-bit data in header",
        "554 Bare LF found",
        "550 8 BIT DATA",
    ] {
        assert_eq!(
            &*c.classify(&Diagnosis::from_text(text)).rule,
            "mine",
            "{text}"
        );
    }
    let v = c.classify(&Diagnosis::from_text("550 5.1.1 user unknown"));
    assert_ne!(&*v.rule, "mine");
}

#[test]
fn user_patterns_keep_unicode_and_the_built_in_table_is_ascii() {
    // Users write rules for replies in any language; the built-in table is ASCII.
    let c = with_rule(r"\p{L}+ unbekannt|ÄNDERUNG");
    for text in ["550 Empfänger unbekannt", "550 änderung abgelehnt"] {
        assert_eq!(
            &*c.classify(&Diagnosis::from_text(text)).rule,
            "mine",
            "{text}"
        );
    }
    let builtin = Classifier::builtin();
    assert!(
        builtin
            .rules()
            .iter()
            .all(|r| r.mode == rules::PatternMode::Ascii)
    );
}

#[test]
fn exactness_needs_a_pattern_of_plain_phrases() {
    let exact = |p: &str| literals::required_literals(p, false).is_some_and(|r| r.exact);
    assert!(exact("user unknown|no such user"));
    assert!(exact("mailbox (is )?full"));
    assert!(exact("Over Quota"));
    // A look-around is read as an empty string by the extractor: not exact.
    assert!(!exact(r"(?-u:\b)ssl(?-u:\b)"));
    assert!(!exact("^user unknown"));
    assert!(!exact("user .* unknown"));
    assert!(!exact("user unknown.*"));
    // Gated by its suffix only.
    assert!(!exact("8.bit data"));
    // Cut to LITERAL_MAX bytes: the piece is required, not the whole match.
    assert!(!exact(&"x".repeat(LITERAL_MAX + 1)));
    assert!(exact(&"x".repeat(LITERAL_MAX)));
}

/// The texts the classifier is checked on: the rules' samples, each also changed in
/// case and glued to the words around it, and the hand-written cases.
fn every_known_text(classifier: &Classifier) -> Vec<String> {
    let mut texts: Vec<String> = Vec::new();
    for rule in classifier.rules() {
        for sample in &rule.samples {
            let text = diagnosis_of(sample).text.to_string();
            texts.push(text.to_uppercase());
            texts.push(format!("x{}x", text.replace(' ', "")));
            texts.push(text);
        }
    }
    // The text is the last column of cases.tsv, the fourth of provider-cases.tsv.
    for (table, column) in [
        (include_str!("cases.tsv"), 2),
        (include_str!("provider-cases.tsv"), 3),
    ] {
        for line in table.lines().filter(|l| !l.starts_with('#')) {
            if let Some(text) = line.split('\t').nth(column) {
                texts.push(text.to_string());
            }
        }
    }
    texts
}

/// A pattern whose matches start with one of its literals is searched only where
/// the prefilter found one, anchored: on every text we have, with every such rule,
/// that finds the very match a search of the whole reply finds (and none where the
/// literals are absent). Texts with a literal twice, the first not a match, included.
#[test]
fn anchored_searches_find_the_leftmost_match() {
    let c = Classifier::builtin();
    let mut texts = every_known_text(&c);
    texts.push("550 user unknown? no: 550 5.1.1 <a@b.example>: Recipient address rejected: User unknown in local recipient table".to_string());
    texts.push(format!(
        "{} mailbox full {} mailbox is full",
        "-".repeat(150),
        "-".repeat(150)
    ));
    // Multibyte characters before and between the literals: the starts are byte
    // offsets, on ASCII bytes.
    texts.push(format!(
        "550 Empfänger unbekannt – user unknown; Postfach voll {} mailbox full",
        "ü".repeat(80)
    ));
    let anchored: Vec<usize> = (0..c.rules().len())
        .filter(|&i| c.table().prefilter.anchored(i))
        .collect();
    assert!(anchored.len() > 100, "{} anchored rules", anchored.len());
    let mut compared = 0;
    for text in &texts {
        let inner = inner_reply(text);
        let mut bits = vec![0u64; c.table().prefilter.words()];
        let mut hits = Hits::new();
        c.table()
            .prefilter
            .mark_candidates(inner, &mut bits, &mut hits);
        for &i in &anchored {
            let re = c.table().regex(i).expect("built-in patterns compile");
            let whole = re.find(inner.as_bytes());
            if bits[i / 64] & (1 << (i % 64)) == 0 {
                assert_eq!(whole, None, "rule {} on {text}", c.rules()[i].id);
                continue;
            }
            compared += 1;
            assert_eq!(
                search_at_hits(re, i, inner, &hits),
                whole,
                "rule {} on {text}",
                c.rules()[i].id
            );
        }
    }
    assert!(compared > 1000, "{compared} searches compared");
}

/// Without evidence, a rule of plain phrases is decided by the prefilter alone; with
/// evidence its regex runs. Both must pick the same rule on every text we have: the
/// rules' samples, the hand-written cases, and each sample changed in case and glued
/// to the words around it.
#[test]
fn exact_rules_decide_as_their_patterns_do() {
    let with_regex = Classifier::builtin();
    let mut shortcut = Classifier::builtin();
    shortcut.set_evidence(false);
    let texts = every_known_text(&with_regex);
    let exact_rules = (0..with_regex.rules().len())
        .filter(|&i| with_regex.table().prefilter.decides(i))
        .count();
    assert!(exact_rules > 50, "{exact_rules} rules of plain phrases");
    let mut differ = Vec::new();
    for text in &texts {
        let d = Diagnosis::from_text(text);
        let (a, b) = (with_regex.classify(&d), shortcut.classify(&d));
        if a.rule != b.rule {
            differ.push(format!(
                "{}: {} with the regex, {} without",
                text, a.rule, b.rule
            ));
        }
    }
    assert!(texts.len() > 1000, "{} texts", texts.len());
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

#[test]
fn last_match_agrees_with_the_reverse_searcher() {
    use memchr::memmem::{Finder, FinderRev};
    let texts = [
        "",
        " (in reply to ",
        "a (in reply to RCPT TO command) b (in reply to end of DATA command)",
        // Overlapping matches: the last starts inside the one before.
        " (in reply to (in reply to x",
        "aaaa",
        ">>> >>> RCPT",
    ];
    for needle in [" (in reply to ", "in reply to ", ">>> ", "aa", "a"] {
        let (forward, reverse) = (Finder::new(needle), FinderRev::new(needle));
        for text in texts {
            assert_eq!(
                last_match(&forward, text.as_bytes()),
                reverse.rfind(text.as_bytes()),
                "{needle:?} in {text:?}"
            );
        }
    }
}

/// The built-in table's literal DFA, made at build time, finds what an Aho-Corasick
/// NFA made here over the same literals finds: the same rules, at the same places.
#[test]
fn builtin_literal_dfa_finds_what_the_nfa_finds() {
    let rules = rules::parse_builtin().unwrap();
    let dfa = Prefilter::new(&rules, rules::builtin_literals(false), true);
    let nfa = Prefilter::new(&rules, rules::builtin_literals(true), false);
    assert!(matches!(nfa.automaton, Some(Automaton::Nfa(..))));
    let mut texts = every_known_text(&Classifier::builtin());
    // Long enough for two lanes, with literals everywhere.
    texts.push(texts.join(" | "));
    texts.push("Ü".repeat(100) + "MAILBOX FULL\0\u{7f}\u{ff}");
    let mut found = 0;
    for text in &texts {
        let mark = |p: &Prefilter| {
            let (mut bits, mut hits) = (vec![0u64; p.words()], Hits::new());
            p.mark_candidates(text, &mut bits, &mut hits);
            (bits, hits)
        };
        let expected = mark(&nfa);
        found += expected.1.len();
        assert_eq!(mark(&dfa), expected, "{text}");
    }
    assert!(found > 1000, "{found}");
}

/// The enhanced-code index rules out a rule only when no pattern of its `enhanced`
/// condition matches the code: for every code of subjects 0 to 9, with or without a
/// code, each rule whose condition holds is kept.
#[test]
fn the_enhanced_index_keeps_every_rule_whose_condition_holds() {
    let c = Classifier::builtin();
    let table = c.table();
    let kept = |allowed: &dyn Fn(usize) -> u64, i: usize| allowed(i / 64) >> (i % 64) & 1 == 1;
    let mut ruled_out = 0;
    let codes = [2, 4, 5].into_iter().flat_map(|class| {
        (0..10).flat_map(move |subject| {
            (0..1000).map(move |detail| EnhancedCode::new(class, subject, detail))
        })
    });
    for code in codes.chain([None]) {
        let allowed = table.enhanced_index.allowed(code);
        for (i, rule) in table.rules.iter().enumerate() {
            let holds = rule.enhanced.is_empty()
                || code.is_some_and(|e| rule.enhanced.iter().any(|p| p.matches(e)));
            assert!(!holds || kept(&allowed, i), "{} on {code:?}", rule.id);
            ruled_out += usize::from(!kept(&allowed, i));
        }
    }
    assert!(ruled_out > 1_000_000, "{ruled_out}");
}

/// `detect_stage` and `inner_reply` search a text only when one scan for all their
/// needles finds one: each needle alone is still found, at the start and at the end of
/// texts from a few bytes (too short for the SIMD scan) to a few hundred.
#[test]
fn one_scan_for_all_needles_misses_none() {
    let stages = [
        ("in reply to ", "RCPT TO command", Some(SmtpStage::Rcpt)),
        ("mail server after ", "MAIL FROM", Some(SmtpStage::Mail)),
        (">>> ", "DATA", Some(SmtpStage::Data)),
        ("refused to talk to me", "", Some(SmtpStage::Connect)),
        ("initial server greeting", "", Some(SmtpStage::Connect)),
        ("after initial connection", "", Some(SmtpStage::Connect)),
        ("does not like recipient", "", Some(SmtpStage::Rcpt)),
        ("does not like sender", "", Some(SmtpStage::Mail)),
        ("sender was rejected", "", Some(SmtpStage::Mail)),
        ("my name was rejected", "", Some(SmtpStage::Helo)),
        ("failed after I sent the message", "", Some(SmtpStage::Data)),
        ("In Reply To ", "RCPT", None),
    ];
    // (text, inner reply, whether the inner reply keeps what comes before the text)
    let wrappers = [
        ("host a said: 550 x", "550 x", false),
        ("host a refused to talk to me: 554 no", "554 no", false),
        ("Remote server returned x -> 550 y", "550 y", false),
        ("550 x (in reply to RCPT TO command)", "550 x", true),
        ("550 x -(in reply to", "550 x -(in reply to", true),
    ];
    for pad in [0, 1, 5, 16, 33, 100, 300] {
        let before = "x".repeat(pad);
        for (needle, command, want) in stages {
            let text = format!("{before}{needle}{command}");
            assert_eq!(detect_stage(&text), want, "{text}");
        }
        for (text, want, kept) in wrappers {
            let text = format!("{before}-{text}");
            let want = if kept {
                format!("{before}-{want}")
            } else {
                want.into()
            };
            assert_eq!(inner_reply(&text), want, "{text}");
        }
    }
}

//! Command-line behaviour: help, usage errors and their exit code, `explain`,
//! `classify`.

use serde_json::Value;

use crate::common::*;

#[test]
fn help_exits_zero() {
    for args in [
        &["--help"][..],
        &["analyze", "--help"],
        &["events", "--help"],
        &["help"],
    ] {
        let r = run(args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        assert!(
            r.stdout.contains("Usage: bouncex"),
            "{args:?}: {}",
            r.stdout
        );
    }
    let r = run_ok(&["--help"]);
    for command in ["analyze", "events", "explain", "classify"] {
        assert!(r.stdout.contains(command), "{command} in --help");
    }
    assert!(r.stdout.contains("Exit codes"), "{}", r.stdout);
    let r = run_ok(&["--version"]);
    assert!(r.stdout.starts_with("bouncex "), "{}", r.stdout);
}

#[test]
fn usage_errors_exit_two() {
    let basic = fixture("basic.log");
    let cases: &[&[&str]] = &[
        &["analyze", "--bogus", &basic],
        &["analyze", "--input-format", "nope", &basic],
        &["events", "--input-format", "nope", &basic],
        &["analyze", "--format", "xml", &basic],
        &["analyze", "--year", "1800", &basic],
        &["analyze", "--year", "twenty", &basic],
        &["analyze", "--top", "-1", &basic],
        // FILE is required.
        &["analyze"],
        &["events"],
        &["frobnicate"],
        &[],
    ];
    for args in cases {
        let r = run(args);
        assert_eq!(r.code, 2, "{args:?}");
        assert_eq!(
            r.stdout, "",
            "{args:?}: usage errors print nothing on stdout"
        );
        assert!(!r.stderr.is_empty(), "{args:?}: usage errors say why");
    }
    let r = run(&["analyze", "--input-format", "nope", &basic]);
    assert!(r.stderr.contains("nope"), "{}", r.stderr);
    assert!(
        r.stderr.contains("postfix"),
        "names the known formats: {}",
        r.stderr
    );
}

#[test]
fn rules_file_that_does_not_exist_is_an_error() {
    let r = run(&[
        "analyze",
        "--rules",
        "tests/fixtures/no-such-rules.toml",
        &fixture("basic.log"),
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no-such-rules.toml"), "{}", r.stderr);
}

#[test]
fn explain_prints_the_bucket() {
    let r = run_ok(&[
        "explain",
        "host mx.acme.example[192.0.2.50] said: 550 5.1.1 <x@acme.example>: Recipient address rejected: User unknown in local recipient table (in reply to RCPT TO command)",
    ]);
    let line = |key: &str| {
        r.stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{key}: ")))
            .unwrap_or_else(|| panic!("no {key} line in:\n{}", r.stdout))
            .trim_start()
            .to_string()
    };
    assert_eq!(line("bucket"), "bucket: list_rot (hard)");
    assert_eq!(line("code"), "code: 550 5.1.1");
    assert_eq!(line("stage"), "stage: rcpt");
    assert!(
        line("reason").starts_with("reason: user_unknown"),
        "{}",
        r.stdout
    );

    let r = run_ok(&[
        "explain",
        "--format",
        "json",
        "host mx.example.net[192.0.2.10] said: 554 5.7.1 Service unavailable; Client host [198.51.100.7] blocked using zen.spamhaus.org (in reply to RCPT TO command)",
    ]);
    let v = r.json();
    assert_eq!(v["bucket"], "reputation");
    assert_eq!(v["reply_code"], 554);
    assert_eq!(v["enhanced_code"], "5.7.1");
    assert_eq!(v["severity"], "hard");

    // The diagnostic may come on standard input.
    let r = run_with_stdin(
        &["explain"],
        Some(b"550 5.1.1 <x@acme.example>: Recipient address rejected: User unknown\n"),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("bucket: list_rot"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("input: 550 5.1.1 <x@acme.example>: Recipient"),
        "{}",
        r.stdout
    );
    // Codes may be given apart from the text.
    let r = run_ok(&["explain", "--code", "550 5.1.1", "mailbox gone"]);
    assert!(r.stdout.contains("bucket: list_rot"), "{}", r.stdout);
}

#[test]
fn classify_writes_one_record_per_line() {
    let input = "host mx.example.net[192.0.2.10] said: 550-5.1.1 The email account that you tried to reach does not exist. 550 5.1.1 Please check (in reply to RCPT TO command)\r\n\
                 host mx.example.net[192.0.2.10] said: 550 5.7.26 Unauthenticated email is not accepted due to DMARC policy (in reply to end of DATA command)\n\
                 connect to mx.oldcorp.example[192.0.2.40]:25: Connection refused\n\
                 \n\
                 something nobody has ever seen";
    let r = run_with_stdin(&["classify"], Some(input.as_bytes()));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stderr, "");
    let records = r.ndjson();
    assert_eq!(records.len(), 5);
    for rec in &records {
        let mut keys: Vec<&str> = rec
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        for want in ["bucket", "input", "reason", "rule"] {
            assert!(keys.contains(&want), "{want} missing in {rec}");
        }
        assert!(rec["rule"].as_str().is_some_and(|r| !r.is_empty()), "{rec}");
    }
    // Line endings are not part of the input.
    assert!(
        records[0]["input"]
            .as_str()
            .unwrap()
            .ends_with("(in reply to RCPT TO command)")
    );
    let buckets: Vec<&str> = records
        .iter()
        .map(|r| r["bucket"].as_str().unwrap())
        .collect();
    assert_eq!(&buckets[..3], ["list_rot", "auth", "infrastructure"]);
    assert_eq!(records[0]["reply_code"], 550);
    assert_eq!(records[0]["enhanced_code"], "5.1.1");
    assert_eq!(records[2]["reply_code"], Value::Null);
    assert_eq!(records[3]["input"], "");
    assert_eq!(records[4]["input"], "something nobody has ever seen");
    assert_eq!(records[4]["bucket"], "unknown");

    let r = run_with_stdin(&["classify"], Some(b""));
    assert_eq!((r.code, r.stdout.as_str()), (0, ""));
}

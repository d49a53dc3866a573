//! The DSN reader through the binary: each decoder on its own hand-written fixture,
//! containers (mbox, Maildir, stdin), line endings, non-bounces and broken input.
//! Fixtures are in `tests/fixtures/dsn/`; the generated ones (line-ending copies, mbox,
//! Maildir, truncated) come from `scripts/make-dsn-fixtures.py`.

use serde_json::{Value, json};

use crate::common::*;

fn dsn(name: &str) -> String {
    format!("tests/fixtures/dsn/{name}")
}

/// `bouncex events` on DSN fixtures, forced to the dsn format.
fn dsn_events(files: &[&str], deliveries: bool) -> Vec<Value> {
    let mut args = vec!["events", "--input-format", "dsn"];
    if deliveries {
        args.push("--deliveries");
    }
    let paths: Vec<String> = files.iter().map(|f| dsn(f)).collect();
    args.extend(paths.iter().map(String::as_str));
    run_ok(&args).ndjson()
}

/// The fields every decoder fills, in a fixed order.
fn summary(e: &Value) -> Value {
    json!([
        e["recipient"],
        e["action"],
        e["enhanced_code"],
        e["reply_code"],
        e["agent"],
        e["diagnostic"],
    ])
}

#[test]
fn rfc3464_report_fields() {
    let events = dsn_events(&["rfc3464-postfix.eml"], false);
    assert_eq!(events.len(), 2);
    assert_has(
        &events[0],
        json!({
            "source": {"kind": "dsn", "file": "tests/fixtures/dsn/rfc3464-postfix.eml", "line": 1},
            "time": "2026-03-09T10:14:58Z",
            "recipient": "gone@recipient.example",
            "recipient_domain": "recipient.example",
            "sender": "news@sender.example",
            "queue_id": "4F2A81C0042",
            "message_id": "march-3.8812@app1.sender.example",
            "relay_host": "mx1.recipient.example",
            "action": "bounced",
            "reply_code": 550,
            "enhanced_code": "5.1.1",
            "diagnostic": "550 5.1.1 <gone@recipient.example>: Recipient address rejected: User unknown in virtual mailbox table",
            "agent": "dsn/rfc3464",
            "bucket": "list_rot",
        }),
    );
    // The second block has its own Last-Attempt-Date.
    assert_has(
        &events[1],
        json!({
            "time": "2026-03-09T10:15:01Z",
            "recipient": "full@recipient.example",
            "action": "bounced",
            "reply_code": 552,
            "enhanced_code": "5.2.2",
            "diagnostic": "552 5.2.2 <full@recipient.example>: Mailbox full",
        }),
    );
    let deliveries = dsn_events(&["rfc3464-postfix.eml"], true);
    let outcomes: Vec<(&str, &str)> = deliveries
        .iter()
        .map(|d| {
            (
                d["recipient"].as_str().unwrap(),
                d["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("gone@recipient.example", "bounced"),
            ("full@recipient.example", "bounced")
        ]
    );
}

#[test]
fn each_decoder_reads_its_fixture() {
    let cases: &[(&str, Value)] = &[
        (
            "qmail.eml",
            json!([
                [
                    "nobody@shop-customer.example",
                    "bounced",
                    "5.1.1",
                    550,
                    "dsn/qmail",
                    "198.51.100.40 does not like recipient. Remote host said: 550 5.1.1 <nobody@shop-customer.example>: no such user here Giving up on 198.51.100.40."
                ],
                [
                    "tired@shop-customer.example",
                    "expired",
                    "4.7.1",
                    451,
                    "dsn/qmail",
                    "Connected to 198.51.100.41 but sender was rejected. Remote host said: 451 4.7.1 Please try again later I'm not going to try again; this message has been in the queue too long."
                ],
            ]),
        ),
        (
            "exim.eml",
            json!([
                [
                    "bob@far.example",
                    "bounced",
                    "5.7.1",
                    550,
                    "dsn/exim",
                    "host mx.far.example [203.0.113.50] SMTP error from remote mail server after RCPT TO:<bob@far.example>: 550 5.7.1 <bob@far.example>: Relaying denied"
                ],
                [
                    "carol@far.example",
                    "bounced",
                    null,
                    554,
                    "dsn/exim",
                    "host mx.far.example [203.0.113.50] SMTP error from remote mail server after MAIL FROM:<alice@sender.example> SIZE=2048: 554 Your access to this mail system has been rejected due to the sending MTA's poor reputation"
                ],
            ]),
        ),
        (
            "exim-delay.eml",
            json!([[
                "dave@slow.example",
                "delayed",
                "4.2.2",
                452,
                "dsn/exim",
                "host mx.slow.example [203.0.113.60] Delay reason: SMTP error from remote mail server after RCPT TO:<dave@slow.example>: 452 4.2.2 Mailbox over quota, try later"
            ],]),
        ),
        (
            "sendmail-v5.eml",
            json!([
                [
                    "frank@legacy.example",
                    "bounced",
                    null,
                    550,
                    "dsn/sendmail",
                    "550 <frank@legacy.example>... User unknown"
                ],
                [
                    "grace@legacy.example",
                    "bounced",
                    null,
                    554,
                    "dsn/sendmail",
                    "550 Host unknown (Authoritative answer from name server)"
                ],
            ]),
        ),
        (
            "courier.eml",
            json!([[
                "ivy@closed.example",
                "bounced",
                "5.2.1",
                550,
                "dsn/courier",
                "mx.closed.example [198.51.100.77]: >>> RCPT TO:<ivy@closed.example> <<< 550 5.2.1 <ivy@closed.example>: mailbox disabled"
            ],]),
        ),
        (
            "exchange2003.eml",
            json!([[
                "kim@corp.example",
                "bounced",
                null,
                null,
                "dsn/exchange",
                "The recipient name is not recognized MSEXCH:IMS:CORP:MAIN:EXCH01 0 (000C05A6) Unknown Recipient"
            ],]),
        ),
        (
            "gmail.eml",
            json!([[
                "mia@nowhere.example",
                "bounced",
                "5.1.1",
                550,
                "dsn/gmail",
                "Technical details of permanent failure: Google tried to deliver your message, but it was rejected by the server for the recipient domain nowhere.example by mx.nowhere.example. [198.51.100.90]. The error that the other server returned was: 550 5.1.1 <mia@nowhere.example>: unknown recipient"
            ],]),
        ),
        (
            "googlegroups.eml",
            json!([[
                "team@groups.example",
                "bounced",
                null,
                null,
                "dsn/googlegroups",
                "We're writing to let you know that the group you tried to contact (team) may not exist, or you may not have permission to post messages to the group."
            ],]),
        ),
        (
            "yahoo.eml",
            json!([[
                "oscar@remote.example",
                "bounced",
                "5.2.2",
                552,
                "dsn/yahoo",
                "Remote host said: 552 5.2.2 <oscar@remote.example>... Mailbox Full [RCPT_TO]"
            ],]),
        ),
        (
            "mimecast.eml",
            json!([[
                "quinn@firm.example",
                "bounced",
                "5.1.1",
                null,
                "dsn/mimecast",
                "The problem appears to be : Recipient email address is possibly incorrect Additional information follows : 5.1.1 Recipient address rejected: mailbox does not exist"
            ],]),
        ),
        (
            "dragonfly.eml",
            json!([[
                "sam@remote.example",
                "bounced",
                "5.7.1",
                550,
                "dsn/dragonfly",
                "mx.remote.example [198.51.100.12] did not like our RCPT TO: 550 5.7.1 <sam@remote.example>: Recipient address rejected: Access denied"
            ],]),
        ),
        (
            "jpcarrier.eml",
            json!([[
                "uma@vphone.dion.ne.jp",
                "bounced",
                null,
                null,
                "dsn/jpcarrier",
                "As their mailbox is full."
            ],]),
        ),
        (
            "notes.eml",
            json!([[
                "wendy@notes.example",
                "bounced",
                null,
                null,
                "dsn/notes",
                "because: User Wendy (wendy@notes.example) not listed in Domino Directory"
            ],]),
        ),
        (
            "amazonses.eml",
            json!([[
                "yara@ses-dest.example",
                "bounced",
                "5.1.1",
                550,
                "dsn/amazonses",
                "550 5.1.1 user unknown"
            ],]),
        ),
        (
            "generic.eml",
            json!([[
                "ben@odd-mta.example",
                "bounced",
                null,
                null,
                "dsn/generic",
                "This user doesn't have an odd-mta.example account [-9]"
            ],]),
        ),
        (
            "forwarded.eml",
            json!([[
                "carl@typo.example",
                "bounced",
                "5.1.2",
                550,
                "dsn/generic",
                "550 5.1.2 Host unknown (Name server: typo.example: host not found)"
            ],]),
        ),
        (
            "nested.eml",
            json!([[
                "eve@inside.example",
                "bounced",
                "5.1.1",
                550,
                "dsn/rfc3464",
                "550 5.1.1 User unknown"
            ],]),
        ),
        (
            "rfc3464-global.eml",
            json!([[
                "usuário@intl.example",
                "bounced",
                "5.1.1",
                550,
                "dsn/rfc3464",
                "550 5.1.1 mailbox \"usuário\" unknown"
            ],]),
        ),
        (
            "rfc3464-expired.eml",
            json!([[
                "late@faraway.example",
                "expired",
                "4.4.7",
                451,
                "dsn/rfc3464",
                "451 4.3.0 Temporary lookup failure"
            ],]),
        ),
    ];
    for (file, expected) in cases {
        let got: Vec<Value> = dsn_events(&[file], false).iter().map(summary).collect();
        assert_eq!(Value::Array(got), *expected, "{file}");
    }
}

#[test]
fn expired_report_is_an_expired_delivery() {
    let deliveries = dsn_events(&["rfc3464-expired.eml"], true);
    assert_eq!(deliveries.len(), 1);
    assert_has(
        &deliveries[0],
        json!({"recipient": "late@faraway.example", "outcome": "expired", "kpi": "infrastructure"}),
    );
}

#[test]
fn delay_warning_is_an_event_but_no_delivery() {
    let events = dsn_events(&["rfc3464-delayed.eml"], false);
    assert_eq!(events.len(), 1);
    assert_has(
        &events[0],
        json!({
            "recipient": "slow@busy.example",
            "action": "delayed",
            "enhanced_code": "4.4.1",
            "reply_code": null,
            "message_id": "inv-1042@sender.example",
            "sender": "billing@sender.example",
            "time": "2026-03-10T04:00:00Z",
            "diagnostic": "connect to mx.busy.example[203.0.113.7]:25: Connection timed out",
        }),
    );
    assert_eq!(
        dsn_events(&["rfc3464-delayed.eml"], true),
        Vec::<Value>::new()
    );
}

#[test]
fn non_bounces_are_not_failures() {
    let events = dsn_events(
        &[
            "rfc3464-delivered.eml",
            "vacation.eml",
            "arf.eml",
            "amazonses-sns.eml",
        ],
        false,
    );
    let got: Vec<Value> = events
        .iter()
        .map(|e| {
            json!([
                e["recipient"],
                e["action"],
                e["reason"],
                e["rule"],
                e["evidence"],
                e["agent"]
            ])
        })
        .collect();
    assert_eq!(
        Value::Array(got),
        json!([
            [
                "ops@partner.example",
                "delivered",
                "not_a_bounce",
                "dsn.not_a_bounce",
                "Action: delivered",
                "dsn/rfc3464"
            ],
            [
                "list@partner.example",
                "delivered",
                "not_a_bounce",
                "dsn.not_a_bounce",
                "Action: relayed",
                "dsn/rfc3464"
            ],
            [
                "fiona@customer.example",
                "delivered",
                "not_a_bounce",
                "dsn.not_a_bounce",
                "Auto-Submitted: auto-replied",
                "dsn/rfc3834"
            ],
            [
                "george@isp.example",
                "delivered",
                "not_a_bounce",
                "dsn.not_a_bounce",
                "Feedback-Type: abuse",
                "dsn/arf"
            ],
            [
                "zoe@ses-dest.example",
                "delivered",
                "not_a_bounce",
                "dsn.not_a_bounce",
                "SES complaint: abuse",
                "dsn/amazonses"
            ],
        ])
    );
    assert_eq!(
        dsn_events(&["rfc3464-delivered.eml", "vacation.eml", "arf.eml"], true),
        Vec::<Value>::new()
    );
    let r = analyze(
        &[
            &dsn("rfc3464-delivered.eml"),
            &dsn("vacation.eml"),
            &dsn("arf.eml"),
        ],
        &["--input-format", "dsn"],
    );
    assert_balanced(&r);
    let kinds: Vec<Value> = (0..3)
        .map(|i| r["inputs"][i]["ignored_by_kind"].clone())
        .collect();
    assert_eq!(
        kinds,
        [
            json!({"delivery report": 1}),
            json!({"auto-reply": 1}),
            json!({"feedback report": 1}),
        ]
    );
}

#[test]
fn line_ending_copies_read_the_same() {
    for name in [
        "rfc3464-postfix.eml",
        "qmail.eml",
        "exim.eml",
        "sendmail-v5.eml",
        "gmail.eml",
    ] {
        let strip = |mut events: Vec<Value>| {
            for e in &mut events {
                e["source"]["file"] = Value::Null;
            }
            events
        };
        let original = strip(dsn_events(&[name], false));
        assert!(!original.is_empty(), "{name}");
        for folder in ["crlf", "cr"] {
            let copy = strip(dsn_events(&[&format!("{folder}/{name}")], false));
            assert_eq!(copy, original, "{folder}/{name}");
        }
    }
}

#[test]
fn mbox_messages_are_numbered_and_unescaped() {
    let events = dsn_events(&["several.mbox"], false);
    let got: Vec<(u64, &str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["source"]["line"].as_u64().unwrap(),
                e["recipient"].as_str().unwrap(),
                e["action"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (1, "nobody@shop-customer.example", "bounced"),
            (1, "tired@shop-customer.example", "expired"),
            (2, "kurt@closed.example", "bounced"),
            (3, "fiona@customer.example", "delivered"),
        ]
    );
    // ">From " in the mbox is "From " in the message; ">>From " is ">From ".
    assert_eq!(
        events[2]["diagnostic"],
        "host mx.closed.example[198.51.100.3] said: 550 5.7.1 Message refused From here on the remote said nothing more. >From a quoted line too."
    );
    let r = analyze(&[&dsn("several.mbox")], &[]);
    assert_eq!(
        input_counts(&r, 0),
        json!({"format": "dsn", "unit": "messages", "total": 3, "parsed": 2, "ignored": 1,
               "ignored_by_kind": {"auto-reply": 1}, "unrecognized": 0, "events": 4, "error": null})
    );
}

#[test]
fn an_mbox_whose_first_message_keeps_its_own_from_line_is_detected() {
    // A message saved with its envelope line ("From MAILER-DAEMON ...") and then put
    // in an mbox starts with that line escaped, right after the separator.
    let eml = std::fs::read_to_string(dsn("dragonfly.eml")).unwrap();
    let own = "From MAILER-DAEMON Tue Jun 11 19:13:34 2024\n";
    let dir = scratch("escaped-from-line");
    let (file, mbox) = (dir.join("saved.eml"), dir.join("saved.mbox"));
    std::fs::write(&file, format!("{own}{eml}")).unwrap();
    std::fs::write(
        &mbox,
        format!("From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n>{own}{eml}\n"),
    )
    .unwrap();
    let from_file = run_ok(&["events", arg(&file)]).ndjson();
    let from_mbox = run_ok(&["events", arg(&mbox)]).ndjson();
    assert!(!from_file.is_empty());
    assert_eq!(
        from_mbox.iter().map(summary).collect::<Vec<_>>(),
        from_file.iter().map(summary).collect::<Vec<_>>()
    );
}

#[test]
fn maildir_and_stdin() {
    let events = dsn_events(&["maildir"], false);
    let got: Vec<(&str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["source"]["file"].as_str().unwrap(),
                e["recipient"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "tests/fixtures/dsn/maildir/cur/1774335600.M1P100.host.sender.example:2,S",
                "bob@far.example"
            ),
            (
                "tests/fixtures/dsn/maildir/cur/1774335600.M1P100.host.sender.example:2,S",
                "carol@far.example"
            ),
            (
                "tests/fixtures/dsn/maildir/new/1774335601.M2P100.host.sender.example",
                "oscar@remote.example"
            ),
        ]
    );
    let bytes = std::fs::read(root().join(dsn("qmail.eml"))).unwrap();
    let r = run_with_stdin(&["events", "-"], Some(&bytes));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let events = r.ndjson();
    assert_eq!(events.len(), 2);
    assert_eq!(
        events[0]["source"],
        json!({"kind": "dsn", "file": "<stdin>", "line": 1})
    );
    assert_eq!(events[0]["recipient"], "nobody@shop-customer.example");
}

#[test]
fn broken_and_unknown_messages_are_counted_not_fatal() {
    let r = analyze(
        &[
            &dsn("garbage.eml"),
            &dsn("not-a-bounce.eml"),
            &dsn("truncated.eml"),
        ],
        &["--input-format", "dsn", "--show-unparsed"],
    );
    assert_balanced(&r);
    let counts: Vec<Value> = (0..3)
        .map(|i| {
            json!([
                r["inputs"][i]["parsed"],
                r["inputs"][i]["unrecognized"],
                r["inputs"][i]["events"]
            ])
        })
        .collect();
    assert_eq!(
        counts,
        [json!([0, 1, 0]), json!([0, 1, 0]), json!([1, 0, 2])]
    );
    let samples: Vec<(&str, &str)> = r["unrecognized_samples"]
        .as_array()
        .expect("samples")
        .iter()
        .map(|s| (s["file"].as_str().unwrap(), s["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        samples,
        [
            ("tests/fixtures/dsn/garbage.eml", "not an email (no header)"),
            (
                "tests/fixtures/dsn/not-a-bounce.eml",
                "not a bounce or report"
            ),
        ]
    );
    // A report cut in its delivery-status part still has its text part.
    let events = dsn_events(&["truncated.eml"], false);
    let got: Vec<(&str, &str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["recipient"].as_str().unwrap(),
                e["enhanced_code"].as_str().unwrap(),
                e["smtp_stage"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("gone@recipient.example", "5.1.1", "rcpt"),
            ("full@recipient.example", "5.2.2", "rcpt")
        ]
    );
}

#[test]
fn emails_are_detected_next_to_postfix_logs() {
    let r = analyze(
        &[
            &fixture("basic.log"),
            &dsn("qmail.eml"),
            &dsn("vacation.eml"),
        ],
        &[],
    );
    // Emails in the order given, the log (a stateful format, read oldest first) after.
    let formats = strings(&r["inputs"], "format");
    assert_eq!(formats, ["dsn", "dsn", "postfix"]);
    assert_balanced(&r);
}

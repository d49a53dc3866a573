//! Unit tests of the DSN reader: containers, sniffing, the small pure helpers, and a
//! no-panic sweep over every prefix of every fixture and seeded random bytes.

use std::io::BufReader;
use std::sync::Arc;

use mail_parser::{MimeHeaders, PartType};

use super::skeleton::{Skeleton, plain_params, skeleton, type_of};
use super::*;
use crate::classify::Classifier;
use crate::codes::EnhancedCode;

/// Every text of up to `depth` of the pieces one after another, the empty one first:
/// the inputs a fast path and its plain version must agree on.
pub(super) fn mixes(pieces: &[&str], depth: usize) -> Vec<String> {
    let mut texts = vec![String::new()];
    for _ in 0..depth {
        let longer: Vec<String> = texts
            .iter()
            .flat_map(|t| pieces.iter().map(move |p| format!("{t}{p}")))
            .collect();
        texts.extend(longer);
    }
    texts
}

/// A xorshift generator: the same numbers on every run.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// The texts of the emails in tests/fixtures/dsn (not its subfolders), bytes that
/// are not UTF-8 replaced.
pub(super) fn fixture_texts() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dsn");
    let mut texts = Vec::new();
    for entry in std::fs::read_dir(dir).expect("fixtures") {
        if let Ok(bytes) = std::fs::read(entry.expect("entry").path()) {
            texts.push(String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    texts
}

fn messages(input: &[u8]) -> Vec<(u64, String)> {
    let mut reader = BufReader::with_capacity(7, input);
    let mut r = MessageReader::new(&mut reader);
    let mut buf = Vec::new();
    let mut out = Vec::new();
    while let Some(info) = r
        .next_message(&mut buf)
        .expect("in-memory reads do not fail")
    {
        out.push((
            info.index,
            String::from_utf8(buf.clone()).expect("ASCII input"),
        ));
    }
    out
}

fn messages_with_buffer(input: &[u8], capacity: usize) -> Vec<(u64, Vec<u8>)> {
    let mut reader = BufReader::with_capacity(capacity, input);
    let mut r = MessageReader::new(&mut reader);
    let mut buf = Vec::new();
    let mut out = Vec::new();
    while let Some(info) = r
        .next_message(&mut buf)
        .expect("in-memory reads do not fail")
    {
        out.push((info.index, buf.clone()));
    }
    out
}

/// Lines are copied in runs when a whole run sits in the read buffer, and one by one
/// otherwise: both ways must split and unescape alike, whatever the line ends.
#[test]
fn message_splitting_does_not_depend_on_the_read_buffer() {
    let pieces: &[&[u8]] = &[
        b"From a@b Mon\n",
        b"From x",
        b">From y\n",
        b">>From z\r\n",
        b"Subject: s\n",
        b"\n",
        b"\r\n",
        b"\r",
        b"body text ",
        b">",
        b"From ",
        b"\n\n",
    ];
    let mut random = XorShift(0x2545_F491_4F6C_DD1D);
    for round in 0..400 {
        let mut input = Vec::new();
        if round % 2 == 0 {
            input.extend_from_slice(b"From first@b Mon\n");
        }
        for _ in 0..60 {
            input.extend_from_slice(pieces[(random.next() % pieces.len() as u64) as usize]);
        }
        let line_by_line = messages_with_buffer(&input, 1);
        for capacity in [7, 64, 1 << 16] {
            assert_eq!(
                messages_with_buffer(&input, capacity),
                line_by_line,
                "buffer {capacity}, input {:?}",
                String::from_utf8_lossy(&input)
            );
        }
    }
}

/// An input read whole is made in one go what the reader makes of it: one message, or
/// `None` only when the reader finds none or several. Generated mboxes and plain
/// emails, with escaped and unescaped `From ` lines, blank lines and mixed line ends.
#[test]
fn a_whole_message_reads_as_streamed() {
    let pieces: &[&[u8]] = &[
        b"From a@b Mon\n",
        b"From x",
        b">From y\n",
        b">>From z\r\n",
        b"a>From ",
        b">>",
        b"Subject: s\n",
        b"\n",
        b"\r\n",
        b"\r",
        b"body text ",
        b">",
        b"From ",
        b"\n\n",
    ];
    let odd: [&[u8]; 12] = [
        b"From a@b",
        b"From a@b\r",
        b"From a@b\r\n",
        b"From a@b\n\n",
        b"From a@b\n\n\n",
        b"From a@b\nFrom c@d\nx",
        b"From a@b\n\nFrom c@d\n",
        b"From a@b\r\rFrom c@d\r",
        b"From a@b\nx\r\n\r\nFrom c@d",
        b"From a@b\n>From x\n>>From y\n>>>From\n>From\n>\n",
        b"From a@b\rx\r\n\n>From y\rz",
        b">From a@b\n\nFrom c@d\n",
    ];
    let mut inputs: Vec<Vec<u8>> = odd.iter().map(|b| b.to_vec()).collect();
    let mut random = XorShift(0x2545_F491_4F6C_DD1D);
    for round in 0..2000 {
        let mut input = Vec::new();
        if round % 4 != 0 {
            input.extend_from_slice(b"From first@b Mon\n");
        }
        for _ in 0..round % 40 {
            input.extend_from_slice(pieces[(random.next() % pieces.len() as u64) as usize]);
        }
        inputs.push(input);
    }
    let (mut whole, mut several) = (0, 0);
    for input in &inputs {
        let streamed = messages_with_buffer(input, 1 << 16);
        let what = String::from_utf8_lossy(input);
        match container::whole_message(input) {
            Some(message) => {
                assert_eq!(streamed, [(1, message.to_vec())], "{what:?}");
                whole += 1;
            }
            None => {
                assert!(input.is_empty() || streamed.len() > 1, "{what:?}");
                several += 1;
            }
        }
    }
    assert!(
        whole > 1000 && several > 100,
        "{whole} whole, {several} not"
    );
}

#[test]
fn one_email_per_file_with_any_line_end() {
    for input in [
        &b"From: a@example.org\nSubject: x\n\nbody\n"[..],
        b"From: a@example.org\r\nSubject: x\r\n\r\nbody\r\n",
        b"From: a@example.org\rSubject: x\r\rbody\r",
        b"From: a@example.org\nSubject: x\n\nbody",
    ] {
        assert_eq!(
            messages(input),
            [(1, "From: a@example.org\nSubject: x\n\nbody\n".to_string())],
            "{input:?}"
        );
    }
    assert_eq!(messages(b""), []);
}

#[test]
fn mbox_split_and_unescaped() {
    let mbox = b"From a@b Mon Mar  9 10:00:00 2026\nSubject: one\n\n>From here\n>>From there\nFrom-less\n\nFrom c@d Mon Mar  9 10:00:01 2026\r\nSubject: two\r\n\r\nx\r\n\nFrom e@f Mon Mar  9 10:00:02 2026\n";
    assert_eq!(
        messages(mbox),
        [
            (
                1,
                "Subject: one\n\nFrom here\n>From there\nFrom-less\n".to_string()
            ),
            (2, "Subject: two\n\nx\n".to_string()),
            // An empty entry is still a message, so the tally counts it.
            (3, String::new()),
        ]
    );
}

#[test]
fn sniffs_emails_and_mboxes_only() {
    let f = DsnFormat;
    assert!(f.sniff(b"Return-Path: <>\nReceived: from x\n"));
    assert!(f.sniff(b"From MAILER-DAEMON Mon Mar  9 10:00:00 2026\nReceived: from x\n\tby y\n"));
    assert!(f.sniff(b"X-Spam: no\r\nDKIM-Signature: v=1\r\n"));
    assert!(!f.sniff(b"Mar  9 10:00:00 mx postfix/smtp[1]: 4F2A81C0042: to=<a@b>\n"));
    assert!(!f.sniff(b"just some text\nFrom: a@b\n"));
    assert!(!f.sniff(b"X-Custom: 1\nX-Other: 2\n"));
    assert!(!f.sniff(b" folded first\n"));
}

#[test]
fn split_cr_lf_gives_the_pieces_split_gives() {
    let cases: [&[u8]; 9] = [
        b"",
        b"\r",
        b"\r\n",
        b"one",
        b"one\r\n",
        b"one\rtwo\n\nthree",
        b"\n\rlead\r\r\ntrail",
        b"a\r\n\r\nb\r",
        b"no end\n\n",
    ];
    for case in cases {
        let expected: Vec<&[u8]> = case.split(|&b| b == b'\n' || b == b'\r').collect();
        assert_eq!(split_cr_lf(case).collect::<Vec<_>>(), expected, "{case:?}");
    }
}

#[test]
fn addresses_are_cleaned() {
    let cases = [
        ("rfc822; <Kim@Example.org>", "Kim@Example.org"),
        ("rfc822;kim@example.org", "kim@example.org"),
        ("RFC822; \"kim@example.org\"", "kim@example.org"),
        ("rfc822; \"k..m\"@example.org", "\"k..m\"@example.org"),
        ("Kim Doe <kim@example.org>", "kim@example.org"),
        ("<kim@example.org>:", "kim@example.org"),
    ];
    for (raw, clean) in cases {
        assert_eq!(clean_address(raw), clean, "{raw}");
    }
}

#[test]
fn status_field_and_text_codes() {
    let c = |s: &str| EnhancedCode::parse(s);
    let cases = [
        // (Status, code extracted from text, first code in text, chosen)
        (Some("5.1.1"), None, None, Some("5.1.1")),
        (None, Some("5.2.2"), Some("5.2.2"), Some("5.2.2")),
        (Some("5.0.0"), Some("5.7.1"), Some("5.7.1"), Some("5.7.1")),
        (Some("4.4.7"), Some("4.7.1"), Some("4.7.1"), Some("4.7.1")),
        (Some("5.1.1"), Some("5.2.2"), Some("5.2.2"), Some("5.2.2")),
        // A text code of another class, or a vaguer one, leaves the Status alone.
        (Some("5.1.1"), Some("4.2.2"), Some("4.2.2"), Some("5.1.1")),
        (Some("5.1.1"), Some("5.1.10"), Some("5.1.10"), Some("5.1.1")),
        (Some("5.0.0"), Some("4.7.1"), Some("4.7.1"), Some("5.0.0")),
    ];
    for (status, text, first, want) in cases {
        assert_eq!(
            choose_status(status.and_then(c), text.and_then(c), first.and_then(c)),
            want.and_then(c),
            "{status:?} {text:?}"
        );
    }
}

#[test]
fn delivery_status_fields_fold_and_split() {
    let mut report = Report::new(Kind::Bounce, "rfc3464");
    rfc3464::read_fields(
        "Reporting-MTA: dns; mx.example.org\nArrival-Date: Mon, 9 Mar 2026 10:00:00 +0000\nX-Postfix-Queue-ID: ABC123\n\nFinal-Recipient: rfc822; a@example.net\nAction: failed\nStatus: 5.1.1 (unknown)\nRemote-MTA: dns; [192.0.2.1]\nDiagnostic-Code: smtp; 550 5.1.1\n  user unknown\nFinal-Recipient: rfc822; b@example.net\nAction: delayed\nStatus: 4.4.1\n",
        &mut report,
    );
    assert_eq!(report.reporting_mta.as_deref(), Some("mx.example.org"));
    assert_eq!(report.queue_id.as_deref(), Some("ABC123"));
    assert!(report.arrival_date.is_some());
    let got: Vec<_> = report
        .recipients
        .iter()
        .map(|r| {
            (
                r.address.as_str(),
                r.action,
                r.status.map(|s| s.to_string()),
                r.diagnostic.as_deref(),
                r.remote_mta.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "a@example.net",
                Some(DsnAction::Failed),
                Some("5.1.1".to_string()),
                Some("550 5.1.1 user unknown"),
                Some("192.0.2.1")
            ),
            (
                "b@example.net",
                Some(DsnAction::Delayed),
                Some("4.4.1".to_string()),
                None,
                None
            ),
        ]
    );
}

#[test]
fn original_message_identity_and_campaign() {
    let decoded = decode(include_bytes!(
        "../../../tests/fixtures/dsn/rfc3464-postfix.eml"
    ))
    .expect("a bounce");
    assert_eq!(
        decoded.original,
        Original {
            message_id: Some("march-3.8812@app1.sender.example".into()),
            from: Some("news@sender.example".into()),
            to: Some("gone@recipient.example".into()),
            subject: Some("March news – issue 3".into()),
            campaign: Some("spring-2026-03".into()),
            list_id: Some("Sender News <news.sender.example>".into()),
            return_path: Some("news@sender.example".into()),
        }
    );
    assert_eq!(decoded.report.decoder, "rfc3464");
    assert_eq!(
        decoded.report.reporting_mta.as_deref(),
        Some("mta1.sender.example")
    );
    assert_eq!(
        decoded.report.sender.as_deref(),
        Some("news@sender.example")
    );
}

#[test]
fn text_helpers() {
    assert_eq!(
        text::trailing_address("User mailbox exceeds allowed size: a@example.org"),
        Some(("a@example.org", "User mailbox exceeds allowed size"))
    );
    // A wide space before the address is a separator, not a panic.
    assert_eq!(
        text::trailing_address("宛先\u{3000}a@example.org"),
        Some(("a@example.org", "宛先"))
    );
    assert_eq!(
        text::first_enhanced("(#5.1.1) and 4.2.2"),
        EnhancedCode::parse("5.1.1")
    );
    assert_eq!(
        text::first_enhanced("v1.2.3 5.7.1"),
        EnhancedCode::parse("5.7.1")
    );
    assert_eq!(
        text::reply_code_in("after RCPT TO:<a@b>: 550 Bad").map(|r| r.value()),
        Some(550)
    );
    assert_eq!(text::reply_code_in("port 25 550x"), None);
    assert_eq!(
        text::stage_marker("SMTP error after MAIL FROM:<a@b>"),
        Some(crate::model::SmtpStage::Mail)
    );
}

struct Count {
    events: u64,
    deliveries: u64,
}

impl Sink for Count {
    fn event(&mut self, _: &Event) {
        self.events += 1;
    }

    fn delivery(&mut self, _: &Delivery) {
        self.deliveries += 1;
    }
}

fn parse_bytes(parser: &mut DsnParser<'_>, bytes: &[u8]) -> Tally {
    let meta = InputMeta {
        file: Arc::from("t"),
        mtime: None,
    };
    let mut sink = Count {
        events: 0,
        deliveries: 0,
    };
    let mut reader = BufReader::new(bytes);
    let tally = parser
        .parse(&mut reader, &meta, &mut sink)
        .expect("in-memory reads do not fail");
    assert_eq!(tally.events, sink.events);
    assert!(sink.deliveries <= sink.events);
    tally
}

/// Every prefix of every fixture, and random bytes: no panic, every message counted
/// once.
#[test]
fn any_input_is_counted_without_panic() {
    let classifier = Classifier::builtin();
    let ctx = Context::new(&classifier);
    let mut parser = DsnParser { ctx: &ctx };
    let fixtures: &[&[u8]] = &[
        include_bytes!("../../../tests/fixtures/dsn/rfc3464-postfix.eml"),
        include_bytes!("../../../tests/fixtures/dsn/exim.eml"),
        include_bytes!("../../../tests/fixtures/dsn/qmail.eml"),
        include_bytes!("../../../tests/fixtures/dsn/sendmail-v5.eml"),
        include_bytes!("../../../tests/fixtures/dsn/gmail.eml"),
        include_bytes!("../../../tests/fixtures/dsn/amazonses.eml"),
        include_bytes!("../../../tests/fixtures/dsn/jpcarrier.eml"),
        include_bytes!("../../../tests/fixtures/dsn/nested.eml"),
        include_bytes!("../../../tests/fixtures/dsn/several.mbox"),
        include_bytes!("../../../tests/fixtures/dsn/cr/exim.eml"),
    ];
    for bytes in fixtures {
        for end in (0..=bytes.len()).step_by(7) {
            let tally = parse_bytes(&mut parser, &bytes[..end]);
            assert!(tally.balanced(), "prefix {end}: {tally:?}");
        }
    }
    // Reproducible bytes, biased to mail-like characters.
    let mut random = XorShift(0x9E37_79B9_7F4A_7C15);
    let alphabet =
        b"From: <>@.;\n\r -=:0123456789abcdefxyzContent-Type multipart/report boundary\"";
    for _ in 0..300 {
        let mut bytes = Vec::new();
        for _ in 0..400 {
            let b = (random.next() % 300) as usize;
            bytes.push(alphabet.get(b).copied().unwrap_or(b as u8));
        }
        let tally = parse_bytes(&mut parser, &bytes);
        assert!(tally.balanced(), "{tally:?}");
    }
}

/// Collects what a parser emits, in order, as text that compares whole.
#[derive(Default)]
struct Transcript(Vec<String>);

impl Sink for Transcript {
    fn event(&mut self, event: &Event) {
        self.0.push(format!("{event:?}"));
    }

    fn delivery(&mut self, delivery: &Delivery) {
        self.0.push(format!("{delivery:?}"));
    }
}

/// An email read whole while sniffing is decoded in place (`Parser::parse_bytes`) as
/// it is when streamed: every fixture as it is, with CRLF and CR line ends, without
/// its last line end, and behind an mbox `From ` line.
#[test]
fn an_email_in_memory_reads_as_streamed() {
    let classifier = Classifier::builtin();
    let ctx = Context::new(&classifier);
    let mut parser = DsnParser { ctx: &ctx };
    let meta = InputMeta {
        file: Arc::from("email.eml"),
        mtime: None,
    };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dsn");
    let mut compared = 0;
    for entry in std::fs::read_dir(&dir).expect("fixture folder") {
        let path = entry.expect("fixture entry").path();
        if path.extension().is_none_or(|x| x != "eml") {
            continue;
        }
        let lf = std::fs::read(&path).expect("fixture");
        let variants = [
            lf.clone(),
            String::from_utf8_lossy(&lf)
                .replace('\n', "\r\n")
                .into_bytes(),
            String::from_utf8_lossy(&lf)
                .replace('\n', "\r")
                .into_bytes(),
            lf.trim_ascii_end().to_vec(),
            [&b"From MAILER-DAEMON Thu Apr 29 23:34:45 2010\n"[..], &lf].concat(),
        ];
        for bytes in &variants {
            assert_in_place_as_streamed(&mut parser, &meta, bytes, &path.display());
            compared += 1;
        }
    }
    assert!(compared >= 50, "{compared} emails compared");
    // Inputs no fixture is: empty, lone line ends, mixed and doubled ones, bytes that
    // are not UTF-8.
    let odd: [&[u8]; 16] = [
        b"",
        b"From a@b\n",
        b"From a@b\r\n\r\n",
        b"From a@b\nSubject: x\n\n>From here\n>>From there\nFrom where\n\n",
        b"From a@b\r\nSubject: x\r\n\r\nbody\r\n\r\nFrom c@d\r\nSubject: y\r\n\r\nz\r\n",
        b"From a@b\rSubject: x\r\r>From body",
        b"\n",
        b"\r",
        b"\r\n",
        b"Subject: x\r\r\nTo: a@b.example\n\rbody\r",
        b"Subject: x\n\r\nbody\r\n\r\n",
        b"From: a@b.example\r\nSubject: x\r\n\r\nFrom here on\r\n>From there",
        b"Subject: caf\xe9\nContent-Type: text/plain\n\nr\xe9sum\xe9\n",
        // Bytes that are not UTF-8 around the line ends a one-pass rewrite changes.
        b"Subject: caf\xe9\r\nContent-Type: text/plain\r\n\r\nr\xe9\rsum\xe9\r",
        b"From x\r\nSubject: \xff\r\n\r\n>From \xfe\r\n",
        b"Content-Type: text/plain; charset=\"\xe9\"\n\n\xff\n",
    ];
    for bytes in odd {
        assert_in_place_as_streamed(&mut parser, &meta, bytes, &format_args!("{bytes:?}"));
    }
}

/// `bytes` decoded in place and streamed give the same events and the same tally.
fn assert_in_place_as_streamed(
    parser: &mut DsnParser<'_>,
    meta: &InputMeta,
    bytes: &[u8],
    what: &dyn std::fmt::Display,
) {
    let (mut in_place, mut streamed) = (Transcript::default(), Transcript::default());
    let a = parser
        .parse_bytes(bytes, meta, &mut in_place)
        .expect("in memory");
    let b = parser
        .parse(&mut std::io::Cursor::new(bytes), meta, &mut streamed)
        .expect("in memory");
    assert_eq!(in_place.0, streamed.0, "{what}");
    assert_eq!(format!("{a:?}"), format!("{b:?}"), "{what}");
}

/// A big mbox decoded on worker threads gives what one thread gives: the same events
/// in the same order, the same counts, and the same first unrecognized samples.
#[test]
fn parallel_mbox_equals_sequential() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dsn");
    let mut emails: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixture folder")
        .map(|e| e.expect("fixture entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    emails.sort();
    let mut mbox = Vec::new();
    // Enough copies for many batches, with unrecognized messages in each.
    for copy in 0..60 {
        for path in &emails {
            let body = std::fs::read(path).expect("fixture");
            mbox.extend_from_slice(format!("From MAILER-DAEMON {copy}\n").as_bytes());
            for line in body.split_inclusive(|&b| b == b'\n') {
                if line.starts_with(b"From ") {
                    mbox.push(b'>');
                }
                mbox.extend_from_slice(line);
            }
            mbox.extend_from_slice(b"\n\n");
        }
        mbox.extend_from_slice(b"From nobody\nthis is not mail\n\n");
    }
    let classifier = Classifier::builtin();
    // Decodes an input on `threads` threads: the parse result and what it emitted.
    let decode = |threads: usize, input: &mut (dyn std::io::BufRead + Send)| {
        let ctx = Context {
            threads,
            keep_unrecognized: 25,
            ..Context::new(&classifier)
        };
        let mut parser = DsnParser { ctx: &ctx };
        let meta = InputMeta {
            file: Arc::from("bounces.mbox"),
            mtime: None,
        };
        let mut sink = Transcript::default();
        let result = parser.parse(input, &meta, &mut sink);
        (result, sink.0)
    };
    // A read error part way through: both paths pass on the messages read before it.
    let cut_short = |threads: usize| {
        let failing = std::io::Read::chain(&mbox[..mbox.len() * 3 / 5], FailingRead);
        let (result, events) = decode(threads, &mut BufReader::new(failing));
        assert!(result.is_err(), "{threads} threads");
        events
    };
    let before_error = cut_short(1);
    assert!(!before_error.is_empty());
    assert!(
        cut_short(2) == before_error,
        "2 threads: events before the error differ"
    );
    let run = |threads: usize| {
        let (result, events) = decode(threads, &mut BufReader::new(&mbox[..]));
        let tally = result.expect("in-memory reads do not fail");
        assert!(tally.balanced(), "{tally:?}");
        (format!("{tally:?}"), events)
    };
    let (sequential_tally, sequential) = run(1);
    assert!(mbox.len() > 4 * BATCH_BYTES, "{} bytes", mbox.len());
    assert!(
        sequential_tally.contains("unrecognized: 180"),
        "{sequential_tally}"
    );
    for threads in [2, 3] {
        let (tally, events) = run(threads);
        assert_eq!(tally, sequential_tally, "{threads} threads");
        assert!(events == sequential, "{threads} threads: events differ");
    }
}

/// A reader that always fails, to end an input with a read error.
struct FailingRead;

impl std::io::Read for FailingRead {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        Err(std::io::Error::other("disk gone"))
    }
}

/// What a parsed [`Mail`] shows the decoders, as one comparable value.
fn mail_view(mail: &mail::Mail<'_>) -> String {
    format!(
        "{:?}|{}|{:?}|{:?}|{:?}|{:?}|{:?}|{}|{:?}",
        mail.headers,
        mail.subject,
        mail.content_type,
        mail.report_type,
        mail.body,
        mail.reports,
        mail.original,
        mail.notice_len,
        mail.nested,
    )
}

/// mail-parser given the skeleton of the top-level header block reads every fixture,
/// and header blocks of every shape, as it reads the whole message; the shapes it
/// has its own reading of are not cut down.
#[test]
fn the_mime_skeleton_reads_as_the_whole_message() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dsn");
    let mut messages = Vec::new();
    let mut stack = vec![dir];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("fixture folder") {
            let path = entry.expect("fixture entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).expect("fixture file");
                messages.extend(
                    messages_with_buffer(&bytes, 1 << 16)
                        .into_iter()
                        .map(|m| m.1),
                );
            }
        }
    }
    assert!(messages.len() >= 30, "{} fixture messages", messages.len());
    let body = "\n--b\nContent-Type: text/plain\n\nThe mail system\n--b\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; a@b.example\nStatus: 5.1.1\n--b--\n";
    let shapes = [
        // Folded fields, kept and dropped, and a field named twice.
        format!(
            "Received: from x\n\tby y\nSubject: =?UTF-8?B?w6k=?=\n folded\nContent-Type: multipart/report;\n\treport-type=delivery-status;\n boundary=b\nDKIM-Signature: v=1;\n  b=abc\n{body}"
        ),
        format!("Content-Type: text/plain\nContent-Type: multipart/report; boundary=b\n{body}"),
        format!(
            "content-transfer-encoding: 7bit\nCONTENT-TYPE: multipart/report; boundary=b\n{body}"
        ),
        // No field mail-parser reads: parsed whole.
        "From: a@b.example\nTo: c@d.example\n\nbody\n".to_string(),
        // Headers only, with and without a last line end.
        "Subject: none\nContent-Type: text/plain".to_string(),
        "Subject: none\nReceived: x\n".to_string(),
        // Shapes mail-parser reads its own way: parsed whole.
        format!("Subject: s\n   \nContent-Type: multipart/report; boundary=b\n{body}"),
        format!("Subject: s\nnot a field\nContent-Type: multipart/report; boundary=b\n{body}"),
        format!("Sub ject: s\nContent-Type: multipart/report; boundary=b\n{body}"),
        format!(" Subject: s\nContent-Type: multipart/report; boundary=b\n{body}"),
        format!(": s\nContent-Type: multipart/report; boundary=b\n{body}"),
    ];
    messages.extend(shapes.iter().map(|s| s.as_bytes().to_vec()));
    // Shapes the walk reads alone, and Content-Types and Subjects it leaves to
    // mail-parser (an RFC 2231 part, a comment, an encoded word).
    let report = |content_type: &str, subject: &str, part: &str| {
        format!(
            "Subject:{subject}\nContent-Type: {content_type}\n\n--b\n{part}\n--b\nContent-Type: message/delivery-status\n\nStatus: 5.1.1\n--b--\n"
        )
    };
    let latin1 = "Content-Type: text/plain; charset=ISO-8859-1\n\nR\u{e9}sum\u{e9}";
    let walked_shapes = [
        format!("From MAILER-DAEMON Thu Apr 29 23:34:45 2010\n{}", report("multipart/report; boundary=b", " s", "\nThe mail system")),
        report("multipart/report; boundary=b", " s", "\nHi. This is the qmail-send program."),
        report("Multipart/Report; report-type=Delivery-Status; BOUNDARY=\"b\"", "   lead  and trail  ", latin1),
        report("multipart/report; boundary=\"b\";", "\n folded only\n\tagain", "Content-Type: text/plain; charset=\"utf-8\"; format=flowed\n\nok"),
        report("multipart/report; boundary=b", " =?ISO-8859-1?Q?caf=E9?=", "Content-Type: text/plain; charset*=utf-8''x\n\nok"),
        report("multipart/report (comment); boundary=b", " s", "\nok"),
        report("multipart/report; boundary=b", " s", "Content-Type: text/plain; charset=\"a;b\"\n\nok"),
        "Subject: s\nContent-Type: multipart/report; boundary=\"Boundary_(ID_x y)\"\n\n--Boundary_(ID_x y)\n\ntext\n--Boundary_(ID_x y)--\n".to_string(),
    ];
    messages.extend(walked_shapes.iter().map(|s| s.as_bytes().to_vec()));
    // Bytes that are not UTF-8 (Latin-1) in a kept and a dropped value, and in a name.
    let latin1_values = [
        &b"Received: from \xe9t\xe9\nSubject: r\xe9sum\xe9\nContent-Type: multipart/report; boundary=b\n"[..],
        body.as_bytes(),
    ]
    .concat();
    let latin1_name = [
        &b"X-\xe9t\xe9: v\nContent-Type: multipart/report; boundary=b\n"[..],
        body.as_bytes(),
    ]
    .concat();
    assert!(skeleton(&latin1_values).is_some_and(|s| s.bytes.len() < latin1_values.len()));
    assert!(skeleton(&latin1_name).is_none());
    messages.push(latin1_values);
    messages.push(latin1_name);
    let mut cut_down = 0;
    let mut walked = 0;
    for raw in &messages {
        cut_down += usize::from(skeleton(raw).is_some_and(|s| s.bytes.len() < raw.len()));
        walked += usize::from(skeleton(raw).is_some_and(|s| s.leaves().is_some()));
        let whole = mail::Mail::parse_with(raw, mail::Reading::Whole).map(|m| mail_view(&m));
        for reading in [mail::Reading::Skeleton, mail::Reading::Walk] {
            let read = mail::Mail::parse_with(raw, reading).map(|m| mail_view(&m));
            assert_eq!(read, whole, "{reading:?}: {}", String::from_utf8_lossy(raw));
        }
    }
    assert!(cut_down >= 30, "{cut_down} messages cut down");
    assert!(walked >= 25, "{walked} messages read by the walk alone");
    let walks = |raw: &str| skeleton(raw.as_bytes()).is_some_and(|s| s.leaves().is_some());
    assert!(walked_shapes[..4].iter().all(|raw| walks(raw)));
    assert!(walked_shapes[7..].iter().all(|raw| walks(raw)));
    assert!(!walked_shapes[4..7].iter().any(|raw| walks(raw)));
    for weird in &shapes[6..] {
        assert!(skeleton(weird.as_bytes()).is_none(), "{weird}");
    }
    assert!(skeleton(shapes[3].as_bytes()).is_none());
    assert_eq!(
        skeleton(shapes[0].as_bytes()).map(|s| String::from_utf8(s.bytes).unwrap()),
        // The parts' bodies are read from the message itself.
        Some(
            "Subject: =?UTF-8?B?w6k=?=\n folded\nContent-Type: multipart/report;\n\treport-type=delivery-status;\n boundary=b\n\n--b\nContent-Type: text/plain\n\n--b\nContent-Type: message/delivery-status\n\n--b--\n"
                .to_string()
        )
    );
}

/// A Content-Type value the walk reads by a plain split (and needs no MIME parse for)
/// gives mail-parser's type and parameters; the others are left to mail-parser.
#[test]
fn plain_content_types_read_as_mail_parser_reads_them() {
    let plain = [
        "text/plain",
        "Text/Plain; CHARSET=\"ISO-8859-1\"",
        "multipart/report; report-type=delivery-status;\tboundary=\"Boundary_(ID_x y)\";",
        "text/plain;charset=us-ascii;format=flowed",
        "multipart/mixed; boundary=----=_Part_1_2.3",
        "message/delivery-status ; name = \"a b\"",
        "text/plain; name=\"a?b=\"; c=?d; e=\"?\"; f=?",
    ];
    for value in plain {
        let raw = format!("Content-Type: {value}\n\nx");
        let parsed = mail::PARSER.parse(raw.as_bytes()).expect("parsed");
        let ct = parsed.content_type().expect("content type");
        let theirs = format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or(""));
        assert_eq!(type_of(value), theirs, "{value}");
        let ours: Vec<(String, String)> = plain_params(value)
            .expect("plain")
            .map(|(n, v)| (n.to_ascii_lowercase(), v.to_string()))
            .collect();
        let theirs: Vec<(String, String)> = ct
            .attributes()
            .unwrap_or_default()
            .iter()
            .map(|a| (a.name.to_string(), a.value.to_string()))
            .collect();
        assert_eq!(ours, theirs, "{value}");
    }
    let other = [
        "text/plain (comment)",
        "text/plain; charset*=utf-8''x",
        "text/plain; charset=\"a\\\"b\"",
        "text",
        "text/plain; charset",
        "text/plain; name==?utf-8?q?x?=",
        "text/plain; name=\"x=?utf-8?q?y?=\"",
        "text/plain; a=b=?",
        "text/plain; a=\"x",
        "text/plain; a=\"x\ty\"",
        "text/plain; a=x\u{e9}",
        "text/plain; a=\"x;y\"",
        "text/plain; a=x y",
        "text/plain; a=\"\"",
        "text/ rfc822-headers",
    ];
    for value in other {
        assert!(plain_params(value).is_none(), "{value}");
    }
}

/// The skeleton leaves out the bodies no decoder reads (an HTML copy after the plain
/// text, an image, the returned message's body and header fields) and keeps the rest;
/// whatever it leaves out, the decoders see the same mail as from the whole message.
/// Shapes mail-parser could read otherwise are walked no further.
#[test]
fn the_skeleton_leaves_out_what_no_decoder_reads() {
    let head = "From: MAILER-DAEMON@mx.example\nReceived: from a by b\nSubject: Undelivered\nContent-Type: multipart/report; report-type=delivery-status;\n boundary=\"b1\"\n\nPreamble.\n";
    let plain = "--b1\nContent-Type: text/plain; charset=us-ascii\n\nThe mail system: 550 5.1.1 no such user\n";
    let html = "--b1\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n<p>HTMLBODY =E2=80=94 550 5.1.1</p>\n";
    let image = "--b1\nContent-Type: image/png; name=logo.png\nContent-Transfer-Encoding: base64\n\nIMAGEBYTESiVBORw0KGgo=\n";
    let status = "--b1\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example\n\nFinal-Recipient: rfc822; a@b.example\nAction: failed\nStatus: 5.1.1\n";
    let returned = "--b1\nContent-Type: message/rfc822\n\nReceived: from c by d\nMessage-ID: <m1@b.example>\nFrom: Sender <s@b.example>\nX-Campaign-ID: spring\n\nRETURNEDBODY line one\n--inner-not-ours\n";
    let close = "--b1--\nEpilogue.\n";
    let mail = |parts: &[&str]| format!("{head}{}", parts.concat());
    let same_either_way = |raw: &str| {
        let whole =
            mail::Mail::parse_with(raw.as_bytes(), mail::Reading::Whole).map(|m| mail_view(&m));
        let cut =
            mail::Mail::parse_with(raw.as_bytes(), mail::Reading::Walk).map(|m| mail_view(&m));
        assert_eq!(cut, whole, "{raw}");
        whole.expect("a mail")
    };
    let cut =
        |raw: &str| skeleton(raw.as_bytes()).map(|s| String::from_utf8(s.bytes_read()).unwrap());

    // Everything left out that can be.
    let full = mail(&[plain, html, image, status, returned, close]);
    let view = same_either_way(&full);
    assert!(
        view.contains("no such user") && view.contains("m1@b.example"),
        "{view}"
    );
    let skeleton_text = cut(&full).expect("cut down");
    for gone in [
        "HTMLBODY",
        "IMAGEBYTES",
        "RETURNEDBODY",
        "Received: from",
        "X-Campaign-ID",
        // Read from the message itself, as they stand.
        "no such user",
        "Final-Recipient",
    ] {
        assert!(
            !skeleton_text.contains(gone),
            "{gone} kept:\n{skeleton_text}"
        );
    }
    for kept in [
        "text/plain; charset=us-ascii",
        "message/delivery-status",
        "text/html",
        "image/png",
        "--b1--",
    ] {
        assert!(
            skeleton_text.contains(kept),
            "{kept} left out:\n{skeleton_text}"
        );
    }
    // The original's identity still comes from its own header block.
    let decoded = decode(full.as_bytes()).expect("a bounce");
    assert_eq!(decoded.original.message_id.as_deref(), Some("m1@b.example"));
    assert_eq!(decoded.original.campaign.as_deref(), Some("spring"));

    // The HTML is the notice's only text, or comes first: kept.
    assert!(same_either_way(&mail(&[html, status, close])).contains("HTMLBODY"));
    for parts in [[html, status, close], [html, plain, close]] {
        let raw = mail(&parts);
        same_either_way(&raw);
        assert!(cut(&raw).is_some_and(|s| s.contains("HTMLBODY")));
    }
    // A returned bounce is decoded from the nested message: kept whole.
    let nested_bounce = "--b1\nContent-Type: message/rfc822\n\nFrom: Mail Delivery Subsystem <MAILER-DAEMON@relay.example>\nSubject: failure\n\nNESTEDBODY 550 5.1.1 <x@y.example>: user unknown\n";
    let raw = mail(&[plain, nested_bounce, close]);
    same_either_way(&raw);
    assert!(cut(&raw).is_some_and(|s| s.contains("NESTEDBODY")));
    // A transfer-encoded returned message is decoded before it is parsed: kept.
    let encoded = "--b1\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\nTWVzc2FnZS1JRDogPG0yQGIuZXhhbXBsZT4KCmJvZHkK\n";
    let raw = mail(&[plain, encoded, close]);
    same_either_way(&raw);
    assert!(cut(&raw).is_some_and(|s| s.contains("TWVzc2FnZS1J")));
    // A returned message after a blank line, and one cut off with no closing line.
    let blank_first = "--b1\nContent-Type: message/rfc822\n\n\nMessage-ID: <m3@b.example>\nTo: t@b.example\n\nbody\n";
    let view = same_either_way(&mail(&[plain, blank_first, close]));
    assert!(view.contains("m3@b.example"), "{view}");
    let truncated = mail(&[plain, status, returned]);
    same_either_way(&truncated);
    assert!(cut(&truncated).is_some_and(|s| !s.contains("RETURNEDBODY")));
    // An image with no boundary after it is read otherwise (as text): kept.
    let raw = mail(&[plain, image]);
    same_either_way(&raw);
    assert!(cut(&raw).is_some_and(|s| s.contains("IMAGEBYTES")));
    // Parts inside an inner multipart are walked with its boundary.
    let alternative = "--b1\nContent-Type: multipart/alternative; boundary=b2\n\n--b2\nContent-Type: text/plain\n\nInner plain 550 5.2.2 mailbox full\n--b2\nContent-Type: text/html\n\n<b>HTMLBODY</b>\n--b2--\n";
    let raw = mail(&[alternative, status, returned, close]);
    assert!(same_either_way(&raw).contains("Inner plain"));
    assert!(cut(&raw).is_some_and(|s| !s.contains("HTMLBODY") && !s.contains("Inner plain")));

    // Shapes not walked: a boundary another one starts with, text after a boundary,
    // an inner multipart with an empty boundary.
    let longer = "--b1x\nContent-Type: text/plain\n\nx\n";
    let trailing = "--b1 trailing words\nContent-Type: text/plain\n\nx\n";
    let empty_boundary = "--b1\nContent-Type: multipart/mixed; boundary=\"\"\n\nx\n";
    for part in [longer, trailing, empty_boundary] {
        let raw = mail(&[plain, part, image, close]);
        assert!(skeleton(raw.as_bytes()).is_none(), "{raw}");
        same_either_way(&raw);
    }
    // A part's Content-Type folded over lines, and a byte that is not UTF-8 (Latin-1)
    // in its header block: read as mail-parser reads them.
    let folded = mail(&[
        plain,
        "--b1\nContent-Type: image/png;\n\tname=\"logo.png\"\nX-Note: cafe\n\nIMAGEBYTES\n",
        status,
        close,
    ]);
    let mut latin1 = folded.clone().into_bytes();
    let e = memchr::memmem::find(&latin1, b"cafe").expect("marker") + 3;
    latin1[e] = 0xe9;
    for raw in [folded.as_bytes(), latin1.as_slice()] {
        let cut = skeleton(raw).expect("cut down");
        assert!(memchr::memmem::find(&cut.bytes, b"IMAGEBYTES").is_none());
        let whole = mail::Mail::parse_with(raw, mail::Reading::Whole).map(|m| mail_view(&m));
        let cut = mail::Mail::parse_with(raw, mail::Reading::Walk).map(|m| mail_view(&m));
        assert_eq!(cut, whole);
    }
    // Multiparts nested past the walk's depth: parsed whole.
    let mut deep = head.replace("b1", "d0");
    for i in 1..40 {
        deep.push_str(&format!(
            "--d{}\nContent-Type: multipart/mixed; boundary=d{i}\n\n",
            i - 1
        ));
    }
    deep.push_str(&format!(
        "--d39\nContent-Type: image/png\n\nIMAGEBYTES\n{plain}--d39--\n"
    ));
    assert!(skeleton(deep.as_bytes()).is_none());
    // mail-parser's reading of another message does not match the walk.
    let other = mail(&[plain, status, close]);
    let parsed = mail_parser::MessageParser::new()
        .parse(other.as_bytes())
        .expect("parsed");
    assert!(
        !skeleton(full.as_bytes())
            .expect("cut down")
            .matches(&parsed.parts)
    );
}

/// Bodies the skeleton leaves out to be read from the message come out as mail-parser
/// reads them in the whole message: each part's text (its charset decoded, its end
/// before the line break in front of the boundary, or at a boundary within a line),
/// and the mail the decoders see.
#[test]
fn plain_bodies_read_as_mail_parser_reads_them() {
    let head =
        "Subject: s\nContent-Type: multipart/report; report-type=delivery-status; boundary=b1\n\n";
    let status = "--b1\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; a@b.example\nAction: failed\nStatus: 5.1.1\n";
    let parts: Vec<Vec<u8>> = vec![
        b"--b1\nContent-Type: text/plain; charset=us-ascii\n\n550 5.1.1 user unknown\n".to_vec(),
        b"--b1\nContent-Type: text/plain; charset=\"US-ASCII\"\n\nupper case charset\n".to_vec(),
        b"--b1\nContent-Type: text/plain; charset=iso-8859-1\n\nEmpf\xe4nger unbekannt\n".to_vec(),
        b"--b1\nContent-Type: text/plain; charset=us-ascii\n\nnot ASCII \xe9 after all\n".to_vec(),
        b"--b1\nContent-Type: text/plain; charset=utf-8\n\nbroken \xff\xfe UTF-8\n".to_vec(),
        b"--b1\nContent-Type: text/plain; charset=utf-16le\n\nh\x00i\x00\n".to_vec(),
        b"--b1\nContent-Type: text/plain\n\n".to_vec(),
        b"--b1\nContent-Type: text/plain\n\nends within a line ".to_vec(),
        b"--b1\nContent-Type: text/plain\n\nends in a carriage return\r\n".to_vec(),
        b"--b1\nContent-Type: text/plain\n\ntwo blank lines\n\n\n".to_vec(),
        b"--b1\nContent-Type: text/plain\nContent-Transfer-Encoding: 7bit\nContent-Transfer-Encoding: base64\n\nNTUwIG5vIHN1Y2ggdXNlcg==\n".to_vec(),
        b"--b1\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\nContent-Transfer-Encoding: 8bit\n\nNTUwIG5vIHN1Y2ggdXNlcg==\n".to_vec(),
        b"--b1\nContent-Type: text/plain\nContent-Disposition: attachment; filename=x.txt\n\nan attached text\n".to_vec(),
        b"--b1\nContent-Type: text/html; charset=windows-1252\n\n<p>caf\xe9 550</p>\n".to_vec(),
        b"--b1\nContent-Type: text/rfc822-headers\n\nMessage-ID: <m@b.example>\n".to_vec(),
        b"--b1\nContent-Type: message/delivery-status; charset=iso-8859-1\n\nStatus: 5.1.1\nX-Note: \xe9\n".to_vec(),
    ];
    let mut messages: Vec<Vec<u8>> = Vec::new();
    for part in &parts {
        let mut m = head.as_bytes().to_vec();
        m.extend_from_slice(part);
        m.extend_from_slice(status.as_bytes());
        m.extend_from_slice(b"--b1--\n");
        // Line ends changed byte by byte, so a body's Latin-1 bytes stay as they are.
        let ended =
            |end: &[u8]| -> Vec<u8> { m.split(|&b| b == b'\n').collect::<Vec<_>>().join(end) };
        messages.push(ended(b"\r\n"));
        // A lone CR ends no line for mail-parser's boundary search either.
        messages.push(ended(b"\r"));
        messages.push(m);
    }
    // Top-level bodies: they run to the message's end.
    for top in [
        &b"Subject: s\n\nno Content-Type 550 5.1.1\n"[..],
        b"Subject: s\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\nEmpf\xe4nger\n\n",
        b"Subject: s\nContent-Type: text/plain\n\nno line end at the end",
        b"Subject: s\nContent-Type: message/rfc822\n\nSubject: inner\n\ninner body\n",
        b"Subject: s\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n550 =E2=80=94 no\n",
        b"Subject: s\nContent-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: digest part without a type\n\nx\n--d--\n",
    ] {
        messages.push(top.to_vec());
    }
    let texts = |message: &mail_parser::Message<'_>,
                 via: Option<(&[u8], &super::skeleton::Skeleton)>| {
        message
            .parts
            .iter()
            .filter_map(|part| {
                let plain =
                    via.and_then(|(raw, cut)| cut.body_apart(raw, part.offset_body as usize));
                match (&part.body, plain) {
                    (PartType::Text(_) | PartType::Html(_), Some(bytes)) => {
                        Some(mail::text_as_parsed(part, bytes).into_owned())
                    }
                    (PartType::Text(t) | PartType::Html(t), None) => Some(t.to_string()),
                    (PartType::Binary(_) | PartType::InlineBinary(_), Some(bytes)) => {
                        Some(format!("{bytes:?}"))
                    }
                    (PartType::Binary(bytes) | PartType::InlineBinary(bytes), None) => {
                        Some(format!("{:?}", bytes.as_ref()))
                    }
                    _ => None,
                }
            })
            .collect::<Vec<_>>()
    };
    let parser = mail_parser::MessageParser::new();
    let mut left_out = 0;
    for raw in &messages {
        let shown = String::from_utf8_lossy(raw);
        let whole = parser.parse(raw.as_slice()).expect("parsed");
        if let Some(cut) = skeleton(raw) {
            let read = parser.parse(cut.bytes.as_slice()).expect("parsed");
            if cut.matches(&read.parts) {
                left_out += usize::from(cut.bytes.len() < raw.len());
                assert_eq!(
                    texts(&read, Some((raw, &cut))),
                    texts(&whole, None),
                    "{shown}"
                );
            }
        }
        let whole = mail::Mail::parse_with(raw, mail::Reading::Whole).map(|m| mail_view(&m));
        let cut = mail::Mail::parse_with(raw, mail::Reading::Walk).map(|m| mail_view(&m));
        assert_eq!(cut, whole, "{shown}");
    }
    assert!(left_out >= 30, "{left_out} messages cut down");
}

/// The charsets read without their decoder when the text is ASCII: their decoders map
/// ASCII to itself.
#[test]
fn ascii_keeping_charsets_keep_ascii() {
    let ascii: Vec<u8> = (0u8..128).collect();
    for name in mail::ASCII_KEEPING_CHARSETS {
        let decode = mail_parser::decoders::charsets::map::charset_decoder(name.as_bytes())
            .unwrap_or_else(|| panic!("{name} has a decoder"));
        assert_eq!(decode(&ascii).as_bytes(), ascii.as_slice(), "{name}");
    }
}

/// Field names are matched without case (a name with a non-ASCII letter is none of
/// them); a fold continues the field before it, even one that is not read (it must not reach the field read before that); a name that
/// trims to nothing closes a block as a blank line does.
#[test]
fn delivery_status_field_names_and_folds() {
    let mut report = Report::new(Kind::Bounce, "rfc3464");
    rfc3464::read_fields(
        "FINAL-RECIPIENT: rfc822; a@example.net\nSt\u{e4}tus: 4.0.0\nstatus: 5.1.1\nDiAgNoStIc-CoDe: smtp; 550\n  no such user\nX-Vendor-Extension-Field-Longer-Than-Any: x\n  not a diagnostic\nX-Actual-Recipient: rfc822; a@example.net\n\x0c: y\nFinal-Recipient: rfc822; b@example.net\nAction: failed\n",
        &mut report,
    );
    let got: Vec<_> = report
        .recipients
        .iter()
        .map(|r| {
            let status = r.status.map(|s| s.to_string());
            (
                r.address.as_str(),
                r.diagnostic.as_deref(),
                r.action,
                status,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "a@example.net",
                Some("550 no such user"),
                None,
                Some("5.1.1".to_string())
            ),
            ("b@example.net", None, Some(DsnAction::Failed), None),
        ]
    );
}

/// The text of each text part of `raw` (by index): mail-parser's, of the message
/// parsed whole or, when `cut` is set, as the DSN reader reads it: mail-parser's
/// reading of its skeleton, when that is the walk's, with the bodies the walk decoded.
/// `None` when mail-parser panics (an overflow it has in debug builds only) or finds
/// no message.
fn part_texts(raw: &[u8], cut: bool) -> Option<Vec<(usize, String)>> {
    let texts = |parts: &[mail_parser::MessagePart<'_>], cut: Option<&Skeleton>| {
        let texts = parts
            .iter()
            .enumerate()
            .filter_map(|(i, part)| match &part.body {
                mail_parser::PartType::Text(t) | mail_parser::PartType::Html(t) => {
                    let apart = cut.and_then(|c| c.body_apart(raw, part.offset_body as usize));
                    Some((
                        i,
                        apart.map_or(t.to_string(), |d| mail::text_as_parsed(part, d).into()),
                    ))
                }
                _ => None,
            });
        texts.collect::<Vec<_>>()
    };
    std::panic::catch_unwind(|| {
        if cut
            && let Some(cut) = skeleton(raw)
            && let Some(message) = mail::PARSER.parse(&cut.bytes)
            && cut.matches(&message.parts)
        {
            return Some(texts(&message.parts, Some(&cut)));
        }
        mail::PARSER.parse(raw).map(|m| texts(&m.parts, None))
    })
    .ok()
    .flatten()
}

/// Text parts with a quoted-printable body are decoded by the skeleton walk, not by
/// mail-parser: hand-written tricky bodies and generated ones, in a multipart (plain
/// text, HTML, another charset, the last part, CRLF lines) and at the top level, read
/// into the very text mail-parser decodes from the message whole.
#[test]
fn quoted_printable_text_reads_as_mail_parser_decodes_it() {
    let mut bodies: Vec<Vec<u8>> = [
        &b""[..],
        b"\n",
        b"plain\n",
        b"no line end",
        b"caf=C3=A9 =3D =e2=80=94 x=\ny\n",
        b"a=\n",
        b"=\n",
        b"\r=\n",
        b"ab\r=\n",
        b"a=\r\n",
        b"a  \t\n",
        b"a=20\n",
        b"a =\n \n",
        b"=4\n",
        b"=4",
        b"a=",
        b"==\n",
        b"=A=\n",
        b"= \n",
        b"= x\n",
        b"=Z\n",
        b"a=AZ\n",
        b"a=A\rZ\n",
        b"a=A\nB\n",
        b"a=A\n",
        b"x\r\ny\r\n",
        b"x\ry\n",
        b"\r\n\r\n",
        b"=0D\n",
        b"=0D",
        b"a\r",
        b"a=\x0c\n",
        b"a\x0c\n",
        b"\xe9t\xe9 =E9\n",
        b"a=2D-b1\n",
        b"a-=2Db1\n",
        b"-\n-\n",
        b"---b1",
        b"text\n--b1x\n",
        b"text\n--b1 \n",
    ]
    .iter()
    .map(|b| b.to_vec())
    .collect();
    // A long HTML body as some notices carry.
    let mut html = Vec::new();
    for i in 0..800 {
        html.extend_from_slice(
            format!("<td style=3D\"color:#{i:03}\">Delivery to r{i}@example.com fai=\nled =E2=80=94 550 5.1.1</td>  \n").as_bytes(),
        );
    }
    bodies.push(html);
    // Generated: every sequence of the pieces mail-parser's decoder treats apart.
    let pieces: &[&[u8]] = &[
        b"=",
        b"A",
        b"f",
        b"0",
        b"Z",
        b"g",
        b" ",
        b"\t",
        b"\r",
        b"\n",
        b"-",
        b"\xc3\xa9",
        b"\xe9",
        b"b1",
        b"--b1",
        b"=\n",
        b"=3D",
        b"words",
    ];
    bodies.extend(random_bodies(0x9e37_79b9_7f4a_7c15, pieces, 2500));

    // What comes before and after the body.
    let head = "From: MAILER-DAEMON@mx.example\nReceived: from a by b\nSubject: Undelivered\nContent-Type: multipart/mixed; boundary=\"b1\"\n\nPreamble.\n";
    let shapes = encoded_body_shapes(head, "quoted-printable", "Quoted-Printable");
    // Decoded by the walk (mail-parser gets an empty body), whatever it decodes to;
    // left as it is where mail-parser gives up on the encoding, or reads a part with no
    // boundary after it otherwise.
    let cut = |before: &str, body: &[u8], after: &str| {
        let raw = [before.as_bytes(), body, after.as_bytes()].concat();
        let cut = skeleton(&raw).expect("cut down");
        (
            String::from_utf8_lossy(&cut.bytes).into_owned(),
            String::from_utf8_lossy(&cut.bytes_read()).into_owned(),
        )
    };
    let (before, after) = &shapes[0];
    let (bytes, read) = cut(before, b"caf=C3=A9 =3D x=\ny  \n", after);
    assert!(bytes.contains("Encoding: 8bit\n\n\n--b1\n"), "{bytes}");
    assert!(
        read.contains("Encoding: 8bit\n\ncafé = xy\n--b1\n"),
        "{read}"
    );
    // A CR at the end, a boundary decoded.
    for (body, text) in [("=0D\n", "\r\n--b1\n"), ("a=2D-b1\n", "a--b1\n--b1\n")] {
        let (_, read) = cut(before, body.as_bytes(), after);
        assert!(read.contains(&format!("8bit\n\n{text}")), "{read}");
    }
    let (bytes, read) = cut(before, b"a==\n", after);
    assert!(
        bytes.contains("quoted-printable\n\na==\n--b1") && read == bytes,
        "{bytes}"
    );
    let (bytes, read) = cut(before, b"a=3D\n", "");
    assert!(
        bytes.ends_with("quoted-printable\n\na=3D\n") && read == bytes,
        "{bytes}"
    );
    let (bytes, read) = cut(&shapes[4].0, b"a=3D\r\n", "");
    assert!(
        bytes.ends_with("Content-Transfer-Encoding: 8bit\n\n"),
        "{bytes}"
    );
    assert!(
        read.ends_with("Content-Transfer-Encoding: 8bit\n\na=\r\n"),
        "{read}"
    );

    let (mut cases, mut decoded, mut panics) = (0, 0, 0);
    for body in &bodies {
        for (before, after) in &shapes {
            let raw = [before.as_bytes(), body, after.as_bytes()].concat();
            let whole = part_texts(&raw, false);
            if whole.is_none() {
                panics += 1;
                continue;
            }
            cases += 1;
            let cut = part_texts(&raw, true);
            assert_eq!(cut, whole, "{:?}", String::from_utf8_lossy(&raw));
            decoded += usize::from(skeleton(&raw).is_some_and(|s| {
                memchr::memmem::find(&s.bytes, b"Content-Transfer-Encoding: 8bit").is_some()
            }));
            // And through the reader itself.
            let whole = mail::Mail::parse_with(&raw, mail::Reading::Whole).map(|m| mail_view(&m));
            let cut = mail::Mail::parse_with(&raw, mail::Reading::Walk).map(|m| mail_view(&m));
            assert_eq!(cut, whole, "{:?}", String::from_utf8_lossy(&raw));
        }
    }
    // mail-parser overflows (in debug builds only) cutting a line break it never wrote.
    assert!(panics * 20 < cases, "{panics} panics in {cases}");
    assert!(decoded * 2 > cases, "{decoded} of {cases} decoded");
}

/// A returned message with no boundary after it (a notice cut off) runs to the end:
/// the walk reads it as mail-parser reads the message whole, a message when a blank
/// line ends its header block, whatever its own body holds (parts left open, a message
/// within it, an encoding); a block that runs to the end is left to mail-parser.
#[test]
fn an_unterminated_returned_message_reads_as_mail_parser_reads_it() {
    let head = "From: MAILER-DAEMON@mx.example\nSubject: Undelivered\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\n\n--b1\nContent-Type: text/plain\n\n550 5.1.1 no such user\n--b1\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; a@b.example\nStatus: 5.1.1\n--b1\nContent-Type: message/rfc822\n\n";
    let walked = [
        "Message-ID: <m1@b.example>\nFrom: s@b.example\n\nbody\n",
        "Message-ID: <m1@b.example>\n\n",
        "Message-ID: <m1@b.example>\n\nno line end",
        "\nMessage-ID: <m1@b.example>\n\nbody\n",
        "\n\n",
        "Message-ID: <m1@b.example>\n   \nTo: t@b.example\n\nbody\n",
        "not a field\nMessage-ID: <m1@b.example>\n\nbody\n",
        "Content-Type: multipart/mixed; boundary=i\n\n--i\nContent-Type: text/plain\n\ninner, left open\n",
        "Content-Type: multipart/mixed; boundary=i\n\n--i\nContent-Type: text/plain\n\ninner\n--i--\nepilogue\n",
        "Content-Type: message/rfc822\n\nSubject: within\n\nbody\n",
        "Content-Type: text/plain; name=\"a\n\nb\"\n\nbody\n",
        "Subject: =?utf-8?B?w6k\n\n=?=\n\nbody\n",
        "Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\nYWJj\n",
        "Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\nnot base64!\n",
    ];
    let left = [
        "",
        "\n",
        "Message-ID: <m1@b.example>\n",
        "Message-ID: <m1@b.example>",
        "Message-ID: <m1@b.example>\r\n\r\nbody\r\n",
        // A returned notice is decoded from the nested message.
        "From: MAILER-DAEMON@relay.example\n\nbody\n",
        // A boundary the notice's starts: not walked at all.
        "Message-ID: <m1@b.example>\n\n--b1x\n",
    ];
    let walks = |raw: &[u8]| skeleton(raw).is_some_and(|s| s.leaves().is_some());
    for (nested, walk) in walked
        .iter()
        .map(|n| (n, true))
        .chain(left.iter().map(|n| (n, false)))
    {
        let raw = format!("{head}{nested}");
        let crlf = raw.replace('\n', "\r\n");
        for raw in [raw.as_bytes(), crlf.as_bytes()] {
            let whole = mail::Mail::parse_with(raw, mail::Reading::Whole).map(|m| mail_view(&m));
            for reading in [mail::Reading::Skeleton, mail::Reading::Walk] {
                let read = mail::Mail::parse_with(raw, reading).map(|m| mail_view(&m));
                assert_eq!(read, whole, "{reading:?}: {}", String::from_utf8_lossy(raw));
            }
        }
        assert_eq!(walks(raw.as_bytes()), walk, "{raw}");
    }
}

/// A part's header block with a line without a colon (a fold that lost its indent,
/// often a multipart's boundary) reads as mail-parser reads it: the line is skipped,
/// and a multipart left without a boundary is bytes. A fold after such a line, a
/// boundary mail-parser may read its own way, are left to mail-parser.
#[test]
fn part_header_lines_without_a_colon_read_as_mail_parser_reads_them() {
    let head = "From: MAILER-DAEMON@mx.example\nSubject: s\nContent-Type: multipart/report; report-type=delivery-status; boundary=b1\n\n";
    let status = "--b1\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; a@b.example\nStatus: 5.1.1\n";
    let inner = "--b2\nContent-Type: text/plain\n\n550 5.1.1 inner text\n--b2\nContent-Type: text/html\n\n<p>inner</p>\n--b2--\n";
    let walked = [
        format!("--b1\nContent-Type: multipart/alternative;\nboundary=\"b2\"\n\n{inner}"),
        format!(
            "--b1\nContent-Type: multipart/alternative; differences=Content-Type;\nboundary=\"b2\"\n\n{inner}"
        ),
        format!("--b1\nContent-Type: multipart/mixed\n\n{inner}"),
        format!("--b1\nContent-Type: multipart/mixed; Boundary-X=b2\n\n{inner}"),
        "--b1\nContent-Type: multipart/mixed\nContent-Transfer-Encoding: base64\n\nnot base64!\n"
            .to_string(),
        "--b1\nContent-Type: text/plain\nno colon here\n\n550 text\n".to_string(),
        "--b1\nno colon first\nContent-Type: text/plain\n\n550 text\n".to_string(),
        "--b1\nContent-Type: text/plain;\ncharset=iso-8859-1\nX-Note: x\n folded\n\ncaf\u{e9}\n"
            .to_string(),
        "--b1\nContent-Type: text/plain; charset=iso-8859-1\nX-Note: a\n\t\nlost\n\n550 text\n"
            .to_string(),
    ];
    let left = [
        "--b1\nContent-Type: text/html\nno colon\n Content-Type: text/plain\n\n550 text\n"
            .to_string(),
        format!("--b1\nContent-Type: multipart/mixed; boundary=\"\"\n\n{inner}"),
        format!("--b1\nContent-Type: multipart/mixed; boundary*=b2\n\n{inner}"),
        format!("--b1\nContent-Type: multipart/mixed (b2)\n\n{inner}"),
    ];
    let walks = |raw: &str| skeleton(raw.as_bytes()).is_some_and(|s| s.leaves().is_some());
    for (part, walk) in walked
        .iter()
        .map(|p| (p, true))
        .chain(left.iter().map(|p| (p, false)))
    {
        for last in [false, true] {
            let raw = if last {
                format!("{head}{status}{part}--b1--\n")
            } else {
                format!("{head}{part}{status}--b1--\n")
            };
            let crlf = raw.replace('\n', "\r\n");
            for raw in [raw.as_bytes(), crlf.as_bytes()] {
                let whole =
                    mail::Mail::parse_with(raw, mail::Reading::Whole).map(|m| mail_view(&m));
                for reading in [mail::Reading::Skeleton, mail::Reading::Walk] {
                    let read = mail::Mail::parse_with(raw, reading).map(|m| mail_view(&m));
                    assert_eq!(read, whole, "{reading:?}: {}", String::from_utf8_lossy(raw));
                }
            }
            assert_eq!(walks(&raw), walk, "{raw}");
        }
    }
}

/// Text parts with a base64 body are decoded by the skeleton walk, not by mail-parser:
/// hand-written tricky bodies and generated ones, in a multipart (plain text, HTML,
/// another charset, the last part, CRLF lines) and at the top level, read into the very
/// text mail-parser decodes from the message whole; a body mail-parser gives up on is
/// left to it.
#[test]
fn base64_text_reads_as_mail_parser_decodes_it() {
    let mut bodies: Vec<Vec<u8>> = [
        &b""[..],
        b"\n",
        b"NTUwIG5vIHN1Y2ggdXNlcg==\n",
        b"NTUwIG5v\r\nIHN1Y2gg\r\ndXNlcg==\r\n",
        b"w6kgw6k=\n",
        b"QQ",
        b"QUI",
        b"Q",
        b"Q=",
        b"QU=I=Q===",
        b"=QUJD",
        b"QU JD\t\n",
        b"QUJD-QUJD\n",
        b"QUJD--QUJD\n",
        b"QUJD\n-",
        b"QUJD!\n",
        b"QUJD_\n",
        b"6Q==\n",
        b"/+/+\n",
        b"QUJD\n--b1x\n",
    ]
    .iter()
    .map(|b| b.to_vec())
    .collect();
    let pieces: &[&[u8]] = &[
        b"Q", b"UJ", b"D", b"w6k", b"+/", b"=", b"==", b" ", b"\t", b"\r", b"\n", b"-", b"--",
        b"b1", b"--b1", b"!", b"\xe9", b"_", b"YWJj\n",
    ];
    bodies.extend(random_bodies(0x2545_f491_4f6c_dd1d, pieces, 2500));
    let head = "From: MAILER-DAEMON@mx.example\nSubject: Undelivered\nContent-Type: multipart/mixed; boundary=\"b1\"\n\nPreamble.\n";
    let shapes = encoded_body_shapes(head, "base64", "BASE64");
    let (mut cases, mut decoded) = (0, 0);
    for body in &bodies {
        for (before, after) in &shapes {
            let raw = [before.as_bytes(), body, after.as_bytes()].concat();
            let whole = part_texts(&raw, false);
            cases += 1;
            assert_eq!(
                part_texts(&raw, true),
                whole,
                "{:?}",
                String::from_utf8_lossy(&raw)
            );
            decoded += usize::from(skeleton(&raw).is_some_and(|s| {
                memchr::memmem::find(&s.bytes, b"Content-Transfer-Encoding: 8bit").is_some()
            }));
            let whole = mail::Mail::parse_with(&raw, mail::Reading::Whole).map(|m| mail_view(&m));
            let cut = mail::Mail::parse_with(&raw, mail::Reading::Walk).map(|m| mail_view(&m));
            assert_eq!(cut, whole, "{:?}", String::from_utf8_lossy(&raw));
        }
    }
    // Most generated bodies hold a byte mail-parser gives up on.
    assert!(decoded * 10 > cases, "{decoded} of {cases} decoded");
    // Decoded by the walk: mail-parser gets an empty body.
    let (before, after) = &shapes[0];
    let raw = format!("{before}w6kgNTUw\n{after}");
    let cut = skeleton(raw.as_bytes()).expect("cut down");
    let read = String::from_utf8(cut.bytes_read()).unwrap();
    assert!(
        read.contains("Encoding: 8bit\n\n\u{e9} 550\n--b1\n"),
        "{read}"
    );
}

/// `count` bodies of up to 31 pieces each, drawn from `pieces` by a linear congruential
/// generator started at `seed`: the same bodies on every run.
fn random_bodies(mut seed: u64, pieces: &[&[u8]], count: usize) -> Vec<Vec<u8>> {
    let step = |x: u64| {
        x.wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407)
    };
    (0..count)
        .map(|_| {
            seed = step(seed);
            let mut s = seed;
            let mut body = Vec::new();
            for _ in 0..(seed >> 59) {
                s = step(s);
                body.extend_from_slice(pieces[(s >> 33) as usize % pieces.len()]);
            }
            body
        })
        .collect()
}

/// Where a generated body goes, as (before, after): a text part encoded with
/// `encoding` in a notice with the header block `head` (several types and charsets,
/// CRLF lines around it, the last part; the first is plain UTF-8 text before a
/// delivery-status part), or the top level (the encoding spelled `top_spelling`, with
/// and without a Content-Type).
fn encoded_body_shapes(head: &str, encoding: &str, top_spelling: &str) -> Vec<(String, String)> {
    let part = |ct: &str| {
        format!("{head}--b1\nContent-Type: {ct}\nContent-Transfer-Encoding: {encoding}\n\n")
    };
    let status = "--b1\nContent-Type: message/delivery-status\n\nStatus: 5.1.1\n--b1--\n";
    let crlf = |s: String| s.replace('\n', "\r\n");
    vec![
        (part("text/plain; charset=utf-8"), status.to_string()),
        (part("text/html"), status.to_string()),
        // The last part, in another charset.
        (
            part("text/plain; charset=iso-8859-1"),
            "--b1--\n".to_string(),
        ),
        // CRLF lines around the body (inside it, line ends are as generated).
        (crlf(part("text/plain")), crlf(status.to_string())),
        (
            format!(
                "Received: from a\nSubject: s\nContent-Type: text/plain\nContent-Transfer-Encoding: {top_spelling} \n\n"
            ),
            String::new(),
        ),
        (
            format!("Received: from a\nContent-Transfer-Encoding: {encoding}\n\n"),
            String::new(),
        ),
    ]
}

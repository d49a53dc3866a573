//! Unit tests of the Postfix parser: line shapes, queue ids, years, and the
//! correlation of records into events and deliveries, through the public parser API
//! with a collecting sink. Inputs are written here, line by line; the fixture files
//! are exercised by the integration tests in `tests/`.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::sync::{Arc, LazyLock};

use super::*;
use crate::classify::Classifier;
use crate::model::{Action, Bucket, Delivery, Event, Outcome};
use crate::parse::{Context, Format, InputMeta, Leftovers, Parser, Sink, Tally};

/// Compiling the rule table is the costly part; every test shares one.
static CLASSIFIER: LazyLock<Classifier> = LazyLock::new(Classifier::builtin);

#[derive(Debug, Default)]
struct Collect {
    events: Vec<Event>,
    deliveries: Vec<Delivery>,
}

impl Sink for Collect {
    fn event(&mut self, event: &Event) {
        self.events.push(event.clone());
    }

    fn delivery(&mut self, delivery: &Delivery) {
        self.deliveries.push(delivery.clone());
    }
}

#[derive(Debug)]
struct Parsed {
    events: Vec<Event>,
    deliveries: Vec<Delivery>,
    tally: Tally,
    leftovers: Leftovers,
}

impl Parsed {
    /// The deliveries of one recipient, in order.
    fn of(&self, recipient: &str) -> Vec<&Delivery> {
        self.deliveries
            .iter()
            .filter(|d| &**d.recipient() == recipient)
            .collect()
    }

    /// The one delivery of this recipient.
    fn one(&self, recipient: &str) -> &Delivery {
        let found = self.of(recipient);
        assert_eq!(
            found.len(),
            1,
            "deliveries of {recipient}: {:#?}",
            self.deliveries
        );
        found[0]
    }
}

/// A reader that hands out at most `step` bytes at a time, as a pipe may.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.data.len().min(self.step).min(buf.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

impl std::io::BufRead for Trickle<'_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        Ok(&self.data[..self.data.len().min(self.step)])
    }

    fn consume(&mut self, amount: usize) {
        self.data = &self.data[amount..];
    }
}

fn parse_with(input: &[u8], year: Option<i32>, threads: usize, chunk_bytes: usize) -> Parsed {
    parse_reader(&mut Cursor::new(input.to_vec()), year, threads, chunk_bytes)
}

fn parse_reader(
    reader: &mut (dyn std::io::BufRead + Send),
    year: Option<i32>,
    threads: usize,
    chunk_bytes: usize,
) -> Parsed {
    let ctx = Context {
        year,
        keep_unrecognized: 100,
        threads,
        chunk_bytes,
        ..Context::new(&CLASSIFIER)
    };
    let mut parser = PostfixParser::new(&ctx);
    let meta = InputMeta {
        file: Arc::from("test.log"),
        mtime: None,
    };
    let mut sink = Collect::default();
    let tally = parser
        .parse(reader, &meta, &mut sink)
        .expect("reading memory");
    let leftovers = parser.finish(&mut sink);
    assert!(tally.balanced(), "unbalanced tally: {tally:#?}");
    Parsed {
        events: sink.events,
        deliveries: sink.deliveries,
        tally,
        leftovers,
    }
}

/// One thread, year 2026.
fn parse(lines: &[&str]) -> Parsed {
    let mut text = lines.join("\n");
    text.push('\n');
    parse_with(text.as_bytes(), Some(2026), 1, 1 << 20)
}

fn line(text: &str) -> LogLine<'_> {
    parse_syslog_line(text.as_bytes(), &mut YearGuess::fixed(2026))
        .unwrap_or_else(|| panic!("not parsed: {text}"))
}

fn time_of(text: &str) -> String {
    line(text).time.map_or("-".to_string(), |t| t.to_string())
}

// Lines used by several tests. Queue ids and hosts are made up.
const FROM: &str = "Nov 22 10:00:00 mta1 postfix/qmgr[100]: 1A2B3C4D5E: from=<news@shop.example>, size=2000, nrcpt=3 (queue active)";
const MSGID: &str =
    "Nov 22 10:00:00 mta1 postfix/cleanup[101]: 1A2B3C4D5E: message-id=<m1@shop.example>";
const REFUSED: &str = "Nov 22 10:00:01 mta1 postfix/smtp[102]: 1A2B3C4D5E: to=<a@dead.example>, relay=none, delay=1, delays=0.1/0/0.9/0, dsn=4.4.1, status=deferred (connect to mx.dead.example[192.0.2.1]:25: Connection refused)";
const GREYLIST: &str = "Nov 22 10:00:01 mta1 postfix/smtp[102]: 1A2B3C4D5E: to=<b@grey.example>, relay=mx.grey.example[192.0.2.2]:25, delay=1, delays=0.1/0/0.5/0.4, dsn=4.7.1, status=deferred (host mx.grey.example[192.0.2.2] said: 451 4.7.1 Greylisted, try again later (in reply to RCPT TO command))";
const SENT_C: &str = "Nov 22 10:00:02 mta1 postfix/smtp[102]: 1A2B3C4D5E: to=<c@gmail.com>, relay=gmail-smtp-in.l.google.com[192.0.2.3]:25, delay=2, delays=0.1/0/1/0.9, dsn=2.0.0, status=sent (250 2.0.0 OK)";
const SENT_B: &str = "Nov 22 10:10:02 mta1 postfix/smtp[103]: 1A2B3C4D5E: to=<b@grey.example>, relay=mx.grey.example[192.0.2.2]:25, delay=602, delays=600/0/1/1, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 99AA)";
const EXPIRED: &str = "Nov 27 10:00:03 mta1 postfix/qmgr[100]: 1A2B3C4D5E: from=<news@shop.example>, status=expired, returned to sender";
const REMOVED: &str = "Nov 27 10:00:03 mta1 postfix/qmgr[100]: 1A2B3C4D5E: removed";

#[test]
fn timestamp_shapes() {
    let tail = " mta1 postfix/smtp[1]: x";
    let cases = [
        ("Nov 22 14:36:29", "2026-11-22T14:36:29Z"),
        ("Nov  2 14:36:29", "2026-11-02T14:36:29Z"),
        ("Nov 02 14:36:29", "2026-11-02T14:36:29Z"),
        ("Nov 2 14:36:29", "2026-11-02T14:36:29Z"),
        ("Nov 22 14:36:29.250", "2026-11-22T14:36:29.250000Z"),
        (
            "2026-11-22T14:36:29.123456+00:00",
            "2026-11-22T14:36:29.123456Z",
        ),
        ("2026-11-22T16:36:29+02:00", "2026-11-22T14:36:29Z"),
        ("2026-11-22T09:36:29.5-05:00", "2026-11-22T14:36:29.500000Z"),
        ("2026-11-22T14:36:29+0000", "2026-11-22T14:36:29Z"),
        ("2026-11-22T14:36:29Z", "2026-11-22T14:36:29Z"),
        // Past midnight UTC.
        ("2026-11-22T23:30:00-01:00", "2026-11-23T00:30:00Z"),
        ("<22>Nov 22 14:36:29", "2026-11-22T14:36:29Z"),
        ("<150>2026-11-22T14:36:29Z", "2026-11-22T14:36:29Z"),
    ];
    for (stamp, want) in cases {
        let text = format!("{stamp}{tail}");
        assert_eq!(time_of(&text), want, "{text}");
        let l = line(&text);
        assert_eq!(l.host, b"mta1", "{text}");
        assert_eq!(l.program, b"postfix/smtp", "{text}");
        assert_eq!(l.message, b"x", "{text}");
    }
}

#[test]
fn impossible_dates_have_no_time() {
    // The line is still a syslog line; only its time is unknown.
    assert_eq!(time_of("Feb 30 10:00:00 mta1 postfix/smtp[1]: x"), "-");
    assert_eq!(time_of("Feb 29 10:00:00 mta1 postfix/smtp[1]: x"), "-");
    let leap = parse_syslog_line(
        b"Feb 29 10:00:00 mta1 postfix/smtp[1]: x",
        &mut YearGuess::fixed(2028),
    )
    .unwrap();
    assert_eq!(leap.time.unwrap().to_string(), "2028-02-29T10:00:00Z");
}

#[test]
fn not_syslog_lines() {
    for text in [
        "",
        "hello world",
        "this line is not a log line at all",
        "Xyz 22 10:00:00 mta1 postfix/smtp[1]: x",
        "Nov 22 10:00 mta1 postfix/smtp[1]: x",
        "Nov 22 25:00:00 mta1 postfix/smtp[1]: x",
        "Nov 32 10:00:00 mta1 postfix/smtp[1]: x",
        "2026-13-22T10:00:00Z mta1 postfix/smtp[1]: x",
        "2026-11-22T10:00:00Z",
        "Nov 22 10:00:00 mta1",
        "Nov 22 10:00:00 mta1 postfix/smtp[1] no colon",
        "Nov 22 10:00:00 mta1 postfix/smtp[1: broken pid",
        "203.0.113.9 - - [22/Nov/2026:14:36:29 +0000] \"GET / HTTP/1.1\" 200 612",
    ] {
        assert!(
            parse_syslog_line(text.as_bytes(), &mut YearGuess::fixed(2026)).is_none(),
            "parsed: {text:?}"
        );
    }
}

#[test]
fn program_names() {
    let cases = [
        ("postfix/smtp[1]", "smtp", true),
        ("postfix-out/smtp[1]", "smtp", true),
        ("postfix/relay/smtp[1]", "smtp", true),
        ("postfix/smtp-noskip/smtp[1]", "smtp", true),
        ("postfix/submission/smtpd[1]", "smtpd", true),
        ("postfix/lmtp[1]", "lmtp", true),
        ("postfix/local[1]", "local", true),
        ("postfix/virtual[1]", "virtual", true),
        ("postfix/pipe[1]", "pipe", true),
        ("postfix/error[1]", "error", true),
        ("postfix/retry[1]", "retry", true),
        ("mail-relay/qmgr[1]", "qmgr", true),
        ("dovecot", "dovecot", false),
        ("dovecot[9]", "dovecot", false),
        ("sshd[9]", "sshd", false),
        ("kernel", "kernel", false),
        ("opendkim[9]", "opendkim", false),
        ("amavis/filter[9]", "filter", false),
    ];
    for (tag, agent, postfix) in cases {
        let text = format!("Nov 22 10:00:00 mta1 {tag}: something");
        let l = line(&text);
        assert_eq!(l.agent(), agent, "{tag}");
        assert_eq!(l.is_postfix(), postfix, "{tag}");
    }
}

/// The byte-table test agrees with the rule as written: 5-20 upper-case hex
/// characters, or 10-20 letters and digits with a digit and no vowel.
#[test]
fn queue_id_test_agrees_with_its_definition() {
    let reference = |id: &[u8]| {
        (5..=20).contains(&id.len())
            && (id
                .iter()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(b))
                || (id.len() >= 10
                    && id.iter().all(u8::is_ascii_alphanumeric)
                    && id.iter().any(u8::is_ascii_digit)
                    && !id.iter().any(|b| b"aeiouAEIOU".contains(b))))
    };
    let alphabet = b"0123456789ABCDEFGbcdxzBXZaeiouAEIOU:-_ \xff";
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut accepted = 0;
    for _ in 0..200_000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let len = (seed % 23) as usize;
        // Mostly hex, mostly letters and digits, or anything: each rule gets exercised.
        let pool = match (seed >> 8) % 3 {
            0 => &alphabet[..16],
            1 => &alphabet[..25],
            _ => &alphabet[..],
        };
        let id: Vec<u8> = (0..len)
            .map(|i| pool[((seed >> (16 + i % 40)) as usize + i * 7) % pool.len()])
            .collect();
        assert_eq!(
            is_queue_id(&id),
            reference(&id),
            "{:?}",
            String::from_utf8_lossy(&id)
        );
        accepted += usize::from(reference(&id));
        // The same, as the start of a log message: the id ends at the first colon.
        let mut message = id.clone();
        message.extend_from_slice(b": to=<a@b.example>");
        let line = LogLine {
            time: None,
            host: b"mta1",
            program: b"postfix/smtp",
            message: &message,
        };
        // The id ends at the first colon, which a space must follow.
        let colon = message.iter().position(|&b| b == b':').unwrap();
        let want =
            (reference(&message[..colon]) && message[colon + 1] == b' ').then(|| &message[..colon]);
        assert_eq!(line.queue_id_and_rest().map(|(id, _)| id), want);
    }
    assert!(accepted > 10_000, "{accepted} accepted");
}

#[test]
fn queue_ids() {
    for id in [
        "1A2B3C4D5E",
        "E11B6B432B",
        "3F2A1",
        "4Xq9Rk2HbNz6Tyd",
        "3xJ0Zq3NRtz1vn",
    ] {
        assert!(is_queue_id(id.as_bytes()), "{id}");
    }
    for id in [
        "NOQUEUE",
        "statistics",
        "warning",
        "1A2B",
        "connect",
        "4xq9rk2habnz6tyd",
        "Disconnected",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    ] {
        assert!(!is_queue_id(id.as_bytes()), "{id}");
    }
    let l = line(
        "Nov 22 10:00:00 mta1 postfix/smtp[1]: 4Xq9Rk2HbNz6Tyd: to=<a@b.example>, status=sent (ok)",
    );
    let (id, rest) = l.queue_id_and_rest().unwrap();
    assert_eq!(id, b"4Xq9Rk2HbNz6Tyd");
    assert!(rest.starts_with(b"to=<a@b.example>"));
    assert!(
        line("Nov 22 10:00:00 mta1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from x")
            .queue_id_and_rest()
            .is_none()
    );
    assert!(
        line("Nov 22 10:00:00 mta1 postfix/anvil[1]: statistics: max connection rate")
            .queue_id_and_rest()
            .is_none()
    );
}

#[test]
fn year_from_mtime_steps_over_new_year() {
    // File last written in January 2027: a December line is from 2026.
    let mut years = YearGuess::infer(Some((2027, 1)));
    assert_eq!(years.year_for(12), 2026);
    assert_eq!(years.year_for(12), 2026);
    assert_eq!(years.year_for(1), 2027);
    assert_eq!(years.year_for(2), 2027);
    // A log of the mtime's own month.
    let mut years = YearGuess::infer(Some((2026, 11)));
    assert_eq!(years.year_for(11), 2026);
    assert_eq!(
        years.year_for(10),
        2026,
        "a line slightly out of order stays in its year"
    );
    // The fixed year is the year of the file's start.
    let mut years = YearGuess::fixed(2024);
    assert_eq!(years.year_for(11), 2024);
}

#[test]
fn year_inference_through_the_parser() {
    let text = "Dec 31 23:59:58 mta1 postfix/smtp[1]: 1A2B3C4D5E: to=<a@x.example>, relay=none, dsn=4.4.1, status=deferred (connect to mx.x.example[192.0.2.1]:25: Connection refused)\n\
                Jan  1 00:00:05 mta1 postfix/smtp[1]: 1A2B3C4D5E: to=<a@x.example>, relay=mx.x.example[192.0.2.1]:25, dsn=2.0.0, status=sent (250 ok)\n";
    let ctx = Context {
        year: None,
        keep_unrecognized: 10,
        threads: 1,
        ..Context::new(&CLASSIFIER)
    };
    let mut parser = PostfixParser::new(&ctx);
    let meta = InputMeta {
        file: Arc::from("maillog"),
        mtime: Some((2027, 1)),
    };
    let mut sink = Collect::default();
    parser
        .parse(&mut Cursor::new(text.as_bytes().to_vec()), &meta, &mut sink)
        .unwrap();
    let times: Vec<String> = sink
        .events
        .iter()
        .map(|e| e.time.unwrap().to_string())
        .collect();
    assert_eq!(times, ["2026-12-31T23:59:58Z", "2027-01-01T00:00:05Z"]);
}

#[test]
fn deferred_then_delivered() {
    let p = parse(&[FROM, MSGID, GREYLIST, SENT_C, SENT_B, REMOVED]);
    let b = p.one("b@grey.example");
    assert_eq!(b.outcome, Outcome::Delivered);
    assert_eq!((b.attempts, b.deferrals), (2, 1));
    assert_eq!(b.first_time.unwrap().to_string(), "2026-11-22T10:00:01Z");
    assert_eq!(b.last.time.unwrap().to_string(), "2026-11-22T10:10:02Z");
    assert_eq!(b.sender().as_deref(), Some("news@shop.example"));
    assert_eq!(b.message_id().as_deref(), Some("m1@shop.example"));
    assert_eq!(b.queue_id().as_deref(), Some("1A2B3C4D5E"));
    assert!(b.cause().is_none(), "a delivery has no cause");
    assert_eq!(b.kpi(), None);
    // What delayed it is kept.
    let delay = b.last_failure.as_ref().expect("the greylisting is kept");
    assert_eq!(delay.reply_code.map(|r| r.value()), Some(451));
    assert_eq!(
        delay.enhanced_code.map(|e| e.to_string()).as_deref(),
        Some("4.7.1")
    );
    assert!(delay.verdict.is_some());

    let c = p.one("c@gmail.com");
    assert_eq!((c.attempts, c.deferrals), (1, 0));
    assert!(c.last_failure.is_none());

    let actions: Vec<(&str, Action)> = p.events.iter().map(|e| (&*e.recipient, e.action)).collect();
    assert_eq!(
        actions,
        [
            ("b@grey.example", Action::Deferred),
            ("c@gmail.com", Action::Delivered),
            ("b@grey.example", Action::Delivered),
        ]
    );
    assert_eq!((p.tally.total, p.tally.parsed, p.tally.events), (6, 6, 3));
    assert_eq!(p.leftovers.open_messages, 0);
}

#[test]
fn expiry_ends_every_deferred_recipient_with_its_own_last_failure() {
    let p = parse(&[
        FROM, MSGID, REFUSED, GREYLIST, SENT_C, REFUSED, EXPIRED, REMOVED,
    ]);
    assert_eq!(p.deliveries.len(), 3, "{:#?}", p.deliveries);

    let a = p.one("a@dead.example");
    assert_eq!(a.outcome, Outcome::Expired);
    assert_eq!((a.attempts, a.deferrals), (2, 2));
    assert_eq!(a.last.action, Action::Expired);
    assert_eq!(a.last.time.unwrap().to_string(), "2026-11-27T10:00:03Z");
    assert_eq!(a.last.source.line, 7);
    assert_eq!(
        a.last.enhanced_code.map(|e| e.to_string()).as_deref(),
        Some("4.4.1")
    );
    assert_eq!(a.last.reply_code, None);
    assert_eq!(
        a.last.diagnostic.as_deref(),
        Some("connect to mx.dead.example[192.0.2.1]:25: Connection refused")
    );
    assert_eq!(a.cause().map(|v| v.bucket), Some(Bucket::Infrastructure));
    assert_eq!(a.kpi(), Some(crate::model::Kpi::Infrastructure));
    assert_eq!(a.message_id().as_deref(), Some("m1@shop.example"));

    let b = p.one("b@grey.example");
    assert_eq!(b.outcome, Outcome::Expired);
    assert_eq!((b.attempts, b.deferrals), (1, 1));
    assert_eq!(b.last.reply_code.map(|r| r.value()), Some(451));
    // Expiries count as infrastructure whatever their cause.
    assert_eq!(b.kpi(), Some(crate::model::Kpi::Infrastructure));

    // Delivered before the expiry: not expired.
    assert_eq!(p.one("c@gmail.com").outcome, Outcome::Delivered);
    // Expiry events restate the deferral; two of them.
    assert_eq!(
        p.events
            .iter()
            .filter(|e| e.action == Action::Expired)
            .count(),
        2
    );
    assert_eq!(p.tally.events, 6);
    assert_eq!(p.leftovers.pending_deliveries, 0);
}

#[test]
fn expiry_of_a_message_seen_only_at_its_end() {
    // Log starts mid-flight: the deferral is the first line about the message.
    let p = parse(&[REFUSED, EXPIRED]);
    let a = p.one("a@dead.example");
    assert_eq!(a.outcome, Outcome::Expired);
    assert_eq!(a.sender().as_deref(), Some("news@shop.example"));
    assert_eq!(*a.message_id(), None);
}

#[test]
fn still_deferred_at_the_end_is_pending() {
    let p = parse(&[FROM, REFUSED, GREYLIST]);
    assert_eq!(p.deliveries.len(), 2);
    assert!(p.deliveries.iter().all(|d| d.outcome == Outcome::Deferred));
    assert!(p.deliveries.iter().all(|d| d.kpi().is_none()));
    // Ordered by recipient.
    assert_eq!(&**p.deliveries[0].recipient(), "a@dead.example");
    assert_eq!(p.leftovers.pending_deliveries, 2);
    assert_eq!(p.leftovers.open_messages, 1);
}

#[test]
fn removal_by_postsuper_ends_the_deferred_recipients_as_pending() {
    let p = parse(&[
        FROM,
        REFUSED,
        "Nov 22 11:00:00 mta1 postfix/postsuper[200]: 1A2B3C4D5E: removed",
        "Nov 22 11:00:00 mta1 postfix/postsuper[200]: Deleted: 1 message",
    ]);
    assert_eq!(
        p.tally.unrecognized, 0,
        "{:?}",
        p.tally.unrecognized_samples
    );
    let a = p.one("a@dead.example");
    assert_eq!(a.outcome, Outcome::Deferred);
    // Flushed at the removal, not at the end.
    assert_eq!(p.leftovers.open_messages, 0);
}

#[test]
fn bounce_notices_are_not_the_senders_mail() {
    let bounced = "Nov 22 10:00:02 mta1 postfix/smtp[102]: 1A2B3C4D5E: to=<gone@gmail.com>, relay=gmail-smtp-in.l.google.com[192.0.2.3]:25, delay=2, delays=0.1/0/1/0.9, dsn=5.1.1, status=bounced (host gmail-smtp-in.l.google.com[192.0.2.3] said: 550-5.1.1 The email account that you tried to reach does not exist. 550 5.1.1 x - gsmtp (in reply to RCPT TO command))";
    let notice_local = "Nov 22 10:00:02 mta1 postfix/local[104]: 2B3C4D5E6F: to=<news@shop.example>, relay=local, delay=0.01, delays=0/0/0/0.01, dsn=2.0.0, status=sent (delivered to mailbox)";
    // Announced by bounce(8) before qmgr sees the notice...
    let p = parse(&[
        FROM,
        bounced,
        "Nov 22 10:00:02 mta1 postfix/bounce[103]: 1A2B3C4D5E: sender non-delivery notification: 2B3C4D5E6F",
        "Nov 22 10:00:02 mta1 postfix/cleanup[101]: 2B3C4D5E6F: message-id=<n1@mta1.shop.example>",
        notice_local,
    ]);
    assert_eq!(p.deliveries.len(), 1, "{:#?}", p.deliveries);
    assert_eq!(p.deliveries[0].outcome, Outcome::Bounced);
    assert_eq!(
        p.tally.ignored_by_kind.get("bounce notice delivery"),
        Some(&1)
    );
    assert!(
        p.events
            .iter()
            .all(|e| &*e.recipient != "news@shop.example")
    );

    // ...or after it: the notice is known from qmgr's from=<>.
    let p = parse(&[
        "Nov 22 10:00:02 mta1 postfix/qmgr[100]: 2B3C4D5E6F: from=<>, size=3000, nrcpt=1 (queue active)",
        notice_local,
    ]);
    assert!(p.deliveries.is_empty(), "{:#?}", p.deliveries);
    assert!(p.events.is_empty());

    // A deferred notice that expires is no expiry of the sender's mail either.
    let p = parse(&[
        "Nov 22 10:00:02 mta1 postfix/qmgr[100]: 2B3C4D5E6F: from=<>, size=3000, nrcpt=1 (queue active)",
        "Nov 22 10:00:03 mta1 postfix/smtp[105]: 2B3C4D5E6F: to=<news@gone.example>, relay=none, delay=1, delays=0/0/1/0, dsn=4.4.1, status=deferred (connect to mx.gone.example[192.0.2.9]:25: Connection refused)",
        "Nov 27 10:00:03 mta1 postfix/qmgr[100]: 2B3C4D5E6F: from=<>, status=expired, returned to sender",
    ]);
    assert!(p.deliveries.is_empty(), "{:#?}", p.deliveries);
    assert!(p.events.is_empty(), "{:#?}", p.events);
    assert_eq!(p.leftovers.pending_deliveries, 0);
}

#[test]
fn address_verification_probes_are_ignored() {
    let p = parse(&[
        "Nov 22 10:00:00 mta1 postfix/qmgr[100]: 3C4D5E6F7A: from=<double-bounce@mta1.shop.example>, size=236, nrcpt=1 (queue active)",
        "Nov 22 10:00:01 mta1 postfix/smtp[102]: 3C4D5E6F7A: to=<ok@acme.example>, relay=mx.acme.example[192.0.2.5]:25, delay=0.2, delays=0/0/0.1/0.1, dsn=2.1.5, status=deliverable (250 2.1.5 Ok)",
        "Nov 22 10:00:01 mta1 postfix/smtp[102]: 3C4D5E6F7A: to=<no@acme.example>, relay=mx.acme.example[192.0.2.5]:25, delay=0.2, delays=0/0/0.1/0.1, dsn=5.1.1, status=undeliverable (host mx.acme.example[192.0.2.5] said: 550 5.1.1 <no@acme.example>: Recipient address rejected: User unknown (in reply to RCPT TO command))",
        "Nov 22 10:00:01 mta1 postfix/qmgr[100]: 3C4D5E6F7A: removed",
    ]);
    assert!(p.events.is_empty());
    assert!(p.deliveries.is_empty());
    assert_eq!(
        p.tally.ignored_by_kind.get("address verification probe"),
        Some(&2)
    );
    assert_eq!((p.tally.parsed, p.tally.ignored), (2, 2));
}

#[test]
fn same_address_twice_in_one_message_is_two_deliveries() {
    let p = parse(&[
        FROM,
        "Nov 22 10:00:01 mta1 postfix/smtp[102]: 1A2B3C4D5E: to=<team@acme.example>, orig_to=<sales@acme.example>, relay=mx.acme.example[192.0.2.5]:25, delay=0.4, delays=0.1/0/0.2/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
        "Nov 22 10:00:01 mta1 postfix/smtp[102]: 1A2B3C4D5E: to=<team@acme.example>, orig_to=<support@acme.example>, relay=mx.acme.example[192.0.2.5]:25, conn_use=2, delay=0.5, delays=0.1/0/0.2/0.2, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
        REMOVED,
    ]);
    let team = p.of("team@acme.example");
    assert_eq!(team.len(), 2);
    assert!(
        team.iter()
            .all(|d| d.outcome == Outcome::Delivered && d.attempts == 1)
    );
}

#[test]
fn same_queue_id_on_two_hosts_is_not_mixed() {
    let p = parse(&[
        "Nov 22 10:00:00 mta1 postfix/qmgr[100]: 1A2B3C4D5E: from=<news@shop.example>, size=2000, nrcpt=1 (queue active)",
        "Nov 22 10:00:00 mta2 postfix/qmgr[200]: 1A2B3C4D5E: from=<alerts@ops.example>, size=900, nrcpt=1 (queue active)",
        "Nov 22 10:00:01 mta1 postfix/smtp[102]: 1A2B3C4D5E: to=<x@grey.example>, relay=mx.grey.example[192.0.2.2]:25, dsn=4.7.1, status=deferred (host mx.grey.example[192.0.2.2] said: 451 4.7.1 Greylisted (in reply to RCPT TO command))",
        "Nov 22 10:00:01 mta2 postfix/smtp[202]: 1A2B3C4D5E: to=<x@grey.example>, relay=mx.grey.example[192.0.2.2]:25, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
        "Nov 22 10:00:01 mta2 postfix/qmgr[200]: 1A2B3C4D5E: removed",
        "Nov 22 10:10:01 mta1 postfix/smtp[102]: 1A2B3C4D5E: to=<x@grey.example>, relay=mx.grey.example[192.0.2.2]:25, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
    ]);
    let x = p.of("x@grey.example");
    assert_eq!(x.len(), 2, "{:#?}", p.deliveries);
    assert_eq!(x[0].sender().as_deref(), Some("alerts@ops.example"));
    assert_eq!((x[0].attempts, x[0].deferrals), (1, 0));
    assert_eq!(x[1].sender().as_deref(), Some("news@shop.example"));
    assert_eq!((x[1].attempts, x[1].deferrals), (2, 1));
}

#[test]
fn pickup_sender_and_first_message_id() {
    let p = parse(&[
        "Nov 22 10:00:00 mta1 postfix/pickup[99]: 4D5E6F7A8B: uid=1000 from=<app@shop.example>",
        "Nov 22 10:00:00 mta1 postfix/cleanup[101]: 4D5E6F7A8B: message-id=<first@shop.example>",
        "Nov 22 10:00:00 mta1 postfix/cleanup[101]: 4D5E6F7A8B: message-id=<second@shop.example>",
        "Nov 22 10:00:01 mta1 postfix/smtp[102]: 4D5E6F7A8B: to=<c@gmail.com>, relay=gmail-smtp-in.l.google.com[192.0.2.3]:25, dsn=2.0.0, status=sent (250 2.0.0 OK)",
    ]);
    let c = p.one("c@gmail.com");
    assert_eq!(c.sender().as_deref(), Some("app@shop.example"));
    assert_eq!(c.message_id().as_deref(), Some("first@shop.example"));
}

#[test]
fn delivery_record_fields_and_codes() {
    let p = parse(&[
        // A 554 greeting Postfix deferred: reply 554, enhanced 4.7.1, both kept.
        "Nov 22 10:00:01 mta1 postfix/smtp[1]: 5E6F7A8B9C: to=<h@hooli.example>, relay=mx.hooli.example[192.0.2.7]:25, delay=0.3, delays=0.1/0/0.2/0, dsn=4.7.1, status=deferred (host mx.hooli.example[192.0.2.7] refused to talk to me: 554 mx.hooli.example ESMTP not accepting messages)",
        // IPv6 relay, orig_to, nested parentheses in the text.
        "Nov 22 10:00:02 mta1 postfix/smtp[1]: 5E6F7A8B9C: to=<n@v6.example>, orig_to=<alias@v6.example>, relay=mx.v6.example[2001:db8::25]:25, delay=0.5, delays=0.1/0/0.2/0.2, dsn=5.7.1, status=bounced (host mx.v6.example[2001:db8::25] said: 550 5.7.1 Message rejected (spam score too high) (in reply to end of DATA command))",
        // Old Postfix: no dsn=, no delays=.
        "Nov 22 10:00:03 mta1 postfix/smtp[1]: 5E6F7A8B9C: to=<o@old.example>, relay=mx.old.example[192.0.2.8], delay=2, status=bounced (host mx.old.example[192.0.2.8] said: 550 5.1.1 <o@old.example>... User unknown (in reply to RCPT TO command))",
        // No code at all but Postfix's dsn=.
        "Nov 22 10:00:04 mta1 postfix/smtp[1]: 5E6F7A8B9C: to=<p@nx.example>, relay=none, delay=0.1, delays=0.1/0/0/0, dsn=5.4.4, status=bounced (Host or domain name not found. Name service error for name=nx.example type=A: Host not found)",
        // A quoted local part holding '>'.
        "Nov 22 10:00:05 mta1 postfix/smtp[1]: 5E6F7A8B9C: to=<\"odd>name\"@acme.example>, relay=mx.acme.example[192.0.2.5]:25, conn_use=3, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
        // LMTP to a socket, and local delivery.
        "Nov 22 10:00:06 mta1 postfix/lmtp[2]: 6F7A8B9C0D: to=<q@shop.example>, relay=mta1.shop.example[private/dovecot-lmtp], delay=0.05, delays=0/0/0/0.05, dsn=2.0.0, status=sent (250 2.0.0 <q@shop.example> abc Saved)",
        "Nov 22 10:00:07 mta1 postfix/local[3]: 7A8B9C0D1E: to=<root@mta1.shop.example>, orig_to=<root>, relay=local, delay=0.01, delays=0/0/0/0.01, dsn=2.0.0, status=sent (delivered to mailbox)",
    ]);
    let ev = |rcpt: &str| {
        p.events
            .iter()
            .find(|e| &*e.recipient == rcpt)
            .unwrap_or_else(|| panic!("{rcpt}"))
    };
    let codes = |e: &Event| {
        (
            e.reply_code.map(|r| r.value()),
            e.enhanced_code.map(|c| c.to_string()),
        )
    };

    let h = ev("h@hooli.example");
    assert_eq!(h.action, Action::Deferred);
    assert_eq!(codes(h), (Some(554), Some("4.7.1".to_string())));
    assert_eq!(h.smtp_stage, Some(crate::model::SmtpStage::Connect));
    assert!(h.verdict.is_some());

    let n = ev("n@v6.example");
    assert_eq!(n.relay_host.as_deref(), Some("mx.v6.example"));
    assert_eq!(n.relay_ip.as_deref(), Some("2001:db8::25"));
    assert_eq!(codes(n), (Some(550), Some("5.7.1".to_string())));
    assert_eq!(
        n.diagnostic.as_deref(),
        Some(
            "host mx.v6.example[2001:db8::25] said: 550 5.7.1 Message rejected (spam score too high) (in reply to end of DATA command)"
        )
    );
    assert_eq!(n.smtp_stage, Some(crate::model::SmtpStage::Data));
    assert_eq!(n.agent.as_deref(), Some("postfix/smtp"));

    let o = ev("o@old.example");
    assert_eq!(codes(o), (Some(550), Some("5.1.1".to_string())));
    assert_eq!(o.relay_ip.as_deref(), Some("192.0.2.8"));
    assert_eq!(o.verdict.as_ref().map(|v| v.bucket), Some(Bucket::ListRot));

    let nx = ev("p@nx.example");
    assert_eq!(codes(nx), (None, Some("5.4.4".to_string())));
    assert_eq!(nx.relay_host, None);

    let odd = ev("\"odd>name\"@acme.example");
    assert_eq!(odd.action, Action::Delivered);
    assert_eq!(odd.recipient_domain(), "acme.example");
    assert!(odd.verdict.is_none(), "a delivery has no verdict");

    assert_eq!(
        ev("q@shop.example").relay_host.as_deref(),
        Some("mta1.shop.example")
    );
    assert_eq!(ev("q@shop.example").agent.as_deref(), Some("postfix/lmtp"));
    let root = ev("root@mta1.shop.example");
    assert_eq!(
        (root.relay_host.as_deref(), root.relay_ip.as_deref()),
        (Some("local"), None)
    );
    assert_eq!(p.tally.unrecognized, 0);
}

#[test]
fn accounting_of_every_line() {
    let p = parse(&[
        "Nov 22 10:00:00 mta1 postfix/smtpd[1]: connect from client.example[203.0.113.5]",
        "Nov 22 10:00:00 mta1 postfix/smtpd[1]: 1A2B3C4D5E: client=client.example[203.0.113.5]",
        "Nov 22 10:00:00 mta1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[203.0.113.6]: 554 5.7.1 <x@y>: Relay access denied; from=<a@b> to=<x@y> proto=ESMTP helo=<h>",
        "",
        "Nov 22 10:00:00 mta1 postfix/anvil[2]: statistics: max connection rate 1/60s for (smtp:203.0.113.5) at Nov 22 10:00:00",
        "Nov 22 10:00:00 mta1 dovecot: imap-login: Login: user=<u>",
        "garbage that is no syslog line",
        FROM,
        "Nov 22 10:00:00 mta1 postfix/qmgr[100]: 1A2B3C4D5E: frobnicated",
        "Nov 22 10:00:00 mta1 postfix/smtp[102]: 1A2B3C4D5E: to=<x@y.example>, relay=none, delay=0",
        "Nov 22 10:00:00 mta1 postfix/smtp[102]: 1A2B3C4D5E: to=<x@y.example>, relay=none, dsn=2.0.0, status=teleported (beamed)",
        "Nov 22 10:00:00 mta1 postfix/smtp[102]: to=<x@y.example>, relay=none, dsn=5.0.0, status=bounced (no queue id)",
        "Nov 22 10:00:00 mta1 postfix/bounce[103]: 1A2B3C4D5E: something unexpected",
        "Nov 22 10:00:00 mta1 postfix/smtp[102]: 1A2B3C4D5E: juggling chainsaws",
        SENT_C,
    ]);
    let t = &p.tally;
    assert_eq!(t.format, "postfix");
    assert_eq!(t.unit, "lines");
    assert_eq!(t.file, "test.log");
    assert_eq!(t.total, 15);
    assert_eq!(t.parsed, 2, "qmgr from= and the delivery");
    assert_eq!(t.unrecognized, 7);
    assert_eq!(t.ignored, 6);
    assert_eq!(t.events, 1);
    let got: Vec<(u64, &str)> = t
        .unrecognized_samples
        .iter()
        .map(|u| (u.line, u.reason))
        .collect();
    assert_eq!(
        got,
        [
            (7, "not a syslog line"),
            (9, "unknown qmgr record"),
            (10, "delivery record without status="),
            (11, "unknown delivery status"),
            (12, "delivery record without a queue id"),
            (13, "unknown bounce record"),
            (14, "unknown record for a queue id"),
        ]
    );
    assert_eq!(
        t.unrecognized_samples[0].text,
        "garbage that is no syslog line"
    );
    // The delivery's own line number, after the blank line.
    assert_eq!(p.events[0].source.line, 15);
    assert_eq!(p.events[0].source.kind, "postfix");
    assert_eq!(&*p.events[0].source.file, "test.log");
}

#[test]
fn unrecognized_samples_are_bounded() {
    let garbage = "not a log line\n".repeat(250);
    let p = parse_with(garbage.as_bytes(), Some(2026), 1, 1 << 20);
    assert_eq!(p.tally.unrecognized, 250);
    assert_eq!(p.tally.unrecognized_samples.len(), 100);
    assert_eq!(p.tally.unrecognized_samples[99].line, 100);
}

/// A comparable summary of everything a run produced.
#[derive(Debug, PartialEq)]
struct Summary {
    events: Vec<String>,
    deliveries: Vec<String>,
    ignored_by_kind: BTreeMap<&'static str, u64>,
    /// total, parsed, ignored, unrecognized, events.
    counts: [u64; 5],
    unrecognized: Vec<(u64, String)>,
}

fn summary(p: &Parsed) -> Summary {
    let t = &p.tally;
    Summary {
        events: p.events.iter().map(|e| format!("{e:?}")).collect(),
        deliveries: p.deliveries.iter().map(|d| format!("{d:?}")).collect(),
        ignored_by_kind: t.ignored_by_kind.clone(),
        counts: [t.total, t.parsed, t.ignored, t.unrecognized, t.events],
        unrecognized: t
            .unrecognized_samples
            .iter()
            .map(|u| (u.line, format!("{}: {}", u.reason, u.text)))
            .collect(),
    }
}

/// A log of many messages exercising every record kind, with a blank line and a
/// garbage line now and then.
fn many_messages(n: u32) -> String {
    let mut out = String::new();
    for i in 0..n {
        let q = format!("{:010X}", 0x1000_0000u64 + u64::from(i));
        let host = if i % 7 == 0 { "mta2" } else { "mta1" };
        let s = i % 60;
        out += &format!(
            "Nov 22 10:{:02}:{s:02} {host} postfix/cleanup[1]: {q}: message-id=<m{i}@shop.example>\n",
            i / 60 % 60
        );
        out += &format!(
            "Nov 22 10:{:02}:{s:02} {host} postfix/qmgr[2]: {q}: from=<news@shop.example>, size=100, nrcpt=3 (queue active)\n",
            i / 60 % 60
        );
        out += &format!(
            "Nov 22 10:{:02}:{s:02} {host} postfix/smtp[3]: {q}: to=<a{i}@gmail.com>, relay=gmail-smtp-in.l.google.com[192.0.2.3]:25, dsn=2.0.0, status=sent (250 2.0.0 OK)\n",
            i / 60 % 60
        );
        out += &format!(
            "Nov 22 10:{:02}:{s:02} {host} postfix/smtp[3]: {q}: to=<b{i}@dead.example>, relay=none, dsn=4.4.1, status=deferred (connect to mx.dead.example[192.0.2.1]:25: Connection refused)\n",
            i / 60 % 60
        );
        if i % 3 == 0 {
            out += &format!(
                "Nov 22 11:{:02}:{s:02} {host} postfix/smtp[3]: {q}: to=<c{i}@gmail.com>, relay=gmail-smtp-in.l.google.com[192.0.2.3]:25, dsn=5.1.1, status=bounced (host gmail-smtp-in.l.google.com[192.0.2.3] said: 550 5.1.1 no such user (in reply to RCPT TO command))\n",
                i / 60 % 60
            );
            out += &format!(
                "Nov 22 11:{:02}:{s:02} {host} postfix/bounce[4]: {q}: sender non-delivery notification: {:010X}\n",
                i / 60 % 60,
                0x2000_0000u64 + u64::from(i)
            );
            out += &format!(
                "Nov 22 11:{:02}:{s:02} {host} postfix/local[5]: {:010X}: to=<news@shop.example>, relay=local, dsn=2.0.0, status=sent (delivered to mailbox)\n",
                i / 60 % 60,
                0x2000_0000u64 + u64::from(i)
            );
        }
        if i % 5 == 0 {
            out += "\n";
            out += "some garbage line\n";
        }
        if i % 2 == 0 {
            out += &format!(
                "Nov 27 10:{:02}:{s:02} {host} postfix/qmgr[2]: {q}: from=<news@shop.example>, status=expired, returned to sender\n",
                i / 60 % 60
            );
            out += &format!(
                "Nov 27 10:{:02}:{s:02} {host} postfix/qmgr[2]: {q}: removed\n",
                i / 60 % 60
            );
        }
    }
    out
}

#[test]
fn parallel_parse_equals_sequential_for_every_line_ending() {
    let lf = many_messages(600);
    let sequential = parse_with(lf.as_bytes(), Some(2026), 1, 1 << 20);
    // 600 x 4 lines, 200 x 3 for bounces, 120 x 2 blank and garbage, 300 x 2 expiries.
    assert_eq!(sequential.tally.total, 3840);
    assert!(
        lf.len() > 4 * 65536,
        "several read buffers long: {}",
        lf.len()
    );
    assert_eq!(sequential.tally.unrecognized, 120);
    assert_eq!(
        sequential.tally.ignored_by_kind.get("blank line"),
        Some(&120)
    );
    assert_eq!(
        sequential
            .tally
            .ignored_by_kind
            .get("bounce notice delivery"),
        Some(&200)
    );
    let outcomes = |p: &Parsed, o: Outcome| p.deliveries.iter().filter(|d| d.outcome == o).count();
    assert_eq!(outcomes(&sequential, Outcome::Delivered), 600);
    assert_eq!(outcomes(&sequential, Outcome::Bounced), 200);
    assert_eq!(outcomes(&sequential, Outcome::Expired), 300);
    assert_eq!(outcomes(&sequential, Outcome::Deferred), 300);
    let want = summary(&sequential);

    let crlf = lf.replace('\n', "\r\n");
    let cr = lf.replace('\n', "\r");
    for (name, text) in [("lf", &lf), ("crlf", &crlf), ("cr", &cr)] {
        // Chunks far smaller than the input, so lines straddle chunk ends.
        for (threads, chunk) in [(1, 1 << 20), (1, 333), (3, 1000), (4, 4096)] {
            let got = parse_with(text.as_bytes(), Some(2026), threads, chunk);
            assert!(
                summary(&got) == want,
                "{name} with {threads} threads, {chunk}-byte chunks differs"
            );
        }
        // Small reads, as from a pipe.
        for (threads, chunk, step) in [(1, 4096, 4096), (1, 400, 7), (2, 400, 7), (2, 250, 64)] {
            let mut reader = Trickle {
                data: text.as_bytes(),
                step,
            };
            let got = parse_reader(&mut reader, Some(2026), threads, chunk);
            assert!(
                summary(&got) == want,
                "{name} with {threads} threads, {chunk}-byte chunks, {step}-byte reads differs: \
                 totals {:?}, want {:?}",
                summary(&got).counts,
                want.counts
            );
        }
    }
}

#[test]
fn no_final_line_end_and_mixed_line_ends() {
    let text = format!("{FROM}\r\n{MSGID}\r{GREYLIST}\n\r\n{SENT_B}");
    let p = parse_with(text.as_bytes(), Some(2026), 1, 1 << 20);
    assert_eq!(p.tally.total, 5);
    assert_eq!(p.tally.ignored_by_kind.get("blank line"), Some(&1));
    let b = p.one("b@grey.example");
    assert_eq!(b.outcome, Outcome::Delivered);
    assert_eq!(b.last.source.line, 5);
    assert_eq!(b.message_id().as_deref(), Some("m1@shop.example"));
}

#[test]
fn sniffing() {
    let f = PostfixFormat;
    assert!(f.sniff(format!("{FROM}\n{REFUSED}\n").as_bytes()));
    assert!(f.sniff(format!("{FROM}\r\n{REFUSED}\r\n").as_bytes()));
    assert!(f.sniff(b"2026-11-22T10:00:00.000000+00:00 mta1 postfix/smtp[1]: 1A2B3C4D5E: to=<a@b.example>, status=sent (ok)\n"));
    assert!(!f.sniff(b""));
    assert!(!f.sniff(b"203.0.113.9 - - [22/Nov/2026:14:36:29 +0000] \"GET / HTTP/1.1\" 200 612\n"));
    assert!(!f.sniff(b"Nov 22 10:00:00 mta1 dovecot: imap-login: Login\nNov 22 10:00:01 mta1 sshd[1]: Accepted\n"));
    // A quarter of the lines from Postfix is enough; less is not.
    let other = "Nov 22 10:00:00 mta1 sshd[1]: Accepted publickey\n";
    assert!(f.sniff(format!("{FROM}\n{}", other.repeat(3)).as_bytes()));
    assert!(!f.sniff(format!("{FROM}\n{}", other.repeat(4)).as_bytes()));
    // Lines of other daemons first count as syslog lines; ten lines of no syslog at
    // all end the look, and an email's first line (a header field, an mbox `From `
    // line) ends it at once.
    let postfix = format!("{FROM}\n").repeat(20);
    assert!(f.sniff(format!("{}{postfix}", other.repeat(12)).as_bytes()));
    let junk = "==> /var/log/mail.log <==\n";
    assert!(f.sniff(format!("{}{postfix}", junk.repeat(9)).as_bytes()));
    assert!(!f.sniff(format!("{}{postfix}", junk.repeat(10)).as_bytes()));
    assert!(f.sniff(format!("\n\n{postfix}").as_bytes()));
    for email in [
        "Received: from a",
        "X-Mailer: x",
        "From MAILER-DAEMON Thu Jan  1 00:00:00 2026",
    ] {
        assert!(
            !f.sniff(format!("{email}\n{postfix}").as_bytes()),
            "{email}"
        );
    }
    // Nor is a log's first line taken for an email's.
    for log in [
        "2026-11-22T10:00:00Z mta1 postfix/smtp[1]: x",
        "<22>Nov 22 10:00:00 mta1 postfix/smtp[1]: x",
        "Nov 22 10:00:00 mta1 postfix/smtp[1]: x",
        "-- Logs begin at Sun 2026-11-22 10:00:00 UTC. --",
    ] {
        assert!(!super::starts_an_email(log.as_bytes()), "{log}");
    }
    assert_eq!(f.name(), "postfix");
}

/// The sniffing prefilter turns down no line the syslog parser takes.
#[test]
fn may_be_syslog_turns_down_only_lines_that_do_not_parse() {
    let lines: [&[u8]; 16] = [
        FROM.as_bytes(),
        b"<22>Nov 22 10:00:00 mta1 postfix/smtp[1]: x",
        b"<22>",
        b"2026-11-22T10:00:00Z mta1 postfix/smtp[1]: x",
        b"2026-11-22 10:00:00 mta1 postfix/qmgr[2]: x",
        b"nov 22 10:00:00 mta1 postfix/smtp[1]: x",
        b"NOV  2 10:00:00 mta1 postfix/smtp[1]: x",
        b"Dec 2 10:00:00 h p: m",
        b"Date: Thu, 29 Apr 2009 00:00:00 GMT",
        b"Message-ID: <a@b>",
        b"Received: from a",
        b"  by example.com with SMTP",
        b"\tfolded",
        b"No",
        b"N",
        b"\xffov 22 10:00:00 h p: m",
    ];
    for raw in lines {
        if line::parse_syslog_line_raw(raw).is_some() {
            assert!(
                line::may_be_syslog(raw),
                "{:?}",
                String::from_utf8_lossy(raw)
            );
        }
    }
    assert!(!line::may_be_syslog(b"Received: from a"));
    assert!(!line::may_be_syslog(b""));
}

/// A line longer than a chunk grows the chunk; the result must not depend on where
/// the reads happened to end.
#[test]
fn lines_longer_than_a_chunk() {
    let lf = many_messages(60);
    let want = summary(&parse_with(lf.as_bytes(), Some(2026), 1, 1 << 20));
    let crlf = lf.replace('\n', "\r\n");
    let cr = lf.replace('\n', "\r");
    for (name, text) in [("lf", &lf), ("crlf", &crlf), ("cr", &cr)] {
        for (threads, chunk, step) in [(1, 100, 7), (2, 100, 7), (1, 10, 1)] {
            let mut reader = Trickle {
                data: text.as_bytes(),
                step,
            };
            let got = parse_reader(&mut reader, Some(2026), threads, chunk);
            assert!(
                summary(&got) == want,
                "{name} with {threads} threads, {chunk}-byte chunks, {step}-byte reads differs: \
                 totals {:?}, want {:?}",
                summary(&got).counts,
                want.counts
            );
        }
    }
}

/// A CRLF line that ends exactly where a read of the input ends: the CR and the LF
/// arrive in different reads and must still end one line, not two.
fn check_crlf_split(chunk: usize) {
    for long in [65_535, 65_536, 131_071] {
        let text = format!("{}\r\n{FROM}\r\n{REFUSED}\r\n", "x".repeat(long));
        let p = parse_with(text.as_bytes(), Some(2026), 1, chunk);
        let t = &p.tally;
        assert_eq!(
            (t.total, t.ignored, t.unrecognized),
            (3, 0, 1),
            "{long}-byte line, {chunk}-byte chunks: {:?}",
            t.ignored_by_kind
        );
        assert_eq!(p.deliveries[0].last.source.line, 3, "{long}, {chunk}");
    }
}

#[test]
fn crlf_long_lines_within_a_chunk() {
    check_crlf_split(1 << 20);
}

#[test]
fn crlf_split_between_two_reads_of_a_line_longer_than_a_chunk() {
    check_crlf_split(100);
}

/// Records keep spans of their chunk and the correlating thread copies the text out:
/// invalid UTF-8 in every copied field comes out replaced, on one thread and on
/// several with chunks far smaller than the log.
#[test]
fn invalid_utf8_in_copied_fields_is_replaced_on_every_path() {
    let log: &[u8] = b"Nov 22 10:00:00 mta1 postfix/cleanup[101]: 1A2B3C4D5E: message-id=<m\xe9@shop.example>\n\
Nov 22 10:00:00 mta1 postfix/qmgr[100]: 1A2B3C4D5E: from=<n\xe9ws@shop.example>, size=2000, nrcpt=1 (queue active)\n\
Nov 22 10:00:01 mta1 postfix/smtp[102]: 1A2B3C4D5E: to=<j\xfcrgen@example.org>, relay=mx.example.org[192.0.2.1]:25, delay=1, dsn=5.1.1, status=bounced (host mx.example.org[192.0.2.1] said: 550 5.1.1 Benutzer unbekannt \xe4\xf6\xfc (in reply to RCPT TO command))\n";
    for (threads, chunk_bytes) in [(1, 1 << 20), (2, 64)] {
        let p = parse_with(log, Some(2026), threads, chunk_bytes);
        let d = p.one("j\u{fffd}rgen@example.org");
        assert_eq!(d.sender().as_deref(), Some("n\u{fffd}ws@shop.example"));
        assert_eq!(d.message_id().as_deref(), Some("m\u{fffd}@shop.example"));
        let text = d.last.diagnostic.as_deref().expect("the reply text");
        assert!(
            text.contains("unbekannt \u{fffd}\u{fffd}\u{fffd}"),
            "{text}"
        );
        assert_eq!(d.outcome, Outcome::Bounced);
        assert!(p.tally.balanced());
    }
}

/// A reply longer than the kept maximum is cut at a byte count that may fall inside a
/// multi-byte character: the cut character is replaced, not a panic or a lost reply.
#[test]
fn a_reply_cut_inside_a_multibyte_character_keeps_its_text() {
    // "451 4.4.1 " is 10 bytes: 'é' starts at the last byte kept.
    let mut reply = "a".repeat(record::MAX_DIAGNOSTIC - 11);
    reply.push('é');
    reply.push_str(" tail");
    let line = format!(
        "Nov 22 10:00:01 mta1 postfix/smtp[102]: 1A2B3C4D5E: to=<a@example.org>, relay=none, delay=1, dsn=4.4.1, status=deferred (451 4.4.1 {reply})"
    );
    let p = parse(&[&line]);
    let text = p.events[0].diagnostic.as_deref().expect("the reply text");
    assert!(text.starts_with("451 4.4.1 aaa"), "{}", &text[..20]);
    assert!(text.ends_with("aa\u{fffd}"), "{}", &text[text.len() - 10..]);
    assert!(!text.contains("tail"));
    assert!(p.events[0].verdict.is_some());
}

/// A message with more deferred recipients than a short list holds: some delivered,
/// some deferred twice, the rest expired together, each once, in address order.
#[test]
fn many_deferred_recipients_of_one_message_expire_each_once() {
    let deferral = |n: usize, second: u32| {
        format!(
            "Nov 22 10:00:{second:02} mta1 postfix/smtp[102]: 1A2B3C4D5E: to=<u{n:02}@grey.example>, relay=mx.grey.example[192.0.2.2]:25, delay=1, delays=0.1/0/0.5/0.4, dsn=4.7.1, status=deferred (host mx.grey.example[192.0.2.2] said: 451 4.7.1 Greylisted (in reply to RCPT TO command))"
        )
    };
    let mut lines = vec![
        "Nov 22 10:00:00 mta1 postfix/qmgr[100]: 1A2B3C4D5E: from=<news@shop.example>, size=1, nrcpt=20 (queue active)".to_string(),
    ];
    // Twelve recipients deferred (more than a short list holds), in reverse order.
    lines.extend((0..12).rev().map(|n| deferral(n, 1)));
    // Three of them deferred again, two delivered.
    lines.extend([3, 7, 11].map(|n| deferral(n, 2)));
    for n in [0, 5] {
        lines.push(format!(
            "Nov 22 10:10:00 mta1 postfix/smtp[103]: 1A2B3C4D5E: to=<u{n:02}@grey.example>, relay=mx.grey.example[192.0.2.2]:25, delay=600, delays=599/0/0.5/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok)"
        ));
    }
    lines.push(EXPIRED.to_string());
    let p = parse(&lines.iter().map(String::as_str).collect::<Vec<_>>());
    let outcomes: Vec<(String, Outcome, u32)> = p
        .deliveries
        .iter()
        .map(|d| (d.recipient().to_string(), d.outcome, d.deferrals))
        .collect();
    let mut want: Vec<(String, Outcome, u32)> = [0, 5]
        .iter()
        .map(|n| (format!("u{n:02}@grey.example"), Outcome::Delivered, 1))
        .collect();
    want.extend((0..12).filter(|n| *n != 0 && *n != 5).map(|n| {
        let deferrals = if [3, 7, 11].contains(&n) { 2 } else { 1 };
        (format!("u{n:02}@grey.example"), Outcome::Expired, deferrals)
    }));
    assert_eq!(outcomes, want);
    assert_eq!(p.leftovers.evicted_recipients, 0);
}

/// A failure reply seen before gives its codes and verdict from the memo, but only for
/// the same `dsn=` code, and never when a rule tests the recipient's domain.
#[test]
fn a_repeated_reply_is_remembered_only_where_nothing_else_decides() {
    let line = |rcpt: &str, dsn: &str| {
        format!(
            "Nov 22 10:00:01 mta1 postfix/smtp[102]: 1A2B3C4D5E: to=<{rcpt}>, relay=mx.example[192.0.2.2]:25, delay=1, delays=0.1/0/0.5/0.4, dsn={dsn}, status=bounced (host mx.example[192.0.2.2] said: 550 Requested action not taken (in reply to RCPT TO command))"
        )
    };
    let parse_with_rules = |classifier: &Classifier, lines: &[String]| {
        let mut memo = record::Memo::new();
        let mut names = record::NameTable::default();
        let mut deliveries = Vec::new();
        lines
            .iter()
            .map(|l| {
                match record::parse_line(
                    l.as_bytes(),
                    l.as_bytes(),
                    &mut names,
                    &mut deliveries,
                    classifier,
                    &mut memo,
                ) {
                    Record::Delivery(i) => {
                        let d = &deliveries[i as usize];
                        (
                            d.enhanced_code.map(|c| c.to_string()),
                            d.verdict.clone().unwrap(),
                        )
                    }
                    other => panic!("not a delivery: {other:?}"),
                }
            })
            .collect::<Vec<_>>()
    };
    // The same words with another dsn= code: the code, and what it decides, change.
    let lines = [
        line("a@x.example", "5.1.1"),
        line("b@x.example", "5.1.1"),
        line("c@x.example", "5.7.1"),
    ];
    let got = parse_with_rules(&CLASSIFIER, &lines);
    assert_eq!(got[0], got[1]);
    assert_eq!(got[2].0.as_deref(), Some("5.7.1"));
    assert_ne!(got[0].1.rule, got[2].1.rule);
    // A rule on the domain: the same words give two verdicts.
    let rules = crate::classify::rules::parse_rules(
        "[[rule]]\nid = \"mine\"\nreason = \"content_spam\"\ndomain = 'y\\.example'\nsamples = []\n",
        "mine.toml",
    )
    .unwrap();
    let classifier = Classifier::with_user_rules(rules).unwrap();
    let got = parse_with_rules(
        &classifier,
        &[line("a@x.example", "5.1.1"), line("b@y.example", "5.1.1")],
    );
    assert_ne!(&*got[0].1.rule, "mine");
    assert_eq!(&*got[1].1.rule, "mine");
}

/// A recycled buffer that once held a giant line is long; a chunk read into it still
/// stops near the chunk size, so later pieces stay small and parsed in parallel.
#[test]
fn a_long_recycled_buffer_does_not_make_long_chunks() {
    let line = "Nov 22 10:00:00 mta1 postfix/qmgr[1]: 1A2B3C4D5E: removed\n";
    let log = line.repeat(2000);
    let mut input = Cursor::new(log.as_bytes());
    let mut carry = Vec::new();
    let mut failed = None;
    let size = 4096;
    let spare = vec![0u8; 1 << 20];
    let chunk = next_chunk(&mut input, &mut carry, size, spare, &mut failed)
        .unwrap()
        .unwrap();
    // Cut at the last line end of what was read: about one chunk size.
    assert!(
        (size / 2..=2 * size).contains(&chunk.len()),
        "chunk of {} bytes",
        chunk.len()
    );
    assert!(chunk.ends_with(b"\n"));
}

/// A read interrupted by a signal is retried; the chunk is whole.
#[test]
fn an_interrupted_read_is_retried() {
    struct Interrupting<'a> {
        data: &'a [u8],
        interrupted: bool,
    }
    impl std::io::Read for Interrupting<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if !self.interrupted {
                self.interrupted = true;
                return Err(std::io::ErrorKind::Interrupted.into());
            }
            let n = self.data.len().min(buf.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }
    let log = "Nov 22 10:00:00 mta1 postfix/qmgr[1]: 1A2B3C4D5E: removed\n".repeat(3);
    let mut input = std::io::BufReader::new(Interrupting {
        data: log.as_bytes(),
        interrupted: false,
    });
    let (mut carry, mut failed) = (Vec::new(), None);
    let chunk = next_chunk(&mut input, &mut carry, 1 << 20, Vec::new(), &mut failed)
        .unwrap()
        .unwrap();
    assert_eq!(chunk, log.as_bytes());
    assert!(failed.is_none());
}

/// A reply that is not UTF-8, seen twice: the second takes the memo's verdict, the
/// same as the first, and both keep the text with the bad byte replaced.
#[test]
fn a_repeated_reply_that_is_not_utf8_gives_the_same_verdict() {
    let line = b"Nov 22 10:00:01 mta1 postfix/smtp[102]: 1A2B3C4D5E: to=<a@x.example>, relay=mx.example[192.0.2.2]:25, dsn=5.1.1, status=bounced (host mx.example[192.0.2.2] said: 550 5.1.1 Benutzer unbekannt \xfc (in reply to RCPT TO command))";
    let mut memo = record::Memo::new();
    let mut names = record::NameTable::default();
    let mut verdicts = Vec::new();
    let mut deliveries = Vec::new();
    for _ in 0..2 {
        match record::parse_line(
            line,
            line,
            &mut names,
            &mut deliveries,
            &CLASSIFIER,
            &mut memo,
        ) {
            Record::Delivery(i) => {
                let d = deliveries[i as usize].clone();
                assert!(
                    d.diagnostic
                        .text(line)
                        .contains("unbekannt \u{fffd} (in reply")
                );
                verdicts.push((d.enhanced_code, d.verdict.unwrap()));
            }
            other => panic!("not a delivery: {other:?}"),
        }
    }
    assert_eq!(verdicts[0], verdicts[1]);
    assert_eq!(verdicts[0].1.bucket, Bucket::ListRot);
}

/// A chunk's list of deliveries is recycled for a later chunk: it starts empty there,
/// so it holds that chunk's deliveries only and does not grow with the input. (The
/// records' list is emptied as it is applied.)
#[test]
fn a_recycled_delivery_list_holds_only_its_own_chunks_deliveries() {
    let ctx = Context::new(&CLASSIFIER);
    let mut memo = Memo::new();
    let log = b"Nov 22 10:00:01 mta1 postfix/smtp[102]: 1A2B3C4D5E: to=<a@x.example>, relay=mx.example[192.0.2.2]:25, dsn=2.0.0, status=sent (250 ok)\n\
Nov 22 10:00:02 mta1 postfix/qmgr[101]: 1A2B3C4D5E: removed\n";
    let piece = |deliveries| Buffers {
        data: log.to_vec(),
        records: Vec::new(),
        deliveries,
    };
    let first = parse_chunk(piece(Vec::new()), &ctx, &mut memo);
    assert_eq!(first.buffers.deliveries.len(), 1);
    let second = parse_chunk(piece(first.buffers.deliveries), &ctx, &mut memo);
    assert_eq!(second.buffers.deliveries.len(), 1);
    assert!(matches!(second.buffers.records[0].1, Record::Delivery(0)));
}

/// Lines as the parser cuts them, with LF only (one pass over the LFs) and with CRs
/// (CRLF and a lone CR end a line too): an empty input has none, a final line end
/// adds no empty line, a final line without one counts.
#[test]
fn lines_are_cut_at_every_kind_of_line_end() {
    let lines = |data: &[u8]| {
        let mut out = Vec::new();
        for_each_line(data, |line| {
            out.push(String::from_utf8_lossy(line).into_owned())
        });
        out
    };
    let cases: [(&[u8], &[&str]); 10] = [
        (b"", &[]),
        (b"\n", &[""]),
        (b"\n\n", &["", ""]),
        (b"one", &["one"]),
        (b"one\n", &["one"]),
        (b"one\n\ntwo", &["one", "", "two"]),
        (b"\r", &[""]),
        (b"one\r\ntwo\r\n", &["one", "two"]),
        (b"one\rtwo\r\rthree", &["one", "two", "", "three"]),
        (
            b"one\r\n\ntwo\n\r\nthree\r",
            &["one", "", "two", "", "three"],
        ),
    ];
    for (data, want) in cases {
        assert_eq!(lines(data), want, "{:?}", String::from_utf8_lossy(data));
    }
}

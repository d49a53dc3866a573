//! Micro-benchmarks of the hot paths, in bytes per second: one Postfix line to a
//! record, a whole log through parser and correlator, and the classifier on failure
//! texts. The input is generated here, so the numbers need nothing outside the repo.
//! The side-by-side benchmark against pflogsumm is `scripts/bench.sh`.

use std::hint::black_box;
use std::io::Cursor;
use std::sync::Arc;

use bouncex::classify::{Classifier, Diagnosis};
use bouncex::model::{Delivery, Event};
use bouncex::parse::postfix::record::{self, Memo, NameTable};
use bouncex::parse::{Context, Format, InputMeta, Sink};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const FAILURES: &[&str] = &[
    "host mx.example.org[192.0.2.7] said: 550 5.1.1 <ann@example.org>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)",
    "host mx.example.net[192.0.2.8] said: 554 5.7.1 Service unavailable; Client host [198.51.100.4] blocked using zen.spamhaus.org (in reply to RCPT TO command)",
    "host hotmail-com.olc.protection.outlook.com[192.0.2.9] said: 451 4.7.651 The mail server [198.51.100.4] has been temporarily rate limited due to IP reputation. (in reply to RCPT TO command)",
    "connect to mx.example.com[192.0.2.10]:25: Connection refused",
    "host gmail-smtp-in.l.google.com[192.0.2.11] said: 421-4.7.28 Unusual rate of unsolicited mail 421 4.7.28 from your IP address (in reply to RCPT TO command)",
    "host mx.example.edu[192.0.2.12] said: 452 4.2.2 <bo@example.edu>: Recipient address rejected: Mailbox over quota (in reply to RCPT TO command)",
];

/// A log of `messages` messages in the shape Postfix writes: submission, qmgr, one
/// delivery record per recipient (a sixth of them failing), removal, TLS chatter.
fn synthetic_log(messages: usize) -> Vec<u8> {
    let mut out = String::new();
    for m in 0..messages {
        let qid = format!("{:010X}", 0x1A2B3C4D5u64 + m as u64 * 7919);
        let t = format!(
            "Nov 22 {:02}:{:02}:{:02}",
            (m / 3600) % 24,
            (m / 60) % 60,
            m % 60
        );
        out.push_str(&format!(
            "{t} mta1 postfix/smtpd[101]: {qid}: client=app.internal[10.0.0.5]\n"
        ));
        out.push_str(&format!(
            "{t} mta1 postfix/cleanup[102]: {qid}: message-id=<m{m}@news.example.net>\n"
        ));
        out.push_str(&format!(
            "{t} mta1 postfix/qmgr[103]: {qid}: from=<bounce+c1.m{m}@news.example.net>, size=12345, nrcpt=3 (queue active)\n"
        ));
        out.push_str(&format!(
            "{t} mta1 postfix/smtp[104]: Trusted TLS connection established to mx.example.org[192.0.2.7]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\n"
        ));
        for r in 0..3 {
            let (status, dsn, text) = if (m + r) % 6 == 0 {
                let text = FAILURES[(m / 6 + r) % FAILURES.len()];
                let status = if text.contains(" 4") || text.contains("refused") {
                    "deferred"
                } else {
                    "bounced"
                };
                (status, "5.0.0", text.to_string())
            } else {
                (
                    "sent",
                    "2.0.0",
                    "250 2.0.0 Ok: queued as 4F2A1B".to_string(),
                )
            };
            out.push_str(&format!(
                "{t} mta1 postfix/smtp[104]: {qid}: to=<user{r}.{m}@example.org>, relay=mx.example.org[192.0.2.7]:25, delay=0.61, delays=0.1/0/0.2/0.31, dsn={dsn}, status={status} ({text})\n"
            ));
        }
        out.push_str(&format!("{t} mta1 postfix/qmgr[103]: {qid}: removed\n"));
    }
    out.into_bytes()
}

struct Count(u64);

impl Sink for Count {
    fn event(&mut self, _: &Event) {
        self.0 += 1;
    }

    fn delivery(&mut self, _: &Delivery) {
        self.0 += 1;
    }
}

fn line_parser(c: &mut Criterion) {
    let classifier = Classifier::builtin();
    let log = synthetic_log(2_000);
    let lines: Vec<&[u8]> = log
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let mut group = c.benchmark_group("postfix");
    group.throughput(Throughput::Bytes(log.len() as u64));
    group.bench_function("line_to_record", |b| {
        b.iter(|| {
            let mut hosts = NameTable::default();
            let mut deliveries = Vec::new();
            let mut memo = Memo::new();
            for line in &lines {
                black_box(record::parse_line(
                    &log,
                    line,
                    &mut hosts,
                    &mut deliveries,
                    &classifier,
                    &mut memo,
                ));
            }
        })
    });
    for threads in [1, 2] {
        group.bench_function(format!("whole_log_{threads}_threads"), |b| {
            let mut ctx = Context::new(&classifier);
            ctx.year = Some(2026);
            ctx.threads = threads;
            ctx.chunk_bytes = 64 << 10;
            let meta = InputMeta {
                file: Arc::from("bench.log"),
                mtime: None,
            };
            b.iter(|| {
                let mut parser = bouncex::parse::postfix::PostfixFormat.parser(&ctx);
                let mut sink = Count(0);
                let mut input = Cursor::new(&log[..]);
                parser.parse(&mut input, &meta, &mut sink).unwrap();
                parser.finish(&mut sink);
                black_box(sink.0)
            })
        });
    }
    group.finish();
}

fn classifier(c: &mut Criterion) {
    let classifier = Classifier::builtin();
    let bytes: usize = FAILURES.iter().map(|t| t.len()).sum();
    let mut group = c.benchmark_group("classify");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("failure_texts", |b| {
        b.iter(|| {
            for text in FAILURES {
                black_box(classifier.classify(&Diagnosis::from_text(text)));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, line_parser, classifier);
criterion_main!(benches);

//! A stable-Rust stand-in for fuzzing, run on every `cargo test`: every parser is fed
//! prefixes and seeded random mutations of every fixture, in-process, and must neither
//! panic nor lose count (parsed + ignored + unrecognized == total).

use std::io::Cursor;
use std::path::Path;
use std::sync::Arc;

use bouncex::classify::Classifier;
use bouncex::model::{Delivery, Event};
use bouncex::parse::{self, Context, InputMeta, Sink};

struct Count;

impl Sink for Count {
    fn event(&mut self, _: &Event) {}
    fn delivery(&mut self, _: &Delivery) {}
}

fn fixtures(dir: &Path, out: &mut Vec<Vec<u8>>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            fixtures(&path, out);
        } else if let Ok(bytes) = std::fs::read(&path)
            && bytes.len() <= 64 << 10
        {
            out.push(bytes);
        }
    }
}

/// xorshift64: the same "random" bytes on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn check(ctx: &Context<'_>, bytes: &[u8], what: &str) {
    for format in parse::FORMATS {
        let mut parser = format.parser(ctx);
        let meta = InputMeta {
            file: Arc::from("fuzz"),
            mtime: None,
        };
        let mut input = Cursor::new(bytes);
        if let Ok(tally) = parser.parse(&mut input, &meta, &mut Count) {
            assert!(
                tally.balanced(),
                "{} on {what}: total {} != parsed {} + ignored {} + unrecognized {}",
                format.name(),
                tally.total,
                tally.parsed,
                tally.ignored,
                tally.unrecognized
            );
        }
        parser.finish(&mut Count);
    }
}

#[test]
fn parsers_survive_prefixes_and_mutations_of_every_fixture() {
    let classifier = Classifier::builtin();
    let mut ctx = Context::new(&classifier);
    ctx.year = Some(2026);
    ctx.threads = 1;
    let mut inputs = Vec::new();
    fixtures(Path::new("tests/fixtures"), &mut inputs);
    assert!(inputs.len() > 20, "fixtures found: {}", inputs.len());
    // The parallel Postfix path too, with chunks small enough to cut lines.
    let mut parallel = Context::new(&classifier);
    parallel.year = Some(2026);
    parallel.threads = 2;
    parallel.chunk_bytes = 300;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for (n, bytes) in inputs.iter().enumerate() {
        // Prefixes cut anywhere, mid-line and mid-character included.
        let step = (bytes.len() / 7).max(1);
        for cut in (0..bytes.len()).step_by(step) {
            check(&ctx, &bytes[..cut], &format!("fixture {n} cut at {cut}"));
        }
        // Mutations: flipped bytes, inserted line ends and NULs, removed spans.
        for round in 0..6 {
            let mut m = bytes.clone();
            for _ in 0..1 + rng.next() % 8 {
                if m.is_empty() {
                    break;
                }
                let at = (rng.next() as usize) % m.len();
                match rng.next() % 4 {
                    0 => m[at] = (rng.next() % 256) as u8,
                    1 => m.insert(at, b"\n\r\0"[(rng.next() % 3) as usize]),
                    2 => {
                        let end = (at + (rng.next() % 64) as usize).min(m.len());
                        m.drain(at..end);
                    }
                    _ => {
                        let span = m[at..(at + 32).min(m.len())].to_vec();
                        m.splice(at..at, span);
                    }
                }
            }
            check(&ctx, &m, &format!("fixture {n} mutation {round}"));
            check(
                &parallel,
                &m,
                &format!("fixture {n} mutation {round}, 2 threads"),
            );
        }
    }
}

#[test]
fn parsers_survive_random_bytes() {
    let classifier = Classifier::builtin();
    let mut ctx = Context::new(&classifier);
    ctx.threads = 1;
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for round in 0..40 {
        let len = (rng.next() % 4096) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| (rng.next() % 256) as u8).collect();
        check(&ctx, &bytes, &format!("random round {round}"));
    }
}

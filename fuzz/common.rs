//! Shared by the parser targets: drives one registered format over one input,
//! in-process, the way `tests/suite/fuzz_smoke.rs` does, and checks the accounting.

use std::io::Cursor;
use std::sync::{Arc, OnceLock};

use bouncex::classify::Classifier;
use bouncex::model::{Delivery, Event};
use bouncex::parse::{self, Context, InputMeta, Sink};

/// Counts what the parser emits, to check it against the tally.
#[derive(Default)]
pub struct Count {
    pub events: u64,
    pub deliveries: u64,
}

impl Sink for Count {
    fn event(&mut self, _: &Event) {
        self.events += 1;
    }
    fn delivery(&mut self, _: &Delivery) {
        self.deliveries += 1;
    }
}

/// The built-in rules, compiled once per process.
pub fn classifier() -> &'static Classifier {
    static CLASSIFIER: OnceLock<Classifier> = OnceLock::new();
    CLASSIFIER.get_or_init(Classifier::builtin)
}

/// A context with no clock dependence (fixed year) on `threads` workers.
pub fn context(threads: usize, chunk_bytes: usize) -> Context<'static> {
    let mut ctx = Context::new(classifier());
    ctx.year = Some(2026);
    ctx.threads = threads;
    ctx.chunk_bytes = chunk_bytes;
    ctx
}

/// Parses `data` as format `name` and asserts every unit is accounted for once and the
/// tally counts exactly the events the sink received.
pub fn run(ctx: &Context<'_>, name: &str, data: &[u8]) {
    let format = parse::format_by_name(name).expect("format registered");
    let mut parser = format.parser(ctx);
    let meta = InputMeta {
        file: Arc::from("fuzz"),
        mtime: None,
    };
    let mut sink = Count::default();
    if let Ok(tally) = parser.parse(&mut Cursor::new(data), &meta, &mut sink) {
        assert!(
            tally.balanced(),
            "{name}: total {} != parsed {} + ignored {} + unrecognized {}",
            tally.total,
            tally.parsed,
            tally.ignored,
            tally.unrecognized
        );
        assert_eq!(tally.events, sink.events, "{name}: tally.events vs sink");
    }
    parser.finish(&mut sink);
}

//! ESP export readers: the same bytes through the CSV reader and the JSON / NDJSON
//! reader, with preset detection and column mapping. Asserts each tally balances and
//! matches the events emitted.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let ctx = common::context(1, 2 << 20);
    common::run(&ctx, "csv", data);
    common::run(&ctx, "json", data);
});

//! Postfix syslog parser on one thread: line splitting, syslog timestamps (year fixed
//! to 2026), queue-id correlation and `finish` flushing. Asserts the tally balances
//! (parsed + ignored + unrecognized == total) and matches the events emitted.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let ctx = common::context(1, 2 << 20);
    common::run(&ctx, "postfix", data);
});

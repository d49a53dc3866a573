//! The one integration test binary: runs the built `bouncex` on the fixtures in
//! `tests/fixtures/` and checks exit codes, JSON field values and NDJSON records.
//!
//! Fixtures are hand-written (their line-ending copies come from
//! `scripts/make-postfix-fixtures.py`); every expected number below was worked out
//! from the fixture by hand, line by line.

mod common;

mod suite {
    mod check;
    mod cli;
    mod diagnose;
    mod events;
    mod fuzz_smoke;
    mod group_by;
    mod hostile;
    mod inputs;
    mod parse_dsn;
    mod parse_export;
    mod parse_postfix;
    mod report;
    mod suppress;
    mod trace;
}

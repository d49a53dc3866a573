//! The analysis report as one JSON document (`--format json`).
//!
//! The document is the [`Report`] struct serialized; its fields are documented on the
//! struct and, for users, in `docs/json.md`. `schema_version` changes only when a
//! field changes meaning; new fields may appear at any version.

use std::io::{self, Write};

use super::Report;

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    out.write_all(b"\n")
}

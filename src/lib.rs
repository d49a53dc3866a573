//! bouncex: reads mail logs, bounce emails and ESP exports into one SMTP event model,
//! classifies each failure and reports list rot, reputation and infrastructure KPIs.
//!
//! The binary is a thin layer over this library: [`parse`] turns inputs into events and
//! deliveries, [`classify`] gives each failure a verdict, [`report`] computes every
//! figure once, and its renderers print it.

pub mod app;
pub mod classify;
pub mod cli;
pub mod codes;
pub mod model;
pub mod parse;
pub mod pipeline;
pub mod provider;
pub mod redact;
pub mod report;
pub mod time;

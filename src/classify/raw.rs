//! The rule file's TOML shape, as read before validation. Shared with `build.rs`,
//! which reads the built-in `rules.toml` at build time (see [`super::rules`]).

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTable {
    #[serde(default)]
    pub rule: Vec<toml::Spanned<RawRule>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    pub id: String,
    pub reason: String,
    pub bucket: Option<String>,
    #[serde(default)]
    pub reply: Vec<String>,
    #[serde(default)]
    pub enhanced: Vec<String>,
    pub class: Option<u8>,
    pub text: Option<String>,
    pub relay: Option<String>,
    pub domain: Option<String>,
    #[serde(default)]
    pub stage: Vec<String>,
    #[serde(default)]
    pub samples: Vec<RawSample>,
    pub note: Option<String>,
}

/// A sample: a bare diagnostic text, or a table giving the context too.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum RawSample {
    Text(String),
    Full {
        text: String,
        relay: Option<String>,
        domain: Option<String>,
        stage: Option<String>,
    },
}

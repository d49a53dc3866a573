//! Reads the built-in rule table, `src/classify/rules.toml`, into Rust data, with the
//! literals its prefilter gates each pattern on: parsing the TOML and the patterns
//! at every start was most of the classifier's start-up. The file stays the one
//! source; the binary validates the data as it would the file (and the tests check
//! that both agree).

use std::fmt::Write;

#[path = "src/classify/literals.rs"]
mod literals;
#[path = "src/classify/raw.rs"]
mod raw;

const RULES: &str = "src/classify/rules.toml";

fn main() {
    for input in [RULES, "src/classify/literals.rs", "src/classify/raw.rs"] {
        println!("cargo::rerun-if-changed={input}");
    }
    let src = std::fs::read_to_string(RULES).expect("read rules.toml");
    let table: raw::RawTable = toml::from_str(&src).unwrap_or_else(|e| panic!("{RULES}: {e}"));
    let mut out = String::from("&[\n");
    let (mut line, mut counted) = (1, 0);
    for spanned in &table.rule {
        let start = spanned.span().start;
        line += src[counted..start].matches('\n').count();
        counted = start;
        let r = spanned.get_ref();
        let literals = match r
            .text
            .as_deref()
            .and_then(|p| literals::required_literals(p, false))
        {
            None => "None".to_string(),
            Some(l) => {
                let list: Vec<String> = l
                    .literals
                    .iter()
                    .map(|b| format!("b\"{}\"", b.escape_ascii()))
                    .collect();
                format!(
                    "Some(BuiltinLiterals {{ literals: &[{}], exact: {}, prefix: {} }})",
                    list.join(", "),
                    l.exact,
                    l.prefix
                )
            }
        };
        let samples: Vec<String> = r
            .samples
            .iter()
            .map(|s| match s {
                raw::RawSample::Text(t) => format!("BuiltinSample::Text({t:?})"),
                raw::RawSample::Full {
                    text,
                    relay,
                    domain,
                    stage,
                } => format!(
                    "BuiltinSample::Full {{ text: {text:?}, relay: {}, domain: {}, stage: {} }}",
                    opt(relay),
                    opt(domain),
                    opt(stage)
                ),
            })
            .collect();
        writeln!(
            out,
            "Builtin {{ line: {line}, id: {:?}, reason: {:?}, bucket: {}, reply: &{:?}, \
             enhanced: &{:?}, class: {:?}, text: {}, relay: {}, domain: {}, stage: &{:?}, \
             samples: &[{}], note: {}, literals: {literals} }},",
            r.id,
            r.reason,
            opt(&r.bucket),
            r.reply,
            r.enhanced,
            r.class,
            opt(&r.text),
            opt(&r.relay),
            opt(&r.domain),
            r.stage,
            samples.join(", "),
            opt(&r.note),
        )
        .unwrap();
    }
    out.push(']');
    let path = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("builtin_rules.rs");
    std::fs::write(path, out).expect("write builtin_rules.rs");
}

/// An optional string as a Rust expression.
fn opt(s: &Option<String>) -> String {
    match s {
        Some(s) => format!("Some({s:?})"),
        None => "None".to_string(),
    }
}

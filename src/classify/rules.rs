//! The rule table: the file format, its loading and validation.
//!
//! Rules are TOML, one `[[rule]]` table each, first match wins. The built-in table is
//! `rules.toml` beside this file, embedded in the binary; `--rules FILE` puts a user's
//! table in front of it. Every error names the file and the line of the rule.
//!
//! ```toml
//! [[rule]]
//! id = "gmail.rate_limited"          # unique, stable; shown as the evidence
//! reason = "reputation_throttled"    # from the vocabulary; sets the bucket
//! bucket = "list_rot"                # optional override of the reason's bucket
//! reply = ["421", "45x", "5xx"]      # optional: exact, digit wildcards with x
//! enhanced = ["4.7.28", "5.7.", "5.7.606-5.7.649", "x.1.1"]   # optional
//! class = 4                          # optional: failure class (4 or 5)
//! text = 'rate (that )?limit'        # optional: case-insensitive regex on the reply
//! relay = 'google\.com$'             # optional: regex on the relay host name
//! domain = '^(gmail|googlemail)\.com$'  # optional: regex on the recipient domain
//! stage = ["connect", "helo", "mail"]   # optional: SMTP stage the reply answered
//! samples = ["421 4.7.28 ... rate limited ..."]   # texts this rule must win on
//! note = "why; RFC 3463 section or provider documentation"
//! ```

use std::path::Path;
use std::sync::Arc;

use crate::classify::builtin_nfa::BuiltinRegex;
use crate::classify::literals::Required;
pub use crate::classify::raw::RawSample;
use crate::classify::raw::{RawRule, RawTable};
use crate::classify::vocabulary;
use crate::model::{Bucket, EnhancedCode, SmtpStage};
use regex_automata::MatchKind;
use regex_automata::meta::Regex;
use regex_automata::util::syntax;

/// The built-in table.
pub const BUILTIN_RULES: &str = include_str!("rules.toml");
pub const BUILTIN_NAME: &str = "<built-in rules.toml>";

/// Limits on user-supplied patterns, so a hostile rules file cannot exhaust memory.
const REGEX_SIZE_LIMIT: usize = 1 << 20;
const PATTERN_MAX_LEN: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("{file}:{line}: {message}")]
    Invalid {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}: {message}")]
    Io { file: String, message: String },
}

/// A rule of the built-in table, as `build.rs` read it from `rules.toml`.
struct Builtin {
    line: usize,
    id: &'static str,
    reason: &'static str,
    bucket: Option<&'static str>,
    reply: &'static [&'static str],
    enhanced: &'static [&'static str],
    class: Option<u8>,
    text: Option<&'static str>,
    relay: Option<&'static str>,
    domain: Option<&'static str>,
    stage: &'static [&'static str],
    samples: &'static [BuiltinSample],
    note: Option<&'static str>,
    /// What the classifier's prefilter gates the text pattern on.
    literals: Option<BuiltinLiterals>,
    /// The text pattern's NFAs ([`builtin_nfa`]).
    nfa: Option<&'static [u8]>,
}

// No built-in sample gives the context yet.
#[allow(dead_code)]
enum BuiltinSample {
    Text(&'static str),
    Full {
        text: &'static str,
        relay: Option<&'static str>,
        domain: Option<&'static str>,
        stage: Option<&'static str>,
    },
}

struct BuiltinLiterals {
    literals: &'static [&'static [u8]],
    exact: bool,
    prefix: bool,
}

/// The built-in table, read from `rules.toml` by `build.rs`: parsing the TOML at
/// every start was a quarter of the classifier's start-up.
static BUILTIN: &[Builtin] = include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

impl Builtin {
    fn to_raw(&self) -> RawRule {
        let owned = |s: &[&str]| s.iter().map(|s| s.to_string()).collect();
        let opt = |s: Option<&str>| s.map(str::to_string);
        RawRule {
            id: self.id.to_string(),
            reason: self.reason.to_string(),
            bucket: opt(self.bucket),
            reply: owned(self.reply),
            enhanced: owned(self.enhanced),
            class: self.class,
            text: opt(self.text),
            relay: opt(self.relay),
            domain: opt(self.domain),
            stage: owned(self.stage),
            samples: self
                .samples
                .iter()
                .map(|s| match s {
                    BuiltinSample::Text(t) => RawSample::Text(t.to_string()),
                    BuiltinSample::Full {
                        text,
                        relay,
                        domain,
                        stage,
                    } => RawSample::Full {
                        text: text.to_string(),
                        relay: opt(*relay),
                        domain: opt(*domain),
                        stage: opt(*stage),
                    },
                })
                .collect(),
            note: opt(self.note),
        }
    }
}

/// The prefilter's literals of each built-in rule, in table order, as worked out at
/// build time; with `lists` false, without the literals themselves (the built-in
/// table's own automaton is made already).
pub(crate) fn builtin_literals(lists: bool) -> Vec<Option<Required>> {
    BUILTIN
        .iter()
        .map(|b| {
            b.literals.as_ref().map(|l| Required {
                literals: match lists {
                    true => l.literals.iter().map(|l| l.to_vec()).collect(),
                    false => Vec::new(),
                },
                exact: l.exact,
                prefix: l.prefix,
            })
        })
        .collect()
}

/// A pattern on a three-digit reply code: each position a digit or `x`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyPattern([Option<u8>; 3]);

impl ReplyPattern {
    fn parse(text: &str) -> Option<ReplyPattern> {
        let b = text.as_bytes();
        if b.len() != 3 {
            return None;
        }
        let mut out = [None; 3];
        for (slot, c) in out.iter_mut().zip(b) {
            *slot = match c {
                b'0'..=b'9' => Some(c - b'0'),
                b'x' | b'X' => None,
                _ => return None,
            };
        }
        Some(ReplyPattern(out))
    }

    pub fn matches(&self, code: u16) -> bool {
        let digits = [
            (code / 100) as u8,
            ((code / 10) % 10) as u8,
            (code % 10) as u8,
        ];
        self.0
            .iter()
            .zip(digits)
            .all(|(want, got)| want.is_none_or(|w| w == got))
    }
}

/// A pattern on an enhanced code: exact, a prefix ending in `.`, a range, with an
/// optional `x` for "any class".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnhancedPattern {
    Exact(Option<u8>, u16, u16),
    Subject(Option<u8>, u16),
    Range(EnhancedCode, EnhancedCode),
}

impl EnhancedPattern {
    fn parse(text: &str) -> Option<EnhancedPattern> {
        if let Some((lo, hi)) = text.split_once('-') {
            let lo = EnhancedCode::parse(lo)?;
            let hi = EnhancedCode::parse(hi)?;
            return (lo.class == hi.class && lo.subject == hi.subject && lo.detail <= hi.detail)
                .then_some(EnhancedPattern::Range(lo, hi));
        }
        let mut parts = text.split('.');
        let class = match parts.next()? {
            "x" | "X" => None,
            c @ ("2" | "4" | "5") => Some(c.as_bytes()[0] - b'0'),
            _ => return None,
        };
        let subject: u16 = parts.next()?.parse().ok().filter(|s| *s <= 999)?;
        let pattern = match parts.next()? {
            "" => EnhancedPattern::Subject(class, subject),
            d => EnhancedPattern::Exact(class, subject, d.parse().ok().filter(|d| *d <= 999)?),
        };
        parts.next().is_none().then_some(pattern)
    }

    pub fn matches(&self, code: EnhancedCode) -> bool {
        let class_ok = |c: &Option<u8>| c.is_none_or(|c| c == code.class);
        match self {
            EnhancedPattern::Exact(c, s, d) => {
                class_ok(c) && *s == code.subject && *d == code.detail
            }
            EnhancedPattern::Subject(c, s) => class_ok(c) && *s == code.subject,
            EnhancedPattern::Range(lo, hi) => {
                code.class == lo.class
                    && code.subject == lo.subject
                    && (lo.detail..=hi.detail).contains(&code.detail)
            }
        }
    }
}

/// A validated rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: Arc<str>,
    pub reason: &'static str,
    pub bucket: Bucket,
    pub reply: Vec<ReplyPattern>,
    pub enhanced: Vec<EnhancedPattern>,
    pub class: Option<u8>,
    /// The text pattern as written (compiled into the classifier's set).
    pub text: Option<String>,
    pub relay: Option<Regex>,
    pub domain: Option<Regex>,
    pub stage: Vec<SmtpStage>,
    pub samples: Vec<RawSample>,
    pub note: Option<String>,
    /// Where the rule was written, for error messages and `explain`.
    pub origin: Arc<str>,
    pub line: usize,
    /// How its patterns are compiled (by the table it comes from).
    pub mode: PatternMode,
    /// The text pattern's NFAs, compiled at build time ([`builtin_nfa`]), for
    /// built-in rules.
    pub text_nfa: Option<&'static [u8]>,
}

fn line_of(src: &str, offset: usize) -> usize {
    src.get(..offset)
        .map_or(1, |s| memchr::memchr_iter(b'\n', s.as_bytes()).count() + 1)
}

/// Line numbers of increasing offsets, counted once over the text instead of from the
/// start for every rule (quadratic in the table's size, and paid at every start-up).
struct LineCounter<'a> {
    src: &'a str,
    offset: usize,
    line: usize,
}

impl LineCounter<'_> {
    fn at(&mut self, offset: usize) -> usize {
        if offset < self.offset || offset > self.src.len() {
            return line_of(self.src, offset);
        }
        self.line += memchr::memchr_iter(b'\n', &self.src.as_bytes()[self.offset..offset]).count();
        self.offset = offset;
        self.line
    }
}

/// How a table's patterns are compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternMode {
    /// `\b`, `\w`, `\s`, `\d` and case folding ASCII-only, a non-ASCII literal
    /// matched as written: the built-in table, written for it. It compiles several
    /// times faster, which matters at start-up for short inputs.
    Ascii,
    /// Full Unicode classes and case folding: users' tables (`\p{L}` works there).
    Unicode,
}

impl PatternMode {
    /// The built-in table is written for ASCII mode; a user's table gets Unicode.
    pub fn of_origin(origin: &str) -> PatternMode {
        if origin == BUILTIN_NAME {
            PatternMode::Ascii
        } else {
            PatternMode::Unicode
        }
    }
}

/// Compiles a case-insensitive pattern with size limits, as `regex::bytes::Regex` would
/// (leftmost-first, any bytes), but without the engine's own literal prefilter: the
/// classifier's Aho-Corasick scan already gates each rule on its literals, and working
/// out the prefilter was most of the cost of compiling a pattern, paid at every start
/// for each rule a run reaches.
pub fn compile_pattern(pattern: &str, mode: PatternMode) -> Result<Regex, String> {
    if pattern.len() > PATTERN_MAX_LEN {
        return Err(format!(
            "pattern is {} bytes, more than the limit of {PATTERN_MAX_LEN}",
            pattern.len()
        ));
    }
    Regex::builder()
        .syntax(syntax_config(mode))
        .configure(regex_config())
        .build(pattern)
        .map_err(|e| match e.size_limit() {
            Some(limit) => format!("pattern compiles to more than {limit} bytes; simplify it"),
            None => format!("invalid pattern: {}", e.to_string().replace('\n', " ")),
        })
}

/// A compiled text pattern: a user's, or a built-in one from its NFAs.
#[derive(Debug)]
pub enum TextRegex {
    Meta(Regex),
    Builtin(BuiltinRegex),
}

impl TextRegex {
    /// Compiles a rule's text pattern, if it has one that compiles.
    pub fn of_rule(rule: &Rule) -> Option<TextRegex> {
        match rule.text_nfa {
            Some(code) => Some(TextRegex::Builtin(BuiltinRegex::new(
                code,
                REGEX_SIZE_LIMIT,
            ))),
            None => compile_pattern(rule.text.as_deref()?, rule.mode)
                .ok()
                .map(TextRegex::Meta),
        }
    }

    pub fn search(&self, input: &regex_automata::Input<'_>) -> Option<regex_automata::Match> {
        match self {
            TextRegex::Meta(re) => re.search(input),
            TextRegex::Builtin(re) => re.search(input),
        }
    }

    pub fn find(&self, haystack: &[u8]) -> Option<regex_automata::Match> {
        self.search(&regex_automata::Input::new(haystack))
    }

    pub fn is_match(&self, haystack: &[u8]) -> bool {
        match self {
            TextRegex::Meta(re) => re.is_match(haystack),
            TextRegex::Builtin(re) => re.is_match(haystack),
        }
    }
}

fn syntax_config(mode: PatternMode) -> syntax::Config {
    syntax::Config::new()
        .case_insensitive(true)
        .unicode(mode == PatternMode::Unicode)
        .utf8(false)
}

fn regex_config() -> regex_automata::meta::Config {
    Regex::config()
        .match_kind(MatchKind::LeftmostFirst)
        .utf8_empty(false)
        .auto_prefilter(false)
        .nfa_size_limit(Some(REGEX_SIZE_LIMIT))
        .onepass_size_limit(Some(REGEX_SIZE_LIMIT))
        .hybrid_cache_capacity(REGEX_SIZE_LIMIT)
        .dfa_size_limit(Some(REGEX_SIZE_LIMIT))
}

/// Parses and validates a rule table. `origin` names it in errors.
pub fn parse_rules(src: &str, origin: &str) -> Result<Vec<Rule>, RuleError> {
    parse_rules_with(src, origin, true)
}

/// The built-in table: its text patterns are checked by the test suite, so they are
/// compiled once, in the classifier's set, not once more here.
pub(crate) fn parse_builtin() -> Result<Vec<Rule>, RuleError> {
    validate(
        BUILTIN.len(),
        BUILTIN.iter().map(|b| (b.line, b.to_raw(), b.nfa)),
        BUILTIN_NAME,
        false,
    )
}

fn parse_rules_with(src: &str, origin: &str, check_text: bool) -> Result<Vec<Rule>, RuleError> {
    let table: RawTable = toml::from_str(src).map_err(|e| RuleError::Invalid {
        file: origin.to_string(),
        line: e.span().map_or(1, |s| line_of(src, s.start)),
        message: e.message().trim().to_string(),
    })?;
    let mut lines = LineCounter {
        src,
        offset: 0,
        line: 1,
    };
    let count = table.rule.len();
    let raws = table
        .rule
        .into_iter()
        .map(|spanned| (lines.at(spanned.span().start), spanned.into_inner(), None));
    validate(count, raws, origin, check_text)
}

/// Validates rules read from `origin`: (line, rule, its parsed text pattern) in table
/// order.
fn validate(
    count: usize,
    raws: impl Iterator<Item = (usize, RawRule, Option<&'static [u8]>)>,
    origin: &str,
    check_text: bool,
) -> Result<Vec<Rule>, RuleError> {
    let mode = PatternMode::of_origin(origin);
    let origin: Arc<str> = Arc::from(origin);
    let mut rules = Vec::with_capacity(count);
    for (line, raw, text_nfa) in raws {
        let fail = |message: String| RuleError::Invalid {
            file: origin.to_string(),
            line,
            message: format!("rule {:?}: {message}", raw.id),
        };
        let (reason, default_bucket) = vocabulary::lookup(&raw.reason)
            .ok_or_else(|| fail(format!("unknown reason {:?}", raw.reason)))?;
        let bucket = match &raw.bucket {
            None => default_bucket,
            Some(b) => Bucket::parse(b).ok_or_else(|| fail(format!("unknown bucket {b:?}")))?,
        };
        let reply = raw
            .reply
            .iter()
            .map(|p| ReplyPattern::parse(p).ok_or_else(|| fail(format!("bad reply pattern {p:?}"))))
            .collect::<Result<_, _>>()?;
        let enhanced = raw
            .enhanced
            .iter()
            .map(|p| {
                EnhancedPattern::parse(p)
                    .ok_or_else(|| fail(format!("bad enhanced code pattern {p:?}")))
            })
            .collect::<Result<_, _>>()?;
        if raw.class.is_some_and(|c| !matches!(c, 2 | 4 | 5)) {
            return Err(fail("class must be 2, 4 or 5".into()));
        }
        if check_text && let Some(text) = &raw.text {
            compile_pattern(text, mode).map_err(|e| fail(format!("text: {e}")))?;
        }
        let optional_regex = |field: &str, p: &Option<String>| {
            p.as_deref()
                .map(|p| compile_pattern(p, mode).map_err(|e| fail(format!("{field}: {e}"))))
                .transpose()
        };
        let relay = optional_regex("relay", &raw.relay)?;
        let domain = optional_regex("domain", &raw.domain)?;
        let stage = raw
            .stage
            .iter()
            .map(|s| SmtpStage::parse(s).ok_or_else(|| fail(format!("unknown stage {s:?}"))))
            .collect::<Result<_, _>>()?;
        if raw.id.trim().is_empty() {
            return Err(fail("empty id".into()));
        }
        rules.push(Rule {
            id: Arc::from(raw.id.as_str()),
            reason,
            bucket,
            reply,
            enhanced,
            class: raw.class,
            text: raw.text,
            relay,
            domain,
            stage,
            samples: raw.samples,
            note: raw.note,
            origin: origin.clone(),
            line,
            mode,
            text_nfa,
        });
    }
    let mut seen = std::collections::HashMap::new();
    for rule in &rules {
        if let Some(first) = seen.insert(rule.id.clone(), rule.line) {
            return Err(RuleError::Invalid {
                file: origin.to_string(),
                line: rule.line,
                message: format!("rule {:?}: duplicate id (first at line {first})", &*rule.id),
            });
        }
    }
    Ok(rules)
}

/// Reads a user rules file.
pub fn load_rules_file(path: &Path) -> Result<Vec<Rule>, RuleError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| RuleError::Io {
        file: name.clone(),
        message: e.to_string(),
    })?;
    let src = String::from_utf8(bytes).map_err(|e| RuleError::Invalid {
        file: name.clone(),
        line: 1,
        message: format!("not UTF-8 (byte {})", e.utf8_error().valid_up_to()),
    })?;
    parse_rules(&src, &name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::builtin_nfa;

    #[test]
    fn reply_and_enhanced_patterns() {
        let p = ReplyPattern::parse("45x").unwrap();
        assert!(p.matches(451) && p.matches(450) && !p.matches(421));
        assert!(ReplyPattern::parse("5x").is_none());
        let e = EnhancedPattern::parse("5.7.606-5.7.649").unwrap();
        assert!(e.matches(EnhancedCode::parse("5.7.620").unwrap()));
        assert!(!e.matches(EnhancedCode::parse("5.7.650").unwrap()));
        let s = EnhancedPattern::parse("x.1.").unwrap();
        assert!(s.matches(EnhancedCode::parse("4.1.7").unwrap()));
        assert!(EnhancedPattern::parse("5.7.1.1").is_none());
        assert!(EnhancedPattern::parse("3.7.1").is_none());
    }

    #[test]
    fn errors_name_file_and_line() {
        let src = "[[rule]]\nid = \"a\"\nreason = \"user_unknown\"\n\n[[rule]]\nid = \"b\"\nreason = \"nope\"\n";
        let err = parse_rules(src, "my.toml").unwrap_err().to_string();
        assert_eq!(err, "my.toml:5: rule \"b\": unknown reason \"nope\"");
        let src = "[[rule]]\nid = \"a\"\nreason = \"user_unknown\"\ntext = \"(unclosed\"\n";
        let err = parse_rules(src, "my.toml").unwrap_err().to_string();
        assert!(
            err.starts_with("my.toml:1: rule \"a\": text: invalid pattern"),
            "{err}"
        );
        let src = "[[rule]]\nid = \"a\"\nreason = \"user_unknown\"\nbogus = 1\n";
        let err = parse_rules(src, "my.toml").unwrap_err().to_string();
        assert!(err.starts_with("my.toml:"), "{err}");
    }

    #[test]
    fn builtin_table_passes_full_validation() {
        // What build.rs read is rules.toml as parsed here, every pattern compiled.
        let parsed = parse_rules(BUILTIN_RULES, BUILTIN_NAME).unwrap();
        let built = parse_builtin().unwrap();
        assert_eq!(parsed.len(), built.len());
        for ((a, b), literals) in parsed.iter().zip(&built).zip(builtin_literals(true)) {
            assert_eq!(
                (&a.id, a.line, &a.text, &a.samples, &a.note, a.mode),
                (&b.id, b.line, &b.text, &b.samples, &b.note, b.mode)
            );
            assert_eq!(
                (a.reason, a.bucket, &a.reply, &a.enhanced, a.class, &a.stage),
                (b.reason, b.bucket, &b.reply, &b.enhanced, b.class, &b.stage)
            );
            assert_eq!(
                (a.relay.is_some(), a.domain.is_some()),
                (b.relay.is_some(), b.domain.is_some())
            );
            let expected = a
                .text
                .as_deref()
                .and_then(|p| crate::classify::literals::required_literals(p, false));
            assert_eq!(literals, expected, "{}", a.id);
        }
    }

    #[test]
    fn builtin_nfas_are_the_patterns_compiled() {
        use regex_automata::nfa::thompson::{Compiler, Config, WhichCaptures};
        let compile = |text: &str, reverse| {
            Compiler::new()
                .syntax(syntax_config(PatternMode::Ascii))
                .configure(
                    Config::new()
                        .utf8(false)
                        .shrink(false)
                        .which_captures(WhichCaptures::None)
                        .reverse(reverse),
                )
                .build(text)
                .unwrap()
        };
        let mut count = 0;
        for rule in parse_builtin().unwrap() {
            assert_eq!(rule.text.is_some(), rule.text_nfa.is_some(), "{}", rule.id);
            let (Some(text), Some(code)) = (&rule.text, rule.text_nfa) else {
                continue;
            };
            let (forward, reverse) = builtin_nfa::decode(code).unwrap();
            for (built, expected) in [
                (forward, compile(text, false)),
                (reverse, compile(text, true)),
            ] {
                assert_eq!(format!("{built:?}"), format!("{expected:?}"), "{}", rule.id);
                assert_eq!(
                    (built.is_reverse(), built.is_utf8(), built.look_set_any()),
                    (
                        expected.is_reverse(),
                        expected.is_utf8(),
                        expected.look_set_any()
                    ),
                    "{}",
                    rule.id
                );
                assert_eq!(
                    format!("{:?}", built.byte_classes()),
                    format!("{:?}", expected.byte_classes()),
                    "{}",
                    rule.id
                );
            }
            assert!(TextRegex::of_rule(&rule).is_some(), "{}", rule.id);
            count += 1;
        }
        assert!(count > 100);
        assert!(builtin_nfa::decode(b"\x00\x00").is_none());
    }

    /// The lazy DFAs of the built-in patterns find what the meta regex compiled from
    /// the text finds, at the same spans, anchored or not, on texts near their
    /// samples and with non-ASCII letters.
    #[test]
    fn builtin_regexes_match_as_compiled_text() {
        let mut compared = 0;
        for rule in parse_builtin().unwrap() {
            let Some(text) = &rule.text else { continue };
            let meta = compile_pattern(text, PatternMode::Ascii).unwrap();
            let built = TextRegex::of_rule(&rule).unwrap();
            let mut haystacks: Vec<String> = rule
                .samples
                .iter()
                .map(|s| match s {
                    RawSample::Text(t) | RawSample::Full { text: t, .. } => t.clone(),
                })
                .collect();
            let variants: Vec<String> = haystacks
                .iter()
                .flat_map(|h| {
                    [
                        h.to_uppercase(),
                        h.replace(' ', "\u{e9} "),
                        h.replace('e', "\u{212a}"),
                        format!("\u{17f}x {h} \u{e9}{h}"),
                        h.chars().rev().collect(),
                        h[..h.len() / 2].to_string(),
                    ]
                })
                .collect();
            haystacks.extend(variants);
            haystacks.push(String::new());
            for h in &haystacks {
                let b = h.as_bytes();
                assert_eq!(built.find(b), meta.find(b), "{} on {h:?}", rule.id);
                assert_eq!(built.is_match(b), meta.is_match(b), "{} on {h:?}", rule.id);
                for start in (0..b.len()).step_by(3) {
                    let input = regex_automata::Input::new(b)
                        .range(start..)
                        .anchored(regex_automata::Anchored::Yes);
                    assert_eq!(
                        built.search(&input),
                        meta.search(&input),
                        "{} on {h:?}",
                        rule.id
                    );
                }
                compared += 1;
            }
        }
        assert!(compared > 1000, "{compared}");
    }

    #[test]
    fn huge_patterns_are_refused() {
        let src = format!(
            "[[rule]]\nid = \"a\"\nreason = \"user_unknown\"\ntext = '{}'\n",
            "a".repeat(5000)
        );
        let err = parse_rules(&src, "big.toml").unwrap_err().to_string();
        assert!(err.contains("more than the limit"), "{err}");
        let src = "[[rule]]\nid = \"a\"\nreason = \"user_unknown\"\ntext = '(?:a{1000}){1000}'\n";
        let err = parse_rules(src, "big.toml").unwrap_err().to_string();
        assert!(err.contains("compiles to more than"), "{err}");
    }
}

//! Failure classification: (reply code, enhanced code, diagnostic text, relay,
//! recipient domain, SMTP stage) -> [`Verdict`] { bucket, reason, rule, evidence }.
//!
//! Pure and I/O free. The rules live in a table (see [`rules`]); this module compiles
//! their text patterns once into a `RegexSet`, so one scan of a reply tests every rule,
//! and then walks the table in order: the first rule whose conditions all hold wins.

pub mod enhanced_meaning;
pub mod explain;
pub mod rules;
pub mod vocabulary;

use std::sync::{Arc, LazyLock, OnceLock};

use regex::{Regex, RegexSet, RegexSetBuilder};

use crate::codes;
use crate::model::{Bucket, EnhancedCode, Event, ReplyCode, SmtpStage, Verdict};
pub use rules::{Rule, RuleError};

/// What the classifier looks at.
#[derive(Debug, Clone, Copy, Default)]
pub struct Diagnosis<'a> {
    pub reply_code: Option<ReplyCode>,
    pub enhanced_code: Option<EnhancedCode>,
    pub text: &'a str,
    pub relay: Option<&'a str>,
    pub domain: Option<&'a str>,
    pub stage: Option<SmtpStage>,
}

impl<'a> Diagnosis<'a> {
    /// A diagnosis from a bare text, with the codes extracted from it.
    pub fn from_text(text: &'a str) -> Diagnosis<'a> {
        let found = codes::extract(text);
        Diagnosis {
            reply_code: found.reply,
            enhanced_code: found.enhanced,
            text,
            relay: None,
            domain: None,
            stage: detect_stage(text),
        }
    }

    /// The failure class: the reply code's when there is one, else the enhanced
    /// code's. A 5xx greeting that Postfix deferred (`554 ... dsn=4.7.1`) is class 5:
    /// the remote meant it.
    pub fn class(&self) -> Option<u8> {
        self.reply_code
            .map(ReplyCode::class)
            .or(self.enhanced_code.map(|e| e.class))
    }
}

/// The SMTP stage named in the text: Postfix's "(in reply to X command)", Exim's
/// "SMTP error from remote mail server after X", Sendmail's ">>> X", qmail's phrases,
/// or a failure at the greeting ("refused to talk to me", "initial server greeting").
pub fn detect_stage(text: &str) -> Option<SmtpStage> {
    use memchr::memmem::{Finder, FinderRev};
    static IN_REPLY: LazyLock<FinderRev<'static>> =
        LazyLock::new(|| FinderRev::new("in reply to "));
    static EXIM: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("mail server after "));
    static SENDMAIL: LazyLock<FinderRev<'static>> = LazyLock::new(|| FinderRev::new(">>> "));
    /// Phrases that name the stage outright (qmail, connection failures).
    const PHRASES: &[(&str, SmtpStage)] = &[
        ("refused to talk to me", SmtpStage::Connect),
        ("initial server greeting", SmtpStage::Connect),
        ("after initial connection", SmtpStage::Connect),
        ("does not like recipient", SmtpStage::Rcpt),
        ("does not like sender", SmtpStage::Mail),
        ("sender was rejected", SmtpStage::Mail),
        ("my name was rejected", SmtpStage::Helo),
        ("failed after I sent the message", SmtpStage::Data),
    ];
    static PHRASE_FINDERS: LazyLock<Vec<Finder<'static>>> =
        LazyLock::new(|| PHRASES.iter().map(|(p, _)| Finder::new(p)).collect());
    let b = text.as_bytes();
    let command_at = |rest: &[u8]| {
        let word = |w: &[u8]| rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w);
        if word(b"RCPT") {
            Some(SmtpStage::Rcpt)
        } else if word(b"MAIL") {
            Some(SmtpStage::Mail)
        } else if word(b"end of DATA") || word(b"DATA") || word(b"BDAT") || word(b"pipelined DATA")
        {
            Some(SmtpStage::Data)
        } else if word(b"HELO") || word(b"EHLO") || word(b"LHLO") || word(b"STARTTLS") {
            Some(SmtpStage::Helo)
        } else if word(b"initial connection") {
            Some(SmtpStage::Connect)
        } else {
            None
        }
    };
    if let Some(pos) = IN_REPLY.rfind(b) {
        return command_at(&b[pos + 12..]);
    }
    if let Some(pos) = EXIM.find(b)
        && let Some(stage) = command_at(&b[pos + 18..])
    {
        return Some(stage);
    }
    if let Some(pos) = SENDMAIL.rfind(b)
        && let Some(stage) = command_at(&b[pos + 4..])
    {
        return Some(stage);
    }
    PHRASES
        .iter()
        .zip(PHRASE_FINDERS.iter())
        .find(|(_, finder)| finder.find(b).is_some())
        .map(|((_, stage), _)| *stage)
}

/// The remote server's own words: Postfix's "host X[ip] said: " prefix and
/// "(in reply to ... command)" suffix removed, so patterns never match our own wrapper
/// or the relay's host name.
pub fn inner_reply(text: &str) -> &str {
    let mut inner = text;
    for marker in [" said: ", "refused to talk to me: "] {
        if let Some(pos) = inner.find(marker) {
            inner = &inner[pos + marker.len()..];
            break;
        }
    }
    if let Some(pos) = inner.rfind(" (in reply to ") {
        inner = &inner[..pos];
    }
    // Exchange Online quotes the next hop's refusal after " -> " ("550 5.7.350 Remote
    // server returned message detected as spam -> 554 5.7.1 ... blocked using ..."):
    // the quoted reply is the cause, the wrapper's own words are not.
    if let Some(pos) = memchr::memmem::find(inner.as_bytes(), b" -> ")
        && inner.as_bytes()[..pos]
            .windows(22)
            .any(|w| w.eq_ignore_ascii_case(b"remote server returned"))
    {
        inner = &inner[pos + 4..];
    }
    inner.trim()
}

/// Ids for [`Classifier::id`]; starts at 1 so an empty cache (id 0) never matches.
static NEXT_CLASSIFIER_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// The compiled rule table.
pub struct Classifier {
    rules: Vec<Rule>,
    /// `text_set` pattern i belongs to rule `text_rule[i]`.
    text_set: RegexSet,
    text_rule: Vec<usize>,
    /// Each rule's pattern on its own, compiled the first time its evidence is wanted.
    text_regex: Vec<OnceLock<Option<Regex>>>,
    /// Tells classifiers apart in the per-thread cache of pattern-set answers.
    id: u64,
    /// Whether verdicts carry the matched text (`explain`, `events`); a report does
    /// not show it and saves a second regex search per failure.
    evidence: bool,
    fallback_rule: Arc<str>,
}

impl std::fmt::Debug for Classifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Classifier")
            .field("rules", &self.rules.len())
            .finish()
    }
}

impl Classifier {
    /// The built-in table alone.
    pub fn builtin() -> Classifier {
        let rules = rules::parse_builtin().expect("the built-in rule table is valid (tested)");
        Classifier::new(rules).expect("the built-in rule table compiles (tested)")
    }

    /// User rules in front of the built-in ones.
    pub fn with_user_rules(user: Vec<Rule>) -> Result<Classifier, RuleError> {
        let mut all = user;
        all.extend(rules::parse_builtin().expect("the built-in rule table is valid (tested)"));
        let mut seen = std::collections::HashMap::new();
        for rule in &all {
            if let Some((origin, line)) =
                seen.insert(rule.id.clone(), (rule.origin.clone(), rule.line))
            {
                // User rules come first, so the earlier place is the user's file.
                return Err(RuleError::Invalid {
                    file: origin.to_string(),
                    line,
                    message: format!(
                        "rule {:?}: duplicate id (also at {}:{})",
                        &*rule.id, rule.origin, rule.line
                    ),
                });
            }
        }
        Classifier::new(all)
    }

    pub fn new(rules: Vec<Rule>) -> Result<Classifier, RuleError> {
        let mut patterns = Vec::new();
        let mut text_rule = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            if let Some(p) = &rule.text {
                patterns.push(p.clone());
                text_rule.push(i);
            }
        }
        let text_regex = rules.iter().map(|_| OnceLock::new()).collect();
        let text_set = RegexSetBuilder::new(&patterns)
            .case_insensitive(true)
            .size_limit(64 << 20)
            .dfa_size_limit(64 << 20)
            .build()
            .map_err(|e| RuleError::Invalid {
                file: "<rules>".into(),
                line: 0,
                message: format!("the rule patterns together do not compile: {e}"),
            })?;
        Ok(Classifier {
            rules,
            text_set,
            text_rule,
            text_regex,
            fallback_rule: Arc::from("fallback.unclassified"),
            evidence: true,
            id: NEXT_CLASSIFIER_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        })
    }

    /// Turns the evidence text of verdicts on or off (on by default).
    pub fn set_evidence(&mut self, on: bool) {
        self.evidence = on;
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Classifies one failure; returns the verdict and the index of the rule that
    /// matched (None for the fallback).
    pub fn classify_indexed(&self, d: &Diagnosis<'_>) -> (Verdict, Option<usize>) {
        let inner = inner_reply(d.text);
        let matched_text = self.text_matches(inner);
        let text_hit = |i: usize| {
            matched_text
                .get(i / 64)
                .is_some_and(|w| w & (1 << (i % 64)) != 0)
        };
        let class = d.class();
        let hard = class.is_none_or(|c| c == 5);
        for (i, rule) in self.rules.iter().enumerate() {
            if rule.text.is_some() && !text_hit(i) {
                continue;
            }
            if !conditions_hold(rule, d, class) {
                continue;
            }
            let evidence = if self.evidence {
                self.evidence(i, rule, d, inner)
            } else {
                String::new()
            };
            return (
                Verdict {
                    bucket: rule.bucket,
                    reason: rule.reason,
                    rule: rule.id.clone(),
                    evidence,
                    hard,
                },
                Some(i),
            );
        }
        (
            Verdict {
                bucket: Bucket::Unknown,
                reason: "unclassified",
                rule: self.fallback_rule.clone(),
                evidence: String::new(),
                hard,
            },
            None,
        )
    }

    /// Which rules' text patterns match `inner`, as a bit set over rule indexes.
    ///
    /// Logs repeat the same replies many times (every retry of a deferral, every
    /// recipient behind a refused connection), so each thread keeps the last few
    /// thousand answers of the pattern set: one scan by a set of hundreds of patterns
    /// costs far more than a hash lookup.
    fn text_matches(&self, inner: &str) -> Arc<[u64]> {
        const CACHE_ENTRIES: usize = 4096;
        type Cache = (u64, rustc_hash::FxHashMap<Box<str>, Arc<[u64]>>);
        thread_local! {
            static CACHE: std::cell::RefCell<Cache> = std::cell::RefCell::default();
        }
        let compute = || -> Arc<[u64]> {
            let mut bits = vec![0u64; self.rules.len().div_ceil(64)];
            if !self.text_rule.is_empty() {
                for set_index in self.text_set.matches(inner).iter() {
                    let rule = self.text_rule[set_index];
                    bits[rule / 64] |= 1 << (rule % 64);
                }
            }
            bits.into()
        };
        CACHE.with(|cache| {
            let Ok(mut cache) = cache.try_borrow_mut() else {
                return compute();
            };
            if cache.0 != self.id {
                cache.0 = self.id;
                cache.1.clear();
            }
            if let Some(bits) = cache.1.get(inner) {
                return bits.clone();
            }
            let bits = compute();
            if cache.1.len() >= CACHE_ENTRIES {
                cache.1.clear();
            }
            cache.1.insert(inner.into(), bits.clone());
            bits
        })
    }

    pub fn classify(&self, d: &Diagnosis<'_>) -> Verdict {
        self.classify_indexed(d).0
    }

    /// Classifies a failure event in place (no-op for deliveries).
    pub fn classify_event(&self, event: &mut Event) {
        if !event.action.is_failure() {
            return;
        }
        let domain = event.recipient_domain();
        let text = event.diagnostic.as_deref().unwrap_or("");
        let d = Diagnosis {
            reply_code: event.reply_code,
            enhanced_code: event.enhanced_code,
            text,
            relay: event.relay_host.as_deref(),
            domain: Some(domain.as_str()),
            stage: event.smtp_stage.or_else(|| detect_stage(text)),
        };
        event.verdict = Some(self.classify(&d));
    }

    fn evidence(&self, i: usize, rule: &Rule, d: &Diagnosis<'_>, inner: &str) -> String {
        let regex = self.text_regex.get(i).and_then(|cell| {
            cell.get_or_init(|| {
                rule.text
                    .as_deref()
                    .and_then(|p| rules::compile_pattern(p).ok())
            })
            .as_ref()
        });
        if let Some(re) = regex
            && let Some(m) = re.find(inner)
        {
            return format!("text \"{}\"", m.as_str());
        }
        let mut parts = Vec::new();
        if !rule.enhanced.is_empty()
            && let Some(e) = d.enhanced_code
        {
            parts.push(format!("enhanced {e}"));
        }
        if (!rule.reply.is_empty() || rule.class.is_some() || parts.is_empty())
            && let Some(r) = d.reply_code
        {
            parts.push(format!("reply {r}"));
        }
        if parts.is_empty()
            && let Some(e) = d.enhanced_code
        {
            parts.push(format!("enhanced {e}"));
        }
        if rule.relay.is_some()
            && let Some(relay) = d.relay
        {
            parts.push(format!("relay {relay}"));
        }
        if rule.domain.is_some()
            && let Some(domain) = d.domain
        {
            parts.push(format!("domain {domain}"));
        }
        parts.join(", ")
    }
}

fn conditions_hold(rule: &Rule, d: &Diagnosis<'_>, class: Option<u8>) -> bool {
    if let Some(want) = rule.class
        && class != Some(want)
    {
        return false;
    }
    if !rule.reply.is_empty()
        && !d
            .reply_code
            .is_some_and(|r| rule.reply.iter().any(|p| p.matches(r.value())))
    {
        return false;
    }
    if !rule.enhanced.is_empty()
        && !d
            .enhanced_code
            .is_some_and(|e| rule.enhanced.iter().any(|p| p.matches(e)))
    {
        return false;
    }
    if !rule.stage.is_empty() && !d.stage.is_some_and(|s| rule.stage.contains(&s)) {
        return false;
    }
    if let Some(re) = &rule.relay
        && !d.relay.is_some_and(|r| re.is_match(r))
    {
        return false;
    }
    if let Some(re) = &rule.domain
        && !d.domain.is_some_and(|r| re.is_match(r))
    {
        return false;
    }
    true
}

#[cfg(test)]
mod tests;

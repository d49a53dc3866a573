//! A memo of recent verdicts. A deferral storm repeats the same reply for thousands
//! of recipients ("421 4.7.0 [TSS04] Messages from 198.18.13.23 temporarily
//! deferred"), and a verdict depends only on the [`Diagnosis`], so an identical one is
//! answered from here instead of scanning the rule table again.

use std::hash::{Hash, Hasher};

use rustc_hash::{FxHashMap, FxHasher};

use super::{Classifier, Diagnosis};
use crate::codes::{EnhancedCode, ReplyCode};
use crate::model::{SmtpStage, Verdict};

/// Entries per generation: when the young one is full it becomes the old one and the
/// previous old one is dropped, so replies still in use survive the turnover. About
/// 1.5 MB at most per parser thread: larger memos gained little speed on generated
/// logs and made peak memory grow with the log.
const CAPACITY: usize = 2048;

/// Texts longer than this are classified every time: they are rarely repeated, and
/// keeping them would make the memo large.
const MAX_TEXT: usize = 1024;

struct Entry {
    reply_code: Option<ReplyCode>,
    enhanced_code: Option<EnhancedCode>,
    stage: Option<SmtpStage>,
    relay: Option<Box<str>>,
    domain: Option<Box<str>>,
    text: Box<str>,
    verdict: Verdict,
}

impl Entry {
    fn matches(&self, d: &Diagnosis<'_>) -> bool {
        self.reply_code == d.reply_code
            && self.enhanced_code == d.enhanced_code
            && self.stage == d.stage
            && self.relay.as_deref() == d.relay
            && self.domain.as_deref() == d.domain
            && &*self.text == d.text
    }
}

/// One per thread: it is not shared, so it needs no lock.
#[derive(Default)]
pub struct VerdictCache {
    /// Keyed by a hash of the whole diagnosis; the entry holds the diagnosis itself,
    /// so a colliding hash is a miss, never a wrong verdict.
    young: FxHashMap<u64, Entry>,
    old: FxHashMap<u64, Entry>,
}

impl VerdictCache {
    pub fn new() -> VerdictCache {
        VerdictCache::default()
    }

    /// The classifier's verdict for `d`, from the memo when `d` was seen before.
    pub fn classify(&mut self, classifier: &Classifier, d: &Diagnosis<'_>) -> Verdict {
        if d.text.len() > MAX_TEXT {
            return classifier.classify(d);
        }
        let key = hash_of(d);
        if let Some(entry) = self.young.get(&key)
            && entry.matches(d)
        {
            return entry.verdict.clone();
        }
        let entry = match self.old.remove(&key) {
            Some(entry) if entry.matches(d) => entry,
            _ => Entry {
                reply_code: d.reply_code,
                enhanced_code: d.enhanced_code,
                stage: d.stage,
                relay: d.relay.map(Box::from),
                domain: d.domain.map(Box::from),
                text: Box::from(d.text),
                verdict: classifier.classify(d),
            },
        };
        let verdict = entry.verdict.clone();
        if self.young.len() >= CAPACITY {
            self.old = std::mem::take(&mut self.young);
        }
        self.young.insert(key, entry);
        verdict
    }
}

fn hash_of(d: &Diagnosis<'_>) -> u64 {
    let mut h = FxHasher::default();
    d.reply_code.hash(&mut h);
    d.enhanced_code.hash(&mut h);
    d.stage.hash(&mut h);
    d.relay.hash(&mut h);
    d.domain.hash(&mut h);
    d.text.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diagnosis<'a>(text: &'a str, domain: &'a str) -> Diagnosis<'a> {
        let mut d = Diagnosis::from_text(text);
        d.domain = Some(domain);
        d
    }

    #[test]
    fn a_cached_verdict_is_the_classifiers() {
        let classifier = Classifier::builtin();
        let mut cache = VerdictCache::new();
        let texts = [
            "550 5.1.1 <a@example.com>: Recipient address rejected: User unknown",
            "421 4.7.28 Our system has detected an unusual rate of unsolicited mail",
            "451 4.7.1 Greylisted, please try again later",
        ];
        for _ in 0..3 {
            for text in texts {
                for domain in ["gmail.com", "example.com"] {
                    let d = diagnosis(text, domain);
                    assert_eq!(cache.classify(&classifier, &d), classifier.classify(&d));
                }
            }
        }
        assert_eq!(cache.young.len() + cache.old.len(), texts.len() * 2);
    }

    #[test]
    fn the_memo_stays_bounded() {
        let classifier = Classifier::builtin();
        let mut cache = VerdictCache::new();
        for i in 0..CAPACITY * 2 + 7 {
            let text = format!("451 4.3.0 temporary failure {i}");
            cache.classify(&classifier, &diagnosis(&text, "example.com"));
            assert!(cache.young.len() <= CAPACITY && cache.old.len() <= CAPACITY);
        }
    }
}

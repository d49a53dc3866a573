//! A memo of recent verdicts. A deferral storm repeats the same reply for thousands
//! of recipients ("421 4.7.0 [TSS04] Messages from 198.18.13.23 temporarily
//! deferred"), and a verdict depends only on the [`Diagnosis`], so an identical one is
//! answered from here instead of scanning the rule table again.
//!
//! The key holds only what the verdict depends on: the codes, the stage, the remote's
//! own words ([`inner_reply`]: not Postfix's "host X said:" wrapper, which names the
//! relay), and the relay and domain only when some rule tests them. So the same
//! reply from two MX hosts of one provider, or to two domains, is one entry.

use std::hash::{Hash, Hasher};

use rustc_hash::{FxHashMap, FxHasher};

use super::{Classifier, Diagnosis, inner_reply};
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
    fn matches(&self, k: &Key<'_>) -> bool {
        self.reply_code == k.reply_code
            && self.enhanced_code == k.enhanced_code
            && self.stage == k.stage
            && self.relay.as_deref() == k.relay
            && self.domain.as_deref() == k.domain
            && &*self.text == k.text
    }
}

/// The parts of a diagnosis a verdict depends on.
#[derive(Hash)]
struct Key<'a> {
    reply_code: Option<ReplyCode>,
    enhanced_code: Option<EnhancedCode>,
    stage: Option<SmtpStage>,
    relay: Option<&'a str>,
    domain: Option<&'a str>,
    text: &'a str,
}

impl<'a> Key<'a> {
    fn of(classifier: &Classifier, d: &Diagnosis<'a>) -> Key<'a> {
        Key {
            reply_code: d.reply_code,
            enhanced_code: d.enhanced_code,
            stage: d.stage,
            relay: d.relay.filter(|_| classifier.uses_relay()),
            domain: d.domain.filter(|_| classifier.uses_domain()),
            text: inner_reply(d.text),
        }
    }

    fn hash(&self) -> u64 {
        let mut h = FxHasher::default();
        Hash::hash(self, &mut h);
        h.finish()
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
        let k = Key::of(classifier, d);
        let hash = k.hash();
        if let Some(entry) = self.young.get(&hash)
            && entry.matches(&k)
        {
            return entry.verdict.clone();
        }
        let entry = match self.old.remove(&hash) {
            Some(entry) if entry.matches(&k) => entry,
            _ => Entry {
                reply_code: k.reply_code,
                enhanced_code: k.enhanced_code,
                stage: k.stage,
                relay: k.relay.map(Box::from),
                domain: k.domain.map(Box::from),
                text: Box::from(k.text),
                verdict: classifier.classify(d),
            },
        };
        let verdict = entry.verdict.clone();
        if self.young.len() >= CAPACITY {
            self.old = std::mem::take(&mut self.young);
        }
        self.young.insert(hash, entry);
        verdict
    }
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
                    for relay in ["mx1.example.net", "mx2.example.net"] {
                        let wrapped = format!("host {relay}[192.0.2.1] said: {text}");
                        let mut d = diagnosis(&wrapped, domain);
                        d.relay = Some(relay);
                        assert_eq!(cache.classify(&classifier, &d), classifier.classify(&d));
                    }
                }
            }
        }
        // No built-in rule tests the relay or the domain, and the "host X said:"
        // wrapper is not the reply: one entry per reply.
        assert_eq!(cache.young.len() + cache.old.len(), texts.len());
    }

    #[test]
    fn a_rule_on_the_domain_puts_the_domain_in_the_key() {
        let user = crate::classify::rules::parse_rules(
            "[[rule]]\nid = \"mine\"\nreason = \"content_spam\"\ndomain = 'example\\.org$'\n\
             text = 'user unknown'\nsamples = ['550 user unknown']\n",
            "mine.toml",
        )
        .unwrap();
        let classifier = Classifier::with_user_rules(user).unwrap();
        let mut cache = VerdictCache::new();
        let text = "550 5.1.1 user unknown";
        for _ in 0..2 {
            for domain in ["example.org", "example.com"] {
                let d = diagnosis(text, domain);
                assert_eq!(cache.classify(&classifier, &d), classifier.classify(&d));
            }
        }
        let mine = cache.classify(&classifier, &diagnosis(text, "example.org"));
        let other = cache.classify(&classifier, &diagnosis(text, "example.com"));
        assert_eq!((&*mine.rule, &*other.rule == "mine"), ("mine", false));
        assert_eq!(cache.young.len() + cache.old.len(), 2);
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

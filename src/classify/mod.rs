//! Failure classification: (reply code, enhanced code, diagnostic text, relay,
//! recipient domain, SMTP stage) -> [`Verdict`] { bucket, reason, rule, evidence }.
//!
//! Pure and I/O free. The rules live in a table (see [`rules`]); this module compiles
//! their text patterns behind a literal prefilter, so one scan of a reply rules out most,
//! and then walks the table in order: the first rule whose conditions all hold wins.

mod builtin_nfa;
mod cache;
pub mod enhanced_meaning;
pub mod explain;
mod literals;
mod raw;
pub mod rules;
pub mod vocabulary;

use std::sync::{Arc, LazyLock, OnceLock};

use aho_corasick::packed::Searcher;

use crate::codes;
use crate::model::{Bucket, EnhancedCode, Event, ReplyCode, SmtpStage, Verdict};
pub use cache::VerdictCache;
use literals::{LITERAL_MAX, Required};
use rules::TextRegex;
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
    use memchr::memmem::Finder;
    const IN_REPLY: &str = "in reply to ";
    const EXIM: &str = "mail server after ";
    const SENDMAIL: &str = ">>> ";
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
    static ANY: LazyLock<Option<Searcher>> = LazyLock::new(|| {
        let needles = [IN_REPLY, EXIM, SENDMAIL].into_iter();
        Searcher::new(needles.chain(PHRASES.iter().map(|(p, _)| *p)))
    });
    static FINDERS: LazyLock<[Finder<'static>; 3]> =
        LazyLock::new(|| [IN_REPLY, EXIM, SENDMAIL].map(Finder::new));
    static PHRASE_FINDERS: LazyLock<Vec<Finder<'static>>> =
        LazyLock::new(|| PHRASES.iter().map(|(p, _)| Finder::new(p)).collect());
    let b = text.as_bytes();
    if holds_none(&ANY, b) {
        return None;
    }
    let [in_reply, exim, sendmail] = &*FINDERS;
    if let Some(pos) = last_match(in_reply, b) {
        return command_at(&b[pos + IN_REPLY.len()..]);
    }
    if let Some(pos) = exim.find(b)
        && let Some(stage) = command_at(&b[pos + EXIM.len()..])
    {
        return Some(stage);
    }
    if let Some(pos) = last_match(sendmail, b)
        && let Some(stage) = command_at(&b[pos + SENDMAIL.len()..])
    {
        return Some(stage);
    }
    PHRASES
        .iter()
        .zip(PHRASE_FINDERS.iter())
        .find(|(_, finder)| finder.find(b).is_some())
        .map(|((_, stage), _)| *stage)
}

/// The stage of the SMTP command `rest` starts with (any case).
fn command_at(rest: &[u8]) -> Option<SmtpStage> {
    let word = |w: &[u8]| rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w);
    if word(b"RCPT") {
        Some(SmtpStage::Rcpt)
    } else if word(b"MAIL") {
        Some(SmtpStage::Mail)
    } else if word(b"end of DATA") || word(b"DATA") || word(b"BDAT") || word(b"pipelined DATA") {
        Some(SmtpStage::Data)
    } else if word(b"HELO") || word(b"EHLO") || word(b"LHLO") || word(b"STARTTLS") {
        Some(SmtpStage::Helo)
    } else if word(b"initial connection") {
        Some(SmtpStage::Connect)
    } else {
        None
    }
}

/// Whether `any`, a scan for a few needles at once, finds none in `haystack`: most
/// replies hold none of the markers sought, and one SIMD scan for all of them costs a
/// fraction of a search for each. Without one (no SIMD here): not known, false.
fn holds_none(any: &Option<Searcher>, haystack: &[u8]) -> bool {
    any.as_ref().is_some_and(|any| any.find(haystack).is_none())
}

/// Where the last match of a needle starts, as `FinderRev::rfind` finds it, by
/// forward searches: the reverse searcher has no SIMD prefilter and steps through a
/// reply byte by byte, while the needles sought are rare. Each search starts one
/// byte after the match before, so overlapping matches count too.
fn last_match(finder: &memchr::memmem::Finder<'_>, haystack: &[u8]) -> Option<usize> {
    let mut last = None;
    let mut from = 0;
    while let Some(pos) = haystack.get(from..).and_then(|rest| finder.find(rest)) {
        last = Some(from + pos);
        from += pos + 1;
    }
    last
}

/// The remote server's own words: Postfix's `host X[ip] said: ` prefix and
/// "(in reply to ... command)" suffix removed, so patterns never match our own wrapper
/// or the relay's host name.
pub fn inner_reply(text: &str) -> &str {
    use memchr::memmem::Finder;
    // Built once: `str::find` with a string pattern sets up a searcher on every call,
    // which showed in profiles of the classifier.
    const MARKERS: [&str; 4] = [
        " said: ",
        "refused to talk to me: ",
        " (in reply to ",
        " -> ",
    ];
    static ANY: LazyLock<Option<Searcher>> = LazyLock::new(|| Searcher::new(MARKERS));
    static FINDERS: LazyLock<[Finder<'static>; 4]> = LazyLock::new(|| MARKERS.map(Finder::new));
    if holds_none(&ANY, text.as_bytes()) {
        return text.trim();
    }
    let [said, refused, in_reply, arrow] = &*FINDERS;
    let mut inner = text;
    for marker in [said, refused] {
        if let Some(pos) = marker.find(inner.as_bytes()) {
            inner = &inner[pos + marker.needle().len()..];
            break;
        }
    }
    if let Some(pos) = last_match(in_reply, inner.as_bytes()) {
        inner = &inner[..pos];
    }
    // Exchange Online quotes the next hop's refusal after " -> " ("550 5.7.350 Remote
    // server returned message detected as spam -> 554 5.7.1 ... blocked using ..."):
    // the quoted reply is the cause, the wrapper's own words are not.
    if let Some(pos) = arrow.find(inner.as_bytes())
        && inner.as_bytes()[..pos]
            .windows(22)
            .any(|w| w.eq_ignore_ascii_case(b"remote server returned"))
    {
        inner = &inner[pos + arrow.needle().len()..];
    }
    inner.trim()
}

/// A literal prefilter over the rules' patterns. Most patterns can only match where
/// one of a few literals starts ("user unknown|no such user"), or ends; one
/// Aho-Corasick scan of a reply finds every such literal at once, and a rule whose
/// literals are all absent is skipped without running its regex. Patterns with no
/// usable literal (or a non-ASCII one, which ASCII case folding would not cover) are
/// always tried.
///
/// This replaced one `RegexSet` of all patterns: its lazy DFA had to build new states
/// for nearly every new reply, which dominated the cost of classifying varied bounces.
struct Prefilter {
    automaton: Option<Automaton>,
    /// How many rules there are.
    rules: usize,
    /// The rules the automaton does not gate, as a bit set: they may match whatever
    /// literals were found, so each failure tries them.
    ungated: Vec<u64>,
    /// Per rule: its pattern matches exactly its literals (a plain alternation of
    /// phrases), so a literal found is a match and the regex need not run.
    exact: Vec<bool>,
    /// Per rule: every match starts with one of its literals, folded as the pattern
    /// folds case (ASCII). Its pattern is then searched anchored where a literal was
    /// found, not over the whole reply: a shorter walk, and no reverse one for the
    /// start of the match.
    anchored: Vec<bool>,
}

/// What finds the literals.
enum Automaton {
    /// The built-in table's: a DFA made at build time ([`BuiltinDfa`]).
    Builtin,
    /// A user's table and the built-in one, made at run time: a contiguous NFA (a
    /// full DFA walks about 15% faster, but takes 11 ms more to build), and its
    /// pattern id -> rule index.
    Nfa(Box<aho_corasick::nfa::contiguous::NFA>, Vec<usize>),
}

/// Where in a reply a literal of a rule whose matches start with one was found:
/// (rule, start), for [`Prefilter::anchored`] rules.
type Hits = Vec<(usize, usize)>;

impl Prefilter {
    /// `required`: per rule, the literals of its text pattern ([`literals_of`]);
    /// they are not read for the built-in table, whose automaton is made already.
    fn new(rules: &[Rule], required: Vec<Option<Required>>, builtin: bool) -> Prefilter {
        let mut literals = Vec::new();
        let mut literal_rule = Vec::new();
        let mut gated = vec![false; rules.len()];
        let mut exact = vec![false; rules.len()];
        let mut anchored = vec![false; rules.len()];
        for ((i, rule), found) in rules.iter().enumerate().zip(required) {
            let Some(found) = found else {
                continue;
            };
            gated[i] = true;
            exact[i] = found.exact;
            anchored[i] = found.prefix && rule.mode == rules::PatternMode::Ascii;
            for literal in found.literals {
                literals.push(literal);
                literal_rule.push(i);
            }
        }
        let automaton = if builtin {
            Some(Automaton::Builtin)
        } else {
            // The literals are lowercase and the scan lowercases each byte: an
            // automaton that folds case itself has twice the transitions, and
            // building it was most of the classifier's start-up.
            aho_corasick::nfa::contiguous::NFA::builder()
                .prefilter(false)
                .build(&literals)
                .ok()
                .map(|nfa| Automaton::Nfa(Box::new(nfa), literal_rule))
        };
        if automaton.is_none() {
            gated.iter_mut().for_each(|g| *g = false);
            exact.iter_mut().for_each(|e| *e = false);
            anchored.iter_mut().for_each(|a| *a = false);
        }
        let mut ungated = vec![0u64; rules.len().div_ceil(64)];
        for (i, _) in gated.iter().enumerate().filter(|(_, g)| !**g) {
            ungated[i / 64] |= 1 << (i % 64);
        }
        Prefilter {
            automaton,
            rules: rules.len(),
            ungated,
            exact,
            anchored,
        }
    }

    /// Marks in `bits` (one bit per rule index, zeroed) the rules with a literal
    /// present in `text`, and lists in `hits` where the literals of
    /// [`anchored`](Self::anchored) rules start.
    fn mark_candidates(&self, text: &str, bits: &mut [u64], hits: &mut Hits) {
        match &self.automaton {
            Some(Automaton::Builtin) => self.walk(&BuiltinDfa, text, bits, hits),
            Some(Automaton::Nfa(nfa, literal_rule)) => {
                self.walk(&(&**nfa, literal_rule.as_slice()), text, bits, hits);
            }
            None => return,
        }
        // By rule, then start: literals were found by where they end (a shorter one
        // may start later), and one seen by both lanes twice.
        hits.sort_unstable();
        hits.dedup();
    }

    /// A walk of the automaton's states over the text that reads every literal ending
    /// at each byte from the state (the crate's overlapping iterator returns one match
    /// per call, and re-entering it was most of the classifier's time). A long text is
    /// walked as two halves side by side: each walk is a chain of dependent table
    /// lookups, and two independent chains keep the core busier. The second half
    /// starts `LITERAL_MAX - 1` bytes early, so a literal that ends in it lies in it
    /// whole; a literal seen by both halves marks its rule twice, which is harmless,
    /// and is listed once in `hits`. Out of line, so the loops have the registers to
    /// themselves.
    #[inline(never)]
    fn walk<L: LiteralWalk>(&self, ac: &L, text: &str, bits: &mut [u64], hits: &mut Hits) {
        let Some(start) = ac.start() else { return };
        let bytes = text.as_bytes();
        if bytes.len() < 4 * LITERAL_MAX {
            let mut state = start;
            for (at, &byte) in bytes.iter().enumerate() {
                state = ac.next(state, byte);
                if ac.ends_literal(state) {
                    self.mark(ac, state, at + 1, bits, hits);
                }
            }
        } else {
            let mid = bytes.len() / 2;
            let first = &bytes[..mid];
            let offset = mid - (LITERAL_MAX - 1);
            let second = &bytes[offset..];
            let (mut a, mut b) = (start, start);
            for (at, (&x, &y)) in first.iter().zip(second).enumerate() {
                a = ac.next(a, x);
                b = ac.next(b, y);
                if ac.ends_literal(a) {
                    self.mark(ac, a, at + 1, bits, hits);
                }
                if ac.ends_literal(b) {
                    self.mark(ac, b, offset + at + 1, bits, hits);
                }
            }
            for (at, &y) in second.iter().enumerate().skip(first.len()) {
                b = ac.next(b, y);
                if ac.ends_literal(b) {
                    self.mark(ac, b, offset + at + 1, bits, hits);
                }
            }
        }
    }

    /// Marks the rules of the literals that end in `state`, `end` just past the byte
    /// that led to it. Out of line: few bytes end a literal, and the walk's loop keeps
    /// its registers for the states.
    #[inline(never)]
    fn mark<L: LiteralWalk>(
        &self,
        ac: &L,
        state: L::State,
        end: usize,
        bits: &mut [u64],
        hits: &mut Hits,
    ) {
        ac.ending(state, |rule, len| {
            bits[rule / 64] |= 1 << (rule % 64);
            if self.anchored[rule] {
                hits.push((rule, end - len));
            }
        });
    }

    /// Words of the bit set over all rules.
    fn words(&self) -> usize {
        self.rules.div_ceil(64)
    }

    /// Whether rule `i`, having passed, matches without running its regex.
    fn decides(&self, i: usize) -> bool {
        self.exact.get(i).copied().unwrap_or(false)
    }

    /// Whether rule `i`'s pattern is searched where its literals start.
    fn anchored(&self, i: usize) -> bool {
        self.anchored.get(i).copied().unwrap_or(false)
    }
}

/// An automaton that finds the literals of the rules, ASCII case folded.
trait LiteralWalk {
    type State: Copy;
    fn start(&self) -> Option<Self::State>;
    fn next(&self, state: Self::State, byte: u8) -> Self::State;
    /// Whether some literal ends in `state`.
    fn ends_literal(&self, state: Self::State) -> bool;
    /// Calls `found(rule, length)` for each literal that ends in `state`.
    fn ending(&self, state: Self::State, found: impl FnMut(usize, usize));
}

impl LiteralWalk for (&aho_corasick::nfa::contiguous::NFA, &[usize]) {
    type State = aho_corasick::automaton::StateID;

    fn start(&self) -> Option<Self::State> {
        use aho_corasick::automaton::Automaton;
        self.0.start_state(aho_corasick::Anchored::No).ok()
    }

    fn next(&self, state: Self::State, byte: u8) -> Self::State {
        use aho_corasick::automaton::Automaton;
        let lower = byte.to_ascii_lowercase();
        self.0.next_state(aho_corasick::Anchored::No, state, lower)
    }

    fn ends_literal(&self, state: Self::State) -> bool {
        use aho_corasick::automaton::Automaton;
        self.0.is_special(state) && self.0.is_match(state)
    }

    fn ending(&self, state: Self::State, mut found: impl FnMut(usize, usize)) {
        use aho_corasick::automaton::Automaton;
        let (ac, literal_rule) = *self;
        if self.ends_literal(state) {
            for i in 0..ac.match_len(state) {
                let pattern = ac.match_pattern(state, i);
                found(literal_rule[pattern.as_usize()], ac.pattern_len(pattern));
            }
        }
    }
}

/// The built-in table's literal DFA, made by `build.rs` (`literal_dfa`, which
/// describes the parts): states are u16, the start state 0, and those where a
/// literal ends numbered from [`BuiltinDfa::FIRST_MATCH`] on.
struct BuiltinDfa;

macro_rules! dfa_part {
    ($name:literal) => {
        include_bytes!(concat!(env!("OUT_DIR"), "/literal_dfa.", $name))
    };
}

impl BuiltinDfa {
    const CLASSES: [u8; 256] = *dfa_part!("classes");
    const TRANS: &[u8] = dfa_part!("trans");
    const MATCH_START: &[u8] = dfa_part!("match_start");
    const MATCHES: &[u8] = dfa_part!("matches");
    /// Classes per state.
    const STRIDE: usize = {
        let (mut max, mut i) = (0, 0);
        while i < 256 {
            if Self::CLASSES[i] > max {
                max = Self::CLASSES[i];
            }
            i += 1;
        }
        max as usize + 1
    };
    /// The first state where a literal ends: all after it are such states, one
    /// entry each in `MATCH_START`, which has one more past the last.
    const FIRST_MATCH: usize =
        Self::TRANS.len() / 2 / Self::STRIDE - (Self::MATCH_START.len() / 4 - 1);

    /// The little-endian u32 at index `i` of `part`.
    #[inline(always)]
    fn u32_at(part: &[u8], i: usize) -> u32 {
        part.get(i * 4..i * 4 + 4)
            .and_then(|b| b.try_into().ok())
            .map_or(0, u32::from_le_bytes)
    }
}

impl LiteralWalk for BuiltinDfa {
    type State = usize;

    fn start(&self) -> Option<usize> {
        Some(0)
    }

    #[inline(always)]
    fn next(&self, state: usize, byte: u8) -> usize {
        let at = 2 * (state * Self::STRIDE + Self::CLASSES[byte as usize] as usize);
        // The table's states lead to states of its own: out of bounds is a bug.
        let next = &Self::TRANS[at..at + 2];
        u16::from_le_bytes([next[0], next[1]]).into()
    }

    #[inline(always)]
    fn ends_literal(&self, state: usize) -> bool {
        state >= Self::FIRST_MATCH
    }

    fn ending(&self, state: usize, mut found: impl FnMut(usize, usize)) {
        let Some(matching) = state.checked_sub(Self::FIRST_MATCH) else {
            return;
        };
        let from = Self::u32_at(Self::MATCH_START, matching);
        let to = Self::u32_at(Self::MATCH_START, matching + 1);
        for i in from..to {
            let m = Self::u32_at(Self::MATCHES, i as usize);
            found((m >> 8) as usize, (m & 0xff) as usize);
        }
    }
}

/// The literals of a rule's text pattern, worked out now (the built-in table's are
/// worked out at build time, [`rules::builtin_literals`]).
fn literals_of(rule: &Rule) -> Option<Required> {
    let unicode = rule.mode == rules::PatternMode::Unicode;
    literals::required_literals(rule.text.as_deref()?, unicode)
}

/// The leftmost match of rule `i`'s pattern in `inner`, for a rule whose matches
/// start with one of its literals: the first literal found (`hits`, in order) where
/// the pattern matches, searched anchored there.
fn search_at_hits(
    re: &TextRegex,
    i: usize,
    inner: &str,
    hits: &Hits,
) -> Option<regex_automata::Match> {
    hits.iter()
        .filter(|(rule, _)| *rule == i)
        .find_map(|&(_, start)| {
            let input = regex_automata::Input::new(inner.as_bytes())
                .range(start..)
                .anchored(regex_automata::Anchored::Yes);
            re.search(&input)
        })
}

/// The compiled rule table, with how its verdicts are written.
pub struct Classifier {
    /// The built-in table is built on a thread of its own (see
    /// [`Classifier::builtin`]): the first failures are classified only after a batch
    /// of input is read and parsed, and building the table (reading the rules, the
    /// literal automaton) is a fixed cost that otherwise delays the first read. Whoever
    /// needs it first waits for that thread, or builds it if the thread has not begun.
    table: Arc<OnceLock<Table>>,
    /// Whether verdicts carry the matched text (`explain`, `events`); a report does
    /// not show it and saves a second regex search per failure.
    evidence: bool,
    fallback_rule: Arc<str>,
}

/// The rules and what is compiled from them.
struct Table {
    rules: Vec<Rule>,
    /// Each rule's pattern, compiled the first time a reply gets that far.
    text_regex: Vec<OnceLock<Option<TextRegex>>>,
    prefilter: Prefilter,
    /// The rules allowed by their `class` condition, as bit sets over the rules: for
    /// a failure of no class (or another), of class 2, 4 and 5.
    class_masks: [Vec<u64>; 4],
    enhanced_index: EnhancedIndex,
    /// Whether any rule tests the relay or the recipient domain: when none does, a
    /// verdict does not depend on them (the verdict memo leaves them out of its key).
    uses_relay: bool,
    uses_domain: bool,
}

impl Table {
    /// `builtin`: the rules are the built-in table alone.
    fn new(rules: Vec<Rule>, required: Vec<Option<Required>>, builtin: bool) -> Table {
        let text_regex = rules.iter().map(|_| OnceLock::new()).collect();
        let prefilter = Prefilter::new(&rules, required, builtin);
        let words = prefilter.words();
        let class_masks = [None, Some(2), Some(4), Some(5)].map(|class| {
            let mut mask = vec![0u64; words];
            for (i, rule) in rules.iter().enumerate() {
                if rule.class.is_none_or(|want| class == Some(want)) {
                    mask[i / 64] |= 1 << (i % 64);
                }
            }
            mask
        });
        let enhanced_index = EnhancedIndex::new(&rules, words);
        let uses_relay = rules.iter().any(|r| r.relay.is_some());
        let uses_domain = rules.iter().any(|r| r.domain.is_some());
        Table {
            rules,
            text_regex,
            prefilter,
            class_masks,
            enhanced_index,
            uses_relay,
            uses_domain,
        }
    }

    fn builtin() -> Table {
        Table::new(
            rules::parse_builtin().expect("the built-in rule table is valid (tested)"),
            rules::builtin_literals(false),
            true,
        )
    }

    /// The compiled pattern of rule `i`, if it has one.
    fn regex(&self, i: usize) -> Option<&TextRegex> {
        let rule = self.rules.get(i)?;
        self.text_regex
            .get(i)?
            .get_or_init(|| TextRegex::of_rule(rule))
            .as_ref()
    }
}

impl std::fmt::Debug for Classifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Classifier")
            .field("rules", &self.rules().len())
            .finish()
    }
}

impl Classifier {
    /// The built-in table alone, built on a thread of its own while the caller goes
    /// on (if a thread can be started).
    pub fn builtin() -> Classifier {
        let table = Arc::new(OnceLock::new());
        let building = Arc::clone(&table);
        // Without a thread, the first use builds it.
        let _ = std::thread::Builder::new()
            .name("rule table".into())
            .spawn(move || {
                building.get_or_init(Table::builtin);
            });
        Classifier::with_table(table)
    }

    /// User rules in front of the built-in ones.
    pub fn with_user_rules(user: Vec<Rule>) -> Result<Classifier, RuleError> {
        let user_rules = user.len();
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
        let mut required: Vec<_> = all[..user_rules].iter().map(literals_of).collect();
        required.extend(rules::builtin_literals(true));
        Ok(Classifier::from_table(Table::new(all, required, false)))
    }

    pub fn new(rules: Vec<Rule>) -> Classifier {
        let required = rules.iter().map(literals_of).collect();
        Classifier::from_table(Table::new(rules, required, false))
    }

    fn from_table(table: Table) -> Classifier {
        Classifier::with_table(Arc::new(OnceLock::from(table)))
    }

    fn with_table(table: Arc<OnceLock<Table>>) -> Classifier {
        Classifier {
            table,
            evidence: true,
            fallback_rule: Arc::from("fallback.unclassified"),
        }
    }

    /// The table, waiting for it if it is being built. Only the built-in table is
    /// built after the classifier is made, so that is the one to build here.
    fn table(&self) -> &Table {
        self.table.get_or_init(Table::builtin)
    }

    /// Whether some rule tests the relay host.
    pub fn uses_relay(&self) -> bool {
        self.table().uses_relay
    }

    /// Whether some rule tests the recipient domain.
    pub fn uses_domain(&self) -> bool {
        self.table().uses_domain
    }

    /// Turns the evidence text of verdicts on or off (on by default).
    pub fn set_evidence(&mut self, on: bool) {
        self.evidence = on;
    }

    pub fn rules(&self) -> &[Rule] {
        &self.table().rules
    }

    /// Classifies one failure; returns the verdict and the index of the rule that
    /// matched (None for the fallback).
    pub fn classify_indexed(&self, d: &Diagnosis<'_>) -> (Verdict, Option<usize>) {
        let table = self.table();
        let inner = inner_reply(d.text);
        // The bit set lives on the stack for tables of up to 512 rules (the built-in
        // one has about 300): a heap allocation per failure showed in profiles.
        let mut stack = [0u64; 8];
        let mut heap = Vec::new();
        let words = table.prefilter.words();
        let candidates: &mut [u64] = if words <= stack.len() {
            &mut stack[..words]
        } else {
            heap.resize(words, 0);
            &mut heap
        };
        let mut hits = Hits::new();
        table
            .prefilter
            .mark_candidates(inner, candidates, &mut hits);
        let class = d.class();
        let hard = class.is_none_or(|c| c == 5);
        // Cheap tests first, on bit sets: the literals found (or no literal to find)
        // and the class; then, rule by rule in table order, codes, stage, relay and
        // domain; and only then the rule's own pattern.
        let mask = &table.class_masks[match class {
            Some(2) => 1,
            Some(4) => 2,
            Some(5) => 3,
            _ => 0,
        }];
        let enhanced = table.enhanced_index.allowed(d.enhanced_code);
        for (i, ((word, ungated), allowed)) in candidates
            .iter_mut()
            .zip(&table.prefilter.ungated)
            .zip(mask)
            .enumerate()
        {
            *word = (*word | ungated) & allowed & enhanced(i);
        }
        let candidates = &*candidates;
        let set_bits = candidates.iter().enumerate().flat_map(|(w, &bits)| {
            std::iter::successors((bits != 0).then_some(bits), |b| {
                let rest = b & (b - 1);
                (rest != 0).then_some(rest)
            })
            .map(move |b| w * 64 + b.trailing_zeros() as usize)
        });
        for i in set_bits {
            let Some(rule) = table.rules.get(i) else {
                break;
            };
            if !conditions_hold(rule, d) {
                continue;
            }
            // One search gives both the decision and, when wanted, the evidence.
            let mut found = None;
            if rule.text.is_some() && (self.evidence || !table.prefilter.decides(i)) {
                let Some(re) = table.regex(i) else { continue };
                if table.prefilter.anchored(i) {
                    let leftmost = search_at_hits(re, i, inner, &hits);
                    if leftmost.is_none() {
                        continue;
                    }
                    if self.evidence {
                        found = leftmost;
                    }
                } else if self.evidence {
                    found = re.find(inner.as_bytes());
                    if found.is_none() {
                        continue;
                    }
                } else if !re.is_match(inner.as_bytes()) {
                    continue;
                }
            }
            let evidence = match found {
                Some(m) => text_evidence(inner, m.range()),
                None if self.evidence => self.evidence(rule, d),
                None => String::new(),
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

    pub fn classify(&self, d: &Diagnosis<'_>) -> Verdict {
        self.classify_indexed(d).0
    }

    /// Classifies a failure event in place (no-op for deliveries). Its stage is the
    /// one its parser found: each seeks it in the diagnostic as it makes the event
    /// ([`detect_stage`]), and a second search here cost as much again.
    pub fn classify_event(&self, event: &mut Event) {
        if !event.action.is_failure() {
            return;
        }
        // Only a user's rule can test the domain; the built-in table never does.
        let domain = self
            .uses_domain()
            .then(|| crate::model::domain_of(&event.recipient));
        let d = Diagnosis {
            reply_code: event.reply_code,
            enhanced_code: event.enhanced_code,
            text: event.diagnostic.as_deref().unwrap_or(""),
            relay: event.relay_host.as_deref(),
            domain: domain.as_deref(),
            stage: event.smtp_stage,
        };
        event.verdict = Some(self.classify(&d));
    }

    /// The evidence of a rule without a text pattern: the codes and names it tested.
    fn evidence(&self, rule: &Rule, d: &Diagnosis<'_>) -> String {
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

/// `text "..."`: the text a rule's pattern matched, as it stands when the match lies
/// on character boundaries (an ASCII-mode pattern may cut a character). Not by
/// `format!`: its machinery cost more than the rest of writing a verdict.
fn text_evidence(inner: &str, matched: std::ops::Range<usize>) -> String {
    let text = match inner.get(matched.clone()) {
        Some(text) => std::borrow::Cow::Borrowed(text),
        None => String::from_utf8_lossy(&inner.as_bytes()[matched]),
    };
    let mut evidence = String::with_capacity(text.len() + 7);
    evidence.push_str("text \"");
    evidence.push_str(&text);
    evidence.push('"');
    evidence
}

/// The rules an enhanced code can satisfy, by its class and subject: most rules test
/// the enhanced code alone, and one bit-set AND rules out those of other subjects,
/// which the walk over the rules would otherwise visit one by one. It only rules out:
/// [`conditions_hold`] still tests the survivors.
struct EnhancedIndex {
    /// The rules with an `enhanced` condition, as a bit set.
    conditional: Vec<u64>,
    /// (class, subject) -> the rules with a pattern that may match a code of that
    /// class and subject.
    by_subject: rustc_hash::FxHashMap<(u8, u16), Vec<u64>>,
}

impl EnhancedIndex {
    fn new(rules: &[Rule], words: usize) -> EnhancedIndex {
        use rules::EnhancedPattern;
        let mut conditional = vec![0u64; words];
        let mut by_subject = rustc_hash::FxHashMap::default();
        for (i, rule) in rules.iter().enumerate() {
            for pattern in &rule.enhanced {
                conditional[i / 64] |= 1 << (i % 64);
                let (class, subject) = match *pattern {
                    EnhancedPattern::Exact(class, subject, _)
                    | EnhancedPattern::Subject(class, subject) => (class, subject),
                    EnhancedPattern::Range(lo, _) => (Some(lo.class), lo.subject),
                };
                // No class: any of the three.
                for class in [2, 4, 5]
                    .into_iter()
                    .filter(|c| class.is_none_or(|k| k == *c))
                {
                    let mask = by_subject
                        .entry((class, subject))
                        .or_insert_with(|| vec![0u64; words]);
                    mask[i / 64] |= 1 << (i % 64);
                }
            }
        }
        EnhancedIndex {
            conditional,
            by_subject,
        }
    }

    /// Word `i` of the bit set of rules a failure with `code` may satisfy: those of
    /// its class and subject, and those with no `enhanced` condition.
    fn allowed(&self, code: Option<EnhancedCode>) -> impl Fn(usize) -> u64 {
        let subject = code.and_then(|e| self.by_subject.get(&(e.class, e.subject)));
        move |i| !self.conditional[i] | subject.map_or(0, |mask| mask[i])
    }
}

/// The rule's conditions on codes, stage, relay and domain (its class is tested
/// apart, from [`Classifier::class_masks`]).
fn conditions_hold(rule: &Rule, d: &Diagnosis<'_>) -> bool {
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
        && !d.relay.is_some_and(|r| re.is_match(r.as_bytes()))
    {
        return false;
    }
    if let Some(re) = &rule.domain
        && !d.domain.is_some_and(|r| re.is_match(r.as_bytes()))
    {
        return false;
    }
    true
}

#[cfg(test)]
mod tests;

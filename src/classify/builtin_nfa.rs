//! The built-in table's text patterns, compiled to NFAs by `build.rs`: parsing a
//! pattern and compiling its NFAs was nearly all the cost of the first use of a rule
//! (about 640,000 instructions each, for the 70-odd rules a run typically reaches).
//! Here the NFAs are rebuilt state by state and searched with the lazy DFAs the
//! regex engine's meta regex would search them with (its other engines are only
//! fallbacks for when a lazy DFA gives up, which these never do: no Unicode word
//! boundary, no give-up threshold).
//!
//! Per NFA, forward then reverse: u32 anchored start, u32 unanchored start, u32 state
//! count, then per state a tag and its fields, little-endian: 0 byte range (start,
//! end, u32 next); 1 sparse (u32 count, ranges as in 0); 2 look (u32 repr, u32 next);
//! 3 union (u32 count, u32 alternates); 4 fail; 5 match. A test checks that every
//! built-in pattern's NFAs come back as the compiler builds them from the text.

use std::panic::{RefUnwindSafe, UnwindSafe};
use std::sync::{Arc, OnceLock};

use regex_automata::hybrid::dfa;
use regex_automata::hybrid::regex::{Cache, Regex};
use regex_automata::nfa::thompson::{Builder, NFA, Transition};
use regex_automata::util::look::Look;
use regex_automata::util::pool::Pool;
use regex_automata::util::primitives::StateID;
use regex_automata::{Anchored, Input, Match, MatchKind};

type CacheFn = Box<dyn Fn() -> Cache + Send + Sync + UnwindSafe + RefUnwindSafe>;

type DfaCacheFn = Box<dyn Fn() -> dfa::Cache + Send + Sync + UnwindSafe + RefUnwindSafe>;
/// The forward lazy DFA, and its caches.
type Forward = (Arc<dfa::DFA>, Pool<dfa::Cache, DfaCacheFn>);
/// Both lazy DFAs, and their caches.
type Both = (Arc<Regex>, Pool<Cache, CacheFn>);

/// A built-in pattern's lazy DFAs, each built at first need with a cache per thread:
/// anchored searches (the classifier's, for a pattern whose every match starts with
/// one of its literals) and `is_match` need only the forward one.
pub struct BuiltinRegex {
    nfas: &'static [u8],
    cache_capacity: usize,
    forward: OnceLock<Option<Forward>>,
    both: OnceLock<Option<Both>>,
}

impl std::fmt::Debug for BuiltinRegex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuiltinRegex").finish_non_exhaustive()
    }
}

impl BuiltinRegex {
    /// The regex of the NFAs in `nfas`, its lazy DFAs' caches at most
    /// `cache_capacity` bytes.
    pub fn new(nfas: &'static [u8], cache_capacity: usize) -> BuiltinRegex {
        BuiltinRegex {
            nfas,
            cache_capacity,
            forward: OnceLock::new(),
            both: OnceLock::new(),
        }
    }

    fn config(&self) -> dfa::Config {
        dfa::Config::new()
            .match_kind(MatchKind::LeftmostFirst)
            .cache_capacity(self.cache_capacity)
    }

    fn forward(&self) -> Option<&Forward> {
        self.forward
            .get_or_init(|| {
                let nfa = Reader(self.nfas).nfa(false)?;
                let fwd = dfa::Builder::new()
                    .configure(self.config())
                    .build_from_nfa(nfa)
                    .ok()?;
                let fwd = Arc::new(fwd);
                let shared = Arc::clone(&fwd);
                let create: DfaCacheFn = Box::new(move || shared.create_cache());
                Some((fwd, Pool::new(create)))
            })
            .as_ref()
    }

    fn both(&self) -> Option<&Both> {
        self.both
            .get_or_init(|| {
                let (forward, reverse) = decode(self.nfas)?;
                let fwd = dfa::Builder::new()
                    .configure(self.config())
                    .build_from_nfa(forward)
                    .ok()?;
                // As the meta regex finds the start of a match: the longest match
                // backwards.
                let rev = dfa::Builder::new()
                    .configure(self.config().match_kind(MatchKind::All))
                    .build_from_nfa(reverse)
                    .ok()?;
                let regex = Arc::new(Regex::builder().build_from_dfas(fwd, rev));
                let shared = Arc::clone(&regex);
                let create: CacheFn = Box::new(move || shared.create_cache());
                Some((regex, Pool::new(create)))
            })
            .as_ref()
    }

    /// The leftmost-first match in `input`. The lazy DFAs fail only on quit bytes
    /// (none: no Unicode word boundary) or when they give up (never configured to):
    /// such a search finds nothing.
    pub fn search(&self, input: &Input<'_>) -> Option<Match> {
        if input.get_anchored() == Anchored::Yes {
            // As the meta regex's lazy DFAs search: the start is the search's.
            let (fwd, caches) = self.forward()?;
            let end = fwd.try_search_fwd(&mut caches.get(), input).ok()??;
            return Some(Match::new(end.pattern(), input.start()..end.offset()));
        }
        let (regex, caches) = self.both()?;
        regex.try_search(&mut caches.get(), input).ok()?
    }

    pub fn is_match(&self, haystack: &[u8]) -> bool {
        let input = Input::new(haystack).earliest(true);
        self.forward().is_some_and(|(fwd, caches)| {
            matches!(fwd.try_search_fwd(&mut caches.get(), &input), Ok(Some(_)))
        })
    }
}

/// The forward and reverse NFAs in `code`.
pub fn decode(code: &[u8]) -> Option<(NFA, NFA)> {
    let mut reader = Reader(code);
    let forward = reader.nfa(false)?;
    let reverse = reader.nfa(true)?;
    reader.0.is_empty().then_some((forward, reverse))
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn u8(&mut self) -> Option<u8> {
        let (&first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(first)
    }

    fn u32(&mut self) -> Option<u32> {
        let (head, rest) = self.0.split_first_chunk::<4>()?;
        self.0 = rest;
        Some(u32::from_le_bytes(*head))
    }

    fn id(&mut self) -> Option<StateID> {
        StateID::new(self.u32()? as usize).ok()
    }

    fn transition(&mut self) -> Option<Transition> {
        Some(Transition {
            start: self.u8()?,
            end: self.u8()?,
            next: self.id()?,
        })
    }

    /// States are added in the order written, so their ids are the ones written.
    fn nfa(&mut self, reverse: bool) -> Option<NFA> {
        let mut builder = Builder::new();
        builder.set_utf8(false);
        builder.set_reverse(reverse);
        let (start_anchored, start_unanchored) = (self.id()?, self.id()?);
        let states = self.u32()?;
        builder.start_pattern().ok()?;
        for _ in 0..states {
            match self.u8()? {
                0 => builder.add_range(self.transition()?),
                1 => {
                    let count = self.u32()?;
                    let ranges = (0..count).map(|_| self.transition());
                    builder.add_sparse(ranges.collect::<Option<_>>()?)
                }
                2 => {
                    let look = Look::from_repr(self.u32()?)?;
                    builder.add_look(self.id()?, look)
                }
                3 => {
                    let count = self.u32()?;
                    let alternates = (0..count).map(|_| self.id());
                    builder.add_union(alternates.collect::<Option<_>>()?)
                }
                4 => builder.add_fail(),
                5 => builder.add_match(),
                _ => return None,
            }
            .ok()?;
        }
        builder.finish_pattern(start_anchored).ok()?;
        builder.build(start_anchored, start_unanchored).ok()
    }
}

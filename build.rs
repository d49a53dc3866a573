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
    // (literal, rule) for the prefilter's DFA.
    let mut gate = Vec::new();
    let (mut line, mut counted) = (1, 0);
    for (rule, spanned) in table.rule.iter().enumerate() {
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
                gate.extend(l.literals.iter().map(|b| (b.clone(), rule)));
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
        let nfa = match r.text.as_deref() {
            None => "None".to_string(),
            Some(p) => format!("Some(b\"{}\")", encode_pattern(p).escape_ascii()),
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
             samples: &[{}], note: {}, literals: {literals}, nfa: {nfa} }},",
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
    let dir = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap());
    std::fs::write(dir.join("builtin_rules.rs"), out).expect("write builtin_rules.rs");
    let dfa = literal_dfa(&gate);
    for (name, bytes) in [
        ("classes", dfa.classes.to_vec()),
        (
            "trans",
            dfa.trans.iter().flat_map(|t| t.to_le_bytes()).collect(),
        ),
        (
            "match_start",
            dfa.match_start
                .iter()
                .flat_map(|m| m.to_le_bytes())
                .collect(),
        ),
        (
            "matches",
            dfa.matches.iter().flat_map(|m| m.to_le_bytes()).collect(),
        ),
    ] {
        std::fs::write(dir.join(format!("literal_dfa.{name}")), bytes).expect("write the DFA");
    }
}

/// The prefilter's automaton over the built-in literals: an Aho-Corasick automaton
/// with every transition filled in (a DFA), read by `classify::BuiltinDfa`. Built
/// at run time, Aho-Corasick's own NFA took 13M instructions, half the start-up left.
struct Dfa {
    /// Byte -> class: each byte of a literal has its own, an upper-case letter its
    /// lower case's, and all other bytes class 0.
    classes: [u8; 256],
    /// State * classes + class -> next state. States are numbered breadth first, so
    /// the states a walk stays in most (near the root, 0) share a few pages; those
    /// where a literal ends come after all others.
    trans: Vec<u16>,
    /// Per state where a literal ends, in order, and one past the last: where its
    /// matches start in `matches`.
    match_start: Vec<u32>,
    /// Each literal that ends in a state, as rule << 8 | length.
    matches: Vec<u32>,
}

fn literal_dfa(literals: &[(Vec<u8>, usize)]) -> Dfa {
    let mut classes = [0u8; 256];
    let mut count = 1;
    for (literal, _) in literals {
        for &b in literal {
            if classes[b as usize] == 0 {
                classes[b as usize] = count;
                count += 1;
            }
        }
    }
    for b in b'A'..=b'Z' {
        classes[b as usize] = classes[b.to_ascii_lowercase() as usize];
    }
    let stride = count as usize;
    // The trie, 0 its root; u32::MAX: no child.
    let mut trie = vec![u32::MAX; stride];
    let mut own: Vec<Vec<u32>> = vec![Vec::new()];
    for (literal, rule) in literals {
        let mut state = 0;
        for &b in literal {
            let slot = state * stride + classes[b as usize] as usize;
            if trie[slot] == u32::MAX {
                trie[slot] = own.len() as u32;
                trie.extend(std::iter::repeat_n(u32::MAX, stride));
                own.push(Vec::new());
            }
            state = trie[slot] as usize;
        }
        assert!(*rule < 1 << 24 && literal.len() < 256);
        own[state].push((*rule as u32) << 8 | literal.len() as u32);
    }
    // Breadth first: fill the missing transitions from the failure state's, and add
    // its matches (a suffix of the state's string) to the state's.
    let states = own.len();
    assert!(states <= 1 << 16, "too many states for u16");
    let mut order = vec![0usize];
    let mut fail = vec![0usize; states];
    let mut head = 0;
    while head < order.len() {
        let state = order[head];
        head += 1;
        if state != 0 {
            let inherited = own[fail[state]].clone();
            own[state].extend(inherited);
        }
        for class in 0..stride {
            let slot = state * stride + class;
            let via_fail = if state == 0 {
                0
            } else {
                trie[fail[state] * stride + class]
            };
            if trie[slot] == u32::MAX {
                trie[slot] = via_fail;
            } else {
                let child = trie[slot] as usize;
                fail[child] = via_fail as usize;
                order.push(child);
            }
        }
    }
    // The states with matches last, so the walk tells them by number alone.
    let (plain, matching): (Vec<usize>, Vec<usize>) =
        order.into_iter().partition(|&s| own[s].is_empty());
    assert_eq!(plain.first(), Some(&0), "the root has no match");
    let order = [plain, matching].concat();
    let mut number = vec![0u16; states];
    for (new, &old) in order.iter().enumerate() {
        number[old] = new as u16;
    }
    let mut trans = Vec::with_capacity(states * stride);
    let mut match_start = vec![0];
    let mut matches = Vec::new();
    for &old in &order {
        trans.extend(
            trie[old * stride..][..stride]
                .iter()
                .map(|&t| number[t as usize]),
        );
        if !own[old].is_empty() {
            matches.extend(&own[old]);
            match_start.push(matches.len() as u32);
        }
    }
    Dfa {
        classes,
        trans,
        match_start,
        matches,
    }
}

/// A built-in text pattern's automata, forward and reverse, compiled as the
/// regex engine compiles the pattern at run time (case-insensitive, ASCII, any
/// bytes), written in the format `classify::builtin_nfa` reads.
fn encode_pattern(pattern: &str) -> Vec<u8> {
    use regex_automata::nfa::thompson::{Compiler, Config, WhichCaptures};
    use regex_automata::util::syntax;
    let syntax = syntax::Config::new()
        .case_insensitive(true)
        .unicode(false)
        .utf8(false);
    // No capture states: the lazy DFAs that search them skip those anyway.
    let config = Config::new()
        .utf8(false)
        .shrink(false)
        .which_captures(WhichCaptures::None);
    let mut out = Vec::new();
    for reverse in [false, true] {
        let nfa = Compiler::new()
            .syntax(syntax)
            .configure(config.clone().reverse(reverse))
            .build(pattern)
            .unwrap_or_else(|e| panic!("{RULES}: {pattern:?}: {e}"));
        encode_nfa(&nfa, &mut out);
    }
    out
}

fn encode_nfa(nfa: &regex_automata::nfa::thompson::NFA, out: &mut Vec<u8>) {
    use regex_automata::nfa::thompson::{State, Transition};
    let id = |out: &mut Vec<u8>, id: regex_automata::util::primitives::StateID| {
        out.extend(id.as_u32().to_le_bytes())
    };
    let count = |out: &mut Vec<u8>, n: usize| out.extend(u32::try_from(n).unwrap().to_le_bytes());
    let transition = |out: &mut Vec<u8>, t: &Transition| {
        out.extend([t.start, t.end]);
        id(out, t.next);
    };
    assert_eq!(nfa.pattern_len(), 1);
    id(out, nfa.start_anchored());
    id(out, nfa.start_unanchored());
    count(out, nfa.states().len());
    for state in nfa.states() {
        match state {
            State::ByteRange { trans } => {
                out.push(0);
                transition(out, trans);
            }
            State::Sparse(sparse) => {
                out.push(1);
                count(out, sparse.transitions.len());
                for t in sparse.transitions.iter() {
                    transition(out, t);
                }
            }
            State::Look { look, next } => {
                out.push(2);
                out.extend(look.as_repr().to_le_bytes());
                id(out, *next);
            }
            State::BinaryUnion { alt1, alt2 } => {
                out.push(3);
                count(out, 2);
                id(out, *alt1);
                id(out, *alt2);
            }
            State::Union { alternates } => {
                out.push(3);
                count(out, alternates.len());
                for alt in alternates.iter() {
                    id(out, *alt);
                }
            }
            State::Fail => out.push(4),
            State::Match { .. } => out.push(5),
            State::Dense(_) | State::Capture { .. } => panic!("unexpected NFA state {state:?}"),
        }
    }
}

/// An optional string as a Rust expression.
fn opt(s: &Option<String>) -> String {
    match s {
        Some(s) => format!("Some({s:?})"),
        None => "None".to_string(),
    }
}

//! The literals the classifier's prefilter gates each text pattern on. Shared with
//! `build.rs`, which works them out for the built-in table at build time: parsing
//! every pattern for them was a third of the classifier's start-up.

/// Longest literal the prefilter keeps: a piece of a required literal is required too,
/// and a bound on the length lets the scan split a text into lanes (see
/// the classifier's `Prefilter::mark_candidates`).
pub const LITERAL_MAX: usize = 32;

/// The literals a pattern's matches start (or end) with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Required {
    pub literals: Vec<Vec<u8>>,
    /// The pattern matches these literals and nothing else (case aside).
    pub exact: bool,
    /// Every match starts with one of the literals (else: ends with one).
    pub prefix: bool,
}

/// Literals one of which every match of `pattern` starts with (or, when the
/// prefixes are too short to help, ends with), lowercased and at most
/// [`LITERAL_MAX`] bytes; `None` when there is no such small set of ASCII literals of
/// three bytes or more.
pub fn required_literals(pattern: &str, unicode: bool) -> Option<Required> {
    use regex_syntax::hir::literal::ExtractKind;
    // Case as written: the literals are lowercased and the scan folds ASCII case.
    // Parsed as the pattern is compiled: in ASCII mode a class such as `\w` is a few
    // ranges, where its Unicode table made parsing most of the classifier's build.
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(unicode)
        .utf8(false)
        .build()
        .parse(pattern)
        .ok()?;
    // Literal extraction reads a look-around (`\b`, `^`) as an empty string, so a
    // pattern with one is never exact, whatever the extractor says.
    let no_look = hir.properties().look_set().is_empty();
    let prefixes = extracted(&hir, ExtractKind::Prefix).map(|(l, exact)| {
        // A literal cut short is still required, but no longer the whole match.
        let exact = exact && no_look && l.iter().all(|b| b.len() <= LITERAL_MAX);
        let cut = l
            .into_iter()
            .map(|b| b[..b.len().min(LITERAL_MAX)].to_vec());
        (cut.collect(), exact)
    });
    // "8.bit data": a one-byte prefix, but every match ends with "bit data".
    let prefix = prefixes.is_some();
    let (mut literals, exact): (Vec<Vec<u8>>, bool) = prefixes.or_else(|| {
        extracted(&hir, ExtractKind::Suffix).map(|(l, _)| {
            let cut = l
                .into_iter()
                .map(|b| b[b.len().saturating_sub(LITERAL_MAX)..].to_vec());
            (cut.collect(), false)
        })
    })?;
    literals.sort();
    literals.dedup();
    Some(Required {
        literals,
        exact,
        prefix,
    })
}

/// The literals of one kind extracted from a pattern, lowercased, and whether they
/// are all the pattern matches; `None` when one of them is shorter than three bytes
/// or not ASCII (or there are none).
fn extracted(
    hir: &regex_syntax::hir::Hir,
    kind: regex_syntax::hir::literal::ExtractKind,
) -> Option<(Vec<Vec<u8>>, bool)> {
    let seq = regex_syntax::hir::literal::Extractor::new()
        .kind(kind)
        .extract(hir);
    let literals = seq.literals()?;
    if literals.is_empty()
        || literals
            .iter()
            .any(|l| l.as_bytes().len() < 3 || !l.as_bytes().is_ascii())
    {
        return None;
    }
    let lowered = literals
        .iter()
        .map(|l| l.as_bytes().to_ascii_lowercase())
        .collect();
    Some((lowered, seq.is_exact()))
}

//! The key set of every directive (docs/scenarios.md, "Directives") and the typo errors the
//! three runners word identically (Rust here, python-node/tests/scenario/parse.py, Java
//! `ScenarioScript`): an unknown directive, an unknown key, a missing key, each with a
//! did-you-mean when a known name is at most two edits away. The key lists come from
//! `scenarios/grammar.spec` (see [`super::grammar`]).

use super::grammar::grammar;

/// Checks the keys of a directive line (`name`, keys in the order written) or, with `name ==
/// "entry"`, of an entry line, against the grammar (whose order decides which missing key is
/// named first and which suggestion wins a tie). Errors, first found first: the grammar's own
/// (`scenarios/grammar.spec:LINE: ...`), `unknown directive `tikc` (did you mean `tick`?)`,
/// `unknown key `nwo` for `tick` (did you mean `now`?)`, `missing key `now` for `tick``.
pub fn check_keys(name: &str, keys: &[&str]) -> Result<(), String> {
    let grammar = grammar()?;
    let Some(spec) = grammar.spec(name) else {
        let names = grammar.directives.iter().map(|(n, _)| n.as_str());
        return Err(format!(
            "unknown directive `{name}`{}",
            did_you_mean(name, names)
        ));
    };
    let (required, optional) = (&spec.required, &spec.optional);
    let known = || required.iter().chain(optional).map(String::as_str);
    for key in keys {
        if !known().any(|k| k == *key) {
            let unused = known().filter(|k| !keys.contains(k));
            return Err(format!(
                "unknown key `{key}` for `{name}`{}",
                did_you_mean(key, unused)
            ));
        }
    }
    match required.iter().find(|k| !keys.contains(&k.as_str())) {
        Some(k) => Err(missing_key(k, name)),
        None => Ok(()),
    }
}

/// Whether entry lines may follow directive `name` (false for an unknown one).
pub fn takes_entries(name: &str) -> bool {
    grammar()
        .ok()
        .and_then(|g| g.spec(name))
        .is_some_and(|s| s.entries)
}

/// `missing key `now` for `tick``.
pub fn missing_key(key: &str, name: &str) -> String {
    format!("missing key `{key}` for `{name}`")
}

/// ` (did you mean `x`?)` for the first candidate nearest to `word`, if it is at most two
/// edits away; otherwise empty.
fn did_you_mean<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = edit_distance(word, c);
        if d <= 2 && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map_or(String::new(), |(_, c)| format!(" (did you mean `{c}`?)"))
}

/// Levenshtein distance between `a` and `b` (characters).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

//! Reading `scenarios/grammar.spec`, the one source of every directive's key lists
//! (docs/scenarios.md, "Directives"), shared with the Python and Java runners.
//!
//! A line is `name required optional entries` (whitespace-separated; keys comma-separated in
//! the order of docs/scenarios.md, `-` for none; `entries` is `yes` or `no`); the line named
//! `entry` gives the keys of entry lines. Blank lines and `#` lines are skipped.

use std::sync::OnceLock;

/// The grammar file, relative to the repository root (the name its errors use).
pub const GRAMMAR_PATH: &str = "scenarios/grammar.spec";

const GRAMMAR_TEXT: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/scenarios/grammar.spec"
));

/// The keys of one directive (or of entry lines), in the order written in the grammar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub required: Vec<String>,
    pub optional: Vec<String>,
    /// Whether entry lines may follow the directive line.
    pub entries: bool,
}

/// Every directive in the grammar's order (the order of did-you-mean tie-breaks), and the
/// keys of entry lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grammar {
    pub directives: Vec<(String, Spec)>,
    pub entry: Spec,
}

impl Grammar {
    /// The spec of directive `name`, or of entry lines when `name == "entry"`.
    pub fn spec(&self, name: &str) -> Option<&Spec> {
        if name == "entry" {
            return Some(&self.entry);
        }
        self.directives
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s)
    }
}

/// The repository's grammar, parsed once. Errors: `scenarios/grammar.spec:LINE: message`.
pub fn grammar() -> Result<&'static Grammar, String> {
    static GRAMMAR: OnceLock<Result<Grammar, String>> = OnceLock::new();
    GRAMMAR
        .get_or_init(|| parse_grammar(GRAMMAR_PATH, GRAMMAR_TEXT))
        .as_ref()
        .map_err(Clone::clone)
}

/// Parses grammar text read from `path`. Errors, as `path:LINE: message`: a line without four
/// columns, a bad directive or key name, a key listed twice in a line, an entries column not
/// `yes`/`no`, a directive listed twice, `entry` taking entry lines, no `entry` line or no
/// directive (named at the last line).
pub fn parse_grammar(path: &str, text: &str) -> Result<Grammar, String> {
    let mut directives: Vec<(String, Spec)> = Vec::new();
    let mut entry = None;
    let mut last = 1;
    for (i, line) in text.lines().enumerate() {
        last = i + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, spec) = parse_line(line).map_err(|m| format!("{path}:{last}: {m}"))?;
        let taken =
            (name == "entry" && entry.is_some()) || directives.iter().any(|(n, _)| *n == name);
        if taken {
            return Err(format!("{path}:{last}: directive `{name}` listed twice"));
        }
        match name.as_str() {
            "entry" if spec.entries => {
                return Err(format!("{path}:{last}: `entry` lines take no entry lines"))
            }
            "entry" => entry = Some(spec),
            _ => directives.push((name, spec)),
        }
    }
    match entry {
        None => Err(format!("{path}:{last}: no `entry` line")),
        Some(_) if directives.is_empty() => Err(format!("{path}:{last}: no directive")),
        Some(entry) => Ok(Grammar { directives, entry }),
    }
}

/// One data line: `name required optional entries`.
fn parse_line(line: &str) -> Result<(String, Spec), String> {
    let cols: Vec<&str> = line.split_whitespace().collect();
    let &[name, required, optional, entries] = cols.as_slice() else {
        return Err(format!(
            "expected 4 columns (name required optional entries), got {}",
            cols.len()
        ));
    };
    let name_ok = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c == '-');
    if !name_ok {
        return Err(format!("`{name}`: not a directive name (a-z and -)"));
    }
    let required = key_list(required)?;
    let optional = key_list(optional)?;
    let all = || required.iter().chain(&optional);
    if let Some(k) = all()
        .enumerate()
        .find_map(|(i, k)| all().skip(i + 1).find(|x| *x == k))
    {
        return Err(format!("key `{k}` listed twice for `{name}`"));
    }
    let entries = match entries {
        "yes" => true,
        "no" => false,
        other => return Err(format!("`{other}`: expected yes or no (takes entry lines)")),
    };
    let spec = Spec {
        required,
        optional,
        entries,
    };
    Ok((name.to_string(), spec))
}

/// `a,b,c` (or `-` for none); every key is `[a-z][a-z_]*`.
fn key_list(col: &str) -> Result<Vec<String>, String> {
    if col == "-" {
        return Ok(Vec::new());
    }
    col.split(',')
        .map(|k| {
            let ok = k.starts_with(|c: char| c.is_ascii_lowercase())
                && k.chars().all(|c| c.is_ascii_lowercase() || c == '_');
            match ok {
                true => Ok(k.to_string()),
                false => Err(format!("`{k}`: not a key name (a-z and _)")),
            }
        })
        .collect()
}

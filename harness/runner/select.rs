//! Which files of a `run` invocation are suites: folders become their `*.toml`
//! files (sorted, not recursive), kind files are skipped, every other file must
//! load as a suite (else exit 2, every error named), and `--filter` keeps the
//! suites whose name or path contains one of its substrings.
use crate::spec::{self, Spec};
use std::path::{Path, PathBuf};

/// One suite to run: the path as the user wrote it (for `rerun:` lines) and
/// its loaded spec.
#[derive(Debug, Clone)]
pub struct Suite {
    pub file: PathBuf,
    pub spec: Spec,
}

impl Suite {
    /// The suite needs its own ports as written: a kind passes peers as plain
    /// `HOST:PORT` (`{peer_addrs}` in its command, a node's args or an
    /// environment value), and servers of the original protocol derive their
    /// id from the port (PORT-5000), so a port offset would give wrong ids.
    pub fn fixed_ports(&self) -> bool {
        fixed_ports(&self.spec)
    }
}

/// Whether `spec` cannot be moved to other ports (see [`Suite::fixed_ports`]).
pub fn fixed_ports(spec: &Spec) -> bool {
    spec.nodes.iter().any(|n| {
        let kind = &spec.kinds[&n.kind];
        let env = kind.env.iter().chain(n.env.iter()).map(|(_, v)| v);
        kind.command
            .iter()
            .chain(n.args.iter())
            .chain(env)
            .any(|a| a.contains("{peer_addrs}"))
    })
}

/// The outcome of selecting: suites in order, kind files skipped, and how
/// many suites `--filter` left out.
#[derive(Debug, Default)]
pub struct Selection {
    pub suites: Vec<Suite>,
    pub kind_files: Vec<PathBuf>,
    pub filtered_out: usize,
    /// Files given again (as written, with the first spelling kept): run once.
    pub given_twice: Vec<(PathBuf, PathBuf)>,
}

impl Selection {
    /// One line naming the files given twice and saying they run once; None when none was.
    pub fn given_twice_note(&self) -> Option<String> {
        let pairs: Vec<String> = self
            .given_twice
            .iter()
            .take(3)
            .map(|(again, first)| format!("{} (= {})", again.display(), first.display()))
            .collect();
        let more = self.given_twice.len().saturating_sub(pairs.len());
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        (!pairs.is_empty()).then(|| format!("given twice, run once: {}{more}", pairs.join(", ")))
    }
}

/// A file with `[kind.*]` tables and none of `[[node]]`, `[[step]]`,
/// `[workload]` is a kind file (shared kinds, included by suites), not a
/// suite. `None` when the text is not TOML at all (the loader then says why).
pub fn is_kind_file(text: &str) -> Option<bool> {
    let table: toml::Table = text.parse().ok()?;
    let has = |k: &str| table.contains_key(k);
    Some(has("kind") && !has("node") && !has("step") && !has("workload"))
}

/// Expand folders to their `*.toml` files, sorted by name. A folder without
/// any is an error naming it.
fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        if !p.is_dir() {
            out.push(p.clone());
            continue;
        }
        let entries = std::fs::read_dir(p).map_err(|e| format!("{}: {e}", p.display()))?;
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|f| f.extension().is_some_and(|x| x == "toml") && f.is_file())
            .collect();
        if files.is_empty() {
            return Err(format!("{}: the folder holds no .toml file", p.display()));
        }
        files.sort();
        out.extend(files);
    }
    Ok(out)
}

/// Keeps the first of the files that are one file (the same canonical path: `a.toml` and
/// `./a.toml`, a link to it, or a folder holding it); returns the kept files and each one
/// given again with the spelling kept. A path that cannot be resolved is kept (the loader
/// names it).
fn once(files: Vec<PathBuf>) -> (Vec<PathBuf>, Vec<(PathBuf, PathBuf)>) {
    let mut seen: std::collections::HashMap<PathBuf, PathBuf> = Default::default();
    let (mut kept, mut again) = (Vec::new(), Vec::new());
    for f in files {
        let Ok(canon) = std::fs::canonicalize(&f) else {
            kept.push(f);
            continue;
        };
        match seen.get(&canon) {
            Some(first) => again.push((f, first.clone())),
            None => {
                seen.insert(canon, f.clone());
                kept.push(f);
            }
        }
    }
    (kept, again)
}

/// A kind file by its content; anything unreadable or not TOML is left to
/// the loader, whose error names file, line and column.
fn kind_file(path: &Path) -> bool {
    let small =
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() <= spec::MAX_FILE_BYTES);
    small
        && std::fs::read_to_string(path)
            .ok()
            .and_then(|t| is_kind_file(&t))
            .unwrap_or(false)
}

/// For a command that takes one suite (`run FILE`, `clean`, `compose`)
/// given a kind file: the error saying so and how kind files are
/// used; None for any other file (the loader judges it).
pub fn not_a_suite(path: &Path) -> Option<String> {
    if !kind_file(path) {
        return None;
    }
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| ".".to_string(), |p| p.display().to_string());
    Some(format!(
        "error: {}: this is a kind file (only [kind.NAME] tables: how to build and start each node program), not a suite: it has no [[node]], [[step]] or [workload]\n  \
         suites use it with `include = [\"{name}\"]`; run a suite that does (e.g. `raft-harness run {folder}/failover.toml`), or a whole folder (`raft-harness run {folder}/`, which skips kind files)",
        path.display()
    ))
}

/// The files `validate PATH...` looks at: folders expanded as `run` does,
/// each file marked as a kind file (skipped, like `run` skips it) or not.
/// Err names a folder that cannot be read or holds no `.toml` file (exit 2).
pub fn files_to_validate(paths: &[PathBuf]) -> Result<Vec<(PathBuf, bool)>, String> {
    Ok(expand(paths)?
        .into_iter()
        .map(|f| {
            let k = kind_file(&f);
            (f, k)
        })
        .collect())
}

/// Whether a suite passes the filters (none: every suite does).
fn wanted(s: &Suite, filters: &[String]) -> bool {
    filters.is_empty()
        || filters.iter().any(|f| {
            s.spec.name.contains(f.as_str()) || s.file.to_string_lossy().contains(f.as_str())
        })
}

/// Select the suites of `paths` (files or folders), each file once however often it is
/// given ([`Selection::given_twice`]). Err carries every load
/// error, each naming its file, line and column (exit 2): no file that fails
/// to parse is skipped silently.
pub fn select(paths: &[PathBuf], filters: &[String]) -> Result<Selection, Vec<String>> {
    let (files, given_twice) = once(expand(paths).map_err(|e| vec![e])?);
    let mut sel = Selection {
        given_twice,
        ..Selection::default()
    };
    let mut errors = Vec::new();
    for f in files {
        if kind_file(&f) {
            sel.kind_files.push(f);
            continue;
        }
        match spec::load(&f) {
            Ok(spec) => {
                let s = Suite { file: f, spec };
                if wanted(&s, filters) {
                    sel.suites.push(s);
                } else {
                    sel.filtered_out += 1;
                }
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut names = std::collections::BTreeMap::new();
    for s in &sel.suites {
        if let Some(other) = names.insert(s.spec.name.clone(), s.file.clone()) {
            errors.push(format!(
                "{} and {}: both suites are named `{}`; their reports would share a folder (set `name` in one of them)",
                other.display(),
                s.file.display(),
                s.spec.name
            ));
        }
    }
    if errors.is_empty() {
        Ok(sel)
    } else {
        Err(errors)
    }
}

/// `--list`: one line per suite, `NAME  FILE  DESCRIPTION`, aligned.
pub fn listing(sel: &Selection) -> String {
    let w = sel
        .suites
        .iter()
        .map(|s| s.spec.name.chars().count())
        .max()
        .unwrap_or(0);
    let f = sel
        .suites
        .iter()
        .map(|s| s.file.display().to_string().chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for s in &sel.suites {
        let fixed = if s.fixed_ports() {
            " [fixed ports]"
        } else {
            ""
        };
        out.push_str(&format!(
            "{:<w$}  {:<f$}  {}{fixed}\n",
            s.spec.name,
            s.file.display().to_string(),
            s.spec.description
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_files_are_told_from_suites_by_their_tables() {
        assert_eq!(is_kind_file("[kind.rust]\ncommand = [\"x\"]\n"), Some(true));
        assert_eq!(
            is_kind_file("root = \"..\"\n[kind.a]\ncommand = [\"x\"]\n"),
            Some(true)
        );
        // A suite that defines a kind of its own is still a suite.
        assert_eq!(
            is_kind_file("[kind.a]\ncommand = [\"x\"]\n[[node]]\nid = 1\nkind = \"a\"\n"),
            Some(false)
        );
        assert_eq!(
            is_kind_file("[kind.a]\n[workload]\ntype = \"set\"\n"),
            Some(false)
        );
        assert_eq!(is_kind_file("[[step]]\nwait = \"leader\"\n"), Some(false));
        // No kind table: not a kind file (the loader judges it).
        assert_eq!(is_kind_file("description = \"x\"\n"), Some(false));
        // Not TOML at all: the loader's error names the line.
        assert_eq!(is_kind_file("[kind.a\n"), None);
    }

    /// One file given as `a.toml`, `./a.toml` and through its folder is kept once, in its
    /// first spelling; another file of the same name in another folder is not the same file.
    #[test]
    fn a_file_given_twice_is_kept_once() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.toml");
        let other = dir.path().join("b");
        std::fs::create_dir(&other).unwrap();
        std::fs::write(&a, "").unwrap();
        std::fs::write(other.join("a.toml"), "").unwrap();
        let dotted = dir.path().join(".").join("a.toml");
        let files = expand(&[a.clone(), dotted.clone(), dir.path().to_path_buf()]).unwrap();
        let (kept, again) = once(files);
        assert_eq!(kept, vec![a.clone()]);
        assert_eq!(again, vec![(dotted, a.clone()), (a.clone(), a.clone())]);
        let (kept, again) = once(vec![a.clone(), other.join("a.toml")]);
        assert_eq!((kept.len(), again.len()), (2, 0));
        let sel = Selection {
            given_twice: vec![(PathBuf::from("./x.toml"), PathBuf::from("x.toml"))],
            ..Selection::default()
        };
        let note = sel.given_twice_note().unwrap();
        assert_eq!(note, "given twice, run once: ./x.toml (= x.toml)");
        assert!(Selection::default().given_twice_note().is_none());
    }
}

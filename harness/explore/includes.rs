//! `include` paths of the suite files explore and shrink write (issue 13, fresh-user findings):
//! a suite's `include = ["kinds.toml"]` is relative to the suite's own folder, so a copy
//! written elsewhere (a trial, a candidate, `failing.toml`, `shrunk.toml`, `--save PATH`)
//! must have its includes rewritten to name the same files from where it is written.

use std::path::{Component, Path, PathBuf};
use toml::{Table, Value};

/// The folder of `file` as an absolute path (`file` need not exist). Errors: the current
/// folder cannot be read.
fn abs_dir(file: &Path) -> Result<PathBuf, String> {
    let abs = std::path::absolute(file).map_err(|e| format!("{}: {e}", file.display()))?;
    Ok(abs.parent().map(Path::to_path_buf).unwrap_or_default())
}

/// Rewrites every relative `include` of `table`, read from suite file `suite`, to an absolute
/// path naming the same file.
pub fn make_absolute(table: &mut Table, suite: &Path) -> Result<(), String> {
    let dir = abs_dir(suite)?;
    for_each_include(table, |p| normalize(&dir.join(p)).display().to_string());
    Ok(())
}

/// Rewrites every absolute `include` of `table` relative to the folder of `dest`, the file
/// it is about to be written to, so the written file works from any clone of its folder tree.
/// Includes on another root (e.g. a Windows drive) stay absolute.
pub fn make_relative_to(table: &mut Table, dest: &Path) -> Result<(), String> {
    let dir = normalize(&abs_dir(dest)?);
    for_each_include(table, |p| {
        let p = Path::new(p);
        if p.is_absolute() {
            relative(&dir, &normalize(p)).unwrap_or_else(|| p.to_path_buf())
        } else {
            p.to_path_buf()
        }
        .display()
        .to_string()
    });
    Ok(())
}

/// Copies suite file `from` (includes absolute or relative to its folder) to `to` with its
/// includes relative to `to`'s folder. Comments are not kept. Errors: file and cause.
pub fn write_suite(from: &Path, to: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(from)
        .map_err(|e| format!("{}: cannot read: {e}", from.display()))?;
    let mut t: Table = toml::from_str(&text).map_err(|e| format!("{}: {e}", from.display()))?;
    make_absolute(&mut t, from)?;
    write_table("", &t, to)
}

/// Writes `header` then `table` to `to`, includes rewritten relative to `to`'s folder.
pub fn write_table(header: &str, table: &Table, to: &Path) -> Result<(), String> {
    let mut t = table.clone();
    make_relative_to(&mut t, to)?;
    let body = toml::to_string(&t).map_err(|e| e.to_string())?;
    std::fs::write(to, format!("{header}{body}")).map_err(|e| format!("{}: {e}", to.display()))
}

fn for_each_include(table: &mut Table, mut f: impl FnMut(&str) -> String) {
    if let Some(Value::Array(items)) = table.get_mut("include") {
        for item in items.iter_mut() {
            if let Value::String(p) = item {
                *p = f(p);
            }
        }
    }
}

/// `a/./b/../c` → `a/c`, lexically (no symlinks resolved).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

/// The path of `to` from folder `from` (both absolute and normalized); None on another root.
fn relative(from: &Path, to: &Path) -> Option<PathBuf> {
    let (f, t): (Vec<_>, Vec<_>) = (from.components().collect(), to.components().collect());
    if f.first() != t.first() {
        return None;
    }
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..f.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inc(t: &Table) -> String {
        t["include"].as_array().unwrap()[0]
            .as_str()
            .unwrap()
            .to_string()
    }

    #[test]
    fn an_include_names_the_same_file_from_where_the_copy_is_written() {
        let mut t: Table = toml::from_str("include = [\"kinds.toml\"]").unwrap();
        make_absolute(&mut t, Path::new("/w/suites/s.toml")).unwrap();
        assert_eq!(inc(&t), "/w/suites/kinds.toml");
        let mut t2 = t.clone();
        make_relative_to(&mut t2, Path::new("/w/suites/regress-x.toml")).unwrap();
        assert_eq!(inc(&t2), "kinds.toml");
        make_relative_to(&mut t, Path::new("/w/reports/shrink.d/f/shrunk.toml")).unwrap();
        assert_eq!(inc(&t), "../../../suites/kinds.toml");
    }

    #[test]
    fn dot_dot_in_an_include_is_resolved_and_relative_ones_are_left_alone() {
        let mut t: Table = toml::from_str("include = [\"../k/kinds.toml\"]").unwrap();
        make_relative_to(&mut t, Path::new("/w/a/x.toml")).unwrap();
        assert_eq!(inc(&t), "../k/kinds.toml", "already relative: unchanged");
        make_absolute(&mut t, Path::new("/w/a/./x.toml")).unwrap();
        assert_eq!(inc(&t), "/w/k/kinds.toml");
        assert_ne!(inc(&t), "/w/a/../k/kinds.toml");
    }
}

//! Report retention (`--keep N`): the newest N run folders of a suite stay,
//! older ones go — except a run that is live (its claim in a state dir names
//! it and its harness is alive) and the run `reports/latest` points at.
//! Only folders named like a run (`YYYYMMDD-HHMMSS.mmm`) are ever removed.
//! Runs that could not start (see [`could_not_start`]) are counted apart:
//! the newest N of them stay too, so a series of refused starts (a port held
//! by a stranger, a failed build) never pushes out the runs that did run.
use crate::cluster::process::{self, RunState};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Default of `--keep`: runs kept per suite.
pub const DEFAULT_KEEP: usize = 10;

/// A run folder's name: `20261130-083015.123` (the run's start, local time).
fn is_run_name(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() == 19
        && b.iter().enumerate().all(|(i, c)| match i {
            8 => *c == b'-',
            15 => *c == b'.',
            _ => c.is_ascii_digit(),
        })
}

/// Report folders of live runs, from the claims in the state dir and in the
/// per-namespace state dirs beside it (`netns-*`), canonicalized.
fn live_run_dirs() -> BTreeSet<PathBuf> {
    let base = process::state_dir();
    let mut dirs = vec![base.clone()];
    if let Ok(entries) = std::fs::read_dir(&base) {
        dirs.extend(entries.flatten().map(|e| e.path()).filter(|p| {
            p.is_dir()
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("netns-"))
        }));
    }
    let mut live = BTreeSet::new();
    for d in dirs {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for p in entries.flatten().map(|e| e.path()) {
            let Some(id) = p.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            if p.extension().is_none_or(|e| e != "json") {
                continue;
            }
            if let Some(st) = RunState::load_in(&d, id).filter(|s| s.owner().alive()) {
                if let Ok(c) = std::fs::canonicalize(&st.report_dir) {
                    live.insert(c);
                }
            }
        }
    }
    live
}

/// A run folder of a run that could not start: its report.json has the
/// verdict `error` and the run left no evidence.json (the cluster never ran:
/// ports refused, a build failed, a node did not come up). A folder without a
/// readable report.json counts as a run that ran.
pub fn could_not_start(run: &Path) -> bool {
    #[derive(serde::Deserialize)]
    struct Head {
        verdict: crate::report::Verdict,
    }
    if run.join("evidence.json").exists() {
        return false;
    }
    std::fs::read_to_string(run.join("report.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Head>(&t).ok())
        .is_some_and(|h| h.verdict == crate::report::Verdict::Error)
}

/// The folders of `runs` (sorted, oldest first) beyond the newest `keep` of
/// each class: runs that ran, and runs that could not start.
fn beyond_keep(runs: &[PathBuf], keep: usize) -> Vec<PathBuf> {
    let (failed, ran): (Vec<&PathBuf>, Vec<&PathBuf>) =
        runs.iter().partition(|p| could_not_start(p));
    let old = |v: Vec<&PathBuf>| {
        let n = v.len().saturating_sub(keep);
        v.into_iter().take(n).cloned().collect::<Vec<_>>()
    };
    let mut out = old(ran);
    out.extend(old(failed));
    out.sort();
    out
}

/// Keep the newest `keep` run folders of `dir` (a suite's folder, or the
/// runner's `batch.d`); remove the others unless protected. `latest` is the
/// `reports/latest` link. Returns the folders removed; a folder that cannot be
/// removed is reported in the Err list but does not stop the rest.
pub fn prune(dir: &Path, keep: usize, latest: &Path) -> (Vec<PathBuf>, Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (Vec::new(), Vec::new());
    };
    let mut runs: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(is_run_name)
        })
        .collect();
    if runs.len() <= keep {
        return (Vec::new(), Vec::new());
    }
    runs.sort();
    let old = beyond_keep(&runs, keep);
    let mut protected = live_run_dirs();
    protected.extend(std::fs::canonicalize(latest).ok());
    // A batch's own `latest` link protects its target as well.
    protected.extend(std::fs::canonicalize(dir.join("latest")).ok());
    let (mut removed, mut errors) = (Vec::new(), Vec::new());
    for p in &old {
        let canon = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
        if protected.contains(&canon) {
            continue;
        }
        match std::fs::remove_dir_all(p) {
            Ok(()) => removed.push(p.clone()),
            Err(e) => errors.push(format!("cannot remove the old run {}: {e}", p.display())),
        }
    }
    (removed, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_run_folders_beyond_keep_go_and_latest_stays() {
        assert!(is_run_name("20261130-083015.123"));
        assert!(!is_run_name("20261130-083015"));
        assert!(!is_run_name("notes-083015.1234"));
        let d = tempfile::tempdir().unwrap();
        let suite = d.path().join("s");
        let names = [
            "20260101-000001.000",
            "20260101-000002.000",
            "20260101-000003.000",
            "20260101-000004.000",
        ];
        for n in names {
            std::fs::create_dir_all(suite.join(n)).unwrap();
        }
        std::fs::create_dir_all(suite.join("mine")).unwrap();
        // `latest` points at the oldest: it must survive.
        std::os::unix::fs::symlink("s/20260101-000001.000", d.path().join("latest")).unwrap();
        let (removed, errors) = prune(&suite, 2, &d.path().join("latest"));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(removed, vec![suite.join("20260101-000002.000")]);
        assert_kept(
            &suite,
            &[
                "20260101-000001.000",
                "20260101-000003.000",
                "20260101-000004.000",
                "mine",
            ],
        );
    }

    /// Every folder of `kept` is still in `suite`.
    fn assert_kept(suite: &Path, kept: &[&str]) {
        for name in kept {
            assert!(suite.join(name).is_dir(), "{name} was removed");
        }
    }

    /// A run folder with a report.json of `verdict`, and evidence.json if `ran`.
    fn run_folder(dir: &Path, name: &str, verdict: &str, ran: bool) {
        let d = dir.join(name);
        std::fs::create_dir_all(&d).unwrap();
        let report = format!("{{\"verdict\":\"{verdict}\",\"suite\":\"s\"}}");
        std::fs::write(d.join("report.json"), report).unwrap();
        if ran {
            std::fs::write(d.join("evidence.json"), "{}").unwrap();
        }
    }

    #[test]
    fn runs_that_could_not_start_do_not_push_out_runs_that_ran() {
        let d = tempfile::tempdir().unwrap();
        let suite = d.path().join("s");
        run_folder(&suite, "20260101-000001.000", "pass", true);
        run_folder(&suite, "20260101-000002.000", "fail", true);
        // Three refused starts after them (e.g. a stranger on a port).
        for n in [
            "20260101-000003.000",
            "20260101-000004.000",
            "20260101-000005.000",
        ] {
            run_folder(&suite, n, "error", false);
        }
        // A run that ran and ended in a harness error is a run that ran.
        run_folder(&suite, "20260101-000006.000", "error", true);
        assert!(could_not_start(&suite.join("20260101-000003.000")));
        assert!(!could_not_start(&suite.join("20260101-000006.000")));
        assert!(!could_not_start(&suite.join("20260101-000001.000")));
        let (removed, errors) = prune(&suite, 2, &d.path().join("latest"));
        assert!(errors.is_empty(), "{errors:?}");
        // Ran: 1, 2, 6 → keep 2 and 6; could not start: 3, 4, 5 → keep 4 and 5.
        assert_eq!(
            removed,
            vec![
                suite.join("20260101-000001.000"),
                suite.join("20260101-000003.000")
            ]
        );
        assert_kept(
            &suite,
            &[
                "20260101-000002.000",
                "20260101-000004.000",
                "20260101-000005.000",
                "20260101-000006.000",
            ],
        );
    }
}

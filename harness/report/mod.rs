//! Reports of a run: `report.json`, `junit.xml`, `history.jsonl`,
//! `evidence.json`, `report.html`, and the table printed at the end. The files
//! are described for their readers in `docs/reports.md`.
pub mod html;
/// Moved to [`crate::progress`] (the run's console output, used by `schedule`
/// too); this path stays for code written against it.
pub use crate::progress;

use crate::check::{CheckResult, Status, WaitRecord};
use crate::trace::FaultEvent;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Exit codes of `raft-harness` (also recorded in report.json).
pub mod exit {
    /// Every check passed.
    pub const PASS: i32 = 0;
    /// A check failed: the cluster violated a property.
    pub const CHECK_FAILED: i32 = 1;
    /// The spec, the history file or the command line is invalid.
    pub const USAGE: i32 = 2;
    /// The harness could not run the cluster (build failed, node did not start, port held).
    pub const CANNOT_RUN: i32 = 3;
    /// A check was unknown, or a required check could not run (`not checked`).
    pub const UNDECIDED: i32 = 4;
    /// Interrupted (Ctrl+C / SIGTERM): partial report written.
    pub const INTERRUPTED: i32 = 130;
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
    Undecided,
    /// Until a run has a verdict, it has not run.
    #[default]
    Error,
    Interrupted,
}

impl Verdict {
    /// The one mapping from a run's verdict to its exit code ([`exit`]).
    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::Pass => exit::PASS,
            Verdict::Fail => exit::CHECK_FAILED,
            Verdict::Undecided => exit::UNDECIDED,
            Verdict::Error => exit::CANNOT_RUN,
            Verdict::Interrupted => exit::INTERRUPTED,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeReport {
    pub id: u32,
    pub kind: String,
    pub port: u16,
    pub command: Vec<String>,
    pub starts: u32,
    pub journal: bool,
    /// The implementation the node reported in GetStatus, if it did.
    pub implementation: Option<String>,
    /// Bytes the node printed (stdout + stderr, all incarnations).
    #[serde(default)]
    pub log_printed_bytes: u64,
    /// Bytes of that dropped from the middle of `nodes/<id>.log` by the log cap.
    #[serde(default)]
    pub log_cut_bytes: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Report {
    pub suite: String,
    pub spec_file: String,
    pub run_id: String,
    pub seed: u64,
    pub started_at: String,
    pub duration_s: f64,
    pub verdict: Verdict,
    pub exit_code: i32,
    #[serde(default)]
    pub error: Option<String>,
    pub checks: Vec<CheckResult>,
    pub metrics: BTreeMap<String, f64>,
    pub faults: Vec<FaultEvent>,
    pub waits: Vec<WaitRecord>,
    pub nodes: Vec<NodeReport>,
    pub notes: Vec<String>,
    /// Seconds spent in each phase.
    pub timings: BTreeMap<String, f64>,
    /// Every spec file read, by path, with its text.
    pub spec: BTreeMap<String, String>,
    #[serde(default)]
    pub link_events: Vec<serde_json::Value>,
    /// The suite's `[checks] required` list, so that `check RUN_DIR` judges alike.
    #[serde(default)]
    pub required: Vec<String>,
    /// The linearizability search bound the run used (ms), the default of `check RUN_DIR`.
    #[serde(default)]
    pub lin_timeout_ms: Option<u64>,
}

/// A report file that could not be written: the path and why.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}", path.display())]
pub struct WriteError {
    pub path: std::path::PathBuf,
    pub source: std::io::Error,
}

impl WriteError {
    fn at(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
        move |source| WriteError {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Whether no check produced a verdict (none ran, or every one is `not checked`).
pub fn nothing_checked(checks: &[CheckResult]) -> bool {
    checks.iter().all(|c| c.status == Status::NotChecked)
}

/// The final verdict of a run from its checks and what happened around them:
/// one rule for `run` and `check RUN_DIR`. An interruption wins over
/// everything; a failed check wins over a harness error; a harness error
/// (`r.error`) wins over pass and undecided.
pub fn decide(r: &mut Report, interrupted: bool) {
    let (v, _) = judge(&r.checks, &r.required);
    r.verdict = if interrupted {
        Verdict::Interrupted
    } else if r.error.is_some() && v != Verdict::Fail {
        Verdict::Error
    } else {
        v
    };
    r.exit_code = r.verdict.exit_code();
}

/// Record a harness error in the report (appended to an earlier one) and make
/// the run's verdict `error` (exit 3) unless it was interrupted.
pub fn add_error(r: &mut Report, e: impl Into<String>) {
    let e = e.into();
    r.error = Some(match r.error.take() {
        Some(old) => format!("{old}\n{e}"),
        None => e,
    });
    if r.verdict != Verdict::Interrupted {
        r.verdict = Verdict::Error;
        r.exit_code = r.verdict.exit_code();
    }
}

/// Print to stderr, ignoring errors: a closed pipe (`2>&1 | head`) must not
/// turn a finished run into a panic.
pub fn say(text: &str) {
    use std::io::Write;
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// The verdict and exit code for a set of check results. Nothing checked
/// (no result, or every one `not checked`) is undecided (exit 4), never pass.
pub fn judge(checks: &[CheckResult], required: &[String]) -> (Verdict, i32) {
    let v = judge_verdict(checks, required);
    (v, v.exit_code())
}

fn judge_verdict(checks: &[CheckResult], required: &[String]) -> Verdict {
    if checks.iter().any(|c| c.status == Status::Fail) {
        return Verdict::Fail;
    }
    let undecided = nothing_checked(checks)
        || checks.iter().any(|c| {
            c.status == Status::Unknown
                || (c.status == Status::NotChecked && required.contains(&c.name))
        });
    if undecided {
        Verdict::Undecided
    } else {
        Verdict::Pass
    }
}

/// Write `v` as pretty JSON, flushed and synced to disk. On any error the
/// partial file is removed (a truncated report is worse than none) and the
/// error names the path.
pub fn write_json(path: &Path, v: &impl Serialize) -> Result<(), WriteError> {
    write_file(path, |w| {
        serde_json::to_writer_pretty(w, v).map_err(std::io::Error::other)
    })
}

/// Write `text`, flushed and synced to disk; on error as [`write_json`].
pub fn write_text(path: &Path, text: &str) -> Result<(), WriteError> {
    write_file(path, |w| std::io::Write::write_all(w, text.as_bytes()))
}

/// Create `path` and fill it with `body`, flushed and synced to disk; on
/// error as [`write_json`].
pub fn write_file(
    path: &Path,
    body: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<(), WriteError> {
    let attempt = || -> std::io::Result<()> {
        let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
        body(&mut w)?;
        let f = w.into_inner().map_err(|e| e.into_error())?;
        // Space is allocated late on some file systems: ENOSPC can come only now.
        f.sync_all()
    };
    attempt().map_err(|e| {
        // Only a regular file this call created is removed (never e.g. /dev/full).
        if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file()) {
            let _ = std::fs::remove_file(path);
        }
        WriteError::at(path)(e)
    })
}

/// The JUnit XML of a run: one test case per check, plus an `<error>` case
/// named `run` whenever the verdict is not one the checks alone gave — the run
/// was interrupted, could not run, or nothing was checked — so that a CI
/// reporter never counts such a run as green. A required check that is `not
/// checked` is an error, not a skip.
pub fn junit(r: &Report) -> String {
    let mut rep = quick_junit::Report::new("raft-harness");
    rep.add_test_suite(junit_suite(r));
    rep.to_string().unwrap_or_default()
}

/// The `<testsuite>` of one run (see [`junit`]): the run's time, seed and run
/// id as properties, a `run` error case when the verdict needs one, and one
/// case per check with its time. The merged JUnit file of `run` over many
/// suites (`runner`) is one such suite per run.
pub fn junit_suite(r: &Report) -> quick_junit::TestSuite {
    use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
    let mut suite = TestSuite::new(r.suite.clone());
    suite.set_time(std::time::Duration::from_secs_f64(r.duration_s));
    suite.add_property(("seed", r.seed.to_string().as_str()));
    suite.add_property(("run_id", r.run_id.as_str()));
    if let Some(text) = run_problem(r) {
        let mut st = TestCaseStatus::non_success(NonSuccessKind::Error);
        st.set_message(text.lines().next().unwrap_or_default().to_string());
        st.set_description(text);
        let mut tc = TestCase::new("run", st);
        tc.set_classname(r.suite.clone());
        suite.add_test_case(tc);
    }
    for c in &r.checks {
        suite.add_test_case(junit_case(r, c));
    }
    suite
}

/// Why the run as a whole is not a plain verdict of its checks, if it is not.
fn run_problem(r: &Report) -> Option<String> {
    let mut lines = Vec::new();
    match r.verdict {
        Verdict::Interrupted => lines.push(
            "interrupted (Ctrl+C / SIGTERM): the run did not finish; checks judge only what was observed until then"
                .to_string(),
        ),
        Verdict::Undecided if nothing_checked(&r.checks) => {
            lines.push("nothing was checked: no check had the evidence it needs".to_string())
        }
        _ => {}
    }
    lines.extend(r.error.clone());
    (!lines.is_empty()).then(|| lines.join("\n"))
}

fn junit_case(r: &Report, c: &CheckResult) -> quick_junit::TestCase {
    use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus};
    let mut status = match c.status {
        Status::Pass => TestCaseStatus::success(),
        Status::Fail => TestCaseStatus::non_success(NonSuccessKind::Failure),
        Status::Unknown => TestCaseStatus::non_success(NonSuccessKind::Error),
        Status::NotChecked if r.required.contains(&c.name) => {
            TestCaseStatus::non_success(NonSuccessKind::Error)
        }
        Status::NotChecked => TestCaseStatus::skipped(),
        Status::Warn => TestCaseStatus::success(),
    };
    if c.status != Status::Pass {
        status.set_message(format!("{}: {}", c.status.word(), c.summary));
        let mut text = format!("based on: {}\n", c.based_on);
        // The explanation as the terminal prints it; the machine-readable
        // `detail` stays in report.json (a JSON blob helps no CI reader).
        if c.evidence.is_empty() {
            text.push_str(&c.summary);
            text.push('\n');
        }
        for e in &c.evidence {
            text.push_str(e);
            text.push('\n');
        }
        status.set_description(text);
    }
    let mut tc = TestCase::new(c.name.clone(), status);
    tc.set_classname(r.suite.clone());
    if let Some(t) = c.time_s.filter(|t| t.is_finite() && *t >= 0.0) {
        tc.set_time(std::time::Duration::from_secs_f64(t));
    }
    tc.set_system_out(format!("{} ({})", c.summary, c.based_on));
    tc
}

/// The table printed at the end of a run.
pub fn table(r: &Report) -> String {
    let mut out = String::new();
    let w = r
        .checks
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(5)
        .max(5);
    out.push_str(&format!(
        "\n  {:<w$}  {:<11}  evidence\n",
        "check", "result"
    ));
    for c in &r.checks {
        out.push_str(&format!(
            "  {:<w$}  {:<11}  {}\n",
            c.name,
            c.status.word(),
            c.summary
        ));
    }
    out.push_str(&explanations(&r.checks));
    if !r.metrics.is_empty() {
        let m: Vec<String> = r
            .metrics
            .iter()
            .map(|(k, v)| format!("{k}={}", fmt_num(*v)))
            .collect();
        out.push_str(&format!("\n  metrics: {}\n", m.join(" ")));
    }
    if let Some(e) = &r.error {
        out.push_str(&format!("\n  error: {e}\n"));
    }
    out.push_str(&format!(
        "\n  {} — {} in {:.1} s ({}exit {})\n",
        r.suite,
        match r.verdict {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Undecided if nothing_checked(&r.checks) => "UNDECIDED (nothing was checked)",
            Verdict::Undecided => "UNDECIDED",
            Verdict::Error => "ERROR (could not run)",
            Verdict::Interrupted => "INTERRUPTED (partial)",
        },
        r.duration_s,
        // A history checked alone has no run, so no seed.
        if r.run_id.is_empty() {
            String::new()
        } else {
            format!("seed {}, ", r.seed)
        },
        r.exit_code
    ));
    out
}

/// The full explanation of every check that did not pass (failed, unknown,
/// warning): what it rests on and each evidence line (bounded by
/// [`crate::check::MAX_EVIDENCE`]), so a failing run can be acted on from the
/// terminal alone. Passing and `not checked` checks are explained by their one line.
pub fn explanations(checks: &[CheckResult]) -> String {
    let mut out = String::new();
    for c in checks {
        if !matches!(c.status, Status::Fail | Status::Unknown | Status::Warn) {
            continue;
        }
        out.push_str(&format!("\n  {} — {}\n", c.name, c.status.word()));
        out.push_str(&format!("    based on: {}\n", c.based_on));
        if c.evidence.is_empty() {
            out.push_str(&format!("    {}\n", c.summary));
        }
        for e in &c.evidence {
            for (i, line) in e.lines().enumerate() {
                let indent = if i == 0 { "    " } else { "      " };
                out.push_str(&format!("{indent}{line}\n"));
            }
        }
    }
    out
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.2}")
    }
}

/// Point `reports/latest` at this run (relative link, replaced atomically).
/// Errors name the link that could not be made.
pub fn link_latest(reports: &Path, run_dir: &Path) -> Result<(), WriteError> {
    let Ok(rel) = run_dir.strip_prefix(reports) else {
        return Ok(());
    };
    // One temporary name per process: parallel runs sharing a reports folder
    // (`run suites/ -j N`) must not take each other's link away.
    let tmp = reports.join(format!(".latest.tmp.{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(rel, &tmp).map_err(WriteError::at(&tmp))?;
    let latest = reports.join(crate::spec::LATEST_LINK);
    std::fs::rename(&tmp, &latest).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        WriteError::at(&latest)(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(name: &str, status: Status) -> CheckResult {
        CheckResult {
            status,
            summary: format!("{name} summary"),
            ..CheckResult::new(name, "test")
        }
    }

    #[test]
    fn verdicts_map_to_exit_codes() {
        assert_eq!(judge(&[c("a", Status::Pass)], &[]), (Verdict::Pass, 0));
        assert_eq!(
            judge(&[c("a", Status::Pass), c("b", Status::Fail)], &[]),
            (Verdict::Fail, 1)
        );
        assert_eq!(
            judge(&[c("a", Status::Unknown)], &[]),
            (Verdict::Undecided, 4)
        );
        // Not checked is honest, not a failure — unless the suite requires that check.
        assert_eq!(
            judge(&[c("a", Status::Pass), c("b", Status::NotChecked)], &[]),
            (Verdict::Pass, 0)
        );
        assert_eq!(
            judge(
                &[c("a", Status::Pass), c("b", Status::NotChecked)],
                &["b".into()]
            ),
            (Verdict::Undecided, 4)
        );
    }

    #[test]
    fn nothing_checked_is_undecided_never_pass() {
        assert_eq!(judge(&[], &[]), (Verdict::Undecided, 4));
        let none = [c("a", Status::NotChecked), c("b", Status::NotChecked)];
        assert_eq!(judge(&none, &[]), (Verdict::Undecided, 4));
        let r = Report {
            checks: none.to_vec(),
            ..Default::default()
        };
        let mut r2 = r.clone();
        decide(&mut r2, false);
        assert_eq!((r2.verdict, r2.exit_code), (Verdict::Undecided, 4));
        assert!(table(&r2).contains("nothing was checked"), "{}", table(&r2));
        let x = junit(&r2);
        assert!(
            x.contains("<error") && x.contains("nothing was checked"),
            "{x}"
        );
    }

    #[test]
    fn decide_ranks_interrupt_then_failure_then_error() {
        let mut r = Report {
            checks: vec![c("a", Status::Pass)],
            error: Some("node 2 could not start".into()),
            ..Default::default()
        };
        decide(&mut r, false);
        assert_eq!((r.verdict, r.exit_code), (Verdict::Error, 3));
        r.checks.push(c("b", Status::Fail));
        decide(&mut r, false);
        assert_eq!((r.verdict, r.exit_code), (Verdict::Fail, 1));
        decide(&mut r, true);
        assert_eq!((r.verdict, r.exit_code), (Verdict::Interrupted, 130));
    }

    #[test]
    fn an_interrupted_run_has_an_error_case_and_a_required_skip_is_an_error() {
        let mut r = Report {
            suite: "s".into(),
            checks: vec![
                c("log_matching", Status::Pass),
                c("liveness", Status::NotChecked),
            ],
            ..Default::default()
        };
        decide(&mut r, true);
        let x = junit(&r);
        assert!(x.contains("errors=\"1\""), "{x}");
        assert!(
            x.contains("<testcase name=\"run\"") && x.contains("interrupted"),
            "{x}"
        );
        assert!(x.contains("<skipped"), "{x}");
        // The same run with liveness required: that skip is an error too.
        r.required = vec!["liveness".into()];
        let x = junit(&r);
        assert!(x.contains("errors=\"2\""), "{x}");
        assert!(!x.contains("<skipped"), "{x}");
    }

    #[test]
    fn a_write_that_fails_names_the_path_and_leaves_no_partial_file() {
        // /dev/full: every write fails with ENOSPC, like a full disk.
        let e = write_json(Path::new("/dev/full"), &vec![0u8; 100_000]).unwrap_err();
        assert!(e.to_string().starts_with("cannot write /dev/full: "), "{e}");
        assert!(e.to_string().contains("No space left"), "{e}");
        let e = write_text(Path::new("/dev/full"), "x").unwrap_err();
        assert!(e.to_string().contains("No space left"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let e = write_json(&dir.path().join("no/such/dir/report.json"), &1).unwrap_err();
        assert!(e.to_string().contains("no/such/dir/report.json"), "{e}");
        // A link that cannot be made (the reports folder is gone) is an error too.
        let gone = dir.path().join("gone");
        assert!(link_latest(&gone, &gone.join("s/1")).is_err());
        std::fs::create_dir_all(dir.path().join("s/1")).unwrap();
        link_latest(dir.path(), &dir.path().join("s/1")).unwrap();
        assert!(dir.path().join("latest").is_dir());
    }

    #[test]
    fn another_runs_temporary_latest_link_does_not_get_in_the_way() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("s/1")).unwrap();
        // What a parallel run sharing the folder holds at this moment under the old fixed name.
        std::os::unix::fs::symlink("s/0", dir.path().join(".latest.tmp")).unwrap();
        link_latest(dir.path(), &dir.path().join("s/1")).unwrap();
        assert_eq!(
            std::fs::read_link(dir.path().join("latest")).unwrap(),
            Path::new("s/1")
        );
        // Its link is left alone (it renames it itself).
        assert!(dir.path().join(".latest.tmp").symlink_metadata().is_ok());
    }

    #[test]
    fn junit_has_one_case_per_check_and_failures_carry_evidence() {
        let mut fail = c("election_safety", Status::Fail);
        fail.evidence = vec!["term 7: nodes 2, 4 all Leader".into()];
        fail.detail = Some(serde_json::json!({"raw_detail_blob": [1, 2, 3]}));
        fail.time_s = Some(0.25);
        let r = Report {
            suite: "s".into(),
            spec_file: "s.toml".into(),
            run_id: "r".into(),
            seed: 1,
            duration_s: 1.0,
            verdict: Verdict::Fail,
            exit_code: 1,
            checks: vec![
                c("log_matching", Status::Pass),
                fail,
                c("durability", Status::NotChecked),
            ],
            ..Default::default()
        };
        let x = junit(&r);
        assert_eq!(x.matches("<testcase ").count(), 3, "{x}");
        assert!(x.contains("<failure"), "{x}");
        assert!(x.contains("term 7: nodes 2, 4 all Leader"), "{x}");
        // The explanation, not the machine-readable detail (that stays in report.json).
        assert!(!x.contains("raw_detail_blob"), "{x}");
        assert!(x.contains("based on: test"), "{x}");
        // The check's own time.
        assert!(
            x.contains("<testcase name=\"election_safety\" classname=\"s\" time=\"0.250\""),
            "{x}"
        );
        assert!(x.contains("<skipped"), "{x}");
        let t = table(&r);
        assert!(t.contains("FAIL") && t.contains("not checked"), "{t}");
        // The failing check is explained in full on the terminal, the others are not.
        assert!(t.contains("election_safety — FAIL"), "{t}");
        assert!(t.contains("    term 7: nodes 2, 4 all Leader"), "{t}");
        assert!(!t.contains("durability — "), "{t}");
    }
}

//! Reports of a run: `report.json`, `junit.xml`, `history.jsonl`,
//! `evidence.json`, and the table printed at the end. The files are described
//! for their readers in `docs/reports.md`.
pub mod progress;

use crate::check::{CheckResult, Status, WaitRecord};
use crate::schedule::FaultEvent;
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
}

/// The verdict and exit code for a set of check results.
pub fn judge(checks: &[CheckResult], required: &[String]) -> (Verdict, i32) {
    if checks.iter().any(|c| c.status == Status::Fail) {
        return (Verdict::Fail, exit::CHECK_FAILED);
    }
    let undecided = checks.iter().any(|c| {
        c.status == Status::Unknown
            || (c.status == Status::NotChecked && required.contains(&c.name))
    });
    if undecided {
        (Verdict::Undecided, exit::UNDECIDED)
    } else {
        (Verdict::Pass, exit::PASS)
    }
}

pub fn write_json(path: &Path, v: &impl Serialize) -> std::io::Result<()> {
    let f = std::io::BufWriter::new(std::fs::File::create(path)?);
    serde_json::to_writer_pretty(f, v).map_err(std::io::Error::other)
}

pub fn junit(r: &Report) -> String {
    use quick_junit::{NonSuccessKind, Report as JReport, TestCase, TestCaseStatus, TestSuite};
    let mut suite = TestSuite::new(r.suite.clone());
    suite.set_time(std::time::Duration::from_secs_f64(r.duration_s));
    suite.add_property(("seed", r.seed.to_string().as_str()));
    suite.add_property(("run_id", r.run_id.as_str()));
    if let Some(e) = &r.error {
        let mut st = TestCaseStatus::non_success(NonSuccessKind::Error);
        st.set_message(e.lines().next().unwrap_or_default().to_string());
        st.set_description(e.clone());
        let mut tc = TestCase::new("run", st);
        tc.set_classname(r.suite.clone());
        suite.add_test_case(tc);
    }
    for c in &r.checks {
        let mut status = match c.status {
            Status::Pass => TestCaseStatus::success(),
            Status::Fail => TestCaseStatus::non_success(NonSuccessKind::Failure),
            Status::Unknown => TestCaseStatus::non_success(NonSuccessKind::Error),
            Status::NotChecked => TestCaseStatus::skipped(),
            Status::Warn => TestCaseStatus::success(),
        };
        if c.status != Status::Pass {
            status.set_message(format!("{}: {}", c.status.word(), c.summary));
            let mut text = format!("based on: {}\n", c.based_on);
            for e in &c.evidence {
                text.push_str(e);
                text.push('\n');
            }
            if let Some(d) = &c.detail {
                text.push_str(&serde_json::to_string_pretty(d).unwrap_or_default());
            }
            status.set_description(text);
        }
        let mut tc = TestCase::new(c.name.clone(), status);
        tc.set_classname(r.suite.clone());
        tc.set_system_out(format!("{} ({})", c.summary, c.based_on));
        suite.add_test_case(tc);
    }
    let mut rep = JReport::new("raft-harness");
    rep.add_test_suite(suite);
    rep.to_string().unwrap_or_default()
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
        "\n  {} — {} in {:.1} s (seed {}, exit {})\n",
        r.suite,
        match r.verdict {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Undecided => "UNDECIDED",
            Verdict::Error => "ERROR (could not run)",
            Verdict::Interrupted => "INTERRUPTED (partial)",
        },
        r.duration_s,
        r.seed,
        r.exit_code
    ));
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
pub fn link_latest(reports: &Path, run_dir: &Path) {
    let Ok(rel) = run_dir.strip_prefix(reports) else {
        return;
    };
    let tmp = reports.join(".latest.tmp");
    let _ = std::fs::remove_file(&tmp);
    if std::os::unix::fs::symlink(rel, &tmp).is_ok() {
        let _ = std::fs::rename(&tmp, reports.join("latest"));
    }
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
            judge(&[c("a", Status::NotChecked)], &[]),
            (Verdict::Pass, 0)
        );
        assert_eq!(
            judge(&[c("a", Status::NotChecked)], &["a".into()]),
            (Verdict::Undecided, 4)
        );
    }

    #[test]
    fn junit_has_one_case_per_check_and_failures_carry_evidence() {
        let mut fail = c("election_safety", Status::Fail);
        fail.evidence = vec!["term 7: nodes 2, 4 all Leader".into()];
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
        assert!(x.contains("<skipped"), "{x}");
        let t = table(&r);
        assert!(t.contains("FAIL") && t.contains("not checked"), "{t}");
    }
}

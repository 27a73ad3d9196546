//! Running trials for `explore` and `shrink`: a batch of suite files goes through the
//! multi-suite runner (`raft-harness run FILES -j K`, a child process: each suite in its own
//! network namespace or on shifted ports), then each run's `report.json` is read back.

use crate::check::Status;
use crate::lin::Cancel;
use crate::report::Report;
use crate::trace::FaultEvent;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

/// Checks of properties that must hold in every run (Raft §5.2–5.4, Figure 3; linearizability):
/// a failure of one of these is a bug found. Liveness-type checks are not.
pub const SAFETY_CHECKS: &[&str] = &[
    "election_safety",
    "log_matching",
    "leader_completeness",
    "state_machine_safety",
    "durability",
    "linearizable",
    "read_validity",
    "isolated_commits",
    // From the wire (`network = "rpc"`) and the journals (issue 12 §3).
    "vote_safety",
    "leader_legitimacy",
    "append_consistency",
    "commit_safety",
    "term_monotonicity",
];

/// What one trial run came to.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// No safety check failed (`checks` may still have failed liveness-type checks);
    /// `faults` injected ([`injected_faults`]), the run's `duration_s` (seconds).
    NoSafetyFailure { faults: usize, duration_s: f64 },
    /// A safety check failed: its name and one-line summary, and the run's report folder.
    SafetyFailure {
        check: String,
        summary: String,
        report_dir: PathBuf,
        faults: usize,
        duration_s: f64,
    },
    /// The run produced no report (invalid suite, could not start): why.
    NoReport(String),
}

impl Outcome {
    pub fn is_safety_failure(&self) -> bool {
        matches!(self, Outcome::SafetyFailure { .. })
    }
}

/// Runs `files` (suite files whose stems are distinct) through the runner, `jobs` at a time,
/// reports under `reports`, the runner's own output appended to `log`. One outcome per file.
pub fn run_batch(files: &[PathBuf], reports: &Path, jobs: usize, log: &Path) -> Vec<Outcome> {
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("raft-harness"));
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log);
    let (o, e) = match out.and_then(|f| Ok((f.try_clone()?, f))) {
        Ok((a, b)) => (Stdio::from(a), Stdio::from(b)),
        Err(_) => (Stdio::null(), Stdio::null()),
    };
    let child = Command::new(exe)
        .arg("run")
        .arg("--reports")
        .arg(reports)
        .arg("-j")
        .arg(jobs.clamp(1, 64).to_string())
        .arg("--keep")
        .arg("1000")
        .args(files)
        .stdin(Stdio::null())
        .stdout(o)
        .stderr(e)
        .spawn();
    let status = child.and_then(wait_forwarding_interrupts);
    if let Err(err) = status {
        let why = format!("cannot start the runner: {err}");
        return files
            .iter()
            .map(|_| Outcome::NoReport(why.clone()))
            .collect();
    }
    files.iter().map(|f| outcome_of(f, reports)).collect()
}

static INTERRUPT: std::sync::OnceLock<Cancel> = std::sync::OnceLock::new();

/// From now on Ctrl+C (SIGINT) and SIGTERM are not fatal to this process: the runner's signal
/// watcher notes them ([`interrupted`]) and they are passed on to the running trial, which
/// stops its schedule, ends its nodes and writes its interrupted report like any `run`
/// (explore and shrink then stop).
pub fn catch_interrupts() {
    let cancel = *INTERRUPT.get_or_init(Cancel::new);
    crate::runner::watch_signals(cancel);
}

/// Whether Ctrl+C or SIGTERM arrived since [`catch_interrupts`].
pub fn interrupted() -> bool {
    INTERRUPT.get().is_some_and(|c| c.is_cancelled())
}

/// Waits for the trial runner; an interrupt is passed on to it once (SIGINT: it ends its nodes
/// before it exits), and this returns only when it has exited — nothing outlives explore.
fn wait_forwarding_interrupts(mut child: std::process::Child) -> std::io::Result<ExitStatus> {
    let mut forwarded = false;
    loop {
        if let Some(st) = child.try_wait()? {
            return Ok(st);
        }
        if interrupted() && !forwarded {
            let pid = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
            forwarded = true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// The newest report of suite file `file` under `reports` (folder `<reports>/<stem>/<run>/`).
fn outcome_of(file: &Path, reports: &Path) -> Outcome {
    let stem = file.file_stem().map(|s| s.to_string_lossy().to_string());
    let dir = reports.join(stem.unwrap_or_default());
    let mut runs: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.join("report.json").is_file())
            .collect(),
        Err(_) => Vec::new(),
    };
    runs.sort();
    let Some(run) = runs.pop() else {
        return Outcome::NoReport(format!(
            "{}: no report under {} (see the runner log)",
            file.display(),
            dir.display()
        ));
    };
    let report: Report = match std::fs::read_to_string(run.join("report.json"))
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
    {
        Ok(r) => r,
        Err(e) => return Outcome::NoReport(format!("{}/report.json: {e}", run.display())),
    };
    judge(&report, run)
}

/// How many faults a run injected: its disruptive fault events (`FaultAction::is_disruptive`:
/// kill, stop, pause — crash-all is recorded as a kill — and the network cuts) and the
/// network faults that cut nothing but are in force until `heal` (`net-flaky`, message faults,
/// `FaultAction::is_net`). Not their undos (restart, resume, heal) nor the workload's start
/// and stop. A fault skipped for want of a leader records no event and is not counted.
pub fn injected_faults(events: &[FaultEvent]) -> usize {
    events
        .iter()
        .filter(|e| e.action.is_disruptive() || e.action.is_net())
        .count()
}

/// Classifies one run's report: the first failed safety check, if any.
pub fn judge(report: &Report, report_dir: PathBuf) -> Outcome {
    let faults = injected_faults(&report.faults);
    if report.checks.is_empty() {
        let why = report
            .error
            .clone()
            .unwrap_or_else(|| "no checks ran".into());
        return Outcome::NoReport(format!("{}: {why}", report_dir.display()));
    }
    match report
        .checks
        .iter()
        .find(|c| c.status == Status::Fail && SAFETY_CHECKS.contains(&c.name.as_str()))
    {
        Some(c) => Outcome::SafetyFailure {
            check: c.name.clone(),
            summary: c.summary.clone(),
            report_dir,
            faults,
            duration_s: report.duration_s,
        },
        None => Outcome::NoSafetyFailure {
            faults,
            duration_s: report.duration_s,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::CheckResult;
    use crate::trace::FaultAction;

    fn check(name: &str, status: Status) -> CheckResult {
        let mut c = CheckResult::new(name, "");
        c.status = status;
        c.summary = format!("{name} summary");
        c
    }

    #[test]
    fn only_a_failed_safety_check_is_a_finding() {
        let mut r = Report {
            checks: vec![
                check("liveness", Status::Fail),
                check("election_safety", Status::Pass),
            ],
            ..Report::default()
        };
        assert!(!judge(&r, "d".into()).is_safety_failure());
        r.checks.push(check("durability", Status::Fail));
        match judge(&r, "d".into()) {
            Outcome::SafetyFailure { check, .. } => assert_eq!(check, "durability"),
            o => panic!("{o:?}"),
        }
        r.checks = vec![check("linearizable", Status::Unknown)];
        assert!(!judge(&r, "d".into()).is_safety_failure());
        r.checks.clear();
        assert!(matches!(judge(&r, "d".into()), Outcome::NoReport(_)));
    }

    fn event(action: FaultAction) -> FaultEvent {
        FaultEvent {
            t_us: 0,
            action,
            nodes: vec![1],
            detail: String::new(),
            at: "t.toml:1".into(),
            cut_off: Vec::new(),
        }
    }

    /// Undos (restart, resume, heal) and the workload's start/stop are no faults injected;
    /// every fault that takes nodes down or is a network fault is one.
    #[test]
    fn only_injected_faults_are_counted_not_undos_or_the_workload() {
        use FaultAction::*;
        let undos = [WorkloadStart, Restart, Resume, Heal, Heal, WorkloadStop];
        let r = Report {
            checks: vec![check("election_safety", Status::Pass)],
            faults: undos.into_iter().map(event).collect(),
            ..Report::default()
        };
        assert_eq!(injected_faults(&r.faults), 0);
        let injected = [Kill, Stop, Pause, NetIsolate, NetHalves, NetBridge];
        let more = [NetMajoritiesRing, NetFlaky, NetMsg];
        let mut all: Vec<FaultEvent> = r.faults.clone();
        for (a, b) in injected.iter().chain(&more).zip(undos.iter().cycle()) {
            all.extend([event(*a), event(*b)]);
        }
        assert_eq!(injected_faults(&all), 9);
        let r = Report { faults: all, ..r };
        match judge(&r, "d".into()) {
            Outcome::NoSafetyFailure { faults, .. } => assert_eq!(faults, 9),
            o => panic!("{o:?}"),
        }
    }
}

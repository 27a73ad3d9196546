//! `raft-harness explore` and `raft-harness shrink` (issue 13): search for a schedule that
//! breaks a safety property instead of scripting one, and cut a failing schedule down to a
//! minimal regression suite.
//!
//! Pipeline: [`gen`] draws concrete trial suites from a seed → [`trial`] runs them through the
//! multi-suite runner and reads back each report → the first safety failure ends the search;
//! [`shrink`] re-runs candidates of a failing suite with steps removed and sleeps shortened.
pub mod gen;
pub mod includes;
pub mod keep;
pub mod shrink;
pub mod trial;

use crate::report::{exit, say};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use trial::Outcome;

/// What `explore` was asked to do.
pub struct Opts {
    pub suite: PathBuf,
    /// Wall-clock budget: no new batch of trials starts after it.
    pub budget: Duration,
    /// At most this many trials (None: until the budget ends).
    pub trials: Option<u64>,
    pub seed: u64,
    /// Trials run at once.
    pub jobs: usize,
    /// Output folder: trials/, reports/, runner.log, failing.toml.
    pub out: PathBuf,
}

/// The search's result, for the caller and for tests.
#[derive(Debug)]
pub struct Found {
    pub trials: u64,
    pub faults: usize,
    pub elapsed: Duration,
    /// The failing trial: check, summary, report folder, replayable suite.
    pub failure: Option<(String, String, PathBuf, PathBuf)>,
}

/// `raft-harness explore`; returns the exit code: 1 a safety check failed (found), 0 none in
/// the budget, 2 bad suite/`[explore]`, 3 a trial could not run.
pub fn explore(o: &Opts) -> i32 {
    trial::catch_interrupts();
    match search(o) {
        Ok(f) => match &f.failure {
            Some((check, summary, report, suite)) => {
                say(&format!(
                    "FOUND after {} trials ({} faults, {:.1} s): {check} failed: {summary}\n  report: {}\n  replay: raft-harness run {}\n  shrink: raft-harness shrink {}\n",
                    f.trials,
                    f.faults,
                    f.elapsed.as_secs_f64(),
                    report.display(),
                    suite.display(),
                    suite.display()
                ));
                exit::CHECK_FAILED
            }
            None => {
                say(&format!(
                    "no safety failure in {} trials ({} faults, {:.1} s), seed {}\n",
                    f.trials,
                    f.faults,
                    f.elapsed.as_secs_f64(),
                    o.seed
                ));
                exit::PASS
            }
        },
        Err(Stop::Interrupted(msg)) => {
            say(&format!("{msg}\n"));
            exit::INTERRUPTED
        }
        Err(Stop::BadSuite(rendered)) => {
            say(&format!("{rendered}\n"));
            exit::USAGE
        }
        Err(Stop::CannotRun(msg)) => {
            say(&format!("error: {msg}\n"));
            exit::CANNOT_RUN
        }
    }
}

/// Why a search ended without a verdict.
#[derive(Debug)]
pub enum Stop {
    /// Ctrl+C or SIGTERM (exit 130): the user's choice, said plainly, not as an error.
    Interrupted(String),
    /// The suite or its `[explore]` table is invalid (exit 2): the rendered diagnostics
    /// (file, line, column), as `validate` prints them.
    BadSuite(String),
    /// A trial could not run or a file could not be written (exit 3).
    CannotRun(String),
}

/// The spinner: drawn on a terminal outside CI, hidden otherwise (CI logs, pipes), where
/// [`line`] prints plainly instead.
fn bar() -> ProgressBar {
    use std::io::IsTerminal;
    let live = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
    let target = if live {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let pb = ProgressBar::with_draw_target(None, target);
    pb.set_style(
        ProgressStyle::with_template("{spinner} explore: {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.enable_steady_tick(Duration::from_millis(500));
    pb
}

/// The search loop: batches of `jobs` trials until a safety failure, the trial count or the
/// budget.
pub fn search(o: &Opts) -> Result<Found, Stop> {
    let base = gen::load_base(&o.suite).map_err(Stop::BadSuite)?;
    let trials_dir = o.out.join("trials");
    let reports = o.out.join("reports");
    std::fs::create_dir_all(&trials_dir)
        .and_then(|_| std::fs::create_dir_all(&reports))
        .map_err(|e| Stop::CannotRun(format!("{}: {e}", o.out.display())))?;
    let start = Instant::now();
    let pb = bar();
    let mut found = Found {
        trials: 0,
        faults: 0,
        elapsed: Duration::ZERO,
        failure: None,
    };
    while start.elapsed() < o.budget && o.trials.is_none_or(|n| found.trials < n) {
        let left = o.trials.map_or(u64::MAX, |n| n - found.trials);
        let k = (o.jobs as u64).min(left).max(1);
        let mut files = Vec::new();
        for t in found.trials..found.trials + k {
            let (text, _) = gen::trial_suite(&base, o.seed, t);
            let f = trials_dir.join(format!("trial-{t:05}.toml"));
            std::fs::write(&f, text)
                .map_err(|e| Stop::CannotRun(format!("{}: {e}", f.display())))?;
            files.push(f);
        }
        announce(&pb, &files, found.trials, o.trials);
        pb.set_message(status(&found, o, start, "running"));
        let outcomes = trial::run_batch(&files, &reports, o.jobs, &o.out.join("runner.log"));
        if trial::interrupted() {
            pb.finish_and_clear();
            return Err(Stop::Interrupted(format!(
                "explore interrupted (Ctrl+C): no safety failure in the {} trials completed; the interrupted trial's report is under {}",
                found.trials,
                reports.display()
            )));
        }
        for (file, out) in files.iter().zip(outcomes) {
            found.trials += 1;
            line(&pb, &trial_line(found.trials, o.trials, &out));
            match out {
                Outcome::NoSafetyFailure { faults, .. } => found.faults += faults,
                Outcome::NoReport(why) => {
                    pb.finish_and_clear();
                    return Err(Stop::CannotRun(why));
                }
                Outcome::SafetyFailure {
                    check,
                    summary,
                    report_dir,
                    faults,
                    ..
                } => {
                    found.faults += faults;
                    let failing = o.out.join("failing.toml");
                    includes::write_suite(file, &failing).map_err(Stop::CannotRun)?;
                    found.failure = Some((check, summary, report_dir, failing));
                    break;
                }
            }
        }
        if found.failure.is_some() {
            break;
        }
    }
    pb.finish_and_clear();
    found.elapsed = start.elapsed();
    Ok(found)
}

/// A permanent line on stderr: above the spinner on a terminal, plainly otherwise.
fn line(pb: &ProgressBar, text: &str) {
    if pb.is_hidden() {
        say(&format!("{text}\n"));
    } else {
        pb.println(text);
    }
}

/// Without a spinner (CI logs, pipes), a line per trial of the batch starting: its number and
/// suite file, so a log shows what runs while it runs. `done`: trials finished before it.
fn announce(pb: &ProgressBar, files: &[PathBuf], done: u64, of: Option<u64>) {
    if !pb.is_hidden() {
        return;
    }
    for (n, f) in (done + 1..).zip(files) {
        line(
            pb,
            &format!("{} running: {}", trial_name(n, of), f.display()),
        );
    }
}

/// `trial N/M` (M: `--trials`) or `trial N` (until the budget ends); N counts from 1.
fn trial_name(n: u64, of: Option<u64>) -> String {
    match of {
        Some(m) => format!("trial {n}/{m}"),
        None => format!("trial {n}"),
    }
}

/// The line of finished trial `n` (from 1): its outcome, the faults it injected and its run's
/// duration, e.g. `trial 3/10: no safety failure (2 faults, 41.2 s)`.
pub fn trial_line(n: u64, of: Option<u64>, out: &Outcome) -> String {
    let name = trial_name(n, of);
    match out {
        Outcome::NoSafetyFailure { faults, duration_s } => {
            format!("{name}: no safety failure ({faults} faults, {duration_s:.1} s)")
        }
        Outcome::SafetyFailure {
            check,
            faults,
            duration_s,
            ..
        } => format!("{name}: {check} FAILED ({faults} faults, {duration_s:.1} s)"),
        Outcome::NoReport(why) => format!("{name}: no report: {why}"),
    }
}

fn status(f: &Found, o: &Opts, start: Instant, what: &str) -> String {
    let left = o.budget.saturating_sub(start.elapsed()).as_secs();
    format!(
        "{} trials, {} faults injected, {}m{:02}s left — {what}",
        f.trials,
        f.faults,
        left / 60,
        left % 60
    )
}

/// `--budget`: `90s`, `10m`, `1h` or plain seconds.
pub fn parse_budget(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (num, unit) = match t.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => t.split_at(i),
        None => (t, "s"),
    };
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => return Err(format!("`{text}`: use s, m or h, e.g. 10m")),
    };
    match num.parse::<u64>() {
        Ok(n) if n >= 1 && n <= 7 * 24 * 3600 / mult => Ok(Duration::from_secs(n * mult)),
        _ => Err(format!(
            "`{text}`: give a whole number from 1, e.g. 10m or 90s"
        )),
    }
}

/// A default output folder for `explore`/`shrink` of `suite`.
pub fn default_out(cmd: &str, suite: &Path) -> PathBuf {
    let stem = suite
        .file_stem()
        .map_or("suite".into(), |s| s.to_string_lossy().to_string());
    PathBuf::from("reports").join(format!("{cmd}.d")).join(stem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_parse_with_units_and_bad_ones_are_rejected() {
        assert_eq!(parse_budget("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_budget("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_budget("45"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_budget("1h"), Ok(Duration::from_secs(3600)));
        for bad in ["0", "10x", "m", "-5m", "1.5m", "999999h"] {
            assert!(parse_budget(bad).is_err(), "{bad}");
        }
    }

    /// On a terminal the line is printed above the spinner, which stays the last row.
    #[test]
    fn on_a_terminal_a_trial_line_is_printed_above_the_spinner() {
        let term = indicatif::InMemoryTerm::new(8, 80);
        let target = ProgressDrawTarget::term_like_with_hz(Box::new(term.clone()), 255);
        let pb = ProgressBar::with_draw_target(None, target);
        pb.set_style(ProgressStyle::with_template("explore: {msg}").unwrap());
        pb.set_message("running");
        line(&pb, "trial 1/2: no safety failure (1 faults, 2.0 s)");
        let screen = term.contents();
        let rows: Vec<&str> = screen.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(
            rows,
            [
                "trial 1/2: no safety failure (1 faults, 2.0 s)",
                "explore: running"
            ],
            "{screen}"
        );
    }

    #[test]
    fn a_finished_trial_line_names_the_trial_outcome_faults_and_seconds() {
        let ok = Outcome::NoSafetyFailure {
            faults: 2,
            duration_s: 41.26,
        };
        assert_eq!(
            trial_line(3, Some(10), &ok),
            "trial 3/10: no safety failure (2 faults, 41.3 s)"
        );
        let bad = Outcome::SafetyFailure {
            check: "election_safety".into(),
            summary: "two leaders in term 4".into(),
            report_dir: "r".into(),
            faults: 1,
            duration_s: 9.0,
        };
        assert_eq!(
            trial_line(7, None, &bad),
            "trial 7: election_safety FAILED (1 faults, 9.0 s)"
        );
        let none = Outcome::NoReport("t.toml: no checks ran".into());
        assert_eq!(
            trial_line(1, Some(1), &none),
            "trial 1/1: no report: t.toml: no checks ran"
        );
    }
}

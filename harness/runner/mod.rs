//! `raft-harness run` over many suites (a folder, or several files): each
//! suite runs as a child `raft-harness run FILE` process — process-global
//! state (the node spawner, the panic hook, the second-Ctrl+C report) stays
//! per run and a crash stays contained — `jobs` at a time without port clashes
//! ([`isolate`]), with a live summary line, a verdict line per suite as it
//! ends (and a `rerun:` line for every failure), one merged `junit.xml` and an
//! `index.html` ([`merge`]), and the closing line `N passed, N failed`.
//!
//! Builds of the suites' node kinds run first, once each, in this process
//! (outside any namespace: they may need the network, and parallel builds of
//! one kind would race); the children then find them up to date.
pub mod isolate;
pub mod merge;
pub mod retain;
pub mod select;

use crate::lin::Cancel;
use crate::report::{exit, say, Verdict};
use merge::Outcome;
use select::{Selection, Suite};
use std::collections::VecDeque;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What `run` was asked to do with many suites.
pub struct Opts {
    /// Suite files and folders of suites.
    pub paths: Vec<PathBuf>,
    /// Suites run at once (≥ 1).
    pub jobs: usize,
    /// Keep suites whose name or path contains one of these (none: all).
    pub filters: Vec<String>,
    /// Print the suites and exit.
    pub list: bool,
    pub seed: Option<u64>,
    pub reports: PathBuf,
    /// Runs kept per suite (and invocations kept in `batch.d`).
    pub keep: usize,
    pub isolation: isolate::Choice,
    pub offset_step: u16,
    /// Suites whose name or path contains one of these run with nothing
    /// beside them (e.g. suites too heavy to share 2 cores).
    pub alone: Vec<String>,
}

/// Folder (under the reports folder) of the invocations' own files; its name
/// holds a dot, which no suite name may, so it never meets a suite's folder.
pub const BATCH_DIR: &str = "batch.d";

/// Interrupts (SIGINT/SIGTERM) received by the runner.
static SIGNALS: AtomicUsize = AtomicUsize::new(0);

/// Run every selected suite; returns the exit code (see [`exit_code`]).
pub fn run_many(opts: Opts) -> i32 {
    let sel = match select_suites(&opts) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let jobs = opts.jobs.clamp(1, sel.suites.len());
    let iso = match isolation(&opts, jobs) {
        Ok(i) => i,
        Err(code) => return code,
    };
    let batch = match Batch::create(&opts.reports).map_err(fail_with(exit::CANNOT_RUN)) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let cancel = Cancel::new();
    watch_signals(cancel);
    if let Err(code) = prebuild(&sel, &batch.dir.join("build"), cancel) {
        if code != exit::INTERRUPTED {
            return code;
        }
        // Interrupted while building: junit/index still list every suite, as not run.
        let why = "the batch was interrupted while building node kinds";
        let all: Vec<usize> = (0..sel.suites.len()).collect();
        let outcomes = never_started(&sel.suites, &all, &batch.dir.join("logs"), why);
        return batch.finish(&opts, &sel, &outcomes, 0.0, all.len());
    }
    say(&format!(
        "running {} suites, {} → {}\n",
        sel.suites.len(),
        iso.describe(jobs),
        batch.dir.display()
    ));
    let mut sched = Scheduler::new(&opts, &sel, iso, jobs, &batch);
    let outcomes = sched.run();
    batch.finish(
        &opts,
        &sel,
        &outcomes,
        sched.started.elapsed().as_secs_f64(),
        sched.not_started.len(),
    )
}

/// The suites `opts` selects, kind files named as skipped. `Err` is the exit code when
/// nothing is to run: a usage error, no suite left, or `--list` (done, [`exit::PASS`]).
fn select_suites(opts: &Opts) -> Result<select::Selection, i32> {
    let sel = match select::select(&opts.paths, &opts.filters) {
        Ok(s) => s,
        Err(errors) => {
            for e in errors {
                say(&format!("{e}\n"));
            }
            return Err(exit::USAGE);
        }
    };
    if let Some(note) = sel.given_twice_note() {
        say(&format!("{note}\n"));
    }
    for k in &sel.kind_files {
        say(&format!(
            "{}: a kind file (no [[node]], [[step]] or [workload]): skipped\n",
            k.display()
        ));
    }
    if opts.list {
        use std::io::Write;
        let _ = std::io::stdout().write_all(select::listing(&sel).as_bytes());
        return Err(exit::PASS);
    }
    if sel.suites.is_empty() {
        say(&format!(
            "error: no suite to run{}\n",
            if opts.filters.is_empty() {
                String::new()
            } else {
                format!(" (--filter {} matched none)", opts.filters.join(", "))
            }
        ));
        return Err(exit::USAGE);
    }
    Ok(sel)
}

/// How `jobs` suites at once keep apart; `Err` is the exit code when they cannot.
fn isolation(opts: &Opts, jobs: usize) -> Result<isolate::Isolation, i32> {
    if jobs == 1 {
        // One at a time: no clash is possible, every suite on its own ports.
        return Ok(isolate::Isolation::Offsets {
            step: opts.offset_step,
        });
    }
    isolate::decide(opts.isolation, opts.offset_step).map_err(fail_with(exit::CANNOT_RUN))
}

/// For `map_err` where an error ends the batch: prints `error: E` and gives exit `code`.
fn fail_with<E: std::fmt::Display>(code: i32) -> impl FnOnce(E) -> i32 {
    move |e| {
        say(&format!("error: {e}\n"));
        code
    }
}

/// Set `cancel` and count every SIGINT/SIGTERM, from a thread of its own (also what
/// `explore`/`shrink` use to stop after the running trial).
pub(crate) fn watch_signals(cancel: Cancel) {
    crate::cancel::on_signals(move || {
        SIGNALS.fetch_add(1, Ordering::SeqCst);
        cancel.cancel();
    });
}

/// Build every node kind the suites use, once per (root, build command), in
/// order. Err is the exit code: 3 for a failed build, 130 when interrupted.
fn prebuild(sel: &Selection, log_dir: &Path, cancel: Cancel) -> Result<(), i32> {
    let mut done = std::collections::HashSet::new();
    for s in &sel.suites {
        for n in &s.spec.nodes {
            let kind = &s.spec.kinds[&n.kind];
            let Some(argv) = &kind.build else { continue };
            if !done.insert((kind.root.clone(), argv.clone())) {
                continue;
            }
            match crate::cluster::build::build(kind, log_dir, cancel) {
                Ok(crate::cluster::build::Built::Skipped) => {}
                Ok(crate::cluster::build::Built::Ran { secs }) => {
                    say(&format!("built node kind `{}` in {secs:.1} s\n", kind.name))
                }
                Ok(crate::cluster::build::Built::Cancelled { how }) => {
                    say(&format!("interrupted during the build of `{}` (the build {how}); no suite was started\n", kind.name));
                    return Err(exit::INTERRUPTED);
                }
                Err(e) => {
                    say(&format!("error: {e}\n"));
                    return Err(exit::CANNOT_RUN);
                }
            }
        }
    }
    Ok(())
}

/// The invocation's own folder: `REPORTS/batch.d/<timestamp>/` with `logs/`
/// (each child's output), `build/`, `junit.xml` and `index.html`.
struct Batch {
    root: PathBuf,
    dir: PathBuf,
}

impl Batch {
    fn create(reports: &Path) -> Result<Batch, String> {
        let root = reports.join(BATCH_DIR);
        let dir = root.join(chrono::Local::now().format("%Y%m%d-%H%M%S%.3f").to_string());
        std::fs::create_dir_all(dir.join("logs"))
            .map_err(|e| format!("cannot create {}: {e}", dir.join("logs").display()))?;
        Ok(Batch { root, dir })
    }

    /// Write junit.xml and index.html, print the closing line, prune old
    /// invocations. Returns the exit code.
    fn finish(
        &self,
        opts: &Opts,
        sel: &Selection,
        outcomes: &[Outcome],
        secs: f64,
        not_started: usize,
    ) -> i32 {
        let passed = outcomes.iter().filter(|o| o.passed()).count();
        let not_run = outcomes.iter().filter(|o| o.not_run.is_some()).count();
        let failed = outcomes.len() - passed - not_run;
        let mut closing = format!("{passed} passed, {failed} failed");
        if not_run > 0 {
            closing.push_str(&format!(", {not_run} not run (interrupted)"));
        }
        if sel.filtered_out > 0 {
            closing.push_str(&format!(", {} skipped", sel.filtered_out));
        }
        let mut code = exit_code(
            outcomes,
            not_started > 0 || SIGNALS.load(Ordering::SeqCst) > 0,
        );
        let files = [
            (self.dir.join("junit.xml"), merge::junit(outcomes, secs)),
            (
                self.dir.join("index.html"),
                merge::index_html(&self.dir, outcomes, &closing),
            ),
        ];
        for (path, text) in &files {
            if let Err(e) = crate::report::write_text(path, text) {
                say(&format!("error: {e}\n"));
                code = code.max(exit::CANNOT_RUN);
            }
        }
        if let Err(e) = crate::report::link_latest(&self.root, &self.dir) {
            say(&format!("error: {e}\n"));
        }
        let (_, errors) = retain::prune(&self.root, opts.keep, &self.root.join("latest"));
        for e in errors {
            say(&format!("warning: {e}\n"));
        }
        say(&format!(
            "\n  junit: {}\n  index: {}\n  {:.1} s in all\n",
            self.dir.join("junit.xml").display(),
            self.dir.join("index.html").display(),
            secs
        ));
        use std::io::Write;
        let _ = writeln!(std::io::stdout(), "{closing}");
        code
    }
}

/// The invocation's exit code: 130 if it was interrupted, else 1 if a suite
/// failed a check, else 3 if one could not run, else 4 if one was undecided,
/// else 0.
pub fn exit_code(outcomes: &[Outcome], interrupted: bool) -> i32 {
    let any = |v: Verdict| outcomes.iter().any(|o| o.verdict() == v);
    if interrupted || any(Verdict::Interrupted) {
        exit::INTERRUPTED
    } else if any(Verdict::Fail) {
        exit::CHECK_FAILED
    } else if outcomes
        .iter()
        .any(|o| !o.passed() && o.verdict() != Verdict::Undecided)
    {
        exit::CANNOT_RUN
    } else if any(Verdict::Undecided) {
        exit::UNDECIDED
    } else {
        exit::PASS
    }
}

/// A child `raft-harness run` in progress.
struct Running {
    index: usize,
    slot: usize,
    child: Child,
    started: Instant,
    log: PathBuf,
    state_dir: Option<PathBuf>,
}

/// Starts children as slots free up and collects their outcomes.
struct Scheduler<'a> {
    opts: &'a Opts,
    suites: &'a [Suite],
    iso: isolate::Isolation,
    jobs: usize,
    logs: PathBuf,
    queue: VecDeque<usize>,
    running: Vec<Running>,
    outcomes: Vec<Outcome>,
    not_started: Vec<usize>,
    started: Instant,
    live: Live,
    /// Signals already forwarded to the children, and when last.
    forwarded: (usize, Option<Instant>),
}

impl<'a> Scheduler<'a> {
    fn new(
        opts: &'a Opts,
        sel: &'a Selection,
        iso: isolate::Isolation,
        jobs: usize,
        batch: &Batch,
    ) -> Self {
        Scheduler {
            opts,
            suites: &sel.suites,
            iso,
            jobs,
            logs: batch.dir.join("logs"),
            queue: (0..sel.suites.len()).collect(),
            running: Vec::new(),
            outcomes: Vec::new(),
            not_started: Vec::new(),
            started: Instant::now(),
            live: Live::new(),
            forwarded: (0, None),
        }
    }

    fn run(&mut self) -> Vec<Outcome> {
        loop {
            self.forward_signals();
            if SIGNALS.load(Ordering::SeqCst) == 0 {
                self.start_ready();
            } else if !self.queue.is_empty() {
                self.not_started.extend(self.queue.drain(..));
            }
            self.reap();
            if self.running.is_empty() && self.queue.is_empty() {
                break;
            }
            self.live.set(&self.summary());
            std::thread::sleep(Duration::from_millis(100));
        }
        self.live.finish();
        self.report_interrupted();
        let why = "the batch was interrupted before this suite started";
        let late = never_started(self.suites, &self.not_started, &self.logs, why);
        let mut outcomes = std::mem::take(&mut self.outcomes);
        outcomes.extend(late);
        outcomes
    }

    /// `running 2 (a, b) · passed 3 · failed 1 · queued 4 · 45.2 s`
    fn summary(&self) -> String {
        let names: Vec<&str> = self
            .running
            .iter()
            .map(|r| self.suites[r.index].spec.name.as_str())
            .collect();
        let passed = self.outcomes.iter().filter(|o| o.passed()).count();
        format!(
            "running {} ({}) · passed {passed} · failed {} · queued {} · {:.1} s",
            names.len(),
            names.join(", "),
            self.outcomes.len() - passed,
            self.queue.len(),
            self.started.elapsed().as_secs_f64()
        )
    }

    /// A free slot, if any: the lowest, so slot 0 (no port offset) is reused first.
    fn free_slot(&self) -> Option<usize> {
        (0..self.jobs).find(|s| self.running.iter().all(|r| r.slot != *s))
    }

    /// Whether suite `i` runs with nothing beside it: fixed ports without
    /// namespaces, or named by `--alone`.
    fn runs_alone(&self, i: usize) -> bool {
        let s = &self.suites[i];
        (!self.iso.fixed_ports_in_parallel() && s.fixed_ports())
            || self.opts.alone.iter().any(|a| {
                s.spec.name.contains(a.as_str()) || s.file.to_string_lossy().contains(a.as_str())
            })
    }

    /// Start queued suites, in order, while slots are free. A suite that runs
    /// alone (see [`Self::runs_alone`]) waits until nothing runs, then runs in
    /// slot 0 (its own ports); nothing starts beside it.
    fn start_ready(&mut self) {
        while let Some(&next) = self.queue.front() {
            let blocked = self.running.iter().any(|r| self.runs_alone(r.index));
            if blocked || (self.runs_alone(next) && !self.running.is_empty()) {
                return;
            }
            let Some(slot) = self.free_slot() else { return };
            self.queue.pop_front();
            self.start(next, slot);
        }
    }

    fn child_args(&self, suite: &Suite, slot: usize) -> Vec<OsString> {
        let mut a: Vec<OsString> =
            vec!["run".into(), suite.file.clone().into(), "--reports".into()];
        a.push(self.opts.reports.clone().into());
        a.extend(["--keep".into(), self.opts.keep.to_string().into()]);
        if let Some(s) = self.opts.seed {
            a.extend(["--seed".into(), s.to_string().into()]);
        }
        let offset = if suite.fixed_ports() {
            0
        } else {
            self.iso.offset(slot)
        };
        if offset > 0 {
            a.extend(["--port-offset".into(), offset.to_string().into()]);
        }
        a
    }

    fn start(&mut self, index: usize, slot: usize) {
        let suite = &self.suites[index];
        let log = self.logs.join(format!("{}.log", suite.spec.name));
        let state_dir = self
            .iso
            .state_dir(&crate::cluster::process::state_dir(), index);
        let spawned = std::fs::File::create(&log).and_then(|out| {
            let err = out.try_clone()?;
            let harness = std::env::current_exe()?;
            let mut cmd = self.iso.command(
                &harness,
                &self.child_args(suite, slot),
                state_dir.as_deref(),
            );
            cmd.stdin(std::process::Stdio::null())
                .stdout(out)
                .stderr(err);
            die_with_parent(&mut cmd);
            cmd.spawn()
        });
        match spawned {
            Ok(child) => self.running.push(Running {
                index,
                slot,
                child,
                started: Instant::now(),
                log,
                state_dir,
            }),
            Err(e) => {
                let _ = std::fs::write(&log, format!("cannot start the run: {e}\n"));
                let o = self.outcome(index, exit::CANNOT_RUN, &log, 0.0);
                self.announce(&o);
                self.outcomes.push(o);
            }
        }
    }

    /// Collect the children that ended.
    fn reap(&mut self) {
        let mut i = 0;
        while i < self.running.len() {
            let code = match self.running[i].child.try_wait() {
                Ok(Some(st)) => child_code(st),
                Ok(None) => {
                    i += 1;
                    continue;
                }
                // Its status is lost: never a pass.
                Err(_) => exit::CANNOT_RUN,
            };
            let r = self.running.swap_remove(i);
            if let Some(d) = &r.state_dir {
                let _ = std::fs::remove_dir(d);
            }
            let o = self.outcome(r.index, code, &r.log, r.started.elapsed().as_secs_f64());
            self.announce(&o);
            self.outcomes.push(o);
        }
    }

    fn outcome(&self, index: usize, code: i32, log: &Path, secs: f64) -> Outcome {
        let s = &self.suites[index];
        let (run_dir, seed) = parse_start_line(log, &s.spec.name);
        let report = run_dir
            .as_ref()
            .and_then(|d| std::fs::read_to_string(d.join("report.json")).ok())
            .and_then(|t| serde_json::from_str::<crate::report::Report>(&t).ok());
        Outcome {
            name: s.spec.name.clone(),
            file: s.file.clone(),
            code,
            seed: report.as_ref().map(|r| r.seed).or(seed),
            run_dir,
            report,
            log: log.to_path_buf(),
            secs,
            not_run: None,
        }
    }

    /// The verdict line of a suite that ended (and `rerun:` if it did not pass).
    fn announce(&self, o: &Outcome) {
        let done = self.outcomes.len() + 1;
        let word = match o.verdict() {
            Verdict::Pass if o.passed() => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Undecided => "UNDECIDED",
            Verdict::Interrupted => "INTERRUPTED",
            _ => "ERROR",
        };
        let mut text = format!(
            "[{done}/{}] {word:<11} {}  {:.1} s{}  (exit {})",
            self.suites.len(),
            o.name,
            o.secs,
            o.seed.map_or(String::new(), |s| format!("  seed {s}")),
            o.code
        );
        let failing = o.failing_checks();
        if !failing.is_empty() {
            text.push_str(&format!("  failed: {}", failing.join(", ")));
        }
        match &o.run_dir {
            Some(d) => text.push_str(&format!("\n      report: {}", d.display())),
            None => text.push_str(&format!("\n      output: {}", o.log.display())),
        }
        if !o.passed() && o.verdict() != Verdict::Interrupted {
            if let Some(e) = o.report.as_ref().and_then(|r| r.error.as_ref()) {
                text.push_str(&format!(
                    "\n      error: {}",
                    e.lines().next().unwrap_or_default()
                ));
            }
            text.push_str(&format!("\n{}", rerun_line(&o.file, o.seed)));
        }
        self.live.println(&text);
    }

    /// Pass every new interrupt on to the children (each writes its
    /// interrupted report; a second one more than a second later kills their
    /// nodes at once, as for a single run).
    fn forward_signals(&mut self) {
        let n = SIGNALS.load(Ordering::SeqCst);
        if n == self.forwarded.0 {
            return;
        }
        let recent = self
            .forwarded
            .1
            .is_some_and(|t| t.elapsed() < Duration::from_secs(1));
        self.forwarded.0 = n;
        if recent {
            return;
        }
        self.forwarded.1 = Some(Instant::now());
        self.live.println(
            "interrupt: passing it on to every running suite (again to kill their nodes at once)",
        );
        for r in &self.running {
            if let Ok(pid) = i32::try_from(r.child.id()) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGINT,
                );
            }
        }
    }

    fn report_interrupted(&self) {
        let names = |v: Vec<&str>| v.join(", ");
        let interrupted: Vec<&str> = self
            .outcomes
            .iter()
            .filter(|o| o.verdict() == Verdict::Interrupted)
            .map(|o| o.name.as_str())
            .collect();
        if !interrupted.is_empty() {
            say(&format!("interrupted: {}\n", names(interrupted)));
        }
        if !self.not_started.is_empty() {
            let v = self
                .not_started
                .iter()
                .map(|i| self.suites[*i].spec.name.as_str())
                .collect();
            say(&format!("not started: {}\n", names(v)));
        }
    }
}

/// Outcomes of the suites `indices` that never started, for `why` (in
/// junit.xml: skipped; in index.html: not run).
fn never_started(suites: &[Suite], indices: &[usize], logs: &Path, why: &str) -> Vec<Outcome> {
    indices
        .iter()
        .map(|&i| {
            let s = &suites[i];
            let log = logs.join(format!("{}.log", s.spec.name));
            Outcome::never_started(&s.spec.name, &s.file, &log, why)
        })
        .collect()
}

/// `rerun: raft-harness run FILE --seed N`: the line to copy for a failure.
pub fn rerun_line(file: &Path, seed: Option<u64>) -> String {
    match seed {
        Some(s) => format!("rerun: raft-harness run {} --seed {s}", file.display()),
        None => format!("rerun: raft-harness run {}", file.display()),
    }
}

/// A child's exit code; death by a signal counts as interrupted (SIGINT,
/// SIGTERM) or as could-not-run (anything else).
fn child_code(st: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    match (st.code(), st.signal()) {
        (Some(c), _) => c,
        (None, Some(2 | 15)) => exit::INTERRUPTED,
        _ => exit::CANNOT_RUN,
    }
}

/// The run folder and seed from the child's first line,
/// `[   0.00s] suite NAME (seed N) → DIR`.
fn parse_start_line(log: &Path, name: &str) -> (Option<PathBuf>, Option<u64>) {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let head = format!("suite {name} (seed ");
    for line in text.lines() {
        let Some(rest) = line.find(&head).map(|i| &line[i + head.len()..]) else {
            continue;
        };
        let Some((seed, dir)) = rest.split_once(") → ") else {
            continue;
        };
        return (Some(PathBuf::from(dir.trim_end())), seed.parse().ok());
    }
    (None, None)
}

/// The child gets SIGTERM (an interrupt: it writes its report) if the runner dies.
fn die_with_parent(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id() as i32;
    // SAFETY: only async-signal-safe calls (prctl, getppid, _exit) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM)
                .map_err(std::io::Error::from)?;
            if nix::unistd::getppid().as_raw() != parent {
                nix::libc::_exit(1);
            }
            Ok(())
        });
    }
}

/// The live summary line on a terminal (lines printed above it), or plain
/// lines only (CI logs, pipes).
enum Live {
    Bar(indicatif::ProgressBar),
    Plain,
}

impl Live {
    fn new() -> Live {
        use std::io::IsTerminal;
        if !std::io::stderr().is_terminal() || std::env::var_os("CI").is_some() {
            return Live::Plain;
        }
        let bar =
            indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
        if let Ok(style) = indicatif::ProgressStyle::with_template("{wide_msg}") {
            bar.set_style(style);
        }
        Live::Bar(bar)
    }

    fn set(&self, text: &str) {
        if let Live::Bar(b) = self {
            b.set_message(text.to_string());
        }
    }

    fn println(&self, text: &str) {
        match self {
            Live::Bar(b) => b.println(text),
            Live::Plain => say(&format!("{text}\n")),
        }
    }

    fn finish(&self) {
        if let Live::Bar(b) = self {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_start_line_gives_run_dir_and_seed() {
        let (_d, log) = crate::testutil::temp_file(
            "x.log",
            "noise\n[   0.00s] suite ab-c (seed 42) → reports/ab-c/20260101-000000.000\nmore\n",
        );
        assert_eq!(
            parse_start_line(&log, "ab-c"),
            (
                Some(PathBuf::from("reports/ab-c/20260101-000000.000")),
                Some(42)
            )
        );
        assert_eq!(parse_start_line(&log, "other"), (None, None));
    }

    #[test]
    fn rerun_lines_and_exit_codes() {
        assert_eq!(
            rerun_line(Path::new("suites/x.toml"), Some(7)),
            "rerun: raft-harness run suites/x.toml --seed 7"
        );
        let o = |code| Outcome {
            name: "s".into(),
            file: "s.toml".into(),
            code,
            run_dir: None,
            report: None,
            log: "/nonexistent".into(),
            secs: 0.0,
            seed: None,
            not_run: None,
        };
        assert_eq!(exit_code(&[o(0), o(0)], false), 0);
        assert_eq!(exit_code(&[o(0), o(1), o(3)], false), 1);
        assert_eq!(exit_code(&[o(0), o(4), o(3)], false), 3);
        assert_eq!(exit_code(&[o(0), o(4)], false), 4);
        assert_eq!(exit_code(&[o(0), o(1)], true), 130);
        assert_eq!(exit_code(&[o(130)], false), 130);
        // A suite never started makes the batch interrupted even if the rest passed.
        let late = Outcome::never_started("l", Path::new("l.toml"), Path::new("/x"), "why");
        assert_eq!(exit_code(&[o(0), late], false), 130);
    }
}

//! One run, end to end: spec → cleanup → build → cluster → schedule with
//! workload and observer → settle → checks → reports. Whatever happens after
//! the first process starts, every process is ended and a report is written.
mod error;
mod metrics;
mod stages;

use crate::check::{self, Evidence};
use crate::cluster::Cluster;
use crate::lin::Cancel;
use crate::progress::Progress;
use crate::report::{self, exit, Report, Verdict};
use crate::spec::Spec;
pub use error::RunError;
use stages::Ctx;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub struct RunOpts {
    pub seed: Option<u64>,
    pub reports: PathBuf,
}

struct Phase(BTreeMap<String, f64>, Instant);
impl Phase {
    fn mark(&mut self, name: &str) {
        self.0
            .insert(name.to_string(), self.1.elapsed().as_secs_f64());
        self.1 = Instant::now();
    }
}

/// What a second interrupt, or a panic of the run itself, needs to write a
/// minimal report of the run in progress. Whoever writes the run's report
/// first takes it (the run at its end, or [`abandon`]); the other then writes
/// nothing.
struct Pending {
    report: Report,
    run_dir: PathBuf,
    reports: PathBuf,
    start: Instant,
}

static PENDING: Mutex<Option<Pending>> = Mutex::new(None);

/// Panics of any harness thread or task, as `thread 'NAME' panicked at FILE:LINE:COL: MESSAGE`.
static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn pending() -> MutexGuard<'static, Option<Pending>> {
    PENDING.lock().unwrap_or_else(|p| p.into_inner())
}

/// Keep the pending copy of the report current (nodes, faults so far).
fn remember(report: &Report) {
    if let Some(p) = pending().as_mut() {
        p.report = report.clone();
    }
}

/// For the panic hook: note where a harness thread or task panicked, so the
/// run ends as a harness error (exit 3) whose report says where. Nodes are
/// left to the run's normal teardown.
pub fn record_panic(info: &std::panic::PanicHookInfo<'_>) {
    let msg = info
        .payload()
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into());
    let at = info
        .location()
        .map_or("an unknown place".into(), |l| l.to_string());
    let thread = std::thread::current();
    let line = format!(
        "thread '{}' panicked at {at}: {msg}",
        thread.name().unwrap_or("unnamed")
    );
    PANICS.lock().unwrap_or_else(|p| p.into_inner()).push(line);
}

fn take_panics() -> Vec<String> {
    std::mem::take(&mut *PANICS.lock().unwrap_or_else(|p| p.into_inner()))
}

/// Write a minimal report for the run in progress that cannot end normally
/// (a second Ctrl+C, a panic of the run itself): `verdict` with `why` as its
/// error, every check `not checked`, `latest` pointing at it. Waits while the
/// run writes its own report. Returns the exit code, or None when there is no
/// run left to report (its report is already written).
pub fn abandon(verdict: Verdict, why: &str) -> Option<i32> {
    let p = pending().take()?;
    let mut r = p.report;
    r.checks = not_run(&format!("not run: {why}"));
    r.error = Some(why.to_string());
    for panic in take_panics() {
        report::add_error(&mut r, format!("harness bug: {panic}"));
    }
    r.verdict = match verdict {
        Verdict::Interrupted => Verdict::Interrupted,
        _ => Verdict::Error,
    };
    r.exit_code = r.verdict.exit_code();
    r.duration_s = p.start.elapsed().as_secs_f64();
    Some(write_reports(&mut r, &p.run_dir, &p.reports, None))
}

/// Every check, `not checked` for `why`.
fn not_run(why: &str) -> Vec<check::CheckResult> {
    crate::spec::CHECK_NAMES
        .iter()
        .map(|n| check::CheckResult::not_checked(n, why))
        .collect()
}

/// Inject a panic for the tests of panic handling: `RAFT_HARNESS_TEST_PANIC=PLACE`.
fn test_panic(place: &str) {
    if std::env::var("RAFT_HARNESS_TEST_PANIC").is_ok_and(|v| v == place) {
        panic!("injected panic (RAFT_HARNESS_TEST_PANIC={place})");
    }
}

pub async fn run(spec: Spec, opts: RunOpts, interrupt: tokio::sync::watch::Receiver<bool>) -> i32 {
    let start = Instant::now();
    let started_at = chrono::Local::now();
    let seed = opts.seed.or(spec.seed).unwrap_or_else(rand::random);
    let run_id = format!(
        "{}-{}",
        started_at.format("%Y%m%d-%H%M%S"),
        std::process::id()
    );
    let run_dir = opts
        .reports
        .join(&spec.name)
        .join(started_at.format("%Y%m%d-%H%M%S%.3f").to_string());
    let progress = Progress::new(start);
    if let Err(e) = std::fs::create_dir_all(&run_dir) {
        report::say(&format!(
            "error: cannot create the report folder {}: {e}\n",
            run_dir.display()
        ));
        return exit::CANNOT_RUN;
    }
    progress.line(format!(
        "suite {} (seed {seed}) → {}",
        spec.name,
        run_dir.display()
    ));
    let mut report = new_report(&spec, seed, &run_id, &started_at);
    *pending() = Some(Pending {
        report: report.clone(),
        run_dir: run_dir.clone(),
        reports: opts.reports.clone(),
        start,
    });
    // Builds stop on Ctrl+C (the checks have a flag of their own: see judge_evidence).
    let cancel = Cancel::new();
    let canceller = {
        let rx = interrupt.clone();
        tokio::spawn(async move {
            wait_flag(rx).await;
            cancel.cancel();
        })
    };
    let mut phase = Phase(BTreeMap::new(), Instant::now());
    let interrupted_flag = interrupt.clone();
    // One clock for the whole run: progress lines, evidence, faults and metrics
    // all count µs from `start` (journals' wall clock via the matching Unix time).
    let clock = (start, started_at.timestamp_micros().max(0) as u64);
    let ctx = Ctx {
        spec: &spec,
        seed,
        run_id: &run_id,
        run_dir: &run_dir,
        progress: &progress,
        interrupt,
        clock,
    };
    let result = run_inner(&ctx, &mut report, &mut phase, cancel).await;
    let evidence = judge_result(&spec, result, interrupted_flag, &mut report).await;
    canceller.abort();
    conclude(&mut report);
    report.timings.extend(phase.0);
    report.duration_s = start.elapsed().as_secs_f64();
    progress.finish();
    // A second Ctrl+C may have written a minimal report meanwhile: then it is done.
    let mut guard = pending();
    if guard.take().is_none() {
        return exit::INTERRUPTED;
    }
    let code = write_reports(&mut report, &run_dir, &opts.reports, evidence.as_deref());
    drop(guard);
    code
}

/// The checks' verdicts on the evidence, or why there is none; the evidence
/// for the report files.
async fn judge_result(
    spec: &Spec,
    result: Result<Evidence, RunError>,
    interrupt: tokio::sync::watch::Receiver<bool>,
    report: &mut Report,
) -> Option<Arc<Evidence>> {
    let interrupted = *interrupt.borrow();
    match result {
        Ok(evidence) => {
            // Interrupted after the schedule ended (while settling or tearing down): the
            // run is still an interrupted one, never a pass.
            if interrupted && report.verdict != Verdict::Interrupted {
                report.verdict = Verdict::Interrupted;
                report.notes.push(
                    "the run was interrupted after its schedule ended (while settling or tearing down); the checks judge what was observed".into(),
                );
            }
            let evidence = Arc::new(evidence);
            judge_evidence(spec, &evidence, interrupt, report).await;
            let deadline_us = spec.workload.as_ref().map(|w| w.request_timeout_ms * 1000);
            metrics::add(&evidence, report, deadline_us);
            Some(evidence)
        }
        Err(e) => {
            if interrupted {
                report.verdict = Verdict::Interrupted;
                report.checks = not_run("not run: the run was interrupted before the cluster ran");
            }
            report.error = Some(e.to_string());
            None
        }
    }
}

/// The report of a run that has just begun: until it has a verdict it counts
/// as one that could not run.
fn new_report(
    spec: &Spec,
    seed: u64,
    run_id: &str,
    started_at: &chrono::DateTime<chrono::Local>,
) -> Report {
    Report {
        suite: spec.name.clone(),
        spec_file: spec.file.display().to_string(),
        run_id: run_id.to_string(),
        seed,
        started_at: started_at.to_rfc3339(),
        verdict: Verdict::Error,
        exit_code: exit::CANNOT_RUN,
        spec: spec
            .sources
            .iter()
            .map(|(p, t)| (p.display().to_string(), t.clone()))
            .collect(),
        required: spec.checks.required.clone(),
        lin_timeout_ms: Some(spec.checks.lin_timeout_ms),
        ..Default::default()
    }
}

/// The run's final verdict ([`report::decide`]): interrupted if the schedule,
/// the start or the checks were; a panic of any harness task makes it a
/// harness error (exit 3) whose error says where.
fn conclude(report: &mut Report) {
    let interrupted = report.verdict == Verdict::Interrupted
        || report
            .checks
            .iter()
            .any(|c| c.summary == check::INTERRUPTED);
    report::decide(report, interrupted);
    let panics = take_panics();
    for p in &panics {
        report::add_error(report, format!("harness bug: {p}"));
    }
    if !panics.is_empty() && !interrupted {
        report.verdict = Verdict::Error;
        report.exit_code = report.verdict.exit_code();
    }
}

/// Most time the linearizability search may take once the run was interrupted
/// before its checks: the user wants the partial report soon.
const LIN_TIMEOUT_AFTER_INTERRUPT: Duration = Duration::from_secs(5);

/// Run the checks on a blocking thread and record them and their time in the
/// report. An interrupt that arrives while they run cancels them (exit 130,
/// unfinished checks `not checked`). After an interrupt that came earlier the
/// checks judge what was observed, with the search bounded by
/// [`LIN_TIMEOUT_AFTER_INTERRUPT`].
async fn judge_evidence(
    spec: &Spec,
    evidence: &Arc<Evidence>,
    interrupt: tokio::sync::watch::Receiver<bool>,
    report: &mut Report,
) {
    let t = Instant::now();
    let ev = evidence.clone();
    let mut lin_timeout = Duration::from_millis(spec.checks.lin_timeout_ms);
    let cancel = Cancel::new();
    let watcher = if *interrupt.borrow() {
        lin_timeout = lin_timeout.min(LIN_TIMEOUT_AFTER_INTERRUPT);
        None
    } else {
        Some(tokio::spawn(async move {
            wait_flag(interrupt).await;
            cancel.cancel();
        }))
    };
    report.checks =
        match tokio::task::spawn_blocking(move || check::run_all(&ev, lin_timeout, cancel)).await {
            Ok(checks) => checks,
            // The panic hook recorded where; the run ends as a harness error.
            Err(e) => not_run(&format!("not run: the checks failed ({e})")),
        };
    if let Some(w) = watcher {
        w.abort();
    }
    report
        .timings
        .insert("check".into(), t.elapsed().as_secs_f64());
    if report
        .checks
        .iter()
        .any(|c| c.summary == check::INTERRUPTED)
    {
        report.notes.push(
            "interrupted during the checks: the checks not finished are `not checked`".into(),
        );
    }
}

/// Write every report file of a run, each flushed and checked: evidence.json
/// and history.jsonl (when there is evidence), the `latest` link, report.html,
/// junit.xml, then report.json, which records the failures before it. Prints the final
/// table. Returns the exit code: the report's, or 3 (cannot run) when a file
/// could not be written — each such file is named on stderr.
fn write_reports(r: &mut Report, run_dir: &Path, reports: &Path, ev: Option<&Evidence>) -> i32 {
    let mut failed: Vec<report::WriteError> = Vec::new();
    let mut fail = |r: &mut Report, e: report::WriteError| {
        report::add_error(r, e.to_string());
        r.exit_code = exit::CANNOT_RUN;
        failed.push(e);
    };
    if let Some(ev) = ev {
        if let Err(e) = report::write_json(&run_dir.join("evidence.json"), ev) {
            fail(r, e);
        }
        if let Err(e) = report::write_file(&run_dir.join("history.jsonl"), |w| {
            for op in &ev.history {
                serde_json::to_writer(&mut *w, op)?;
                w.write_all(b"\n")?;
            }
            Ok(())
        }) {
            fail(r, e);
        }
    }
    if let Err(e) = report::link_latest(reports, run_dir) {
        fail(r, e);
    }
    if let Err(e) = report::write_text(&run_dir.join("report.html"), &report::html::render(r, ev)) {
        fail(r, e);
    }
    if let Err(e) = report::write_text(&run_dir.join("junit.xml"), &report::junit(r)) {
        fail(r, e);
    }
    if let Err(e) = report::write_json(&run_dir.join("report.json"), r) {
        fail(r, e);
    }
    report::say(&report::table(r));
    report::say(&format!("  report: {}\n", run_dir.display()));
    for e in &failed {
        report::say(&format!("error: {e}\n"));
    }
    if failed.is_empty() {
        r.exit_code
    } else {
        exit::CANNOT_RUN
    }
}

/// The run's stages in order ([`stages`]): the evidence for the checks, or why
/// the run could not get that far.
async fn run_inner(
    ctx: &Ctx<'_>,
    report: &mut Report,
    phase: &mut Phase,
    cancel: Cancel,
) -> Result<Evidence, RunError> {
    let _claim = stages::claim_ports(ctx).await?;
    phase.mark("cleanup");
    stages::build_kinds(ctx, cancel).await?;
    phase.mark("build");
    let mut up = stages::start_cluster(ctx, report).await?;
    phase.mark("start");
    test_panic("run");
    let mut driven = stages::drive(ctx, &mut up, report, phase).await;
    stages::teardown(ctx, &mut up, &mut driven, report).await;
    phase.mark("teardown");
    let evidence = stages::evidence(ctx, &up, driven, report);
    remember(report);
    Ok(evidence)
}

/// Timings and thresholds of the checks, from the suite.
fn check_settings(spec: &Spec) -> crate::check::CheckSettings {
    let election_max_ms = spec
        .nodes
        .iter()
        .map(|n| n.timing.election_max_ms)
        .max()
        .unwrap_or(spec.cluster.timing.election_max_ms);
    crate::check::CheckSettings {
        election_max_ms,
        poll_ms: spec.cluster.poll_ms,
        max_new_terms: spec.checks.max_new_terms,
        term_window_ms: spec.checks.term_window_ms.unwrap_or(5 * election_max_ms),
        terms_through_network_faults: spec.checks.terms_through_network_faults,
        node_errors_warn: spec.checks.node_errors_warn,
    }
}

/// How much each node printed, and a note for every log whose middle was cut
/// (`cluster::logcap`).
fn note_log_cuts(cluster: &Cluster, spec: &Spec, report: &mut Report) {
    for n in report.nodes.iter_mut() {
        let st = cluster.nodes[&n.id].launch.output.stats();
        n.log_printed_bytes = st.printed;
        n.log_cut_bytes = st.cut;
        if st.cut > 0 {
            report.notes.push(format!(
                "node {}'s log was cut: it printed {} bytes; the first and last {} MiB are kept in nodes/{}.log and {} bytes between them were dropped (raise [cluster] node_log_cap_mb to keep more)",
                n.id,
                st.printed,
                (spec.cluster.node_log_cap_bytes / 2) >> 20,
                n.id,
                st.cut
            ));
        }
    }
}

async fn wait_flag(mut rx: tokio::sync::watch::Receiver<bool>) {
    while !*rx.borrow() {
        if rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

//! One run, end to end: spec → cleanup → build → cluster → schedule with
//! workload and observer → settle → checks → reports. Whatever happens after
//! the first process starts, every process is ended and a report is written.
use crate::check::{self, Evidence, NodeInfo};
use crate::cluster::{build, Cluster, Dirs};
use crate::history::Outcome;
use crate::lin::Cancel;
use crate::observe::Observer;
use crate::report::{self, exit, progress::Progress, NodeReport, Report, Verdict};
use crate::schedule::{Exec, Stop};
use crate::spec::Spec;
use crate::trace::{FaultAction, FaultEvent};
use crate::workload::Recorder;
use rand::SeedableRng;
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
    r.exit_code = match verdict {
        Verdict::Interrupted => exit::INTERRUPTED,
        _ => exit::CANNOT_RUN,
    };
    r.verdict = verdict;
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
    let result = run_inner(
        clock,
        &spec,
        seed,
        &run_id,
        &run_dir,
        &progress,
        &mut report,
        &mut phase,
        interrupt,
        cancel,
    )
    .await;
    let evidence = match result {
        Ok(evidence) => {
            // Interrupted after the schedule ended (while settling or tearing down): the
            // run is still an interrupted one, never a pass.
            if *interrupted_flag.borrow() && report.verdict != Verdict::Interrupted {
                report.verdict = Verdict::Interrupted;
                report.notes.push(
                    "the run was interrupted after its schedule ended (while settling or tearing down); the checks judge what was observed".into(),
                );
            }
            let evidence = Arc::new(evidence);
            judge_evidence(&spec, &evidence, interrupted_flag.clone(), &mut report).await;
            metrics(&evidence, &mut report);
            Some(evidence)
        }
        Err(e) => {
            if *interrupted_flag.borrow() {
                report.verdict = Verdict::Interrupted;
                report.checks = not_run("not run: the run was interrupted before the cluster ran");
            }
            report.error = Some(e);
            None
        }
    };
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
        (report.verdict, report.exit_code) = (Verdict::Error, exit::CANNOT_RUN);
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

#[allow(clippy::too_many_arguments)]
async fn run_inner(
    clock: (Instant, u64),
    spec: &Spec,
    seed: u64,
    run_id: &str,
    run_dir: &Path,
    progress: &Progress,
    report: &mut Report,
    phase: &mut Phase,
    interrupt: tokio::sync::watch::Receiver<bool>,
    cancel: Cancel,
) -> Result<Evidence, String> {
    // 1. Ports: leftovers and hand-started servers go; strangers stop the run.
    let say = |l: String| progress.line(l);
    let claim = crate::cluster::cleanup::claim(spec, run_id, run_dir)?;
    crate::cluster::cleanup::clean(spec, Some(&claim), &say)?;
    phase.mark("cleanup");

    // 2. Build what the suite's kinds need, once each (kinds sharing a build step
    // in the same root, like `rust` and `rust-blackbox`, build once).
    let mut used: Vec<&str> = spec.nodes.iter().map(|n| n.kind.as_str()).collect();
    used.sort();
    used.dedup();
    let mut done = std::collections::HashSet::new();
    for k in used {
        let kind = spec.kinds[k].clone();
        let Some(argv) = &kind.build else { continue };
        if !done.insert((kind.root.clone(), argv.clone())) {
            continue;
        }
        progress.line(format!("building node kind `{k}`..."));
        let log_dir = run_dir.join("build");
        let r = tokio::task::spawn_blocking(move || build::build(&kind, &log_dir, cancel))
            .await
            .map_err(|e| format!("build task failed: {e}"))?;
        match r {
            Ok(build::Built::Skipped) => progress.line(format!("  `{k}` is up to date")),
            Ok(build::Built::Ran { secs }) => {
                progress.line(format!("  built `{k}` in {secs:.1} s"))
            }
            Ok(build::Built::Cancelled { how }) => {
                return Err(format!(
                    "interrupted during the build of `{k}` (the build {how}); nothing was started"
                ))
            }
            Err(e) => return Err(e.to_string()),
        }
        if *interrupt.borrow() {
            return Err("interrupted during the build; nothing was started".into());
        }
    }
    phase.mark("build");

    // 3. Network proxies (before the nodes: nodes are told the proxies' addresses).
    let host = if spec.cluster.host == "localhost" {
        "127.0.0.1"
    } else {
        spec.cluster.host.as_str()
    };
    let real: BTreeMap<u32, std::net::SocketAddr> = spec
        .nodes
        .iter()
        .map(|n| {
            (
                n.id,
                format!("{host}:{}", n.port)
                    .parse()
                    .expect("validated loopback host"),
            )
        })
        .collect();
    let net = if spec.cluster.proxies {
        let nodes: Vec<(u32, std::net::SocketAddr)> = real.iter().map(|(a, b)| (*a, *b)).collect();
        Some(
            crate::net::Network::start_mesh(&nodes, seed)
                .await
                .map_err(|e| format!("cannot start the link proxies: {e}"))?,
        )
    } else {
        None
    };
    let peer_addr = |from: u32, to: u32| match &net {
        Some(n) => n.listen_addr(from, to).expect("mesh has every link"),
        None => real[&to],
    };
    let dirs = Dirs {
        nodes: run_dir.join("nodes"),
        journals: run_dir.join("journals"),
        data: run_dir.join("data"),
    };
    let mut cluster = Cluster::prepare(spec, &dirs, run_id, peer_addr)
        .map_err(|e| format!("cannot prepare the node folders: {e}"))?;
    report.nodes = cluster
        .nodes
        .values()
        .map(|h| NodeReport {
            id: h.spec.id,
            kind: h.kind.name.clone(),
            port: h.spec.port,
            command: h.launch.argv.clone(),
            starts: 0,
            journal: h.journal.is_some(),
            implementation: None,
            log_printed_bytes: 0,
            log_cut_bytes: 0,
        })
        .collect();
    remember(report);

    // 4. Start every node, then wait for all of them together.
    let ids = cluster.ids();
    for id in &ids {
        cluster.start(*id).map_err(|e| e.to_string())?;
    }
    progress.line(format!(
        "started {} nodes; waiting until they answer GetStatus",
        ids.len()
    ));
    let ready = tokio::select! {
        r = cluster.wait_ready(&ids) => r.map_err(|e| e.to_string()),
        _ = wait_flag(interrupt.clone()) => Err("interrupted while nodes were starting".to_string()),
    };
    if let Err(e) = ready {
        cluster.shutdown();
        if let Some(n) = &net {
            n.shutdown().await;
        }
        return Err(e);
    }
    phase.mark("start");
    test_panic("run");

    // 5. Observe, drive, break.
    // Observation times are µs since the run's start (the progress lines' clock);
    // journals (wall clock) are converted with the matching Unix time.
    let (run_start, start_unix_us) = clock;
    let obs = Observer::new(run_start, spec.black_box_ids());
    let t0 = obs.start;
    let addrs: Vec<(u32, std::net::SocketAddr)> = real.iter().map(|(a, b)| (*a, *b)).collect();
    obs.spawn(
        &addrs,
        Duration::from_millis(spec.cluster.poll_ms),
        Duration::from_millis(spec.cluster.log_poll_ms),
    );
    let rec = Recorder::new(t0, spec.black_box_ids());
    let ticker = {
        let (p, o, r) = (progress.clone(), obs.clone(), rec.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                test_panic("ticker");
                let l = o.leader(Duration::from_secs(1)).map(|s| (s.node, s.term));
                p.tick(r.count(), l);
            }
        })
    };
    let mut exec = Exec::new(
        spec,
        &mut cluster,
        obs.clone(),
        rec.clone(),
        rand::rngs::StdRng::seed_from_u64(seed),
        seed,
        progress.clone(),
        interrupt.clone(),
        net.as_ref(),
    );
    let outcome = exec.run(&spec.steps).await;
    let schedule_end = match &outcome {
        Ok(()) => check::ScheduleEnd::Completed,
        Err(Stop::Interrupted) => check::ScheduleEnd::Interrupted {
            at_us: obs.now_us(),
        },
        Err(Stop::Fatal(e)) => check::ScheduleEnd::Stopped {
            at_us: obs.now_us(),
            why: e.to_string(),
        },
    };
    match &outcome {
        Ok(()) => {}
        Err(Stop::Interrupted) => {
            progress.line("interrupted: tearing down and writing a partial report (Ctrl+C again kills at once)");
            report.verdict = Verdict::Interrupted;
            report.exit_code = exit::INTERRUPTED;
            report.notes.push(
                "the run was interrupted; the checks judge what was observed until then".into(),
            );
        }
        Err(Stop::Fatal(e)) => {
            // The checks still judge what happened, but the suite did not run to its
            // end: without a failed check the verdict is "could not run", not a pass.
            progress.line(format!("schedule stopped: {e}"));
            report.error = Some(format!("the schedule stopped early: {e}"));
        }
    }
    phase.mark("schedule");

    // 6. Settle: stop clients, heal, resume, let followers catch up, read final logs.
    progress.line(
        "settling: workload stopped, faults healed; waiting for every running node to catch up",
    );
    exec.stop_workload().await;
    exec.heal_for_settle();
    for id in exec.cluster.ids() {
        if exec.cluster.is_paused(id) {
            exec.cluster.resume(id);
        }
    }
    let interrupted = matches!(outcome, Err(Stop::Interrupted));
    let settle_end = Instant::now()
        + if interrupted {
            Duration::from_secs(2)
        } else {
            Duration::from_millis(spec.checks.settle_timeout_ms)
        };
    let mut settled = None;
    let mut settle_end = settle_end;
    while Instant::now() < settle_end {
        // Ctrl+C after the schedule ended: settle briefly, as for one during it.
        if !interrupted && *interrupt.borrow() {
            settle_end = settle_end.min(Instant::now() + Duration::from_secs(2));
        }
        if let Some(d) = exec.caught_up().await {
            settled = Some(d);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    match &settled {
        Some(d) => progress.line(format!("settled {d}")),
        None => report.notes.push(format!(
            "the cluster did not settle (every running node holding the leader's committed log) within {} ms; final logs were read anyway",
            spec.checks.settle_timeout_ms
        )),
    }
    let mut final_logs = Vec::new();
    for (id, addr) in &addrs {
        if exec.cluster.is_running(*id) {
            let mut c = crate::client::lazy(*addr, Duration::from_millis(300));
            if let Some(s) = obs.snapshot(*id, &mut c, Duration::from_secs(3)).await {
                final_logs.push(s);
            }
        }
    }
    let faults = std::mem::take(&mut exec.faults);
    let waits = std::mem::take(&mut exec.waits);
    let mut unexpected = std::mem::take(&mut exec.unexpected);
    let exec_metrics = std::mem::take(&mut exec.metrics);
    let workload_us = exec.workload_active_us;
    drop(exec);
    ticker.abort();
    obs.stop();
    phase.mark("settle");

    // 7. Teardown.
    for (id, how) in cluster.reap_unexpected() {
        unexpected.push((id, how, obs.now_us()));
    }
    for n in report.nodes.iter_mut() {
        n.starts = cluster.nodes[&n.id].starts;
    }
    for line in cluster.shutdown() {
        tracing::debug!("{line}");
    }
    note_log_cuts(&cluster, spec, report);
    if let Some(n) = &net {
        report.link_events = n
            .events()
            .iter()
            .filter_map(|e| serde_json::to_value(e).ok())
            .collect();
        n.shutdown().await;
    }
    phase.mark("teardown");

    // 8. Evidence.
    let mut journals = BTreeMap::new();
    let mut journal_problems = Vec::new();
    for (id, h) in &cluster.nodes {
        if let Some(j) = &h.journal {
            let (ev, problems) = crate::observe::journal::read(j, start_unix_us);
            journals.insert(*id, ev);
            journal_problems.extend(problems);
        }
    }
    report.notes.extend(journal_problems.iter().cloned());
    let rec_obs = obs.take();
    for n in report.nodes.iter_mut() {
        n.implementation = rec_obs
            .statuses
            .iter()
            .rev()
            .find(|s| s.node == n.id)
            .and_then(|s| s.ext.as_ref().map(|x| x.implementation.clone()));
    }
    report.faults = faults;
    report.waits = waits.clone();
    report.metrics.extend(exec_metrics);
    report
        .metrics
        .insert("workload_s".into(), workload_us as f64 / 1e6);
    let evidence = Evidence {
        nodes: cluster
            .nodes
            .values()
            .map(|h| NodeInfo {
                id: h.spec.id,
                kind: h.kind.name.clone(),
                journal: h.journal.is_some(),
                data_dir: h
                    .kind
                    .command
                    .iter()
                    .chain(h.spec.args.iter())
                    .any(|a| a.contains("{data_dir}")),
            })
            .collect(),
        statuses: rec_obs.statuses,
        logs: rec_obs.logs,
        final_logs,
        journals,
        journal_problems,
        history: rec.snapshot(),
        waits,
        unexpected_exits: unexpected,
        isolations: isolations(&report.faults),
        poll_failures: rec_obs.poll_failures,
        faults: report.faults.clone(),
        settings: check_settings(spec),
        node_logs: cluster
            .nodes
            .values()
            .map(|h| crate::check::NodeLog {
                node: h.spec.id,
                path: h.launch.log.clone(),
                patterns: h.kind.error_patterns.clone(),
            })
            .collect(),
        schedule: schedule_end,
    };
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

/// Isolation windows from the fault events: the nodes a network step left cut off
/// from any majority, until the next heal.
fn isolations(faults: &[FaultEvent]) -> Vec<crate::check::isolated_commits::Isolation> {
    let mut out = Vec::new();
    for (i, f) in faults.iter().enumerate() {
        if f.cut_off.is_empty() {
            continue;
        }
        let end_us = faults[i + 1..]
            .iter()
            .find(|g| g.action == FaultAction::Heal)
            .map_or(u64::MAX, |g| g.t_us);
        out.push(crate::check::isolated_commits::Isolation {
            nodes: f.cut_off.clone(),
            start_us: f.t_us,
            end_us,
        });
    }
    out
}

async fn wait_flag(mut rx: tokio::sync::watch::Receiver<bool>) {
    while !*rx.borrow() {
        if rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Throughput, latency and failover numbers for the report.
fn metrics(ev: &Evidence, report: &mut Report) {
    let m = &mut report.metrics;
    let count = |o: Outcome| ev.history.iter().filter(|op| op.outcome == o).count() as f64;
    m.insert("ops_ok".into(), count(Outcome::Ok));
    m.insert("ops_fail".into(), count(Outcome::Fail));
    m.insert("ops_info".into(), count(Outcome::Info));
    let mut lat: Vec<u64> = ev
        .history
        .iter()
        .filter(|o| o.outcome == Outcome::Ok && o.client != 0)
        .filter_map(|o| o.complete_us.map(|c| c - o.invoke_us))
        .collect();
    lat.sort_unstable();
    if !lat.is_empty() {
        let pct = |p: f64| lat[((lat.len() - 1) as f64 * p).round() as usize] as f64 / 1000.0;
        m.insert("latency_p50_ms".into(), pct(0.5));
        m.insert("latency_p99_ms".into(), pct(0.99));
        let secs = m.get("workload_s").copied().unwrap_or(0.0);
        if secs > 0.0 {
            m.insert(
                "throughput_ok_per_s".into(),
                (lat.len() as f64 / secs * 10.0).round() / 10.0,
            );
        }
    }
    let mut n = 0;
    for f in &report.faults {
        if !f.action.is_disruptive() {
            continue;
        }
        n += 1;
        if let Some(ms) = crate::schedule::first_commit_after_ms(&ev.history, f.t_us) {
            m.insert(format!("first_commit_after_fault_ms.{n}"), ms as f64);
        }
    }
    // Terms with a current leader (a majority followed it), as the waits judge.
    let terms = crate::observe::view::leader_terms(&ev.statuses, ev.nodes.len(), 1_000_000);
    m.insert("leader_terms_seen".into(), terms.len() as f64);
}

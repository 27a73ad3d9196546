//! The stages of one run, each taking and returning plain data:
//! ports → build → start ([`Up`]) → schedule and settle ([`Driven`]) →
//! teardown → [`Evidence`]. `run::run_inner` calls them in order.
use super::error::RunError;
use super::{test_panic, wait_flag};
use crate::check::{self, Evidence, NodeInfo, ScheduleEnd};
use crate::cluster::{build, cleanup, Cluster, Dirs};
use crate::lin::Cancel;
use crate::net::Network;
use crate::observe::{LogSnapshot, Observer};
use crate::progress::Progress;
use crate::report::{NodeReport, Report, Verdict};
use crate::schedule::{self, Exec, Stop};
use crate::spec::Spec;
use crate::workload::Recorder;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// What every stage reads: the suite, its seed, where its files go, the
/// progress lines, the interrupt flag and the run's clock.
pub struct Ctx<'a> {
    pub spec: &'a Spec,
    pub seed: u64,
    pub run_id: &'a str,
    pub run_dir: &'a Path,
    pub progress: &'a Progress,
    pub interrupt: watch::Receiver<bool>,
    /// The run's start, and the same instant in µs since the Unix epoch (for
    /// the journals' wall clock).
    pub clock: (Instant, u64),
}

impl Ctx<'_> {
    fn interrupted(&self) -> bool {
        *self.interrupt.borrow()
    }
}

/// Ports: leftovers and hand-started servers go; strangers stop the run. The
/// claim returned holds the ports until it is dropped.
pub async fn claim_ports(ctx: &Ctx<'_>) -> Result<cleanup::Claim, RunError> {
    let say = |l: String| ctx.progress.line(l);
    let claim =
        cleanup::claim(ctx.spec, ctx.run_id, ctx.run_dir).map_err(|e| RunError::setup("", e))?;
    cleanup::clean(ctx.spec, Some(&claim), &say)
        .await
        .map_err(|e| RunError::setup("", e))?;
    Ok(claim)
}

/// Build what the suite's kinds need, once each (kinds sharing a build step in
/// the same root, like `rust` and `rust-blackbox`, build once).
pub async fn build_kinds(ctx: &Ctx<'_>, cancel: Cancel) -> Result<(), RunError> {
    let spec = ctx.spec;
    // Before any build or container: a docker run must not report faults its packet filters
    // cannot inject (`docker::fit`).
    let refused = crate::docker::fit::refusals(spec);
    if !refused.is_empty() {
        return Err(RunError::Setup(refused.join("\n")));
    }
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
        ctx.progress.line(format!("building node kind `{k}`..."));
        let log_dir = ctx.run_dir.join("build");
        let r = tokio::task::spawn_blocking(move || build::build(&kind, &log_dir, cancel))
            .await
            .map_err(RunError::BuildTask)?;
        match r {
            Ok(build::Built::Skipped) => ctx.progress.line(format!("  `{k}` is up to date")),
            Ok(build::Built::Ran { secs }) => {
                ctx.progress.line(format!("  built `{k}` in {secs:.1} s"))
            }
            Ok(build::Built::Cancelled { how }) => {
                return Err(RunError::interrupted(format!(
                    "during the build of `{k}` (the build {how}); nothing was started"
                )))
            }
            Err(e) => return Err(RunError::Build(e.to_string())),
        }
        if ctx.interrupted() {
            return Err(RunError::interrupted(
                "during the build; nothing was started",
            ));
        }
    }
    Ok(())
}

/// A started cluster: its processes, the link proxies (with `proxies = true`)
/// and each node's own address (the harness talks to nodes directly).
pub struct Up {
    pub cluster: Cluster,
    pub net: Option<Network>,
    pub addrs: Vec<(u32, SocketAddr)>,
    /// The `messages.jsonl` writer of RPC-aware links (`network = "rpc"`).
    pub trace_task: Option<tokio::task::JoinHandle<u64>>,
}

/// Start the link proxies, then every node, and wait until all answer
/// GetStatus. On failure everything started is ended again.
pub async fn start_cluster(ctx: &Ctx<'_>, report: &mut Report) -> Result<Up, RunError> {
    let spec = ctx.spec;
    let host = if spec.cluster.host == "localhost" {
        "127.0.0.1"
    } else {
        spec.cluster.host.as_str()
    };
    let real: BTreeMap<u32, SocketAddr> = spec
        .nodes
        .iter()
        .map(|n| {
            let addr = format!("{host}:{}", n.port)
                .parse()
                .expect("validated loopback host");
            (n.id, addr)
        })
        .collect();
    let addrs: Vec<(u32, SocketAddr)> = real.iter().map(|(a, b)| (*a, *b)).collect();
    // Proxies before the nodes: nodes are told the proxies' addresses.
    let mut trace_task = None;
    let net = if spec.cluster.proxies {
        let started = if spec.cluster.rpc {
            let (seed, dir) = (ctx.seed, ctx.run_dir);
            crate::net::rpc::start_for_run(&addrs, seed, dir, ctx.clock.0, &mut trace_task).await
        } else {
            Network::start_mesh(&addrs, ctx.seed)
                .await
                .map_err(|e| e.to_string())
        };
        Some(started.map_err(|e| RunError::setup("cannot start the link proxies", e))?)
    } else {
        None
    };
    let peer_addr = |from: u32, to: u32| match &net {
        Some(n) => n.listen_addr(from, to).expect("mesh has every link"),
        None => real[&to],
    };
    let dirs = Dirs {
        nodes: ctx.run_dir.join("nodes"),
        journals: ctx.run_dir.join("journals"),
        data: ctx.run_dir.join("data"),
    };
    let cluster = Cluster::prepare(spec, &dirs, ctx.run_id, peer_addr)
        .map_err(|e| RunError::setup("cannot prepare the node folders", e))?;
    report.nodes = node_reports(&cluster);
    super::remember(report);
    let mut up = Up {
        cluster,
        net,
        addrs,
        trace_task,
    };
    if let Err(e) = start_nodes(ctx, &mut up.cluster).await {
        up.cluster.shutdown().await;
        if let Some(n) = &up.net {
            n.shutdown().await;
        }
        return Err(e);
    }
    Ok(up)
}

fn node_reports(cluster: &Cluster) -> Vec<NodeReport> {
    cluster
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
        .collect()
}

/// Start every node, then wait for all of them together.
async fn start_nodes(ctx: &Ctx<'_>, cluster: &mut Cluster) -> Result<(), RunError> {
    let ids = cluster.ids();
    for id in &ids {
        cluster.start(*id).map_err(|e| RunError::setup("", e))?;
    }
    ctx.progress.line(format!(
        "started {} nodes; waiting until they answer GetStatus",
        ids.len()
    ));
    tokio::select! {
        r = cluster.wait_ready(&ids) => r.map_err(|e| RunError::setup("", e)),
        _ = wait_flag(ctx.interrupt.clone()) => Err(RunError::interrupted("while nodes were starting")),
    }
}

/// What the schedule stage produced: the observations and the history (still
/// in their collectors), the schedule's record and how it ended, and the
/// final logs read after settling.
pub struct Driven {
    pub obs: Observer,
    pub rec: Recorder,
    pub record: schedule::Record,
    pub end: ScheduleEnd,
    pub final_logs: Vec<LogSnapshot>,
    /// Every call on RPC-aware links, read back at teardown (None: TCP links or none).
    pub messages: Option<Vec<crate::net::trace::Message>>,
}

/// Observe, drive, break; then settle. `phase` is marked after the schedule
/// and after the settle.
pub async fn drive(
    ctx: &Ctx<'_>,
    up: &mut Up,
    report: &mut Report,
    phase: &mut super::Phase,
) -> Driven {
    let spec = ctx.spec;
    let obs = Observer::new(ctx.clock.0, spec.black_box_ids());
    obs.spawn(
        &up.addrs,
        Duration::from_millis(spec.cluster.poll_ms),
        Duration::from_millis(spec.cluster.log_poll_ms),
    );
    let rec = Recorder::new(obs.start, spec.black_box_ids());
    let ticker = spawn_ticker(ctx.progress, &obs, &rec);
    let mut exec = Exec::new(schedule::Setup {
        spec,
        cluster: &mut up.cluster,
        net: up.net.as_ref(),
        obs: obs.clone(),
        rec: rec.clone(),
        seed: ctx.seed,
        progress: ctx.progress.clone(),
        interrupt: ctx.interrupt.clone(),
    });
    let outcome = exec.run(&spec.steps).await;
    let end = schedule_end(ctx, &obs, &outcome, report);
    phase.mark("schedule");
    let interrupted = matches!(outcome, Err(Stop::Interrupted));
    settle(ctx, &mut exec, interrupted, report).await;
    let final_logs = final_logs(&mut exec, &obs, &up.addrs).await;
    let record = exec.finish();
    ticker.abort();
    obs.stop();
    phase.mark("settle");
    Driven {
        obs,
        rec,
        record,
        end,
        final_logs,
        messages: None,
    }
}

/// The status line's ticker: op count and leader, every 200 ms.
fn spawn_ticker(
    progress: &Progress,
    obs: &Observer,
    rec: &Recorder,
) -> tokio::task::JoinHandle<()> {
    let (p, o, r) = (progress.clone(), obs.clone(), rec.clone());
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            test_panic("ticker");
            let l = o.leader(Duration::from_secs(1)).map(|s| (s.node, s.term));
            p.tick(r.count(), l);
        }
    })
}

/// How the schedule ended, noted in the report: an interrupted run is
/// `interrupted` (exit 130); a schedule that stopped early is an error unless a
/// check fails.
fn schedule_end(
    ctx: &Ctx<'_>,
    obs: &Observer,
    outcome: &Result<(), Stop>,
    report: &mut Report,
) -> ScheduleEnd {
    match outcome {
        Ok(()) => ScheduleEnd::Completed,
        Err(Stop::Interrupted) => {
            ctx.progress.line("interrupted: tearing down and writing a partial report (Ctrl+C again kills at once)");
            report.verdict = Verdict::Interrupted;
            report.exit_code = Verdict::Interrupted.exit_code();
            report.notes.push(
                "the run was interrupted; the checks judge what was observed until then".into(),
            );
            ScheduleEnd::Interrupted {
                at_us: obs.now_us(),
            }
        }
        Err(Stop::Fatal(e)) => {
            // The checks still judge what happened, but the suite did not run to its
            // end: without a failed check the verdict is "could not run", not a pass.
            ctx.progress.line(format!("schedule stopped: {e}"));
            report.error = Some(format!("the schedule stopped early: {e}"));
            ScheduleEnd::Stopped {
                at_us: obs.now_us(),
                why: e.to_string(),
            }
        }
    }
}

/// Stop clients, heal, resume, and let followers catch up: until every running
/// node holds the leader's committed log, or the settle timeout (2 s after an
/// interrupt).
async fn settle(ctx: &Ctx<'_>, exec: &mut Exec<'_>, interrupted: bool, report: &mut Report) {
    ctx.progress.line(
        "settling: workload stopped, faults healed; waiting for every running node to catch up",
    );
    exec.stop_workload().await;
    exec.heal_for_settle();
    exec.resume_all();
    if nothing_to_settle(ctx, exec, report) {
        return;
    }
    let timeout_ms = ctx.spec.checks.settle_timeout_ms;
    let mut settle_end = Instant::now()
        + if interrupted {
            Duration::from_secs(2)
        } else {
            Duration::from_millis(timeout_ms)
        };
    let mut settled = None;
    while Instant::now() < settle_end {
        // Ctrl+C after the schedule ended: settle briefly, as for one during it.
        if !interrupted && ctx.interrupted() {
            settle_end = settle_end.min(Instant::now() + Duration::from_secs(2));
        }
        if let Some(d) = exec.caught_up().await {
            settled = Some(d);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    match &settled {
        Some(d) => ctx.progress.line(format!("settled {d}")),
        None => report.notes.push(format!(
            "the cluster did not settle (every running node holding the leader's committed log) within {timeout_ms} ms; final logs were read anyway"
        )),
    }
}

/// No node runs (the schedule killed or crashed every one and restarted none):
/// there is nothing to wait for, so the settle ends at once, said in the
/// progress and in the report's notes. True in that case.
fn nothing_to_settle(ctx: &Ctx<'_>, exec: &mut Exec<'_>, report: &mut Report) -> bool {
    if ctx.spec.nodes.iter().any(|n| exec.is_running(n.id)) {
        return false;
    }
    let why = "no node is running at the end of the schedule (every node was stopped and none restarted): nothing to settle, no final log read";
    ctx.progress.line(format!("settle skipped: {why}"));
    report.notes.push(format!("settle skipped: {why}"));
    true
}

/// The whole log of every running node.
async fn final_logs(
    exec: &mut Exec<'_>,
    obs: &Observer,
    addrs: &[(u32, SocketAddr)],
) -> Vec<LogSnapshot> {
    let mut out = Vec::new();
    for (id, addr) in addrs {
        if exec.is_running(*id) {
            let mut c = crate::client::lazy(*addr, Duration::from_millis(300));
            if let Some(s) = obs.snapshot(*id, &mut c, Duration::from_secs(3)).await {
                out.push(s);
            }
        }
    }
    out
}

/// End every node and proxy; record exits nobody asked for, restarts, log
/// sizes and the proxies' link events.
pub async fn teardown(ctx: &Ctx<'_>, up: &mut Up, driven: &mut Driven, report: &mut Report) {
    let cluster = &mut up.cluster;
    for (id, how) in cluster.reap_unexpected() {
        driven
            .record
            .unexpected
            .push((id, how, driven.obs.now_us()));
    }
    for n in report.nodes.iter_mut() {
        n.starts = cluster.nodes[&n.id].starts;
    }
    for line in cluster.shutdown().await {
        tracing::debug!("{line}");
    }
    super::note_log_cuts(cluster, ctx.spec, report);
    if let Some(n) = up.net.take() {
        report.link_events = n
            .events()
            .iter()
            .filter_map(|e| serde_json::to_value(e).ok())
            .collect();
        n.shutdown().await;
    }
    driven.messages = crate::net::rpc::finish_trace(up.trace_task.take(), ctx.run_dir).await;
}

/// The evidence for the checks, from what the stages gathered; the report gets
/// the faults, waits, journal problems, node implementations and schedule metrics.
pub fn evidence(ctx: &Ctx<'_>, up: &Up, driven: Driven, report: &mut Report) -> Evidence {
    let (journals, journal_problems) = read_journals(&up.cluster, ctx.clock.1);
    report.notes.extend(journal_problems.iter().cloned());
    let observed = driven.obs.take();
    for n in report.nodes.iter_mut() {
        n.implementation = observed
            .statuses
            .iter()
            .rev()
            .find(|s| s.node == n.id)
            .and_then(|s| s.ext.as_ref().map(|x| x.implementation.clone()));
    }
    let record = driven.record;
    report.faults = record.faults.clone();
    report.waits = record.waits.clone();
    report.metrics.extend(record.metrics);
    let workload_s = record.workload_active_us as f64 / 1e6;
    report.metrics.insert("workload_s".into(), workload_s);
    Evidence {
        nodes: node_infos(&up.cluster),
        statuses: observed.statuses,
        logs: observed.logs,
        final_logs: driven.final_logs,
        journals,
        journal_problems,
        history: driven.rec.snapshot(),
        waits: record.waits,
        unexpected_exits: record.unexpected,
        isolations: check::isolated_commits::isolations(&record.faults),
        poll_failures: observed.poll_failures,
        faults: record.faults,
        settings: super::check_settings(ctx.spec),
        node_logs: node_logs(&up.cluster),
        schedule: driven.end,
        rpc_links: driven.messages.is_some(),
        message_trace: driven.messages.as_ref().and_then(|m| {
            let path = ctx.run_dir.join(crate::net::rpc::TRACE_FILE);
            crate::net::trace::TraceSize::of(&path, m.len())
        }),
        messages: driven.messages,
    }
}

/// Every node's journal events, and the problems of reading them.
#[allow(clippy::type_complexity)]
fn read_journals(
    cluster: &Cluster,
    start_unix_us: u64,
) -> (
    BTreeMap<u32, Vec<crate::observe::journal::Event>>,
    Vec<String>,
) {
    let mut journals = BTreeMap::new();
    let mut problems = Vec::new();
    for (id, h) in &cluster.nodes {
        if let Some(j) = &h.journal {
            let (ev, p) = crate::observe::journal::read(j, start_unix_us);
            journals.insert(*id, ev);
            problems.extend(p);
        }
    }
    (journals, problems)
}

fn node_infos(cluster: &Cluster) -> Vec<NodeInfo> {
    cluster
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
        .collect()
}

fn node_logs(cluster: &Cluster) -> Vec<check::NodeLog> {
    cluster
        .nodes
        .values()
        .map(|h| check::NodeLog {
            node: h.spec.id,
            path: h.launch.log.clone(),
            patterns: h.kind.error_patterns.clone(),
        })
        .collect()
}

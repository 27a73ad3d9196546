//! The schedule executor: runs a suite's steps against the cluster — waits,
//! workload on/off, process faults, network faults, repeats, random nemesis —
//! and records what it did and when, for the checkers and the report.
mod lead;
mod msgnemesis;
mod msgstep;
pub mod netfault;

use crate::cluster::Cluster;
use crate::history::Outcome;
use crate::observe::view::{self, CommitTarget, NodeState};
use crate::observe::{Observer, StatusSample};
use crate::progress::Progress;
use crate::spec::{Action, ClientMode, NemesisFault, ProcFault, Spec, Step, Target, WaitFor};
pub use crate::trace::FaultEvent;
use crate::trace::{FaultAction, WaitCondition, WaitRecord};
use crate::workload::{self, Recorder};
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Why the schedule ended early.
#[derive(Debug)]
pub enum Stop {
    Interrupted,
    Fatal(String),
}

/// What the schedule acts on and reports to: the suite, the started cluster and
/// its link proxies (`None` without `proxies = true`), the observer and the
/// history recorder of the run, the seed of every random choice, the progress
/// lines and the interrupt flag.
pub struct Setup<'a> {
    pub spec: &'a Spec,
    pub cluster: &'a mut Cluster,
    pub net: Option<&'a crate::net::Network>,
    pub obs: Observer,
    pub rec: Recorder,
    pub seed: u64,
    pub progress: Progress,
    pub interrupt: tokio::sync::watch::Receiver<bool>,
}

/// What the schedule recorded, for the checks and the report ([`Exec::finish`]).
#[derive(Debug, Default)]
pub struct Record {
    /// Every fault and intervention, in the order taken.
    pub faults: Vec<FaultEvent>,
    pub waits: Vec<WaitRecord>,
    /// Nodes that exited without the harness asking: (node, how, µs).
    pub unexpected: Vec<(u32, String, u64)>,
    /// `failover_ms.N` and the other numbers the waits measured.
    pub metrics: BTreeMap<String, f64>,
    /// How long the workload ran, in µs.
    pub workload_active_us: u64,
}

/// The schedule executor of one run ([`Exec::run`], then the settle helpers,
/// then [`Exec::finish`]).
pub struct Exec<'a> {
    spec: &'a Spec,
    cluster: &'a mut Cluster,
    obs: Observer,
    rec: Recorder,
    rng: StdRng,
    seed: u64,
    progress: Progress,
    interrupt: tokio::sync::watch::Receiver<bool>,
    net: Option<&'a crate::net::Network>,
    faults: Vec<FaultEvent>,
    waits: Vec<WaitRecord>,
    unexpected: Vec<(u32, String, u64)>,
    metrics: BTreeMap<String, f64>,
    workload: Option<workload::Running>,
    workload_started_us: Option<u64>,
    workload_active_us: u64,
    previous: Vec<u32>,
    /// Nodes the last disruptive fault hit, and the highest term seen before it.
    last_hit: Vec<u32>,
    last_hit_term: i32,
    last_hit_us: u64,
    probe_n: u64,
    /// Directed links cut by network steps since the last heal.
    cut: std::collections::BTreeSet<(u32, u32)>,
    /// Nodes each labelled step (`label = "name"`) last acted on, for `@name`.
    labels: BTreeMap<String, Vec<u32>>,
}

impl<'a> Exec<'a> {
    /// Random choices come from a generator seeded with `s.seed`.
    pub fn new(s: Setup<'a>) -> Self {
        Exec {
            spec: s.spec,
            cluster: s.cluster,
            obs: s.obs,
            rec: s.rec,
            rng: StdRng::seed_from_u64(s.seed),
            seed: s.seed,
            progress: s.progress,
            interrupt: s.interrupt,
            net: s.net,
            faults: Vec::new(),
            waits: Vec::new(),
            unexpected: Vec::new(),
            metrics: BTreeMap::new(),
            workload: None,
            workload_started_us: None,
            workload_active_us: 0,
            previous: Vec::new(),
            last_hit: Vec::new(),
            last_hit_term: 0,
            last_hit_us: 0,
            probe_n: 0,
            cut: Default::default(),
            labels: BTreeMap::new(),
        }
    }

    fn fresh(&self) -> Duration {
        Duration::from_millis(self.spec.cluster.poll_ms * 4 + 400)
    }

    fn check_interrupt(&self) -> Result<(), Stop> {
        if *self.interrupt.borrow() {
            Err(Stop::Interrupted)
        } else {
            Ok(())
        }
    }

    /// Sleep, noticing interrupts and nodes that die on their own.
    async fn pause_for(&mut self, d: Duration) -> Result<(), Stop> {
        let end = Instant::now() + d;
        loop {
            self.check_interrupt()?;
            self.reap();
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(());
            }
            let mut int = self.interrupt.clone();
            tokio::select! {
                _ = tokio::time::sleep(left.min(Duration::from_millis(100))) => {}
                _ = int.changed() => {}
            }
        }
    }

    fn reap(&mut self) {
        for (id, how) in self.cluster.reap_unexpected() {
            let t = self.obs.now_us();
            self.progress.line(format!("node {id} {how} on its own"));
            self.obs.forget(id);
            self.obs.set_down(id, true);
            self.unexpected.push((id, how, t));
        }
    }

    pub async fn run(&mut self, steps: &[Step]) -> Result<(), Stop> {
        let total = steps.len();
        for (i, step) in steps.iter().enumerate() {
            self.check_interrupt()?;
            self.progress.step(format!(
                "step {}/{} ({}) {}",
                i + 1,
                total,
                step.at,
                describe(&step.action)
            ));
            self.step(step).await?;
        }
        Ok(())
    }

    async fn step(&mut self, step: &Step) -> Result<(), Stop> {
        match &step.action {
            Action::Wait {
                cond,
                timeout_ms,
                expect_timeout,
            } => {
                self.wait(*cond, *timeout_ms, *expect_timeout, &step.at)
                    .await
            }
            Action::Workload { start } => {
                if *start {
                    self.start_workload();
                } else {
                    self.stop_workload().await;
                }
                Ok(())
            }
            Action::Sleep { ms } => self.pause_for(Duration::from_millis(*ms)).await,
            Action::Fault { fault, target } => {
                let ids = self.resolve(target, &step.at).await?;
                if let Some(l) = &step.label {
                    self.labels.insert(l.clone(), ids.clone());
                }
                self.proc_fault(*fault, ids, &step.at).await
            }
            Action::Net { .. } | Action::Heal => {
                self.net_step(&step.action, &step.at).await?;
                if let Some(l) = &step.label {
                    self.labels.insert(l.clone(), self.previous.clone());
                }
                Ok(())
            }
            Action::Msg(m) => self.msg_step(m, &step.at, step.label.as_deref()).await,
            Action::Repeat { times, steps } => {
                for round in 0..*times {
                    self.progress
                        .note(format!("{}: round {}/{}", step.at, round + 1, times));
                    Box::pin(self.run(steps)).await?;
                }
                Ok(())
            }
            Action::Nemesis {
                faults,
                interval_ms,
                duration_ms,
            } => {
                self.nemesis(faults, *interval_ms, *duration_ms, &step.at)
                    .await
            }
            Action::LeadBy { kind, timeout_ms } => self.lead_by(kind, *timeout_ms, &step.at).await,
        }
    }

    pub fn start_workload(&mut self) {
        let Some(w) = &self.spec.workload else { return };
        if self.workload.is_some() {
            return;
        }
        let targets: Vec<(u32, std::net::SocketAddr)> = self
            .cluster
            .ids()
            .into_iter()
            .map(|id| (id, self.cluster.addr(id)))
            .collect();
        self.workload_started_us = Some(self.obs.now_us());
        self.record(
            FaultAction::WorkloadStart,
            vec![],
            format!(
                "{} clients",
                w.clients + w.groups.iter().map(|g| g.clients).sum::<u32>()
            ),
            "",
        );
        self.workload = Some(workload::start(
            w,
            targets,
            self.rec.clone(),
            self.rng.random(),
        ));
    }

    pub async fn stop_workload(&mut self) {
        if let Some(r) = self.workload.take() {
            let stats = r.stop().await;
            if let Some(s) = self.workload_started_us.take() {
                self.workload_active_us += self.obs.now_us() - s;
            }
            let open = self.spec.workload.as_ref().map(|w| w.mode) == Some(ClientMode::Open);
            let detail = workload::open::note(&mut self.metrics, stats, open);
            if stats.dropped > 0 {
                self.progress.line(format!("workload: {detail}"));
            }
            self.record(FaultAction::WorkloadStop, vec![], detail, "");
        }
    }

    fn record(&mut self, action: FaultAction, nodes: Vec<u32>, detail: String, at: &str) {
        let t_us = self.obs.now_us();
        self.record_at(t_us, action, nodes, detail, at);
    }

    /// Record an event that took effect at `t_us` (taken before acting).
    fn record_at(
        &mut self,
        t_us: u64,
        action: FaultAction,
        nodes: Vec<u32>,
        detail: String,
        at: &str,
    ) {
        let e = FaultEvent {
            t_us,
            action,
            nodes,
            cut_off: Vec::new(),
            detail,
            at: at.into(),
        };
        if !at.is_empty() {
            self.progress.line(format!(
                "{:>8.3} s  {} {}{}",
                e.t_us as f64 / 1e6,
                e.action,
                crate::trace::list(e.nodes.iter().copied()),
                if e.detail.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", e.detail)
                }
            ));
        }
        self.faults.push(e);
    }

    fn running(&mut self) -> Vec<u32> {
        self.cluster
            .ids()
            .into_iter()
            .filter(|id| self.cluster.is_running(*id))
            .collect()
    }

    /// Running nodes that are not paused: those that can answer.
    fn live(&mut self) -> Vec<u32> {
        let running = self.running();
        running
            .into_iter()
            .filter(|id| !self.cluster.is_paused(*id))
            .collect()
    }

    /// The term a later leader must exceed after a fault: the current leader's
    /// (a cut-off node's higher term is not the cluster's), else the highest
    /// term among fresh answers.
    fn fault_term(&self) -> i32 {
        match self.obs.leader(self.fresh()) {
            Some(l) => l.term,
            None => self
                .obs
                .fresh(self.fresh())
                .iter()
                .map(|s| s.term)
                .max()
                .unwrap_or(0),
        }
    }

    /// Wait (bounded by 20 election timeouts) for a current leader.
    async fn await_leader(&mut self) -> Result<Option<StatusSample>, Stop> {
        let limit = Duration::from_millis(self.spec.cluster.timing.election_max_ms * 20);
        let end = Instant::now() + limit;
        loop {
            if let Some(l) = self.obs.leader(self.fresh()) {
                return Ok(Some(l));
            }
            if Instant::now() > end {
                return Ok(None);
            }
            self.pause_for(Duration::from_millis(50)).await?;
        }
    }

    /// Turn a target into node ids. `leader` and `follower` wait (bounded) for a
    /// current leader (see `observe::view`); without one the fault is skipped
    /// and the missing leader is recorded as a failed wait.
    async fn resolve(&mut self, t: &Target, at: &str) -> Result<Vec<u32>, Stop> {
        let running = self.running();
        let live = self.live();
        let n = self.cluster.ids().len();
        let leader = match t {
            Target::Leader | Target::Follower => {
                let l = self.await_leader().await?;
                if l.is_none() {
                    let why = self.obs.with_view(self.fresh(), view::why_no_leader);
                    self.waits.push(WaitRecord {
                        at: at.into(),
                        condition: WaitCondition::LeaderToTarget,
                        timeout_ms: self.spec.cluster.timing.election_max_ms * 20,
                        expect_timeout: false,
                        met_after_ms: None,
                        detail: format!(
                            "no node was followed by a majority, so the fault was not injected: {why}"
                        ),
                    });
                }
                l
            }
            _ => None,
        };
        let pick = |rng: &mut StdRng, from: &[u32], k: usize| -> Vec<u32> {
            let mut v = from.to_vec();
            v.shuffle(rng);
            v.truncate(k);
            v.sort();
            v
        };
        let ids = match t {
            Target::Leader => leader.map(|l| vec![l.node]).unwrap_or_default(),
            Target::Follower => {
                let f: Vec<u32> = match &leader {
                    Some(l) => self
                        .obs
                        .with_view(self.fresh(), |v, _| view::followers(v, l)),
                    None => Vec::new(),
                };
                let f: Vec<u32> = f.into_iter().filter(|i| live.contains(i)).collect();
                pick(&mut self.rng, &f, 1)
            }
            Target::Candidate => self
                .obs
                .with_view(self.fresh(), |v, _| view::candidates(v))
                .into_iter()
                .filter(|i| live.contains(i))
                .collect(),
            Target::Isolated => netfault::cut_off(&self.cluster.ids(), &self.cut),
            Target::Label(name) => self.labels.get(name).cloned().unwrap_or_default(),
            Target::Random => pick(&mut self.rng, &running, 1),
            Target::Ids(v) => v.clone(),
            Target::Minority => pick(&mut self.rng, &running, (n - 1) / 2),
            Target::Majority => pick(&mut self.rng, &running, n / 2 + 1),
            Target::All => self.cluster.ids(),
            Target::Down => self
                .cluster
                .ids()
                .into_iter()
                .filter(|i| !running.contains(i))
                .collect(),
            Target::Paused => self
                .cluster
                .ids()
                .into_iter()
                .filter(|i| self.cluster.is_paused(*i))
                .collect(),
            Target::Previous => self.previous.clone(),
        };
        Ok(ids)
    }

    pub async fn proc_fault(&mut self, f: ProcFault, ids: Vec<u32>, at: &str) -> Result<(), Stop> {
        if ids.is_empty() {
            self.progress
                .note(format!("{at}: no node to {f:?}; skipped"));
            return Ok(());
        }
        if f == ProcFault::CrashAll {
            return self.crash_all(ids, at).await;
        }
        let fault_term = self.fault_term();
        // The fault's instant, once, before acting: the event and every metric
        // of this fault count from it.
        let t_us = self.obs.now_us();
        if matches!(f, ProcFault::Kill | ProcFault::Stop | ProcFault::Pause) {
            self.last_hit_term = fault_term;
            self.last_hit = ids.clone();
            self.last_hit_us = t_us;
        }
        let mut detail = String::new();
        for &id in &ids {
            match f {
                ProcFault::Kill | ProcFault::CrashAll => self.cluster.kill(id).await,
                ProcFault::Stop => detail = self.cluster.stop(id).await,
                ProcFault::Pause => self.cluster.pause(id),
                ProcFault::Resume => self.cluster.resume(id),
                ProcFault::Restart => {
                    if self.cluster.is_running(id) {
                        self.cluster.stop(id).await;
                    }
                    self.obs.forget(id);
                    if let Err(e) = self.cluster.start(id) {
                        return Err(Stop::Fatal(e.to_string()));
                    }
                }
            }
            match f {
                ProcFault::Kill | ProcFault::Stop | ProcFault::Pause | ProcFault::CrashAll => {
                    self.obs.forget(id);
                    self.obs.set_down(id, true);
                }
                ProcFault::Resume | ProcFault::Restart => self.obs.set_down(id, false),
            }
        }
        self.record_at(t_us, proc_action(f), ids.clone(), detail, at);
        if f == ProcFault::Restart {
            if let Err(e) = self.cluster.wait_ready(&ids).await {
                // A node that cannot come back from its own data dir is a finding about
                // the node, not a harness failure: record it and go on.
                let t = self.obs.now_us();
                self.progress
                    .line(format!("node {} did not come back: {}", e.node, e.msg));
                self.cluster.kill(e.node).await;
                self.obs.set_down(e.node, true);
                self.unexpected
                    .push((e.node, format!("failed to restart ({})", e.msg), t));
            }
        }
        self.previous = ids;
        Ok(())
    }

    /// `crash-all`: kill every node of `ids` at one instant, then restart them all.
    async fn crash_all(&mut self, ids: Vec<u32>, at: &str) -> Result<(), Stop> {
        Box::pin(self.proc_fault(ProcFault::Kill, ids.clone(), at)).await?;
        // Every node it hit comes back at once: a `new-leader` after it is any leader of a
        // later term (as after a split), not one outside the hit set, which would exclude
        // every node of a whole-cluster crash and never be met.
        self.last_hit.clear();
        Box::pin(self.proc_fault(ProcFault::Restart, ids, at)).await
    }

    /// Resume every paused node, for the final catch-up.
    pub fn resume_all(&mut self) {
        for id in self.cluster.ids() {
            if self.cluster.is_paused(id) {
                self.cluster.resume(id);
            }
        }
    }

    /// Whether the harness believes `id` is running (started and not ended).
    pub fn is_running(&mut self, id: u32) -> bool {
        self.cluster.is_running(id)
    }

    /// The schedule's record, once it and the settle are done.
    pub fn finish(self) -> Record {
        Record {
            faults: self.faults,
            waits: self.waits,
            unexpected: self.unexpected,
            metrics: self.metrics,
            workload_active_us: self.workload_active_us,
        }
    }

    /// Heal every link before the final catch-up (recorded, so isolations end here).
    pub fn heal_for_settle(&mut self) {
        if let Some(net) = self.net {
            // A heal counts from when it begins (see `net_step`).
            let t_us = self.obs.now_us();
            if net.heal().is_ok() && self.cluster.sync_links(net).is_ok() {
                self.cut.clear();
                self.record_at(
                    t_us,
                    FaultAction::Heal,
                    vec![],
                    "before the final catch-up".into(),
                    "",
                );
            }
        }
    }

    async fn net_step(&mut self, action: &Action, at: &str) -> Result<(), Stop> {
        let Some(net) = self.net else {
            return Err(Stop::Fatal(format!(
                "{at}: network faults need `proxies = true`"
            )));
        };
        match action {
            Action::Heal => {
                // Isolation windows are what the cut surely covered: a heal counts from when
                // it begins, a cut from when it is fully in force (with the docker backend each
                // link is a packet-filter rule applied one after another).
                let t_us = self.obs.now_us();
                net.heal().map_err(|e| Stop::Fatal(format!("{at}: {e}")))?;
                self.cluster
                    .sync_links(net)
                    .map_err(|e| Stop::Fatal(format!("{at}: {e}")))?;
                self.cut.clear();
                self.record_at(t_us, FaultAction::Heal, vec![], String::new(), at);
            }
            Action::Net {
                shape,
                target,
                mode,
                one_way,
                delay_ms,
                jitter_ms,
                loss,
            } => {
                let ids = self.resolve(target, at).await?;
                let all = self.cluster.ids();
                let leader = self.obs.leader(self.fresh());
                let fault_term = self.fault_term();
                let leader = leader.map(|l| l.node);
                let params = netfault::NetParams {
                    mode: *mode,
                    one_way: *one_way,
                    delay_ms: *delay_ms,
                    jitter_ms: *jitter_ms,
                    loss: *loss,
                };
                let applied =
                    netfault::apply(net, *shape, &all, &ids, leader, &params, &mut self.rng)
                        .map_err(|e| Stop::Fatal(format!("{at}: {e}")))?;
                self.cluster
                    .sync_links(net)
                    .map_err(|e| Stop::Fatal(format!("{at}: {e}")))?;
                // In force from here (see Heal above).
                let t_us = self.obs.now_us();
                // Cuts add up until the next heal.
                self.cut.extend(applied.cut.iter().copied());
                if *shape != crate::spec::NetShape::Flaky {
                    // After an isolation the new leader must be someone else; after a
                    // split any leader of a later term will do.
                    self.last_hit_term = fault_term;
                    self.last_hit = if *shape == crate::spec::NetShape::Isolate {
                        ids.clone()
                    } else {
                        Vec::new()
                    };
                    self.last_hit_us = t_us;
                }
                self.record_at(
                    t_us,
                    net_action(*shape),
                    ids.clone(),
                    applied.description,
                    at,
                );
                let cut_off = netfault::cut_off(&all, &self.cut);
                if let Some(e) = self.faults.last_mut() {
                    e.cut_off = cut_off;
                }
                self.previous = ids;
            }
            _ => unreachable!("net_step is called for network actions"),
        }
        Ok(())
    }

    async fn wait(
        &mut self,
        cond: WaitFor,
        timeout_ms: u64,
        expect_timeout: bool,
        at: &str,
    ) -> Result<(), Stop> {
        let started = Instant::now();
        let end = started + Duration::from_millis(timeout_ms);
        // What was committed when the wait began (for `caught-up`), once known.
        let mut target: Option<CommitTarget> = None;
        let mut detail = String::new();
        let met = loop {
            self.check_interrupt()?;
            self.reap();
            if cond == WaitFor::CaughtUp && target.is_none() {
                target = self.commit_target().await;
            }
            if let Some(d) = self.condition(cond, target.as_ref()).await {
                detail = d;
                break Some((started.elapsed().as_millis() as u64, self.obs.now_us()));
            }
            if Instant::now() >= end {
                break None;
            }
            self.pause_for(Duration::from_millis(50)).await?;
        };
        let name = wait_name(cond);
        if let (Some((_, met_us)), WaitFor::NewLeader) = (met, cond) {
            let key = format!(
                "failover_ms.{}",
                self.metrics
                    .keys()
                    .filter(|k| k.starts_with("failover_ms"))
                    .count()
                    + 1
            );
            // From the fault's instant (the one its event records) to the leader seen.
            let ms = met_us.saturating_sub(self.last_hit_us) / 1000;
            self.metrics.insert(key, ms as f64);
        }
        if met.is_none() && !expect_timeout {
            detail = self.why_not(cond, target.as_ref()).await;
        }
        self.progress.outcome(
            met.is_some() != expect_timeout,
            match met {
                Some((ms, _)) => format!("{at}: {name} after {ms} ms {detail}"),
                None if detail.is_empty() => format!("{at}: {name} not met within {timeout_ms} ms"),
                None => format!("{at}: {name} not met within {timeout_ms} ms: {detail}"),
            },
        );
        self.waits.push(WaitRecord {
            at: at.into(),
            condition: name,
            timeout_ms,
            expect_timeout,
            met_after_ms: met.map(|(ms, _)| ms),
            detail,
        });
        Ok(())
    }

    /// Why a wait is not met: who leads or why no one does; for `caught-up`, who
    /// is behind by how much and who did not answer.
    async fn why_not(&mut self, cond: WaitFor, target: Option<&CommitTarget>) -> String {
        let no_leader = self.obs.with_view(self.fresh(), view::why_no_leader);
        match cond {
            WaitFor::NewLeader => {
                let leader = self.obs.leader(self.fresh());
                format!(
                    "needed a leader other than node [{}] above term {}; {}",
                    crate::trace::list(self.last_hit.iter().copied()),
                    self.last_hit_term,
                    match leader {
                        Some(l) => format!("the current leader is node {} term {}", l.node, l.term),
                        None => format!("no current leader: {no_leader}"),
                    }
                )
            }
            WaitFor::CaughtUp => match target {
                None => format!("what was committed could not be learnt: {no_leader}"),
                Some(t) => {
                    let lags = self.lags(t).await;
                    let lags: Vec<String> = lags.iter().map(|l| l.to_string()).collect();
                    format!(
                        "needed every running node to hold index {} (committed when the wait began); {}",
                        t.index,
                        lags.join("; ")
                    )
                }
            },
            WaitFor::Leader | WaitFor::Commit => format!("no current leader: {no_leader}"),
        }
    }

    /// Some(description) when the condition holds now.
    async fn condition(&mut self, cond: WaitFor, target: Option<&CommitTarget>) -> Option<String> {
        match cond {
            WaitFor::Leader => self
                .obs
                .leader(self.fresh())
                .map(|l| format!("(node {} term {})", l.node, l.term)),
            WaitFor::NewLeader => self
                .obs
                .leader(self.fresh())
                .filter(|l| !self.last_hit.contains(&l.node) && l.term > self.last_hit_term)
                .map(|l| format!("(node {} term {})", l.node, l.term)),
            WaitFor::CaughtUp => {
                let t = target?;
                let lags = self.lags(t).await;
                lags.is_empty().then(|| {
                    format!(
                        "(index {} on nodes {})",
                        t.index,
                        crate::trace::list(self.live())
                    )
                })
            }
            WaitFor::Commit => self.probe().await,
        }
    }

    /// Whether any running node is judged black-box (no extension fields).
    fn any_black_box(&mut self) -> bool {
        let bb = self.spec.black_box_ids();
        self.live().iter().any(|id| bb.contains(id))
    }

    /// What is committed now: the highest commit index white-box nodes report
    /// (a commit index only grows, Raft §5.3), and where black-box nodes run,
    /// the entries a majority of the logs hold (or the committed prefix of the
    /// white-box node that reports the highest commit index, if longer).
    async fn commit_target(&mut self) -> Option<CommitTarget> {
        let samples = self.obs.fresh(self.fresh());
        let index = view::max_commit(&samples);
        if !self.any_black_box() {
            return samples
                .iter()
                .any(|s| s.ext.is_some())
                .then_some(CommitTarget {
                    index,
                    entries: None,
                });
        }
        let logs = self.logs_now().await;
        let majority = self.cluster.ids().len() / 2 + 1;
        let lists: Vec<Vec<crate::observe::Entry>> = logs.iter().map(|(_, l)| l.clone()).collect();
        let mut entries = view::majority_prefix(&lists, majority);
        let best = samples
            .iter()
            .filter(|s| s.ext.as_ref().is_some_and(|x| x.commit_index == index))
            .find_map(|s| logs.iter().find(|(id, _)| *id == s.node));
        if let Some((_, log)) = best {
            let n = usize::try_from(index + 1).unwrap_or(0).min(log.len());
            if n > entries.len() {
                entries = log[..n].to_vec();
            }
        }
        Some(CommitTarget {
            index: index.max(entries.len() as i32 - 1),
            entries: Some(entries),
        })
    }

    /// GetLog of every running, unpaused node that answers.
    async fn logs_now(&mut self) -> Vec<(u32, Vec<crate::observe::Entry>)> {
        let mut out = Vec::new();
        for id in self.live() {
            let mut c = crate::client::lazy(self.cluster.addr(id), Duration::from_millis(300));
            if let Ok(log) = crate::client::log(&mut c, Duration::from_secs(1)).await {
                out.push((id, log.into_iter().map(to_entry).collect()));
            }
        }
        out
    }

    /// Every running node that does not hold all of `t` yet (see `view::lags`).
    async fn lags(&mut self, t: &CommitTarget) -> Vec<view::Lag> {
        let live = self.live();
        let bb = self.spec.black_box_ids();
        let samples = self
            .obs
            .fresh(Duration::from_millis(self.spec.cluster.poll_ms * 3 + 200));
        let logs = if live.iter().any(|id| bb.contains(id)) {
            self.logs_now().await
        } else {
            Vec::new()
        };
        let states: Vec<NodeState<'_>> = live
            .iter()
            .map(|id| {
                let s = samples.iter().find(|s| s.node == *id);
                let log = logs.iter().find(|(n, _)| n == id);
                match (bb.contains(id), s, log) {
                    (false, Some(s), _) => NodeState::Status(s),
                    (true, _, Some((_, l))) => NodeState::Log(*id, l),
                    _ => NodeState::Silent(*id),
                }
            })
            .collect();
        view::lags(t, &states)
    }

    /// Every running, unpaused node holds the leader's whole, committed log
    /// (the end-of-run settle, with no client writing).
    pub async fn caught_up(&mut self) -> Option<String> {
        let leader = self.obs.leader(self.fresh())?;
        let live = self.live();
        let samples = self
            .obs
            .fresh(Duration::from_millis(self.spec.cluster.poll_ms * 3 + 200));
        let all_ext = live
            .iter()
            .all(|id| samples.iter().any(|s| s.node == *id && s.ext.is_some()));
        if all_ext {
            let lx = leader.ext.as_ref()?;
            if lx.commit_index != lx.last_log_index {
                return None;
            }
            for id in &live {
                let s = samples.iter().find(|s| s.node == *id)?;
                let x = s.ext.as_ref()?;
                if x.last_log_index != lx.last_log_index
                    || x.commit_index != lx.commit_index
                    || x.last_applied != lx.commit_index
                {
                    return None;
                }
            }
            return Some(format!(
                "(index {} on nodes {})",
                lx.commit_index,
                crate::trace::list(live)
            ));
        }
        // Black-box nodes: compare whole logs; nodes that report a commit index
        // must also have committed and applied all of it.
        let mut first: Option<Vec<crate::proto::LogEntry>> = None;
        for id in &live {
            let mut c = crate::client::lazy(self.cluster.addr(*id), Duration::from_millis(300));
            let log = crate::client::log(&mut c, Duration::from_secs(1))
                .await
                .ok()?;
            match &first {
                None => first = Some(log),
                Some(f) if *f != log => return None,
                Some(_) => {}
            }
        }
        let last = first.as_ref().map_or(-1, |f| f.len() as i32 - 1);
        let lagging = samples
            .iter()
            .filter(|s| live.contains(&s.node))
            .filter_map(|s| s.ext.as_ref())
            .any(|x| x.commit_index != last || x.last_applied != last);
        if lagging {
            return None;
        }
        Some(format!(
            "({} identical entries on nodes {})",
            first.map_or(0, |f| f.len()),
            crate::trace::list(live)
        ))
    }

    /// Send one probe write through the next running node; Some when APPLIED.
    async fn probe(&mut self) -> Option<String> {
        let live = self.live();
        if live.is_empty() {
            return None;
        }
        let node = live[(self.probe_n as usize) % live.len()];
        self.probe_n += 1;
        let mut c = crate::client::lazy(self.cluster.addr(node), Duration::from_millis(300));
        let cmd = format!("SET __probe__ p{}-{}", self.seed % 10_000, self.probe_n);
        let op = self
            .rec
            .invoke(&mut c, 0, node, cmd, Duration::from_millis(1000))
            .await;
        (op.outcome == Outcome::Ok).then(|| format!("(probe via node {node})"))
    }

    async fn nemesis(
        &mut self,
        faults: &[NemesisFault],
        interval_ms: u64,
        duration_ms: u64,
        at: &str,
    ) -> Result<(), Stop> {
        let end = Instant::now() + Duration::from_millis(duration_ms);
        let interval = Duration::from_millis(interval_ms);
        while Instant::now() < end {
            let f = *faults.choose(&mut self.rng).expect("validated non-empty");
            match f {
                NemesisFault::Proc(p) => {
                    let target = if self.rng.random_bool(0.5) {
                        Target::Leader
                    } else {
                        Target::Random
                    };
                    let ids = match p {
                        ProcFault::CrashAll => self.cluster.ids(),
                        _ => self.resolve(&target, at).await?,
                    };
                    self.proc_fault(p, ids.clone(), at).await?;
                    self.pause_for(interval).await?;
                    match p {
                        ProcFault::Pause => self.proc_fault(ProcFault::Resume, ids, at).await?,
                        ProcFault::Kill | ProcFault::Stop => {
                            self.proc_fault(ProcFault::Restart, ids, at).await?
                        }
                        _ => {}
                    }
                }
                NemesisFault::Net(shape) => {
                    let target = if shape == crate::spec::NetShape::Isolate {
                        if self.rng.random_bool(0.5) {
                            Target::Leader
                        } else {
                            Target::Random
                        }
                    } else {
                        Target::All
                    };
                    let action = Action::Net {
                        shape,
                        target,
                        mode: crate::net::LinkMode::Blackhole,
                        one_way: false,
                        delay_ms: 50,
                        jitter_ms: 25,
                        loss: 0.05,
                    };
                    self.net_step(&action, at).await?;
                    self.pause_for(interval).await?;
                    self.net_step(&Action::Heal, at).await?;
                }
                NemesisFault::Msg(kind) => self.nemesis_msg(kind, interval, at).await?,
            }
            self.pause_for(interval).await?;
        }
        Ok(())
    }
}

/// ms from a fault's instant `fault_us` (its `FaultEvent::t_us`, taken before
/// the harness acted) to the completion of the first acknowledged write invoked
/// at or after it; None if no write was acknowledged after the fault. Counting
/// from the same instant as `failover_ms`, it is never measured from a later one.
pub fn first_commit_after_ms(history: &[crate::history::Op], fault_us: u64) -> Option<u64> {
    history
        .iter()
        .filter(|o| {
            o.outcome == Outcome::Ok
                && o.invoke_us >= fault_us
                && !matches!(o.kv(), Some(crate::history::Command::Get { .. }))
        })
        .filter_map(|o| o.complete_us)
        .min()
        .map(|c| c.saturating_sub(fault_us) / 1000)
}

fn to_entry(e: crate::proto::LogEntry) -> crate::observe::Entry {
    crate::observe::Entry {
        index: e.index,
        term: e.term,
        command: e.command,
    }
}

/// The condition a wait step records.
pub fn wait_name(c: WaitFor) -> WaitCondition {
    match c {
        WaitFor::Leader => WaitCondition::Leader,
        WaitFor::NewLeader => WaitCondition::NewLeader,
        WaitFor::CaughtUp => WaitCondition::CaughtUp,
        WaitFor::Commit => WaitCondition::Commit,
    }
}

fn shape_name(s: crate::spec::NetShape) -> &'static str {
    crate::spec::NET_SHAPES
        .iter()
        .find(|(_, n)| *n == s)
        .map_or("?", |(w, _)| w)
}

/// The event a process fault records.
fn proc_action(f: ProcFault) -> FaultAction {
    match f {
        ProcFault::Kill | ProcFault::CrashAll => FaultAction::Kill,
        ProcFault::Stop => FaultAction::Stop,
        ProcFault::Pause => FaultAction::Pause,
        ProcFault::Resume => FaultAction::Resume,
        ProcFault::Restart => FaultAction::Restart,
    }
}

/// The event a network step records.
fn net_action(s: crate::spec::NetShape) -> FaultAction {
    use crate::spec::NetShape;
    match s {
        NetShape::Isolate => FaultAction::NetIsolate,
        NetShape::Halves => FaultAction::NetHalves,
        NetShape::Bridge => FaultAction::NetBridge,
        NetShape::MajoritiesRing => FaultAction::NetMajoritiesRing,
        NetShape::Flaky => FaultAction::NetFlaky,
    }
}

fn target_name(t: &Target) -> String {
    match t {
        Target::Ids(v) => format!("node {}", crate::trace::list(v.iter().copied())),
        Target::Label(l) => format!("@{l}"),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// One line saying what a step does.
pub fn describe(a: &Action) -> String {
    match a {
        Action::Wait {
            cond,
            timeout_ms,
            expect_timeout,
        } => format!(
            "wait {} ({} {} ms)",
            wait_name(*cond),
            if *expect_timeout {
                "must not happen within"
            } else {
                "within"
            },
            timeout_ms
        ),
        Action::Workload { start } => format!("workload {}", if *start { "start" } else { "stop" }),
        Action::Sleep { ms } => format!("sleep {:.1} s", *ms as f64 / 1000.0),
        Action::Fault { fault, target } => format!(
            "{} {}",
            format!("{fault:?}").to_lowercase(),
            target_name(target)
        ),
        Action::Net { shape, target, .. } => {
            format!("net {} {}", shape_name(*shape), target_name(target))
        }
        Action::Heal => "heal the network".into(),
        Action::Msg(m) => format!("msg {} {}", m.action, m.method),
        Action::LeadBy { kind, .. } => format!("wait until a {kind} node leads"),
        Action::Repeat { times, steps } => format!("repeat {times}× {} steps", steps.len()),
        Action::Nemesis {
            faults,
            interval_ms,
            duration_ms,
        } => format!(
            "nemesis {} faults every {:.1} s for {:.1} s",
            faults.len(),
            *interval_ms as f64 / 1000.0,
            *duration_ms as f64 / 1000.0
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Op;

    fn op(cmd: &str, invoke_us: u64, complete_us: Option<u64>, outcome: Outcome) -> Op {
        Op {
            id: invoke_us,
            client: 1,
            node: 1,
            command: cmd.into(),
            invoke_us,
            complete_us,
            outcome,
            result: None,
            message: String::new(),
        }
    }

    #[test]
    fn first_commit_counts_from_the_fault_instant_and_only_later_writes() {
        let fault = 5_000_000;
        let h = vec![
            // Invoked before the fault, acknowledged after: not a commit after the fault.
            op("SET a 1", 4_990_000, Some(5_010_000), Outcome::Ok),
            // Reads and failures do not count.
            op("GET a", 5_001_000, Some(5_020_000), Outcome::Ok),
            op("SET a 2", 5_002_000, Some(5_030_000), Outcome::Fail),
            op("SET a 3", 5_003_000, None, Outcome::Info),
            op("SET a 4", 5_100_000, Some(5_700_000), Outcome::Ok),
            op("SET a 5", 5_200_000, Some(5_450_000), Outcome::Ok),
        ];
        assert_eq!(first_commit_after_ms(&h, fault), Some(450));
        // Never earlier than the fault itself, whatever the history.
        assert_eq!(first_commit_after_ms(&h[..4], fault), None);
        assert_eq!(first_commit_after_ms(&h, 6_000_000), None);
    }
}

//! Open-loop arrivals (`[workload] mode = "open"`, issue 13 §1): requests arrive at the
//! configured rate whatever the cluster answers, so a leader fault that leaves every request in
//! flight stuck on a dead leader does not stop new requests from being sent.
//!
//! Clients are modelled as Jepsen models processes: many logical clients, each with at most one
//! request in flight, each a process of the history (a unique id). An arrival goes to a free
//! logical client; when none is free a new one is made (a fresh id), up to `max_clients` busy at
//! once per group; an arrival beyond the cap is dropped and counted ([`Stats::dropped`]), never
//! queued (a queue would turn the open loop back into a closed one). A client whose request
//! ended `info` may still have it in flight, so it is retired for good; the next arrival that
//! finds no free client makes a fresh one.
//!
//! Register keys: each key takes at most [`super::keys::MAX_LOAD`] operations the
//! linearizability search must keep open at once; beyond, arrivals go to further keys
//! ([`super::keys`]), so slow answers never make the check exponential.
//!
//! Arrival times: a Poisson process at the group's `rate` (exponential gaps, [`super::clients`]),
//! on an absolute timeline, so a slow answer never delays the next arrival.
use super::clients::{poisson_gap, start_offset};
use super::keys::KeyLoad;
use super::{learn, register_on};
use crate::client;
use crate::history::Outcome;
use crate::spec::{Workload, WorkloadKind};
use rand::rngs::StdRng;
use rand::Rng;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinSet;

/// What a workload did besides its history: arrivals, drops at the cap, clients made and
/// retired. Summed over groups (closed loop: `dropped` is 0, `max_busy` its `clients`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Requests the arrival process asked for (sent + dropped).
    pub arrivals: u64,
    /// Arrivals dropped because `max_clients` clients were busy.
    pub dropped: u64,
    /// Logical clients (history processes) made.
    pub made: u64,
    /// Logical clients retired after an `info` outcome.
    pub retired: u64,
    /// Most requests in flight at once (highest over groups).
    pub max_busy: u64,
}

impl Stats {
    pub fn add(&mut self, o: Stats) {
        self.arrivals += o.arrivals;
        self.dropped += o.dropped;
        self.made += o.made;
        self.retired += o.retired;
        self.max_busy = self.max_busy.max(o.max_busy);
    }
}

/// Add one workload period's `stats` to the run's metrics (summed over periods):
/// `logical_clients`, `clients_retired`, and for an open loop `max_in_flight_requests` and
/// `arrivals_dropped` (a closed loop delays arrivals, it never drops them). Returns a line for
/// the `workload stop` event.
pub fn note(m: &mut std::collections::BTreeMap<String, f64>, s: Stats, open: bool) -> String {
    let mut add = |k: &str, v: u64| *m.entry(k.into()).or_insert(0.0) += v as f64;
    add("logical_clients", s.made);
    add("clients_retired", s.retired);
    if !open {
        return format!(
            "{} requests, {} clients retired after info",
            s.arrivals, s.retired
        );
    }
    let most = m.entry("max_in_flight_requests".into()).or_insert(0.0);
    *most = most.max(s.max_busy as f64);
    *m.entry("arrivals_dropped".into()).or_insert(0.0) += s.dropped as f64;
    format!(
        "{} arrivals, {} dropped at max_clients, {} clients made, {} retired after info, at most {} in flight",
        s.arrivals, s.dropped, s.made, s.retired, s.max_busy
    )
}

/// `max_clients` when the suite gives none: enough that no arrival is dropped while every
/// request waits out its whole deadline (`rate` × `request_timeout_ms`, rounded up), plus the
/// `clients` made at the start. Capped at [`crate::spec`]'s 10 000.
pub fn default_cap(clients: u32, rate: f64, request_timeout_ms: u64) -> u32 {
    let stuck = (rate * request_timeout_ms as f64 / 1000.0).ceil();
    (stuck.min(10_000.0) as u32)
        .saturating_add(clients)
        .min(10_000)
}

/// The logical clients of one group: free ones, how many are busy, and the counts of [`Stats`].
#[derive(Debug)]
pub struct Pool {
    free: VecDeque<u32>,
    busy: u64,
    cap: u64,
    stats: Stats,
}

impl Pool {
    /// A pool with `initial` fresh clients (ids from `ids`) and at most `cap` busy at once.
    pub fn new(initial: u32, cap: u32, ids: &AtomicU32) -> Pool {
        let mut p = Pool {
            free: VecDeque::new(),
            busy: 0,
            cap: u64::from(cap.max(1)),
            stats: Stats::default(),
        };
        for _ in 0..initial {
            let id = p.make(ids);
            p.free.push_back(id);
        }
        p
    }

    fn make(&mut self, ids: &AtomicU32) -> u32 {
        self.stats.made += 1;
        ids.fetch_add(1, Ordering::Relaxed)
    }

    /// One arrival: the client that sends it (the longest-free one, or a fresh id), or `None`
    /// when `cap` clients are busy (the arrival is dropped and counted).
    pub fn arrive(&mut self, ids: &AtomicU32) -> Option<u32> {
        self.stats.arrivals += 1;
        if self.busy >= self.cap {
            self.stats.dropped += 1;
            return None;
        }
        let id = match self.free.pop_front() {
            Some(id) => id,
            None => self.make(ids),
        };
        self.busy += 1;
        self.stats.max_busy = self.stats.max_busy.max(self.busy);
        Some(id)
    }

    /// Client `id`'s request ended with `outcome`: it is free again, or retired after `info`
    /// (`None`: its task was lost, treated as `info`).
    pub fn finish(&mut self, id: u32, outcome: Option<Outcome>) {
        self.busy = self.busy.saturating_sub(1);
        match outcome {
            Some(Outcome::Ok | Outcome::Fail) => self.free.push_back(id),
            Some(Outcome::Info) | None => self.stats.retired += 1,
        }
    }

    pub fn busy(&self) -> u64 {
        self.busy
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }
}

/// What the groups of one workload share: logical ids (1.. — 0 is the harness's probes),
/// register values and the open operations per key ([`super::keys`]), and for `set` a sequence
/// number that makes every command unique.
#[derive(Clone)]
pub struct Shared {
    pub ids: Arc<AtomicU32>,
    pub values: Arc<AtomicU64>,
    pub seq: Arc<AtomicU64>,
    pub keys: Arc<Mutex<KeyLoad>>,
}

/// One group of an open-loop workload: the main `[workload]` or a `[[workload.group]]`.
pub(super) struct Group {
    /// Logical clients made at the start.
    pub clients: u32,
    pub targets: Vec<(u32, SocketAddr)>,
    /// Mean gap between the group's arrivals: 1 / its rate.
    pub mean: Duration,
    pub cap: u32,
}

/// The main group then each `[[workload.group]]`, with their targets' addresses (empty targets
/// = every node of `nodes`). Groups with rate 0 have no arrivals (the loader rejects them).
pub(super) fn groups(w: &Workload, nodes: &[(u32, SocketAddr)]) -> Vec<Group> {
    let mut raw = vec![(w.clients, &w.targets, w.rate)];
    raw.extend(w.groups.iter().map(|g| (g.clients, &g.targets, g.rate)));
    raw.into_iter()
        .filter(|g| g.2 > 0.0)
        .map(|(clients, t, rate)| Group {
            clients,
            targets: nodes
                .iter()
                .filter(|(id, _)| t.is_empty() || t.contains(id))
                .copied()
                .collect(),
            mean: Duration::from_secs_f64(1.0 / rate),
            cap: w
                .max_clients
                .unwrap_or_else(|| default_cap(clients, rate, w.request_timeout_ms)),
        })
        .collect()
}

/// One group's arrival process until `stop`, then waits for its requests in flight (each has
/// its deadline).
pub(super) async fn group_loop(
    w: Workload,
    g: Group,
    sh: Shared,
    rec: super::Recorder,
    mut stop: tokio::sync::watch::Receiver<bool>,
    mut rng: StdRng,
) -> Stats {
    if g.targets.is_empty() {
        return Stats::default();
    }
    let mean = g.mean;
    let conns: Vec<(u32, client::Client)> = g
        .targets
        .iter()
        .map(|(id, a)| (*id, client::lazy(*a, Duration::from_millis(300))))
        .collect();
    let seen = Arc::new(Mutex::new(HashMap::new()));
    let mut pool = Pool::new(g.clients, g.cap, &sh.ids);
    let mut ops: JoinSet<(u32, Outcome)> = JoinSet::new();
    let mut next = tokio::time::Instant::now() + start_offset(&mut rng, mean);
    let timeout = Duration::from_millis(w.request_timeout_ms);
    while !*stop.borrow() {
        tokio::select! {
            _ = tokio::time::sleep_until(next) => {
                next += poisson_gap(&mut rng, mean);
                let Some(id) = pool.arrive(&sh.ids) else { continue };
                let (node, c) = conns[rng.random_range(0..conns.len())].clone();
                let (command, key) = match w.kind {
                    WorkloadKind::Set => {
                        (format!("op-c{id}-{}", sh.seq.fetch_add(1, Ordering::Relaxed)), None)
                    }
                    WorkloadKind::Register => {
                        let k = sh.keys.lock().unwrap().pick(&mut rng, w.keys);
                        let seen = seen.lock().unwrap();
                        (register_on(&mut rng, k, &sh.values, &seen), Some(k))
                    }
                };
                let (rec, seen, keys) = (rec.clone(), seen.clone(), sh.keys.clone());
                ops.spawn(async move {
                    let mut c = c;
                    let op = rec.invoke(&mut c, id, node, command, timeout).await;
                    if op.outcome == Outcome::Ok {
                        learn(&mut seen.lock().unwrap(), &op);
                    }
                    if let Some(k) = key {
                        let read = matches!(op.kv(), Some(crate::history::Command::Get { .. }));
                        keys.lock().unwrap().done(k, op.outcome == Outcome::Info && !read);
                    }
                    (id, op.outcome)
                });
            }
            Some(done) = ops.join_next(), if !ops.is_empty() => finish(&mut pool, done),
            _ = stop.changed() => break,
        }
    }
    while let Some(done) = ops.join_next().await {
        finish(&mut pool, done);
    }
    pool.stats()
}

fn finish(pool: &mut Pool, done: Result<(u32, Outcome), tokio::task::JoinError>) {
    match done {
        Ok((id, outcome)) => pool.finish(id, Some(outcome)),
        // A panicked request task: its client is retired (its id is unknown, never reused).
        Err(_) => pool.finish(0, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh id counter and a pool of `initial` clients from it, at most `cap` busy.
    fn pool(initial: u32, cap: u32) -> (AtomicU32, Pool) {
        let ids = AtomicU32::new(1);
        let p = Pool::new(initial, cap, &ids);
        (ids, p)
    }

    /// The ids `n` arrivals in a row get from `p` (`None`: dropped at the cap).
    fn arrivals(p: &mut Pool, ids: &AtomicU32, n: usize) -> Vec<Option<u32>> {
        (0..n).map(|_| p.arrive(ids)).collect()
    }

    #[test]
    fn arrivals_reuse_free_clients_and_make_new_ones_only_when_all_are_busy() {
        let (ids, mut p) = pool(2, 10);
        assert_eq!(p.arrive(&ids), Some(1));
        p.finish(1, Some(Outcome::Ok));
        // 2 was free first (1 went to the back): longest-free first, no new id.
        assert_eq!(arrivals(&mut p, &ids, 2), [Some(2), Some(1)]);
        // Both busy (stuck on a dead leader): the next arrival is not held back, a fresh
        // client sends it.
        assert_eq!(arrivals(&mut p, &ids, 2), [Some(3), Some(4)]);
        assert_eq!(p.busy(), 4);
        let s = p.stats();
        assert_eq!((s.arrivals, s.made, s.dropped, s.max_busy), (5, 4, 0, 4));
    }

    #[test]
    fn a_client_whose_request_ended_info_is_retired_and_never_reused() {
        let (ids, mut p) = pool(1, 10);
        assert_eq!(p.arrive(&ids), Some(1));
        p.finish(1, Some(Outcome::Info));
        // 1 may still have its request in flight: the next arrival gets a fresh id.
        assert_eq!(p.arrive(&ids), Some(2));
        p.finish(2, Some(Outcome::Fail));
        assert_eq!(
            p.arrive(&ids),
            Some(2),
            "a definite failure frees the client"
        );
        p.finish(2, None);
        assert_eq!(p.arrive(&ids), Some(3), "a lost task retires its client");
        let s = p.stats();
        assert_eq!((s.retired, s.made), (2, 3));
    }

    #[test]
    fn arrivals_at_the_cap_are_dropped_and_counted() {
        let (ids, mut p) = pool(0, 2);
        assert_eq!(arrivals(&mut p, &ids, 4), [Some(1), Some(2), None, None]);
        assert_eq!(p.stats().dropped, 2);
        p.finish(1, Some(Outcome::Info));
        // Room again: a fresh client (1 is retired), the cap counts busy clients only.
        assert_eq!(arrivals(&mut p, &ids, 2), [Some(3), None]);
        let s = p.stats();
        assert_eq!((s.arrivals, s.dropped, s.made, s.max_busy), (6, 3, 3, 2));
    }

    #[test]
    fn ids_are_unique_across_groups_sharing_the_counter() {
        let ids = AtomicU32::new(1);
        let mut a = Pool::new(2, 5, &ids);
        let mut b = Pool::new(2, 5, &ids);
        let mut got: Vec<u32> = arrivals(&mut a, &ids, 4).into_iter().flatten().collect();
        got.extend(arrivals(&mut b, &ids, 4).into_iter().flatten());
        got.sort_unstable();
        assert_eq!(got, (1..=8).collect::<Vec<_>>());
    }

    #[test]
    fn the_default_cap_covers_a_whole_deadline_of_arrivals() {
        // 40/s with a 3 s deadline: 120 stuck requests, plus the 4 made at the start.
        assert_eq!(default_cap(4, 40.0, 3000), 124);
        assert_eq!(default_cap(1, 0.5, 1000), 2);
        assert_eq!(default_cap(10, 1e6, 600_000), 10_000);
    }
}

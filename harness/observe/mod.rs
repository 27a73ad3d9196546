//! Observation of the cluster: GetStatus polls, GetLog snapshots, journals.
//!
//! One polling task per node, so a paused or dead node never delays the
//! samples of the others. Everything observed is kept as plain records with
//! times relative to the start of the run (µs), for the checkers and reports.
#[cfg(test)]
pub(crate) mod fixtures;
pub mod journal;
pub mod logcache;
pub mod view;

use crate::client;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The extension fields of GetStatus, present only from nodes that fill them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusExt {
    pub node_id: i32,
    pub commit_index: i32,
    pub last_applied: i32,
    pub last_log_index: i32,
    pub last_log_term: i32,
    pub implementation: String,
    pub leader_address: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusSample {
    /// When the answer arrived, µs since the run started.
    pub t_us: u64,
    /// When the request was sent: the state held at some instant in [sent_us, t_us].
    pub sent_us: u64,
    pub node: u32,
    pub state: String,
    pub term: i32,
    pub voted_for: i32,
    pub leader_id: i32,
    #[serde(default)]
    pub ext: Option<StatusExt>,
}

impl StatusSample {
    /// Whether the node reported the Leader role ([`view::Role`]).
    pub fn is_leader(&self) -> bool {
        self.role() == view::Role::Leader
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub index: i32,
    pub term: i32,
    pub command: String,
}

/// A node's whole log at one moment, with the status read just before it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogSnapshot {
    pub t_us: u64,
    pub node: u32,
    /// Status answered right before GetLog: entries up to its commit index were
    /// committed when the log was read (committed entries never change).
    pub status: StatusSample,
    pub entries: Vec<Entry>,
}

impl LogSnapshot {
    /// Committed entries by the node's own account (white-box nodes only).
    pub fn committed(&self) -> Option<&[Entry]> {
        let c = self.status.ext.as_ref()?.commit_index;
        let n = usize::try_from(c + 1).unwrap_or(0).min(self.entries.len());
        Some(&self.entries[..n])
    }
}

/// A GetStatus that got no answer: evidence for the `responsiveness` check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollFailure {
    pub node: u32,
    /// When the request was sent and when it failed, µs since the run started.
    pub sent_us: u64,
    pub t_us: u64,
    /// The client's error (e.g. `DeadlineExceeded: ...`, `Unavailable: ...`).
    pub error: String,
}

/// Latest sample per node, for waits and fault targets.
#[derive(Debug, Default)]
pub struct Live {
    latest: BTreeMap<u32, StatusSample>,
    /// When each node was last forgotten (µs): answers to requests sent before
    /// then describe the node before a fault and never become its latest sample.
    forgotten_us: BTreeMap<u32, u64>,
    /// Nodes killed, stopped or paused by the schedule: their samples never count.
    down: std::collections::BTreeSet<u32>,
    /// Configured nodes (the majority of the current leader is counted out of these).
    nodes: Vec<u32>,
}

/// Everything recorded during a run.
#[derive(Debug, Default)]
pub struct Recorded {
    pub statuses: Vec<StatusSample>,
    pub logs: Vec<LogSnapshot>,
    pub poll_failures: Vec<PollFailure>,
}

#[derive(Clone)]
pub struct Observer {
    pub start: Instant,
    live: Arc<Mutex<Live>>,
    rec: Arc<Mutex<Recorded>>,
    /// Nodes judged as original-protocol servers: their extension fields are ignored.
    black_box: Arc<std::collections::BTreeSet<u32>>,
    stop: tokio::sync::watch::Sender<bool>,
}

/// Every this many log polls of a node, a full GetLog instead of a page.
const FULL_LOG_EVERY: u64 = 10;

/// GetLog (from a position, or whole) as [`Entry`]s; `None` when not answered.
async fn read_log(
    c: &mut client::Client,
    from: Option<usize>,
    timeout: Duration,
) -> Option<Vec<Entry>> {
    let entries = client::log_from(c, from, timeout).await.ok()?;
    let to_entry = |e: crate::proto::LogEntry| Entry {
        index: e.index,
        term: e.term,
        command: e.command,
    };
    Some(entries.into_iter().map(to_entry).collect())
}

fn to_sample(
    node: u32,
    sent_us: u64,
    t_us: u64,
    r: &crate::proto::GetStatusResponse,
) -> StatusSample {
    StatusSample {
        t_us,
        sent_us,
        node,
        state: r.state.clone(),
        term: r.current_term,
        voted_for: r.voted_for,
        leader_id: r.leader_id,
        // An original server leaves every extension at its zero value; a reference
        // node always names its implementation.
        ext: (!r.implementation.is_empty()).then(|| StatusExt {
            node_id: r.node_id,
            commit_index: r.commit_index,
            last_applied: r.last_applied,
            last_log_index: r.last_log_index,
            last_log_term: r.last_log_term,
            implementation: r.implementation.clone(),
            leader_address: r.leader_address.clone(),
        }),
    }
}

impl Observer {
    pub fn new(start: Instant, black_box: std::collections::BTreeSet<u32>) -> Self {
        Observer {
            start,
            black_box: Arc::new(black_box),
            live: Arc::default(),
            rec: Arc::default(),
            stop: tokio::sync::watch::channel(false).0,
        }
    }

    pub fn now_us(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }

    /// Start polling every node: GetStatus every `poll`, GetLog every `log_poll`.
    pub fn spawn(&self, nodes: &[(u32, SocketAddr)], poll: Duration, log_poll: Duration) {
        self.live.lock().unwrap().nodes = nodes.iter().map(|(id, _)| *id).collect();
        for &(id, addr) in nodes {
            self.poll_task(id, addr, poll, false);
            self.poll_task(id, addr, log_poll, true);
        }
    }

    /// One task per node and kind of poll, so a slow answer delays nothing else.
    fn poll_task(&self, id: u32, addr: SocketAddr, period: Duration, logs: bool) {
        let me = self.clone();
        let mut stop = self.stop.subscribe();
        tokio::spawn(async move {
            let mut c = client::lazy(addr, Duration::from_millis(200));
            let mut cache = logcache::LogCache::new(FULL_LOG_EVERY);
            let status_timeout = (period * 4).max(Duration::from_millis(250));
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stop.changed() => break,
                }
                if logs {
                    me.snapshot_paged(id, &mut c, Duration::from_secs(2), &mut cache)
                        .await;
                } else {
                    me.sample(id, &mut c, status_timeout).await;
                }
            }
        });
    }

    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }

    /// One GetStatus; recorded and returned when the node answered.
    pub async fn sample(
        &self,
        id: u32,
        c: &mut client::Client,
        timeout: Duration,
    ) -> Option<StatusSample> {
        let sent = self.now_us();
        let r = client::status(c, timeout).await;
        // A poll still in flight when observation stopped (e.g. answered by a
        // node the teardown woke up) belongs to no evidence.
        if *self.stop.borrow() {
            return None;
        }
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                let f = PollFailure {
                    node: id,
                    sent_us: sent,
                    t_us: self.now_us(),
                    error: format!("{:?}: {}", e.code(), e.message()),
                };
                self.rec.lock().unwrap().poll_failures.push(f);
                return None;
            }
        };
        let mut s = to_sample(id, sent, self.now_us(), &r);
        if self.black_box.contains(&id) {
            s.ext = None;
        }
        {
            let mut live = self.live.lock().unwrap();
            if live.forgotten_us.get(&id).is_none_or(|f| s.sent_us >= *f) {
                live.latest.insert(id, s.clone());
            }
        }
        self.rec.lock().unwrap().statuses.push(s.clone());
        Some(s)
    }

    /// GetStatus then a full GetLog; recorded and returned when both answered.
    pub async fn snapshot(
        &self,
        id: u32,
        c: &mut client::Client,
        timeout: Duration,
    ) -> Option<LogSnapshot> {
        let status = self.sample(id, c, timeout).await?;
        let entries = read_log(c, None, timeout).await?;
        Some(self.record_log(id, status, entries))
    }

    /// Like [`Self::snapshot`], but GetLog only from the last entry `cache`
    /// holds (see [`logcache`]): a page that does not extend it costs a full read.
    pub async fn snapshot_paged(
        &self,
        id: u32,
        c: &mut client::Client,
        timeout: Duration,
        cache: &mut logcache::LogCache,
    ) -> Option<LogSnapshot> {
        use logcache::{Accepted, Read};
        let status = self.sample(id, c, timeout).await?;
        let read = cache.next_read();
        let from = match read {
            Read::Full => None,
            Read::From(at) => Some(at),
        };
        let mut got = cache.accept(read, read_log(c, from, timeout).await?);
        if got == Accepted::NeedFull {
            got = cache.accept(Read::Full, read_log(c, None, timeout).await?);
        }
        match got {
            Accepted::Log(entries) => Some(self.record_log(id, status, entries)),
            Accepted::NeedFull => None,
        }
    }

    fn record_log(&self, id: u32, status: StatusSample, entries: Vec<Entry>) -> LogSnapshot {
        let snap = LogSnapshot {
            t_us: self.now_us(),
            node: id,
            status,
            entries,
        };
        self.rec.lock().unwrap().logs.push(snap.clone());
        snap
    }

    /// Latest answers no older than `fresh` (by when they arrived).
    pub fn fresh(&self, fresh: Duration) -> Vec<StatusSample> {
        let now = self.now_us();
        let live = self.live.lock().unwrap();
        live.latest
            .values()
            .filter(|s| now.saturating_sub(s.t_us) <= fresh.as_micros() as u64)
            .cloned()
            .collect()
    }

    /// Forget a node's latest sample (after we kill, pause or restart it):
    /// answers to requests sent before now are not taken as its state.
    pub fn forget(&self, id: u32) {
        let now = self.now_us();
        let mut live = self.live.lock().unwrap();
        live.latest.remove(&id);
        live.forgotten_us.insert(id, now);
    }

    /// Mark a node down (killed, stopped, paused, exited) or up again: a down
    /// node never counts towards a leader's majority, a follower or a candidate.
    pub fn set_down(&self, id: u32, down: bool) {
        let mut live = self.live.lock().unwrap();
        if down {
            live.down.insert(id);
        } else {
            live.down.remove(&id);
        }
    }

    /// Apply `f` to the view of the cluster now: latest samples no older than
    /// `fresh`, nodes down, configured nodes (see [`view`]).
    pub fn with_view<R>(
        &self,
        fresh: Duration,
        f: impl FnOnce(&view::ViewInput<'_>, &[u32]) -> R,
    ) -> R {
        let now_us = self.now_us();
        let live = self.live.lock().unwrap();
        let latest: Vec<StatusSample> = live.latest.values().cloned().collect();
        let size = live.nodes.len().max(latest.len());
        let v = view::ViewInput {
            latest: &latest,
            cluster_size: size,
            now_us,
            max_age_us: fresh.as_micros() as u64,
            down: &live.down,
        };
        f(&v, &live.nodes)
    }

    /// The current leader (see [`view::current_leader`]): a Leader whose term a
    /// majority of the configured nodes report in answers no older than `fresh`.
    pub fn leader(&self, fresh: Duration) -> Option<StatusSample> {
        self.with_view(fresh, |v, _| view::current_leader(v).cloned())
    }

    pub fn take(&self) -> Recorded {
        std::mem::take(&mut *self.rec.lock().unwrap())
    }
}

//! Client workloads: tasks that send commands through ClientRequest and record
//! every operation in the history, with honest outcomes.
//!
//! `register`: SET / GET / CAS over a few keys with unique values, judged for
//! linearizability. `set`: unique opaque commands (understood even by servers of
//! the original protocol), judged for durability.
pub mod clients;
pub mod inflight;
pub mod keys;
pub mod open;

use crate::client;
use crate::history::{Command, Op, Outcome};
use crate::proto::{ClientResponseMessage, Outcome as Wire};
use crate::spec::{ClientMode, Workload, WorkloadKind};
pub use open::Stats;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Recorded as the message of a GET that a black-box node answered with success:
/// the original protocol carries no value, so the read cannot be judged.
pub const NO_READ_RESULT: &str = "black-box node: no read result";

/// The original server's answer when no leader is known: certainly not applied.
pub const NO_LEADER: &str = "No leader available";

/// Map a node's answer to what the client may conclude.
pub fn outcome_of(r: &ClientResponseMessage) -> Outcome {
    match Wire::try_from(r.outcome).unwrap_or(Wire::Unspecified) {
        Wire::Applied => Outcome::Ok,
        Wire::Rejected => Outcome::Fail,
        Wire::Unknown => Outcome::Info,
        // An original server: only `success` and the message are known.
        Wire::Unspecified if r.success => Outcome::Ok,
        Wire::Unspecified if r.message == NO_LEADER => Outcome::Fail,
        Wire::Unspecified => Outcome::Info,
    }
}

/// The history being recorded, shared by all clients and the harness's probes.
#[derive(Clone)]
pub struct Recorder {
    start: Instant,
    /// Nodes judged as original-protocol servers: only `success` and `message` count.
    black_box: Arc<std::collections::BTreeSet<u32>>,
    next_id: Arc<AtomicU64>,
    ops: Arc<Mutex<Vec<Op>>>,
}

impl Recorder {
    pub fn new(start: Instant, black_box: std::collections::BTreeSet<u32>) -> Self {
        Recorder {
            start,
            black_box: Arc::new(black_box),
            next_id: Arc::new(AtomicU64::new(0)),
            ops: Arc::default(),
        }
    }

    pub fn now_us(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }

    /// Send one command and record it. Returns the recorded op.
    pub async fn invoke(
        &self,
        c: &mut client::Client,
        client_id: u32,
        node: u32,
        command: String,
        timeout: Duration,
    ) -> Op {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let invoke_us = self.now_us();
        let r = client::command(c, &command, timeout).await;
        let complete_us = self.now_us();
        let (outcome, result, message) = match r {
            Ok(resp) if self.black_box.contains(&node) => {
                // The original protocol has no outcome and no result: a GET that
                // succeeded tells nothing about the value, so it cannot be judged.
                let original = ClientResponseMessage {
                    success: resp.success,
                    message: resp.message.clone(),
                    ..Default::default()
                };
                match outcome_of(&original) {
                    Outcome::Ok
                        if matches!(Command::parse(&command), Some(Command::Get { .. })) =>
                    {
                        (Outcome::Info, None, NO_READ_RESULT.into())
                    }
                    o => (o, None, resp.message.clone()),
                }
            }
            Ok(resp) => (outcome_of(&resp), resp.result.clone(), resp.message.clone()),
            // Refused: the request never left. Anything else may have reached the node.
            Err(s) if client::refused(&s) => {
                (Outcome::Fail, None, format!("refused: {}", s.message()))
            }
            Err(s) => (
                Outcome::Info,
                None,
                format!("{:?}: {}", s.code(), s.message()),
            ),
        };
        let op = Op {
            id,
            client: client_id,
            node: node as i32,
            command,
            invoke_us,
            complete_us: (outcome != Outcome::Info).then_some(complete_us),
            outcome,
            result: if outcome == Outcome::Ok { result } else { None },
            message,
        };
        self.ops.lock().unwrap().push(op.clone());
        op
    }

    pub fn count(&self) -> usize {
        self.ops.lock().unwrap().len()
    }

    /// The history so far, in invocation order.
    pub fn snapshot(&self) -> Vec<Op> {
        let mut ops = self.ops.lock().unwrap().clone();
        ops.sort_by_key(|o| (o.invoke_us, o.id));
        ops
    }
}

/// Running clients; dropping the handle does not stop them, `stop` does.
pub struct Running {
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<Stats>>,
}

impl Running {
    /// Stop issuing new operations and wait for those in flight (each has a deadline).
    /// Returns what the clients did besides the history (arrivals dropped at the cap, …).
    pub async fn stop(self) -> Stats {
        let _ = self.stop.send(true);
        let mut s = Stats::default();
        for t in self.tasks {
            if let Ok(t) = t.await {
                s.add(t);
            }
        }
        s
    }
}

/// One client's settings: where it sends, how often, its first logical id.
struct ClientPlan {
    /// Index over every client of every group (0-based); logical ids start at `index + 1`.
    index: u32,
    /// Clients of every group: the step between a client's successive logical ids.
    total: u32,
    targets: Vec<(u32, SocketAddr)>,
    gap: Option<Duration>,
}

/// The clients of the main group then of each `[[workload.group]]`, with the
/// addresses of their targets (empty targets = every node of `nodes`).
fn plans(w: &Workload, nodes: &[(u32, SocketAddr)]) -> Vec<ClientPlan> {
    let pick = |t: &[u32]| -> Vec<(u32, SocketAddr)> {
        nodes
            .iter()
            .filter(|(id, _)| t.is_empty() || t.contains(id))
            .copied()
            .collect()
    };
    let gap = |clients: u32, rate: f64| {
        (rate > 0.0).then(|| Duration::from_secs_f64(clients as f64 / rate))
    };
    let mut groups = vec![(w.clients, pick(&w.targets), gap(w.clients, w.rate))];
    for g in &w.groups {
        groups.push((g.clients, pick(&g.targets), gap(g.clients, g.rate)));
    }
    let total = groups.iter().map(|g| g.0).sum();
    let mut out = Vec::new();
    for (clients, targets, gap) in groups {
        for _ in 0..clients {
            out.push(ClientPlan {
                index: out.len() as u32,
                total,
                targets: targets.clone(),
                gap,
            });
        }
    }
    out
}

/// Start the workload's clients: `w.clients` sending to `w.targets`, then each
/// `[[workload.group]]`, closed loop or open loop ([`open`]) as `w.mode` says. `nodes` gives
/// every node's (id, address).
pub fn start(w: &Workload, nodes: Vec<(u32, SocketAddr)>, rec: Recorder, seed: u64) -> Running {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let values = Arc::new(AtomicU64::new(1));
    if w.mode == ClientMode::Open {
        let sh = open::Shared {
            ids: Arc::new(std::sync::atomic::AtomicU32::new(1)),
            values,
            seq: Arc::new(AtomicU64::new(0)),
            keys: Arc::default(),
        };
        let tasks = open::groups(w, &nodes)
            .into_iter()
            .enumerate()
            .map(|(i, g)| {
                let rng = StdRng::seed_from_u64(
                    seed ^ 0xA24B_AED4_963E_E407u64.wrapping_mul(i as u64 + 1),
                );
                let (w, sh, rec, stop) = (w.clone(), sh.clone(), rec.clone(), stop_rx.clone());
                tokio::spawn(open::group_loop(w, g, sh, rec, stop, rng))
            })
            .collect();
        return Running {
            stop: stop_tx,
            tasks,
        };
    }
    let tasks = plans(w, &nodes)
        .into_iter()
        .map(|p| {
            let rng = StdRng::seed_from_u64(
                seed ^ (0x9E37_79B9_7F4A_7C15u64.wrapping_mul(p.index as u64 + 1)),
            );
            tokio::spawn(client_loop(
                w.clone(),
                p,
                rec.clone(),
                stop_rx.clone(),
                values.clone(),
                rng,
            ))
        })
        .collect();
    Running {
        stop: stop_tx,
        tasks,
    }
}

/// One client: send a command, record it, wait for the rate, until stopped.
async fn client_loop(
    w: Workload,
    p: ClientPlan,
    rec: Recorder,
    mut stop: tokio::sync::watch::Receiver<bool>,
    values: Arc<AtomicU64>,
    mut rng: StdRng,
) -> Stats {
    let mut stats = Stats {
        made: 1,
        max_busy: 1,
        ..Stats::default()
    };
    let mut clients: HashMap<u32, client::Client> = p
        .targets
        .iter()
        .map(|(id, a)| (*id, client::lazy(*a, Duration::from_millis(300))))
        .collect();
    // Logical client ids start at 1 (0 is the harness's own probes). A client
    // whose op ends `info` may still have it in flight, so it continues under a
    // fresh id, as Jepsen does: each id has at most one op open.
    let mut logical = p.index + 1;
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut n = 0u64;
    let timeout = Duration::from_millis(w.request_timeout_ms);
    if let Some(g) = p.gap {
        tokio::select! {
            _ = tokio::time::sleep(clients::start_offset(&mut rng, g)) => {}
            _ = stop.changed() => return stats,
        }
    }
    while !*stop.borrow() && !p.targets.is_empty() {
        stats.arrivals += 1;
        let started = Instant::now();
        let (node, _) = p.targets[rng.random_range(0..p.targets.len())];
        let command = match w.kind {
            WorkloadKind::Set => format!("op-c{}-{}", p.index + 1, n),
            WorkloadKind::Register => register_command(&mut rng, w.keys, &values, &seen),
        };
        n += 1;
        let c = clients.get_mut(&node).unwrap();
        let op = rec.invoke(c, logical, node, command, timeout).await;
        if op.outcome == Outcome::Ok {
            learn(&mut seen, &op);
        }
        if op.outcome == Outcome::Info {
            logical += p.total;
            stats.retired += 1;
            stats.made += 1;
        }
        // Without a rate, back off briefly after a failure so a dead node is not hammered.
        let gap = match (p.gap, op.outcome) {
            (Some(g), _) => clients::poisson_gap(&mut rng, g).saturating_sub(started.elapsed()),
            (None, Outcome::Ok) => Duration::ZERO,
            (None, _) => Duration::from_millis(20),
        };
        if !gap.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(gap) => {}
                _ = stop.changed() => break,
            }
        }
    }
    stats
}

/// 40% GET, 40% SET with a fresh value, 20% CAS from a value this client saw, on a random one
/// of `keys` keys.
fn register_command(
    rng: &mut StdRng,
    keys: u32,
    values: &AtomicU64,
    seen: &HashMap<String, String>,
) -> String {
    let key = rng.random_range(0..keys);
    register_on(rng, key, values, seen)
}

/// [`register_command`] on key `k{key}`.
fn register_on(
    rng: &mut StdRng,
    key: u32,
    values: &AtomicU64,
    seen: &HashMap<String, String>,
) -> String {
    let key = format!("k{key}");
    let roll: f64 = rng.random();
    let fresh = || values.fetch_add(1, Ordering::Relaxed).to_string();
    if roll < 0.4 {
        format!("GET {key}")
    } else if roll < 0.8 {
        format!("SET {key} {}", fresh())
    } else {
        let old = seen.get(&key).cloned().unwrap_or_else(|| "0".into());
        format!("CAS {key} {old} {}", fresh())
    }
}

/// Remember the last value this client knows for a key (for CAS).
fn learn(seen: &mut HashMap<String, String>, op: &Op) {
    let learned = match (op.kv(), op.result.as_deref()) {
        (Some(Command::Get { key }), Some(v)) => Some((key, v)),
        (Some(Command::Set { key, value }), _) => Some((key, value)),
        (Some(Command::Cas { key, new, .. }), Some("true")) => Some((key, new)),
        _ => None,
    };
    if let Some((k, v)) = learned {
        seen.insert(k.to_string(), v.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(success: bool, message: &str, outcome: Wire) -> ClientResponseMessage {
        ClientResponseMessage {
            success,
            message: message.into(),
            outcome: outcome as i32,
            ..Default::default()
        }
    }

    #[test]
    fn outcomes_follow_the_extension_or_the_original_answer() {
        assert_eq!(outcome_of(&resp(true, "", Wire::Applied)), Outcome::Ok);
        assert_eq!(outcome_of(&resp(false, "x", Wire::Rejected)), Outcome::Fail);
        assert_eq!(
            outcome_of(&resp(false, "timeout", Wire::Unknown)),
            Outcome::Info
        );
        // Original servers: success is ok, "No leader available" certainly failed,
        // any other failure may still have been applied.
        assert_eq!(
            outcome_of(&resp(true, "done", Wire::Unspecified)),
            Outcome::Ok
        );
        assert_eq!(
            outcome_of(&resp(false, NO_LEADER, Wire::Unspecified)),
            Outcome::Fail
        );
        assert_eq!(
            outcome_of(&resp(false, "Failed to replicate", Wire::Unspecified)),
            Outcome::Info
        );
    }

    #[test]
    fn register_commands_use_unique_values() {
        let mut rng = StdRng::seed_from_u64(7);
        let values = AtomicU64::new(1);
        let seen = HashMap::new();
        let mut written = std::collections::HashSet::new();
        for _ in 0..500 {
            let c = register_command(&mut rng, 3, &values, &seen);
            let v = match Command::parse(&c) {
                Some(Command::Get { .. }) => continue,
                Some(w) => w.written().expect("SET and CAS write"),
                None => panic!("unexpected command {c:?}"),
            };
            assert!(written.insert(v.to_string()), "value {v} written twice");
        }
        assert!(written.len() > 200);
    }

    #[test]
    fn groups_get_their_own_targets_and_distinct_logical_ids() {
        let a = |p: u16| SocketAddr::from(([127, 0, 0, 1], p));
        let nodes: Vec<(u32, SocketAddr)> = (1..=5).map(|i| (i, a(28100 + i as u16))).collect();
        let w = Workload {
            kind: WorkloadKind::Register,
            clients: 2,
            rate: 40.0,
            keys: 2,
            targets: vec![1, 2],
            request_timeout_ms: 1000,
            mode: ClientMode::Closed,
            max_clients: None,
            groups: vec![crate::spec::ClientGroup {
                clients: 1,
                rate: 10.0,
                targets: vec![3, 4, 5],
            }],
        };
        let ps = plans(&w, &nodes);
        assert_eq!(ps.len(), 3);
        let ids = |p: &ClientPlan| p.targets.iter().map(|t| t.0).collect::<Vec<_>>();
        assert_eq!(ids(&ps[0]), vec![1, 2]);
        assert_eq!(ids(&ps[2]), vec![3, 4, 5]);
        assert_eq!(ps[2].targets[0].1, a(28103));
        assert_eq!((ps[2].index, ps[2].total), (2, 3));
        // 2 clients at 40/s in total: one op per 50 ms each; the group: 1 at 10/s.
        assert_eq!(ps[0].gap, Some(Duration::from_millis(50)));
        assert_eq!(ps[2].gap, Some(Duration::from_millis(100)));
        // No targets: every node.
        let w = Workload {
            targets: vec![],
            groups: vec![],
            ..w
        };
        assert_eq!(ids(&plans(&w, &nodes)[0]), vec![1, 2, 3, 4, 5]);
    }
}

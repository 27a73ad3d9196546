//! Seeded randomized simulation of a 5-node cluster of pure cores: messages are delayed,
//! reordered, duplicated and dropped; nodes crash and restart from exactly what their `Ready`s
//! told the driver to persist; partitions come and go. After every step the Raft safety
//! properties of Figure 3 are checked. Each seed replays exactly (`SIM_SEED=<n>` runs one).

use super::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BinaryHeap;

const N: i32 = 5;
const ET: (u64, u64) = (150, 300);

#[derive(Clone, Debug)]
enum Wire {
    Req(Message),
    VoteResp(VoteResponse),
    /// An answer to the PreVote for the term given.
    PreVoteResp(i32, VoteResponse),
    AppendResp(AppendSent, AppendResponse),
}

#[derive(Debug)]
struct InFlight {
    at: u64,
    seq: u64,
    from: NodeId,
    to: NodeId,
    wire: Wire,
}
impl PartialEq for InFlight {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for InFlight {}
impl PartialOrd for InFlight {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for InFlight {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        // min-heap on (time, sequence)
        (o.at, o.seq).cmp(&(self.at, self.seq))
    }
}

#[derive(Default, Clone)]
struct Disk {
    hs: HardState,
    log: Vec<Entry>,
}

struct Sim {
    rng: StdRng,
    now: u64,
    seq: u64,
    nodes: BTreeMap<NodeId, Option<Core>>,
    disks: BTreeMap<NodeId, Disk>,
    net: BinaryHeap<InFlight>,
    /// Nodes on side A of a partition (None: no partition).
    partition: Option<BTreeSet<NodeId>>,
    drop_rate: f64,
    leaders: BTreeMap<i32, NodeId>,
    applied: BTreeMap<i32, Entry>,
    proposals: u64,
}

impl Sim {
    fn new(seed: u64) -> Sim {
        let mut sim = Sim {
            rng: StdRng::seed_from_u64(seed),
            now: 0,
            seq: 0,
            nodes: BTreeMap::new(),
            disks: BTreeMap::new(),
            net: BinaryHeap::new(),
            partition: None,
            drop_rate: 0.1,
            leaders: BTreeMap::new(),
            applied: BTreeMap::new(),
            proposals: 0,
        };
        for id in 1..=N {
            sim.disks.insert(id, Disk::default());
            sim.start(id);
        }
        sim
    }

    fn cfg(id: NodeId) -> Config {
        Config {
            id,
            peers: (1..=N).filter(|&p| p != id).collect(),
            heartbeat_ms: 50,
            rpc_timeout_ms: ET.0,
            max_entries_per_append: 4,
            max_inflight_appends: 4,
            election_timeout_ms: ET,
            pre_vote: true,
            check_quorum: true,
        }
    }

    fn start(&mut self, id: NodeId) {
        let d = self.disks[&id].clone();
        let t = self.rng.random_range(ET.0..=ET.1);
        let core = Core::new(Sim::cfg(id), d.hs, d.log, self.now, t);
        self.nodes.insert(id, Some(core));
        self.drain(id);
    }

    fn connected(&self, a: NodeId, b: NodeId) -> bool {
        match &self.partition {
            None => true,
            Some(side) => side.contains(&a) == side.contains(&b),
        }
    }

    fn send(&mut self, from: NodeId, to: NodeId, wire: Wire) {
        if !self.connected(from, to) || self.rng.random_bool(self.drop_rate) {
            if let Wire::Req(Message::Append(_, sent)) = &wire {
                let sent = *sent;
                let at = self.now + self.rng.random_range(1..=ET.0);
                self.seq += 1;
                // The driver reports a lost RPC to the sender after its deadline.
                self.net.push(InFlight {
                    at,
                    seq: self.seq,
                    from: to,
                    to: from,
                    wire: Wire::AppendResp(
                        sent,
                        AppendResponse {
                            term: -1,
                            success: false,
                            conflict_index: None,
                            conflict_term: None,
                        },
                    ),
                });
            }
            return;
        }
        let copies = if self.rng.random_bool(0.05) { 2 } else { 1 };
        for _ in 0..copies {
            self.seq += 1;
            let at = self.now + self.rng.random_range(1..=40);
            self.net.push(InFlight {
                at,
                seq: self.seq,
                from,
                to,
                wire: wire.clone(),
            });
        }
    }

    /// Carries out a node's Ready exactly as the real driver does, and checks invariants.
    fn drain(&mut self, id: NodeId) {
        let Some(core) = self.nodes.get_mut(&id).and_then(|c| c.as_mut()) else {
            return;
        };
        let ready = core.take_ready();
        let term = core.term();
        let log_snapshot: Vec<Entry> = core.log().to_vec();
        if ready.reset_timer {
            let t = self.rng.random_range(ET.0..=ET.1);
            self.nodes
                .get_mut(&id)
                .unwrap()
                .as_mut()
                .unwrap()
                .set_election_timeout(t);
        }
        let disk = self.disks.get_mut(&id).unwrap();
        if let Some(hs) = ready.hard_state {
            disk.hs = hs;
        }
        for op in &ready.log_ops {
            match op {
                LogOp::Truncate { from_index } => disk.log.truncate(*from_index as usize),
                LogOp::Append(es) => {
                    for e in es {
                        assert_eq!(e.index as usize, disk.log.len(), "appends are contiguous");
                        disk.log.push(e.clone());
                    }
                }
            }
        }
        assert_eq!(
            disk.log, log_snapshot,
            "node {id}: disk equals memory after Ready"
        );
        assert_eq!(disk.hs.term, term, "node {id}: term persisted");
        for ev in &ready.events {
            if let Event::Role {
                role: Role::Leader,
                term,
            } = ev
            {
                // Election Safety: at most one leader per term.
                let prev = self.leaders.insert(*term, id);
                assert!(
                    prev.is_none() || prev == Some(id),
                    "term {term}: leaders {prev:?} and {id}"
                );
                // Leader Completeness: a leader holds every committed entry.
                for (i, e) in &self.applied {
                    assert_eq!(
                        log_snapshot.get(*i as usize),
                        Some(e),
                        "leader {id} of term {term} lacks committed entry {i}"
                    );
                }
            }
        }
        for e in ready.committed {
            // State Machine Safety: one entry per index, everywhere.
            let first = self.applied.entry(e.index).or_insert_with(|| e.clone());
            assert_eq!(
                *first, e,
                "node {id} applied a different entry at {}",
                e.index
            );
        }
        for (to, msg) in ready.messages {
            self.send(id, to, Wire::Req(msg));
        }
    }

    fn deliver(&mut self, m: InFlight) {
        let now = self.now;
        let Some(Some(core)) = self.nodes.get_mut(&m.to) else {
            return; // crashed: the message is lost
        };
        match m.wire {
            Wire::Req(Message::Vote(req)) => {
                let resp = core.handle_vote_request(now, &req);
                self.drain(m.to);
                self.send(m.to, m.from, Wire::VoteResp(resp));
            }
            Wire::Req(Message::Append(req, sent)) => {
                let resp = core.handle_append_request(now, &req);
                self.drain(m.to);
                self.send(m.to, m.from, Wire::AppendResp(sent, resp));
            }
            Wire::VoteResp(resp) => {
                core.handle_vote_response(now, m.from, &resp);
                self.drain(m.to);
            }
            Wire::Req(Message::PreVote(req)) => {
                let resp = core.handle_prevote_request(now, &req);
                self.drain(m.to);
                self.send(m.to, m.from, Wire::PreVoteResp(req.term, resp));
            }
            Wire::PreVoteResp(term, resp) => {
                core.handle_prevote_response(now, m.from, term, &PreVoteReply::Answer(resp));
                self.drain(m.to);
            }
            Wire::AppendResp(sent, resp) if resp.term == -1 => {
                core.handle_send_failure(now, m.from, Some(sent));
                self.drain(m.to);
            }
            Wire::AppendResp(sent, resp) => {
                core.handle_append_response(now, m.from, sent, &resp);
                self.drain(m.to);
            }
        }
    }

    fn check_log_matching(&self) {
        // Log Matching: same index and term => identical prefixes.
        let logs: Vec<&Vec<Entry>> = self.disks.values().map(|d| &d.log).collect();
        for a in &logs {
            for b in &logs {
                let n = a.len().min(b.len());
                if let Some(i) = (0..n).rev().find(|&i| a[i].term == b[i].term) {
                    assert_eq!(
                        a[..=i],
                        b[..=i],
                        "logs agree on ({i}, term) but differ before"
                    );
                }
            }
        }
    }

    fn step(&mut self, chaos: bool, propose: bool) {
        self.now += 5;
        while self.net.peek().is_some_and(|m| m.at <= self.now) {
            let m = self.net.pop().unwrap();
            self.deliver(m);
        }
        for id in 1..=N {
            if let Some(Some(core)) = self.nodes.get_mut(&id) {
                core.tick(self.now);
                self.drain(id);
            }
        }
        if propose && self.rng.random_bool(0.2) {
            let id = self.rng.random_range(1..=N);
            let now = self.now;
            if let Some(Some(core)) = self.nodes.get_mut(&id) {
                if core.role() == Role::Leader {
                    self.proposals += 1;
                    let cmd = format!("SET k{} {}", self.proposals % 7, self.proposals);
                    let _ = core.propose(now, cmd);
                    self.drain(id);
                }
            }
        }
        if chaos {
            let r: f64 = self.rng.random();
            if r < 0.004 {
                let id = self.rng.random_range(1..=N);
                self.nodes.insert(id, None); // crash: volatile state is gone
            } else if r < 0.012 {
                let down: Vec<NodeId> = (1..=N).filter(|id| self.nodes[id].is_none()).collect();
                if let Some(&id) = down.first() {
                    self.start(id);
                }
            } else if r < 0.016 {
                let side: BTreeSet<NodeId> =
                    (1..=N).filter(|_| self.rng.random_bool(0.5)).collect();
                self.partition = Some(side);
            } else if r < 0.024 {
                self.partition = None;
            }
        }
        if self.now % 250 == 0 {
            self.check_log_matching();
        }
    }

    fn heal(&mut self) {
        self.partition = None;
        self.drop_rate = 0.0;
        for id in 1..=N {
            if self.nodes[&id].is_none() {
                self.start(id);
            }
        }
    }
}

fn run_seed(seed: u64) {
    let mut sim = Sim::new(seed);
    for _ in 0..4000 {
        sim.step(true, true);
    }
    // Liveness once the network is healthy again: a leader commits a fresh entry everywhere.
    sim.heal();
    let committed_before = sim.applied.len();
    for _ in 0..2000 {
        sim.step(false, true);
    }
    for _ in 0..200 {
        sim.step(false, false);
    }
    assert!(
        sim.applied.len() > committed_before,
        "seed {seed}: nothing committed after healing"
    );
    sim.check_log_matching();
    let last = *sim.applied.keys().last().unwrap();
    for (id, core) in &sim.nodes {
        let core = core.as_ref().unwrap();
        assert!(
            core.last_applied() == last,
            "seed {seed}: node {id} applied only {} of {last}",
            core.last_applied()
        );
    }
}

/// Figure 3 (Election Safety, Log Matching, Leader Completeness, State Machine Safety) under
/// message loss, reordering, duplication, crashes with recovery from persisted state, and
/// partitions; plus progress once the faults stop.
#[test]
fn test_figure3_properties_hold_in_randomized_runs() {
    let seeds: Vec<u64> = match std::env::var("SIM_SEED") {
        Ok(s) => vec![s.parse().expect("SIM_SEED is a number")],
        Err(_) => (1..=12).collect(),
    };
    for seed in seeds {
        run_seed(seed);
    }
}

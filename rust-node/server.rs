//! The I/O shell around the pure core.
//!
//! One task (the driver) owns the [`Core`], the storage, the journal and the state machine; every
//! other task talks to it through one mpsc channel. After each input the driver carries out the
//! core's `Ready` in order: persist (fsync), journal, send messages, reply, apply. Each peer has
//! its own replication task, so a slow or dead peer never delays the others; every RPC carries a
//! deadline. The tonic service turns RPCs into driver inputs and handles client forwarding.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::error::Elapsed;
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Response, Status};
use tracing::{debug, error, info, warn};

use crate::bugs::{Bug, Bugs};
use crate::core::{
    AppendRequest, AppendResponse, AppendSent, Config, Core, Entry, Event, LogOp, Message, NodeId,
    PreVoteReply, ReadState, Role, VoteRequest, VoteResponse, NONE,
};
use crate::journal::Journal;
use crate::kv::{self, Kv};
use crate::storage::Storage;
use raft_harness::proto as pb;
use raft_harness::proto::raft_service_client::RaftServiceClient;
use raft_harness::proto::raft_service_server::RaftService;

pub const IMPLEMENTATION: &str = concat!("rust-node ", env!("CARGO_PKG_VERSION"));
pub const FORWARDED_HEADER: &str = "x-raft-forwarded";
const CLIENT_DEADLINE: Duration = Duration::from_secs(3);
const TICK: Duration = Duration::from_millis(10);
/// Inputs handled before one Ready is carried out (one fsync for all their proposals).
const MAX_BATCH: usize = 256;

#[derive(Clone, Debug)]
pub struct Peer {
    pub id: NodeId,
    /// `host:port` as given on the command line (what clients are told).
    pub addr: String,
}

#[derive(Clone, Debug)]
pub struct NodeConfig {
    pub id: NodeId,
    pub host: String,
    pub port: u16,
    pub peers: Vec<Peer>,
    pub election_timeout_ms: (u64, u64),
    pub heartbeat_ms: u64,
    pub unsafe_stale_reads: bool,
    /// Pre-vote before raising the term (thesis §9.6); `--no-pre-vote` turns it off.
    pub pre_vote: bool,
    /// Leader steps down without a majority's replies; `--no-check-quorum` turns it off.
    pub check_quorum: bool,
    /// Planted bugs (`--bug NAME`, test only; none by default), see bugs.rs.
    pub bugs: Bugs,
    /// AppendEntries carrying entries in flight per follower (`--max-inflight-appends`).
    pub max_inflight_appends: usize,
}

/// Appends in flight per follower unless `--max-inflight-appends` says otherwise. 1 (no
/// pipelining): on this project's 2-core bench machine a window of 4 LOWERED throughput (3 Rust
/// nodes ~10 %, 5-node mixed ~40 %: more, smaller appends, each one follower RPC and fsync,
/// instead of the batch that accumulates while the one append is in flight).
pub const DEFAULT_MAX_INFLIGHT_APPENDS: u64 = 1;

impl NodeConfig {
    pub fn self_addr(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
    pub fn addr_of(&self, id: NodeId) -> String {
        if id == self.id {
            return self.self_addr();
        }
        self.peers
            .iter()
            .find(|p| p.id == id)
            .map_or_else(String::new, |p| p.addr.clone())
    }
    pub fn rpc_deadline(&self) -> Duration {
        Duration::from_millis(self.election_timeout_ms.0)
    }
}

type Reply = pb::ClientResponseMessage;

/// Where a GET hears whether it was accepted (a receiver for its answer) or refused (leader).
type ReadTx = oneshot::Sender<Result<oneshot::Receiver<Reply>, NodeId>>;

pub enum Input {
    Vote(VoteRequest, oneshot::Sender<VoteResponse>),
    PreVote(VoteRequest, oneshot::Sender<VoteResponse>),
    Append(AppendRequest, oneshot::Sender<AppendResponse>),
    Propose(
        String,
        oneshot::Sender<Result<oneshot::Receiver<Reply>, NodeId>>,
    ),
    StaleGet(String, oneshot::Sender<(Option<String>, NodeId)>),
    /// A linearizable GET of the key (ReadIndex, thesis §6.4); answered like `Propose`.
    Read(String, ReadTx),
    Status(oneshot::Sender<pb::GetStatusResponse>),
    Log(pb::GetLogRequest, oneshot::Sender<Vec<Entry>>),
    PeerVote(NodeId, Option<VoteResponse>),
    /// A peer's answer to the PreVote for the term given (None: error or timeout, a refusal).
    PeerPreVote(NodeId, i32, Option<PreVoteReply>),
    PeerAppend(NodeId, AppendSent, Option<AppendResponse>),
    Stop(oneshot::Sender<()>),
}

/// The task that owns the core and everything it must act on.
pub struct Driver {
    cfg: Arc<NodeConfig>,
    core: Core,
    storage: Option<Storage>,
    journal: Journal,
    kv: Kv,
    pending: BTreeMap<i32, (i32, oneshot::Sender<Reply>)>,
    /// GETs of the current input batch: one ReadIndex request serves them all.
    read_batch: Vec<(String, ReadTx)>,
    /// GETs waiting for their ReadIndex, by the core's `ctx`.
    reads: HashMap<u64, Vec<(String, oneshot::Sender<Reply>)>>,
    next_read_ctx: u64,
    peer_tx: HashMap<NodeId, mpsc::UnboundedSender<Message>>,
    /// The leader this node knows (NONE: none), for forwarded requests to give up on a leader
    /// this node no longer follows.
    leader_tx: watch::Sender<NodeId>,
    epoch: Instant,
}

fn fatal(what: &str, err: impl std::fmt::Display) -> ! {
    error!("{what}: {err}");
    eprintln!("error: {what}: {err}");
    std::process::exit(1)
}

impl Driver {
    pub fn new(
        cfg: Arc<NodeConfig>,
        storage: Option<Storage>,
        mut journal: Journal,
        hs: crate::core::HardState,
        log: Vec<Entry>,
        peer_tx: HashMap<NodeId, mpsc::UnboundedSender<Message>>,
        leader_tx: watch::Sender<NodeId>,
    ) -> std::io::Result<Driver> {
        journal.write(
            "start",
            &[
                ("implementation", json!(IMPLEMENTATION)),
                ("term", json!(hs.term)),
                ("voted_for", json!(hs.voted_for)),
                ("log_len", json!(log.len())),
            ],
        )?;
        let core_cfg = Config {
            id: cfg.id,
            peers: cfg.peers.iter().map(|p| p.id).collect(),
            heartbeat_ms: cfg.heartbeat_ms,
            rpc_timeout_ms: cfg.election_timeout_ms.0,
            max_entries_per_append: 256,
            max_inflight_appends: cfg.max_inflight_appends,
            election_timeout_ms: cfg.election_timeout_ms,
            pre_vote: cfg.pre_vote,
            check_quorum: cfg.check_quorum,
        };
        let timeout = draw_timeout(&cfg);
        // Planted bug `restart-term-zero` drops the stored term and vote here.
        let mut core = Core::new(core_cfg, cfg.bugs.recovered(hs), log, 0, timeout);
        core.set_bugs(cfg.bugs.clone());
        let mut d = Driver {
            cfg,
            core,
            storage,
            journal,
            kv: Kv::default(),
            pending: BTreeMap::new(),
            read_batch: Vec::new(),
            reads: HashMap::new(),
            next_read_ctx: 0,
            peer_tx,
            leader_tx,
            epoch: Instant::now(),
        };
        d.process_ready();
        Ok(d)
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    pub async fn run(mut self, mut rx: mpsc::Receiver<Input>) {
        let mut ticker = tokio::time::interval(TICK);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => {
                    let now = self.now_ms();
                    self.core.tick(now);
                    self.process_ready();
                }
                input = rx.recv() => {
                    let Some(input) = input else { return };
                    if self.handle_batch(input, &mut rx) {
                        return;
                    }
                }
            }
        }
    }

    /// Group commit (issue 15 §3): handles `first` and every input already queued behind it
    /// (at most [`MAX_BATCH`]) before one [`Driver::process_ready`], so the proposals of
    /// clients that arrive together become one log append, ONE fsync and one AppendEntries
    /// per peer. Nothing waits for more: at low load a batch is one input, as before.
    /// Returns true when the node must stop.
    fn handle_batch(&mut self, first: Input, rx: &mut mpsc::Receiver<Input>) -> bool {
        let mut next = Some(first);
        let mut handled = 0;
        while let Some(input) = next.take() {
            if self.handle(input) {
                return true;
            }
            handled += 1;
            if handled < MAX_BATCH {
                next = rx.try_recv().ok();
            }
        }
        self.flush_reads();
        self.process_ready();
        false
    }

    /// Returns true when the node must stop. A proposal's Ready is left to
    /// [`Driver::handle_batch`]; every other input is carried out before its reply leaves.
    fn handle(&mut self, input: Input) -> bool {
        let now = self.now_ms();
        match input {
            Input::Vote(req, tx) => {
                let resp = self.core.handle_vote_request(now, &req);
                self.process_ready();
                let _ = tx.send(resp);
            }
            Input::PreVote(req, tx) => {
                let resp = self.core.handle_prevote_request(now, &req);
                self.process_ready();
                let _ = tx.send(resp);
            }
            Input::Append(req, tx) => {
                let resp = self.core.handle_append_request(now, &req);
                self.process_ready();
                let _ = tx.send(resp);
            }
            Input::Propose(cmd, tx) => match self.core.propose(now, cmd) {
                Ok((index, term)) => {
                    let (rtx, rrx) = oneshot::channel();
                    self.pending.insert(index, (term, rtx));
                    let _ = tx.send(Ok(rrx));
                    // Planted bug `ack-before-commit`: the client hears "applied" before the
                    // entry is even durable here, let alone on a majority (§8).
                    if self.cfg.bugs.has(Bug::AckBeforeCommit) {
                        self.ack_before_commit(index);
                    }
                }
                Err(nl) => {
                    let _ = tx.send(Err(nl.leader_id));
                }
            },
            Input::Read(key, tx) => self.read_batch.push((key, tx)),
            Input::StaleGet(key, tx) => {
                let _ = tx.send((self.kv.get(&key), self.core.leader_id()));
            }
            Input::Status(tx) => {
                let leader = self.core.leader_id();
                let _ = tx.send(pb::GetStatusResponse {
                    state: self.core.role().as_str().to_string(),
                    current_term: self.core.term(),
                    voted_for: self.core.voted_for(),
                    leader_id: leader,
                    node_id: self.cfg.id,
                    commit_index: self.core.commit_index(),
                    last_applied: self.core.last_applied(),
                    last_log_index: self.core.last_log_index(),
                    last_log_term: self.core.last_log_term(),
                    implementation: IMPLEMENTATION.to_string(),
                    leader_address: if leader == NONE {
                        String::new()
                    } else {
                        self.cfg.addr_of(leader)
                    },
                });
            }
            Input::Log(req, tx) => {
                let log = self.core.log();
                let from = req.from_index.unwrap_or(0).max(0) as usize;
                let from = from.min(log.len());
                let end = match req.max_entries {
                    Some(n) if n > 0 => (from + n as usize).min(log.len()),
                    _ => log.len(),
                };
                let _ = tx.send(log[from..end].to_vec());
            }
            Input::PeerVote(peer, resp) => {
                if let Some(resp) = resp {
                    self.core.handle_vote_response(now, peer, &resp);
                    self.process_ready();
                }
            }
            Input::PeerPreVote(peer, term, reply) => {
                if let Some(reply) = reply {
                    self.core.handle_prevote_response(now, peer, term, &reply);
                    self.process_ready();
                }
            }
            Input::PeerAppend(peer, sent, resp) => {
                match resp {
                    Some(resp) => self.core.handle_append_response(now, peer, sent, &resp),
                    None => self.core.handle_send_failure(now, peer, Some(sent)),
                }
                self.process_ready();
            }
            Input::Stop(tx) => {
                if let Some(st) = self.storage.as_ref().map(Storage::stats) {
                    info!(
                        fsyncs = st.fsyncs,
                        appends = st.appends,
                        entries = st.entries,
                        "storage stats"
                    );
                }
                if let Err(e) = self.journal.write("stop", &[]) {
                    warn!("journal: {e}");
                }
                let _ = tx.send(());
                return true;
            }
        }
        false
    }

    /// Carries out the core's pending actions in the order that keeps durability promises.
    fn process_ready(&mut self) {
        let ready = self.core.take_ready();
        if ready.is_empty() {
            return;
        }
        let leader = self.core.leader_id();
        self.leader_tx
            .send_if_modified(|l| std::mem::replace(l, leader) != leader);
        // 1. Persist before anything that depends on it leaves this node.
        if let Some(storage) = self.storage.as_mut() {
            // Planted bugs `volatile-term` / `volatile-log` skip these writes (Figure 2).
            let hard_state = ready.hard_state.filter(|_| self.cfg.bugs.persists_term());
            let log_ops = match self.cfg.bugs.persists_log() {
                true => &ready.log_ops[..],
                false => &[],
            };
            if let Some(hs) = hard_state {
                if let Err(e) = storage.save_hard_state(hs) {
                    fatal("cannot persist state", e);
                }
            }
            for op in log_ops {
                let res = match op {
                    LogOp::Truncate { from_index } => {
                        storage.truncate(&self.core.log()[..*from_index as usize])
                    }
                    LogOp::Append(entries) => storage.append(entries),
                };
                if let Err(e) = res {
                    fatal("cannot persist log", e);
                }
            }
        }
        // 2. Journal, and settle client requests the events decide.
        for ev in &ready.events {
            let (name, fields): (&str, Vec<(&str, Value)>) = match ev {
                Event::Term { term } => ("term", vec![("term", json!(term))]),
                Event::Vote { term, candidate } => (
                    "vote",
                    vec![("term", json!(term)), ("candidate", json!(candidate))],
                ),
                Event::Role { role, term } => {
                    info!(role = role.as_str(), term, "role change");
                    if *role != Role::Leader {
                        self.fail_pending_from(i32::MIN, "leadership lost before commit");
                    }
                    (
                        "role",
                        vec![("role", json!(role.as_str())), ("term", json!(term))],
                    )
                }
                Event::Truncate { from_index } => {
                    self.fail_pending_from(*from_index, "entry overwritten before commit");
                    ("truncate", vec![("from_index", json!(from_index))])
                }
                Event::Commit { index } => ("commit", vec![("index", json!(index))]),
                Event::PreVote { term } => ("prevote", vec![("term", json!(term))]),
                Event::PreVoteResult { term, granted } => (
                    "prevote_result",
                    vec![("term", json!(term)), ("granted", json!(granted))],
                ),
            };
            if let Err(e) = self.journal.write(name, &fields) {
                fatal("cannot write journal", e);
            }
        }
        // 3. Messages, each to its peer's own replication task.
        for (peer, msg) in ready.messages {
            if let Some(tx) = self.peer_tx.get(&peer) {
                let _ = tx.send(msg);
            }
        }
        // 4. Apply committed entries in log order, then answer their clients.
        for entry in ready.committed {
            let result = self.kv.apply(&entry.command);
            if let Err(e) = self.journal.write(
                "apply",
                &[
                    ("index", json!(entry.index)),
                    ("term", json!(entry.term)),
                    ("command", json!(entry.command)),
                    ("result", json!(result)),
                ],
            ) {
                fatal("cannot write journal", e);
            }
            debug!(index = entry.index, command = %entry.command, "applied");
            if let Some((term, tx)) = self.pending.remove(&entry.index) {
                let reply = if term == entry.term {
                    Reply {
                        success: true,
                        message: format!("applied at index {}", entry.index),
                        result,
                        outcome: pb::Outcome::Applied as i32,
                        ..self.hint()
                    }
                } else {
                    self.unknown("entry overwritten before commit")
                };
                let _ = tx.send(reply);
            }
        }
        // 5. Answer the GETs whose ReadIndex is confirmed (committed entries are applied).
        for read in ready.reads {
            self.answer_reads(read);
        }
        if ready.reset_timer {
            self.core.set_election_timeout(draw_timeout(&self.cfg));
        }
    }

    /// One ReadIndex request (thesis §6.4) for every GET of this input batch, so a burst of
    /// reads costs one heartbeat round. Not leader: each GET hears the leader, as a proposal.
    fn flush_reads(&mut self) {
        if self.read_batch.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.read_batch);
        self.next_read_ctx += 1;
        let ctx = self.next_read_ctx;
        match self.core.read_index(self.now_ms(), ctx) {
            Ok(()) => {
                let mut waiting = Vec::with_capacity(batch.len());
                for (key, tx) in batch {
                    let (rtx, rrx) = oneshot::channel();
                    if tx.send(Ok(rrx)).is_ok() {
                        waiting.push((key, rtx));
                    }
                }
                self.reads.insert(ctx, waiting);
            }
            Err(nl) => {
                for (_, tx) in batch {
                    let _ = tx.send(Err(nl.leader_id));
                }
            }
        }
    }

    /// A confirmed read is answered from the key-value store, which holds every entry up to
    /// commitIndex >= readIndex (the core's committed entries are applied before reads). A read
    /// of a node that lost leadership did not happen: REJECTED with the leader hint (the client
    /// may retry it anywhere; UNKNOWN is for writes that may have taken effect).
    fn answer_reads(&mut self, read: ReadState) {
        let (ctx, index) = match read {
            ReadState::Ready { ctx, index } => (ctx, Some(index)),
            ReadState::Failed { ctx } => (ctx, None),
        };
        for (key, tx) in self.reads.remove(&ctx).unwrap_or_default() {
            let reply = match index {
                Some(index) => Reply {
                    success: true,
                    message: format!("read at index {index} (ReadIndex)"),
                    result: self.kv.get(&key),
                    outcome: pb::Outcome::Applied as i32,
                    ..self.hint()
                },
                None => Reply {
                    success: false,
                    message: "leadership lost before the read was confirmed".into(),
                    outcome: pb::Outcome::Rejected as i32,
                    ..self.hint()
                },
            };
            let _ = tx.send(reply);
        }
    }

    /// Planted bug `ack-before-commit`: answers the client of the entry at `index` as applied
    /// as soon as the leader has appended it, before any follower holds it (§8).
    fn ack_before_commit(&mut self, index: i32) {
        if let Some((_, tx)) = self.pending.remove(&index) {
            let _ = tx.send(Reply {
                success: true,
                message: format!("appended at index {index} (--bug ack-before-commit)"),
                outcome: pb::Outcome::Applied as i32,
                ..self.hint()
            });
        }
    }

    fn hint(&self) -> Reply {
        leader_hint(&self.cfg, self.core.leader_id())
    }

    fn unknown(&self, why: &str) -> Reply {
        Reply {
            success: false,
            message: why.to_string(),
            outcome: pb::Outcome::Unknown as i32,
            ..self.hint()
        }
    }

    fn fail_pending_from(&mut self, from_index: i32, why: &str) {
        let failed = self.pending.split_off(&from_index);
        for (_, (_, tx)) in failed {
            let _ = tx.send(self.unknown(why));
        }
    }
}

fn draw_timeout(cfg: &NodeConfig) -> u64 {
    let (lo, hi) = cfg.election_timeout_ms;
    rand::rng().random_range(lo..=hi)
}

fn leader_hint(cfg: &NodeConfig, leader: NodeId) -> Reply {
    Reply {
        leader_id: leader,
        leader_address: if leader == NONE {
            String::new()
        } else {
            cfg.addr_of(leader)
        },
        ..Default::default()
    }
}

/// Turns `host:port` into a URI tonic can dial; `localhost` is pinned to IPv4 loopback because
/// nodes bind 127.0.0.1 by default.
fn endpoint(addr: &str, connect_timeout: Duration) -> Option<Endpoint> {
    let addr = match addr.strip_prefix("localhost:") {
        Some(port) => format!("127.0.0.1:{port}"),
        None => addr.to_string(),
    };
    Endpoint::from_shared(format!("http://{addr}"))
        .ok()
        .map(|e| e.connect_timeout(connect_timeout).tcp_nodelay(true))
}

/// One peer's replication loop: sends each message as its own RPC with a deadline and feeds the
/// outcome back to the driver. tonic's channel reconnects on the next call after a failure,
/// so a restarted peer is reached again at the next heartbeat.
pub async fn peer_loop(
    peer: Peer,
    deadline: Duration,
    mut rx: mpsc::UnboundedReceiver<Message>,
    core_tx: mpsc::Sender<Input>,
) {
    let Some(ep) = endpoint(&peer.addr, deadline) else {
        error!(peer = peer.id, addr = %peer.addr, "invalid peer address");
        return;
    };
    let client = RaftServiceClient::new(ep.timeout(deadline).connect_lazy());
    while let Some(msg) = rx.recv().await {
        let client = client.clone();
        let core_tx = core_tx.clone();
        let id = peer.id;
        tokio::spawn(async move {
            let input = call_peer(client, deadline, id, msg).await;
            let _ = core_tx.send(input).await;
        });
    }
}

fn to_pb_vote(req: &VoteRequest) -> pb::RequestVoteRequest {
    pb::RequestVoteRequest {
        term: req.term,
        candidate_id: req.candidate_id,
        last_log_index: req.last_log_index,
        last_log_term: req.last_log_term,
    }
}

/// A peer RPC's outcome under a deadline: the reply, or None when it failed (logged at debug
/// level, named `rpc`) or the deadline passed.
fn answered<T>(rpc: &str, outcome: Result<Result<Response<T>, Status>, Elapsed>) -> Option<T> {
    match outcome {
        Ok(Ok(r)) => Some(r.into_inner()),
        Ok(Err(e)) => {
            debug!("{rpc} failed: {e}");
            None
        }
        Err(_) => None,
    }
}

fn to_pb_vote_response(r: &VoteResponse) -> pb::RequestVoteResponse {
    pb::RequestVoteResponse {
        term: r.term,
        vote_granted: r.vote_granted,
    }
}

fn from_pb_vote_response(r: pb::RequestVoteResponse) -> VoteResponse {
    VoteResponse {
        term: r.term,
        vote_granted: r.vote_granted,
    }
}

fn from_pb_append_response(r: pb::AppendEntriesResponse) -> AppendResponse {
    AppendResponse {
        term: r.term,
        success: r.success,
        conflict_index: r.conflict_index,
        conflict_term: r.conflict_term,
    }
}

/// A PreVote's outcome under a deadline. A peer of the original protocol answers
/// `UNIMPLEMENTED`, which counts as a grant; any other error or the deadline is None, a refusal
/// (docs/node-contract.md).
fn prevote_reply(
    outcome: Result<Result<Response<pb::RequestVoteResponse>, Status>, Elapsed>,
) -> Option<PreVoteReply> {
    if matches!(&outcome, Ok(Err(e)) if e.code() == tonic::Code::Unimplemented) {
        return Some(PreVoteReply::Unimplemented);
    }
    let r = answered("PreVote", outcome)?;
    Some(PreVoteReply::Answer(from_pb_vote_response(r)))
}

/// Sends `msg` to peer `id` as its RPC with a deadline and returns the driver's input for the
/// outcome: the reply, or None when the RPC failed or timed out (for PreVote see
/// [`prevote_reply`]).
async fn call_peer(
    mut client: RaftServiceClient<Channel>,
    deadline: Duration,
    id: NodeId,
    msg: Message,
) -> Input {
    use tokio::time::timeout;
    match msg {
        Message::Vote(req) => {
            let outcome = timeout(deadline, client.request_vote(to_pb_vote(&req))).await;
            let resp = answered("RequestVote", outcome).map(from_pb_vote_response);
            Input::PeerVote(id, resp)
        }
        Message::PreVote(req) => {
            let outcome = timeout(deadline, client.pre_vote(to_pb_vote(&req))).await;
            Input::PeerPreVote(id, req.term, prevote_reply(outcome))
        }
        Message::Append(req, sent) => {
            let outcome = timeout(deadline, client.append_entries(to_pb_append(&req))).await;
            let resp = answered("AppendEntries", outcome).map(from_pb_append_response);
            Input::PeerAppend(id, sent, resp)
        }
    }
}

fn from_pb_vote(r: pb::RequestVoteRequest) -> VoteRequest {
    VoteRequest {
        term: r.term,
        candidate_id: r.candidate_id,
        last_log_index: r.last_log_index,
        last_log_term: r.last_log_term,
    }
}

fn to_pb_entry(e: &Entry) -> pb::LogEntry {
    pb::LogEntry {
        index: e.index,
        term: e.term,
        command: e.command.clone(),
    }
}

fn to_pb_append(req: &AppendRequest) -> pb::AppendEntriesRequest {
    pb::AppendEntriesRequest {
        term: req.term,
        leader_id: req.leader_id,
        entries: req.entries.iter().map(to_pb_entry).collect(),
        prev_log_index: req.prev_log_index,
        prev_log_term: req.prev_log_term,
        leader_commit: req.leader_commit,
    }
}

/// The gRPC face of the node.
pub struct Service {
    cfg: Arc<NodeConfig>,
    tx: mpsc::Sender<Input>,
    forward_clients: Mutex<HashMap<String, RaftServiceClient<Channel>>>,
    /// The leader the driver knows; a forward gives up when it changes.
    leader_rx: watch::Receiver<NodeId>,
}

impl Service {
    pub fn new(
        cfg: Arc<NodeConfig>,
        tx: mpsc::Sender<Input>,
        leader_rx: watch::Receiver<NodeId>,
    ) -> Service {
        Service {
            cfg,
            tx,
            forward_clients: Mutex::new(HashMap::new()),
            leader_rx,
        }
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Input) -> Result<T, Status> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(make(tx))
            .await
            .map_err(|_| Status::unavailable("node is stopping"))?;
        rx.await
            .map_err(|_| Status::unavailable("node is stopping"))
    }

    /// A RequestVote or PreVote RPC: the request goes to the core as `input`, its answer back.
    async fn answer_vote(
        &self,
        request: Request<pb::RequestVoteRequest>,
        input: fn(VoteRequest, oneshot::Sender<VoteResponse>) -> Input,
    ) -> Result<Response<pb::RequestVoteResponse>, Status> {
        let req = from_pb_vote(request.into_inner());
        let resp = self.ask(|tx| input(req, tx)).await?;
        Ok(Response::new(to_pb_vote_response(&resp)))
    }

    fn forward_client(&self, addr: &str) -> Option<RaftServiceClient<Channel>> {
        let mut clients = self.forward_clients.lock().expect("lock not poisoned");
        if let Some(c) = clients.get(addr) {
            return Some(c.clone());
        }
        let ep = endpoint(addr, Duration::from_millis(500))?;
        let c = RaftServiceClient::new(ep.connect_lazy());
        clients.insert(addr.to_string(), c.clone());
        Some(c)
    }

    async fn forward(&self, command: String, leader: NodeId) -> Reply {
        let hint = leader_hint(&self.cfg, leader);
        let unknown = |why: String| Reply {
            success: false,
            message: why,
            outcome: pb::Outcome::Unknown as i32,
            ..hint.clone()
        };
        let Some(mut client) = self.forward_client(&hint.leader_address) else {
            return Reply {
                success: false,
                message: format!("leader address {:?} is invalid", hint.leader_address),
                outcome: pb::Outcome::Rejected as i32,
                ..hint.clone()
            };
        };
        let mut req = Request::new(pb::ClientRequestMessage { command });
        req.metadata_mut().insert(
            FORWARDED_HEADER,
            tonic::metadata::MetadataValue::from_static("1"),
        );
        req.set_timeout(CLIENT_DEADLINE);
        let call = tokio::time::timeout(CLIENT_DEADLINE, client.client_request(req));
        let mut leader_rx = self.leader_rx.clone();
        // The driver stops following `leader` when a newer one appears or its election timer
        // fires without word from it (at most one election timeout after its last heartbeat):
        // a forward to a dead or cut-off leader ends then, not at the 3 s deadline (issue 15 §1).
        let abandoned = leader_rx.wait_for(|&now| now != leader);
        let result = tokio::select! {
            res = call => res,
            _ = abandoned => {
                let now = *self.leader_rx.borrow();
                return Reply {
                    success: false,
                    message: format!("leader {leader} was lost while the request was forwarded to it"),
                    outcome: pb::Outcome::Unknown as i32,
                    ..leader_hint(&self.cfg, now)
                };
            }
        };
        match result {
            Ok(Ok(resp)) => resp.into_inner(),
            // A refused connection means the request never left this node: certainly not applied.
            Ok(Err(e))
                if e.code() == tonic::Code::Unavailable
                    && e.message().contains("tcp connect error") =>
            {
                Reply {
                    success: false,
                    message: format!("leader {leader} is unreachable"),
                    outcome: pb::Outcome::Rejected as i32,
                    ..hint.clone()
                }
            }
            Ok(Err(e)) => unknown(format!(
                "forward to leader {leader} failed: {}",
                e.message()
            )),
            Err(_) => unknown(format!("forward to leader {leader} timed out")),
        }
    }
}

#[tonic::async_trait]
impl RaftService for Service {
    /// PreVote (thesis §9.6): answered by the core, which changes nothing for it.
    async fn pre_vote(
        &self,
        request: Request<pb::RequestVoteRequest>,
    ) -> Result<Response<pb::RequestVoteResponse>, Status> {
        self.answer_vote(request, Input::PreVote).await
    }

    async fn request_vote(
        &self,
        request: Request<pb::RequestVoteRequest>,
    ) -> Result<Response<pb::RequestVoteResponse>, Status> {
        self.answer_vote(request, Input::Vote).await
    }

    async fn append_entries(
        &self,
        request: Request<pb::AppendEntriesRequest>,
    ) -> Result<Response<pb::AppendEntriesResponse>, Status> {
        let r = request.into_inner();
        let req = AppendRequest {
            term: r.term,
            leader_id: r.leader_id,
            prev_log_index: r.prev_log_index,
            prev_log_term: r.prev_log_term,
            entries: r
                .entries
                .into_iter()
                .map(|e| Entry {
                    index: e.index,
                    term: e.term,
                    command: e.command,
                })
                .collect(),
            leader_commit: r.leader_commit,
        };
        let resp = self.ask(|tx| Input::Append(req, tx)).await?;
        Ok(Response::new(pb::AppendEntriesResponse {
            term: resp.term,
            success: resp.success,
            conflict_index: resp.conflict_index,
            conflict_term: resp.conflict_term,
        }))
    }

    async fn client_request(
        &self,
        request: Request<pb::ClientRequestMessage>,
    ) -> Result<Response<pb::ClientResponseMessage>, Status> {
        let forwarded = request.metadata().get(FORWARDED_HEADER).is_some();
        let command = request.into_inner().command;
        if self.cfg.unsafe_stale_reads {
            if let kv::Command::Get(key) = kv::parse(&command) {
                let key = key.to_string();
                let (value, leader) = self.ask(|tx| Input::StaleGet(key, tx)).await?;
                return Ok(Response::new(Reply {
                    success: true,
                    message: "stale local read (--unsafe-stale-reads)".into(),
                    result: value,
                    outcome: pb::Outcome::Applied as i32,
                    ..leader_hint(&self.cfg, leader)
                }));
            }
        }
        let proposed = match kv::parse(&command) {
            kv::Command::Get(key) => {
                let key = key.to_string();
                self.ask(|tx| Input::Read(key, tx)).await?
            }
            _ => self.ask(|tx| Input::Propose(command.clone(), tx)).await?,
        };
        let reply = match proposed {
            Ok(done) => match tokio::time::timeout(CLIENT_DEADLINE, done).await {
                Ok(Ok(reply)) => reply,
                Ok(Err(_)) => Reply {
                    success: false,
                    message: "node stopped before commit".into(),
                    outcome: pb::Outcome::Unknown as i32,
                    ..leader_hint(&self.cfg, self.cfg.id)
                },
                Err(_) => Reply {
                    success: false,
                    message: "timed out waiting for commit".into(),
                    outcome: pb::Outcome::Unknown as i32,
                    ..leader_hint(&self.cfg, self.cfg.id)
                },
            },
            Err(NONE) => Reply {
                success: false,
                message: "No leader available".into(),
                outcome: pb::Outcome::Rejected as i32,
                ..leader_hint(&self.cfg, NONE)
            },
            Err(leader) if forwarded => Reply {
                success: false,
                message: format!("not the leader (forwarded request); leader is {leader}"),
                outcome: pb::Outcome::Rejected as i32,
                ..leader_hint(&self.cfg, leader)
            },
            Err(leader) => self.forward(command, leader).await,
        };
        Ok(Response::new(reply))
    }

    async fn get_status(
        &self,
        _request: Request<pb::GetStatusRequest>,
    ) -> Result<Response<pb::GetStatusResponse>, Status> {
        Ok(Response::new(self.ask(Input::Status).await?))
    }

    async fn get_log(
        &self,
        request: Request<pb::GetLogRequest>,
    ) -> Result<Response<pb::GetLogResponse>, Status> {
        let req = request.into_inner();
        let entries = self.ask(|tx| Input::Log(req, tx)).await?;
        Ok(Response::new(pb::GetLogResponse {
            entries: entries.iter().map(to_pb_entry).collect(),
        }))
    }
}

#[cfg(test)]
#[path = "driver_tests.rs"]
mod driver_tests;

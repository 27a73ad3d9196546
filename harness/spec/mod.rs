//! Suite specs: the TOML files under `suites/` turned into plain, validated data.
//!
//! `load` reads a suite and the kind files it includes, checks everything that
//! can be checked before a process starts, and returns either a `Spec` or every
//! problem found, each pointing at its file, line and column. The schema is
//! documented for suite authors in `suites/README.md`.
mod de;
mod diag;
/// The link in a reports folder to its newest run (`REPORTS/latest`): no suite may be named so.
pub const LATEST_LINK: &str = "latest";

pub mod faults;
mod fit;
mod input;
mod parse;
pub use parse::explore;
mod tables;
pub mod template;
mod value;

pub use diag::{excerpt, suggest, Diagnostic, SpecErrors};
pub use input::MAX_FILE_BYTES;
pub use parse::msgstep::MsgStep;
pub use parse::{load, NET_SHAPES, PROC_FAULTS};

pub use faults::LinkMode;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Spec {
    pub name: String,
    pub file: PathBuf,
    pub description: String,
    pub seed: Option<u64>,
    pub kinds: BTreeMap<String, Kind>,
    pub cluster: Cluster,
    pub nodes: Vec<NodeSpec>,
    pub workload: Option<Workload>,
    pub steps: Vec<Step>,
    pub checks: Checks,
    /// Every file read (suite first), with its text: copied into the report.
    pub sources: Vec<(PathBuf, String)>,
    /// `[explore]` (None: absent), for `raft-harness explore`.
    pub explore: Option<explore::Config>,
}

/// How to build and start one implementation of the node contract.
#[derive(Debug, Clone)]
pub struct Kind {
    pub name: String,
    /// Directory the command, build step and build inputs are relative to.
    pub root: PathBuf,
    pub build: Option<Vec<String>>,
    /// Files/folders whose contents decide whether the build step must run again.
    pub build_inputs: Vec<PathBuf>,
    /// argv template with `{placeholders}`.
    pub command: Vec<String>,
    pub env: Vec<(String, String)>,
    pub ready_timeout_ms: u64,
    pub stop_grace_ms: u64,
    /// Judge nodes of this kind from the original protocol only: the harness
    /// ignores extension fields in their answers (as if an original server).
    pub black_box: bool,
    /// Extra regular expressions (`error_patterns`) that mark a line of this
    /// kind's log as an error, for the `node_errors` check (validated at load).
    pub error_patterns: Vec<String>,
    /// Extra program file names that identify a server of this kind started by
    /// hand (besides the command's own program), e.g. `raft-node.jar`, which
    /// `java-node/run.sh` executes. Used by `clean` (docs: suites/README.md).
    pub programs: Vec<String>,
}

impl Kind {
    /// White-box evidence: the node writes a journal when its command asks for one.
    pub fn writes_journal(&self) -> bool {
        self.command.iter().any(|a| a.contains("{journal}"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub election_min_ms: u64,
    pub election_max_ms: u64,
    pub heartbeat_ms: u64,
}

/// Default `node_log_cap_mb`: 64 MiB of output kept per node (32 MiB head, 32 MiB tail).
pub const DEFAULT_NODE_LOG_CAP_BYTES: u64 = 64 << 20;

#[derive(Debug, Clone)]
pub struct Cluster {
    pub host: String,
    pub timing: Timing,
    /// Poll interval of GetStatus on every node.
    pub poll_ms: u64,
    /// Interval of GetLog snapshots.
    pub log_poll_ms: u64,
    /// Route node-to-node traffic through the harness's per-link proxies.
    pub proxies: bool,
    /// `network = "rpc"`: the links are RPC-aware (`net::rpc`, `messages.jsonl`, message
    /// faults) instead of TCP proxies; implies `proxies`.
    pub rpc: bool,
    /// Bytes of each node's output kept in `nodes/<id>.log`: the first and the last
    /// half (`node_log_cap_mb`, default [`DEFAULT_NODE_LOG_CAP_BYTES`]); the middle of a
    /// longer log is cut.
    pub node_log_cap_bytes: u64,
    /// Where nodes run: processes of this machine, or containers (`backend = "docker"`).
    pub backend: Backend,
}

/// `[cluster] backend`: how nodes are run (docs: docker/README.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// Child processes of the harness (the default).
    #[default]
    Process,
    /// One container per node on the Docker engine of `DOCKER_HOST` (harness/docker).
    Docker,
}

#[derive(Debug, Clone)]
pub struct NodeSpec {
    pub id: u32,
    pub kind: String,
    pub port: u16,
    pub timing: Timing,
    pub env: Vec<(String, String)>,
    /// Extra arguments appended to the kind's command.
    pub args: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkloadKind {
    /// SET/GET/CAS over a few keys with unique values: judged for linearizability.
    Register,
    /// Unique opaque commands: every acknowledged one must be in the final log once.
    Set,
}

#[derive(Debug, Clone)]
pub struct Workload {
    pub kind: WorkloadKind,
    pub clients: u32,
    /// Total operations per second over all clients; 0 = as fast as answers come.
    pub rate: f64,
    pub keys: u32,
    /// Nodes clients send to; empty = every node.
    pub targets: Vec<u32>,
    pub request_timeout_ms: u64,
    /// `mode`: closed-loop clients or open-loop arrivals (issue 13 §1).
    pub mode: ClientMode,
    /// `max_clients` (open loop): most logical clients with a request in flight at once, per
    /// group; `None` = [`crate::workload::open::default_cap`].
    pub max_clients: Option<u32>,
    /// More client groups of the same type and keys (`[[workload.group]]`), each
    /// with its own nodes: e.g. clients of the majority side of a partition, so
    /// reads complete there while the main group writes to the minority.
    pub groups: Vec<ClientGroup>,
}

/// `[workload] mode`: whether arrivals wait for answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientMode {
    /// `clients` clients, each with one request in flight: the next request waits for the
    /// previous answer (then for the gap of `rate`). All stuck on a dead leader = no arrivals.
    #[default]
    Closed,
    /// Poisson arrivals at `rate` whatever the answers: each goes to a free logical client, a
    /// new one when none is free, up to `max_clients` (beyond: the arrival is dropped, counted).
    Open,
}

impl ClientMode {
    pub const WORDS: &'static [(&'static str, ClientMode)] =
        &[("closed", ClientMode::Closed), ("open", ClientMode::Open)];
}

/// A further group of workload clients (`[[workload.group]]`).
#[derive(Debug, Clone)]
pub struct ClientGroup {
    pub clients: u32,
    /// Total operations per second over the group's clients; 0 = as fast as answers come.
    pub rate: f64,
    /// Nodes the group sends to; empty = every node.
    pub targets: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Leader,
    Follower,
    Random,
    Ids(Vec<u32>),
    Minority,
    Majority,
    All,
    /// Every node that is not running (for `restart`).
    Down,
    /// Every paused node (for `resume`).
    Paused,
    /// The nodes the previous fault step acted on.
    Previous,
    /// Nodes cut off by the current network fault (no majority reachable).
    Isolated,
    /// Nodes that report the Candidate role.
    Candidate,
    /// `@name`: the nodes the step with `label = "name"` last acted on.
    Label(String),
}

/// Spelt in a suite in kebab-case (strum; the words `parse::words_of` lists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumIter)]
#[strum(serialize_all = "kebab-case")]
pub enum ProcFault {
    Kill,
    Stop,
    Pause,
    Resume,
    Restart,
    /// Kill every target node (default: all), then restart them all: what persistence bugs
    /// (term, vote or log kept only in memory, Figure 2) need to show (issue 13 §1).
    CrashAll,
}

/// Spelt in a suite in kebab-case (strum; the words `parse::words_of` lists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumIter)]
#[strum(serialize_all = "kebab-case")]
pub enum NetShape {
    /// Cut the target nodes off from all others.
    Isolate,
    /// A random majority and minority.
    Halves,
    /// Two halves that share one node.
    Bridge,
    /// Every node sees a different majority.
    MajoritiesRing,
    /// Delay/jitter/loss on every link (no cut).
    Flaky,
}

/// Spelt in a suite in kebab-case (strum; the words `parse::words_of` lists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumIter)]
#[strum(serialize_all = "kebab-case")]
pub enum WaitFor {
    /// A current leader exists: a Leader whose term a majority reports
    /// (see `observe::view::current_leader`).
    Leader,
    /// A leader that is none of the nodes the last fault hit, in a later term.
    NewLeader,
    /// Every running node holds every entry committed when the wait began.
    CaughtUp,
    /// A probe write sent by the harness is APPLIED.
    Commit,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NemesisFault {
    Proc(ProcFault),
    Net(NetShape),
    /// A message fault on RPC-aware links, its parameters drawn per injection (issue 12 §2).
    Msg(faults::MsgKind),
}

#[derive(Debug, Clone)]
pub enum Action {
    Wait {
        cond: WaitFor,
        timeout_ms: u64,
        /// The condition must NOT be met within the time (e.g. no commit without a majority).
        expect_timeout: bool,
    },
    Workload {
        start: bool,
    },
    Sleep {
        ms: u64,
    },
    Fault {
        fault: ProcFault,
        target: Target,
    },
    Net {
        shape: NetShape,
        target: Target,
        /// How the cut links fail (`mode`): `Blackhole` or `Reject`; the proxies'
        /// own vocabulary (`net::LinkMode`), so a step means what a link does.
        mode: LinkMode,
        one_way: bool,
        delay_ms: u64,
        jitter_ms: u64,
        loss: f64,
    },
    Heal,
    /// A message fault on RPC-aware links (`harness/spec/msgstep.rs`).
    Msg(MsgStep),
    Repeat {
        times: u32,
        steps: Vec<Step>,
    },
    Nemesis {
        faults: Vec<NemesisFault>,
        interval_ms: u64,
        duration_ms: u64,
    },
    /// `wait = "leader"` with `kind`: move leadership until a node of `kind` leads.
    LeadBy {
        kind: String,
        timeout_ms: u64,
    },
}

#[derive(Debug, Clone)]
pub struct Step {
    pub action: Action,
    /// `file:line` of the step, for progress lines and reports.
    pub at: String,
    /// `label = "name"`: later steps target the nodes it hit as `@name`.
    pub label: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Checks {
    /// Checks that must produce a verdict: `not checked`/`unknown` for these exits 4.
    pub required: Vec<String>,
    /// Time allowed for the final catch-up before logs are compared.
    pub settle_timeout_ms: u64,
    /// Bound of the linearizability search.
    pub lin_timeout_ms: u64,
    /// `term_stability`: more new terms than this within one window fails.
    pub max_new_terms: u32,
    /// `term_stability`: the window (`term_window_s`); None = 5 election timeouts.
    pub term_window_ms: Option<u64>,
    /// `term_stability`: network faults and heals do not excuse new terms.
    pub terms_through_network_faults: bool,
    /// `node_errors = "warning"` lowers errors found in node logs to a warning.
    pub node_errors_warn: bool,
}

/// Names of the checks the harness runs, for `[checks] required` validation.
pub const CHECK_NAMES: &[&str] = &[
    "election_safety",
    "log_matching",
    "leader_completeness",
    "state_machine_safety",
    "durability",
    "read_validity",
    "linearizable",
    "isolated_commits",
    "liveness",
    "term_stability",
    "responsiveness",
    "node_errors",
    "restarts",
    "vote_safety",
    "leader_legitimacy",
    "append_consistency",
    "commit_safety",
    "term_monotonicity",
];

impl Spec {
    pub fn node(&self, id: u32) -> Option<&NodeSpec> {
        self.nodes.iter().find(|n| n.id == id)
    }
    pub fn kind_of(&self, id: u32) -> &Kind {
        let n = self.node(id).expect("node ids are validated");
        &self.kinds[&n.kind]
    }
    /// Nodes whose kind is judged from the original protocol only.
    pub fn black_box_ids(&self) -> std::collections::BTreeSet<u32> {
        self.nodes
            .iter()
            .filter(|n| self.kinds[&n.kind].black_box)
            .map(|n| n.id)
            .collect()
    }
}

#[cfg(test)]
mod de_tests;
#[cfg(test)]
mod fresh4_tests;
#[cfg(test)]
mod refusal_tests;
#[cfg(test)]
mod runtime_gap_tests;
#[cfg(test)]
mod snapshot_tests;
#[cfg(test)]
mod tests;

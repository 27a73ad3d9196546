//! Linearizability checking of client histories.
//!
//! Owns: the history-independent [`Model`] API (Porcupine-like: `init`, `step`,
//! `partition`, `describe`), the search (Wing–Gong with Lowe's memoisation, in
//! [`search`]), the verdict types with a readable explanation, and the shipped
//! models ([`models`]). The core does no I/O; the parsers of reference history
//! formats ([`jepsen`], [`kvtext`]) take `&str`, and [`gen`] makes random
//! linearizable histories for tests and benchmarks.
//!
//! Entry points: [`check`] for any model and [`check_kv_history`] for the
//! harness's own `history::Op` records (`SET`/`GET`/`CAS`/`DEL`).
//!
//! Soundness rules: a `fail` operation is dropped (it certainly had no effect);
//! an `info` operation (or one with no completion time) may take effect at any
//! point after its invocation or never, so its return is placed after the end of
//! the history and the search succeeds once every `ok` operation is placed. When
//! a time or memory bound is hit the verdict is `Unknown`, never `Ok`.
use serde::Serialize;
use std::fmt;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub mod gen;
pub mod jepsen;
pub mod kvtext;
pub mod models;
mod search;

/// Environment variable naming the public reference corpus of histories with known
/// verdicts (`jepsen-etcd/`, `kv/`, each with `expected.tsv`).
pub const REFERENCE_CORPUS_VAR: &str = "RAFT_HARNESS_REFERENCE_HISTORIES";

/// Where the reference corpus is looked for: `$RAFT_HARNESS_REFERENCE_HISTORIES`, else
/// `../shared/histories` beside the repository. It is an optional extra of the tests
/// and benches: the folder may not exist (a fresh clone has none), and they say so.
pub fn reference_corpus_dir() -> std::path::PathBuf {
    match std::env::var_os(REFERENCE_CORPUS_VAR) {
        Some(dir) => dir.into(),
        None => std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/histories"),
    }
}

pub use models::{
    check_kv_history, kv_operations, AppendKv, AppendKvOp, AppendOp, AppendOut, CasRegister,
    KvConversion, KvModel, KvOp, KvReport, RegisterOp, RegisterOut,
};

/// A sequential specification. The checker asks whether the concurrent history
/// can be ordered so that every operation is accepted by `step` in turn.
pub trait Model: Sync {
    /// Model state; hashed and compared for memoisation, so keep it small.
    type State: Clone + Eq + Hash;
    type Input: Sync;
    type Output: Sync;

    fn init(&self) -> Self::State;
    /// The state after applying `input` that returned `output`, or `None` when
    /// the model cannot produce that output in `state`.
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: &Self::Output,
    ) -> Option<Self::State>;
    /// Name of the independent part of the state `input` touches (e.g. its key).
    /// Operations with different names are checked separately (P-compositionality),
    /// so the model's state then describes one part only. `None` for every
    /// operation means the history is checked as a whole.
    fn partition(&self, _input: &Self::Input) -> Option<String> {
        None
    }
    fn describe_op(&self, input: &Self::Input, output: &Self::Output) -> String;
    fn describe_state(&self, state: &Self::State) -> String;
    /// Heap bytes owned by a state, for the memory bound (0 for plain values).
    fn state_heap_bytes(&self, _state: &Self::State) -> usize {
        0
    }
}

/// What the client learnt about an operation: Jepsen's ok/fail/info, the same enum as the
/// harness's history records ([`crate::history::Outcome`]). Here `Fail` operations are
/// dropped (they certainly had no effect) and `Info` ones may take effect at any time
/// after their call, or never.
pub use crate::history::Outcome;

/// One operation of a history for model `M`: `Operation<M::Input, M::Output>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation<I, O> {
    /// Shown in explanations; unique ids make them easier to follow.
    pub id: u64,
    pub client: u64,
    /// Invocation time.
    pub call: u64,
    /// Completion time; `None` is treated like [`Outcome::Info`]. A completion
    /// earlier than `call` is read as `call`.
    pub ret: Option<u64>,
    pub status: Outcome,
    pub input: I,
    /// For `Info` operations the output is whatever the model takes as "unknown".
    pub output: O,
}

/// Bounds on one check. Hitting any of them gives [`Verdict::Unknown`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock budget for the whole check (all parts).
    pub time: Option<Duration>,
    /// Memoisation entries kept at once, over all parts checked in parallel.
    pub max_cache_entries: Option<usize>,
    /// Approximate bytes of memoisation kept at once, over all parts.
    pub max_cache_bytes: Option<usize>,
    /// Worker threads; `None` = `available_parallelism`.
    pub threads: Option<usize>,
    /// Once one part is illegal the overall verdict is known: stop the other
    /// parts (their verdict is then `Unknown` with [`Bound::Stopped`]), as
    /// Porcupine does. `false` checks every part to the end.
    pub stop_after_illegal: bool,
    /// Set from outside (Ctrl+C) to end the search early: the parts not
    /// finished are then `Unknown` with [`Bound::Cancelled`]. Read every 4096
    /// search steps, so a search ends within milliseconds of the flag.
    pub cancel: Option<Cancel>,
}

/// Defined low in the pipeline (the cluster's builds poll it too); kept here by name.
pub use crate::cancel::Cancel;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            time: Some(Duration::from_secs(60)),
            max_cache_entries: Some(50_000_000),
            max_cache_bytes: Some(2 << 30),
            threads: None,
            stop_after_illegal: true,
            cancel: None,
        }
    }
}

/// The bound that stopped a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Bound {
    TimeLimit {
        limit_ms: u64,
    },
    CacheEntries {
        limit: usize,
    },
    CacheBytes {
        limit: usize,
    },
    /// Not finished because another part was already illegal.
    Stopped,
    /// Not finished because [`Limits::cancel`] was set (the run was interrupted).
    Cancelled,
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bound::TimeLimit { limit_ms } => write!(f, "time limit of {limit_ms} ms reached"),
            Bound::CacheEntries { limit } => write!(f, "cache limit of {limit} entries reached"),
            Bound::CacheBytes { limit } => write!(f, "cache limit of {limit} bytes reached"),
            Bound::Stopped => f.write_str("not finished: another part is illegal"),
            Bound::Cancelled => f.write_str("not finished: interrupted"),
        }
    }
}

/// Verdict for one part of a history.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    Ok,
    Illegal(Box<Explanation>),
    Unknown { bound: Bound },
}

/// Overall verdict of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictKind {
    Ok,
    Illegal,
    Unknown,
}

impl Verdict {
    pub fn kind(&self) -> VerdictKind {
        match self {
            Verdict::Ok => VerdictKind::Ok,
            Verdict::Illegal(_) => VerdictKind::Illegal,
            Verdict::Unknown { .. } => VerdictKind::Unknown,
        }
    }
}

impl fmt::Display for VerdictKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VerdictKind::Ok => "ok",
            VerdictKind::Illegal => "illegal",
            VerdictKind::Unknown => "unknown",
        })
    }
}

/// An operation as shown in an explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpView {
    pub id: u64,
    pub client: u64,
    pub invoke: u64,
    /// `None` for info operations (open until the end of the history).
    pub complete: Option<u64>,
    pub status: Outcome,
    pub op: String,
}

impl fmt::Display for OpView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "op {} (client {}, ", self.id, self.client)?;
        match (self.status, self.complete) {
            (Outcome::Ok, Some(c)) => write!(f, "invoked {} completed {}", self.invoke, c)?,
            _ => write!(f, "invoked {}, outcome unknown", self.invoke)?,
        }
        write!(f, ") {}", self.op)
    }
}

/// One step of the longest linearizable prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepView {
    pub op: OpView,
    pub state_after: String,
}

/// An operation that was open when the search got stuck.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    pub op: OpView,
    /// True when the model refuses it in the state after the prefix.
    pub rejected: bool,
}

/// Why a part of a history is not linearizable, for a person to act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// Partition (key) of the history this is about ("" when not partitioned).
    pub key: String,
    /// The completed operation that no order can place before its completion.
    pub stuck: OpView,
    /// Length of the longest linearizable prefix the search found.
    pub prefix_len: usize,
    /// Its last steps (at most [`PREFIX_TAIL`]), oldest first.
    pub prefix_tail: Vec<StepView>,
    /// Model state after the prefix.
    pub state: String,
    /// Operations open at that point (invoked before `stuck` completed and not
    /// in the prefix), at most [`MAX_CANDIDATES`] of them.
    pub open: Vec<Candidate>,
    /// How many open operations were left out of `open`.
    pub open_omitted: usize,
}

/// Steps of the prefix kept in an explanation.
pub const PREFIX_TAIL: usize = 8;
/// Open operations kept in an explanation.
pub const MAX_CANDIDATES: usize = 30;

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = if self.key.is_empty() {
            String::new()
        } else {
            format!("key {}: ", self.key)
        };
        writeln!(
            f,
            "{key}not linearizable: {} cannot take effect before it completed",
            self.stuck
        )?;
        writeln!(
            f,
            "  longest linearizable prefix found: {} ops, leaving state {}",
            self.prefix_len, self.state
        )?;
        if self.prefix_len > self.prefix_tail.len() {
            writeln!(
                f,
                "    ... {} earlier ops",
                self.prefix_len - self.prefix_tail.len()
            )?;
        }
        for s in &self.prefix_tail {
            writeln!(f, "    {}  => {}", s.op, s.state_after)?;
        }
        writeln!(f, "  operations open at that point:")?;
        for c in &self.open {
            let why = if c.rejected {
                format!("impossible in state {}", self.state)
            } else {
                "possible, but no order continues from there".to_string()
            };
            writeln!(f, "    {}: {why}", c.op)?;
        }
        if self.open_omitted > 0 {
            writeln!(f, "    ... and {} more", self.open_omitted)?;
        }
        Ok(())
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Ok => f.write_str("ok: linearizable"),
            Verdict::Illegal(e) => write!(f, "illegal: {e}"),
            Verdict::Unknown { bound } => write!(f, "unknown: {bound}"),
        }
    }
}

/// Search counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Operations checked (fail operations excluded).
    pub ops: usize,
    /// New (linearized set, state) pairs reached.
    pub states_explored: u64,
    /// Memoisation entries (for a whole check: the sum over parts).
    pub cache_entries: usize,
    /// Approximate memoisation bytes (for a whole check: the peak held at once).
    pub cache_bytes: usize,
    pub elapsed_us: u64,
}

/// Result for one independent part (key) of a history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartitionResult {
    pub key: String,
    pub verdict: Verdict,
    pub stats: Stats,
}

/// Result of [`check`]: the overall verdict and one result per part.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Illegal if any part is, else unknown if any part is, else ok.
    pub verdict: VerdictKind,
    /// Sorted by key.
    pub partitions: Vec<PartitionResult>,
    pub stats: Stats,
}

impl Report {
    /// Explanations of the illegal parts.
    pub fn illegal(&self) -> impl Iterator<Item = &Explanation> {
        self.partitions.iter().filter_map(|p| match &p.verdict {
            Verdict::Illegal(e) => Some(&**e),
            _ => None,
        })
    }
}

pub(crate) fn overall(parts: &[PartitionResult]) -> VerdictKind {
    let kinds = parts.iter().map(|p| p.verdict.kind());
    if kinds.clone().any(|k| k == VerdictKind::Illegal) {
        VerdictKind::Illegal
    } else if kinds.clone().any(|k| k == VerdictKind::Unknown) {
        VerdictKind::Unknown
    } else {
        VerdictKind::Ok
    }
}

/// Short text render shared by [`Report`] and [`KvReport`].
pub(crate) fn render(
    f: &mut fmt::Formatter<'_>,
    verdict: VerdictKind,
    parts: &[PartitionResult],
    stats: &Stats,
) -> fmt::Result {
    let count = |k| parts.iter().filter(|p| p.verdict.kind() == k).count();
    writeln!(
        f,
        "linearizability: {verdict} ({} ops in {} parts: {} ok, {} illegal, {} unknown; {} states explored, {:.1} ms)",
        stats.ops,
        parts.len(),
        count(VerdictKind::Ok),
        count(VerdictKind::Illegal),
        count(VerdictKind::Unknown),
        stats.states_explored,
        stats.elapsed_us as f64 / 1000.0
    )?;
    for p in parts {
        match &p.verdict {
            Verdict::Ok => {}
            Verdict::Illegal(e) => write!(f, "{e}")?,
            Verdict::Unknown { bound } => {
                let key = if p.key.is_empty() { "history" } else { &p.key };
                writeln!(f, "key {key}: unknown: {bound}")?
            }
        }
    }
    Ok(())
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        render(f, self.verdict, &self.partitions, &self.stats)
    }
}

/// Budget shared by the parts of one check that run in parallel.
pub(crate) struct Shared {
    pub deadline: Option<Instant>,
    pub limits: Limits,
    pub entries: AtomicUsize,
    pub bytes: AtomicUsize,
    pub peak_bytes: AtomicUsize,
    /// Set when a part is illegal and `limits.stop_after_illegal`.
    pub stop: AtomicBool,
}

impl Shared {
    /// Whether the caller asked the search to end ([`Limits::cancel`]).
    pub fn cancelled(&self) -> bool {
        self.limits.cancel.is_some_and(|c| c.is_cancelled())
    }
}

type Part<'h, I, O> = (String, Vec<&'h Operation<I, O>>);

/// `history` without `Fail` operations, split by [`Model::partition`] (sorted by key).
fn parts_of<'h, M: Model>(
    model: &M,
    history: &'h [Operation<M::Input, M::Output>],
) -> Vec<Part<'h, M::Input, M::Output>> {
    let mut by_key: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut parts: Vec<Part<'_, M::Input, M::Output>> = Vec::new();
    for op in history {
        if op.status == Outcome::Fail {
            continue;
        }
        let key = model.partition(&op.input).unwrap_or_default();
        let i = *by_key.entry(key.clone()).or_insert_with(|| {
            parts.push((key, Vec::new()));
            parts.len() - 1
        });
        parts[i].1.push(op);
    }
    parts.sort_by(|a, b| a.0.cmp(&b.0));
    parts
}

/// One part: searched, or `Unknown` when the check was cancelled or stopped
/// before it began.
fn check_one<M: Model>(
    model: &M,
    part: &Part<'_, M::Input, M::Output>,
    shared: &Shared,
) -> PartitionResult {
    let (key, ops) = part;
    let early = if shared.cancelled() {
        Some(Bound::Cancelled)
    } else if shared.stop.load(Ordering::Relaxed) {
        Some(Bound::Stopped)
    } else {
        None
    };
    match early {
        Some(bound) => PartitionResult {
            key: key.clone(),
            verdict: Verdict::Unknown { bound },
            stats: Stats {
                ops: ops.len(),
                ..Stats::default()
            },
        },
        None => search::check_part(model, key, ops, shared),
    }
}

/// Every part checked on up to `threads` threads, largest parts first (so the
/// last thread to finish has a small one); results in the order of `parts`.
fn check_parts<M: Model>(
    model: &M,
    parts: &[Part<'_, M::Input, M::Output>],
    shared: &Shared,
    threads: usize,
) -> Vec<PartitionResult> {
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(parts[i].1.len()));
    let results: Mutex<Vec<Option<PartitionResult>>> = Mutex::new(vec![None; parts.len()]);
    let next = AtomicUsize::new(0);
    let work = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(&p) = order.get(i) else { break };
        let r = check_one(model, &parts[p], shared);
        results.lock().unwrap_or_else(|e| e.into_inner())[p] = Some(r);
    };
    if threads == 1 {
        work();
    } else {
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(work);
            }
        });
    }
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
        .collect()
}

/// Checks `history` against `model`: splits it by [`Model::partition`] and runs
/// the parts on up to `available_parallelism` threads.
pub fn check<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    limits: Limits,
) -> Report {
    let started = Instant::now();
    let parts = parts_of(model, history);
    let shared = Shared {
        deadline: limits.time.map(|d| started + d),
        limits,
        entries: AtomicUsize::new(0),
        bytes: AtomicUsize::new(0),
        peak_bytes: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
    };
    let threads = limits
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, parts.len().max(1));
    let partitions = check_parts(model, &parts, &shared, threads);
    let stats = Stats {
        ops: partitions.iter().map(|p| p.stats.ops).sum(),
        states_explored: partitions.iter().map(|p| p.stats.states_explored).sum(),
        cache_entries: partitions.iter().map(|p| p.stats.cache_entries).sum(),
        cache_bytes: shared.peak_bytes.load(Ordering::Relaxed),
        elapsed_us: started.elapsed().as_micros() as u64,
    };
    Report {
        verdict: overall(&partitions),
        partitions,
        stats,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Op, Outcome};

    fn op(id: u64, cmd: &str, inv: u64, comp: u64, result: &str) -> Op {
        Op {
            id,
            client: id as u32,
            node: 1,
            command: cmd.into(),
            invoke_us: inv,
            complete_us: Some(comp),
            outcome: Outcome::Ok,
            result: Some(result.into()),
            message: String::new(),
        }
    }

    #[test]
    fn a_cancelled_search_is_unknown_with_bound_cancelled_never_ok() {
        let h = vec![
            op(0, "SET a 1", 0, 10, "OK"),
            op(1, "GET a", 20, 30, "1"),
            op(2, "SET b 1", 0, 10, "OK"),
        ];
        let cancel = Cancel::new();
        let limits = Limits {
            cancel: Some(cancel),
            ..Limits::default()
        };
        assert_eq!(check_kv_history(&h, limits).verdict, VerdictKind::Ok);
        cancel.cancel();
        let r = check_kv_history(&h, limits);
        assert_eq!(r.verdict, VerdictKind::Unknown);
        for k in &r.keys {
            assert_eq!(
                k.verdict,
                Verdict::Unknown {
                    bound: Bound::Cancelled
                }
            );
        }
        assert_eq!(Bound::Cancelled.to_string(), "not finished: interrupted");
        assert_ne!(Cancel::new(), cancel);
        assert_eq!(cancel, cancel.clone());
    }
}

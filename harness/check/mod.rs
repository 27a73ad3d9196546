//! Checkers: one file per property, each a pure function of the evidence.
//!
//! Every checker says what it based its verdict on, and returns `NotChecked`
//! (never `Pass`) when the evidence it needs is missing — e.g. a server of the
//! original protocol writes no journal and fills no extension fields.
pub mod durability;
pub mod election_safety;
pub mod isolated_commits;
pub mod leader_completeness;
pub mod linearizable;
pub mod liveness;
pub mod log_matching;
pub mod node_errors;
pub mod read_validity;
pub mod responsiveness;
pub mod restarts;
pub mod state_machine_safety;
pub mod term_stability;
// Wire checks (RPC-aware links, `messages.jsonl`; journals where they carry it).
pub mod append_consistency;
pub mod commit_safety;
pub mod leader_legitimacy;
pub mod term_monotonicity;
pub mod vote_safety;
pub mod wire;

#[cfg(test)]
pub(crate) mod fixtures;

use crate::history::Op;
use crate::observe::journal::Event;
use crate::observe::{LogSnapshot, PollFailure, StatusSample};
use crate::trace::FaultEvent;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    /// The checker ran but could not decide (a search bound was hit).
    Unknown,
    /// The evidence this checker needs does not exist in this run.
    NotChecked,
    /// Judged, nothing violated, but something a person should look at (e.g.
    /// a suite lowered `node_errors` to a warning). Does not fail the run.
    Warn,
}

impl Status {
    pub fn word(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "FAIL",
            Status::Unknown => "unknown",
            Status::NotChecked => "not checked",
            Status::Warn => "warning",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckResult {
    pub name: String,
    pub status: Status,
    /// One line: the verdict's reason, or the first piece of evidence of a failure.
    pub summary: String,
    /// What the verdict rests on (which nodes' journals, how many samples...).
    pub based_on: String,
    /// All evidence lines of a failure (bounded), for JUnit and report.json.
    #[serde(default)]
    pub evidence: Vec<String>,
    /// Machine-readable detail (e.g. the linearizability explanation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<serde_json::Value>,
    /// Seconds the checker took (set by [`run_all`]), for JUnit test case times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_s: Option<f64>,
}

/// Evidence lines kept per failed check; the count of the rest is reported.
pub const MAX_EVIDENCE: usize = 20;

impl CheckResult {
    pub fn new(name: &str, based_on: impl Into<String>) -> Self {
        CheckResult {
            name: name.to_string(),
            status: Status::Pass,
            summary: String::new(),
            based_on: based_on.into(),
            evidence: Vec::new(),
            detail: None,
            time_s: None,
        }
    }
    pub fn not_checked(name: &str, why: impl Into<String>) -> Self {
        let why = why.into();
        CheckResult {
            status: Status::NotChecked,
            summary: why.clone(),
            ..CheckResult::new(name, why)
        }
    }
    /// Turn a list of violations into a verdict.
    pub fn with_violations(
        mut self,
        violations: Vec<String>,
        pass_summary: impl Into<String>,
    ) -> Self {
        if violations.is_empty() {
            self.status = Status::Pass;
            self.summary = pass_summary.into();
        } else {
            self.status = Status::Fail;
            self.summary = violations[0].clone();
            let n = violations.len();
            self.evidence = violations.into_iter().take(MAX_EVIDENCE).collect();
            if n > MAX_EVIDENCE {
                self.evidence
                    .push(format!("... and {} more", n - MAX_EVIDENCE));
            }
        }
        self
    }
}

/// A node as the checkers see it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeInfo {
    pub id: u32,
    pub kind: String,
    /// Its command writes a journal.
    pub journal: bool,
    /// Its command passes `{data_dir}`: it can keep its state across restarts.
    /// (Evidence of an older harness: assumed.)
    #[serde(default = "yes")]
    pub data_dir: bool,
}

fn yes() -> bool {
    true
}

/// Everything the checkers judge: plain data, saved with every report.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Evidence {
    pub nodes: Vec<NodeInfo>,
    pub statuses: Vec<StatusSample>,
    pub logs: Vec<LogSnapshot>,
    /// Taken after the run settled: the logs durability is judged against.
    pub final_logs: Vec<LogSnapshot>,
    pub journals: BTreeMap<u32, Vec<Event>>,
    pub journal_problems: Vec<String>,
    /// Every call on RPC-aware links (`messages.jsonl`, read back from its own file, not
    /// saved in evidence.json); None = the run had no RPC-aware links.
    #[serde(default, skip_serializing)]
    pub messages: Option<Vec<crate::net::trace::Message>>,
    /// True when the run had RPC-aware links (`network = "rpc"`): `check` then requires its
    /// `messages.jsonl`. False in evidence written by an older harness.
    #[serde(default)]
    pub rpc_links: bool,
    /// Calls and bytes of the run's `messages.jsonl` as it wrote them: `check` refuses a trace
    /// that differs. None without RPC-aware links or in evidence of an older harness.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_trace: Option<crate::net::trace::TraceSize>,
    pub history: Vec<Op>,
    pub waits: Vec<WaitRecord>,
    /// Nodes that exited without a fault asking for it: (node, how, µs).
    pub unexpected_exits: Vec<(u32, String, u64)>,
    /// Network isolations the schedule made (for `isolated_commits`).
    #[serde(default)]
    pub isolations: Vec<isolated_commits::Isolation>,
    /// GetStatus polls that got no answer (for `responsiveness`).
    #[serde(default)]
    pub poll_failures: Vec<PollFailure>,
    /// What the schedule did, in order (kills, pauses, network faults, heals...):
    /// when faults were active, and which silences the harness caused.
    #[serde(default)]
    pub faults: Vec<FaultEvent>,
    /// Timings and thresholds the timing checks use.
    #[serde(default)]
    pub settings: CheckSettings,
    /// Each node's log file, for `node_errors`.
    #[serde(default)]
    pub node_logs: Vec<NodeLog>,
    /// Whether the schedule ran to its end; waits after a cut never ran.
    #[serde(default)]
    pub schedule: ScheduleEnd,
}

/// Timings of the cluster and thresholds of the checks, from the suite. All
/// zero in evidence written by an older harness: the checks that need them
/// then say `not checked`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CheckSettings {
    /// Upper bound of the election timeout (ms).
    pub election_max_ms: u64,
    /// GetStatus poll interval (ms).
    pub poll_ms: u64,
    /// `term_stability`: more new terms than this within `term_window_ms` fails.
    pub max_new_terms: u32,
    pub term_window_ms: u64,
    /// `term_stability` counts new terms during and right after network faults too
    /// (`[checks] terms_through_network_faults`): with pre-vote and check-quorum
    /// (thesis §9.6), cutting a follower off, a one-way cut or a heal must not
    /// start an election.
    #[serde(default)]
    pub terms_through_network_faults: bool,
    /// `node_errors` lowered to a warning by the suite.
    pub node_errors_warn: bool,
}

/// A node's log file (`nodes/<id>.log` in the run dir) and the extra error
/// patterns (regular expressions) of its kind.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeLog {
    pub node: u32,
    pub path: std::path::PathBuf,
    #[serde(default)]
    pub patterns: Vec<String>,
}

/// How the schedule of a run ended: only a completed schedule ran all its waits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "end", rename_all = "snake_case")]
pub enum ScheduleEnd {
    /// Every step ran (also the value for evidence saved before this field existed).
    #[default]
    Completed,
    /// Ctrl+C / SIGTERM at `at_us` (µs since the observation start).
    Interrupted { at_us: u64 },
    /// A step could not be carried out (e.g. a node could not be restarted).
    Stopped { at_us: u64, why: String },
}

impl ScheduleEnd {
    /// One line for a reader: why later steps never ran; None when all ran.
    pub fn cut(&self) -> Option<String> {
        match self {
            ScheduleEnd::Completed => None,
            ScheduleEnd::Interrupted { at_us } => {
                Some(format!("the run was interrupted at {}", secs(*at_us)))
            }
            ScheduleEnd::Stopped { at_us, why } => {
                Some(format!("the schedule stopped at {}: {why}", secs(*at_us)))
            }
        }
    }
}

/// Where each of several conflicting things was seen: `"2 at 1.250 s (journal), 3 at …"`
/// from `thing → (µs, source of the evidence)`.
pub fn sightings<K: std::fmt::Display>(seen: &BTreeMap<K, (u64, &str)>) -> Vec<String> {
    seen.iter()
        .map(|(k, (t, src))| format!("{k} at {} ({src})", secs(*t)))
        .collect()
}

/// Nodes whose journal holds at least one event, in id order.
pub fn journaled(ev: &Evidence) -> Vec<u32> {
    ev.journals
        .iter()
        .filter(|(_, j)| !j.is_empty())
        .map(|(n, _)| *n)
        .collect()
}

/// Seconds with millisecond precision, for evidence lines.
pub fn secs(us: u64) -> String {
    format!("{:.3} s", us as f64 / 1e6)
}

pub use crate::trace::{list, WaitRecord};

/// The summary of a check that did not run (or did not finish) because the
/// run was interrupted.
pub const INTERRUPTED: &str = "not run: interrupted";

/// A checker that is one pass over the evidence.
type Pass = fn(&Evidence) -> CheckResult;

/// Every checker in report order (`spec::CHECK_NAMES`); `None` is the linearizability
/// search, which takes a time bound and polls `cancel`.
const CHECKERS: [(&str, Option<Pass>); 18] = [
    (election_safety::NAME, Some(election_safety::check)),
    (log_matching::NAME, Some(log_matching::check)),
    (leader_completeness::NAME, Some(leader_completeness::check)),
    (
        state_machine_safety::NAME,
        Some(state_machine_safety::check),
    ),
    (durability::NAME, Some(durability::check)),
    (read_validity::NAME, Some(read_validity::check)),
    (linearizable::NAME, None),
    (isolated_commits::NAME, Some(isolated_commits::check)),
    (liveness::NAME, Some(liveness::check)),
    (term_stability::NAME, Some(term_stability::check)),
    (responsiveness::NAME, Some(responsiveness::check)),
    (node_errors::NAME, Some(node_errors::check)),
    (restarts::NAME, Some(restarts::check)),
    (vote_safety::NAME, Some(vote_safety::check)),
    (leader_legitimacy::NAME, Some(leader_legitimacy::check)),
    (append_consistency::NAME, Some(append_consistency::check)),
    (commit_safety::NAME, Some(commit_safety::check)),
    (term_monotonicity::NAME, Some(term_monotonicity::check)),
];

/// Run every checker, in order, until `cancel` is set (Ctrl+C).
///
/// Each checker but the linearizability search is a pass over the evidence;
/// the search polls `cancel` itself. Once `cancel` is set, the checker that was
/// running (if it is the search) and every later one are `not checked` with the
/// summary [`INTERRUPTED`] — never `pass`; that summary is how the caller
/// tells an interrupted check from one that lacked its evidence.
pub fn run_all(
    ev: &Evidence,
    lin_timeout: std::time::Duration,
    cancel: crate::lin::Cancel,
) -> Vec<CheckResult> {
    CHECKERS
        .iter()
        .map(|&(name, pass)| {
            if cancel.is_cancelled() {
                return CheckResult::not_checked(name, INTERRUPTED);
            }
            let t = std::time::Instant::now();
            let mut r = match pass {
                Some(check) => check(ev),
                None => linearizable::check_until(ev, lin_timeout, Some(cancel)),
            };
            if cancel.is_cancelled() && r.status == Status::Unknown {
                // Cut short by the interrupt, not by its own bound.
                return CheckResult::not_checked(name, INTERRUPTED);
            }
            r.time_s = Some(t.elapsed().as_secs_f64());
            r
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::fixtures::hard_history;
    use super::*;
    use crate::lin::Cancel;
    use std::time::{Duration, Instant};

    #[test]
    fn a_cancelled_run_leaves_every_check_not_checked() {
        let cancel = Cancel::new();
        cancel.cancel();
        let ev = Evidence::default().with_history(hard_history(4));
        let r = run_all(&ev, Duration::from_secs(5), cancel);
        let names: Vec<&str> = r.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, crate::spec::CHECK_NAMES, "report order");
        for c in &r {
            assert_eq!(c.status, Status::NotChecked, "{c:?}");
            assert_eq!(c.summary, INTERRUPTED);
        }
    }

    #[test]
    fn cancel_ends_a_long_search_promptly_as_not_checked() {
        let ev = Evidence::default().with_history(hard_history(26));
        // Undecided within a second: the search would run far longer.
        let r = linearizable::check(&ev, Duration::from_secs(1));
        assert_eq!(r.status, Status::Unknown, "{}", r.summary);
        let cancel = Cancel::new();
        let t = Instant::now();
        let r = std::thread::scope(|s| {
            let h = s.spawn(|| run_all(&ev, Duration::from_secs(600), cancel));
            std::thread::sleep(Duration::from_millis(300));
            cancel.cancel();
            h.join().unwrap()
        });
        // Generous: a loaded machine; the bound of the search is 600 s.
        assert!(t.elapsed() < Duration::from_secs(60), "{:?}", t.elapsed());
        let lin = r.iter().find(|c| c.name == linearizable::NAME).unwrap();
        assert_eq!(lin.status, Status::NotChecked, "{lin:?}");
        assert_eq!(lin.summary, INTERRUPTED);
        let live = r.iter().find(|c| c.name == liveness::NAME).unwrap();
        assert_eq!(live.summary, INTERRUPTED);
        // The checks before the search ran to their verdict.
        let rv = r.iter().find(|c| c.name == read_validity::NAME).unwrap();
        assert_eq!(rv.status, Status::Fail, "{rv:?}");
    }
}

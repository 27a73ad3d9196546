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

/// Seconds with millisecond precision, for evidence lines.
pub fn secs(us: u64) -> String {
    format!("{:.3} s", us as f64 / 1e6)
}

pub use crate::trace::{list, WaitRecord};

/// The summary of a check that did not run (or did not finish) because the
/// run was interrupted.
pub const INTERRUPTED: &str = "not run: interrupted";

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
    type Checker<'a> = (&'static str, Box<dyn Fn() -> CheckResult + 'a>);
    let checkers: Vec<Checker<'_>> = vec![
        (
            election_safety::NAME,
            Box::new(|| election_safety::check(ev)),
        ),
        (log_matching::NAME, Box::new(|| log_matching::check(ev))),
        (
            leader_completeness::NAME,
            Box::new(|| leader_completeness::check(ev)),
        ),
        (
            state_machine_safety::NAME,
            Box::new(|| state_machine_safety::check(ev)),
        ),
        (durability::NAME, Box::new(|| durability::check(ev))),
        (read_validity::NAME, Box::new(|| read_validity::check(ev))),
        (
            linearizable::NAME,
            Box::new(|| linearizable::check_until(ev, lin_timeout, Some(cancel))),
        ),
        (
            isolated_commits::NAME,
            Box::new(|| isolated_commits::check(ev)),
        ),
        (liveness::NAME, Box::new(|| liveness::check(ev))),
        (term_stability::NAME, Box::new(|| term_stability::check(ev))),
        (responsiveness::NAME, Box::new(|| responsiveness::check(ev))),
        (node_errors::NAME, Box::new(|| node_errors::check(ev))),
        (restarts::NAME, Box::new(|| restarts::check(ev))),
        (vote_safety::NAME, Box::new(|| vote_safety::check(ev))),
        (
            leader_legitimacy::NAME,
            Box::new(|| leader_legitimacy::check(ev)),
        ),
        (
            append_consistency::NAME,
            Box::new(|| append_consistency::check(ev)),
        ),
        (commit_safety::NAME, Box::new(|| commit_safety::check(ev))),
        (
            term_monotonicity::NAME,
            Box::new(|| term_monotonicity::check(ev)),
        ),
    ];
    checkers
        .into_iter()
        .map(|(name, check)| {
            if cancel.is_cancelled() {
                return CheckResult::not_checked(name, INTERRUPTED);
            }
            let t = std::time::Instant::now();
            let mut r = check();
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
pub(crate) mod fixtures {
    //! Builders of hand-made evidence for the checkers' tests.
    use super::*;
    use crate::history::Outcome;
    use crate::observe::Entry;

    pub use crate::observe::fixtures::status;

    /// Entries from (term, command) pairs, indexed from 0.
    pub fn entries(e: &[(i32, &str)]) -> Vec<Entry> {
        e.iter()
            .enumerate()
            .map(|(i, (t, c))| Entry {
                index: i as i32,
                term: *t,
                command: c.to_string(),
            })
            .collect()
    }

    /// Check settings of a cluster polled every 100 ms with 300 ms elections.
    pub fn settings() -> CheckSettings {
        CheckSettings {
            election_max_ms: 300,
            poll_ms: 100,
            max_new_terms: 3,
            term_window_ms: 1500,
            terms_through_network_faults: false,
            node_errors_warn: false,
        }
    }

    /// A fault event by its action's name (`kill`, `net-isolate`, ...) at `t_us`.
    pub fn fault(t_us: u64, action: &str, nodes: &[u32], cut_off: &[u32]) -> FaultEvent {
        FaultEvent {
            t_us,
            action: action.parse().expect("a fault action name"),
            nodes: nodes.to_vec(),
            detail: String::new(),
            at: "s.toml:1".into(),
            cut_off: cut_off.to_vec(),
        }
    }

    pub fn snap(
        node: u32,
        t_us: u64,
        state: &str,
        term: i32,
        commit: Option<i32>,
        e: &[(i32, &str)],
    ) -> LogSnapshot {
        LogSnapshot {
            t_us,
            node,
            status: status(node, t_us, state, term, commit),
            entries: entries(e),
        }
    }

    pub fn op(
        id: u64,
        client: u32,
        cmd: &str,
        inv: u64,
        comp: Option<u64>,
        outcome: Outcome,
        result: Option<&str>,
    ) -> Op {
        Op {
            id,
            client,
            node: 1,
            command: cmd.into(),
            invoke_us: inv,
            complete_us: comp,
            outcome,
            result: result.map(str::to_string),
            message: String::new(),
        }
    }

    /// A journal event by its name (`apply`, `role`, ...).
    pub fn jev(node: u32, t_us: u64, event: &str) -> Event {
        Event {
            t_us,
            ts_us: t_us,
            node,
            event: serde_json::from_value(serde_json::json!(event)).expect("an event name"),
            term: None,
            candidate: None,
            role: None,
            from_index: None,
            index: None,
            command: None,
            result: None,
            log_len: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::op;
    use super::*;
    use crate::history::Outcome;
    use crate::lin::Cancel;
    use std::time::{Duration, Instant};

    /// `n` concurrent writes of distinct values, then a read of a value none of
    /// them wrote: deciding it means trying every subset of the writes.
    fn hard_history(n: u64) -> Vec<Op> {
        let mut h: Vec<Op> = (0..n)
            .map(|i| {
                let cmd = format!("SET k {i}");
                op(
                    i,
                    i as u32,
                    &cmd,
                    i,
                    Some(1000 + i),
                    Outcome::Ok,
                    Some("OK"),
                )
            })
            .collect();
        h.push(op(
            n,
            999,
            "GET k",
            2000,
            Some(2100),
            Outcome::Ok,
            Some("x"),
        ));
        h
    }

    #[test]
    fn a_cancelled_run_leaves_every_check_not_checked() {
        let cancel = Cancel::new();
        cancel.cancel();
        let ev = Evidence {
            history: hard_history(4),
            ..Default::default()
        };
        let r = run_all(&ev, Duration::from_secs(5), cancel);
        assert_eq!(r.len(), crate::spec::CHECK_NAMES.len());
        for c in &r {
            assert_eq!(c.status, Status::NotChecked, "{c:?}");
            assert_eq!(c.summary, INTERRUPTED);
        }
    }

    #[test]
    fn cancel_ends_a_long_search_promptly_as_not_checked() {
        let ev = Evidence {
            history: hard_history(26),
            ..Default::default()
        };
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

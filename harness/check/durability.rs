//! Durability of acknowledged writes: every command a client saw APPLIED is in
//! the final committed log exactly once; a command that certainly failed is not
//! in it; one with an unknown outcome is in it at most once (Raft §5.3–§5.4:
//! an entry once committed stays in every later leader's log; §8: a client
//! command is executed once).
//!
//! Judged for commands that are unique in the history (every `set` workload
//! command, every register SET/CAS with its unique value, the harness's probes);
//! repeated commands such as `GET k1` cannot be told apart in a log.
//!
//! The final committed log is the longer of the longest committed prefix a node
//! reported (white-box nodes: entries up to its commit index) and the longest
//! prefix held by a MAJORITY of all configured nodes in their final logs (Raft
//! §5.3: an entry a leader has on a majority is committed; after the run
//! settled no later leader can lack it). Black-box nodes need not all agree.
//!
//! An acknowledged write is reported LOST when it is absent from the final logs
//! of a majority of all configured nodes (issue 11 §6): no later leader need
//! hold it, whatever the other nodes say.
use super::{list, secs, CheckResult, Evidence};
use crate::history::{Command, Op, Outcome};
use crate::observe::{Entry, LogSnapshot};
use std::collections::HashMap;

pub const NAME: &str = "durability";

/// The reference log: its commands and where it came from.
struct Reference {
    commands: Vec<String>,
    source: String,
}

/// Number of configured nodes (from `ev.nodes`; hand-made evidence may leave it
/// empty, then the nodes that gave a final log).
fn cluster_size(ev: &Evidence) -> usize {
    ev.nodes.len().max(ev.final_logs.len()).max(1)
}

/// The longest prefix of some final log that a majority of the `n` configured
/// nodes hold identically (entries equal: index, term, command), with its holders.
pub fn majority_prefix(logs: &[LogSnapshot], n: usize) -> Option<(&[Entry], Vec<u32>)> {
    let common = |a: &[Entry], b: &[Entry]| a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let need = n / 2 + 1;
    let mut best: Option<(&[Entry], Vec<u32>)> = None;
    for s in logs {
        let mut lens: Vec<usize> = logs
            .iter()
            .map(|t| common(&s.entries, &t.entries))
            .collect();
        lens.sort_unstable_by(|a, b| b.cmp(a));
        let Some(&len) = lens.get(need - 1) else {
            continue; // fewer final logs than a majority
        };
        if best.as_ref().is_none_or(|(b, _)| len > b.len()) {
            let holders = logs
                .iter()
                .filter(|t| common(&s.entries, &t.entries) >= len)
                .map(|t| t.node)
                .collect();
            best = Some((&s.entries[..len], holders));
        }
    }
    best
}

fn reference(ev: &Evidence) -> Option<Reference> {
    let commands = |e: &[Entry]| e.iter().map(|e| e.command.clone()).collect::<Vec<_>>();
    let n = cluster_size(ev);
    let white = ev
        .final_logs
        .iter()
        .filter_map(|s| s.committed().map(|c| (s.node, c)))
        .max_by_key(|(_, c)| c.len());
    let majority = majority_prefix(&ev.final_logs, n);
    let white_wins = match (&white, &majority) {
        (Some((_, c)), Some((p, _))) => c.len() > p.len(),
        (w, _) => w.is_some(),
    };
    match (white, majority) {
        (Some((node, c)), _) if white_wins => Some(Reference {
            commands: commands(c),
            source: format!("node {node}'s committed log"),
        }),
        (_, Some((p, holders))) => Some(Reference {
            commands: commands(p),
            source: format!(
                "the prefix held by {} of {n} nodes (nodes {})",
                holders.len(),
                list(holders)
            ),
        }),
        _ => None,
    }
}

/// Nodes of the cluster that gave no final log (silent, down or not asked).
fn without_final_log(ev: &Evidence) -> Vec<u32> {
    ev.nodes
        .iter()
        .map(|n| n.id)
        .filter(|id| !ev.final_logs.iter().any(|s| s.node == *id))
        .collect()
}

/// The nodes whose final log lacks `cmd`.
fn lacking(ev: &Evidence, cmd: &str) -> Vec<u32> {
    ev.final_logs
        .iter()
        .filter(|s| !s.entries.iter().any(|e| e.command == cmd))
        .map(|s| s.node)
        .collect()
}

/// A violation for `op` found `n` times in the reference log, if any.
fn judge(ev: &Evidence, op: &Op, n: usize) -> Option<String> {
    let when = format!(
        "client {} via node {}, invoked at {}",
        op.client,
        op.node,
        secs(op.invoke_us)
    );
    match op.outcome {
        Outcome::Ok if n == 0 => {
            let lack = lacking(ev, &op.command);
            let size = cluster_size(ev);
            Some(if lack.len() * 2 > size {
                format!(
                    "{:?} was acknowledged ({when}) but is LOST: missing from the final logs of {} of {size} nodes (nodes {})",
                    op.command,
                    lack.len(),
                    list(lack)
                )
            } else {
                format!(
                    "{:?} was acknowledged ({when}) but is not in the final committed log (missing from nodes {})",
                    op.command,
                    list(lack)
                )
            })
        }
        Outcome::Ok if n > 1 => Some(format!(
            "{:?} was acknowledged ({when}) but is in the final committed log {n} times",
            op.command
        )),
        Outcome::Fail if n != 0 => Some(format!(
            "{:?} was answered as certainly not applied ({when}: {}) but is in the final committed log",
            op.command, op.message
        )),
        Outcome::Info if n > 1 => Some(format!(
            "{:?} ({when}, outcome unknown) is in the final committed log {n} times",
            op.command
        )),
        _ => None,
    }
}

pub fn check(ev: &Evidence) -> CheckResult {
    let Some(reference) = reference(ev) else {
        return CheckResult::not_checked(
            NAME,
            format!(
                "no final committed log: no node reported a commit index and only {} of {} nodes gave a final log{}",
                ev.final_logs.len(),
                cluster_size(ev),
                missing_note(ev)
            ),
        );
    };
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for c in &reference.commands {
        *counts.entry(c.as_str()).or_default() += 1;
    }
    let mut in_history: HashMap<&str, usize> = HashMap::new();
    for op in &ev.history {
        *in_history.entry(op.command.as_str()).or_default() += 1;
    }
    let unique: Vec<&Op> = ev
        .history
        .iter()
        .filter(|op| {
            in_history[op.command.as_str()] == 1 && !matches!(op.kv(), Some(Command::Get { .. }))
        })
        .collect();
    if unique.is_empty() {
        return CheckResult::not_checked(NAME, "the history has no write with a unique command");
    }
    let violations: Vec<String> = unique
        .iter()
        .filter_map(|op| {
            judge(
                ev,
                op,
                counts.get(op.command.as_str()).copied().unwrap_or(0),
            )
        })
        .collect();
    let acked = ev
        .history
        .iter()
        .filter(|o| o.outcome == Outcome::Ok)
        .count();
    let based_on = format!(
        "{} unique writes ({acked} acknowledged ops in all) against {} ({} entries){}",
        unique.len(),
        reference.source,
        reference.commands.len(),
        missing_note(ev)
    );
    CheckResult::new(NAME, based_on).with_violations(
        violations,
        format!(
            "all {} unique writes are where their outcome says",
            unique.len()
        ),
    )
}

/// "; no final log from nodes …" naming the nodes that gave none, or "".
fn missing_note(ev: &Evidence) -> String {
    let m = without_final_log(ev);
    if m.is_empty() {
        String::new()
    } else {
        let silent = super::responsiveness::silent_note(ev, &m);
        format!("; no final log from node(s) {}{silent}", list(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fixtures::*;
    use crate::check::Status;

    fn ev(log: &[(i32, &str)], history: Vec<Op>) -> Evidence {
        let last = log.len() as i32 - 1;
        Evidence::default()
            .with_final_logs(vec![snap(1, 10, "Leader", 1, Some(last), log)])
            .with_history(history)
    }

    /// One acknowledged write of `cmd`.
    fn acked(cmd: &str) -> Vec<Op> {
        history([ok(1, cmd, (1, 2), None)])
    }

    #[test]
    fn acknowledged_writes_in_the_log_once_pass() {
        let e = ev(
            &[(1, ""), (1, "op-c1-0"), (1, "op-c2-0")],
            history([
                ok(1, "op-c1-0", (1, 2), None),
                info(2, "op-c2-0", 1),
                fail(3, "op-c3-0", (1, 2)),
            ]),
        );
        assert_verdict(&check(&e), Status::Pass, &[]);
    }

    #[test]
    fn lost_acknowledged_write_fails() {
        let e = ev(&[(1, "op-c1-0")], acked("op-c1-1"));
        assert_verdict(&check(&e), Status::Fail, &["LOST"]);
    }

    #[test]
    fn duplicated_write_fails() {
        let e = ev(&[(1, "op-c1-0"), (1, "op-c1-0")], acked("op-c1-0"));
        assert_verdict(&check(&e), Status::Fail, &[]);
    }

    #[test]
    fn failed_write_that_was_applied_fails() {
        let e = ev(&[(1, "op-c1-0")], history([fail(1, "op-c1-0", (1, 2))]));
        assert_verdict(&check(&e), Status::Fail, &[]);
    }

    #[test]
    fn an_agreed_log_longer_than_a_lagging_commit_index_is_the_reference() {
        // Node 2 had not yet learned that index 1 committed; all three nodes hold it.
        let log = [(1, "op-c1-0"), (1, "op-c1-1")];
        let mut e = Evidence::default()
            .with_nodes(nodes(3))
            .with_final_logs(vec![
                snap(1, 10, "Leader", 1, None, &log),
                snap(2, 10, "Follower", 1, Some(0), &log),
                snap(3, 10, "Follower", 1, None, &log),
            ])
            .with_history(acked("op-c1-1"));
        assert_verdict(&check(&e), Status::Pass, &[]);
        // One node lacking it: still held by a majority (issue 11 §6).
        e.final_logs[2].entries.pop();
        assert_verdict(&check(&e), Status::Pass, &[]);
        // Two lacking it: the majority prefix and the committed prefix end before it.
        e.final_logs[1].entries.pop();
        assert_verdict(&check(&e), Status::Fail, &[]);
    }

    #[test]
    fn black_box_logs_need_a_majority_not_unanimity() {
        let mut e = Evidence::default()
            .with_nodes(nodes(3))
            .with_final_logs(vec![
                snap(1, 10, "Leader", 1, None, &[(1, "op-c1-0")]),
                snap(2, 10, "Follower", 1, None, &[(1, "op-c1-0")]),
                snap(3, 10, "Follower", 1, None, &[(1, "other")]),
            ])
            .with_history(acked("op-c1-0"));
        let r = check(&e);
        assert_based_on(&r, Status::Pass, "held by 2 of 3 nodes (nodes 1, 2)");
        // Only one final log of three: no majority, nothing to judge against.
        e.final_logs.truncate(1);
        let r = check(&e);
        assert_verdict(&r, Status::NotChecked, &["no final log from node(s) 2, 3"]);
    }

    #[test]
    fn an_acknowledged_write_missing_from_a_majority_is_lost() {
        // Issue 11 §6: one disagreeing node no longer hides a certain loss.
        let agreed = [(1, "a"), (2, "b")];
        let e = Evidence::default()
            .with_nodes(nodes(5))
            .with_final_logs(vec![
                snap(1, 10, "Leader", 2, None, &agreed),
                snap(2, 10, "Follower", 2, None, &agreed),
                snap(3, 10, "Follower", 2, None, &agreed),
                snap(4, 10, "Follower", 1, None, &[(1, "a"), (1, "op-c1-0")]),
            ])
            .with_history(acked("op-c1-0"));
        let r = check(&e);
        let lost = "LOST: missing from the final logs of 3 of 5 nodes (nodes 1, 2, 3)";
        assert_verdict(&r, Status::Fail, &[lost]);
        assert_based_on(&r, Status::Fail, "no final log from node(s) 5");
    }

    #[test]
    fn the_majority_prefix_is_the_longest_held_by_a_majority() {
        let abc = [(1, "a"), (1, "b"), (1, "c")];
        let logs = vec![
            snap(1, 10, "Leader", 1, None, &abc),
            snap(2, 10, "Follower", 1, None, &abc[..2]),
            snap(3, 10, "Follower", 1, None, &abc[..1]),
            snap(4, 10, "Follower", 1, None, &abc),
            snap(5, 10, "Follower", 1, None, &[]),
        ];
        let (p, holders) = majority_prefix(&logs, 5).unwrap();
        assert_eq!(p.len(), 2, "a, b held by nodes 1, 2, 4");
        assert_eq!(holders, vec![1, 2, 4]);
        // Of 7 configured nodes, 4 are needed: only "a" qualifies.
        assert_eq!(majority_prefix(&logs, 7).unwrap().0.len(), 1);
        // Of 11 configured nodes, these 5 logs are not a majority.
        assert!(majority_prefix(&logs, 11).is_none());
    }
}

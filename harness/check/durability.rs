//! Durability of acknowledged writes: every command a client saw APPLIED is in
//! the final committed log exactly once; a command that certainly failed is not
//! in it; one with an unknown outcome is in it at most once.
//!
//! Judged for commands that are unique in the history (every `set` workload
//! command, every register SET/CAS with its unique value, the harness's probes);
//! repeated commands such as `GET k1` cannot be told apart in a log.
//!
//! The final committed log is the longest committed prefix reported by a node
//! after the run settled; for black-box nodes (no commit index), the log that all
//! running nodes agree on, if they do.
use super::{secs, CheckResult, Evidence};
use crate::history::Outcome;
use std::collections::HashMap;

pub const NAME: &str = "durability";

pub fn check(ev: &Evidence) -> CheckResult {
    let Some((log, source)) = final_log(ev) else {
        return CheckResult::not_checked(
            NAME,
            "no final committed log: no node reported a commit index and the running nodes' logs did not agree",
        );
    };
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for c in &log {
        *counts.entry(c.as_str()).or_default() += 1;
    }
    let mut in_history: HashMap<&str, usize> = HashMap::new();
    for op in &ev.history {
        *in_history.entry(op.command.as_str()).or_default() += 1;
    }
    let mut violations = Vec::new();
    let mut judged = 0usize;
    for op in &ev.history {
        if in_history[op.command.as_str()] != 1 || op.command.starts_with("GET ") {
            continue;
        }
        judged += 1;
        let n = counts.get(op.command.as_str()).copied().unwrap_or(0);
        let when = format!(
            "client {} via node {}, invoked at {}",
            op.client,
            op.node,
            secs(op.invoke_us)
        );
        match op.outcome {
            Outcome::Ok if n != 1 => violations.push(format!(
                "{:?} was acknowledged ({when}) but is in the final committed log {n} times",
                op.command
            )),
            Outcome::Fail if n != 0 => violations.push(format!(
                "{:?} was answered as certainly not applied ({when}: {}) but is in the final committed log",
                op.command, op.message
            )),
            Outcome::Info if n > 1 => violations.push(format!(
                "{:?} ({when}, outcome unknown) is in the final committed log {n} times",
                op.command
            )),
            _ => {}
        }
    }
    if judged == 0 {
        return CheckResult::not_checked(NAME, "the history has no write with a unique command");
    }
    let acked = ev
        .history
        .iter()
        .filter(|o| o.outcome == Outcome::Ok)
        .count();
    let based_on = format!(
        "{judged} unique writes ({acked} acknowledged ops in all) against {source} ({} entries)",
        log.len()
    );
    CheckResult::new(NAME, based_on).with_violations(
        violations,
        format!("all {judged} unique writes are where their outcome says"),
    )
}

/// The commands of the final log, and where it came from. After the run settled,
/// the log every running node holds (when they all agree and are a majority) is
/// the reference: no later leader can lack it, and it is never shorter than any
/// node's committed prefix (a follower may learn the last commit index one
/// heartbeat late). Otherwise the longest committed prefix a node reported.
fn final_log(ev: &Evidence) -> Option<(Vec<String>, String)> {
    let commands =
        |e: &[crate::observe::Entry]| e.iter().map(|e| e.command.clone()).collect::<Vec<_>>();
    if let Some(first) = ev.final_logs.first() {
        let agree = ev.final_logs.iter().all(|s| s.entries == first.entries);
        // Agreement of a minority proves nothing about commitment.
        if agree && ev.final_logs.len() * 2 > ev.nodes.len().max(1) {
            return Some((
                commands(&first.entries),
                format!("the log all {} running nodes agree on", ev.final_logs.len()),
            ));
        }
    }
    let (node, c) = ev
        .final_logs
        .iter()
        .filter_map(|s| s.committed().map(|c| (s.node, c)))
        .max_by_key(|(_, c)| c.len())?;
    Some((commands(c), format!("node {node}'s committed log")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fixtures::*;
    use crate::check::Status;

    fn ev(log: &[(i32, &str)], history: Vec<crate::history::Op>) -> Evidence {
        Evidence {
            final_logs: vec![snap(1, 10, "Leader", 1, Some(log.len() as i32 - 1), log)],
            history,
            ..Default::default()
        }
    }

    #[test]
    fn acknowledged_writes_in_the_log_once_pass() {
        let e = ev(
            &[(1, ""), (1, "op-c1-0"), (1, "op-c2-0")],
            vec![
                op(0, 1, "op-c1-0", 1, Some(2), Outcome::Ok, None),
                op(1, 2, "op-c2-0", 1, None, Outcome::Info, None),
                op(2, 3, "op-c3-0", 1, Some(2), Outcome::Fail, None),
            ],
        );
        assert_eq!(check(&e).status, Status::Pass, "{:?}", check(&e));
    }

    #[test]
    fn lost_acknowledged_write_fails() {
        let e = ev(
            &[(1, "op-c1-0")],
            vec![op(0, 1, "op-c1-1", 1, Some(2), Outcome::Ok, None)],
        );
        let r = check(&e);
        assert_eq!(r.status, Status::Fail);
        assert!(r.summary.contains("0 times"), "{}", r.summary);
    }

    #[test]
    fn duplicated_write_fails() {
        let e = ev(
            &[(1, "op-c1-0"), (1, "op-c1-0")],
            vec![op(0, 1, "op-c1-0", 1, Some(2), Outcome::Ok, None)],
        );
        assert_eq!(check(&e).status, Status::Fail);
    }

    #[test]
    fn failed_write_that_was_applied_fails() {
        let e = ev(
            &[(1, "op-c1-0")],
            vec![op(0, 1, "op-c1-0", 1, Some(2), Outcome::Fail, None)],
        );
        assert_eq!(check(&e).status, Status::Fail);
    }

    #[test]
    fn an_agreed_log_longer_than_a_lagging_commit_index_is_the_reference() {
        // Node 2 had not yet learned that index 1 committed; all three nodes hold it.
        let log = [(1, "op-c1-0"), (1, "op-c1-1")];
        let mut e = Evidence {
            nodes: (1..=3)
                .map(|id| crate::check::NodeInfo {
                    id,
                    kind: "x".into(),
                    journal: false,
                })
                .collect(),
            final_logs: vec![
                snap(1, 10, "Leader", 1, None, &log),
                snap(2, 10, "Follower", 1, Some(0), &log),
                snap(3, 10, "Follower", 1, None, &log),
            ],
            history: vec![op(0, 1, "op-c1-1", 1, Some(2), Outcome::Ok, None)],
            ..Default::default()
        };
        assert_eq!(check(&e).status, Status::Pass, "{:?}", check(&e));
        // Without agreement, the committed prefix is all there is, and the write is missing.
        e.final_logs[2].entries.pop();
        assert_eq!(check(&e).status, Status::Fail);
    }

    #[test]
    fn black_box_logs_must_agree_to_be_used() {
        let history = vec![op(0, 1, "op-c1-0", 1, Some(2), Outcome::Ok, None)];
        let mut e = Evidence {
            nodes: vec![],
            final_logs: vec![
                snap(1, 10, "Leader", 1, None, &[(1, "op-c1-0")]),
                snap(2, 10, "Follower", 1, None, &[(1, "other")]),
            ],
            history,
            ..Default::default()
        };
        assert_eq!(check(&e).status, Status::NotChecked);
        e.final_logs[1].entries = e.final_logs[0].entries.clone();
        assert_eq!(check(&e).status, Status::Pass);
    }
}

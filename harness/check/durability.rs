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

/// The commands of the final committed log, and where it came from.
fn final_log(ev: &Evidence) -> Option<(Vec<String>, String)> {
    let best = ev
        .final_logs
        .iter()
        .filter_map(|s| s.committed().map(|c| (s.node, c)))
        .max_by_key(|(_, c)| c.len());
    if let Some((node, c)) = best {
        return Some((
            c.iter().map(|e| e.command.clone()).collect(),
            format!("node {node}'s committed log"),
        ));
    }
    let first = ev.final_logs.first()?;
    let agree = ev.final_logs.iter().all(|s| s.entries == first.entries);
    // Agreement of a single node proves nothing about commitment.
    (agree && ev.final_logs.len() > ev.nodes.len() / 2).then(|| {
        (
            first.entries.iter().map(|e| e.command.clone()).collect(),
            format!("the log all {} running nodes agree on", ev.final_logs.len()),
        )
    })
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

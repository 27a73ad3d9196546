//! No commit on the minority side (Raft §5.2/§5.4: an entry commits only once a
//! majority stores it). While a network step leaves nodes cut off from every
//! majority (`schedule::netfault::cut_off`: neither the node nor any node it can
//! forward to reaches a majority), no client request sent to one of them may be
//! APPLIED. Requests invoked before the cut (plus a short grace for bytes already
//! in flight) are not judged.
use super::{list, secs, CheckResult, Evidence};
use crate::history::Outcome;
use crate::trace::{FaultAction, FaultEvent};
use serde::{Deserialize, Serialize};

pub const NAME: &str = "isolated_commits";

/// Bytes already read by a proxy when the cut begins may still be delivered.
pub const GRACE_US: u64 = 100_000;

/// Nodes cut off from every other node during [start_us, end_us).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Isolation {
    pub nodes: Vec<u32>,
    pub start_us: u64,
    pub end_us: u64,
}

/// Isolation windows from the fault events: the nodes a network step left cut
/// off from any majority (its `cut_off`), until the next heal.
pub fn isolations(faults: &[FaultEvent]) -> Vec<Isolation> {
    let mut out = Vec::new();
    for (i, f) in faults.iter().enumerate() {
        if f.cut_off.is_empty() {
            continue;
        }
        let end_us = faults[i + 1..]
            .iter()
            .find(|g| g.action == FaultAction::Heal)
            .map_or(u64::MAX, |g| g.t_us);
        out.push(Isolation {
            nodes: f.cut_off.clone(),
            start_us: f.t_us,
            end_us,
        });
    }
    out
}

pub fn check(ev: &Evidence) -> CheckResult {
    let minority: Vec<&Isolation> = ev
        .isolations
        .iter()
        .filter(|i| !i.nodes.is_empty())
        .collect();
    if minority.is_empty() {
        return CheckResult::not_checked(
            NAME,
            "no node was cut off from every majority in this run",
        );
    }
    let mut violations = Vec::new();
    let mut judged = 0;
    for iso in &minority {
        for op in &ev.history {
            let sent_inside = op.invoke_us >= iso.start_us + GRACE_US && op.invoke_us < iso.end_us;
            if !sent_inside || !iso.nodes.contains(&(op.node as u32)) {
                continue;
            }
            // An answer that came after the heal may rightly be APPLIED; any other
            // request to the cut-off side (refused, rejected, timed out) is judged.
            let done = op.complete_us.unwrap_or(u64::MAX);
            if op.outcome == Outcome::Ok && done > iso.end_us {
                continue;
            }
            judged += 1;
            if op.outcome == Outcome::Ok {
                violations.push(format!(
                    "{:?} sent to node {} at {} was APPLIED at {}, while nodes [{}] were cut off ({} – {})",
                    op.command,
                    op.node,
                    secs(op.invoke_us),
                    secs(done),
                    list(iso.nodes.iter().copied()),
                    secs(iso.start_us),
                    if iso.end_us == u64::MAX { "end".into() } else { secs(iso.end_us) }
                ));
            }
        }
    }
    let based_on = format!(
        "{} windows with nodes cut off from every majority; {judged} requests sent to them",
        minority.len()
    );
    if judged == 0 {
        return CheckResult::not_checked(
            NAME,
            format!("no request was sent to an isolated node ({based_on})"),
        );
    }
    CheckResult::new(NAME, based_on).with_violations(
        violations,
        format!("none of {judged} requests to the cut-off side was APPLIED"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fixtures::*;
    use crate::check::Status;
    use crate::history::Op;

    /// Nodes 1 and 2 of 5 cut off from 1 s to 5 s; a write to node 1 with `outcome`
    /// and an acknowledged one to node 3 (the majority side may commit) at 2 s.
    fn ev(outcome: Outcome) -> Evidence {
        let at = 2_000_000;
        let to_1 = op(0, 1, "SET k 1", at, Some(at + 100_000), outcome, None);
        let to_3 = Op {
            node: 3,
            ..ok(2, "SET k 2", (at, at + 100_000), None)
        };
        Evidence {
            isolations: vec![Isolation {
                nodes: vec![1, 2],
                start_us: 1_000_000,
                end_us: 5_000_000,
            }],
            ..Evidence::default()
                .with_nodes(nodes(5))
                .with_history(history([to_1, to_3]))
        }
    }

    #[test]
    fn rejected_or_unknown_on_the_minority_side_passes() {
        assert_verdict(&check(&ev(Outcome::Fail)), Status::Pass, &[]);
    }

    #[test]
    fn applied_on_the_minority_side_fails() {
        assert_verdict(&check(&ev(Outcome::Ok)), Status::Fail, &["sent to node 1"]);
    }

    #[test]
    fn without_isolation_it_is_not_checked() {
        let mut e = ev(Outcome::Ok);
        e.isolations.clear();
        assert_verdict(&check(&e), Status::NotChecked, &[]);
    }
}

//! `[checks] required` against what the suite can produce: a required check
//! whose evidence no run of the suite can ever have (a history check without a
//! `[workload]`, a wire check without RPC-aware links) would be `not checked`
//! in every run, and a required check that is not checked is exit 4 at run
//! time. `validate` (and `run`, before anything starts) refuses it instead.

/// What a run of the suite records, as far as `required` depends on it.
#[derive(Debug, Clone, Copy)]
pub struct Produces {
    /// A `[workload]` table: client operations, the history.
    pub history: bool,
    /// `[cluster] network = "rpc"`: the message trace (`messages.jsonl`).
    pub messages: bool,
}

/// Checks that judge only the client history (linearizability, Jepsen-style
/// reads, acknowledged writes in the committed log: Raft paper §8 and §5.4).
const HISTORY_CHECKS: &[&str] = &["linearizable", "read_validity", "durability"];

/// Checks that judge only the message trace of RPC-aware links (Raft paper
/// §5.2 and §5.3 read on the wire).
const TRACE_CHECKS: &[&str] = &["append_consistency", "leader_legitimacy"];

/// One required check no run of the suite can judge: its name, why, and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unjudgeable {
    pub check: String,
    pub why: &'static str,
    pub help: &'static str,
}

/// The checks of `required` (names already known to be valid) that every run
/// of a suite producing `p` would leave `not checked`, in `required`'s order.
pub fn unjudgeable(required: &[String], p: Produces) -> Vec<Unjudgeable> {
    required
        .iter()
        .filter_map(|c| {
            let (why, help) = if HISTORY_CHECKS.contains(&c.as_str()) && !p.history {
                (
                    "the suite has no [workload], so no run records a client history for it to judge",
                    "add a [workload] table (and a `workload = \"start\"` step), or drop it from `required`",
                )
            } else if TRACE_CHECKS.contains(&c.as_str()) && !p.messages {
                (
                    "it judges the message trace, which only RPC-aware links record",
                    "set `network = \"rpc\"` in [cluster], or drop it from `required`",
                )
            } else {
                return None;
            };
            Some(Unjudgeable {
                check: c.clone(),
                why,
                help,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn history_checks_need_a_workload_and_wire_checks_need_rpc_links() {
        let none = Produces {
            history: false,
            messages: false,
        };
        let req = names(&["election_safety", "linearizable", "append_consistency"]);
        let got: Vec<String> = unjudgeable(&req, none)
            .into_iter()
            .map(|u| u.check)
            .collect();
        assert_eq!(got, names(&["linearizable", "append_consistency"]));
        let all = Produces {
            history: true,
            messages: true,
        };
        assert!(unjudgeable(&req, all).is_empty());
        let req = names(&["read_validity", "durability", "leader_legitimacy"]);
        let history_only = Produces {
            history: true,
            messages: false,
        };
        let got = unjudgeable(&req, history_only);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].check, "leader_legitimacy");
        assert!(got[0].help.contains("network = \"rpc\""));
    }
}

//! `[checks] required` against what the suite can produce: a required check
//! whose evidence no run of the suite can ever have (a history check without a
//! `[workload]`, a wire check without RPC-aware links) would be `not checked`
//! in every run, and a required check that is not checked is exit 4 at run
//! time. `validate` (and `run`, before anything starts) refuses it instead.
use crate::spec::{Action, NemesisFault, NetShape, ProcFault, Step, WaitFor, WorkloadKind};

/// What a run of the suite records, as far as `required` depends on it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Produces {
    /// The workload and its type (None: no `[workload]` table).
    pub workload: Option<WorkloadKind>,
    /// A `wait = "commit"` step: its probe writes (`SET __probe__ …`) are in the history.
    pub probes: bool,
    /// `[cluster] network = "rpc"`: the message trace (`messages.jsonl`).
    pub messages: bool,
    /// What the schedule's steps can do ([`Can`]).
    pub schedule: Can,
}

/// What some run of a schedule can do, judged from its steps alone (searched through
/// `repeat`): whether a step may, not whether it will (a `restart` of no node is skipped).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Can {
    /// A `wait` step (with or without `kind`): a condition for `liveness` to judge.
    pub wait: bool,
    /// A step that may restart a node: `fault = "restart"` or `"crash-all"`, a nemesis with
    /// kill, stop, crash-all (it restarts what it took down) or restart (it stops the node
    /// first), a `wait` with `kind` (it
    /// kills and restarts leaders of other kinds).
    pub restart: bool,
    /// A step that may cut links (a `net` step other than `flaky`, or a nemesis with one):
    /// the only way a node is cut off from every majority (`isolated_commits`).
    pub cut: bool,
}

impl Can {
    /// What `steps` can do (also inside `repeat`).
    pub fn of(steps: &[Step]) -> Can {
        steps
            .iter()
            .fold(Can::default(), |c, s| c.or(Can::step(&s.action)))
    }

    fn or(self, o: Can) -> Can {
        Can {
            wait: self.wait || o.wait,
            restart: self.restart || o.restart,
            cut: self.cut || o.cut,
        }
    }

    fn step(a: &Action) -> Can {
        let restarting = |p: &ProcFault| {
            matches!(
                p,
                ProcFault::Kill | ProcFault::Stop | ProcFault::CrashAll | ProcFault::Restart
            )
        };
        match a {
            Action::Wait { .. } => Can {
                wait: true,
                ..Can::default()
            },
            Action::LeadBy { .. } => Can {
                wait: true,
                restart: true,
                cut: false,
            },
            Action::Fault { fault, .. } => Can {
                restart: matches!(fault, ProcFault::Restart | ProcFault::CrashAll),
                ..Can::default()
            },
            Action::Net { shape, .. } => Can {
                cut: *shape != NetShape::Flaky,
                ..Can::default()
            },
            Action::Nemesis { faults, .. } => Can {
                wait: false,
                restart: faults
                    .iter()
                    .any(|f| matches!(f, NemesisFault::Proc(p) if restarting(p))),
                cut: faults
                    .iter()
                    .any(|f| matches!(f, NemesisFault::Net(n) if *n != NetShape::Flaky)),
            },
            Action::Repeat { steps, .. } => Can::of(steps),
            _ => Can::default(),
        }
    }
}

impl Produces {
    /// What a suite with these parts records; `steps` are searched through `repeat`.
    pub fn of(workload: Option<WorkloadKind>, steps: &[Step], rpc: bool) -> Produces {
        Produces {
            workload,
            probes: has_commit_wait(steps),
            messages: rpc,
            schedule: Can::of(steps),
        }
    }
}

/// Whether any step (also inside a `repeat`) is `wait = "commit"`.
fn has_commit_wait(steps: &[Step]) -> bool {
    steps.iter().any(|s| match &s.action {
        Action::Wait { cond, .. } => *cond == WaitFor::Commit,
        Action::Repeat { steps, .. } => has_commit_wait(steps),
        _ => false,
    })
}

/// Checks that need completed reads of a register (GET/SET/CAS): linearizability
/// and Jepsen-style read validity (Raft paper §8).
const READ_CHECKS: &[&str] = &["linearizable", "read_validity"];

/// Checks that need acknowledged writes in the history (committed entries
/// survive: Raft paper §5.4).
const WRITE_CHECKS: &[&str] = &["durability"];

/// Checks that judge only the message trace of RPC-aware links (Raft paper
/// §5.2 and §5.3 read on the wire).
const TRACE_CHECKS: &[&str] = &["append_consistency", "leader_legitimacy"];

/// One required check no run of the suite can judge: its name, why, and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unjudgeable {
    pub check: String,
    pub why: String,
    pub help: &'static str,
}

/// Why no run of a suite producing `p` can judge `check`, and the fix; None
/// when some run can.
fn why_not(check: &str, p: Produces) -> Option<(String, &'static str)> {
    if READ_CHECKS.contains(&check) {
        let why = match p.workload {
            Some(WorkloadKind::Register) => return None,
            Some(WorkloadKind::Set) => {
                "the [workload] is of type \"set\" (opaque unique commands, no reads)"
            }
            None => "the suite has no [workload], so no run reads a value",
        };
        let help =
            "use a [workload] with `type = \"register\"` (GET/SET/CAS), or drop it from `required`";
        return Some((format!("{why} for it to judge"), help));
    }
    if WRITE_CHECKS.contains(&check) && p.workload.is_none() && !p.probes {
        return Some((
            "the suite has no [workload] and no `wait = \"commit\"` step, so no run records a write for it to judge".into(),
            "add a [workload] table (and a `workload = \"start\"` step), or drop it from `required`",
        ));
    }
    if TRACE_CHECKS.contains(&check) && !p.messages {
        return Some((
            "it judges the message trace, which only RPC-aware links record".into(),
            "set `network = \"rpc\"` in [cluster], or drop it from `required`",
        ));
    }
    why_not_in_schedule(check, p.schedule)
}

/// Why no schedule of these steps gives `check` evidence, and the fix: checks judged on
/// what the schedule did (its waits, restarts, cuts); None when some run can. Without a
/// `wait`, a node exiting on its own would still fail `liveness`, but no run could pass it:
/// it is refused like the others (a required check must be decidable either way).
fn why_not_in_schedule(check: &str, can: Can) -> Option<(String, &'static str)> {
    let (why, help) = match check {
        "liveness" if !can.wait => (
            "the schedule has no `wait` step (none inside a `repeat` either), so no run has a \
             condition for it to judge",
            "add a `wait` step (e.g. `wait = \"leader\"`), or drop it from `required`",
        ),
        "restarts" if !can.restart => (
            "no step restarts a node (no `fault = \"restart\"` or `\"crash-all\"`, no nemesis \
             with kill, stop, crash-all or restart, no `wait` with `kind`), so no run has a restart for it \
             to judge",
            "add a `fault = \"restart\"` step after a kill or stop, or drop it from `required`",
        ),
        "isolated_commits" if !can.cut => (
            "no step cuts a link (no `net` step other than `flaky`, no nemesis network fault), so \
             no run cuts a node off from every majority for it to judge",
            "add a `net = \"isolate\"` step, or drop it from `required`",
        ),
        _ => return None,
    };
    Some((why.to_string(), help))
}

/// The checks of `required` (names already known to be valid) that every run
/// of a suite producing `p` would leave `not checked`, in `required`'s order.
pub fn unjudgeable(required: &[String], p: Produces) -> Vec<Unjudgeable> {
    required
        .iter()
        .filter_map(|c| {
            let (why, help) = why_not(c, p)?;
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

    fn produces(workload: Option<WorkloadKind>, probes: bool, messages: bool) -> Produces {
        Produces {
            workload,
            probes,
            messages,
            schedule: Can::default(),
        }
    }

    fn refused(req: &[&str], p: Produces) -> Vec<String> {
        unjudgeable(&names(req), p)
            .into_iter()
            .map(|u| u.check)
            .collect()
    }

    #[test]
    fn read_checks_need_a_register_workload() {
        let req = ["election_safety", "linearizable", "read_validity"];
        let reads = ["linearizable", "read_validity"];
        assert_eq!(refused(&req, produces(None, true, true)), names(&reads));
        let set = Some(WorkloadKind::Set);
        assert_eq!(refused(&req, produces(set, true, true)), names(&reads));
        let u = &unjudgeable(&names(&req), produces(set, false, false))[0];
        assert!(u.why.contains("of type \"set\""), "{u:?}");
        let register = Some(WorkloadKind::Register);
        assert!(refused(&req, produces(register, false, false)).is_empty());
    }

    #[test]
    fn durability_needs_a_workload_or_commit_probes() {
        let req = ["durability"];
        assert_eq!(
            refused(&req, produces(None, false, true)),
            names(&["durability"])
        );
        // `wait = "commit"` probe writes are judged (suites/no-majority.toml).
        assert!(refused(&req, produces(None, true, false)).is_empty());
        assert!(refused(&req, produces(Some(WorkloadKind::Set), false, false)).is_empty());
    }

    #[test]
    fn wire_checks_need_rpc_links() {
        let req = ["append_consistency", "leader_legitimacy", "vote_safety"];
        let reg = Some(WorkloadKind::Register);
        assert_eq!(
            refused(&req, produces(reg, true, false)),
            names(&["append_consistency", "leader_legitimacy"])
        );
        assert!(refused(&req, produces(reg, true, true)).is_empty());
        let u = &unjudgeable(&names(&req), produces(reg, true, false))[0];
        assert!(u.help.contains("network = \"rpc\""), "{u:?}");
    }
}

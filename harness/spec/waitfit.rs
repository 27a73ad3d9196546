//! Waits that `validate` can tell are meaningless before the run (fresh-user findings 1
//! and 9): `wait = "leader"` with a `kind` no node of the cluster has (at run time a
//! liveness FAIL, so a typo read as a Raft bug), and `wait = "new-leader"` with no earlier
//! step that can depose a leader (at run time it passes at once: any leader is "new").
//!
//! `new-leader` waits for a leader that is none of the nodes the last disruptive fault hit,
//! in a later term (Raft §5.2: a new leader is elected once followers stop hearing from
//! the old one). The schedule (`schedule::Exec::proc_fault`, the `net` step) records that
//! fault for `kill`, `stop`, `pause` and every network shape but `flaky`; a `nemesis` with
//! such a fault, `crash-all` (every node restarts: no leader until an election) and a
//! `kind` wait (it kills leaders of other kinds) also count.
//!
//! Likewise a `target`, `from` or `to` of `"previous"` (the nodes the last fault, `net` or
//! `msg` step hit) with no such step before it resolves to no node: the step does nothing.
use super::{Action, Errs, NemesisFault, NetShape, Node, ProcFault, Src, WaitFor};
use std::collections::BTreeSet;
use std::ops::Range;

/// What a step needs an earlier step for.
#[derive(Clone, Copy, PartialEq)]
enum Need {
    /// `wait = "new-leader"`: a step that can depose a leader ([`disrupts`]).
    Deposed,
    /// A `"previous"` target: a step that hits nodes ([`hits`]).
    Hit,
}

/// The values read so far that no earlier step can make meaningful, and which such steps
/// were read (in the order the steps run, a `repeat`'s body in its place).
#[derive(Default)]
pub(super) struct Disruption {
    deposed: bool,
    hit: bool,
    pending: Vec<(Range<usize>, Need)>,
}

impl Disruption {
    /// A step `action` was read; `wait` is its `wait` value when it is a wait, `previous` the
    /// spans of its `"previous"` targets.
    pub(super) fn step(
        &mut self,
        action: &Action,
        wait: Option<Range<usize>>,
        previous: Vec<Range<usize>>,
    ) {
        let new_leader = matches!(action, Action::Wait { cond, .. } if *cond == WaitFor::NewLeader);
        if new_leader && !self.deposed {
            self.pending.extend(wait.map(|w| (w, Need::Deposed)));
        }
        if !self.hit {
            self.pending
                .extend(previous.into_iter().map(|p| (p, Need::Hit)));
        }
        self.deposed |= disrupts(action);
        self.hit |= hits(action);
    }

    /// Marks where a `repeat`'s body starts: the waits read after it may be made meaningful
    /// by a fault later in the body, from the second time round.
    pub(super) fn body_start(&self) -> usize {
        self.pending.len()
    }

    /// The body read from `start` ran `times` times: when it disrupts, its waits are met in
    /// every round but the first, which a fault before the `repeat` covers or not.
    pub(super) fn body_end(&mut self, start: usize, times: u32, body: &[super::Step]) {
        if times < 2 {
            return;
        }
        let deposes = body.iter().any(|s| disrupts(&s.action));
        let hits = body.iter().any(|s| hits(&s.action));
        let mut i = 0;
        self.pending.retain(|(_, need)| {
            i += 1;
            i <= start
                || match need {
                    Need::Deposed => !deposes,
                    Need::Hit => !hits,
                }
        });
    }

    /// One error per `new-leader` wait nothing can make meaningful, at its value.
    pub(super) fn report(self, src: &Src, errs: &mut Errs) {
        for (span, need) in self.pending {
            let (msg, help) = match need {
                Need::Deposed => (
                    "`wait = \"new-leader\"` has no earlier step that can depose a leader, so \
                     any leader would do and the wait would pass at once",
                    "put a `fault` (kill, stop, pause, crash-all), a `net` cut (not `flaky`) or \
                     a `nemesis` with one of those before it, or write `wait = \"leader\"` \
                     (message faults and restarts are not recorded as hitting a leader)",
                ),
                Need::Hit => (
                    "\"previous\" names the nodes the last `fault`, `net` or `msg` step hit, \
                     and no such step comes before this one, so it names no node",
                    "put the step whose nodes you mean before it, or name the nodes (ids, \
                     \"@LABEL\")",
                ),
            };
            errs.help(src, span, msg, help);
        }
    }
}

/// True when `a` can depose the leader and so record the fault a `new-leader` wait needs.
fn disrupts(a: &Action) -> bool {
    match a {
        Action::Fault { fault, .. } => !matches!(fault, ProcFault::Resume | ProcFault::Restart),
        Action::Net { shape, .. } => *shape != NetShape::Flaky,
        Action::Nemesis { faults, .. } => faults.iter().any(|f| match f {
            NemesisFault::Proc(p) => *p != ProcFault::Restart,
            NemesisFault::Net(s) => *s != NetShape::Flaky,
            NemesisFault::Msg(_) => false,
        }),
        Action::LeadBy { .. } => true,
        Action::Repeat { steps, .. } => steps.iter().any(|s| disrupts(&s.action)),
        _ => false,
    }
}

/// True when `a` hits nodes and so sets the nodes a `"previous"` target names (the
/// schedule's `proc_fault`, `net` and `msg` steps; a nemesis and a `kind` wait act through
/// them).
fn hits(a: &Action) -> bool {
    match a {
        Action::Fault { .. }
        | Action::Net { .. }
        | Action::Msg(_)
        | Action::Nemesis { .. }
        | Action::LeadBy { .. } => true,
        Action::Repeat { steps, .. } => steps.iter().any(|s| hits(&s.action)),
        _ => false,
    }
}

/// `kind = "..."` of a `wait = "leader"` step (value `v`) must be the kind of some node of the
/// cluster (`kinds`: every node's kind; None when a `[[node]]` failed to read, which is
/// reported already).
pub(super) fn refuse_unknown_kind(
    src: &Src,
    errs: &mut Errs,
    v: &Node,
    kind: &str,
    kinds: Option<&BTreeSet<String>>,
) {
    let Some(kinds) = kinds.filter(|k| !k.contains(kind)) else {
        return;
    };
    let names: Vec<&str> = kinds.iter().map(String::as_str).collect();
    let help = super::did_you_mean(kind, &names, super::quoted, "the cluster's node kinds");
    errs.help(
        src,
        v.span.clone(),
        format!(
            "no node of the cluster has kind \"{}\", so no such node can lead",
            super::excerpt(kind, 60)
        ),
        help,
    );
}

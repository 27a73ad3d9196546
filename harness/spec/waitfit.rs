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
use super::{Action, Errs, NemesisFault, NetShape, Node, ProcFault, Src, WaitFor};
use std::collections::BTreeSet;
use std::ops::Range;

/// The `new-leader` waits read so far that no earlier step can make meaningful, and whether
/// such a step was read (in the order the steps run, a `repeat`'s body in its place).
#[derive(Default)]
pub(super) struct Disruption {
    seen: bool,
    pending: Vec<Range<usize>>,
}

impl Disruption {
    /// A step `action` was read; `span` is its `wait` value when it is a wait.
    pub(super) fn step(&mut self, action: &Action, span: Option<Range<usize>>) {
        match action {
            Action::Wait {
                cond: WaitFor::NewLeader,
                ..
            } if !self.seen => self.pending.extend(span),
            a if disrupts(a) => self.seen = true,
            _ => {}
        }
    }

    /// Marks where a `repeat`'s body starts: the waits read after it may be made meaningful
    /// by a fault later in the body, from the second time round.
    pub(super) fn body_start(&self) -> usize {
        self.pending.len()
    }

    /// The body read from `start` ran `times` times: when it disrupts, its waits are met in
    /// every round but the first, which a fault before the `repeat` covers or not.
    pub(super) fn body_end(&mut self, start: usize, times: u32, body: &[super::Step]) {
        if times > 1 && body.iter().any(|s| disrupts(&s.action)) {
            self.pending.truncate(start);
        }
    }

    /// One error per `new-leader` wait nothing can make meaningful, at its value.
    pub(super) fn report(self, src: &Src, errs: &mut Errs) {
        for span in self.pending {
            errs.help(
                src,
                span,
                "`wait = \"new-leader\"` has no earlier step that can depose a leader, so any \
                 leader would do and the wait would pass at once",
                "put a `fault` (kill, stop, pause, crash-all), a `net` cut (not `flaky`) or a \
                 `nemesis` before it, or write `wait = \"leader\"`",
            );
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

//! What `validate` knows of the nodes a `@label` names, so that a step whose target must
//! leave some node out (`net = "isolate"`, also `one_way`) is refused before the run when
//! its `@label` can only name every node (or no node) — at run time it would stop the
//! schedule with exit 3 (`schedule::netfault::apply`).
//!
//! A label names the nodes its step hit when it ran (`schedule`): a `fault`/`net` step's
//! resolved `target`; a `msg` step's receivers (`to`), or its callers (`from`) when it has no
//! `to`. Before the run that set is known as a [`Target`] of the same size only for some
//! steps (e.g. `target = "all"`, node ids, `majority`); for the others (`leader`, `down`, a
//! `msg` step from the leader...) it is unknown (None) and nothing is refused.
use super::{Action, Errs, NetShape, Node, Src, StepCx, Target};
use std::collections::{BTreeMap, BTreeSet};

/// A step label: the line that defines it, and the nodes it names as far as known before
/// the run (a target resolving to a set of the same size; None = known only at run time).
#[derive(Debug, Clone)]
pub(super) struct LabelDef {
    pub line: usize,
    pub nodes: Option<Target>,
}

/// Step labels defined so far (in file order).
pub(super) type Labels = BTreeMap<String, LabelDef>;

/// `t` with a `@label` replaced by what the label is known to name (None: unknown).
pub(super) fn known(t: &Target, labels: &Labels) -> Option<Target> {
    match t {
        Target::Label(name) => labels.get(name).and_then(|d| d.nodes.clone()),
        t => Some(t.clone()),
    }
}

/// The nodes a labelled step of `action` hits, as far as known before the run (the rules
/// of `schedule::msgstep::label_nodes` for `msg` steps); `ids` are the suite's node ids.
pub(super) fn hit_by(action: &Action, labels: &Labels, ids: &BTreeSet<u32>) -> Option<Target> {
    match action {
        Action::Fault { target, .. } | Action::Net { target, .. } => known(target, labels),
        Action::Msg(m) if m.to == Target::All => known(&m.from, labels),
        Action::Msg(m) => match (known(&m.from, labels)?, known(&m.to, labels)?) {
            // Every node calls: each receiver has a caller other than itself.
            (Target::All, to) if ids.len() >= 2 => Some(to),
            (Target::Ids(from), Target::Ids(to)) => Some(Target::Ids(
                to.into_iter()
                    .filter(|b| from.iter().any(|a| a != b))
                    .collect(),
            )),
            _ => None,
        },
        _ => None,
    }
}

/// Refuses a `net` step of `shape` whose `target` (value `v`) is a `@label` that can only
/// name nodes the shape cannot be built on (every node or none, for `isolate`): at `v`,
/// naming the line that defines the label.
pub(super) fn refuse_unfit(
    src: &Src,
    errs: &mut Errs,
    v: &Node,
    shape: NetShape,
    target: &Target,
    cx: &StepCx,
) {
    let Target::Label(name) = target else { return };
    let Some(def) = cx.labels.get(name) else {
        return;
    };
    let Some(nodes) = &def.nodes else { return };
    let Some(p) = crate::spec::fit::net_problem(shape, nodes, cx.ids) else {
        return;
    };
    errs.help(
        src,
        v.span.clone(),
        format!(
            "this step cannot run: \"@{name}\" names the nodes its step hit (labelled on line {}), and {p}",
            def.line
        ),
        "label a step that leaves a node out (a `msg` step's label names its `to`, or its \
         `from` when it has no `to`), or target node ids here",
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::faults::{Budget, MsgAction, MsgMethod};
    use crate::spec::{MsgStep, ProcFault};

    fn msg(from: Target, to: Target) -> Action {
        Action::Msg(MsgStep {
            from,
            to,
            method: MsgMethod::Any,
            action: MsgAction::DropReply,
            budget: Budget::Rate(1.0),
        })
    }

    #[test]
    fn a_msg_step_names_its_receivers_or_its_callers_without_to() {
        let ids: BTreeSet<u32> = (1..=3).collect();
        let none = Labels::new();
        assert_eq!(
            hit_by(&msg(Target::All, Target::All), &none, &ids),
            Some(Target::All)
        );
        assert_eq!(
            hit_by(&msg(Target::Leader, Target::All), &none, &ids),
            Some(Target::Leader)
        );
        let two = Target::Ids(vec![2, 3]);
        assert_eq!(
            hit_by(&msg(Target::All, two.clone()), &none, &ids),
            Some(two)
        );
        // Node 3 calling only itself: no link, no receiver.
        let three = Target::Ids(vec![3]);
        assert_eq!(
            hit_by(&msg(three.clone(), three), &none, &ids),
            Some(Target::Ids(vec![]))
        );
        // From the leader: the receivers depend on who leads.
        assert_eq!(
            hit_by(
                &msg(Target::Leader, Target::Ids(vec![1, 2, 3])),
                &none,
                &ids
            ),
            None
        );
    }

    #[test]
    fn a_label_of_a_label_names_the_same_nodes_and_unknown_stays_unknown() {
        let ids: BTreeSet<u32> = (1..=3).collect();
        let mut labels = Labels::new();
        labels.insert(
            "every".into(),
            LabelDef {
                line: 3,
                nodes: Some(Target::All),
            },
        );
        labels.insert(
            "later".into(),
            LabelDef {
                line: 5,
                nodes: None,
            },
        );
        let kill = |t: &str| Action::Fault {
            fault: ProcFault::Kill,
            target: Target::Label(t.into()),
        };
        assert_eq!(hit_by(&kill("every"), &labels, &ids), Some(Target::All));
        assert_eq!(hit_by(&kill("later"), &labels, &ids), None);
        assert_eq!(hit_by(&Action::Heal, &labels, &ids), None);
    }
}

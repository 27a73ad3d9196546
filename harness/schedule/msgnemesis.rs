//! Message faults in the random nemesis (issue 12 §2): `faults = ["drop-reply", "delay", ...]`
//! in a `nemesis` step. Each injection draws its method, action and budget with the schedule's
//! seeded RNG ([`crate::net::msgfault::draw`]), puts the fault in force like a `msg` step
//! (recorded as fault `net-msg` with the concrete rule), holds it for the interval and heals.
use super::{Exec, Stop};
use crate::net::msgfault::{self, MsgKind};
use crate::spec::{Action, MsgStep, Target};
use std::time::Duration;

/// The `msg` step a drawn fault amounts to: from the leader or one random node, to every node
/// or one random node (a node is never its own peer: `msg_step` skips self-links).
pub(super) fn step_of(d: &msgfault::Drawn) -> MsgStep {
    MsgStep {
        from: if d.from_leader {
            Target::Leader
        } else {
            Target::Random
        },
        to: if d.to_all {
            Target::All
        } else {
            Target::Random
        },
        method: d.method,
        action: d.action,
        budget: d.budget,
    }
}

impl Exec<'_> {
    /// One nemesis message fault of `kind`: drawn, in force for `interval`, then healed.
    /// Errors (exit 3): no RPC-aware links.
    pub(super) async fn nemesis_msg(
        &mut self,
        kind: MsgKind,
        interval: Duration,
        at: &str,
    ) -> Result<(), Stop> {
        let drawn = msgfault::draw(kind, &mut self.rng);
        self.msg_step(&step_of(&drawn), at).await?;
        self.pause_for(interval).await?;
        self.net_step(&Action::Heal, at).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn drawn_faults_become_steps_with_both_ends_varied() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let steps: Vec<MsgStep> = (0..64)
            .map(|_| step_of(&msgfault::draw(MsgKind::Duplicate, &mut rng)))
            .collect();
        assert!(steps.iter().any(|s| s.from == Target::Leader));
        assert!(steps.iter().any(|s| s.from == Target::Random));
        assert!(steps.iter().any(|s| s.to == Target::All));
        assert!(steps.iter().any(|s| s.to == Target::Random));
        assert!(steps
            .iter()
            .all(|s| matches!(s.action, msgfault::MsgAction::Duplicate { .. })));
    }
}

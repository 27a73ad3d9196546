//! Message faults in the random nemesis (issue 12 §2): `faults = ["drop-reply", "delay", ...]`
//! in a `nemesis` step. Each injection draws its method, action and budget with the schedule's
//! seeded RNG ([`crate::net::msgfault::draw`]), puts the fault in force like a `msg` step
//! (recorded as fault `net-msg` with the concrete rule), holds it for the interval and heals.
use super::{Exec, Stop};
use crate::net::msgfault::{self, MsgKind};
use crate::spec::{Action, MsgStep, Target};
use rand::seq::IndexedRandom;
use std::time::Duration;

/// The `msg` step a drawn fault amounts to, calls from `from` (resolved already): to every
/// other node, or to one of them drawn by `pick` (never `from` itself, so a fault always hits
/// a link).
pub(super) fn step_of(
    d: &msgfault::Drawn,
    from: u32,
    ids: &[u32],
    pick: impl FnOnce(&[u32]) -> Option<u32>,
) -> MsgStep {
    let others: Vec<u32> = ids.iter().copied().filter(|&i| i != from).collect();
    let to = match (d.to_all, pick(&others)) {
        (false, Some(one)) => Target::Ids(vec![one]),
        _ => Target::Ids(others),
    };
    MsgStep {
        from: Target::Ids(vec![from]),
        to,
        method: d.method,
        action: d.action,
        budget: d.budget,
    }
}

impl Exec<'_> {
    /// One nemesis message fault of `kind`: drawn, in force for `interval`, then healed. Calls
    /// from the leader (else a random running node) to every other node or one of them.
    /// Errors (exit 3): no RPC-aware links.
    pub(super) async fn nemesis_msg(
        &mut self,
        kind: MsgKind,
        interval: Duration,
        at: &str,
    ) -> Result<(), Stop> {
        let drawn = msgfault::draw(kind, &mut self.rng);
        let from_t = if drawn.from_leader {
            Target::Leader
        } else {
            Target::Random
        };
        let Some(&from) = self.resolve(&from_t, at).await?.first() else {
            return Ok(()); // no leader: recorded by `resolve` as a failed wait
        };
        let ids = self.cluster.ids();
        let rng = &mut self.rng;
        let step = step_of(&drawn, from, &ids, |o| o.choose(rng).copied());
        self.msg_step(&step, at, None).await?;
        self.pause_for(interval).await?;
        self.net_step(&Action::Heal, at).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn a_drawn_fault_always_hits_a_link_from_its_caller() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let ids = [1, 2, 3];
        let mut one = 0;
        for _ in 0..64 {
            let d = msgfault::draw(MsgKind::Duplicate, &mut rng);
            // A picker that would choose the caller itself if it were offered.
            let s = step_of(&d, 2, &ids, |o| {
                o.iter().copied().find(|&i| i == 2).or(o.first().copied())
            });
            assert_eq!(s.from, Target::Ids(vec![2]));
            let Target::Ids(to) = &s.to else {
                panic!("{:?}", s.to)
            };
            assert!(!to.is_empty() && !to.contains(&2), "{to:?}");
            assert_eq!(to.len(), if d.to_all { 2 } else { 1 }, "{d:?}");
            one += usize::from(to.len() == 1);
            assert!(matches!(s.action, msgfault::MsgAction::Duplicate { .. }));
        }
        assert!(one > 0 && one < 64, "both one peer and all peers drawn");
        // A one-node cluster: no other node, no link (msg_step records "nothing done").
        let d = msgfault::draw(MsgKind::Delay, &mut rng);
        assert_eq!(step_of(&d, 1, &[1], |_| None).to, Target::Ids(vec![]));
    }
}

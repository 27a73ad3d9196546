//! Election Safety (Raft §5.2, Figure 3): at most one leader can be elected in a
//! given term. Evidence: `role` events of journals, and every status sample in
//! which a node said it was Leader.
use super::{journaled, list, sightings, CheckResult, Evidence};
use crate::observe::journal::Kind;
use crate::observe::view::Role;
use std::collections::BTreeMap;

pub const NAME: &str = "election_safety";

pub fn check(ev: &Evidence) -> CheckResult {
    if ev.statuses.is_empty() && ev.journals.values().all(|j| j.is_empty()) {
        return CheckResult::not_checked(NAME, "no status samples and no journals were recorded");
    }
    // term -> node -> (first time seen as leader, source)
    let mut leaders: BTreeMap<i64, BTreeMap<u32, (u64, &'static str)>> = BTreeMap::new();
    for (node, events) in &ev.journals {
        for e in events
            .iter()
            .filter(|e| e.event == Kind::Role && e.role == Some(Role::Leader))
        {
            if let Some(t) = e.term {
                leaders
                    .entry(t)
                    .or_default()
                    .entry(*node)
                    .or_insert((e.t_us, "journal"));
            }
        }
    }
    for s in ev.statuses.iter().filter(|s| s.is_leader()) {
        leaders
            .entry(s.term as i64)
            .or_default()
            .entry(s.node)
            .or_insert((s.t_us, "status"));
    }
    let mut violations = Vec::new();
    for (term, nodes) in &leaders {
        if nodes.len() > 1 {
            let who = sightings(nodes);
            violations.push(format!(
                "term {term}: nodes {} all Leader — {}",
                list(nodes.keys().copied()),
                who.join(", ")
            ));
        }
    }
    let based_on = format!(
        "{} status samples; journals of nodes [{}]",
        ev.statuses.len(),
        list(journaled(ev))
    );
    if leaders.is_empty() {
        // No term had a leader: there was nothing that could have been violated.
        return CheckResult::not_checked(
            NAME,
            format!("no node was seen as Leader in any term ({based_on})"),
        );
    }
    CheckResult::new(NAME, based_on).with_violations(
        violations,
        format!("{} terms with a leader, one leader each", leaders.len()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fixtures::*;
    use crate::check::Status;

    /// Status samples alone: one leader per term passes; two leaders in one term fail, naming
    /// the term, the nodes and the time; no leader in any term is not checked, never a pass.
    #[test]
    fn status_samples_are_judged_by_their_leaders_per_term() {
        let cases = [
            (
                vec![
                    status(1, 10, "Leader", 1, None),
                    status(2, 20, "Follower", 1, None),
                    status(2, 30, "Leader", 2, None),
                ],
                Status::Pass,
                &[][..],
            ),
            (
                vec![
                    status(1, 10, "Follower", 1, None),
                    status(2, 20, "Candidate", 2, None),
                ],
                Status::NotChecked,
                &[],
            ),
            (
                vec![
                    status(2, 12_345_000, "Leader", 7, None),
                    status(4, 12_400_000, "Leader", 7, None),
                ],
                Status::Fail,
                &["term 7: nodes 2, 4", "12.345 s"],
            ),
        ];
        for (samples, verdict, parts) in cases {
            let ev = Evidence::default().with_statuses(samples);
            assert_verdict(&check(&ev), verdict, parts);
        }
    }

    #[test]
    fn two_leaders_in_one_term_from_journals_fail() {
        let ev = Evidence::default()
            .with_journal(1, vec![role(1, 5, Role::Leader, 3)])
            .with_journal(2, vec![role(2, 5, Role::Leader, 3)]);
        assert_verdict(&check(&ev), Status::Fail, &[]);
    }

    #[test]
    fn no_evidence_is_not_a_pass() {
        assert_verdict(&check(&Evidence::default()), Status::NotChecked, &[]);
    }
}

//! Election Safety (Raft §5.2, Figure 3): at most one leader can be elected in a
//! given term. Evidence: `role` events of journals, and every status sample in
//! which a node said it was Leader.
use super::{list, sightings, CheckResult, Evidence};
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
    let journaled: Vec<u32> = ev
        .journals
        .iter()
        .filter(|(_, j)| !j.is_empty())
        .map(|(n, _)| *n)
        .collect();
    let based_on = format!(
        "{} status samples; journals of nodes [{}]",
        ev.statuses.len(),
        list(journaled)
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

    #[test]
    fn one_leader_per_term_passes() {
        let ev = Evidence {
            statuses: vec![
                status(1, 10, "Leader", 1, None),
                status(2, 20, "Follower", 1, None),
                status(2, 30, "Leader", 2, None),
            ],
            ..Default::default()
        };
        assert_eq!(check(&ev).status, Status::Pass);
    }

    #[test]
    fn no_leader_in_any_term_is_not_checked_never_a_pass() {
        let ev = Evidence {
            statuses: vec![
                status(1, 10, "Follower", 1, None),
                status(2, 20, "Candidate", 2, None),
            ],
            ..Default::default()
        };
        assert_eq!(check(&ev).status, Status::NotChecked);
    }

    #[test]
    fn two_leaders_in_one_term_from_status_samples_fail() {
        let ev = Evidence {
            statuses: vec![
                status(2, 12_345_000, "Leader", 7, None),
                status(4, 12_400_000, "Leader", 7, None),
            ],
            ..Default::default()
        };
        let r = check(&ev);
        assert_eq!(r.status, Status::Fail);
        assert!(r.summary.contains("term 7: nodes 2, 4"), "{}", r.summary);
        assert!(r.summary.contains("12.345 s"), "{}", r.summary);
    }

    #[test]
    fn two_leaders_in_one_term_from_journals_fail() {
        let mut a = jev(1, 5, "role");
        a.role = Some(Role::Leader);
        a.term = Some(3);
        let mut b = a.clone();
        b.node = 2;
        let mut ev = Evidence::default();
        ev.journals.insert(1, vec![a]);
        ev.journals.insert(2, vec![b]);
        assert_eq!(check(&ev).status, Status::Fail);
    }

    #[test]
    fn no_evidence_is_not_a_pass() {
        assert_eq!(check(&Evidence::default()).status, Status::NotChecked);
    }
}

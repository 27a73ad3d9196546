//! Term stability: with no fault active, a healthy cluster keeps its leader and
//! its term (Raft §5.2: a leader's heartbeats stop followers from timing out, so
//! a new term starts only when a leader is lost; §9.3 of the thesis: election
//! churn is a liveness failure). A cluster that keeps starting new terms while
//! nothing disturbs it (seen: ~5 terms/s from a leader that re-elects itself)
//! fails this check, with the rate and the nodes that started the elections.
//!
//! Quiet period: from one election timeout (its upper bound) after the last
//! fault event of the schedule (kill, stop, pause, resume, restart, network
//! shape, heal) — or after the first status sample when there was none — to the
//! last status sample. New terms are the increases of the highest term any
//! node reported (status samples), counted by value (a jump from 3 to 6 is three
//! elections), at the time they were first seen. More than
//! `settings.max_new_terms` (`[checks] max_new_terms`, default 3) within any
//! window of `settings.term_window_ms` (`[checks] term_window_s`, default 5
//! election timeouts) fails. A quiet period shorter than one window with no
//! violation is `not checked`: it could not show stability.
//!
//! With `[checks] terms_through_network_faults = true`, network shapes and heals
//! neither end nor excuse a quiet period: with pre-vote and check-quorum (Raft
//! thesis §9.6) a node cut off from the majority never raises its term, so
//! cutting a follower off, a one-way cut or healing must start no election. Only
//! process faults (kill, stop, pause, restart, resume) still do.
use super::{list, secs, CheckResult, Evidence};
use crate::observe::journal::Kind;
use crate::observe::view::Role;
use crate::trace::FaultAction;
use std::collections::BTreeMap;

pub const NAME: &str = "term_stability";

/// A rise of the cluster's highest term: when first seen, by how many terms, to which.
#[derive(Debug, Clone, Copy)]
struct Rise {
    t_us: u64,
    by: i64,
    to: i32,
}

/// Quiet periods [from, to) in µs: from one election timeout after the first
/// status sample or after the fault event that ended the last active fault, to
/// the next fault event or the last status sample. A network fault is active
/// from its `net-*` event to `heal`; a killed, stopped or paused node until it
/// is restarted or resumed.
fn quiet_periods(ev: &Evidence) -> Vec<(u64, u64)> {
    let Some(first) = ev.statuses.iter().map(|s| s.t_us).min() else {
        return Vec::new();
    };
    let last = ev.statuses.iter().map(|s| s.t_us).max().unwrap_or(first) + 1;
    let calm = ev.settings.election_max_ms * 1000;
    let through_net = ev.settings.terms_through_network_faults;
    let mut faults: Vec<_> = ev
        .faults
        .iter()
        .filter(|f| !f.action.is_workload())
        .filter(|f| !(through_net && is_network(f.action)))
        .collect();
    faults.sort_by_key(|f| f.t_us);
    let mut out = Vec::new();
    let mut from = Some(first + calm);
    let mut net_active = false;
    let mut down = std::collections::BTreeSet::new();
    for f in faults {
        if let Some(a) = from.take() {
            if f.t_us > a {
                out.push((a, f.t_us));
            }
        }
        match f.action {
            a if a.is_net() => net_active = true,
            FaultAction::Heal => net_active = false,
            a if a.takes_down() => down.extend(f.nodes.iter().copied()),
            a if a.brings_back() => down.retain(|n| !f.nodes.contains(n)),
            _ => {}
        }
        if !net_active && down.is_empty() {
            from = Some(f.t_us + calm);
        }
    }
    if let Some(a) = from.filter(|a| *a < last) {
        out.push((a, last));
    }
    out
}

/// A network shape or its heal (`net-*`, `heal`).
fn is_network(action: FaultAction) -> bool {
    action.is_net() || action == FaultAction::Heal
}

/// Rises of the highest term first seen within [from, to) (µs).
fn rises(ev: &Evidence, from: u64, to: u64) -> Vec<Rise> {
    let mut samples: Vec<_> = ev.statuses.iter().collect();
    samples.sort_by_key(|s| s.t_us);
    let mut max = i32::MIN;
    let mut out = Vec::new();
    for s in samples {
        if s.term > max {
            if s.t_us >= from && s.t_us < to && max != i32::MIN {
                out.push(Rise {
                    t_us: s.t_us,
                    by: (s.term - max) as i64,
                    to: s.term,
                });
            }
            max = s.term;
        }
    }
    out
}

/// The window with the most new terms: (first rise index, last rise index, terms).
fn worst_window(rises: &[Rise], window_us: u64) -> Option<(usize, usize, i64)> {
    let mut best: Option<(usize, usize, i64)> = None;
    let mut lo = 0;
    let mut sum = 0i64;
    for (hi, r) in rises.iter().enumerate() {
        sum += r.by;
        while r.t_us - rises[lo].t_us >= window_us {
            sum -= rises[lo].by;
            lo += 1;
        }
        if best.is_none_or(|b| sum > b.2) {
            best = Some((lo, hi, sum));
        }
    }
    best
}

/// Nodes seen starting elections for terms in `terms`: in Candidate or Leader
/// role of that term (status samples), or a journal `role` event to Candidate.
fn starters(ev: &Evidence, lo: i32, hi: i32) -> String {
    let mut by_node: BTreeMap<u32, std::collections::BTreeSet<i32>> = BTreeMap::new();
    for s in &ev.statuses {
        if matches!(s.role(), Role::Candidate | Role::Leader) && s.term > lo && s.term <= hi {
            by_node.entry(s.node).or_default().insert(s.term);
        }
    }
    for (node, events) in &ev.journals {
        for e in events {
            let t = e.term.unwrap_or(0) as i32;
            if e.event == Kind::Role && e.role == Some(Role::Candidate) && t > lo && t <= hi {
                by_node.entry(*node).or_default().insert(t);
            }
        }
    }
    if by_node.is_empty() {
        return "no node was seen as candidate or leader of those terms".into();
    }
    let parts: Vec<String> = by_node
        .iter()
        .map(|(n, ts)| format!("node {n} ({} terms)", ts.len()))
        .collect();
    format!("elections started by {}", parts.join(", "))
}

pub fn check(ev: &Evidence) -> CheckResult {
    let st = &ev.settings;
    if st.election_max_ms == 0 || st.term_window_ms == 0 {
        return CheckResult::not_checked(NAME, "the evidence has no election timeout or window");
    }
    let window_us = st.term_window_ms * 1000;
    let window = format!("{} s", st.term_window_ms as f64 / 1000.0);
    let periods = quiet_periods(ev);
    let quiet_us: u64 = periods.iter().map(|(a, b)| b - a).sum();
    let mut total = 0i64;
    let mut worst: Option<(Vec<Rise>, usize, usize, i64)> = None;
    for &(a, b) in &periods {
        let rs = rises(ev, a, b);
        total += rs.iter().map(|r| r.by).sum::<i64>();
        if let Some(w) = worst_window(&rs, window_us) {
            if worst.as_ref().is_none_or(|x| w.2 > x.3) {
                worst = Some((rs, w.0, w.1, w.2));
            }
        }
    }
    let based_on = format!(
        "status samples over {} in {} periods with no fault active; {total} new terms; at most {} new terms in any {window} window",
        secs(quiet_us),
        periods.len(),
        st.max_new_terms
    );
    if let Some((rs, lo, hi, n)) = worst.as_ref().filter(|w| w.3 > st.max_new_terms as i64) {
        let msg = churn(ev, &rs[*lo..=*hi], *n, &window);
        return CheckResult::new(NAME, based_on).with_violations(vec![msg], "");
    }
    if !periods.iter().any(|(a, b)| b - a >= window_us) {
        return CheckResult::not_checked(
            NAME,
            format!("no period without a fault lasted one {window} window ({based_on})"),
        );
    }
    let most = worst.map_or(0, |w| w.3);
    CheckResult::new(NAME, based_on).with_violations(
        vec![],
        format!(
            "{total} new terms in {} without a fault (at most {most} in any {window} window)",
            secs(quiet_us)
        ),
    )
}

/// The finding for the rises `rs` (n new terms within one window).
fn churn(ev: &Evidence, rs: &[Rise], n: i64, window: &str) -> String {
    let (a, b) = (rs[0], rs[rs.len() - 1]);
    let span_s = ((b.t_us - a.t_us) as f64 / 1e6).max(ev.settings.poll_ms as f64 / 1000.0);
    let from_term = a.to - a.by as i32;
    format!(
        "{n} new terms (term {from_term} → {}) between {} and {} with no fault active ({:.1} terms/s; more than {} within {window}); {}; nodes {} were polled{}",
        b.to,
        secs(a.t_us),
        secs(b.t_us),
        n as f64 / span_s.max(1e-3),
        ev.settings.max_new_terms,
        starters(ev, from_term, b.to),
        list(polled(ev)),
        super::responsiveness::silent_note(ev, &ev.nodes.iter().map(|n| n.id).collect::<Vec<_>>())
    )
}

fn polled(ev: &Evidence) -> Vec<u32> {
    let s: std::collections::BTreeSet<u32> = ev.statuses.iter().map(|s| s.node).collect();
    s.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fixtures::*;
    use crate::check::{CheckSettings, Status};
    use crate::trace::FaultEvent;

    /// Three nodes polled every 100 ms for `secs` s; node 1 leads. `term_at(t_ms)`
    /// gives the term, and node 2 is Candidate whenever the term changed.
    fn run(secs: u64, term_at: impl Fn(u64) -> i32) -> Evidence {
        let mut statuses = Vec::new();
        for t in (0..secs * 1000).step_by(100) {
            let term = term_at(t);
            let changed = t >= 100 && term_at(t - 100) != term;
            statuses.push(status(1, t * 1000, "Leader", term, None));
            let st = if changed { "Candidate" } else { "Follower" };
            statuses.push(status(2, t * 1000 + 10, st, term, None));
            statuses.push(status(3, t * 1000 + 20, "Follower", term, None));
        }
        Evidence {
            statuses,
            settings: settings(),
            ..Default::default()
        }
    }

    fn fault(t_ms: u64, action: &str) -> FaultEvent {
        crate::check::fixtures::fault(t_ms * 1000, action, &[1], &[])
    }

    #[test]
    fn a_stable_term_passes() {
        let r = check(&run(5, |t| if t < 500 { 1 } else { 2 }));
        assert_verdict(&r, Status::Pass, &[]);
    }

    #[test]
    fn churn_with_no_fault_fails_with_rate_and_starters() {
        // A new term every 200 ms (5 terms/s) from 1 s on.
        let r = check(&run(5, |t| 1 + (t.saturating_sub(1000) / 200) as i32));
        let parts = ["terms/s", "elections started by ", "node 2 (8 terms)"];
        assert_verdict(&r, Status::Fail, &parts);
    }

    #[test]
    fn churn_during_a_fault_is_not_counted() {
        // Terms churn until 3 s, while a fault is active (kill at 0.5 s, restart at 3 s).
        let mut ev = run(6, |t| 1 + (t.min(3000) / 200) as i32);
        ev.faults = vec![
            fault(500, "kill"),
            fault(3000, "restart"),
            fault(3100, "workload-stop"),
        ];
        let r = check(&ev);
        assert_verdict(&r, Status::Pass, &[]);
        // The same churn going on after the last fault fails.
        let mut ev = run(6, |t| 1 + (t / 200) as i32);
        ev.faults = vec![fault(500, "kill"), fault(3000, "restart")];
        assert_verdict(&check(&ev), Status::Fail, &[]);
    }

    #[test]
    fn a_cut_off_node_raising_its_term_is_not_churn_until_the_heal() {
        // Node 3 is cut off from 1 s to 4 s and starts an election every 200 ms.
        let mut ev = run(8, |t| {
            if (1000..4000).contains(&t) {
                1 + ((t - 1000) / 200) as i32
            } else {
                1
            }
        });
        ev.faults = vec![
            fault(1000, "net-isolate"),
            fault(2000, "kill"),
            fault(3000, "restart"),
            fault(4000, "heal"),
        ];
        let r = check(&ev);
        assert_verdict(&r, Status::Pass, &[]);
        // Without the heal, the network fault lasts to the end: nothing quiet after it.
        ev.faults.pop();
        assert_verdict(&check(&ev), Status::NotChecked, &[]);
        // A node killed and never restarted: a fault still active, nothing quiet.
        ev.faults = vec![
            fault(1000, "net-isolate"),
            fault(2000, "kill"),
            fault(4000, "heal"),
        ];
        assert_verdict(&check(&ev), Status::NotChecked, &[]);
    }

    #[test]
    fn a_quiet_period_shorter_than_a_window_is_not_checked() {
        let mut ev = run(3, |_| 1);
        ev.faults = vec![fault(1000, "heal"), fault(2000, "heal")];
        assert_verdict(&check(&ev), Status::NotChecked, &[]);
        // Without settings (older evidence): not checked either.
        let mut ev = run(5, |_| 1);
        ev.settings = CheckSettings::default();
        assert_verdict(&check(&ev), Status::NotChecked, &[]);
    }

    /// A rejoining node that deposes the leader right after a heal: excused by default
    /// (the heal ends a fault), a failure when network faults must cause no election.
    #[test]
    fn terms_through_network_faults_count_elections_around_a_heal() {
        let mut ev = run(8, |t| if t < 4100 { 1 } else { 2 });
        ev.faults = vec![fault(1000, "net-isolate"), fault(4000, "heal")];
        ev.settings.max_new_terms = 0;
        ev.settings.term_window_ms = 1000;
        assert_verdict(&check(&ev), Status::Pass, &[]);
        ev.settings.terms_through_network_faults = true;
        let r = check(&ev);
        assert_verdict(&r, Status::Fail, &[]);
        // A process fault still excuses the election it causes.
        ev.faults = vec![fault(3900, "kill"), fault(4500, "restart")];
        assert_verdict(&check(&ev), Status::Pass, &[]);
    }

    #[test]
    fn the_threshold_and_window_are_the_suites() {
        // 3 new terms within 1.5 s: allowed by default, not with max_new_terms = 2.
        let mut ev = run(5, |t| match t {
            0..2000 => 1,
            2000..2300 => 2,
            2300..2600 => 3,
            _ => 4,
        });
        assert_verdict(&check(&ev), Status::Pass, &[]);
        ev.settings.max_new_terms = 2;
        assert_verdict(&check(&ev), Status::Fail, &[]);
        // A window too short to hold three of them: pass again.
        ev.settings.term_window_ms = 250;
        assert_verdict(&check(&ev), Status::Pass, &[]);
    }
}

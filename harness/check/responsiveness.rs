//! Responsiveness: a node whose process lives and that the harness did not
//! pause or stop must keep answering GetStatus (the node contract's status
//! call; a Raft server that stops serving RPCs is, to its peers, a crashed
//! server — Raft §5.5 — but one the operator cannot see). Seen: a server that
//! forwarded client requests to itself until its worker pool was exhausted,
//! then hung while its process lived.
//!
//! A silence is a run of failed GetStatus polls of one node with no answer in
//! between, measured from the node's last answer. It is excused from the first
//! moment the schedule acted on the node (kill, stop, pause, restart) or the
//! node's process exited; silences before a node's first answer are start-up,
//! judged by the readiness wait. A silence longer than
//! `max(2 s, 5 polls + 2 election timeouts)` fails, naming the node, since
//! when, for how long, the failed polls and its last status.
use super::{secs, CheckResult, Evidence};
use crate::observe::{PollFailure, StatusSample};
use crate::trace::FaultAction;

pub const NAME: &str = "responsiveness";

/// Schedule actions after which a node may rightly not answer.
fn silencing(a: FaultAction) -> bool {
    a.takes_down() || a == FaultAction::Restart
}

/// One node's silence.
#[derive(Debug, Clone)]
pub struct Silence {
    pub node: u32,
    /// The last answer before the silence.
    pub last: StatusSample,
    /// End of the unexcused part: the next answer, the first excusing event,
    /// or the last failed poll (then `to_end` is true).
    pub until_us: u64,
    pub to_end: bool,
    pub failed_polls: usize,
    /// Each distinct error of the failed polls, with its count.
    pub errors: std::collections::BTreeMap<String, usize>,
}

impl Silence {
    pub fn since_us(&self) -> u64 {
        self.last.t_us
    }
    pub fn length_us(&self) -> u64 {
        self.until_us.saturating_sub(self.last.t_us)
    }
}

/// Silences longer than this (µs) are findings.
pub fn threshold_us(ev: &Evidence) -> u64 {
    let s = &ev.settings;
    (2_000 * 1000).max((5 * s.poll_ms + 2 * s.election_max_ms) * 1000)
}

/// Whether `node` is down by the harness's doing at `t_us`: the latest of its
/// kill/stop/pause/exit and restart/resume events at or before `t_us` is a
/// down event. A fault's instant is taken before the harness acts, so a poll
/// sent just after it may still be answered: the silence that follows is the
/// fault's, whenever the last answer came.
fn down_at(ev: &Evidence, node: u32, t_us: u64) -> bool {
    let mut events: Vec<(u64, bool)> = ev
        .faults
        .iter()
        .filter(|f| f.nodes.contains(&node) && f.t_us <= t_us)
        .filter(|f| f.action.takes_down() || f.action.brings_back())
        .map(|f| (f.t_us, f.action.takes_down()))
        .collect();
    events.extend(
        ev.unexpected_exits
            .iter()
            .filter(|(n, _, t)| *n == node && *t <= t_us)
            .map(|(_, _, t)| (*t, true)),
    );
    events.sort_by_key(|e| e.0);
    events.last().is_some_and(|e| e.1)
}

/// Times (µs) at which the harness acted on `node` or its process exited.
fn excuses(ev: &Evidence, node: u32) -> Vec<u64> {
    let mut out: Vec<u64> = ev
        .faults
        .iter()
        .filter(|f| silencing(f.action) && f.nodes.contains(&node))
        .map(|f| f.t_us)
        .collect();
    out.extend(
        ev.unexpected_exits
            .iter()
            .filter(|(n, _, _)| *n == node)
            .map(|(_, _, t)| *t),
    );
    out
}

/// Every silence of every node, longest unexcused part first.
pub fn silences(ev: &Evidence) -> Vec<Silence> {
    let mut out = Vec::new();
    let nodes: std::collections::BTreeSet<u32> = ev.poll_failures.iter().map(|f| f.node).collect();
    for node in nodes {
        let mut answers: Vec<&StatusSample> =
            ev.statuses.iter().filter(|s| s.node == node).collect();
        answers.sort_by_key(|s| s.t_us);
        let mut fails: Vec<&PollFailure> =
            ev.poll_failures.iter().filter(|f| f.node == node).collect();
        fails.sort_by_key(|f| f.sent_us);
        // Polls that failed while the node was down by the harness's doing say nothing.
        fails.retain(|f| !down_at(ev, node, f.sent_us));
        let down = |t: u64| down_at(ev, node, t);
        out.extend(node_silences(
            node,
            &answers,
            &fails,
            &excuses(ev, node),
            &down,
        ));
    }
    out.sort_by_key(|s| std::cmp::Reverse(s.length_us()));
    out
}

fn node_silences(
    node: u32,
    answers: &[&StatusSample],
    fails: &[&PollFailure],
    excuses: &[u64],
    down: &dyn Fn(u64) -> bool,
) -> Vec<Silence> {
    let mut out: Vec<Silence> = Vec::new();
    for f in fails {
        // The last answer received before this poll was sent.
        let i = answers.partition_point(|s| s.t_us <= f.sent_us);
        let Some(last) = i.checked_sub(1).map(|i| answers[i]) else {
            continue; // never answered yet: start-up
        };
        let next = answers.get(i).map(|s| s.t_us);
        // A last answer that came while the harness had already killed, stopped or paused
        // the node (a fault that takes a while to land, e.g. `docker kill`): the silence
        // after it is the fault's from its start.
        let excuse = if down(last.sent_us) {
            Some(last.sent_us)
        } else {
            excuses.iter().copied().filter(|&t| t >= last.sent_us).min()
        };
        if let Some(cur) = out.last_mut().filter(|s| s.last.t_us == last.t_us) {
            cur.failed_polls += 1;
            *cur.errors.entry(f.error.clone()).or_default() += 1;
            if cur.to_end {
                cur.until_us = cur.until_us.max(f.t_us);
            }
            if let Some(e) = excuse {
                cur.until_us = cur.until_us.min(e);
            }
            continue;
        }
        let until = next.unwrap_or(f.t_us);
        out.push(Silence {
            node,
            last: last.clone(),
            until_us: excuse.map_or(until, |e| e.min(until)),
            to_end: next.is_none() && excuse.is_none_or(|e| e > f.t_us),
            failed_polls: 1,
            errors: [(f.error.clone(), 1)].into(),
        });
    }
    out
}

/// "node 3 (silent since 4.210 s)" style note for nodes silent at the end, or "".
pub fn silent_note(ev: &Evidence, nodes: &[u32]) -> String {
    let th = threshold_us(ev);
    let parts: Vec<String> = silences(ev)
        .into_iter()
        .filter(|s| s.to_end && s.length_us() > th && nodes.contains(&s.node))
        .map(|s| format!("node {} silent since {}", s.node, secs(s.since_us())))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

fn describe(s: &Silence) -> String {
    let l = &s.last;
    let mut errs: Vec<(&String, &usize)> = s.errors.iter().collect();
    errs.sort_by_key(|(_, n)| std::cmp::Reverse(**n));
    let errors = errs
        .iter()
        .map(|(e, n)| format!("{n}× {e}"))
        .collect::<Vec<_>>()
        .join(", ");
    let ext = l.ext.as_ref().map_or(String::new(), |x| {
        format!(
            ", commit {} applied {} last index {}",
            x.commit_index, x.last_applied, x.last_log_index
        )
    });
    format!(
        "node {} stopped answering GetStatus: silent from {} for {}{} while its process ran and the harness had not paused or stopped it; {} failed polls ({}); its last status: {} of term {}, leader {}{ext}",
        s.node,
        secs(s.since_us()),
        secs(s.length_us()),
        if s.to_end { " (until the end of the run)" } else { "" },
        s.failed_polls,
        errors,
        l.state,
        l.term,
        l.leader_id
    )
}

pub fn check(ev: &Evidence) -> CheckResult {
    if ev.settings.poll_ms == 0 {
        return CheckResult::not_checked(NAME, "the evidence has no poll interval (older harness)");
    }
    if ev.statuses.is_empty() {
        return CheckResult::not_checked(NAME, "no node ever answered GetStatus");
    }
    let th = threshold_us(ev);
    let all = silences(ev);
    let violations: Vec<String> = all
        .iter()
        .filter(|s| s.length_us() > th)
        .map(describe)
        .collect();
    let longest = all.first().map_or(0, Silence::length_us);
    let based_on = format!(
        "{} answers and {} failed GetStatus polls; silences over {} fail",
        ev.statuses.len(),
        ev.poll_failures.len(),
        secs(th)
    );
    CheckResult::new(NAME, based_on).with_violations(
        violations,
        format!(
            "every running node answered GetStatus (longest unexcused silence {})",
            secs(longest)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fixtures::{self, assert_summary_starts, assert_verdict, settings, status};
    use crate::check::Status;
    use crate::trace::FaultEvent;

    fn fail(node: u32, t_ms: u64) -> PollFailure {
        PollFailure {
            node,
            sent_us: t_ms * 1000,
            t_us: t_ms * 1000 + 400_000,
            error: "DeadlineExceeded: GetStatus timed out".into(),
        }
    }

    /// Node 1 answers every 100 ms for 10 s; node 2 answers until `silent_from`
    /// ms, then every poll fails (to the end, or until `back` ms).
    fn run(silent_from: u64, back: Option<u64>) -> Evidence {
        let mut ev = Evidence {
            settings: settings(),
            ..Default::default()
        };
        for t in (0..10_000).step_by(100) {
            ev.statuses.push(status(1, t * 1000, "Leader", 2, Some(5)));
            let silent = t >= silent_from && back.is_none_or(|b| t < b);
            if silent {
                ev.poll_failures.push(fail(2, t));
            } else {
                ev.statuses
                    .push(status(2, t * 1000, "Follower", 2, Some(5)));
            }
        }
        ev
    }

    fn fault(t_ms: u64, action: &str, node: u32) -> FaultEvent {
        fixtures::fault(t_ms * 1000, action, &[node], &[])
    }

    #[test]
    fn a_node_that_stops_answering_fails_naming_it() {
        let r = check(&run(4000, None));
        assert_summary_starts(&r, Status::Fail, "node 2 stopped answering");
        let parts = [
            "silent from 3.900 s",
            "until the end of the run",
            "its last status: Follower of term 2",
            "DeadlineExceeded",
        ];
        assert_verdict(&r, Status::Fail, &parts);
    }

    #[test]
    fn a_short_gap_passes() {
        let r = check(&run(4000, Some(5000)));
        assert_verdict(&r, Status::Pass, &[]);
        // A long gap that ends is still a finding.
        let r = check(&run(2000, Some(6000)));
        assert_verdict(&r, Status::Fail, &[]);
        assert!(!r.summary.contains("until the end"), "{}", r.summary);
    }

    #[test]
    fn silences_the_harness_caused_are_excused() {
        for action in ["kill", "stop", "pause", "restart"] {
            let mut ev = run(4000, None);
            ev.faults = vec![fault(4000, action, 2)];
            assert_eq!(check(&ev).status, Status::Pass, "{action}");
        }
        // A fault on another node excuses nothing.
        let mut ev = run(4000, None);
        ev.faults = vec![fault(4000, "pause", 1)];
        assert_verdict(&check(&ev), Status::Fail, &[]);
        // Silent for 4 s, then killed: the silence before the kill is a finding.
        let mut ev = run(2000, None);
        ev.faults = vec![fault(6500, "kill", 2)];
        assert_verdict(&check(&ev), Status::Fail, &[]);
        // Killed as the first step: the fault instant (taken before acting) precedes the
        // last answer, which came while the kill was under way. Still the harness's doing.
        let mut ev = run(4000, None);
        ev.faults = vec![fault(3850, "kill", 2)];
        assert_verdict(&check(&ev), Status::Pass, &[]);
        // The same slow kill, then a restart: the silence up to the first answer after the
        // restart is still the kill's (was a false failure with the docker backend)...
        let mut ev = run(4000, Some(9500));
        ev.faults = vec![fault(3850, "kill", 2), fault(8000, "restart", 2)];
        assert_verdict(&check(&ev), Status::Pass, &[]);
        // ...unless the fault was on another node.
        let mut ev = run(4000, Some(9500));
        ev.faults = vec![fault(3850, "kill", 1), fault(8000, "restart", 1)];
        assert_verdict(&check(&ev), Status::Fail, &[]);
        // ...but once restarted, a node that answers and then falls silent is a finding.
        let mut ev = run(4000, None);
        ev.faults = vec![fault(1000, "kill", 2), fault(1200, "restart", 2)];
        assert_verdict(&check(&ev), Status::Fail, &[]);
        // A process that exited on its own: an exit, not a silence.
        let mut ev = run(4000, None);
        ev.unexpected_exits = vec![(2, "exit code 1".into(), 4_050_000)];
        assert_verdict(&check(&ev), Status::Pass, &[]);
    }

    #[test]
    fn a_node_that_never_answered_is_left_to_the_readiness_wait() {
        let mut ev = run(0, None);
        ev.statuses.retain(|s| s.node == 1);
        assert_verdict(&check(&ev), Status::Pass, &[]);
        assert_eq!(check(&Evidence::default()).status, Status::NotChecked);
    }

    #[test]
    fn silent_nodes_are_named_for_other_checks() {
        let ev = run(4000, None);
        assert_eq!(silent_note(&ev, &[2]), " (node 2 silent since 3.900 s)");
        assert_eq!(silent_note(&ev, &[1]), "");
    }
}

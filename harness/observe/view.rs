//! The cluster as Raft defines it, computed from status samples: who the
//! current leader is, who follows it, and who is behind.
//!
//! Pure functions over [`StatusSample`]s (one latest sample per node), so every
//! rule is unit-tested without a cluster. Times are µs on the run's clock.
use super::{Entry, StatusSample};
use std::collections::BTreeSet;
use std::fmt;

/// A node's role (Raft §5.1) as it reports it in GetStatus (`state`) or in
/// its journal (`role`, exactly `Leader`/`Follower`/`Candidate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Role {
    Leader,
    Follower,
    Candidate,
    /// Anything else a server answers (judged as none of the three).
    #[serde(other)]
    Other,
}

impl Role {
    /// Parse a GetStatus `state`, case-insensitively.
    pub fn parse(state: &str) -> Role {
        match state.trim().to_ascii_lowercase().as_str() {
            "leader" => Role::Leader,
            "follower" => Role::Follower,
            "candidate" => Role::Candidate,
            _ => Role::Other,
        }
    }
}

impl StatusSample {
    pub fn role(&self) -> Role {
        Role::parse(&self.state)
    }

    /// The leader id the node reports, if it reports one (`-1`/`0` = unknown;
    /// node ids start at 1).
    pub fn reported_leader(&self) -> Option<u32> {
        u32::try_from(self.leader_id).ok().filter(|id| *id > 0)
    }
}

/// What the view is computed from: each node's latest sample, and which of them
/// may count.
#[derive(Debug, Clone, Copy)]
pub struct ViewInput<'a> {
    /// Latest answer per node (at most one per node).
    pub latest: &'a [StatusSample],
    /// Every configured node, running or not (the majority is counted out of these).
    pub cluster_size: usize,
    /// Now, µs on the run's clock.
    pub now_us: u64,
    /// A sample older than this (by the time its answer arrived) does not count.
    pub max_age_us: u64,
    /// Nodes known to be killed, stopped or paused: their samples never count.
    pub down: &'a BTreeSet<u32>,
}

impl<'a> ViewInput<'a> {
    /// Samples that count: fresh, and from nodes not known to be down.
    pub fn usable(&self) -> impl Iterator<Item = &'a StatusSample> + '_ {
        self.latest.iter().filter(move |s| {
            !self.down.contains(&s.node) && self.now_us.saturating_sub(s.t_us) <= self.max_age_us
        })
    }

    /// Nodes with no usable sample: silent (or too slow to answer), or down.
    pub fn silent(&self, configured: &[u32]) -> Vec<u32> {
        configured
            .iter()
            .copied()
            .filter(|id| !self.down.contains(id) && !self.usable().any(|s| s.node == *id))
            .collect()
    }
}

/// A node `s` follows leader `l`: it reports `l`'s term as its current term,
/// is a Follower (or is `l`), and names `l` as leader where it names one
/// (Raft §5.2: a follower learns the leader of its term from AppendEntries).
pub fn follows(s: &StatusSample, l: &StatusSample) -> bool {
    if s.node == l.node {
        return true;
    }
    s.term == l.term
        && s.role() == Role::Follower
        && s.reported_leader().is_none_or(|id| id == l.node)
}

/// The current leader: a node in Leader role whose term a majority of the
/// configured nodes (counting itself) report as their current term in usable
/// samples, each naming it where it names a leader. At most one node qualifies
/// (a node has one latest sample, and two majorities intersect; Raft §5.2
/// Election Safety). A cut-off node that keeps raising its term never is one.
pub fn current_leader<'a>(v: &ViewInput<'a>) -> Option<&'a StatusSample> {
    let usable: Vec<&StatusSample> = v.usable().collect();
    let majority = v.cluster_size / 2 + 1;
    usable
        .iter()
        .copied()
        .filter(|l| l.role() == Role::Leader)
        .find(|l| usable.iter().filter(|s| follows(s, l)).count() >= majority)
}

/// Nodes that follow the current leader (not the leader itself), ascending.
pub fn followers(v: &ViewInput<'_>, leader: &StatusSample) -> Vec<u32> {
    v.usable()
        .filter(|s| s.node != leader.node && follows(s, leader))
        .map(|s| s.node)
        .collect()
}

/// Nodes whose usable sample says Candidate, ascending.
pub fn candidates(v: &ViewInput<'_>) -> Vec<u32> {
    v.usable()
        .filter(|s| s.role() == Role::Candidate)
        .map(|s| s.node)
        .collect()
}

/// Why there is no current leader, one clause per node, e.g.
/// `node 1 Leader term 3 followed by 1 of 5 (needs 3); node 5 Candidate term 9;
/// node 4 did not answer`.
pub fn why_no_leader(v: &ViewInput<'_>, configured: &[u32]) -> String {
    let majority = v.cluster_size / 2 + 1;
    let usable: Vec<&StatusSample> = v.usable().collect();
    let mut parts: Vec<String> = usable
        .iter()
        .map(|s| {
            let mut p = format!("node {} {} term {}", s.node, s.state, s.term);
            if s.role() == Role::Leader {
                let n = usable.iter().filter(|f| follows(f, s)).count();
                p += &format!(" followed by {n} of {} (needs {majority})", v.cluster_size);
            } else if let Some(l) = s.reported_leader() {
                p += &format!(" (names leader {l})");
            }
            p
        })
        .collect();
    let silent = v.silent(configured);
    if !silent.is_empty() {
        parts.push(format!(
            "node {} did not answer",
            crate::trace::list(silent.iter().copied())
        ));
    }
    if parts.is_empty() {
        "no node answered".into()
    } else {
        parts.join("; ")
    }
}

/// What was committed when a `caught-up` wait began: the highest commit index
/// white-box nodes reported, and the entries of the committed prefix where a
/// black-box node needs them (compared against its GetLog).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitTarget {
    /// Highest index committed at the start (−1 = nothing committed).
    pub index: i32,
    /// The committed prefix itself (index 0..=`index`), when known.
    pub entries: Option<Vec<Entry>>,
}

/// How one node stands against a [`CommitTarget`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lag {
    /// White-box: commit/applied index below the target (Raft §5.3, §5.4.2).
    Behind {
        node: u32,
        /// The index it must reach (committed when the wait began).
        need: i32,
        commit_index: i32,
        last_applied: i32,
        term: i32,
    },
    /// Black-box: its log lacks committed entries (first missing/different index).
    Missing {
        node: u32,
        log_len: usize,
        first_bad: usize,
    },
    /// No fresh answer from a running node.
    Silent { node: u32 },
}

impl fmt::Display for Lag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lag::Behind {
                node,
                need,
                commit_index,
                last_applied,
                term,
            } => write!(
                f,
                "node {node} behind by {} entries: commit {commit_index}, applied {last_applied} (term {term})",
                need - (*commit_index).min(*last_applied)
            ),
            Lag::Missing {
                node,
                log_len,
                first_bad,
            } => write!(
                f,
                "node {node} lacks committed entries from index {first_bad} (its log has {log_len})"
            ),
            Lag::Silent { node } => write!(f, "node {node} did not answer"),
        }
    }
}

/// The highest commit index reported in `samples` (white-box nodes), −1 if none.
pub fn max_commit(samples: &[StatusSample]) -> i32 {
    samples
        .iter()
        .filter_map(|s| s.ext.as_ref().map(|x| x.commit_index))
        .max()
        .unwrap_or(-1)
}

/// The longest prefix of `logs` held (identically) by at least `majority` of
/// them: entries a majority stores (what black-box nodes can show as committed).
pub fn majority_prefix(logs: &[Vec<Entry>], majority: usize) -> Vec<Entry> {
    let Some(longest) = logs.iter().max_by_key(|l| l.len()) else {
        return Vec::new();
    };
    let mut k = 0;
    while k < longest.len() {
        let e = &longest[k];
        let holders = logs.iter().filter(|l| l.get(k) == Some(e)).count();
        if holders < majority {
            break;
        }
        k += 1;
    }
    // Entries at k' < k are held by a majority of the nodes that hold `longest[k']`;
    // by Log Matching (§5.3) those agree on every earlier entry too.
    longest[..k].to_vec()
}

/// Where one running node stands, for [`lags`].
#[derive(Debug, Clone)]
pub enum NodeState<'a> {
    /// A fresh white-box sample.
    Status(&'a StatusSample),
    /// A black-box node's log (GetLog).
    Log(u32, &'a [Entry]),
    Silent(u32),
}

/// Every running node that does not yet hold everything in `target`: white-box
/// nodes must have committed and applied up to `target.index`; black-box nodes
/// must hold the committed entries in their log. Empty = caught up.
pub fn lags(target: &CommitTarget, nodes: &[NodeState<'_>]) -> Vec<Lag> {
    let mut out = Vec::new();
    for n in nodes {
        match n {
            NodeState::Status(s) => {
                let Some(x) = &s.ext else {
                    out.push(Lag::Silent { node: s.node });
                    continue;
                };
                if x.commit_index < target.index || x.last_applied < target.index {
                    out.push(Lag::Behind {
                        node: s.node,
                        need: target.index,
                        commit_index: x.commit_index,
                        last_applied: x.last_applied,
                        term: s.term,
                    });
                }
            }
            NodeState::Log(node, log) => {
                let need = target.entries.as_deref().unwrap_or(&[]);
                let first_bad = need
                    .iter()
                    .zip(log.iter())
                    .position(|(a, b)| a != b)
                    .unwrap_or(need.len().min(log.len()));
                if first_bad < need.len() {
                    out.push(Lag::Missing {
                        node: *node,
                        log_len: log.len(),
                        first_bad,
                    });
                }
            }
            NodeState::Silent(node) => out.push(Lag::Silent { node: *node }),
        }
    }
    out
}

/// Terms in which a current leader existed, replaying recorded samples in
/// arrival order (each sample judged "now" when it arrived; a node's samples
/// stop counting `max_age_us` after its last answer).
pub fn leader_terms(
    statuses: &[StatusSample],
    cluster_size: usize,
    max_age_us: u64,
) -> BTreeSet<i32> {
    let mut sorted: Vec<&StatusSample> = statuses.iter().collect();
    sorted.sort_by_key(|s| s.t_us);
    let mut latest: std::collections::BTreeMap<u32, StatusSample> = Default::default();
    let down = BTreeSet::new();
    let mut terms = BTreeSet::new();
    for s in sorted {
        latest.insert(s.node, s.clone());
        let v: Vec<StatusSample> = latest.values().cloned().collect();
        let input = ViewInput {
            latest: &v,
            cluster_size,
            now_us: s.t_us,
            max_age_us,
            down: &down,
        };
        if let Some(l) = current_leader(&input) {
            terms.insert(l.term);
        }
    }
    terms
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::fixtures::status;

    fn st(node: u32, t: u64, state: &str, term: i32, leader: i32) -> StatusSample {
        let mut s = status(node, t, state, term, None);
        s.leader_id = leader;
        s
    }

    fn view<'a>(latest: &'a [StatusSample], down: &'a BTreeSet<u32>, n: usize) -> ViewInput<'a> {
        ViewInput {
            latest,
            cluster_size: n,
            now_us: 10_000_000,
            max_age_us: 500_000,
            down,
        }
    }

    /// No node down (most tests).
    const NONE_DOWN: &BTreeSet<u32> = &BTreeSet::new();

    const NOW: u64 = 9_900_000;

    /// Samples of nodes 1, 2, … answered at [`NOW`]: (role, term, leader_id) each.
    fn at_now(rows: &[(&str, i32, i32)]) -> Vec<StatusSample> {
        let numbered = rows.iter().zip(1..);
        numbered
            .map(|(&(role, term, leader), node)| st(node, NOW, role, term, leader))
            .collect()
    }

    #[test]
    fn a_cut_off_node_with_a_higher_term_is_not_the_leader() {
        let s = at_now(&[
            ("Leader", 3, 1),
            ("Follower", 3, 1),
            ("Follower", 3, 1),
            ("Candidate", 9, -1),
            ("Follower", 3, 1),
        ]);
        let v = view(&s, NONE_DOWN, 5);
        assert_eq!(current_leader(&v).map(|l| l.node), Some(1));
        assert_eq!(followers(&v, &s[0]), vec![2, 3, 5]);
        assert_eq!(candidates(&v), vec![4]);
    }

    #[test]
    fn a_cut_off_leader_of_an_old_term_is_not_the_leader_the_new_one_is() {
        // Node 1 led term 3 and was cut off; 2..5 elected node 2 in term 4.
        let s = at_now(&[
            ("Leader", 3, 1),
            ("Leader", 4, 2),
            ("Follower", 4, 2),
            ("Follower", 4, 2),
            ("Follower", 4, -1),
        ]);
        let v = view(&s, NONE_DOWN, 5);
        assert_eq!(current_leader(&v).map(|l| l.node), Some(2));
        assert_eq!(followers(&v, &s[1]), vec![3, 4, 5]);
    }

    #[test]
    fn two_leaders_and_no_majority_for_either_means_no_leader() {
        let s = at_now(&[
            ("Leader", 3, 1),
            ("Follower", 3, 1),
            ("Leader", 4, 3),
            ("Follower", 4, 3),
            ("Candidate", 5, -1),
        ]);
        let v = view(&s, NONE_DOWN, 5);
        assert_eq!(current_leader(&v), None);
        let why = why_no_leader(&v, &[1, 2, 3, 4, 5]);
        assert!(
            why.contains("node 1 Leader term 3 followed by 2 of 5 (needs 3)"),
            "{why}"
        );
        assert!(why.contains("node 5 Candidate term 5"), "{why}");
    }

    #[test]
    fn stale_samples_do_not_count() {
        let s = vec![
            st(1, NOW, "Leader", 3, 1),
            st(2, NOW, "Follower", 3, 1),
            st(3, 1_000_000, "Follower", 3, 1), // 9 s old
        ];
        assert_eq!(
            current_leader(&view(&s, NONE_DOWN, 3)).map(|l| l.node),
            Some(1)
        );
        assert_eq!(current_leader(&view(&s, NONE_DOWN, 4)), None);
        let why = why_no_leader(&view(&s, NONE_DOWN, 4), &[1, 2, 3, 4]);
        assert!(why.contains("node 3, 4 did not answer"), "{why}");
        // A stale leader sample: no leader even though followers name it.
        let s = vec![
            st(1, 1_000_000, "Leader", 3, 1),
            st(2, NOW, "Follower", 3, 1),
            st(3, NOW, "Follower", 3, 1),
        ];
        assert_eq!(current_leader(&view(&s, NONE_DOWN, 3)), None);
    }

    #[test]
    fn killed_or_paused_nodes_do_not_count() {
        let s = at_now(&[("Leader", 3, 1), ("Follower", 3, 1), ("Follower", 3, 1)]);
        let down: BTreeSet<u32> = [2, 3].into();
        assert_eq!(current_leader(&view(&s, &down, 3)), None);
        let down: BTreeSet<u32> = [1].into();
        assert_eq!(current_leader(&view(&s, &down, 3)), None);
        let down: BTreeSet<u32> = [3].into();
        assert_eq!(current_leader(&view(&s, &down, 3)).map(|l| l.node), Some(1));
    }

    #[test]
    fn black_box_nodes_without_a_leader_id_follow_by_term_alone() {
        let s = at_now(&[("leader", 2, -1), ("follower", 2, -1), ("follower", 2, 0)]);
        let v = view(&s, NONE_DOWN, 3);
        assert_eq!(current_leader(&v).map(|l| l.node), Some(1));
        assert_eq!(followers(&v, &s[0]), vec![2, 3]);
    }

    #[test]
    fn a_follower_naming_another_leader_or_of_another_term_does_not_follow() {
        let s = at_now(&[
            ("Leader", 2, 1),
            ("Follower", 2, 3),
            ("Follower", 1, 1),
            ("Candidate", 2, -1),
            ("Follower", 2, 1),
        ]);
        let v = view(&s, NONE_DOWN, 5);
        assert_eq!(current_leader(&v), None);
        assert_eq!(followers(&v, &s[0]), vec![5]);
    }

    fn e(i: i32, t: i32) -> Entry {
        Entry {
            index: i,
            term: t,
            command: format!("SET k {i}"),
        }
    }

    #[test]
    fn leader_terms_count_only_leaders_a_majority_followed() {
        let s = vec![
            st(1, 100, "Leader", 1, 1),
            st(2, 110, "Follower", 1, 1),
            // Node 3 cut off: it claims leadership of term 7 alone.
            st(3, 120, "Leader", 7, 3),
            st(2, 2_000_000, "Leader", 2, 2),
            st(3, 2_000_010, "Follower", 2, 2),
        ];
        let terms: Vec<i32> = leader_terms(&s, 3, 500_000).into_iter().collect();
        assert_eq!(terms, vec![1, 2]);
        // Node 1's old sample has aged out by the time node 2 leads term 2 alone.
        let terms: Vec<i32> = leader_terms(&s[..4], 3, 500_000).into_iter().collect();
        assert_eq!(terms, vec![1]);
    }

    #[test]
    fn majority_prefix_is_the_longest_prefix_a_majority_holds() {
        let a = vec![e(0, 1), e(1, 1), e(2, 2), e(3, 2)];
        let b = vec![e(0, 1), e(1, 1), e(2, 2)];
        let c = vec![e(0, 1), e(1, 1), e(2, 3)];
        let logs = vec![a.clone(), b, c, vec![]];
        assert_eq!(majority_prefix(&logs, 3), a[..2].to_vec());
        assert_eq!(majority_prefix(&logs, 2), a[..3].to_vec());
        assert_eq!(majority_prefix(&[], 2), vec![]);
    }

    #[test]
    fn lags_name_who_is_behind_by_how_much_and_who_is_silent() {
        let mut ahead = status(1, NOW, "Leader", 3, Some(12));
        ahead.ext.as_mut().unwrap().last_applied = 12;
        let mut behind = status(2, NOW, "Follower", 3, Some(10));
        behind.ext.as_mut().unwrap().last_applied = 9;
        let mut applied_late = status(4, NOW, "Follower", 3, Some(12));
        applied_late.ext.as_mut().unwrap().last_applied = 7;
        let log_ok: Vec<Entry> = (0..=12).map(|i| e(i, 3)).collect();
        let log_short: Vec<Entry> = (0..5).map(|i| e(i, 3)).collect();
        let target = CommitTarget {
            index: 11,
            entries: Some(log_ok[..12].to_vec()),
        };
        let lags = lags(
            &target,
            &[
                NodeState::Status(&ahead),
                NodeState::Status(&behind),
                NodeState::Silent(3),
                NodeState::Status(&applied_late),
                NodeState::Log(5, &log_ok),
                NodeState::Log(6, &log_short),
            ],
        );
        let text: Vec<String> = lags.iter().map(|l| l.to_string()).collect();
        assert_eq!(
            text,
            vec![
                "node 2 behind by 2 entries: commit 10, applied 9 (term 3)",
                "node 3 did not answer",
                "node 4 behind by 4 entries: commit 12, applied 7 (term 3)",
                "node 6 lacks committed entries from index 5 (its log has 5)",
            ]
        );
        // Entries beyond the target, written since the wait began, are not needed.
        let at_target = CommitTarget {
            index: 9,
            entries: Some(log_short.clone()),
        };
        assert!(super::lags(
            &at_target,
            &[NodeState::Status(&behind), NodeState::Log(6, &log_short)]
        )
        .is_empty());
        // A different entry at a committed index is missing, too.
        let mut forked = log_ok.clone();
        forked[3].term = 9;
        assert_eq!(
            super::lags(&target, &[NodeState::Log(7, &forked)]),
            vec![Lag::Missing {
                node: 7,
                log_len: 13,
                first_bad: 3
            }]
        );
    }
}

//! One test per planted bug of the core (issue 13 §3): the switch changes the behaviour the
//! rule it breaks forbids, and the default (no bug) keeps the rule. Each drives one core by hand.

use super::*;

use super::tests::{append_reply, append_sent, log_of, TIMEOUT};

/// The paper's algorithm (pre-vote and check-quorum off), appends of up to 8 entries.
fn config(id: NodeId, n: i32) -> Config {
    Config {
        max_entries_per_append: 8,
        ..super::tests::config(id, n)
    }
}

/// Node `id` of `n` with `term` and `log`, with `bug` switched on (None: a correct node).
fn node(id: NodeId, n: i32, term: i32, log: Vec<Entry>, bug: Option<Bug>) -> Core {
    let hs = HardState {
        term,
        voted_for: NONE,
    };
    let mut c = Core::new(config(id, n), hs, log, 0, TIMEOUT);
    c.set_bugs(Bugs::of(bug));
    c.take_ready();
    c
}

fn vote(term: i32, cand: NodeId, last_index: i32, last_term: i32) -> VoteRequest {
    VoteRequest {
        term,
        candidate_id: cand,
        last_log_index: last_index,
        last_log_term: last_term,
    }
}

fn append(term: i32, prev: i32, prev_term: i32, entries: Vec<Entry>, commit: i32) -> AppendRequest {
    AppendRequest {
        term,
        leader_id: 2,
        prev_log_index: prev,
        prev_log_term: prev_term,
        entries,
        leader_commit: commit,
    }
}

/// Node 1 of 3 elected in term `term + 1` (votes from 2).
fn leader(log: Vec<Entry>, term: i32, n: i32, bug: Option<Bug>) -> Core {
    let mut c = node(1, n, term, log, bug);
    c.tick(TIMEOUT);
    for peer in 2..=(n / 2 + 1) {
        let granted = VoteResponse {
            term: term + 1,
            vote_granted: true,
        };
        c.handle_vote_response(TIMEOUT, peer, &granted);
    }
    assert_eq!(c.role(), Role::Leader);
    c.take_ready();
    c
}

/// Figure 2: "votedFor is null or candidateId" — one vote per term.
#[test]
fn vote_twice_grants_a_second_candidate_the_same_term() {
    for (bug, second) in [(None, false), (Some(Bug::VoteTwice), true)] {
        let mut c = node(1, 3, 0, vec![], bug);
        assert!(c.handle_vote_request(0, &vote(1, 2, -1, 0)).vote_granted);
        let r = c.handle_vote_request(0, &vote(1, 3, -1, 0));
        assert_eq!(r.vote_granted, second, "bug {bug:?}");
    }
}

/// §5.4.1: deny the vote to a candidate whose log is less up-to-date.
#[test]
fn no_up_to_date_check_grants_a_stale_candidate() {
    for (bug, granted) in [(None, false), (Some(Bug::NoUpToDateCheck), true)] {
        let mut c = node(1, 3, 2, log_of(&[1, 2]), bug);
        let r = c.handle_vote_request(0, &vote(3, 2, 5, 1));
        assert_eq!(r.vote_granted, granted, "bug {bug:?}");
    }
}

/// §5.4.1 in pre-vote (thesis §9.6): the bug skips the check there too, or pre-vote would mask
/// it (a stale candidate would never reach RequestVote).
#[test]
fn no_up_to_date_check_grants_a_stale_candidate_its_pre_vote_too() {
    for (bug, granted) in [(None, false), (Some(Bug::NoUpToDateCheck), true)] {
        let cfg = Config {
            pre_vote: true,
            ..config(1, 3)
        };
        let hs = HardState {
            term: 2,
            voted_for: NONE,
        };
        let mut c = Core::new(cfg, hs, log_of(&[1, 2]), 0, TIMEOUT);
        c.set_bugs(Bugs::of(bug));
        let r = c.handle_prevote_request(10 * TIMEOUT, &vote(3, 2, 5, 1));
        assert_eq!(r.vote_granted, granted, "bug {bug:?}");
    }
}

/// Figure 8, §5.4.2: never commit an earlier term's entry by counting replicas.
#[test]
fn commit_old_term_commits_a_term_2_entry_by_counting() {
    for (bug, commit) in [(None, -1), (Some(Bug::CommitOldTerm), 1)] {
        let mut c = leader(log_of(&[1, 2]), 3, 5, bug);
        let (ok, through_1) = (append_reply(4, true), append_sent(4, 0, 1));
        c.handle_append_response(TIMEOUT, 2, through_1, &ok);
        c.handle_append_response(TIMEOUT, 3, through_1, &ok);
        assert_eq!(c.commit_index(), commit, "bug {bug:?}");
    }
}

/// Figure 2, AppendEntries receiver rule 2: reply false if the log has no entry at prevLogIndex
/// whose term matches prevLogTerm.
#[test]
fn no_prev_log_check_accepts_a_mismatching_prev_log_term() {
    for (bug, success) in [(None, false), (Some(Bug::NoPrevLogCheck), true)] {
        let mut c = node(1, 3, 2, log_of(&[1, 1]), bug);
        let entries = log_of(&[1, 1, 2])[2..].to_vec();
        let r = c.handle_append_request(0, &append(2, 1, 2, entries, -1));
        assert_eq!(r.success, success, "bug {bug:?}");
        assert_eq!(c.log().len(), if success { 3 } else { 2 });
    }
}

/// Figure 2, receiver rule 3: delete entries only when an existing entry conflicts.
#[test]
fn truncate_matching_loses_entries_after_a_stale_matching_append() {
    for (bug, len) in [(None, 3), (Some(Bug::TruncateMatching), 1)] {
        let mut c = node(1, 3, 1, log_of(&[1, 1, 1]), bug);
        let stale = log_of(&[1])[..1].to_vec();
        assert!(
            c.handle_append_request(0, &append(1, -1, 0, stale, -1))
                .success
        );
        assert_eq!(c.log().len(), len, "bug {bug:?}");
    }
}

/// Figure 2, Rules for Servers: on a higher term, "set currentTerm = T, convert to follower".
#[test]
fn no_step_down_keeps_leading_after_a_higher_term() {
    for (bug, role) in [
        (None, Role::Follower),
        (Some(Bug::NoStepDown), Role::Leader),
    ] {
        let mut c = leader(vec![], 0, 3, bug);
        let higher = VoteResponse {
            term: 5,
            vote_granted: false,
        };
        c.handle_vote_response(TIMEOUT, 3, &higher);
        assert_eq!(c.term(), 5);
        assert_eq!(c.role(), role, "bug {bug:?}");
    }
}

/// Figure 2, receiver rule 5: commitIndex = min(leaderCommit, index of last new entry).
#[test]
fn commit_no_min_commits_stale_entries_beyond_the_append() {
    for (bug, commit) in [(None, 0), (Some(Bug::CommitNoMin), 3)] {
        // Entries 1..3 are left over from term 1; the term-2 leader only vouches for index 0.
        let mut c = node(1, 3, 2, log_of(&[1, 1, 1, 1]), bug);
        assert!(
            c.handle_append_request(0, &append(2, 0, 1, vec![], 3))
                .success
        );
        assert_eq!(c.commit_index(), commit, "bug {bug:?}");
    }
}

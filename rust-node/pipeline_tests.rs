//! Pipelining (issue 15 §3; progress.rs): a leader keeps up to `max_inflight_appends`
//! AppendEntries in flight per follower once it has matched (replicate state), and falls back
//! to one at a time (probe) after a rejection, a timeout or a failed send. Replies may come
//! late, twice or out of order (§5.3 only needs matchIndex to be a lower bound). Each test
//! drives one leader core by hand.

use super::*;

/// Window of 3 appends, 1 entry each, so every proposal is one append.
fn config(id: NodeId) -> Config {
    Config {
        max_entries_per_append: 1,
        max_inflight_appends: 3,
        ..super::tests::config(id, 3)
    }
}

fn ok() -> AppendResponse {
    AppendResponse {
        term: 1,
        success: true,
        conflict_index: None,
        conflict_term: None,
    }
}

fn reject(conflict_index: i32) -> AppendResponse {
    AppendResponse {
        success: false,
        conflict_index: Some(conflict_index),
        ..ok()
    }
}

/// The appends to `peer` in a Ready: (prevLogIndex, entries, what the driver hands back).
fn appends_to(ready: &Ready, peer: NodeId) -> Vec<(i32, usize, AppendSent)> {
    ready
        .messages
        .iter()
        .filter_map(|(to, m)| match m {
            Message::Append(req, sent) if *to == peer => {
                Some((req.prev_log_index, req.entries.len(), *sent))
            }
            _ => None,
        })
        .collect()
}

/// The appends' (prevLogIndex, entries), without what the driver hands back.
fn shape(appends: &[(i32, usize, AppendSent)]) -> Vec<(i32, usize)> {
    appends.iter().map(|s| (s.0, s.1)).collect()
}

/// Node 1 with `cfg`, elected in term 1 at 1001 by node 2's vote (its no-op not yet taken).
fn elected(cfg: Config) -> Core {
    let mut c = Core::new(cfg, HardState::default(), vec![], 0, 1000);
    c.tick(1000);
    c.handle_vote_response(
        1001,
        2,
        &VoteResponse {
            term: 1,
            vote_granted: true,
        },
    );
    c
}

/// Node 1 leads term 1 and both peers acknowledged the no-op (index 0): replicate state.
fn leader() -> Core {
    let mut c = elected(config(1));
    let ready = c.take_ready();
    assert_eq!(c.role(), Role::Leader);
    for peer in [2, 3] {
        let [(_, 1, sent)] = appends_to(&ready, peer)[..] else {
            panic!("one no-op append to {peer}: {:?}", ready.messages);
        };
        c.handle_append_response(1002, peer, sent, &ok());
    }
    c.take_ready();
    assert_eq!(c.progress_of(2), Some((ProgressState::Replicate, 1, 0)));
    c
}

/// Proposes `n` commands at `now`; returns the appends to peer 2 they caused.
fn propose(c: &mut Core, now: u64, n: usize) -> Vec<(i32, usize, AppendSent)> {
    let mut out = Vec::new();
    for i in 0..n {
        c.propose(now, format!("SET k{i} v")).unwrap();
        out.extend(appends_to(&c.take_ready(), 2));
    }
    out
}

#[test]
fn window_fills_to_the_limit_and_stops() {
    let mut c = leader();
    let sent = propose(&mut c, 1010, 5);
    let prevs: Vec<i32> = sent.iter().map(|s| s.0).collect();
    assert_eq!(
        prevs,
        vec![0, 1, 2],
        "three appends go out without waiting, not five"
    );
    assert_eq!(c.progress_of(2), Some((ProgressState::Replicate, 4, 3)));
    // Heartbeats still go out while the window is full; the entries wait for a reply.
    c.tick(1070);
    assert_eq!(shape(&appends_to(&c.take_ready(), 2)), vec![(0, 0)]);
    // One reply frees one slot: the next entry goes out at once.
    c.handle_append_response(1080, 2, sent[0].2, &ok());
    let more = appends_to(&c.take_ready(), 2);
    assert_eq!(shape(&more), vec![(3, 1)]);
    assert_eq!(c.match_index(2), Some(1));
}

#[test]
fn max_inflight_one_sends_the_next_append_only_after_the_reply() {
    let mut c = elected(Config {
        max_inflight_appends: 1,
        ..config(1)
    });
    let noop = appends_to(&c.take_ready(), 2);
    c.handle_append_response(1002, 2, noop[0].2, &ok());
    c.take_ready();
    let sent = propose(&mut c, 1010, 3);
    assert_eq!(sent.len(), 1, "one append in flight: {sent:?}");
    c.handle_append_response(1020, 2, sent[0].2, &ok());
    assert_eq!(appends_to(&c.take_ready(), 2).len(), 1);
}

#[test]
fn out_of_order_successes_only_raise_match_index() {
    let mut c = leader();
    let sent = propose(&mut c, 1010, 3); // entries 1, 2, 3
    c.handle_append_response(1020, 2, sent[2].2, &ok());
    assert_eq!(c.match_index(2), Some(3));
    assert_eq!(
        c.commit_index(),
        3,
        "a majority (1 and 2) holds entries 1..3"
    );
    assert_eq!(c.progress_of(2), Some((ProgressState::Replicate, 4, 0)));
    c.take_ready();
    // The earlier replies arrive late: nothing moves back, nothing is sent.
    c.handle_append_response(1021, 2, sent[0].2, &ok());
    c.handle_append_response(1022, 2, sent[1].2, &ok());
    assert_eq!(c.match_index(2), Some(3));
    assert_eq!(c.progress_of(2), Some((ProgressState::Replicate, 4, 0)));
    assert!(c.take_ready().is_empty());
}

#[test]
fn duplicate_success_changes_nothing() {
    let mut c = leader();
    let sent = propose(&mut c, 1010, 2);
    c.handle_append_response(1020, 2, sent[0].2, &ok());
    c.take_ready();
    let before = c.progress_of(2);
    c.handle_append_response(1021, 2, sent[0].2, &ok());
    assert_eq!(c.progress_of(2), before);
    assert_eq!(c.match_index(2), Some(1));
    assert!(c.take_ready().is_empty());
}

#[test]
fn reject_in_replicate_falls_back_to_probe_from_the_hint() {
    let mut c = leader();
    let sent = propose(&mut c, 1010, 3); // prev 0, 1, 2
                                         // The follower got the second append first (it lacks index 1): conflict_index 1.
    c.handle_append_response(1020, 2, sent[1].2, &reject(1));
    assert_eq!(
        c.progress_of(2),
        Some((ProgressState::Probe, 1, 1)),
        "probe: one append, from nextIndex 1, in flight"
    );
    let probe = appends_to(&c.take_ready(), 2);
    assert_eq!(shape(&probe), vec![(0, 1)]);
    // The third append's rejection is stale for the probe (another nextIndex): ignored.
    c.handle_append_response(1021, 2, sent[2].2, &reject(1));
    assert!(c.take_ready().is_empty());
    // The probe succeeds: replicate again, the rest goes out pipelined.
    c.handle_append_response(1030, 2, probe[0].2, &ok());
    assert_eq!(c.match_index(2), Some(1));
    let rest = appends_to(&c.take_ready(), 2);
    assert_eq!(shape(&rest), vec![(1, 1), (2, 1)]);
    assert_eq!(c.progress_of(2), Some((ProgressState::Replicate, 4, 2)));
}

#[test]
fn stale_reject_never_moves_next_index_below_match_index() {
    let mut c = leader();
    let sent = propose(&mut c, 1010, 3);
    c.handle_append_response(1020, 2, sent[1].2, &ok()); // match 2
    c.take_ready();
    // A rejection of the first append (prev 0 < matchIndex 2; a reordered duplicate): stale.
    c.handle_append_response(1021, 2, sent[0].2, &reject(0));
    assert_eq!(c.progress_of(2), Some((ProgressState::Replicate, 4, 1)));
    assert!(c.take_ready().is_empty());
    // A rejection at matchIndex (the follower lacked index 2 when the third append came, before
    // the second): probe from matchIndex + 1, never below, whatever the hint says.
    c.handle_append_response(1022, 2, sent[2].2, &reject(0));
    assert_eq!(c.match_index(2), Some(2));
    assert_eq!(c.progress_of(2), Some((ProgressState::Probe, 3, 1)));
    let probe = appends_to(&c.take_ready(), 2);
    assert_eq!(shape(&probe), vec![(2, 1)]);
}

#[test]
fn timeout_of_the_oldest_append_resets_to_probe() {
    let mut c = leader();
    let sent = propose(&mut c, 1010, 3);
    c.tick(1209); // rpc_timeout_ms 100: presumed lost at 1010 + 200
    assert_eq!(c.progress_of(2).unwrap().0, ProgressState::Replicate);
    c.take_ready();
    c.tick(1210);
    assert_eq!(c.progress_of(2), Some((ProgressState::Probe, 1, 1)));
    let probe = appends_to(&c.take_ready(), 2);
    assert_eq!(shape(&probe), vec![(0, 1)]);
    // A late success of the original third append still counts (matchIndex 3).
    c.handle_append_response(1220, 2, sent[2].2, &ok());
    assert_eq!(c.match_index(2), Some(3));
    assert_eq!(c.progress_of(2).unwrap().0, ProgressState::Replicate);
}

#[test]
fn failed_send_in_replicate_resets_to_probe_after_a_heartbeat_interval() {
    let mut c = leader();
    let sent = propose(&mut c, 1010, 3);
    c.handle_send_failure(1015, 2, Some(sent[1].2));
    assert_eq!(c.progress_of(2), Some((ProgressState::Probe, 1, 0)));
    assert!(c.take_ready().is_empty());
    c.tick(1064); // retry no earlier than 1015 + 50 (heartbeat due at 1060: an empty one)
    let hb = appends_to(&c.take_ready(), 2);
    assert_eq!(shape(&hb), vec![(0, 0)]);
    c.tick(1065);
    let retry = appends_to(&c.take_ready(), 2);
    assert_eq!(shape(&retry), vec![(0, 1)]);
}

/// End to end with a real follower core receiving the window in reverse: every entry ends up
/// replicated and committed, the follower's log is the leader's (Log Matching, §5.3).
#[test]
fn reversed_delivery_converges() {
    let mut l = leader();
    let mut f = Core::new(
        super::tests::config(2, 3),
        HardState::default(),
        vec![],
        0,
        1000,
    );
    f.take_ready();
    let noop = AppendRequest {
        term: 1,
        leader_id: 1,
        prev_log_index: -1,
        prev_log_term: 0,
        entries: l.log()[..1].to_vec(),
        leader_commit: -1,
    };
    assert!(f.handle_append_request(1003, &noop).success);
    let mut now = 1010;
    for _ in 0..3 {
        l.propose(now, "SET x 1".into()).unwrap();
    }
    let mut queue: Vec<(AppendRequest, AppendSent)> = Vec::new();
    for _ in 0..50 {
        now += 10;
        for (to, m) in l.take_ready().messages {
            if let (2, Message::Append(req, sent)) = (to, m) {
                queue.push((req, sent));
            }
        }
        let Some((req, sent)) = queue.pop() else {
            break;
        };
        let resp = f.handle_append_request(now, &req);
        l.handle_append_response(now, 2, sent, &resp);
    }
    assert_eq!(l.match_index(2), Some(3));
    assert_eq!(f.log(), l.log());
    assert_eq!(l.commit_index(), 3);
}

//! The driver's group commit (issue 15 §3): proposals queued together are made durable with
//! one log append (one fsync) and answered once committed.

use super::*;

fn single_node(dir: &std::path::Path) -> Driver {
    let cfg = Arc::new(NodeConfig {
        id: 1,
        host: "127.0.0.1".into(),
        port: 1,
        peers: vec![],
        election_timeout_ms: (50, 60),
        heartbeat_ms: 10,
        unsafe_stale_reads: false,
        pre_vote: true,
        check_quorum: true,
        bugs: Bugs::default(),
        max_inflight_appends: 1,
    });
    let (storage, hs, log) = Storage::open(dir).expect("data dir opens");
    let journal = Journal::open(1, None).expect("no journal");
    let (leader_tx, _leader_rx) = watch::channel(NONE);
    Driver::new(
        cfg,
        Some(storage),
        journal,
        hs,
        log,
        HashMap::new(),
        leader_tx,
    )
    .expect("driver starts")
}

/// Elects the single node: its clock runs far past any election timeout.
fn elect(d: &mut Driver) {
    for step in 1..=3 {
        d.core.tick(10_000 * step);
        d.process_ready();
    }
    assert_eq!(d.core.role(), Role::Leader, "a single node elects itself");
}

#[tokio::test]
async fn proposals_queued_together_are_one_append_and_one_fsync() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = single_node(dir.path());
    elect(&mut d);
    let before = d.storage.as_ref().unwrap().stats();
    let (tx, mut rx) = mpsc::channel(64);
    let mut answers = Vec::new();
    for i in 0..20 {
        let (atx, arx) = oneshot::channel();
        tx.send(Input::Propose(format!("SET k{i} v{i}"), atx))
            .await
            .unwrap();
        answers.push(arx);
    }
    let first = rx.recv().await.unwrap();
    assert!(!d.handle_batch(first, &mut rx), "no stop was asked");
    let after = d.storage.as_ref().unwrap().stats();
    assert_eq!(
        after.appends - before.appends,
        1,
        "one append for the batch"
    );
    assert_eq!(after.entries - before.entries, 20, "all 20 entries in it");
    assert_eq!(after.fsyncs - before.fsyncs, 1, "one fsync for the batch");
    for (i, arx) in answers.into_iter().enumerate() {
        let done = arx.await.unwrap().expect("the leader accepts the proposal");
        let reply = done.await.expect("answered once committed");
        assert_eq!(reply.outcome, pb::Outcome::Applied as i32, "proposal {i}");
    }
}

#[tokio::test]
async fn a_lone_proposal_is_made_durable_and_answered_without_waiting_for_more() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = single_node(dir.path());
    elect(&mut d);
    let before = d.storage.as_ref().unwrap().stats();
    let (tx, mut rx) = mpsc::channel(4);
    let (atx, arx) = oneshot::channel();
    tx.send(Input::Propose("SET a 1".into(), atx))
        .await
        .unwrap();
    let first = rx.recv().await.unwrap();
    assert!(!d.handle_batch(first, &mut rx));
    let after = d.storage.as_ref().unwrap().stats();
    assert_eq!(
        (after.appends - before.appends, after.fsyncs - before.fsyncs),
        (1, 1)
    );
    let mut done = arx.await.unwrap().expect("accepted");
    let reply = done.try_recv().expect("answered within the same batch");
    assert_eq!(reply.outcome, pb::Outcome::Applied as i32);
}

/// GETs go through ReadIndex (thesis §6.4): a batch of them is one read request, answered from
/// the key-value store with the value committed before it, and no log entry is written.
#[tokio::test]
async fn gets_queued_together_are_one_read_index_and_write_no_entry() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = single_node(dir.path());
    elect(&mut d);
    let (tx, mut rx) = mpsc::channel(16);
    let (ptx, prx) = oneshot::channel();
    tx.send(Input::Propose("SET k v1".into(), ptx))
        .await
        .unwrap();
    let first = rx.recv().await.unwrap();
    assert!(!d.handle_batch(first, &mut rx));
    prx.await
        .unwrap()
        .expect("accepted")
        .await
        .expect("applied");
    let log_len = d.core.log().len();
    let mut answers = Vec::new();
    for key in ["k", "absent", "k"] {
        let (atx, arx) = oneshot::channel();
        tx.send(Input::Read(key.into(), atx)).await.unwrap();
        answers.push(arx);
    }
    let first = rx.recv().await.unwrap();
    assert!(!d.handle_batch(first, &mut rx));
    assert_eq!(d.next_read_ctx, 1, "one ReadIndex request for the batch");
    assert_eq!(d.core.log().len(), log_len, "a read writes no log entry");
    let mut results = Vec::new();
    for arx in answers {
        let mut done = arx.await.unwrap().expect("the leader accepts the read");
        let reply = done.try_recv().expect("a one-node leader confirms at once");
        assert_eq!(reply.outcome, pb::Outcome::Applied as i32);
        results.push(reply.result);
    }
    assert_eq!(results, [Some("v1".into()), None, Some("v1".into())]);
}

/// A GET on a node that is not the leader is refused with the leader it knows (none here),
/// like a proposal, so the server can forward it.
#[tokio::test]
async fn a_get_on_a_follower_is_refused_with_the_leader_hint() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = single_node(dir.path());
    let (tx, mut rx) = mpsc::channel(4);
    let (atx, arx) = oneshot::channel();
    tx.send(Input::Read("k".into(), atx)).await.unwrap();
    let first = rx.recv().await.unwrap();
    assert!(!d.handle_batch(first, &mut rx));
    assert_eq!(
        arx.await.unwrap().err(),
        Some(NONE),
        "refused: no leader known"
    );
}

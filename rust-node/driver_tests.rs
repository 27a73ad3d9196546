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

/// A single node with its data in `dir`, elected: its clock runs far past any election timeout.
fn elected(dir: &std::path::Path) -> Driver {
    let mut d = single_node(dir);
    for step in 1..=3 {
        d.core.tick(10_000 * step);
        d.process_ready();
    }
    assert_eq!(d.core.role(), Role::Leader, "a single node elects itself");
    d
}

/// Queues `inputs` on a fresh channel and lets the driver handle them as one batch (the first
/// received, the rest drained from the queue); asserts no stop was asked.
async fn batch(d: &mut Driver, inputs: Vec<Input>) {
    let (tx, mut rx) = mpsc::channel(inputs.len());
    for input in inputs {
        tx.send(input).await.unwrap();
    }
    let first = rx.recv().await.unwrap();
    assert!(!d.handle_batch(first, &mut rx), "no stop was asked");
}

/// Hands the driver a batch of one input, made by `input` from the sender of its answer
/// channel; returns the receiving end, where the answer arrives.
async fn send_one<T>(
    d: &mut Driver,
    input: impl FnOnce(oneshot::Sender<T>) -> Input,
) -> oneshot::Receiver<T> {
    let (tx, rx) = oneshot::channel();
    batch(d, vec![input(tx)]).await;
    rx
}

/// The driver's storage counters (appends, entries, fsyncs) so far.
fn stats(d: &Driver) -> crate::storage::SyncStats {
    d.storage.as_ref().expect("the driver has storage").stats()
}

#[tokio::test]
async fn proposals_queued_together_are_one_append_and_one_fsync() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = elected(dir.path());
    let before = stats(&d);
    let (mut inputs, mut answers) = (Vec::new(), Vec::new());
    for i in 0..20 {
        let (atx, arx) = oneshot::channel();
        inputs.push(Input::Propose(format!("SET k{i} v{i}"), atx));
        answers.push(arx);
    }
    batch(&mut d, inputs).await;
    let after = stats(&d);
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
    let mut d = elected(dir.path());
    let before = stats(&d);
    let arx = send_one(&mut d, |tx| Input::Propose("SET a 1".into(), tx)).await;
    let after = stats(&d);
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
    let mut d = elected(dir.path());
    let prx = send_one(&mut d, |tx| Input::Propose("SET k v1".into(), tx)).await;
    prx.await
        .unwrap()
        .expect("accepted")
        .await
        .expect("applied");
    let log_len = d.core.log().len();
    let (mut inputs, mut answers) = (Vec::new(), Vec::new());
    for key in ["k", "absent", "k"] {
        let (atx, arx) = oneshot::channel();
        inputs.push(Input::Read(key.into(), atx));
        answers.push(arx);
    }
    batch(&mut d, inputs).await;
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
    let arx = send_one(&mut d, |tx| Input::Read("k".into(), tx)).await;
    assert_eq!(
        arx.await.unwrap().err(),
        Some(NONE),
        "refused: no leader known"
    );
}

//! RPC-aware links (`harness/net/rpc.rs`) seen from the receiving side: a counting
//! RaftService stands behind link 1→2 and the test calls through the link as node 1.
//! What the faults did is judged by the receiver's call counter and the caller's result,
//! not by the link's own trace.
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use raft_harness::net::msgfault::{Budget, MsgAction, MsgFault, MsgMethod};
use raft_harness::net::rpc::RawCodec;
use raft_harness::net::testing::StatusServer;
use raft_harness::net::trace::{Fate, Message, TraceSink};
use raft_harness::net::{LinkFault, Network};
use raft_harness::proto::raft_service_client::RaftServiceClient;
use raft_harness::proto::*;
use tokio::sync::mpsc;
use tonic::{Request, Response, Status};

mod support;

struct Rig {
    net: Network,
    trace: mpsc::Receiver<Message>,
    /// Node 2: counts the AppendEntries it applied.
    server: StatusServer,
}

/// A counting server as node 2 and RPC-aware links between nodes 1 and 2.
async fn rig() -> Rig {
    let server = StatusServer::start(2).await.unwrap();
    let addr = server.addr;
    let unused: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let (tx, trace) = mpsc::channel(1024);
    let net = Network::start_rpc_mesh(
        &[(1, unused), (2, addr)],
        7,
        Some(TraceSink::channel(tx)),
        Instant::now(),
    )
    .await
    .unwrap();
    Rig { net, trace, server }
}

fn heartbeat(term: i32) -> AppendEntriesRequest {
    AppendEntriesRequest {
        term,
        leader_id: 1,
        entries: vec![],
        prev_log_index: -1,
        prev_log_term: 0,
        leader_commit: -1,
    }
}

/// One AppendEntries from node 1 to node 2 through the link, with a 1 s deadline.
async fn call(net: &Network, term: i32) -> Result<AppendEntriesResponse, Status> {
    let addr = net.listen_addr(1, 2).unwrap();
    let mut c = RaftServiceClient::connect(format!("http://{addr}"))
        .await
        .map_err(|e| Status::unavailable(e.to_string()))?;
    let mut req = Request::new(heartbeat(term));
    req.set_timeout(Duration::from_secs(1));
    c.append_entries(req).await.map(|r| r.into_inner())
}

fn fault(action: MsgAction, budget: Budget) -> MsgFault {
    MsgFault {
        links: [(1, 2)].into_iter().collect(),
        method: MsgMethod::AppendEntries,
        action,
        budget,
    }
}

/// Waits (bounded) until the counter reaches `n`; returns the last value seen.
async fn until(server: &StatusServer, n: u64) -> u64 {
    let end = Instant::now() + Duration::from_secs(20);
    while server.appends() < n && Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.appends()
}

#[tokio::test]
async fn a_dropped_reply_times_the_caller_out_while_the_receiver_applied_the_request() {
    let mut r = rig().await;
    assert!(call(&r.net, 1).await.is_ok(), "a healthy link passes");
    assert_eq!(r.server.appends(), 1);
    r.net
        .add_msg_fault(fault(MsgAction::DropReply, Budget::Next(1)))
        .unwrap();
    let err = call(&r.net, 2).await.expect_err("the reply was dropped");
    assert!(
        matches!(
            err.code(),
            tonic::Code::DeadlineExceeded | tonic::Code::Cancelled
        ),
        "the caller saw its own deadline, got {err:?}"
    );
    assert_eq!(r.server.appends(), 2, "the receiver applied it");
    // The budget was one call: the next passes again.
    assert!(call(&r.net, 3).await.is_ok());
    assert_eq!(r.server.appends(), 3);
    let fates: Vec<Fate> = std::iter::from_fn(|| r.trace.try_recv().ok())
        .map(|m| m.fate)
        .collect();
    assert!(fates.contains(&Fate::DroppedReply), "{fates:?}");
    r.net.shutdown().await;
    r.server.stop().await;
}

#[tokio::test]
async fn a_duplicated_append_reaches_the_receiver_twice() {
    let r = rig().await;
    r.net
        .add_msg_fault(fault(
            MsgAction::Duplicate { after_ms: 50 },
            Budget::Next(1),
        ))
        .unwrap();
    assert!(call(&r.net, 1).await.is_ok());
    assert_eq!(until(&r.server, 2).await, 2, "the copy arrived too");
    // A dropped request never reaches it.
    r.net.heal().unwrap();
    r.net
        .add_msg_fault(fault(MsgAction::DropRequest, Budget::Rate(1.0)))
        .unwrap();
    assert!(call(&r.net, 2).await.is_err());
    assert_eq!(r.server.appends(), 2);
    r.net.shutdown().await;
    r.server.stop().await;
}

#[tokio::test]
async fn net_faults_act_per_call_on_rpc_links() {
    let r = rig().await;
    r.net.set_link(1, 2, LinkFault::BLACKHOLE).unwrap();
    let err = call(&r.net, 1).await.expect_err("blackholed");
    assert_ne!(err.code(), tonic::Code::Ok);
    assert_eq!(r.server.appends(), 0, "nothing delivered");
    r.net.set_link(1, 2, LinkFault::REJECT).unwrap();
    let err = call(&r.net, 2).await.expect_err("rejected");
    assert_eq!(err.code(), tonic::Code::Unavailable, "{err:?}");
    assert_eq!(r.server.appends(), 0);
    r.net.heal().unwrap();
    assert!(call(&r.net, 3).await.is_ok(), "healed");
    assert_eq!(r.server.appends(), 1);
    // Message faults need RPC-aware links: the TCP proxies refuse them.
    let tcp = Network::start_mesh(
        &[
            (1, "127.0.0.1:9".parse().unwrap()),
            (2, "127.0.0.1:10".parse().unwrap()),
        ],
        1,
    )
    .await
    .unwrap();
    assert!(tcp
        .add_msg_fault(fault(MsgAction::DropReply, Budget::Next(1)))
        .is_err());
    tcp.shutdown().await;
    r.net.shutdown().await;
    r.server.stop().await;
}

/// Answers every call with the exact bytes it received.
#[derive(Clone)]
struct Echo;

impl tonic::server::NamedService for Echo {
    const NAME: &'static str = "raft.RaftService";
}

impl tonic::codegen::Service<tonic::codegen::http::Request<tonic::body::Body>> for Echo {
    type Response = tonic::codegen::http::Response<tonic::body::Body>;
    type Error = std::convert::Infallible;
    type Future = tonic::codegen::BoxFuture<Self::Response, Self::Error>;
    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn call(&mut self, req: tonic::codegen::http::Request<tonic::body::Body>) -> Self::Future {
        Box::pin(async move {
            let mut grpc = tonic::server::Grpc::new(RawCodec);
            Ok(grpc.unary(EchoCall, req).await)
        })
    }
}

struct EchoCall;

impl tonic::server::UnaryService<bytes::Bytes> for EchoCall {
    type Response = bytes::Bytes;
    type Future = tonic::codegen::BoxFuture<Response<bytes::Bytes>, Status>;
    fn call(&mut self, r: Request<bytes::Bytes>) -> Self::Future {
        Box::pin(async move { Ok(Response::new(r.into_inner())) })
    }
}

#[tokio::test]
async fn unknown_fields_pass_through_the_link_byte_for_byte() {
    use prost::Message as _;
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let incoming = tonic::transport::server::TcpIncoming::from(listener);
        let _ = tonic::transport::Server::builder()
            .add_service(Echo)
            .serve_with_incoming(incoming)
            .await;
    });
    let (tx, mut trace) = mpsc::channel(16);
    let net = Network::start_rpc_mesh(
        &[(1, "127.0.0.1:9".parse().unwrap()), (2, addr)],
        1,
        Some(TraceSink::channel(tx)),
        Instant::now(),
    )
    .await
    .unwrap();
    // A heartbeat of term 5 plus field 99 (varint 7), which no RaftService message has.
    let mut sent = heartbeat(5).encode_to_vec();
    sent.extend_from_slice(&[0x98, 0x06, 0x07]);
    let link = net.listen_addr(1, 2).unwrap();
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{link}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let path = "/raft.RaftService/AppendEntries".parse().unwrap();
    let got = grpc
        .unary(
            Request::new(bytes::Bytes::from(sent.clone())),
            path,
            RawCodec,
        )
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        got.as_ref(),
        sent.as_slice(),
        "request and reply bytes unchanged"
    );
    // The decoded copy still saw the known fields.
    let m = trace.recv().await.unwrap();
    assert!(
        matches!(
            m.req,
            Some(raft_harness::net::trace::Request::Append { term: 5, .. })
        ),
        "{m:?}"
    );
    net.shutdown().await;
    server.abort();
}

/// Real rust-nodes (journal on) behind RPC-aware links: from the leader's election on, every
/// AppendEntries from the leader to one follower gets `fault` (`drop-reply` or
/// `drop-request`) for 4 s of writes, then `heal`. Returns the run's evidence and trace.
fn run_receiver_suite(
    dir: &std::path::Path,
    base_port: u16,
    fault: &str,
) -> (serde_json::Value, Vec<Message>) {
    use support::suite::{nodes, register, steps, write_suite};
    support::kinds::write_kinds(dir, &[]);
    let text = format!(
        "include = [\"kinds.toml\"]\n[cluster]\nbase_port = {base_port}\n\
         election_timeout_ms = [400, 800]\nheartbeat_ms = 50\nnetwork = \"rpc\"\n{}{}{}",
        nodes(3, "rust", ""),
        register(2, 40),
        steps(&[
            r#"wait = "leader"; timeout_s = 30"#,
            r#"workload = "start""#,
            "sleep_s = 1",
            &format!(
                r#"msg = "{fault}"; method = "append-entries"; from = "leader"; to = "follower""#
            ),
            "sleep_s = 4",
            "heal = true",
            r#"workload = "stop""#,
        ])
    );
    let spec = write_suite(dir, "receiver", &text);
    let (code, stderr) = support::suite::run_seeded(dir, &spec, 12, Duration::from_secs(240));
    assert_eq!(code, Some(0), "the run failed: {stderr}");
    let run = dir.join("reports/latest");
    let trace = std::fs::read_to_string(run.join("messages.jsonl")).unwrap();
    let msgs = trace
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (support::suite::json(&run.join("evidence.json")), msgs)
}

/// The fault's window (µs, run clock: the `net-msg` fault to the scripted heal) and its one
/// link (leader, follower), from the run's fault records.
fn fault_window(ev: &serde_json::Value) -> (u64, u64, (u32, u32)) {
    let faults = ev["faults"].as_array().unwrap();
    let msg = faults.iter().find(|f| f["action"] == "net-msg").unwrap();
    let heal = faults
        .iter()
        .find(|f| f["action"] == "heal" && f["at"] != "")
        .unwrap();
    let detail = msg["detail"].as_str().unwrap();
    let link = detail
        .split_whitespace()
        .find_map(|w| {
            let (a, b) = w.split_once('→')?;
            Some((a.parse().ok()?, b.parse().ok()?))
        })
        .unwrap_or_else(|| panic!("no link in {detail:?}"));
    (
        msg["t_us"].as_u64().unwrap(),
        heal["t_us"].as_u64().unwrap(),
        link,
    )
}

/// Receiver-side proof (issue 12, "Done when"): the follower's OWN journal shows commitIndex
/// advancing and entries applied while every AppendEntries the leader sent it had its reply
/// dropped (the leader's calls timed out). Err says what is missing.
fn receiver_applied_while_caller_timed_out(
    ev: &serde_json::Value,
    msgs: &[Message],
) -> Result<String, String> {
    let (from_us, to_us, (leader, follower)) = fault_window(ev);
    let in_window = |t: u64| t > from_us && t < to_us;
    let calls: Vec<&Message> = msgs
        .iter()
        .filter(|m| (m.from, m.to) == (leader, follower) && in_window(m.sent_us))
        .filter(|m| m.method == raft_harness::net::trace::Method::AppendEntries)
        .collect();
    let timed_out = calls
        .iter()
        .filter(|m| m.fate == Fate::DroppedReply)
        .count();
    if timed_out == 0 || timed_out < calls.len() {
        return Err(format!(
            "{timed_out} of {} AppendEntries {leader}→{follower} in the window had their reply dropped",
            calls.len()
        ));
    }
    let journal = ev["journals"][follower.to_string()].as_array().unwrap();
    let at_start = journal
        .iter()
        .filter(|e| e["event"] == "commit" && e["t_us"].as_u64().unwrap() <= from_us)
        .filter_map(|e| e["index"].as_i64())
        .max()
        .unwrap_or(-1);
    let seen = |kind: &str| -> Vec<i64> {
        journal
            .iter()
            .filter(|e| e["event"] == kind && in_window(e["t_us"].as_u64().unwrap()))
            .filter_map(|e| e["index"].as_i64())
            .filter(|&i| i > at_start)
            .collect()
    };
    let (commits, applied) = (seen("commit"), seen("apply"));
    if commits.is_empty() || applied.is_empty() {
        return Err(format!(
            "node {follower}'s journal shows no commit or apply past index {at_start} while \
             {timed_out} appends to it timed out ({} commits, {} applies)",
            commits.len(),
            applied.len()
        ));
    }
    Ok(format!(
        "{timed_out} appends {leader}→{follower} timed out; node {follower} committed up to {} \
         and applied {} entries past {at_start}",
        commits.iter().max().unwrap(),
        applied.len()
    ))
}

/// A dropped reply: the leader's calls time out, yet the follower's journal shows the entries
/// committed and applied (the requests were applied). The control run drops the requests
/// instead: the same check must then find nothing applied by that follower.
#[test]
fn a_dropped_reply_is_applied_by_the_receiving_node_seen_in_its_journal() {
    let dir = tempfile::tempdir().unwrap();
    let (ev, msgs) = run_receiver_suite(dir.path(), 35810, "drop-reply");
    let seen = receiver_applied_while_caller_timed_out(&ev, &msgs);
    assert!(seen.is_ok(), "{seen:?}");
    eprintln!("drop-reply: {}", seen.unwrap());

    let control = tempfile::tempdir().unwrap();
    let (ev, msgs) = run_receiver_suite(control.path(), 35820, "drop-request");
    let e = receiver_applied_while_caller_timed_out(&ev, &msgs).unwrap_err();
    assert!(e.contains("had their reply dropped"), "{e}");
    let (from_us, to_us, (_, follower)) = fault_window(&ev);
    let applied = ev["journals"][follower.to_string()]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "apply")
        .filter(|e| (from_us + 1_000_000..to_us).contains(&e["t_us"].as_u64().unwrap()))
        .count();
    assert_eq!(
        applied, 0,
        "requests dropped, yet node {follower} applied entries"
    );
}

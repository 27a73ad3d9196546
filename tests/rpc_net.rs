//! RPC-aware links (`harness/net/rpc.rs`) seen from the receiving side: a counting
//! RaftService stands behind link 1→2 and the test calls through the link as node 1.
//! What the faults did is judged by the receiver's call counter and the caller's result,
//! not by the link's own trace.
use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use raft_harness::net::msgfault::{Budget, MsgAction, MsgFault, MsgMethod};
use raft_harness::net::rpc::RawCodec;
use raft_harness::net::testing::StatusServer;
use raft_harness::net::trace::{Fate, Message, Reply, TraceSink};
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

/// The shipped suite whose labelled `msg` step names the nodes later steps act on.
const LAGGING_SUITE: &str = "msg-lagging-follower";

/// The `at` (`FILE:LINE`, the line of its `[[step]]` header) of every step of the suite
/// `text` (file name `file`) that has `target = "@LABEL"`, in file order.
fn steps_targeting(file: &str, text: &str, label: &str) -> Vec<String> {
    let want = format!("target = \"@{label}\"");
    let mut header = None;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line == "[[step]]" {
            header = Some(i + 1);
        } else if line.starts_with('[') {
            header = None;
        } else if line == want {
            out.extend(header.map(|n| format!("{file}:{n}")));
        }
    }
    out
}

/// The nodes a run's labelled `msg` step acted on, from the wire: its rule number is read off
/// the `net-msg` fault record (`rule N @LABEL: …`), its receivers and callers off the calls of
/// `messages.jsonl` that rule acted on. (receivers, callers); Err when either is missing.
fn rule_links(
    report: &serde_json::Value,
    msgs: &[Message],
    label: &str,
) -> Result<(BTreeSet<u32>, BTreeSet<u32>), String> {
    let faults = report["faults"]
        .as_array()
        .ok_or("report.json has no faults")?;
    let tag = format!(" @{label}:");
    let detail = faults
        .iter()
        .filter(|f| f["action"] == "net-msg")
        .filter_map(|f| f["detail"].as_str())
        .find(|d| d.contains(&tag))
        .ok_or(format!("no net-msg fault labelled @{label}"))?;
    let rule: u32 = detail
        .strip_prefix("rule ")
        .and_then(|d| d.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .ok_or(format!("no rule number in {detail:?}"))?;
    let acted: Vec<&Message> = msgs.iter().filter(|m| m.rule == Some(rule)).collect();
    if !acted.iter().any(|m| m.fate == Fate::DroppedRequest) {
        return Err(format!("rule {rule} (@{label}) dropped no call"));
    }
    Ok((
        acted.iter().map(|m| m.to).collect(),
        acted.iter().map(|m| m.from).collect(),
    ))
}

/// Every step of the suite that targets `@LABEL` (their `at` in `ats`) was recorded in
/// report.json as a fault on exactly the nodes the labelled rule dropped calls to, and those
/// are followers (not its callers). Ok: what was seen; Err: what differs.
fn later_steps_hit_the_labelled_nodes(
    report: &serde_json::Value,
    msgs: &[Message],
    label: &str,
    ats: &[String],
) -> Result<String, String> {
    let (receivers, callers) = rule_links(report, msgs, label)?;
    if receivers.is_empty() || receivers.iter().any(|n| callers.contains(n)) {
        return Err(format!(
            "@{label}: receivers {receivers:?}, callers {callers:?}"
        ));
    }
    let faults = report["faults"]
        .as_array()
        .ok_or("report.json has no faults")?;
    let mut seen = Vec::new();
    for at in ats {
        let f = faults
            .iter()
            .find(|f| f["at"] == at.as_str())
            .ok_or(format!("no fault recorded for the step at {at}"))?;
        let nodes: BTreeSet<u32> = f["nodes"]
            .as_array()
            .ok_or(format!("{at}: no nodes"))?
            .iter()
            .filter_map(|n| n.as_u64().and_then(|n| u32::try_from(n).ok()))
            .collect();
        if nodes != receivers {
            return Err(format!(
                "{at} ({}) hit {nodes:?}, @{label} named {receivers:?}",
                f["action"]
            ));
        }
        seen.push(f["action"].as_str().unwrap_or("?").to_string());
    }
    Ok(format!(
        "rule @{label} dropped appends {callers:?}→{receivers:?}; {} hit {receivers:?}",
        seen.join(", ")
    ))
}

/// The node of the last `wait = "leader"` met in the run (`detail` "(node N term T)").
fn last_leader(report: &serde_json::Value) -> Option<u32> {
    let w = report["waits"]
        .as_array()?
        .iter()
        .rfind(|w| w["condition"] == "leader" && w["met_after_ms"].is_u64())?;
    w["detail"]
        .as_str()?
        .strip_prefix("(node ")?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// `suites/msg-lagging-follower.toml` as shipped, on ports 38950+ and with its `python` and
/// `java` kinds run by this build's rust-node (a fresh clone needs no venv or JVM for it):
/// report.json and the calls of messages.jsonl.
fn run_lagging_suite(dir: &std::path::Path) -> (String, serde_json::Value, Vec<Message>) {
    use support::kinds::{rust_kind, write_kinds};
    write_kinds(dir, &[rust_kind("python", ""), rust_kind("java", "")]);
    let shipped = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/suites/msg-lagging-follower.toml"
    );
    let text = std::fs::read_to_string(shipped).unwrap();
    assert!(
        text.contains("base_port = 15480\n"),
        "the suite moved its ports"
    );
    let text = text.replace("base_port = 15480\n", "base_port = 38950\n");
    let spec = support::suite::write_suite(dir, LAGGING_SUITE, &text);
    let (code, stderr) = support::suite::run_seeded(dir, &spec, 7, Duration::from_secs(300));
    assert_eq!(code, Some(0), "the run failed: {stderr}");
    let run = dir.join("reports/latest");
    let msgs = std::fs::read_to_string(run.join("messages.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (text, support::suite::json(&run.join("report.json")), msgs)
}

/// Issue 12 end to end: in the shipped suite, the steps that target `@lagging` (isolate, kill,
/// restart) hit exactly the follower whose AppendEntries the labelled `msg` step dropped, and
/// the leader elected once the old one died is not that laggard, which asked first and was
/// refused (Raft §5.4.1).
#[test]
fn the_shipped_lagging_suite_acts_on_exactly_the_labelled_follower() {
    let dir = tempfile::tempdir().unwrap();
    let (text, report, msgs) = run_lagging_suite(dir.path());
    let ats = steps_targeting(&format!("{LAGGING_SUITE}.toml"), &text, "lagging");
    assert_eq!(ats.len(), 3, "isolate, kill, restart: {ats:?}");
    let seen = later_steps_hit_the_labelled_nodes(&report, &msgs, "lagging", &ats);
    assert!(seen.is_ok(), "{seen:?}");
    eprintln!("{}", seen.unwrap());
    let (laggards, _) = rule_links(&report, &msgs, "lagging").unwrap();
    let leader = last_leader(&report).expect("a leader after the heal");
    assert!(
        !laggards.contains(&leader),
        "the laggard {leader} was elected"
    );
    // It campaigned after the heal and was refused (Raft §5.4.1).
    let heal = report["faults"].as_array().unwrap().iter();
    let heal = heal.clone().find(|f| f["action"] == "heal").unwrap()["t_us"]
        .as_u64()
        .unwrap();
    let refused = msgs
        .iter()
        .filter(|m| laggards.contains(&m.from) && m.sent_us > heal)
        .filter(|m| m.method == raft_harness::net::trace::Method::PreVote)
        .filter(|m| matches!(m.reply, Some(Reply::Vote { granted: false, .. })))
        .count();
    assert!(
        refused > 0,
        "the laggard {laggards:?} was never refused a pre-vote"
    );
    // It did lag: when it was cut off, its own journal's commitIndex was behind another node's.
    let ev = support::suite::json(&dir.path().join("reports/latest/evidence.json"));
    let cut = report["faults"].as_array().unwrap().iter();
    let cut = cut.clone().find(|f| f["action"] == "net-isolate").unwrap()["t_us"]
        .as_u64()
        .unwrap();
    let lag = *laggards.first().unwrap();
    let ahead = (1..=3)
        .filter(|&n| n != lag)
        .map(|n| commit_at(&ev, n, cut))
        .max();
    assert!(
        commit_at(&ev, lag, cut) < ahead.unwrap(),
        "node {lag} committed {} by the cut, the others {ahead:?}",
        commit_at(&ev, lag, cut)
    );
}

/// The highest commitIndex node `node`'s journal (evidence.json) recorded by `t_us`; -1: none.
fn commit_at(ev: &serde_json::Value, node: u32, t_us: u64) -> i64 {
    ev["journals"][node.to_string()]
        .as_array()
        .unwrap_or_else(|| panic!("no journal of node {node}"))
        .iter()
        .filter(|e| e["event"] == "commit" && e["t_us"].as_u64().is_some_and(|t| t <= t_us))
        .filter_map(|e| e["index"].as_i64())
        .max()
        .unwrap_or(-1)
}

/// The label check rejects a run whose later step hit another node, or a label whose rule
/// dropped nothing (synthetic report and calls; no cluster).
#[test]
fn the_label_check_rejects_a_step_that_hit_other_nodes() {
    let call = |to: u32, fate: Fate| Message {
        id: 0,
        from: 1,
        to,
        method: raft_harness::net::trace::Method::AppendEntries,
        path: None,
        req: None,
        reply: None,
        error: None,
        sent_us: 1,
        delivered_us: None,
        replied_us: None,
        fate,
        delay_ms: 0,
        rule: Some(0),
    };
    let report = |kill: &[u32]| {
        serde_json::json!({"faults": [
            {"action": "net-msg", "nodes": [1, 3], "at": "s.toml:5",
             "detail": "rule 0 @lagging: drop-request of append-with-entries on 1→3 (rate 1)"},
            {"action": "kill", "nodes": kill, "at": "s.toml:9", "detail": ""},
        ]})
    };
    let ats = vec!["s.toml:9".to_string()];
    let msgs = vec![call(3, Fate::DroppedRequest)];
    let ok = later_steps_hit_the_labelled_nodes(&report(&[3]), &msgs, "lagging", &ats);
    assert!(ok.is_ok(), "{ok:?}");
    for kill in [&[2][..], &[2, 3], &[]] {
        let e = later_steps_hit_the_labelled_nodes(&report(kill), &msgs, "lagging", &ats);
        assert!(e.unwrap_err().contains("@lagging named {3}"), "{kill:?}");
    }
    let none = vec![call(3, Fate::Pass)];
    let e = later_steps_hit_the_labelled_nodes(&report(&[3]), &none, "lagging", &ats);
    assert!(e.unwrap_err().contains("dropped no call"));
    let e = later_steps_hit_the_labelled_nodes(&report(&[3]), &msgs, "other", &ats);
    assert!(e.unwrap_err().contains("no net-msg fault labelled @other"));
    let missing = vec!["s.toml:12".to_string()];
    let e = later_steps_hit_the_labelled_nodes(&report(&[3]), &msgs, "lagging", &missing);
    assert!(e.unwrap_err().contains("no fault recorded"));
    let text = "[[step]]\nfault = \"kill\"\ntarget = \"@lagging\"\n[[step]]\nheal = true\n\
                [[step]]\nnet = \"isolate\"\ntarget = \"@other\"\n";
    assert_eq!(steps_targeting("s.toml", text, "lagging"), vec!["s.toml:1"]);
}

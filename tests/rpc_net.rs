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

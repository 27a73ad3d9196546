//! The link proxies of `raft_harness::net`: bytes, faults, heal and shutdown, on raw TCP
//! streams and on a real gRPC channel. Everything runs in-process on 127.0.0.1 ephemeral
//! ports; no process is started.
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use raft_harness::net::testing::StatusServer;
use raft_harness::net::{LinkFault, LinkMode, NetError, Network};
use raft_harness::proto::raft_service_client::RaftServiceClient;
use raft_harness::proto::GetStatusRequest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tonic::transport::{Channel, Endpoint};
use tonic::Code;

/// How long a read must stay silent to count as "nothing arrived".
const SILENCE: Duration = Duration::from_millis(300);
/// An upper bound for things that should happen at once; only guards against hanging.
const PROMPTLY: Duration = Duration::from_secs(3);

/// An echo server that counts the bytes it received.
struct Echo {
    addr: SocketAddr,
    received: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl Echo {
    async fn start() -> Echo {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(AtomicU64::new(0));
        let counter = received.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let counter = counter.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 16 * 1024];
                    loop {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => {
                                counter.fetch_add(n as u64, Ordering::SeqCst);
                                if stream.write_all(&buf[..n]).await.is_err() {
                                    return;
                                }
                            }
                        }
                    }
                });
            }
        });
        Echo {
            addr,
            received,
            task,
        }
    }

    fn received(&self) -> u64 {
        self.received.load(Ordering::SeqCst)
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One link 1->2 in front of an echo server.
async fn one_link() -> (Echo, Network) {
    let echo = Echo::start().await;
    let net = Network::start(&[(1, 2, echo.addr)], 42).await.unwrap();
    (echo, net)
}

/// [`one_link`] and a connection over it that echoed `msg`.
async fn warm_link(msg: &[u8]) -> (Echo, Network, TcpStream) {
    let (echo, net) = one_link().await;
    let stream = echoing(&net, 1, 2, msg).await;
    (echo, net, stream)
}

/// Echo servers as nodes 1 and 2 behind links both ways (`seed` for the links' randomness).
async fn two_node_mesh(seed: u64) -> (Echo, Echo, Network) {
    let (node1, node2) = (Echo::start().await, Echo::start().await);
    let net = Network::start_mesh(&[(1, node1.addr), (2, node2.addr)], seed)
        .await
        .unwrap();
    (node1, node2, net)
}

async fn connect(net: &Network, from: u32, to: u32) -> TcpStream {
    let stream = TcpStream::connect(net.listen_addr(from, to).unwrap())
        .await
        .unwrap();
    stream.set_nodelay(true).unwrap();
    stream
}

/// Sends `msg` and reads the same number of bytes back.
async fn round_trip(stream: &mut TcpStream, msg: &[u8]) -> std::io::Result<Vec<u8>> {
    stream.write_all(msg).await?;
    let mut back = vec![0u8; msg.len()];
    tokio::time::timeout(PROMPTLY, stream.read_exact(&mut back))
        .await
        .map_err(|_| std::io::Error::new(ErrorKind::TimedOut, "round trip timed out"))??;
    Ok(back)
}

/// Asserts `msg` comes back unchanged over `stream`.
async fn assert_echo(stream: &mut TcpStream, msg: &[u8]) {
    assert_eq!(round_trip(stream, msg).await.unwrap(), msg);
}

/// A new connection over link `from`->`to` that echoes `msg`: the link passes bytes.
async fn echoing(net: &Network, from: u32, to: u32, msg: &[u8]) -> TcpStream {
    let mut stream = connect(net, from, to).await;
    assert_echo(&mut stream, msg).await;
    stream
}

/// True when nothing at all (no byte, no EOF, no error) arrives within [`SILENCE`].
async fn silent(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 64];
    tokio::time::timeout(SILENCE, stream.read(&mut buf))
        .await
        .is_err()
}

/// What a read sees next, waiting at most [`PROMPTLY`].
async fn next_read(stream: &mut TcpStream) -> Result<usize, ErrorKind> {
    let mut buf = [0u8; 64];
    match tokio::time::timeout(PROMPTLY, stream.read(&mut buf)).await {
        Err(_) => Err(ErrorKind::TimedOut),
        Ok(Ok(n)) => Ok(n),
        Ok(Err(e)) => Err(e.kind()),
    }
}

/// Asserts the proxy closed `stream`: the next read sees EOF or a reset.
async fn assert_closed(stream: &mut TcpStream) {
    assert!(matches!(
        next_read(stream).await,
        Ok(0) | Err(ErrorKind::ConnectionReset)
    ));
}

/// Asserts the next read of `stream` sees a reset.
async fn assert_reset(stream: &mut TcpStream) {
    assert_eq!(next_read(stream).await, Err(ErrorKind::ConnectionReset));
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < PROMPTLY, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn bytes_flow_both_ways() {
    let (echo, net) = one_link().await;
    let mut stream = connect(&net, 1, 2).await;
    let data: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    let (mut read, mut write) = stream.split();
    let sent = data.clone();
    let writer = async move {
        write.write_all(&sent).await.unwrap();
    };
    let mut back = vec![0u8; data.len()];
    let reader = read.read_exact(&mut back);
    let (_, read_result) = tokio::join!(writer, reader);
    read_result.unwrap();
    assert!(back == data, "echoed bytes differ");
    assert_eq!(echo.received(), data.len() as u64);
    let status = &net.status()[0];
    assert_eq!(status.bytes_forward, data.len() as u64);
    assert_eq!(status.bytes_backward, data.len() as u64);
    assert_eq!(status.accepted, 1);
    assert_eq!(status.live_connections, 1);
    net.shutdown().await;
}

#[tokio::test]
async fn blackhole_holds_both_directions_and_heal_lets_new_connections_work() {
    let (echo, net, mut old) = warm_link(b"hello").await;

    net.set_link(1, 2, LinkFault::BLACKHOLE).unwrap();
    let before = echo.received();
    old.write_all(b"lost?").await.unwrap();
    assert!(silent(&mut old).await, "a blackholed connection answered");
    let mut new = connect(&net, 1, 2).await;
    new.write_all(b"anyone?").await.unwrap();
    assert!(
        silent(&mut new).await,
        "a new blackholed connection answered"
    );
    assert_eq!(echo.received(), before, "bytes crossed the blackhole");

    net.heal().unwrap();
    // Held connections are closed at heal, so clients reconnect instead of waiting.
    assert_closed(&mut old).await;
    assert_closed(&mut new).await;
    assert_eq!(
        echo.received(),
        before,
        "held bytes were delivered after heal"
    );
    echoing(&net, 1, 2, b"again").await;
    net.shutdown().await;
}

#[tokio::test]
async fn reject_resets_existing_and_new_connections() {
    let (_echo, net, mut old) = warm_link(b"hi").await;

    net.set_link(1, 2, LinkFault::REJECT).unwrap();
    assert_reset(&mut old).await;
    let mut new = connect(&net, 1, 2).await;
    assert_reset(&mut new).await;
    wait_until("both resets are counted", || net.status()[0].resets == 2).await;

    net.heal().unwrap();
    echoing(&net, 1, 2, b"back").await;
    net.shutdown().await;
}

#[tokio::test]
async fn one_way_cut_leaves_the_other_direction_working() {
    let (node1, node2, net) = two_node_mesh(7).await;
    assert_eq!(net.links(), vec![(1, 2), (2, 1)]);
    assert_eq!(net.peers_of(1), vec![(2, net.listen_addr(1, 2).unwrap())]);

    net.set_link(1, 2, LinkFault::BLACKHOLE).unwrap();
    echoing(&net, 2, 1, b"2->1").await;
    let mut one_to_two = connect(&net, 1, 2).await;
    one_to_two.write_all(b"1->2").await.unwrap();
    assert!(silent(&mut one_to_two).await);
    assert_eq!(node2.received(), 0);
    assert_eq!(node1.received(), 4);
    net.shutdown().await;
}

#[tokio::test]
async fn delay_applies_to_each_direction_and_keeps_order() {
    let (_echo, net, mut stream) = warm_link(b"warm").await;

    net.set_link(1, 2, LinkFault::delay(100, 0)).unwrap();
    let start = Instant::now();
    assert_echo(&mut stream, b"slow").await;
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(200),
        "round trip took {elapsed:?}"
    );

    // With jitter close to the delay, chunks would reorder if the proxy let them.
    net.set_link(1, 2, LinkFault::delay(20, 18)).unwrap();
    let (mut read, mut write) = stream.split();
    let writer = async move {
        for i in 0..100u32 {
            write.write_all(&i.to_be_bytes()).await.unwrap();
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    let mut back = vec![0u8; 400];
    let (_, read_result) = tokio::join!(writer, read.read_exact(&mut back));
    read_result.unwrap();
    let seq: Vec<u32> = back
        .chunks(4)
        .map(|c| u32::from_be_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(seq, (0..100).collect::<Vec<_>>());
    net.shutdown().await;
}

#[tokio::test]
async fn blackhole_holds_bytes_already_waiting_out_a_delay() {
    let (echo, net, mut stream) = warm_link(b"warm").await;
    net.set_link(1, 2, LinkFault::delay(200, 0)).unwrap();
    stream.write_all(b"queued").await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    net.set_link(1, 2, LinkFault::BLACKHOLE).unwrap();
    assert!(silent(&mut stream).await);
    assert_eq!(echo.received(), 4, "a queued chunk crossed the blackhole");
    net.shutdown().await;
}

#[tokio::test]
async fn certain_loss_resets_new_and_live_connections() {
    let (_echo, net, mut live) = warm_link(b"ok").await;

    net.set_link(1, 2, LinkFault::loss(1.0)).unwrap();
    let mut new = connect(&net, 1, 2).await;
    assert_reset(&mut new).await;
    // A live connection is reset at its next loss period (one second).
    assert_reset(&mut live).await;

    net.set_link(1, 2, LinkFault::loss(0.0)).unwrap();
    echoing(&net, 1, 2, b"fine").await;
    net.shutdown().await;
}

#[tokio::test]
async fn a_dead_target_looks_dead_through_the_proxy() {
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap()
    };
    let net = Network::start(&[(1, 2, closed)], 1).await.unwrap();
    let mut stream = connect(&net, 1, 2).await;
    assert_reset(&mut stream).await;
    net.shutdown().await;
}

#[tokio::test]
async fn changes_are_recorded_and_heal_restores_every_link() {
    let (_node1, _node2, net) = two_node_mesh(3).await;
    let slow = LinkFault {
        mode: LinkMode::Pass,
        delay_ms: 50,
        jitter_ms: 10,
        loss_rate: 0.25,
    };
    net.set_link(1, 2, LinkFault::BLACKHOLE).unwrap();
    net.set_link(1, 2, LinkFault::BLACKHOLE).unwrap(); // no change, not recorded
    net.set_link(2, 1, slow).unwrap();
    assert_eq!(net.link_fault(1, 2).unwrap(), LinkFault::BLACKHOLE);
    assert_eq!(net.link_fault(2, 1).unwrap(), slow);
    assert_eq!(slow.to_string(), "pass delay=50±10ms loss=0.25");

    net.heal().unwrap();
    for status in net.status() {
        assert!(status.fault.is_healthy(), "{status:?}");
    }
    let changes: Vec<_> = net
        .events()
        .into_iter()
        .map(|e| (e.link, e.old, e.new))
        .collect();
    assert_eq!(
        changes,
        vec![
            ((1, 2), LinkFault::PASS, LinkFault::BLACKHOLE),
            ((2, 1), LinkFault::PASS, slow),
            ((1, 2), LinkFault::BLACKHOLE, LinkFault::PASS),
            ((2, 1), slow, LinkFault::PASS),
        ]
    );
    let events = net.events();
    assert!(events.windows(2).all(|w| w[0].at <= w[1].at));
    echoing(&net, 2, 1, b"healed").await;
    net.shutdown().await;
}

#[tokio::test]
async fn bad_requests_are_errors() {
    let (echo, net) = one_link().await;
    assert!(matches!(
        net.set_link(2, 1, LinkFault::BLACKHOLE),
        Err(NetError::UnknownLink(2, 1))
    ));
    assert!(matches!(
        net.set_link(1, 2, LinkFault::loss(1.5)),
        Err(NetError::InvalidLossRate(_))
    ));
    // A batch with one unknown link changes nothing.
    assert!(net.set_links([(1, 2), (3, 1)], LinkFault::REJECT).is_err());
    assert_eq!(net.link_fault(1, 2).unwrap(), LinkFault::PASS);
    assert!(net.events().is_empty());
    let duplicate = Network::start(&[(1, 2, echo.addr), (1, 2, echo.addr)], 0).await;
    assert_eq!(
        duplicate.unwrap_err().to_string(),
        "link 1->2 is listed twice"
    );
    let to_itself = Network::start(&[(3, 3, echo.addr)], 0).await;
    assert!(matches!(to_itself, Err(NetError::SelfLink(3))));
    net.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_listeners_connections_and_tasks() {
    let (_node1, _node2, net) = two_node_mesh(9).await;
    let listen = [
        net.listen_addr(1, 2).unwrap(),
        net.listen_addr(2, 1).unwrap(),
    ];
    let mut busy = echoing(&net, 1, 2, b"x").await;
    net.set_link(2, 1, LinkFault::BLACKHOLE).unwrap();
    let mut held = connect(&net, 2, 1).await;
    let mut held_too = connect(&net, 2, 1).await;
    wait_until("three connections are open", || {
        net.status()
            .iter()
            .map(|s| s.live_connections)
            .sum::<usize>()
            == 3
    })
    .await;
    assert_eq!(net.live_tasks(), 2 + 3);

    net.shutdown().await;
    assert_eq!(net.live_tasks(), 0);
    assert!(net.status().iter().all(|s| s.live_connections == 0));
    for addr in listen {
        let refused = TcpStream::connect(addr).await;
        assert_eq!(refused.unwrap_err().kind(), ErrorKind::ConnectionRefused);
    }
    for stream in [&mut busy, &mut held, &mut held_too] {
        assert_closed(stream).await;
    }
    assert!(matches!(
        net.set_link(1, 2, LinkFault::REJECT),
        Err(NetError::ShutDown)
    ));
    net.shutdown().await; // twice is fine
}

async fn grpc_client(addr: SocketAddr) -> RaftServiceClient<Channel> {
    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_timeout(Duration::from_millis(500))
        .connect()
        .await
        .unwrap();
    RaftServiceClient::new(channel)
}

fn status_request(deadline: Duration) -> tonic::Request<GetStatusRequest> {
    let mut request = tonic::Request::new(GetStatusRequest {});
    request.set_timeout(deadline);
    request
}

#[tokio::test]
async fn grpc_status_through_the_proxy_blackhole_and_heal() {
    let server = StatusServer::start(2).await.unwrap();
    let net = Network::start(&[(1, 2, server.addr)], 5).await.unwrap();
    let mut client = grpc_client(net.listen_addr(1, 2).unwrap()).await;

    let status = client
        .get_status(status_request(Duration::from_secs(2)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((status.node_id, status.state.as_str()), (2, "Leader"));
    assert_eq!(server.calls(), 1);
    let unimplemented = client
        .get_log(raft_harness::proto::GetLogRequest::default())
        .await
        .unwrap_err();
    assert_eq!(unimplemented.code(), Code::Unimplemented);

    net.set_link(1, 2, LinkFault::BLACKHOLE).unwrap();
    let error = client
        .get_status(status_request(Duration::from_millis(300)))
        .await
        .unwrap_err();
    // tonic reports its own client-side deadline as Cancelled("Timeout expired"); a server
    // that saw the deadline pass would say DeadlineExceeded. Either way: a deadline, not a
    // connection error.
    let deadline = error.code() == Code::DeadlineExceeded
        || (error.code() == Code::Cancelled && error.message().contains("Timeout expired"));
    assert!(deadline, "expected a deadline error, got {error:?}");
    assert_eq!(server.calls(), 1, "the request crossed the blackhole");

    net.heal().unwrap();
    let mut attempts = 0;
    let status = loop {
        attempts += 1;
        match client
            .get_status(status_request(Duration::from_secs(1)))
            .await
        {
            Ok(response) => break response.into_inner(),
            Err(error) if attempts < 20 => {
                tracing::debug!(?error, "retrying after heal");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => panic!("GetStatus still fails after heal: {error:?}"),
        }
    };
    assert_eq!(status.node_id, 2);
    assert_eq!(server.calls(), 2);
    net.shutdown().await;
    server.stop().await;
}

//! What a link proxy costs: GetStatus round-trip latency (tonic client -> in-process tonic
//! server) direct vs through a healthy proxy, and raw TCP bulk throughput direct vs proxied.
//!
//! Run: `cargo bench --bench proxy` (prints a table). Calls alternate between direct and
//! proxied batches so that noise from other work on the machine hits both alike.
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use raft_harness::net::testing::StatusServer;
use raft_harness::net::Network;
use raft_harness::proto::raft_service_client::RaftServiceClient;
use raft_harness::proto::GetStatusRequest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tonic::transport::{Channel, Endpoint};

const WARMUP_CALLS: usize = 500;
const CALLS: usize = 5000;
const BATCH: usize = 250;
const BULK_BYTES: usize = 256 * 1024 * 1024;
const BULK_ROUNDS: usize = 5;

fn main() {
    println!(
        "GetStatus round trip, {CALLS} calls per path on one reused channel (after {WARMUP_CALLS} warm-up)"
    );
    println!(
        "{:<26} {:>8} {:>8} {:>8}",
        "runtime / path", "p50 µs", "p99 µs", "mean µs"
    );
    for (name, mut builder) in [
        ("multi-thread(2)", multi_thread()),
        (
            "current-thread",
            tokio::runtime::Builder::new_current_thread(),
        ),
    ] {
        let runtime = builder.enable_all().build().expect("tokio runtime");
        let (direct, proxied) = runtime.block_on(latency());
        let row = |path: &str, s: &Summary| {
            println!(
                "{:<26} {:>8.1} {:>8.1} {:>8.1}",
                format!("{name} {path}"),
                s.p50,
                s.p99,
                s.mean
            )
        };
        row("direct", &direct);
        row("proxy", &proxied);
        println!(
            "{:<26} {:>8} {:>8} {:>8}   p50 overhead {:+.1} µs ({:+.1}%)",
            format!("{name} overhead"),
            pct(proxied.p50, direct.p50),
            pct(proxied.p99, direct.p99),
            pct(proxied.mean, direct.mean),
            proxied.p50 - direct.p50,
            100.0 * (proxied.p50 - direct.p50) / direct.p50
        );
    }

    let runtime = multi_thread().enable_all().build().expect("tokio runtime");
    let (direct_mbs, proxied_mbs) = runtime.block_on(throughput());
    println!();
    println!(
        "Bulk TCP on multi-thread(2), {} MiB one way, median of {BULK_ROUNDS}",
        BULK_BYTES >> 20
    );
    println!("{:<26} {:>8}", "path", "MB/s");
    println!("{:<26} {:>8.0}", "direct", direct_mbs);
    println!("{:<26} {:>8.0}", "proxy", proxied_mbs);
    println!(
        "{:<26} {:>7.1}%",
        "proxy of direct",
        100.0 * proxied_mbs / direct_mbs
    );
}

fn multi_thread() -> tokio::runtime::Builder {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.worker_threads(2);
    builder
}

/// Latencies of direct and proxied GetStatus calls, in alternating batches.
async fn latency() -> (Summary, Summary) {
    let server = StatusServer::start(2).await.expect("status server");
    let net = Network::start(&[(1, 2, server.addr)], 0)
        .await
        .expect("proxy");
    let mut direct = client(server.addr).await;
    let mut proxied = client(net.listen_addr(1, 2).expect("link 1->2")).await;
    for _ in 0..WARMUP_CALLS {
        call(&mut direct).await;
        call(&mut proxied).await;
    }
    let mut direct_us = Vec::with_capacity(CALLS);
    let mut proxied_us = Vec::with_capacity(CALLS);
    for _ in 0..CALLS / BATCH {
        for _ in 0..BATCH {
            direct_us.push(call(&mut direct).await);
        }
        for _ in 0..BATCH {
            proxied_us.push(call(&mut proxied).await);
        }
    }
    drop((direct, proxied));
    net.shutdown().await;
    server.stop().await;
    (Summary::of(&mut direct_us), Summary::of(&mut proxied_us))
}

/// Median MB/s of bulk transfers direct and proxied, alternating.
async fn throughput() -> (f64, f64) {
    let sink = start_sink().await;
    let net = Network::start(&[(1, 3, sink)], 0).await.expect("proxy");
    let proxied_sink = net.listen_addr(1, 3).expect("link 1->3");
    let mut direct_mbs = Vec::new();
    let mut proxied_mbs = Vec::new();
    for _ in 0..BULK_ROUNDS {
        direct_mbs.push(bulk(sink).await);
        proxied_mbs.push(bulk(proxied_sink).await);
    }
    net.shutdown().await;
    (median(&mut direct_mbs), median(&mut proxied_mbs))
}

async fn client(addr: SocketAddr) -> RaftServiceClient<Channel> {
    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    RaftServiceClient::new(channel)
}

/// One GetStatus call, in microseconds.
async fn call(client: &mut RaftServiceClient<Channel>) -> f64 {
    let start = Instant::now();
    client
        .get_status(GetStatusRequest {})
        .await
        .expect("GetStatus");
    start.elapsed().as_secs_f64() * 1e6
}

/// A server that reads everything and answers one byte at EOF.
async fn start_sink() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind sink");
    let addr = listener.local_addr().expect("sink addr");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 256 * 1024];
                while let Ok(n) = stream.read(&mut buf).await {
                    if n == 0 {
                        let _ = stream.write_all(b"k").await;
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// Sends `BULK_BYTES` and waits for the sink's acknowledgement; MB/s (10^6 bytes).
async fn bulk(addr: SocketAddr) -> f64 {
    let mut stream = TcpStream::connect(addr).await.expect("connect sink");
    let chunk = vec![0x5au8; 256 * 1024];
    let start = Instant::now();
    for _ in 0..BULK_BYTES / chunk.len() {
        stream.write_all(&chunk).await.expect("write");
    }
    stream.shutdown().await.expect("shutdown");
    let mut ack = [0u8; 1];
    tokio::time::timeout(Duration::from_secs(60), stream.read_exact(&mut ack))
        .await
        .expect("sink acknowledged in time")
        .expect("ack");
    BULK_BYTES as f64 / start.elapsed().as_secs_f64() / 1e6
}

struct Summary {
    p50: f64,
    p99: f64,
    mean: f64,
}

impl Summary {
    fn of(samples: &mut [f64]) -> Summary {
        samples.sort_by(f64::total_cmp);
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
        Summary {
            p50: at(0.50),
            p99: at(0.99),
            mean: samples.iter().sum::<f64>() / samples.len() as f64,
        }
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Relative change as text, e.g. "+12.3%".
fn pct(value: f64, base: f64) -> String {
    format!("{:+.1}%", 100.0 * (value - base) / base)
}

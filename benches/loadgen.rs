//! The load generator's own ceiling (issue 15 §3): the harness's `set` workload (the very
//! clients `raft-harness run` starts, `workload::start`) against a stub RaftService
//! (`net::testing::StatusServer`) whose
//! ClientRequest answers APPLIED at once, so a cluster bench that stays well below this
//! ceiling measures the cluster, not the generator.
//!
//! Run (inside a private network namespace, port 32400 of engineer range 32000-32499):
//!   cargo bench --bench loadgen --no-run && \
//!   unshare -n sh -c 'ip link set lo up && cargo bench --offline --bench loadgen'
//! Prints, per number of closed-loop clients, ok ops/s and p50/p99 latency in ms. The stub
//! runs on its own one-thread runtime; the generator on a two-thread runtime, as in a run.
use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use raft_harness::history::Outcome;
use raft_harness::net::testing::StatusServer;
use raft_harness::spec::{Workload, WorkloadKind};
use raft_harness::workload::{self, Recorder};

const PORT: u16 = 32400;
const SECS: u64 = 5;
const CLIENTS: [u32; 4] = [8, 32, 64, 128];

/// Serves the stub on its own thread and runtime until the process ends.
fn start_stub() -> SocketAddr {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, PORT));
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("stub runtime");
        rt.block_on(async move {
            let stub = StatusServer::bind(1, addr)
                .await
                .unwrap_or_else(|e| panic!("cannot bind {addr}: {e}"));
            ready_tx.send(()).expect("bench waits");
            std::future::pending::<()>().await;
            drop(stub);
        });
    });
    ready_rx.recv().expect("stub started");
    addr
}

/// (ok ops per second, p50 ms, p99 ms) of `clients` closed-loop clients for SECS seconds.
async fn measure(addr: SocketAddr, clients: u32) -> (f64, f64, f64) {
    let w = Workload {
        kind: WorkloadKind::Set,
        clients,
        rate: 0.0,
        keys: 1,
        targets: vec![],
        request_timeout_ms: 3000,
        mode: raft_harness::spec::ClientMode::Closed,
        max_clients: None,
        groups: vec![],
    };
    let rec = Recorder::new(Instant::now(), BTreeSet::new());
    let started = Instant::now();
    let running = workload::start(&w, vec![(1, addr)], rec.clone(), 1);
    tokio::time::sleep(Duration::from_secs(SECS)).await;
    running.stop().await;
    let secs = started.elapsed().as_secs_f64();
    let mut lat: Vec<u64> = rec
        .snapshot()
        .iter()
        .filter(|o| o.outcome == Outcome::Ok)
        .filter_map(|o| o.complete_us.map(|c| c - o.invoke_us))
        .collect();
    lat.sort_unstable();
    if lat.is_empty() {
        return (0.0, f64::NAN, f64::NAN);
    }
    let pct = |p: f64| lat[((lat.len() - 1) as f64 * p).round() as usize] as f64 / 1000.0;
    (lat.len() as f64 / secs, pct(0.5), pct(0.99))
}

fn main() {
    let addr = start_stub();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("generator runtime");
    println!(
        "load generator ceiling: `set` workload against a stub that answers at once, {SECS} s each"
    );
    println!(
        "{:>8} {:>12} {:>8} {:>8}",
        "clients", "ok_per_s", "p50_ms", "p99_ms"
    );
    for clients in CLIENTS {
        let (ops, p50, p99) = rt.block_on(measure(addr, clients));
        println!("{clients:>8} {ops:>12.0} {p50:>8.2} {p99:>8.2}");
    }
}

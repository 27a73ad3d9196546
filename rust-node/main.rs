//! `rust-node`: the Rust reference Raft node of raft-harness (see docs/node-contract.md).
//!
//! This file owns the command line, start-up (storage, journal, listener) and shutdown on
//! SIGTERM/SIGINT. Exit codes: 0 clean stop, 1 start-up failure, 2 usage error.

mod bugs;
mod core;
mod journal;
mod kv;
mod progress;
#[cfg(test)]
mod scenario;
mod server;
mod storage;
#[cfg(test)]
mod testutil;

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use tokio::sync::{mpsc, oneshot, watch};
use tracing::{info, warn};

use crate::bugs::{Bug, Bugs};
use crate::core::NodeId;
use crate::journal::Journal;
use crate::server::{Driver, Input, NodeConfig, Peer, Service, DEFAULT_MAX_INFLIGHT_APPENDS};
use crate::storage::Storage;
use raft_harness::proto::raft_service_server::RaftServiceServer;

const EXIT_STARTUP: u8 = 1;
const EXIT_USAGE: u8 = 2;

/// A Raft node speaking the raft-harness gRPC protocol.
#[derive(Parser, Debug)]
#[command(name = "rust-node", version)]
struct Cli {
    /// This node's id (>= 1).
    #[arg(value_parser = clap::value_parser!(i32).range(1..))]
    id: i32,
    /// Port to listen on.
    #[arg(value_parser = clap::value_parser!(u16).range(1..))]
    port: u16,
    /// Peers as ID=HOST:PORT, or HOST:PORT whose id is PORT-5000.
    #[arg(value_parser = parse_peer)]
    peers: Vec<Peer>,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Directory for durable state (in memory only when absent).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Append the JSON-lines event journal to this file.
    #[arg(long)]
    journal: Option<PathBuf>,
    /// Election timeout range in ms, drawn anew for every timeout.
    #[arg(long, value_name = "MIN-MAX", default_value = "150-300", value_parser = parse_range)]
    election_timeout_ms: (u64, u64),
    /// Heartbeat interval in ms (must be below MIN).
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..))]
    heartbeat_ms: u64,
    /// TEST ONLY, WRONG ON PURPOSE: answer GET from local state without the log (an alias of
    /// `--bug stale-reads`).
    #[arg(long)]
    unsafe_stale_reads: bool,
    /// TEST ONLY, WRONG ON PURPOSE: switch on a planted bug (repeatable; see bugs.rs).
    #[arg(long = "bug", value_name = "NAME", value_enum)]
    bugs: Vec<Bug>,
    /// Raise the term on an election timeout without asking for pre-votes first (the original
    /// Raft behaviour, for comparisons; pre-vote is thesis §9.6).
    #[arg(long)]
    no_pre_vote: bool,
    /// Keep leading without hearing from a majority (no check-quorum; for comparisons).
    #[arg(long)]
    no_check_quorum: bool,
    /// At most N AppendEntries carrying entries in flight to one follower (pipelining; 1 sends
    /// the next only after the previous one's reply).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_INFLIGHT_APPENDS, value_parser = clap::value_parser!(u64).range(1..=1024))]
    max_inflight_appends: u64,
}

fn parse_peer(s: &str) -> Result<Peer, String> {
    let (id, addr) = match s.split_once('=') {
        Some((id, addr)) => {
            let id: i32 = id
                .parse()
                .map_err(|_| format!("peer id {id:?} is not an integer"))?;
            (Some(id), addr)
        }
        None => (None, s),
    };
    let (host, port) = addr
        .rsplit_once(':')
        .ok_or_else(|| "expected ID=HOST:PORT or HOST:PORT".to_string())?;
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err("expected ID=HOST:PORT or HOST:PORT (empty host)".into());
    }
    let port: u16 = port
        .parse()
        .ok()
        .filter(|&p| p >= 1)
        .ok_or_else(|| format!("port {port:?} is not a number in 1-65535"))?;
    let id = match id {
        Some(id) => id,
        None => i32::from(port) - 5000,
    };
    if id < 1 {
        return Err(format!(
            "peer id {id} must be >= 1 (plain HOST:PORT means id = PORT-5000; write ID=HOST:PORT)"
        ));
    }
    Ok(Peer {
        id,
        addr: format!("{host}:{port}"),
    })
}

fn parse_range(s: &str) -> Result<(u64, u64), String> {
    let (lo, hi) = s
        .split_once('-')
        .ok_or_else(|| "expected MIN-MAX, e.g. 150-300".to_string())?;
    let lo: u64 = lo
        .parse()
        .map_err(|_| format!("MIN {lo:?} is not a number"))?;
    let hi: u64 = hi
        .parse()
        .map_err(|_| format!("MAX {hi:?} is not a number"))?;
    if lo < 1 || lo >= hi {
        return Err(format!("need 1 <= MIN < MAX, got {lo}-{hi}"));
    }
    Ok((lo, hi))
}

/// Squeezes clap's multi-line message into one line: the paragraph before the first blank line.
fn one_line(err: &clap::Error) -> String {
    let text = err.render().to_string();
    let head: Vec<&str> = text
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    head.join(" ")
}

fn validate(cli: &Cli) -> Result<(), String> {
    let (lo, _) = cli.election_timeout_ms;
    if cli.heartbeat_ms >= lo {
        return Err(format!(
            "--heartbeat-ms {} must be below the minimum election timeout {lo}",
            cli.heartbeat_ms
        ));
    }
    let mut seen = BTreeSet::new();
    for p in &cli.peers {
        if p.id == cli.id {
            return Err(format!(
                "peer {} has this node's own id {} (the peer list never contains the node)",
                p.addr, cli.id
            ));
        }
        if !seen.insert(p.id) {
            return Err(format!("peer id {} appears twice", p.id));
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help / --version
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("{}", one_line(&e));
            return ExitCode::from(EXIT_USAGE);
        }
    };
    if let Err(msg) = validate(&cli) {
        eprintln!("error: {msg}");
        return ExitCode::from(EXIT_USAGE);
    }
    init_logging();
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_STARTUP);
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("error: {msg}");
            ExitCode::from(EXIT_STARTUP)
        }
    }
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = std::env::var("RUST_LOG")
        .or_else(|_| std::env::var("LOG_LEVEL").map(|l| l.to_lowercase()))
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
}

/// Start-up and serving; an `Err` is a start-up failure (exit 1).
async fn run(cli: Cli) -> Result<(), String> {
    // Installed first, so a SIGTERM during start-up is a clean stop, not a kill.
    let mut signals =
        Signals::install().map_err(|e| format!("cannot install signal handlers: {e}"))?;
    let bind = format!("{}:{}", cli.host, cli.port);
    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    let (storage, hs, log) = match &cli.data_dir {
        Some(dir) => {
            let (s, hs, log) = Storage::open(dir).map_err(|e| format!("--data-dir: {e}"))?;
            (Some(s), hs, log)
        }
        None => (None, Default::default(), Vec::new()),
    };
    let journal = Journal::open(cli.id, cli.journal.as_deref()).map_err(|e| {
        let path = cli.journal.clone().unwrap_or_default();
        format!("--journal {}: {e}", path.display())
    })?;

    if cli.data_dir.is_none() {
        info!("state is in memory only");
    }
    let cfg = Arc::new(NodeConfig {
        id: cli.id,
        host: cli.host.clone(),
        port: cli.port,
        peers: cli.peers.clone(),
        election_timeout_ms: cli.election_timeout_ms,
        heartbeat_ms: cli.heartbeat_ms,
        unsafe_stale_reads: cli.unsafe_stale_reads || cli.bugs.contains(&Bug::StaleReads),
        pre_vote: !cli.no_pre_vote,
        check_quorum: !cli.no_check_quorum,
        max_inflight_appends: cli.max_inflight_appends as usize,
        bugs: Bugs::of(cli.bugs.iter().copied()),
    });
    if !cfg.bugs.is_empty() {
        warn!(bugs = ?cfg.bugs.names(), "--bug: planted bugs are on (test-only switch)");
    }
    if cfg.unsafe_stale_reads {
        warn!("--unsafe-stale-reads: GET answers may be stale (test-only switch)");
    }
    let (core_tx, core_rx) = mpsc::channel::<Input>(4096);
    let mut peer_tx = HashMap::<NodeId, _>::new();
    for peer in &cfg.peers {
        let (tx, rx) = mpsc::unbounded_channel();
        peer_tx.insert(peer.id, tx);
        tokio::spawn(server::peer_loop(
            peer.clone(),
            cfg.rpc_deadline(),
            rx,
            core_tx.clone(),
        ));
    }
    let (leader_tx, leader_rx) = watch::channel(crate::core::NONE);
    let driver = Driver::new(cfg.clone(), storage, journal, hs, log, peer_tx, leader_tx)
        .map_err(|e| format!("--journal: {e}"))?;
    let driver_task = tokio::spawn(driver.run(core_rx));
    info!(
        id = cfg.id,
        addr = %cfg.self_addr(),
        peers = ?cfg.peers.iter().map(|p| format!("{}={}", p.id, p.addr)).collect::<Vec<_>>(),
        "serving"
    );

    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let service = Service::new(cfg.clone(), core_tx.clone(), leader_rx);
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    let mut server = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(RaftServiceServer::new(service))
            .serve_with_incoming_shutdown(incoming, async {
                let _ = stop_rx.await;
            }),
    );

    tokio::select! {
        _ = signals.recv() => {}
        res = &mut server => {
            // The server only ends on its own if it failed.
            let why = match res {
                Ok(Ok(())) => "stopped unexpectedly".to_string(),
                Ok(Err(e)) => e.to_string(),
                Err(e) => e.to_string(),
            };
            return Err(format!("gRPC server on {bind}: {why}"));
        }
    }
    info!("stopping");
    let (done_tx, done_rx) = oneshot::channel();
    if core_tx.send(Input::Stop(done_tx)).await.is_ok() {
        let _ = done_rx.await;
    }
    let _ = stop_tx.send(());
    // Give in-flight RPCs a moment to finish; never hang the shutdown on them.
    let _ = tokio::time::timeout(Duration::from_millis(500), server).await;
    driver_task.abort();
    Ok(())
}

struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> std::io::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    async fn recv(&mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
    }
}

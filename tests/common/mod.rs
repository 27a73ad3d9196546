//! Shared helpers for integration tests that start real node processes.
//!
//! Every node runs in its own process group; [`NodeProc`] SIGKILLs that group and reaps the child
//! on drop, so no process outlives a test, even one that panics. gRPC helpers never block longer
//! than their timeout.
#![allow(dead_code)]

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;
use raft_harness::proto as pb;
use raft_harness::proto::raft_service_client::RaftServiceClient;
use tonic::transport::{Channel, Endpoint};

pub const BIN: &str = env!("CARGO_BIN_EXE_rust-node");

/// One node process (its own process group, killed on drop).
pub struct NodeProc {
    pub id: i32,
    pub port: u16,
    pub pid: i32,
    pub stderr_path: PathBuf,
    child: Option<Child>,
}

impl NodeProc {
    pub fn spawn(id: i32, port: u16, args: &[String], stderr_path: &Path) -> NodeProc {
        let stderr = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(stderr_path)
            .expect("stderr file");
        let child = Command::new(BIN)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .process_group(0)
            .spawn()
            .expect("spawn rust-node");
        NodeProc {
            id,
            port,
            pid: child.id() as i32,
            stderr_path: stderr_path.to_path_buf(),
            child: Some(child),
        }
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// SIGKILL the whole process group and reap the child.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = killpg(Pid::from_raw(self.pid), Signal::SIGKILL);
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends `sig` and waits up to `timeout` for the exit; SIGKILLs on timeout.
    pub fn signal_and_wait(&mut self, sig: Signal, timeout: Duration) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        let _ = kill(Pid::from_raw(self.pid), sig);
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let _ = killpg(Pid::from_raw(self.pid), Signal::SIGKILL);
                return Some(status);
            }
            if Instant::now() > deadline {
                let _ = killpg(Pid::from_raw(self.pid), Signal::SIGKILL);
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn stderr_tail(&self, lines: usize) -> String {
        let text = fs::read_to_string(&self.stderr_path).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for NodeProc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// True when no process with this pid exists (the child was reaped).
pub fn pid_gone(pid: i32) -> bool {
    matches!(
        kill(Pid::from_raw(pid), None),
        Err(nix::errno::Errno::ESRCH)
    )
}

/// A cluster of `n` rust-node processes on 127.0.0.1 ports `base_port+1 ..= base_port+n`.
pub struct Cluster {
    pub n: i32,
    pub base_port: u16,
    pub nodes: Vec<NodeProc>,
    pub all_pids: Vec<i32>,
    pub dir: tempfile::TempDir,
}

impl Cluster {
    pub fn start(n: i32, base_port: u16) -> Cluster {
        let mut c = Cluster {
            n,
            base_port,
            nodes: Vec::new(),
            all_pids: Vec::new(),
            dir: tempfile::tempdir().expect("tempdir"),
        };
        for id in 1..=n {
            let node = c.spawn_node(id);
            c.all_pids.push(node.pid);
            c.nodes.push(node);
        }
        c
    }

    pub fn port(&self, id: i32) -> u16 {
        self.base_port + id as u16
    }

    pub fn data_dir(&self, id: i32) -> PathBuf {
        self.dir.path().join(format!("data-{id}"))
    }

    pub fn journal(&self, id: i32) -> PathBuf {
        self.dir.path().join(format!("journal-{id}.jsonl"))
    }

    fn spawn_node(&self, id: i32) -> NodeProc {
        let mut args = vec![id.to_string(), self.port(id).to_string()];
        for p in (1..=self.n).filter(|&p| p != id) {
            args.push(format!("{p}=127.0.0.1:{}", self.port(p)));
        }
        args.extend([
            "--data-dir".to_string(),
            self.data_dir(id).display().to_string(),
            "--journal".to_string(),
            self.journal(id).display().to_string(),
            "--election-timeout-ms".to_string(),
            "300-600".to_string(),
            "--heartbeat-ms".to_string(),
            "50".to_string(),
        ]);
        let stderr = self.dir.path().join(format!("stderr-{id}.log"));
        NodeProc::spawn(id, self.port(id), &args, &stderr)
    }

    pub fn node(&mut self, id: i32) -> &mut NodeProc {
        &mut self.nodes[id as usize - 1]
    }

    pub fn restart(&mut self, id: i32) {
        let node = self.spawn_node(id);
        self.all_pids.push(node.pid);
        self.nodes[id as usize - 1] = node;
    }

    pub fn live_ids(&self) -> Vec<i32> {
        self.nodes
            .iter()
            .filter(|n| n.is_running())
            .map(|n| n.id)
            .collect()
    }

    /// Kills every node; true when every pid this cluster ever started is gone.
    pub fn shutdown(&mut self) -> bool {
        for n in &mut self.nodes {
            n.kill9();
        }
        self.all_pids.iter().all(|&p| pid_gone(p))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for n in &self.nodes {
                eprintln!(
                    "--- node {} stderr (last lines) ---\n{}",
                    n.id,
                    n.stderr_tail(15)
                );
            }
        }
        self.shutdown();
    }
}

// ----- gRPC helpers (each bounded by a timeout) -----

const RPC_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn client(port: u16) -> Option<RaftServiceClient<Channel>> {
    let ep = Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
        .ok()?
        .connect_timeout(Duration::from_millis(500))
        .timeout(Duration::from_secs(5));
    let ch = tokio::time::timeout(RPC_TIMEOUT, ep.connect())
        .await
        .ok()?
        .ok()?;
    Some(RaftServiceClient::new(ch))
}

pub async fn status(port: u16) -> Option<pb::GetStatusResponse> {
    let mut c = client(port).await?;
    let r = tokio::time::timeout(RPC_TIMEOUT, c.get_status(pb::GetStatusRequest {}))
        .await
        .ok()?
        .ok()?;
    Some(r.into_inner())
}

pub async fn get_log(port: u16) -> Option<Vec<pb::LogEntry>> {
    let mut c = client(port).await?;
    let r = tokio::time::timeout(RPC_TIMEOUT, c.get_log(pb::GetLogRequest::default()))
        .await
        .ok()?
        .ok()?;
    Some(r.into_inner().entries)
}

pub async fn get_log_page(port: u16, from: i32, max: i32) -> Option<Vec<pb::LogEntry>> {
    let mut c = client(port).await?;
    let req = pb::GetLogRequest {
        from_index: Some(from),
        max_entries: Some(max),
    };
    let r = tokio::time::timeout(RPC_TIMEOUT, c.get_log(req))
        .await
        .ok()?
        .ok()?;
    Some(r.into_inner().entries)
}

/// Sends a client command; `forwarded` adds the `x-raft-forwarded: 1` metadata.
pub async fn request(
    port: u16,
    command: &str,
    forwarded: bool,
) -> Option<pb::ClientResponseMessage> {
    let mut c = client(port).await?;
    let mut req = tonic::Request::new(pb::ClientRequestMessage {
        command: command.to_string(),
    });
    if forwarded {
        req.metadata_mut().insert(
            "x-raft-forwarded",
            tonic::metadata::MetadataValue::from_static("1"),
        );
    }
    let r = tokio::time::timeout(Duration::from_secs(8), c.client_request(req))
        .await
        .ok()?
        .ok()?;
    Some(r.into_inner())
}

/// Polls `f` every 100 ms until it returns Some or `timeout` passes.
pub async fn wait_for<T, F, Fut>(timeout: Duration, mut f: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

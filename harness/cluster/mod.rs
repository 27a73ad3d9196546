//! The cluster under test: node processes (and, with `proxies`, the links
//! between them), started from a Spec and ended with the harness, always.
pub mod build;
pub mod cleanup;
pub mod logcap;
pub mod process;
/// The command templates are the spec's (`spec::template`); rendered here.
pub use crate::spec::template;

use crate::spec::{Kind, NodeSpec, Spec};
use process::{Launch, Proc, RunState};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// One node: how to start it, and its current process.
#[derive(Debug)]
pub struct NodeHandle {
    pub spec: NodeSpec,
    pub kind: Kind,
    pub addr: SocketAddr,
    pub launch: Launch,
    pub journal: Option<PathBuf>,
    pub proc: Option<Proc>,
    pub paused: bool,
    pub starts: u32,
}

#[derive(Debug, thiserror::Error)]
#[error("node {node}: {msg}\n  last lines of {log}:\n{tail}")]
pub struct ClusterError {
    pub node: u32,
    pub msg: String,
    pub log: String,
    pub tail: String,
}

pub struct Cluster {
    pub nodes: BTreeMap<u32, NodeHandle>,
    state: RunState,
    /// `backend = "docker"`: the nodes are containers (every method below defers to it).
    pub docker: Option<crate::docker::backend::Containers>,
}

/// Where a run keeps node files.
pub struct Dirs {
    pub nodes: PathBuf,
    pub journals: PathBuf,
    pub data: PathBuf,
}

impl Cluster {
    /// Render every node's command. `peer_addr(from, to)` is where `from` reaches
    /// `to`: the node's own port, or the proxy of that link.
    pub fn prepare(
        spec: &Spec,
        dirs: &Dirs,
        run_id: &str,
        peer_addr: impl Fn(u32, u32) -> SocketAddr,
    ) -> std::io::Result<Cluster> {
        for d in [&dirs.nodes, &dirs.journals, &dirs.data] {
            std::fs::create_dir_all(d)?;
        }
        let mut nodes = BTreeMap::new();
        for n in &spec.nodes {
            nodes.insert(n.id, node_handle(spec, n, dirs, run_id, &peer_addr)?);
        }
        let state = run_state(run_id)?;
        let docker = match spec.cluster.backend {
            crate::spec::Backend::Process => None,
            crate::spec::Backend::Docker => Some(docker_prepare(spec, dirs, run_id, &mut nodes)?),
        };
        Ok(Cluster {
            nodes,
            state,
            docker,
        })
    }

    pub fn ids(&self) -> Vec<u32> {
        self.nodes.keys().copied().collect()
    }

    pub fn addr(&self, id: u32) -> SocketAddr {
        self.nodes[&id].addr
    }

    fn err(&self, id: u32, msg: String) -> ClusterError {
        let log = &self.nodes[&id].launch.log;
        ClusterError {
            node: id,
            msg,
            log: log.display().to_string(),
            tail: build::tail(log, 20),
        }
    }

    /// Start the node's process (it must not be running).
    pub fn start(&mut self, id: u32) -> Result<(), ClusterError> {
        let h = self.nodes.get_mut(&id).expect("known node");
        if let Some(d) = self.docker.as_mut() {
            h.starts += 1;
            h.paused = false;
            let r = d.start(id, &h.launch.output);
            return r.map_err(|e| self.err(id, e));
        }
        match Proc::spawn(h.launch.clone(), h.starts + 1) {
            Ok(p) => {
                h.starts += 1;
                h.paused = false;
                self.state.record(id, &p);
                self.nodes.get_mut(&id).unwrap().proc = Some(p);
                Ok(())
            }
            Err(e) => {
                let msg = format!("cannot start `{}`: {e}", h.launch.argv.join(" "));
                Err(self.err(id, msg))
            }
        }
    }

    /// Wait until each node answers GetStatus, in parallel, each within its kind's deadline.
    pub async fn wait_ready(&mut self, ids: &[u32]) -> Result<(), ClusterError> {
        let mut pending: BTreeMap<u32, (Instant, crate::client::Client)> = ids
            .iter()
            .map(|id| {
                let h = &self.nodes[id];
                let deadline = Instant::now() + Duration::from_millis(h.kind.ready_timeout_ms);
                (
                    *id,
                    (
                        deadline,
                        crate::client::lazy(h.addr, Duration::from_millis(500)),
                    ),
                )
            })
            .collect();
        while !pending.is_empty() {
            let mut done = Vec::new();
            for (id, (deadline, c)) in pending.iter_mut() {
                if let Some(exit) = self
                    .nodes
                    .get_mut(id)
                    .unwrap()
                    .proc
                    .as_mut()
                    .and_then(|p| p.exited().map(str::to_string))
                {
                    return Err(self.err(*id, format!("exited before it was ready ({exit})")));
                }
                if !self.container_up(*id).await {
                    return Err(self.err(*id, "its container exited before it was ready".into()));
                }
                if crate::client::status(c, Duration::from_millis(500))
                    .await
                    .is_ok()
                {
                    done.push(*id);
                } else if Instant::now() > *deadline {
                    let ms = self.nodes[id].kind.ready_timeout_ms;
                    return Err(self.err(*id, format!("did not answer GetStatus within {ms} ms")));
                }
            }
            for id in done {
                pending.remove(&id);
            }
            if !pending.is_empty() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Ok(())
    }

    /// Whether node `id`'s container runs (a `docker ps` on the runtime at most every
    /// 300 ms); always true for the process backend.
    async fn container_up(&mut self, id: u32) -> bool {
        let Some(d) = self.docker.as_mut() else {
            return true;
        };
        d.refresh().await;
        d.is_running(id)
    }

    pub fn is_running(&mut self, id: u32) -> bool {
        if let Some(d) = self.docker.as_mut() {
            return d.is_running(id);
        }
        self.nodes
            .get_mut(&id)
            .and_then(|h| h.proc.as_mut())
            .is_some_and(|p| p.exited().is_none())
    }

    pub fn is_paused(&self, id: u32) -> bool {
        self.nodes[&id].paused
    }

    /// Nodes that died on their own (faults take the process out of its handle
    /// first, so any exited process still held here was not asked to exit).
    /// Each is reported once: its handle is cleared.
    pub fn reap_unexpected(&mut self) -> Vec<(u32, String)> {
        let mut out = Vec::new();
        if let Some(d) = self.docker.as_mut() {
            let out = d.reap();
            for (id, _) in &out {
                self.nodes.get_mut(id).unwrap().paused = false;
            }
            return out;
        }
        for (id, h) in self.nodes.iter_mut() {
            let exit = h.proc.as_mut().and_then(|p| p.exited().map(str::to_string));
            if let Some(e) = exit {
                h.proc = None;
                h.paused = false;
                out.push((*id, e));
            }
        }
        out
    }

    pub async fn kill(&mut self, id: u32) {
        if let Some(d) = self.docker.as_mut() {
            d.kill(id).await;
        }
        if let Some(mut p) = self.nodes.get_mut(&id).unwrap().proc.take() {
            p.kill().await;
        }
        self.nodes.get_mut(&id).unwrap().paused = false;
    }

    /// SIGTERM, the kind's `stop_grace_s`, then SIGKILL; waits on the runtime's timer.
    pub async fn stop(&mut self, id: u32) -> String {
        let h = self.nodes.get_mut(&id).unwrap();
        let grace = Duration::from_millis(h.kind.stop_grace_ms);
        h.paused = false;
        if let Some(d) = self.docker.as_mut() {
            return d.stop(id).await;
        }
        match h.proc.take() {
            Some(mut p) => p.stop(grace).await,
            None => "not running".into(),
        }
    }

    pub fn pause(&mut self, id: u32) {
        let h = self.nodes.get_mut(&id).unwrap();
        if let Some(d) = self.docker.as_mut() {
            h.paused = d.pause(id).is_ok();
        }
        if let Some(p) = &mut h.proc {
            p.signal(nix::sys::signal::Signal::SIGSTOP);
            h.paused = true;
        }
    }

    pub fn resume(&mut self, id: u32) {
        let h = self.nodes.get_mut(&id).unwrap();
        if let Some(d) = self.docker.as_mut() {
            let _ = d.resume(id);
        }
        if let Some(p) = &mut h.proc {
            p.signal(nix::sys::signal::Signal::SIGCONT);
        }
        h.paused = false;
    }

    /// End every node together: SIGTERM to all at once, each kind's grace from
    /// that instant, then SIGKILL (teardown takes one grace period, not one per
    /// node). Returns one line per node that was running. Waits on the
    /// runtime's timer, never blocking a worker thread.
    pub async fn shutdown(&mut self) -> Vec<String> {
        let mut ids = Vec::new();
        let mut procs = Vec::new();
        for (id, h) in self.nodes.iter_mut() {
            h.paused = false;
            if let Some(p) = h.proc.as_mut() {
                ids.push(*id);
                procs.push((p, Duration::from_millis(h.kind.stop_grace_ms)));
            }
        }
        let lines = match self.docker.as_mut() {
            Some(d) => {
                let (docker_ids, lines): (Vec<u32>, Vec<String>) =
                    d.shutdown().await.into_iter().unzip();
                ids = docker_ids;
                lines
            }
            None => process::stop_all(procs).await,
        };
        for h in self.nodes.values_mut() {
            h.proc = None;
            // Every process is gone: the copier drains the pipe, then the tail is stitched on.
            if let Err(e) = h
                .launch
                .output
                .finish_after_drain(Duration::from_secs(2))
                .await
            {
                tracing::warn!("node {}: finishing its log: {e}", h.spec.id);
            }
        }
        self.state.remove();
        ids.iter()
            .zip(lines)
            .map(|(id, l)| format!("node {id}: {l}"))
            .collect()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Proc's own Drop kills; this also clears the run's state file.
        if let Some(mut d) = self.docker.take() {
            d.shutdown_blocking();
        }
        for h in self.nodes.values_mut() {
            h.proc.take();
            let _ = h
                .launch
                .output
                .finish_after_drain_blocking(Duration::from_millis(500));
        }
        self.state.remove();
    }
}

fn loopback(host: &str) -> &str {
    if host == "localhost" {
        "127.0.0.1"
    } else {
        host
    }
}

/// One node's handle: its data dir made, its command and environment rendered.
fn node_handle(
    spec: &Spec,
    n: &NodeSpec,
    dirs: &Dirs,
    run_id: &str,
    peer_addr: &impl Fn(u32, u32) -> SocketAddr,
) -> std::io::Result<NodeHandle> {
    let kind = spec.kinds[&n.kind].clone();
    let data_dir = dirs.data.join(n.id.to_string());
    std::fs::create_dir_all(&data_dir)?;
    let journal = kind
        .writes_journal()
        .then(|| dirs.journals.join(format!("{}.jsonl", n.id)));
    let vars = node_vars(spec, n, &kind, &data_dir, journal.as_deref(), peer_addr);
    let argv = template::command(&kind, n, &vars);
    let env = kind
        .env
        .iter()
        .chain(n.env.iter())
        .map(|(k, v)| (k.clone(), template::render_one(v, &vars)))
        .collect();
    let log = dirs.nodes.join(format!("{}.log", n.id));
    let addr: SocketAddr = format!("{}:{}", loopback(&spec.cluster.host), n.port)
        .parse()
        .map_err(|e| std::io::Error::other(format!("bad address: {e}")))?;
    Ok(NodeHandle {
        spec: n.clone(),
        launch: Launch {
            argv,
            env,
            cwd: kind.root.clone(),
            log: log.clone(),
            output: logcap::NodeLog::new(&log, logcap::Cap::total(spec.cluster.node_log_cap_bytes)),
            run_id: run_id.to_string(),
            node: n.id,
        },
        kind,
        addr,
        journal,
        proc: None,
        paused: false,
        starts: 0,
    })
}

/// The template variables of one node's command (docs/kinds.md lists them): paths absolute,
/// peers where `peer_addr(n, peer)` says.
fn node_vars(
    spec: &Spec,
    n: &NodeSpec,
    kind: &Kind,
    data_dir: &Path,
    journal: Option<&Path>,
    peer_addr: &impl Fn(u32, u32) -> SocketAddr,
) -> template::Vars {
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let place = template::Place {
        host: spec.cluster.host.clone(),
        data_dir: abs(data_dir).display().to_string(),
        journal: journal
            .map(|j| abs(j).display().to_string())
            .unwrap_or_default(),
        root: abs(&kind.root).display().to_string(),
    };
    let peer = |p: &NodeSpec| peer_addr(n.id, p.id).to_string();
    template::node_vars(n, &spec.nodes, place, &peer)
}

/// The run's state file: the claim (cleanup::claim) wrote it; keep its fields.
fn run_state(run_id: &str) -> std::io::Result<RunState> {
    match RunState::load(run_id) {
        Some(s) => Ok(s),
        None => {
            let s = RunState::new(run_id);
            s.save().map_err(std::io::Error::other)?;
            Ok(s)
        }
    }
}

/// The docker backend's side of `prepare`: its containers, and each node's command line as
/// its container runs it (for the report).
fn docker_prepare(
    spec: &Spec,
    dirs: &Dirs,
    run_id: &str,
    nodes: &mut BTreeMap<u32, NodeHandle>,
) -> std::io::Result<crate::docker::backend::Containers> {
    let data = |id: u32| dirs.data.join(id.to_string());
    let d = crate::docker::backend::Containers::prepare(spec, run_id, &data, &dirs.journals)
        .map_err(std::io::Error::other)?;
    for (id, h) in nodes.iter_mut() {
        h.launch.argv = d.argv(*id).to_vec();
    }
    Ok(d)
}

impl Cluster {
    /// Make the nodes' own packet filters match the links' faults (docker backend; the
    /// process backend's links are the proxies themselves: nothing to do).
    pub fn sync_links(&mut self, net: &crate::net::Network) -> Result<(), String> {
        let Some(d) = self.docker.as_mut() else {
            return Ok(());
        };
        let faults: Vec<_> = net
            .links()
            .into_iter()
            .map(|(a, b)| ((a, b), net.link_fault(a, b).unwrap_or_default()))
            .collect();
        d.sync_links(&faults)
    }
}

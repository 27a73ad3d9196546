//! The docker backend: one container per node on a network of the run's own, driven through
//! the engine. Faults map onto the engine: kill → `docker kill -s KILL`, stop → `docker stop
//! -t GRACE` (SIGTERM, then SIGKILL), pause/resume → `docker pause`/`unpause` (the cgroup
//! freezer), start/restart → `docker run` the first time, `docker start` after (the data dir
//! is a bind mount of the run's own folder, so a restarted node keeps its state either way).
//!
//! Addresses: the run's network is a /24 in 10.213.0.0/16 (the first free one from a hash of
//! the run id); node i (in spec order) is `10.213.X.(10+i)` and listens on its own port there,
//! so peers are `ID=10.213.X.Y:PORT`. The harness reaches each node through its port
//! published on `127.0.0.1` (the same port number), which is why a docker suite cannot run
//! inside a private network namespace. Data dirs and journals are bind-mounted at the same
//! absolute paths, so observation reads journals as it does for processes. Node output comes
//! from `docker logs -f` into the node's capped log.
use super::cleanup::{self, Here};
use super::{cli, cli_async, compose, netfilter, off_runtime, LABEL_NODE};
use crate::cluster::logcap::{self, NodeLog};
use crate::net::LinkFault;
use crate::spec::Spec;
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One node's container.
#[derive(Debug)]
struct Node {
    name: String,
    ip: Ipv4Addr,
    port: u16,
    image: String,
    argv: Vec<String>,
    env: Vec<(String, String)>,
    mounts: Vec<String>,
    grace_s: u64,
    created: bool,
    /// Started and not ended on purpose since: if it is not running, it died on its own.
    expected: bool,
    follower: Option<Child>,
}

/// The containers and network of one run.
#[derive(Debug)]
pub struct Containers {
    run_id: String,
    network: String,
    labels: Vec<String>,
    nodes: BTreeMap<u32, Node>,
    /// Nodes running at the last `ps`, and when it was taken.
    running: (Instant, BTreeMap<u32, bool>),
    /// The packet filter each node must hold (re-applied after a restart).
    rules: BTreeMap<u32, Vec<String>>,
}

fn subnet_octet(run_id: &str, attempt: u32) -> u8 {
    let h = run_id
        .bytes()
        .fold(2166136261u32, |h, b| (h ^ b as u32).wrapping_mul(16777619));
    (h.wrapping_add(attempt) % 256) as u8
}

/// Create the run's bridge network on the first free /24 of 10.213.0.0/16 from a hash of
/// the run id; its third octet.
fn create_network(run_id: &str, network: &str, labels: &[String]) -> Result<u8, String> {
    for attempt in 0..256 {
        let x = subnet_octet(run_id, attempt);
        let mut args = vec![
            "network".to_string(),
            "create".into(),
            "--driver".into(),
            "bridge".into(),
            "--subnet".into(),
            format!("10.213.{x}.0/24"),
        ];
        for l in labels {
            args.extend(["--label".to_string(), l.clone()]);
        }
        args.push(network.to_string());
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        match cli(&a) {
            Ok(_) => return Ok(x),
            Err(e) if e.contains("overlap") => continue,
            Err(e) => return Err(e),
        }
    }
    Err("no free /24 in 10.213.0.0/16 for the run's network".into())
}

impl Containers {
    /// Remove dead runs' leftovers, create the run's network, and plan one container per
    /// node. `data(id)` and `journals` are the run's folders (bind-mounted as they are).
    /// Engine calls run through [`off_runtime`].
    pub fn prepare(
        spec: &Spec,
        run_id: &str,
        data: &dyn Fn(u32) -> std::path::PathBuf,
        journals: &Path,
    ) -> Result<Containers, String> {
        off_runtime(|| Containers::prepare_now(spec, run_id, data, journals))
    }

    fn prepare_now(
        spec: &Spec,
        run_id: &str,
        data: &dyn Fn(u32) -> std::path::PathBuf,
        journals: &Path,
    ) -> Result<Containers, String> {
        let here = Here::now();
        for line in cleanup::remove_dead(&here)? {
            tracing::info!("{line}");
        }
        let labels = cleanup::labels(run_id, crate::cluster::process::me(), &here);
        let network = format!("rh-{run_id}");
        let x = create_network(run_id, &network, &labels)?;
        let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        let ip_of: BTreeMap<u32, Ipv4Addr> = spec
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id, Ipv4Addr::new(10, 213, x, 10 + i as u8)))
            .collect();
        let mut nodes = BTreeMap::new();
        for n in &spec.nodes {
            let kind = &spec.kinds[&n.kind];
            let image = super::image_for(kind).map_err(|e| format!("node {}: {e}", n.id))?;
            let data_dir = abs(&data(n.id)).display().to_string();
            let jdir = abs(journals).display().to_string();
            let journal = format!("{jdir}/{}.jsonl", n.id);
            let peer_host = |id: u32| ip_of[&id].to_string();
            let argv = compose::container_argv(spec, n, &data_dir, &journal, &peer_host);
            let env = kind.env.iter().chain(n.env.iter()).cloned().collect();
            nodes.insert(
                n.id,
                Node {
                    name: format!("rh-{run_id}-{}", n.id),
                    ip: ip_of[&n.id],
                    port: n.port,
                    image,
                    argv,
                    env,
                    mounts: vec![format!("{data_dir}:{data_dir}"), format!("{jdir}:{jdir}")],
                    grace_s: kind.stop_grace_ms.div_ceil(1000),
                    created: false,
                    expected: false,
                    follower: None,
                },
            );
        }
        Ok(Containers {
            run_id: run_id.into(),
            network,
            labels,
            nodes,
            running: (Instant::now(), BTreeMap::new()),
            rules: BTreeMap::new(),
        })
    }

    /// The node's command line in its container.
    pub fn argv(&self, id: u32) -> &[String] {
        &self.nodes[&id].argv
    }

    /// Where peers reach node `id` (container address, own port).
    pub fn peer_addr(&self, id: u32) -> SocketAddrV4 {
        let n = &self.nodes[&id];
        SocketAddrV4::new(n.ip, n.port)
    }

    /// Start the node: `docker run -d` the first time, `docker start` after; then follow
    /// its output into `log` and restore its packet filter. Through [`off_runtime`].
    pub fn start(&mut self, id: u32, log: &NodeLog) -> Result<(), String> {
        off_runtime(|| self.start_now(id, log))
    }

    fn start_now(&mut self, id: u32, log: &NodeLog) -> Result<(), String> {
        let n = self.nodes.get_mut(&id).expect("known node");
        let since = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
        let _ = log.note(&format!(
            "=== raft-harness {}: starting container {} ({}): {}",
            chrono::Local::now().format("%H:%M:%S%.3f"),
            n.name,
            n.image,
            n.argv.join(" ")
        ));
        if n.created {
            cli(&["start", &n.name])?;
        } else {
            let mut args: Vec<String> = ["run", "-d", "--init", "--name", &n.name]
                .iter()
                .map(|s| s.to_string())
                .collect();
            for l in self
                .labels
                .iter()
                .cloned()
                .chain([format!("{LABEL_NODE}={id}")])
            {
                args.extend(["--label".into(), l]);
            }
            args.extend(["--network".into(), self.network.clone()]);
            args.extend(["--ip".into(), n.ip.to_string()]);
            args.extend(["-p".into(), format!("127.0.0.1:{0}:{0}", n.port)]);
            for m in &n.mounts {
                args.extend(["-v".into(), m.clone()]);
            }
            for (k, v) in &n.env {
                args.extend(["-e".into(), format!("{k}={v}")]);
            }
            args.push(n.image.clone());
            args.extend(n.argv.iter().cloned());
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            n.created = true;
            cli(&a)?;
        }
        if let Some(mut old) = n.follower.take() {
            let _ = old.kill();
            let _ = old.wait();
        }
        n.expected = true;
        n.follower = follow(&n.name, &since, log, id).ok();
        self.running.1.insert(id, true);
        if let Some(lines) = self.rules.get(&id).filter(|l| !l.is_empty()) {
            netfilter::apply(self.pid(id)?, lines)?;
        }
        Ok(())
    }

    fn pid(&self, id: u32) -> Result<i32, String> {
        let n = &self.nodes[&id];
        cli(&["inspect", "-f", "{{.State.Pid}}", &n.name])?
            .parse()
            .map_err(|e| format!("container {}: bad pid: {e}", n.name))
    }

    /// Which nodes' containers run now: one `docker ps` for all (through [`off_runtime`]),
    /// at most every 300 ms.
    pub fn running(&mut self) -> &BTreeMap<u32, bool> {
        if let Some(args) = self.ps_due() {
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = off_runtime(|| cli(&a));
            self.note_ps(out);
        }
        &self.running.1
    }

    /// [`Containers::running`] on the runtime (`tokio::process`), for async callers.
    pub async fn refresh(&mut self) {
        if let Some(args) = self.ps_due() {
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = cli_async(&a).await;
            self.note_ps(out);
        }
    }

    /// The `docker ps` listing the run's running nodes, if the last one is 300 ms old.
    fn ps_due(&self) -> Option<[String; 5]> {
        (self.running.0.elapsed() >= Duration::from_millis(300)).then(|| {
            let filter = format!("label={}={}", super::LABEL_RUN, self.run_id);
            let fmt = format!("{{{{.Label \"{LABEL_NODE}\"}}}}");
            [
                "ps".into(),
                "--filter".into(),
                filter,
                "--format".into(),
                fmt,
            ]
        })
    }

    /// Take a `docker ps` answer (one node id a line); a failed call changes nothing.
    fn note_ps(&mut self, out: Result<String, String>) {
        let Ok(out) = out else { return };
        let up: Vec<u32> = out.lines().filter_map(|l| l.trim().parse().ok()).collect();
        for id in self.nodes.keys() {
            self.running.1.insert(*id, up.contains(id));
        }
        self.running.0 = Instant::now();
    }

    pub fn is_running(&mut self, id: u32) -> bool {
        self.running().get(&id).copied().unwrap_or(false)
    }

    /// Mark a node as not running (a fault just ended it on purpose).
    fn ended(&mut self, id: u32) {
        self.running.1.insert(id, false);
        self.nodes.get_mut(&id).expect("known node").expected = false;
    }

    /// Nodes whose container stopped without being asked since the last call (each once).
    pub fn reap(&mut self) -> Vec<(u32, String)> {
        self.running();
        let mut out = Vec::new();
        for (id, n) in self.nodes.iter_mut() {
            if n.expected && !self.running.1.get(id).copied().unwrap_or(false) {
                n.expected = false;
                out.push((*id, "exited (its container stopped)".to_string()));
            }
        }
        out
    }

    pub async fn kill(&mut self, id: u32) -> String {
        self.ended(id);
        let name = self.nodes[&id].name.clone();
        match cli_async(&["kill", "-s", "KILL", &name]).await {
            Ok(_) => "killed (docker kill -s KILL)".into(),
            Err(e) => e,
        }
    }

    /// `docker stop -t GRACE`: SIGTERM, the grace in whole seconds, then SIGKILL.
    pub async fn stop(&mut self, id: u32) -> String {
        self.ended(id);
        let n = &self.nodes[&id];
        let t = n.grace_s.to_string();
        match cli_async(&["stop", "-t", &t, &n.name]).await {
            Ok(_) => format!("stopped (docker stop -t {t})"),
            Err(e) => e,
        }
    }

    /// `docker pause` (the cgroup freezer), through [`off_runtime`].
    pub fn pause(&mut self, id: u32) -> Result<(), String> {
        off_runtime(|| cli(&["pause", &self.nodes[&id].name]).map(|_| ()))
    }

    /// `docker unpause`, through [`off_runtime`].
    pub fn resume(&mut self, id: u32) -> Result<(), String> {
        off_runtime(|| cli(&["unpause", &self.nodes[&id].name]).map(|_| ()))
    }

    /// Make every running node's packet filter match `faults` (every directed link's fault).
    /// Engine calls and `iptables-restore` run through [`off_runtime`].
    pub fn sync_links(&mut self, faults: &[((u32, u32), LinkFault)]) -> Result<(), String> {
        off_runtime(|| self.sync_links_now(faults))
    }

    fn sync_links_now(&mut self, faults: &[((u32, u32), LinkFault)]) -> Result<(), String> {
        let want = netfilter::rules(faults, &|id| self.peer_addr(id))?;
        let ids: Vec<u32> = self.nodes.keys().copied().collect();
        for id in ids {
            let lines = want.get(&id).cloned().unwrap_or_default();
            if self.rules.get(&id).cloned().unwrap_or_default() != lines && self.is_running(id) {
                netfilter::apply(self.pid(id)?, &lines)?;
            }
            self.rules.insert(id, lines);
        }
        Ok(())
    }

    /// Remove every container (with its anonymous volumes) and the network. One line per
    /// node. The engine calls run on the runtime (`tokio::process`).
    pub async fn shutdown(&mut self) -> Vec<(u32, String)> {
        let mut results = Vec::new();
        for call in self.teardown_calls() {
            let a: Vec<&str> = call.iter().map(String::as_str).collect();
            results.push(cli_async(&a).await);
        }
        self.torn_down(results)
    }

    /// [`Containers::shutdown`] on the calling thread, for `Drop`.
    pub fn shutdown_blocking(&mut self) -> Vec<(u32, String)> {
        let results = off_runtime(|| {
            let calls = self.teardown_calls();
            let args = calls
                .iter()
                .map(|c| c.iter().map(String::as_str).collect::<Vec<_>>());
            args.map(|a| cli(&a)).collect()
        });
        self.torn_down(results)
    }

    /// The teardown's engine calls, in order: with containers made, `stop -t GRACE` (all
    /// at once: SIGTERM, the longest grace, then SIGKILL) and `rm -f -v`; then `network rm`.
    fn teardown_calls(&self) -> Vec<Vec<String>> {
        let names: Vec<String> = self
            .nodes
            .values()
            .filter(|n| n.created)
            .map(|n| n.name.clone())
            .collect();
        let mut calls = Vec::new();
        if !names.is_empty() {
            let t = self.longest_grace_s().to_string();
            let stop = ["stop", "-t", &t].map(String::from).into_iter();
            calls.push(stop.chain(names.iter().cloned()).collect());
            let rm = ["rm", "-f", "-v"].map(String::from).into_iter();
            calls.push(rm.chain(names.iter().cloned()).collect());
        }
        calls.push(["network", "rm", &self.network].map(String::from).to_vec());
        calls
    }

    fn longest_grace_s(&self) -> u64 {
        self.nodes.values().map(|n| n.grace_s).max().unwrap_or(0)
    }

    /// Read the results of [`Containers::teardown_calls`] (the same order): one line per
    /// node made; end the log followers; warn if the network stays.
    fn torn_down(&mut self, results: Vec<Result<String, String>>) -> Vec<(u32, String)> {
        let mut results = results.into_iter();
        let mut lines = Vec::new();
        if self.nodes.values().any(|n| n.created) {
            let (stopped, removed) = (results.next().unwrap(), results.next().unwrap());
            let t = self.longest_grace_s();
            for (id, n) in self.nodes.iter().filter(|(_, n)| n.created) {
                let l = match (&stopped, &removed) {
                    (_, Err(e)) => format!("container {} not removed: {e}", n.name),
                    (Err(e), Ok(_)) => format!("container removed (stop failed: {e})"),
                    (Ok(_), Ok(_)) => format!("container stopped (docker stop -t {t}) and removed"),
                };
                lines.push((*id, l));
            }
        }
        for n in self.nodes.values_mut() {
            n.created = false;
            if let Some(mut f) = n.follower.take() {
                let _ = f.kill();
                let _ = f.wait();
            }
        }
        if let Some(Err(e)) = results.next() {
            if !e.contains("No such network") && !e.contains("not found") {
                tracing::warn!("{e}");
            }
        }
        lines
    }
}

impl Drop for Containers {
    fn drop(&mut self) {
        if self.nodes.values().any(|n| n.created) {
            self.shutdown_blocking();
        }
    }
}

/// `docker logs -f --since SINCE NAME` into the node's capped log (a thread copies it).
fn follow(name: &str, since: &str, log: &NodeLog, id: u32) -> std::io::Result<Child> {
    let (read_end, write_end) = logcap::output_pipe()?;
    let err = write_end.try_clone()?;
    let mut cmd = Command::new(super::program());
    cmd.args(["logs", "-f", "--since", since, name])
        .stdin(Stdio::null())
        .stdout(Stdio::from(write_end))
        .stderr(Stdio::from(err));
    let child = cmd.spawn()?;
    drop(cmd);
    log.copy_from(read_end, id)?;
    Ok(child)
}

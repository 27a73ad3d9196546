//! Starting and ending node processes so that none outlives the harness.
//!
//! Every child: its own process group, stdin null, stdout+stderr appended to
//! its log file, the run marker (`RAFT_HARNESS_RUN=RUN/NODE/INCARNATION/OWNER`,
//! see [`ports::Marker`]) in its environment, and a parent-death signal
//! (SIGKILL) so the kernel ends it if the harness dies. The parent-death
//! signal fires when the *thread* that forked the child exits, so all forks
//! happen on one spawner thread that lives as long as the process.
//!
//! A node is every live process carrying its marker, not just the one we
//! forked: a wrapper that `setsid`s or daemonizes the server (its launcher may
//! exit at once) is still the node, and signals, liveness and teardown act on
//! all of its processes. A daemon escapes the parent-death signal; if the
//! harness is SIGKILLed, the next run or `clean` finds it by its marker (its
//! run's harness is dead) and ends it.
use super::logcap;
use crate::ports::{self, Marker, Owner};
use nix::sys::signal::Signal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Process groups of every live child, for the panic hook and a second Ctrl+C.
static LIVE_GROUPS: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());

/// This harness process, as node markers name it (computed once).
pub fn me() -> Owner {
    static ME: OnceLock<Owner> = OnceLock::new();
    *ME.get_or_init(Owner::me)
}

/// SIGKILL every child group still alive and every process carrying a marker
/// of this harness (daemonized node processes). Safe to call from a panic hook.
pub fn kill_all_now() {
    let groups = match LIVE_GROUPS.lock() {
        Ok(g) => g.clone(),
        Err(p) => p.into_inner().clone(),
    };
    for g in groups {
        let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(g), Signal::SIGKILL);
    }
    let owner = me();
    for h in ports::marked(|m| m.owner == owner) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(h.pid), Signal::SIGKILL);
    }
}

fn forget_group(pgid: i32) {
    if let Ok(mut g) = LIVE_GROUPS.lock() {
        g.remove(&pgid);
    }
}

/// What to start.
#[derive(Debug, Clone)]
pub struct Launch {
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
    pub log: PathBuf,
    /// Where the node's output goes: `log`, with its size cap.
    pub output: logcap::NodeLog,
    pub run_id: String,
    /// The node this command starts (named in the marker).
    pub node: u32,
}

type SpawnReply = mpsc::Sender<std::io::Result<std::process::Child>>;

fn spawner() -> &'static Mutex<mpsc::Sender<(Launch, Marker, SpawnReply)>> {
    type Job = (Launch, Marker, SpawnReply);
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("raft-harness-spawner".into())
            .spawn(move || {
                for (l, m, reply) in rx {
                    let _ = reply.send(spawn_here(&l, &m));
                }
            })
            .expect("spawner thread");
        Mutex::new(tx)
    })
}

fn spawn_here(l: &Launch, marker: &Marker) -> std::io::Result<std::process::Child> {
    l.output.note(&format!(
        "=== raft-harness {}: starting {}",
        chrono::Local::now().format("%H:%M:%S%.3f"),
        l.argv.join(" ")
    ))?;
    // stdout and stderr share one pipe; a copier thread caps what reaches the log.
    let (read_end, write_end) = logcap::output_pipe()?;
    let err = write_end.try_clone()?;
    let (prog, args) = l
        .argv
        .split_first()
        .ok_or_else(|| std::io::Error::other("empty command"))?;
    let mut cmd = Command::new(resolve(prog, &l.cwd));
    cmd.args(args)
        .current_dir(&l.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::from(write_end))
        .stderr(Stdio::from(err))
        .process_group(0);
    for (k, v) in &l.env {
        cmd.env(k, v);
    }
    // Last, so a kind's env cannot override it.
    cmd.env(ports::MARKER, marker.to_string());
    let parent = std::process::id() as i32;
    // SAFETY: pre_exec runs between fork and exec; it only makes async-signal-safe
    // system calls (prctl, getppid, _exit).
    unsafe {
        cmd.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(std::io::Error::from)?;
            // The harness may have died between fork and prctl: then nobody will end us.
            if nix::unistd::getppid().as_raw() != parent {
                nix::libc::_exit(1);
            }
            Ok(())
        });
    }
    let child = cmd.spawn()?;
    // Our copies of the write end must close, or the copier never sees the end.
    drop(cmd);
    l.output.copy_from(read_end, l.node)?;
    if let Ok(mut g) = LIVE_GROUPS.lock() {
        g.insert(child.id() as i32);
    }
    Ok(child)
}

/// A program path with a '/' is relative to the kind's root, not to our cwd.
fn resolve(prog: &str, cwd: &Path) -> PathBuf {
    let p = Path::new(prog);
    if prog.contains('/') && p.is_relative() {
        cwd.join(p)
    } else {
        p.to_path_buf()
    }
}

/// One incarnation of a node: the launcher we forked and every process that
/// carries its marker. Running while any of them lives.
#[derive(Debug)]
pub struct Proc {
    child: std::process::Child,
    /// The launcher's pid (and process group).
    pub pid: i32,
    pub start_time: u64,
    pub marker: Marker,
    /// How the launcher ended, once reaped.
    launcher_exit: Option<String>,
    /// How the node ended: launcher reaped and no marked process left.
    exit: Option<String>,
    /// Every member seen so far (pid, start time). A member that is exiting has
    /// lost its environment (so no marker) before it is a zombie: the node has
    /// ended only once these are gone too.
    seen: Vec<(i32, u64)>,
}

impl Proc {
    /// Start incarnation `incarnation` (from 1) of `l.node`.
    pub fn spawn(l: Launch, incarnation: u32) -> std::io::Result<Proc> {
        let marker = Marker {
            run: l.run_id.clone(),
            node: l.node,
            incarnation,
            owner: me(),
        };
        let (tx, rx) = mpsc::channel();
        spawner()
            .lock()
            .map_err(|_| std::io::Error::other("spawner lock poisoned"))?
            .send((l, marker.clone(), tx))
            .map_err(|_| std::io::Error::other("spawner thread is gone"))?;
        let child = rx
            .recv()
            .map_err(|_| std::io::Error::other("spawner thread is gone"))??;
        let pid = child.id() as i32;
        Ok(Proc {
            child,
            pid,
            start_time: ports::start_time(pid).unwrap_or(0),
            marker,
            launcher_exit: None,
            exit: None,
            seen: Vec::new(),
        })
    }

    /// Pids of the live processes carrying this node's marker (the launcher
    /// too while it runs; zombies excluded). Scans /proc.
    pub fn members(&self) -> Vec<i32> {
        ports::marked(|m| *m == self.marker)
            .into_iter()
            .map(|h| h.pid)
            .collect()
    }

    /// Reap the launcher if it has exited.
    fn poll_launcher(&mut self) {
        if self.launcher_exit.is_none() {
            if let Ok(Some(st)) = self.child.try_wait() {
                forget_group(self.pid);
                self.launcher_exit = Some(describe_exit(st));
            }
        }
    }

    /// The live members now, remembered in `seen`.
    fn scan(&mut self) -> Vec<i32> {
        let now = self.members();
        for &pid in &now {
            if !self.seen.iter().any(|(p, _)| *p == pid) {
                self.seen.push((pid, ports::start_time(pid).unwrap_or(0)));
            }
        }
        now
    }

    /// A member seen earlier that has not finished exiting (not yet a zombie,
    /// and not a new process that reused its pid).
    fn member_still_exiting(&self) -> bool {
        self.seen
            .iter()
            .any(|&(pid, st)| ports::is_alive(pid) && ports::start_time(pid) == Some(st))
    }

    /// None while running (the launcher or any marked process lives); the exit
    /// description once all are gone (reaps the launcher).
    pub fn exited(&mut self) -> Option<&str> {
        if self.exit.is_none() {
            self.poll_launcher();
            if let Some(l) = self.launcher_exit.clone() {
                if self.scan().is_empty() && !self.member_still_exiting() {
                    self.exit = Some(l);
                }
            }
        }
        self.exit.as_deref()
    }

    /// Send `sig` to every process of the node: the launcher's group (while the
    /// launcher is not reaped, so its pid cannot have been reused) and every
    /// marked process, in whatever session or group it lives.
    pub fn signal(&mut self, sig: Signal) {
        if self.exit.is_some() {
            return;
        }
        use nix::unistd::{getpgid, Pid};
        self.poll_launcher();
        let group = self
            .launcher_exit
            .is_none()
            .then_some(Pid::from_raw(self.pid));
        if let Some(g) = group {
            let _ = nix::sys::signal::killpg(g, sig);
        }
        // Members outside the launcher's group (setsid, daemons): once each.
        for p in self.scan().into_iter().map(Pid::from_raw) {
            if group.is_none() || getpgid(Some(p)).ok() != group {
                let _ = nix::sys::signal::kill(p, sig);
            }
        }
    }

    /// One round of ending the node by force: SIGKILL to every process (again:
    /// one may have forked between a scan and a signal). True once it has ended.
    fn kill_round(&mut self) -> bool {
        self.signal(Signal::SIGKILL);
        self.exited().is_some()
    }

    /// SIGKILL every process of the node and wait (up to 2 s, on the runtime's
    /// timer) until the launcher is reaped and no marked process is left.
    pub async fn kill(&mut self) {
        crate::wait::until(KILL_WAIT, POLL, || self.kill_round()).await;
    }

    /// [`Proc::kill`] for code with no runtime to wait on: `Drop` (which cannot
    /// await). Blocks the calling thread up to 2 s.
    pub fn kill_blocking(&mut self) {
        crate::wait::until_blocking(KILL_WAIT, POLL, || self.kill_round());
    }

    /// Ask the node to stop: SIGCONT (a paused node cannot act on SIGTERM), then SIGTERM.
    pub fn request_stop(&mut self) {
        self.signal(Signal::SIGCONT);
        self.signal(Signal::SIGTERM);
    }

    /// SIGTERM, wait up to `grace`, then SIGKILL. Returns how it ended.
    pub async fn stop(&mut self, grace: Duration) -> String {
        stop_all(vec![(self, grace)])
            .await
            .pop()
            .unwrap_or_default()
    }
}

/// How often a wait for a node to end looks again (its members are not all our
/// children, so the wait polls /proc).
const POLL: Duration = Duration::from_millis(20);
/// How long a SIGKILLed node may take to disappear.
const KILL_WAIT: Duration = Duration::from_secs(2);

/// Stop several nodes together: SIGTERM to all at once, then each gets its
/// `grace` from that same instant (teardown takes the longest grace, not their
/// sum), then SIGKILL for the ones still running. One line per node, in order.
/// Waits on the runtime's timer: the worker thread stays free for the rest of
/// the run (observers, workload clients) the whole time.
pub async fn stop_all(mut procs: Vec<(&mut Proc, Duration)>) -> Vec<String> {
    let t0 = Instant::now();
    for (p, _) in procs.iter_mut() {
        if p.exited().is_none() {
            p.request_stop();
        }
    }
    let mut out: Vec<Option<String>> = vec![None; procs.len()];
    loop {
        let mut pending = false;
        for (i, (p, grace)) in procs.iter_mut().enumerate() {
            if out[i].is_some() {
                continue;
            }
            if let Some(e) = p.exited() {
                out[i] = Some(e.to_string());
            } else if t0.elapsed() >= *grace {
                p.kill().await;
                out[i] = Some(format!(
                    "did not stop within {} ms; killed",
                    grace.as_millis()
                ));
            } else {
                pending = true;
            }
        }
        if !pending {
            break;
        }
        tokio::time::sleep(POLL).await;
    }
    out.into_iter().map(Option::unwrap_or_default).collect()
}

/// Run `f` to its end from synchronous code that is not on a runtime worker:
/// a `spawn_blocking` thread (builds) uses its runtime, a thread with none
/// (the runner's prebuild, `raft-harness clean`) a small one of its own.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    match tokio::runtime::Handle::try_current() {
        Ok(h) => h.block_on(f),
        Err(_) => tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a current-thread tokio runtime")
            .block_on(f),
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.exited().is_none() {
            self.kill_blocking();
        }
    }
}

pub fn describe_exit(st: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (st.code(), st.signal()) {
        (Some(c), _) => format!("exited with code {c}"),
        (_, Some(s)) => format!(
            "killed by signal {}",
            Signal::try_from(s)
                .map(|s| s.as_str().to_string())
                .unwrap_or_else(|_| s.to_string())
        ),
        _ => "exited".into(),
    }
}

/// A run's state file (`STATE_DIR/RUN_ID.json`): its claim on the nodes'
/// addresses, written before the run cleans ports or builds anything, and the
/// node processes it started. Removed when the run ends.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunState {
    pub run_id: String,
    pub harness_pid: i32,
    pub harness_start: u64,
    /// Suite name and file, and the report folder of the run.
    #[serde(default)]
    pub suite: String,
    #[serde(default)]
    pub report_dir: String,
    /// Every node address the run will listen on.
    #[serde(default)]
    pub addrs: Vec<std::net::SocketAddr>,
    pub children: Vec<ChildRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChildRecord {
    pub pid: i32,
    pub start_time: u64,
    pub node: u32,
}

/// `$RAFT_HARNESS_STATE_DIR`, default `$TMPDIR/raft-harness-state-<uid>`.
pub fn state_dir() -> PathBuf {
    if let Ok(d) = std::env::var("RAFT_HARNESS_STATE_DIR") {
        return PathBuf::from(d);
    }
    std::env::temp_dir().join(format!("raft-harness-state-{}", nix::unistd::getuid()))
}

/// The state dir of another live harness process (from its environment, as
/// [`state_dir`] computes ours), if its environment can be read.
pub fn state_dir_of(owner: Owner) -> Option<PathBuf> {
    let mut env = ports::environ(owner.pid)?;
    if let Some(d) = env.remove("RAFT_HARNESS_STATE_DIR") {
        return Some(PathBuf::from(d));
    }
    let tmp = env.remove("TMPDIR").unwrap_or_else(|| "/tmp".into());
    Some(Path::new(&tmp).join(format!("raft-harness-state-{}", ports::uid_of(owner.pid)?)))
}

/// The error for a state dir the harness cannot use (exit 3 at the call sites).
pub fn state_dir_error(path: &Path, e: impl std::fmt::Display) -> String {
    format!(
        "the harness state dir {} is not usable: {e}\n  set RAFT_HARNESS_STATE_DIR to a writable folder",
        path.display()
    )
}

impl RunState {
    pub fn new(run_id: &str) -> Self {
        let o = me();
        RunState {
            run_id: run_id.to_string(),
            harness_pid: o.pid,
            harness_start: o.start,
            ..Default::default()
        }
    }

    /// The state file of `run_id` in the state dir, if it exists and parses.
    pub fn load(run_id: &str) -> Option<RunState> {
        Self::load_in(&state_dir(), run_id)
    }

    /// The state file of `run_id` in `dir`, if it exists and parses.
    pub fn load_in(dir: &Path, run_id: &str) -> Option<RunState> {
        let path = dir.join(format!("{run_id}.json"));
        serde_json::from_slice(&std::fs::read(path).ok()?).ok()
    }

    pub fn owner(&self) -> Owner {
        Owner {
            pid: self.harness_pid,
            start: self.harness_start,
        }
    }

    fn path(&self) -> PathBuf {
        state_dir().join(format!("{}.json", self.run_id))
    }

    pub fn record(&mut self, node: u32, p: &Proc) {
        self.children.push(ChildRecord {
            pid: p.pid,
            start_time: p.start_time,
            node,
        });
        // The claim was written at the start, so the dir works; the node carries
        // its marker, which is what finds it later, so a failed update is not fatal.
        if let Err(e) = self.save() {
            tracing::warn!("{e}");
        }
    }

    /// Write the file atomically (temp file + rename). Err names the path.
    pub fn save(&self) -> Result<(), String> {
        let dir = state_dir();
        std::fs::create_dir_all(&dir).map_err(|e| state_dir_error(&dir, e))?;
        let tmp = dir.join(format!(".{}.tmp", self.run_id));
        let text = serde_json::to_vec(self).map_err(|e| e.to_string())?;
        std::fs::write(&tmp, text).map_err(|e| state_dir_error(&tmp, e))?;
        std::fs::rename(&tmp, self.path()).map_err(|e| state_dir_error(&self.path(), e))
    }

    pub fn remove(&self) {
        let _ = std::fs::remove_file(self.path());
    }
}

/// Every parseable state file in the state dir. A missing dir is empty; a dir
/// that exists but cannot be read is an error naming it.
pub fn run_states() -> Result<Vec<(PathBuf, RunState)>, String> {
    let dir = state_dir();
    let entries = match std::fs::read_dir(&dir) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(state_dir_error(&dir, e)),
    };
    Ok(entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter_map(|p| {
            let st = serde_json::from_slice::<RunState>(&std::fs::read(&p).ok()?).ok()?;
            Some((p, st))
        })
        .collect())
}

/// End every process of this user whose run is dead (the one rule of
/// [`ports::classify`]: found by marker, so daemonized nodes of a SIGKILLed
/// harness are found too), all with one `grace`; remove the dead runs' state
/// files. Live runs, ours included, are never touched. Returns what was done.
pub async fn reap_leftover_runs(grace: Duration) -> Result<Vec<String>, String> {
    let uid = nix::unistd::getuid().as_raw();
    let alive = |o: &Owner| o.alive();
    let marked = ports::marked(|_| true);
    let mine: Vec<&ports::Holder> = marked
        .iter()
        .filter(|h| ports::marked_by(h, uid, &alive) == Some(ports::MarkedBy::DeadRun))
        .collect();
    let mut said = Vec::new();
    let mut by_node: std::collections::BTreeMap<(String, u32), Vec<i32>> = Default::default();
    for h in &mine {
        if let Some(m) = &h.marker {
            by_node
                .entry((m.run.clone(), m.node))
                .or_default()
                .push(h.pid);
        }
    }
    for ((run, node), pids) in &by_node {
        said.push(format!(
            "ending node {node} (pids {pids:?}) left by raft-harness run {run}, whose harness is gone"
        ));
    }
    let pids: Vec<i32> = mine.iter().map(|h| h.pid).collect();
    ports::terminate_all(&pids, grace).await;
    for (path, st) in run_states()? {
        if !st.owner().alive() {
            let _ = std::fs::remove_file(path);
        }
    }
    Ok(said)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wait::until_blocking;

    /// Tests in one process share the harness identity: each uses its own run id.
    fn launch(dir: &Path, run: &str, node: u32, script: &str) -> Launch {
        Launch {
            argv: vec!["sh".into(), "-c".into(), script.into()],
            env: Vec::new(),
            cwd: dir.to_path_buf(),
            log: dir.join(format!("{node}.log")),
            output: logcap::NodeLog::new(
                &dir.join(format!("{node}.log")),
                logcap::Cap::total(logcap::DEFAULT_CAP_BYTES),
            ),
            run_id: run.into(),
            node,
        }
    }

    #[test]
    fn a_daemonized_node_runs_until_its_last_marked_process_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        // The launcher double-forks a server into its own session and exits at once.
        let mut p = Proc::spawn(
            launch(dir.path(), "daemon", 1, "( setsid sleep 60 & ); exit 0"),
            1,
        )
        .unwrap();
        // The launcher exits at once, but for a moment the subshell that forked the daemon
        // is still exiting (2 members) or the daemon is between fork and exec (0): wait for
        // the steady state, the launcher gone and exactly the daemon marked.
        let mut daemon: Vec<i32> = Vec::new();
        let settled = until_blocking(Duration::from_secs(20), POLL, || {
            daemon = p.members();
            !ports::is_alive(p.pid)
                && daemon.len() == 1
                && ports::marker_of(daemon[0]).as_ref() == Some(&p.marker)
        });
        assert!(
            settled,
            "the daemon carries the node's marker, alone, once the launcher is gone: {daemon:?}"
        );
        assert_eq!(p.marker.incarnation, 1);
        assert_eq!(
            p.exited(),
            None,
            "launcher gone, daemon alive: still running"
        );
        p.kill_blocking();
        assert!(p.exited().is_some());
        assert!(!ports::is_alive(daemon[0]), "kill did not reach the daemon");
    }

    /// A node that ignores SIGTERM, started and ready (its trap is set).
    fn stubborn(dir: &Path, run: &str, n: u32) -> Proc {
        // It says when its trap is set: a SIGTERM before that would end it at once.
        let script = "trap '' TERM; touch ready.$0; while :; do sleep 0.05; done";
        let mut l = launch(dir, run, n, script);
        l.argv.push(n.to_string());
        let p = Proc::spawn(l, 1).unwrap();
        let ready = dir.join(format!("ready.{n}"));
        assert!(until_blocking(Duration::from_secs(20), POLL, || ready.exists()));
        p
    }

    /// Issue 16 §3: stopping a node waits on the runtime's timer. On a
    /// single-threaded runtime a blocking wait would starve every other task
    /// for the whole grace period (0 ticks); an async one lets them run.
    #[tokio::test(flavor = "current_thread")]
    async fn stopping_a_node_that_ignores_sigterm_leaves_the_runtime_running() {
        use std::sync::atomic::{AtomicU64, Ordering};
        use std::sync::Arc;
        let dir = tempfile::tempdir().unwrap();
        let mut p = stubborn(dir.path(), "ticking", 1);
        let ticks = Arc::new(AtomicU64::new(0));
        let t = ticks.clone();
        let ticker = tokio::spawn(async move {
            loop {
                t.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        });
        tokio::task::yield_now().await;
        let before = ticks.load(Ordering::SeqCst);
        let how = p.stop(Duration::from_millis(500)).await;
        let during = ticks.load(Ordering::SeqCst) - before;
        ticker.abort();
        assert_eq!(how, "did not stop within 500 ms; killed");
        assert!(p.exited().is_some() && p.members().is_empty());
        // The stop waits in 20 ms steps over a 500 ms grace: the ticker runs in each.
        assert!(
            during >= 5,
            "the ticker ran {during} times while the node was stopped"
        );
    }

    #[tokio::test]
    async fn stop_all_gives_nodes_that_ignore_sigterm_one_grace_together() {
        let dir = tempfile::tempdir().unwrap();
        let mut procs: Vec<Proc> = (1..=3)
            .map(|n| stubborn(dir.path(), "stubborn", n))
            .collect();
        let grace = Duration::from_millis(1000);
        let t = Instant::now();
        let lines = stop_all(procs.iter_mut().map(|p| (p, grace)).collect()).await;
        let took = t.elapsed();
        assert_eq!(lines, vec!["did not stop within 1000 ms; killed"; 3]);
        // One grace for all (~1 s), not one each (3 s); a generous bound for a loaded machine.
        assert!(took < grace * 5 / 2, "stopping 3 nodes took {took:?}");
        for p in procs.iter_mut() {
            assert!(p.exited().is_some() && p.members().is_empty());
        }
    }
}

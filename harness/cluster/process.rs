//! Starting and ending node processes so that none outlives the harness.
//!
//! Every child: its own process group, stdin null, stdout+stderr appended to
//! its log file, the `RAFT_HARNESS_RUN` marker in its environment, and a
//! parent-death signal (SIGKILL) so the kernel ends it if the harness dies.
//! The parent-death signal fires when the *thread* that forked the child
//! exits, so all forks happen on one spawner thread that lives as long as the
//! process. A state file per run (pids + start times) lets the next run end
//! leftovers of a harness that was itself SIGKILLed, with certainty.
use crate::ports;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Mutex, OnceLock};
use std::time::Duration;

/// Process groups of every live child, for the panic hook and a second Ctrl+C.
static LIVE_GROUPS: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());

/// SIGKILL every child group still alive. Safe to call from a panic hook.
pub fn kill_all_now() {
    let groups = match LIVE_GROUPS.lock() {
        Ok(g) => g.clone(),
        Err(p) => p.into_inner().clone(),
    };
    for g in groups {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(g),
            nix::sys::signal::Signal::SIGKILL,
        );
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
    pub run_id: String,
}

type SpawnReply = mpsc::Sender<std::io::Result<std::process::Child>>;

fn spawner() -> &'static Mutex<mpsc::Sender<(Launch, SpawnReply)>> {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<(Launch, SpawnReply)>>> = OnceLock::new();
    SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<(Launch, SpawnReply)>();
        std::thread::Builder::new()
            .name("raft-harness-spawner".into())
            .spawn(move || {
                for (l, reply) in rx {
                    let _ = reply.send(spawn_here(&l));
                }
            })
            .expect("spawner thread");
        Mutex::new(tx)
    })
}

fn spawn_here(l: &Launch) -> std::io::Result<std::process::Child> {
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&l.log)?;
    writeln!(
        log,
        "=== raft-harness {}: starting {}",
        chrono::Local::now().format("%H:%M:%S%.3f"),
        l.argv.join(" ")
    )?;
    let err = log.try_clone()?;
    let (prog, args) = l
        .argv
        .split_first()
        .ok_or_else(|| std::io::Error::other("empty command"))?;
    let mut cmd = Command::new(resolve(prog, &l.cwd));
    cmd.args(args)
        .current_dir(&l.cwd)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err)
        .env(ports::MARKER, &l.run_id)
        .process_group(0);
    for (k, v) in &l.env {
        cmd.env(k, v);
    }
    let parent = std::process::id() as i32;
    // SAFETY: pre_exec runs between fork and exec; it only makes async-signal-safe
    // system calls (prctl, getppid, _exit).
    unsafe {
        cmd.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
                .map_err(std::io::Error::from)?;
            // The harness may have died between fork and prctl: then nobody will end us.
            if nix::unistd::getppid().as_raw() != parent {
                nix::libc::_exit(1);
            }
            Ok(())
        });
    }
    let child = cmd.spawn()?;
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

/// A running (or exited) child of the harness.
#[derive(Debug)]
pub struct Proc {
    child: std::process::Child,
    pub pid: i32,
    pub start_time: u64,
    exit: Option<String>,
}

impl Proc {
    pub fn spawn(l: Launch) -> std::io::Result<Proc> {
        let (tx, rx) = mpsc::channel();
        spawner()
            .lock()
            .map_err(|_| std::io::Error::other("spawner lock poisoned"))?
            .send((l, tx))
            .map_err(|_| std::io::Error::other("spawner thread is gone"))?;
        let child = rx
            .recv()
            .map_err(|_| std::io::Error::other("spawner thread is gone"))??;
        let pid = child.id() as i32;
        Ok(Proc {
            child,
            pid,
            start_time: ports::start_time(pid).unwrap_or(0),
            exit: None,
        })
    }

    /// None while running; the exit description once it has exited (reaps it).
    pub fn exited(&mut self) -> Option<&str> {
        if self.exit.is_none() {
            if let Ok(Some(st)) = self.child.try_wait() {
                forget_group(self.pid);
                self.exit = Some(describe_exit(st));
            }
        }
        self.exit.as_deref()
    }

    pub fn signal(&self, sig: nix::sys::signal::Signal) {
        if self.exit.is_none() {
            let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(self.pid), sig);
        }
    }

    /// SIGKILL the whole group and reap.
    pub fn kill(&mut self) {
        self.signal(nix::sys::signal::Signal::SIGKILL);
        let _ = self.child.wait();
        self.exited();
    }

    /// SIGTERM, wait up to `grace`, then SIGKILL. Returns how it ended.
    pub fn stop(&mut self, grace: Duration) -> String {
        use nix::sys::signal::Signal;
        if self.exited().is_none() {
            self.signal(Signal::SIGCONT);
            self.signal(Signal::SIGTERM);
            let deadline = std::time::Instant::now() + grace;
            while self.exited().is_none() && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            if self.exited().is_none() {
                self.kill();
                // The group may hold helpers that outlived the leader; end them too.
                self.signal(Signal::SIGKILL);
                return format!("did not stop within {} ms; killed", grace.as_millis());
            }
        }
        // The leader exited; members of its group that remain are ended too.
        let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(self.pid), Signal::SIGKILL);
        self.exit.clone().unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.exited().is_none() {
            self.kill();
        }
        // Group members that outlived the leader (a launcher script's child).
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(self.pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

pub fn describe_exit(st: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (st.code(), st.signal()) {
        (Some(c), _) => format!("exited with code {c}"),
        (_, Some(s)) => format!(
            "killed by signal {}",
            nix::sys::signal::Signal::try_from(s)
                .map(|s| s.as_str().to_string())
                .unwrap_or_else(|_| s.to_string())
        ),
        _ => "exited".into(),
    }
}

/// The record of one run's children, kept while the run lasts.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunState {
    pub run_id: String,
    pub harness_pid: i32,
    pub harness_start: u64,
    pub children: Vec<ChildRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChildRecord {
    pub pid: i32,
    pub start_time: u64,
    pub node: u32,
}

pub fn state_dir() -> PathBuf {
    if let Ok(d) = std::env::var("RAFT_HARNESS_STATE_DIR") {
        return PathBuf::from(d);
    }
    std::env::temp_dir().join(format!("raft-harness-state-{}", nix::unistd::getuid()))
}

impl RunState {
    pub fn new(run_id: &str) -> Self {
        let me = std::process::id() as i32;
        RunState {
            run_id: run_id.to_string(),
            harness_pid: me,
            harness_start: ports::start_time(me).unwrap_or(0),
            children: Vec::new(),
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
        self.save();
    }
    pub fn save(&self) {
        let dir = state_dir();
        let _ = std::fs::create_dir_all(&dir);
        let tmp = dir.join(format!(".{}.tmp", self.run_id));
        if let Ok(text) = serde_json::to_vec(self) {
            if std::fs::write(&tmp, text).is_ok() {
                let _ = std::fs::rename(&tmp, self.path());
            }
        }
    }
    pub fn remove(&self) {
        let _ = std::fs::remove_file(self.path());
    }
}

/// End the children of earlier runs whose harness is gone (e.g. it was SIGKILLed).
/// A child is ended only if its PID, start time and marker all match the record.
pub fn reap_leftover_runs(grace: Duration) -> Vec<String> {
    let mut said = Vec::new();
    let Ok(dir) = std::fs::read_dir(state_dir()) else {
        return said;
    };
    for ent in dir.flatten() {
        let path = ent.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let Some(st) = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<RunState>(&b).ok())
        else {
            continue;
        };
        let harness_alive = ports::is_alive(st.harness_pid)
            && ports::start_time(st.harness_pid) == Some(st.harness_start);
        if harness_alive {
            continue; // another run in progress: its children are its own business
        }
        for c in &st.children {
            let same = ports::is_alive(c.pid)
                && ports::start_time(c.pid) == Some(c.start_time)
                && ports::marker_of(c.pid).as_deref() == Some(st.run_id.as_str());
            if same {
                ports::terminate(c.pid, grace);
                said.push(format!(
                    "ended node {} (pid {}) left running by earlier run {}",
                    c.node, c.pid, st.run_id
                ));
            }
        }
        let _ = std::fs::remove_file(&path);
    }
    said
}

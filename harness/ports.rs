//! Who holds a port, which processes belong to which harness run, and which
//! holders the harness may end.
//!
//! Replaces the original project's `lsof -i :PORT` / `kill -9` ritual. Holders
//! are found from /proc (never by shelling out), read with the `procfs` crate:
//! `/proc/net/tcp{,6}` maps a listening address to a socket inode,
//! `/proc/PID/fd` maps the inode to a PID, and `/proc/PID/{stat,status,cmdline,
//! environ}` give a process's start time, real uid, command line and marker.
//!
//! Every process a node starts carries the run marker ([`MARKER`]) in its
//! environment, inherited through `setsid`, double forks and `exec`: its value
//! ([`Marker`]) names the run (with its harness's pid and start time), the node
//! and the incarnation. A node is the set of live processes carrying its marker.
//! We use the environment rather than a cgroup because it needs no privileges
//! and no delegated cgroup2 hierarchy (absent in many CI containers); the one
//! way out of it, a process that clears its own environment, is not something
//! a Raft server does.
//!
//! Policy (see [`classify`]), one rule everywhere: a marked process is a
//! leftover only if the harness run that started it is dead (pid + start time);
//! a live run's processes are never touched. A process of this user that runs
//! this port's node program is a hand-started server and is ended (and said so).
//! Anything else, including any process of another user, is a stranger.
use procfs::process::{FDTarget, ProcState, Process};
use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

/// Set in the environment of every process the harness starts; its value is a [`Marker`].
pub const MARKER: &str = "RAFT_HARNESS_RUN";

/// The harness process that owns a run: its pid and start time (clock ticks
/// since boot, field 22 of /proc/PID/stat), which together identify it even if
/// the pid is reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Owner {
    pub pid: i32,
    pub start: u64,
}

impl Owner {
    /// This process.
    pub fn me() -> Owner {
        let pid = std::process::id() as i32;
        Owner {
            pid,
            start: start_time(pid).unwrap_or(0),
        }
    }

    /// The harness process is still running (alive, not a zombie, same start time).
    pub fn alive(&self) -> bool {
        is_alive(self.pid) && start_time(self.pid) == Some(self.start)
    }
}

/// Value of [`MARKER`]: `RUN_ID/NODE/INCARNATION/HARNESS_PID.HARNESS_START`,
/// e.g. `20261130-074500-4242/2/1/4242.123456`. The run id contains no `/`.
/// Incarnation counts the node's starts in the run, from 1.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Marker {
    pub run: String,
    pub node: u32,
    pub incarnation: u32,
    pub owner: Owner,
}

impl Marker {
    /// The one parser of marker values. None for anything not of the form above.
    pub fn parse(s: &str) -> Option<Marker> {
        let mut it = s.split('/');
        let run = it.next().filter(|r| !r.is_empty())?.to_string();
        let node = it.next()?.parse().ok()?;
        let incarnation = it.next()?.parse().ok()?;
        let (pid, start) = it.next()?.split_once('.')?;
        if it.next().is_some() {
            return None;
        }
        Some(Marker {
            run,
            node,
            incarnation,
            owner: Owner {
                pid: pid.parse().ok()?,
                start: start.parse().ok()?,
            },
        })
    }
}

impl fmt::Display for Marker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/{}.{}",
            self.run, self.node, self.incarnation, self.owner.pid, self.owner.start
        )
    }
}

/// A process that holds a port or carries a marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: i32,
    /// Real uid (from /proc/PID/status).
    pub uid: u32,
    pub cmdline: Vec<String>,
    /// The harness marker in the process's environment, if any (and well-formed).
    pub marker: Option<Marker>,
}

impl Holder {
    /// Read what /proc says about `pid`; None if it is gone or not readable.
    pub fn of(pid: i32) -> Option<Holder> {
        Some(Holder {
            pid,
            uid: uid_of(pid)?,
            cmdline: cmdline(pid),
            marker: marker_of(pid),
        })
    }

    pub fn command_line(&self) -> String {
        if self.cmdline.is_empty() {
            "<unknown command>".into()
        } else {
            self.cmdline.join(" ")
        }
    }
}

/// One row of /proc/net/tcp{,6} in state LISTEN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listener {
    pub addr: IpAddr,
    pub port: u16,
    pub inode: u64,
}

/// Two listening addresses on one port conflict when they are equal or either
/// is a wildcard (0.0.0.0 or ::). IPv4-mapped IPv6 addresses count as IPv4.
pub fn conflicts(a: IpAddr, b: IpAddr) -> bool {
    let norm = |ip: IpAddr| match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    let (a, b) = (norm(a), norm(b));
    a.is_unspecified() || b.is_unspecified() || a == b
}

/// Socket inodes listening on `port` at an address that conflicts with `addr`
/// (IPv4 or IPv6 tables of this network namespace).
pub fn listening_inodes(addr: IpAddr, port: u16) -> BTreeSet<u64> {
    let tables = [procfs::net::tcp(), procfs::net::tcp6()];
    tables
        .into_iter()
        .flatten()
        .flat_map(listeners)
        .filter(|l| l.port == port && conflicts(l.addr, addr))
        .map(|l| l.inode)
        .collect()
}

/// Parse one /proc/net/tcp or tcp6 table: the rows in state LISTEN. Addresses
/// are hex words in host byte order (`0100007F:1389` = 127.0.0.1:5001). A table
/// that does not parse is empty.
pub fn parse_listeners(text: &str) -> Vec<Listener> {
    use procfs::FromBufReadSI;
    procfs::net::TcpNetEntries::from_buf_read(text.as_bytes(), procfs::current_system_info())
        .map(|t| listeners(t.0))
        .unwrap_or_default()
}

fn listeners(rows: Vec<procfs::net::TcpNetEntry>) -> Vec<Listener> {
    rows.into_iter()
        .filter(|r| r.state == procfs::net::TcpState::Listen && r.inode != 0)
        .map(|r| Listener {
            addr: r.local_address.ip(),
            port: r.local_address.port(),
            inode: r.inode,
        })
        .collect()
}

/// Every process in /proc.
fn processes() -> Vec<Process> {
    procfs::process::all_processes()
        .map(|it| it.flatten().collect())
        .unwrap_or_default()
}

/// Processes holding any of `inodes` open (those whose fds we may read).
pub fn holders_of(inodes: &BTreeSet<u64>) -> Vec<Holder> {
    if inodes.is_empty() {
        return Vec::new();
    }
    let holds = |p: &Process| {
        p.fd().is_ok_and(|fds| {
            fds.flatten()
                .any(|fd| matches!(fd.target, FDTarget::Socket(i) if inodes.contains(&i)))
        })
    };
    processes()
        .into_iter()
        .filter(holds)
        .filter_map(|p| Holder::of(p.pid))
        .collect()
}

/// Processes listening on `addr:port` (or on a conflicting wildcard address).
pub fn holders(addr: IpAddr, port: u16) -> Vec<Holder> {
    holders_of(&listening_inodes(addr, port))
}

/// Every live process that carries a well-formed marker accepted by `keep`
/// (scans /proc/*/environ; processes we may not read are skipped).
pub fn marked(keep: impl Fn(&Marker) -> bool) -> Vec<Holder> {
    processes()
        .into_iter()
        .filter(|p| marker_in(p).is_some_and(|m| keep(&m)) && alive(p))
        .filter_map(|p| Holder::of(p.pid))
        .collect()
}

/// The command line of `pid` (empty if it is gone, unreadable or a kernel thread).
pub fn cmdline(pid: i32) -> Vec<String> {
    Process::new(pid)
        .and_then(|p| p.cmdline())
        .unwrap_or_default()
}

/// The environment of `pid` (lossily decoded), if it can be read.
pub fn environ(pid: i32) -> Option<std::collections::HashMap<String, String>> {
    let env = Process::new(pid).ok()?.environ().ok()?;
    let s = |o: std::ffi::OsString| o.to_string_lossy().into_owned();
    Some(env.into_iter().map(|(k, v)| (s(k), s(v))).collect())
}

/// The parsed marker in the environment of `pid`, if any.
pub fn marker_of(pid: i32) -> Option<Marker> {
    marker_in(&Process::new(pid).ok()?)
}

fn marker_in(p: &Process) -> Option<Marker> {
    let env = p.environ().ok()?;
    Marker::parse(env.get(std::ffi::OsStr::new(MARKER))?.to_str()?)
}

/// Real uid of `pid` (the `Uid:` line of /proc/PID/status).
pub fn uid_of(pid: i32) -> Option<u32> {
    Some(Process::new(pid).ok()?.status().ok()?.ruid)
}

/// Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat):
/// with the PID it identifies a process for certain, even if the PID is reused.
pub fn start_time(pid: i32) -> Option<u64> {
    Some(Process::new(pid).ok()?.stat().ok()?.starttime)
}

/// Alive and not a zombie.
pub fn is_alive(pid: i32) -> bool {
    Process::new(pid).is_ok_and(|p| alive(&p))
}

fn alive(p: &Process) -> bool {
    p.stat()
        .and_then(|s| s.state())
        .is_ok_and(|st| !matches!(st, ProcState::Zombie | ProcState::Dead))
}

/// What to do about one process holding a port the spec needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Started by a raft-harness run of this user that is dead: end it.
    Leftover(Marker),
    /// Started by a raft-harness run that is still running: never touched,
    /// and the port cannot be used.
    LiveRun(Marker),
    /// This user's process running this port's node program (started by hand): end it, and say so.
    HandStarted,
    /// Anything else, including every process of another user: never touched.
    Stranger,
}

/// The word that identifies a node program in a command template: the last
/// argument before the first placeholder that is not an option, by file name
/// (`target/release/rust-node` → `rust-node`, `python raft_server.py` → `raft_server.py`).
pub fn program_name(template: &[String]) -> Option<String> {
    template
        .iter()
        .take_while(|a| !a.contains('{'))
        .filter(|a| !a.starts_with('-'))
        .last()
        .and_then(|a| Path::new(a).file_name())
        .map(|s| s.to_string_lossy().into_owned())
}

/// The program names that identify a hand-started server of a kind: the
/// command's own ([`program_name`]) and the kind's extra `programs` (e.g. the
/// `raft-node.jar` that `java-node/run.sh` executes).
pub fn program_names(template: &[String], extra: &[String]) -> Vec<String> {
    program_name(template)
        .into_iter()
        .chain(extra.iter().cloned())
        .collect()
}

/// How a marked process stands: its run is alive, or dead (then it is ours to
/// end only if it is this user's). The one leftover rule, used by [`classify`]
/// and `process::reap_leftover_runs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkedBy {
    LiveRun,
    /// Run dead, process of this user: a leftover to end.
    DeadRun,
    /// Run dead, process of another user: never touched.
    OtherUsersDeadRun,
}

/// None for an unmarked process. `me` is this user's uid; `alive` tells whether
/// a run's harness still runs (production: [`Owner::alive`]).
pub fn marked_by(h: &Holder, me: u32, alive: &dyn Fn(&Owner) -> bool) -> Option<MarkedBy> {
    let m = h.marker.as_ref()?;
    Some(if alive(&m.owner) {
        MarkedBy::LiveRun
    } else if h.uid == me {
        MarkedBy::DeadRun
    } else {
        MarkedBy::OtherUsersDeadRun
    })
}

/// Judge one holder of `port` (see [`marked_by`] for `me` and `alive`).
/// A marked process is a leftover only if its run is dead and it is ours.
pub fn classify(
    h: &Holder,
    port: u16,
    programs: &[String],
    me: u32,
    alive: &dyn Fn(&Owner) -> bool,
) -> Verdict {
    if let (Some(m), Some(by)) = (&h.marker, marked_by(h, me, alive)) {
        return match by {
            MarkedBy::LiveRun => Verdict::LiveRun(m.clone()),
            MarkedBy::DeadRun => Verdict::Leftover(m.clone()),
            MarkedBy::OtherUsersDeadRun => Verdict::Stranger,
        };
    }
    if h.uid != me {
        return Verdict::Stranger;
    }
    let runs_prog = h.cmdline.iter().any(|a| {
        Path::new(a)
            .file_name()
            .is_some_and(|f| programs.iter().any(|p| f.to_string_lossy() == p.as_str()))
    });
    let has_port = h.cmdline.contains(&port.to_string());
    if runs_prog && has_port {
        Verdict::HandStarted
    } else {
        Verdict::Stranger
    }
}

/// Send `sig` to `pid`, and to its process group when it leads one (harness
/// children and shell jobs do), so helpers it forked get it too.
pub fn signal(pid: i32, sig: nix::sys::signal::Signal) {
    use nix::sys::signal::{kill, killpg};
    use nix::unistd::{getpgid, Pid};
    let p = Pid::from_raw(pid);
    if getpgid(Some(p)).is_ok_and(|g| g == p) {
        let _ = killpg(p, sig);
    }
    let _ = kill(p, sig);
}

/// SIGCONT + SIGTERM to every pid (and the groups they lead) at once, one
/// `grace` for all, then SIGKILL to the ones still alive; waits up to 2 s more
/// for them to go. Waits on the runtime's timer (never blocks a worker thread):
/// these pids are not our children, so the wait polls /proc every 20 ms.
pub async fn terminate_all(pids: &[i32], grace: Duration) {
    use nix::sys::signal::Signal;
    // A stopped process cannot act on SIGTERM: let it run first.
    for &p in pids {
        signal(p, Signal::SIGCONT);
        signal(p, Signal::SIGTERM);
    }
    if gone_within(pids, grace).await {
        return;
    }
    for &p in pids.iter().filter(|p| is_alive(**p)) {
        signal(p, Signal::SIGKILL);
    }
    gone_within(pids, Duration::from_secs(2)).await;
}

/// True once none of `pids` is alive, false if some still are after `limit`.
async fn gone_within(pids: &[i32], limit: Duration) -> bool {
    crate::wait::until(limit, Duration::from_millis(20), || {
        pids.iter().all(|p| !is_alive(*p))
    })
    .await
}

/// [`terminate_all`] for one process.
pub async fn terminate(pid: i32, grace: Duration) {
    terminate_all(&[pid], grace).await
}

#[cfg(test)]
mod tests;

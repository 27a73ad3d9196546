//! Who holds a port, and which holders the harness may end.
//!
//! Replaces the original project's `lsof -i :PORT` / `kill -9` ritual. Holders
//! are found from /proc (never by shelling out): `/proc/net/tcp{,6}` maps a
//! listening port to a socket inode, `/proc/PID/fd` maps the inode to a PID.
//! Policy (see `classify`): a leftover of an earlier harness run is ended; a
//! process running the node command of that port (a server started by hand) is
//! ended and said so; anything else is never touched.
use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

/// Set in the environment of every process the harness starts; its value is the run id.
pub const MARKER: &str = "RAFT_HARNESS_RUN";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: i32,
    pub cmdline: Vec<String>,
    /// Value of the harness marker in the process's environment, if any.
    pub marker: Option<String>,
}

impl Holder {
    pub fn command_line(&self) -> String {
        if self.cmdline.is_empty() {
            "<unknown command>".into()
        } else {
            self.cmdline.join(" ")
        }
    }
}

/// Socket inodes listening on `port` (any local address, IPv4 or IPv6).
pub fn listening_inodes(port: u16) -> BTreeSet<u64> {
    let mut out = BTreeSet::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        if let Ok(text) = std::fs::read_to_string(table) {
            out.extend(parse_listeners(&text, port));
        }
    }
    out
}

/// Parse one /proc/net/tcp table: rows in state 0A (LISTEN) on `port`.
pub fn parse_listeners(text: &str, port: u16) -> Vec<u64> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
            let local = cols.get(1)?;
            let state = cols.get(3)?;
            let inode = cols.get(9)?.parse::<u64>().ok()?;
            let p = u16::from_str_radix(local.rsplit_once(':')?.1, 16).ok()?;
            (*state == "0A" && p == port && inode != 0).then_some(inode)
        })
        .collect()
}

/// Processes holding any of `inodes` open.
pub fn holders_of(inodes: &BTreeSet<u64>) -> Vec<Holder> {
    let mut out = Vec::new();
    if inodes.is_empty() {
        return out;
    }
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for ent in dir.flatten() {
        let Some(pid) = ent.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(ent.path().join("fd")) else {
            continue;
        };
        let holds = fds.flatten().any(|fd| {
            std::fs::read_link(fd.path())
                .ok()
                .and_then(|l| {
                    let s = l.to_string_lossy().into_owned();
                    s.strip_prefix("socket:[")?
                        .strip_suffix(']')?
                        .parse::<u64>()
                        .ok()
                })
                .is_some_and(|ino| inodes.contains(&ino))
        });
        if holds {
            out.push(Holder {
                pid,
                cmdline: cmdline(pid),
                marker: marker_of(pid),
            });
        }
    }
    out
}

pub fn holders(port: u16) -> Vec<Holder> {
    holders_of(&listening_inodes(port))
}

pub fn cmdline(pid: i32) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| {
            b.split(|c| *c == 0)
                .filter(|s| !s.is_empty())
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

pub fn marker_of(pid: i32) -> Option<String> {
    let env = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    env.split(|c| *c == 0).find_map(|kv| {
        let kv = String::from_utf8_lossy(kv);
        kv.strip_prefix(MARKER)
            .and_then(|r| r.strip_prefix('='))
            .map(str::to_string)
    })
}

/// Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat):
/// with the PID it identifies a process for certain, even if the PID is reused.
pub fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces and ')'; fields resume after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// Alive and not a zombie.
pub fn is_alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rfind(')')
            .and_then(|i| {
                stat[i + 2..]
                    .split_whitespace()
                    .next()
                    .map(|s| s != "Z" && s != "X")
            })
            .unwrap_or(false),
        Err(_) => false,
    }
}

/// What to do about one holder of a port the spec needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Started by an earlier raft-harness run: end it.
    Leftover,
    /// Runs this port's node command (started by hand): end it, and say so.
    HandStarted,
    /// Anything else: never touched.
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

pub fn classify(h: &Holder, port: u16, template: &[String]) -> Verdict {
    if h.marker.is_some() {
        return Verdict::Leftover;
    }
    let port_s = port.to_string();
    let prog = program_name(template);
    let runs_prog = prog.is_some_and(|p| {
        h.cmdline.iter().any(|a| {
            Path::new(a)
                .file_name()
                .is_some_and(|f| f.to_string_lossy() == p)
        })
    });
    let has_port = h.cmdline.contains(&port_s);
    if runs_prog && has_port {
        Verdict::HandStarted
    } else {
        Verdict::Stranger
    }
}

/// SIGTERM, a grace period, then SIGKILL. Signals the process group when the
/// process leads one (harness children do), so helpers it forked die too.
pub fn terminate(pid: i32, grace: Duration) {
    use nix::sys::signal::{kill, killpg, Signal};
    use nix::unistd::{getpgid, Pid};
    let p = Pid::from_raw(pid);
    let leads_group = getpgid(Some(p)).map(|g| g == p).unwrap_or(false);
    let send = |s: Signal| {
        let _ = if leads_group {
            killpg(p, s)
        } else {
            kill(p, s)
        };
    };
    // A stopped process cannot act on SIGTERM: let it run first.
    send(Signal::SIGCONT);
    send(Signal::SIGTERM);
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if !is_alive(pid) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    send(Signal::SIGKILL);
    let deadline = Instant::now() + Duration::from_secs(2);
    while is_alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1389 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1389 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 4343 1 0000000000000000 20 4 30 10 -1
   2: 00000000:138A 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4444 1 0000000000000000 100 0 0 10 0
";

    #[test]
    fn finds_only_listening_sockets_on_the_port() {
        // 0x1389 = 5001; the established connection on 5001 (state 01) is not a holder.
        assert_eq!(parse_listeners(TCP, 5001), vec![4242]);
        assert_eq!(parse_listeners(TCP, 5002), vec![4444]);
        assert!(parse_listeners(TCP, 5003).is_empty());
    }

    fn t(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn classifies_holders() {
        let tmpl = t(&[
            "python-node/.venv/bin/python",
            "python-node/raft_server.py",
            "{id}",
            "{port}",
        ]);
        assert_eq!(program_name(&tmpl).as_deref(), Some("raft_server.py"));
        let marked = Holder {
            pid: 1,
            cmdline: t(&["anything"]),
            marker: Some("r1".into()),
        };
        assert_eq!(classify(&marked, 5001, &tmpl), Verdict::Leftover);
        let by_hand = Holder {
            pid: 2,
            cmdline: t(&["python3", "/x/raft_server.py", "1", "5001"]),
            marker: None,
        };
        assert_eq!(classify(&by_hand, 5001, &tmpl), Verdict::HandStarted);
        // Same program on another port, or another program on this port: a stranger.
        assert_eq!(classify(&by_hand, 5002, &tmpl), Verdict::Stranger);
        let other = Holder {
            pid: 3,
            cmdline: t(&["nginx", "5001"]),
            marker: None,
        };
        assert_eq!(classify(&other, 5001, &tmpl), Verdict::Stranger);
    }

    #[test]
    fn start_time_of_self_is_stable() {
        let me = std::process::id() as i32;
        let a = start_time(me).expect("own stat");
        assert_eq!(Some(a), start_time(me));
        assert!(is_alive(me));
    }
}

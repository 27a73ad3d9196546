//! Before a run, and for `raft-harness clean`: claim the suite's node
//! addresses, end what earlier runs and hand-started servers left on them, and
//! refuse (exit 3, naming it) anything that belongs to a live run or to a
//! stranger.
//!
//! Claims make two runs on one state dir race-free: a run writes its claim
//! (suite, report dir, node addresses, harness pid + start time) into its state
//! file under an exclusive `flock` on the state dir, after checking
//! the live claims of others for overlap. The lock orders simultaneous starts:
//! the run that takes it first wins, the other sees the winner's claim and
//! exits 3 naming it; neither both proceed nor both abort. Runs that use
//! another state dir (or another user's) are still seen through the run marker
//! of their node processes (`ports::classify` → `LiveRun`).
use super::process::{self, state_dir, state_dir_error, RunState};
use crate::ports::{self, Owner, Verdict};
use crate::spec::Spec;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

/// A run's claim on its addresses; dropping it removes the run's state file.
#[derive(Debug)]
pub struct Claim {
    state: RunState,
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.state.remove();
    }
}

/// The address a node of `spec` listens on (`localhost` is 127.0.0.1).
pub fn node_addr(spec: &Spec, port: u16) -> SocketAddr {
    let ip = match spec.cluster.host.as_str() {
        "localhost" => IpAddr::V4(Ipv4Addr::LOCALHOST),
        h => h.parse().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
    };
    SocketAddr::new(ip, port)
}

fn node_addrs(spec: &Spec) -> Vec<(u32, SocketAddr)> {
    spec.nodes
        .iter()
        .map(|n| (n.id, node_addr(spec, n.port)))
        .collect()
}

/// Two runs need the same address (same port, conflicting IPs).
fn overlap(a: SocketAddr, b: SocketAddr) -> bool {
    a.port() == b.port() && ports::conflicts(a.ip(), b.ip())
}

/// `run R (harness pid P, suite S, reports D)`, from the run's state file (in
/// our state dir or the one that harness uses), else from its command line.
pub fn describe_run(run: &str, owner: Owner) -> String {
    let found = RunState::load(run)
        .or_else(|| RunState::load_in(&process::state_dir_of(owner)?, run))
        .filter(|s| s.owner() == owner);
    match found {
        Some(s) => format!(
            "run {run} (harness pid {}, suite {}, reports {})",
            owner.pid, s.suite, s.report_dir
        ),
        None => format!(
            "run {run} (harness pid {}: {})",
            owner.pid,
            ports::cmdline(owner.pid).join(" ")
        ),
    }
}

/// Err naming the first live run (other than `own`) whose claim overlaps `addrs`.
fn check_claims(addrs: &[(u32, SocketAddr)], own: Option<&str>) -> Result<(), String> {
    for (_, st) in process::run_states()? {
        if Some(st.run_id.as_str()) == own || !st.owner().alive() {
            continue;
        }
        for (id, a) in addrs {
            if st.addrs.iter().any(|b| overlap(*a, *b)) {
                return Err(format!(
                    "port {} (node {id}) is claimed by the live raft-harness {}; nothing was touched: wait for that run to end or give this suite other ports",
                    a.port(),
                    describe_run(&st.run_id, st.owner())
                ));
            }
        }
    }
    Ok(())
}

/// Record this run's claim on the spec's addresses, unless a live run claims
/// one of them (Err naming it: exit 3). An unusable state dir is an Err naming
/// its path. Call before cleaning ports or building.
pub fn claim(spec: &Spec, run_id: &str, report_dir: &Path) -> Result<Claim, String> {
    use nix::fcntl::{Flock, FlockArg};
    let dir = state_dir();
    std::fs::create_dir_all(&dir).map_err(|e| state_dir_error(&dir, e))?;
    // The lock is on the state dir itself (no extra file to leave behind).
    let file = std::fs::File::open(&dir).map_err(|e| state_dir_error(&dir, e))?;
    let _lock =
        Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, e)| state_dir_error(&dir, e))?;
    let addrs = node_addrs(spec);
    check_claims(&addrs, Some(run_id))?;
    let mut state = RunState::new(run_id);
    state.suite = format!("{} ({})", spec.name, spec.file.display());
    state.report_dir = report_dir.display().to_string();
    state.addrs = addrs.iter().map(|(_, a)| *a).collect();
    state.save()?;
    Ok(Claim { state })
}

/// The holders of the spec's addresses, judged: pids to end (and what to say
/// when ending them), strangers, and nodes of live runs.
#[derive(Default)]
struct Judged {
    end: Vec<i32>,
    said: Vec<String>,
    blockers: Vec<String>,
    live: Vec<String>,
}

fn judge(spec: &Spec) -> Judged {
    let me = nix::unistd::getuid().as_raw();
    let mut j = Judged::default();
    for n in &spec.nodes {
        let kind = &spec.kinds[&n.kind];
        let programs = ports::program_names(&kind.command, &kind.programs);
        let addr = node_addr(spec, n.port);
        for h in ports::holders(addr.ip(), n.port) {
            let alive = |o: &Owner| o.alive();
            match ports::classify(&h, n.port, &programs, me, &alive) {
                Verdict::LiveRun(m) => j.live.push(format!(
                    "port {} (node {}) belongs to node {} of the live raft-harness {}; it was left alone: wait for that run to end or give this suite other ports",
                    n.port, n.id, m.node, describe_run(&m.run, m.owner)
                )),
                Verdict::Leftover(m) => {
                    j.said.push(format!(
                        "port {}: ending pid {} (node {} of raft-harness run {}, whose harness is gone): {}",
                        n.port, h.pid, m.node, m.run, h.command_line()
                    ));
                    j.end.push(h.pid);
                }
                Verdict::HandStarted => {
                    j.said.push(format!(
                        "port {}: ending pid {}, a `{}` server started by hand for this port: {}",
                        n.port, h.pid, programs.join("`/`"), h.command_line()
                    ));
                    j.end.push(h.pid);
                }
                Verdict::Stranger if h.marker.is_some() => j.blockers.push(format!(
                    "port {} (node {}) is held by pid {} (uid {}), left by a raft-harness run of another user: {}\n  it was left alone; ask its owner to run `raft-harness clean`, or give node {} another port",
                    n.port, n.id, h.pid, h.uid, h.command_line(), n.id
                )),
                Verdict::Stranger => j.blockers.push(format!(
                    "port {} (node {}) is held by pid {} (uid {}) which raft-harness did not start and which is not a `{}` server of this user: {}\n  it was left alone; stop it yourself or give node {} another port",
                    n.port, n.id, h.pid, h.uid, programs.join("`/`"), h.command_line(), n.id
                )),
            }
        }
    }
    j
}

/// End leftovers of dead runs and this user's hand-started servers on the
/// spec's addresses. Every port's holders are classified first: Err (exit 3)
/// names every address that belongs to a live run or to a stranger, and then
/// nothing on any of the ports is ended.
/// `own` is the calling run's claim (None for the `clean` command).
pub async fn clean(
    spec: &Spec,
    own: Option<&Claim>,
    say: &(dyn Fn(String) + Sync),
) -> Result<(), String> {
    for line in process::reap_leftover_runs(Duration::from_secs(3)).await? {
        say(line);
    }
    if spec.cluster.backend == crate::spec::Backend::Docker {
        let dead = tokio::task::spawn_blocking(|| {
            crate::docker::cleanup::remove_dead(&crate::docker::cleanup::Here::now())
        });
        for line in dead.await.map_err(|e| e.to_string())?? {
            say(line);
        }
    }
    let addrs = node_addrs(spec);
    check_claims(&addrs, own.map(|c| c.state.run_id.as_str()))?;
    // Every holder of every port is judged first: a live run's node or a
    // stranger on any port refuses the run before anything is ended.
    let j = judge(spec);
    if !j.live.is_empty() {
        return Err(j.live.join("\n"));
    }
    if !j.blockers.is_empty() {
        return Err(refusal(&j));
    }
    for line in j.said {
        say(line);
    }
    let grace = spec
        .kinds
        .values()
        .map(|k| k.stop_grace_ms)
        .max()
        .unwrap_or(3000);
    ports::terminate_all(&j.end, Duration::from_millis(grace)).await;
    still_free(&addrs)
}

/// The error when a stranger holds a port: every stranger, and that the
/// leftovers and hand-started servers on the other ports were not ended either.
fn refusal(j: &Judged) -> String {
    let mut text = j.blockers.join("\n");
    if !j.end.is_empty() {
        text.push_str(&format!(
            "\nnothing was ended: {} process(es) on the suite's other ports (leftovers of dead runs or servers started by hand) were left running too, so a refused run changes nothing",
            j.end.len()
        ));
    }
    text
}

/// [`clean`] for `raft-harness clean`, which has no runtime of its own.
pub fn clean_blocking(spec: &Spec, say: &(dyn Fn(String) + Sync)) -> Result<(), String> {
    process::block_on(clean(spec, None, say))
}

/// After cleanup: anything still listening is named (or said to be invisible).
fn still_free(addrs: &[(u32, SocketAddr)]) -> Result<(), String> {
    for (id, a) in addrs {
        if let Some(h) = ports::holders(a.ip(), a.port()).first() {
            return Err(format!(
                "port {} (node {id}) is still held by pid {} after cleanup: {}",
                a.port(),
                h.pid,
                h.command_line()
            ));
        }
        if !ports::listening_inodes(a.ip(), a.port()).is_empty() {
            return Err(format!(
                "port {} (node {id}) is in use by a process this user cannot inspect",
                a.port()
            ));
        }
    }
    Ok(())
}

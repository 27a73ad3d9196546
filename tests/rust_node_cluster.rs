//! Integration tests: real `rust-node` processes on loopback (ports 21000-21999, 29500-29599).
//!
//! Clusters of 3 and 5 nodes elect one leader per term, commit writes sent through a follower
//! (forwarded), survive a SIGKILLed leader, and bring a restarted node back up to date from its
//! data dir. The command-line tests check the original positional form, clean stops on
//! SIGTERM/SIGINT, and one-line errors with exit code 2 (usage) or 1 (start-up failure).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use common::{get_log, get_log_page, request, status, wait_for, Cluster, NodeProc, BIN};
use nix::sys::signal::Signal;
use raft_harness::proto as pb;

const APPLIED: i32 = pb::Outcome::Applied as i32;
const REJECTED: i32 = pb::Outcome::Rejected as i32;
const WAIT: Duration = Duration::from_secs(15);

/// Every GetStatus sample seen, so "at most one leader per term" is checked over the whole run.
#[derive(Default)]
struct Observer {
    leaders_by_term: BTreeMap<i32, BTreeSet<i32>>,
}

impl Observer {
    async fn poll(&mut self, cluster: &Cluster) -> Vec<(i32, pb::GetStatusResponse)> {
        let mut out = Vec::new();
        for id in cluster.live_ids() {
            if let Some(s) = status(cluster.port(id)).await {
                assert_eq!(s.node_id, id, "node_id extension");
                assert_eq!(s.implementation, "rust-node 0.1.0");
                if s.state == "Leader" {
                    self.leaders_by_term
                        .entry(s.current_term)
                        .or_default()
                        .insert(id);
                }
                out.push((id, s));
            }
        }
        out
    }

    /// Waits until every live node answers, agrees on one term > `after_term` and names the
    /// same leader, which reports itself Leader. Returns (leader, term).
    async fn stable_leader(&mut self, cluster: &Cluster, after_term: i32) -> (i32, i32) {
        let deadline = Instant::now() + WAIT;
        loop {
            let live = cluster.live_ids();
            let sample = self.poll(cluster).await;
            if sample.len() == live.len() {
                let terms: BTreeSet<i32> = sample.iter().map(|(_, s)| s.current_term).collect();
                let leaders: Vec<i32> = sample
                    .iter()
                    .filter(|(_, s)| s.state == "Leader")
                    .map(|(id, _)| *id)
                    .collect();
                if terms.len() == 1 && leaders.len() == 1 {
                    let (l, t) = (leaders[0], *terms.iter().next().unwrap());
                    if t > after_term && sample.iter().all(|(_, s)| s.leader_id == l) {
                        return (l, t);
                    }
                }
            }
            assert!(
                Instant::now() < deadline,
                "no stable leader within {WAIT:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn assert_election_safety(&self) {
        assert!(!self.leaders_by_term.is_empty(), "no leader was ever seen");
        for (term, leaders) in &self.leaders_by_term {
            assert_eq!(leaders.len(), 1, "term {term} had leaders {leaders:?}");
        }
    }
}

async fn must_apply(port: u16, command: &str) -> pb::ClientResponseMessage {
    let r = request(port, command, false)
        .await
        .unwrap_or_else(|| panic!("no answer to {command:?} from port {port}"));
    assert!(r.success, "{command:?} failed: {r:?}");
    assert_eq!(r.outcome, APPLIED, "{command:?}: {r:?}");
    r
}

/// White-box checks over every node's journal: at most one `role: Leader` per term across the
/// cluster; within each run of a node (split at `start`), applies are consecutive from index 0;
/// and every node applied the same (term, command, result) at each index.
fn check_journals(cluster: &Cluster) {
    let mut leaders: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    let mut applied: BTreeMap<i64, (i64, String, serde_json::Value)> = BTreeMap::new();
    for id in 1..=cluster.n {
        let text = std::fs::read_to_string(cluster.journal(id)).expect("journal exists");
        let mut next_apply = 0;
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).expect("journal line is JSON");
            assert_eq!(v["node"], id, "{line}");
            assert!(v["ts_us"].as_u64().is_some(), "{line}");
            match v["event"].as_str().unwrap() {
                "start" => next_apply = 0,
                "role" if v["role"] == "Leader" => {
                    let term = v["term"].as_i64().unwrap();
                    leaders.entry(term).or_default().insert(id as i64);
                }
                "apply" => {
                    let index = v["index"].as_i64().unwrap();
                    assert_eq!(index, next_apply, "node {id} applies in order: {line}");
                    next_apply += 1;
                    let this = (
                        v["term"].as_i64().unwrap(),
                        v["command"].as_str().unwrap().to_string(),
                        v["result"].clone(),
                    );
                    let first = applied.entry(index).or_insert_with(|| this.clone());
                    assert_eq!(
                        *first, this,
                        "node {id} applied a different entry at {index}"
                    );
                }
                _ => {}
            }
        }
    }
    for (term, ids) in &leaders {
        assert_eq!(ids.len(), 1, "journals show leaders {ids:?} in term {term}");
    }
    assert!(applied.len() > 50, "journals recorded the applies");
}

/// The whole life of a cluster: election, forwarded writes, leader crash, failover, restart.
async fn crash_and_recover_scenario(n: i32, base_port: u16) {
    let started = Instant::now();
    let mut cluster = Cluster::start(n, base_port);
    let mut obs = Observer::default();

    let (leader, term) = obs.stable_leader(&cluster, 0).await;
    println!(
        "n={n}: first leader {leader} in term {term} after {:?}",
        started.elapsed()
    );
    let follower = (1..=n).find(|&i| i != leader).unwrap();
    let fport = cluster.port(follower);

    // Writes and reads through a follower are forwarded to the leader and answered on apply.
    let r = must_apply(fport, "SET color blue").await;
    assert_eq!(r.result.as_deref(), Some("OK"));
    assert_eq!(r.leader_id, leader);
    assert_eq!(
        r.leader_address,
        format!("127.0.0.1:{}", cluster.port(leader))
    );
    let r = must_apply(fport, "CAS color blue green").await;
    assert_eq!(r.result.as_deref(), Some("true"));
    let r = must_apply(fport, "GET color").await;
    assert_eq!(r.result.as_deref(), Some("green"));
    let r = must_apply(fport, "GET missing").await;
    assert_eq!(r.result, None, "a missing key has no result");
    must_apply(cluster.port(leader), "operation_1").await;

    // A number, not an assertion: sequential writes over one connection to the leader.
    let mut c = common::client(cluster.port(leader)).await.expect("client");
    let t = Instant::now();
    for i in 0..50 {
        let req = pb::ClientRequestMessage {
            command: format!("SET k{i} {i}"),
        };
        let r = c.client_request(req).await.expect("answer").into_inner();
        assert_eq!(r.outcome, APPLIED, "{r:?}");
    }
    let took = t.elapsed();
    println!(
        "n={n}: 50 sequential SETs via the leader in {took:?} ({:.1} ms each)",
        took.as_secs_f64() * 1000.0 / 50.0
    );

    // An already-forwarded request is not forwarded again.
    let r = request(fport, "SET x 1", true).await.expect("answer");
    assert!(!r.success);
    assert_eq!(r.outcome, REJECTED);
    assert_eq!(r.leader_id, leader);

    // The leader crashes.
    cluster.node(leader).kill9();
    let crashed_at = Instant::now();
    let (leader2, term2) = obs.stable_leader(&cluster, term).await;
    let failover = crashed_at.elapsed();
    println!(
        "n={n}: leader {leader} killed; new leader {leader2} in term {term2} after {failover:?}"
    );
    assert_ne!(leader2, leader);

    // Committed data survives, read through the log of the new leader's term.
    let other = (1..=n).find(|&i| i != leader && i != leader2).unwrap();
    let r = must_apply(cluster.port(other), "GET color").await;
    assert_eq!(r.result.as_deref(), Some("green"));
    assert_eq!(r.leader_id, leader2);
    must_apply(cluster.port(leader2), "SET after crash").await;

    // The crashed node restarts from its data dir and catches up.
    cluster.restart(leader);
    let restarted_at = Instant::now();
    let lport = cluster.port(leader2);
    let rport = cluster.port(leader);
    let caught_up = wait_for(WAIT, || async {
        let ls = status(lport).await?;
        let rs = status(rport).await?;
        let llog = get_log(lport).await?;
        let rlog = get_log(rport).await?;
        let c = ls.commit_index as usize;
        let ok = rs.commit_index == ls.commit_index
            && rs.last_applied == ls.commit_index
            && rlog.len() > c
            && rlog[..=c] == llog[..=c];
        ok.then_some(c)
    })
    .await;
    let c = caught_up.expect("restarted node did not catch up");
    println!(
        "n={n}: restarted node {leader} caught up to index {c} in {:?}",
        restarted_at.elapsed()
    );
    let rlog = get_log(rport).await.unwrap();
    assert!(rlog.iter().any(|e| e.command == "SET after crash"));
    assert!(rlog.iter().any(|e| e.command == "SET color blue"));
    assert!(rlog.iter().enumerate().all(|(i, e)| e.index == i as i32));
    // GetLog paging returns a slice of the same log.
    let page = get_log_page(rport, 1, 2).await.unwrap();
    assert_eq!(page, rlog[1..3].to_vec());

    // Every live node holds the same committed prefix.
    let reference = get_log(lport).await.unwrap();
    for id in cluster.live_ids() {
        let log = get_log(cluster.port(id)).await.unwrap();
        assert!(log.len() > c, "node {id} log too short");
        assert_eq!(log[..=c], reference[..=c], "node {id} committed prefix");
    }

    // The journal recorded the restart and the re-applied entries.
    let journal = std::fs::read_to_string(cluster.journal(leader)).unwrap();
    let starts: Vec<serde_json::Value> = journal
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("journal line is JSON"))
        .filter(|v| v["event"] == "start")
        .collect();
    assert_eq!(starts.len(), 2);
    assert!(
        starts[1]["log_len"].as_u64().unwrap() > 0,
        "log recovered from disk"
    );

    obs.poll(&cluster).await;
    obs.assert_election_safety();
    check_journals(&cluster);
    let pids = cluster.all_pids.clone();
    assert!(cluster.shutdown(), "node processes left behind: {pids:?}");
    println!("n={n}: scenario took {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_elect_forward_fail_over_and_recover() {
    crash_and_recover_scenario(3, 21100).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_nodes_elect_forward_fail_over_and_recover() {
    crash_and_recover_scenario(5, 21200).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_majority_requests_get_no_leader_available() {
    let dir = tempfile::tempdir().unwrap();
    let args = |extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = ["1", "21301", "2=127.0.0.1:21302", "3=127.0.0.1:21303"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        a.extend(["--election-timeout-ms", "300-600"].map(String::from));
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let journal = dir.path().join("lonely.jsonl");
    let jarg = journal.display().to_string();
    let mut lonely = NodeProc::spawn(
        1,
        21301,
        &args(&["--journal", &jarg]),
        &dir.path().join("e1.log"),
    );
    let s = wait_for(WAIT, || status(21301))
        .await
        .expect("node answers");
    assert_eq!(s.leader_id, -1);
    let r = request(21301, "SET a 1", false).await.expect("answer");
    assert!(!r.success);
    assert_eq!(r.message, "No leader available");
    assert_eq!(r.outcome, REJECTED);
    assert_eq!(r.leader_id, -1);
    assert_eq!(r.leader_address, "");
    // Pre-vote (thesis §9.6): it asks for pre-votes timeout after timeout, and never raises
    // its term without a majority's grants.
    let rounds = wait_for(WAIT, || async {
        let n = journal_events(&journal)
            .iter()
            .filter(|e| *e == "prevote")
            .count();
        (n >= 3).then_some(n)
    })
    .await
    .expect("it keeps asking for pre-votes, timeout after timeout");
    let s = status(21301).await.expect("node answers");
    assert_eq!(
        s.current_term, 0,
        "no term raised after {rounds} pre-vote rounds"
    );
    assert_eq!(s.state, "Follower", "a pre-voting node stays Follower");
    assert_eq!(s.leader_id, -1);
    assert!(journal_events(&journal).contains(&"prevote_result".to_string()));
    lonely.kill9();

    // Without pre-vote (the original algorithm) it stands for election, term after term.
    let extra = ["--no-pre-vote"];
    let mut classic = NodeProc::spawn(1, 21301, &args(&extra), &dir.path().join("e3.log"));
    let s = wait_for(WAIT, || async {
        status(21301).await.filter(|s| s.current_term >= 2)
    })
    .await
    .expect("it keeps standing for election, term after term");
    assert_ne!(s.state, "Leader", "one of three can never lead");
    assert_eq!(s.leader_id, -1);
    classic.kill9();

    // --unsafe-stale-reads answers GET locally even with no leader (wrong on purpose).
    let extra = ["--unsafe-stale-reads"];
    let mut stale = NodeProc::spawn(1, 21301, &args(&extra), &dir.path().join("e2.log"));
    wait_for(WAIT, || status(21301))
        .await
        .expect("node answers");
    let r = request(21301, "GET a", false).await.expect("answer");
    assert!(r.success, "{r:?}");
    assert_eq!(r.result, None);
    let r = request(21301, "SET a 1", false).await.expect("answer");
    assert_eq!(r.message, "No leader available");
    let pid = stale.pid;
    stale.kill9();
    assert!(common::pid_gone(pid));
}

// ----- command line -----

fn journal_events(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("journal line is JSON");
            v["event"].as_str().unwrap().to_string()
        })
        .collect()
}

/// Starts node `id` on `port` in a fresh folder with `args`, where `{journal}`
/// and `{data}` stand for `j.jsonl` and `data` in that folder; its stderr goes
/// to `stderr.log` there.
fn spawn_in_folder(id: i32, port: u16, args: &[&str]) -> (tempfile::TempDir, NodeProc) {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    let args: Vec<String> = args
        .iter()
        .map(|a| {
            a.replace("{journal}", &path("j.jsonl"))
                .replace("{data}", &path("data"))
        })
        .collect();
    let node = NodeProc::spawn(id, port, &args, &dir.path().join("stderr.log"));
    (dir, node)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn original_positional_form_runs_and_sigterm_stops_cleanly() {
    let (dir, mut node) = spawn_in_folder(
        1,
        21401,
        &[
            "1",
            "21401",
            "localhost:21402",
            "localhost:21403",
            "--journal",
            "{journal}",
        ],
    );
    let journal = dir.path().join("j.jsonl");
    let s = wait_for(WAIT, || status(21401))
        .await
        .expect("node answers");
    assert_eq!(s.node_id, 1);
    assert_eq!(s.commit_index, -1);
    assert_eq!(s.last_log_index, -1);
    let code = node.signal_and_wait(Signal::SIGTERM, Duration::from_secs(5));
    assert_eq!(code.and_then(|c| c.code()), Some(0), "exit 0 on SIGTERM");
    let events = journal_events(&journal);
    assert_eq!(events.first().map(String::as_str), Some("start"));
    assert_eq!(events.last().map(String::as_str), Some("stop"));
    let err = std::fs::read_to_string(dir.path().join("stderr.log")).unwrap();
    assert!(err.contains("state is in memory only"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_first_and_sigint_stop_cleanly() {
    let (dir, mut node) = spawn_in_folder(
        7,
        21404,
        &[
            "--election-timeout-ms",
            "100-200",
            "--heartbeat-ms",
            "20",
            "--data-dir",
            "{data}",
            "--journal",
            "{journal}",
            "7",
            "21404",
        ],
    );
    let (journal, data) = (dir.path().join("j.jsonl"), dir.path().join("data"));
    // A cluster of one elects itself and commits alone.
    let s = wait_for(WAIT, || async {
        status(21404)
            .await
            .filter(|s| s.state == "Leader" && s.commit_index >= 0)
    })
    .await
    .expect("single node becomes leader");
    assert_eq!(s.node_id, 7);
    assert_eq!(s.leader_address, "127.0.0.1:21404");
    let r = request(21404, "SET k v", false).await.expect("answer");
    assert_eq!(r.outcome, APPLIED);
    let code = node.signal_and_wait(Signal::SIGINT, Duration::from_secs(5));
    assert_eq!(code.and_then(|c| c.code()), Some(0), "exit 0 on SIGINT");
    assert_eq!(
        journal_events(&journal).last().map(String::as_str),
        Some("stop")
    );
    let log = std::fs::read_to_string(data.join("log.jsonl")).unwrap();
    assert!(log.contains(r#""command":"SET k v""#), "{log}");
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("state.json")).unwrap()).unwrap();
    assert_eq!(state["voted_for"], 7);
}

/// Runs the binary with `args`; expects exit `code` and exactly one stderr line `error: ...`
/// containing `needle`.
fn assert_one_line_error(args: &[&str], code: i32, needle: &str) {
    let out = assert_cmd::Command::new(BIN)
        .args(args)
        .timeout(Duration::from_secs(20))
        .assert()
        .code(code)
        .stdout(predicates::str::is_empty());
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "one stderr line for {args:?}, got:\n{stderr}"
    );
    assert!(lines[0].starts_with("error: "), "{:?}", lines[0]);
    assert!(
        lines[0].contains(needle),
        "{:?} should name {needle:?}",
        lines[0]
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("Usage:"), "no usage dump: {stderr}");
}

#[test]
fn usage_errors_give_one_line_and_exit_2() {
    assert_one_line_error(&["1", "21410", "--bogus"], 2, "--bogus");
    assert_one_line_error(&["1", "21410", "localhost"], 2, "localhost");
    assert_one_line_error(&["1", "21410", "x=localhost:5002"], 2, "x=localhost:5002");
    assert_one_line_error(&["1", "21410", "localhost:99999"], 2, "99999");
    assert_one_line_error(&["one", "21410"], 2, "one");
    assert_one_line_error(&["0", "21410"], 2, "<ID>");
    assert_one_line_error(&[], 2, "<ID>");
    assert_one_line_error(
        &["1", "21410", "--election-timeout-ms", "300-200"],
        2,
        "300-200",
    );
    assert_one_line_error(
        &["1", "21410", "--heartbeat-ms", "200"],
        2,
        "--heartbeat-ms",
    );
    assert_one_line_error(&["1", "21410", "1=localhost:21411"], 2, "own id");
    assert_one_line_error(&["1", "21410", "2=h:1", "2=h:2"], 2, "twice");
}

#[test]
fn start_up_failures_give_one_line_and_exit_1() {
    let listener = std::net::TcpListener::bind("127.0.0.1:21412").unwrap();
    assert_one_line_error(&["1", "21412"], 1, "127.0.0.1:21412");
    drop(listener);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "x").unwrap();
    let bad_dir = file.join("data");
    assert_one_line_error(
        &["1", "21413", "--data-dir", bad_dir.to_str().unwrap()],
        1,
        "--data-dir",
    );
    let bad_journal = file.join("j.jsonl");
    assert_one_line_error(
        &["1", "21413", "--journal", bad_journal.to_str().unwrap()],
        1,
        "--journal",
    );
}

/// The guards must leave no process behind even when a test panics mid-way.
#[test]
fn node_processes_are_killed_when_a_test_panics() {
    let pids = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = pids.clone();
    let outcome = std::panic::catch_unwind(move || {
        let cluster = Cluster::start(3, 21500);
        *seen.lock().unwrap() = cluster.all_pids.clone();
        assert!(cluster.all_pids.iter().all(|&p| !common::pid_gone(p)));
        panic!("a failing test");
    });
    assert!(outcome.is_err());
    let pids = pids.lock().unwrap().clone();
    assert_eq!(pids.len(), 3);
    for pid in pids {
        assert!(common::pid_gone(pid), "pid {pid} survived the panic");
    }
}

// ----- pre-vote, check-quorum, failover (thesis §9.6, issue 15) on ports 29500-29599 -----

/// PreVote over the wire: a node that has heard from no leader grants an up-to-date sender of a
/// later term, refuses one of no later term, and changes nothing (docs/node-contract.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prevote_rpc_grants_and_refuses_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let args: Vec<String> = ["1", "29591", "2=127.0.0.1:29592", "3=127.0.0.1:29593"]
        .iter()
        .map(|s| s.to_string())
        .chain(
            [
                "--election-timeout-ms",
                "2000-4000",
                "--heartbeat-ms",
                "100",
            ]
            .map(String::from),
        )
        .collect();
    let mut node = NodeProc::spawn(1, 29591, &args, &dir.path().join("n.log"));
    wait_for(WAIT, || status(29591))
        .await
        .expect("node answers");
    let mut c = common::client(29591).await.expect("client");
    let ask = |term| pb::RequestVoteRequest {
        term,
        candidate_id: 2,
        last_log_index: -1,
        last_log_term: 0,
    };
    let yes = c.pre_vote(ask(1)).await.expect("PreVote answered");
    let yes = yes.into_inner();
    assert!(yes.vote_granted, "{yes:?}");
    assert_eq!(yes.term, 0, "the reply carries the receiver's term");
    let no = c.pre_vote(ask(0)).await.expect("PreVote answered");
    assert!(!no.into_inner().vote_granted, "term 0 is not later than 0");
    let s = status(29591).await.expect("status");
    assert_eq!((s.current_term, s.voted_for), (0, -1), "nothing adopted");
    node.kill9();
}

/// Issue 15 §1: a follower that forwards a client request to a leader that stops answering
/// (SIGSTOP: connections open, no replies) fails it as soon as it stops following that leader,
/// at most about one election timeout, not at the 3 s forward deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_to_a_dead_leader_fails_within_one_election_timeout() {
    use nix::sys::signal::kill;
    use nix::unistd::Pid;
    let mut cluster = Cluster::start(3, 29500);
    let mut obs = Observer::default();
    let (leader, term) = obs.stable_leader(&cluster, 0).await;
    let follower = (1..=3).find(|&i| i != leader).unwrap();
    must_apply(cluster.port(follower), "SET a 1").await;
    let pid = Pid::from_raw(cluster.node(leader).pid);
    kill(pid, Signal::SIGSTOP).expect("SIGSTOP the leader");
    let t = Instant::now();
    let r = request(cluster.port(follower), "SET a 2", false)
        .await
        .expect("an answer");
    let took = t.elapsed();
    kill(pid, Signal::SIGCONT).expect("SIGCONT the leader");
    println!("forward to a stopped leader answered after {took:?}: {r:?}");
    assert!(!r.success, "{r:?}");
    assert_ne!(r.outcome, APPLIED, "{r:?}");
    assert!(
        r.message.contains("was lost") || r.outcome == REJECTED,
        "the follower gave up on the lost leader rather than waiting out the deadline: {r:?}"
    );
    assert!(
        took < Duration::from_secs(3),
        "answered before the 3 s forward deadline: {took:?}"
    );
    // The resumed old leader rejoins (or, resumed before any election, keeps leading).
    let (leader2, term2) = obs.stable_leader(&cluster, term - 1).await;
    println!("leader {leader2} in term {term2} after the resume");
    obs.assert_election_safety();
    assert!(cluster.shutdown());
}

/// Check-quorum (thesis §6.2, contract): a leader that hears from no majority within the
/// maximum election timeout steps down in the same term and stops accepting writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leader_without_a_majority_steps_down_in_the_same_term() {
    use nix::sys::signal::kill;
    use nix::unistd::Pid;
    let mut cluster = Cluster::start(3, 29510);
    let mut obs = Observer::default();
    let (leader, term) = obs.stable_leader(&cluster, 0).await;
    let followers: Vec<i32> = (1..=3).filter(|&i| i != leader).collect();
    let pids: Vec<Pid> = followers
        .iter()
        .map(|&f| Pid::from_raw(cluster.node(f).pid))
        .collect();
    for &p in &pids {
        kill(p, Signal::SIGSTOP).expect("SIGSTOP a follower");
    }
    let s = wait_for(WAIT, || async {
        status(cluster.port(leader))
            .await
            .filter(|s| s.state != "Leader")
    })
    .await;
    // Asked while the followers are still stopped, so no new leader can take the write.
    let r = request(cluster.port(leader), "SET b 1", false).await;
    for &p in &pids {
        kill(p, Signal::SIGCONT).expect("SIGCONT a follower");
    }
    let s = s.expect("the cut-off leader stepped down");
    assert_eq!(s.state, "Follower");
    assert_eq!(s.current_term, term, "same term");
    assert_eq!(s.voted_for, leader, "it keeps its vote");
    let r = r.expect("an answer");
    assert!(!r.success, "a stepped-down leader takes no writes: {r:?}");
    assert_eq!(r.outcome, REJECTED, "{r:?}");
    let roles: Vec<(String, i64)> = std::fs::read_to_string(cluster.journal(leader))
        .expect("journal")
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON line"))
        .filter(|v| v["event"] == "role")
        .map(|v| {
            (
                v["role"].as_str().unwrap().to_string(),
                v["term"].as_i64().unwrap(),
            )
        })
        .collect();
    let t = i64::from(term);
    let led = roles.iter().position(|r| *r == ("Leader".to_string(), t));
    let led = led.expect("the journal shows it leading");
    assert!(
        roles[led + 1..].contains(&("Follower".to_string(), t)),
        "the journal shows the same-term step-down: {roles:?}"
    );
    obs.stable_leader(&cluster, term - 1).await;
    obs.assert_election_safety();
    assert!(cluster.shutdown());
}

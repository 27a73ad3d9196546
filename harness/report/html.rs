//! `report.html`: one self-contained page per run (issue 14 §1).
//!
//! [`render`] builds one compact JSON payload from the [`Report`] and, when the
//! run has one, its [`Evidence`], and inlines it with the page's template,
//! script and style (`harness/report/html/*`, compiled in with `include_str!`):
//! the file needs no network access when opened. Every time in the payload is
//! µs on the run's one clock (from the run's start, `docs/reports.md`).
//!
//! Shapes (all derived here, drawn by `html/report.js`):
//! - per node: role bands from GetStatus samples (`roles`), process faults
//!   (`down`: killed, stopped, paused, exited), network cuts (`cut`), silences
//!   (`silent`, failed polls) and restarts;
//! - the current leader over time as Raft defines it (a Leader whose term a
//!   majority reports, Raft §5.2; [`crate::observe::view::current_leader`]);
//! - fault windows (fault event → the event that ends it);
//! - client operations as columns (one array per field; invocation times
//!   delta-encoded), so 150k operations stay a few MB;
//! - ok/fail/info counts and p50/p99 latency per second;
//! - the linearizability explanation's operations (the one that cannot be
//!   placed, the tail of the longest linearizable prefix, the open ones) and
//!   the log entries failing checks name;
//! - with RPC-aware links, every RaftService call as columns (`html/flow.rs`).
use super::Report;
use crate::check::{CheckResult, Evidence, Status, WaitRecord};
use crate::history::{Command, Op, Outcome};
use crate::observe::view::{self, Role};
use crate::observe::{LogSnapshot, StatusSample};
use crate::trace::{FaultAction, FaultEvent};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

mod flow;

const TEMPLATE: &str = include_str!("html/report.html");
const SCRIPT: &str = include_str!("html/report.js");
const STYLE: &str = include_str!("html/report.css");

/// The page of a run: `ev` is None for a report written without evidence
/// (a run that could not start, a second Ctrl+C); the page then shows what the
/// report alone knows.
pub fn render(r: &Report, ev: Option<&Evidence>) -> String {
    let empty = Evidence::default();
    let payload = payload(r, ev.unwrap_or(&empty), ev.is_some());
    let json = serde_json::to_string(&payload).unwrap_or_else(|e| {
        // Plain data of strings and numbers: cannot fail; say so on the page if it does.
        serde_json::json!({ "broken": e.to_string() }).to_string()
    });
    page(&r.suite, &json)
}

/// Fill the template's markers, in order, each exactly once: text inserted
/// earlier is never scanned for a later marker. `<` in the JSON becomes
/// `\u003c`, so no value (a suite name, a command) can close the script element.
fn page(title: &str, json: &str) -> String {
    let title = title
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let data = json.replace('<', "\\u003c");
    let parts: [(&str, &str); 4] = [
        ("{{TITLE}}", &title),
        ("/*{{STYLE}}*/", STYLE),
        ("{{DATA}}", &data),
        ("/*{{SCRIPT}}*/", SCRIPT),
    ];
    let mut out = String::with_capacity(TEMPLATE.len() + data.len() + SCRIPT.len() + STYLE.len());
    let mut rest = TEMPLATE;
    for (marker, text) in parts {
        let (before, after) = rest
            .split_once(marker)
            .expect("every marker is in harness/report/html/report.html");
        out.push_str(before);
        out.push_str(text);
        rest = after;
    }
    out.push_str(rest);
    out
}

#[derive(Serialize)]
struct Payload<'a> {
    run: RunInfo<'a>,
    /// End of the time axis (µs): the run's duration or the last thing seen.
    end_us: u64,
    /// Whether the run had evidence (statuses, history); without it only the
    /// report's faults and checks are shown.
    evidence: bool,
    nodes: Vec<NodeTrack>,
    leader: Vec<LeaderSpan>,
    faults: &'a [FaultEvent],
    windows: Vec<Window>,
    keys: Vec<String>,
    ops: OpColumns,
    rate: Rate,
    checks: &'a [CheckResult],
    lin: Vec<LinFocus>,
    entries: BTreeMap<i32, Vec<EntryAt>>,
    waits: &'a [WaitRecord],
    /// Every call on RPC-aware links as columns; null when the run had none.
    flow: Option<flow::Flow>,
}

#[derive(Serialize)]
struct RunInfo<'a> {
    suite: &'a str,
    spec_file: &'a str,
    run_id: &'a str,
    seed: u64,
    started_at: &'a str,
    duration_s: f64,
    verdict: super::Verdict,
    exit_code: i32,
    error: Option<&'a str>,
    notes: &'a [String],
    metrics: &'a BTreeMap<String, f64>,
    timings: &'a BTreeMap<String, f64>,
}

/// A node's role as drawn (from GetStatus `state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
enum Band {
    Leader,
    Follower,
    Candidate,
    Other,
}

impl From<Role> for Band {
    fn from(r: Role) -> Band {
        match r {
            Role::Leader => Band::Leader,
            Role::Follower => Band::Follower,
            Role::Candidate => Band::Candidate,
            Role::Other => Band::Other,
        }
    }
}

/// One stretch of equal answers (role, term, named leader), [from, to] µs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct RoleSpan {
    from: u64,
    to: u64,
    band: Band,
    term: i32,
    leader: Option<u32>,
}

/// Why a node was out of the cluster for a while.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Why {
    Killed,
    Stopped,
    Paused,
    /// Exited without a fault asking for it.
    Exited,
    /// Cut off by a network fault from every majority.
    CutOff,
    /// Did not answer GetStatus.
    Silent,
}

/// [from, to) µs; `open` = never ended before the run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct Span {
    from: u64,
    to: u64,
    why: Why,
    open: bool,
}

#[derive(Serialize)]
struct NodeTrack {
    id: u32,
    kind: String,
    implementation: Option<String>,
    starts: u32,
    roles: Vec<RoleSpan>,
    down: Vec<Span>,
    cut: Vec<Span>,
    silent: Vec<Span>,
    restarts: Vec<u64>,
}

/// The current leader (Raft §5.2, as the waits judge it) over [from, to] µs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct LeaderSpan {
    from: u64,
    to: u64,
    node: u32,
    term: i32,
}

/// A fault shaded from its event to the event that ends it (`to_action`), or
/// to the end of the run (`open`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct Window {
    from: u64,
    to: u64,
    action: FaultAction,
    nodes: Vec<u32>,
    open: bool,
}

/// Client operations as columns, sorted by invocation. `dinv[i]` is
/// `invoke_us[i] - invoke_us[i-1]` (the first from 0); `dur` is µs to the
/// completion, −1 when none came; `out` is 0 ok, 1 fail, 2 info; `key` indexes
/// [`Payload::keys`]; `cmd` is the command without its key (`SET 17`, `GET`);
/// `msg` holds the non-empty messages by row, cut to [`MAX_MSG`] characters.
#[derive(Debug, Default, Serialize)]
struct OpColumns {
    id: Vec<u64>,
    client: Vec<u32>,
    node: Vec<i32>,
    key: Vec<u32>,
    dinv: Vec<u64>,
    dur: Vec<i64>,
    out: Vec<u8>,
    cmd: Vec<String>,
    res: Vec<Option<String>>,
    msg: BTreeMap<usize, String>,
}

const MAX_MSG: usize = 200;

/// Per second `s` of the run ([s, s+1) s): workload operations by outcome
/// (by completion; unanswered ones by invocation) and the p50/p99 latency (µs)
/// of those acknowledged in it. The harness's own probes (client 0) are left out.
#[derive(Debug, Default, Serialize, PartialEq)]
struct Rate {
    ok: Vec<u32>,
    fail: Vec<u32>,
    info: Vec<u32>,
    p50: Vec<Option<u64>>,
    p99: Vec<Option<u64>>,
}

/// Operations of one key the linearizability check could not place, by id.
#[derive(Debug, Serialize, PartialEq)]
struct LinFocus {
    key: String,
    stuck: u64,
    prefix_len: usize,
    /// The last steps of the longest linearizable prefix, oldest first, with
    /// the register's state after each.
    prefix: Vec<(u64, String)>,
    state: String,
    open: Vec<u64>,
    rejected: Vec<u64>,
}

/// A log entry at an index a failing check names, as one node held it.
#[derive(Debug, Serialize, PartialEq)]
struct EntryAt {
    node: u32,
    term: i32,
    command: String,
    /// When the log holding it was read (µs).
    t_us: u64,
    /// Whether that log is the node's final one (after the run settled).
    last: bool,
}

/// The payload of `r` and its evidence `e` (empty when `evidence` is false).
fn payload<'a>(r: &'a Report, e: &'a Evidence, evidence: bool) -> Payload<'a> {
    let faults: &[FaultEvent] = if e.faults.is_empty() {
        &r.faults
    } else {
        &e.faults
    };
    let end_us = end_us(r, e, faults);
    let (keys, ops) = op_columns(&e.history);
    Payload {
        run: RunInfo {
            suite: &r.suite,
            spec_file: &r.spec_file,
            run_id: &r.run_id,
            seed: r.seed,
            started_at: &r.started_at,
            duration_s: r.duration_s,
            verdict: r.verdict,
            exit_code: r.exit_code,
            error: r.error.as_deref(),
            notes: &r.notes,
            metrics: &r.metrics,
            timings: &r.timings,
        },
        end_us,
        evidence,
        nodes: node_tracks(r, e, faults, end_us),
        leader: leader_spans(&e.statuses, e.nodes.len().max(r.nodes.len()), fresh_us(e)),
        faults,
        windows: windows(faults, end_us),
        keys,
        ops,
        rate: rate(&e.history, end_us),
        checks: &r.checks,
        lin: lin_focus(&r.checks),
        entries: named_entries(&r.checks, e),
        waits: if r.waits.is_empty() {
            &e.waits
        } else {
            &r.waits
        },
        flow: flow::columns(e.messages.as_deref()),
    }
}

/// How old a status sample may be and still count for the current leader:
/// as the schedule's waits judge (4 polls + 400 ms), 1 s without settings.
fn fresh_us(e: &Evidence) -> u64 {
    match e.settings.poll_ms {
        0 => 1_000_000,
        p => (p * 4 + 400) * 1000,
    }
}

fn end_us(r: &Report, e: &Evidence, faults: &[FaultEvent]) -> u64 {
    let ops = e
        .history
        .iter()
        .map(|o| o.complete_us.unwrap_or(o.invoke_us));
    let samples = e.statuses.iter().map(|s| s.t_us);
    let events = faults.iter().map(|f| f.t_us);
    let last = ops.chain(samples).chain(events).max().unwrap_or(0);
    last.max((r.duration_s.max(0.0) * 1e6) as u64).max(1)
}

/// Role bands of one node from its samples (sorted by time). Equal answers
/// merge; a sample closes the previous band at its own time when it comes
/// within `gap_us`, else the previous band ends one `poll_us` after its last
/// sample (the node stopped answering in between).
fn role_spans(samples: &[&StatusSample], gap_us: u64, poll_us: u64) -> Vec<RoleSpan> {
    let mut out: Vec<RoleSpan> = Vec::new();
    for s in samples {
        let band = Band::from(s.role());
        let leader = s.reported_leader();
        if let Some(l) = out.last_mut() {
            if s.t_us.saturating_sub(l.to) <= gap_us {
                if (l.band, l.term, l.leader) == (band, s.term, leader) {
                    l.to = s.t_us;
                    continue;
                }
                l.to = s.t_us;
            } else {
                l.to += poll_us;
            }
        }
        out.push(RoleSpan {
            from: s.t_us,
            to: s.t_us,
            band,
            term: s.term,
            leader,
        });
    }
    if let Some(l) = out.last_mut() {
        l.to += poll_us;
    }
    out
}

fn node_tracks(r: &Report, e: &Evidence, faults: &[FaultEvent], end: u64) -> Vec<NodeTrack> {
    let mut ids: BTreeSet<u32> = r.nodes.iter().map(|n| n.id).collect();
    ids.extend(e.nodes.iter().map(|n| n.id));
    let poll_us = e.settings.poll_ms.max(1) * 1000;
    let gap_us = (3 * poll_us).max(500_000);
    let (down, restarts) = process_spans(faults, &e.unexpected_exits, end);
    let cut = cut_spans(faults, end);
    let silent = silent_spans(e, gap_us);
    ids.into_iter()
        .map(|id| {
            let mut samples: Vec<&StatusSample> =
                e.statuses.iter().filter(|s| s.node == id).collect();
            samples.sort_by_key(|s| s.t_us);
            let rep = r.nodes.iter().find(|n| n.id == id);
            let kind = e.nodes.iter().find(|n| n.id == id).map(|n| n.kind.clone());
            NodeTrack {
                id,
                kind: rep.map(|n| n.kind.clone()).or(kind).unwrap_or_default(),
                implementation: rep.and_then(|n| n.implementation.clone()),
                starts: rep.map_or(0, |n| n.starts),
                roles: role_spans(&samples, gap_us, poll_us),
                down: pick(&down, id),
                cut: pick(&cut, id),
                silent: pick(&silent, id),
                restarts: restarts.get(&id).cloned().unwrap_or_default(),
            }
        })
        .collect()
}

fn pick(spans: &BTreeMap<u32, Vec<Span>>, id: u32) -> Vec<Span> {
    spans.get(&id).cloned().unwrap_or_default()
}

/// Open spans by node, closed as events end them.
#[derive(Default)]
struct Spans {
    open: BTreeMap<u32, (u64, Why)>,
    done: BTreeMap<u32, Vec<Span>>,
}

impl Spans {
    fn close(&mut self, node: u32, t: u64) {
        if let Some((from, why)) = self.open.remove(&node) {
            let to = t.max(from);
            let s = Span {
                from,
                to,
                why,
                open: false,
            };
            self.done.entry(node).or_default().push(s);
        }
    }
    fn start(&mut self, node: u32, t: u64, why: Why) {
        self.close(node, t);
        self.open.insert(node, (t, why));
    }
    fn finish(mut self, end: u64) -> BTreeMap<u32, Vec<Span>> {
        for (node, (from, why)) in std::mem::take(&mut self.open) {
            let s = Span {
                from,
                to: end.max(from),
                why,
                open: true,
            };
            self.done.entry(node).or_default().push(s);
        }
        self.done
    }
}

/// When each node was killed, stopped, paused or exited on its own (until a
/// restart or resume), and when it was restarted.
fn process_spans(
    faults: &[FaultEvent],
    exits: &[(u32, String, u64)],
    end: u64,
) -> (BTreeMap<u32, Vec<Span>>, BTreeMap<u32, Vec<u64>>) {
    // `None`: the node exited on its own.
    let mut events: Vec<(u64, Option<FaultAction>, Vec<u32>)> = faults
        .iter()
        .map(|f| (f.t_us, Some(f.action), f.nodes.clone()))
        .collect();
    events.extend(exits.iter().map(|(n, _, t)| (*t, None, vec![*n])));
    events.sort_by_key(|e| e.0);
    let mut spans = Spans::default();
    let mut restarts: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
    for (t, action, nodes) in events {
        for n in nodes {
            match action {
                Some(FaultAction::Kill) => spans.start(n, t, Why::Killed),
                Some(FaultAction::Stop) => spans.start(n, t, Why::Stopped),
                Some(FaultAction::Pause) => spans.start(n, t, Why::Paused),
                None => spans.start(n, t, Why::Exited),
                Some(FaultAction::Resume) => spans.close(n, t),
                Some(FaultAction::Restart) => {
                    spans.close(n, t);
                    restarts.entry(n).or_default().push(t);
                }
                _ => {}
            }
        }
    }
    (spans.finish(end), restarts)
}

/// When each node was cut off from every majority: from a network step whose
/// `cut_off` names it until a `heal` (or a later step that no longer does).
fn cut_spans(faults: &[FaultEvent], end: u64) -> BTreeMap<u32, Vec<Span>> {
    let mut spans = Spans::default();
    let mut sorted: Vec<&FaultEvent> = faults.iter().collect();
    sorted.sort_by_key(|f| f.t_us);
    for f in sorted {
        if f.action == FaultAction::Heal || f.action.is_net() {
            let open: Vec<u32> = spans.open.keys().copied().collect();
            for n in open.into_iter().filter(|n| !f.cut_off.contains(n)) {
                spans.close(n, f.t_us);
            }
            for &n in &f.cut_off {
                if !spans.open.contains_key(&n) {
                    spans.start(n, f.t_us, Why::CutOff);
                }
            }
        }
    }
    spans.finish(end)
}

/// Failed GetStatus polls merged into silences: failures of one node less
/// than `gap_us` apart are one silence, [first sent, last failed].
fn silent_spans(e: &Evidence, gap_us: u64) -> BTreeMap<u32, Vec<Span>> {
    let mut fails: Vec<_> = e.poll_failures.iter().collect();
    fails.sort_by_key(|f| (f.node, f.sent_us));
    let mut out: BTreeMap<u32, Vec<Span>> = BTreeMap::new();
    for f in fails {
        let v = out.entry(f.node).or_default();
        match v.last_mut() {
            Some(l) if f.sent_us <= l.to + gap_us => l.to = l.to.max(f.t_us),
            _ => v.push(Span {
                from: f.sent_us,
                to: f.t_us.max(f.sent_us),
                why: Why::Silent,
                open: false,
            }),
        }
    }
    out
}

/// The current leader over time: every sample, in arrival order, is judged
/// "now" against each node's latest sample ([`view::current_leader`]).
fn leader_spans(statuses: &[StatusSample], cluster: usize, fresh_us: u64) -> Vec<LeaderSpan> {
    let mut sorted: Vec<&StatusSample> = statuses.iter().collect();
    sorted.sort_by_key(|s| s.t_us);
    let mut latest: BTreeMap<u32, StatusSample> = BTreeMap::new();
    let down = BTreeSet::new();
    let mut out: Vec<LeaderSpan> = Vec::new();
    let mut current: Option<(u32, i32)> = None;
    for s in sorted {
        latest.insert(s.node, s.clone());
        let v: Vec<StatusSample> = latest.values().cloned().collect();
        let input = view::ViewInput {
            latest: &v,
            cluster_size: cluster,
            now_us: s.t_us,
            max_age_us: fresh_us,
            down: &down,
        };
        let now = view::current_leader(&input).map(|l| (l.node, l.term));
        match (current, now, out.last_mut()) {
            (Some(c), Some(n), Some(l)) if c == n => l.to = s.t_us,
            (_, Some((node, term)), _) => out.push(LeaderSpan {
                from: s.t_us,
                to: s.t_us,
                node,
                term,
            }),
            (Some(_), None, Some(l)) => l.to = s.t_us,
            _ => {}
        }
        current = now;
    }
    out
}

/// Which actions end a fault of `action`.
fn ends(action: FaultAction) -> &'static [FaultAction] {
    use FaultAction::*;
    match action {
        Kill | Stop => &[Restart],
        Pause => &[Resume, Restart],
        a if a.is_net() => &[Heal],
        _ => &[],
    }
}

/// Each fault event (kill, stop, pause, `net-*`) as a window until the event
/// that ends it: a heal for a network fault; for a process fault, the event
/// that brings back the last of its nodes.
fn windows(faults: &[FaultEvent], end: u64) -> Vec<Window> {
    let mut sorted: Vec<&FaultEvent> = faults.iter().collect();
    sorted.sort_by_key(|f| f.t_us);
    let mut out = Vec::new();
    for (i, f) in sorted.iter().enumerate() {
        let enders = ends(f.action);
        if enders.is_empty() {
            continue;
        }
        let later = &sorted[i + 1..];
        let net = f.action.is_net();
        let to = if net {
            later
                .iter()
                .find(|g| enders.contains(&g.action))
                .map(|g| g.t_us)
        } else {
            f.nodes
                .iter()
                .map(|n| {
                    later
                        .iter()
                        .find(|g| enders.contains(&g.action) && g.nodes.contains(n))
                        .map(|g| g.t_us)
                })
                .try_fold(f.t_us, |acc, t| t.map(|t| acc.max(t)))
        };
        out.push(Window {
            from: f.t_us,
            to: to.unwrap_or(end).max(f.t_us),
            action: f.action,
            nodes: f.nodes.clone(),
            open: to.is_none(),
        });
    }
    out
}

/// The key of a key-value command and the command without it.
fn split_key(command: &str) -> (&str, String) {
    match Command::parse(command) {
        Some(c @ Command::Get { key }) => (key, c.verb().into()),
        Some(c @ Command::Set { key, value }) => (key, format!("{} {value}", c.verb())),
        Some(c @ Command::Cas { key, old, new }) => (key, format!("{} {old} {new}", c.verb())),
        Some(c @ Command::Del { key }) => (key, c.verb().into()),
        None => ("", command.to_string()),
    }
}

fn outcome_code(o: Outcome) -> u8 {
    match o {
        Outcome::Ok => 0,
        Outcome::Fail => 1,
        Outcome::Info => 2,
    }
}

/// The history as columns sorted by invocation, and the key names.
fn op_columns(history: &[Op]) -> (Vec<String>, OpColumns) {
    let mut sorted: Vec<&Op> = history.iter().collect();
    sorted.sort_by_key(|o| (o.invoke_us, o.id));
    let mut keys: Vec<String> = Vec::new();
    let mut key_ids: BTreeMap<String, u32> = BTreeMap::new();
    let mut c = OpColumns::default();
    let mut prev = 0;
    for (row, o) in sorted.into_iter().enumerate() {
        let (key, cmd) = split_key(&o.command);
        let k = *key_ids.entry(key.to_string()).or_insert_with(|| {
            keys.push(key.to_string());
            keys.len() as u32 - 1
        });
        c.id.push(o.id);
        c.client.push(o.client);
        c.node.push(o.node);
        c.key.push(k);
        c.dinv.push(o.invoke_us - prev);
        prev = o.invoke_us;
        c.dur.push(
            o.complete_us
                .map_or(-1, |t| t.saturating_sub(o.invoke_us) as i64),
        );
        c.out.push(outcome_code(o.outcome));
        c.cmd.push(cmd);
        c.res.push(o.result.clone());
        if !o.message.is_empty() {
            c.msg.insert(row, o.message.chars().take(MAX_MSG).collect());
        }
    }
    (keys, c)
}

/// Operations and latency per second of the run (see [`Rate`]).
fn rate(history: &[Op], end: u64) -> Rate {
    let n = end.div_ceil(1_000_000).max(1) as usize;
    let mut r = Rate {
        ok: vec![0; n],
        fail: vec![0; n],
        info: vec![0; n],
        ..Default::default()
    };
    let mut lat: Vec<Vec<u64>> = vec![Vec::new(); n];
    for o in history.iter().filter(|o| o.client != 0) {
        let t = o.complete_us.unwrap_or(o.invoke_us);
        let s = ((t / 1_000_000) as usize).min(n - 1);
        match (o.outcome, o.complete_us) {
            (Outcome::Ok, Some(c)) => {
                r.ok[s] += 1;
                lat[s].push(c.saturating_sub(o.invoke_us));
            }
            (Outcome::Fail, _) => r.fail[s] += 1,
            _ => r.info[s] += 1,
        }
    }
    for mut l in lat {
        l.sort_unstable();
        let pct = |p: f64| (!l.is_empty()).then(|| l[((l.len() - 1) as f64 * p).round() as usize]);
        r.p50.push(pct(0.5));
        r.p99.push(pct(0.99));
    }
    r
}

/// What the page needs of the `linearizable` check's detail (a serialized
/// `crate::lin::KvReport`); everything else in it is ignored.
#[derive(Deserialize)]
struct LinDetail {
    #[serde(default)]
    keys: Vec<LinKey>,
}

#[derive(Deserialize)]
struct LinKey {
    key: String,
    verdict: LinVerdict,
}

#[derive(Deserialize)]
struct LinVerdict {
    verdict: String,
    stuck: Option<LinOp>,
    #[serde(default)]
    prefix_len: usize,
    #[serde(default)]
    prefix_tail: Vec<LinStep>,
    #[serde(default)]
    state: String,
    #[serde(default)]
    open: Vec<LinCandidate>,
}

#[derive(Deserialize)]
struct LinOp {
    id: u64,
}

#[derive(Deserialize)]
struct LinStep {
    op: LinOp,
    state_after: String,
}

#[derive(Deserialize)]
struct LinCandidate {
    op: LinOp,
    rejected: bool,
}

/// The operations of each key the failed `linearizable` check names.
fn lin_focus(checks: &[CheckResult]) -> Vec<LinFocus> {
    let Some(detail) = checks
        .iter()
        .find(|c| c.name == crate::check::linearizable::NAME && c.status == Status::Fail)
        .and_then(|c| c.detail.clone())
    else {
        return Vec::new();
    };
    let Ok(d) = serde_json::from_value::<LinDetail>(detail) else {
        return Vec::new();
    };
    d.keys
        .into_iter()
        .filter(|k| k.verdict.verdict == "illegal")
        .filter_map(|k| {
            let v = k.verdict;
            Some(LinFocus {
                key: k.key,
                stuck: v.stuck?.id,
                prefix_len: v.prefix_len,
                prefix: v
                    .prefix_tail
                    .into_iter()
                    .map(|s| (s.op.id, s.state_after))
                    .collect(),
                state: v.state,
                open: v.open.iter().map(|c| c.op.id).collect(),
                rejected: v
                    .open
                    .iter()
                    .filter(|c| c.rejected)
                    .map(|c| c.op.id)
                    .collect(),
            })
        })
        .collect()
}

/// Log indices the failing checks name (`index N`, `entry N`), at most this many.
const MAX_NAMED_ENTRIES: usize = 50;

/// The entries at the indices failing checks name, as each node's last log
/// read held them (its final log, else its last GetLog snapshot).
fn named_entries(checks: &[CheckResult], e: &Evidence) -> BTreeMap<i32, Vec<EntryAt>> {
    let re = regex::Regex::new(r"\b(?:index|entry) (\d+)").expect("a valid pattern");
    let mut wanted = BTreeSet::new();
    for c in checks.iter().filter(|c| c.status != Status::Pass) {
        for text in std::iter::once(&c.summary).chain(&c.evidence) {
            for cap in re.captures_iter(text) {
                if let Ok(i) = cap[1].parse::<i32>() {
                    wanted.insert(i);
                }
            }
        }
    }
    let logs = last_logs(e);
    wanted
        .into_iter()
        .take(MAX_NAMED_ENTRIES)
        .map(|i| {
            let at = logs
                .iter()
                .filter_map(|(l, last)| {
                    let en = l.entries.iter().find(|en| en.index == i)?;
                    Some(EntryAt {
                        node: l.node,
                        term: en.term,
                        command: en.command.clone(),
                        t_us: l.t_us,
                        last: *last,
                    })
                })
                .collect();
            (i, at)
        })
        .collect()
}

/// Each node's final log, or its latest snapshot when it gave no final one.
fn last_logs(e: &Evidence) -> Vec<(&LogSnapshot, bool)> {
    let mut by_node: BTreeMap<u32, (&LogSnapshot, bool)> = BTreeMap::new();
    for l in &e.logs {
        if by_node.get(&l.node).is_none_or(|(p, _)| p.t_us <= l.t_us) {
            by_node.insert(l.node, (l, false));
        }
    }
    for l in &e.final_logs {
        by_node.insert(l.node, (l, true));
    }
    by_node.into_values().collect()
}

#[cfg(test)]
mod tests;

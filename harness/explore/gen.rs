//! Trial generation for `raft-harness explore` (issue 13 §1): from a suite's cluster, kinds,
//! workload and checks plus its `[explore]` table, a concrete suite whose schedule is drawn from
//! a seed. Every random choice is written out as a plain step, and the seed is recorded, so
//! `raft-harness run trial.toml` replays the trial.

use crate::net::msgfault::{self, Budget, MsgAction, MsgKind, MsgMethod};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::Path;
use toml::{Table, Value};

pub use crate::spec::explore::{Config, Fault};

/// The base of every trial: the suite without its steps, `[explore]` table and seed.
pub struct Base {
    pub table: Table,
    pub config: Config,
    pub has_workload: bool,
    /// The node kinds of a mixed cluster, in order of first appearance; trial t waits for a
    /// leader of kind `kinds[t % len]` (issue 13 §1). Empty for a single-kind cluster.
    pub kinds: Vec<String>,
    /// The `[[node]]` ids, for message faults between two drawn nodes.
    pub ids: Vec<u32>,
}

/// Reads SUITE for exploration: the whole suite is validated first (`[explore]` included), so
/// a bad value is reported at its file, line and column like by `validate` (exit 2 at the
/// caller).
pub fn load_base(suite: &Path) -> Result<Base, String> {
    let spec = crate::spec::load(suite).map_err(|e| e.to_string().trim_end().to_string())?;
    let config = spec.explore.clone().unwrap_or_default();
    let ids: Vec<u32> = spec.nodes.iter().map(|n| n.id).collect();
    let text = std::fs::read_to_string(suite)
        .map_err(|e| format!("{}: cannot read: {e}", suite.display()))?;
    let mut table: Table =
        toml::from_str(&text).map_err(|e| format!("{}: {e}", suite.display()))?;
    let kinds = mixed_kinds(&table);
    for key in ["step", "seed", "name", "description", "explore"] {
        table.remove(key);
    }
    super::includes::make_absolute(&mut table, suite)?;
    let has_workload = table.contains_key("workload");
    Ok(Base {
        table,
        config,
        has_workload,
        kinds,
        ids,
    })
}

/// The distinct `kind`s of the suite's `[[node]]`s when there are two or more.
fn mixed_kinds(table: &Table) -> Vec<String> {
    let mut kinds: Vec<String> = Vec::new();
    for n in table
        .get("node")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(k) = n.get("kind").and_then(Value::as_str) {
            if !kinds.iter().any(|x| x == k) {
                kinds.push(k.to_string());
            }
        }
    }
    if kinds.len() < 2 {
        kinds.clear();
    }
    kinds
}

fn step(pairs: &[(&str, Value)]) -> Value {
    Value::Table(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

fn s(v: &str) -> Value {
    Value::String(v.into())
}

/// A number of seconds drawn in `[lo, hi]`, rounded to 0.1 s.
fn secs(rng: &mut StdRng, [lo, hi]: [f64; 2]) -> Value {
    let x: f64 = rng.random_range(lo..=hi);
    Value::Float((x * 10.0).round() / 10.0)
}

/// The steps of one fault, drawn from `rng`; `n` numbers its label.
fn fault_steps(rng: &mut StdRng, f: Fault, n: usize, c: &Config, ids: &[u32]) -> Vec<Value> {
    let label = s(&format!("f{n}"));
    let back = s(&format!("@f{n}"));
    let target = s(if rng.random_bool(0.5) {
        "leader"
    } else {
        "random"
    });
    let hold = ("sleep_s", secs(rng, c.gap_s));
    let undo = |fault: &str| step(&[("fault", s(fault)), ("target", back.clone())]);
    let heal = || step(&[("heal", Value::Boolean(true))]);
    match f {
        Fault::Kill | Fault::Stop => vec![
            step(&[
                ("fault", s(if f == Fault::Kill { "kill" } else { "stop" })),
                ("target", target),
                ("label", label),
            ]),
            step(&[hold]),
            undo("restart"),
        ],
        Fault::Pause => vec![
            step(&[("fault", s("pause")), ("target", target), ("label", label)]),
            step(&[hold]),
            undo("resume"),
        ],
        Fault::CrashAll => vec![step(&[("fault", s("crash-all"))])],
        Fault::Isolate => vec![
            step(&[("net", s("isolate")), ("target", target)]),
            step(&[hold]),
            heal(),
        ],
        Fault::Halves => vec![step(&[("net", s("halves"))]), step(&[hold]), heal()],
        Fault::Msg(kind) => {
            let mut d = msgfault::draw(kind, rng);
            if !c.methods.is_empty() {
                d.method = c.methods[rng.random_range(0..c.methods.len())];
            }
            let ends = msg_ends(rng, &d, ids);
            vec![msg_step(kind, &d, ends), step(&[hold]), heal()]
        }
        Fault::Lag | Fault::DeposedLeader | Fault::PartialReplication | Fault::StaleAppends => {
            composed_steps(rng, f, n, c, ids)
        }
    }
}

/// A composed fault (Jepsen-style nemesis compositions that create the orders a scripted
/// suite would): a first part held `hold_s`, then the leader killed (label `fN`) while the
/// first part still holds, the cut healed after `gap_s`, and the killed node restarted after
/// another `gap_s`.
/// - lag: a follower is isolated while the others commit (§5.4.1: may it win next?);
/// - deposed-leader: the leader is isolated, a new one is elected and commits, and that new
///   leader is killed (§5.3: the next leader meets the deposed one's diverging log);
/// - partial-replication: the leader's appends with entries reach one follower only (drawn
///   when the fault runs, [`partial_others`]), and before the kill the others' PreVote/
///   RequestVote calls are dropped, so that follower leads next holding entries of an
///   earlier term that no majority has (Figure 8, §5.4.2);
/// - stale-appends: the leader's appends with entries are duplicated or held back to arrive
///   after newer ones (Figure 2, AppendEntries receiver rule 3).
fn composed_steps(rng: &mut StdRng, f: Fault, n: usize, c: &Config, ids: &[u32]) -> Vec<Value> {
    let drop = |method: &str, from: Value, to: Value| {
        step(&[
            ("msg", s("drop-request")),
            ("method", s(method)),
            ("from", from),
            ("to", to),
        ])
    };
    // Steps before the hold, and steps between the hold and the kill.
    let (first, before_kill) = match f {
        Fault::Lag => (
            vec![step(&[("net", s("isolate")), ("target", s("follower"))])],
            vec![],
        ),
        Fault::DeposedLeader => (
            vec![step(&[("net", s("isolate")), ("target", s("leader"))])],
            vec![],
        ),
        Fault::PartialReplication => {
            let (select, others) = partial_others(n, ids);
            (
                vec![
                    select,
                    drop("append-with-entries", s("leader"), others.clone()),
                ],
                vec![
                    drop("pre-vote", others.clone(), s("all")),
                    drop("request-vote", others, s("all")),
                ],
            )
        }
        _ => {
            let (kind, late) = if rng.random_bool(0.5) {
                let ms = rng.random_range(30..=300);
                ("duplicate", ("after_ms", Value::Integer(ms)))
            } else {
                let ms = rng.random_range(100..=1000);
                ("reorder", ("max_hold_ms", Value::Integer(ms)))
            };
            let burst = step(&[
                ("msg", s(kind)),
                ("method", s("append-with-entries")),
                ("from", s("leader")),
                ("to", s("all")),
                late,
            ]);
            (vec![burst], vec![])
        }
    };
    let label = format!("f{n}");
    let mut steps = first;
    steps.push(step(&[("sleep_s", secs(rng, c.hold_s))]));
    steps.extend(before_kill);
    steps.extend([
        step(&[
            ("fault", s("kill")),
            ("target", s("leader")),
            ("label", s(&label)),
        ]),
        step(&[("sleep_s", secs(rng, c.gap_s))]),
        step(&[("heal", Value::Boolean(true))]),
        step(&[("sleep_s", secs(rng, c.gap_s))]),
        step(&[("fault", s("restart")), ("target", s(&format!("@{label}")))]),
    ]);
    steps
}

/// partial-replication's kept node is one follower, drawn when the fault runs (`from =
/// "follower"`: the schedule's seeded draw among the leader's live followers), never the
/// leader: a selector step labelled `fN-others` whose links run from that follower to every
/// node, so the label names every node but it. Its rule delays the follower's next heartbeat
/// (AppendEntries without entries, sent only once it leads) by 0 ms: it changes no call.
/// Returns the step and the `@fN-others` target for the leader's dropped appends (every
/// follower but the kept one: calls to oneself are no links) and the dropped votes.
fn partial_others(n: usize, ids: &[u32]) -> (Value, Value) {
    let label = format!("f{n}-others");
    let every = Value::Array(ids.iter().map(|&i| Value::Integer(i64::from(i))).collect());
    let select = step(&[
        ("msg", s("delay")),
        ("method", s("heartbeat")),
        ("from", s("follower")),
        ("to", every),
        ("delay_ms", Value::Integer(0)),
        ("count", Value::Integer(1)),
        ("label", s(&label)),
    ]);
    (select, s(&format!("@{label}")))
}

/// `from` and `to` of a drawn message fault: the leader to all or to a follower; a random
/// node to all; or two distinct node ids drawn now (never a node to itself).
fn msg_ends(rng: &mut StdRng, d: &msgfault::Drawn, ids: &[u32]) -> (Value, Value) {
    match (d.from_leader, d.to_all) {
        (true, true) => (s("leader"), s("all")),
        (true, false) => (s("leader"), s("follower")),
        (false, false) if ids.len() >= 2 => {
            let a = rng.random_range(0..ids.len());
            let b = (a + rng.random_range(1..ids.len())) % ids.len();
            let id = |i: usize| Value::Integer(i64::from(ids[i]));
            (id(a), id(b))
        }
        (false, _) => (s("random"), s("all")),
    }
}

/// A `msg` step with every drawn value written out (see `harness/spec/msgstep.rs`).
fn msg_step(kind: MsgKind, d: &msgfault::Drawn, (from, to): (Value, Value)) -> Value {
    let method = MsgMethod::NAMES
        .iter()
        .find(|n| MsgMethod::parse(n) == Some(d.method))
        .map_or("any", |n| n);
    let int = |x: u64| Value::Integer(x as i64);
    let mut pairs = vec![
        ("msg", s(kind.name())),
        ("method", s(method)),
        ("from", from),
        ("to", to),
    ];
    pairs.push(match d.budget {
        Budget::Next(n) => ("count", int(u64::from(n))),
        Budget::Rate(r) => ("rate", Value::Float(r)),
    });
    match d.action {
        MsgAction::Delay { min_ms, max_ms } => {
            pairs.push(("delay_ms", Value::Array(vec![int(min_ms), int(max_ms)])))
        }
        MsgAction::Duplicate { after_ms } => pairs.push(("after_ms", int(after_ms))),
        MsgAction::Reorder { max_hold_ms } => pairs.push(("max_hold_ms", int(max_hold_ms))),
        MsgAction::DropRequest | MsgAction::DropReply => {}
    }
    step(&pairs)
}

/// Trial `trial` of exploration `seed`: the suite text and the number of faults it injects.
pub fn trial_suite(base: &Base, seed: u64, trial: u64) -> (String, usize) {
    let trial_seed = seed.wrapping_mul(1_000_003).wrapping_add(trial);
    let mut rng = StdRng::seed_from_u64(trial_seed);
    let c = &base.config;
    let mut first = vec![("wait", s("leader")), ("timeout_s", Value::Integer(30))];
    if !base.kinds.is_empty() {
        // Rotate which kind leads across trials (issue 13 §1).
        let kind = &base.kinds[(trial % base.kinds.len() as u64) as usize];
        first.push(("kind", s(kind)));
        first[1].1 = Value::Integer(60);
    }
    let mut steps = vec![step(&first)];
    if base.has_workload {
        steps.push(step(&[("workload", s("start"))]));
    }
    let n = rng.random_range(c.faults_per_trial[0]..=c.faults_per_trial[1]) as usize;
    for i in 0..n {
        steps.push(step(&[("sleep_s", secs(&mut rng, c.gap_s))]));
        let f = c.faults[rng.random_range(0..c.faults.len())];
        steps.extend(fault_steps(&mut rng, f, i + 1, c, &base.ids));
    }
    steps.push(step(&[("sleep_s", secs(&mut rng, c.gap_s))]));
    if base.has_workload {
        steps.push(step(&[("workload", s("stop"))]));
    }
    steps.push(step(&[
        ("wait", s("caught-up")),
        ("timeout_s", Value::Integer(30)),
    ]));
    let mut t = base.table.clone();
    t.insert(
        "description".into(),
        s(&format!(
            "explore seed {seed}, trial {trial} (trial seed {trial_seed})"
        )),
    );
    t.insert("seed".into(), Value::Integer((trial_seed >> 1) as i64));
    t.insert("step".into(), Value::Array(steps));
    let text = format!(
        "# Generated by `raft-harness explore --seed {seed}`, trial {trial}: every random\n\
         # choice is written out; `raft-harness run` on this file replays it.\n{}",
        toml::to_string(&t).expect("a TOML table serializes")
    );
    (text, n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{ProcFault, Target};
    use std::collections::BTreeMap;

    /// A 3-node suite (kinds file included) with `extra` after `[cluster]`, loaded as a base.
    fn base(extra: &str) -> Result<Base, String> {
        let dir = tempfile::tempdir().unwrap();
        let p = suite_in(dir.path(), &[(1, "a"), (2, "a"), (3, "a")], extra);
        load_base(&p)
    }

    #[test]
    fn the_same_seed_draws_the_same_trial_and_another_seed_another() {
        let b = base("[explore]\nfaults = [\"kill\", \"crash-all\", \"pause\"]\n").unwrap();
        let (a, _) = trial_suite(&b, 7, 3);
        assert_eq!(a, trial_suite(&b, 7, 3).0);
        let others: Vec<String> = (0..8).map(|t| trial_suite(&b, 8, t).0).collect();
        assert!(others.iter().any(|o| *o != a));
        assert!(a.contains("seed = "), "{a}");
        let parsed: Table = toml::from_str(&a).unwrap();
        let inc = parsed["include"].as_array().unwrap()[0].as_str().unwrap();
        assert!(Path::new(inc).is_absolute(), "{inc}");
    }

    /// The generated suite is a valid suite for `run`, and `crash-all` targets every node.
    #[test]
    fn a_trial_loads_as_a_suite_with_crash_all_on_every_node() {
        let dir = tempfile::tempdir().unwrap();
        let explore = "[explore]\nfaults = [\"crash-all\"]\nfaults_per_trial = [2, 2]\n";
        let p = suite_in(dir.path(), &[(1, "a"), (2, "a"), (3, "a")], explore);
        let (trial, n) = trial_suite(&load_base(&p).unwrap(), 3, 0);
        assert_eq!(n, 2);
        let t = dir.path().join("elsewhere");
        std::fs::create_dir(&t).unwrap();
        let spec = load_trial(&t.join("trial.toml"), &trial);
        let crashes = count_faults(&spec, ProcFault::CrashAll, Target::All);
        assert_eq!(crashes, 2, "{trial}");
    }

    /// Every bad `[explore]` is refused before a trial is drawn, with the file, the line and
    /// the column of the key or value (the rendered diagnostics of `validate`), the bad value
    /// quoted.
    #[test]
    fn bad_explore_tables_are_rejected_with_the_file_line_and_value() {
        for (bad, line, shown) in [
            ("[explore]\nfaults = []\n", 5, "`faults` is empty"),
            ("[explore]\nfaults = [\"explode\"]\n", 5, "\"explode\""),
            (
                "[explore]\nfaults = [\"lagg\"]\n",
                5,
                "did you mean \"lag\"",
            ),
            ("[explore]\nfaults_per_trial = [3, 1]\n", 5, "[3, 1]"),
            ("[explore]\ngap_s = [0, 1]\n", 5, "[0, 1]"),
            ("[explore]\nhold_s = [1, 601]\n", 5, "[1, 601]"),
            ("[explore]\nbogus = 1\n", 5, "`bogus`"),
            (
                "[explore]\nfaults = [\"isolate\"]\n",
                5,
                "\"isolate\" needs",
            ),
            ("[explore]\nfaults = [\"lag\"]\n", 5, "\"lag\" needs"),
            (
                "[explore]\nfaults = [\"kill\", \"duplicate\"]\n",
                5,
                "\"duplicate\" needs",
            ),
            (
                "proxies = true\n[explore]\nfaults = [\"drop-reply\"]\n",
                6,
                "\"drop-reply\" needs",
            ),
            (
                "proxies = true\n[explore]\nfaults = [\"stale-appends\"]\n",
                6,
                "\"stale-appends\" needs",
            ),
            (
                "network = \"tcp\"\n[explore]\nfaults = [\"reorder\"]\n",
                6,
                "\"reorder\" needs",
            ),
            (
                "network = \"rpc\"\n[explore]\nfaults = [\"drop-replies\"]\n",
                6,
                "\"drop-replies\"",
            ),
            (
                "network = \"rpc\"\n[explore]\nfaults = [\"delay\"]\nmethods = [\"vote\"]\n",
                7,
                "\"vote\"",
            ),
            (
                "[explore]\nmethods = [\"heartbeat\"]\n",
                5,
                "message faults only",
            ),
        ] {
            let e = base(bad).err().unwrap_or_else(|| panic!("accepted {bad}"));
            assert!(e.contains(&format!("s.toml:{line}:")), "{bad}: {e}");
            assert!(e.contains(shown), "{bad}: {e}");
        }
        assert!(base("network = \"rpc\"\n[explore]\nfaults = [\"delay\", \"lag\"]\nmethods = [\"heartbeat\"]\n").is_ok());
    }

    /// Writes kinds.toml and a suite with `nodes` (id, kind) and `extra` cluster/explore text
    /// into `dir`; returns the suite's path.
    fn suite_in(dir: &Path, nodes: &[(u32, &str)], extra: &str) -> std::path::PathBuf {
        std::fs::write(
            dir.join("kinds.toml"),
            "[kind.a]\ncommand = [\"true\", \"{id}\"]\n[kind.b]\ncommand = [\"true\", \"{id}\"]\n",
        )
        .unwrap();
        let nodes: String = nodes
            .iter()
            .map(|(i, k)| format!("[[node]]\nid = {i}\nkind = \"{k}\"\n"))
            .collect();
        let p = dir.join("s.toml");
        let text =
            format!("include = [\"kinds.toml\"]\n[cluster]\nbase_port = 31000\n{extra}{nodes}");
        std::fs::write(&p, text).unwrap();
        p
    }

    /// `suite_in` with nodes 1..=`n` of kind `a`, `network = "rpc"` and `explore`, loaded as a
    /// base.
    fn rpc_base(dir: &Path, n: u32, explore: &str) -> Base {
        let nodes: Vec<(u32, &str)> = (1..=n).map(|id| (id, "a")).collect();
        load_base(&suite_in(
            dir,
            &nodes,
            &format!("network = \"rpc\"\n{explore}"),
        ))
        .unwrap()
    }

    /// Writes `trial` to `path` and loads it as `run` would (panics with the text if not).
    fn load_trial(path: &Path, trial: &str) -> crate::spec::Spec {
        std::fs::write(path, trial).unwrap();
        crate::spec::load(path).unwrap_or_else(|e| panic!("{e}\n{trial}"))
    }

    /// How many of `spec`'s steps make process fault `fault` on `target`.
    fn count_faults(spec: &crate::spec::Spec, fault: ProcFault, target: Target) -> usize {
        spec.steps
            .iter()
            .filter(|s| {
                matches!(&s.action, crate::spec::Action::Fault { fault: f, target: t }
                    if *f == fault && *t == target)
            })
            .count()
    }

    /// With `network = "rpc"` every message fault is drawn, written out as a `msg` step that
    /// `run` loads, and healed.
    #[test]
    fn message_faults_are_drawn_as_msg_steps_that_load() {
        let dir = tempfile::tempdir().unwrap();
        let explore = "[explore]\nfaults = [\"isolate\", \"drop-request\", \"drop-reply\", \"delay\", \"duplicate\", \"reorder\"]\nfaults_per_trial = [3, 3]\n";
        let base = rpc_base(dir.path(), 3, explore);
        let mut seen = std::collections::HashSet::new();
        for t in 0..12 {
            let (trial, n) = trial_suite(&base, 9, t);
            let spec = load_trial(&dir.path().join(format!("t{t}.toml")), &trial);
            let msgs: Vec<_> = spec
                .steps
                .iter()
                .filter_map(|s| match &s.action {
                    crate::spec::Action::Msg(m) => Some(m.action),
                    _ => None,
                })
                .collect();
            let heals = spec
                .steps
                .iter()
                .filter(|s| matches!(s.action, crate::spec::Action::Heal))
                .count();
            let isolations = spec
                .steps
                .iter()
                .filter(|s| matches!(s.action, crate::spec::Action::Net { .. }))
                .count();
            assert_eq!((msgs.len() + isolations, heals), (n, n), "{trial}");
            seen.extend(msgs.iter().map(std::mem::discriminant));
            for m in spec.steps.iter().filter_map(|s| match &s.action {
                crate::spec::Action::Msg(m) => Some(m),
                _ => None,
            }) {
                match (&m.from, &m.to) {
                    (Target::Ids(a), Target::Ids(b)) => assert!(a != b, "{trial}"),
                    (Target::Leader, Target::All | Target::Follower)
                    | (Target::Random, Target::All) => {}
                    other => panic!("{other:?} may hit no link\n{trial}"),
                }
            }
        }
        assert_eq!(seen.len(), 5, "every message fault drawn in 36 faults");
    }

    /// The composed faults, seeded: the concrete steps they write (a snapshot, so any change of
    /// what a seed draws is reviewed), and the suite loads for `run`.
    #[test]
    fn composed_faults_write_concrete_steps_that_load() {
        let dir = tempfile::tempdir().unwrap();
        let explore = "[explore]\nfaults = [\"lag\", \"deposed-leader\", \"partial-replication\", \"stale-appends\"]\nfaults_per_trial = [4, 4]\nhold_s = [2.0, 3.0]\n";
        let base = rpc_base(dir.path(), 5, explore);
        let (trial, n) = trial_suite(&base, 13, 0);
        assert_eq!(n, 4);
        let spec = load_trial(&dir.path().join("t.toml"), &trial);
        let kills = count_faults(&spec, ProcFault::Kill, Target::Leader);
        assert_eq!(kills, 4, "every composed fault kills the leader\n{trial}");
        let t: Table = toml::from_str(&trial).unwrap();
        let steps: Vec<String> = t["step"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| toml::to_string(s).unwrap().trim().replace('\n', ", "))
            .collect();
        insta::assert_snapshot!(steps.join("\n"));
    }

    /// The nodes a `msg` end names when `leader` leads and the schedule draws `follower`
    /// for `from`/`to = "follower"`; labels as `schedule/msgstep.rs` records them.
    fn ends(
        t: &Target,
        leader: u32,
        follower: u32,
        labels: &BTreeMap<String, Vec<u32>>,
    ) -> Vec<u32> {
        match t {
            Target::Leader => vec![leader],
            Target::Follower => vec![follower],
            Target::All => (1..=5).collect(),
            Target::Ids(v) => v.clone(),
            Target::Label(l) => labels[l].clone(),
            other => panic!("{other:?}"),
        }
    }

    /// The links (caller, receiver) each `msg` step of `spec` drops append-with-entries on,
    /// when `leader` leads and `follower` is the schedule's draw.
    fn dropped_appends(spec: &crate::spec::Spec, leader: u32, follower: u32) -> Vec<(u32, u32)> {
        let mut labels = BTreeMap::new();
        let mut dropped = Vec::new();
        for st in &spec.steps {
            let crate::spec::Action::Msg(m) = &st.action else {
                continue;
            };
            let from = ends(&m.from, leader, follower, &labels);
            let to = ends(&m.to, leader, follower, &labels);
            let links: Vec<(u32, u32)> = from
                .iter()
                .flat_map(|&a| to.iter().filter(move |&&b| b != a).map(move |&b| (a, b)))
                .collect();
            if let Some(l) = &st.label {
                let mut hit: Vec<u32> = match m.to {
                    Target::All => from.clone(),
                    _ => links.iter().map(|&(_, b)| b).collect(),
                };
                hit.sort_unstable();
                hit.dedup();
                labels.insert(l.clone(), hit);
            }
            let appends = crate::net::msgfault::MsgMethod::AppendWithEntries;
            if m.method == appends && m.action == crate::net::msgfault::MsgAction::DropRequest {
                dropped.extend(links);
            }
        }
        dropped
    }

    /// partial-replication, seeded draws: whichever node leads and whichever follower the
    /// schedule draws, the leader's appends with entries reach exactly one node, a follower
    /// (never the leader itself: "all followers but one"), and only that follower's votes
    /// are not dropped.
    #[test]
    fn partial_replication_keeps_one_follower_whichever_node_leads() {
        let dir = tempfile::tempdir().unwrap();
        let partial = "[explore]\nfaults = [\"partial-replication\"]\nfaults_per_trial = [1, 1]\n";
        let base = rpc_base(dir.path(), 5, partial);
        for seed in 0..10 {
            let (trial, _) = trial_suite(&base, seed, 0);
            let spec = load_trial(&dir.path().join(format!("p{seed}.toml")), &trial);
            for leader in 1..=5 {
                for follower in (1..=5).filter(|&f| f != leader) {
                    let dropped = dropped_appends(&spec, leader, follower);
                    let reached: Vec<u32> = (1..=5)
                        .filter(|&i| i != leader && !dropped.contains(&(leader, i)))
                        .collect();
                    assert_eq!(reached.len(), 1, "leader {leader}: {reached:?}\n{trial}");
                    assert_eq!(reached, [follower], "the schedule's draw\n{trial}");
                    assert!(dropped.iter().all(|&(a, _)| a == leader), "{dropped:?}");
                }
            }
            let t: Table = toml::from_str(&trial).unwrap();
            let votes: Vec<&Value> = t["step"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| {
                    s.get("method")
                        .and_then(Value::as_str)
                        .is_some_and(|m| m.contains("vote"))
                })
                .collect();
            assert_eq!(votes.len(), 2, "{trial}");
            for v in votes {
                assert_eq!(v["from"].as_str(), Some("@f1-others"), "{trial}");
            }
        }
    }

    /// `methods` restricts the method every drawn message fault carries.
    #[test]
    fn methods_restrict_the_drawn_message_faults() {
        let explore = "[explore]\nfaults = [\"delay\", \"duplicate\", \"drop-request\"]\nmethods = [\"append-with-entries\", \"request-vote\"]\nfaults_per_trial = [5, 5]\n";
        let base = base(&format!("network = \"rpc\"\n{explore}")).unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for trial in 0..6 {
            let t: Table = toml::from_str(&trial_suite(&base, 2, trial).0).unwrap();
            for st in t["step"].as_array().unwrap() {
                if let Some(m) = st.get("method").and_then(Value::as_str) {
                    seen.insert(m.to_string());
                }
            }
        }
        assert_eq!(
            seen.into_iter().collect::<Vec<_>>(),
            ["append-with-entries", "request-vote"]
        );
    }

    /// In a mixed cluster the first wait names a kind, and consecutive trials name different
    /// kinds; a single-kind cluster waits for any leader.
    #[test]
    fn a_mixed_cluster_rotates_the_leading_kind_across_trials() {
        let dir = tempfile::tempdir().unwrap();
        let p = suite_in(dir.path(), &[(1, "a"), (2, "b"), (3, "a")], "");
        let base = load_base(&p).unwrap();
        assert_eq!(base.kinds, ["a", "b"]);
        let kind_of = |t: u64| -> Option<String> {
            let (trial, _) = trial_suite(&base, 1, t);
            let spec = load_trial(&dir.path().join(format!("k{t}.toml")), &trial);
            match &spec.steps[0].action {
                crate::spec::Action::LeadBy { kind, .. } => Some(kind.clone()),
                _ => None,
            }
        };
        assert_eq!(
            (0..4).map(kind_of).collect::<Vec<_>>(),
            [Some("a"), Some("b"), Some("a"), Some("b")].map(|k| k.map(String::from))
        );
        let one = suite_in(dir.path(), &[(1, "a"), (2, "a"), (3, "a")], "");
        let base = load_base(&one).unwrap();
        assert!(base.kinds.is_empty());
        let t: Table = toml::from_str(&trial_suite(&base, 1, 1).0).unwrap();
        let first = &t["step"].as_array().unwrap()[0];
        assert_eq!(first.get("wait").and_then(Value::as_str), Some("leader"));
        assert!(first.get("kind").is_none(), "{first}");
    }
}

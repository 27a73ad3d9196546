//! Trial generation for `raft-harness explore` (issue 13 §1): from a suite's cluster, kinds,
//! workload and checks plus its `[explore]` table, a concrete suite whose schedule is drawn from
//! a seed. Every random choice is written out as a plain step, and the seed is recorded, so
//! `raft-harness run trial.toml` replays the trial.

use crate::net::msgfault::{self, Budget, MsgAction, MsgKind, MsgMethod};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Deserialize;
use std::path::Path;
use toml::{Table, Value};

/// A fault `explore` can draw. Network faults need `proxies = true` in `[cluster]`; message
/// faults (drop-request … reorder) need `network = "rpc"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    /// Kill a node (the leader or a random one), restart it later.
    Kill,
    /// Stop (SIGTERM) a node, restart it later.
    Stop,
    /// Pause (SIGSTOP) a node, resume it later.
    Pause,
    /// Kill every node and restart them all.
    CrashAll,
    /// Cut a node off from all others, heal later.
    Isolate,
    /// Split the cluster in two halves, heal later.
    Halves,
    /// Message faults on RPC-aware links (issue 12 §2), parameters drawn by
    /// [`crate::net::msgfault::draw`], healed later.
    DropRequest,
    DropReply,
    Delay,
    Duplicate,
    Reorder,
}

impl Fault {
    /// The message-fault kind, for the five message faults.
    fn msg_kind(self) -> Option<MsgKind> {
        Some(match self {
            Fault::DropRequest => MsgKind::DropRequest,
            Fault::DropReply => MsgKind::DropReply,
            Fault::Delay => MsgKind::Delay,
            Fault::Duplicate => MsgKind::Duplicate,
            Fault::Reorder => MsgKind::Reorder,
            _ => return None,
        })
    }
}

/// The suite's `[explore]` table: the fault mix and the trial length.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Faults drawn from (uniformly). Default: kill, pause, crash-all.
    #[serde(default = "default_faults")]
    pub faults: Vec<Fault>,
    /// Faults per trial, `[min, max]` (inclusive).
    #[serde(default = "default_per_trial")]
    pub faults_per_trial: [u32; 2],
    /// Seconds a fault lasts and between faults, `[min, max]`.
    #[serde(default = "default_gap")]
    pub gap_s: [f64; 2],
}

fn default_faults() -> Vec<Fault> {
    vec![Fault::Kill, Fault::Pause, Fault::CrashAll]
}
fn default_per_trial() -> [u32; 2] {
    [1, 3]
}
fn default_gap() -> [f64; 2] {
    [0.5, 2.0]
}

impl Default for Config {
    fn default() -> Config {
        Config {
            faults: default_faults(),
            faults_per_trial: default_per_trial(),
            gap_s: default_gap(),
        }
    }
}

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

/// Reads SUITE for exploration. Errors name the file and the problem (exit 2 at the caller).
pub fn load_base(suite: &Path) -> Result<Base, String> {
    let text = std::fs::read_to_string(suite)
        .map_err(|e| format!("{}: cannot read: {e}", suite.display()))?;
    let mut table: Table =
        toml::from_str(&text).map_err(|e| format!("{}: {e}", suite.display()))?;
    let config = match table.remove("explore") {
        None => Config::default(),
        Some(v) => v
            .try_into::<Config>()
            .map_err(|e| format!("{}: [explore]: {e}", suite.display()))?,
    };
    check_config(&config).map_err(|e| format!("{}: [explore]: {e}", suite.display()))?;
    let cluster = table.get("cluster");
    // RPC-aware links are proxies too.
    let proxies = cluster
        .and_then(|c| c.get("proxies"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
        || cluster
            .and_then(|c| c.get("network"))
            .and_then(Value::as_str)
            == Some("rpc");
    if let Some(f) = config
        .faults
        .iter()
        .find(|f| matches!(f, Fault::Isolate | Fault::Halves))
        .filter(|_| !proxies)
    {
        return Err(format!(
            "{}: [explore]: fault {f:?} needs `proxies = true` in [cluster]",
            suite.display()
        ));
    }
    refuse_msg_faults_without_rpc(&config, &table)
        .map_err(|e| format!("{}: [explore]: {e}", suite.display()))?;
    let kinds = mixed_kinds(&table);
    let ids: Vec<u32> = table
        .get("node")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|n| n.get("id").and_then(Value::as_integer))
        .filter_map(|i| u32::try_from(i).ok())
        .collect();
    for key in ["step", "seed", "name", "description"] {
        table.remove(key);
    }
    absolute_includes(&mut table, suite)?;
    let has_workload = table.contains_key("workload");
    Ok(Base {
        table,
        config,
        has_workload,
        kinds,
        ids,
    })
}

/// Message faults need RPC-aware links: `network = "rpc"` in `[cluster]`.
fn refuse_msg_faults_without_rpc(c: &Config, table: &Table) -> Result<(), String> {
    let rpc = table
        .get("cluster")
        .and_then(|c| c.get("network"))
        .and_then(Value::as_str)
        == Some("rpc");
    match c.faults.iter().find(|f| f.msg_kind().is_some()) {
        Some(f) if !rpc => Err(format!(
            "message fault `{}` needs RPC-aware links: set `network = \"rpc\"` in [cluster]",
            f.msg_kind().map_or("", MsgKind::name)
        )),
        _ => Ok(()),
    }
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

fn check_config(c: &Config) -> Result<(), String> {
    if c.faults.is_empty() {
        return Err("`faults` is empty".into());
    }
    let [lo, hi] = c.faults_per_trial;
    if lo < 1 || lo > hi || hi > 50 {
        return Err(format!(
            "`faults_per_trial` = [{lo}, {hi}]: need 1 <= min <= max <= 50"
        ));
    }
    let [a, b] = c.gap_s;
    if !(a.is_finite() && b.is_finite() && 0.0 < a && a <= b && b <= 600.0) {
        return Err(format!("`gap_s` = [{a}, {b}]: need 0 < min <= max <= 600"));
    }
    Ok(())
}

/// `include` paths are relative to the suite's folder; trials live elsewhere.
fn absolute_includes(table: &mut Table, suite: &Path) -> Result<(), String> {
    let dir = std::path::absolute(suite)
        .map_err(|e| format!("{}: {e}", suite.display()))?
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    if let Some(Value::Array(items)) = table.get_mut("include") {
        for item in items.iter_mut() {
            if let Value::String(rel) = item {
                *rel = dir.join(&*rel).display().to_string();
            }
        }
    }
    Ok(())
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
fn fault_steps(rng: &mut StdRng, f: Fault, n: usize, gap: [f64; 2], ids: &[u32]) -> Vec<Value> {
    let label = s(&format!("f{n}"));
    let back = s(&format!("@f{n}"));
    let target = s(if rng.random_bool(0.5) {
        "leader"
    } else {
        "random"
    });
    let hold = ("sleep_s", secs(rng, gap));
    let undo = |fault: &str| step(&[("fault", s(fault)), ("target", back.clone())]);
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
            step(&[("heal", Value::Boolean(true))]),
        ],
        Fault::Halves => vec![
            step(&[("net", s("halves"))]),
            step(&[hold]),
            step(&[("heal", Value::Boolean(true))]),
        ],
        Fault::DropRequest
        | Fault::DropReply
        | Fault::Delay
        | Fault::Duplicate
        | Fault::Reorder => {
            let kind = f.msg_kind().expect("a message fault");
            let d = msgfault::draw(kind, rng);
            let ends = msg_ends(rng, &d, ids);
            vec![
                msg_step(kind, &d, ends),
                step(&[hold]),
                step(&[("heal", Value::Boolean(true))]),
            ]
        }
    }
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
        steps.extend(fault_steps(&mut rng, f, i + 1, c.gap_s, &base.ids));
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

    fn base(extra: &str) -> Result<Base, String> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.toml");
        std::fs::write(
            &p,
            format!("include = [\"kinds.toml\"]\n[cluster]\nbase_port = 31000\n{extra}"),
        )
        .unwrap();
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
        std::fs::write(
            dir.path().join("kinds.toml"),
            "[kind.k]\ncommand = [\"true\", \"{id}\"]\n",
        )
        .unwrap();
        let nodes: String = (1..=3)
            .map(|i| format!("[[node]]\nid = {i}\nkind = \"k\"\n"))
            .collect();
        let p = dir.path().join("s.toml");
        let explore = "[explore]\nfaults = [\"crash-all\"]\nfaults_per_trial = [2, 2]\n";
        let text =
            format!("include = [\"kinds.toml\"]\n[cluster]\nbase_port = 31000\n{nodes}{explore}");
        std::fs::write(&p, text).unwrap();
        let (trial, n) = trial_suite(&load_base(&p).unwrap(), 3, 0);
        assert_eq!(n, 2);
        let t = dir.path().join("elsewhere");
        std::fs::create_dir(&t).unwrap();
        let tp = t.join("trial.toml");
        std::fs::write(&tp, &trial).unwrap();
        let spec = crate::spec::load(&tp).unwrap_or_else(|e| panic!("{e}\n{trial}"));
        let crashes: Vec<_> = spec
            .steps
            .iter()
            .filter(|s| {
                matches!(
                    &s.action,
                    crate::spec::Action::Fault {
                        fault: crate::spec::ProcFault::CrashAll,
                        target: crate::spec::Target::All
                    }
                )
            })
            .collect();
        assert_eq!(crashes.len(), 2, "{trial}");
    }

    #[test]
    fn bad_explore_tables_are_rejected_with_the_file_and_field() {
        for bad in [
            "[explore]\nfaults = []\n",
            "[explore]\nfaults = [\"explode\"]\n",
            "[explore]\nfaults_per_trial = [3, 1]\n",
            "[explore]\ngap_s = [0, 1]\n",
            "[explore]\nbogus = 1\n",
            "[explore]\nfaults = [\"isolate\"]\n",
            "[explore]\nfaults = [\"kill\", \"duplicate\"]\n",
            "proxies = true\n[explore]\nfaults = [\"drop-reply\"]\n",
            "network = \"tcp\"\n[explore]\nfaults = [\"reorder\"]\n",
            "network = \"rpc\"\n[explore]\nfaults = [\"drop-replies\"]\n",
        ] {
            let e = base(bad).err().unwrap_or_else(|| panic!("accepted {bad}"));
            assert!(e.contains("s.toml") && e.contains("[explore]"), "{e}");
        }
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

    /// With `network = "rpc"` every message fault is drawn, written out as a `msg` step that
    /// `run` loads, and healed.
    #[test]
    fn message_faults_are_drawn_as_msg_steps_that_load() {
        let dir = tempfile::tempdir().unwrap();
        let explore = "[explore]\nfaults = [\"isolate\", \"drop-request\", \"drop-reply\", \"delay\", \"duplicate\", \"reorder\"]\nfaults_per_trial = [3, 3]\n";
        let p = suite_in(
            dir.path(),
            &[(1, "a"), (2, "a"), (3, "a")],
            &format!("network = \"rpc\"\n{explore}"),
        );
        let base = load_base(&p).unwrap();
        let mut seen = std::collections::HashSet::new();
        for t in 0..12 {
            let (trial, n) = trial_suite(&base, 9, t);
            let tp = dir.path().join(format!("t{t}.toml"));
            std::fs::write(&tp, &trial).unwrap();
            let spec = crate::spec::load(&tp).unwrap_or_else(|e| panic!("{e}\n{trial}"));
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
                use crate::spec::Target;
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
            let tp = dir.path().join(format!("k{t}.toml"));
            std::fs::write(&tp, &trial).unwrap();
            let spec = crate::spec::load(&tp).unwrap_or_else(|e| panic!("{e}\n{trial}"));
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

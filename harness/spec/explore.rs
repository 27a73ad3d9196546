//! `[explore]`: the fault mix and trial length of `raft-harness explore` (issue 13 §1), read
//! with the rest of the suite so that `validate` (and `run`) point at a bad key or value like
//! in any other table. `run` ignores the table; `explore` draws its trials from it
//! (harness/explore/gen.rs).
//!
//! ```toml
//! [explore]
//! faults = ["kill", "lag", "delay", "delay"]   # drawn uniformly; a repeated name weighs it
//! methods = ["append-with-entries"]            # message faults: the methods drawn from
//! faults_per_trial = [1, 3]                    # [min, max] faults per trial
//! gap_s = [0.5, 2.0]                           # seconds between faults and a fault's hold
//! hold_s = [1.0, 4.0]                          # composed faults: how long their first part lasts
//! ```
//! Errors (each at its key or value): an unknown fault or method (with a suggestion), an
//! empty list, a pair out of range or in the wrong order, network faults without
//! `proxies = true`, message faults without `network = "rpc"`, `methods` without a message
//! fault, `hold_s` without a composed fault.
use super::tables::number;
use super::{as_word, fields, words_of, Cluster, Errs, Fields, Node, Src, Value};
use crate::spec::faults::{MsgKind, MsgMethod};
use strum::IntoEnumIterator;

/// A fault `explore` can draw. Its name in `faults = [...]` is its own in kebab-case (strum),
/// a message fault's that of its [`MsgKind`] (see [`Fault::words`]): ask [`Fault::name`], as
/// strum's `Into<&str>` names every message fault `msg`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::EnumIter, strum::IntoStaticStr)]
#[strum(serialize_all = "kebab-case")]
pub enum Fault {
    /// Kill a node (the leader or a random one), restart it later.
    Kill,
    /// Stop (SIGTERM) a node, restart it later.
    Stop,
    /// Pause (SIGSTOP) a node, resume it later.
    Pause,
    /// Kill every node and restart them all.
    CrashAll,
    /// Cut a node off from all others, heal later (needs proxies).
    Isolate,
    /// Split the cluster in two halves, heal later (needs proxies).
    Halves,
    /// A message fault on RPC-aware links (issue 12 §2), healed later.
    Msg(MsgKind),
    /// Composed (needs proxies): a follower is isolated while the others commit, the leader
    /// is killed, then the cut heals — the lagging node may stand in the next election
    /// (§5.4.1 up-to-date check).
    Lag,
    /// Composed (needs proxies): the leader is isolated (it may append alone) while the others
    /// elect a new leader and commit; that new leader is killed, then the cut heals — the
    /// next leader meets the deposed leader's diverging log (§5.3 prevLogIndex/prevLogTerm).
    DeposedLeader,
    /// Composed (needs `network = "rpc"`): the leader's AppendEntries with entries reach one
    /// drawn node only, then the leader is killed — entries of its term stay uncommitted on a
    /// minority for the next leader (Figure 8, §5.4.2).
    PartialReplication,
    /// Composed (needs `network = "rpc"`): every AppendEntries with entries from the leader
    /// is duplicated or held back to arrive after newer ones, then the leader is killed
    /// (receiver rule 3 truncates only on a conflict, Figure 2, §5.3).
    StaleAppends,
}

impl Fault {
    /// The names of `faults = [...]` with their faults, in declaration order: `kill`, `stop`,
    /// `pause`, `crash-all`, `isolate`, `halves`, the five message faults (`drop-request`, …,
    /// `reorder`), `lag`, `deposed-leader`, `partial-replication`, `stale-appends`.
    pub fn words() -> Vec<(&'static str, Fault)> {
        Fault::iter()
            .flat_map(|f| match f {
                Fault::Msg(_) => MsgKind::WORDS
                    .iter()
                    .map(|(w, k)| (*w, Fault::Msg(*k)))
                    .collect(),
                f => vec![(f.into(), f)],
            })
            .collect()
    }

    /// The name of [`Fault::words`].
    pub fn name(self) -> &'static str {
        match self {
            Fault::Msg(k) => k.name(),
            f => f.into(),
        }
    }

    /// Whether the fault is composed (lag, deposed-leader, partial-replication,
    /// stale-appends): a first part held `hold_s`, then more.
    pub fn is_composed(self) -> bool {
        matches!(
            self,
            Fault::Lag | Fault::DeposedLeader | Fault::PartialReplication | Fault::StaleAppends
        )
    }

    /// What the fault needs from `[cluster]`: link proxies, RPC-aware links, or nothing.
    fn needs(self) -> Needs {
        match self {
            Fault::Isolate | Fault::Halves | Fault::Lag | Fault::DeposedLeader => Needs::Proxies,
            Fault::Msg(_) | Fault::PartialReplication | Fault::StaleAppends => Needs::Rpc,
            _ => Needs::Nothing,
        }
    }
}

#[derive(PartialEq)]
enum Needs {
    Nothing,
    Proxies,
    Rpc,
}

/// The `[explore]` table, read. Seconds are `[min, max]` pairs, both ends drawn from.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Faults drawn from, uniformly (a repeated name weighs it). Default: kill, pause,
    /// crash-all.
    pub faults: Vec<Fault>,
    /// The methods message faults draw from (empty: the default mix of
    /// `net::msgfault::draw`).
    pub methods: Vec<MsgMethod>,
    /// Faults per trial, `[min, max]` (inclusive), 1 ≤ min ≤ max ≤ 50.
    pub faults_per_trial: [u32; 2],
    /// Seconds between faults and how long a simple fault lasts, 0 < min ≤ max ≤ 600.
    pub gap_s: [f64; 2],
    /// Seconds the first part of a composed fault lasts (the lag, the partial replication).
    pub hold_s: [f64; 2],
}

impl Default for Config {
    fn default() -> Config {
        Config {
            faults: vec![Fault::Kill, Fault::Pause, Fault::CrashAll],
            methods: Vec::new(),
            faults_per_trial: [1, 3],
            gap_s: [0.5, 2.0],
            hold_s: [1.0, 4.0],
        }
    }
}

const KEYS: &[&str] = &["faults", "methods", "faults_per_trial", "gap_s", "hold_s"];

/// Reads `[explore]`; every problem goes to `errs` at its key or value.
pub(super) fn read(src: &Src, errs: &mut Errs, node: &Node, cluster: &Cluster) -> Option<Config> {
    let f = fields(src, errs, node, "[explore]", KEYS)?;
    let before = errs.0.len();
    let d = Config::default();
    let read_faults = words(src, errs, &f, "faults", &Fault::words());
    // A misspelt fault is reported once; `methods` is then not judged against the default mix.
    let faults_known = read_faults.is_some() || f.get("faults").is_none();
    let faults = read_faults.unwrap_or(d.faults);
    let method_words = words_of::<MsgMethod>();
    let methods = words(src, errs, &f, "methods", &method_words).unwrap_or_default();
    needs(src, errs, &f, cluster);
    let no_msg_fault = !faults.iter().any(|x| matches!(x, Fault::Msg(_)));
    if faults_known && !methods.is_empty() && no_msg_fault {
        errs.help(
            src,
            f.key_span("methods"),
            "`methods` applies to message faults only, and `faults` has none",
            "add a message fault (drop-request, drop-reply, delay, duplicate, reorder) to `faults`, or remove `methods`",
        );
    }
    if faults_known && !faults.iter().any(|x| x.is_composed()) {
        refuse_idle_hold(src, errs, &f);
    }
    let per = pair(src, errs, &f, "faults_per_trial", 1.0, 50.0, true);
    let gap_s = pair(src, errs, &f, "gap_s", 0.0, 600.0, false).unwrap_or(d.gap_s);
    let hold_s = pair(src, errs, &f, "hold_s", 0.0, 600.0, false).unwrap_or(d.hold_s);
    (errs.0.len() == before).then(|| Config {
        faults,
        methods,
        faults_per_trial: per.map_or(d.faults_per_trial, |[a, b]| [a as u32, b as u32]),
        gap_s,
        hold_s,
    })
}

/// `hold_s` when `faults` (given or the default) has no composed fault: it would change
/// nothing, so it is refused at its key.
fn refuse_idle_hold(src: &Src, errs: &mut Errs, f: &Fields) {
    if f.get("hold_s").is_none() {
        return;
    }
    let composed: Vec<&str> = Fault::iter()
        .filter(|x| x.is_composed())
        .map(Fault::name)
        .collect();
    let which = if f.get("faults").is_some() {
        "and `faults` has none"
    } else {
        "and the default `faults` (kill, pause, crash-all) has none"
    };
    errs.help(
        src,
        f.key_span("hold_s"),
        format!("`hold_s` applies to composed faults only, {which}"),
        format!(
            "add a composed fault ({}) to `faults`, or remove `hold_s`",
            composed.join(", ")
        ),
    );
}

/// A non-empty array of words of `table`, each misspelt one reported with a suggestion.
fn words<T: Clone>(
    src: &Src,
    errs: &mut Errs,
    f: &Fields,
    key: &str,
    table: &[(&str, T)],
) -> Option<Vec<T>> {
    let v = f.get(key)?;
    let Value::Array(items) = &v.value else {
        errs.expected(src, v, format!("`{key}` must be an array of strings"));
        return None;
    };
    if items.is_empty() {
        let names: Vec<&str> = table.iter().map(|(w, _)| *w).collect();
        errs.help(
            src,
            v.span.clone(),
            format!("`{key}` is empty"),
            format!("name at least one of: {}", names.join(", ")),
        );
        return None;
    }
    let read: Vec<Option<T>> = items
        .iter()
        .map(|it| as_word(src, errs, it, key, table))
        .collect();
    read.into_iter().collect()
}

/// Faults whose links the cluster lacks, each reported at its word (also when another word
/// of the list is misspelt).
fn needs(src: &Src, errs: &mut Errs, f: &Fields, c: &Cluster) {
    let Some(Value::Array(items)) = f.get("faults").map(|v| &v.value) else {
        return;
    };
    let words = Fault::words();
    for item in items {
        let Value::Str(word) = &item.value else {
            continue;
        };
        let Some((_, fault)) = words.iter().find(|(w, _)| w == word) else {
            continue;
        };
        let (ok, help) = match fault.needs() {
            Needs::Nothing => (true, ""),
            Needs::Proxies => (
                c.proxies || c.rpc,
                "set `proxies = true` (or `network = \"rpc\"`) in [cluster]",
            ),
            Needs::Rpc => (
                c.rpc,
                "set `network = \"rpc\"` in [cluster] (RPC-aware links)",
            ),
        };
        if !ok {
            let msg = format!("fault \"{word}\" needs links the cluster does not have");
            errs.help(src, item.span.clone(), msg, help);
        }
    }
}

/// `key = [min, max]`: numbers in `lo..=hi` (integers when `int`), min ≤ max, and min > 0
/// for seconds (`lo` = 0 means "above 0").
fn pair(
    src: &Src,
    errs: &mut Errs,
    f: &Fields,
    key: &str,
    lo: f64,
    hi: f64,
    int: bool,
) -> Option<[f64; 2]> {
    let v = f.get(key)?;
    let num = |n: &Node| match n.value {
        Value::Int(i) => Some(i as f64),
        Value::Float(x) if !int => Some(x),
        _ => None,
    };
    let got = match &v.value {
        Value::Array(items) if items.len() == 2 => num(&items[0]).zip(num(&items[1])),
        _ => None,
    };
    let what = if int { "integers" } else { "numbers" };
    let Some((a, b)) = got else {
        errs.expected(src, v, format!("`{key}` must be [min, max], two {what}"));
        return None;
    };
    let low_ok = if lo == 0.0 { a > 0.0 } else { a >= lo };
    if !(a.is_finite() && b.is_finite() && low_ok && a <= b && b <= hi) {
        let low = if lo == 0.0 {
            "0 < min".to_string()
        } else {
            format!("{lo} <= min")
        };
        errs.at(
            src,
            v.span.clone(),
            format!(
                "`{key}` = [{}, {}]: need {low} <= max <= {hi}",
                number(a),
                number(b)
            ),
        );
        return None;
    }
    Some([a, b])
}

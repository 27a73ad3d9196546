//! `[[step]] msg = "..."`: a message fault on RPC-aware links (`network = "rpc"`), read into
//! a [`MsgStep`] (plain data; the schedule resolves its targets when the step runs).
//!
//! ```toml
//! [[step]]
//! msg = "drop-reply"          # drop-request | drop-reply | delay | duplicate | reorder
//! method = "append-entries"   # request-vote | pre-vote | append-entries | heartbeat |
//!                             # append-with-entries | client-request | any (default) |
//!                             # append-with-current-term-entries (carrying an entry of the
//!                             # leader's currentTerm; Figure 8)
//! from = "leader"             # callers: a target as for `fault`/`net` steps (default all)
//! to = "follower"             # receivers (default all)
//! count = 3                   # the next N matching calls, or
//! rate = 0.5                  # each matching call with this probability (seeded)
//! delay_ms = [50, 200]        # delay: fixed (N) or random in [min, max]
//! after_ms = 100              # duplicate: the second copy this much later (default 100)
//! max_hold_ms = 2000          # reorder: longest hold waiting for a later call (default 2000)
//! label = "lagging"           # later steps may target "@lagging"
//! ```
//! Budget: `count` or `rate` (neither = every matching call, rate 1). The fault lasts until
//! the next `heal`. `label`: as on `fault`/`net` steps, `@name` is the nodes the step hit —
//! its receivers (`to`, resolved when the step ran), or its callers (`from`) when `to` is
//! absent (every node); the report's fault line reads `rule N @name: ...`.
use super::{Action, Errs, Fields, Node, Src, StepCx, Target, Value};
use crate::spec::faults::{Budget, MsgAction, MsgMethod};
use std::collections::BTreeSet;

/// The keys a `msg` step may have.
pub(super) const KEYS: &[&str] = &[
    "msg",
    "method",
    "from",
    "to",
    "count",
    "rate",
    "delay_ms",
    "after_ms",
    "max_hold_ms",
    "label",
];

/// The nemesis's words for message faults (`faults = ["drop-reply", "duplicate", ...]`).
pub(super) fn nemesis_words() -> impl Iterator<Item = (&'static str, super::NemesisFault)> {
    crate::spec::faults::MsgKind::WORDS
        .iter()
        .map(|(w, k)| (*w, super::NemesisFault::Msg(*k)))
}

/// Refuses every message fault of `steps` (the suite's `step` array) — `msg` steps, also
/// inside `repeat`, and message words in a nemesis's `faults` — because the suite's links are
/// TCP proxies (`proxies = true` without `network = "rpc"`): they see byte streams, not
/// calls. One error per value, at its span (file, line, the value); `validate` exits 2.
pub(super) fn refuse_on_tcp_proxies(src: &Src, errs: &mut Errs, steps: &Node) {
    let msg_word = |w: &&Node| match &w.value {
        Value::Str(s) => nemesis_words().any(|(n, _)| n == s),
        _ => false,
    };
    super::each_step_entry(steps, &mut |step, k, v| {
        let is_nemesis = || step.iter().any(|(k, _)| k.name == "nemesis");
        match (k.name.as_str(), &v.value) {
            ("msg", _) => refuse(src, errs, v, "a `msg` step"),
            ("faults", Value::Array(words)) if is_nemesis() => {
                for w in words.iter().filter(msg_word) {
                    refuse(src, errs, w, "this nemesis fault");
                }
            }
            _ => {}
        }
    });
}

fn refuse(src: &Src, errs: &mut Errs, v: &Node, what: &str) {
    errs.help(
        src,
        v.span.clone(),
        format!(
            "{what} breaks single RaftService calls, but this suite's links are TCP proxies \
             (`proxies = true`), which see byte streams, not calls"
        ),
        "set `network = \"rpc\"` in [cluster] (RPC-aware links; `net` steps work on them too)",
    );
}

/// A message-fault step: which calls (from × to, method), what to do, how often.
#[derive(Debug, Clone, PartialEq)]
pub struct MsgStep {
    pub from: Target,
    pub to: Target,
    pub method: MsgMethod,
    pub action: MsgAction,
    pub budget: Budget,
}

/// Reads a `msg` step; errors go to `errs` with the key's span. `from` and `to` are checked
/// even when another value is wrong (every problem in one round).
pub(super) fn read(src: &Src, errs: &mut Errs, f: &Fields, cx: &StepCx) -> Option<Action> {
    let from = read_end(src, errs, f, "from", cx);
    let to = read_end(src, errs, f, "to", cx);
    if let (Some(a), Some(b)) = (&from, &to) {
        refuse_no_link(src, errs, f, (a, b), cx);
    }
    let kind = f.word(
        src,
        errs,
        "msg",
        &[
            ("drop-request", 0),
            ("drop-reply", 1),
            ("delay", 2),
            ("duplicate", 3),
            ("reorder", 4),
        ],
    )?;
    let method = match f.get("method") {
        None => MsgMethod::Any,
        Some(v) => super::as_word(src, errs, v, "method", &super::words_of::<MsgMethod>())?,
    };
    let action = match kind {
        0 => MsgAction::DropRequest,
        1 => MsgAction::DropReply,
        2 => read_delay(src, errs, f)?,
        3 => MsgAction::Duplicate {
            after_ms: f.uint(src, errs, "after_ms", 0, 60_000).unwrap_or(100),
        },
        _ => MsgAction::Reorder {
            max_hold_ms: f.uint(src, errs, "max_hold_ms", 1, 60_000).unwrap_or(2000),
        },
    };
    let budget = match (f.get("count"), f.get("rate")) {
        (Some(_), Some(_)) => {
            errs.help(
                src,
                f.key_span("rate"),
                "a `msg` step has `count` or `rate`, not both",
                "`count = N` acts on the next N matching calls; `rate = p` on each with probability p",
            );
            return None;
        }
        (Some(_), None) => Budget::Next(f.uint(src, errs, "count", 1, 1_000_000)? as u32),
        (None, Some(_)) => Budget::Rate(
            f.typed::<crate::spec::tables::Fraction>(src, errs, "rate")?
                .0,
        ),
        (None, None) => Budget::Rate(1.0),
    };
    Some(Action::Msg(MsgStep {
        from: from?,
        to: to?,
        method,
        action,
        budget,
    }))
}

/// The nodes `t` names as far as known before the run (ids, `all`, a label of such), or None.
fn known_ids(t: &Target, cx: &StepCx) -> Option<BTreeSet<u32>> {
    match super::labelset::known(t, &cx.labels)? {
        Target::All => Some(cx.ids.clone()),
        Target::Ids(v) => Some(v.into_iter().collect()),
        _ => None,
    }
}

/// Refuses a step whose callers × receivers (`ends`: `from`, `to`), when known before the
/// run, hold no link between two different nodes (a node does not call itself): at run time
/// it would do nothing ("no link between the targets"). At `to`, else `from`, else `msg`.
fn refuse_no_link(src: &Src, errs: &mut Errs, f: &Fields, ends: (&Target, &Target), cx: &StepCx) {
    let (Some(from), Some(to)) = (known_ids(ends.0, cx), known_ids(ends.1, cx)) else {
        return;
    };
    if from.iter().any(|a| to.iter().any(|b| a != b)) {
        return;
    }
    let list = |s: &BTreeSet<u32>| crate::trace::list(s.iter().copied());
    let span = ["to", "from", "msg"]
        .iter()
        .find_map(|k| f.get(k))
        .map_or(f.span.clone(), |v| v.span.clone());
    errs.help(
        src,
        span,
        format!(
            "this step would do nothing: from nodes [{}] to nodes [{}] there is no link \
             between two different nodes",
            list(&from),
            list(&to)
        ),
        "a node does not call itself: give `from` and `to` different nodes",
    );
}

/// `delay_ms = N` or `delay_ms = [min, max]`.
fn read_delay(src: &Src, errs: &mut Errs, f: &Fields) -> Option<MsgAction> {
    let Some(v) = f.get("delay_ms") else {
        errs.help(
            src,
            f.key_span("msg"),
            "a `delay` step needs `delay_ms`",
            "`delay_ms = 100` (fixed) or `delay_ms = [50, 200]` (random in the range)",
        );
        return None;
    };
    let (min_ms, max_ms) = match &v.value {
        Value::Array(items) if items.len() == 2 => {
            let a = super::as_uint(src, errs, &items[0], "delay_ms", 0, 600_000)?;
            let b = super::as_uint(src, errs, &items[1], "delay_ms", 0, 600_000)?;
            (a, b)
        }
        Value::Array(_) => {
            errs.at(
                src,
                v.span.clone(),
                "`delay_ms` as an array is [min, max]: two numbers",
            );
            return None;
        }
        _ => {
            let d = super::as_uint(src, errs, v, "delay_ms", 0, 600_000)?;
            (d, d)
        }
    };
    if min_ms > max_ms {
        errs.at(
            src,
            v.span.clone(),
            format!("`delay_ms` range [{min_ms}, {max_ms}] is empty: min is above max"),
        );
        return None;
    }
    Some(MsgAction::Delay { min_ms, max_ms })
}

/// `from`/`to`: a target word, `@label`, an id or ids; absent = every node.
fn read_end(src: &Src, errs: &mut Errs, f: &Fields, key: &str, cx: &StepCx) -> Option<Target> {
    match f.get(key) {
        None => Some(Target::All),
        Some(v) => super::target_value(src, errs, v, key, cx),
    }
}

#[cfg(test)]
mod tests {
    use crate::spec::faults::MsgKind;
    use crate::spec::{load, Action, NemesisFault};

    /// A 3-node suite with `cluster` and one nemesis step of `faults` (a TOML array).
    fn load_suite(cluster: &str, faults: &str) -> Result<crate::spec::Spec, String> {
        load_steps(
            cluster,
            &format!("[[step]]\nnemesis = true\nfaults = {faults}\n"),
        )
    }

    /// A 3-node suite with `cluster` and `steps` (TOML after the nodes).
    fn load_steps(cluster: &str, steps: &str) -> Result<crate::spec::Spec, String> {
        let nodes: String = (1..=3)
            .map(|i| format!("[[node]]\nid = {i}\nkind = \"k\"\n"))
            .collect();
        let text = format!(
            "[kind.k]\ncommand = [\"true\", \"{{id}}\", \"{{peers}}\"]\n[cluster]\n{cluster}\n{nodes}{steps}"
        );
        let (dir, p) = crate::testutil::temp_file("s.toml", &text);
        load(&p).map_err(|e| {
            e.to_string()
                .replace(&dir.path().display().to_string(), "<dir>")
        })
    }

    const LABELLED: &str = "[[step]]\nmsg = \"drop-reply\"\nfrom = \"leader\"\nto = \"follower\"\n\
                            label = \"lagging\"\n[[step]]\nfault = \"kill\"\ntarget = \"@lagging\"\n";

    #[test]
    fn a_msg_step_takes_a_label_that_later_steps_target() {
        let spec = load_steps("network = \"rpc\"", LABELLED).unwrap();
        assert!(matches!(spec.steps[0].action, Action::Msg(_)));
        assert_eq!(spec.steps[0].label.as_deref(), Some("lagging"));
        let Action::Fault { target, .. } = &spec.steps[1].action else {
            panic!("{:?}", spec.steps[1].action);
        };
        assert_eq!(*target, crate::spec::Target::Label("lagging".into()));
        let dup =
            format!("{LABELLED}[[step]]\nmsg = \"delay\"\ndelay_ms = 5\nlabel = \"lagging\"\n");
        let e = load_steps("network = \"rpc\"", &dup).unwrap_err();
        assert!(
            e.contains("label \"lagging\" is already defined on line"),
            "{e}"
        );
    }

    #[test]
    fn message_faults_on_tcp_proxies_are_refused_before_the_run_at_each_value() {
        let steps = "[[step]]\nmsg = \"duplicate\"\n\
                     [[step]]\nrepeat = 2\nsteps = [{ msg = \"drop-reply\" }, { heal = true }]\n\
                     [[step]]\nnemesis = true\nfaults = [\"kill\", \"isolate\", \"reorder\"]\n";
        let e = load_steps("proxies = true", steps).unwrap_err();
        assert_eq!(
            e.matches("but this suite's links are TCP proxies").count(),
            3,
            "{e}"
        );
        for at in ["s.toml:15:7", "s.toml:18:18", "s.toml:21:30"] {
            assert!(e.contains(at), "no error at {at}: {e}");
        }
        assert!(
            !e.contains("\"kill\" breaks") && !e.contains("isolate\" breaks"),
            "{e}"
        );
        // The same steps on RPC-aware links are fine; net steps on TCP proxies too.
        assert!(load_steps("network = \"rpc\"", steps).is_ok());
        assert!(load_steps(
            "proxies = true",
            "[[step]]\nnet = \"isolate\"\ntarget = 1\n"
        )
        .is_ok());
    }

    #[test]
    fn snapshot_msg_step_on_tcp_proxies() {
        let e = load_steps(
            "proxies = true",
            "[[step]]\nmsg = \"drop-reply\"\nmethod = \"append-entries\"\n",
        );
        insta::assert_snapshot!(e.unwrap_err());
    }

    #[test]
    fn the_nemesis_takes_message_faults_on_rpc_links_only() {
        let all = r#"["kill", "drop-request", "drop-reply", "delay", "duplicate", "reorder"]"#;
        let spec = load_suite("network = \"rpc\"", all).unwrap();
        let Action::Nemesis { faults, .. } = &spec.steps[0].action else {
            panic!("{:?}", spec.steps[0].action);
        };
        let msgs: Vec<MsgKind> = faults
            .iter()
            .filter_map(|f| match f {
                NemesisFault::Msg(k) => Some(*k),
                _ => None,
            })
            .collect();
        let want: Vec<MsgKind> = MsgKind::WORDS.iter().map(|(_, k)| *k).collect();
        assert_eq!(msgs, want);
        for cluster in ["", "proxies = false"] {
            let e = load_suite(cluster, r#"["kill", "duplicate"]"#).unwrap_err();
            assert!(
                e.contains("s.toml:") && e.contains("message faults need RPC-aware links"),
                "{e}"
            );
        }
        let e = load_suite("network = \"rpc\"", r#"["duplicates"]"#).unwrap_err();
        assert!(e.contains("duplicates"), "{e}");
    }
}

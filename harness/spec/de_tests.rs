//! The serde-derived flat tables (de.rs, tables.rs): every problem of a table is
//! found (not only the first), each at its key or value, in the same words as
//! the hand-written readers, and nothing bad is accepted.
use super::de::{table, DeError, Problem};
use super::tables::{Flag, Secs, UInt};
use super::tests::{assert_all, load_raw, refused, NODES};
use super::value::Node;

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct T {
    a: Option<UInt<2, 3>>,
    b: Option<Flag>,
    c: Secs,
}

fn node(text: &str) -> Node {
    toml::from_str::<Node>(text).unwrap()
}

#[test]
fn a_table_yields_every_problem_with_its_key_and_span() {
    let text = "a = 9\nb = \"yes\"\nzz = 1\nc = 1.5\n";
    let (t, problems) = table::<T>(&node(text));
    let keys: Vec<_> = problems.iter().map(|p| p.key.clone().unwrap()).collect();
    assert_eq!(keys, ["a", "b", "zz"], "{problems:?}");
    let at = |p: &DeError| &text[p.span.clone().unwrap()];
    assert_eq!(at(&problems[0]), "9");
    assert_eq!(
        problems[0].problem,
        Problem::Other("must be between 2 and 3, found 9".into())
    );
    assert_eq!(at(&problems[1]), "\"yes\"");
    assert_eq!(
        problems[1].problem,
        Problem::Type {
            expected: "true or false".into(),
            found: "a string"
        }
    );
    assert_eq!(at(&problems[2]), "zz", "an unknown key points at the key");
    assert!(
        matches!(problems[2].problem, Problem::UnknownKey { valid } if valid == ["a", "b", "c"])
    );
    // The good keys are kept: `c` in ms.
    let t = t.expect("only bad keys were dropped");
    assert_eq!((t.a, t.b, t.c), (None, None, Secs(1500)));
}

#[test]
fn a_missing_required_key_fails_the_table_but_a_bad_one_is_said_once() {
    let (t, problems) = table::<T>(&node("a = 2\n"));
    assert!(t.is_none());
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].problem, Problem::MissingKey("c"));
    let (t, problems) = table::<T>(&node("c = -1\n"));
    assert!(t.is_none());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(
        problems[0].problem,
        Problem::Other("must be between 0 and 86400 seconds, found -1".into())
    );
}

/// The messages for a suite of two nodes (tests.rs) followed by `body` (line 9 on),
/// which must hold every one of `wants`.
#[track_caller]
fn with_nodes(body: &str, wants: &[&str]) -> String {
    refused(&format!("{NODES}{body}"), wants)
}

#[test]
fn every_problem_of_the_cluster_table_is_named_where_it_is() {
    with_nodes(
        "[cluster]\npoll_ms = 1\nproxies = \"yes\"\nbogus = 1\nbackend = \"dokcer\"\nnetwork = 3\n",
        &[
            "s.toml:10:11: `poll_ms` must be between 5 and 10000, found 1",
            "s.toml:11:11: `proxies` must be true or false, found a string",
            "s.toml:12:1: unknown key `bogus` in [cluster]",
            "s.toml:13:11: `backend` cannot be \"dokcer\"",
            "did you mean \"docker\"? (one of: process, docker)",
            "s.toml:14:11: `network` must be a string, found an integer",
            "5 errors in the spec",
        ],
    );
}

#[test]
fn workload_and_checks_values_are_typed_and_bounded() {
    let e = with_nodes(
        "[workload]\ntype = \"regster\"\nclients = 0\n",
        &[
            "`type` cannot be \"regster\"",
            "did you mean \"register\"?",
            "`clients` must be between 1 and 1000, found 0",
            "2 errors in the spec",
        ],
    );
    assert!(!e.contains("missing the required key"), "said once: {e}");
    with_nodes(
        "[workload]\nrate = 5\n",
        &["s.toml:9:1: [workload] is missing the required key `type`"],
    );
    with_nodes(
        "[checks]\nsettle_timeout_s = \"long\"\nterm_window_s = 90000\nrequired = [1]\nnode_errors = \"loud\"\n",
        &[
            "s.toml:10:20: `settle_timeout_s` must be a number of seconds, found a string",
            "s.toml:11:17: `term_window_s` must be between 0 and 86400 seconds, found 90000",
            "s.toml:12:13: `required` must be a string, found an integer",
            "`node_errors` cannot be \"loud\"",
            "expected one of: fail, warning",
        ],
    );
}

#[test]
fn top_level_keys_and_table_shapes_are_checked() {
    with_nodes(
        "[worklaod]\ntype = \"set\"\n",
        &[
            "unknown key `worklaod` in the suite",
            "did you mean `workload`?",
        ],
    );
    let suite = "cluster = 5\nchecks = [1]\nseed = -1\n[[node]]\nid = 1\nkind = \"rust\"\n";
    let e = load_raw(suite.as_bytes()).unwrap_err().to_string();
    assert_all(
        &e,
        &[
            "s.toml:3:8: `seed` must be between 0 and 9223372036854775807, found -1",
            "s.toml:1:11: [cluster] must be a table, found an integer",
            "s.toml:2:10: [checks] must be a table, found an array",
        ],
    );
}

//! Spec parsing and validation: good suites load; every kind of mistake is
//! reported at its line and column, with a suggestion where one is obvious.
use super::*;
use std::path::Path;

use super::input::MAX_FILE_BYTES;

const KINDS: &str = r#"
[kind.rust]
command = ["bin/node", "{id}", "{port}", "{peers}", "--journal", "{journal}"]
[kind.plain]
command = ["bin/other", "{id}", "{port}", "{peer_addrs}"]
"#;

/// One kind, `rust`, without a journal (the refusal and snapshot tests).
pub(super) const ONE_KIND: &str =
    "[kind.rust]\ncommand = [\"bin/node\", \"{id}\", \"{port}\", \"{peers}\"]\n";

/// `kinds` written as `kinds.toml` and `suite` as `s.toml` in a fresh temp folder, then the
/// suite loaded. The folder lives as long as the returned guard (messages name its path).
pub(super) fn load_files(
    kinds: &str,
    suite: &[u8],
) -> (tempfile::TempDir, Result<Spec, SpecErrors>) {
    let (dir, _) = crate::testutil::temp_file("kinds.toml", kinds);
    let p = dir.path().join("s.toml");
    std::fs::write(&p, suite).unwrap();
    let spec = load(&p);
    (dir, spec)
}

/// [`load_files`] of a suite that starts with `include = ["kinds.toml"]`, then `body`.
pub(super) fn load_including(
    kinds: &str,
    body: &str,
) -> (tempfile::TempDir, Result<Spec, SpecErrors>) {
    load_files(
        kinds,
        format!("include = [\"kinds.toml\"]\n{body}").as_bytes(),
    )
}

/// The rendered errors of `body` after an include of `kinds` (see [`load_including`]), or ""
/// when it loads.
pub(super) fn errors_with(kinds: &str, body: &str) -> String {
    match load_including(kinds, body).1 {
        Ok(_) => String::new(),
        Err(e) => e.to_string(),
    }
}

/// Load `suite` with the test kinds (rust, plain) included (line 2 on).
pub(super) fn load_text(suite: &str) -> Result<Spec, SpecErrors> {
    load_including(KINDS, suite).1
}

pub(super) const NODES: &str =
    "[[node]]\nid = 1\nkind = \"rust\"\n[[node]]\nid = 2\nkind = \"plain\"\nport = 7002\n";

/// All messages of the refused `suite`, one string (paths name the temp folder).
pub(super) fn errors(suite: &str) -> String {
    match load_text(suite) {
        Ok(_) => panic!("expected errors for:\n{suite}"),
        Err(e) => e.to_string(),
    }
}

/// The messages for `suite` (as [`errors`]), which must hold every one of `wants`.
#[track_caller]
pub(super) fn refused(suite: &str, wants: &[&str]) -> String {
    let e = errors(suite);
    assert_all(&e, wants);
    e
}

pub(super) use crate::testutil::{assert_all, assert_none};

#[test]
fn a_valid_suite_loads_with_defaults_and_overrides() {
    let s = load_text(&format!(
        "{NODES}[cluster]\nbase_port = 6000\nelection_timeout_ms = \"300-600\"\n\
         [workload]\ntype = \"set\"\n[[step]]\nwait = \"leader\"\n\
         [[step]]\nrepeat = 2\nsteps = [{{ fault = \"kill\", target = \"leader\" }}, {{ fault = \"restart\" }}]\n"
    ))
    .unwrap();
    assert_eq!(s.nodes[0].port, 6001, "base_port + id");
    assert_eq!(s.nodes[1].port, 7002);
    assert_eq!(s.cluster.timing.election_min_ms, 300);
    assert_eq!(s.cluster.timing.heartbeat_ms, 50);
    assert!(s.kinds["rust"].writes_journal());
    assert!(!s.kinds["plain"].writes_journal());
    assert_eq!(s.steps.len(), 2);
    match &s.steps[1].action {
        Action::Repeat { times, steps } => {
            assert_eq!(*times, 2);
            assert!(matches!(
                steps[1].action,
                Action::Fault {
                    fault: ProcFault::Restart,
                    target: Target::Down
                }
            ));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.steps[0].at, "s.toml:14", "the step's file:line");
}

#[test]
fn unknown_key_points_at_it_and_suggests_the_nearest() {
    refused(
        &format!("{NODES}[cluster]\nheartbeet_ms = 50\n"),
        &[
            "s.toml:10:1: unknown key `heartbeet_ms` in [cluster]",
            "did you mean `heartbeat_ms`?",
            "^^^^^^^^^^^^",
        ],
    );
}

#[test]
fn timing_must_be_sane() {
    refused(
        &format!("{NODES}[cluster]\nelection_timeout_ms = [300, 300]\n"),
        &["must be above 0 and below the maximum"],
    );
    refused(
        &format!("{NODES}[cluster]\nelection_timeout_ms = [150, 300]\nheartbeat_ms = 100\n"),
        &["not well below the minimum election timeout"],
    );
}

#[test]
fn nodes_are_checked() {
    refused(
        "[[node]]\nid = 1\nkind = \"rsut\"\n[[node]]\nid = 2\nkind = \"rust\"\nport = 6001\n[[node]]\nid = 2\nkind = \"rust\"\n",
        &[
            "unknown node kind \"rsut\"",
            "did you mean \"rust\"?",
            "node id 2 is used twice",
        ],
    );
    refused("", &["the suite has no nodes"]);
}

#[test]
fn steps_are_checked() {
    // (the step's keys after `[[step]]`, what the messages must say)
    let cases: [(&str, &[&str]); 7] = [
        (
            "wiat = \"leader\"",
            &["unknown step action `wiat`", "did you mean `wait`?"],
        ),
        (
            "wait = \"leader\"\nsleep_s = 1",
            &["a step has exactly one action"],
        ),
        ("fault = \"kill\"\ntarget = 9", &["no node has id 9"]),
        ("fault = \"kill\"", &["needs a `target`"]),
        (
            "net = \"isolate\"\ntarget = \"leader\"",
            &["network faults need the per-link proxies"],
        ),
        ("workload = \"start\"", &["the suite has no [workload]"]),
        (
            "nemesis = true\nfaults = [\"kil\"]",
            &["did you mean \"kill\"?"],
        ),
    ];
    for (step, wants) in cases {
        refused(&format!("{NODES}[[step]]\n{step}\n"), wants);
    }
}

#[test]
fn kinds_are_checked() {
    let (_dir, p) = crate::testutil::temp_file(
        "s.toml",
        "[kind.x]\ncommand = [\"n\", \"{prot}\"]\nbuild = []\n[[node]]\nid = 1\nkind = \"x\"\n",
    );
    let e = load(&p).unwrap_err().to_string();
    assert_all(
        &e,
        &[
            "unknown placeholder `{prot}`",
            "did you mean `{port}`?",
            "`build` must not be empty",
        ],
    );
}

#[test]
fn non_loopback_hosts_and_bad_checks_are_rejected() {
    refused(
        &format!(
            "{NODES}[cluster]\nhost = \"10.0.0.1\"\n[checks]\nrequired = [\"linearisable\"]\n"
        ),
        &["not a loopback address", "did you mean \"linearizable\"?"],
    );
}

#[test]
fn toml_syntax_errors_have_a_position() {
    refused("x = [", &["s.toml:2:"]);
    let missing = load(Path::new("/nonexistent/suite.toml"))
        .unwrap_err()
        .to_string();
    assert_all(&missing, &["cannot read the file"]);
}

#[test]
fn workload_groups_load_and_bad_ones_are_named() {
    let s = load_text(&format!(
        "{NODES}[workload]\ntype = \"register\"\nrate = 30\ntargets = [1]\n\
         [[workload.group]]\nclients = 2\ntargets = [2]\n[[step]]\nwait = \"leader\"\n"
    ))
    .unwrap();
    let w = s.workload.unwrap();
    assert_eq!(w.groups.len(), 1);
    assert_eq!(
        (w.groups[0].clients, w.groups[0].targets.clone()),
        (2, vec![2])
    );
    assert_eq!(w.groups[0].rate, 30.0, "the workload's rate by default");
    refused(
        &format!(
            "{NODES}[workload]\ntype = \"register\"\n\
             [[workload.group]]\nclient = 2\ntargets = [9]\n[[step]]\nwait = \"leader\"\n"
        ),
        &[
            "unknown key `client` in [[workload.group]]",
            "no node has id 9",
        ],
    );
    refused(
        &format!(
            "{NODES}[workload]\ntype = \"register\"\ngroup = 3\n[[step]]\nwait = \"leader\"\n"
        ),
        &["`group` must be an array of tables"],
    );
}

#[test]
fn peer_addrs_through_the_proxies_is_refused() {
    // Node 2's kind ("plain") passes {peer_addrs}: ids derived from proxy ports would be wrong.
    refused(
        &format!("{NODES}[cluster]\nproxies = true\n[[step]]\nwait = \"leader\"\n"),
        &[
            "`proxies = true` with `{peer_addrs}` (nodes 2 (plain))",
            "s.toml:",
        ],
    );
    // Without proxies the same nodes are fine.
    load_text(&format!("{NODES}[[step]]\nwait = \"leader\"\n")).unwrap();
}

#[test]
fn check_settings_and_error_patterns_load_and_bad_ones_are_named() {
    let s = load_text(&format!(
        "{NODES}[[step]]\nwait = \"leader\"\n[checks]\nmax_new_terms = 5\nterm_window_s = 2.5\nnode_errors = \"warning\"\n"
    ))
    .unwrap();
    assert_eq!(s.checks.max_new_terms, 5);
    assert_eq!(s.checks.term_window_ms, Some(2500));
    assert!(s.checks.node_errors_warn);
    let d = load_text(&format!("{NODES}[[step]]\nwait = \"leader\"\n")).unwrap();
    assert_eq!((d.checks.max_new_terms, d.checks.term_window_ms), (3, None));
    assert!(!d.checks.node_errors_warn);
    refused(
        &format!("{NODES}[[step]]\nwait = \"leader\"\n[checks]\nnode_errors = \"warn\"\n"),
        &["node_errors", "expected one of: fail, warning"],
    );
    refused(
        &format!(
            "[kind.bad]\ncommand = [\"x\"]\nerror_patterns = [\"^FATAL (\"]\n{NODES}[[step]]\nwait = \"leader\"\n"
        ),
        &["invalid regular expression \"^FATAL (\" in `error_patterns`"],
    );
}

// ---- issue 10 §6 and §9: input that must be a clear error, never a panic or a hang.

/// Write `suite` (with the test kinds beside it) and load it.
pub(super) fn load_raw(suite: &[u8]) -> Result<Spec, SpecErrors> {
    load_files(KINDS, suite).1
}

#[test]
fn ipv6_and_other_non_ipv4_loopback_hosts_are_rejected() {
    refused(
        &format!("{NODES}[cluster]\nhost = \"::1\"\n"),
        &[
            "s.toml:10:8: host \"::1\" is IPv6 loopback",
            "127.0.0.0/8 or `localhost`",
        ],
    );
    for ok in ["127.0.0.1", "127.0.0.2", "localhost"] {
        let s = load_text(&format!("{NODES}[cluster]\nhost = \"{ok}\"\n"));
        assert!(s.is_ok(), "{ok}: {:?}", s.err().map(|e| e.to_string()));
    }
    refused(
        &format!("{NODES}[cluster]\nhost = \"::ffff:127.0.0.1\"\n"),
        &["is not a loopback address"],
    );
}

#[test]
fn an_empty_node_list_is_rejected() {
    refused("node = []\n", &["s.toml:2:8: the node list is empty"]);
}

#[test]
fn include_accepts_regular_files_of_at_most_1_mib_only() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.toml");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    let big = dir.path().join("big.toml");
    std::fs::write(&big, vec![b'#'; (MAX_FILE_BYTES + 1) as usize]).unwrap();
    let p = dir.path().join("s.toml");
    std::fs::write(
        &p,
        format!(
            "include = [\"fifo.toml\", \"/dev/zero\", \"big.toml\", \"{}\"]\n{NODES}",
            dir.path().display()
        ),
    )
    .unwrap();
    let refused_at =
        |p: &Path, wants: &[&str]| assert_all(&load(p).unwrap_err().to_string(), wants);
    // Today's main blocks for ever on the FIFO (and would read /dev/zero until memory runs out).
    refused_at(
        &p,
        &[
            "fifo.toml: cannot read the file: it is a FIFO",
            "/dev/zero: cannot read the file: it is a character device",
            "big.toml: the file is larger than 1048576 bytes",
            "it is a directory",
            "s.toml:1:12:", // points at the include entry
        ],
    );
    // An included file that is not UTF-8 is reported at its own line and column.
    std::fs::write(dir.path().join("latin1.toml"), b"# kinds\n# caf\xe9\n").unwrap();
    std::fs::write(&p, format!("include = [\"latin1.toml\"]\n{NODES}")).unwrap();
    refused_at(
        &p,
        &["latin1.toml:2:6: the file is not valid UTF-8: byte 0xE9"],
    );
    // A name taken from a file name is checked too.
    let odd = dir.path().join("has space.toml");
    std::fs::write(&odd, NODES).unwrap();
    refused_at(&odd, &["the suite name (the file name; set `name`"]);
    // The suite file itself gets the same rule.
    refused_at(&fifo, &["it is a FIFO"]);
    refused_at(Path::new("/dev/zero"), &["not a regular file"]);
}

#[test]
fn a_date_value_is_explained_without_toml_internals() {
    for (v, col) in [
        ("1979-05-27", 8),
        ("07:32:00", 8),
        ("1979-05-27T07:32:00Z", 8),
    ] {
        let want =
            format!("s.toml:2:{col}: `seed`: dates are not accepted here; expected a string");
        let e = refused(&format!("seed = {v}\n{NODES}"), &[&want]);
        assert_none(&e, &["$__toml"]);
    }
    let e = refused(
        &format!("{NODES}[cluster]\nbase_port = [1979-05-27]\n"),
        &["dates are not accepted here"],
    );
    assert_none(&e, &["$__toml"]);
    refused(
        &format!("{NODES}[[step]]\nrepeat = 2\nsteps = [{{ sleep_s = 1979-05-27 }}]\n"),
        &["s.toml:11:22: `sleep_s`: dates are not accepted"],
    );
}

#[test]
fn invalid_utf8_is_reported_at_its_line_and_column() {
    let mut suite = b"include = [\"kinds.toml\"]\ndescription = \"caf\xc3\xa9 \xff\"\n".to_vec();
    suite.extend_from_slice(NODES.as_bytes());
    let e = load_raw(&suite).unwrap_err().to_string();
    assert_all(&e, &["s.toml:2:21: the file is not valid UTF-8: byte 0xFF"]);
}

#[test]
fn names_that_cannot_be_folder_names_are_rejected() {
    for bad in ["", "   ", "a/b", "..", "a\\u0007b", "x y"] {
        refused(
            &format!("name = \"{bad}\"\n{NODES}"),
            &["s.toml:2:8: `name`"],
        );
    }
    let long = "n".repeat(201);
    refused(
        &format!("name = \"{long}\"\n{NODES}"),
        &["at most 200 characters"],
    );
    assert!(load_text(&format!("name = \"ok-name_1\"\n{NODES}")).is_ok());
    // Kind names become build log and stamp file names.
    for bad in ["\"../x\"", "\"\"", "\"a/b\""] {
        refused(
            &format!("[kind.{bad}]\ncommand = [\"n\"]\n{NODES}"),
            &["s.toml:2:7: kind name"],
        );
    }
}

#[test]
fn placeholders_in_args_and_env_are_checked() {
    let e = refused(
        "[kind.k]\ncommand = [\"n\"]\nenv = { LOG = \"{dat_dir}/log\", JSON = '{\"a\": 1}' }\n\
         [[node]]\nid = 1\nkind = \"k\"\nargs = [\"--x\", \"--port={prot}\"]\nenv = { A = \"{jornal}\" }\n",
        &[
            "s.toml:4:15: unknown placeholder `{dat_dir}` in `env`",
            "did you mean `{data_dir}`?",
            "s.toml:8:16: unknown placeholder `{prot}` in `args`",
            "did you mean `{port}`?",
            "s.toml:9:13: unknown placeholder `{jornal}` in `env`",
            "did you mean `{journal}`?",
            "3 errors",
        ],
    );
    assert!(
        !e.contains("placeholder `{\"a"),
        "JSON braces are literal: {e}"
    );
}

/// `count` nodes of kind rust, with proxies on.
fn nodes(count: u32) -> String {
    let mut s = String::from("[cluster]\nproxies = true\n");
    for id in 1..=count {
        s.push_str(&format!("[[node]]\nid = {id}\nkind = \"rust\"\n"));
    }
    s
}

#[test]
fn network_shapes_too_big_for_the_cluster_are_found_by_validate() {
    let cases = [
        (
            1,
            "net = \"halves\"",
            "`halves` needs at least 2 nodes, the cluster has 1",
        ),
        (
            2,
            "net = \"bridge\"",
            "`bridge` needs at least 3 nodes, the cluster has 2",
        ),
        (
            3,
            "net = \"majorities-ring\"",
            "`majorities-ring` needs at least 4 nodes, the cluster has 3",
        ),
        (
            3,
            "net = \"isolate\"\ntarget = \"all\"",
            "it would isolate every node",
        ),
        (
            3,
            "net = \"isolate\"\ntarget = [3, 1, 2]",
            "it would isolate every node",
        ),
        (
            2,
            "net = \"isolate\"\ntarget = \"majority\"",
            "a majority of 2 nodes is every node",
        ),
        (
            1,
            "net = \"isolate\"\ntarget = \"leader\"",
            "`isolate` needs at least 2 nodes",
        ),
    ];
    for (n, step, want) in cases {
        let pre = nodes(n);
        let line = pre.lines().count() + 3; // include line, pre, [[step]]
        let e = errors(&format!(
            "{pre}[[step]]\nwait = \"leader\"\n[[step]]\n{step}\n"
        ));
        assert!(
            e.contains(&format!(
                "s.toml:{}:1: this step cannot run: {want}",
                line + 2
            )),
            "{step} on {n} nodes: {e}"
        );
    }
    // Inside a repeat and in the nemesis too.
    refused(
        &format!(
            "{}[[step]]\nrepeat = 2\nsteps = [{{ net = \"bridge\" }}, {{ heal = true }}]\n",
            nodes(2)
        ),
        &["`bridge` needs at least 3 nodes"],
    );
    refused(
        &format!(
            "{}[[step]]\nnemesis = true\nfaults = [\"kill\", \"majorities-ring\"]\n",
            nodes(3)
        ),
        &["the nemesis cannot use it: `majorities-ring` needs at least 4"],
    );
    // Shapes that fit are fine.
    assert!(load_text(&format!(
        "{}[[step]]\nnet = \"isolate\"\ntarget = [1, 2]\n[[step]]\nnet = \"majorities-ring\"\n",
        nodes(5)
    ))
    .is_ok());
}

#[test]
fn a_1_mb_line_gives_a_bounded_message() {
    // 1,000,000 bytes of 2-byte characters on one line (the file stays under 1 MiB).
    let huge = "é".repeat(500_000);
    for suite in [
        format!("name = \"{huge}\"\n{NODES}"),
        format!("{NODES}[[step]]\nwait = \"{huge}\"\n"),
        format!("{NODES}[cluster]\n{huge} = 1\n"),
        format!("description = \"x\" {huge}\n{NODES}"),
    ] {
        let e = errors(&suite);
        assert!(e.len() < 4_000, "{} bytes: {}", e.len(), &e[..300]);
        assert!(e.contains('…'), "the excerpt says it was cut: {e}");
        assert!(e.contains("s.toml:"), "{e}");
    }
}

#[test]
fn a_long_line_is_shown_as_a_window_around_the_caret() {
    let pad = "x".repeat(300);
    let e = errors(&format!("{NODES}[[step]]\nwait = \"leadr\" # {pad}\n"));
    let shown: Vec<&str> = e.lines().filter(|l| l.starts_with("10 | ")).collect();
    assert_eq!(shown.len(), 1, "{e}");
    assert!(shown[0].chars().count() < 130, "{e}");
    // Many errors: the first 50 are shown, the rest counted.
    let many: String = (0..80).map(|i| format!("bad{i} = 1\n")).collect();
    refused(
        &format!("{many}{NODES}"),
        &["… and 30 more errors not shown", "80 errors in the spec"],
    );
}

#[test]
fn process_arguments_and_environment_hold_no_nul_and_env_names_are_valid() {
    refused(
        "[kind.k]\ncommand = [\"n\", \"a\\u0000b\"]\n[[node]]\nid = 1\nkind = \"k\"\n\
         args = [\"x\\u0000\"]\nenv = { \"A=B\" = \"1\", \"\" = \"2\", C = \"\\u0000\" }\n",
        &[
            "s.toml:3:17: `command` values must not contain a NUL",
            "s.toml:7:9: `args` values must not contain a NUL",
            "s.toml:8:9: environment variable name \"A=B\"",
            "s.toml:8:22: environment variable name \"\"",
            "s.toml:8:36: `env` values must not contain a NUL",
            "5 errors",
        ],
    );
}

#[test]
fn the_caret_stays_under_the_problem_in_a_cut_line() {
    let text = format!("{}BAD{}\n", "é".repeat(200), "b".repeat(200));
    let at = "é".len() * 200;
    let d = Diagnostic::at(Path::new("s.toml"), &text, at..at + 3, "bad".into(), None);
    assert_eq!((d.line, d.col), (1, 201), "columns count characters");
    let shown = d.to_string();
    let lines: Vec<&str> = shown.lines().collect();
    let src = lines[2].strip_prefix("1 | ").unwrap();
    let caret = lines[3].strip_prefix("  | ").unwrap();
    assert!(src.starts_with('…') && src.ends_with('…'), "{shown}");
    assert!(src.chars().count() <= 122, "{shown}");
    let col = |s: &str, pat: &str| s[..s.find(pat).unwrap()].chars().count();
    assert_eq!(col(src, "BAD"), col(caret, "^^^"), "{shown}");
    assert_eq!(caret.trim(), "^^^", "{shown}");
}

#[test]
fn docker_with_rpc_links_is_refused_at_backend() {
    let node = "[[node]]\nid = 1\nkind = \"rust\"\n";
    refused(
        &format!("[cluster]\nnetwork = \"rpc\"\nbackend = \"docker\"\n{node}"),
        &["s.toml:4:11: `backend = \"docker\"` cannot have `network = \"rpc\"`"],
    );
    // Controls: either one alone loads.
    load_text(&format!("[cluster]\nnetwork = \"rpc\"\n{node}")).unwrap();
    load_text(&format!("[cluster]\nbackend = \"docker\"\n{node}")).unwrap();
}

#[test]
fn docker_with_a_flaky_step_is_refused_at_the_step() {
    let node = "[[node]]\nid = 1\nkind = \"rust\"\n[[node]]\nid = 2\nkind = \"rust\"\n";
    let step = "[[step]]\nrepeat = 2\n[[step.steps]]\nnet = \"flaky\"\nloss = 0.5\n";
    refused(
        &format!("[cluster]\nproxies = true\nbackend = \"docker\"\n{node}{step}"),
        &["s.toml:14:7: `net = \"flaky\"` is not supported by `backend = \"docker\"`"],
    );
    // Control: the same suite on the process backend loads.
    load_text(&format!("[cluster]\nproxies = true\n{node}{step}")).unwrap();
    // A nemesis that may draw flaky links, at its list's entry; the other faults are fine.
    let nemesis = "[[step]]\nnemesis = true\nfaults = [\"kill\", \"flaky\"]\n";
    refused(
        &format!("[cluster]\nproxies = true\nbackend = \"docker\"\n{node}{nemesis}"),
        &["s.toml:13:19: nemesis fault \"flaky\" is not supported by `backend = \"docker\"`"],
    );
    load_text(&format!("[cluster]\nproxies = true\n{node}{nemesis}")).unwrap();
}

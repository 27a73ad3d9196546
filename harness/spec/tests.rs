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

pub(super) fn load_text(suite: &str) -> Result<Spec, SpecErrors> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("kinds.toml"), KINDS).unwrap();
    let p = dir.path().join("s.toml");
    std::fs::write(&p, format!("include = [\"kinds.toml\"]\n{suite}")).unwrap();
    load(&p)
}

pub(super) const NODES: &str =
    "[[node]]\nid = 1\nkind = \"rust\"\n[[node]]\nid = 2\nkind = \"plain\"\nport = 7002\n";

/// All messages, one string, without the temp dir's path.
pub(super) fn errors(suite: &str) -> String {
    match load_text(suite) {
        Ok(_) => panic!("expected errors for:\n{suite}"),
        Err(e) => e.to_string(),
    }
}

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
    let e = errors(&format!("{NODES}[cluster]\nheartbeet_ms = 50\n"));
    assert!(
        e.contains("s.toml:10:1: unknown key `heartbeet_ms` in [cluster]"),
        "{e}"
    );
    assert!(e.contains("did you mean `heartbeat_ms`?"), "{e}");
    assert!(e.contains("^^^^^^^^^^^^"), "{e}");
}

#[test]
fn timing_must_be_sane() {
    let e = errors(&format!(
        "{NODES}[cluster]\nelection_timeout_ms = [300, 300]\n"
    ));
    assert!(e.contains("must be above 0 and below the maximum"), "{e}");
    let e = errors(&format!(
        "{NODES}[cluster]\nelection_timeout_ms = [150, 300]\nheartbeat_ms = 100\n"
    ));
    assert!(
        e.contains("not well below the minimum election timeout"),
        "{e}"
    );
}

#[test]
fn nodes_are_checked() {
    let e = errors("[[node]]\nid = 1\nkind = \"rsut\"\n[[node]]\nid = 2\nkind = \"rust\"\nport = 6001\n[[node]]\nid = 2\nkind = \"rust\"\n");
    assert!(e.contains("unknown node kind \"rsut\""), "{e}");
    assert!(e.contains("did you mean \"rust\"?"), "{e}");
    assert!(e.contains("node id 2 is used twice"), "{e}");
    let e = errors("");
    assert!(e.contains("the suite has no nodes"), "{e}");
}

#[test]
fn steps_are_checked() {
    let e = errors(&format!("{NODES}[[step]]\nwiat = \"leader\"\n"));
    assert!(
        e.contains("unknown step action `wiat`") && e.contains("did you mean `wait`?"),
        "{e}"
    );
    let e = errors(&format!(
        "{NODES}[[step]]\nwait = \"leader\"\nsleep_s = 1\n"
    ));
    assert!(e.contains("a step has exactly one action"), "{e}");
    let e = errors(&format!("{NODES}[[step]]\nfault = \"kill\"\ntarget = 9\n"));
    assert!(e.contains("no node has id 9"), "{e}");
    let e = errors(&format!("{NODES}[[step]]\nfault = \"kill\"\n"));
    assert!(e.contains("needs a `target`"), "{e}");
    let e = errors(&format!(
        "{NODES}[[step]]\nnet = \"isolate\"\ntarget = \"leader\"\n"
    ));
    assert!(
        e.contains("network faults need the per-link proxies"),
        "{e}"
    );
    let e = errors(&format!("{NODES}[[step]]\nworkload = \"start\"\n"));
    assert!(e.contains("the suite has no [workload]"), "{e}");
    let e = errors(&format!(
        "{NODES}[[step]]\nnemesis = true\nfaults = [\"kil\"]\n"
    ));
    assert!(e.contains("did you mean \"kill\"?"), "{e}");
}

#[test]
fn kinds_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.toml");
    std::fs::write(
        &p,
        "[kind.x]\ncommand = [\"n\", \"{prot}\"]\nbuild = []\n[[node]]\nid = 1\nkind = \"x\"\n",
    )
    .unwrap();
    let e = load(&p).unwrap_err().to_string();
    assert!(
        e.contains("unknown placeholder `{prot}`") && e.contains("did you mean `{port}`?"),
        "{e}"
    );
    assert!(e.contains("`build` must not be empty"), "{e}");
}

#[test]
fn non_loopback_hosts_and_bad_checks_are_rejected() {
    let e = errors(&format!(
        "{NODES}[cluster]\nhost = \"10.0.0.1\"\n[checks]\nrequired = [\"linearisable\"]\n"
    ));
    assert!(e.contains("not a loopback address"), "{e}");
    assert!(e.contains("did you mean \"linearizable\"?"), "{e}");
}

#[test]
fn toml_syntax_errors_have_a_position() {
    let e = errors("x = [");
    assert!(e.contains("s.toml:2:"), "{e}");
    let missing = load(Path::new("/nonexistent/suite.toml"))
        .unwrap_err()
        .to_string();
    assert!(missing.contains("cannot read the file"), "{missing}");
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
    let e = errors(&format!(
        "{NODES}[workload]\ntype = \"register\"\n\
         [[workload.group]]\nclient = 2\ntargets = [9]\n[[step]]\nwait = \"leader\"\n"
    ));
    assert!(
        e.contains("unknown key `client` in [[workload.group]]"),
        "{e}"
    );
    assert!(e.contains("no node has id 9"), "{e}");
    let e = errors(&format!(
        "{NODES}[workload]\ntype = \"register\"\ngroup = 3\n[[step]]\nwait = \"leader\"\n"
    ));
    assert!(e.contains("`group` must be an array of tables"), "{e}");
}

#[test]
fn peer_addrs_through_the_proxies_is_refused() {
    // Node 2's kind ("plain") passes {peer_addrs}: ids derived from proxy ports would be wrong.
    let e = errors(&format!(
        "{NODES}[cluster]\nproxies = true\n[[step]]\nwait = \"leader\"\n"
    ));
    assert!(
        e.contains("`proxies = true` with `{peer_addrs}` (nodes 2 (plain))"),
        "{e}"
    );
    assert!(e.contains("s.toml:"), "{e}");
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
    let e = errors(&format!(
        "{NODES}[[step]]\nwait = \"leader\"\n[checks]\nnode_errors = \"warn\"\n"
    ));
    assert!(e.contains("node_errors"), "{e}");
    assert!(e.contains("expected one of: fail, warning"), "{e}");
    let e = errors(&format!(
        "[kind.bad]\ncommand = [\"x\"]\nerror_patterns = [\"^FATAL (\"]\n{NODES}[[step]]\nwait = \"leader\"\n"
    ));
    assert!(
        e.contains("invalid regular expression \"^FATAL (\" in `error_patterns`"),
        "{e}"
    );
}

// ---- issue 10 §6 and §9: input that must be a clear error, never a panic or a hang.

/// Write `suite` (with the test kinds beside it) and load it.
pub(super) fn load_raw(suite: &[u8]) -> Result<Spec, SpecErrors> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("kinds.toml"), KINDS).unwrap();
    let p = dir.path().join("s.toml");
    std::fs::write(&p, suite).unwrap();
    load(&p)
}

#[test]
fn ipv6_and_other_non_ipv4_loopback_hosts_are_rejected() {
    let e = errors(&format!("{NODES}[cluster]\nhost = \"::1\"\n"));
    assert!(
        e.contains("s.toml:10:8: host \"::1\" is IPv6 loopback"),
        "{e}"
    );
    assert!(e.contains("127.0.0.0/8 or `localhost`"), "{e}");
    for ok in ["127.0.0.1", "127.0.0.2", "localhost"] {
        let s = load_text(&format!("{NODES}[cluster]\nhost = \"{ok}\"\n"));
        assert!(s.is_ok(), "{ok}: {:?}", s.err().map(|e| e.to_string()));
    }
    let e = errors(&format!("{NODES}[cluster]\nhost = \"::ffff:127.0.0.1\"\n"));
    assert!(e.contains("is not a loopback address"), "{e}");
}

#[test]
fn an_empty_node_list_is_rejected() {
    let e = errors("node = []\n");
    assert!(e.contains("s.toml:2:8: the node list is empty"), "{e}");
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
    // Today's main blocks for ever on the FIFO (and would read /dev/zero until memory runs out).
    let e = load(&p).unwrap_err().to_string();
    assert!(
        e.contains("fifo.toml: cannot read the file: it is a FIFO"),
        "{e}"
    );
    assert!(
        e.contains("/dev/zero: cannot read the file: it is a character device"),
        "{e}"
    );
    assert!(
        e.contains("big.toml: the file is larger than 1048576 bytes"),
        "{e}"
    );
    assert!(e.contains("it is a directory"), "{e}");
    assert!(
        e.contains("s.toml:1:12:"),
        "points at the include entry: {e}"
    );
    // An included file that is not UTF-8 is reported at its own line and column.
    std::fs::write(dir.path().join("latin1.toml"), b"# kinds\n# caf\xe9\n").unwrap();
    std::fs::write(&p, format!("include = [\"latin1.toml\"]\n{NODES}")).unwrap();
    let e = load(&p).unwrap_err().to_string();
    assert!(
        e.contains("latin1.toml:2:6: the file is not valid UTF-8: byte 0xE9"),
        "{e}"
    );
    // A name taken from a file name is checked too.
    let odd = dir.path().join("has space.toml");
    std::fs::write(&odd, NODES).unwrap();
    let e = load(&odd).unwrap_err().to_string();
    assert!(
        e.contains("the suite name (the file name; set `name`"),
        "{e}"
    );
    // The suite file itself gets the same rule.
    let e = load(&fifo).unwrap_err().to_string();
    assert!(e.contains("it is a FIFO"), "{e}");
    let e = load(Path::new("/dev/zero")).unwrap_err().to_string();
    assert!(e.contains("not a regular file"), "{e}");
}

#[test]
fn a_date_value_is_explained_without_toml_internals() {
    for (v, col) in [
        ("1979-05-27", 8),
        ("07:32:00", 8),
        ("1979-05-27T07:32:00Z", 8),
    ] {
        let e = errors(&format!("seed = {v}\n{NODES}"));
        assert!(!e.contains("$__toml"), "{e}");
        assert!(
            e.contains(&format!(
                "s.toml:2:{col}: `seed`: dates are not accepted here; expected a string"
            )),
            "{e}"
        );
    }
    let e = errors(&format!("{NODES}[cluster]\nbase_port = [1979-05-27]\n"));
    assert!(
        !e.contains("$__toml") && e.contains("dates are not accepted here"),
        "{e}"
    );
    let e = errors(&format!(
        "{NODES}[[step]]\nrepeat = 2\nsteps = [{{ sleep_s = 1979-05-27 }}]\n"
    ));
    assert!(
        e.contains("s.toml:11:22: `sleep_s`: dates are not accepted"),
        "{e}"
    );
}

#[test]
fn invalid_utf8_is_reported_at_its_line_and_column() {
    let mut suite = b"include = [\"kinds.toml\"]\ndescription = \"caf\xc3\xa9 \xff\"\n".to_vec();
    suite.extend_from_slice(NODES.as_bytes());
    let e = load_raw(&suite).unwrap_err().to_string();
    assert!(
        e.contains("s.toml:2:21: the file is not valid UTF-8: byte 0xFF"),
        "{e}"
    );
}

#[test]
fn names_that_cannot_be_folder_names_are_rejected() {
    for bad in ["", "   ", "a/b", "..", "a\\u0007b", "x y"] {
        let e = errors(&format!("name = \"{bad}\"\n{NODES}"));
        assert!(e.contains("s.toml:2:8: `name`"), "{bad:?}: {e}");
    }
    let long = "n".repeat(201);
    let e = errors(&format!("name = \"{long}\"\n{NODES}"));
    assert!(e.contains("at most 200 characters"), "{e}");
    assert!(load_text(&format!("name = \"ok-name_1\"\n{NODES}")).is_ok());
    // Kind names become build log and stamp file names.
    for bad in ["\"../x\"", "\"\"", "\"a/b\""] {
        let e = errors(&format!("[kind.{bad}]\ncommand = [\"n\"]\n{NODES}"));
        assert!(e.contains("s.toml:2:7: kind name"), "{bad}: {e}");
    }
}

#[test]
fn placeholders_in_args_and_env_are_checked() {
    let e = errors(
        "[kind.k]\ncommand = [\"n\"]\nenv = { LOG = \"{dat_dir}/log\", JSON = '{\"a\": 1}' }\n\
         [[node]]\nid = 1\nkind = \"k\"\nargs = [\"--x\", \"--port={prot}\"]\nenv = { A = \"{jornal}\" }\n",
    );
    assert!(
        e.contains("s.toml:4:15: unknown placeholder `{dat_dir}` in `env`")
            && e.contains("did you mean `{data_dir}`?"),
        "{e}"
    );
    assert!(
        e.contains("s.toml:8:16: unknown placeholder `{prot}` in `args`")
            && e.contains("did you mean `{port}`?"),
        "{e}"
    );
    assert!(
        e.contains("s.toml:9:13: unknown placeholder `{jornal}` in `env`")
            && e.contains("did you mean `{journal}`?"),
        "{e}"
    );
    assert!(
        !e.contains("placeholder `{\"a"),
        "JSON braces are literal: {e}"
    );
    assert!(e.contains("3 errors"), "{e}");
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
    let e = errors(&format!(
        "{}[[step]]\nrepeat = 2\nsteps = [{{ net = \"bridge\" }}, {{ heal = true }}]\n",
        nodes(2)
    ));
    assert!(e.contains("`bridge` needs at least 3 nodes"), "{e}");
    let e = errors(&format!(
        "{}[[step]]\nnemesis = true\nfaults = [\"kill\", \"majorities-ring\"]\n",
        nodes(3)
    ));
    assert!(
        e.contains("the nemesis cannot use it: `majorities-ring` needs at least 4"),
        "{e}"
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
    let e = errors(&format!("{many}{NODES}"));
    assert!(e.contains("… and 30 more errors not shown"), "{e}");
    assert!(e.contains("80 errors in the spec"), "{e}");
}

#[test]
fn process_arguments_and_environment_hold_no_nul_and_env_names_are_valid() {
    let e = errors(
        "[kind.k]\ncommand = [\"n\", \"a\\u0000b\"]\n[[node]]\nid = 1\nkind = \"k\"\n\
         args = [\"x\\u0000\"]\nenv = { \"A=B\" = \"1\", \"\" = \"2\", C = \"\\u0000\" }\n",
    );
    assert!(
        e.contains("s.toml:3:17: `command` values must not contain a NUL"),
        "{e}"
    );
    assert!(
        e.contains("s.toml:7:9: `args` values must not contain a NUL"),
        "{e}"
    );
    assert!(
        e.contains("s.toml:8:9: environment variable name \"A=B\""),
        "{e}"
    );
    assert!(
        e.contains("s.toml:8:22: environment variable name \"\""),
        "{e}"
    );
    assert!(
        e.contains("s.toml:8:36: `env` values must not contain a NUL"),
        "{e}"
    );
    assert!(e.contains("5 errors"), "{e}");
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
    let e = errors(&format!(
        "[cluster]\nnetwork = \"rpc\"\nbackend = \"docker\"\n{node}"
    ));
    assert!(
        e.contains("s.toml:4:11: `backend = \"docker\"` cannot have `network = \"rpc\"`"),
        "{e}"
    );
    // Controls: either one alone loads.
    load_text(&format!("[cluster]\nnetwork = \"rpc\"\n{node}")).unwrap();
    load_text(&format!("[cluster]\nbackend = \"docker\"\n{node}")).unwrap();
}

#[test]
fn docker_with_a_flaky_step_is_refused_at_the_step() {
    let node = "[[node]]\nid = 1\nkind = \"rust\"\n[[node]]\nid = 2\nkind = \"rust\"\n";
    let step = "[[step]]\nrepeat = 2\n[[step.steps]]\nnet = \"flaky\"\nloss = 0.5\n";
    let e = errors(&format!(
        "[cluster]\nproxies = true\nbackend = \"docker\"\n{node}{step}"
    ));
    assert!(
        e.contains("s.toml:14:7: `net = \"flaky\"` is not supported by `backend = \"docker\"`"),
        "{e}"
    );
    // Control: the same suite on the process backend loads.
    load_text(&format!("[cluster]\nproxies = true\n{node}{step}")).unwrap();
}

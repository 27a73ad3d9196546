//! Suite input the harness must refuse clearly (exit 2, file:line named,
//! nothing started) instead of panicking, hanging or printing without bound
//! (issue 10 §6 and §9), checked on the `raft-harness` binary. Runs that start
//! nodes use this build's rust-node on ports 27000-27499.
mod support;
use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::kinds::write_kinds;
use support::suite::{refused_by, HARNESS};
use tempfile::TempDir;

/// Generous: the machine is shared and heavily loaded.
const LIMIT: Duration = Duration::from_secs(180);

/// A kinds file that runs this build's rust-node (no build step).
fn kinds(dir: &Path) {
    write_kinds(dir, &[]);
}

/// Write `name` (a suite including the kinds file) into `dir`.
fn write_suite(dir: &Path, name: &str, body: &str) -> PathBuf {
    kinds(dir);
    let p = dir.join(name);
    std::fs::write(&p, format!("include = [\"kinds.toml\"]\n{body}")).unwrap();
    p
}

const ONE_NODE: &str = "[[node]]\nid = 1\nkind = \"rust\"\n";

fn harness(dir: &Path) -> Command {
    let mut c = support::suite::harness(dir);
    c.timeout(LIMIT);
    c
}

/// `validate` and `run` both exit 2 with every `want` in stderr, no panic, and `run`
/// starts nothing (no report folder). Returns validate's stderr.
fn refused(dir: &Path, suite: &Path, want: &[&str]) -> String {
    refused_by(dir, &["validate", "run"], suite, want, &[])
}

/// [`write_suite`] in a fresh folder: the folder's guard and the suite's path.
fn temp_suite(name: &str, body: &str) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = write_suite(dir.path(), name, body);
    (dir, p)
}

/// Suite `name` with `body` (see [`write_suite`]) in a fresh folder is [`refused`] with every
/// `want`; validate's stderr.
fn refuses(name: &str, body: &str, want: &[&str]) -> String {
    let (dir, p) = temp_suite(name, body);
    refused(dir.path(), &p, want)
}

#[test]
fn an_ipv6_host_is_refused_by_validate_not_a_panic_at_launch() {
    refuses(
        "v6.toml",
        &format!("[cluster]\nhost = \"::1\"\nbase_port = 27000\n{ONE_NODE}"),
        &[
            "v6.toml:3:8: host \"::1\" is IPv6 loopback",
            "only IPv4 loopback hosts are supported: 127.0.0.0/8 or `localhost`",
        ],
    );
}

#[test]
fn an_empty_node_list_is_refused() {
    refuses(
        "empty.toml",
        "node = []\n[workload]\ntype = \"register\"\n[[step]]\nworkload = \"start\"\n",
        &["empty.toml:2:8: the node list is empty"],
    );
}

#[test]
fn include_of_a_fifo_or_a_device_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("kinds-fifo.toml");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    kinds(dir.path());
    let p = dir.path().join("inc.toml");
    let text =
        format!("include = [\"kinds-fifo.toml\", \"/dev/zero\", \"kinds.toml\"]\n{ONE_NODE}");
    std::fs::write(&p, text).unwrap();
    // Before: `validate` blocked for ever on the FIFO (the timeout would fail it).
    let err = refused(
        dir.path(),
        &p,
        &[
            "inc.toml:1:12: included file",
            "kinds-fifo.toml: cannot read the file: it is a FIFO (named pipe)",
            "inc.toml:1:31: included file /dev/zero: cannot read the file: it is a character device",
        ],
    );
    assert!(err.contains("2 errors"), "{err}");
    // A file over 1 MiB is refused too, and so is a suite that is not a regular file.
    std::fs::write(dir.path().join("big.toml"), vec![b'#'; (1 << 20) + 1]).unwrap();
    let p = dir.path().join("big-inc.toml");
    let text = format!("include = [\"kinds.toml\", \"big.toml\"]\n{ONE_NODE}");
    std::fs::write(&p, text).unwrap();
    refused(
        dir.path(),
        &p,
        &["big.toml: the file is larger than 1048576 bytes (1 MiB)"],
    );
    refused(
        dir.path(),
        &fifo,
        &["kinds-fifo.toml: cannot read the file: it is a FIFO"],
    );
}

#[test]
fn a_date_value_is_explained_with_its_position() {
    let err = refuses(
        "date.toml",
        &format!("seed = 2024-01-01\n{ONE_NODE}"),
        &["date.toml:2:8: `seed`: dates are not accepted here; expected a string, a number"],
    );
    assert!(!err.contains("$__toml"), "{err}");
}

#[test]
fn invalid_utf8_is_reported_at_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    kinds(dir.path());
    let p = dir.path().join("latin1.toml");
    let mut text = b"include = [\"kinds.toml\"]\n# caf\xe9\n".to_vec();
    text.extend_from_slice(ONE_NODE.as_bytes());
    std::fs::write(&p, text).unwrap();
    refused(
        dir.path(),
        &p,
        &["latin1.toml:2:6: the file is not valid UTF-8: byte 0xE9"],
    );
}

#[test]
fn empty_and_path_like_names_are_refused() {
    for (name, want) in [
        ("\"\"", "`name` must not be empty or blank"),
        ("\" \"", "`name` must not be empty or blank"),
        ("\"../up\"", "`name` must not contain `/`"),
        (
            "\"a\\u0000b\"",
            "`name` must not contain control characters",
        ),
    ] {
        let body = format!("name = {name}\n{ONE_NODE}");
        refuses("n.toml", &body, &["n.toml:2:8: ", want]);
    }
    refuses(
        "k.toml",
        "[kind.\"../../evil\"]\ncommand = [\"true\"]\n[[node]]\nid = 1\nkind = \"../../evil\"\n",
        &["k.toml:2:7: kind name \"../../evil\" must not contain `/`"],
    );
}

#[test]
fn unknown_placeholders_in_args_and_env_are_refused_with_a_suggestion() {
    refuses(
        "ph.toml",
        "[kind.k]\ncommand = [\"true\"]\nenv = { LOG = \"{data_dri}/log\" }\n\
         [[node]]\nid = 1\nkind = \"k\"\nargs = [\"--peer={peer}\"]\nenv = { J = \"{jounral}\" }\n",
        &[
            "ph.toml:4:15: unknown placeholder `{data_dri}` in `env`",
            "did you mean `{data_dir}`?",
            "ph.toml:8:9: unknown placeholder `{peer}` in `args`",
            "did you mean `{peers}`?",
            "ph.toml:9:13: unknown placeholder `{jounral}` in `env`",
            "did you mean `{journal}`?",
        ],
    );
}

#[test]
fn a_network_shape_too_big_for_the_cluster_is_found_by_validate() {
    let three = "[[node]]\nid = 1\nkind = \"rust\"\n[[node]]\nid = 2\nkind = \"rust\"\n\
                 [[node]]\nid = 3\nkind = \"rust\"\n";
    let pre = format!(
        "[cluster]\nproxies = true\nbase_port = 27020\n{three}[[step]]\nwait = \"leader\"\n"
    );
    // The `net` key is on line 17 (include, 3 cluster lines, 9 node lines, 2 wait lines, [[step]]).
    for (step, want) in [
        (
            "net = \"majorities-ring\"",
            "`majorities-ring` needs at least 4 nodes, the cluster has 3",
        ),
        (
            "net = \"isolate\"\ntarget = \"all\"",
            "it would isolate every node",
        ),
        (
            "net = \"isolate\"\ntarget = [1, 2, 3]",
            "it would isolate every node",
        ),
    ] {
        refuses(
            "shape.toml",
            &format!("{pre}[[step]]\n{step}\n"),
            &[&format!("shape.toml:17:1: this step cannot run: {want}")],
        );
    }
}

#[test]
fn a_one_mb_line_gives_a_bounded_error_message() {
    // ~1 MB of 2-byte characters in one value (the file stays under the 1 MiB limit).
    let huge = "ж".repeat(500_000);
    for (file, body) in [
        ("name.toml", format!("name = \"{huge}\"\n{ONE_NODE}")),
        (
            "kind.toml",
            format!("[[node]]\nid = 1\nkind = \"{huge}\"\n"),
        ),
        ("key.toml", format!("{ONE_NODE}[cluster]\n{huge} = 1\n")),
    ] {
        let err = refuses(file, &body, &[&format!("{file}:"), "…"]);
        // Before: the line was quoted whole, with a caret under it (3 MB).
        assert!(err.len() < 4_000, "{file}: {} bytes of error", err.len());
    }
}

/// A fast `repeat` of 100,000 steps printed every step off a terminal (about
/// 10 MB here, 175 MB for a larger one); now routine lines are rate-limited
/// and counted, while every event (here: a kill and a restart) is printed.
#[test]
fn a_big_fast_repeat_prints_a_bounded_amount_off_a_terminal() {
    let (dir, p) = temp_suite(
        "big-repeat.toml",
        &format!(
            "[cluster]\nbase_port = 27100\n{ONE_NODE}\
             [[step]]\nwait = \"leader\"\ntimeout_s = 60\n\
             [[step]]\nrepeat = 1000\nsteps = [{{ repeat = 100, steps = [{{ sleep_s = 0 }}] }}]\n\
             [[step]]\nfault = \"kill\"\ntarget = 1\n\
             [[step]]\nfault = \"restart\"\n\
             [[step]]\nwait = \"leader\"\ntimeout_s = 60\n"
        ),
    );
    let o = harness(dir.path()).arg("run").arg(&p).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    let head: String = err.chars().take(3000).collect();
    assert_eq!(o.status.code(), Some(0), "{head}");
    assert!(err.len() < 200_000, "{} bytes printed:\n{head}", err.len());
    assert!(err.contains("routine lines not shown"), "{head}");
    // Faults after the repeat are events: printed once each, whatever the budget.
    assert_eq!(err.matches(" s  kill 1").count(), 1, "{head}");
    assert_eq!(err.matches(" s  restart 1").count(), 1, "{head}");
    assert!(dir.path().join("reports/latest/report.json").exists());
}

/// On a terminal, the live line was cut at byte 160 with `String::truncate`,
/// which panics inside the 2-byte `·` that follows the step text when that text
/// is 147 bytes long; the panic hook then killed the nodes and wrote no report.
/// Here the sleep step's text is exactly that long: `step 2/2 (` + a 121-char
/// file name + `:L) sleep 1.5 s`.
#[test]
fn a_long_suite_name_on_a_terminal_does_not_panic_the_live_line() {
    let stem = "s".repeat(116);
    let file = format!("{stem}.toml");
    let body = format!(
        "name = \"pty\"\n[cluster]\nbase_port = 27200\n{ONE_NODE}\
         [[step]]\nwait = \"leader\"\ntimeout_s = 60\n\
         # padding, so that the next step is on line 12\n\
         [[step]]\nsleep_s = 1.5\n"
    );
    let (dir, p) = temp_suite(&file, &body);
    let line = std::fs::read_to_string(&p)
        .unwrap()
        .lines()
        .position(|l| l.starts_with("sleep_s"))
        .unwrap(); // 0-based index of `sleep_s` = 1-based line of its [[step]]
    let desc = format!("step 2/2 ({file}:{line}) sleep 1.5 s");
    assert_eq!(
        desc.len(),
        147,
        "the cut at byte 160 falls inside `·`: {desc}"
    );
    // A terminal wider than the live line's 160-character cap, so that the
    // cap (not the terminal width) decides where the line is cut.
    let cmd = format!("stty cols 220 rows 40; exec {HARNESS} run {}", p.display());
    let o = std::process::Command::new("script")
        .args(["-qefc", &cmd, "/dev/null"])
        .current_dir(dir.path())
        .env("RAFT_HARNESS_STATE_DIR", dir.path().join("state"))
        .env_remove("CI")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let tail: String = out
        .chars()
        .rev()
        .take(3000)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    assert!(!out.contains("panicked"), "{tail}");
    assert_eq!(o.status.code(), Some(0), "{tail}");
    // The live line was drawn, and cut at 160 characters: right after the `·`
    // (the terminal is wider; uncut, ` ops 0 · leader 1 term 1` would follow).
    assert!(
        out.contains("sleep 1.5 s ·"),
        "the live line was drawn: {tail}"
    );
    assert!(!out.contains("sleep 1.5 s · ops"), "{tail}");
    assert!(
        dir.path().join("reports/latest/report.json").exists(),
        "{tail}"
    );
}

#[test]
fn an_integer_beyond_64_bits_is_named_without_parser_internals() {
    let err = refuses(
        "big.toml",
        "[[node]]\nid = 99999999999999999999\nkind = \"rust\"\n",
        &["big.toml:3:6: the integer 99999999999999999999 does not fit in 64 bits"],
    );
    assert!(
        !err.contains("i128") && !err.contains("expected any TOML value"),
        "{err}"
    );
}

#[test]
fn a_huge_float_is_printed_in_exponent_form() {
    let body = format!("{ONE_NODE}[workload]\ntype = \"register\"\nrate = 1e300\n");
    let err = refuses(
        "huge.toml",
        &body,
        &["`rate` must be between 0 and 100000, found 1e300"],
    );
    assert!(err.len() < 400, "message of {} bytes:\n{err}", err.len());
}

#[test]
fn an_invalid_election_timeout_adds_no_follow_on_error_about_a_default() {
    for (name, eto) in [("words.toml", "\"abc\""), ("zero.toml", "[0, 10]")] {
        let body =
            format!("{ONE_NODE}[cluster]\nelection_timeout_ms = {eto}\nheartbeat_ms = 100\n");
        let err = refuses(name, &body, &["1 error in the spec"]);
        assert!(!err.contains("heartbeat"), "{err}");
    }
    // A valid timeout with a too-slow heartbeat is still refused.
    let body = format!("{ONE_NODE}[cluster]\nelection_timeout_ms = [50, 80]\nheartbeat_ms = 100\n");
    refuses(
        "slow.toml",
        &body,
        &["heartbeat 100 ms is not well below the minimum election timeout 50 ms"],
    );
}

#[test]
fn validate_skips_kind_files_in_a_folder_and_by_name_as_run_does() {
    let (dir, _) = temp_suite("one.toml", ONE_NODE);
    for args in [vec!["."], vec!["kinds.toml", "one.toml"]] {
        let o = harness(dir.path())
            .arg("validate")
            .args(&args)
            .output()
            .unwrap();
        let (out, err) = (
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr),
        );
        assert_eq!(o.status.code(), Some(0), "{args:?}: {out}{err}");
        assert!(
            err.contains("kinds.toml: a kind file (no [[node]], [[step]] or [workload]): skipped"),
            "{err}"
        );
        assert!(out.contains("one.toml: valid — 1 nodes"), "{out}");
    }
    // A broken suite in the folder still fails it; an empty folder is an error.
    std::fs::write(dir.path().join("bad.toml"), "[[node]]\nid = 0\n").unwrap();
    let o = harness(dir.path())
        .args(["validate", "."])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    let o = harness(dir.path())
        .args(["validate", "empty"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("the folder holds no .toml file"));
}

#[test]
fn validate_bounds_the_node_count_and_nested_repeats() {
    let nodes: String = (1..=65)
        .map(|i| format!("[[node]]\nid = {i}\nkind = \"rust\"\n"))
        .collect();
    refuses(
        "many.toml",
        &nodes,
        &["65 nodes; a suite may have at most 64"],
    );
    let nested = format!(
        "{ONE_NODE}[[step]]\nrepeat = 1000\n[[step.steps]]\nrepeat = 1000\n[[step.steps.steps]]\nsleep_s = 0.001\n"
    );
    let err = refuses(
        "nested.toml",
        &nested,
        &["this `repeat` runs 1000000 steps in all; at most 100000"],
    );
    assert!(err.contains("1 error in the spec"), "reported once:\n{err}");
    // Within the bound it is valid.
    let ok = nested.replace(
        "repeat = 1000\n[[step.steps.steps]]",
        "repeat = 100\n[[step.steps.steps]]",
    );
    let (dir, p) = temp_suite(
        "fine.toml",
        &ok.replace(
            "repeat = 1000\n[[step.steps]]",
            "repeat = 10\n[[step.steps]]",
        ),
    );
    harness(dir.path())
        .arg("validate")
        .arg(&p)
        .assert()
        .success();
}

/// Three rust nodes on RPC-aware links from port 38700 (nothing starts: the suites below are
/// refused), then `steps`.
fn rpc_three(steps: &str) -> String {
    let nodes: String = (1..=3)
        .map(|i| format!("[[node]]\nid = {i}\nkind = \"rust\"\n"))
        .collect();
    format!("[cluster]\nnetwork = \"rpc\"\nbase_port = 38700\n{nodes}{steps}")
}

#[test]
fn isolating_a_msg_label_of_every_node_is_refused_before_the_run() {
    // Before: validate passed and the run stopped at the isolate step (exit 3): "isolate needs
    // at least one target and one other node". The msg step has no from/to: every node.
    refuses(
        "label.toml",
        &rpc_three(
            "[[step]]\nwait = \"leader\"\n[[step]]\nmsg = \"delay\"\ndelay_ms = 10\nlabel = \"slow\"\n\
             [[step]]\nnet = \"isolate\"\ntarget = \"@slow\"\n",
        ),
        &[
            "label.toml:22:10: this step cannot run: \"@slow\" names the nodes its step hit (labelled on line 19), and it would isolate every node",
            "or target node ids here",
        ],
    );
}

#[test]
fn required_checks_with_no_step_to_judge_and_an_idle_hold_s_are_refused() {
    // Before: `liveness` without a wait step ran and exited 4 (not checked).
    refuses(
        "nowait.toml",
        &rpc_three("[[step]]\nsleep_s = 1\n[checks]\nrequired = [\"liveness\"]\n"),
        &["nowait.toml:17:12: required check \"liveness\" can never be judged: the schedule has no `wait` step"],
    );
    refuses(
        "hold.toml",
        &rpc_three(
            "[[step]]\nwait = \"leader\"\n[explore]\nfaults = [\"kill\"]\nhold_s = [1.0, 1e300]\n",
        ),
        &[
            "hold.toml:18:1: `hold_s` applies to composed faults only, and `faults` has none",
            "`hold_s` = [1, 1e300]: need 0 < min <= max <= 600",
        ],
    );
}

#[test]
fn explore_of_a_kind_file_says_it_is_one_as_run_does() {
    let dir = tempfile::tempdir().unwrap();
    kinds(dir.path());
    refused_by(
        dir.path(),
        &["run", "explore"],
        &dir.path().join("kinds.toml"),
        &["kinds.toml", "this is a kind file (only [kind.NAME] tables: how to build and start each node program), not a suite: it has no [[node]], [[step]] or [workload]"],
        &["the suite has no nodes"],
    );
}

/// Fresh-user findings 1 and 9: a `kind` no node has (the run failed liveness, exit 1: a
/// typo read as a Raft bug), a `msg` step with no link and a `new-leader` wait with no fault
/// before it (the run did nothing / passed at once) are refused by `validate` and `run`.
#[test]
fn names_and_steps_the_run_could_only_fail_or_skip_are_refused_before_it() {
    let three = "[[node]]\nid = 1\nkind = \"rust\"\n[[node]]\nid = 2\nkind = \"rust\"\n\
                 [[node]]\nid = 3\nkind = \"rust\"\n";
    // Steps from line 14 (include, 3 cluster lines, 9 node lines).
    let pre = format!("[cluster]\nnetwork = \"rpc\"\nbase_port = 39200\n{three}");
    refuses(
        "cobol.toml",
        &format!("{pre}[[step]]\nwait = \"leader\"\nkind = \"cobol\"\ntimeout_s = 3\n"),
        &[
            "cobol.toml:16:8: no node of the cluster has kind \"cobol\"",
            "help: the cluster's node kinds: rust",
        ],
    );
    refuses(
        "idle.toml",
        &format!(
            "{pre}[[step]]\nmsg = \"drop-request\"\nfrom = 1\nto = 1\n[[step]]\nwait = \"new-leader\"\n"
        ),
        &[
            "idle.toml:17:6: this step would do nothing: from nodes [1] to nodes [1]",
            "idle.toml:19:8: `wait = \"new-leader\"` has no earlier step that can depose a leader",
            "2 errors in the spec",
        ],
    );
}

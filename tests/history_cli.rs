//! `raft-harness check history.jsonl` end to end, on the binary: the histories
//! recorded from real runs of the reference nodes (tests/data/histories) get
//! their verdict, and a bad history file is exit 2 with a short message naming
//! the file and the line. No cluster, no ports.
use assert_cmd::Command;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Duration;

const HARNESS: &str = env!("CARGO_BIN_EXE_raft-harness");

/// The longest message a bad line may produce: a few quoted values of
/// 120 characters (up to 10 bytes each once escaped) and the path.
const MAX_MESSAGE_BYTES: usize = 4096;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/histories")
        .join(name)
}

/// Runs `raft-harness check PATH`: (exit code, stderr).
fn check(path: &Path) -> (i32, String) {
    let state = tempfile::tempdir().unwrap();
    let out = Command::new(HARNESS)
        .env("RAFT_HARNESS_STATE_DIR", state.path())
        .arg("check")
        .arg(path)
        .timeout(Duration::from_secs(300))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let code = out.status.code().unwrap_or(-1);
    (code, stderr)
}

/// The result column of `name`'s row in the check table.
fn result_of<'a>(stderr: &'a str, name: &str) -> &'a str {
    let row = stderr
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no {name} row in:\n{stderr}"));
    row.split_whitespace().nth(1).unwrap_or("")
}

/// A valid `Op` line: `SET a <id>` or `GET a`, completed, `ok`.
fn op(id: u64, invoke_us: u64) -> String {
    let (command, result) = if id % 2 == 0 {
        (format!("SET a {id}"), json!("OK"))
    } else {
        ("GET a".to_string(), json!((id - 1).to_string()))
    };
    json!({
        "id": id, "client": 1, "node": 1, "command": command,
        "invoke_us": invoke_us, "complete_us": invoke_us + 5,
        "outcome": "ok", "result": result,
    })
    .to_string()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// `check` of `bytes` written as `name` in a new folder is exit 2: the folder, the file, stderr.
fn rejected(name: &str, bytes: &[u8]) -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), name, bytes);
    let (code, stderr) = check(&p);
    assert_eq!(code, 2, "{stderr}");
    (dir, p, stderr)
}

/// [`rejected`], and stderr is exactly `error: PATH:MESSAGE` (MESSAGE starts with the line).
fn assert_rejected_with(name: &str, bytes: &[u8], message: &str) {
    let (_dir, p, stderr) = rejected(name, bytes);
    assert_eq!(
        stderr.trim_end(),
        format!("error: {}:{message}", p.display())
    );
}

#[test]
fn the_recorded_failover_history_is_a_pass() {
    let (code, stderr) = check(&data("failover-rust.jsonl"));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(result_of(&stderr, "linearizable"), "pass", "{stderr}");
    assert_eq!(result_of(&stderr, "read_validity"), "pass", "{stderr}");
}

#[test]
fn the_recorded_stale_read_history_is_not_linearizable() {
    let (code, stderr) = check(&data("stale-read.jsonl"));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(result_of(&stderr, "linearizable"), "FAIL", "{stderr}");
    assert!(
        stderr.contains("key k0: op 86 (client 8, invoked 4778361 completed 4778517) GET k0 -> 38 cannot be placed"),
        "{stderr}"
    );
}

#[test]
fn a_valid_history_of_our_own_is_a_pass() {
    // The control for the duplicate-id case below: the same lines, ids unique.
    let dir = tempfile::tempdir().unwrap();
    let text = [op(0, 10), op(1, 20), String::new(), op(2, 30), op(3, 40)].join("\n");
    let p = write(dir.path(), "h.jsonl", text.as_bytes());
    let (code, stderr) = check(&p);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn a_duplicate_operation_id_is_exit_2_naming_both_lines() {
    // Line 3 is blank; line 5 reuses the id of line 2. Linearizable otherwise.
    let text = [op(0, 10), op(1, 20), String::new(), op(2, 30), op(3, 40)]
        .join("\n")
        .replace(r#""id":3"#, r#""id":1"#);
    let message = "5: duplicate operation id 1 (first used on line 2)";
    assert_rejected_with("dup.jsonl", text.as_bytes(), message);
}

/// A 1 MB value in each place serde quotes one, and plain ASCII or multi-byte
/// characters (one ASCII byte first, so that byte 120 falls inside one).
fn one_megabyte_bad_lines() -> Vec<(&'static str, String, usize)> {
    let mut cases = Vec::new();
    for (what, c) in [
        ("ascii", "a"),
        ("2-byte", "é"),
        ("3-byte", "€"),
        ("4-byte", "🦀"),
    ] {
        let v = format!("x{}", c.repeat((1 << 20) / c.len()));
        let n = v.len();
        let id = json!({"id": v, "client": 1}).to_string();
        cases.push((what, id, n));
    }
    let big = "k".repeat(1 << 20);
    let field = format!(r#"{{"id":1,"{big}":2}}"#);
    cases.push(("unknown field", field, big.len()));
    let outcome = json!({"id": 1, "client": 1, "node": 1, "command": "GET a",
        "invoke_us": 1, "outcome": big})
    .to_string();
    cases.push(("unknown outcome", outcome, big.len()));
    // Escaped control characters: 6 bytes in the file, up to 6 once quoted.
    let control = format!(r#"{{"id":"{}"}}"#, r"\u0001".repeat(200_000));
    cases.push(("control characters", control, 200_000));
    cases.push(("a bare string", json!(big).to_string(), big.len()));
    cases
}

#[test]
fn a_1_megabyte_bad_value_gives_a_short_message_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    for (i, (what, line, bytes)) in one_megabyte_bad_lines().into_iter().enumerate() {
        let text = format!("{}\n{line}\n", op(0, 10));
        let p = write(dir.path(), &format!("big{i}.jsonl"), text.as_bytes());
        let (code, stderr) = check(&p);
        assert_eq!(code, 2, "{what}: {}", &stderr[..stderr.len().min(500)]);
        assert!(
            stderr.len() <= MAX_MESSAGE_BYTES,
            "{what}: {} bytes of error message: {}…",
            stderr.len(),
            stderr.chars().take(300).collect::<String>()
        );
        let head = format!("error: {}:2: column ", p.display());
        assert!(stderr.starts_with(&head), "{what}: {stderr}");
        assert!(
            stderr.contains(&format!("… ({bytes} bytes)")),
            "{what}: {stderr}"
        );
    }
}

#[test]
fn a_1_megabyte_syntax_error_gives_a_short_message() {
    let text = format!(r#"{{"id":1,"command":"{}"#, "é".repeat(1 << 19));
    let (_dir, p, stderr) = rejected("syntax.jsonl", text.as_bytes());
    assert!(stderr.len() <= MAX_MESSAGE_BYTES, "{stderr}");
    let head = format!("error: {}:1: column {}: ", p.display(), text.len());
    assert!(stderr.starts_with(&head), "{stderr}");
    assert!(stderr.contains("EOF while parsing a string"), "{stderr}");
}

#[test]
fn invalid_utf8_names_the_line() {
    let mut text = format!("{}\n", op(0, 10)).into_bytes();
    text.extend_from_slice(b"{\"id\":1,\"command\":\"GET \xff\"}\n");
    let message = "2: not valid UTF-8 (byte 24 of the line)";
    assert_rejected_with("latin1.jsonl", &text, message);
}

#[test]
fn an_operation_completing_before_its_invocation_is_exit_2() {
    let bad = op(1, 20).replace(r#""complete_us":25"#, r#""complete_us":19"#);
    let text = format!("{}\n{bad}\n", op(0, 10));
    let message = "2: op 1 completes (19) before it is invoked (20)";
    assert_rejected_with("time.jsonl", text.as_bytes(), message);
}

#[test]
fn an_operation_whose_command_is_not_key_value_is_exit_2_naming_it() {
    // The same history as `a_valid_history_of_our_own_is_a_pass`, line 2's command changed.
    let bad = op(1, 20).replace(r#""command":"GET a""#, r#""command":"FROB k0""#);
    let text = format!("{}\n{bad}\n", op(0, 10));
    let message = "2: op 1: command \"FROB k0\" is not a key-value command (`GET k`, `SET k v`, `CAS k old new`, `DEL k`)";
    assert_rejected_with("frob.jsonl", text.as_bytes(), message);
}

/// A run folder of three nodes: evidence.json with `rpc_links` and, when given, `messages`
/// as its messages.jsonl. Nothing else (no history, no journals).
fn run_folder(rpc_links: bool, messages: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut ev = raft_harness::check::Evidence {
        rpc_links,
        ..Default::default()
    };
    for id in 1..=3 {
        ev.nodes.push(
            serde_json::from_value(json!({"id": id, "kind": "rust", "journal": false})).unwrap(),
        );
    }
    write(
        dir.path(),
        "evidence.json",
        &serde_json::to_vec(&ev).unwrap(),
    );
    if let Some(m) = messages {
        write(dir.path(), "messages.jsonl", m.as_bytes());
    }
    dir
}

/// A RequestVote 1→2 in term 3, granted; `edit` applied to the JSON text.
fn vote_line(edit: (&str, &str)) -> String {
    let line = r#"{"id":0,"from":1,"to":2,"method":"request-vote","req":{"type":"vote","term":3,"candidate":1,"last_log_index":-1,"last_log_term":0},"reply":{"type":"vote","term":3,"granted":true},"sent_us":5,"fate":"pass"}"#;
    format!("{}\n", line.replacen(edit.0, edit.1, 1))
}

#[test]
fn a_run_with_rpc_links_and_no_message_trace_is_exit_2() {
    let dir = run_folder(true, None);
    let (code, stderr) = check(dir.path());
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("messages.jsonl missing: the run had RPC-aware links"),
        "{stderr}"
    );
    // Controls: the trace present, or a run without RPC-aware links, is judged.
    let (code, stderr) = check(run_folder(true, Some(&vote_line(("", "")))).path());
    assert_ne!(code, 2, "{stderr}");
    let (code, stderr) = check(run_folder(false, None).path());
    assert_ne!(code, 2, "{stderr}");
}

#[test]
fn a_message_trace_naming_no_node_of_the_run_or_a_negative_term_is_exit_2() {
    for (edit, expected) in [
        (
            (r#""from":1"#, r#""from":99"#),
            "messages.jsonl:1: from 99 is not a node of the run",
        ),
        (
            (r#""term":3,"granted""#, r#""term":-5,"granted""#),
            "messages.jsonl:1: reply term -5 is negative",
        ),
    ] {
        let dir = run_folder(true, Some(&vote_line(edit)));
        let (code, stderr) = check(dir.path());
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
        assert!(!stderr.contains("FAIL"), "{stderr}");
    }
}

/// A run folder whose evidence records the size of its two-call trace, then `edit` applied to
/// messages.jsonl after the run: `check`'s exit code and stderr.
fn check_after_editing_the_trace(edit: impl Fn(&str) -> String) -> (i32, String) {
    let two = format!(
        "{}{}",
        vote_line(("", "")),
        vote_line((r#""id":0"#, r#""id":1"#))
    );
    let dir = run_folder(true, Some(&two));
    let trace = dir.path().join("messages.jsonl");
    let ev_path = dir.path().join("evidence.json");
    let mut ev: raft_harness::check::Evidence =
        serde_json::from_slice(&std::fs::read(&ev_path).unwrap()).unwrap();
    ev.message_trace = raft_harness::net::trace::TraceSize::of(&trace, 2);
    write(
        dir.path(),
        "evidence.json",
        &serde_json::to_vec(&ev).unwrap(),
    );
    write(dir.path(), "messages.jsonl", edit(&two).as_bytes());
    check(dir.path())
}

#[test]
fn a_message_trace_cut_or_changed_after_the_run_is_exit_2_naming_what_the_run_wrote() {
    // Control: the trace as the run wrote it is judged.
    let (code, stderr) = check_after_editing_the_trace(|t| t.to_string());
    assert_ne!(code, 2, "{stderr}");
    assert!(!stderr.contains("cut, extended or edited"), "{stderr}");
    // Its tail lost (a whole line: no torn record to notice), or a record edited.
    let first_line = |t: &str| format!("{}\n", t.lines().next().unwrap());
    let edited = |t: &str| t.replacen(r#""term":3"#, r#""term":13"#, 1);
    for (edit, holds) in [
        (&first_line as &dyn Fn(&str) -> String, "holds 1 calls"),
        (&edited, "holds 2 calls"),
    ] {
        let (code, stderr) = check_after_editing_the_trace(edit);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains(holds), "{stderr}");
        assert!(stderr.contains("the run wrote 2 calls"), "{stderr}");
        assert!(stderr.contains("cut, extended or edited"), "{stderr}");
        assert!(!stderr.contains("PASS"), "{stderr}");
    }
}

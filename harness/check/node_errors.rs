//! Node errors: crash signatures in each node's log (`nodes/<id>.log`, its
//! stdout and stderr). A node that logs tracebacks — an assertion refusing to
//! truncate committed entries, an IndexError on every append — is broken even
//! when the cluster around it still works, so every signature is a finding,
//! reported under the node whose log it is, with its time and first lines.
//!
//! Signatures (each at the start of a line, so prose that merely mentions an
//! error never matches):
//! - Python: `Traceback (most recent call last):` up to its exception line;
//! - Java: an exception line (`pkg.Name(Exception|Error)…`, or `Exception in
//!   thread "…" …`) immediately followed by a `\tat pkg.Class.method(` frame;
//! - Rust: `thread '…' panicked at …`;
//! - the node contract's start-up failure: one line `error: …`
//!   (`docs/node-contract.md`);
//! - each regular expression in the kind's `error_patterns`.
//!
//! A failure by default; `[checks] node_errors = "warning"` lowers it to a warning.
use super::{CheckResult, Evidence, Status};
use regex::Regex;
use std::sync::LazyLock;

pub const NAME: &str = "node_errors";

/// Lines of each finding kept in the report.
const FIRST_LINES: usize = 6;
/// Findings per node described in full; the rest are counted.
const PER_NODE: usize = 3;
/// Bytes of a log read at most (the start of a huge log is what matters most).
const MAX_LOG_BYTES: u64 = 64 << 20;

static JAVA_EXCEPTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"^(Exception in thread "[^"]*" )?([A-Za-z_$][\w$]*\.)+[A-Z][\w$]*(Exception|Error|Throwable)(: .*)?$"#,
    )
    .unwrap()
});
static JAVA_FRAME: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\s+at [\w$.<>/]+\(").unwrap());
static RUST_PANIC: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^thread '[^']*' panicked at ").unwrap());
static HANDLED_LEVEL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(WARNING|WARN)\b").unwrap());
static ERROR_LEVEL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(ERROR|SEVERE|CRITICAL|FATAL)\b").unwrap());
/// Clock times as the reference nodes and the harness print them
/// (`07:48:26,989`, `07:48:26.272890`, `07:48:26.677`).
static CLOCK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|[^0-9:])(\d{2}:\d{2}:\d{2}(?:[.,]\d{1,6})?)").unwrap());

/// What kind of signature a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signature {
    PythonTraceback,
    JavaException,
    RustPanic,
    ContractError,
    /// One of the kind's `error_patterns`.
    KindPattern,
}

impl Signature {
    fn word(self) -> &'static str {
        match self {
            Signature::PythonTraceback => "Python traceback",
            Signature::JavaException => "Java exception",
            Signature::RustPanic => "Rust panic",
            Signature::ContractError => "start-up error",
            Signature::KindPattern => "error pattern of its kind",
        }
    }
}

/// One signature found in a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub sig: Signature,
    /// 1-based line number in the log.
    pub line: usize,
    /// The clock time on that line or the last line before it that had one.
    pub time: Option<String>,
    pub first_lines: Vec<String>,
}

/// The lines of a block starting at `i`: a Python traceback runs to its first
/// unindented line after the header; a Java trace over its `at`/`Caused by`/`...`
/// lines; a Rust panic is two lines (location, message); others one line.
/// Returns the index after the block and its first lines.
fn block(lines: &[&str], i: usize, sig: Signature) -> (usize, Vec<String>) {
    let mut end = i + 1;
    while end < lines.len() && in_block(lines[end], sig) {
        end += 1;
    }
    if matches!(sig, Signature::PythonTraceback | Signature::RustPanic) && end < lines.len() {
        end += 1; // the exception line / the panic message
    }
    let all: Vec<String> = lines[i..end].iter().map(|l| l.to_string()).collect();
    if all.len() <= FIRST_LINES {
        return (end, all);
    }
    // Keep the start and, for a traceback, its telling last line.
    let mut out: Vec<String> = all[..FIRST_LINES - 1].to_vec();
    out.push(if sig == Signature::PythonTraceback {
        all.last().unwrap().clone()
    } else {
        all[FIRST_LINES - 1].clone()
    });
    (end, out)
}

/// A log record header at WARNING level right before a trace: the trace is
/// attached to that record, handled and logged by the node (grpc-java logs
/// `WARNING NettyServerHandler: Stream Error` with a trace whenever a peer goes
/// away), not a crash. Only WARNING: an INFO line before a trace is usually an
/// unrelated record followed by a crash printed to stderr. An uncaught Java
/// exception (`Exception in thread "…"`) is always a crash.
fn handled(header: Option<&&str>) -> bool {
    header.is_some_and(|h| HANDLED_LEVEL.is_match(h) && !ERROR_LEVEL.is_match(h))
}

fn signature_at(lines: &[&str], i: usize, extra: &[Regex]) -> Option<Signature> {
    let l = lines[i];
    let header = i.checked_sub(1).and_then(|p| lines.get(p));
    if l.starts_with("Traceback (most recent call last):") {
        (!handled(header)).then_some(Signature::PythonTraceback)
    } else if JAVA_EXCEPTION.is_match(l) && lines.get(i + 1).is_some_and(|n| JAVA_FRAME.is_match(n))
    {
        (l.starts_with("Exception in thread") || !handled(header))
            .then_some(Signature::JavaException)
    } else if RUST_PANIC.is_match(l) {
        Some(Signature::RustPanic)
    } else if l.starts_with("error: ") {
        Some(Signature::ContractError)
    } else if extra.iter().any(|r| r.is_match(l)) {
        Some(Signature::KindPattern)
    } else {
        None
    }
}

/// Every signature in `text`, with the kind's extra patterns.
pub fn scan(text: &str, extra: &[Regex]) -> Vec<Finding> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut time: Option<String> = None;
    let mut i = 0;
    while i < lines.len() {
        if let Some(c) = CLOCK.captures(lines[i]) {
            time = Some(c[1].to_string());
        }
        let Some(sig) = signature_at(&lines, i, extra) else {
            i += 1;
            continue;
        };
        // One trace is one finding: continue after its block.
        let (end, first_lines) = block(&lines, i, sig);
        out.push(Finding {
            sig,
            line: i + 1,
            time: time.clone(),
            first_lines,
        });
        i = end;
    }
    out
}

/// A line that continues a multi-line signature.
fn in_block(l: &str, sig: Signature) -> bool {
    match sig {
        Signature::PythonTraceback => l.starts_with(' '),
        Signature::JavaException => {
            JAVA_FRAME.is_match(l)
                || l.starts_with("Caused by: ")
                || l.trim_start().starts_with("... ")
        }
        _ => false,
    }
}

fn describe(node: u32, path: &std::path::Path, f: &Finding) -> String {
    format!(
        "node {node}: {} at {}:{}{}: {}",
        f.sig.word(),
        path.display(),
        f.line,
        f.time
            .as_ref()
            .map_or(String::new(), |t| format!(" (time {t})")),
        f.first_lines.join(" ⏎ ")
    )
}

pub fn check(ev: &Evidence) -> CheckResult {
    if ev.node_logs.is_empty() {
        return CheckResult::not_checked(NAME, "the evidence names no node log");
    }
    let mut violations = Vec::new();
    let mut read = Vec::new();
    let mut unreadable = Vec::new();
    for nl in &ev.node_logs {
        let extra: Vec<Regex> = nl
            .patterns
            .iter()
            .filter_map(|p| Regex::new(p).ok())
            .collect();
        let text = match read_log(&nl.path) {
            Ok(t) => t,
            Err(e) => {
                unreadable.push(format!("node {} ({}: {e})", nl.node, nl.path.display()));
                continue;
            }
        };
        read.push(nl.node);
        let found = scan(&text, &extra);
        for f in found.iter().take(PER_NODE) {
            violations.push(describe(nl.node, &nl.path, f));
        }
        if found.len() > PER_NODE {
            violations.push(format!(
                "node {}: {} more error signatures in its log",
                nl.node,
                found.len() - PER_NODE
            ));
        }
    }
    if read.is_empty() {
        return CheckResult::not_checked(
            NAME,
            format!("no node log could be read: {}", unreadable.join("; ")),
        );
    }
    let mut based_on = format!("logs of nodes {}", super::list(read.iter().copied()));
    if !unreadable.is_empty() {
        based_on.push_str(&format!("; unreadable: {}", unreadable.join("; ")));
    }
    let mut r = CheckResult::new(NAME, based_on).with_violations(
        violations,
        format!("no crash signature in the logs of {} nodes", read.len()),
    );
    if r.status == Status::Fail && ev.settings.node_errors_warn {
        r.status = Status::Warn;
    }
    r
}

fn read_log(path: &std::path::Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut buf = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_LOG_BYTES)
        .read_to_end(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fixtures::{assert_summary_starts, assert_verdict};
    use crate::check::{CheckSettings, NodeLog};

    const PYTHON: &str = "\
2026-11-30 07:48:26,516 INFO node2: node 2 (python-node 0.1.0) serving on 127.0.0.1:15322
2026-11-30 07:48:27,101 ERROR node2: append failed
Traceback (most recent call last):
  File \"/x/raft_server.py\", line 210, in AppendEntries
    entry = self.log[req.prev_log_index]
IndexError: list index out of range
2026-11-30 07:48:27,201 INFO node2: event=term term=3
";

    const JAVA: &str = "\
07:48:26.733 INFO RaftNode: node 5 listening on 127.0.0.1:15325 with 4 peer(s)
07:48:29.010 SEVERE RaftNode: unexpected error in the raft loop
java.lang.IllegalStateException: refusing to truncate committed entries
\tat raftnode.RaftNode.truncate(RaftNode.java:412)
\tat raftnode.RaftNode.onAppend(RaftNode.java:377)
Caused by: java.lang.ArrayIndexOutOfBoundsException: Index 7 out of bounds for length 7
\t... 2 more
07:48:29.500 INFO RaftNode: peer 1 at 127.0.0.1:44007 is reachable
";

    const RUST: &str = "\
2026-11-30T07:48:26.272890Z  INFO rust_node::server: role change role=\"Follower\" term=0

thread 'tokio-runtime-worker' panicked at rust-node/core.rs:88:9:
commit index went backwards: 7 -> 5
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace
";

    /// Normal lines that mention errors in prose, and traces a node logged at
    /// WARNING (grpc-java's transport noise when a peer is killed), must never match.
    const CLEAN: &str = "\
2026-11-30 07:48:27,101 INFO node2: client request failed with error: no leader (retrying)
07:48:26.677 WARNING MacAddressUtil: Failed to find a usable hardware address from the network interfaces; using random bytes: 6e:88
07:48:27.000 INFO RaftNode: peer 3 unreachable: io.grpc.StatusRuntimeException: UNAVAILABLE: io exception
2026-11-30T07:48:26.985115Z  WARN rust_node::server: rpc error: status: Unavailable, message: \"error: connection refused\"
=== raft-harness 07:48:26.266: starting target/release/rust-node 1 15321 --journal /tmp/error.jsonl
  Traceback is printed only on failure
08:07:25.329 WARNING NettyServerHandler: Stream Error
io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Exception$StreamException: Stream closed before write could take place
\tat io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Exception.streamError(Http2Exception.java:162)
\tat java.base/java.lang.Thread.run(Thread.java:840)
WARNING: Stream Error
java.io.IOException: Connection reset by peer
\tat java.base/sun.nio.ch.SocketDispatcher.read0(Native Method)
2026-11-30 07:48:27,101 WARNING node2: peer 3 unreachable, retrying
Traceback (most recent call last):
  File \"/x/raft_server.py\", line 99, in send
ConnectionRefusedError: [Errno 111] Connection refused
";

    #[test]
    fn python_tracebacks_are_found_with_their_exception_line() {
        let f = scan(PYTHON, &[]);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].sig, Signature::PythonTraceback);
        assert_eq!(f[0].line, 3);
        assert_eq!(f[0].time.as_deref(), Some("07:48:27,101"));
        assert_eq!(
            f[0].first_lines.last().unwrap(),
            "IndexError: list index out of range"
        );
    }

    #[test]
    fn java_stack_traces_are_one_finding() {
        let f = scan(JAVA, &[]);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].sig, Signature::JavaException);
        assert_eq!(f[0].time.as_deref(), Some("07:48:29.010"));
        assert!(
            f[0].first_lines[0].contains("refusing to truncate"),
            "{f:?}"
        );
        assert_eq!(f[0].first_lines.len(), 5, "{f:?}");
    }

    #[test]
    fn rust_panics_are_found_with_their_message() {
        let f = scan(RUST, &[]);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].sig, Signature::RustPanic);
        assert_eq!(f[0].first_lines[1], "commit index went backwards: 7 -> 5");
        assert_eq!(f[0].time.as_deref(), Some("07:48:26.272890"));
    }

    #[test]
    fn contract_errors_and_kind_patterns_are_found() {
        let f = scan("error: --data-dir /x: permission denied\n", &[]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].sig, Signature::ContractError);
        let extra = [Regex::new(r"^FATAL ").unwrap()];
        let f = scan("12:00:01 INFO ok\nFATAL lost quorum forever\n", &extra);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].sig, Signature::KindPattern);
        assert_eq!(f[0].time.as_deref(), Some("12:00:01"));
    }

    #[test]
    fn traces_without_a_log_header_are_crashes() {
        let text = "Exception in thread \"main\" java.lang.NullPointerException: boom\n\tat raftnode.Main.main(Main.java:10)\n";
        let f = scan(text, &[]);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].sig, Signature::JavaException);
        let text = "07:00:00.000 SEVERE RaftNode: x\nTraceback (most recent call last):\n  File \"a\", line 1\nValueError: x\n";
        assert_eq!(scan(text, &[]).len(), 1);
        // An unrelated INFO record, then a crash printed to stderr.
        let text = "2026-11-30T07:48:26.272890Z  INFO rust_node::server: role change\nTraceback (most recent call last):\n  File \"a\", line 1\nIndexError: x\n";
        assert_eq!(scan(text, &[]).len(), 1);
        let text = "08:00:00.000 WARNING RaftNode: x\nException in thread \"loop\" java.lang.IllegalStateException: y\n\tat a.B.c(B.java:1)\n";
        assert_eq!(scan(text, &[]).len(), 1);
    }

    #[test]
    fn prose_that_mentions_errors_never_matches() {
        assert_eq!(scan(CLEAN, &[]), vec![]);
    }

    fn evidence(dir: &std::path::Path, logs: &[(u32, &str)], warn: bool) -> Evidence {
        let mut ev = Evidence {
            settings: CheckSettings {
                node_errors_warn: warn,
                ..Default::default()
            },
            ..Default::default()
        };
        for (node, text) in logs {
            let path = dir.join(format!("{node}.log"));
            std::fs::write(&path, text).unwrap();
            ev.node_logs.push(NodeLog {
                node: *node,
                path,
                patterns: vec![],
            });
        }
        ev
    }

    #[test]
    fn the_check_names_the_node_and_can_be_lowered_to_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let ev = evidence(dir.path(), &[(1, CLEAN), (2, PYTHON), (5, JAVA)], false);
        let r = check(&ev);
        assert_summary_starts(&r, Status::Fail, "node 2: Python traceback at ");
        assert_verdict(&r, Status::Fail, &["2.log:3 (time 07:48:27,101)"]);
        assert!(r.evidence[1].starts_with("node 5: Java exception"), "{r:?}");
        let ev = evidence(dir.path(), &[(2, PYTHON)], true);
        assert_verdict(&check(&ev), Status::Warn, &[]);
        let ev = evidence(dir.path(), &[(1, CLEAN)], false);
        assert_verdict(&check(&ev), Status::Pass, &[]);
    }

    #[test]
    fn missing_logs_are_not_a_pass() {
        assert_verdict(&check(&Evidence::default()), Status::NotChecked, &[]);
        let ev = Evidence {
            node_logs: vec![NodeLog {
                node: 1,
                path: "/nonexistent/1.log".into(),
                patterns: vec![],
            }],
            ..Default::default()
        };
        assert_verdict(&check(&ev), Status::NotChecked, &["/nonexistent/1.log"]);
    }
}

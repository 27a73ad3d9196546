//! The corpus test (every `scenarios/*.txt` passes against the Rust core) and the runner's own
//! tests: inputs the parser must reject, and a wrong expectation the runner must report.

use super::*;
use parse::Directive;

/// Every scenario of the corpus, in name order.
fn corpus_files() -> Vec<PathBuf> {
    let dir = corpus_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    files
}

/// A failed test's report, printed verbatim: a test that returns `Err` fails without a panic
/// (so without a backtrace), and libtest prints the error with `Debug`.
struct Failure(String);

impl std::fmt::Debug for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Runs every file: files that cannot be read, parsed or run are listed first, then files whose
/// expectations differ from the Rust core's output (only those get the `REWRITE=1` hint: a
/// rewrite cannot mend a typo).
fn check_corpus(files: &[PathBuf], rewrite: bool) -> Result<(), Failure> {
    let (mut broken, mut failing) = (Vec::new(), Vec::new());
    for f in files {
        match check_file(f, rewrite) {
            Ok(None) => {}
            Ok(Some(report)) => failing.push(report),
            Err(e) => broken.push(e),
        }
    }
    let mut report = Vec::new();
    if !broken.is_empty() {
        report.push(format!(
            "{} of {} scenario files cannot be run:\n{}",
            broken.len(),
            files.len(),
            broken.join("\n")
        ));
    }
    if !failing.is_empty() {
        report.push(format!(
            "{} of {} scenario files fail (REWRITE=1 rewrites from the Rust core):\n{}",
            failing.len(),
            files.len(),
            failing.join("\n")
        ));
    }
    match report.is_empty() {
        true => Ok(()),
        false => Err(Failure(report.join("\n"))),
    }
}

/// The shared corpus (issue 16 §5): the Rust core, the reference, passes every scenario.
/// `REWRITE=1` rewrites the expected blocks from its output instead.
#[test]
fn scenarios_rust_core_passes_corpus() -> Result<(), Failure> {
    let rewrite = std::env::var("REWRITE").is_ok_and(|v| v == "1");
    grammar::grammar().map_err(Failure)?; // once, not once per scenario file
    let files = corpus_files();
    if files.is_empty() {
        return Err(Failure(format!(
            "no scenarios in {}",
            corpus_dir().display()
        )));
    }
    check_corpus(&files, rewrite)
}

/// A scratch copy of `text` as `<tmp>/raft-harness-scenario-<pid>-<tag>/typo.txt`.
fn scratch_file(tag: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "raft-harness-scenario-{}-{tag}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let path = dir.join("typo.txt");
    std::fs::write(&path, text).expect("scratch file");
    path
}

/// A typo (finding 11) is reported as `file:line: ` and the wording the Python and Java runners
/// share, with a did-you-mean, and without the `REWRITE=1` hint.
#[test]
fn scenarios_a_typo_is_reported_with_file_line_and_the_shared_wording() {
    let cases = [
        (
            "tikc now=999\n----\n(no effects)\n",
            "unknown directive `tikc` (did you mean `tick`?)",
        ),
        (
            "tick nwo=999\n----\n(no effects)\n",
            "unknown key `nwo` for `tick` (did you mean `now`?)",
        ),
        (
            "tick now=1 nwo=999\n----\n(no effects)\n",
            "unknown key `nwo` for `tick`",
        ),
        ("tick\n----\n(no effects)\n", "missing key `now` for `tick`"),
    ];
    for (i, (rest, want)) in cases.iter().enumerate() {
        let path = scratch_file(&i.to_string(), &script_with(rest));
        let report = match check_corpus(std::slice::from_ref(&path), false) {
            Ok(()) => panic!("accepted: {rest:?}"),
            Err(Failure(report)) => report,
        };
        std::fs::remove_dir_all(path.parent().expect("scratch dir")).expect("clean up");
        let expected = format!(
            "1 of 1 scenario files cannot be run:\n{}:5: {want}",
            path.display()
        );
        assert_eq!(report, expected, "{rest:?}");
    }
}

const INIT: &str = "init id=1 peers=2,3 heartbeat=50 rpc_timeout=100 max_entries=3 \
                    election=1000..2000 pre_vote=false check_quorum=false now=0 timeout=1000 \
                    term=0 voted_for=none";

fn script_with(rest: &str) -> String {
    format!("{INIT}\n----\nevent role role=Follower term=0\n\n{rest}")
}

fn parse_error(text: &str) -> ParseError {
    match parse_script(text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e,
    }
}

#[test]
fn scenarios_parser_rejects_bad_input_naming_line_and_value() {
    let cases = [
        ("bogus now=5\n----\n", 5, "unknown directive `bogus`"),
        ("tick\n----\n", 5, "missing key `now` for `tick`"),
        ("tick now=soon\n----\n", 5, "`now=soon`"),
        ("tick now=-1\n----\n", 5, "`now=-1`"),
        (
            "tick now=1 then=2\n----\n",
            5,
            "unknown key `then` for `tick`",
        ),
        (
            "tick nwo=1\n----\n",
            5,
            "unknown key `nwo` for `tick` (did you mean `now`?)",
        ),
        ("tick when=1\n----\n", 5, "unknown key `when` for `tick`"),
        (
            "append-request now=1 term=1 leader_id=2 prev_log_index=-1 prev_log_term=0 \
             leader_commit=-1\n  entry index=0 term=1 comand=\"x\"\n----\n",
            6,
            "unknown key `comand` for `entry` (did you mean `command`?)",
        ),
        ("tick now=1 now=2\n----\n", 5, "key `now` given twice"),
        ("tick now=1\n", 5, "no `----`"),
        ("tick now=1\n\n----\n", 6, "blank line before `----`"),
        (
            "tick now=1\nentry index=0 term=1 command=\"x\"\n----\n",
            6,
            "takes no entry lines",
        ),
        ("propose now=1 command=x\n----\n", 5, "double-quoted"),
        ("propose now=1 command=\"x\n----\n", 5, "unterminated"),
        ("propose now=1 command=\"a\\b\"\n----\n", 5, "no escapes"),
        (
            "vote-response now=1 from=2 term=1 vote_granted=yes\n----\n",
            5,
            "`vote_granted=yes`",
        ),
        (
            "prevote-response now=1 from=2 term=1 unimplemented=false\n----\n",
            5,
            "omit it",
        ),
        (
            "send-failure now=1 peer=2 sent_term=1\n----\n",
            5,
            "missing key `sent_prev_log_index` for `send-failure`",
        ),
        ("tick now\n----\n", 5, "expected key=value"),
        (
            "tick now=9\n----\n\nstate\n----\n\ntick now=8\n----\n",
            11,
            "earlier than",
        ),
    ];
    for (rest, line, what) in cases {
        let e = parse_error(&script_with(rest));
        assert_eq!(e.line, line, "{rest:?}: {e}");
        assert!(e.msg.contains(what), "{rest:?}: {e}");
    }
    let e = parse_error(&format!(
        "{}\n----\n",
        INIT.replace("election=1000..2000", "election=2000..1000")
    ));
    assert!(e.msg.contains("election=2000..1000"), "{e}");
    let e = parse_error(&format!(
        "{}\n----\n",
        INIT.replace("peers=2,3", "peers=2,x")
    ));
    assert!(e.msg.contains("`x` is not a node id"), "{e}");
    for bad in ["max_inflight=0", "max_inflight=-2", "max_inflight=many"] {
        let e = parse_error(&format!("{INIT} {bad}\n----\n"));
        assert!(e.msg.contains(&format!("`{bad}`")), "{e}");
        assert!(e.msg.contains("positive integer"), "{e}");
    }
    assert!(parse_error("# only a comment\n").msg.contains("no cases"));
    let e = parse_error("# first\ntick now=5\n----\n");
    assert_eq!((e.line, e.msg.contains("must be `init`")), (2, true), "{e}");
}

#[test]
fn scenarios_runner_reports_a_wrong_expectation_with_line_and_diff() {
    let text = script_with("# a comment\ntick now=1000\n----\nreset_timer\n");
    let script = parse_script(&text).expect("valid script");
    let actual = run_script(&script).outputs;
    let bad = mismatches("x.txt", &script, &actual);
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(bad[0].starts_with("x.txt:6: tick now=1000\n"), "{}", bad[0]);
    assert!(
        bad[0].contains("  + hard_state term=1 voted_for=1\n"),
        "{}",
        bad[0]
    );
    assert!(bad[0].contains("    reset_timer\n"), "{}", bad[0]);
}

#[test]
fn scenarios_rewrite_keeps_inputs_and_comments_and_then_passes() {
    let text =
        script_with("# why\n\n\ntick now=1000\n# mid\n----\nstale line\n\nstate\n----\n\n# end\n");
    let script = parse_script(&text).expect("valid script");
    let actual = run_script(&script).outputs;
    assert_eq!(mismatches("x", &script, &actual).len(), 2);
    let new = rewritten(&script, &actual);
    for kept in [
        "# why\n\n\ntick now=1000\n# mid\n----\n",
        "\n\n# end\n",
        INIT,
    ] {
        assert!(new.contains(kept), "{kept:?} lost:\n{new}");
    }
    assert!(!new.contains("stale line"), "{new}");
    let again = parse_script(&new).expect("rewritten script parses");
    assert!(
        mismatches("x", &again, &run_script(&again).outputs).is_empty(),
        "{new}"
    );
    assert_eq!(
        rewritten(&again, &run_script(&again).outputs),
        new,
        "rewrite is a fixed point"
    );
}

#[test]
fn scenarios_no_effects_is_rendered_for_an_empty_ready() {
    let script = parse_script(&script_with("election-timeout ms=1500\n----\n")).expect("valid");
    assert_eq!(
        run_script(&script).outputs[1],
        vec!["(no effects)".to_string()]
    );
}

/// The kind of a directive, telling apart the variants of one directive that take different
/// paths through a core (an UNIMPLEMENTED pre-vote answer, a send failure without AppendSent).
fn kind(d: &Directive) -> &'static str {
    use crate::core::PreVoteReply;
    match d {
        Directive::Init { .. } => "init",
        Directive::Restart { .. } => "restart",
        Directive::ElectionTimeout { .. } => "election-timeout",
        Directive::Tick { .. } => "tick",
        Directive::PreVoteRequest { .. } => "prevote-request",
        Directive::PreVoteResponse {
            reply: PreVoteReply::Unimplemented,
            ..
        } => "prevote-response unimplemented",
        Directive::PreVoteResponse { .. } => "prevote-response",
        Directive::VoteRequest { .. } => "vote-request",
        Directive::VoteResponse { .. } => "vote-response",
        Directive::AppendRequest { .. } => "append-request",
        Directive::AppendResponse { .. } => "append-response",
        Directive::SendFailure { sent: None, .. } => "send-failure without sent",
        Directive::SendFailure { .. } => "send-failure",
        Directive::Propose { .. } => "propose",
        Directive::State => "state",
        Directive::Log => "log",
        Directive::Progress { .. } => "progress",
        Directive::ReadIndex { .. } => "read-index",
    }
}

/// Every value [`kind`] returns.
const KINDS: [&str; 18] = [
    "init",
    "restart",
    "election-timeout",
    "tick",
    "prevote-request",
    "prevote-response unimplemented",
    "prevote-response",
    "vote-request",
    "vote-response",
    "append-request",
    "append-response",
    "send-failure without sent",
    "send-failure",
    "propose",
    "state",
    "log",
    "progress",
    "read-index",
];

/// Every directive (and variant) occurs in the corpus, so each language's runner is exercised
/// on all of them. A file that does not parse is reported by `scenarios_rust_core_passes_corpus`
/// (one failing test per typo); here it counts only if a kind is then missing.
#[test]
fn scenarios_corpus_uses_every_directive() -> Result<(), Failure> {
    let mut seen = std::collections::BTreeSet::new();
    let mut unparsed = Vec::new();
    for f in corpus_files() {
        let text = std::fs::read_to_string(&f).expect("readable scenario");
        match parse_script(&text) {
            Ok(script) => seen.extend(script.cases.iter().map(|c| kind(&c.directive))),
            Err(_) => unparsed.push(f.display().to_string()),
        }
    }
    let missing: Vec<&str> = KINDS.into_iter().filter(|k| !seen.contains(k)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut msg = format!("no scenario uses: {}", missing.join(", "));
    if !unparsed.is_empty() {
        msg += &format!(
            " (not counted, see scenarios_rust_core_passes_corpus: {} does not parse)",
            unparsed.join(", ")
        );
    }
    Err(Failure(msg))
}

#[test]
fn scenarios_runner_rejects_an_append_that_deletes_a_committed_entry() {
    let text = format!(
        "{}\n  entry index=0 term=1 command=\"a\"\n----\n\n\
         append-request now=1 term=1 leader_id=2 prev_log_index=0 prev_log_term=1 leader_commit=0\n----\n\n\
         append-request now=2 term=2 leader_id=3 prev_log_index=-1 prev_log_term=0 leader_commit=0\n\
         entry index=0 term=2 command=\"b\"\n----\n",
        INIT
    );
    let script = parse_script(&text).expect("valid script");
    let run = run_script(&script);
    assert_eq!(run.impossible.len(), 1, "{:?}", run.impossible);
    assert!(
        run.impossible[0]
            .starts_with("line 8: deletes entries from index 0, at or below commitIndex 0"),
        "{:?}",
        run.impossible
    );
}

/// The one grammar (`scenarios/grammar.spec`) refuses a bad line naming `file:line`, with the
/// wording the Python and Java runners use; the repository's own grammar parses.
#[test]
fn scenarios_grammar_refuses_a_bad_line_naming_file_and_line() {
    use grammar::parse_grammar;
    const OK: &str = "# c\ntick now - no\nentry index,term,command - no\n";
    assert!(parse_grammar("g", OK).is_ok());
    assert!(grammar::grammar().is_ok_and(|g| g.spec("init").is_some_and(|s| s.entries)));
    let cases = [
        (
            "tick now -\n",
            "g:1: expected 4 columns (name required optional entries), got 3",
        ),
        (
            "\n# c\nTick now - no\n",
            "g:3: `Tick`: not a directive name (a-z and -)",
        ),
        ("tick now,,x - no\n", "g:1: ``: not a key name (a-z and _)"),
        (
            "tick now now no\n",
            "g:1: key `now` listed twice for `tick`",
        ),
        (
            "tick now - maybe\n",
            "g:1: `maybe`: expected yes or no (takes entry lines)",
        ),
        (
            "tick now - no\ntick ms - no\n",
            "g:2: directive `tick` listed twice",
        ),
        (
            "entry index - yes\n",
            "g:1: `entry` lines take no entry lines",
        ),
        ("tick now - no\n\n", "g:2: no `entry` line"),
        ("entry index - no\n", "g:1: no directive"),
    ];
    for (text, want) in cases {
        assert_eq!(parse_grammar("g", text), Err(want.to_string()), "{text:?}");
    }
}

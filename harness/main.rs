//! `raft-harness`: thin CLI over the library — parse arguments, call run /
//! check / clean / validate, and map the outcome to a named exit code.
use clap::{Parser, Subcommand};
use raft_harness::check::{self, Evidence};
use raft_harness::lin::Cancel;
use raft_harness::report::{self, exit, say, Report, Verdict};
use raft_harness::run::{self, RunOpts};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(
    name = "raft-harness",
    version,
    about = "Launch, break and judge polyglot Raft clusters",
    after_help = "Exit codes: 0 all checks passed · 1 a check failed · 2 invalid spec, history or usage · \
                  3 the cluster could not be run · 4 a check was unknown, or a required check could not run · \
                  130 interrupted"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run suites: build, launch, drive, break, check, report. One suite file
    /// runs here; a folder or several files run as one child run per suite
    /// (`-j N` at a time) with a merged junit.xml and an index.html.
    Run {
        /// Suite files (e.g. suites/failover.toml) or folders of suites (their
        /// *.toml files; kind files such as suites/kinds.toml are skipped).
        #[arg(required = true, num_args = 1.., value_name = "SUITE|FOLDER")]
        specs: Vec<PathBuf>,
        /// Seed for every random choice (overrides each suite's `seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// Where reports go: <DIR>/<suite>/<timestamp>/ and <DIR>/latest; for many
        /// suites also <DIR>/batch.d/<timestamp>/ (junit.xml, index.html, logs/).
        #[arg(long, default_value = "reports", value_name = "DIR")]
        reports: PathBuf,
        /// Suites run at once (many suites only), each in its own network
        /// namespace or on shifted ports (see --isolation).
        #[arg(short = 'j', long = "jobs", default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64), allow_negative_numbers = true)]
        jobs: u16,
        /// List the selected suites (name, file, description) and exit.
        #[arg(long)]
        list: bool,
        /// Run only suites whose name or path contains SUBSTRING (repeatable: any matches).
        #[arg(long = "filter", value_name = "SUBSTRING")]
        filter: Vec<String>,
        /// Runs kept per suite in the reports folder (older ones are removed, never
        /// a live run or the target of <DIR>/latest). Runs that could not start
        /// are counted apart: the newest N of those are kept as well.
        #[arg(long, default_value_t = raft_harness::runner::retain::DEFAULT_KEEP, value_parser = parse_keep, value_name = "N", allow_negative_numbers = true)]
        keep: usize,
        /// Add N to every node port of the suite (not for suites with fixed ports,
        /// whose kinds pass plain HOST:PORT peers).
        #[arg(long, default_value_t = 0, value_name = "N")]
        port_offset: u16,
        /// How parallel suites are kept apart: auto = network namespaces where they
        /// can be created, else port offsets.
        #[arg(long, value_enum, default_value = "auto")]
        isolation: raft_harness::runner::isolate::Choice,
        /// Port shift per parallel slot with --isolation offsets.
        #[arg(long, default_value_t = 1000, value_name = "N")]
        offset_step: u16,
        /// Run suites whose name or path contains SUBSTRING with nothing beside them
        /// (repeatable), e.g. a suite too heavy to share the machine.
        #[arg(long, value_name = "SUBSTRING")]
        alone: Vec<String>,
    },
    /// Re-check a saved run (its report folder) or a history file (history.jsonl).
    Check {
        /// A run's report folder (holding evidence.json, e.g. reports/latest), or a
        /// client history file (.jsonl, one operation per line).
        path: PathBuf,
        /// Bound of the linearizability search, in seconds (0.001 to 86400);
        /// default: the run's own bound, or 30 for a history file.
        #[arg(long, value_parser = parse_lin_timeout)]
        lin_timeout_s: Option<Duration>,
    },
    /// End leftovers of earlier runs and hand-started servers on the suite's ports.
    Clean {
        /// The suite whose node ports are cleaned, e.g. suites/failover.toml.
        spec: PathBuf,
    },
    /// Search for a schedule that breaks a safety check: many short trials of SUITE's
    /// cluster and workload with random faults drawn from `--seed` (the suite's `[explore]`
    /// table sets the fault mix). Writes the failing trial's report and a replayable suite.
    Explore(ExploreArgs),
    /// Shrink a failing suite (e.g. explore's failing.toml) to the smallest schedule that
    /// still fails a safety check in at least one of `--runs` runs.
    Shrink(ShrinkArgs),
    /// Write a docker-compose.yml for the suite's cluster (images: docker/build.sh).
    Compose {
        /// The suite whose nodes become services, e.g. suites/failover.toml.
        spec: PathBuf,
        /// Where to write the file (default: standard output).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Publish node port P on 127.0.0.1:P+N (inside the network nodes keep P).
        #[arg(long, default_value_t = 0, value_name = "N")]
        port_offset: u16,
    },
    /// Check suite files without running anything.
    Validate {
        /// One or more suite files; each is reported, and any invalid one makes the exit code 2.
        #[arg(required = true, num_args = 1.., value_name = "SUITE")]
        specs: Vec<PathBuf>,
    },
}

/// `--keep`: at least one run (the one just made). A negative number reaches this (not
/// clap's "pass it after `--`" tip) and is refused like any other bad value (exit 2).
fn parse_keep(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("`{text}`: give a whole number of runs, at least 1")),
    }
}

fn load(spec: &Path) -> Result<raft_harness::spec::Spec, i32> {
    if let Some(e) = raft_harness::runner::select::not_a_suite(spec) {
        say(&format!("{e}\n"));
        return Err(exit::USAGE);
    }
    raft_harness::spec::load(spec).map_err(|e| {
        say(&format!("{e}\n"));
        exit::USAGE
    })
}

/// Longest linearizability search bound `check` accepts: one day.
const MAX_LIN_TIMEOUT_S: f64 = 86_400.0;

/// `--lin-timeout-s`: a finite number of seconds in [0.001, 86400] (inf, nan,
/// negative and huge values are usage errors, exit 2, not a panic).
fn parse_lin_timeout(text: &str) -> Result<Duration, String> {
    let s: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if !s.is_finite() || !(0.001..=MAX_LIN_TIMEOUT_S).contains(&s) {
        return Err(format!(
            "`{text}` is out of range: give a number of seconds from 0.001 to {MAX_LIN_TIMEOUT_S}"
        ));
    }
    Ok(Duration::from_secs_f64(s))
}

/// The reports folder must be UTF-8: node commands receive their folders as
/// text, and a lossy conversion would send their data elsewhere.
fn check_reports_path(reports: &Path) -> Result<(), i32> {
    let abs = std::path::absolute(reports).unwrap_or_else(|_| reports.to_path_buf());
    if abs.to_str().is_some() {
        return Ok(());
    }
    say(&format!(
        "error: --reports {}: the path is not valid UTF-8; node commands receive their folders as text, so choose a UTF-8 path\n",
        abs.display()
    ));
    Err(exit::USAGE)
}

#[path = "explore_cli.rs"]
mod explore_cli;
use explore_cli::{ExploreArgs, ShrinkArgs};

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    record_panics();
    std::process::exit(dispatch(Cli::parse().cmd));
}

/// A panic is recorded (the run ends as a harness error whose report says
/// where); nodes are left to the run's teardown, or to their parent-death
/// signal if the whole process goes.
fn record_panics() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        run::record_panic(info);
        default_hook(info);
    }));
}

/// Run one subcommand; its exit code.
fn dispatch(cmd: Cmd) -> i32 {
    match cmd {
        Cmd::Validate { specs } => validate_all(&specs),
        Cmd::Clean { spec } => clean(&spec),
        Cmd::Compose {
            spec,
            output,
            port_offset,
        } => compose(&spec, output.as_deref(), port_offset),
        Cmd::Check {
            path,
            lin_timeout_s,
        } => recheck(&path, lin_timeout_s),
        Cmd::Explore(a) => a.run(),
        Cmd::Shrink(a) => a.run(),
        Cmd::Run {
            specs,
            seed,
            reports,
            jobs,
            list,
            filter,
            keep,
            port_offset,
            isolation,
            offset_step,
            alone,
        } => match check_reports_path(&reports) {
            Err(c) => c,
            Ok(()) if specs.len() == 1 && !specs[0].is_dir() && !list && filter.is_empty() => {
                run_one(&specs[0], RunOpts { seed, reports }, keep, port_offset)
            }
            Ok(()) if port_offset != 0 => {
                say("error: --port-offset moves one suite; with a folder or several suites each parallel slot gets its own offset (--isolation offsets --offset-step N)\n");
                exit::USAGE
            }
            Ok(()) => raft_harness::runner::run_many(raft_harness::runner::Opts {
                paths: specs,
                jobs: usize::from(jobs),
                filters: filter,
                list,
                seed,
                reports,
                keep,
                isolation,
                offset_step,
                alone,
            }),
        },
    }
}

/// `validate SUITE|FOLDER...`: every file, the worst exit code.
fn validate_all(specs: &[PathBuf]) -> i32 {
    match raft_harness::runner::select::files_to_validate(specs) {
        Ok(files) => files
            .iter()
            .map(|(f, kinds)| validate_or_skip(f, *kinds))
            .fold(exit::PASS, i32::max),
        Err(e) => {
            say(&format!("error: {e}\n"));
            exit::USAGE
        }
    }
}

/// `clean SUITE`: end leftovers on the suite's ports (exit 3 if one cannot be ended).
fn clean(spec: &Path) -> i32 {
    let s = match load(spec) {
        Ok(s) => s,
        Err(c) => return c,
    };
    match raft_harness::cluster::cleanup::clean_blocking(&s, &|l| say(&format!("{l}\n"))) {
        Ok(()) => {
            say(&format!("ports of {} are free\n", spec.display()));
            exit::PASS
        }
        Err(e) => {
            say(&format!("error: {e}\n"));
            exit::CANNOT_RUN
        }
    }
}

/// `compose SUITE [-o FILE]`: exit 0 written, 2 an invalid suite or a node with no image
/// (usage), 3 the file cannot be written.
fn compose(path: &Path, output: Option<&Path>, port_offset: u16) -> i32 {
    let spec = match load(path) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let project = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "raft".into());
    let text = match raft_harness::docker::compose::render(&spec, &project, port_offset) {
        Ok(t) => t,
        Err(e) => {
            say(&format!("error: {}: {e}\n", path.display()));
            return exit::USAGE;
        }
    };
    let Some(o) = output else {
        print!("{text}");
        return exit::PASS;
    };
    match std::fs::write(o, text) {
        Ok(()) => {
            let n = spec.nodes.len();
            say(&format!("wrote {} ({n} services)\n", o.display()));
            exit::PASS
        }
        Err(e) => {
            say(&format!("error: cannot write {}: {e}\n", o.display()));
            exit::CANNOT_RUN
        }
    }
}

/// `validate SUITE`: print what the suite holds, or its errors (exit 2).
/// `validate` of one file: a kind file is skipped (as `run` skips it), with a note.
fn validate_or_skip(spec: &Path, kind_file: bool) -> i32 {
    if kind_file {
        say(&format!(
            "{}: a kind file (no [[node]], [[step]] or [workload]): skipped\n",
            spec.display()
        ));
        return exit::PASS;
    }
    validate(spec)
}

fn validate(spec: &Path) -> i32 {
    match load(spec) {
        Ok(s) => {
            use std::io::Write;
            // Like `say`: a closed stdout is no panic.
            let _ = writeln!(
                std::io::stdout(),
                "{}: valid — {} nodes ({}), {} steps, workload {}",
                spec.display(),
                s.nodes.len(),
                s.nodes
                    .iter()
                    .map(|n| format!("{}:{}", n.id, n.kind))
                    .collect::<Vec<_>>()
                    .join(" "),
                s.steps.len(),
                s.workload
                    .as_ref()
                    .map_or("none".into(), |w| format!("{:?}", w.kind).to_lowercase())
            );
            exit::PASS
        }
        Err(c) => c,
    }
}

/// `run SUITE` (one file): here, in this process, on its ports shifted by
/// `port_offset`; then keep the newest `keep` runs of the suite.
fn run_one(spec: &Path, opts: RunOpts, keep: usize, port_offset: u16) -> i32 {
    let mut s = match load(spec) {
        Ok(s) => s,
        Err(c) => return c,
    };
    if let Err(e) = raft_harness::runner::isolate::offset_ports(&mut s, u32::from(port_offset)) {
        say(&format!("error: {e}\n"));
        return exit::USAGE;
    }
    let (name, reports) = (s.name.clone(), opts.reports.clone());
    let code = run_suite(s, opts);
    let (removed, errors) =
        raft_harness::runner::retain::prune(&reports.join(&name), keep, &reports.join("latest"));
    if !removed.is_empty() {
        say(&format!(
            "  removed {} older run(s) of {name} (--keep {keep})\n",
            removed.len()
        ));
    }
    for e in errors {
        say(&format!("warning: {e}\n"));
    }
    code
}

/// Run a suite on a multi-threaded runtime. A panic of the run itself (not of
/// a background task, which the run notes and survives) kills every node and
/// writes a minimal report: exit 3.
fn run_suite(s: raft_harness::spec::Spec, opts: RunOpts) -> i32 {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            say(&format!("error: cannot start the async runtime: {e}\n"));
            return exit::CANNOT_RUN;
        }
    };
    rt.block_on(async move {
        let (tx, rx) = tokio::sync::watch::channel(false);
        tokio::spawn(interrupts(tx));
        match tokio::spawn(run::run(s, opts, rx)).await {
            Ok(code) => code,
            Err(e) => {
                raft_harness::cluster::process::kill_all_now();
                let why = format!("the run stopped on a harness bug ({e}); every node was killed");
                tokio::task::block_in_place(|| run::abandon(Verdict::Error, &why))
                    .unwrap_or(exit::CANNOT_RUN)
            }
        }
    })
}

/// Signals closer together than this are one interrupt: `timeout -s INT`
/// signals the harness and then its process group, and one Ctrl+C can reach
/// the harness twice the same way.
const REPEAT_WINDOW: Duration = Duration::from_secs(1);

/// First Ctrl+C (or SIGTERM): clean teardown and a partial report. A second
/// one (after [`REPEAT_WINDOW`]): kill every node now, write a minimal report
/// marked interrupted, exit 130.
async fn interrupts(tx: tokio::sync::watch::Sender<bool>) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return;
    };
    let mut first: Option<Instant> = None;
    loop {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        match first {
            None => {
                first = Some(Instant::now());
                say("\ninterrupt: stopping the schedule, tearing down, writing a partial report (again to kill at once)\n");
                let _ = tx.send(true);
            }
            Some(t) if t.elapsed() < REPEAT_WINDOW => {}
            Some(_) => {
                raft_harness::cluster::process::kill_all_now();
                say("second interrupt: killed every node at once; writing a minimal report\n");
                let why = "interrupted twice: every node was killed at once";
                let code = tokio::task::block_in_place(|| run::abandon(Verdict::Interrupted, why));
                std::process::exit(code.unwrap_or(exit::INTERRUPTED));
            }
        }
    }
}

/// What `check` was given.
enum Input {
    /// A run's report folder: its evidence and, if present, its report.json.
    RunDir {
        evidence: Box<Evidence>,
        report: Option<Box<Report>>,
    },
    /// A client history alone.
    History(Vec<raft_harness::history::Op>),
}

const EXPECTED: &str = "`check` takes a run's report folder (with evidence.json) or a client history (.jsonl, one operation per line)";

fn read_input(path: &Path) -> Result<Input, String> {
    if path.is_dir() {
        return read_run_dir(path);
    }
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if matches!(ext, "json" | "xml") {
        return Err(not_an_input(path, ext));
    }
    raft_harness::history::read_jsonl(path)
        .map(Input::History)
        .map_err(|e| e.to_string())
}

/// A run's report folder: its evidence (node logs and message trace read from the folder given)
/// and its report.json when present.
fn read_run_dir(path: &Path) -> Result<Input, String> {
    let f = path.join("evidence.json");
    let text = std::fs::read_to_string(&f)
        .map_err(|e| format!("{}: cannot read ({e}); {EXPECTED}", f.display()))?;
    let mut evidence = serde_json::from_str::<Evidence>(&text)
        .map_err(|e| format!("{}:{}:{}: {e}", f.display(), e.line(), e.column()))?;
    // Node logs are read from the folder given, wherever it was moved or copied to and
    // whatever the current directory (the run recorded them relative to its own cwd).
    for l in evidence.node_logs.iter_mut() {
        if let Some(name) = l.path.file_name() {
            l.path = path.join("nodes").join(name);
        }
    }
    attach_trace(path, &mut evidence)?;
    unique_op_ids(&f, &evidence)?;
    let rf = path.join("report.json");
    let report = match std::fs::read_to_string(&rf) {
        Err(_) => None,
        Ok(t) => Some(
            serde_json::from_str::<Report>(&t)
                .map_err(|e| format!("{}:{}:{}: {e}", rf.display(), e.line(), e.column()))?,
        ),
    };
    Ok(Input::RunDir {
        evidence: Box::new(evidence),
        report: report.map(Box::new),
    })
}

/// The run's message trace, read strictly: a partial or corrupted trace is an error, never
/// judged (the wire checks would pass on what is left); missing is an error when the run had
/// RPC-aware links.
fn attach_trace(dir: &Path, evidence: &mut Evidence) -> Result<(), String> {
    let trace = dir.join(raft_harness::net::rpc::TRACE_FILE);
    if trace.is_file() {
        let nodes = evidence.nodes.iter().map(|n| n.id).collect();
        let (messages, problems) = raft_harness::net::trace::read_strict(&trace, &nodes);
        if !problems.is_empty() {
            return Err(format!(
                "{}\n(the message trace cannot be judged; {} problem(s))",
                problems.join("\n"),
                problems.len()
            ));
        }
        if let Some(why) = evidence
            .message_trace
            .and_then(|size| size.differs(&trace, messages.len()))
        {
            return Err(format!("{why}\n(the message trace cannot be judged)"));
        }
        evidence.messages = Some(messages);
    } else if evidence.rpc_links {
        return Err(format!(
            "{}: messages.jsonl missing: the run had RPC-aware links (`network = \"rpc\"`)",
            trace.display()
        ));
    }
    Ok(())
}

/// The same rule as for a history file: one operation per id.
fn unique_op_ids(f: &Path, evidence: &Evidence) -> Result<(), String> {
    let mut seen = std::collections::BTreeMap::new();
    for (i, op) in evidence.history.iter().enumerate() {
        if let Some(first) = seen.insert(op.id, i) {
            return Err(format!(
                "{}: history operation #{} has id {}, already used by operation #{} (duplicate operation ids)",
                f.display(),
                i + 1,
                op.id,
                first + 1
            ));
        }
    }
    Ok(())
}

/// Why a .json/.xml file given to `check` is not an input, with a hint when it sits in a run
/// folder.
fn not_an_input(path: &Path, ext: &str) -> String {
    let what = match path.file_name().and_then(|n| n.to_str()) {
        Some("report.json") => "a run's report",
        Some("evidence.json") => "a run's evidence",
        Some("junit.xml") => "a run's JUnit report",
        _ if ext == "xml" => "an XML file",
        _ => "a JSON document",
    };
    let hint = path
        .parent()
        .filter(|d| d.join("evidence.json").is_file())
        .map(|d| format!("; to re-check this run: raft-harness check {}", d.display()))
        .unwrap_or_default();
    format!("{}: this is {what}; {EXPECTED}{hint}", path.display())
}

/// Set `cancel` on the first SIGINT/SIGTERM, from a thread of its own.
fn cancel_on_signal(cancel: Cancel) {
    let mut first = true;
    raft_harness::cancel::on_signals(move || {
        if std::mem::take(&mut first) {
            say("\ninterrupt: stopping the checks\n");
            cancel.cancel();
        }
    });
}

/// `check PATH`: judge a saved run with the run's own rule (required checks,
/// harness error, interruption) and print its real seed and duration; or judge
/// a client history alone. The run's report.json and junit.xml stay as the
/// run wrote them (a difference is printed); its report.html shows this re-check.
fn recheck(path: &Path, lin_timeout: Option<Duration>) -> i32 {
    let input = match read_input(path) {
        Ok(i) => i,
        Err(e) => {
            say(&format!("error: {e}\n"));
            return exit::USAGE;
        }
    };
    let cancel = Cancel::new();
    cancel_on_signal(cancel);
    say(&format!("checking {} (Ctrl+C stops)\n", path.display()));
    let started = Instant::now();
    let (mut r, recorded, evidence) = match input {
        Input::RunDir { evidence, report } => {
            let recorded = report.map(|r| *r);
            let timeout = lin_timeout
                .or_else(|| recorded.as_ref()?.lin_timeout_ms.map(Duration::from_millis))
                .unwrap_or(Duration::from_secs(30));
            let checks = check::run_all(&evidence, timeout, cancel);
            let r = match &recorded {
                Some(rec) => Report {
                    checks,
                    notes: Vec::new(),
                    ..rec.clone()
                },
                None => Report {
                    suite: path.display().to_string(),
                    checks,
                    ..Default::default()
                },
            };
            (r, recorded, Some(evidence))
        }
        Input::History(history) => {
            let evidence = Evidence {
                history,
                ..Default::default()
            };
            let timeout = lin_timeout.unwrap_or(Duration::from_secs(30));
            // A bare history: only the client-side checks have their evidence.
            let checks = check::run_all(&evidence, timeout, cancel)
                .into_iter()
                .filter(|c| matches!(c.name.as_str(), "read_validity" | "linearizable"))
                .collect();
            let r = Report {
                suite: path.display().to_string(),
                checks,
                duration_s: started.elapsed().as_secs_f64(),
                ..Default::default()
            };
            (r, None, None)
        }
    };
    let was_interrupted = recorded
        .as_ref()
        .is_some_and(|r| r.verdict == Verdict::Interrupted);
    report::decide(&mut r, was_interrupted || cancel.is_cancelled());
    print_recheck(path, &r, recorded.as_ref(), cancel.is_cancelled());
    match evidence {
        Some(ev) => write_html(path, &r, &ev),
        None => r.exit_code,
    }
}

/// `check RUN_DIR` (re)writes the run's report.html from this re-check; a
/// page that cannot be written is named and the exit code is 3.
fn write_html(dir: &Path, r: &Report, ev: &Evidence) -> i32 {
    let f = dir.join("report.html");
    match report::write_text(&f, &report::html::render(r, Some(ev))) {
        Ok(()) => {
            say(&format!("  report: {}\n", f.display()));
            r.exit_code
        }
        Err(e) => {
            say(&format!("error: {e}\n"));
            exit::CANNOT_RUN
        }
    }
}

fn print_recheck(path: &Path, r: &Report, recorded: Option<&Report>, cancelled: bool) {
    // The table explains every check that did not pass in full.
    say(&report::table(r));
    if cancelled {
        say("  the re-check was interrupted: checks not finished are `not checked`\n");
    }
    if let Some(rec) = recorded {
        say(&format!(
            "  re-checked {} from evidence.json; its report.json and junit.xml are left as the run wrote them\n",
            path.display()
        ));
        if (rec.verdict, rec.exit_code) != (r.verdict, r.exit_code) {
            say(&format!(
                "  note: the run recorded {:?} (exit {}); this re-check gives {:?} (exit {})\n",
                rec.verdict, rec.exit_code, r.verdict, r.exit_code
            ));
        }
    }
}

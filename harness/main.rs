//! `raft-harness`: thin CLI over the library — parse arguments, call run /
//! check / clean / validate, and map the outcome to a named exit code.
use clap::{Parser, Subcommand};
use raft_harness::check::{self, Evidence};
use raft_harness::report::{self, exit};
use raft_harness::run::{self, RunOpts};
use std::path::PathBuf;
use std::time::Duration;

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
    /// Run a suite: build, launch, drive, break, check, report.
    Run {
        /// The suite file, e.g. suites/failover.toml.
        spec: PathBuf,
        /// Seed for every random choice (overrides the suite's `seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// Where reports go: <DIR>/<suite>/<timestamp>/ and <DIR>/latest.
        #[arg(long, default_value = "reports")]
        reports: PathBuf,
    },
    /// Re-check a saved run (its report folder) or a history file (history.jsonl).
    Check {
        path: PathBuf,
        /// Bound of the linearizability search, in seconds.
        #[arg(long, default_value_t = 30.0)]
        lin_timeout_s: f64,
    },
    /// End leftovers of earlier runs and hand-started servers on the suite's ports.
    Clean { spec: PathBuf },
    /// Check a suite file without running anything.
    Validate { spec: PathBuf },
}

fn load(spec: &std::path::Path) -> Result<raft_harness::spec::Spec, i32> {
    raft_harness::spec::load(spec).map_err(|e| {
        eprintln!("{e}");
        exit::USAGE
    })
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    // Whatever goes wrong in here, no node outlives us.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        raft_harness::cluster::process::kill_all_now();
        default_hook(info);
    }));
    let cli = Cli::parse();
    let code = match cli.cmd {
        Cmd::Validate { spec } => match load(&spec) {
            Ok(s) => {
                println!(
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
        },
        Cmd::Clean { spec } => match load(&spec) {
            Ok(s) => match raft_harness::cluster::cleanup::clean(&s, None, &|l| eprintln!("{l}")) {
                Ok(()) => {
                    eprintln!("ports of {} are free", spec.display());
                    exit::PASS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    exit::CANNOT_RUN
                }
            },
            Err(c) => c,
        },
        Cmd::Check {
            path,
            lin_timeout_s,
        } => recheck(&path, Duration::from_secs_f64(lin_timeout_s.max(0.001))),
        Cmd::Run {
            spec,
            seed,
            reports,
        } => match load(&spec) {
            Err(c) => c,
            Ok(s) => {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .build()
                    .expect("tokio runtime");
                rt.block_on(async move {
                    let (tx, rx) = tokio::sync::watch::channel(false);
                    tokio::spawn(interrupts(tx));
                    run::run(s, RunOpts { seed, reports }, rx).await
                })
            }
        },
    };
    std::process::exit(code);
}

/// First Ctrl+C (or SIGTERM): clean teardown and a partial report. Second: kill now.
async fn interrupts(tx: tokio::sync::watch::Sender<bool>) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return;
    };
    let mut n = 0;
    loop {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        n += 1;
        if n == 1 {
            eprintln!("\ninterrupt: stopping the schedule, tearing down, writing a partial report (again to kill at once)");
            let _ = tx.send(true);
        } else {
            raft_harness::cluster::process::kill_all_now();
            eprintln!("second interrupt: killed every node; no report");
            std::process::exit(exit::INTERRUPTED);
        }
    }
}

fn recheck(path: &std::path::Path, lin_timeout: Duration) -> i32 {
    let evidence = if path.is_dir() {
        let f = path.join("evidence.json");
        let text = match std::fs::read_to_string(&f) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {}: cannot read ({e}); expected a report folder with evidence.json or a history .jsonl file", f.display());
                return exit::USAGE;
            }
        };
        match serde_json::from_str::<Evidence>(&text) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("error: {}:{}:{}: {e}", f.display(), e.line(), e.column());
                return exit::USAGE;
            }
        }
    } else {
        match raft_harness::history::read_jsonl(path) {
            Ok(history) => Evidence {
                history,
                ..Default::default()
            },
            Err(e) => {
                eprintln!("error: {e}");
                return exit::USAGE;
            }
        }
    };
    let checks = if path.is_dir() {
        check::run_all(&evidence, lin_timeout)
    } else {
        // A bare history: only the client-side checks have their evidence.
        check::run_all(&evidence, lin_timeout)
            .into_iter()
            .filter(|c| matches!(c.name.as_str(), "read_validity" | "linearizable"))
            .collect()
    };
    let (verdict, code) = report::judge(&checks, &[]);
    let r = report::Report {
        suite: path.display().to_string(),
        verdict,
        exit_code: code,
        checks,
        ..Default::default()
    };
    eprint!("{}", report::table(&r));
    for c in &r.checks {
        for e in c.evidence.iter().skip(1) {
            eprintln!("    {}: {e}", c.name);
        }
    }
    code
}

//! Command-line arguments of `raft-harness explore` and `raft-harness shrink` (the logic is in
//! `raft_harness::explore`).

use clap::Args;
use raft_harness::explore;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Args)]
pub struct ExploreArgs {
    /// The suite whose cluster, kinds, workload, checks and `[explore]` table are explored.
    suite: PathBuf,
    /// Wall-clock budget (e.g. 90s, 10m, 1h): no new trials start after it.
    #[arg(long, default_value = "10m", value_parser = explore::parse_budget)]
    budget: Duration,
    /// At most N trials.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..), allow_negative_numbers = true)]
    trials: Option<u32>,
    /// Seed of the trials' random schedules (default: drawn, and printed).
    #[arg(long)]
    seed: Option<u64>,
    /// Trials run at once (each in its own network namespace or on shifted ports).
    #[arg(short = 'j', long = "jobs", default_value_t = 1, value_name = "K", value_parser = clap::value_parser!(u16).range(1..=64), allow_negative_numbers = true)]
    jobs: u16,
    /// Output folder (trials/, reports/, runner.log, failing.toml).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

impl ExploreArgs {
    pub fn run(self) -> i32 {
        let seed = self
            .seed
            .unwrap_or_else(|| u64::from(rand::random::<u32>()));
        raft_harness::report::say(&format!(
            "explore {} with seed {seed}\n",
            self.suite.display()
        ));
        let out = self
            .out
            .unwrap_or_else(|| explore::default_out("explore", &self.suite).join(seed.to_string()));
        explore::explore(&explore::Opts {
            suite: self.suite,
            budget: self.budget,
            trials: self.trials.map(u64::from),
            seed,
            jobs: usize::from(self.jobs),
            out,
        })
    }
}

#[derive(Args)]
pub struct ShrinkArgs {
    /// A suite that fails a safety check (e.g. explore's failing.toml).
    file: PathBuf,
    /// Runs per candidate: a candidate is kept if a safety check fails in at least one.
    #[arg(long, default_value_t = 5, value_name = "K", value_parser = clap::value_parser!(u16).range(1..=100), allow_negative_numbers = true)]
    runs: u16,
    /// Runs at once.
    #[arg(short = 'j', long = "jobs", default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64), allow_negative_numbers = true)]
    jobs: u16,
    /// Output folder (shrunk.toml, candidates/, reports/); default
    /// reports/shrink.d/FOLDER-STEM, numbered so it never overwrites an earlier shrink.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Also write the shrunk suite to PATH (e.g. suites/regress-NAME.toml), its includes
    /// relative to PATH; refused if PATH exists.
    #[arg(long, value_name = "PATH")]
    save: Option<PathBuf>,
}

impl ShrinkArgs {
    pub fn run(self) -> i32 {
        let out = self
            .out
            .unwrap_or_else(|| explore::shrink::default_out(&self.file));
        explore::shrink::shrink(&explore::shrink::Opts {
            file: self.file,
            runs: usize::from(self.runs),
            jobs: usize::from(self.jobs),
            out,
            save: self.save,
        })
    }
}

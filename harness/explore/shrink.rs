//! `raft-harness shrink FAILING.toml [--runs K]` (issue 13 §2): delta debugging (Zeller's
//! ddmin, complement removal) over a failing suite's steps, then shorter sleeps and a lighter
//! workload. Runs are not deterministic, so a candidate is kept when a safety check fails in at
//! least one of K runs. The smallest suite still failing is written with how many runs of it
//! reproduced the failure; it is the regression suite to file.

use super::trial::{self, Outcome};
use crate::report::{exit, say};
use std::path::{Path, PathBuf};
use toml::{Table, Value};

pub struct Opts {
    pub file: PathBuf,
    /// Runs per candidate (K ≥ 1).
    pub runs: usize,
    pub jobs: usize,
    pub out: PathBuf,
    /// Also write the shrunk suite here, includes relative to it (`--save`); never overwrites.
    pub save: Option<PathBuf>,
}

struct Shrinker<'a> {
    o: &'a Opts,
    base: Table,
    candidates: usize,
    runs_done: usize,
    /// Failed and made runs of the last candidate that was kept (or of the input).
    kept: (usize, usize),
    /// The input itself does not load as a suite (the error is the loader's): exit 2.
    bad_input: bool,
}

impl Shrinker<'_> {
    /// Runs `t` up to K times (`jobs` at a time, stopping at the first failure); the number of
    /// runs that failed a safety check and the runs made.
    fn failures(&mut self, t: &Table) -> Result<(usize, usize), String> {
        self.candidates += 1;
        let dir = self.o.out.join("candidates");
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let text = toml::to_string(t).map_err(|e| e.to_string())?;
        let (mut hits, mut made) = (0, 0);
        while made < self.o.runs && hits == 0 {
            let k = self.o.jobs.min(self.o.runs - made).max(1);
            let files: Vec<PathBuf> = (made..made + k)
                .map(|r| dir.join(format!("c{:04}-r{r}.toml", self.candidates)))
                .collect();
            for f in &files {
                std::fs::write(f, &text).map_err(|e| format!("{}: {e}", f.display()))?;
            }
            if let Err(e) = crate::spec::load(&files[0]) {
                let e = e.to_string();
                if self.candidates == 1 {
                    self.bad_input = true;
                    return Err(format!(
                        "{} does not load:\n{}",
                        self.o.file.display(),
                        e.trim_end()
                    ));
                }
                say(&format!(
                    "  candidate {} does not load (kept out): {}\n",
                    self.candidates,
                    e.lines().next().unwrap_or("")
                ));
                return Ok((0, 0));
            }
            let reports = self.o.out.join("reports");
            let log = self.o.out.join("runner.log");
            let outs = trial::run_batch(&files, &reports, self.o.jobs, &log);
            if trial::interrupted() {
                return Err(INTERRUPTED.into());
            }
            for out in outs {
                made += 1;
                hits += usize::from(out.is_safety_failure());
                if let (Outcome::NoReport(why), true) = (&out, self.candidates == 1) {
                    return Err(why.clone());
                }
            }
        }
        self.runs_done += made;
        if hits > 0 {
            self.kept = (hits, made);
        }
        let steps = t.get("step").and_then(Value::as_array).map_or(0, Vec::len);
        say(&format!(
            "  candidate {}: {steps} steps, failed in {hits} of {made} runs\n",
            self.candidates
        ));
        Ok((hits, made))
    }

    fn with_steps(&self, steps: &[Value]) -> Table {
        let mut t = self.base.clone();
        t.insert("step".into(), Value::Array(steps.to_vec()));
        t
    }

    /// ddmin over the step list, never removing the waits later steps need
    /// ([`super::keep::needed_waits`]).
    fn steps(&mut self, steps: Vec<Value>) -> Result<Vec<Value>, String> {
        ddmin(
            steps,
            &mut |s| Ok(self.failures(&self.with_steps(s))?.0 > 0),
        )
    }

    /// Halves every `sleep_s` (down to 0.1 s) while the failure reproduces.
    fn sleeps(&mut self, mut steps: Vec<Value>) -> Result<Vec<Value>, String> {
        for i in 0..steps.len() {
            while let Some(s) = steps[i].get("sleep_s").and_then(sleep_secs) {
                let half = ((s / 2.0) * 10.0).round() / 10.0;
                if half < 0.1 || half >= s {
                    break;
                }
                let mut cand = steps.clone();
                if let Some(t) = cand[i].as_table_mut() {
                    t.insert("sleep_s".into(), Value::Float(half));
                }
                if self.failures(&self.with_steps(&cand))?.0 == 0 {
                    break;
                }
                steps = cand;
            }
        }
        Ok(steps)
    }

    /// Halves the workload's `clients` and `rate` while the failure reproduces.
    fn workload(&mut self, steps: &[Value]) -> Result<(), String> {
        for key in ["clients", "rate"] {
            loop {
                let cur = self
                    .base
                    .get("workload")
                    .and_then(|w| w.get(key))
                    .and_then(Value::as_integer);
                let Some(n) = cur.filter(|&n| n >= 2) else {
                    break;
                };
                let saved = self.base.clone();
                if let Some(w) = self.base.get_mut("workload").and_then(Value::as_table_mut) {
                    w.insert(key.into(), Value::Integer(n / 2));
                }
                if self.failures(&self.with_steps(steps))?.0 == 0 {
                    self.base = saved;
                    break;
                }
            }
        }
        Ok(())
    }
}

/// Zeller's ddmin (complement removal) over `steps`: removes chunks of halving size while
/// `fails` holds, but never a step [`super::keep::needed_waits`] marks. Never an empty list.
fn ddmin(
    steps: Vec<Value>,
    fails: &mut dyn FnMut(&[Value]) -> Result<bool, String>,
) -> Result<Vec<Value>, String> {
    let keep = super::keep::needed_waits(&steps);
    let pick = |rem: &[usize]| -> Vec<Value> {
        (0..steps.len())
            .filter(|i| keep[*i] || rem.contains(i))
            .map(|i| steps[i].clone())
            .collect()
    };
    let mut removable: Vec<usize> = (0..steps.len()).filter(|&i| !keep[i]).collect();
    let mut chunk = removable.len().div_ceil(2);
    while chunk >= 1 {
        let mut i = 0;
        while i < removable.len() {
            let mut cand = removable.clone();
            cand.drain(i..(i + chunk).min(removable.len()));
            let s = pick(&cand);
            if !s.is_empty() && fails(&s)? {
                removable = cand;
            } else {
                i += chunk;
            }
        }
        chunk /= 2;
    }
    Ok(pick(&removable))
}

fn sleep_secs(v: &Value) -> Option<f64> {
    v.as_float().or_else(|| v.as_integer().map(|i| i as f64))
}

fn faults(steps: &[Value]) -> usize {
    steps
        .iter()
        .filter(|s| {
            ["fault", "net", "nemesis"]
                .iter()
                .any(|k| s.get(k).is_some())
        })
        .count()
}

/// `raft-harness shrink`; exit 1 when a smaller (or the same) failing suite was written, 4 when
/// the input does not fail in K runs, 2 for an unreadable input, 3 when runs cannot start.
pub fn shrink(o: &Opts) -> i32 {
    trial::catch_interrupts();
    if let Err(e) = crate::spec::load(&o.file) {
        return usage(e.to_string().trim_end());
    }
    if let Some(p) = o.save.as_ref().filter(|p| p.exists()) {
        return usage(&format!(
            "--save {}: the file exists (shrink never overwrites a suite)",
            p.display()
        ));
    }
    let text = match std::fs::read_to_string(&o.file) {
        Ok(t) => t,
        Err(e) => return usage(&format!("{}: cannot read: {e}", o.file.display())),
    };
    let mut base: Table = match toml::from_str(&text) {
        Ok(t) => t,
        Err(e) => return usage(&format!("{}: {e}", o.file.display())),
    };
    let steps = match base.remove("step") {
        Some(Value::Array(s)) if !s.is_empty() => s,
        _ => return usage(&format!("{}: no [[step]] to shrink", o.file.display())),
    };
    if let Err(e) = super::includes::make_absolute(&mut base, &o.file) {
        return usage(&e);
    }
    let mut sh = Shrinker {
        o,
        base,
        candidates: 0,
        runs_done: 0,
        kept: (0, 0),
        bad_input: false,
    };
    match run(&mut sh, steps) {
        Ok(code) => code,
        Err(e) if trial::interrupted() => {
            say(&format!(
                "{e}; runs so far are under {}\n",
                o.out.join("reports").display()
            ));
            exit::INTERRUPTED
        }
        Err(e) if sh.bad_input => usage(&e),
        Err(e) => {
            say(&format!("error: {e}\n"));
            exit::CANNOT_RUN
        }
    }
}

/// What shrink says when Ctrl+C stopped it (the running candidate ended its nodes first).
const INTERRUPTED: &str = "interrupted (Ctrl+C): no smaller suite written";

fn usage(msg: &str) -> i32 {
    say(&format!("error: {msg}\n"));
    exit::USAGE
}

fn run(sh: &mut Shrinker, steps: Vec<Value>) -> Result<i32, String> {
    let o = sh.o;
    let (before, faults_before) = (steps.len(), faults(&steps));
    say(&format!(
        "shrink: checking that {} fails ({} runs at most)\n",
        o.file.display(),
        o.runs
    ));
    if sh.failures(&sh.with_steps(&steps))?.0 == 0 {
        say(&format!(
            "{}: no safety failure in {} runs: nothing to shrink\n",
            o.file.display(),
            o.runs
        ));
        return Ok(exit::UNDECIDED);
    }
    let steps = sh.steps(steps)?;
    let steps = sh.sleeps(steps)?;
    sh.workload(&steps)?;
    // The final suite, run all K times for the count a user files with it.
    let (hits, made) = full_count(sh, &steps)?;
    let (kh, km) = sh.kept;
    let out = o.out.join("shrunk.toml");
    let header = format!(
        "# Shrunk by `raft-harness shrink` from {}: {} steps ({} faults) -> {} steps ({} faults).\n\
         # A safety check failed in {kh} of {km} runs when it was kept, then in {hits} of {made} more runs;\n\
         # {} candidates, {} runs in all (runs are not deterministic: see `shrink --runs`).\n\
         # File it as a regression suite: `raft-harness run` on it must pass once the bug is fixed.\n",
        o.file.display(),
        before,
        faults_before,
        steps.len(),
        faults(&steps),
        sh.candidates,
        sh.runs_done
    );
    let shrunk = sh.with_steps(&steps);
    super::includes::write_table(&header, &shrunk, &out)?;
    if let Some(p) = &o.save {
        super::includes::write_table(&header, &shrunk, p)?;
        say(&format!(
            "  saved {} (includes relative to it)\n",
            p.display()
        ));
    }
    say(&format!(
        "shrunk {} steps ({} faults) to {} ({} faults); reproduced in {kh} of {km} runs when kept, then in {hits} of {made} runs\n  wrote {}\n",
        before,
        faults_before,
        steps.len(),
        faults(&steps),
        out.display()
    ));
    Ok(exit::CHECK_FAILED)
}

/// All K runs of the final suite (no early stop), for the reproduction count.
fn full_count(sh: &mut Shrinker, steps: &[Value]) -> Result<(usize, usize), String> {
    let dir = sh.o.out.join("final");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let text = toml::to_string(&sh.with_steps(steps)).map_err(|e| e.to_string())?;
    let files: Vec<PathBuf> = (0..sh.o.runs)
        .map(|r| dir.join(format!("final-r{r}.toml")))
        .collect();
    for f in &files {
        std::fs::write(f, &text).map_err(|e| format!("{}: {e}", f.display()))?;
    }
    let outs = trial::run_batch(
        &files,
        &sh.o.out.join("reports"),
        sh.o.jobs,
        &sh.o.out.join("runner.log"),
    );
    sh.runs_done += outs.len();
    Ok((
        outs.iter().filter(|o| o.is_safety_failure()).count(),
        outs.len(),
    ))
}

/// The output folder of `shrink FILE` by default: `reports/shrink.d/<folder>-<stem>` (for
/// explore's `…/SUITE/SEED/failing.toml`: `SEED-failing`), then `-2`, `-3`, … so an earlier
/// shrink is never overwritten.
pub fn default_out(file: &Path) -> PathBuf {
    let parent = std::path::absolute(file)
        .ok()
        .and_then(|p| Some(p.parent()?.file_name()?.to_string_lossy().to_string()));
    let base = super::default_out("shrink", file);
    let name = base
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let first = match parent {
        Some(p) => base.with_file_name(format!("{p}-{name}")),
        None => base,
    };
    let mut out = first.clone();
    let mut n = 2;
    while out.exists() {
        out = first.with_file_name(format!(
            "{}-{n}",
            first.file_name().unwrap_or_default().to_string_lossy()
        ));
        n += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A "bug" that shows whenever the kill of the leader runs: ddmin cuts everything else but
    /// keeps the leader wait the kill needs (before, it cut the wait too).
    #[test]
    fn ddmin_keeps_the_wait_a_targeted_fault_needs() {
        let t: Table = toml::from_str(
            r#"step = [
              { wait = "leader", timeout_s = 30 },
              { workload = "start" },
              { sleep_s = 1.5 },
              { fault = "kill", target = "leader", label = "f1" },
              { sleep_s = 0.7 },
              { fault = "restart", target = "@f1" },
              { wait = "caught-up" },
            ]"#,
        )
        .unwrap();
        let steps = t["step"].as_array().unwrap().clone();
        let mut tried = 0;
        let out = ddmin(steps, &mut |s| {
            tried += 1;
            assert!(
                s[0].get("wait").is_some(),
                "a candidate without the wait: {s:?}"
            );
            Ok(s.iter()
                .any(|x| x.get("fault").and_then(Value::as_str) == Some("kill")))
        })
        .unwrap();
        let names: Vec<String> = out.iter().map(|s| s.to_string()).collect();
        assert_eq!(out.len(), 2, "{names:?}");
        assert!(
            out[0].get("wait").is_some() && out[1].get("fault").is_some(),
            "{names:?}"
        );
        assert!(tried > 3);
    }
}

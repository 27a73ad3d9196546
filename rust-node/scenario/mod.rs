//! The Rust runner of the shared scenario corpus (`scenarios/*.txt`, format in
//! docs/scenarios.md; issue 16 §5). The Rust core is the reference: with `REWRITE=1` the
//! runner rewrites every expected block from the core's actual output; otherwise a mismatch
//! fails with `file:line`, the directive and a diff.
//!
//! `cargo test --bin rust-node scenarios`

mod grammar;
mod keys;
mod parse;
mod render;
mod tests;

use std::path::{Path, PathBuf};

use crate::core::{Config, Core, LogOp};
use parse::{Case, Directive, Script};

pub use parse::{parse_script, ParseError};

/// The corpus folder: `<repo root>/scenarios`.
pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// The core under test and its config (kept for `restart`).
#[derive(Default)]
struct Runner {
    node: Option<(Config, Core)>,
    /// Set by `step` when the input made the core delete a committed entry.
    truncated_committed: Option<(i32, i32)>,
}

impl Runner {
    fn core(&mut self) -> &mut Core {
        &mut self
            .node
            .as_mut()
            .expect("parse_script puts `init` first")
            .1
    }

    /// Carries out one directive; returns its canonical output (docs/scenarios.md, "Output").
    fn step(&mut self, d: &Directive) -> Vec<String> {
        let mut out = Vec::new();
        let commit_before = self.node.as_ref().map_or(-1, |(_, c)| c.commit_index());
        match d {
            Directive::Init {
                cfg,
                hard_state,
                log,
                now,
                timeout,
            } => {
                let core = Core::new(cfg.clone(), *hard_state, log.clone(), *now, *timeout);
                self.node = Some((cfg.clone(), core));
            }
            Directive::Restart { now, timeout } => {
                let (cfg, old) = self.node.take().expect("parse_script puts `init` first");
                let core = Core::new(
                    cfg.clone(),
                    old.hard_state(),
                    old.log().to_vec(),
                    *now,
                    *timeout,
                );
                self.node = Some((cfg, core));
            }
            Directive::ElectionTimeout { ms } => self.core().set_election_timeout(*ms),
            Directive::Tick { now } => self.core().tick(*now),
            Directive::PreVoteRequest { now, req } => out.push(render::vote_reply(
                &self.core().handle_prevote_request(*now, req),
            )),
            Directive::PreVoteResponse {
                now,
                from,
                term,
                reply,
            } => self
                .core()
                .handle_prevote_response(*now, *from, *term, reply),
            Directive::VoteRequest { now, req } => out.push(render::vote_reply(
                &self.core().handle_vote_request(*now, req),
            )),
            Directive::VoteResponse { now, from, resp } => {
                self.core().handle_vote_response(*now, *from, resp)
            }
            Directive::AppendRequest { now, req } => out.push(render::append_reply(
                &self.core().handle_append_request(*now, req),
            )),
            Directive::AppendResponse {
                now,
                from,
                sent,
                resp,
            } => self.core().handle_append_response(*now, *from, *sent, resp),
            Directive::SendFailure { now, peer, sent } => {
                self.core().handle_send_failure(*now, *peer, *sent)
            }
            Directive::Propose { now, command } => {
                let r = self.core().propose(*now, command.clone());
                out.push(render::propose_reply(&r));
            }
            Directive::ReadIndex { now, ctx } => {
                let r = self.core().read_index(*now, *ctx);
                out.push(render::read_index_reply(&r));
            }
            Directive::State => out.push(render::state(self.core())),
            Directive::Log => render::log(&mut out, self.core()),
            Directive::Progress { peer } => out.push(render::progress(self.core(), *peer)),
        }
        let ready = self.core().take_ready();
        self.truncated_committed = ready.log_ops.iter().find_map(|op| match op {
            LogOp::Truncate { from_index } if *from_index <= commit_before => {
                Some((*from_index, commit_before))
            }
            _ => None,
        });
        render::ready(&mut out, &ready);
        if out.is_empty() {
            out.push("(no effects)".into());
        }
        out
    }
}

/// What running a script produced.
pub struct Run {
    /// The actual output of each case.
    pub outputs: Vec<Vec<String>>,
    /// Inputs no correct cluster sends (`line N: ...`): an AppendEntries that deletes a
    /// committed entry contradicts Leader Completeness (§5.4.3), and the cores need not agree
    /// on it, so the corpus must not contain one.
    pub impossible: Vec<String>,
}

/// Runs every case of a script against a fresh Rust core.
pub fn run_script(script: &Script) -> Run {
    let mut runner = Runner::default();
    let mut run = Run {
        outputs: Vec::new(),
        impossible: Vec::new(),
    };
    for case in &script.cases {
        run.outputs.push(runner.step(&case.directive));
        if let Some((from, commit)) = runner.truncated_committed {
            run.impossible.push(format!(
                "line {}: deletes entries from index {from}, at or below commitIndex {commit} \
                 (no correct leader sends this, §5.4.3)",
                case.line
            ));
        }
    }
    run
}

/// The file text with every expected block replaced by `actual` (inputs, comments and blank
/// lines kept verbatim).
pub fn rewritten(script: &Script, actual: &[Vec<String>]) -> String {
    let mut lines: Vec<&str> = Vec::new();
    let n = script.cases.len();
    for (i, (case, out)) in script.cases.iter().zip(actual).enumerate() {
        lines.extend(case.head.iter().map(String::as_str));
        lines.extend(out.iter().map(String::as_str));
        if i + 1 < n || !script.tail.is_empty() {
            lines.push("");
        }
    }
    lines.extend(script.tail.iter().map(String::as_str));
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

/// A readable line diff (longest common subsequence): `  ` same, `- ` expected only,
/// `+ ` actual only.
pub fn diff(expected: &[String], actual: &[String]) -> String {
    let (n, m) = (expected.len(), actual.len());
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if expected[i] == actual[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < n || j < m {
        if i < n && j < m && expected[i] == actual[j] {
            out += &format!("    {}\n", expected[i]);
            (i, j) = (i + 1, j + 1);
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out += &format!("  + {}\n", actual[j]);
            j += 1;
        } else {
            out += &format!("  - {}\n", expected[i]);
            i += 1;
        }
    }
    out
}

/// Every mismatch of a script, as `file:line: directive` followed by the diff.
pub fn mismatches(file: &str, script: &Script, actual: &[Vec<String>]) -> Vec<String> {
    script
        .cases
        .iter()
        .zip(actual)
        .filter(|(case, out)| case.expected != **out)
        .map(|(case, out)| {
            format!(
                "{file}:{}: {}\n{}",
                case.line,
                directive_text(case),
                diff(&case.expected, out)
            )
        })
        .collect()
}

fn directive_text(case: &Case) -> &str {
    case.head
        .iter()
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map_or("", String::as_str)
}

/// Runs one corpus file. `Ok(None)`: it passes (or was rewritten); `Ok(Some(report))`: it
/// fails; `Err`: it cannot be read or parsed.
pub fn check_file(path: &Path, rewrite: bool) -> Result<Option<String>, String> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
    let script = parse_script(&text).map_err(|e| format!("{name}:{}: {}", e.line, e.msg))?;
    let run = run_script(&script);
    if let Some(first) = run.impossible.first() {
        return Err(format!("{name}: {first}"));
    }
    let actual = run.outputs;
    if rewrite {
        let new = rewritten(&script, &actual);
        if new != text {
            std::fs::write(path, new).map_err(|e| format!("{name}: {e}"))?;
        }
        return Ok(None);
    }
    let bad = mismatches(&name, &script, &actual);
    Ok((!bad.is_empty()).then(|| bad.join("\n")))
}

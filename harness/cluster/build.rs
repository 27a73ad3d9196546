//! Build steps of node kinds: run once per invocation, skipped when the kind's
//! inputs have not changed since the last successful build.
//!
//! A build belongs to the run like a node does: it is started by the node
//! spawner (own process group, parent-death signal, in the kill-everything
//! list of a second Ctrl+C), stopped within the kind's `stop_grace_s` when the
//! run is cancelled, and watched by a [`Watchdog`] that ends its whole group
//! even if the harness is SIGKILLed.
use super::process::{self, Launch, Proc};
use crate::cancel::Cancel;
use crate::spec::Kind;
use std::hash::Hasher;
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub enum Built {
    Skipped,
    Ran {
        secs: f64,
    },
    /// The run was cancelled (Ctrl+C) while it built; `how` says how the build ended.
    Cancelled {
        how: String,
    },
}

#[derive(Debug, thiserror::Error)]
#[error("build of node kind `{kind}` failed ({status}); its output is in {log}:\n{tail}")]
pub struct BuildError {
    pub kind: String,
    pub status: String,
    pub log: String,
    pub tail: String,
}

/// Directories never worth hashing (outputs, caches, VCS data).
const SKIP_DIRS: &[&str] = &[
    "target",
    ".venv",
    "__pycache__",
    ".git",
    "raft_pb",
    "node_modules",
    ".pytest_cache",
];

fn hash_inputs(root: &Path, inputs: &[PathBuf]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let mut files = Vec::new();
    for i in inputs {
        collect(&root.join(i), &mut files);
    }
    files.sort();
    for f in files {
        h.write(f.to_string_lossy().as_bytes());
        if let Ok(bytes) = std::fs::read(&f) {
            h.write(&bytes);
        }
    }
    h.finish()
}

fn collect(p: &Path, out: &mut Vec<PathBuf>) {
    if p.is_dir() {
        if p.file_name()
            .is_some_and(|n| SKIP_DIRS.contains(&n.to_string_lossy().as_ref()))
        {
            return;
        }
        if let Ok(rd) = std::fs::read_dir(p) {
            for e in rd.flatten() {
                collect(&e.path(), out);
            }
        }
    } else if p.is_file() {
        out.push(p.to_path_buf());
    }
}

fn stamp_path(kind: &Kind) -> PathBuf {
    kind.root
        .join("target")
        .join("raft-harness-stamps")
        .join(format!("{}.hash", kind.name))
}

/// Run the kind's build step unless its inputs are unchanged and its program
/// exists. Polls `cancel` every 50 ms: once set, the build's process group
/// gets SIGTERM, then SIGKILL after the kind's `stop_grace_ms`, and the result
/// is [`Built::Cancelled`].
pub fn build(kind: &Kind, log_dir: &Path, cancel: Cancel) -> Result<Built, BuildError> {
    let Some(argv) = &kind.build else {
        return Ok(Built::Skipped);
    };
    let hash = (!kind.build_inputs.is_empty()).then(|| hash_inputs(&kind.root, &kind.build_inputs));
    let stamp = stamp_path(kind);
    // The program may have been deleted (cargo clean) while the sources stayed.
    let program_present = kind
        .command
        .first()
        .is_none_or(|p| !p.contains('/') || p.contains('{') || kind.root.join(p).exists());
    if let Some(h) = hash {
        if program_present
            && std::fs::read_to_string(&stamp).ok().as_deref() == Some(&h.to_string())
        {
            return Ok(Built::Skipped);
        }
    }
    let _ = std::fs::create_dir_all(log_dir);
    let log = log_dir.join(format!("build-{}.log", kind.name));
    let fail = |status: String| BuildError {
        kind: kind.name.clone(),
        status,
        log: log.display().to_string(),
        tail: tail(&log, 25),
    };
    // Truncate the log of an earlier build; the spawner appends to it.
    std::fs::File::create(&log).map_err(|e| fail(format!("cannot write log: {e}")))?;
    let started = Instant::now();
    // Build output is ours and kept whole (no cap).
    let output = super::logcap::NodeLog::new(&log, super::logcap::Cap::total(u64::MAX));
    let mut proc = Proc::spawn(
        Launch {
            argv: argv.clone(),
            env: Vec::new(),
            cwd: kind.root.clone(),
            log: log.clone(),
            output: output.clone(),
            run_id: format!("build-{}", kind.name),
            // Node 0: no node has that id; the marker still names the run's harness.
            node: 0,
        },
        1,
    )
    .map_err(|e| fail(format!("cannot run `{}`: {e}", argv.join(" "))))?;
    let _watchdog = Watchdog::start(proc.pid);
    let how = loop {
        if let Some(how) = proc.exited() {
            break how.to_string();
        }
        if cancel.is_cancelled() {
            // A build runs off the runtime's workers (spawn_blocking, or the runner's thread).
            let how = process::block_on(proc.stop(Duration::from_millis(kind.stop_grace_ms)));
            return Ok(Built::Cancelled { how });
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    // The build's processes are gone: let its output reach the log before it is read.
    let _ = output.finish_after_drain_blocking(Duration::from_secs(1));
    if how != success() {
        return Err(fail(how));
    }
    if let Some(h) = hash {
        // Hash again: the build itself may have touched inputs (e.g. a lock file).
        let h2 = hash_inputs(&kind.root, &kind.build_inputs);
        let _ = std::fs::create_dir_all(stamp.parent().unwrap());
        let _ = std::fs::write(&stamp, if h2 == h { h } else { h2 }.to_string());
    }
    Ok(Built::Ran {
        secs: started.elapsed().as_secs_f64(),
    })
}

/// How a process that exited with code 0 is described.
fn success() -> String {
    use std::os::unix::process::ExitStatusExt;
    process::describe_exit(std::process::ExitStatus::from_raw(0))
}

/// Ends a build's process group when the harness dies, even by SIGKILL (the
/// parent-death signal reaches only the build's first process, not the
/// processes it starts). It is a `sh` in its own process group that blocks
/// reading a pipe whose only writer is the harness: when the harness dies the
/// kernel closes the pipe, `read` returns and the shell SIGKILLs the group.
/// Dropping the watchdog ends it first (no kill of a group that has ended).
struct Watchdog {
    child: std::process::Child,
    _writer: OwnedFd,
}

impl Watchdog {
    fn start(pgid: i32) -> Option<Watchdog> {
        let (reader, writer) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).ok()?;
        let child = Command::new("sh")
            .args([
                "-c",
                "read x; kill -s KILL -- \"-$1\" 2>/dev/null",
                "raft-harness-build-watchdog",
                &pgid.to_string(),
            ])
            .stdin(Stdio::from(reader))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .ok()?;
        Some(Watchdog {
            child,
            _writer: writer,
        })
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The last `n` lines of a text file, for error messages.
pub fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(n);
    lines[start..]
        .iter()
        .map(|l| format!("    | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
#[path = "build_tests.rs"]
mod tests;

//! Build steps of node kinds: run once per invocation, skipped when the kind's
//! inputs have not changed since the last successful build.
use crate::spec::Kind;
use std::hash::Hasher;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[derive(Debug)]
pub enum Built {
    Skipped,
    Ran { secs: f64 },
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

/// Run the kind's build step unless its inputs are unchanged and its program exists.
pub fn build(kind: &Kind, log_dir: &Path) -> Result<Built, BuildError> {
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
    let out = std::fs::File::create(&log).map_err(|e| fail(format!("cannot write log: {e}")))?;
    let err = out.try_clone().map_err(|e| fail(e.to_string()))?;
    let started = std::time::Instant::now();
    let prog = if argv[0].contains('/') {
        kind.root.join(&argv[0])
    } else {
        PathBuf::from(&argv[0])
    };
    let status = Command::new(prog)
        .args(&argv[1..])
        .current_dir(&kind.root)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .status()
        .map_err(|e| fail(format!("cannot run `{}`: {e}", argv.join(" "))))?;
    if !status.success() {
        return Err(fail(super::process::describe_exit(status)));
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

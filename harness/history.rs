//! The client history of a run: one record per client operation.
//!
//! This is the data the workload produces and the client-side checkers
//! (durability, linearizability) consume. It is written as `history.jsonl` in
//! every report, one `Op` per line, so `raft-harness check` can re-judge a run.
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};
use std::path::Path;

/// What the client knows about an operation's effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Completed and took effect; `result` is what it returned.
    Ok,
    /// Certainly had no effect.
    Fail,
    /// Unknown: may take effect at any time after invocation, or never.
    Info,
}

/// One client operation. Times are microseconds since the start of the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Op {
    /// Unique within the history, in invocation order.
    pub id: u64,
    /// Client (logical process) that issued it; a client has one op in flight at a time.
    pub client: u32,
    /// Node the request was sent to.
    pub node: i32,
    /// The command text, e.g. `SET k3 17`, `GET k3`, `CAS k3 17 18`.
    pub command: String,
    pub invoke_us: u64,
    /// None when the client never heard back (treated like `info`).
    #[serde(default)]
    pub complete_us: Option<u64>,
    pub outcome: Outcome,
    /// Result returned on `ok` (GET value, CAS "true"/"false"); None = key missing / no result.
    #[serde(default)]
    pub result: Option<String>,
    /// Free-form detail from the node (its message), for people reading reports.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {msg}")]
    Parse {
        path: String,
        line: usize,
        msg: String,
    },
}

pub fn write_jsonl(path: &Path, ops: &[Op]) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    for op in ops {
        serde_json::to_writer(&mut w, op)?;
        w.write_all(b"\n")?;
    }
    w.flush()
}

pub fn read_jsonl(path: &Path) -> Result<Vec<Op>, HistoryError> {
    let p = path.display().to_string();
    let f = std::fs::File::open(path).map_err(|source| HistoryError::Io {
        path: p.clone(),
        source,
    })?;
    let mut ops = Vec::new();
    for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|source| HistoryError::Io {
            path: p.clone(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let op: Op = serde_json::from_str(&line).map_err(|e| HistoryError::Parse {
            path: p.clone(),
            line: i + 1,
            msg: e.to_string(),
        })?;
        if let Some(c) = op.complete_us {
            if c < op.invoke_us {
                return Err(HistoryError::Parse {
                    path: p.clone(),
                    line: i + 1,
                    msg: format!(
                        "op {} completes ({c}) before it is invoked ({})",
                        op.id, op.invoke_us
                    ),
                });
            }
        }
        ops.push(op);
    }
    Ok(ops)
}

//! Parser for Jepsen's `jepsen.util` log lines of a compare-and-set register
//! test (the etcd histories Porcupine and Knossos ship), into operations of
//! [`CasRegister`](super::CasRegister). Pure: takes the log text.
//!
//! After the `jepsen.util -` marker a line holds `PROCESS TYPE F VALUE`
//! (tab- or space-separated), e.g. `3 :ok :cas [1 4]`. Times are line
//! numbers, which keeps the real-time order of the log.
use super::{Operation, Outcome, RegisterOp, RegisterOut};
use std::collections::HashMap;

/// One clear problem with a log line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {msg}")]
pub struct ParseError {
    pub line: usize,
    pub msg: String,
}

type RegOp = Operation<RegisterOp<i64>, RegisterOut<i64>>;

fn int(s: &str, line: usize) -> Result<i64, ParseError> {
    s.parse().map_err(|_| ParseError {
        line,
        msg: format!("expected an integer, found {s:?}"),
    })
}

fn opt_int(s: &str, line: usize) -> Result<Option<i64>, ParseError> {
    if s == "nil" {
        Ok(None)
    } else {
        int(s, line).map(Some)
    }
}

/// The input of an `:invoke` of function `f` with `value` (line `line`).
fn parse_input(f: &str, value: &str, line: usize) -> Result<RegisterOp<i64>, ParseError> {
    let bad = |msg: String| ParseError { line, msg };
    match f {
        ":read" => Ok(RegisterOp::Read),
        ":write" => Ok(RegisterOp::Write(int(value, line)?)),
        ":cas" => {
            let cas_err = || bad(format!("cas value must be [old new], found {value:?}"));
            let inner = value
                .strip_prefix('[')
                .and_then(|v| v.strip_suffix(']'))
                .ok_or_else(cas_err)?;
            let mut it = inner.split_whitespace();
            match (it.next(), it.next(), it.next()) {
                (Some(a), Some(b), None) => Ok(RegisterOp::Cas(int(a, line)?, int(b, line)?)),
                _ => Err(cas_err()),
            }
        }
        other => Err(bad(format!("unknown function {other:?}"))),
    }
}

/// Completes the open `op` with a `:ok`/`:fail`/`:info` line (`kind`, `value`).
fn complete(op: &mut RegOp, kind: &str, value: &str, line: usize) -> Result<(), ParseError> {
    match kind {
        ":ok" => {
            op.status = Outcome::Ok;
            op.ret = Some(line as u64);
            op.output = match op.input {
                RegisterOp::Read => RegisterOut::Read(opt_int(value, line)?),
                RegisterOp::Cas(..) => RegisterOut::Cas(true),
                RegisterOp::Write(_) | RegisterOp::Delete => RegisterOut::Done,
            };
        }
        ":fail" => {
            op.status = Outcome::Fail;
            op.ret = Some(line as u64);
        }
        ":info" => {}
        other => {
            return Err(ParseError {
                line,
                msg: format!("unknown type {other:?}"),
            })
        }
    }
    Ok(())
}

/// Parses a whole log. Invocations never completed stay `Info`.
pub fn parse_jepsen_log(text: &str) -> Result<Vec<RegOp>, ParseError> {
    const MARK: &str = "jepsen.util - ";
    let mut ops: Vec<RegOp> = Vec::new();
    let mut open: HashMap<u64, usize> = HashMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let Some(pos) = raw.find(MARK) else { continue };
        let rest = &raw[pos + MARK.len()..];
        let mut words = rest.split_whitespace();
        let (Some(process), Some(kind), Some(f)) = (words.next(), words.next(), words.next())
        else {
            return Err(ParseError {
                line,
                msg: format!("expected PROCESS TYPE F VALUE, found {rest:?}"),
            });
        };
        let value = words.collect::<Vec<_>>().join(" ");
        let Ok(process) = process.parse::<u64>() else {
            // e.g. the `:nemesis` process: not a client operation.
            continue;
        };
        let bad = |msg: String| ParseError { line, msg };
        if kind == ":invoke" {
            let input = parse_input(f, &value, line)?;
            if open.contains_key(&process) {
                return Err(bad(format!(
                    "process {process} invokes while an operation is open"
                )));
            }
            open.insert(process, ops.len());
            ops.push(Operation {
                id: ops.len() as u64,
                client: process,
                call: line as u64,
                ret: None,
                status: Outcome::Info,
                input,
                output: RegisterOut::Unknown,
            });
            continue;
        }
        let Some(idx) = open.remove(&process) else {
            return Err(bad(format!(
                "{kind} for process {process} with no open invocation"
            )));
        };
        complete(&mut ops[idx], kind, &value, line)?;
    }
    Ok(ops)
}

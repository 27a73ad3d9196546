//! Parser for the EDN-like key-value histories of Porcupine's `kv` test data,
//! one map per line: `{:process 0, :type :ok, :f :get, :key "3", :value "x 0 1 y"}`,
//! into operations of [`AppendKv`](super::AppendKv). Pure: takes the text.
//! Times are line numbers.
use super::jepsen::ParseError;
use super::{AppendKvOp, AppendOp, AppendOut, Operation, Outcome};
use std::collections::HashMap;

type KvOperation = Operation<AppendKvOp, AppendOut>;

#[derive(Debug, PartialEq)]
enum Val {
    Nil,
    Word(String),
    Str(String),
}

/// Reads `{:k v, :k v, ...}` into pairs.
fn fields(s: &str) -> Result<Vec<(String, Val)>, String> {
    let s = s.trim();
    let body = s
        .strip_prefix('{')
        .and_then(|b| b.strip_suffix('}'))
        .ok_or("a line must be a {...} map")?;
    let mut out = Vec::new();
    let mut chars = body.chars().peekable();
    loop {
        while matches!(chars.peek(), Some(c) if c.is_whitespace() || *c == ',') {
            chars.next();
        }
        let Some(c) = chars.next() else { break };
        if c != ':' {
            return Err(format!("expected a :keyword, found {c:?}"));
        }
        let key: String = std::iter::from_fn(|| chars.next_if(|c| !c.is_whitespace())).collect();
        while matches!(chars.peek(), Some(c) if c.is_whitespace()) {
            chars.next();
        }
        let val = if chars.peek() == Some(&'"') {
            chars.next();
            let mut v = String::new();
            loop {
                match chars.next() {
                    None => return Err(format!("unterminated string for :{key}")),
                    Some('"') => break,
                    Some('\\') => v.extend(chars.next()),
                    Some(c) => v.push(c),
                }
            }
            Val::Str(v)
        } else {
            let w: String =
                std::iter::from_fn(|| chars.next_if(|c| !c.is_whitespace() && *c != ',')).collect();
            if w.is_empty() {
                return Err(format!("missing value for :{key}"));
            }
            if w == "nil" {
                Val::Nil
            } else {
                Val::Word(w)
            }
        };
        out.push((key, val));
    }
    Ok(out)
}

/// One line's fields: `:process`, `:type`, `:f` (required), `:key`, `:value`.
struct Line {
    process: String,
    kind: String,
    f: String,
    key: Option<String>,
    value: Option<Val>,
}

fn parse_line(raw: &str, line: usize) -> Result<Line, ParseError> {
    let bad = |msg: String| ParseError { line, msg };
    let (mut process, mut kind, mut f, mut key, mut value) = (None, None, None, None, None);
    for (k, v) in fields(raw).map_err(bad)? {
        match (k.as_str(), v) {
            ("process", Val::Word(w)) => process = Some(w),
            ("type", Val::Word(w)) => kind = Some(w),
            ("f", Val::Word(w)) => f = Some(w),
            ("key", Val::Str(s)) => key = Some(s),
            ("value", v) => value = Some(v),
            (k, v) => return Err(bad(format!("unexpected field :{k} {v:?}"))),
        }
    }
    let (Some(process), Some(kind), Some(f)) = (process, kind, f) else {
        return Err(bad("a line needs :process, :type and :f".to_string()));
    };
    Ok(Line {
        process,
        kind,
        f,
        key,
        value,
    })
}

/// Parses a whole history. Invocations never completed stay `Info`.
pub fn parse_kv_history(text: &str) -> Result<Vec<KvOperation>, ParseError> {
    let mut ops: Vec<KvOperation> = Vec::new();
    let mut open: HashMap<String, usize> = HashMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let bad = |msg: String| ParseError { line, msg };
        let Line {
            process,
            kind,
            f,
            key,
            value,
        } = parse_line(raw, line)?;
        let text_value = |v: Option<Val>| match v {
            Some(Val::Str(s)) => Ok(s),
            other => Err(bad(format!("{f} needs a string :value, found {other:?}"))),
        };
        if kind == ":invoke" {
            let key = key.ok_or_else(|| bad("an invocation needs a :key".to_string()))?;
            let op = match f.as_str() {
                ":get" => AppendOp::Get,
                ":put" => AppendOp::Put(text_value(value)?),
                ":append" => AppendOp::Append(text_value(value)?),
                other => return Err(bad(format!("unknown function {other:?}"))),
            };
            if open.contains_key(&process) {
                return Err(bad(format!(
                    "process {process} invokes while an operation is open"
                )));
            }
            open.insert(process.clone(), ops.len());
            ops.push(Operation {
                id: ops.len() as u64,
                client: process.parse().unwrap_or(u64::MAX),
                call: line as u64,
                ret: None,
                status: Outcome::Info,
                input: AppendKvOp { key, op },
                output: AppendOut::Unknown,
            });
            continue;
        }
        let Some(idx) = open.remove(&process) else {
            return Err(bad(format!(
                "{kind} for process {process} with no open invocation"
            )));
        };
        let is_get = ops[idx].input.op == AppendOp::Get;
        let op = &mut ops[idx];
        match kind.as_str() {
            ":ok" => {
                op.status = Outcome::Ok;
                op.ret = Some(line as u64);
                op.output = if is_get {
                    AppendOut::Value(text_value(value)?)
                } else {
                    AppendOut::Done
                };
            }
            ":fail" => {
                op.status = Outcome::Fail;
                op.ret = Some(line as u64);
            }
            ":info" => {}
            other => return Err(bad(format!("unknown type {other:?}"))),
        }
    }
    Ok(ops)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_line() {
        let f = fields(r#"{:process 4, :type :ok, :f :get, :key "3", :value "a \"b\""}"#).unwrap();
        assert_eq!(f[0], ("process".into(), Val::Word("4".into())));
        assert_eq!(f[3], ("key".into(), Val::Str("3".into())));
        assert_eq!(f[4], ("value".into(), Val::Str("a \"b\"".into())));
        assert!(fields("{:process}").is_err());
        assert!(fields("nope").is_err());
    }
}

//! The client history of a run: one record per client operation.
//!
//! This is the data the workload produces and the client-side checkers
//! (durability, linearizability) consume. It is written as `history.jsonl` in
//! every report, one `Op` per line, so `raft-harness check` can re-judge a run.
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::Path;

mod command;
pub use command::Command;

/// What the client knows about an operation's effect: Jepsen's ok/fail/info. The one
/// enum for it, also in the linearizability checker's operations (`lin::Operation`).
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

impl Op {
    /// The key-value command of this op ([`Command::parse`]), `None` for other text.
    pub fn kv(&self) -> Option<Command<'_>> {
        Command::parse(&self.command)
    }
}

/// Why a history file cannot be read. Display: `cannot read PATH: ...` or
/// `PATH:LINE: problem`, every quoted value bounded by [`shorten`].
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {problem}")]
    Line {
        path: String,
        /// 1-based line number in the file.
        line: usize,
        problem: LineError,
    },
}

/// What is wrong with one line of a `history.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error("not valid UTF-8 (byte {byte} of the line)")]
    Utf8 { byte: usize },
    /// The line is not one JSON `Op`; `msg` is serde_json's message with every
    /// quoted value shortened, `column` is 1-based (in bytes).
    #[error("column {column}: {msg}")]
    Json { column: usize, msg: String },
    /// The line is JSON but not an object (an array, a number, ...): `found`
    /// names what it is (a string is quoted, shortened); `column` is 1-based (in bytes).
    #[error(
        "column {column}: found {found}, expected one operation per line: a JSON object {OP_SHAPE}"
    )]
    NotAnObject { column: usize, found: String },
    #[error("op {id} completes ({complete_us}) before it is invoked ({invoke_us})")]
    CompletesBeforeInvoked {
        id: u64,
        invoke_us: u64,
        complete_us: u64,
    },
    /// Operation ids are unique within a history: the checkers, the reports and
    /// the explanations of a verdict name operations by id.
    #[error("duplicate operation id {id} (first used on line {first_line})")]
    DuplicateId { id: u64, first_line: usize },
    /// The op's `command` is not one [`Command::parse`] reads (`command` shortened).
    #[error(
        "op {id}: command {command:?} is not a key-value command (`GET k`, `SET k v`, `CAS k old new`, `DEL k`)"
    )]
    UnknownCommand { id: u64, command: String },
}

/// The shape of one line, for error messages.
const OP_SHAPE: &str = r#"such as {"id":0,"client":1,"node":1,"command":"SET k 1","invoke_us":10,"complete_us":20,"outcome":"ok","result":"OK"}"#;

/// What the JSON value `text` (trimmed) is when it is not an object, from its
/// first character; a string is quoted, shortened by [`shorten`]. None for `{`
/// and for text that is no JSON value (serde_json reports those).
fn not_an_object(text: &str) -> Option<String> {
    Some(match text.as_bytes().first()? {
        b'[' => "a JSON array".into(),
        b'"' => match serde_json::from_str::<String>(text) {
            Ok(v) => format!(
                "the JSON string {}",
                serde_json::to_string(&shorten(&v)).unwrap_or_default()
            ),
            // Not one whole string: serde_json names the syntax error.
            Err(_) => return None,
        },
        b'0'..=b'9' | b'-' => "a JSON number".into(),
        b't' | b'f' => "a JSON boolean".into(),
        b'n' => "JSON null".into(),
        _ => return None,
    })
}

/// The most characters of one value quoted in an error message.
pub const QUOTE_CHARS: usize = 120;

/// `s` itself when it has at most [`QUOTE_CHARS`] characters; else its first
/// [`QUOTE_CHARS`] characters (never a part of one) followed by `… (N bytes)`,
/// N being the length of all of `s` in bytes.
pub fn shorten(s: &str) -> Cow<'_, str> {
    match s.char_indices().nth(QUOTE_CHARS) {
        None => Cow::Borrowed(s),
        Some((cut, _)) => Cow::Owned(format!("{}… ({} bytes)", &s[..cut], s.len())),
    }
}

pub fn write_jsonl(path: &Path, ops: &[Op]) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    for op in ops {
        serde_json::to_writer(&mut w, op)?;
        w.write_all(b"\n")?;
    }
    w.flush()
}

/// Reads a `history.jsonl`: one [`Op`] per line, blank lines ignored.
///
/// Errors: the file cannot be opened or read ([`HistoryError::Io`]); a line
/// that is not UTF-8, not one `Op`, completes before it is invoked, or reuses
/// an id of an earlier line ([`HistoryError::Line`], naming the line).
pub fn read_jsonl(path: &Path) -> Result<Vec<Op>, HistoryError> {
    let p = path.display().to_string();
    let io = |source| HistoryError::Io {
        path: p.clone(),
        source,
    };
    let mut r = std::io::BufReader::new(std::fs::File::open(path).map_err(io)?);
    let mut ops = Vec::new();
    let mut first_line: HashMap<u64, usize> = HashMap::new();
    let mut buf = Vec::new();
    let mut line = 0;
    loop {
        buf.clear();
        if r.read_until(b'\n', &mut buf).map_err(io)? == 0 {
            return Ok(ops);
        }
        line += 1;
        let at = |problem| HistoryError::Line {
            path: p.clone(),
            line,
            problem,
        };
        let Some(op) = parse_line(&buf).map_err(at)? else {
            continue;
        };
        if let Some(&first_line) = first_line.get(&op.id) {
            return Err(at(LineError::DuplicateId {
                id: op.id,
                first_line,
            }));
        }
        first_line.insert(op.id, line);
        ops.push(op);
    }
}

/// One line (with or without its newline): `None` when blank.
fn parse_line(bytes: &[u8]) -> Result<Option<Op>, LineError> {
    let text = std::str::from_utf8(bytes).map_err(|e| LineError::Utf8 {
        byte: e.valid_up_to() + 1,
    })?;
    let text = text.strip_suffix('\n').unwrap_or(text);
    let text = text.strip_suffix('\r').unwrap_or(text);
    if text.trim().is_empty() {
        return Ok(None);
    }
    let start = text.len() - text.trim_start().len();
    if let Some(found) = not_an_object(text.trim()) {
        return Err(LineError::NotAnObject {
            column: start + 1,
            found,
        });
    }
    let op: Op = serde_json::from_str(text).map_err(|e| json_error(text, &e))?;
    match op.complete_us {
        Some(c) if c < op.invoke_us => Err(LineError::CompletesBeforeInvoked {
            id: op.id,
            invoke_us: op.invoke_us,
            complete_us: c,
        }),
        _ if op.kv().is_none() => Err(LineError::UnknownCommand {
            id: op.id,
            command: shorten(&op.command).into_owned(),
        }),
        _ => Ok(Some(op)),
    }
}

/// serde_json's message for `e` (an error parsing `text` as an [`Op`]), with
/// every value it quotes from `text` shortened by [`shorten`].
///
/// Syntax errors quote nothing. A data error (wrong type, unknown field or
/// outcome) quotes the offending value: `text` is parsed again with every
/// string literal shortened (same fields, same order, so the same error) and
/// the message of that is kept, with the column of the original.
fn json_error(text: &str, e: &serde_json::Error) -> LineError {
    let column = e.column();
    let full = e.to_string();
    let position = format!(" at line {} column {column}", e.line());
    let msg = full.strip_suffix(&position).unwrap_or(&full);
    let bounded = match e.classify() {
        serde_json::error::Category::Data => {
            let short = shorten_json_strings(text);
            match serde_json::from_str::<Op>(&short) {
                Err(b) if b.classify() == serde_json::error::Category::Data => {
                    let position = format!(" at line {} column {}", b.line(), b.column());
                    let m = b.to_string();
                    m.strip_suffix(&position).unwrap_or(&m).to_string()
                }
                _ => shorten(msg).into_owned(),
            }
        }
        _ => shorten(msg).into_owned(),
    };
    LineError::Json {
        column,
        msg: bounded,
    }
}

/// `text` with every JSON string literal of more than [`QUOTE_CHARS`]
/// characters replaced by the literal of its [`shorten`]ed value. Literals that
/// do not decode (unterminated, bad escape) are kept as they are.
fn shorten_json_strings(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find('"') {
        out.push_str(&rest[..start]);
        let (literal, tail) = rest[start..].split_at(literal_len(&rest[start..]));
        match serde_json::from_str::<String>(literal) {
            Ok(s) if s.chars().nth(QUOTE_CHARS).is_some() => {
                out.push_str(&serde_json::to_string(&shorten(&s)).unwrap_or_default())
            }
            _ => out.push_str(literal),
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// Length in bytes of the string literal at the start of `s` (which starts
/// with `"`), closing quote included; all of `s` when it is not closed. Always
/// a char boundary: it ends just after an ASCII `"`.
fn literal_len(s: &str) -> usize {
    let b = s.as_bytes();
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    s.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_that_is_not_key_value_is_refused_with_its_text() {
        let line =
            br#"{"id":4,"client":1,"node":1,"command":"FROB k0","invoke_us":1,"outcome":"fail"}"#;
        let e = parse_line(line).unwrap_err();
        assert_eq!(
            e,
            LineError::UnknownCommand {
                id: 4,
                command: "FROB k0".into()
            }
        );
        assert!(e.to_string().contains("\"FROB k0\""), "{e}");
        let ok =
            br#"{"id":4,"client":1,"node":1,"command":"GET k0","invoke_us":1,"outcome":"fail"}"#;
        assert!(parse_line(ok).unwrap().is_some());
    }

    #[test]
    fn shorten_cuts_by_characters() {
        assert_eq!(shorten("abc"), "abc");
        let exact = "é".repeat(QUOTE_CHARS);
        assert_eq!(shorten(&exact), exact.as_str());
        for c in ["a", "é", "€", "🦀"] {
            // One ASCII byte first, so that byte QUOTE_CHARS falls inside a char.
            let s = format!("x{}", c.repeat(1000));
            let short = shorten(&s);
            let expected = format!("x{}… ({} bytes)", c.repeat(QUOTE_CHARS - 1), s.len());
            assert_eq!(short, expected.as_str());
        }
    }

    #[test]
    fn long_literals_are_shortened_and_short_ones_kept() {
        let long = "\\u00e9".repeat(200);
        let text = format!(r#"{{"id":"{long}","k\"ey":"ok\\"}} "tail"#);
        let out = shorten_json_strings(&text);
        let expected = format!(
            r#"{{"id":"{}… (400 bytes)","k\"ey":"ok\\"}} "tail"#,
            "é".repeat(QUOTE_CHARS)
        );
        assert_eq!(out, expected);
    }

    #[test]
    fn a_data_error_quotes_a_bounded_value_with_the_original_column() {
        let text = format!(r#"{{"client":1,"id":"{}"}}"#, "€".repeat(5000));
        let e = parse_line(text.as_bytes()).unwrap_err();
        let LineError::Json { column, msg } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(*column, text.len() - 1);
        let quoted = format!("\"{}… (15000 bytes)\"", "€".repeat(QUOTE_CHARS));
        assert_eq!(msg, &format!("invalid type: string {quoted}, expected u64"));
    }

    #[test]
    fn a_line_that_is_not_an_object_says_what_it_is_and_what_is_expected() {
        for (line, found, column) in [
            ("[]", "a JSON array", 1),
            ("  [1, 2]", "a JSON array", 3),
            ("42", "a JSON number", 1),
            ("\"op\"", "the JSON string \"op\"", 1),
            ("null", "JSON null", 1),
            ("true", "a JSON boolean", 1),
        ] {
            let e = parse_line(line.as_bytes()).unwrap_err();
            let found = found.to_string();
            assert_eq!(e, LineError::NotAnObject { column, found }, "{line}");
            let text = e.to_string();
            assert!(!text.contains("invalid length"), "{text}");
            assert!(
                text.contains("expected one operation per line: a JSON object"),
                "{text}"
            );
            assert!(text.contains(r#""outcome":"ok""#), "{text}");
        }
        // Objects still get serde's message (a missing field is named).
        let e = parse_line(br#"{"id":1}"#).unwrap_err();
        assert!(e.to_string().contains("missing field `client`"), "{e}");
    }
}

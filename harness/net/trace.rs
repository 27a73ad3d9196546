//! `messages.jsonl`: one line per RaftService call that crossed an RPC-aware link
//! (`[cluster] network = "rpc"`), written while the run goes on.
//!
//! Each [`Message`] holds the link, the method, the request and reply fields the wire checks
//! need (decoded from a copy; the bytes themselves are forwarded unchanged), the times on the
//! run's clock (µs since the run started), and what the harness did to the call ([`Fate`]).
//! The format is documented in `docs/reports.md`.
use super::proxy::NodeId;
use crate::proto;
use prost::Message as _;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use tokio::sync::mpsc;

/// Records a writer may hold before senders wait (back-pressure instead of unbounded memory).
pub const BUFFER: usize = 4096;

/// A RaftService method, from the gRPC path `/raft.RaftService/<Method>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    RequestVote,
    /// Raft thesis §9.6: a grant is not a vote and changes nothing on the receiver.
    PreVote,
    AppendEntries,
    /// A client request a node forwards to the leader it knows.
    ClientRequest,
    GetStatus,
    GetLog,
    /// A method this harness does not know: forwarded, recorded by name only.
    Other,
}

impl Method {
    /// The method of a gRPC path; unknown services and methods are [`Method::Other`].
    pub fn from_path(path: &str) -> Method {
        match path.strip_prefix("/raft.RaftService/") {
            Some("RequestVote") => Method::RequestVote,
            Some("PreVote") => Method::PreVote,
            Some("AppendEntries") => Method::AppendEntries,
            Some("ClientRequest") => Method::ClientRequest,
            Some("GetStatus") => Method::GetStatus,
            Some("GetLog") => Method::GetLog,
            _ => Method::Other,
        }
    }
}

/// The request fields the checks use. Indexes are 0-based, -1 = none (as on the wire).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// RequestVote or PreVote (Raft §5.2, thesis §9.6).
    Vote {
        term: i64,
        candidate: i64,
        last_log_index: i64,
        last_log_term: i64,
    },
    /// AppendEntries (Raft §5.3); `entries` = 0 is a heartbeat. `first_*`/`last_*` give the
    /// index and term of the first and last entry carried (absent for a heartbeat).
    Append {
        term: i64,
        leader: i64,
        prev_log_index: i64,
        prev_log_term: i64,
        entries: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        first: Option<(i64, i64)>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last: Option<(i64, i64)>,
        leader_commit: i64,
    },
    /// A forwarded client command.
    Client { command: String },
}

/// The reply fields the checks use.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Reply {
    Vote {
        term: i64,
        granted: bool,
    },
    Append {
        term: i64,
        success: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        conflict_index: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        conflict_term: Option<i64>,
    },
    Client {
        success: bool,
    },
}

/// What the harness did to a call. [`strum::VariantArray`] lists the fates in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, strum::VariantArray)]
#[serde(rename_all = "kebab-case")]
pub enum Fate {
    /// Forwarded at once.
    Pass,
    /// Forwarded after a delay (link delay or a message fault).
    Delayed,
    /// Held after later calls on the same link were forwarded (message fault `reorder`).
    Reordered,
    /// Never forwarded: the caller waits for its own deadline (message fault `drop-request`).
    DroppedRequest,
    /// Forwarded and answered, but the reply was held from the caller (`drop-reply`).
    DroppedReply,
    /// The link is blackholed (`net` step): held like a lost packet.
    Blackholed,
    /// The link rejects (`net` step): the caller gets UNAVAILABLE at once.
    Rejected,
    /// Lost to the link's `loss` rate: held like a lost packet.
    Lost,
    /// A second copy the harness sent later (message fault `duplicate`); its reply goes
    /// nowhere.
    Duplicate,
}

impl Fate {
    /// True when the receiver got the request.
    pub fn delivered(self) -> bool {
        matches!(
            self,
            Fate::Pass | Fate::Delayed | Fate::Reordered | Fate::DroppedReply | Fate::Duplicate
        )
    }
    /// True when the caller got the reply (if the receiver answered).
    pub fn answered(self) -> bool {
        matches!(self, Fate::Pass | Fate::Delayed | Fate::Reordered)
    }
}

/// One call on one directed link.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Order in which calls reached the links, from 0.
    pub id: u64,
    pub from: NodeId,
    pub to: NodeId,
    pub method: Method,
    /// The gRPC path, only for [`Method::Other`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Absent when the bytes did not decode as the method's request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub req: Option<Request>,
    /// Absent when there was no reply (error, dropped request) or it did not decode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<Reply>,
    /// The gRPC status code name of a failed call (e.g. `Unavailable`); absent = OK.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// µs since the run started: the call reached the link...
    pub sent_us: u64,
    /// ...was handed to the receiver...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_us: Option<u64>,
    /// ...and its reply (or error) came back to the link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replied_us: Option<u64>,
    pub fate: Fate,
    /// Delay added before delivery, ms.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub delay_ms: u64,
    /// The message fault that acted on the call (its index among the run's message faults).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<u32>,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// Decodes a copy of a request's bytes; None when they are not the method's request.
pub fn decode_request(method: Method, bytes: &[u8]) -> Option<Request> {
    match method {
        Method::RequestVote | Method::PreVote => {
            let r = proto::RequestVoteRequest::decode(bytes).ok()?;
            Some(Request::Vote {
                term: r.term.into(),
                candidate: r.candidate_id.into(),
                last_log_index: r.last_log_index.into(),
                last_log_term: r.last_log_term.into(),
            })
        }
        Method::AppendEntries => {
            let r = proto::AppendEntriesRequest::decode(bytes).ok()?;
            let pos = |e: &proto::LogEntry| (i64::from(e.index), i64::from(e.term));
            Some(Request::Append {
                term: r.term.into(),
                leader: r.leader_id.into(),
                prev_log_index: r.prev_log_index.into(),
                prev_log_term: r.prev_log_term.into(),
                entries: r.entries.len() as u32,
                first: r.entries.first().map(pos),
                last: r.entries.last().map(pos),
                leader_commit: r.leader_commit.into(),
            })
        }
        Method::ClientRequest => {
            let r = proto::ClientRequestMessage::decode(bytes).ok()?;
            Some(Request::Client { command: r.command })
        }
        _ => None,
    }
}

/// Decodes a copy of a reply's bytes; None when they are not the method's reply.
pub fn decode_reply(method: Method, bytes: &[u8]) -> Option<Reply> {
    match method {
        Method::RequestVote | Method::PreVote => {
            let r = proto::RequestVoteResponse::decode(bytes).ok()?;
            Some(Reply::Vote {
                term: r.term.into(),
                granted: r.vote_granted,
            })
        }
        Method::AppendEntries => {
            let r = proto::AppendEntriesResponse::decode(bytes).ok()?;
            Some(Reply::Append {
                term: r.term.into(),
                success: r.success,
                conflict_index: r.conflict_index.map(i64::from),
                conflict_term: r.conflict_term.map(i64::from),
            })
        }
        Method::ClientRequest => {
            let r = proto::ClientResponseMessage::decode(bytes).ok()?;
            Some(Reply::Client { success: r.success })
        }
        _ => None,
    }
}

/// The sending half of a trace: cheap to clone; records go to one writer task through a
/// bounded channel ([`BUFFER`]).
#[derive(Clone, Debug)]
pub struct TraceSink {
    tx: mpsc::Sender<Message>,
}

impl TraceSink {
    /// Starts a writer task appending to `path` (created, truncated). Returns the sink and
    /// the task, which ends (flushing) once every sink clone is dropped; its result is the
    /// number of records written.
    pub fn create(path: &Path) -> std::io::Result<(TraceSink, tokio::task::JoinHandle<u64>)> {
        let file = std::fs::File::create(path)?;
        let (tx, mut rx) = mpsc::channel::<Message>(BUFFER);
        let task = tokio::task::spawn_blocking(move || {
            let mut out = std::io::BufWriter::with_capacity(64 * 1024, file);
            let mut n = 0u64;
            while let Some(m) = rx.blocking_recv() {
                if serde_json::to_writer(&mut out, &m).is_ok() && out.write_all(b"\n").is_ok() {
                    n += 1;
                }
                if rx.is_empty() {
                    let _ = out.flush();
                }
            }
            let _ = out.flush();
            n
        });
        Ok((TraceSink { tx }, task))
    }

    /// A sink whose records go to `tx` (tests).
    pub fn channel(tx: mpsc::Sender<Message>) -> TraceSink {
        TraceSink { tx }
    }

    /// Records one call; waits while the writer is [`BUFFER`] records behind.
    pub async fn record(&self, m: Message) {
        let _ = self.tx.send(m).await;
    }
}

/// What the run wrote to `messages.jsonl`: its calls (records) and bytes, kept in evidence.json
/// so that `check RUN_DIR` can tell a trace that lost its tail, or lines, from the one the run
/// judged (the wire checks would pass on what is left).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceSize {
    pub calls: u64,
    pub bytes: u64,
}

impl TraceSize {
    /// The size of the trace at `path` holding `calls` records; None when it cannot be read.
    pub fn of(path: &Path, calls: usize) -> Option<TraceSize> {
        let bytes = std::fs::metadata(path).ok()?.len();
        Some(TraceSize {
            calls: calls as u64,
            bytes,
        })
    }

    /// Why the trace at `path`, read back as `calls` records, is not the one recorded
    /// (`self`); None when it is.
    pub fn differs(&self, path: &Path, calls: usize) -> Option<String> {
        let now = TraceSize::of(path, calls)?;
        (now != *self).then(|| {
            format!(
                "{}: holds {} calls ({} bytes) but the run wrote {} calls ({} bytes) (evidence.json): the trace was cut, extended or edited (an edit that keeps the size is not detected)",
                path.display(),
                now.calls,
                now.bytes,
                self.calls,
                self.bytes
            )
        })
    }
}

/// Reads `messages.jsonl`. A torn last line (the harness was killed mid-write) is dropped;
/// any other malformed line is a problem `path:line: error`.
pub fn read(path: &Path) -> (Vec<Message>, Vec<String>) {
    let Ok(text) = std::fs::read_to_string(path) else {
        return (Vec::new(), Vec::new());
    };
    let torn_tail = !text.ends_with('\n');
    let last = text.lines().count();
    parse_lines(path, &text, |line| torn_tail && line == last, |_| None)
}

/// Every record of `text`; a line that is not one is a problem `path:LINE: error` unless
/// `forgive(LINE)`.
fn parse_lines(
    path: &Path,
    text: &str,
    forgive: impl Fn(usize) -> bool,
    invalid: impl Fn(&Message) -> Option<String>,
) -> (Vec<Message>, Vec<String>) {
    let mut messages = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Message>(line) {
            Ok(m) => match invalid(&m) {
                None => messages.push(m),
                Some(why) => problems.push(format!("{}:{}: {why}", path.display(), i + 1)),
            },
            Err(_) if forgive(i + 1) => {}
            Err(e) => problems.push(format!("{}:{}: {e}", path.display(), i + 1)),
        }
    }
    (messages, problems)
}

/// The trace as `raft-harness check RUN_DIR` must have it: every line a call record. Unlike
/// [`read`] (used at the end of a run, where a torn last line is what a killed writer leaves),
/// nothing is dropped: a file that is not UTF-8 text, a torn last line or any line that is not
/// a record is a problem naming `path:LINE`, and the checks must not judge a partial trace.
/// So is a record whose values cannot be ([`invalid`]): a node not in `nodes` (the run's
/// node ids), a negative term, an index below -1.
pub fn read_strict(path: &Path, nodes: &BTreeSet<NodeId>) -> (Vec<Message>, Vec<String>) {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            return (
                Vec::new(),
                vec![format!("{}: cannot read ({e})", path.display())],
            )
        }
    };
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
            return (
                Vec::new(),
                vec![format!(
                    "{}:{line}: not UTF-8 text (byte {at})",
                    path.display()
                )],
            );
        }
    };
    let (messages, mut problems) = parse_lines(path, &text, |_| false, |m| invalid(m, nodes));
    if !text.is_empty() && !text.ends_with('\n') && problems.is_empty() {
        let n = text.lines().count();
        problems.push(format!(
            "{}:{n}: the last line has no newline (the trace was cut off)",
            path.display()
        ));
    }
    (messages, problems)
}

/// Why the values of `m` cannot be a call of a run whose node ids are `nodes`: None when they
/// can. Terms are ≥ 0 and indexes ≥ -1 (-1 = none; Raft §5.3 with 0-based indexes, as on
/// the wire); a sender, receiver, candidate or leader is one of `nodes`.
pub fn invalid(m: &Message, nodes: &BTreeSet<NodeId>) -> Option<String> {
    let node = |what: &str, id: i64| {
        let known = u32::try_from(id).is_ok_and(|n| nodes.contains(&n));
        (!known).then(|| format!("{what} {id} is not a node of the run (nodes {nodes:?})"))
    };
    let term = |what: &str, v: i64| (v < 0).then(|| format!("{what} {v} is negative"));
    let index = |what: &str, v: i64| (v < -1).then(|| format!("{what} {v} is below -1 (none)"));
    let mut found = vec![node("from", m.from.into()), node("to", m.to.into())];
    match &m.req {
        Some(Request::Vote {
            term: t,
            candidate,
            last_log_index,
            last_log_term,
        }) => found.extend([
            term("request term", *t),
            node("candidate", *candidate),
            index("lastLogIndex", *last_log_index),
            term("lastLogTerm", *last_log_term),
        ]),
        Some(Request::Append {
            term: t,
            leader,
            prev_log_index,
            prev_log_term,
            first,
            last,
            leader_commit,
            ..
        }) => {
            found.extend([
                term("request term", *t),
                node("leader", *leader),
                index("prevLogIndex", *prev_log_index),
                term("prevLogTerm", *prev_log_term),
                index("leaderCommit", *leader_commit),
            ]);
            for (i, t) in first.iter().chain(last.iter()) {
                found.extend([index("entry index", *i), term("entry term", *t)]);
            }
        }
        Some(Request::Client { .. }) | None => {}
    }
    match &m.reply {
        Some(Reply::Vote { term: t, .. }) => found.push(term("reply term", *t)),
        Some(Reply::Append {
            term: t,
            conflict_index,
            ..
        }) => found.extend([
            term("reply term", *t),
            conflict_index.and_then(|i| index("conflictIndex", i)),
        ]),
        Some(Reply::Client { .. }) | None => {}
    }
    let found: Vec<String> = found.into_iter().flatten().collect();
    (!found.is_empty()).then(|| found.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_strict_read_names_every_line_that_is_not_a_record() {
        // A torn (cut-off) last line, garbage in the middle, bytes that are not text: each is
        // a problem with its line; the end-of-run reader drops only the torn tail.
        let (_dir, p) = crate::testutil::temp_file("messages.jsonl", "{\"id\": 1, broken\n");
        let (m, problems) = read_strict(&p, &three());
        assert!(m.is_empty());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("messages.jsonl:1:"), "{problems:?}");
        std::fs::write(&p, "{\"id\": 1, bro").unwrap();
        let (_, problems) = read_strict(&p, &three());
        assert!(problems[0].contains("messages.jsonl:1:"), "{problems:?}");
        assert!(
            read(&p).1.is_empty(),
            "the end-of-run reader drops a torn tail"
        );
        std::fs::write(&p, b"\n\n\x00\xff\xfe").unwrap();
        let (_, problems) = read_strict(&p, &three());
        assert!(problems[0].contains(":3: not UTF-8"), "{problems:?}");
        std::fs::write(&p, "").unwrap();
        assert_eq!(read_strict(&p, &three()), (Vec::new(), Vec::new()));
    }

    fn three() -> BTreeSet<NodeId> {
        [1, 2, 3].into()
    }

    /// A RequestVote from 1 to 2 in term 3, granted; `edit` applied to the JSON text.
    fn vote_line(edit: (&str, &str)) -> String {
        let line = r#"{"id":0,"from":1,"to":2,"method":"request-vote","req":{"type":"vote","term":3,"candidate":1,"last_log_index":-1,"last_log_term":0},"reply":{"type":"vote","term":3,"granted":true},"sent_us":5,"fate":"pass"}"#;
        assert!(line.contains(edit.0), "{edit:?}");
        format!("{}\n", line.replacen(edit.0, edit.1, 1))
    }

    #[test]
    fn a_strict_read_refuses_values_no_run_can_have_naming_line_and_value() {
        let (_dir, p) = crate::testutil::temp_file("messages.jsonl", &vote_line(("", "")));
        let (m, problems) = read_strict(&p, &three());
        assert_eq!((m.len(), problems.len()), (1, 0), "{problems:?}");
        for (edit, expected) in [
            (
                r#""from":1"#,
                r#""from":99"#,
                "from 99 is not a node of the run",
            ),
            (r#""to":2"#, r#""to":0"#, "to 0 is not a node of the run"),
            (
                r#""candidate":1"#,
                r#""candidate":7"#,
                "candidate 7 is not a node",
            ),
            (
                r#""term":3,"granted""#,
                r#""term":-5,"granted""#,
                "reply term -5 is negative",
            ),
            (
                r#""term":3,"candidate""#,
                r#""term":-1,"candidate""#,
                "request term -1 is negative",
            ),
            (
                r#""last_log_index":-1"#,
                r#""last_log_index":-2"#,
                "lastLogIndex -2 is below -1",
            ),
        ]
        .map(|(a, b, c)| ((a, b), c))
        {
            let text = format!("\n{}", vote_line(edit));
            std::fs::write(&p, text).unwrap();
            let (_, problems) = read_strict(&p, &three());
            assert_eq!(problems.len(), 1, "{edit:?}: {problems:?}");
            assert!(problems[0].contains("messages.jsonl:2: "), "{problems:?}");
            assert!(problems[0].contains(expected), "{problems:?}");
        }
    }

    #[test]
    fn paths_name_methods_and_pre_vote_is_its_own() {
        assert_eq!(
            Method::from_path("/raft.RaftService/PreVote"),
            Method::PreVote
        );
        assert_eq!(
            Method::from_path("/raft.RaftService/AppendEntries"),
            Method::AppendEntries
        );
        assert_eq!(Method::from_path("/raft.RaftService/Nope"), Method::Other);
        assert_eq!(Method::from_path("/other.Svc/RequestVote"), Method::Other);
    }

    #[test]
    fn requests_decode_from_bytes_and_garbage_does_not() {
        let req = proto::AppendEntriesRequest {
            term: 3,
            leader_id: 2,
            entries: vec![
                proto::LogEntry {
                    index: 5,
                    term: 2,
                    command: "a".into(),
                },
                proto::LogEntry {
                    index: 6,
                    term: 3,
                    command: "b".into(),
                },
            ],
            prev_log_index: 4,
            prev_log_term: 2,
            leader_commit: 4,
        };
        let got = decode_request(Method::AppendEntries, &req.encode_to_vec()).unwrap();
        assert_eq!(
            got,
            Request::Append {
                term: 3,
                leader: 2,
                prev_log_index: 4,
                prev_log_term: 2,
                entries: 2,
                first: Some((5, 2)),
                last: Some((6, 3)),
                leader_commit: 4
            }
        );
        assert!(decode_request(Method::AppendEntries, &[0xff, 0xff, 0xff]).is_none());
        assert!(decode_request(Method::GetStatus, &[]).is_none());
    }

    #[test]
    fn records_round_trip_and_a_bad_line_is_named() {
        let m = Message {
            id: 7,
            from: 1,
            to: 2,
            method: Method::PreVote,
            path: None,
            req: Some(Request::Vote {
                term: 4,
                candidate: 1,
                last_log_index: -1,
                last_log_term: 0,
            }),
            reply: Some(Reply::Vote {
                term: 3,
                granted: true,
            }),
            error: None,
            sent_us: 10,
            delivered_us: Some(11),
            replied_us: Some(20),
            fate: Fate::Pass,
            delay_ms: 0,
            rule: None,
        };
        let line = serde_json::to_string(&m).unwrap();
        assert!(line.contains("\"method\":\"pre-vote\""), "{line}");
        let text = format!("{line}\n{{\"id\":1}}\n{line}\n{{\"id\"");
        let (_dir, p) = crate::testutil::temp_file("messages.jsonl", &text);
        let (got, problems) = read(&p);
        assert_eq!(got, vec![m.clone(), m]);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("messages.jsonl:2:"), "{problems:?}");
    }
}

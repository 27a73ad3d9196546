//! Parsing a scenario file (docs/scenarios.md) into typed cases.
//!
//! A file is a sequence of cases: a directive line, optional entry lines, `----`, the expected
//! output, a blank line. Every error names the 1-based line and the offending value.

use std::collections::BTreeMap;
use std::fmt;

use super::keys;
use crate::core::{
    AppendRequest, AppendResponse, AppendSent, Config, Entry, HardState, NodeId, PreVoteReply,
    VoteRequest, VoteResponse, NONE,
};

/// A malformed scenario: the 1-based line and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub msg: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.msg)
    }
}

fn err<T>(line: usize, msg: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError {
        line,
        msg: msg.into(),
    })
}

/// One input of the script (docs/scenarios.md, "Directives").
#[derive(Debug, Clone)]
pub enum Directive {
    Init {
        cfg: Config,
        hard_state: HardState,
        log: Vec<Entry>,
        now: u64,
        timeout: u64,
    },
    Restart {
        now: u64,
        timeout: u64,
    },
    ElectionTimeout {
        ms: u64,
    },
    Tick {
        now: u64,
    },
    PreVoteRequest {
        now: u64,
        req: VoteRequest,
    },
    PreVoteResponse {
        now: u64,
        from: NodeId,
        term: i32,
        reply: PreVoteReply,
    },
    VoteRequest {
        now: u64,
        req: VoteRequest,
    },
    VoteResponse {
        now: u64,
        from: NodeId,
        resp: VoteResponse,
    },
    AppendRequest {
        now: u64,
        req: AppendRequest,
    },
    AppendResponse {
        now: u64,
        from: NodeId,
        sent: AppendSent,
        resp: AppendResponse,
    },
    SendFailure {
        now: u64,
        peer: NodeId,
        sent: Option<AppendSent>,
    },
    Propose {
        now: u64,
        command: String,
    },
    ReadIndex {
        now: u64,
        ctx: u64,
    },
    State,
    Log,
    Progress {
        peer: NodeId,
    },
}

impl Directive {
    /// The directive's `now` (ms), if it has one.
    pub fn now(&self) -> Option<u64> {
        match self {
            Directive::Init { now, .. }
            | Directive::Restart { now, .. }
            | Directive::Tick { now }
            | Directive::PreVoteRequest { now, .. }
            | Directive::PreVoteResponse { now, .. }
            | Directive::VoteRequest { now, .. }
            | Directive::VoteResponse { now, .. }
            | Directive::AppendRequest { now, .. }
            | Directive::AppendResponse { now, .. }
            | Directive::SendFailure { now, .. }
            | Directive::Propose { now, .. }
            | Directive::ReadIndex { now, .. } => Some(*now),
            Directive::ElectionTimeout { .. }
            | Directive::State
            | Directive::Log
            | Directive::Progress { .. } => None,
        }
    }
}

/// A parsed case. `head` holds the file's lines from the end of the previous case up to and
/// including `----`, verbatim (comments, blank lines, the directive and entry lines), so a
/// rewrite reproduces everything but the expected output.
#[derive(Debug, Clone)]
pub struct Case {
    /// 1-based line of the directive.
    pub line: usize,
    pub directive: Directive,
    pub head: Vec<String>,
    pub expected: Vec<String>,
}

/// A parsed file: its cases and the lines after the last case (comments, blank lines).
#[derive(Debug, Clone)]
pub struct Script {
    pub cases: Vec<Case>,
    pub tail: Vec<String>,
}

fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// Splits a file into cases and parses each directive.
pub fn parse_script(text: &str) -> Result<Script, ParseError> {
    let lines: Vec<&str> = text
        .lines()
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let mut cases = Vec::new();
    let mut i = 0;
    let mut head: Vec<String> = Vec::new();
    while i < lines.len() {
        let l = lines[i];
        if l.trim().is_empty() || is_comment(l) {
            head.push(l.to_string());
            i += 1;
            continue;
        }
        let (case, next) = parse_case(&lines, i, std::mem::take(&mut head))?;
        if cases.is_empty() && !matches!(case.directive, Directive::Init { .. }) {
            return err(case.line, "the first directive of a file must be `init`");
        }
        check_clock(&cases, &case)?;
        cases.push(case);
        i = next;
    }
    if cases.is_empty() {
        return err(lines.len().max(1), "no cases in file");
    }
    Ok(Script { cases, tail: head })
}

/// Time never goes backwards within a file: `now` is at least the previous directive's.
fn check_clock(before: &[Case], case: &Case) -> Result<(), ParseError> {
    let last = before.iter().rev().find_map(|c| c.directive.now());
    match (last, case.directive.now()) {
        (Some(prev), Some(now)) if now < prev => err(
            case.line,
            format!("`now={now}` is earlier than the previous directive's now={prev}"),
        ),
        _ => Ok(()),
    }
}

/// Parses the case whose directive is at `lines[start]`; returns it and the index of the
/// first line after its terminating blank line.
fn parse_case(
    lines: &[&str],
    start: usize,
    mut head: Vec<String>,
) -> Result<(Case, usize), ParseError> {
    let mut i = start;
    let mut body: Vec<(usize, &str)> = Vec::new();
    loop {
        let Some(&l) = lines.get(i) else {
            return err(
                start + 1,
                "case has no `----` line before the end of the file",
            );
        };
        head.push(l.to_string());
        i += 1;
        if l == "----" {
            break;
        }
        if l.trim().is_empty() {
            return err(i, "blank line before `----`");
        }
        if !is_comment(l) {
            body.push((i, l));
        }
    }
    let mut expected = Vec::new();
    while let Some(&l) = lines.get(i) {
        i += 1;
        if l.trim().is_empty() {
            break;
        }
        expected.push(l.to_string());
    }
    let directive = parse_directive(&body)?;
    let case = Case {
        line: start + 1,
        directive,
        head,
        expected,
    };
    Ok((case, i))
}

/// The `key=value` fields of one line (`name`: its first word); every key must be taken
/// exactly once.
struct Fields {
    line: usize,
    name: String,
    /// The keys in the order written, for [`keys::check_keys`].
    order: Vec<String>,
    map: BTreeMap<String, String>,
}

impl Fields {
    /// Rejects an unknown directive, an unknown key or a missing key (see [`keys::check_keys`]).
    fn check_keys(&self) -> Result<(), ParseError> {
        let order: Vec<&str> = self.order.iter().map(String::as_str).collect();
        keys::check_keys(&self.name, &order).or_else(|msg| err(self.line, msg))
    }

    fn take_str(&mut self, key: &str) -> Result<String, ParseError> {
        match self.map.remove(key) {
            Some(v) => Ok(v),
            None => err(self.line, keys::missing_key(key, &self.name)),
        }
    }

    fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    fn take<T: std::str::FromStr>(&mut self, key: &str, what: &str) -> Result<T, ParseError> {
        let v = self.take_str(key)?;
        v.parse()
            .or_else(|_| err(self.line, format!("`{key}={v}`: expected {what}")))
    }

    fn int(&mut self, key: &str) -> Result<i32, ParseError> {
        self.take(key, "an integer")
    }

    fn ms(&mut self, key: &str) -> Result<u64, ParseError> {
        self.take(key, "non-negative milliseconds")
    }

    fn boolean(&mut self, key: &str) -> Result<bool, ParseError> {
        self.take(key, "`true` or `false`")
    }

    /// A node id, or `none` (the core's `NONE`).
    fn node(&mut self, key: &str) -> Result<NodeId, ParseError> {
        if self.map.get(key).map(String::as_str) == Some("none") {
            self.map.remove(key);
            return Ok(NONE);
        }
        self.take(key, "a node id or `none`")
    }

    /// An optional integer (`none` or absent: `None`).
    fn opt_int(&mut self, key: &str) -> Result<Option<i32>, ParseError> {
        match self.map.get(key).map(String::as_str) {
            None => Ok(None),
            Some("none") => {
                self.map.remove(key);
                Ok(None)
            }
            Some(_) => self.int(key).map(Some),
        }
    }

    fn command(&mut self, key: &str) -> Result<String, ParseError> {
        let v = self.take_str(key)?;
        match v.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
            Some(inner) if !inner.contains('"') => Ok(inner.to_string()),
            _ => err(
                self.line,
                format!("`{key}={v}`: expected a double-quoted command"),
            ),
        }
    }

    /// Errors if any field was not taken (an unknown key for this directive).
    fn finish(self) -> Result<(), ParseError> {
        match self.map.keys().next() {
            Some(k) => err(self.line, format!("unknown key `{k}` for `{}`", self.name)),
            None => Ok(()),
        }
    }
}

/// Splits a line into its name and `key=value` fields (spaces inside double quotes kept).
fn tokenize(line_no: usize, line: &str) -> Result<(String, Fields), ParseError> {
    let mut tokens = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.trim().chars() {
        match c {
            '\\' => return err(line_no, "`\\` is not allowed (commands have no escapes)"),
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ' ' if !quoted => {
                if !cur.is_empty() {
                    tokens.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(c),
        }
    }
    if quoted {
        return err(line_no, "unterminated double quote");
    }
    if !cur.is_empty() {
        tokens.push(cur);
    }
    let mut it = tokens.into_iter();
    let name = it.next().unwrap_or_default();
    let (mut map, mut order) = (BTreeMap::new(), Vec::new());
    for t in it {
        let Some((k, v)) = t.split_once('=').filter(|(k, _)| !k.is_empty()) else {
            return err(line_no, format!("`{t}`: expected key=value"));
        };
        if map.insert(k.to_string(), v.to_string()).is_some() {
            return err(line_no, format!("key `{k}` given twice"));
        }
        order.push(k.to_string());
    }
    let fields = Fields {
        line: line_no,
        name: name.clone(),
        order,
        map,
    };
    Ok((name, fields))
}

fn parse_entry(line_no: usize, line: &str) -> Result<Entry, ParseError> {
    let (name, mut f) = tokenize(line_no, line)?;
    if name != "entry" {
        return err(line_no, format!("`{name}`: expected an `entry` line"));
    }
    f.check_keys()?;
    let e = Entry {
        index: f.int("index")?,
        term: f.int("term")?,
        command: f.command("command")?,
    };
    f.finish()?;
    Ok(e)
}

/// Parses a directive line and its entry lines (`body`: 1-based line numbers with text).
fn parse_directive(body: &[(usize, &str)]) -> Result<Directive, ParseError> {
    let (line_no, first) = body[0];
    let (name, mut f) = tokenize(line_no, first)?;
    f.check_keys()?;
    let entries = body[1..]
        .iter()
        .map(|&(n, l)| parse_entry(n, l))
        .collect::<Result<Vec<_>, _>>()?;
    if !entries.is_empty() && !keys::takes_entries(&name) {
        return err(body[1].0, format!("`{name}` takes no entry lines"));
    }
    let d = match name.as_str() {
        "init" => parse_init(&mut f, entries)?,
        "restart" => Directive::Restart {
            now: f.ms("now")?,
            timeout: f.ms("timeout")?,
        },
        "election-timeout" => Directive::ElectionTimeout { ms: f.ms("ms")? },
        "tick" => Directive::Tick { now: f.ms("now")? },
        "prevote-request" => Directive::PreVoteRequest {
            now: f.ms("now")?,
            req: vote_request(&mut f)?,
        },
        "vote-request" => Directive::VoteRequest {
            now: f.ms("now")?,
            req: vote_request(&mut f)?,
        },
        "prevote-response" => parse_prevote_response(&mut f)?,
        "vote-response" => Directive::VoteResponse {
            now: f.ms("now")?,
            from: f.int("from")?,
            resp: VoteResponse {
                term: f.int("term")?,
                vote_granted: f.boolean("vote_granted")?,
            },
        },
        "append-request" => parse_append_request(&mut f, entries)?,
        "append-response" => parse_append_response(&mut f)?,
        "send-failure" => parse_send_failure(&mut f)?,
        "propose" => Directive::Propose {
            now: f.ms("now")?,
            command: f.command("command")?,
        },
        "read-index" => Directive::ReadIndex {
            now: f.ms("now")?,
            ctx: f.take("ctx", "a non-negative integer")?,
        },
        "state" => Directive::State,
        "log" => Directive::Log,
        "progress" => Directive::Progress {
            peer: f.int("peer")?,
        },
        other => return err(line_no, format!("unknown directive `{other}`")),
    };
    f.finish()?;
    Ok(d)
}

fn parse_peers(line: usize, v: &str) -> Result<Vec<NodeId>, ParseError> {
    if v.is_empty() {
        return Ok(vec![]);
    }
    v.split(',')
        .map(|p| {
            p.parse()
                .or_else(|_| err(line, format!("`peers={v}`: `{p}` is not a node id")))
        })
        .collect()
}

fn parse_range(line: usize, v: &str) -> Result<(u64, u64), ParseError> {
    let bad = || {
        err(
            line,
            format!("`election={v}`: expected MIN..MAX milliseconds"),
        )
    };
    let Some((a, b)) = v.split_once("..") else {
        return bad();
    };
    match (a.parse(), b.parse()) {
        (Ok(a), Ok(b)) if a <= b => Ok((a, b)),
        _ => bad(),
    }
}

fn parse_init(f: &mut Fields, log: Vec<Entry>) -> Result<Directive, ParseError> {
    let peers = f.take_str("peers")?;
    let election = f.take_str("election")?;
    let cfg = Config {
        id: f.int("id")?,
        peers: parse_peers(f.line, &peers)?,
        heartbeat_ms: f.ms("heartbeat")?,
        rpc_timeout_ms: f.ms("rpc_timeout")?,
        max_entries_per_append: f.take("max_entries", "a non-negative integer")?,
        max_inflight_appends: if f.has("max_inflight") {
            f.take("max_inflight", "a positive integer")
                .and_then(|n: usize| match n {
                    0 => err(f.line, "`max_inflight=0`: expected a positive integer"),
                    n => Ok(n),
                })?
        } else {
            1
        },
        election_timeout_ms: parse_range(f.line, &election)?,
        pre_vote: f.boolean("pre_vote")?,
        check_quorum: f.boolean("check_quorum")?,
    };
    Ok(Directive::Init {
        cfg,
        hard_state: HardState {
            term: f.int("term")?,
            voted_for: f.node("voted_for")?,
        },
        log,
        now: f.ms("now")?,
        timeout: f.ms("timeout")?,
    })
}

fn vote_request(f: &mut Fields) -> Result<VoteRequest, ParseError> {
    Ok(VoteRequest {
        term: f.int("term")?,
        candidate_id: f.int("candidate_id")?,
        last_log_index: f.int("last_log_index")?,
        last_log_term: f.int("last_log_term")?,
    })
}

fn parse_prevote_response(f: &mut Fields) -> Result<Directive, ParseError> {
    let (now, from, term) = (f.ms("now")?, f.int("from")?, f.int("term")?);
    let reply = if f.has("unimplemented") {
        if !f.boolean("unimplemented")? {
            return err(
                f.line,
                "`unimplemented=false`: omit it and give reply_term= and vote_granted=",
            );
        }
        PreVoteReply::Unimplemented
    } else {
        PreVoteReply::Answer(VoteResponse {
            term: f.int("reply_term")?,
            vote_granted: f.boolean("vote_granted")?,
        })
    };
    Ok(Directive::PreVoteResponse {
        now,
        from,
        term,
        reply,
    })
}

fn parse_append_request(f: &mut Fields, entries: Vec<Entry>) -> Result<Directive, ParseError> {
    Ok(Directive::AppendRequest {
        now: f.ms("now")?,
        req: AppendRequest {
            term: f.int("term")?,
            leader_id: f.int("leader_id")?,
            prev_log_index: f.int("prev_log_index")?,
            prev_log_term: f.int("prev_log_term")?,
            entries,
            leader_commit: f.int("leader_commit")?,
        },
    })
}

fn append_sent(f: &mut Fields) -> Result<AppendSent, ParseError> {
    Ok(AppendSent {
        term: f.int("sent_term")?,
        prev_log_index: f.int("sent_prev_log_index")?,
        n_entries: f.int("sent_n_entries")?,
        read_seq: if f.has("sent_read_seq") {
            f.take("sent_read_seq", "a non-negative integer")?
        } else {
            0
        },
    })
}

fn parse_append_response(f: &mut Fields) -> Result<Directive, ParseError> {
    Ok(Directive::AppendResponse {
        now: f.ms("now")?,
        from: f.int("from")?,
        sent: append_sent(f)?,
        resp: AppendResponse {
            term: f.int("term")?,
            success: f.boolean("success")?,
            conflict_index: f.opt_int("conflict_index")?,
            conflict_term: f.opt_int("conflict_term")?,
        },
    })
}

fn parse_send_failure(f: &mut Fields) -> Result<Directive, ParseError> {
    let (now, peer) = (f.ms("now")?, f.int("peer")?);
    let any = ["sent_term", "sent_prev_log_index", "sent_n_entries"]
        .iter()
        .any(|k| f.has(k));
    let sent = if any { Some(append_sent(f)?) } else { None };
    Ok(Directive::SendFailure { now, peer, sent })
}

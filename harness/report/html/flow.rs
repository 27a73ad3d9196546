//! The message-flow view's data (issue 14 §1, issue 12 §1): every RaftService call of
//! `messages.jsonl` as columns, drawn per directed link by `report.js`.
//!
//! A trace is ~290 bytes a call and ~5 MB a minute (`docs/reports.md`); as columns with the
//! send times delta-encoded the page carries about a quarter of that. Shapes:
//! - rows sorted by (`sent_us`, `id`); `dsent[i] = sent_us[i] - sent_us[i-1]` (the first from
//!   0), µs; `del`/`rep` are µs from sending to delivery / to the reply, −1 when none;
//! - `link` indexes [`Flow::links`] (`[from, to]`), `kind` indexes [`Flow::kinds`]
//!   ([`Kind`]), `fate` indexes [`Flow::fates`] ([`Fate`], plus `error` for a forwarded call
//!   that failed);
//! - request fields in Raft's names (Figure 2): `term`, `who` (candidateId or leaderId),
//!   `pi`/`pt` (prevLogIndex/prevLogTerm of an append, lastLogIndex/lastLogTerm of a vote),
//!   `n` (entries), `fi`/`li`/`lt` (first index, last index and last term carried),
//!   `lc` (leaderCommit); −1 when the call has no such field or did not decode;
//! - reply fields: `rterm`, `rok` (voteGranted / success: 1, 0; −1 = no reply);
//! - `extra`: by row, the rare fields as text (gRPC error, conflict hints, the forwarded
//!   command, the message fault's rule, the delay, an unknown method's path).
use crate::net::trace::{Fate, Message, Method, Reply, Request};
use serde::Serialize;
use std::collections::BTreeMap;
use strum::VariantArray;

/// What a call is, as the view's sub-lanes draw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(super) enum Kind {
    RequestVote,
    /// Thesis §9.6: a pre-vote grant is not a vote.
    PreVote,
    /// AppendEntries with no entries (Raft §5.2).
    Heartbeat,
    /// AppendEntries carrying entries (Raft §5.3).
    Append,
    ClientRequest,
    /// GetStatus, GetLog and methods the harness does not know.
    Other,
}

/// The kinds in code order (`kind[i]` indexes this).
pub(super) const KINDS: [Kind; 6] = [
    Kind::RequestVote,
    Kind::PreVote,
    Kind::Heartbeat,
    Kind::Append,
    Kind::ClientRequest,
    Kind::Other,
];

/// A call's fate as drawn: the harness's [`Fate`] (serialized as in `messages.jsonl`, but
/// `pass` as `delivered`), or `Error` for a call forwarded at once whose receiver answered
/// with a gRPC error (e.g. it was down).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Drawn {
    Fate(Fate),
    Error,
}

impl Serialize for Drawn {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Drawn::Fate(Fate::Pass) => s.serialize_str("delivered"),
            Drawn::Fate(fate) => fate.serialize(s),
            Drawn::Error => s.serialize_str("error"),
        }
    }
}

/// The fates in code order (`fate[i]` indexes this): [`Fate`]'s order, then `Error`.
pub(super) fn fates() -> Vec<Drawn> {
    let fates = Fate::VARIANTS.iter().map(|&f| Drawn::Fate(f));
    fates.chain([Drawn::Error]).collect()
}

/// The calls of a run as columns (see the module docs).
#[derive(Debug, Default, Serialize, PartialEq)]
pub(super) struct Flow {
    pub links: Vec<(u32, u32)>,
    pub kinds: Vec<Kind>,
    pub fates: Vec<Drawn>,
    pub id: Vec<u64>,
    pub link: Vec<u16>,
    pub kind: Vec<u8>,
    pub fate: Vec<u8>,
    pub dsent: Vec<u64>,
    pub del: Vec<i64>,
    pub rep: Vec<i64>,
    pub term: Vec<i64>,
    pub who: Vec<i64>,
    pub pi: Vec<i64>,
    pub pt: Vec<i64>,
    pub n: Vec<u32>,
    pub fi: Vec<i64>,
    pub li: Vec<i64>,
    pub lt: Vec<i64>,
    pub lc: Vec<i64>,
    pub rterm: Vec<i64>,
    pub rok: Vec<i8>,
    pub extra: BTreeMap<usize, String>,
}

/// The longest forwarded command kept in `extra`.
const MAX_COMMAND: usize = 80;

pub(super) fn kind_of(m: &Message) -> Kind {
    match (m.method, &m.req) {
        (Method::RequestVote, _) => Kind::RequestVote,
        (Method::PreVote, _) => Kind::PreVote,
        (Method::AppendEntries, Some(Request::Append { entries: 0, .. })) => Kind::Heartbeat,
        (Method::AppendEntries, _) => Kind::Append,
        (Method::ClientRequest, _) => Kind::ClientRequest,
        (Method::GetStatus | Method::GetLog | Method::Other, _) => Kind::Other,
    }
}

pub(super) fn drawn_fate(m: &Message) -> Drawn {
    match m.fate {
        Fate::Pass if m.error.is_some() => Drawn::Error,
        fate => Drawn::Fate(fate),
    }
}

fn code<T: PartialEq>(all: &[T], v: &T) -> u8 {
    all.iter()
        .position(|x| x == v)
        .expect("every variant is listed") as u8
}

fn after(t: Option<u64>, from: u64) -> i64 {
    t.map_or(-1, |t| t.saturating_sub(from) as i64)
}

/// The calls `msgs` as columns; None (no RPC-aware links) stays None.
pub(super) fn columns(msgs: Option<&[Message]>) -> Option<Flow> {
    let msgs = msgs?;
    let mut sorted: Vec<&Message> = msgs.iter().collect();
    sorted.sort_by_key(|m| (m.sent_us, m.id));
    let mut links: Vec<(u32, u32)> = sorted.iter().map(|m| (m.from, m.to)).collect();
    links.sort_unstable();
    links.dedup();
    let mut f = Flow {
        kinds: KINDS.to_vec(),
        fates: fates(),
        ..Default::default()
    };
    let mut prev = 0;
    for (row, m) in sorted.into_iter().enumerate() {
        f.id.push(m.id);
        f.link
            .push(links.binary_search(&(m.from, m.to)).unwrap_or(0) as u16);
        f.kind.push(code(&KINDS, &kind_of(m)));
        f.fate.push(code(&f.fates, &drawn_fate(m)));
        f.dsent.push(m.sent_us - prev);
        prev = m.sent_us;
        f.del.push(after(m.delivered_us, m.sent_us));
        f.rep.push(after(m.replied_us, m.sent_us));
        push_request(&mut f, m.req.as_ref());
        push_reply(&mut f, m.reply.as_ref());
        let extra = extra_text(m);
        if !extra.is_empty() {
            f.extra.insert(row, extra);
        }
    }
    f.links = links;
    Some(f)
}

fn push_request(f: &mut Flow, req: Option<&Request>) {
    let (term, who, pi, pt, n, fi, li, lt, lc) = match req {
        Some(Request::Vote {
            term,
            candidate,
            last_log_index,
            last_log_term,
        }) => (
            *term,
            *candidate,
            *last_log_index,
            *last_log_term,
            0,
            -1,
            -1,
            -1,
            -1,
        ),
        Some(Request::Append {
            term,
            leader,
            prev_log_index,
            prev_log_term,
            entries,
            first,
            last,
            leader_commit,
        }) => (
            *term,
            *leader,
            *prev_log_index,
            *prev_log_term,
            *entries,
            first.map_or(-1, |p| p.0),
            last.map_or(-1, |p| p.0),
            last.map_or(-1, |p| p.1),
            *leader_commit,
        ),
        Some(Request::Client { .. }) | None => (-1, -1, -1, -1, 0, -1, -1, -1, -1),
    };
    f.term.push(term);
    f.who.push(who);
    f.pi.push(pi);
    f.pt.push(pt);
    f.n.push(n);
    f.fi.push(fi);
    f.li.push(li);
    f.lt.push(lt);
    f.lc.push(lc);
}

fn push_reply(f: &mut Flow, reply: Option<&Reply>) {
    let (term, ok) = match reply {
        Some(Reply::Vote { term, granted }) => (*term, *granted as i8),
        Some(Reply::Append { term, success, .. }) => (*term, *success as i8),
        Some(Reply::Client { success }) => (-1, *success as i8),
        None => (-1, -1),
    };
    f.rterm.push(term);
    f.rok.push(ok);
}

/// The rare fields of a call, in Raft's and gRPC's names; empty when it has none.
fn extra_text(m: &Message) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(e) = &m.error {
        parts.push(format!("gRPC error {e}"));
    }
    if let Some(Reply::Append {
        conflict_index,
        conflict_term,
        ..
    }) = &m.reply
    {
        if let Some(i) = conflict_index {
            parts.push(format!("conflictIndex {i}"));
        }
        if let Some(t) = conflict_term {
            parts.push(format!("conflictTerm {t}"));
        }
    }
    if let Some(Request::Client { command }) = &m.req {
        let c: String = command.chars().take(MAX_COMMAND).collect();
        parts.push(format!("command {c:?}"));
    }
    if m.method == Method::Other || m.method == Method::GetStatus || m.method == Method::GetLog {
        parts.push(format!(
            "method {}",
            m.path.clone().unwrap_or_else(|| format!("{:?}", m.method))
        ));
    }
    if let Some(r) = m.rule {
        parts.push(format!("message fault #{r}"));
    }
    if m.delay_ms > 0 {
        parts.push(format!("delay {} ms", m.delay_ms));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A call passed unchanged, delivered 100 µs and answered 300 µs after it was sent.
    fn call(id: u64, from: u32, to: u32, method: Method, sent: u64) -> Message {
        crate::check::fixtures::call(id, from, to, method, sent, (100, 300))
    }

    /// Node 1's AppendEntries request.
    fn append(term: i64, prev: (i64, i64), carried: &[(i64, i64)], commit: i64) -> Request {
        crate::check::fixtures::append_request(term, 1, prev, carried, commit)
    }

    /// A row decoded as report.js does: (id, from, to, kind, fate, sent, delivered, replied).
    type Row = (u64, u32, u32, Kind, Drawn, u64, Option<u64>, Option<u64>);

    fn decode(f: &Flow) -> Vec<Row> {
        let mut t = 0;
        (0..f.id.len())
            .map(|i| {
                t += f.dsent[i];
                let (from, to) = f.links[f.link[i] as usize];
                let at = |d: i64| (d >= 0).then(|| t + d as u64);
                let kind = f.kinds[f.kind[i] as usize];
                let fate = f.fates[f.fate[i] as usize];
                (f.id[i], from, to, kind, fate, t, at(f.del[i]), at(f.rep[i]))
            })
            .collect()
    }

    #[test]
    fn no_rpc_links_is_none_and_an_empty_trace_is_no_rows() {
        assert_eq!(columns(None), None);
        let f = columns(Some(&[])).unwrap();
        assert!(f.id.is_empty() && f.links.is_empty());
        assert_eq!(f.kinds.len(), KINDS.len());
    }

    #[test]
    fn calls_sort_by_send_time_and_decode_back_exactly() {
        let mut hb = call(4, 1, 2, Method::AppendEntries, 5_000);
        hb.req = Some(append(3, (6, 2), &[], 6));
        hb.reply = Some(Reply::Append {
            term: 3,
            success: true,
            conflict_index: None,
            conflict_term: None,
        });
        let mut ae = call(2, 1, 3, Method::AppendEntries, 2_000);
        ae.req = Some(append(3, (4, 2), &[(5, 2), (7, 3)], 4));
        ae.fate = Fate::DroppedReply;
        ae.replied_us = None;
        ae.rule = Some(0);
        let mut rv = call(3, 2, 1, Method::RequestVote, 2_000);
        rv.req = Some(Request::Vote {
            term: 4,
            candidate: 2,
            last_log_index: 7,
            last_log_term: 3,
        });
        rv.reply = Some(Reply::Vote {
            term: 4,
            granted: false,
        });
        let mut down = call(9, 3, 1, Method::PreVote, 9_000);
        down.error = Some("Unavailable".into());
        down.delivered_us = None;
        let f = columns(Some(&[hb, down, rv, ae])).unwrap();
        assert_eq!(f.links, vec![(1, 2), (1, 3), (2, 1), (3, 1)]);
        assert_eq!(f.dsent, vec![2_000, 0, 3_000, 4_000], "delta-encoded");
        assert_eq!(
            decode(&f),
            vec![
                (
                    2,
                    1,
                    3,
                    Kind::Append,
                    Drawn::Fate(Fate::DroppedReply),
                    2_000,
                    Some(2_100),
                    None
                ),
                (
                    3,
                    2,
                    1,
                    Kind::RequestVote,
                    Drawn::Fate(Fate::Pass),
                    2_000,
                    Some(2_100),
                    Some(2_300)
                ),
                (
                    4,
                    1,
                    2,
                    Kind::Heartbeat,
                    Drawn::Fate(Fate::Pass),
                    5_000,
                    Some(5_100),
                    Some(5_300)
                ),
                (
                    9,
                    3,
                    1,
                    Kind::PreVote,
                    Drawn::Error,
                    9_000,
                    None,
                    Some(9_300)
                ),
            ]
        );
        // Request fields: the append carried [5..7], last term 3; the vote names lastLog*.
        assert_eq!((f.term[0], f.who[0], f.pi[0], f.pt[0]), (3, 1, 4, 2));
        assert_eq!(
            (f.n[0], f.fi[0], f.li[0], f.lt[0], f.lc[0]),
            (2, 5, 7, 3, 4)
        );
        assert_eq!(
            (f.term[1], f.who[1], f.pi[1], f.pt[1], f.n[1]),
            (4, 2, 7, 3, 0)
        );
        assert_eq!(
            (f.n[2], f.fi[2], f.li[2], f.lt[2], f.lc[2]),
            (0, -1, -1, -1, 6)
        );
        assert_eq!((f.term[3], f.who[3]), (-1, -1), "no decoded request");
        // Replies: none, refused, success, none.
        assert_eq!(f.rok, vec![-1, 0, 1, -1]);
        assert_eq!(f.rterm, vec![-1, 4, 3, -1]);
        // Rare fields only where present.
        assert_eq!(f.extra.len(), 2);
        assert_eq!(f.extra[&0], "message fault #0");
        assert_eq!(f.extra[&3], "gRPC error Unavailable");
    }

    #[test]
    fn every_fate_and_method_has_a_code_and_names_serialize_as_the_trace_does() {
        for &fate in Fate::VARIANTS {
            let mut m = call(1, 1, 2, Method::ClientRequest, 0);
            m.fate = fate;
            let drawn = drawn_fate(&m);
            let a = serde_json::to_string(&fate).unwrap();
            let b = serde_json::to_string(&drawn).unwrap();
            if fate != Fate::Pass {
                assert_eq!(a, b, "a fate keeps its messages.jsonl name");
            }
        }
        let mut m = call(1, 1, 2, Method::ClientRequest, 0);
        m.req = Some(Request::Client {
            command: "SET k ".to_string() + &"x".repeat(500),
        });
        m.reply = Some(Reply::Client { success: true });
        m.delay_ms = 40;
        let f = columns(Some(&[m])).unwrap();
        assert_eq!(f.kind, vec![code(&KINDS, &Kind::ClientRequest)]);
        assert_eq!((f.rterm[0], f.rok[0]), (-1, 1));
        assert!(f.extra[&0].ends_with("; delay 40 ms"), "{}", f.extra[&0]);
        assert!(f.extra[&0].len() < 120, "long commands are cut");
        let mut other = call(1, 1, 2, Method::Other, 0);
        other.path = Some("/x.Y/Z".into());
        assert_eq!(kind_of(&other), Kind::Other);
        assert_eq!(extra_text(&other), "method /x.Y/Z");
        let names: Vec<String> = fates()
            .iter()
            .map(|d| serde_json::to_string(d).unwrap())
            .collect();
        let names = names.join(" ").replace('"', "");
        assert_eq!(
            names,
            "delivered delayed reordered dropped-request dropped-reply blackholed rejected lost \
             duplicate error",
            "report.js's names, in code order"
        );
        let json = serde_json::to_value(columns(Some(&[other])).unwrap()).unwrap();
        assert_eq!(json["kinds"][1], "pre-vote");
        assert_eq!(json["fates"][4], "dropped-reply");
        assert_eq!(json["links"][0], serde_json::json!([1, 2]));
    }
}

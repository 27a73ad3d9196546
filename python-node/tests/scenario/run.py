"""Replays parsed cases against the Python core and renders each directive's effects in the
canonical text of docs/scenarios.md ("Output"): reply, hard state, log ops, events, messages,
committed entries, reset_timer; `(no effects)` when there is nothing."""

from __future__ import annotations

from dataclasses import dataclass

from raftnode import core as c
from tests.scenario.parse import Case, Fields, ScenarioError


def node(n: int) -> str:
    return "none" if n == c.NONE else str(n)


def opt(v: int | None) -> str:
    return "none" if v is None else str(v)


def entry_line(e: c.Entry) -> str:
    return f'entry index={e.index} term={e.term} command="{e.command}"'


def event_line(ev: c.Event) -> str:
    match ev:
        case c.TermEvent(term):
            return f"event term term={term}"
        case c.VoteEvent(term, candidate):
            return f"event vote term={term} candidate={node(candidate)}"
        case c.RoleEvent(role, term):
            return f"event role role={role.value} term={term}"
        case c.TruncateEvent(from_index):
            return f"event truncate from_index={from_index}"
        case c.CommitEvent(index):
            return f"event commit index={index}"
        case c.PreVoteEvent(term):
            return f"event prevote term={term}"
        case c.PreVoteResultEvent(term, granted):
            return f"event prevote_result term={term} granted={granted}"


def message_lines(to: int, msg: c.Message) -> list[str]:
    if isinstance(msg, c.AppendMessage):
        r = msg.request
        head = (
            f"message to={to} append term={r.term} leader_id={r.leader_id}"
            f" prev_log_index={r.prev_log_index} prev_log_term={r.prev_log_term}"
            f" leader_commit={r.leader_commit} entries={len(r.entries)}"
        )
        if msg.sent.read_seq > 0:  # the ReadIndex round, shown once one has started
            head += f" read_seq={msg.sent.read_seq}"
        return [head, *(f"  {entry_line(e)}" for e in r.entries)]
    kind = "prevote" if isinstance(msg, c.PreVoteMessage) else "vote"
    v = msg.request
    return [
        f"message to={to} {kind} term={v.term} candidate_id={v.candidate_id}"
        f" last_log_index={v.last_log_index} last_log_term={v.last_log_term}"
    ]


def read_line(r: c.ReadState) -> str:
    if isinstance(r, c.ReadReady):
        return f"read_ready ctx={r.ctx} index={r.index}"
    return f"read_failed ctx={r.ctx}"


def ready_lines(ready: c.Ready) -> list[str]:
    out: list[str] = []
    if ready.hard_state is not None:
        hs = ready.hard_state
        out.append(f"hard_state term={hs.term} voted_for={node(hs.voted_for)}")
    for op in ready.log_ops:
        if isinstance(op, c.LogTruncate):
            out.append(f"log_op truncate from_index={op.from_index}")
        else:
            out.extend(f"log_op append {entry_line(e)[len('entry ') :]}" for e in op.entries)
    out.extend(event_line(ev) for ev in ready.events)
    for to, msg in ready.messages:
        out.extend(message_lines(to, msg))
    out.extend(f"committed {entry_line(e)[len('entry ') :]}" for e in ready.committed)
    out.extend(read_line(r) for r in ready.reads)
    if ready.reset_timer:
        out.append("reset_timer")
    return out


def vote_request(f: Fields) -> c.VoteRequest:
    return c.VoteRequest(
        f.integer("term"),
        f.integer("candidate_id"),
        f.integer("last_log_index"),
        f.integer("last_log_term"),
    )


def append_sent(f: Fields) -> c.AppendSent:
    return c.AppendSent(
        f.integer("sent_term"),
        f.integer("sent_prev_log_index"),
        f.integer("sent_n_entries"),
        f.ms("sent_read_seq") if f.has("sent_read_seq") else 0,
    )


def _max_inflight(f: Fields) -> int:
    """`init`'s optional `max_inflight` (default 1: one append in flight per peer)."""
    if not f.has("max_inflight"):
        return 1
    value = f.text("max_inflight")
    if not value.isdigit() or int(value) < 1:
        raise ScenarioError(f.path, f.line, f"`max_inflight={value}`: expected a positive integer")
    return int(value)


@dataclass
class Runner:
    """One file's core; `step` runs one case and returns its rendered output lines."""

    path: str
    core: c.RaftCore | None = None
    cfg: c.Config | None = None

    def step(self, case: Case) -> list[str]:
        f = Fields(self.path, case.line, case.fields, case.name)
        if case.name == "init":
            reply = self._init(f, case.entries)
        else:
            if self.core is None:
                raise ScenarioError(self.path, case.line, "the first case must be `init`")
            reply = self._input(case, f, self.core)
        f.finish()
        assert self.core is not None
        lines = reply + (ready_lines(self.core.take_ready()) if not _is_query(case.name) else [])
        return lines or ["(no effects)"]

    def _init(self, f: Fields, entries: list[c.Entry]) -> list[str]:
        self.cfg = c.Config(
            id=f.integer("id"),
            peers=f.peers("peers"),
            heartbeat_ms=f.ms("heartbeat"),
            rpc_timeout_ms=f.ms("rpc_timeout"),
            max_entries_per_append=f.integer("max_entries"),
            max_inflight_appends=_max_inflight(f),
            election_timeout_ms=f.range("election"),
            pre_vote=f.boolean("pre_vote"),
            check_quorum=f.boolean("check_quorum"),
        )
        now, timeout = f.ms("now"), f.ms("timeout")
        hs = c.HardState(f.integer("term"), f.node("voted_for"))
        self.core = c.RaftCore(self.cfg, hs, entries, now)
        self.core.set_election_timeout(timeout)
        return []

    def _input(self, case: Case, f: Fields, core: c.RaftCore) -> list[str]:
        """Calls the core for one non-init directive; returns the reply line(s)."""
        name = case.name
        match name:
            case "restart":
                now, timeout = f.ms("now"), f.ms("timeout")
                assert self.cfg is not None
                self.core = c.RaftCore(self.cfg, core.hard_state, list(core.log), now)
                self.core.set_election_timeout(timeout)
            case "election-timeout":
                core.set_election_timeout(f.ms("ms"))
            case "tick":
                core.tick(f.ms("now"))
            case "prevote-request" | "vote-request":
                now = f.ms("now")
                req = vote_request(f)
                if name == "prevote-request":
                    r = core.handle_prevote_request(now, req)
                else:
                    r = core.handle_vote_request(now, req)
                return [f"reply term={r.term} vote_granted={_b(r.vote_granted)}"]
            case "prevote-response":
                now, frm, term = f.ms("now"), f.integer("from"), f.integer("term")
                core.handle_prevote_response(now, frm, term, _prevote_reply(f))
            case "vote-response":
                now, frm = f.ms("now"), f.integer("from")
                vote = c.VoteResponse(f.integer("term"), f.boolean("vote_granted"))
                core.handle_vote_response(now, frm, vote)
            case "append-request":
                return _append_request(f, core, case.entries)
            case "append-response":
                now, frm, sent = f.ms("now"), f.integer("from"), append_sent(f)
                resp = c.AppendResponse(
                    f.integer("term"),
                    f.boolean("success"),
                    f.opt_int("conflict_index"),
                    f.opt_int("conflict_term"),
                )
                core.handle_append_response(now, frm, sent, resp)
            case "send-failure":
                now, peer = f.ms("now"), f.integer("peer")
                lost = append_sent(f) if f.has("sent_term") else None
                core.handle_send_failure(now, peer, lost)
            case "propose":
                p = core.propose(f.ms("now"), f.command("command"))
                if isinstance(p, c.NotLeader):
                    return [f"reply not_leader leader_id={node(p.leader_id)}"]
                return [f"reply index={p[0]} term={p[1]}"]
            case "read-index":
                nl = core.read_index(f.ms("now"), f.ms("ctx"))
                if nl is not None:
                    return [f"reply not_leader leader_id={node(nl.leader_id)}"]
                return ["reply ok"]
            case "state" | "log" | "progress":
                return _query(name, f, core)
            case _:
                raise ScenarioError(self.path, f.line, f"unknown directive `{name}`")
        return []


def _append_request(f: Fields, core: c.RaftCore, entries: list[c.Entry]) -> list[str]:
    now = f.ms("now")
    req = c.AppendRequest(
        f.integer("term"),
        f.integer("leader_id"),
        f.integer("prev_log_index"),
        f.integer("prev_log_term"),
        tuple(entries),
        f.integer("leader_commit"),
    )
    r = core.handle_append_request(now, req)
    return [
        f"reply term={r.term} success={_b(r.success)}"
        f" conflict_index={opt(r.conflict_index)} conflict_term={opt(r.conflict_term)}"
    ]


def _prevote_reply(f: Fields) -> c.PreVoteReply:
    if f.has("unimplemented"):
        if not f.boolean("unimplemented"):
            raise ScenarioError(f.path, f.line, "`unimplemented=false`: omit it instead")
        return c.Unimplemented()
    return c.Answer(c.VoteResponse(f.integer("reply_term"), f.boolean("vote_granted")))


def _query(name: str, f: Fields, core: c.RaftCore) -> list[str]:
    if name == "state":
        return [
            f"state term={core.term} voted_for={node(core.voted_for)} role={core.role.value}"
            f" leader_id={node(core.leader_id)} commit_index={core.commit_index}"
            f" last_applied={core.last_applied} last_log_index={core.last_log_index}"
            f" last_log_term={core.last_log_term}"
        ]
    if name == "log":
        return [entry_line(e) for e in core.log] or ["(empty log)"]
    peer = f.integer("peer")
    return [f"progress peer={peer} match_index={opt(core.match_index(peer))}"]


def _is_query(name: str) -> bool:
    return name in ("state", "log", "progress")


def _b(v: bool) -> str:
    return "true" if v else "false"

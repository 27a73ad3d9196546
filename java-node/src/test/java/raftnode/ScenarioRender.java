package raftnode;

import java.util.List;
import java.util.OptionalInt;
import raftnode.CoreTypes.AppendRequest;
import raftnode.CoreTypes.AppendResponse;
import raftnode.CoreTypes.Event;
import raftnode.CoreTypes.LogOp;
import raftnode.CoreTypes.Message;
import raftnode.CoreTypes.Outgoing;
import raftnode.CoreTypes.Ready;
import raftnode.CoreTypes.VoteRequest;
import raftnode.CoreTypes.VoteResponse;

/** The canonical text of replies, Ready and queries (docs/scenarios.md, "Output"). */
final class ScenarioRender {
    private ScenarioRender() {}

    static String id(int id) {
        return id == CoreTypes.NONE ? "none" : Integer.toString(id);
    }

    private static String opt(OptionalInt v) {
        return v.isPresent() ? Integer.toString(v.getAsInt()) : "none";
    }

    static String entry(Entry e) {
        return "entry index=" + e.index() + " term=" + e.term() + " command=\"" + e.command()
                + "\"";
    }

    static String voteReply(VoteResponse r) {
        return "reply term=" + r.term() + " vote_granted=" + r.voteGranted();
    }

    static String appendReply(AppendResponse r) {
        return "reply term=" + r.term() + " success=" + r.success() + " conflict_index="
                + opt(r.conflictIndex()) + " conflict_term=" + opt(r.conflictTerm());
    }

    static String proposeReply(RaftCore.ProposeResult r) {
        if (r instanceof RaftCore.ProposeResult.Ok ok) {
            return "reply index=" + ok.proposed().index() + " term=" + ok.proposed().term();
        }
        RaftCore.ProposeResult.Refused no = (RaftCore.ProposeResult.Refused) r;
        return "reply not_leader leader_id=" + id(no.notLeader().leaderId());
    }

    static String readIndexReply(java.util.Optional<CoreTypes.NotLeader> r) {
        return r.map(nl -> "reply not_leader leader_id=" + id(nl.leaderId())).orElse("reply ok");
    }

    static void ready(List<String> out, Ready r) {
        if (r.hardState() != null) {
            out.add("hard_state term=" + r.hardState().term() + " voted_for="
                    + id(r.hardState().votedFor()));
        }
        for (LogOp op : r.logOps()) {
            if (op instanceof LogOp.Truncate t) {
                out.add("log_op truncate from_index=" + t.fromIndex());
            } else if (op instanceof LogOp.Append a) {
                for (Entry e : a.entries()) {
                    out.add("log_op append " + entry(e).substring("entry ".length()));
                }
            }
        }
        for (Event e : r.events()) {
            out.add("event " + event(e));
        }
        for (Outgoing o : r.messages()) {
            message(out, o);
        }
        for (Entry e : r.committed()) {
            out.add("committed " + entry(e).substring("entry ".length()));
        }
        for (CoreTypes.ReadState rs : r.reads()) {
            if (rs instanceof CoreTypes.ReadState.Ready ok) {
                out.add("read_ready ctx=" + ok.ctx() + " index=" + ok.index());
            } else if (rs instanceof CoreTypes.ReadState.Failed no) {
                out.add("read_failed ctx=" + no.ctx());
            }
        }
        if (r.resetTimer()) {
            out.add("reset_timer");
        }
    }

    static String event(Event ev) {
        if (ev instanceof Event.Term e) {
            return "term term=" + e.term();
        } else if (ev instanceof Event.Vote e) {
            return "vote term=" + e.term() + " candidate=" + id(e.candidate());
        } else if (ev instanceof Event.Role e) {
            return "role role=" + e.role().name() + " term=" + e.term();
        } else if (ev instanceof Event.Truncate e) {
            return "truncate from_index=" + e.fromIndex();
        } else if (ev instanceof Event.Commit e) {
            return "commit index=" + e.index();
        } else if (ev instanceof Event.PreVote e) {
            return "prevote term=" + e.term();
        }
        Event.PreVoteResult e = (Event.PreVoteResult) ev;
        return "prevote_result term=" + e.term() + " granted=" + e.granted();
    }

    private static String vote(VoteRequest v) {
        return " term=" + v.term() + " candidate_id=" + id(v.candidateId()) + " last_log_index="
                + v.lastLogIndex() + " last_log_term=" + v.lastLogTerm();
    }

    private static void message(List<String> out, Outgoing o) {
        String head = "message to=" + id(o.to());
        if (o.message() instanceof Message.PreVote m) {
            out.add(head + " prevote" + vote(m.request()));
        } else if (o.message() instanceof Message.Vote m) {
            out.add(head + " vote" + vote(m.request()));
        } else if (o.message() instanceof Message.Append m) {
            AppendRequest a = m.request();
            out.add(head + " append term=" + a.term() + " leader_id=" + id(a.leaderId())
                    + " prev_log_index=" + a.prevLogIndex() + " prev_log_term=" + a.prevLogTerm()
                    + " leader_commit=" + a.leaderCommit() + " entries=" + a.entries().size()
                    + (m.sent().readSeq() > 0 ? " read_seq=" + m.sent().readSeq() : ""));
            for (Entry e : a.entries()) {
                out.add("  " + entry(e));
            }
        }
    }

    static String state(RaftCore c) {
        return "state term=" + c.term() + " voted_for=" + id(c.votedFor()) + " role="
                + c.role().name() + " leader_id=" + id(c.leaderId()) + " commit_index="
                + c.commitIndex() + " last_applied=" + c.lastApplied() + " last_log_index="
                + c.lastLogIndex() + " last_log_term=" + c.lastLogTerm();
    }

    static void log(List<String> out, RaftCore c) {
        if (c.log().isEmpty()) {
            out.add("(empty log)");
        }
        for (Entry e : c.log()) {
            out.add(entry(e));
        }
    }

    static String progress(RaftCore c, int peer) {
        return "progress peer=" + id(peer) + " match_index=" + opt(c.matchIndex(peer));
    }
}

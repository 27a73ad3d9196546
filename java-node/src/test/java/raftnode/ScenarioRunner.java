package raftnode;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import raftnode.CoreTypes.AppendRequest;
import raftnode.CoreTypes.AppendResponse;
import raftnode.CoreTypes.AppendSent;
import raftnode.CoreTypes.HardState;
import raftnode.CoreTypes.PreVoteReply;
import raftnode.CoreTypes.VoteRequest;
import raftnode.CoreTypes.VoteResponse;
import raftnode.ScenarioScript.Args;
import raftnode.ScenarioScript.Case;
import raftnode.ScenarioScript.ScenarioError;

/**
 * Replays a parsed scenario against one Java {@link RaftCore} (docs/scenarios.md "Directives"):
 * after every directive the reply (if any), then the rendered Ready, or "(no effects)".
 */
final class ScenarioRunner {
    private final String file;
    private RaftCore core;
    private RaftCore.Config config;
    /** The last directive's {@code now}: time never goes backwards (docs/scenarios.md). */
    private long lastNow = Long.MIN_VALUE;

    ScenarioRunner(String file) {
        this.file = file;
    }

    /** The actual output of every case, in order. */
    static List<List<String>> run(String file, List<Case> cases) {
        ScenarioRunner r = new ScenarioRunner(file);
        List<List<String>> out = new ArrayList<>();
        for (Case c : cases) {
            out.add(r.step(c));
        }
        return out;
    }

    private RaftCore core(Case c) {
        if (core == null) {
            throw new ScenarioError(file, c.line(), "no core: the first case must be init");
        }
        return core;
    }

    List<String> step(Case c) {
        List<String> out = new ArrayList<>();
        Args a = c.args();
        if (a.has("now")) {
            long now = a.nonNegative("now");
            if (now < lastNow) {
                throw new ScenarioError(file, c.line(), "now=" + now + " goes back in time (the "
                        + "previous directive had now=" + lastNow + ")");
            }
            lastNow = now;
        }
        boolean query = false;
        switch (c.name()) {
            case "init" -> init(a, c.entries());
            case "restart" -> {
                RaftCore old = core(c);
                core = new RaftCore(config, old.hardState(), old.log(), a.nonNegative("now"));
                core.setElectionTimeout(a.nonNegative("timeout"));
            }
            case "election-timeout" -> core(c).setElectionTimeout(a.nonNegative("ms"));
            case "tick" -> core(c).tick(a.nonNegative("now"));
            case "prevote-request" -> out.add(ScenarioRender.voteReply(
                    core(c).handlePrevoteRequest(a.nonNegative("now"), voteRequest(a))));
            case "prevote-response" -> core(c).handlePrevoteResponse(a.nonNegative("now"),
                    a.integer("from"), a.integer("term"), preVoteReply(c));
            case "vote-request" -> out.add(ScenarioRender.voteReply(
                    core(c).handleVoteRequest(a.nonNegative("now"), voteRequest(a))));
            case "vote-response" -> core(c).handleVoteResponse(a.nonNegative("now"),
                    a.integer("from"), new VoteResponse(a.integer("term"), a.bool("vote_granted")));
            case "append-request" -> out.add(ScenarioRender.appendReply(core(c)
                    .handleAppendRequest(a.nonNegative("now"), appendRequest(a, c.entries()))));
            case "append-response" -> core(c).handleAppendResponse(a.nonNegative("now"),
                    a.integer("from"), sent(a), appendResponse(a));
            case "send-failure" -> core(c).handleSendFailure(a.nonNegative("now"),
                    a.integer("peer"), optionalSent(c));
            case "read-index" -> out.add(ScenarioRender.readIndexReply(
                    core(c).readIndex(a.nonNegative("now"), a.nonNegative("ctx"))));
            case "propose" -> out.add(ScenarioRender.proposeReply(
                    core(c).propose(a.nonNegative("now"), a.command("command"))));
            case "state" -> {
                out.add(ScenarioRender.state(core(c)));
                query = true;
            }
            case "log" -> {
                ScenarioRender.log(out, core(c));
                query = true;
            }
            case "progress" -> {
                out.add(ScenarioRender.progress(core(c), a.integer("peer")));
                query = true;
            }
            default -> throw new ScenarioError(file, c.line(),
                    "unknown directive `" + c.name() + "`");
        }
        if (!query) {
            ScenarioRender.ready(out, core.takeReady());
        }
        if (out.isEmpty()) {
            out.add("(no effects)");
        }
        return out;
    }

    private void init(Args a, List<Entry> log) {
        long[] election = a.range("election");
        config = new RaftCore.Config(a.integer("id"), a.ids("peers"), a.nonNegative("heartbeat"),
                a.nonNegative("rpc_timeout"), a.integer("max_entries"), election[0], election[1],
                a.bool("pre_vote"), a.bool("check_quorum"), maxInflight(a));
        core = new RaftCore(config, new HardState(a.integer("term"), a.nodeOrNone("voted_for")),
                log, a.nonNegative("now"));
        core.setElectionTimeout(a.nonNegative("timeout"));
    }

    /** {@code init}'s optional {@code max_inflight} (default 1: one append in flight per peer). */
    private static int maxInflight(Args a) {
        if (!a.has("max_inflight")) {
            return 1;
        }
        int n = a.integer("max_inflight");
        if (n < 1) {
            throw new ScenarioError(a.file(), a.line(), "max_inflight=" + n
                    + ": expected a positive integer");
        }
        return n;
    }

    private static VoteRequest voteRequest(Args a) {
        return new VoteRequest(a.integer("term"), a.integer("candidate_id"),
                a.integer("last_log_index"), a.integer("last_log_term"));
    }

    private PreVoteReply preVoteReply(Case c) {
        Args a = c.args();
        boolean answer = a.has("reply_term") && a.has("vote_granted");
        if (a.has("unimplemented") && !answer && a.bool("unimplemented")) {
            return new PreVoteReply.Unimplemented();
        }
        if (answer && !a.has("unimplemented")) {
            return new PreVoteReply.Answer(
                    new VoteResponse(a.integer("reply_term"), a.bool("vote_granted")));
        }
        throw new ScenarioError(file, c.line(),
                "prevote-response needs reply_term and vote_granted, or unimplemented=true");
    }

    private static AppendRequest appendRequest(Args a, List<Entry> entries) {
        return new AppendRequest(a.integer("term"), a.integer("leader_id"),
                a.integer("prev_log_index"), a.integer("prev_log_term"), entries,
                a.integer("leader_commit"));
    }

    private static AppendSent sent(Args a) {
        return new AppendSent(a.integer("sent_term"), a.integer("sent_prev_log_index"),
                a.integer("sent_n_entries"),
                a.has("sent_read_seq") ? a.nonNegative("sent_read_seq") : 0);
    }

    private AppendSent optionalSent(Case c) {
        Args a = c.args();
        int given = (a.has("sent_term") ? 1 : 0) + (a.has("sent_prev_log_index") ? 1 : 0)
                + (a.has("sent_n_entries") ? 1 : 0);
        if (given == 0) {
            return null;
        }
        if (given != 3) {
            throw new ScenarioError(file, c.line(),
                    "send-failure needs all of sent_term, sent_prev_log_index, sent_n_entries or none");
        }
        return sent(a);
    }

    private static OptionalInt optInt(Args a, String key) {
        if (!a.has(key) || a.values().get(key).equals("none")) {
            return OptionalInt.empty();
        }
        return OptionalInt.of(a.integer(key));
    }

    private static AppendResponse appendResponse(Args a) {
        return new AppendResponse(a.integer("term"), a.bool("success"),
                optInt(a, "conflict_index"), optInt(a, "conflict_term"));
    }

    /** Every case whose output differs: directive line, directive, expected, actual. */
    static List<String> mismatches(String file, List<Case> cases, List<List<String>> actual) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
            Case c = cases.get(i);
            if (!c.expected().equals(actual.get(i))) {
                out.add(file + ":" + c.line() + ": " + c.name() + "\n--- expected\n"
                        + String.join("\n", c.expected()) + "\n--- actual\n"
                        + String.join("\n", actual.get(i)));
            }
        }
        return out;
    }
}

package raftnode;

import java.util.List;
import java.util.OptionalInt;
import java.util.Random;
import java.util.function.LongSupplier;
import raftnode.CoreTypes.AppendRequest;
import raftnode.CoreTypes.AppendResponse;
import raftnode.CoreTypes.PreVoteReply;
import raftnode.CoreTypes.VoteRequest;
import raftnode.CoreTypes.VoteResponse;

/**
 * A node for unit tests: the real {@link CoreDriver} (and so the real {@link RaftCore}) on a
 * manual clock and in-memory storage, with the inputs named as in the tests' vocabulary.
 */
final class TestNode {
    static final RaftCore.Config config(int id, List<Integer> peers) {
        return new RaftCore.Config(id, peers, Sim.HEARTBEAT_MS, Sim.ELECTION_MIN_MS,
                RaftNode.MAX_ENTRIES_PER_APPEND, Sim.ELECTION_MIN_MS, Sim.ELECTION_MAX_MS, true,
                true);
    }

    private final int id;
    final CoreDriver driver;

    TestNode(int id, List<Integer> peers, Storage store, Journal journal,
            CoreDriver.Sender sender, LongSupplier clock, Random random) throws Exception {
        this.id = id;
        driver = new CoreDriver(config(id, peers), store, journal, sender, clock, random, "test");
        driver.start();
    }

    int id() {
        return id;
    }







    /** The core's state (term, role, leaderId, commitIndex, ...), read-only use. */
    RaftCore raft() {
        return driver.core();
    }

    int matchIndexOf(int peer) {
        OptionalInt m = driver.core().matchIndex(peer);
        return m.orElse(-1);
    }

    long electionDeadline() {
        return driver.electionDeadline();
    }

    String stateMachineValue(String key) {
        return driver.stateMachineValue(key);
    }

    /** A page of the log: from {@code from}, at most {@code max} entries (0 = no limit). */
    List<Entry> entries(int from, int max) {
        return RaftNode.page(driver.core().log(), from, max);
    }

    void tick() {
        driver.tick();
    }

    VoteResponse handlePreVote(VoteRequest req) {
        return driver.handlePrevoteRequest(req);
    }

    VoteResponse handleRequestVote(VoteRequest req) {
        return driver.handleVoteRequest(req);
    }

    AppendResponse handleAppendEntries(AppendRequest req) {
        return driver.handleAppendRequest(req);
    }

    void onRequestVoteResponse(int peer, VoteResponse resp) {
        driver.handleVoteResponse(peer, resp);
    }

    void onPreVoteResponse(int peer, VoteRequest req, VoteResponse resp) {
        driver.handlePrevoteResponse(peer, req.term(), new PreVoteReply.Answer(resp));
    }

    void onPreVoteUnimplemented(int peer, VoteRequest req) {
        driver.handlePrevoteResponse(peer, req.term(), new PreVoteReply.Unimplemented());
    }

    void onAppendEntriesResponse(int peer, AppendRequest req, AppendResponse resp) {
        driver.handleAppendResponse(peer, req.sent(), resp);
    }

    void onAppendEntriesFailure(int peer, AppendRequest req) {
        driver.handleSendFailure(peer, req.sent());
    }

    int propose(String command, CoreDriver.ProposalCallback callback) {
        return driver.propose(command, callback);
    }

    void abandon(int index, String message) {
        driver.abandon(index, message);
    }
}

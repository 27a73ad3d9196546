package raftnode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import raftnode.CoreTypes.AppendRequest;
import raftnode.CoreTypes.AppendResponse;
import raftnode.CoreTypes.Message;
import raftnode.CoreTypes.PreVoteReply;
import raftnode.CoreTypes.Role;
import raftnode.CoreTypes.VoteResponse;

/**
 * Group commit in the driver (issue 15 section 3): the Readies of inputs without an answer
 * (proposals, peers' replies) queued on the loop together are carried out once, by one
 * {@code flushReady} posted behind them: one log append, one fsync, one AppendEntries per
 * follower; entries are durable before any message carries them (Figure 2); a follower makes
 * one AppendEntries durable with one append.
 */
class CoreDriverBatchTest {
    private final long[] clock = {0};
    private final Sim.MemStore store = new Sim.MemStore();
    /** The node's loop: tasks the driver posts run only when the test says so. */
    private final Deque<Runnable> loop = new ArrayDeque<>();
    private final List<CoreTypes.Outgoing> sent = new ArrayList<>();
    /** Entries a message carried before they were durable here (must stay empty). */
    private final List<Integer> sentBeforeDurable = new ArrayList<>();

    private CoreDriver driver(List<Integer> peers) throws Exception {
        CoreDriver d = new CoreDriver(TestNode.config(1, peers), store, Journal.none(1),
                (to, m) -> {
                    if (m instanceof Message.Append a) {
                        for (Entry e : a.request().entries()) {
                            if (e.index() >= store.log.size()) {
                                sentBeforeDurable.add(e.index());
                            }
                        }
                    }
                    sent.add(new CoreTypes.Outgoing(to, m));
                }, () -> clock[0], new Random(1), "test", loop::add);
        d.start();
        return d;
    }

    private void runLoop() {
        while (!loop.isEmpty()) {
            loop.poll().run();
        }
    }

    private List<Message.Append> appendsTo(int peer) {
        List<Message.Append> out = new ArrayList<>();
        for (CoreTypes.Outgoing o : sent) {
            if (o.to() == peer && o.message() instanceof Message.Append a) {
                out.add(a);
            }
        }
        return out;
    }

    /** Node 1 of {1, 2, 3} wins pre-vote and vote; its no-op's AppendEntries stay in flight. */
    private CoreDriver leaderWithNoopInFlight() throws Exception {
        CoreDriver d = driver(List.of(2, 3));
        clock[0] += Sim.ELECTION_MAX_MS + 1;
        d.tick();
        d.handlePrevoteResponse(2, 1, new PreVoteReply.Answer(new VoteResponse(0, true)));
        runLoop();
        d.handleVoteResponse(2, new VoteResponse(1, true));
        runLoop();
        assertEquals(Role.Leader, d.core().role());
        assertEquals(1, appendsTo(2).size(), "the no-op's AppendEntries is in flight");
        return d;
    }

    private void ack(CoreDriver d, int peer, Message.Append a) {
        d.handleAppendResponse(peer, a.sent(), AppendResponse.ok(a.request().term()));
    }

    @Test
    void proposalsQueuedTogetherAreOneAppendOneFsyncAndOneAppendEntriesPerFollower()
            throws Exception {
        CoreDriver d = leaderWithNoopInFlight();
        Message.Append noop2 = appendsTo(2).get(0);
        Message.Append noop3 = appendsTo(3).get(0);
        int appends = store.appends;
        List<String> results = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            d.propose("SET k" + i + " v" + i, (applied, result, message) ->
                    results.add(applied ? "applied" : message));
        }
        assertEquals(appends, store.appends, "nothing is written before the batch's flush");
        assertEquals(1, loop.size(), "20 proposals ask for one flush");
        runLoop();
        assertEquals(appends + 1, store.appends, "one append (one fsync) for 20 proposals");
        assertEquals(21, store.log.size(), "the no-op and 20 entries are durable");

        sent.clear();
        ack(d, 2, noop2);
        ack(d, 3, noop3);
        runLoop();
        for (int peer : List.of(2, 3)) {
            List<Message.Append> out = appendsTo(peer);
            assertEquals(1, out.size(), "one AppendEntries to " + peer + " for the batch");
            assertEquals(20, out.get(0).request().entries().size());
        }
        ack(d, 2, appendsTo(2).get(0));
        runLoop();
        assertEquals(20, results.size(), "every proposal is answered once a majority has it");
        assertTrue(results.stream().allMatch("applied"::equals), results.toString());
        assertEquals(List.of(), sentBeforeDurable);
    }

    @Test
    void repliesAndProposalsInterleavedOnTheLoopShareOneFsync() throws Exception {
        CoreDriver d = leaderWithNoopInFlight();
        Message.Append noop2 = appendsTo(2).get(0);
        Message.Append noop3 = appendsTo(3).get(0);
        int appends = store.appends;
        long flushes = d.flushes();
        ack(d, 2, noop2);
        for (int i = 0; i < 5; i++) {
            d.propose("SET a " + i, (applied, result, message) -> { });
        }
        ack(d, 3, noop3);
        for (int i = 0; i < 5; i++) {
            d.propose("SET b " + i, (applied, result, message) -> { });
        }
        assertEquals(1, loop.size(), "one flush for the replies and proposals queued together");
        runLoop();
        assertEquals(appends + 1, store.appends, "one fsync for the 10 proposals");
        assertEquals(flushes + 1, d.flushes());
        assertEquals(List.of(), sentBeforeDurable);
    }

    @Test
    void anAppendEntriesRequestIsCarriedOutBeforeItsReplyWithOneAppend() throws Exception {
        CoreDriver d = driver(List.of(2, 3));
        List<Entry> entries = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            entries.add(new Entry(i, 1, "SET k " + i));
        }
        AppendResponse r = d.handleAppendRequest(new AppendRequest(1, 2, -1, 0, entries, -1));
        assertTrue(r.success());
        assertEquals(1, store.appends, "one append (one fsync) for one AppendEntries");
        assertEquals(50, store.log.size(), "durable before the reply is returned");
        assertTrue(loop.isEmpty(), "an RPC request is never deferred");
    }
}

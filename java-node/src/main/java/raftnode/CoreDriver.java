package raftnode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.Executor;
import java.util.function.LongConsumer;
import java.util.function.LongFunction;
import java.util.function.LongSupplier;
import java.util.logging.Logger;
import raftnode.CoreTypes.AppendRequest;
import raftnode.CoreTypes.AppendResponse;
import raftnode.CoreTypes.AppendSent;
import raftnode.CoreTypes.Event;
import raftnode.CoreTypes.HardState;
import raftnode.CoreTypes.LogOp;
import raftnode.CoreTypes.Message;
import raftnode.CoreTypes.Outgoing;
import raftnode.CoreTypes.PreVoteReply;
import raftnode.CoreTypes.ReadState;
import raftnode.CoreTypes.Ready;
import raftnode.CoreTypes.Role;
import raftnode.CoreTypes.VoteRequest;
import raftnode.CoreTypes.VoteResponse;

/**
 * Carries out what the pure {@link RaftCore} decides: it takes the Ready and, in order, persists
 * hard state and log (fsynced by {@link FileStorage}), journals the events, hands the messages to
 * the {@link Sender}, applies committed entries to the key-value {@link StateMachine} (journaling
 * {@code apply} and answering the client waiting on each), and draws a new election timeout when
 * asked. An input that answers (an RPC request) is carried out before its reply leaves, so every
 * reply is backed by durable state (Raft Figure 2, "Persistent state ... updated on stable
 * storage before responding to RPCs").
 *
 * <p>Group commit (issue 15 section 3): an input without an answer (a proposal, a peer's reply,
 * a failed send) leaves its effects in the core's Ready and asks the {@code later} executor for
 * one {@link #flushReady} behind the inputs already queued, so the proposals and replies that
 * arrive together become one log append, ONE fsync, and one AppendEntries per follower. Nothing
 * waits for more: at low load a batch is one input.
 *
 * <p>Not thread-safe: the node's event loop (or a test) is the only caller. A storage or journal
 * failure throws {@link UncheckedIOException} (the node halts: fail-stop).
 */
final class CoreDriver {
    private static final Logger LOG = Logger.getLogger(CoreDriver.class.getName());

    /**
     * Non-blocking message sink; answers come back later through the handle... methods, never
     * from inside {@code send} (the driver is in the middle of carrying out a Ready).
     */
    interface Sender {
        void send(int to, Message message);
    }

    /** How a proposal ended: applied (with its result) or unknown (may still commit later). */
    interface ProposalCallback {
        void done(boolean applied, String result, String message);
    }

    private record Pending(int term, ProposalCallback callback) {}

    /**
     * A GET through ReadIndex (thesis section 6.4). {@code done} fires at most once: confirmed
     * (value, possibly null = absent), refused or failed (not leader), or abandoned.
     */
    static final class Read {
        /** How a read ended. */
        enum Status { CONFIRMED, NOT_LEADER, TIMED_OUT, SHUTDOWN }

        interface Callback {
            void done(Status status, String value, String message);
        }

        final String key;
        private final Callback callback;
        private boolean finished;

        Read(String key, Callback callback) {
            this.key = key;
            this.callback = callback;
        }

        void finish(Status status, String value, String message) {
            if (!finished) {
                finished = true;
                callback.done(status, value, message);
            }
        }
    }

    private final RaftCore.Config config;
    private final Storage storage;
    private final Journal journal;
    private final Sender sender;
    private final LongSupplier clock;
    private final Random random;
    private final String implementation;
    private final StateMachine stateMachine = new StateMachine();
    private final SortedMap<Integer, Pending> pending = new TreeMap<>();
    /** GETs queued since the last {@link #flushReads}, and GETs waiting by the core's ctx. */
    private List<Read> readBatch = new ArrayList<>();
    private final Map<Long, List<Read>> reads = new HashMap<>();
    private long readCtx;
    private RaftCore core;
    /** Clock ms of the core's last election-timer restart (the Ready that asked for one). */
    private long timerResetAt;
    /** commitIndex when the last Ready was taken: a truncation at or below it breaks Raft. */
    private int committedAtReady = -1;
    /** Runs a task after the inputs already queued (the node's loop); inline in unit tests. */
    private final Executor later;
    /** A {@link #flushReady} was handed to {@code later} and has not run yet. */
    private boolean flushScheduled;
    /** {@link #flushReady} calls so far (the bench's batches; tests). */
    private long flushes;
    /** The election timeout last given to the core (ms, counted from timerResetAt). */
    private long electionTimeout;

    /** A driver that carries out every input's Ready at once (no group commit; unit tests). */
    CoreDriver(RaftCore.Config config, Storage storage, Journal journal, Sender sender,
            LongSupplier clock, Random random, String implementation) {
        this(config, storage, journal, sender, clock, random, implementation, Runnable::run);
    }

    /**
     * {@code later} runs a task on the caller's thread after the inputs already queued there
     * (the node posts it to its loop); it batches the Readies of inputs without an answer.
     */
    CoreDriver(RaftCore.Config config, Storage storage, Journal journal, Sender sender,
            LongSupplier clock, Random random, String implementation, Executor later) {
        this.later = later;
        this.config = config;
        this.storage = storage;
        this.journal = journal;
        this.sender = sender;
        this.clock = clock;
        this.random = random;
        this.implementation = implementation;
    }

    /** Recovers durable state, journals {@code start}, builds the core and draws its timeout. */
    void start() throws IOException {
        Storage.Recovered r = storage.load();
        journal.write(journal.event("start").put("implementation", implementation)
                .put("term", r.term()).put("voted_for", r.votedFor())
                .put("log_len", r.log().size()));
        long now = clock.getAsLong();
        core = new RaftCore(config, new HardState(r.term(), r.votedFor()), r.log(), now);
        timerResetAt = now;
        setElectionTimeout(drawTimeout());
        processReady();
    }

    /**
     * Restarts the election timeout from now (the node calls it once peers can reach it): the
     * core counts from its last reset, so the drawn timeout is extended by the time since then.
     */
    void armElectionTimer() {
        setElectionTimeout(clock.getAsLong() - timerResetAt + drawTimeout());
    }

    private void setElectionTimeout(long ms) {
        electionTimeout = ms;
        core.setElectionTimeout(ms);
    }

    /** Clock ms at which the election timer fires (for followers and candidates). */
    long electionDeadline() {
        return timerResetAt + electionTimeout;
    }

    private long drawTimeout() {
        long span = config.electionMaxMs() - config.electionMinMs();
        return config.electionMinMs() + (long) random.nextInt((int) span + 1);
    }

    RaftCore core() {
        return core;
    }

    String stateMachineValue(String key) {
        return stateMachine.get(key);
    }

    // ---------------------------------------------------------------- inputs

    /**
     * Feeds one input that answers (an RPC request) at the current time; effects (with those of
     * every input batched before it), then reply.
     */
    private <T> T answer(LongFunction<T> step) {
        T reply = step.apply(clock.getAsLong());
        processReady();
        return reply;
    }

    /** Feeds one input without an answer; its effects join the batch flushed {@code later}. */
    private void input(LongConsumer step) {
        step.accept(clock.getAsLong());
        deferReady();
    }

    private void deferReady() {
        if (!flushScheduled) {
            flushScheduled = true;
            later.execute(this::flushReady);
        }
    }

    /** Carries out the Ready of every input batched since the last one: one fsync for all. */
    void flushReady() {
        flushScheduled = false;
        flushes++;
        processReady();
    }

    /** Batches flushed by {@link #flushReady} so far (tests, the storage stats line). */
    long flushes() {
        return flushes;
    }

    /** Time passes; the tick's Ready (and any batched before it) is carried out at once. */
    void tick() {
        core.tick(clock.getAsLong());
        processReady();
    }

    VoteResponse handlePrevoteRequest(VoteRequest req) {
        return answer(now -> core.handlePrevoteRequest(now, req));
    }

    void handlePrevoteResponse(int from, int forTerm, PreVoteReply reply) {
        input(now -> core.handlePrevoteResponse(now, from, forTerm, reply));
    }

    VoteResponse handleVoteRequest(VoteRequest req) {
        return answer(now -> core.handleVoteRequest(now, req));
    }

    void handleVoteResponse(int from, VoteResponse resp) {
        input(now -> core.handleVoteResponse(now, from, resp));
    }

    AppendResponse handleAppendRequest(AppendRequest req) {
        return answer(now -> core.handleAppendRequest(now, req));
    }

    void handleAppendResponse(int from, AppendSent sent, AppendResponse resp) {
        input(now -> core.handleAppendResponse(now, from, sent, resp));
    }

    /** An RPC to {@code peer} failed; {@code sent} is the AppendEntries, or null for a vote. */
    void handleSendFailure(int peer, AppendSent sent) {
        input(now -> core.handleSendFailure(now, peer, sent));
    }

    /**
     * Proposes a client command. Returns its log index, or -1 when this node is not the leader
     * (ask {@code core().leaderId()} for the hint). The callback fires exactly once: applied,
     * overwritten, leadership lost, abandoned or shut down.
     */
    int propose(String command, ProposalCallback callback) {
        RaftCore.ProposeResult r = core.propose(clock.getAsLong(), command);
        if (!(r instanceof RaftCore.ProposeResult.Ok ok)) {
            return -1;
        }
        pending.put(ok.proposed().index(), new Pending(ok.proposed().term(), callback));
        deferReady();
        return ok.proposed().index();
    }

    /**
     * Queues a GET; returns true when it is the first since the last {@link #flushReads} (the
     * caller then schedules one flush after the requests already queued, so GETs arriving
     * together share one ReadIndex request).
     */
    boolean read(Read read) {
        readBatch.add(read);
        return readBatch.size() == 1;
    }

    /** One ReadIndex request (thesis section 6.4) for every queued GET. */
    void flushReads() {
        if (readBatch.isEmpty()) {
            return;
        }
        List<Read> batch = readBatch;
        readBatch = new ArrayList<>();
        readCtx++;
        if (core.readIndex(clock.getAsLong(), readCtx).isPresent()) {
            for (Read r : batch) {
                r.finish(Read.Status.NOT_LEADER, null, "not the leader");
            }
            return;
        }
        reads.put(readCtx, batch);
        processReady();
    }

    /** ReadIndex requests made so far (tests). */
    long readRequests() {
        return readCtx;
    }

    /** The client stopped waiting (deadline): answer unknown; the entry may still commit. */
    void abandon(int index, String message) {
        Pending p = pending.remove(index);
        if (p != null) {
            p.callback().done(false, null, message);
        }
    }

    /** Called at shutdown so no client waits forever. */
    void shutdown() {
        failPendingFrom(Integer.MIN_VALUE, "node is shutting down");
        for (Read r : readBatch) {
            r.finish(Read.Status.SHUTDOWN, null, "node is shutting down");
        }
        for (List<Read> batch : reads.values()) {
            batch.forEach(r -> r.finish(Read.Status.SHUTDOWN, null, "node is shutting down"));
        }
        readBatch.clear();
        reads.clear();
    }

    // ---------------------------------------------------------------- effects

    /** Carries out the core's pending effects in the order that keeps durability promises. */
    private void processReady() {
        Ready ready = core.takeReady();
        if (ready.isEmpty()) {
            return;
        }
        persist(ready);
        int committed = committedAtReady;
        for (Event e : ready.events()) {
            if (e instanceof Event.Commit c) {
                committed = c.index();
            } else if (e instanceof Event.Truncate t && t.fromIndex() <= committed) {
                // Leader Completeness (section 5.4.3) says this never happens; keep going
                // like the other nodes, but leave a loud trace.
                LOG.severe("node " + config.id() + " truncates committed index "
                        + t.fromIndex() + " (commitIndex " + committed + ")");
            }
            journalEvent(e);
        }
        committedAtReady = core.commitIndex();
        for (Outgoing o : ready.messages()) {
            sender.send(o.to(), o.message());
        }
        for (Entry e : ready.committed()) {
            apply(e);
        }
        for (ReadState rs : ready.reads()) {
            answerReads(rs);
        }
        if (ready.resetTimer()) {
            timerResetAt = clock.getAsLong();
            setElectionTimeout(drawTimeout());
        }
    }

    private void persist(Ready ready) {
        try {
            if (ready.hardState() != null) {
                storage.saveState(ready.hardState().term(), ready.hardState().votedFor());
            }
            for (LogOp op : ready.logOps()) {
                if (op instanceof LogOp.Truncate t) {
                    storage.truncate(t.fromIndex(), keptPrefix(t.fromIndex()));
                } else if (op instanceof LogOp.Append a) {
                    storage.append(a.entries());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot persist state", e);
        }
    }

    /** The log before {@code from}: entries below a truncation point are never rewritten later. */
    private List<Entry> keptPrefix(int from) {
        List<Entry> log = core.log();
        return new ArrayList<>(log.subList(0, Math.min(from, log.size())));
    }

    /** Journals one core event; role and truncate also settle waiting clients. */
    private void journalEvent(Event ev) {
        if (ev instanceof Event.Term e) {
            journal.write(journal.event("term").put("term", e.term()));
        } else if (ev instanceof Event.Vote e) {
            journal.write(journal.event("vote").put("term", e.term())
                    .put("candidate", e.candidate()));
        } else if (ev instanceof Event.Role e) {
            LOG.info(() -> "node " + config.id() + " is " + e.role() + " in term " + e.term());
            if (e.role() != Role.Leader) {
                failPendingFrom(Integer.MIN_VALUE, "leadership lost before the entry committed");
            }
            journal.write(journal.event("role").put("role", e.role().name())
                    .put("term", e.term()));
        } else if (ev instanceof Event.Truncate e) {
            failPendingFrom(e.fromIndex(), "entry was overwritten");
            journal.write(journal.event("truncate").put("from_index", e.fromIndex()));
        } else if (ev instanceof Event.Commit e) {
            journal.write(journal.event("commit").put("index", e.index()));
        } else if (ev instanceof Event.PreVote e) {
            journal.write(journal.event("prevote").put("term", e.term()));
        } else if (ev instanceof Event.PreVoteResult e) {
            journal.write(journal.event("prevote_result").put("term", e.term())
                    .put("granted", e.granted()));
        }
    }

    private void apply(Entry e) {
        String result = stateMachine.apply(e.command());
        journal.write(journal.event("apply").put("index", e.index()).put("term", e.term())
                .put("command", e.command()).put("result", result));
        Pending p = pending.remove(e.index());
        if (p != null) {
            if (p.term() == e.term()) {
                p.callback().done(true, result, "");
            } else {
                p.callback().done(false, null, "entry was overwritten");
            }
        }
    }

    /**
     * A confirmed read is answered from the state machine, which holds every entry up to
     * commitIndex >= readIndex (committed entries are applied first); a read of a node that lost
     * leadership did not happen.
     */
    private void answerReads(ReadState rs) {
        boolean ok = rs instanceof ReadState.Ready;
        long ctx = ok ? ((ReadState.Ready) rs).ctx() : ((ReadState.Failed) rs).ctx();
        for (Read r : reads.getOrDefault(ctx, List.of())) {
            if (ok) {
                r.finish(Read.Status.CONFIRMED, stateMachine.get(r.key), "");
            } else {
                r.finish(Read.Status.NOT_LEADER, null,
                        "leadership lost before the read was confirmed");
            }
        }
        reads.remove(ctx);
    }

    private void failPendingFrom(int fromIndex, String message) {
        SortedMap<Integer, Pending> gone = pending.tailMap(fromIndex);
        List<Pending> all = new ArrayList<>(gone.values());
        gone.clear();
        for (Pending p : all) {
            p.callback().done(false, null, message);
        }
    }
}

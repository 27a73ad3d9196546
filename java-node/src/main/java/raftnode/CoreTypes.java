package raftnode;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * The plain data that goes in and out of {@link RaftCore}: RPC arguments and replies, and the
 * {@link Ready} of effects the driver carries out. No protobuf types: the driver converts at the
 * wire. Indices are 0-based, -1 means "none" (docs/node-contract.md section 2). Mirrors the Rust
 * reference core (rust-node/core.rs).
 */
final class CoreTypes {
    private CoreTypes() {}

    /** "No node", for votedFor and leaderId. */
    static final int NONE = -1;

    enum Role { Follower, Candidate, Leader }

    /** Persistent state other than the log (Raft Figure 2): currentTerm and votedFor. */
    record HardState(int term, int votedFor) {}

    /** RequestVote / PreVote arguments (Figure 2; thesis section 9.6). */
    record VoteRequest(int term, int candidateId, int lastLogIndex, int lastLogTerm) {}

    record VoteResponse(int term, boolean voteGranted) {}

    /** AppendEntries arguments (Figure 2). */
    record AppendRequest(int term, int leaderId, int prevLogIndex, int prevLogTerm,
            List<Entry> entries, int leaderCommit) {
        AppendRequest {
            entries = List.copyOf(entries);
        }

        /** What the leader keeps to interpret the reply. */
        AppendSent sent() {
            return new AppendSent(term, prevLogIndex, entries.size());
        }
    }

    /** AppendEntries reply with the fast-backtracking hints of thesis section 5.3. */
    record AppendResponse(int term, boolean success, OptionalInt conflictIndex,
            OptionalInt conflictTerm) {
        static AppendResponse ok(int term) {
            return new AppendResponse(term, true, OptionalInt.empty(), OptionalInt.empty());
        }
    }

    /**
     * What the leader remembers about an AppendEntries it sent. {@code readSeq}: the leader's
     * ReadIndex round counter when it was sent (thesis section 6.4); a reply confirms leadership
     * for every round up to it. Never on the wire.
     */
    record AppendSent(int term, int prevLogIndex, int nEntries, long readSeq) {
        AppendSent(int term, int prevLogIndex, int nEntries) {
            this(term, prevLogIndex, nEntries, 0);
        }
    }

    /** A peer's answer to a PreVote RPC (thesis section 9.6). */
    sealed interface PreVoteReply {
        /** The peer answered: voteGranted is the pre-vote, term its currentTerm. */
        record Answer(VoteResponse response) implements PreVoteReply {}

        /** The peer speaks only the original protocol (gRPC UNIMPLEMENTED): counts as a grant. */
        record Unimplemented() implements PreVoteReply {}
    }

    /** A request the driver must send to a peer. */
    sealed interface Message {
        record Vote(VoteRequest request) implements Message {}

        /** term is the term campaigned for (currentTerm + 1); nothing changes at the receiver. */
        record PreVote(VoteRequest request) implements Message {}

        /** The request and what the driver hands back with its reply (with the read round). */
        record Append(AppendRequest request, AppendSent sent) implements Message {}
    }

    /** One message and its destination. */
    record Outgoing(int to, Message message) {}

    /** A change to the durable log, applied in order. */
    sealed interface LogOp {
        /** Delete every entry with index >= fromIndex. */
        record Truncate(int fromIndex) implements LogOp {}

        record Append(List<Entry> entries) implements LogOp {
            public Append {
                entries = List.copyOf(entries);
            }
        }
    }

    /** Journal events of the core (the driver adds start, apply and stop). */
    sealed interface Event {
        record Term(int term) implements Event {}

        record Vote(int term, int candidate) implements Event {}

        record Role(CoreTypes.Role role, int term) implements Event {}

        record Truncate(int fromIndex) implements Event {}

        record Commit(int index) implements Event {}

        /** A pre-vote round for term starts (journal "prevote"). */
        record PreVote(int term) implements Event {}

        /** A pre-vote round ends with granted grants, self included ("prevote_result"). */
        record PreVoteResult(int term, int granted) implements Event {}
    }

    /** ReadIndex outcomes (thesis section 6.4), in request order. */
    sealed interface ReadState {
        /** Leadership confirmed after the request: answer once lastApplied >= index. */
        record Ready(long ctx, int index) implements ReadState {}

        /** No longer leader before confirmation: the read did not happen (NOT_LEADER). */
        record Failed(long ctx) implements ReadState {}
    }

    /**
     * Everything the driver must do after one input, in this order: persist hardState (if
     * present) and logOps, write events, send messages (and the RPC reply, if any), apply
     * committed, answer reads; then, if resetTimer, draw a new election timeout.
     */
    record Ready(HardState hardState, List<LogOp> logOps, List<Event> events,
            List<Outgoing> messages, List<Entry> committed, List<ReadState> reads,
            boolean resetTimer) {
        boolean isEmpty() {
            return hardState == null && logOps.isEmpty() && events.isEmpty()
                    && messages.isEmpty() && committed.isEmpty() && reads.isEmpty()
                    && !resetTimer;
        }
    }

    /** The Ready being built by the core; taken (and replaced) by {@link RaftCore#takeReady}. */
    static final class ReadyBuilder {
        HardState hardState;
        final List<LogOp> logOps = new ArrayList<>();
        final List<Event> events = new ArrayList<>();
        final List<Outgoing> messages = new ArrayList<>();
        final List<Entry> committed = new ArrayList<>();
        final List<ReadState> reads = new ArrayList<>();
        boolean resetTimer;

        Ready build() {
            return new Ready(hardState, List.copyOf(logOps), List.copyOf(events),
                    List.copyOf(messages), List.copyOf(committed), List.copyOf(reads),
                    resetTimer);
        }

        /** Appends to the last Append op when there is one, so one input gives one write. */
        void appendLog(List<Entry> entries) {
            if (entries.isEmpty()) {
                return;
            }
            if (!logOps.isEmpty() && logOps.get(logOps.size() - 1) instanceof LogOp.Append a) {
                List<Entry> all = new ArrayList<>(a.entries());
                all.addAll(entries);
                logOps.set(logOps.size() - 1, new LogOp.Append(all));
            } else {
                logOps.add(new LogOp.Append(entries));
            }
        }
    }

    /** The proposal was refused: this node is not the leader (leaderId: its hint, or NONE). */
    record NotLeader(int leaderId) {}

    /** Where a proposal landed on the leader's log. */
    record Proposed(int index, int term) {}
}

package raftnode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.logging.Logger;
import raft.RaftServiceOuterClass.AppendEntriesRequest;
import raft.RaftServiceOuterClass.AppendEntriesResponse;
import raft.RaftServiceOuterClass.LogEntry;
import raft.RaftServiceOuterClass.RequestVoteRequest;
import raft.RaftServiceOuterClass.RequestVoteResponse;

/**
 * The Raft consensus module: elections, log replication, commitment and application, with no
 * sockets, threads or clocks of its own. It is not thread-safe: exactly one thread (the node's
 * event loop, or a test) calls it. Outgoing messages go through {@link Transport}, which must not
 * block; responses come back through the {@code on...} methods. Time comes from the supplied
 * clock and randomness from the supplied Random, so tests can drive it step by step.
 *
 * <p>Rules follow docs/node-contract.md section 2 (0-based indices, -1 for "none").
 */
final class RaftCore {
    private static final Logger LOG = Logger.getLogger(RaftCore.class.getName());
    /** At most this many entries per AppendEntries, so a lagging peer catches up in bounded steps. */
    static final int MAX_BATCH = 256;

    enum Role { Follower, Candidate, Leader }

    /** Non-blocking message sink. Every send is answered later by exactly one on...() call. */
    interface Transport {
        /**
         * Pre-vote (thesis section 9.6): answered by {@link #onPreVoteResponse}, or by
         * {@link #onPreVoteUnimplemented} when the peer does not know the RPC; any other failure
         * needs no call (it counts as a refusal).
         */
        void sendPreVote(int peer, RequestVoteRequest req);

        void sendRequestVote(int peer, RequestVoteRequest req);

        void sendAppendEntries(int peer, AppendEntriesRequest req);
    }

    /** How a proposal ended: applied (with its result) or unknown (may still commit later). */
    interface ProposalCallback {
        void done(boolean applied, String result, String message);
    }

    record Timing(int electionMinMs, int electionMaxMs, int heartbeatMs) {}

    private record Pending(int term, ProposalCallback callback) {}

    private final int id;
    private final int[] peers;
    private final Timing timing;
    private final Storage storage;
    private final Journal journal;
    private final Transport transport;
    private final LongSupplier clock;
    private final Random random;
    private final String implementation;

    // Durable state (mirrored in storage before anyone is told about it).
    private int currentTerm;
    private int votedFor = -1;
    private final List<Entry> log = new ArrayList<>();

    // Volatile state.
    private Role role = Role.Follower;
    private int leaderId = -1;
    private int commitIndex = -1;
    private int lastApplied = -1;
    private long electionDeadline;
    private final StateMachine stateMachine = new StateMachine();
    private final Set<Integer> votes = new HashSet<>();
    /** The term of the running pre-vote round (currentTerm + 1 when it began), or -1 if none. */
    private int preVoteTerm = -1;
    /** The request of the running round: answers to an earlier round (same term) count not. */
    private RequestVoteRequest preVoteRequest;
    private final Set<Integer> preVotes = new HashSet<>();
    /** When an AppendEntries of the current leader was last accepted (clock ms). */
    private long lastLeaderContact = Long.MIN_VALUE / 2;
    /** Leader only: when each peer last answered an AppendEntries (clock ms), for check-quorum. */
    private final Map<Integer, Long> lastReply = new HashMap<>();
    private final Map<Integer, Pending> pending = new LinkedHashMap<>();

    // Leader state, per peer.
    private final Map<Integer, Integer> nextIndex = new HashMap<>();
    private final Map<Integer, Integer> matchIndex = new HashMap<>();
    private final Map<Integer, Boolean> inFlight = new HashMap<>();
    private final Map<Integer, Boolean> lastFailed = new HashMap<>();
    private final Map<Integer, Long> lastSent = new HashMap<>();

    RaftCore(int id, List<Integer> peerIds, Timing timing, Storage storage, Journal journal,
            Transport transport, LongSupplier clock, Random random, String implementation) {
        this.id = id;
        this.peers = peerIds.stream().mapToInt(Integer::intValue).toArray();
        this.timing = timing;
        this.storage = storage;
        this.journal = journal;
        this.transport = transport;
        this.clock = clock;
        this.random = random;
        this.implementation = implementation;
        for (int p : peers) {
            inFlight.put(p, false);
            lastFailed.put(p, false);
            lastSent.put(p, Long.MIN_VALUE / 2);
        }
    }

    /** Recovers durable state, journals {@code start} and the initial role, arms the timer. */
    void start() throws IOException {
        Storage.Recovered r = storage.load();
        currentTerm = r.term();
        votedFor = r.votedFor();
        log.clear();
        log.addAll(r.log());
        journal.write(journal.event("start").put("implementation", implementation)
                .put("term", currentTerm).put("voted_for", votedFor).put("log_len", log.size()));
        journal.write(journal.event("role").put("role", role.name()).put("term", currentTerm));
        resetElectionTimer();
    }

    // ---------------------------------------------------------------- timers

    /** Called often (every few ms) by the driver: elections and heartbeats. */
    void tick() {
        long now = clock.getAsLong();
        if (role == Role.Leader) {
            if (!hasQuorum(now)) {
                stepDownForLostQuorum();
                return;
            }
            for (int p : peers) {
                if (!inFlight.get(p) && now - lastSent.get(p) >= timing.heartbeatMs()) {
                    sendAppend(p);
                }
            }
        } else if (now >= electionDeadline) {
            startPreVote();
        }
    }

    /**
     * Check-quorum (thesis section 6.2 / 9.6): true while a majority (counting this leader) has
     * answered an AppendEntries, success or not, within the last maximum election timeout.
     */
    private boolean hasQuorum(long now) {
        int heard = 1;
        for (int p : peers) {
            if (now - lastReply.get(p) <= timing.electionMaxMs()) {
                heard++;
            }
        }
        return heard >= majority();
    }

    /** A leader cut off from a majority becomes Follower in the same term (keeps votedFor). */
    private void stepDownForLostQuorum() {
        LOG.info(() -> "node " + id + " has not heard from a majority within "
                + timing.electionMaxMs() + " ms: stepping down in term " + currentTerm);
        leaderId = -1;
        becomeFollower();
    }

    /** Restarts the election timer (the driver calls it once the node is reachable). */
    void armElectionTimer() {
        resetElectionTimer();
    }

    private void resetElectionTimer() {
        int span = timing.electionMaxMs() - timing.electionMinMs();
        electionDeadline = clock.getAsLong() + timing.electionMinMs() + random.nextInt(span + 1);
    }

    // ---------------------------------------------------------------- terms and roles

    private void persistState() {
        try {
            storage.saveState(currentTerm, votedFor);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot persist state", e);
        }
    }

    /** A higher term was seen: adopt it, forget the vote, and become (or stay) follower. */
    private void adoptTerm(int term) {
        currentTerm = term;
        votedFor = -1;
        persistState();
        journal.write(journal.event("term").put("term", currentTerm));
        leaderId = -1;
        endPreVote();
        becomeFollower();
    }

    private void becomeFollower() {
        if (role == Role.Follower) {
            return;
        }
        boolean wasLeader = role == Role.Leader;
        setRole(Role.Follower);
        if (wasLeader) {
            failAllPending("leadership lost before the entry committed");
        }
        // Stepping down for any reason (higher term, check-quorum, a leader of the same term)
        // starts a fresh, newly drawn timeout: the old one belongs to an election long past.
        resetElectionTimer();
    }

    private void setRole(Role r) {
        role = r;
        journal.write(journal.event("role").put("role", r.name()).put("term", currentTerm));
        LOG.info(() -> "node " + id + " is " + r + " in term " + currentTerm);
    }

    private int majority() {
        return (peers.length + 1) / 2 + 1;
    }

    /**
     * The election timer fired (thesis section 9.6): instead of raising its term the node stays
     * (or becomes) a Follower, forgets the leader it no longer hears, draws a new timeout and
     * asks every peer for a pre-vote for {@code currentTerm + 1}. A round that has not won a
     * majority when the timer fires again is replaced by a new one.
     */
    private void startPreVote() {
        endPreVote();
        leaderId = -1;
        if (role != Role.Follower) {
            setRole(Role.Follower); // a Candidate whose election timed out campaigns anew
        }
        resetElectionTimer();
        preVoteTerm = currentTerm + 1;
        preVotes.clear();
        preVotes.add(id);
        journal.write(journal.event("prevote").put("term", preVoteTerm));
        if (preVotes.size() >= majority()) {
            winPreVote();
            return;
        }
        RequestVoteRequest req = RequestVoteRequest.newBuilder().setTerm(preVoteTerm)
                .setCandidateId(id).setLastLogIndex(lastLogIndex()).setLastLogTerm(lastLogTerm())
                .build();
        preVoteRequest = req;
        for (int p : peers) {
            transport.sendPreVote(p, req);
        }
    }

    /** Ends the running pre-vote round (if any), journaling how many granted it. */
    private void endPreVote() {
        if (preVoteTerm < 0) {
            return;
        }
        journal.write(journal.event("prevote_result").put("term", preVoteTerm)
                .put("granted", preVotes.size()));
        preVoteTerm = -1;
        preVoteRequest = null;
        preVotes.clear();
    }

    private void winPreVote() {
        endPreVote();
        startElection();
    }

    /**
     * True if {@code req} is the request of the round still running (the very object sent: the
     * transport hands it back), not one of an older or ended round.
     */
    private boolean isCurrentPreVote(RequestVoteRequest req) {
        return preVoteTerm >= 0 && req == preVoteRequest && preVoteTerm == currentTerm + 1;
    }

    private void countPreVote(int peer) {
        preVotes.add(peer);
        if (preVotes.size() >= majority()) {
            winPreVote();
        }
    }

    private void startElection() {
        currentTerm++;
        votedFor = id;
        persistState();
        leaderId = -1;
        journal.write(journal.event("term").put("term", currentTerm));
        if (role != Role.Candidate) {
            setRole(Role.Candidate);
        } else {
            LOG.fine(() -> "node " + id + " restarts its election in term " + currentTerm);
        }
        journal.write(journal.event("vote").put("term", currentTerm).put("candidate", id));
        votes.clear();
        votes.add(id);
        resetElectionTimer();
        if (votes.size() >= majority()) {
            becomeLeader();
            return;
        }
        RequestVoteRequest req = RequestVoteRequest.newBuilder().setTerm(currentTerm)
                .setCandidateId(id).setLastLogIndex(lastLogIndex()).setLastLogTerm(lastLogTerm())
                .build();
        for (int p : peers) {
            transport.sendRequestVote(p, req);
        }
    }

    private void becomeLeader() {
        setRole(Role.Leader);
        leaderId = id;
        for (int p : peers) {
            nextIndex.put(p, log.size());
            matchIndex.put(p, -1);
            lastFailed.put(p, false);
            lastReply.put(p, clock.getAsLong()); // check-quorum counts from the election
        }
        // Raft section 8: a no-op of our own term lets earlier entries commit without a client.
        appendOwn("");
        advanceCommit(); // a cluster of one commits at once
        for (int p : peers) {
            sendAppend(p);
        }
    }

    // ---------------------------------------------------------------- RequestVote

    RequestVoteResponse handleRequestVote(RequestVoteRequest req) {
        if (req.getTerm() > currentTerm) {
            adoptTerm(req.getTerm());
        }
        boolean upToDate = isUpToDate(req.getLastLogTerm(), req.getLastLogIndex());
        boolean grant = req.getTerm() == currentTerm
                && (votedFor == -1 || votedFor == req.getCandidateId())
                && upToDate;
        if (grant) {
            if (votedFor != req.getCandidateId()) {
                votedFor = req.getCandidateId();
                persistState();
            }
            journal.write(journal.event("vote").put("term", currentTerm)
                    .put("candidate", req.getCandidateId()));
            resetElectionTimer();
        }
        return RequestVoteResponse.newBuilder().setTerm(currentTerm).setVoteGranted(grant).build();
    }

    /** Section 5.4.1: a log ending (lastTerm, lastIndex) is at least as up-to-date as ours. */
    private boolean isUpToDate(int lastTerm, int lastIndex) {
        return lastTerm > lastLogTerm() || (lastTerm == lastLogTerm() && lastIndex >= lastLogIndex());
    }

    void onRequestVoteResponse(int peer, RequestVoteRequest req, RequestVoteResponse resp) {
        if (resp.getTerm() > currentTerm) {
            adoptTerm(resp.getTerm());
            return;
        }
        if (role != Role.Candidate || req.getTerm() != currentTerm || !resp.getVoteGranted()) {
            return;
        }
        votes.add(peer);
        if (votes.size() >= majority()) {
            becomeLeader();
        }
    }

    // ---------------------------------------------------------------- PreVote (thesis 9.6)

    /**
     * Answers a pre-vote: granted iff {@code req.term > currentTerm}, the sender's log is at
     * least as up-to-date as ours (section 5.4.1), we are not Leader, and no AppendEntries of a
     * current leader was accepted within the minimum election timeout. Changes nothing: no term
     * adoption, no vote, no timer reset, nothing persisted. The reply carries our currentTerm.
     */
    RequestVoteResponse handlePreVote(RequestVoteRequest req) {
        long now = clock.getAsLong();
        boolean leaderHeard = role == Role.Leader
                || (leaderId >= 0 && now - lastLeaderContact < timing.electionMinMs());
        boolean grant = req.getTerm() > currentTerm && !leaderHeard
                && isUpToDate(req.getLastLogTerm(), req.getLastLogIndex());
        return RequestVoteResponse.newBuilder().setTerm(currentTerm).setVoteGranted(grant).build();
    }

    /** A peer answered our PreVote; a higher term in the reply is adopted (section 5.1). */
    void onPreVoteResponse(int peer, RequestVoteRequest req, RequestVoteResponse resp) {
        if (resp.getTerm() > currentTerm) {
            adoptTerm(resp.getTerm());
            return;
        }
        if (resp.getVoteGranted() && isCurrentPreVote(req)) {
            countPreVote(peer);
        }
    }

    /** The peer answered PreVote with UNIMPLEMENTED (an original-protocol server): a grant. */
    void onPreVoteUnimplemented(int peer, RequestVoteRequest req) {
        if (isCurrentPreVote(req)) {
            countPreVote(peer);
        }
    }

    // ---------------------------------------------------------------- AppendEntries (follower)

    AppendEntriesResponse handleAppendEntries(AppendEntriesRequest req) {
        if (req.getTerm() < currentTerm) {
            return AppendEntriesResponse.newBuilder().setTerm(currentTerm).setSuccess(false).build();
        }
        if (req.getTerm() > currentTerm) {
            adoptTerm(req.getTerm());
        } else if (role == Role.Candidate) {
            becomeFollower();
        }
        leaderId = req.getLeaderId();
        lastLeaderContact = clock.getAsLong();
        endPreVote();
        resetElectionTimer();

        int prev = req.getPrevLogIndex();
        if (prev >= log.size()) {
            return AppendEntriesResponse.newBuilder().setTerm(currentTerm).setSuccess(false)
                    .setConflictIndex(log.size()).build();
        }
        if (prev >= 0 && log.get(prev).term() != req.getPrevLogTerm()) {
            int conflictTerm = log.get(prev).term();
            int first = prev;
            while (first > 0 && log.get(first - 1).term() == conflictTerm) {
                first--;
            }
            return AppendEntriesResponse.newBuilder().setTerm(currentTerm).setSuccess(false)
                    .setConflictTerm(conflictTerm).setConflictIndex(first).build();
        }

        List<LogEntry> entries = req.getEntriesList();
        List<Entry> toAppend = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            int idx = prev + 1 + i;
            LogEntry e = entries.get(i);
            if (idx < log.size()) {
                if (log.get(idx).term() == e.getTerm()) {
                    continue; // already have it: never truncate on a stale or repeated request
                }
                truncateFrom(idx);
            }
            toAppend.add(new Entry(idx, e.getTerm(), e.getCommand()));
        }
        if (!toAppend.isEmpty()) {
            appendDurably(toAppend);
        }
        int lastNew = prev + entries.size();
        int newCommit = Math.min(req.getLeaderCommit(), lastNew);
        if (newCommit > commitIndex) {
            setCommitIndex(newCommit);
        }
        return AppendEntriesResponse.newBuilder().setTerm(currentTerm).setSuccess(true).build();
    }

    private void truncateFrom(int from) {
        if (from <= commitIndex) {
            // Raft guarantees this never happens; keep going but leave a loud trace.
            LOG.severe("node " + id + " truncates committed index " + from);
        }
        journal.write(journal.event("truncate").put("from_index", from));
        log.subList(from, log.size()).clear();
        try {
            storage.truncate(from, log);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot truncate the log", e);
        }
        List<Integer> gone = new ArrayList<>();
        for (int idx : pending.keySet()) {
            if (idx >= from) {
                gone.add(idx);
            }
        }
        for (int idx : gone) {
            pending.remove(idx).callback().done(false, null, "entry was overwritten");
        }
    }

    private void appendDurably(List<Entry> entries) {
        log.addAll(entries);
        try {
            storage.append(entries);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to the log", e);
        }
    }

    // ---------------------------------------------------------------- replication (leader)

    private void sendAppend(int peer) {
        int next = nextIndex.get(peer);
        int prev = next - 1;
        AppendEntriesRequest.Builder b = AppendEntriesRequest.newBuilder().setTerm(currentTerm)
                .setLeaderId(id).setPrevLogIndex(prev)
                .setPrevLogTerm(prev >= 0 ? log.get(prev).term() : 0)
                .setLeaderCommit(commitIndex);
        int end = Math.min(log.size(), next + MAX_BATCH);
        for (int i = next; i < end; i++) {
            Entry e = log.get(i);
            b.addEntries(LogEntry.newBuilder().setIndex(e.index()).setTerm(e.term())
                    .setCommand(e.command()));
        }
        inFlight.put(peer, true);
        lastSent.put(peer, clock.getAsLong());
        transport.sendAppendEntries(peer, b.build());
    }

    void onAppendEntriesResponse(int peer, AppendEntriesRequest req, AppendEntriesResponse resp) {
        inFlight.put(peer, false);
        lastFailed.put(peer, false);
        if (role == Role.Leader && req.getTerm() == currentTerm) {
            lastReply.put(peer, clock.getAsLong());
        }
        if (resp.getTerm() > currentTerm) {
            adoptTerm(resp.getTerm());
            return;
        }
        if (role != Role.Leader || req.getTerm() != currentTerm) {
            return; // an answer to an older term's request
        }
        int next = nextIndex.get(peer);
        if (resp.getSuccess()) {
            int match = req.getPrevLogIndex() + req.getEntriesCount();
            if (match > matchIndex.get(peer)) {
                matchIndex.put(peer, match);
            }
            if (match + 1 > next) {
                nextIndex.put(peer, match + 1);
            }
            advanceCommit();
        } else {
            int target;
            if (resp.hasConflictTerm()) {
                int lastOfTerm = -1;
                for (int i = Math.min(req.getPrevLogIndex(), log.size() - 1); i >= 0; i--) {
                    int t = log.get(i).term();
                    if (t == resp.getConflictTerm()) {
                        lastOfTerm = i;
                        break;
                    }
                    if (t < resp.getConflictTerm()) {
                        break;
                    }
                }
                target = lastOfTerm >= 0 ? lastOfTerm + 1 : resp.getConflictIndex();
            } else if (resp.hasConflictIndex()) {
                target = resp.getConflictIndex();
            } else {
                target = req.getPrevLogIndex(); // an old peer without hints: one step back
            }
            // Always move back at least one step from the rejected prevLogIndex, never behind
            // what the peer is known to hold.
            target = Math.min(target, req.getPrevLogIndex());
            target = Math.max(target, matchIndex.get(peer) + 1);
            nextIndex.put(peer, Math.max(0, target));
        }
        if (role == Role.Leader && nextIndex.get(peer) < log.size()) {
            sendAppend(peer);
        }
    }

    /** The RPC failed (unreachable, deadline): retry at the next heartbeat. */
    void onAppendEntriesFailure(int peer) {
        inFlight.put(peer, false);
        lastFailed.put(peer, true);
    }

    private void advanceCommit() {
        int[] matches = new int[peers.length + 1];
        matches[0] = lastLogIndex();
        for (int i = 0; i < peers.length; i++) {
            matches[i + 1] = matchIndex.get(peers[i]);
        }
        Arrays.sort(matches);
        // The highest index that a majority holds.
        int n = matches[matches.length - majority()];
        // Figure 8: only an entry of the current term commits by counting replicas.
        if (n > commitIndex && log.get(n).term() == currentTerm) {
            setCommitIndex(n);
        }
    }

    private void setCommitIndex(int n) {
        commitIndex = n;
        journal.write(journal.event("commit").put("index", n));
        applyCommitted();
    }

    private void applyCommitted() {
        while (lastApplied < commitIndex) {
            lastApplied++;
            Entry e = log.get(lastApplied);
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
    }

    // ---------------------------------------------------------------- client proposals

    private Entry appendOwn(String command) {
        Entry e = new Entry(log.size(), currentTerm, command);
        appendDurably(List.of(e));
        return e;
    }

    /**
     * Appends a client command if leader. Returns its index, or -1 when not leader. The callback
     * fires once: when the entry is applied, overwritten, leadership is lost, or it is abandoned.
     */
    int propose(String command, ProposalCallback callback) {
        if (role != Role.Leader) {
            return -1;
        }
        Entry e = appendOwn(command);
        pending.put(e.index(), new Pending(e.term(), callback));
        advanceCommit(); // a cluster of one commits at once
        for (int p : peers) {
            if (!inFlight.get(p) && !lastFailed.get(p)) {
                sendAppend(p);
            }
        }
        return e.index();
    }

    /** The client stopped waiting (deadline): answer UNKNOWN; the entry may still commit. */
    void abandon(int index, String message) {
        Pending p = pending.remove(index);
        if (p != null) {
            p.callback().done(false, null, message);
        }
    }

    private void failAllPending(String message) {
        List<Pending> all = new ArrayList<>(pending.values());
        pending.clear();
        for (Pending p : all) {
            p.callback().done(false, null, message);
        }
    }

    /** Called at shutdown so no client waits forever. */
    void shutdown() {
        failAllPending("node is shutting down");
    }

    // ---------------------------------------------------------------- queries

    int id() {
        return id;
    }

    Role role() {
        return role;
    }

    int currentTerm() {
        return currentTerm;
    }

    int votedFor() {
        return votedFor;
    }

    int leaderId() {
        return leaderId;
    }

    int commitIndex() {
        return commitIndex;
    }

    int lastApplied() {
        return lastApplied;
    }

    int lastLogIndex() {
        return log.size() - 1;
    }

    int lastLogTerm() {
        return log.isEmpty() ? 0 : log.get(log.size() - 1).term();
    }

    int nextIndexOf(int peer) {
        return nextIndex.getOrDefault(peer, -1);
    }

    int matchIndexOf(int peer) {
        return matchIndex.getOrDefault(peer, -1);
    }

    String stateMachineValue(String key) {
        return stateMachine.get(key);
    }

    /** A page of the log: from {@code from} (>= 0), at most {@code max} entries (0 = no limit). */
    List<Entry> entries(int from, int max) {
        int start = Math.max(0, Math.min(from, log.size()));
        int end = max > 0 ? (int) Math.min((long) start + max, log.size()) : log.size();
        return new ArrayList<>(log.subList(start, end));
    }

    long electionDeadline() {
        return electionDeadline;
    }
}

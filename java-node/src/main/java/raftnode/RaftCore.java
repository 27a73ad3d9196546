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
            for (int p : peers) {
                if (!inFlight.get(p) && now - lastSent.get(p) >= timing.heartbeatMs()) {
                    sendAppend(p);
                }
            }
        } else if (now >= electionDeadline) {
            startElection();
        }
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
            // A deposed leader's timer is stale; start a fresh one instead of electing at once.
            resetElectionTimer();
        }
    }

    private void setRole(Role r) {
        role = r;
        journal.write(journal.event("role").put("role", r.name()).put("term", currentTerm));
        LOG.info(() -> "node " + id + " is " + r + " in term " + currentTerm);
    }

    private int majority() {
        return (peers.length + 1) / 2 + 1;
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
        boolean upToDate = req.getLastLogTerm() > lastLogTerm()
                || (req.getLastLogTerm() == lastLogTerm() && req.getLastLogIndex() >= lastLogIndex());
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

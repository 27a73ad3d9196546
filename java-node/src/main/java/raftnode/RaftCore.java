package raftnode;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import raftnode.CoreTypes.AppendRequest;
import raftnode.CoreTypes.AppendResponse;
import raftnode.CoreTypes.AppendSent;
import raftnode.CoreTypes.Event;
import raftnode.CoreTypes.HardState;
import raftnode.CoreTypes.LogOp;
import raftnode.CoreTypes.Message;
import raftnode.CoreTypes.NotLeader;
import raftnode.CoreTypes.Outgoing;
import raftnode.CoreTypes.PreVoteReply;
import raftnode.CoreTypes.Proposed;
import raftnode.CoreTypes.ReadState;
import raftnode.CoreTypes.Ready;
import raftnode.CoreTypes.ReadyBuilder;
import raftnode.CoreTypes.Role;
import raftnode.CoreTypes.VoteRequest;
import raftnode.CoreTypes.VoteResponse;

/**
 * The Raft consensus core: a pure, deterministic step function, a port of the Rust reference
 * core (rust-node/core.rs) that makes the same decision for every input.
 *
 * <p>It owns the Raft state (term, vote, log, commit index, role, per-peer progress) and nothing
 * else: no sockets, clocks, threads, randomness, storage or journal. The driver feeds it inputs
 * ({@link #tick} with the current time in ms, requests, responses, proposals) and after each one
 * takes a {@link Ready}: state to persist, messages to send, journal events and committed entries
 * to apply. The driver persists a Ready before it sends any message or reply that follows it,
 * which is what makes "durable before the reply" hold (Raft section 5, Figure 2). Election
 * timeouts are drawn by the driver: when the core restarts its election timer it sets
 * {@code Ready.resetTimer} and the driver answers with {@link #setElectionTimeout}.
 *
 * <p>Not thread-safe: one thread calls it. Indices are 0-based, -1 is "none".
 */
final class RaftCore {
    /**
     * Static configuration. Times in ms. {@code rpcTimeoutMs}: an in-flight AppendEntries older
     * than twice this is presumed lost. {@code electionMinMs} bounds the pre-vote lease,
     * {@code electionMaxMs} is check-quorum's window. {@code maxInflightAppends}: appends
     * carrying entries in flight per follower in replicate state (pipelining, issue 15 section
     * 3; see Progress; 1: one at a time, the default of the shorter constructor).
     */
    record Config(int id, List<Integer> peers, long heartbeatMs, long rpcTimeoutMs,
            int maxEntriesPerAppend, long electionMinMs, long electionMaxMs, boolean preVote,
            boolean checkQuorum, int maxInflightAppends) {
        Config {
            peers = List.copyOf(peers);
        }

        Config(int id, List<Integer> peers, long heartbeatMs, long rpcTimeoutMs,
                int maxEntriesPerAppend, long electionMinMs, long electionMaxMs, boolean preVote,
                boolean checkQuorum) {
            this(id, peers, heartbeatMs, rpcTimeoutMs, maxEntriesPerAppend, electionMinMs,
                    electionMaxMs, preVote, checkQuorum, 1);
        }
    }

    /** Result of {@link #propose}: where the entry landed, or who leads instead. */
    sealed interface ProposeResult permits ProposeResult.Ok, ProposeResult.Refused {
        record Ok(Proposed proposed) implements ProposeResult {}

        record Refused(NotLeader notLeader) implements ProposeResult {}
    }

    /** A pre-vote round in progress: the term campaigned for and who granted (self included). */
    private record PreVoteRound(int term, Set<Integer> granted) {}

    /**
     * A readIndex request awaiting confirmation; {@code readIndex}/{@code seq} are set (seq > 0)
     * once the leader has committed an entry of its term (thesis section 6.4).
     */
    private static final class PendingRead {
        final long ctx;
        int readIndex;
        long seq;

        PendingRead(long ctx) {
            this.ctx = ctx;
        }
    }

    private final Config cfg;
    private int term;
    private int votedFor;
    private final List<Entry> log;
    private int commitIndex = -1;
    private int lastApplied = -1;
    private Role role = Role.Follower;
    private int leaderId = CoreTypes.NONE;
    private final Set<Integer> votes = new TreeSet<>();
    private final Map<Integer, Progress> progress = new TreeMap<>();
    private PreVoteRound prevote;
    /** When this node last accepted an AppendEntries of its current term (pre-vote lease). */
    private Long leaderContactMs;
    /** ReadIndex rounds started so far (never reset, so rounds stay ordered), and the reads. */
    private long readSeq;
    private final List<PendingRead> reads = new ArrayList<>();
    private long nowMs;
    private long electionResetMs;
    private long electionTimeoutMs;
    private ReadyBuilder ready = new ReadyBuilder();

    /**
     * A node starting (or restarting) as Follower with its recovered durable state. The first
     * Ready holds the Role event. The election timeout is {@code electionMinMs} until the driver
     * calls {@link #setElectionTimeout} (it should, right away, with a drawn value).
     */
    RaftCore(Config cfg, HardState hs, List<Entry> log, long nowMs) {
        this.cfg = cfg;
        this.term = hs.term();
        this.votedFor = hs.votedFor();
        this.log = new ArrayList<>(log);
        this.nowMs = nowMs;
        this.electionResetMs = nowMs;
        this.electionTimeoutMs = cfg.electionMinMs();
        ready.events.add(new Event.Role(Role.Follower, term));
    }

    // ---------------------------------------------------------------- accessors

    int term() {
        return term;
    }

    int votedFor() {
        return votedFor;
    }

    Role role() {
        return role;
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

    /** The whole log (read-only view). */
    List<Entry> log() {
        return Collections.unmodifiableList(log);
    }

    int lastLogIndex() {
        return log.size() - 1;
    }

    int lastLogTerm() {
        return log.isEmpty() ? 0 : log.get(log.size() - 1).term();
    }

    HardState hardState() {
        return new HardState(term, votedFor);
    }

    /** The leader's matchIndex for {@code peer}; empty when not leader or not a peer. */
    OptionalInt matchIndex(int peer) {
        Progress p = progress.get(peer);
        return p == null ? OptionalInt.empty() : OptionalInt.of(p.matchIndex);
    }

    /** The leader's nextIndex for {@code peer}; empty when not leader or not a peer. */
    OptionalInt nextIndex(int peer) {
        Progress p = progress.get(peer);
        return p == null ? OptionalInt.empty() : OptionalInt.of(p.nextIndex);
    }

    /** The leader's replication state for {@code peer}; null when not leader or not a peer. */
    Progress.State progressState(int peer) {
        Progress p = progress.get(peer);
        return p == null ? null : p.state;
    }

    /** Appends carrying entries in flight to {@code peer} (0 when not leader or not a peer). */
    int inflightCount(int peer) {
        Progress p = progress.get(peer);
        return p == null ? 0 : p.inflightCount();
    }

    /** Takes the pending effects; the driver carries them out in Ready's documented order. */
    Ready takeReady() {
        Ready r = ready.build();
        ready = new ReadyBuilder();
        return r;
    }

    /** The driver's answer to {@code Ready.resetTimer}: a freshly drawn election timeout (ms). */
    void setElectionTimeout(long ms) {
        electionTimeoutMs = ms;
    }

    // ---------------------------------------------------------------- inputs

    /**
     * Time passes: start a (pre-)election on timeout, or (leader) check quorum contact, send
     * entries and due heartbeats. Heartbeats do not wait for an in-flight append, so one lost
     * RPC never starves a follower into an election. An append unanswered for 2 x rpcTimeoutMs
     * is presumed lost: the follower's progress falls back to probe.
     */
    void tick(long now) {
        nowMs = now;
        if (role == Role.Leader) {
            if (!hasQuorumContact()) {
                stepDownNoQuorum();
                return;
            }
            int last = lastLogIndex();
            for (int peer : cfg.peers()) {
                Progress p = progress.get(peer);
                if (p.oldestExpired(now, cfg.rpcTimeoutMs() * 2)) {
                    p.becomeProbe(); // presumed lost: probe again
                }
                boolean due = p.lastSentMs == null || now - p.lastSentMs >= cfg.heartbeatMs();
                boolean behind = p.nextIndex <= last;
                if (p.canSend(cfg.maxInflightAppends()) && behind && now >= p.retryAtMs) {
                    sendAppend(peer);
                } else if (due) {
                    sendHeartbeat(peer);
                }
            }
        } else if (now >= electionResetMs + electionTimeoutMs) {
            if (cfg.preVote()) {
                startPrevote();
            } else {
                startElection();
            }
        }
    }

    /**
     * PreVote RPC (thesis section 9.6; docs/node-contract.md "Pre-vote and check-quorum").
     * Granted iff {@code req.term > currentTerm}, the sender's log is at least as up-to-date
     * (section 5.4.1), and this node is not Leader and has not accepted an AppendEntries of its
     * current term within the minimum election timeout. Changes nothing. Reply term: currentTerm.
     */
    VoteResponse handlePrevoteRequest(long now, VoteRequest req) {
        nowMs = now;
        boolean leaderHeard = leaderContactMs != null
                && now - leaderContactMs < cfg.electionMinMs();
        boolean grant = req.term() > term && upToDate(req) && role != Role.Leader && !leaderHeard;
        return new VoteResponse(term, grant);
    }

    /**
     * A peer's answer to the PreVote for {@code forTerm} (the term campaigned for). A higher term
     * in the answer is adopted (Figure 2); grants (or UNIMPLEMENTED) from a majority, self
     * included, start the real election while the round is still current.
     */
    void handlePrevoteResponse(long now, int from, int forTerm, PreVoteReply reply) {
        nowMs = now;
        boolean granted;
        if (reply instanceof PreVoteReply.Answer a) {
            observeTerm(a.response().term());
            granted = a.response().voteGranted();
        } else {
            granted = true;
        }
        boolean current = role != Role.Leader && forTerm == term + 1;
        if (prevote == null || prevote.term() != forTerm || !current) {
            return;
        }
        if (granted) {
            prevote.granted().add(from);
        }
        if (prevote.granted().size() >= quorum()) {
            endPrevote();
            startElection();
        }
    }

    /** RequestVote RPC (Figure 2, "RequestVote RPC, receiver implementation"). */
    VoteResponse handleVoteRequest(long now, VoteRequest req) {
        nowMs = now;
        observeTerm(req.term());
        boolean free = votedFor == CoreTypes.NONE || votedFor == req.candidateId();
        boolean grant = req.term() == term && free && upToDate(req);
        if (grant) {
            if (votedFor != req.candidateId()) {
                votedFor = req.candidateId();
                ready.hardState = hardState();
            }
            ready.events.add(new Event.Vote(term, req.candidateId()));
            resetElectionTimer();
        }
        return new VoteResponse(term, grant);
    }

    /** AppendEntries RPC (Figure 2, "AppendEntries RPC, receiver implementation"). */
    AppendResponse handleAppendRequest(long now, AppendRequest req) {
        nowMs = now;
        observeTerm(req.term());
        if (req.term() < term) {
            return reject(OptionalInt.empty(), OptionalInt.empty());
        }
        // A current-term AppendEntries comes from the legitimate leader (section 5.2).
        if (role != Role.Follower) {
            becomeFollower();
        }
        leaderId = req.leaderId();
        leaderContactMs = now;
        endPrevote();
        resetElectionTimer();
        int prev = req.prevLogIndex();
        if (prev >= 0) {
            if (prev > lastLogIndex()) {
                return reject(OptionalInt.of(log.size()), OptionalInt.empty());
            }
            int t = log.get(prev).term();
            if (t != req.prevLogTerm()) {
                int first = prev;
                while (first > 0 && log.get(first - 1).term() == t) {
                    first--;
                }
                return reject(OptionalInt.of(first), OptionalInt.of(t));
            }
        }
        appendFromLeader(prev, req.entries());
        int lastNew = prev + req.entries().size();
        if (req.leaderCommit() > commitIndex) {
            advanceCommit(Math.min(req.leaderCommit(), lastNew));
        }
        return AppendResponse.ok(term);
    }

    private AppendResponse reject(OptionalInt conflictIndex, OptionalInt conflictTerm) {
        return new AppendResponse(term, false, conflictIndex, conflictTerm);
    }

    /** Appends the leader's entries after {@code prev}, truncating only on a term conflict. */
    private void appendFromLeader(int prev, List<Entry> entries) {
        List<Entry> appended = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            int idx = prev + 1 + i;
            Entry e = entries.get(i);
            if (idx <= lastLogIndex()) {
                if (log.get(idx).term() == e.term()) {
                    continue;
                }
                // Only a differing term is a conflict: a stale, reordered request whose entries
                // already match must never truncate (section 5.3).
                truncateFrom(idx);
            }
            Entry entry = new Entry(idx, e.term(), e.command());
            log.add(entry);
            appended.add(entry);
        }
        ready.appendLog(appended);
    }

    /** A RequestVote reply: a granted vote of the current term counts toward a majority. */
    void handleVoteResponse(long now, int from, VoteResponse resp) {
        nowMs = now;
        observeTerm(resp.term());
        if (role != Role.Candidate || resp.term() != term || !resp.voteGranted()) {
            return;
        }
        votes.add(from);
        if (votes.size() >= quorum()) {
            becomeLeader();
        }
    }

    /**
     * An AppendEntries reply: advance matchIndex and commit, or backtrack nextIndex (replies may
     * come late, twice or out of order; see Progress).
     */
    void handleAppendResponse(long now, int from, AppendSent sent, AppendResponse resp) {
        nowMs = now;
        observeTerm(resp.term());
        if (role != Role.Leader || sent.term() != term) {
            return;
        }
        Progress p = progress.get(from);
        if (p == null) {
            return;
        }
        p.lastReplyMs = Math.max(p.lastReplyMs, now);
        p.readAcked = Math.max(p.readAcked, sent.readSeq());
        confirmReads();
        int sentLast = sent.prevLogIndex() + sent.nEntries();
        if (resp.success()) {
            p.onSuccess(sentLast);
            maybeCommit();
            sendAppends(from);
        } else {
            int hinted = backtrackTarget(sent, resp);
            if (p.onReject(sent.prevLogIndex(), sentLast, hinted)
                    && p.canSend(cfg.maxInflightAppends())) {
                sendAppend(from);
            }
        }
    }

    /** Fast backtracking (Raft thesis section 5.3), falling back to nextIndex - 1. */
    private int backtrackTarget(AppendSent sent, AppendResponse resp) {
        if (resp.conflictTerm().isPresent()) {
            int ct = resp.conflictTerm().getAsInt();
            for (int i = log.size() - 1; i >= 0; i--) {
                if (log.get(i).term() == ct) {
                    return i + 1;
                }
            }
            return resp.conflictIndex().orElse(sent.prevLogIndex());
        }
        return resp.conflictIndex().orElse(sent.prevLogIndex());
    }

    /**
     * The driver could not deliver a message to {@code peer} (or got no answer in time).
     * {@code sent}: the AppendEntries that failed, or null for other messages. A failed append
     * carrying entries past matchIndex puts the peer back in probe; entries are retried no
     * earlier than one heartbeat interval later.
     */
    void handleSendFailure(long now, int peer, AppendSent sent) {
        nowMs = now;
        Progress p = progress.get(peer);
        if (sent != null && p != null && sent.term() == term && sent.nEntries() > 0) {
            p.onSendFailure(sent.prevLogIndex() + sent.nEntries());
            p.retryAtMs = now + cfg.heartbeatMs();
        }
    }

    /**
     * A client command. On the leader it is appended and replicated; the returned index and
     * term identify it when it is committed (or overwritten). Elsewhere: refused with the
     * leader hint.
     */
    ProposeResult propose(long now, String command) {
        nowMs = now;
        if (role != Role.Leader) {
            return new ProposeResult.Refused(new NotLeader(leaderId));
        }
        int index = appendOwn(command);
        broadcastAppend();
        maybeCommit();
        return new ProposeResult.Ok(new Proposed(index, term));
    }

    /**
     * ReadIndex (thesis section 6.4): a linearizable read without a log entry. On the leader the
     * read gets readIndex = commitIndex once the leader has committed an entry of its term (the
     * no-op appended at election, section 8; until then it waits), and a new round: heartbeats
     * to every peer numbered with the round. When a majority (self included) has answered an
     * append of this term sent in that round or later, the Ready's reads get
     * {@code ReadState.Ready(ctx, index)}; if this node stops being leader first,
     * {@code Failed(ctx)}. Not leader: the NotLeader hint (as {@link #propose}).
     */
    Optional<NotLeader> readIndex(long now, long ctx) {
        nowMs = now;
        if (role != Role.Leader) {
            return Optional.of(new NotLeader(leaderId));
        }
        reads.add(new PendingRead(ctx));
        if (committedInTerm()) {
            startReadRound();
        }
        return Optional.empty();
    }

    /** The leader has committed an entry of its current term (thesis section 6.4 step 1). */
    private boolean committedInTerm() {
        return commitIndex >= 0 && log.get(commitIndex).term() == term;
    }

    /** Numbers a round for every read without one, readIndex = commitIndex, heartbeats out. */
    private void startReadRound() {
        readSeq++;
        for (PendingRead r : reads) {
            if (r.seq == 0) {
                r.seq = readSeq;
                r.readIndex = commitIndex;
            }
        }
        for (int peer : cfg.peers()) {
            sendHeartbeat(peer);
        }
        confirmReads();
    }

    /** Emits Ready for every read whose round a majority (self included) acknowledged. */
    private void confirmReads() {
        if (reads.isEmpty()) {
            return;
        }
        List<Long> acked = new ArrayList<>();
        for (Progress p : progress.values()) {
            acked.add(p.readAcked);
        }
        acked.sort(Collections.reverseOrder());
        int need = quorum() - 1; // peers besides this node
        long confirmed = need == 0 ? Long.MAX_VALUE : acked.get(need - 1);
        reads.removeIf(r -> {
            if (r.seq != 0 && r.seq <= confirmed) {
                ready.reads.add(new ReadState.Ready(r.ctx, r.readIndex));
                return true;
            }
            return false;
        });
    }

    /** Leadership lost: every pending read fails, in request order. */
    private void failReads() {
        for (PendingRead r : reads) {
            ready.reads.add(new ReadState.Failed(r.ctx));
        }
        reads.clear();
    }

    // ---------------------------------------------------------------- elections

    /** Section 5.4.1: the candidate's log is at least as up-to-date as ours. */
    private boolean upToDate(VoteRequest req) {
        return req.lastLogTerm() > lastLogTerm()
                || (req.lastLogTerm() == lastLogTerm() && req.lastLogIndex() >= lastLogIndex());
    }

    /**
     * Check-quorum (thesis section 6.2): a reply from a majority, self included, within the
     * last maximum election timeout. Always true with check-quorum off.
     */
    private boolean hasQuorumContact() {
        if (!cfg.checkQuorum()) {
            return true;
        }
        int recent = 0;
        for (Progress p : progress.values()) {
            if (nowMs - p.lastReplyMs < cfg.electionMaxMs()) {
                recent++;
            }
        }
        return 1 + recent >= quorum();
    }

    /** A leader cut off from the majority steps down in the same term, keeping votedFor. */
    private void stepDownNoQuorum() {
        leaderId = CoreTypes.NONE;
        becomeFollower();
    }

    /**
     * Election timeout with pre-vote on (thesis section 9.6): stay (or return to) Follower in
     * the same term, forget the silent leader, draw a new timeout and ask every peer for a
     * pre-vote for term + 1.
     */
    private void startPrevote() {
        endPrevote();
        if (role != Role.Follower) {
            becomeFollower(); // a Candidate whose election timed out
        }
        leaderId = CoreTypes.NONE;
        resetElectionTimer();
        int forTerm = term + 1;
        ready.events.add(new Event.PreVote(forTerm));
        Set<Integer> granted = new TreeSet<>();
        granted.add(cfg.id());
        prevote = new PreVoteRound(forTerm, granted);
        if (quorum() == 1) {
            endPrevote();
            startElection();
            return;
        }
        requestVotes(forTerm, true);
    }

    /** Asks every peer, in config order, for a (pre-)vote for {@code forTerm}. */
    private void requestVotes(int forTerm, boolean preVote) {
        VoteRequest req = new VoteRequest(forTerm, cfg.id(), lastLogIndex(), lastLogTerm());
        for (int peer : cfg.peers()) {
            Message m = preVote ? new Message.PreVote(req) : new Message.Vote(req);
            ready.messages.add(new Outgoing(peer, m));
        }
    }

    /** Ends the current pre-vote round, if any, journaling its result. */
    private void endPrevote() {
        if (prevote != null) {
            ready.events.add(new Event.PreVoteResult(prevote.term(), prevote.granted().size()));
            prevote = null;
        }
    }

    /** A majority of the cluster (peers plus this node). */
    private int quorum() {
        return (cfg.peers().size() + 1) / 2 + 1;
    }

    /**
     * "If RPC request or response contains term T > currentTerm: set currentTerm = T, convert
     * to follower" (Figure 2, Rules for Servers).
     */
    private void observeTerm(int t) {
        if (t > term) {
            endPrevote(); // a round for a term this node has now reached is moot
            term = t;
            votedFor = CoreTypes.NONE;
            ready.hardState = hardState();
            ready.events.add(new Event.Term(t));
            leaderId = CoreTypes.NONE;
            if (role != Role.Follower) {
                becomeFollower();
            }
        }
    }

    /**
     * Back to Follower. The election timer starts afresh with a newly drawn timeout: a deposed
     * leader's timer dates from the election it won (etcd raft's becomeFollower does the same).
     */
    private void becomeFollower() {
        role = Role.Follower;
        failReads();
        endPrevote();
        votes.clear();
        progress.clear();
        resetElectionTimer();
        ready.events.add(new Event.Role(Role.Follower, term));
    }

    private void resetElectionTimer() {
        electionResetMs = nowMs;
        ready.resetTimer = true;
    }

    private void startElection() {
        endPrevote();
        term++;
        votedFor = cfg.id();
        role = Role.Candidate;
        leaderId = CoreTypes.NONE;
        progress.clear();
        ready.hardState = hardState();
        ready.events.add(new Event.Term(term));
        ready.events.add(new Event.Vote(term, cfg.id()));
        ready.events.add(new Event.Role(Role.Candidate, term));
        resetElectionTimer();
        votes.clear();
        votes.add(cfg.id());
        if (votes.size() >= quorum()) {
            becomeLeader();
            return;
        }
        requestVotes(term, false);
    }

    private void becomeLeader() {
        role = Role.Leader;
        leaderId = cfg.id();
        votes.clear();
        ready.events.add(new Event.Role(Role.Leader, term));
        progress.clear();
        for (int peer : cfg.peers()) {
            progress.put(peer, new Progress(log.size(), nowMs));
        }
        // Raft section 8: a no-op of the new term lets entries of earlier terms commit.
        appendOwn("");
        broadcastAppend();
        maybeCommit();
    }

    // ---------------------------------------------------------------- replication

    private int appendOwn(String command) {
        Entry e = new Entry(log.size(), term, command);
        log.add(e);
        ready.appendLog(List.of(e));
        return e.index();
    }

    private void truncateFrom(int fromIndex) {
        log.subList(fromIndex, log.size()).clear();
        ready.logOps.add(new LogOp.Truncate(fromIndex));
        ready.events.add(new Event.Truncate(fromIndex));
    }

    /** New entries go to every peer with room in its window (see {@link #sendAppends}). */
    private void broadcastAppend() {
        for (int peer : cfg.peers()) {
            sendAppends(peer);
        }
    }

    /**
     * Sends appends to {@code peer} while it lags (nextIndex <= last log index) and its progress
     * has room: one in probe, up to maxInflightAppends in replicate.
     */
    private void sendAppends(int peer) {
        Progress p = progress.get(peer);
        while (p.nextIndex <= lastLogIndex() && p.canSend(cfg.maxInflightAppends())) {
            if (!sendAppend(peer)) {
                return; // maxEntriesPerAppend = 0: nothing to send
            }
        }
    }

    private int termAt(int index) {
        return index >= 0 ? log.get(index).term() : 0;
    }

    /**
     * Sends the entries from nextIndex on (at most maxEntriesPerAppend), recorded in the peer's
     * progress as in flight. Returns whether it carried entries.
     */
    private boolean sendAppend(int peer) {
        Progress p = progress.get(peer);
        int next = Math.max(0, Math.min(p.nextIndex, log.size()));
        int end = (int) Math.min((long) next + cfg.maxEntriesPerAppend(), log.size());
        List<Entry> entries = new ArrayList<>(log.subList(next, end));
        if (!entries.isEmpty()) {
            p.onSent(end - 1, nowMs);
        }
        send(peer, p, next - 1, entries);
        return !entries.isEmpty();
    }

    /**
     * An empty AppendEntries anchored at matchIndex, which the follower is known to hold, so it
     * asserts leadership and carries the commit index without ever causing backtracking.
     */
    private void sendHeartbeat(int peer) {
        Progress p = progress.get(peer);
        send(peer, p, Math.min(p.matchIndex, log.size() - 1), List.of());
    }

    private void send(int peer, Progress p, int prev, List<Entry> entries) {
        p.lastSentMs = nowMs;
        AppendRequest req = new AppendRequest(term, cfg.id(), prev, termAt(prev), entries,
                commitIndex);
        AppendSent sent = new AppendSent(term, prev, entries.size(), readSeq);
        ready.messages.add(new Outgoing(peer, new Message.Append(req, sent)));
    }

    /**
     * "If there exists an N such that N > commitIndex, a majority of matchIndex[i] >= N, and
     * log[N].term == currentTerm: set commitIndex = N" (Figure 2; Figure 8 explains the term
     * condition). The leader counts itself: its entries are persisted before any message.
     */
    private void maybeCommit() {
        for (int n = lastLogIndex(); n > commitIndex; n--) {
            if (log.get(n).term() != term) {
                return; // older terms below: never commit them by counting replicas
            }
            int replicas = 1;
            for (Progress p : progress.values()) {
                if (p.matchIndex >= n) {
                    replicas++;
                }
            }
            if (replicas >= quorum()) {
                advanceCommit(n);
                return;
            }
        }
    }

    private void advanceCommit(int index) {
        if (index <= commitIndex) {
            return;
        }
        commitIndex = index;
        ready.events.add(new Event.Commit(index));
        while (lastApplied < commitIndex) {
            lastApplied++;
            ready.committed.add(log.get(lastApplied));
        }
        boolean waiting = reads.stream().anyMatch(r -> r.seq == 0);
        if (role == Role.Leader && waiting && committedInTerm()) {
            startReadRound();
        }
    }
}

package raftnode;

import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * The leader's view of one follower (Raft section 5.3 nextIndex and matchIndex) and the flow
 * control of its AppendEntries: a port of rust-node/progress.rs (probe and replicate states and
 * a window of in-flight appends, in the manner of etcd raft's Progress).
 *
 * <ul>
 *   <li>Probe (at leader start, after a rejection, a timeout or a failed send): at most one
 *       append carrying entries in flight; nextIndex moves only on replies.
 *   <li>Replicate (after a success that raised matchIndex): appends go out optimistically,
 *       nextIndex moves past what was sent, up to {@code maxInflight} appends carrying entries
 *       are outstanding at once.
 * </ul>
 *
 * <p>Replies may arrive late, duplicated or out of order: matchIndex only grows, nextIndex never
 * drops below matchIndex + 1, and a rejection of an append the follower has since moved past is
 * ignored. With {@code maxInflight = 1} the leader sends one append at a time.
 */
final class Progress {
    /** How the leader sends entries to a follower. */
    enum State { Probe, Replicate }

    /** An AppendEntries carrying entries, not yet answered: its last entry's index, when sent. */
    private record Inflight(int lastIndex, long sentMs) {}

    int nextIndex;
    int matchIndex = -1;
    State state = State.Probe;
    /** Appends carrying entries, oldest first. */
    private final ArrayDeque<Inflight> inflight = new ArrayDeque<>();
    /** Last AppendEntries of any kind, for the heartbeat interval (null: none yet). */
    Long lastSentMs;
    /** After a failed send, entries are retried no earlier than this. */
    long retryAtMs;
    /** Last reply of any kind (or when this node became leader): check-quorum. */
    long lastReplyMs;
    /** Highest ReadIndex round acknowledged (a reply of this term). */
    long readAcked;

    Progress(int nextIndex, long now) {
        this.nextIndex = nextIndex;
        this.lastReplyMs = now;
    }

    /**
     * Whether another append carrying entries may go out: in probe none may be in flight, in
     * replicate fewer than {@code maxInflight} (at least 1).
     */
    boolean canSend(int maxInflight) {
        if (state == State.Probe) {
            return inflight.isEmpty();
        }
        return inflight.size() < Math.max(maxInflight, 1);
    }

    int inflightCount() {
        return inflight.size();
    }

    /** An append carrying entries up to {@code last} left; in replicate nextIndex moves past it. */
    void onSent(int last, long now) {
        inflight.addLast(new Inflight(last, now));
        if (state == State.Replicate) {
            nextIndex = Math.max(nextIndex, last + 1);
        }
    }

    /** Whether the oldest append in flight was sent {@code timeoutMs} or more before now. */
    boolean oldestExpired(long now, long timeoutMs) {
        Inflight f = inflight.peekFirst();
        return f != null && now - f.sentMs() >= timeoutMs;
    }

    /**
     * Back to probe: nothing counts as in flight; from replicate nextIndex returns to
     * matchIndex + 1, in probe it stays.
     */
    void becomeProbe() {
        if (state == State.Replicate) {
            nextIndex = matchIndex + 1;
        }
        state = State.Probe;
        inflight.clear();
    }

    /**
     * A success for an append whose last entry is {@code last} (section 5.3). matchIndex and
     * nextIndex only grow; appends up to {@code last} are no longer in flight; a probe answered
     * with new progress turns into replicate, nextIndex past anything still in flight. Returns
     * whether matchIndex grew.
     */
    boolean onSuccess(int last) {
        while (!inflight.isEmpty() && inflight.peekFirst().lastIndex() <= last) {
            inflight.removeFirst();
        }
        if (last <= matchIndex) {
            return false;
        }
        matchIndex = last;
        if (state == State.Probe) {
            state = State.Replicate;
            int sentTo = inflight.isEmpty() ? last : inflight.peekLast().lastIndex();
            nextIndex = Math.max(nextIndex, sentTo + 1);
        }
        nextIndex = Math.max(nextIndex, last + 1);
        return true;
    }

    /**
     * A rejection of the append with {@code prevLogIndex} that carried entries up to {@code last}
     * ({@code last == prevLogIndex} for an empty one); {@code hinted} is the leader's reading of
     * the follower's conflict hint (thesis section 5.3). Probe: only a rejection of the append
     * sent from the current nextIndex counts. Replicate: one below matchIndex is stale, any other
     * falls back to probe. nextIndex = max(min(hinted, prevLogIndex), matchIndex + 1). Returns
     * whether nextIndex was set (false: stale, ignored).
     */
    boolean onReject(int prevLogIndex, int last, int hinted) {
        if (last > prevLogIndex) {
            remove(last);
        }
        boolean stale = state == State.Probe
                ? prevLogIndex + 1 != nextIndex
                : prevLogIndex < matchIndex;
        if (stale) {
            return false;
        }
        if (state == State.Replicate) {
            becomeProbe();
        }
        nextIndex = Math.max(Math.max(Math.min(hinted, prevLogIndex), matchIndex + 1), 0);
        return true;
    }

    /**
     * The driver could not deliver the append that carried entries up to {@code last}. Entries
     * the follower already holds need nothing; otherwise back to probe.
     */
    void onSendFailure(int last) {
        if (last <= matchIndex) {
            return;
        }
        if (state == State.Probe) {
            remove(last);
            return;
        }
        becomeProbe();
    }

    private void remove(int last) {
        for (Iterator<Inflight> it = inflight.iterator(); it.hasNext(); ) {
            if (it.next().lastIndex() == last) {
                it.remove();
                return;
            }
        }
    }
}

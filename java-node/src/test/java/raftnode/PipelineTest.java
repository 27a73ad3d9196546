package raftnode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import raftnode.CoreTypes.AppendResponse;
import raftnode.CoreTypes.AppendSent;
import raftnode.CoreTypes.HardState;
import raftnode.CoreTypes.Message;
import raftnode.CoreTypes.Outgoing;
import raftnode.CoreTypes.Role;
import raftnode.CoreTypes.VoteResponse;

/**
 * Pipelining (issue 15 section 3; Progress, a port of rust-node/progress.rs): the leader keeps
 * up to maxInflightAppends AppendEntries in flight per follower once it has matched (replicate)
 * and falls back to one at a time (probe) after a rejection, a timeout or a failed send.
 * Replies may come late, twice or out of order (section 5.3). The same decisions are in the
 * shared corpus (scenarios/leader_pipeline*.txt).
 */
class PipelineTest {
    private static final AppendResponse OK = AppendResponse.ok(1);

    private static AppendResponse reject(int conflictIndex) {
        return new AppendResponse(1, false, OptionalInt.of(conflictIndex), OptionalInt.empty());
    }

    /** An append to peer 2 as (prevLogIndex, entries) plus what the driver hands back. */
    private record Sent(int prev, int n, AppendSent sent) {}

    private static List<Sent> appendsTo2(RaftCore core) {
        List<Sent> out = new ArrayList<>();
        for (Outgoing o : core.takeReady().messages()) {
            if (o.to() == 2 && o.message() instanceof Message.Append a) {
                out.add(new Sent(a.request().prevLogIndex(), a.request().entries().size(), a.sent()));
            }
        }
        return out;
    }

    /** Node 1 of 3 leads term 1; both peers acknowledged the no-op (index 0): replicate. */
    private static RaftCore leader(int maxInflight) {
        RaftCore.Config cfg = new RaftCore.Config(1, List.of(2, 3), 50, 100, 1, 1000, 2000, false,
                false, maxInflight);
        RaftCore core = new RaftCore(cfg, new HardState(0, CoreTypes.NONE), List.of(), 0);
        core.setElectionTimeout(1000);
        core.tick(1000);
        core.takeReady();
        core.handleVoteResponse(1001, 2, new VoteResponse(1, true));
        assertEquals(Role.Leader, core.role());
        for (Outgoing o : core.takeReady().messages()) {
            if (o.message() instanceof Message.Append a) {
                core.handleAppendResponse(1002, o.to(), a.sent(), OK);
            }
        }
        core.takeReady();
        assertEquals(Progress.State.Replicate, core.progressState(2));
        return core;
    }

    /** The appends' prevLogIndex, in the order sent. */
    private static List<Integer> prevs(List<Sent> appends) {
        return appends.stream().map(Sent::prev).toList();
    }

    private static List<Sent> propose(RaftCore core, long now, int n) {
        List<Sent> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            core.propose(now, "SET k" + i + " v");
            out.addAll(appendsTo2(core));
        }
        return out;
    }

    @Test
    void windowFillsToTheLimitAndStops() {
        RaftCore core = leader(3);
        List<Sent> sent = propose(core, 1010, 5);
        assertEquals(List.of(0, 1, 2), prevs(sent));
        assertEquals(3, core.inflightCount(2));
        assertEquals(OptionalInt.of(4), core.nextIndex(2));
        core.handleAppendResponse(1080, 2, sent.get(0).sent(), OK);
        assertEquals(List.of(3), prevs(appendsTo2(core)));
    }

    @Test
    void maxInflightOneWaitsForEachReply() {
        RaftCore core = leader(1);
        List<Sent> sent = propose(core, 1010, 3);
        assertEquals(1, sent.size());
        core.handleAppendResponse(1020, 2, sent.get(0).sent(), OK);
        assertEquals(1, appendsTo2(core).size());
    }

    @Test
    void outOfOrderAndDuplicateSuccessesOnlyRaiseMatchIndex() {
        RaftCore core = leader(3);
        List<Sent> sent = propose(core, 1010, 3);
        core.handleAppendResponse(1020, 2, sent.get(2).sent(), OK);
        assertEquals(OptionalInt.of(3), core.matchIndex(2));
        assertEquals(3, core.commitIndex());
        core.takeReady();
        for (Sent s : sent) {
            core.handleAppendResponse(1021, 2, s.sent(), OK);
        }
        assertEquals(OptionalInt.of(3), core.matchIndex(2));
        assertEquals(0, core.inflightCount(2));
        assertTrue(core.takeReady().isEmpty());
    }

    @Test
    void rejectInReplicateFallsBackToProbeAndStaleRejectsAreIgnored() {
        RaftCore core = leader(3);
        List<Sent> sent = propose(core, 1010, 3);
        core.handleAppendResponse(1020, 2, sent.get(1).sent(), reject(1));
        assertEquals(Progress.State.Probe, core.progressState(2));
        assertEquals(OptionalInt.of(1), core.nextIndex(2));
        assertEquals(List.of(0), prevs(appendsTo2(core)));
        core.handleAppendResponse(1021, 2, sent.get(2).sent(), reject(1));
        assertTrue(core.takeReady().isEmpty(), "stale for the probe");
    }

    @Test
    void rejectAtMatchIndexProbesFromMatchIndexPlusOne() {
        RaftCore core = leader(3);
        List<Sent> sent = propose(core, 1010, 3);
        core.handleAppendResponse(1020, 2, sent.get(1).sent(), OK);
        core.takeReady();
        core.handleAppendResponse(1021, 2, sent.get(0).sent(), reject(0));
        assertEquals(Progress.State.Replicate, core.progressState(2), "below matchIndex: stale");
        core.handleAppendResponse(1022, 2, sent.get(2).sent(), reject(0));
        assertEquals(Progress.State.Probe, core.progressState(2));
        assertEquals(OptionalInt.of(3), core.nextIndex(2));
    }

    @Test
    void timeoutOfTheOldestAppendResetsToProbe() {
        RaftCore core = leader(3);
        propose(core, 1010, 3);
        core.tick(1209);
        core.takeReady();
        assertEquals(Progress.State.Replicate, core.progressState(2));
        core.tick(1210);
        assertEquals(Progress.State.Probe, core.progressState(2));
        assertEquals(List.of(0), prevs(appendsTo2(core)));
    }

    @Test
    void failedSendResetsToProbe() {
        RaftCore core = leader(3);
        List<Sent> sent = propose(core, 1010, 3);
        core.handleSendFailure(1015, 2, sent.get(1).sent());
        assertEquals(Progress.State.Probe, core.progressState(2));
        assertEquals(OptionalInt.of(1), core.nextIndex(2));
        assertEquals(0, core.inflightCount(2));
    }
}

package raftnode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * GETs through ReadIndex in the driver (issue 15 section 3, Raft thesis section 6.4): GETs
 * queued together are one ReadIndex request, answered from the state machine with the value
 * committed before them, and write no log entry; a follower refuses them.
 */
class CoreDriverReadTest {
    private final long[] clock = {0};
    private final List<String> answers = new ArrayList<>();

    private TestNode node() throws Exception {
        return new TestNode(1, List.of(), new Sim.MemStore(), Journal.none(1), (p, m) -> { },
                () -> clock[0], new Random(1));
    }

    private CoreDriver.Read read(String key) {
        return new CoreDriver.Read(key, (status, value, message) ->
                answers.add(status + ":" + value));
    }

    @Test
    void getsQueuedTogetherAreOneReadIndexAndWriteNoEntry() throws Exception {
        TestNode n = node();
        clock[0] += 301;
        n.tick(); // a cluster of one elects itself and commits its no-op
        assertEquals(CoreTypes.Role.Leader, n.raft().role());
        n.propose("SET k v1", (applied, result, message) -> { });
        int logLen = n.raft().log().size();
        assertTrue(n.driver.read(read("k")), "the first GET of a batch asks for a flush");
        n.driver.read(read("absent"));
        n.driver.read(read("k"));
        n.driver.flushReads();
        assertEquals(1, n.driver.readRequests(), "one ReadIndex request for the batch");
        assertEquals(logLen, n.raft().log().size(), "a read writes no log entry");
        assertEquals(Arrays.asList("CONFIRMED:v1", "CONFIRMED:null", "CONFIRMED:v1"), answers);
    }

    @Test
    void aGetOnAFollowerIsRefused() throws Exception {
        TestNode n = node();
        n.driver.read(read("k"));
        n.driver.flushReads();
        assertEquals(List.of("NOT_LEADER:null"), answers);
    }
}

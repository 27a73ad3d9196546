package raftnode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import raft.RaftServiceOuterClass.ClientRequestMessage;
import raft.RaftServiceOuterClass.ClientResponseMessage;
import raft.RaftServiceOuterClass.GetLogRequest;
import raft.RaftServiceOuterClass.GetStatusResponse;
import raft.RaftServiceOuterClass.Outcome;

/**
 * A 3-node Java cluster of real processes on loopback (ports 23101-23103): elect, commit through a
 * follower, crash the leader, elect again with the data intact, restart the crashed node from its
 * data dir and watch it catch up; finally stop everything with SIGTERM (exit 0, journal stop).
 */
class ClusterProcessTest {
    private static final int BASE_PORT = 23100;
    private static final long WAIT_MS = 15_000;

    @TempDir
    Path dir;
    private final Map<Integer, NodeProcess> nodes = new HashMap<>();

    @AfterEach
    void killEverything() {
        for (NodeProcess n : nodes.values()) {
            n.destroy();
        }
        nodes.clear();
    }

    private NodeProcess startNode(int id) throws Exception {
        List<String> args = new ArrayList<>();
        for (int p = 1; p <= 3; p++) {
            if (p != id) {
                args.add(p + "=127.0.0.1:" + (BASE_PORT + p));
            }
        }
        args.addAll(List.of("--data-dir", dir.resolve("data" + id).toString(),
                "--journal", dir.resolve("journal" + id + ".jsonl").toString(),
                "--election-timeout-ms", "300-600", "--heartbeat-ms", "50"));
        NodeProcess n = NodeProcess.start(id, BASE_PORT + id, dir.resolve("stderr" + id + ".log"), args);
        nodes.put(id, n);
        return n;
    }

    private static void waitFor(String what, BooleanSupplier cond) throws InterruptedException {
        long end = System.currentTimeMillis() + WAIT_MS;
        while (System.currentTimeMillis() < end) {
            if (cond.getAsBoolean()) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("timed out after " + WAIT_MS + " ms waiting for " + what);
    }

    private static GetStatusResponse statusOrNull(NodeProcess n) {
        try {
            return n.status();
        } catch (StatusRuntimeException e) {
            return null;
        }
    }

    /** The single leader that every live node agrees on. */
    private NodeProcess awaitLeader() throws InterruptedException {
        NodeProcess[] found = {null};
        waitFor("a leader that all live nodes follow", () -> {
            int leader = -1;
            int term = -1;
            for (NodeProcess n : nodes.values()) {
                GetStatusResponse s = statusOrNull(n);
                if (s == null || s.getLeaderId() < 0) {
                    return false;
                }
                if (leader >= 0 && (s.getLeaderId() != leader || s.getCurrentTerm() != term)) {
                    return false;
                }
                leader = s.getLeaderId();
                term = s.getCurrentTerm();
            }
            found[0] = nodes.get(leader);
            return found[0] != null && "Leader".equals(statusOrNull(found[0]).getState());
        });
        return found[0];
    }

    /** How many attempts the last {@link #requestUntilApplied} needed. */
    private int attempts;

    /** Retries until APPLIED (a retried command may have been applied by an UNKNOWN attempt). */
    private ClientResponseMessage requestUntilApplied(NodeProcess via, String command)
            throws InterruptedException {
        ClientResponseMessage[] last = {null};
        attempts = 0;
        waitFor("'" + command + "' applied via node " + via.id, () -> {
            attempts++;
            try {
                last[0] = via.request(command);
                return last[0].getOutcome() == Outcome.APPLIED;
            } catch (StatusRuntimeException e) {
                return false;
            }
        });
        assertTrue(last[0].getSuccess());
        return last[0];
    }

    @Test
    void electCommitCrashLeaderRecoverAndCatchUp() throws Exception {
        for (int id = 1; id <= 3; id++) {
            startNode(id);
        }
        NodeProcess leader = awaitLeader();
        GetStatusResponse ls = leader.status();
        assertEquals("java-node 0.1.0", ls.getImplementation());
        assertEquals(leader.id, ls.getNodeId());
        assertEquals("127.0.0.1:" + leader.port, ls.getLeaderAddress());

        NodeProcess follower = nodes.values().stream().filter(n -> n != leader).findFirst().get();
        ClientResponseMessage set = requestUntilApplied(follower, "SET color blue");
        assertEquals("OK", set.getResult(), "forwarded to the leader and relayed");
        assertEquals(leader.id, set.getLeaderId());
        ClientResponseMessage cas = requestUntilApplied(follower, "CAS color blue green");
        if (attempts == 1) {
            assertEquals("true", cas.getResult());
        }
        assertEquals("green", requestUntilApplied(leader, "GET color").getResult());
        assertFalse(requestUntilApplied(leader, "GET nothing").hasResult(), "missing key: absent");

        // A request that was already forwarded once is not forwarded again.
        Metadata md = new Metadata();
        md.put(Metadata.Key.of("x-raft-forwarded", Metadata.ASCII_STRING_MARSHALLER), "1");
        ClientResponseMessage twice = follower.stub
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
                .withDeadlineAfter(5, TimeUnit.SECONDS)
                .clientRequest(ClientRequestMessage.newBuilder().setCommand("SET color red").build());
        assertFalse(twice.getSuccess());
        assertEquals(Outcome.REJECTED, twice.getOutcome());
        assertEquals(leader.id, twice.getLeaderId());
        assertEquals("127.0.0.1:" + leader.port, twice.getLeaderAddress());
        assertEquals("green", requestUntilApplied(follower, "GET color").getResult());

        // Crash the leader: the others elect a new one that still has every committed entry.
        leader.destroy();
        nodes.remove(leader.id);
        NodeProcess second = awaitLeader();
        assertNotEquals(leader.id, second.id);
        assertEquals("green", requestUntilApplied(second, "GET color").getResult());
        requestUntilApplied(second, "SET after crash");

        // Restart the crashed node from its data dir: it rejoins and catches up.
        NodeProcess back = startNode(leader.id);
        waitFor("the restarted node to catch up", () -> {
            GetStatusResponse a = statusOrNull(second);
            GetStatusResponse b = statusOrNull(back);
            return a != null && b != null && b.getLastApplied() == a.getCommitIndex()
                    && b.getLastLogIndex() == a.getLastLogIndex() && b.getLeaderId() == second.id;
        });
        assertEquals(second.stub.getLog(GetLogRequest.getDefaultInstance()).getEntriesList(),
                back.stub.getLog(GetLogRequest.getDefaultInstance()).getEntriesList());
        assertEquals(2, back.stub.getLog(GetLogRequest.newBuilder().setFromIndex(1)
                .setMaxEntries(2).build()).getEntriesCount(), "paging");

        // Clean stop: SIGTERM gives exit 0 and a final 'stop' in each journal.
        for (NodeProcess n : List.copyOf(nodes.values())) {
            assertEquals(0, n.terminate(), "exit status of node " + n.id);
            List<String> journal = Files.readAllLines(dir.resolve("journal" + n.id + ".jsonl"));
            assertEquals("stop", TestJson.parseObject(journal.get(journal.size() - 1)).get("event"));
            nodes.remove(n.id);
        }
        List<String> first = Files.readAllLines(dir.resolve("journal" + leader.id + ".jsonl"));
        Map<String, Object> restart = first.stream().map(TestJson::parseObject)
                .filter(m -> "start".equals(m.get("event"))).skip(1).findFirst().orElseThrow();
        assertTrue((Long) restart.get("log_len") > 0, "the restart recovered its log: " + restart);
    }

    @Test
    void withoutALeaderRequestsAreRejectedWithTheOriginalMessage() throws Exception {
        NodeProcess lone = startNode(1); // its peers never start, so it can never win
        waitFor("node 1 to serve", () -> statusOrNull(lone) != null);
        ClientResponseMessage r = lone.request("SET a 1");
        assertFalse(r.getSuccess());
        assertEquals("No leader available", r.getMessage());
        assertEquals(Outcome.REJECTED, r.getOutcome());
        assertEquals(-1, r.getLeaderId());
        assertEquals("", r.getLeaderAddress());
    }
}

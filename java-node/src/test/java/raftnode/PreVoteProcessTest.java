package raftnode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import raft.RaftServiceGrpc;
import raft.RaftServiceOuterClass.AppendEntriesRequest;
import raft.RaftServiceOuterClass.ClientRequestMessage;
import raft.RaftServiceOuterClass.ClientResponseMessage;
import raft.RaftServiceOuterClass.GetStatusResponse;
import raft.RaftServiceOuterClass.Outcome;
import raft.RaftServiceOuterClass.RequestVoteRequest;
import raft.RaftServiceOuterClass.RequestVoteResponse;

/**
 * A real java-node process (node 1, port 23501) whose only peer is a scripted gRPC server in this
 * JVM (node 2, port 23502): it shows the PreVote RPC on the wire (thesis section 9.6), that an
 * UNIMPLEMENTED answer counts as a grant, that refused pre-votes never raise the term, that a
 * leader hearing no majority steps down in its term (check-quorum), and that a request forwarded
 * to a leader that went silent is answered within about one election timeout.
 */
class PreVoteProcessTest {
    private static final int NODE_PORT = 23501;
    private static final int PEER_PORT = 23502;
    private static final long WAIT_MS = 20_000;
    /** The term the test's "leader 2" claims: above anything node 1 reaches on its own first. */
    private static final int TERM = 5;

    @TempDir
    Path dir;
    private NodeProcess node;
    private Server peerServer;
    private final FakePeer peer = new FakePeer();

    /** How the scripted peer answers PreVote. */
    private enum PreVoteAnswer { UNIMPLEMENTED, REFUSE }

    /** Node 2: records the calls it gets; never answers a forwarded client request. */
    private static final class FakePeer extends RaftServiceGrpc.RaftServiceImplBase {
        volatile PreVoteAnswer preVoteAnswer = PreVoteAnswer.UNIMPLEMENTED;
        /** Grant the first RequestVote, then refuse every later pre-vote (one leadership only). */
        volatile boolean grantOneVote;
        /** "PreVote t" / "RequestVote t" in arrival order. */
        final List<String> calls = Collections.synchronizedList(new ArrayList<>());
        final List<StreamObserver<ClientResponseMessage>> held =
                Collections.synchronizedList(new ArrayList<>());

        @Override
        public void preVote(RequestVoteRequest req, StreamObserver<RequestVoteResponse> obs) {
            calls.add("PreVote " + req.getTerm());
            if (preVoteAnswer == PreVoteAnswer.UNIMPLEMENTED) {
                obs.onError(Status.UNIMPLEMENTED.withDescription("PreVote").asRuntimeException());
            } else {
                obs.onNext(RequestVoteResponse.newBuilder().setTerm(req.getTerm() - 1)
                        .setVoteGranted(false).build());
                obs.onCompleted();
            }
        }

        @Override
        public void requestVote(RequestVoteRequest req, StreamObserver<RequestVoteResponse> obs) {
            calls.add("RequestVote " + req.getTerm());
            boolean grant = grantOneVote;
            if (grant) {
                grantOneVote = false;
                preVoteAnswer = PreVoteAnswer.REFUSE;
            }
            obs.onNext(RequestVoteResponse.newBuilder().setTerm(req.getTerm())
                    .setVoteGranted(grant).build());
            obs.onCompleted();
        }

        @Override
        public void clientRequest(ClientRequestMessage req,
                StreamObserver<ClientResponseMessage> obs) {
            held.add(obs); // a leader that died with the request in hand
        }

        /** Calls that are exactly {@code what} ("PreVote 6") or of that kind ("PreVote"). */
        long count(String what) {
            synchronized (calls) {
                return calls.stream().filter(c -> c.equals(what) || c.startsWith(what + " "))
                        .count();
            }
        }
    }

    private void start(String electionTimeout) throws Exception {
        peerServer = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", PEER_PORT))
                .addService(peer).build().start();
        node = NodeProcess.start(1, NODE_PORT, dir.resolve("stderr1.log"),
                List.of("2=127.0.0.1:" + PEER_PORT, "--election-timeout-ms", electionTimeout,
                        "--heartbeat-ms", "50", "--journal", journal().toString()));
        waitFor("node 1 to serve", () -> statusOrNull() != null);
    }

    private Path journal() {
        return dir.resolve("journal1.jsonl");
    }

    /** The journal's events as "event term" strings ("role:Leader 3" for roles). */
    private List<String> journalEvents() throws java.io.IOException {
        List<String> out = new ArrayList<>();
        for (String line : java.nio.file.Files.readAllLines(journal())) {
            java.util.Map<String, Object> m = TestJson.parseObject(line);
            String event = (String) m.get("event");
            if (event.equals("role")) {
                event = "role:" + m.get("role");
            }
            out.add(event + " " + m.get("term"));
        }
        return out;
    }

    @AfterEach
    void stopEverything() throws InterruptedException {
        if (node != null) {
            node.destroy();
        }
        if (peerServer != null) {
            peerServer.shutdownNow();
            peerServer.awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private void waitFor(String what, BooleanSupplier cond) throws InterruptedException {
        long end = System.currentTimeMillis() + WAIT_MS;
        while (System.currentTimeMillis() < end) {
            if (cond.getAsBoolean()) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("timed out after " + WAIT_MS + " ms waiting for " + what
                + "; node 2 got " + peer.calls + "; node 1 says " + statusOrNull());
    }

    private GetStatusResponse statusOrNull() {
        try {
            return node.status();
        } catch (StatusRuntimeException e) {
            return null;
        }
    }

    /** An empty AppendEntries from "leader 2" in {@code term}, sent by the test itself. */
    private void heartbeatAsLeader2(int term) {
        node.stub.withDeadlineAfter(2, TimeUnit.SECONDS).appendEntries(AppendEntriesRequest
                .newBuilder().setTerm(term).setLeaderId(2).setPrevLogIndex(-1).setPrevLogTerm(0)
                .setLeaderCommit(-1).build());
    }

    @Test
    void peerThatRefusesPreVotesNeverMakesTheNodeRaiseItsTerm() throws Exception {
        peer.preVoteAnswer = PreVoteAnswer.REFUSE;
        start("150-300");
        heartbeatAsLeader2(TERM);
        waitFor("three refused pre-vote rounds after the leader fell silent",
                () -> peer.count("PreVote " + (TERM + 1)) >= 3);
        GetStatusResponse s = node.status();
        assertEquals(TERM, s.getCurrentTerm(), "a node that cannot win a pre-vote keeps its term");
        assertEquals("Follower", s.getState());
        assertEquals(-1, s.getLeaderId(), "the silent leader is forgotten");
        assertEquals(0, peer.count("RequestVote"), "never a real election: " + peer.calls);
    }

    /** Every RequestVote of term t comes after a PreVote of term t. */
    private void assertPreVotedFirst() {
        synchronized (peer.calls) {
            for (int i = 0; i < peer.calls.size(); i++) {
                String c = peer.calls.get(i);
                if (c.startsWith("RequestVote ")) {
                    String pre = "PreVote " + c.substring("RequestVote ".length());
                    assertTrue(peer.calls.subList(0, i).contains(pre),
                            c + " without " + pre + " before it: " + peer.calls);
                }
            }
        }
    }

    @Test
    void unimplementedPreVoteCountsAsAGrantAndForwardToASilentLeaderFailsWithinATimeout()
            throws Exception {
        start("600-800");
        // The test plays leader 2 and keeps heartbeating until node 1 has forwarded the request.
        AtomicBoolean beating = new AtomicBoolean(true);
        Thread heart = new Thread(() -> {
            while (beating.get()) {
                try {
                    heartbeatAsLeader2(TERM);
                    Thread.sleep(50);
                } catch (StatusRuntimeException | InterruptedException e) {
                    return;
                }
            }
        });
        heartbeatAsLeader2(TERM);
        heart.start();
        long sent = System.nanoTime();
        CompletableFuture<ClientResponseMessage> answer = CompletableFuture.supplyAsync(
                () -> node.request("SET k v"));
        try {
            waitFor("node 1 to forward the request to leader 2", () -> !peer.held.isEmpty());
        } finally {
            beating.set(false);
            heart.join();
        }
        // Leader 2 now holds the request and is silent: node 1 gives up on it when its election
        // timer fires, long before the 3 s forwarding deadline.
        ClientResponseMessage r = answer.get(WAIT_MS, TimeUnit.MILLISECONDS);
        long tookMs = (System.nanoTime() - sent) / 1_000_000;
        assertFalse(r.getSuccess());
        assertTrue(r.getMessage().contains("abandoned"),
                "given up when leader 2 fell silent, not at the deadline (" + tookMs + " ms): "
                        + r.getMessage());
        assertEquals(Outcome.UNKNOWN, r.getOutcome(), "leader 2 may have received it");
        assertTrue(r.getLeaderId() != 2, "no stale hint: " + r);

        waitFor("node 1 to start a real election after leader 2 fell silent",
                () -> peer.count("RequestVote " + (TERM + 1)) >= 1);
        assertPreVotedFirst();
        GetStatusResponse s = node.status();
        assertTrue(s.getCurrentTerm() > TERM, "UNIMPLEMENTED granted the pre-vote: " + s);
        ClientResponseMessage later = node.request("SET k v");
        assertEquals(Outcome.REJECTED, later.getOutcome(), "no leader: " + later);
    }

    @Test
    void leaderThatHearsNoMajorityStepsDownInTheSameTerm() throws Exception {
        peer.grantOneVote = true; // node 2 elects node 1 once, then answers no AppendEntries
        start("300-500");
        waitFor("node 1 to win one election", () -> peer.count("RequestVote") >= 1);
        int term;
        synchronized (peer.calls) {
            String vote = peer.calls.stream().filter(c -> c.startsWith("RequestVote "))
                    .findFirst().orElseThrow();
            term = Integer.parseInt(vote.substring("RequestVote ".length()));
        }
        waitFor("node 1 to step down after leading", () -> {
            try {
                List<String> events = journalEvents();
                int led = events.indexOf("role:Leader " + term);
                return led >= 0 && events.subList(led, events.size()).contains("role:Follower " + term);
            } catch (java.io.IOException e) {
                return false;
            }
        });
        List<String> events = journalEvents();
        List<String> afterLeading = events.subList(events.indexOf("role:Leader " + term),
                events.size());
        assertFalse(afterLeading.stream().anyMatch(e -> e.startsWith("term ")),
                "check-quorum keeps the term: " + afterLeading);
        GetStatusResponse s = node.status();
        assertEquals(term, s.getCurrentTerm());
        assertEquals("Follower", s.getState());
        assertEquals(1, s.getVotedFor(), "it keeps its vote");
        ClientResponseMessage r = node.request("SET k v");
        assertEquals(Outcome.REJECTED, r.getOutcome(), "no longer accepts client requests: " + r);
        assertEquals(1, peer.count("RequestVote"), "refused pre-votes: no new election");
    }
}

package raftnode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import raftnode.CoreTypes.AppendRequest;
import raftnode.CoreTypes.AppendResponse;
import raftnode.CoreTypes.Message;
import raftnode.CoreTypes.Role;
import raftnode.CoreTypes.VoteRequest;
import raftnode.CoreTypes.VoteResponse;

/**
 * The consensus module driven message by message, with no sockets and a manual clock.
 * Section numbers refer to the Raft paper (Ongaro and Ousterhout, 2014).
 */
class RaftCoreTest {

    /**
     * A lone node whose outgoing messages are recorded instead of sent. Peers in
     * {@code answering} acknowledge every AppendEntries, delivered after the input that sent it.
     */
    private static final class Harness {
        final long[] clock = {1_000};
        final List<Object> sent = new ArrayList<>();
        final List<VoteRequest> preVotes = new ArrayList<>();
        /** Peer of every AppendEntries sent, in order. */
        final List<Integer> appendsTo = new ArrayList<>();
        /** Peer of every AppendEntries sent that carried entries, in order. */
        final List<Integer> entriesTo = new ArrayList<>();
        final Set<Integer> answering = new HashSet<>();
        private final List<Object[]> toAnswer = new ArrayList<>();
        final Sim.MemStore store = new Sim.MemStore();
        TestNode core;

        Harness(int id, List<Integer> peers, int term, int... logTerms) throws Exception {
            this(id, peers, Journal.none(id), term, logTerms);
        }

        /** Where {@link #journaled} writes the journal; null for the other harnesses. */
        Path journalFile;

        /** Node 1 of {1, 2, 3} journaling to {@code j.jsonl} in {@code dir}. */
        static Harness journaled(Path dir, int term, int... logTerms) throws Exception {
            Path file = dir.resolve("j.jsonl");
            Harness h = new Harness(1, List.of(2, 3), Journal.open(file, 1), term, logTerms);
            h.journalFile = file;
            return h;
        }

        /** The lines of the journal so far (of a {@link #journaled} harness). */
        List<String> journalLines() throws IOException {
            return Files.readAllLines(journalFile);
        }

        Harness(int id, List<Integer> peers, Journal journal, int term, int... logTerms)
                throws Exception {
            this(id, peers, journal, new Random(7), term, logTerms);
        }

        Harness(int id, List<Integer> peers, Journal journal, Random random, int term,
                int... logTerms) throws Exception {
            store.term = term;
            for (int t : logTerms) {
                store.log.add(new Entry(store.log.size(), t, "c" + store.log.size()));
            }
            core = new TestNode(id, peers, store, journal, this::record, () -> clock[0], random);
        }

        private void record(int peer, Message m) {
            if (m instanceof Message.PreVote pv) {
                preVotes.add(pv.request());
            } else if (m instanceof Message.Vote v) {
                sent.add(v.request());
            } else if (m instanceof Message.Append a) {
                sent.add(a.request());
                appendsTo.add(peer);
                if (!a.request().entries().isEmpty()) {
                    entriesTo.add(peer);
                }
                if (answering.contains(peer)) {
                    toAnswer.add(new Object[] {peer, a.request()});
                }
            }
        }

        /** Delivers the answers of the answering peers (and of the appends those cause). */
        void answer() {
            while (!toAnswer.isEmpty()) {
                Object[] a = toAnswer.remove(0);
                AppendRequest req = (AppendRequest) a[1];
                core.onAppendEntriesResponse((Integer) a[0], req, ok(req.term()));
            }
        }

        void advance(long ms) {
            for (long i = 0; i < ms; i++) {
                clock[0]++;
                core.tick();
                answer();
            }
        }

        /** Times out, then wins the pre-vote and the election with the votes of {@code voters}. */
        void becomeLeader(int... voters) {
            advance(301);
            grantPreVotes(voters);
            VoteRequest rv = (VoteRequest) sent.get(sent.size() - 1);
            for (int v : voters) {
                core.onRequestVoteResponse(v, new VoteResponse(rv.term(), true));
            }
            answer();
            assertEquals(Role.Leader, core.raft().role());
        }

        /** Advances the clock until the next pre-vote round starts; returns its request. */
        VoteRequest nextPreVoteRound() {
            int before = preVotes.size();
            for (int i = 0; i < 1_000 && preVotes.size() == before; i++) {
                advance(1);
            }
            assertTrue(preVotes.size() > before, "no pre-vote round within 1 s");
            return preVotes.get(preVotes.size() - 1);
        }

        /** From Follower: waits out the timer, then wins pre-vote and election with node 2. */
        void becomeLeaderAgain() {
            nextPreVoteRound();
            grantPreVotes(2);
            VoteRequest rv = (VoteRequest) sent.get(sent.size() - 1);
            core.onRequestVoteResponse(2, granted(rv.term(), true));
            assertEquals(Role.Leader, core.raft().role());
        }

        /** Answers the last pre-vote round with grants from {@code voters} (in our term). */
        void grantPreVotes(int... voters) {
            VoteRequest pv = preVotes.get(preVotes.size() - 1);
            for (int v : voters) {
                core.onPreVoteResponse(v, pv, granted(core.raft().term(), true));
            }
        }
    }

    private static VoteResponse granted(int term, boolean granted) {
        return new VoteResponse(term, granted);
    }

    private static VoteRequest vote(int term, int candidate, int lastIndex, int lastTerm) {
        return new VoteRequest(term, candidate, lastIndex, lastTerm);
    }

    private static AppendRequest append(int term, int prev, int prevTerm, int commit,
            int... entryTerms) {
        List<Entry> entries = new ArrayList<>();
        for (int i = 0; i < entryTerms.length; i++) {
            entries.add(new Entry(prev + 1 + i, entryTerms[i], "e" + (prev + 1 + i)));
        }
        return new AppendRequest(term, 9, prev, prevTerm, entries, commit);
    }

    private static AppendResponse ok(int term) {
        return AppendResponse.ok(term);
    }

    private static AppendResponse refused(int term) {
        return new AppendResponse(term, false, OptionalInt.empty(), OptionalInt.empty());
    }

    private static List<Integer> terms(TestNode c) {
        List<Integer> out = new ArrayList<>();
        for (Entry e : c.entries(0, 0)) {
            out.add(e.term());
        }
        return out;
    }

    // ------------------------------------------------------------------ elections (5.2)

    @Test
    void followerThatHearsNothingPreVotesThenStartsAnElectionVotingForItself(@TempDir Path dir)
            throws Exception {
        Harness h = Harness.journaled(dir, 0);
        h.advance(149);
        assertEquals(Role.Follower, h.core.raft().role(), "no election before MIN");
        assertTrue(h.preVotes.isEmpty());
        h.advance(152);
        assertEquals(Role.Follower, h.core.raft().role(), "a pre-vote round keeps the role");
        assertEquals(0, h.core.raft().term(), "a pre-vote round does not raise the term");
        assertEquals(0, h.store.saves, "nothing persisted for a pre-vote");
        assertEquals(List.of(vote(1, 1, -1, 0), vote(1, 1, -1, 0)), h.preVotes,
                "one PreVote per peer, for currentTerm + 1");
        assertTrue(h.sent.isEmpty(), "no RequestVote before the pre-vote is won");
        h.grantPreVotes(2);
        assertEquals(Role.Candidate, h.core.raft().role());
        assertEquals(1, h.core.raft().term());
        assertEquals(1, h.core.raft().votedFor());
        assertEquals(1, h.store.term, "the new term is durable");
        assertEquals(1, h.store.votedFor, "the self-vote is durable");
        assertEquals(2, h.sent.size(), "one RequestVote per peer");
        VoteRequest rv = (VoteRequest) h.sent.get(0);
        assertEquals(vote(1, 1, -1, 0), rv);

        List<String> lines = h.journalLines();
        List<String> events = new ArrayList<>();
        for (String l : lines) {
            Map<String, Object> m = TestJson.parseObject(l);
            assertTrue(m.get("ts_us") instanceof Long);
            assertEquals(1L, m.get("node"));
            events.add((String) m.get("event"));
        }
        assertEquals(List.of("start", "role", "prevote", "prevote_result", "term", "vote", "role"),
                events);
        assertEquals("test", TestJson.parseObject(lines.get(0)).get("implementation"));
        assertEquals(1L, TestJson.parseObject(lines.get(2)).get("term"), "the term campaigned for");
        assertEquals(2L, TestJson.parseObject(lines.get(3)).get("granted"), "self + node 2");
        assertEquals("Candidate", TestJson.parseObject(lines.get(6)).get("role"));
    }

    @Test
    void candidateWithAMajorityBecomesLeaderAndAppendsANoOp() throws Exception {
        Harness h = new Harness(1, List.of(2, 3, 4, 5), 0);
        h.advance(301);
        h.grantPreVotes(2, 3);
        VoteRequest rv = (VoteRequest) h.sent.get(0);
        h.core.onRequestVoteResponse(2, granted(1, true));
        h.core.onRequestVoteResponse(3, granted(1, false));
        assertEquals(Role.Candidate, h.core.raft().role(), "2 of 5 is no majority");
        h.core.onRequestVoteResponse(2, granted(1, true));
        assertEquals(Role.Candidate, h.core.raft().role(), "a repeated vote counts once");
        h.core.onRequestVoteResponse(4, granted(1, true));
        assertEquals(Role.Leader, h.core.raft().role());
        assertEquals(1, h.core.raft().leaderId());
        assertEquals(List.of(new Entry(0, 1, "")), h.core.entries(0, 0), "section 8 no-op");
        assertEquals(-1, h.core.raft().commitIndex(), "not committed before a majority has it");
    }

    @Test
    void electionTimeoutsAreDrawnAnewWithinTheRange() throws Exception {
        Harness h = new Harness(1, List.of(2, 3), 0);
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            h.core.handleAppendEntries(append(0, -1, 0, -1)); // resets the timer
            long wait = h.core.electionDeadline() - h.clock[0];
            assertTrue(wait >= 150 && wait <= 300, "timeout " + wait + " outside 150-300");
            seen.add(wait);
        }
        assertTrue(seen.size() > 20, "timeouts should vary, saw " + seen);
    }

    @Test
    void clusterElectsOneLeaderAndReplicatesItsNoOp() throws Exception {
        Sim sim = new Sim(3, 42).startAll();
        TestNode leader = settledLeader(sim);
        for (TestNode c : sim.nodes.values()) {
            assertEquals(leader.raft().term(), c.raft().term());
            assertEquals(leader.id(), c.raft().leaderId());
            assertEquals(0, c.raft().commitIndex(), "the no-op commits everywhere");
            assertEquals(0, c.raft().lastApplied());
            if (c != leader) {
                assertEquals(Role.Follower, c.raft().role());
            }
        }
    }

    @Test
    void isolatedLeaderIsReplacedAndStepsDownWhenItReturns() throws Exception {
        Sim sim = new Sim(5, 3).startAll();
        TestNode old = sim.awaitLeader();
        sim.isolated.add(old.id());
        TestNode next = sim.awaitLeader();
        assertNotEquals(old.id(), next.id());
        assertTrue(next.raft().term() > old.raft().term());
        sim.isolated.clear();
        sim.run(200);
        assertEquals(Role.Follower, old.raft().role());
        assertEquals(next.raft().term(), old.raft().term());
        assertEquals(next.id(), old.raft().leaderId());
    }

    // ------------------------------------------------------------------ pre-vote (thesis 9.6)

    @Test
    void preVoteIsGrantedToAnUpToDateSenderAndChangesNothing(@TempDir Path dir) throws Exception {
        Harness h = Harness.journaled(dir, 2, 1, 2);
        long deadline = h.core.electionDeadline();
        int linesBefore = h.journalLines().size();
        VoteResponse r = h.core.handlePreVote(vote(3, 2, 1, 2));
        assertTrue(r.voteGranted());
        assertEquals(2, r.term(), "the reply carries the receiver's term");
        assertEquals(2, h.core.raft().term(), "no term adoption");
        assertEquals(-1, h.core.raft().votedFor(), "no vote");
        assertEquals(0, h.store.saves, "nothing persisted");
        assertEquals(deadline, h.core.electionDeadline(), "no timer reset");
        assertEquals(linesBefore, h.journalLines().size(), "nothing journaled");
        assertTrue(h.core.handlePreVote(vote(3, 3, 1, 2)).voteGranted(),
                "a pre-vote binds nothing: another sender of the same term is granted too");
    }

    @Test
    void preVoteIsRefusedForATermNotAboveOurs() throws Exception {
        Harness h = new Harness(1, List.of(2, 3), 2, 1, 2);
        VoteResponse same = h.core.handlePreVote(vote(2, 2, 5, 2));
        assertFalse(same.voteGranted(), "term == currentTerm");
        assertEquals(2, same.term());
        assertFalse(h.core.handlePreVote(vote(1, 2, 5, 2)).voteGranted(), "stale term");
        assertEquals(2, h.core.raft().term());
    }

    @Test
    void preVoteIsRefusedToALessUpToDateLog() throws Exception {
        Harness h = new Harness(1, List.of(2, 3), 2, 1, 2);
        assertFalse(h.core.handlePreVote(vote(3, 2, 9, 1)).voteGranted(),
                "longer log but older last term");
        assertFalse(h.core.handlePreVote(vote(3, 2, 0, 2)).voteGranted(),
                "same last term, shorter log");
        assertTrue(h.core.handlePreVote(vote(3, 2, 1, 2)).voteGranted(), "equal is enough");
        assertEquals(2, h.core.raft().term(), "a refusal changes nothing either");
    }

    @Test
    void preVoteIsRefusedWhileALeaderWasHeardWithinTheMinimumTimeout() throws Exception {
        Harness h = new Harness(1, List.of(2, 3), 1);
        assertTrue(h.core.handleAppendEntries(append(1, -1, 0, -1)).success());
        assertFalse(h.core.handlePreVote(vote(2, 2, -1, 0)).voteGranted(),
                "just heard from leader 9");
        h.advance(Sim.ELECTION_MIN_MS - 1);
        assertFalse(h.core.handlePreVote(vote(2, 2, -1, 0)).voteGranted(),
                "still within the minimum election timeout");
        h.advance(1);
        assertTrue(h.core.handlePreVote(vote(2, 2, -1, 0)).voteGranted(),
                "the leader has been silent for the minimum election timeout");
        assertEquals(1, h.core.raft().term());
    }

    @Test
    void leaderRefusesPreVote() throws Exception {
        Harness h = new Harness(1, List.of(2, 3), 0);
        h.becomeLeader(2);
        VoteResponse r = h.core.handlePreVote(vote(5, 3, 100, 4));
        assertFalse(r.voteGranted());
        assertEquals(1, r.term());
        assertEquals(Role.Leader, h.core.raft().role());
        assertEquals(1, h.core.raft().term());
    }

    @Test
    void refusedPreVoteRoundsNeverRaiseTheTerm() throws Exception {
        Harness h = new Harness(1, List.of(2, 3, 4, 5), 3);
        for (int round = 1; round <= 5; round++) {
            VoteRequest pv = h.nextPreVoteRound();
            assertEquals(4 * round, h.preVotes.size(), "one PreVote per peer per round");
            assertEquals(4, pv.term());
            h.core.onPreVoteResponse(2, pv, granted(3, true));
            h.core.onPreVoteResponse(3, pv, granted(3, false));
            assertEquals(Role.Follower, h.core.raft().role(), "2 of 5 is no majority");
            assertEquals(3, h.core.raft().term());
            // A late grant for a round of an obsolete term does not add up with this one (a
            // round is identified by the term it campaigns for, as in rust-node/core.rs).
            h.core.onPreVoteResponse(4, vote(3, 1, -1, 0), granted(3, true));
            assertEquals(Role.Follower, h.core.raft().role(), "stale grant counted");
        }
        assertTrue(h.sent.isEmpty(), "never a RequestVote");
        assertEquals(0, h.store.saves);
    }

    @Test
    void unimplementedPreVoteCountsAsAGrant() throws Exception {
        Harness h = new Harness(1, List.of(2, 3, 4, 5), 0);
        h.advance(301);
        VoteRequest pv = h.preVotes.get(0);
        h.core.onPreVoteUnimplemented(2, pv);
        assertEquals(Role.Follower, h.core.raft().role(), "self + one peer of five");
        h.core.onPreVoteUnimplemented(2, pv);
        assertEquals(Role.Follower, h.core.raft().role(), "a peer counts once");
        h.core.onPreVoteUnimplemented(3, pv);
        assertEquals(Role.Candidate, h.core.raft().role(), "a majority of old peers");
        assertEquals(1, h.core.raft().term());
        assertEquals(4, h.sent.size(), "RequestVote to every peer");
    }

    @Test
    void preVoteReplyWithAHigherTermIsAdoptedAndEndsTheRound() throws Exception {
        Harness h = new Harness(1, List.of(2, 3), 0);
        h.advance(301);
        VoteRequest pv = h.preVotes.get(0);
        h.core.onPreVoteResponse(2, pv, granted(5, false));
        assertEquals(5, h.core.raft().term());
        assertEquals(5, h.store.term);
        assertEquals(Role.Follower, h.core.raft().role());
        h.core.onPreVoteResponse(3, pv, granted(0, true));
        assertEquals(Role.Follower, h.core.raft().role(), "a grant for an ended round counts not");
        assertEquals(5, h.core.raft().term());
        assertTrue(h.sent.isEmpty());
    }

    @Test
    void hearingALeaderEndsThePreVoteRound() throws Exception {
        Harness h = new Harness(1, List.of(2, 3), 0);
        h.advance(301);
        VoteRequest pv = h.preVotes.get(0);
        assertEquals(-1, h.core.raft().leaderId());
        assertTrue(h.core.handleAppendEntries(append(0, -1, 0, -1)).success());
        h.core.onPreVoteResponse(2, pv, granted(0, true));
        assertEquals(Role.Follower, h.core.raft().role());
        assertEquals(0, h.core.raft().term());
        assertEquals(9, h.core.raft().leaderId());
    }

    @Test
    void electionTimeoutForgetsTheSilentLeader() throws Exception {
        Harness h = new Harness(1, List.of(2, 3), 1);
        h.core.handleAppendEntries(append(1, -1, 0, -1));
        assertEquals(9, h.core.raft().leaderId());
        h.nextPreVoteRound();
        assertEquals(-1, h.core.raft().leaderId(), "clients get 'No leader available', not a dead hint");
        assertEquals(1, h.core.raft().term());
    }

    @Test
    void candidateWhoseElectionTimesOutPreVotesAgainAsFollower() throws Exception {
        Harness h = new Harness(1, List.of(2, 3), 0);
        h.nextPreVoteRound();
        h.grantPreVotes(2);
        assertEquals(Role.Candidate, h.core.raft().role());
        h.nextPreVoteRound();
        assertEquals(Role.Follower, h.core.raft().role(), "a split vote: pre-vote again");
        assertEquals(1, h.core.raft().term(), "the term is raised only after a new pre-vote");
        assertEquals(2, h.preVotes.get(h.preVotes.size() - 1).term());
        h.grantPreVotes(3);
        assertEquals(Role.Candidate, h.core.raft().role());
        assertEquals(2, h.core.raft().term());
    }

    /** Some node other than {@code n}. */
    private static int otherThan(TestNode n) {
        return n.id() == 1 ? 2 : 1;
    }

    /** The first leader of {@code sim}, once 200 ms more have let every node hear of it. */
    private static TestNode settledLeader(Sim sim) {
        TestNode leader = sim.awaitLeader();
        sim.run(200);
        return leader;
    }

    /**
     * Heals the partition of {@code sim}; 500 ms later {@code leader} still leads (rejoining
     * nodes depose nobody) and every node follows it in {@code term}.
     */
    private static void assertHealedUnder(Sim sim, TestNode leader, int term) {
        sim.isolated.clear();
        sim.run(500);
        assertEquals(Role.Leader, leader.raft().role(), "rejoining deposes nobody");
        assertAllFollow(sim, leader, term);
    }

    /** Every node is in {@code term} and follows {@code leader}. */
    private static void assertAllFollow(Sim sim, TestNode leader, int term) {
        for (TestNode c : sim.nodes.values()) {
            assertEquals(term, c.raft().term(), "node " + c.id());
            assertEquals(leader.id(), c.raft().leaderId(), "node " + c.id());
        }
    }

    @Test
    void aNodeThatCannotReachAMajorityNeverRaisesItsTerm() throws Exception {
        Sim sim = new Sim(5, 17).startAll();
        TestNode leader = settledLeader(sim);
        int term = leader.raft().term();
        int cut = otherThan(leader);
        sim.isolated.add(cut);
        sim.run(5_000); // some 20 election timeouts
        TestNode lonely = sim.nodes.get(cut);
        assertEquals(term, lonely.raft().term(), "pre-vote rounds only: the term stays");
        assertEquals(Role.Follower, lonely.raft().role());
        assertHealedUnder(sim, leader, term);
    }

    @Test
    void aMinorityPartitionNeverRaisesItsTermAndTheMajorityElects() throws Exception {
        Sim sim = new Sim(5, 23).startAll();
        TestNode old = settledLeader(sim);
        int term = old.raft().term();
        int other = otherThan(old);
        // The old leader and one follower are cut off from the other three (and from each other).
        sim.isolated.addAll(List.of(old.id(), other));
        TestNode next = sim.awaitLeader();
        sim.run(3_000);
        assertEquals(term, old.raft().term());
        assertEquals(term, sim.nodes.get(other).raft().term());
        assertEquals(Role.Follower, old.raft().role(), "check-quorum deposed it");
        assertHealedUnder(sim, next, next.raft().term());
    }

    // ------------------------------------------------------------------ check-quorum (9.6)

    @Test
    void leaderWithoutRepliesFromAMajorityStepsDownInTheSameTerm(@TempDir Path dir)
            throws Exception {
        Harness h = Harness.journaled(dir, 0);
        h.becomeLeader(2);
        String[] answer = {null};
        assertTrue(h.core.propose("SET a 1", (applied, result, message) -> answer[0] = message) > 0);
        int saves = h.store.saves;
        h.advance(Sim.ELECTION_MAX_MS - 1);
        assertEquals(Role.Leader, h.core.raft().role(), "within the maximum election timeout");
        h.advance(1);
        assertEquals(Role.Follower, h.core.raft().role());
        assertEquals(1, h.core.raft().term(), "same term");
        assertEquals(1, h.core.raft().votedFor(), "keeps its vote");
        assertEquals(saves, h.store.saves, "nothing to persist");
        assertEquals(-1, h.core.raft().leaderId());
        assertEquals("leadership lost before the entry committed", answer[0]);
        assertEquals(-1, h.core.propose("SET b 2", (a, r, m) -> { }), "no more client requests");
        List<String> lines = h.journalLines();
        Map<String, Object> last = TestJson.parseObject(lines.get(lines.size() - 1));
        assertEquals("role", last.get("event"));
        assertEquals("Follower", last.get("role"));
        assertEquals(1L, last.get("term"));
    }

    /** A 5-node leader whose peers in {@code answering} acknowledge every AppendEntries. */
    private static Harness leaderAnsweredBy(Set<Integer> answering) throws Exception {
        Harness h = new Harness(1, List.of(2, 3, 4, 5), Journal.none(1), new Random(5), 0);
        h.answering.addAll(answering);
        h.becomeLeader(2, 3);
        return h;
    }

    @Test
    void leaderHearingFromAMajorityStaysLeaderAndStepsDownWhenItStopsHearing() throws Exception {
        Set<Integer> answering = new HashSet<>(List.of(2, 3));
        Harness h = leaderAnsweredBy(answering);
        h.advance(3_000);
        assertEquals(Role.Leader, h.core.raft().role(), "self + 2 + 3 is a majority of 5");
        h.answering.remove(3);
        h.advance(Sim.ELECTION_MAX_MS - Sim.HEARTBEAT_MS);
        assertEquals(Role.Leader, h.core.raft().role());
        h.advance(Sim.HEARTBEAT_MS + 1);
        assertEquals(Role.Follower, h.core.raft().role(), "self + 2 is not a majority of 5");
        assertEquals(1, h.core.raft().term());
    }

    // ------------------------------------------------------------------ stepping down

    private static void assertFreshTimeout(Harness h, String why) {
        long wait = h.core.electionDeadline() - h.clock[0];
        assertTrue(wait >= Sim.ELECTION_MIN_MS && wait <= Sim.ELECTION_MAX_MS,
                why + ": a fresh timeout of 150-300 ms, got " + wait);
    }

    @Test
    void leaderDeposedByAHigherTermDrawsAFreshElectionTimeout() throws Exception {
        Harness h = new Harness(1, List.of(2, 3), 0);
        h.becomeLeader(2);
        h.advance(250);
        AppendRequest sent = (AppendRequest) h.sent.get(h.sent.size() - 1);
        h.core.onAppendEntriesResponse(2, sent, refused(4));
        assertEquals(Role.Follower, h.core.raft().role());
        assertFreshTimeout(h, "deposed leader");
    }

    @Test
    void candidateDeposedByAHigherTermDrawsAFreshElectionTimeout() throws Exception {
        Harness h = new Harness(1, List.of(2, 3), 0);
        h.advance(301);
        h.grantPreVotes(2);
        assertEquals(Role.Candidate, h.core.raft().role());
        h.advance(h.core.electionDeadline() - h.clock[0] - 1); // its own timeout almost over
        VoteRequest rv = (VoteRequest) h.sent.get(h.sent.size() - 1);
        h.core.onRequestVoteResponse(2, granted(3, false));
        assertEquals(Role.Follower, h.core.raft().role());
        assertEquals(3, h.core.raft().term());
        assertFreshTimeout(h, "deposed candidate");
    }

    @Test
    void leaderDeposedByCheckQuorumDrawsAFreshElectionTimeout() throws Exception {
        Harness h = new Harness(1, List.of(2, 3), 0);
        h.becomeLeader(2);
        h.advance(Sim.ELECTION_MAX_MS + 1);
        assertEquals(Role.Follower, h.core.raft().role());
        assertFreshTimeout(h, "check-quorum step-down");
    }

    @Test
    void steppingDownDrawsANewTimeoutEachTime() throws Exception {
        Harness h = new Harness(1, List.of(2, 3), 0);
        Set<Long> waits = new HashSet<>();
        for (int i = 0; i < 30; i++) {
            h.becomeLeaderAgain();
            h.advance(Sim.ELECTION_MAX_MS + 1); // check-quorum
            assertEquals(Role.Follower, h.core.raft().role());
            waits.add(h.core.electionDeadline() - h.clock[0]);
        }
        assertTrue(waits.size() > 5, "timeouts should vary, saw " + waits);
    }

    // ------------------------------------------------------------------ vote rules (5.2, 5.4.1)

    @Test
    void grantsAtMostOneVotePerTerm() throws Exception {
        Harness h = new Harness(1, List.of(2, 3), 0);
        assertTrue(h.core.handleRequestVote(vote(1, 2, -1, 0)).voteGranted());
        assertEquals(2, h.store.votedFor, "the vote is durable before the reply");
        assertFalse(h.core.handleRequestVote(vote(1, 3, -1, 0)).voteGranted(),
                "a second candidate in the same term is refused");
        assertTrue(h.core.handleRequestVote(vote(1, 2, -1, 0)).voteGranted(),
                "the same candidate asking again is granted again");
        assertTrue(h.core.handleRequestVote(vote(2, 3, -1, 0)).voteGranted(),
                "a new term frees the vote");
        assertEquals(2, h.core.raft().term());
        assertEquals(3, h.store.votedFor);
    }

    @Test
    void refusesCandidateWhoseLastTermIsOlder() throws Exception {
        Harness h = new Harness(1, List.of(2, 3), 2, 1, 2);
        VoteResponse r = h.core.handleRequestVote(vote(3, 2, 9, 1));
        assertFalse(r.voteGranted(), "longer log but older last term");
        assertEquals(3, r.term(), "the higher term is adopted anyway");
        assertEquals(-1, h.core.raft().votedFor());
        assertTrue(h.core.handleRequestVote(vote(3, 3, 0, 3)).voteGranted(),
                "a newer last term wins even with a shorter log");
    }

    @Test
    void refusesCandidateWithShorterLogOfTheSameLastTerm() throws Exception {
        Harness h = new Harness(1, List.of(2, 3), 1, 1, 1);
        assertFalse(h.core.handleRequestVote(vote(2, 2, 0, 1)).voteGranted());
        assertTrue(h.core.handleRequestVote(vote(2, 2, 1, 1)).voteGranted(),
                "equal last term and equal length is up to date");
    }

    @Test
    void refusesStaleTermsAndStepsDownOnHigherTerms() throws Exception {
        Harness h = new Harness(1, List.of(2, 3), 4);
        h.becomeLeader(2);
        assertEquals(5, h.core.raft().term());
        VoteResponse r = h.core.handleRequestVote(vote(3, 2, 10, 3));
        assertFalse(r.voteGranted());
        assertEquals(5, r.term());
        AppendResponse stale = h.core.handleAppendEntries(append(4, -1, 0, -1));
        assertFalse(stale.success());
        assertEquals(Role.Leader, h.core.raft().role());

        AppendRequest sent = (AppendRequest) h.sent.get(h.sent.size() - 1);
        h.core.onAppendEntriesResponse(2, sent, refused(7));
        assertEquals(Role.Follower, h.core.raft().role(), "a higher term deposes at once");
        assertEquals(7, h.core.raft().term());
        assertEquals(-1, h.core.raft().votedFor());
        assertEquals(7, h.store.term);
        assertEquals(-1, h.core.raft().leaderId());
    }

    // ------------------------------------------------------------------ AppendEntries (5.3)

    @Test
    void rejectsWithLengthHintWhenTheLogIsTooShort() throws Exception {
        Harness h = new Harness(1, List.of(2, 3), 1, 1);
        AppendResponse r = h.core.handleAppendEntries(append(1, 3, 1, -1));
        assertFalse(r.success());
        assertEquals(1, r.conflictIndex().getAsInt());
        assertFalse(r.conflictTerm().isPresent());
    }

    @Test
    void rejectsWithTheConflictingTermAndItsFirstIndex() throws Exception {
        Harness h = new Harness(1, List.of(2, 3), 2, 1, 1, 2, 2, 2);
        AppendResponse r = h.core.handleAppendEntries(append(3, 4, 3, -1));
        assertFalse(r.success());
        assertEquals(2, r.conflictTerm().getAsInt());
        assertEquals(2, r.conflictIndex().getAsInt());
        assertEquals(5, h.core.entries(0, 0).size(), "a rejection deletes nothing");
    }

    @Test
    void deletesOnlyTheConflictingSuffix() throws Exception {
        Harness h = new Harness(1, List.of(2, 3), 2, 1, 1, 2, 2);
        AppendResponse r = h.core.handleAppendEntries(append(3, 0, 1, -1, 1, 3));
        assertTrue(r.success());
        assertEquals(List.of(1, 1, 3), terms(h.core));
        assertEquals(List.of(1, 1, 3), h.store.log.stream().map(Entry::term).toList(),
                "the truncation and the append are durable");
    }

    @Test
    void aStaleReorderedAppendNeverTruncates() throws Exception {
        Harness h = new Harness(1, List.of(2, 3), 1);
        assertTrue(h.core.handleAppendEntries(append(1, -1, 0, -1, 1, 1, 1, 1)).success());
        // An older request of the same leader arrives late, carrying only a prefix.
        assertTrue(h.core.handleAppendEntries(append(1, 0, 1, -1, 1)).success());
        assertEquals(4, h.core.entries(0, 0).size());
    }

    @Test
    void commitIndexIsTheMinimumOfLeaderCommitAndTheLastNewEntry() throws Exception {
        Harness h = new Harness(1, List.of(2, 3), 1);
        h.core.handleAppendEntries(append(1, -1, 0, 10, 1, 1, 1));
        assertEquals(2, h.core.raft().commitIndex());
        assertEquals(2, h.core.raft().lastApplied());
        // A heartbeat checking only index 0 must not move commit past what it verified.
        Harness h2 = new Harness(1, List.of(2, 3), 1, 1, 1, 1, 1);
        h2.core.handleAppendEntries(append(1, 0, 1, 10));
        assertEquals(0, h2.core.raft().commitIndex());
    }

    // ------------------------------------------------------------------ backtracking

    /** Leader 1 (term 4 entries) must overwrite node 2's longer log of term 2 entries. */
    private static int backtrackingRejections(boolean hints) throws Exception {
        Sim sim = new Sim(3, 11);
        int[][] logs = {{1, 1, 1, 4, 4, 4, 4, 4, 4, 4}, {1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2},
            {1, 1, 1, 4, 4, 4, 4, 4, 4, 4}};
        for (int n = 0; n < 3; n++) {
            Sim.MemStore s = sim.stores.get(n + 1);
            s.term = 4;
            for (int t : logs[n]) {
                s.log.add(new Entry(s.log.size(), t, "x"));
            }
        }
        int[] rejections = {0};
        sim.responseFilter = r -> {
            if (!r.success()) {
                rejections[0]++;
            }
            return hints ? r : new AppendResponse(r.term(), r.success(), OptionalInt.empty(),
                    OptionalInt.empty());
        };
        sim.startAll();
        TestNode leader = sim.awaitLeader();
        assertNotEquals(2, leader.id(), "node 2's log is not up to date");
        sim.run(300);
        List<Integer> expected = terms(leader);
        for (TestNode c : sim.nodes.values()) {
            assertEquals(expected, terms(c), "node " + c.id() + " converged");
            assertEquals(expected.size() - 1, c.raft().commitIndex());
        }
        return rejections[0];
    }

    @Test
    void leaderBacktracksInOneStepPerTermWithConflictHints() throws Exception {
        int r = backtrackingRejections(true);
        assertTrue(r >= 1 && r <= 2, "rejections with hints: " + r);
    }

    @Test
    void leaderBacktracksOneEntryAtATimeWithoutHints() throws Exception {
        int r = backtrackingRejections(false);
        assertTrue(r >= 7, "rejections without hints: " + r);
    }

    @Test
    void aSilentPeerNeverDelaysHeartbeatsToTheOthers() throws Exception {
        Harness h = new Harness(1, List.of(2, 3), Journal.none(1), new Random(3), 0);
        h.answering.add(3); // peer 3 answers at once; peer 2 never does
        h.becomeLeader(3);
        h.appendsTo.clear();
        h.entriesTo.clear();
        h.advance(500);
        long toPeer3 = h.appendsTo.stream().filter(p -> p == 3).count();
        assertTrue(toPeer3 >= 9, "heartbeats to peer 3 every 50 ms, got " + toPeer3);
        long toPeer2 = h.appendsTo.stream().filter(p -> p == 2).count();
        assertTrue(toPeer2 >= 9, "heartbeats never wait for the silent peer's append, got "
                + toPeer2);
        long entriesTo2 = h.entriesTo.stream().filter(p -> p == 2).count();
        assertTrue(entriesTo2 <= 2, "one append with entries in flight, presumed lost only after "
                + "2 x rpcTimeout (300 ms): none stacked up behind it, got " + entriesTo2);
        assertEquals(0, h.core.raft().commitIndex(), "peer 3 alone makes a majority with the leader");
    }

    // ------------------------------------------------------------------ commitment (5.4.2)

    @Test
    void entriesOfEarlierTermsAreNotCommittedByCountingReplicas() throws Exception {
        // Figure 8: leader of term 3 holds an entry of term 2 that was never committed.
        Harness h = new Harness(1, List.of(2, 3), 2, 1, 2);
        h.becomeLeader(2);
        assertEquals(3, h.core.raft().term());
        assertEquals(List.of(1, 2, 3), terms(h.core));
        AppendRequest upToOld = append(3, 0, 1, -1, 2);
        h.core.onAppendEntriesResponse(2, upToOld, ok(3));
        assertEquals(1, h.core.matchIndexOf(2));
        assertEquals(-1, h.core.raft().commitIndex(),
                "a majority holds index 1, but its term 2 is not the current term");
        AppendRequest upToNoOp = append(3, 1, 2, -1, 3);
        h.core.onAppendEntriesResponse(2, upToNoOp, ok(3));
        assertEquals(2, h.core.raft().commitIndex(), "the current-term entry commits, and all before it");
        assertEquals(2, h.core.raft().lastApplied());
    }

    // ------------------------------------------------------------------ client proposals

    private static String[] propose(Sim sim, TestNode leader, String command) {
        String[] out = new String[3];
        int idx = leader.propose(command, (applied, result, message) -> {
            out[0] = String.valueOf(applied);
            out[1] = result;
            out[2] = message;
        });
        assertTrue(idx >= 0);
        sim.run(100);
        return out;
    }

    @Test
    void proposalsAreAnsweredAfterCommitAndApplyWithTheirResult() throws Exception {
        Sim sim = new Sim(3, 5).startAll();
        TestNode leader = sim.awaitLeader();
        String[] pending = {null};
        leader.propose("SET a 1", (applied, result, message) -> pending[0] = result);
        assertNull(pending[0], "no answer before a majority has the entry");
        sim.run(100);
        assertEquals("OK", pending[0]);
        assertEquals("1", propose(sim, leader, "GET a")[1]);
        assertEquals("true", propose(sim, leader, "CAS a 1 2")[1]);
        assertEquals("false", propose(sim, leader, "CAS a 1 3")[1]);
        assertEquals("OK", propose(sim, leader, "DEL a")[1]);
        String[] missing = propose(sim, leader, "GET a");
        assertEquals("true", missing[0]);
        assertNull(missing[1]);
        for (TestNode c : sim.nodes.values()) {
            assertEquals(leader.raft().commitIndex(), c.raft().lastApplied(), "node " + c.id());
        }
    }

    @Test
    void followersRefuseProposals() throws Exception {
        Sim sim = new Sim(3, 5).startAll();
        TestNode leader = sim.awaitLeader();
        for (TestNode c : sim.nodes.values()) {
            if (c != leader) {
                assertEquals(-1, c.propose("SET a 1", (a, r, m) -> {
                    throw new AssertionError("must not be called");
                }));
            }
        }
    }

    @Test
    void proposalOfADeposedLeaderIsUnknownAndItsEntryOverwritten() throws Exception {
        Sim sim = new Sim(3, 9).startAll();
        TestNode old = sim.awaitLeader();
        sim.run(100);
        sim.isolated.add(old.id());
        String[] out = new String[2];
        int idx = old.propose("SET lost 1", (applied, result, message) -> {
            out[0] = String.valueOf(applied);
            out[1] = message;
        });
        // Its last reply came at most one heartbeat before the cut.
        sim.run(Sim.ELECTION_MAX_MS - Sim.HEARTBEAT_MS - 1);
        assertNull(out[0], "still waiting while isolated, within the check-quorum window");
        assertEquals(Role.Leader, old.raft().role());
        TestNode next = sim.awaitLeader();
        String[] kept = propose(sim, next, "SET kept 1");
        assertEquals("true", kept[0]);
        sim.run(Sim.ELECTION_MAX_MS + 1);
        assertEquals("false", out[0], "UNKNOWN once check-quorum deposes it, still isolated");
        sim.isolated.clear();
        sim.run(300);
        assertNotEquals("SET lost 1", old.entries(idx, 1).get(0).command(), "overwritten");
        assertEquals(terms(next), terms(old));
    }

    @Test
    void abandonedProposalIsAnsweredOnce() throws Exception {
        Sim sim = new Sim(3, 9).startAll();
        TestNode leader = sim.awaitLeader();
        sim.isolated.addAll(List.of(1, 2, 3));
        sim.isolated.remove(leader.id());
        int[] calls = {0};
        int idx = leader.propose("SET a 1", (applied, result, message) -> {
            calls[0]++;
            assertFalse(applied);
        });
        leader.abandon(idx, "timed out");
        sim.isolated.clear();
        sim.run(200);
        assertEquals(1, calls[0]);
        assertTrue(leader.raft().commitIndex() >= idx, "the entry may still commit later");
    }

    @Test
    void singleNodeClusterCommitsAlone() throws Exception {
        Sim sim = new Sim(1, 1).startAll();
        TestNode leader = sim.awaitLeader();
        assertEquals(0, leader.raft().commitIndex());
        assertEquals("OK", propose(sim, leader, "SET k v")[1]);
    }

    @Test
    void restartedNodeRebuildsItsStateMachineFromTheLeader() throws Exception {
        Sim sim = new Sim(3, 21).startAll();
        TestNode leader = sim.awaitLeader();
        propose(sim, leader, "SET x 42");
        int victim = otherThan(leader);
        TestNode restarted = sim.restart(victim);
        assertEquals(-1, restarted.raft().commitIndex(), "commit index is not durable");
        assertNull(restarted.stateMachineValue("x"));
        sim.run(200);
        assertEquals("42", restarted.stateMachineValue("x"));
        assertEquals(leader.raft().commitIndex(), restarted.raft().lastApplied());
    }
}

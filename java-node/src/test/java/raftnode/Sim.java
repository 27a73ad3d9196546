package raftnode;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import raftnode.CoreTypes.AppendResponse;
import raftnode.CoreTypes.Message;
import raftnode.CoreTypes.Role;

/**
 * A deterministic in-memory cluster of {@link TestNode}s (real drivers and cores): a manual
 * clock, a FIFO message queue, requests answered synchronously when delivered. Isolated nodes
 * lose every message to or from them (an AppendEntries sender sees a failure, as with an RPC
 * deadline; vote senders see nothing).
 */
final class Sim {
    static final long HEARTBEAT_MS = 50;
    static final long ELECTION_MIN_MS = 150;
    static final long ELECTION_MAX_MS = 300;

    /**
     * Storage that survives a simulated restart (durable, like the file store); counts state
     * saves and log appends (one fsync each in FileStorage).
     */
    static final class MemStore implements Storage {
        int term;
        int votedFor = -1;
        final List<Entry> log = new ArrayList<>();
        int saves;
        int appends;

        @Override
        public Recovered load() {
            return new Recovered(term, votedFor, new ArrayList<>(log));
        }

        @Override
        public void saveState(int t, int v) {
            term = t;
            votedFor = v;
            saves++;
        }

        @Override
        public void append(List<Entry> entries) {
            appends++;
            log.addAll(entries);
        }

        @Override
        public void truncate(int fromIndex, List<Entry> kept) {
            log.subList(fromIndex, log.size()).clear();
        }

        @Override
        public boolean durable() {
            return true;
        }
    }

    private record Msg(int from, int to, Message message) {}

    final Map<Integer, TestNode> nodes = new TreeMap<>();
    final Map<Integer, MemStore> stores = new TreeMap<>();
    final Set<Integer> isolated = new HashSet<>();
    private final Deque<Msg> queue = new ArrayDeque<>();
    private final List<Integer> ids;
    private final Random random;
    long now = 1_000;
    int appendRequestsDelivered;
    /** Rewrites every AppendEntries response (e.g. to strip conflict hints like an old peer). */
    UnaryOperator<AppendResponse> responseFilter = UnaryOperator.identity();

    Sim(int n, long seed) {
        random = new Random(seed);
        ids = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            ids.add(i);
            stores.put(i, new MemStore());
        }
    }

    Sim startAll() throws Exception {
        for (int id : ids) {
            restart(id);
        }
        return this;
    }

    /** (Re)creates node {@code id} from its store, as after a crash. */
    TestNode restart(int id) throws Exception {
        List<Integer> peers = new ArrayList<>(ids);
        peers.remove(Integer.valueOf(id));
        TestNode node = new TestNode(id, peers, stores.get(id), Journal.none(id),
                (to, m) -> queue.add(new Msg(id, to, m)), () -> now,
                new Random(random.nextLong()));
        nodes.put(id, node);
        return node;
    }

    /** Delivers queued messages (and the ones they cause) until the queue is empty. */
    void deliver() {
        int budget = 100_000;
        while (!queue.isEmpty()) {
            if (--budget == 0) {
                throw new AssertionError("message storm: queue never drained");
            }
            Msg m = queue.poll();
            TestNode from = nodes.get(m.from());
            TestNode to = nodes.get(m.to());
            boolean lost = isolated.contains(m.from()) || isolated.contains(m.to());
            if (m.message() instanceof Message.PreVote pv) {
                if (!lost) {
                    from.onPreVoteResponse(m.to(), pv.request(), to.handlePreVote(pv.request()));
                }
            } else if (m.message() instanceof Message.Vote v) {
                if (!lost) {
                    from.onRequestVoteResponse(m.to(), to.handleRequestVote(v.request()));
                }
            } else if (m.message() instanceof Message.Append a) {
                if (lost) {
                    from.onAppendEntriesFailure(m.to(), a.request());
                } else {
                    appendRequestsDelivered++;
                    AppendResponse resp =
                            responseFilter.apply(to.handleAppendEntries(a.request()));
                    from.onAppendEntriesResponse(m.to(), a.request(), resp);
                }
            }
        }
    }

    /** Advances the clock in 1 ms steps, ticking every node and delivering messages. */
    void run(long ms) {
        for (long i = 0; i < ms; i++) {
            now++;
            for (TestNode c : nodes.values()) {
                c.tick();
            }
            deliver();
        }
    }

    /** Runs until exactly one connected node leads (and returns it), failing after 10 s. */
    TestNode awaitLeader() {
        for (int i = 0; i < 10_000; i++) {
            List<TestNode> leaders = new ArrayList<>();
            for (TestNode c : nodes.values()) {
                if (c.raft().role() == Role.Leader && !isolated.contains(c.id())) {
                    leaders.add(c);
                }
            }
            if (leaders.size() == 1) {
                return leaders.get(0);
            }
            run(1);
        }
        throw new AssertionError("no single leader within 10 s of simulated time");
    }
}

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
import raft.RaftServiceOuterClass.AppendEntriesRequest;
import raft.RaftServiceOuterClass.AppendEntriesResponse;
import raft.RaftServiceOuterClass.RequestVoteRequest;

/**
 * A deterministic in-memory cluster of {@link RaftCore}s: a manual clock, a FIFO message queue
 * and request/response delivered synchronously. Isolated nodes lose every message to or from
 * them (the sender sees a failure, as with an RPC deadline). PreVote requests are delivered
 * like RequestVote, to {@link RaftCore#handlePreVote}.
 */
final class Sim {
    /** Storage that survives a simulated restart (durable, like the file store). */
    static final class MemStore implements Storage {
        int term;
        int votedFor = -1;
        final List<Entry> log = new ArrayList<>();
        int saves;

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

    private record Msg(int from, int to, Object request, boolean preVote) {}

    static final RaftCore.Timing TIMING = new RaftCore.Timing(150, 300, 50);

    final Map<Integer, RaftCore> nodes = new TreeMap<>();
    final Map<Integer, MemStore> stores = new TreeMap<>();
    final Set<Integer> isolated = new HashSet<>();
    private final Deque<Msg> queue = new ArrayDeque<>();
    private final List<Integer> ids;
    private final Random random;
    long now = 1_000;
    int appendRequestsDelivered;
    /** Rewrites every AppendEntries response (e.g. to strip conflict hints like an old peer). */
    UnaryOperator<AppendEntriesResponse> responseFilter = UnaryOperator.identity();

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
    RaftCore restart(int id) throws Exception {
        List<Integer> peers = new ArrayList<>(ids);
        peers.remove(Integer.valueOf(id));
        RaftCore.Transport t = new RaftCore.Transport() {
            @Override
            public void sendPreVote(int peer, RequestVoteRequest req) {
                queue.add(new Msg(id, peer, req, true));
            }

            @Override
            public void sendRequestVote(int peer, RequestVoteRequest req) {
                queue.add(new Msg(id, peer, req, false));
            }

            @Override
            public void sendAppendEntries(int peer, AppendEntriesRequest req) {
                queue.add(new Msg(id, peer, req, false));
            }
        };
        RaftCore core = new RaftCore(id, peers, TIMING, stores.get(id), Journal.none(id), t,
                () -> now, new Random(random.nextLong()), "sim");
        core.start();
        nodes.put(id, core);
        return core;
    }

    /** Delivers queued messages (and the ones they cause) until the queue is empty. */
    void deliver() {
        int budget = 100_000;
        while (!queue.isEmpty()) {
            if (--budget == 0) {
                throw new AssertionError("message storm: queue never drained");
            }
            Msg m = queue.poll();
            RaftCore from = nodes.get(m.from());
            RaftCore to = nodes.get(m.to());
            boolean lost = isolated.contains(m.from()) || isolated.contains(m.to());
            if (m.request() instanceof RequestVoteRequest rv && m.preVote()) {
                if (!lost) {
                    from.onPreVoteResponse(m.to(), rv, to.handlePreVote(rv));
                }
            } else if (m.request() instanceof RequestVoteRequest rv) {
                if (!lost) {
                    from.onRequestVoteResponse(m.to(), rv, to.handleRequestVote(rv));
                }
            } else {
                AppendEntriesRequest ae = (AppendEntriesRequest) m.request();
                if (lost) {
                    from.onAppendEntriesFailure(m.to());
                } else {
                    appendRequestsDelivered++;
                    AppendEntriesResponse resp = responseFilter.apply(to.handleAppendEntries(ae));
                    from.onAppendEntriesResponse(m.to(), ae, resp);
                }
            }
        }
    }

    /** Advances the clock in 1 ms steps, ticking every node and delivering messages. */
    void run(long ms) {
        for (long i = 0; i < ms; i++) {
            now++;
            for (RaftCore c : nodes.values()) {
                c.tick();
            }
            deliver();
        }
    }

    /** Runs until exactly one connected node leads (and returns it), failing after 10 s. */
    RaftCore awaitLeader() {
        for (int i = 0; i < 10_000; i++) {
            List<RaftCore> leaders = new ArrayList<>();
            for (RaftCore c : nodes.values()) {
                if (c.role() == RaftCore.Role.Leader && !isolated.contains(c.id())) {
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

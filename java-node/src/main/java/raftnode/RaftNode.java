package raftnode;

import io.grpc.ConnectivityState;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import raft.RaftServiceGrpc;
import raft.RaftServiceOuterClass.AppendEntriesRequest;
import raft.RaftServiceOuterClass.AppendEntriesResponse;
import raft.RaftServiceOuterClass.ClientRequestMessage;
import raft.RaftServiceOuterClass.ClientResponseMessage;
import raft.RaftServiceOuterClass.GetLogRequest;
import raft.RaftServiceOuterClass.GetLogResponse;
import raft.RaftServiceOuterClass.GetStatusRequest;
import raft.RaftServiceOuterClass.GetStatusResponse;
import raft.RaftServiceOuterClass.Outcome;
import raft.RaftServiceOuterClass.RequestVoteRequest;
import raft.RaftServiceOuterClass.RequestVoteResponse;
import raftnode.CoreTypes.AppendRequest;
import raftnode.CoreTypes.Message;
import raftnode.CoreTypes.PreVoteReply;
import raftnode.CoreTypes.VoteRequest;

/**
 * A running node: the gRPC server and peer channels around one {@link CoreDriver} (which runs
 * the pure {@link RaftCore}). All Raft state is owned by a single event-loop thread
 * ({@code raft-loop}); gRPC threads only post tasks to it and callbacks hop back onto it, so
 * nothing in the core is ever touched concurrently. Protobuf conversion is in {@link Wire}.
 */
final class RaftNode {
    static final String IMPLEMENTATION = "java-node 0.1.0";
    static final String NO_LEADER = "No leader available";
    static final long CLIENT_DEADLINE_MS = 3000;
    private static final Logger LOG = Logger.getLogger(RaftNode.class.getName());
    private static final Metadata.Key<String> FORWARDED_HEADER =
            Metadata.Key.of("x-raft-forwarded", Metadata.ASCII_STRING_MARSHALLER);
    private static final Context.Key<Boolean> FORWARDED = Context.key("x-raft-forwarded");
    /** Reconnect attempts to a failing peer are forced at most this often (grpc backoff grows to 2 min). */
    private static final long RESET_BACKOFF_EVERY_MS = 100;

    /** A start-up failure: the message is printed as {@code error: <message>}, exit 1. */
    static final class StartupException extends Exception {
        private static final long serialVersionUID = 1L;

        StartupException(String message) {
            super(message);
        }
    }

    private final Config config;
    private final ScheduledExecutorService loop;
    private final Map<Integer, PeerClient> clients = new HashMap<>();
    private final Journal journal;
    private final Storage storage;
    private final CoreDriver driver;
    private final long rpcTimeoutMs;
    private final AtomicBoolean stopped = new AtomicBoolean();
    /** Set by the loop itself once 'stop' is journaled: later tasks (ticks, RPCs) do nothing. */
    private boolean halted;
    private final CountDownLatch terminated = new CountDownLatch(1);
    private Server server;
    /** Client requests forwarded to a leader and not yet answered. Loop thread only. */
    private final List<Forward> forwards = new ArrayList<>();

    /**
     * One forwarded client request: the leader it went to and the context that cancels it. When
     * this node stops following that leader (its election timer fired without a heartbeat, or
     * another leader took over) the forward is cancelled and answered with {@code abandoned}, so a
     * request sent to a dead leader costs at most one election timeout, not the 3 s deadline.
     */
    private static final class Forward {
        final int leader;
        final Context.CancellableContext context = Context.ROOT.withCancellation();
        /** Set (on the loop) just before the context is cancelled; read by the call's callback. */
        volatile ClientResponseMessage abandoned;

        Forward(int leader) {
            this.leader = leader;
        }
    }

    private final class PeerClient {
        final Config.Peer peer;
        final ManagedChannel channel;
        final RaftServiceGrpc.RaftServiceStub stub;
        volatile long lastReset;
        private ConnectivityState reported = ConnectivityState.IDLE;

        PeerClient(Config.Peer peer) {
            this.peer = peer;
            this.channel = NettyChannelBuilder.forAddress(peer.host(), peer.port())
                    .usePlaintext()
                    .directExecutor() // callbacks only post to the loop
                    .disableRetry()
                    .build();
            this.stub = RaftServiceGrpc.newStub(channel);
        }

        RaftServiceGrpc.RaftServiceStub call(long timeoutMs) {
            return stub.withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS);
        }

        /** Raft RPCs wait (within their deadline) for a connection that is being re-established. */
        RaftServiceGrpc.RaftServiceStub raftCall() {
            return stub.withDeadlineAfter(rpcTimeoutMs, TimeUnit.MILLISECONDS).withWaitForReady();
        }

        /**
         * grpc's reconnect backoff grows to two minutes, and pick-first keeps the channel in
         * TRANSIENT_FAILURE while it backs off, so no state change tells us when to retry. A
         * restarted peer must rejoin within about a second, so a periodic task (every
         * RESET_BACKOFF_EVERY_MS) cuts the backoff short while a peer is unreachable; this
         * watcher only logs reachability changes.
         */
        void watch() {
            ConnectivityState state = channel.getState(false);
            if (state == ConnectivityState.SHUTDOWN) {
                return;
            }
            if (state == ConnectivityState.READY && reported != ConnectivityState.READY) {
                LOG.info(() -> "peer " + peer.id() + " at " + peer.address() + " is reachable");
                reported = state;
            } else if (state == ConnectivityState.TRANSIENT_FAILURE
                    && reported == ConnectivityState.READY) {
                LOG.info(() -> "peer " + peer.id() + " at " + peer.address() + " is unreachable");
                reported = state;
            }
            channel.notifyWhenStateChanged(state, this::watch);
        }

        void resetBackoff() {
            long now = System.nanoTime() / 1_000_000;
            if (now - lastReset >= RESET_BACKOFF_EVERY_MS / 2
                    && channel.getState(false) == ConnectivityState.TRANSIENT_FAILURE) {
                lastReset = now;
                channel.resetConnectBackoff();
            }
        }

        void failed(Throwable t) {
            if (Status.fromThrowable(t).getCode() == Status.Code.UNAVAILABLE) {
                resetBackoff();
            }
        }
    }

    private RaftNode(Config config, Storage storage, Journal journal) {
        this.config = config;
        this.storage = storage;
        this.journal = journal;
        this.rpcTimeoutMs = config.electionMinMs();
        this.loop = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "raft-loop");
            t.setDaemon(false);
            return t;
        });
        for (Config.Peer p : config.peers()) {
            clients.put(p.id(), new PeerClient(p));
        }
        List<Integer> peerIds = config.peers().stream().map(Config.Peer::id).toList();
        RaftCore.Config coreConfig = new RaftCore.Config(config.id(), peerIds, config.heartbeatMs(),
                rpcTimeoutMs, MAX_ENTRIES_PER_APPEND, config.electionMinMs(), config.electionMaxMs(),
                true, true, config.maxInflightAppends());
        this.driver = new CoreDriver(coreConfig, storage, journal, this::send,
                () -> System.nanoTime() / 1_000_000, new Random(), IMPLEMENTATION, this::post);
    }

    /** At most this many entries per AppendEntries, so a lagging peer catches up in bounded steps. */
    static final int MAX_ENTRIES_PER_APPEND = 256;

    /** Opens storage and journal, recovers, binds the port and starts serving. */
    static RaftNode start(Config config) throws StartupException {
        Storage storage;
        if (config.dataDir() != null) {
            try {
                storage = FileStorage.open(config.dataDir());
            } catch (IOException e) {
                throw new StartupException("--data-dir " + config.dataDir()
                        + ": cannot create or write: " + describe(e));
            }
        } else {
            storage = Storage.inMemory();
        }
        Journal journal;
        if (config.journal() != null) {
            try {
                journal = Journal.open(config.journal(), config.id());
            } catch (IOException e) {
                throw new StartupException("--journal " + config.journal() + ": cannot open: "
                        + describe(e));
            }
        } else {
            journal = Journal.none(config.id());
        }
        InetSocketAddress bindAddress = new InetSocketAddress(config.host(), config.port());
        if (bindAddress.isUnresolved()) {
            throw new StartupException("--host " + config.host() + ": cannot resolve the address");
        }
        // Probe the port before recovering, so a clash does not leave a 'start' in the journal.
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(bindAddress);
        } catch (IOException e) {
            throw new StartupException("port " + config.port() + " on " + config.host()
                    + ": cannot listen: " + describe(e));
        }
        RaftNode node = new RaftNode(config, storage, journal);
        try {
            node.driver.start();
        } catch (IOException | UncheckedIOException e) {
            node.closeChannels();
            node.loop.shutdownNow();
            throw new StartupException("--data-dir " + config.dataDir() + ": cannot recover: "
                    + e.getMessage());
        }
        try {
            node.server = NettyServerBuilder.forAddress(bindAddress)
                    .directExecutor() // handlers only post to the loop
                    .addService(ServerInterceptors.intercept(node.new Service(), new ForwardedInterceptor()))
                    .build()
                    .start();
        } catch (IOException e) {
            node.closeChannels();
            node.loop.shutdownNow();
            throw new StartupException("port " + config.port() + " on " + config.host()
                    + ": cannot listen: " + describe(e));
        }
        for (PeerClient c : node.clients.values()) {
            c.channel.getState(true); // connect now, so the first election does not wait for it
            c.watch();
        }
        node.loop.scheduleAtFixedRate(() -> {
            for (PeerClient c : node.clients.values()) {
                c.resetBackoff();
            }
        }, RESET_BACKOFF_EVERY_MS, RESET_BACKOFF_EVERY_MS, TimeUnit.MILLISECONDS);
        // Binding the server can take a while on a cold JVM: count the first election timeout from
        // now, when peers can reach us, not from recovery.
        node.post(node.driver::armElectionTimer);
        long tickMs = Math.max(1, Math.min(10, config.heartbeatMs() / 2));
        node.loop.scheduleAtFixedRate(() -> node.onLoop(node.driver::tick), tickMs, tickMs,
                TimeUnit.MILLISECONDS);
        if (!storage.durable()) {
            LOG.info("no --data-dir: state is in memory only");
        }
        LOG.info(() -> "node " + config.id() + " listening on " + config.host() + ":"
                + config.port() + " with " + config.peers().size() + " peer(s)");
        return node;
    }

    static String describe(Throwable e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileAlreadyExistsException) {
            return "a file is in the way (" + ((FileSystemException) e).getFile() + ")";
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or directory (" + ((FileSystemException) e).getFile() + ")";
        }
        if (e instanceof FileSystemException fse && fse.getReason() != null) {
            return fse.getReason().toLowerCase();
        }
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String msg = root.getMessage();
        return msg == null ? root.getClass().getSimpleName() : msg.toLowerCase();
    }

    // ---------------------------------------------------------------- the event loop

    /** Runs a task on the loop; a storage failure is fatal (fail-stop), anything else is logged. */
    private void onLoop(Runnable task) {
        if (halted) {
            return;
        }
        try {
            task.run();
            if (!forwards.isEmpty()) {
                abandonStaleForwards();
            }
        } catch (UncheckedIOException e) {
            System.err.println("error: storage failed: " + e.getMessage() + ": " + describe(e.getCause()));
            Runtime.getRuntime().halt(1);
        } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, "unexpected error in the raft loop", e);
        }
    }

    /** Posts to the loop; false when the node is stopping. */
    private boolean post(Runnable task) {
        try {
            loop.execute(() -> onLoop(task));
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }

    // ---------------------------------------------------------------- outgoing RPCs

    /** Sends one of the core's messages; its answer (or failure) is posted back to the loop. */
    private void send(int peer, Message message) {
        if (message instanceof Message.PreVote m) {
            sendPreVote(peer, m.request());
        } else if (message instanceof Message.Vote m) {
            sendRequestVote(peer, m.request());
        } else if (message instanceof Message.Append m) {
            sendAppendEntries(peer, m.request(), m.sent());
        }
    }

    /** PreVote: UNIMPLEMENTED (an original-protocol peer) counts as a grant; other errors do not. */
    private void sendPreVote(int peer, VoteRequest req) {
        PeerClient c = clients.get(peer);
        c.raftCall().preVote(Wire.toPb(req), new Unary<>() {
            @Override
            void ok(RequestVoteResponse resp) {
                post(() -> driver.handlePrevoteResponse(peer, req.term(),
                        new PreVoteReply.Answer(Wire.fromPb(resp))));
            }

            @Override
            void failed(Throwable t) {
                c.failed(t);
                if (Status.fromThrowable(t).getCode() == Status.Code.UNIMPLEMENTED) {
                    post(() -> driver.handlePrevoteResponse(peer, req.term(),
                            new PreVoteReply.Unimplemented()));
                }
            }
        });
    }

    private void sendRequestVote(int peer, VoteRequest req) {
        PeerClient c = clients.get(peer);
        c.raftCall().requestVote(Wire.toPb(req), new Unary<>() {
            @Override
            void ok(RequestVoteResponse resp) {
                post(() -> driver.handleVoteResponse(peer, Wire.fromPb(resp)));
            }

            @Override
            void failed(Throwable t) {
                c.failed(t);
            }
        });
    }

    private void sendAppendEntries(int peer, AppendRequest req, CoreTypes.AppendSent sent) {
        PeerClient c = clients.get(peer);
        c.raftCall().appendEntries(Wire.toPb(req), new Unary<>() {
            @Override
            void ok(AppendEntriesResponse resp) {
                post(() -> driver.handleAppendResponse(peer, sent, Wire.fromPb(resp)));
            }

            @Override
            void failed(Throwable t) {
                c.failed(t);
                LOG.finer(() -> "append to " + peer + " failed: " + Status.fromThrowable(t));
                post(() -> driver.handleSendFailure(peer, sent));
            }
        });
    }

    /** A unary-call observer with one ok and one failed callback, each called exactly once overall. */
    private abstract static class Unary<T> implements StreamObserver<T> {
        private T value;

        abstract void ok(T value);

        abstract void failed(Throwable t);

        @Override
        public void onNext(T v) {
            value = v;
        }

        @Override
        public void onError(Throwable t) {
            failed(t);
        }

        @Override
        public void onCompleted() {
            if (value == null) {
                failed(new IllegalStateException("no response"));
            } else {
                ok(value);
            }
        }
    }

    // ---------------------------------------------------------------- incoming RPCs

    private static final class ForwardedInterceptor implements ServerInterceptor {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                ServerCallHandler<Q, R> next) {
            boolean forwarded = "1".equals(headers.get(FORWARDED_HEADER));
            return Contexts.interceptCall(Context.current().withValue(FORWARDED, forwarded), call,
                    headers, next);
        }
    }

    private static <T> void reply(StreamObserver<T> obs, T value) {
        try {
            obs.onNext(value);
            obs.onCompleted();
        } catch (StatusRuntimeException | IllegalStateException e) {
            // the caller went away (cancelled or deadline); nothing to tell it
        }
    }

    private static <T> void unavailable(StreamObserver<T> obs) {
        try {
            obs.onError(Status.UNAVAILABLE.withDescription("node is stopping").asRuntimeException());
        } catch (IllegalStateException ignored) {
            // already closed
        }
    }

    /** Computes the reply on the loop and sends it; UNAVAILABLE when the node is stopping. */
    private <T> void answer(StreamObserver<T> obs, java.util.function.Supplier<T> reply) {
        if (!post(() -> reply(obs, reply.get()))) {
            unavailable(obs);
        }
    }

    private final class Service extends RaftServiceGrpc.RaftServiceImplBase {
        @Override
        public void preVote(RequestVoteRequest req, StreamObserver<RequestVoteResponse> obs) {
            answer(obs, () -> Wire.toPb(driver.handlePrevoteRequest(Wire.fromPb(req))));
        }

        @Override
        public void requestVote(RequestVoteRequest req, StreamObserver<RequestVoteResponse> obs) {
            answer(obs, () -> Wire.toPb(driver.handleVoteRequest(Wire.fromPb(req))));
        }

        @Override
        public void appendEntries(AppendEntriesRequest req, StreamObserver<AppendEntriesResponse> obs) {
            answer(obs, () -> Wire.toPb(driver.handleAppendRequest(Wire.fromPb(req))));
        }

        @Override
        public void getStatus(GetStatusRequest req, StreamObserver<GetStatusResponse> obs) {
            answer(obs, RaftNode.this::status);
        }

        @Override
        public void getLog(GetLogRequest req, StreamObserver<GetLogResponse> obs) {
            int from = req.hasFromIndex() ? Math.max(0, req.getFromIndex()) : 0;
            int max = req.hasMaxEntries() && req.getMaxEntries() > 0 ? req.getMaxEntries() : 0;
            answer(obs, () -> {
                GetLogResponse.Builder b = GetLogResponse.newBuilder();
                for (Entry e : page(driver.core().log(), from, max)) {
                    b.addEntries(Wire.toPb(e));
                }
                return b.build();
            });
        }

        @Override
        public void clientRequest(ClientRequestMessage req, StreamObserver<ClientResponseMessage> obs) {
            boolean forwarded = Boolean.TRUE.equals(FORWARDED.get());
            if (!post(() -> handleClientRequest(req.getCommand(), forwarded, obs))) {
                unavailable(obs);
            }
        }
    }

    /** A page of the log: from {@code from} (>= 0), at most {@code max} entries (0 = no limit). */
    static List<Entry> page(List<Entry> log, int from, int max) {
        int start = Math.max(0, Math.min(from, log.size()));
        int end = max > 0 ? (int) Math.min((long) start + max, log.size()) : log.size();
        return new ArrayList<>(log.subList(start, end));
    }

    private GetStatusResponse status() {
        RaftCore core = driver.core();
        return GetStatusResponse.newBuilder()
                .setState(core.role().name())
                .setCurrentTerm(core.term())
                .setVotedFor(core.votedFor())
                .setLeaderId(core.leaderId())
                .setNodeId(config.id())
                .setCommitIndex(core.commitIndex())
                .setLastApplied(core.lastApplied())
                .setLastLogIndex(core.lastLogIndex())
                .setLastLogTerm(core.lastLogTerm())
                .setImplementation(IMPLEMENTATION)
                .setLeaderAddress(leaderAddress(core.leaderId()))
                .build();
    }

    private String leaderAddress(int leader) {
        if (leader == config.id()) {
            return new Config.Peer(config.id(), config.host(), config.port()).address();
        }
        PeerClient c = clients.get(leader);
        return c == null ? "" : c.peer.address();
    }

    /** A response carrying the current leader hint. Loop thread only. */
    private ClientResponseMessage.Builder answer(boolean success, String message, Outcome outcome) {
        int leader = driver.core().leaderId();
        return ClientResponseMessage.newBuilder().setSuccess(success).setMessage(message)
                .setOutcome(outcome).setLeaderId(leader).setLeaderAddress(leaderAddress(leader));
    }

    private void handleClientRequest(String command, boolean forwarded,
            StreamObserver<ClientResponseMessage> obs) {
        if (driver.core().role() == CoreTypes.Role.Leader && isGet(command)) {
            read(command.substring("GET ".length()), obs);
            return;
        }
        if (driver.core().role() == CoreTypes.Role.Leader) {
            int[] index = {-1};
            index[0] = driver.propose(command, (applied, result, message) -> {
                ClientResponseMessage.Builder b = applied
                        ? answer(true, "applied", Outcome.APPLIED)
                        : answer(false, message, Outcome.UNKNOWN);
                if (applied && result != null) {
                    b.setResult(result);
                }
                reply(obs, b.build());
            });
            if (index[0] >= 0) {
                loop.schedule(() -> onLoop(() -> driver.abandon(index[0],
                        "not committed within " + CLIENT_DEADLINE_MS + " ms")),
                        CLIENT_DEADLINE_MS, TimeUnit.MILLISECONDS);
            }
            return;
        }
        int leader = driver.core().leaderId();
        PeerClient target = clients.get(leader);
        if (leader < 0 || target == null) {
            reply(obs, answer(false, NO_LEADER, Outcome.REJECTED).build());
            return;
        }
        if (forwarded) {
            reply(obs, answer(false, "not the leader; leader is " + leader, Outcome.REJECTED).build());
            return;
        }
        forward(command, leader, target, obs);
    }

    private static boolean isGet(String command) {
        String[] w = command.split(" ", -1);
        return w.length == 2 && w[0].equals("GET") && !w[1].isEmpty();
    }

    /**
     * A linearizable GET through ReadIndex (thesis section 6.4), no log entry written. A read
     * that was not confirmed did not happen: REJECTED with the leader hint (a definite failure,
     * the client may retry anywhere); no answer within the client deadline: UNKNOWN.
     */
    private void read(String key, StreamObserver<ClientResponseMessage> obs) {
        CoreDriver.Read r = new CoreDriver.Read(key, (status, value, message) -> {
            ClientResponseMessage.Builder b = switch (status) {
                case CONFIRMED -> answer(true, "read (ReadIndex)", Outcome.APPLIED);
                case NOT_LEADER -> answer(false, message, Outcome.REJECTED);
                case TIMED_OUT, SHUTDOWN -> answer(false, message, Outcome.UNKNOWN);
            };
            if (status == CoreDriver.Read.Status.CONFIRMED && value != null) {
                b.setResult(value);
            }
            reply(obs, b.build());
        });
        if (driver.read(r)) {
            post(driver::flushReads);
        }
        loop.schedule(() -> onLoop(() -> r.finish(CoreDriver.Read.Status.TIMED_OUT, null,
                "timed out: read not confirmed within " + CLIENT_DEADLINE_MS + " ms")),
                CLIENT_DEADLINE_MS, TimeUnit.MILLISECONDS);
    }

    /** Forwards a client request to {@code leader} and relays its answer (contract section 4). */
    private void forward(String command, int leader, PeerClient target,
            StreamObserver<ClientResponseMessage> obs) {
        Metadata md = new Metadata();
        md.put(FORWARDED_HEADER, "1");
        String hintAddress = target.peer.address();
        Forward f = new Forward(leader);
        forwards.add(f);
        f.context.run(() -> target.call(CLIENT_DEADLINE_MS)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
                .clientRequest(ClientRequestMessage.newBuilder().setCommand(command).build(),
                        new Unary<>() {
                            @Override
                            void ok(ClientResponseMessage resp) {
                                finished(f);
                                reply(obs, resp);
                            }

                            @Override
                            void failed(Throwable t) {
                                finished(f);
                                ClientResponseMessage abandoned = f.abandoned;
                                if (abandoned != null) {
                                    reply(obs, abandoned);
                                    return;
                                }
                                target.failed(t);
                                // No connection to the leader: the request was never sent, so it
                                // certainly did not happen. Anything else may have reached it.
                                boolean neverSent = causedBy(t, ConnectException.class);
                                reply(obs, ClientResponseMessage.newBuilder().setSuccess(false)
                                        .setMessage("forward to leader " + leader + " failed: "
                                                + Status.fromThrowable(t).getCode()
                                                + (neverSent ? " (not connected)" : ""))
                                        .setOutcome(neverSent ? Outcome.REJECTED : Outcome.UNKNOWN)
                                        .setLeaderId(leader)
                                        .setLeaderAddress(hintAddress).build());
                            }
                        }));
    }

    /** A forward was answered: forget it (on the loop) and release its context. */
    private void finished(Forward f) {
        post(() -> {
            forwards.remove(f);
            f.context.cancel(null);
        });
    }

    /**
     * Cancels every forward whose leader this node no longer follows, answering it UNKNOWN (the
     * old leader may have received it) with the current leader hint. Loop thread only.
     */
    private void abandonStaleForwards() {
        int leader = driver.core().leaderId();
        for (Forward f : new ArrayList<>(forwards)) {
            if (f.leader != leader) {
                forwards.remove(f);
                f.abandoned = answer(false, "forward to leader " + f.leader
                        + " abandoned: no longer the leader ("
                        + (leader < 0 ? "no leader known" : "leader is " + leader) + ")",
                        Outcome.UNKNOWN).build();
                f.context.cancel(null);
            }
        }
    }

    private static boolean causedBy(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }

    // ---------------------------------------------------------------- shutdown

    /** Clean stop: journal {@code stop}, close the server and channels. Idempotent. */
    void stop() {
        if (!stopped.compareAndSet(false, true)) {
            return;
        }
        CountDownLatch done = new CountDownLatch(1);
        boolean posted = post(() -> {
            driver.shutdown();
            journal.write(journal.event("stop"));
            halted = true;
            done.countDown();
        });
        if (posted) {
            waitQuietly(() -> done.await(2, TimeUnit.SECONDS));
        }
        if (server != null) {
            server.shutdown();
            waitQuietly(() -> server.awaitTermination(500, TimeUnit.MILLISECONDS));
            server.shutdownNow();
        }
        closeChannels();
        loop.shutdownNow();
        waitQuietly(() -> loop.awaitTermination(1, TimeUnit.SECONDS));
        journal.close();
        if (storage instanceof FileStorage fs) {
            logStats(fs.stats());
            try {
                fs.close();
            } catch (IOException ignored) {
                // the data is already durable
            }
        }
        terminated.countDown();
    }

    /**
     * The "storage stats" line benches/cluster/throughput.sh reads (fsyncs per acknowledged
     * write). Straight to stderr: at a signal, java.util.logging's own shutdown hook may already
     * have closed its handlers.
     */
    private void logStats(FileStorage.Stats st) {
        LogRecord r = new LogRecord(Level.INFO, "storage stats fsyncs=" + st.fsyncs()
                + " appends=" + st.appends() + " entries=" + st.entries()
                + " proposal_flushes=" + driver.flushes());
        r.setLoggerName(RaftNode.class.getName());
        System.err.print(new Main.OneLineFormatter().format(r));
        System.err.flush();
    }

    private void closeChannels() {
        for (PeerClient c : clients.values()) {
            c.channel.shutdownNow();
        }
    }

    /** A bounded wait that may be interrupted. */
    interface Wait {
        void run() throws InterruptedException;
    }

    /** Runs a bounded wait; an interrupt ends it early and stays set for the caller. */
    static void waitQuietly(Wait wait) {
        try {
            wait.run();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    void awaitTermination() throws InterruptedException {
        terminated.await();
    }
}

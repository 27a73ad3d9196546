package raftnode;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import raft.RaftServiceGrpc;
import raft.RaftServiceOuterClass.ClientRequestMessage;
import raft.RaftServiceOuterClass.ClientResponseMessage;
import raft.RaftServiceOuterClass.GetStatusRequest;
import raft.RaftServiceOuterClass.GetStatusResponse;

/**
 * A node started as a real process ({@code java -cp <test class path> raftnode.Main}) plus a
 * gRPC client to it. Tests must call {@link #destroy()} (in @AfterEach) so nothing outlives them.
 */
final class NodeProcess implements AutoCloseable {
    final int id;
    final int port;
    final Path stderr;
    private final Process process;
    private final ManagedChannel channel;
    final RaftServiceGrpc.RaftServiceBlockingStub stub;

    private NodeProcess(int id, int port, Path stderr, Process process) {
        this.id = id;
        this.port = port;
        this.stderr = stderr;
        this.process = process;
        this.channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
        this.stub = RaftServiceGrpc.newBlockingStub(channel);
    }

    static List<String> javaCommand(List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xss512k", "-Xmx256m",
                "-cp", System.getProperty("java.class.path"), "raftnode.Main"));
        cmd.addAll(args);
        return cmd;
    }

    static NodeProcess start(int id, int port, Path stderr, List<String> args) throws IOException {
        List<String> all = new ArrayList<>(List.of(String.valueOf(id), String.valueOf(port)));
        all.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(javaCommand(all))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.appendTo(stderr.toFile()));
        return new NodeProcess(id, port, stderr, pb.start());
    }

    GetStatusResponse status() {
        return stub.withDeadlineAfter(500, TimeUnit.MILLISECONDS).getStatus(
                GetStatusRequest.getDefaultInstance());
    }

    ClientResponseMessage request(String command) {
        return stub.withDeadlineAfter(5, TimeUnit.SECONDS).clientRequest(
                ClientRequestMessage.newBuilder().setCommand(command).build());
    }

    boolean alive() {
        return process.isAlive();
    }

    /** SIGTERM; returns the exit code (or -1 if it did not exit in time and had to be killed). */
    int terminate() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            destroy();
            return -1;
        }
        return process.exitValue();
    }

    /** kill -9, as a crash. */
    void destroy() {
        process.destroyForcibly();
        RaftNode.waitQuietly(() -> process.waitFor(10, TimeUnit.SECONDS));
        channel.shutdownNow();
    }

    @Override
    public void close() {
        destroy();
    }
}

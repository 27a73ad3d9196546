package raftnode;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.File;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import raft.RaftServiceGrpc;
import raft.RaftServiceOuterClass.GetStatusRequest;

/**
 * Start-up benchmark (not a test): starts {@code <command...> <id> <port>} RUNS times and prints
 * the milliseconds from process start to the first answered GetStatus, then the median.
 * Usage: {@code java -cp target/raft-node.jar:target/test-classes raftnode.StartupBench RUNS PORT
 * command...} (the node's id and port are appended to the command).
 */
public final class StartupBench {
    private StartupBench() {}

    public static void main(String[] args) throws Exception {
        int runs = Integer.parseInt(args[0]);
        int port = Integer.parseInt(args[1]);
        List<String> command = new ArrayList<>(Arrays.asList(args).subList(2, args.length));
        command.addAll(List.of("1", String.valueOf(port)));
        ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
        RaftServiceGrpc.RaftServiceBlockingStub stub = RaftServiceGrpc.newBlockingStub(ch);
        long[] ms = new long[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            try {
                while (true) {
                    if (!p.isAlive()) {
                        throw new IllegalStateException("node exited with " + p.exitValue());
                    }
                    try {
                        stub.withDeadlineAfter(200, TimeUnit.MILLISECONDS)
                                .getStatus(GetStatusRequest.getDefaultInstance());
                        break;
                    } catch (StatusRuntimeException e) {
                        ch.resetConnectBackoff();
                        Thread.sleep(2);
                    }
                }
                ms[i] = (System.nanoTime() - t0) / 1_000_000;
                System.out.println("run " + (i + 1) + ": " + ms[i] + " ms");
            } finally {
                p.destroy();
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor();
                }
            }
        }
        ch.shutdownNow();
        long[] sorted = ms.clone();
        Arrays.sort(sorted);
        System.out.println("median " + sorted[runs / 2] + " ms, min " + sorted[0] + " ms, max "
                + sorted[runs - 1] + " ms over " + runs + " runs: " + String.join(" ", command));
    }
}

package raftnode;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.concurrent.TimeUnit;
import raft.RaftServiceGrpc;
import raft.RaftServiceOuterClass.ClientRequestMessage;
import raft.RaftServiceOuterClass.GetLogRequest;
import raft.RaftServiceOuterClass.GetStatusRequest;

/**
 * A developer's client (not a test): {@code java -cp target/raft-node.jar:target/test-classes
 * raftnode.DevClient HOST:PORT status|log|"COMMAND"} prints the response in protobuf text form.
 */
public final class DevClient {
    private DevClient() {}

    public static void main(String[] args) throws Exception {
        String[] hp = args[0].split(":");
        ManagedChannel ch = NettyChannelBuilder.forAddress(hp[0], Integer.parseInt(hp[1]))
                .usePlaintext().build();
        try {
            RaftServiceGrpc.RaftServiceBlockingStub stub =
                    RaftServiceGrpc.newBlockingStub(ch).withDeadlineAfter(5, TimeUnit.SECONDS);
            Object out = switch (args[1]) {
                case "status" -> stub.getStatus(GetStatusRequest.getDefaultInstance());
                case "log" -> stub.getLog(GetLogRequest.getDefaultInstance());
                default -> stub.clientRequest(
                        ClientRequestMessage.newBuilder().setCommand(args[1]).build());
            };
            System.out.print(out);
        } finally {
            ch.shutdownNow();
        }
    }
}

package raftnode;

import java.util.Locale;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Entry point: {@code java -jar raft-node.jar <id> <port> <peer>... [options]}. Exit codes:
 * 0 clean stop (SIGTERM/SIGINT), 1 start-up failure, 2 usage error; errors are one line
 * {@code error: ...} on stderr.
 */
public final class Main {
    static final int EXIT_OK = 0;
    static final int EXIT_STARTUP = 1;
    static final int EXIT_USAGE = 2;
    private static final String NO_NATIVE = "io.grpc.netty.shaded.io.netty.transport.noNative";

    /** Strong references: java.util.logging forgets the level of a logger nobody holds. */
    private static final Logger[] LIBRARY_LOGGERS = {
        Logger.getLogger("io.grpc"), Logger.getLogger("io.netty"),
        Logger.getLogger("io.grpc.netty.shaded"),
    };

    private Main() {}

    public static void main(String[] args) {
        // Netty's native epoll transport is unpacked from the jar into a temp file and loaded on
        // every start (~0.2 s); the NIO transport is as good for a few loopback connections.
        if (System.getProperty(NO_NATIVE) == null) {
            System.setProperty(NO_NATIVE, "true");
        }
        configureLogging();
        Config config;
        try {
            config = Config.parse(args);
        } catch (Config.HelpRequested h) {
            System.out.println(Config.USAGE);
            System.exit(EXIT_OK);
            return;
        } catch (Config.UsageException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(EXIT_USAGE);
            return;
        }
        RaftNode node;
        try {
            node = RaftNode.start(config);
        } catch (RaftNode.StartupException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(EXIT_STARTUP);
            return;
        } catch (RuntimeException | Error e) {
            System.err.println("error: start-up failed: " + RaftNode.describe(e));
            System.exit(EXIT_STARTUP);
            return;
        }
        // SIGTERM/SIGINT run the hooks; halt(0) makes the exit status 0 rather than 128+signal.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            node.stop();
            System.err.flush();
            Runtime.getRuntime().halt(EXIT_OK);
        }, "raft-shutdown"));
        try {
            node.awaitTermination();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * {@code HH:MM:SS.mmm LEVEL logger: message} in UTC. Hand-made because SimpleFormatter's date
     * patterns pull in time-zone and locale data, a visible part of the start-up time.
     */
    static final class OneLineFormatter extends Formatter {
        @Override
        public String format(LogRecord r) {
            long ms = r.getMillis() % 86_400_000L;
            StringBuilder sb = new StringBuilder(96);
            two(sb, ms / 3_600_000).append(':');
            two(sb, ms / 60_000 % 60).append(':');
            two(sb, ms / 1000 % 60).append('.');
            long milli = ms % 1000;
            sb.append(milli < 100 ? "0" : "").append(milli < 10 ? "0" : "").append(milli);
            String name = r.getLoggerName() == null ? "" : r.getLoggerName();
            sb.append(' ').append(r.getLevel().getName()).append(' ')
                    .append(name.substring(name.lastIndexOf('.') + 1)).append(": ")
                    .append(formatMessage(r)).append('\n');
            if (r.getThrown() != null) {
                java.io.StringWriter w = new java.io.StringWriter();
                r.getThrown().printStackTrace(new java.io.PrintWriter(w));
                sb.append(w);
            }
            return sb.toString();
        }

        private static StringBuilder two(StringBuilder sb, long v) {
            return sb.append(v < 10 ? "0" : "").append(v);
        }
    }

    /** One-line records on stderr; level from LOG_LEVEL or RUST_LOG (default info). */
    static void configureLogging() {
        String env = System.getenv("LOG_LEVEL");
        if (env == null || env.isBlank()) {
            env = System.getenv("RUST_LOG");
        }
        Level level = switch (env == null ? "info" : env.trim().toLowerCase(Locale.ROOT)) {
            case "error" -> Level.SEVERE;
            case "warn", "warning" -> Level.WARNING;
            case "debug" -> Level.FINE;
            case "trace" -> Level.FINEST;
            case "off" -> Level.OFF;
            default -> Level.INFO;
        };
        LogManager.getLogManager().reset();
        Logger root = Logger.getLogger("");
        Handler h = new ConsoleHandler();
        h.setFormatter(new OneLineFormatter());
        h.setLevel(Level.ALL);
        root.addHandler(h);
        root.setLevel(level);
        // Library chatter (connection refused to a down peer, etc.) only when debugging.
        Level libs = level.intValue() <= Level.FINE.intValue() ? level : Level.WARNING;
        for (Logger l : LIBRARY_LOGGERS) {
            l.setLevel(libs);
        }
    }
}

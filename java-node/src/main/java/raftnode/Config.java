package raftnode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The command line of docs/node-contract.md section 1:
 * {@code <id> <port> <peer>... [--host H] [--data-dir DIR] [--journal FILE]
 * [--election-timeout-ms MIN-MAX] [--heartbeat-ms N] [--max-inflight-appends N]}, options before
 * or after the positionals. {@code maxInflightAppends}: AppendEntries carrying entries in flight
 * per follower (pipelining, issue 15 section 3; default {@link #DEFAULT_MAX_INFLIGHT_APPENDS}).
 */
record Config(int id, int port, List<Peer> peers, String host, Path dataDir, Path journal,
        int electionMinMs, int electionMaxMs, int heartbeatMs, int maxInflightAppends) {

    /** 1, as the Rust node: a window of 4 lowered throughput on the 2-core bench machine. */
    static final int DEFAULT_MAX_INFLIGHT_APPENDS = 1;

    static final String USAGE = "usage: raft-node <id> <port> <peer>... [--host H] [--data-dir DIR]"
            + " [--journal FILE] [--election-timeout-ms MIN-MAX] [--heartbeat-ms N]"
            + " [--max-inflight-appends N]"
            + " (peer = ID=HOST:PORT or HOST:PORT, whose id is PORT-5000)";

    /** A peer node: id and the address its gRPC server listens on. */
    record Peer(int id, String host, int port) {
        String address() {
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        }
    }

    /** Bad command line: the message names the argument and the problem. */
    static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    /** Thrown for -h/--help: the caller prints the usage and exits 0. */
    static final class HelpRequested extends Exception {
        private static final long serialVersionUID = 1L;

        HelpRequested() {
            super(USAGE);
        }
    }

    static Config parse(String[] args) throws UsageException, HelpRequested {
        List<String> positional = new ArrayList<>();
        String host = "127.0.0.1";
        Path dataDir = null;
        Path journal = null;
        int min = 150;
        int max = 300;
        int heartbeat = 50;
        int maxInflight = DEFAULT_MAX_INFLIGHT_APPENDS;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) {
                throw new HelpRequested();
            }
            if (!a.startsWith("--")) {
                if (a.startsWith("-") && !a.matches("-\\d+")) {
                    throw new UsageException("unknown option '" + a + "'");
                }
                positional.add(a);
                continue;
            }
            String name = a;
            String value = null;
            int eq = a.indexOf('=');
            if (eq > 0) {
                name = a.substring(0, eq);
                value = a.substring(eq + 1);
            }
            switch (name) {
                case "--host", "--data-dir", "--journal", "--election-timeout-ms", "--heartbeat-ms",
                        "--max-inflight-appends" -> {
                    if (value == null) {
                        if (i + 1 >= args.length) {
                            throw new UsageException("option " + name + " needs a value");
                        }
                        value = args[++i];
                    }
                }
                default -> throw new UsageException("unknown option '" + name + "'");
            }
            if (value.isEmpty()) {
                throw new UsageException("option " + name + " needs a non-empty value");
            }
            switch (name) {
                case "--host" -> host = value;
                case "--data-dir" -> dataDir = Path.of(value);
                case "--journal" -> journal = Path.of(value);
                case "--heartbeat-ms" -> heartbeat = parseInt(value, "--heartbeat-ms");
                case "--max-inflight-appends" -> maxInflight = parseInt(value, "--max-inflight-appends");
                default -> {
                    int dash = value.indexOf('-', 1);
                    if (dash < 0) {
                        throw new UsageException("--election-timeout-ms '" + value
                                + "' must be MIN-MAX, e.g. 150-300");
                    }
                    min = parseInt(value.substring(0, dash), "--election-timeout-ms MIN");
                    max = parseInt(value.substring(dash + 1), "--election-timeout-ms MAX");
                }
            }
        }
        if (min < 1) {
            throw new UsageException("--election-timeout-ms: MIN must be at least 1, got " + min);
        }
        if (min >= max) {
            throw new UsageException("--election-timeout-ms: MIN (" + min
                    + ") must be less than MAX (" + max + ")");
        }
        if (heartbeat < 1) {
            throw new UsageException("--heartbeat-ms must be at least 1, got " + heartbeat);
        }
        if (heartbeat >= min) {
            throw new UsageException("--heartbeat-ms (" + heartbeat
                    + ") must be less than the minimum election timeout (" + min + ")");
        }
        if (maxInflight < 1 || maxInflight > 1024) {
            throw new UsageException("--max-inflight-appends must be 1..1024, got " + maxInflight);
        }
        if (positional.size() < 2) {
            throw new UsageException(positional.isEmpty() ? "missing <id> and <port>" : "missing <port>");
        }
        int id = parseInt(positional.get(0), "<id>");
        if (id < 1) {
            throw new UsageException("<id> must be a positive integer, got '" + positional.get(0) + "'");
        }
        int port = parsePort(positional.get(1), "<port>");
        List<Peer> peers = new ArrayList<>();
        Set<Integer> ids = new HashSet<>();
        for (String p : positional.subList(2, positional.size())) {
            Peer peer = parsePeer(p);
            if (peer.id() == id) {
                throw new UsageException("peer '" + p + "' has this node's own id " + id);
            }
            if (!ids.add(peer.id())) {
                throw new UsageException("peer '" + p + "' repeats id " + peer.id());
            }
            peers.add(peer);
        }
        return new Config(id, port, List.copyOf(peers), host, dataDir, journal, min, max, heartbeat,
                maxInflight);
    }

    static Peer parsePeer(String text) throws UsageException {
        String addr = text;
        Integer id = null;
        int eq = text.indexOf('=');
        if (eq >= 0) {
            String idText = text.substring(0, eq);
            id = parseIntOrNull(idText);
            if (id == null || id < 1) {
                throw new UsageException("peer '" + text + "': id '" + idText
                        + "' must be a positive integer");
            }
            addr = text.substring(eq + 1);
        }
        int colon = addr.lastIndexOf(':');
        if (colon <= 0 || colon == addr.length() - 1) {
            throw new UsageException("peer '" + text + "' must be ID=HOST:PORT or HOST:PORT");
        }
        String host = addr.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (host.isEmpty() || host.contains("=") || host.contains(" ")) {
            throw new UsageException("peer '" + text + "': bad host '" + host + "'");
        }
        Integer port = parseIntOrNull(addr.substring(colon + 1));
        if (port == null || port < 1 || port > 65535) {
            throw new UsageException("peer '" + text + "': port '" + addr.substring(colon + 1)
                    + "' must be an integer in 1-65535");
        }
        if (id == null) {
            id = port - 5000;
            if (id < 1) {
                throw new UsageException("peer '" + text + "': without ID= the id is PORT-5000,"
                        + " which is not positive; write ID=HOST:PORT");
            }
        }
        return new Peer(id, host, port);
    }

    private static Integer parseIntOrNull(String s) {
        if (!s.matches("-?\\d{1,10}")) {
            return null;
        }
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static int parseInt(String s, String what) throws UsageException {
        Integer v = parseIntOrNull(s);
        if (v == null) {
            throw new UsageException(what + " '" + s + "' is not an integer");
        }
        return v;
    }

    private static int parsePort(String s, String what) throws UsageException {
        int v = parseInt(s, what);
        if (v < 1 || v > 65535) {
            throw new UsageException(what + " " + v + " is out of range 1-65535");
        }
        return v;
    }
}

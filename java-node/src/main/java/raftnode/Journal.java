package raftnode;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * The white-box event journal (docs/node-contract.md section 5): one JSON object per line,
 * written straight to the file (no user-space buffer) before the node acts on the event.
 * Without --journal every call is a no-op.
 */
class Journal {
    /** JSON as the reference nodes write it: nulls kept, no HTML escaping, one line. */
    static final Gson GSON = new GsonBuilder().serializeNulls().disableHtmlEscaping().create();

    /** One journal line being built; fields keep their insertion order. */
    static final class Line {
        private final JsonObject object = new JsonObject();

        Line put(String key, long value) {
            object.addProperty(key, value);
            return this;
        }

        /** A null value is written as JSON null (e.g. an absent apply result). */
        Line put(String key, String value) {
            object.addProperty(key, value);
            return this;
        }

        @Override
        public String toString() {
            return GSON.toJson(object);
        }
    }

    private final FileChannel channel;
    private final int node;

    private Journal(FileChannel channel, int node) {
        this.channel = channel;
        this.node = node;
    }

    static Journal none(int node) {
        return new Journal(null, node);
    }

    static Journal open(Path file, int node) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            java.nio.file.Files.createDirectories(parent);
        }
        return new Journal(FileChannel.open(file, StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, StandardOpenOption.APPEND), node);
    }

    /** Starts a line with ts_us, node and event; finish it with {@link #write}. */
    Line event(String event) {
        Instant now = Instant.now();
        long tsUs = now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
        return new Line().put("ts_us", tsUs).put("node", node).put("event", event);
    }

    boolean enabled() {
        return channel != null;
    }

    synchronized void write(Line line) {
        if (channel == null) {
            return;
        }
        ByteBuffer buf = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
        try {
            while (buf.hasRemaining()) {
                channel.write(buf);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("journal write failed", e);
        }
    }

    synchronized void close() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing left to do at shutdown
            }
        }
    }
}

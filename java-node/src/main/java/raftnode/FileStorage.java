package raftnode;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The reference nodes' shared data-dir layout (docs/node-contract.md section 7):
 * {@code state.json} = {"term":T,"voted_for":V}, replaced atomically (tmp, fsync, rename, fsync
 * dir); {@code log.jsonl} = one {"index":I,"term":T,"command":C} per line, appended and fsynced;
 * a truncation rewrites it atomically the same way.
 */
final class FileStorage implements Storage {
    private final Path dir;
    private final Path statePath;
    private final Path logPath;
    private FileChannel logChannel;
    /** What was made durable (issue 15 section 3: fsyncs per write); loop thread only. */
    private long fsyncs;
    private long appends;
    private long entriesWritten;

    /** fsyncs of files and directories, log appends, and the entries those appends carried. */
    record Stats(long fsyncs, long appends, long entries) {}

    FileStorage(Path dir) {
        this.dir = dir;
        this.statePath = dir.resolve("state.json");
        this.logPath = dir.resolve("log.jsonl");
    }

    /** Creates the directory if needed and proves it writable; the message names the problem. */
    static FileStorage open(Path dir) throws IOException {
        Files.createDirectories(dir);
        if (!Files.isDirectory(dir)) {
            throw new IOException("not a directory");
        }
        Path probe = dir.resolve(".write-probe");
        Files.write(probe, new byte[] {'x'});
        Files.delete(probe);
        return new FileStorage(dir);
    }

    @Override
    public boolean durable() {
        return true;
    }

    @Override
    public Recovered load() throws IOException {
        int term = 0;
        int votedFor = -1;
        if (Files.exists(statePath)) {
            String text = Files.readString(statePath, StandardCharsets.UTF_8);
            try {
                JsonObject m = parseObject(text.trim());
                term = toInt(m.get("term"), "term");
                JsonElement v = m.get("voted_for");
                votedFor = v == null || v.isJsonNull() ? -1 : toInt(v, "voted_for");
            } catch (IllegalArgumentException e) {
                throw new IOException(statePath + ": " + e.getMessage());
            }
        }
        List<Entry> log = new ArrayList<>();
        boolean tornTail = false;
        if (Files.exists(logPath)) {
            List<String> lines = Files.readAllLines(logPath, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i).trim();
                if (line.isEmpty()) {
                    continue;
                }
                try {
                    JsonObject m = parseObject(line);
                    int index = toInt(m.get("index"), "index");
                    if (index != log.size()) {
                        throw new IllegalArgumentException(
                                "index " + index + " where " + log.size() + " was expected");
                    }
                    log.add(new Entry(index, toInt(m.get("term"), "term"), command(m)));
                } catch (IllegalArgumentException e) {
                    if (i == lines.size() - 1) {
                        // A kill in the middle of an append leaves a torn last line; it was
                        // never acknowledged, so dropping it is safe.
                        tornTail = true;
                        break;
                    }
                    throw new IOException(logPath + " line " + (i + 1) + ": " + e.getMessage());
                }
            }
        }
        if (tornTail) {
            rewriteLog(log);
        }
        openLogForAppend();
        return new Recovered(term, votedFor, log);
    }

    /** One strict JSON object and nothing after it; anything else: IllegalArgumentException. */
    static JsonObject parseObject(String text) {
        JsonReader reader = new JsonReader(new StringReader(text));
        reader.setStrictness(Strictness.STRICT);
        JsonElement e;
        try {
            e = JsonParser.parseReader(reader);
        } catch (JsonParseException ex) {
            throw new IllegalArgumentException("malformed JSON" + position(ex), ex);
        }
        try {
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw new IllegalArgumentException("trailing data after the JSON value");
            }
        } catch (IOException ex) {
            throw new IllegalArgumentException("trailing data after the JSON value" + position(ex));
        }
        if (!e.isJsonObject()) {
            throw new IllegalArgumentException("not a JSON object");
        }
        return e.getAsJsonObject();
    }

    /** " at line L column C" from a Gson message, without its advice to be lenient. */
    private static String position(Exception ex) {
        String msg = String.valueOf(ex.getMessage());
        int at = msg.indexOf(" at line ");
        int path = msg.indexOf(" path ", Math.max(at, 0));
        return at < 0 ? "" : msg.substring(at, path > at ? path : msg.length());
    }

    private static int toInt(JsonElement e, String field) {
        if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            throw new IllegalArgumentException("field '" + field + "' is not an integer");
        }
        try {
            return e.getAsBigDecimal().intValueExact();
        } catch (ArithmeticException ex) {
            throw new IllegalArgumentException("field '" + field + "' is not an integer");
        }
    }

    /** The entry's command: a string, or absent/null for the empty command. */
    private static String command(JsonObject m) {
        JsonElement c = m.get("command");
        if (c == null || c.isJsonNull()) {
            return "";
        }
        if (!c.isJsonPrimitive() || !c.getAsJsonPrimitive().isString()) {
            throw new IllegalArgumentException("field 'command' is not a string");
        }
        return c.getAsString();
    }

    private void openLogForAppend() throws IOException {
        if (logChannel != null) {
            logChannel.close();
        }
        logChannel = FileChannel.open(logPath, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND);
    }

    @Override
    public void saveState(int term, int votedFor) throws IOException {
        JsonObject state = new JsonObject();
        state.addProperty("term", term);
        state.addProperty("voted_for", votedFor);
        String text = Journal.GSON.toJson(state) + "\n";
        replaceAtomically(statePath, text.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void append(List<Entry> entries) throws IOException {
        if (entries.isEmpty()) {
            return;
        }
        if (logChannel == null) {
            openLogForAppend();
        }
        writeFully(logChannel, encode(entries));
        logChannel.force(false);
        fsyncs++;
        appends++;
        entriesWritten += entries.size();
    }

    /** Counts since open; read them after the loop has stopped (or on the loop thread). */
    Stats stats() {
        return new Stats(fsyncs, appends, entriesWritten);
    }

    @Override
    public void truncate(int fromIndex, List<Entry> kept) throws IOException {
        rewriteLog(kept);
        openLogForAppend();
    }

    private void rewriteLog(List<Entry> kept) throws IOException {
        replaceAtomically(logPath, encode(kept));
    }

    private static byte[] encode(List<Entry> entries) {
        StringBuilder sb = new StringBuilder();
        for (Entry e : entries) {
            JsonObject line = new JsonObject();
            line.addProperty("index", e.index());
            line.addProperty("term", e.term());
            line.addProperty("command", e.command());
            sb.append(Journal.GSON.toJson(line)).append('\n');
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private void replaceAtomically(Path target, byte[] bytes) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(ch, bytes);
            ch.force(true);
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
        fsyncs += 2; // the file and its directory
    }

    private static void writeFully(FileChannel ch, byte[] bytes) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    void close() throws IOException {
        if (logChannel != null) {
            logChannel.close();
            logChannel = null;
        }
    }
}

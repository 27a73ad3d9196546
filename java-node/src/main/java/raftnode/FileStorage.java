package raftnode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

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
                Map<String, Object> m = Json.parseObject(text.trim());
                term = toInt(m.get("term"), "term");
                Object v = m.get("voted_for");
                votedFor = v == null ? -1 : toInt(v, "voted_for");
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
                    Map<String, Object> m = Json.parseObject(line);
                    int index = toInt(m.get("index"), "index");
                    if (index != log.size()) {
                        throw new IllegalArgumentException(
                                "index " + index + " where " + log.size() + " was expected");
                    }
                    Object cmd = m.get("command");
                    log.add(new Entry(index, toInt(m.get("term"), "term"),
                            cmd == null ? "" : cmd.toString()));
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

    private static int toInt(Object o, String field) {
        if (!(o instanceof Long)) {
            throw new IllegalArgumentException("field '" + field + "' is not an integer");
        }
        return Math.toIntExact((Long) o);
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
        String text = Json.object().put("term", term).put("voted_for", votedFor) + "\n";
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
            sb.append(Json.object().put("index", e.index()).put("term", e.term())
                    .put("command", e.command())).append('\n');
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

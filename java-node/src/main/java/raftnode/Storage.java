package raftnode;

import java.io.IOException;
import java.util.List;

/**
 * Durable Raft state: currentTerm, votedFor and the log. Every method returns only once the
 * change is durable (fsynced for the file store), so callers may answer RPCs right after.
 */
interface Storage {
    /** What a restart recovers. */
    record Recovered(int term, int votedFor, List<Entry> log) {}

    Recovered load() throws IOException;

    void saveState(int term, int votedFor) throws IOException;

    /** Appends entries whose indices continue the stored log. */
    void append(List<Entry> entries) throws IOException;

    /** Deletes entries with index >= fromIndex; {@code kept} is the log prefix that remains. */
    void truncate(int fromIndex, List<Entry> kept) throws IOException;

    /** True when state survives a restart. */
    boolean durable();

    /** A store that keeps nothing across restarts (no --data-dir). */
    static Storage inMemory() {
        return new Storage() {
            @Override
            public Recovered load() {
                return new Recovered(0, -1, List.of());
            }

            @Override
            public void saveState(int term, int votedFor) {}

            @Override
            public void append(List<Entry> entries) {}

            @Override
            public void truncate(int fromIndex, List<Entry> kept) {}

            @Override
            public boolean durable() {
                return false;
            }
        };
    }
}

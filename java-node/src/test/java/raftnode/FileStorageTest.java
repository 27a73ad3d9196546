package raftnode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** docs/node-contract.md section 7: the shared data-dir layout and crash recovery. */
class FileStorageTest {
    @TempDir
    Path dir;

    @Test
    void emptyDirectoryRecoversTheInitialState() throws Exception {
        Storage.Recovered r = FileStorage.open(dir.resolve("new/sub")).load();
        assertEquals(0, r.term());
        assertEquals(-1, r.votedFor());
        assertTrue(r.log().isEmpty());
    }

    @Test
    void stateAndLogRoundTripIncludingTruncation() throws Exception {
        FileStorage s = FileStorage.open(dir);
        s.load();
        s.saveState(3, 2);
        String odd = "quote\" back\\slash tab\t nl\n é 😀";
        s.append(List.of(new Entry(0, 1, ""), new Entry(1, 1, odd), new Entry(2, 2, "SET a b")));
        s.truncate(2, List.of(new Entry(0, 1, ""), new Entry(1, 1, odd)));
        s.append(List.of(new Entry(2, 3, "SET a c")));
        s.close();

        Storage.Recovered r = new FileStorage(dir).load();
        assertEquals(3, r.term());
        assertEquals(2, r.votedFor());
        assertEquals(List.of(new Entry(0, 1, ""), new Entry(1, 1, odd), new Entry(2, 3, "SET a c")),
                r.log());

        Map<String, Object> state = TestJson.parseObject(Files.readString(dir.resolve("state.json")).trim());
        assertEquals(Map.of("term", 3L, "voted_for", 2L), state);
        List<String> lines = Files.readAllLines(dir.resolve("log.jsonl"));
        assertEquals(3, lines.size());
        assertEquals("{\"index\":2,\"term\":3,\"command\":\"SET a c\"}", lines.get(2));
        assertFalse(Files.exists(dir.resolve("state.json.tmp")));
    }

    @Test
    void statsCountOneFsyncPerAppendAndTwoPerStateSave() throws Exception {
        FileStorage s = FileStorage.open(dir);
        s.load();
        FileStorage.Stats before = s.stats();
        s.append(List.of(new Entry(0, 1, "a"), new Entry(1, 1, "b"), new Entry(2, 1, "c")));
        s.append(List.of(new Entry(3, 1, "d")));
        s.saveState(1, 1);
        s.close();
        FileStorage.Stats after = s.stats();
        assertEquals(new FileStorage.Stats(before.fsyncs() + 4, before.appends() + 2,
                before.entries() + 4), after, "file + directory for the state, one per append");
    }

    @Test
    void aTornLastLineIsDroppedButACorruptMiddleLineIsAnError() throws Exception {
        Files.writeString(dir.resolve("log.jsonl"), "{\"index\":0,\"term\":1,\"command\":\"a\"}\n"
                + "{\"index\":1,\"term\":1,\"command\":\"b\"}\n{\"index\":2,\"te");
        FileStorage s = new FileStorage(dir);
        assertEquals(2, s.load().log().size());
        s.append(List.of(new Entry(2, 2, "c")));
        s.close();
        assertEquals(3, new FileStorage(dir).load().log().size(), "the torn line was removed");

        Files.writeString(dir.resolve("log.jsonl"), "{\"index\":0,\"term\":1,\"command\":\"a\"}\n"
                + "garbage\n{\"index\":1,\"term\":1,\"command\":\"b\"}\n");
        IOException e = assertThrows(IOException.class, () -> new FileStorage(dir).load());
        assertTrue(e.getMessage().contains("line 2"), e.getMessage());
    }

    @Test
    void malformedStateIsAnErrorNamingTheFileAndTheProblem() throws Exception {
        String[][] cases = {
            {"{\"term\":\"3\",\"voted_for\":1}", "field 'term' is not an integer"},
            {"{\"term\":2.5,\"voted_for\":1}", "field 'term' is not an integer"},
            {"{\"voted_for\":1}", "field 'term' is not an integer"},
            {"[1,2]", "not a JSON object"},
            {"{\"term\":1} {}", "trailing data after the JSON value at line 1 column 13"},
            {"{term:1}", "malformed JSON at line 1 column 3"},
        };
        for (String[] c : cases) {
            Files.writeString(dir.resolve("state.json"), c[0] + "\n");
            IOException e = assertThrows(IOException.class, () -> new FileStorage(dir).load(), c[0]);
            assertTrue(e.getMessage().contains("state.json") && e.getMessage().contains(c[1]),
                    c[0] + " -> " + e.getMessage());
        }
        Files.writeString(dir.resolve("state.json"), "{\"term\":4,\"voted_for\":null}\n");
        assertEquals(-1, new FileStorage(dir).load().votedFor(), "null is no vote");
    }

    @Test
    void aDirectoryBelowAFileCannotBeCreated() throws Exception {
        Path file = Files.writeString(dir.resolve("plain-file"), "x");
        assertThrows(IOException.class, () -> FileStorage.open(file.resolve("data")));
        assertThrows(IOException.class, () -> FileStorage.open(file));
    }

    @Test
    void aRestartedCoreContinuesWithItsTermVoteAndLog() throws Exception {
        long[] clock = {0};
        CoreDriver.Sender drop = (peer, message) -> { };
        TestNode a = new TestNode(1, List.of(), FileStorage.open(dir), Journal.none(1), drop,
                () -> clock[0], new Random(1));
        clock[0] += 301;
        a.tick(); // a cluster of one elects itself and commits its no-op
        assertEquals(CoreTypes.Role.Leader, a.raft().role());
        a.propose("SET k v", (applied, result, message) -> {});

        TestNode b = new TestNode(1, List.of(), new FileStorage(dir), Journal.none(1), drop,
                () -> clock[0], new Random(1));
        assertEquals(1, b.raft().term());
        assertEquals(1, b.raft().votedFor());
        assertEquals(List.of(new Entry(0, 1, ""), new Entry(1, 1, "SET k v")), b.entries(0, 0));
        assertEquals(-1, b.raft().commitIndex());
        clock[0] += 301;
        b.tick();
        assertEquals("v", b.stateMachineValue("k"), "re-applied once the commit index is known");
    }
}

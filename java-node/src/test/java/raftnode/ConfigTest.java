package raftnode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** docs/node-contract.md section 1. */
class ConfigTest {
    private static Config parse(String... args) throws Exception {
        return Config.parse(args);
    }

    private static String error(String... args) {
        return assertThrows(Config.UsageException.class, () -> Config.parse(args)).getMessage();
    }

    @Test
    void originalPositionalFormWithDefaults() throws Exception {
        Config c = parse("5", "5005", "localhost:5001", "localhost:5002", "localhost:5003",
                "localhost:5004");
        assertEquals(5, c.id());
        assertEquals(5005, c.port());
        assertEquals(List.of(new Config.Peer(1, "localhost", 5001), new Config.Peer(2, "localhost", 5002),
                new Config.Peer(3, "localhost", 5003), new Config.Peer(4, "localhost", 5004)), c.peers());
        assertEquals("127.0.0.1", c.host());
        assertNull(c.dataDir());
        assertNull(c.journal());
        assertEquals(150, c.electionMinMs());
        assertEquals(300, c.electionMaxMs());
        assertEquals(50, c.heartbeatMs());
        assertEquals(Config.DEFAULT_MAX_INFLIGHT_APPENDS, c.maxInflightAppends());
        assertEquals(1, Config.DEFAULT_MAX_INFLIGHT_APPENDS);
        assertEquals(4, parse("1", "5001", "--max-inflight-appends", "4").maxInflightAppends());
    }

    @Test
    void optionsBeforeAndAfterPositionalsAndExplicitIds() throws Exception {
        Config c = parse("--data-dir", "/tmp/d", "1", "--heartbeat-ms=20", "7001", "2=127.0.0.1:7002",
                "--election-timeout-ms", "300-600", "3=[::1]:7003", "--journal", "j.jsonl",
                "--host", "0.0.0.0");
        assertEquals(1, c.id());
        assertEquals(7001, c.port());
        assertEquals(List.of(new Config.Peer(2, "127.0.0.1", 7002), new Config.Peer(3, "::1", 7003)),
                c.peers());
        assertEquals("[::1]:7003", c.peers().get(1).address());
        assertEquals(Path.of("/tmp/d"), c.dataDir());
        assertEquals(Path.of("j.jsonl"), c.journal());
        assertEquals("0.0.0.0", c.host());
        assertEquals(300, c.electionMinMs());
        assertEquals(600, c.electionMaxMs());
        assertEquals(20, c.heartbeatMs());
        assertTrue(parse("1", "5001").peers().isEmpty(), "a cluster of one has no peers");
    }

    @Test
    void badInputIsNamedInTheMessage() {
        assertTrue(error("1", "5001", "--bogus").contains("unknown option '--bogus'"));
        assertTrue(error("1", "5001", "-x").contains("unknown option '-x'"));
        assertTrue(error("1", "5001", "nocolon").contains("peer 'nocolon'"));
        assertTrue(error("1", "5001", "host:port").contains("port 'port'"));
        assertTrue(error("1", "5001", "x=h:5002").contains("id 'x'"));
        assertTrue(error("1", "5001", "h:99999").contains("1-65535"));
        assertTrue(error("1", "5001", "h:4000").contains("PORT-5000"));
        assertTrue(error("1", "5001", "1=h:5002").contains("own id"));
        assertTrue(error("1", "5001", "h:5002", "2=h:6000").contains("repeats id 2"));
        assertTrue(error("abc", "5001").contains("<id> 'abc' is not an integer"));
        assertTrue(error("0", "5001").contains("<id> must be a positive integer"));
        assertTrue(error("1", "70000").contains("<port> 70000 is out of range"));
        assertTrue(error("1").contains("missing <port>"));
        assertTrue(error().contains("missing <id>"));
        assertTrue(error("1", "5001", "--heartbeat-ms").contains("needs a value"));
        assertTrue(error("1", "5001", "--heartbeat-ms", "fast").contains("--heartbeat-ms 'fast'"));
        assertTrue(error("1", "5001", "--election-timeout-ms", "300").contains("MIN-MAX"));
        assertTrue(error("1", "5001", "--election-timeout-ms", "300-300").contains("less than MAX"));
        assertTrue(error("1", "5001", "--election-timeout-ms", "0-300").contains("at least 1"));
        assertTrue(error("1", "5001", "--heartbeat-ms", "150").contains("less than the minimum"));
        assertTrue(error("1", "5001", "--heartbeat-ms", "0").contains("at least 1"));
        assertTrue(error("1", "5001", "--max-inflight-appends", "0").contains("1..1024, got 0"));
        assertTrue(error("1", "5001", "--max-inflight-appends", "x")
                .contains("--max-inflight-appends 'x'"));
    }

    @Test
    void helpIsNotAnError() {
        assertThrows(Config.HelpRequested.class, () -> Config.parse(new String[] {"--help"}));
    }
}

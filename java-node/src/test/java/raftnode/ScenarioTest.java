package raftnode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import raftnode.ScenarioScript.Case;
import raftnode.ScenarioScript.ScenarioError;

/**
 * Replays every scenario of the shared corpus (../scenarios/*.txt, docs/scenarios.md) against
 * the Java core: each must produce exactly the Rust reference core's recorded output.
 */
class ScenarioTest {
    /** The corpus, found relative to java-node/ (Maven's working directory). */
    static Path corpusDir() {
        return Path.of("..", "scenarios").toAbsolutePath().normalize();
    }

    @TestFactory
    Stream<DynamicTest> everyScenarioPasses() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(corpusDir())) {
            files = s.filter(p -> p.toString().endsWith(".txt")).sorted().toList();
        }
        assertFalse(files.isEmpty(), "no scenarios in " + corpusDir());
        return files.stream().map(f -> DynamicTest.dynamicTest(f.getFileName().toString(), () -> {
            String name = f.getFileName().toString();
            List<Case> cases = ScenarioScript.parse(name, Files.readString(f, StandardCharsets.UTF_8));
            List<String> bad = ScenarioRunner.mismatches(name, cases,
                    ScenarioRunner.run(name, cases));
            assertTrue(bad.isEmpty(), String.join("\n\n", bad));
        }));
    }

    private static final String INIT = "init id=1 peers=2,3 heartbeat=50 rpc_timeout=100 "
            + "max_entries=3 election=1000..2000 pre_vote=false check_quorum=false now=0 "
            + "timeout=1000 term=0 voted_for=none\n----\nevent role role=Follower term=0\n\n";

    private static List<String> check(String text) {
        List<Case> cases = ScenarioScript.parse("t.txt", text);
        return ScenarioRunner.mismatches("t.txt", cases, ScenarioRunner.run("t.txt", cases));
    }

    @Test
    void aMatchingScriptPassesAndAWrongExpectationIsReported() {
        assertEquals(List.of(), check(INIT + "tick now=999\n----\n(no effects)\n"));
        List<String> bad = check(INIT + "tick now=999\n----\nreset_timer\n");
        assertEquals(1, bad.size());
        assertTrue(bad.get(0).startsWith("t.txt:5: tick"), bad.get(0));
        assertTrue(check(INIT + "tick now=1000\n----\n(no effects)\n").size() == 1,
                "the election output is not (no effects)");
    }

    @Test
    void malformedScriptsAreRejectedWithFileLineAndValue() {
        assertError("t.txt:5: unknown key 'when' for tick", INIT + "tick when=3\n----\n");
        assertError("t.txt:5: missing key 'now' for tick", INIT + "tick\n----\n");
        assertError("t.txt:5: repeated key 'now'", INIT + "tick now=1 now=2\n----\n");
        assertError("t.txt:5: now=x: not an integer", INIT + "tick now=x\n----\n");
        assertError("t.txt:5: now=-1: must not be negative", INIT + "tick now=-1\n----\n");
        assertError("t.txt:5: unknown directive 'fly'", INIT + "fly\n----\n");
        assertError("t.txt:5: case has no ---- line", INIT + "tick now=1\n");
        assertError("t.txt:1: the first case must be init", "tick now=1\n----\n");
        assertError("t.txt:5: prevote-response needs reply_term and vote_granted, or "
                + "unimplemented=true", INIT + "prevote-response now=1 from=2 term=1\n----\n");
        assertError("t.txt:9: now=5 goes back in time", INIT
                + "tick now=10\n----\n(no effects)\n\ntick now=5\n----\n(no effects)\n");
        assertError("t.txt:5: unterminated quote", INIT + "propose now=1 command=\"a b\n----\n");
    }

    private static void assertError(String prefix, String text) {
        ScenarioError e = assertThrows(ScenarioError.class, () -> check(text));
        assertTrue(e.getMessage().startsWith(prefix), e.getMessage());
    }
}

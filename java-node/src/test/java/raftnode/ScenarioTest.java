package raftnode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
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
            String report = failureReport(f);
            if (report != null) {
                fail(report); // the message names file:line; no trace of the parser's internals
            }
        }));
    }

    /**
     * Why one scenario file fails: its bad text ("file:line: message", worded as the Rust and
     * Python runners word it) or one diff per wrong case; null if it passes.
     */
    static String failureReport(Path f) throws IOException {
        String name = f.getFileName().toString();
        try {
            String text = Files.readString(f, StandardCharsets.UTF_8);
            List<Case> cases = ScenarioScript.parse(name, text);
            List<String> bad = ScenarioRunner.mismatches(name, cases,
                    ScenarioRunner.run(name, cases));
            return bad.isEmpty() ? null : String.join("\n\n", bad);
        } catch (ScenarioError e) {
            return e.getMessage();
        }
    }

    /** A typo (finding 11) is named by file:line and the wording shared by the three runners. */
    @Test
    void aTypoIsReportedWithFileLineAndTheSharedWording(@TempDir Path dir) throws IOException {
        String[][] cases = {
            {"tikc now=999\n----\n(no effects)\n",
                "unknown directive `tikc` (did you mean `tick`?)"},
            {"tick nwo=999\n----\n(no effects)\n",
                "unknown key `nwo` for `tick` (did you mean `now`?)"},
            {"tick now=1 nwo=999\n----\n(no effects)\n", "unknown key `nwo` for `tick`"},
            {"tick\n----\n(no effects)\n", "missing key `now` for `tick`"},
            {"append-request now=1 term=1 leader_id=2 prev_log_index=-1 prev_log_term=0 "
                + "leader_commit=-1\n  entry index=0 term=1 comand=\"x\"\n----\n",
                "unknown key `comand` for `entry` (did you mean `command`?)"},
        };
        for (String[] c : cases) {
            Path f = dir.resolve("typo.txt");
            Files.writeString(f, INIT + c[0], StandardCharsets.UTF_8);
            int line = c[0].contains("entry ") ? 6 : 5;
            assertEquals("typo.txt:" + line + ": " + c[1], failureReport(f), c[0]);
        }
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
        assertError("t.txt:5: unknown key `when` for `tick`", INIT + "tick when=3\n----\n");
        assertError("t.txt:5: missing key `now` for `tick`", INIT + "tick\n----\n");
        assertError("t.txt:5: key `now` given twice", INIT + "tick now=1 now=2\n----\n");
        assertError("t.txt:5: `now`: expected key=value", INIT + "tick now\n----\n");
        assertError("t.txt:5: now=x: not an integer", INIT + "tick now=x\n----\n");
        assertError("t.txt:5: now=-1: must not be negative", INIT + "tick now=-1\n----\n");
        assertError("t.txt:5: unknown directive `fly`", INIT + "fly\n----\n");
        assertError("t.txt:5: case has no ---- line", INIT + "tick now=1\n");
        assertError("t.txt:1: the first case must be init", "tick now=1\n----\n");
        assertError("t.txt:5: prevote-response needs reply_term and vote_granted, or "
                + "unimplemented=true", INIT + "prevote-response now=1 from=2 term=1\n----\n");
        assertError("t.txt:9: now=5 goes back in time", INIT
                + "tick now=10\n----\n(no effects)\n\ntick now=5\n----\n(no effects)\n");
        assertError("t.txt:5: unterminated quote", INIT + "propose now=1 command=\"a b\n----\n");
    }

    /**
     * scenarios/grammar.spec, the one source of the key lists, refuses a bad line naming
     * file:line, worded as the Rust and Python runners word it; the repository's grammar parses.
     */
    @Test
    void aBadGrammarLineIsRefusedNamingFileAndLine() {
        String[][] cases = {
            {"tick now -\n", "g:1: expected 4 columns (name required optional entries), got 3"},
            {"\n# c\nTick now - no\n", "g:3: `Tick`: not a directive name (a-z and -)"},
            {"tick now,,x - no\n", "g:1: ``: not a key name (a-z and _)"},
            {"tick now now no\n", "g:1: key `now` listed twice for `tick`"},
            {"tick now - maybe\n", "g:1: `maybe`: expected yes or no (takes entry lines)"},
            {"tick now - no\ntick ms - no\n", "g:2: directive `tick` listed twice"},
            {"entry index - yes\n", "g:1: `entry` lines take no entry lines"},
            {"tick now - no\n\n", "g:2: no `entry` line"},
            {"entry index - no\n", "g:1: no directive"},
        };
        for (String[] c : cases) {
            ScenarioError e = assertThrows(ScenarioError.class,
                    () -> ScenarioGrammar.parse("g", c[0]), c[0]);
            assertEquals(c[1], e.getMessage(), c[0]);
        }
        ScenarioGrammar.Grammar good =
                ScenarioGrammar.parse("g", "# c\ntick now - no\nentry index,term,command - no\n");
        assertEquals(List.of("now"), good.directives().get("tick").required());
        assertTrue(ScenarioGrammar.get().directives().get("init").entries());
    }

    private static void assertError(String prefix, String text) {
        ScenarioError e = assertThrows(ScenarioError.class, () -> check(text));
        assertTrue(e.getMessage().startsWith(prefix), e.getMessage());
    }
}

package raftnode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input from the real entry point: one 'error:' line on stderr and a distinct exit code. */
class CommandLineProcessTest {
    @TempDir
    Path dir;

    private record Result(int exit, List<String> stderr) {}

    private Result run(String... args) throws Exception {
        Path err = dir.resolve("stderr.txt");
        Process p = new ProcessBuilder(NodeProcess.javaCommand(List.of(args)))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(err.toFile())
                .start();
        try {
            if (!p.waitFor(15, TimeUnit.SECONDS)) {
                throw new AssertionError("the node did not exit on bad input");
            }
        } finally {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
        return new Result(p.exitValue(), Files.readAllLines(err, StandardCharsets.UTF_8));
    }

    private static void assertOneErrorLine(Result r, int exit, String fragment) {
        assertEquals(exit, r.exit(), "exit status, stderr: " + r.stderr());
        assertEquals(1, r.stderr().size(), "exactly one line: " + r.stderr());
        assertTrue(r.stderr().get(0).startsWith("error: "), r.stderr().get(0));
        assertTrue(r.stderr().get(0).contains(fragment), r.stderr().get(0));
    }

    @Test
    void usageErrorsExitWithTwo() throws Exception {
        assertOneErrorLine(run("1", "23201", "--frobnicate"), 2, "--frobnicate");
        assertOneErrorLine(run("1", "23201", "localhost"), 2, "peer 'localhost'");
        assertOneErrorLine(run("one", "23201"), 2, "<id> 'one'");
    }

    @Test
    void startUpFailuresExitWithOne() throws Exception {
        try (ServerSocket taken = new ServerSocket(23202, 1, InetAddress.getByName("127.0.0.1"))) {
            assertOneErrorLine(run("1", String.valueOf(taken.getLocalPort())), 1, "port 23202");
        }
        Path file = Files.writeString(dir.resolve("not-a-dir"), "x");
        assertOneErrorLine(run("1", "23203", "--data-dir", file.resolve("d").toString()), 1,
                "--data-dir");
    }
}

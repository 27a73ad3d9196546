package raftnode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import raftnode.ScenarioScript.ScenarioError;

/**
 * Reads scenarios/grammar.spec, the one source of every directive's key lists
 * (docs/scenarios.md, "Directives"), shared with the Rust and Python runners. A line is
 * {@code name required optional entries} (whitespace-separated; keys comma-separated in the
 * order of docs/scenarios.md, {@code -} for none; {@code entries} is {@code yes} or {@code no});
 * the line named {@code entry} gives the keys of entry lines. Blank and {@code #} lines are
 * skipped.
 */
final class ScenarioGrammar {
    private ScenarioGrammar() {}

    /** The grammar file, found relative to java-node/ (Maven's working directory). */
    static final Path PATH = Path.of("..", "scenarios", "grammar.spec");

    /**
     * Required and optional keys of one directive (or of entry lines), in the grammar's order
     * (it decides which missing key is named first and which suggestion wins a tie);
     * {@code entries}: whether entry lines may follow the directive line.
     */
    record Spec(List<String> required, List<String> optional, boolean entries) {
        boolean knows(String key) {
            return required.contains(key) || optional.contains(key);
        }
    }

    /** Every directive in the grammar's order, and the keys of entry lines. */
    record Grammar(Map<String, Spec> directives, Spec entry) {}

    private static Grammar loaded;

    /** The repository's grammar, parsed once; a malformed file throws naming file:line. */
    static synchronized Grammar get() {
        if (loaded == null) {
            try {
                loaded = parse("scenarios/grammar.spec",
                        Files.readString(PATH, StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new UncheckedIOException(PATH.toAbsolutePath().normalize().toString(), e);
            }
        }
        return loaded;
    }

    /**
     * Parses grammar text read from {@code file}. Throws {@link ScenarioError} for a line without
     * four columns, a bad directive or key name, a key listed twice in a line, an entries column
     * not yes/no, a directive listed twice, {@code entry} taking entry lines, no {@code entry}
     * line or no directive (named at the last line).
     */
    static Grammar parse(String file, String text) {
        List<String> lines = new ArrayList<>(Arrays.asList(text.split("\n", -1)));
        if (lines.get(lines.size() - 1).isEmpty()) {
            lines.remove(lines.size() - 1); // the end of the last line, not a line
        }
        Map<String, Spec> directives = new LinkedHashMap<>();
        Spec entry = null;
        int last = 1;
        for (int i = 0; i < lines.size(); i++) {
            last = i + 1;
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] cols = line.split("\\s+");
            Spec spec = line(file, last, cols);
            String name = cols[0];
            if (directives.containsKey(name) || (name.equals("entry") && entry != null)) {
                throw new ScenarioError(file, last, "directive `" + name + "` listed twice");
            }
            if (!name.equals("entry")) {
                directives.put(name, spec);
            } else if (spec.entries()) {
                throw new ScenarioError(file, last, "`entry` lines take no entry lines");
            } else {
                entry = spec;
            }
        }
        if (entry == null) {
            throw new ScenarioError(file, last, "no `entry` line");
        }
        if (directives.isEmpty()) {
            throw new ScenarioError(file, last, "no directive");
        }
        return new Grammar(directives, entry);
    }

    /** One data line: {@code name required optional entries}. */
    private static Spec line(String file, int line, String[] cols) {
        if (cols.length != 4) {
            throw new ScenarioError(file, line,
                    "expected 4 columns (name required optional entries), got " + cols.length);
        }
        if (!cols[0].matches("[a-z][a-z-]*")) {
            throw new ScenarioError(file, line,
                    "`" + cols[0] + "`: not a directive name (a-z and -)");
        }
        List<String> required = keys(file, line, cols[1]);
        List<String> optional = keys(file, line, cols[2]);
        Set<String> seen = new HashSet<>();
        List<String> all = new ArrayList<>(required);
        all.addAll(optional);
        for (String k : all) {
            if (!seen.add(k)) {
                throw new ScenarioError(file, line,
                        "key `" + k + "` listed twice for `" + cols[0] + "`");
            }
        }
        if (!cols[3].equals("yes") && !cols[3].equals("no")) {
            throw new ScenarioError(file, line,
                    "`" + cols[3] + "`: expected yes or no (takes entry lines)");
        }
        return new Spec(required, optional, cols[3].equals("yes"));
    }

    /** {@code a,b,c} (or {@code -} for none); every key is {@code [a-z][a-z_]*}. */
    private static List<String> keys(String file, int line, String col) {
        if (col.equals("-")) {
            return List.of();
        }
        List<String> out = List.of(col.split(",", -1));
        for (String k : out) {
            if (!k.matches("[a-z][a-z_]*")) {
                throw new ScenarioError(file, line, "`" + k + "`: not a key name (a-z and _)");
            }
        }
        return out;
    }
}

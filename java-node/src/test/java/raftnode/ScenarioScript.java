package raftnode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses a scenario file of the shared corpus (docs/scenarios.md) into cases: a directive with
 * its key=value arguments (key set checked against the directive's spec in
 * scenarios/grammar.spec, see {@link ScenarioGrammar}), the entry lines, and
 * the expected output lines. Every error is a {@link ScenarioError} naming file, line and value.
 */
final class ScenarioScript {
    private ScenarioScript() {}

    /** A malformed scenario (or a value that does not parse): "file:line: message". */
    static final class ScenarioError extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ScenarioError(String file, int line, String message) {
            super(file + ":" + line + ": " + message);
        }
    }

    /** "missing key `now` for `tick`", as the Rust and Python runners word it. */
    static String missingKey(String key, String name) {
        return "missing key `" + key + "` for `" + name + "`";
    }

    /**
     * " (did you mean `x`?)" for the first candidate nearest to {@code word} if it is at most two
     * edits away, else "".
     */
    static String didYouMean(String word, Iterable<String> candidates) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String c : candidates) {
            int d = editDistance(word, c);
            if (d <= 2 && d < bestDistance) {
                best = c;
                bestDistance = d;
            }
        }
        return best == null ? "" : " (did you mean `" + best + "`?)";
    }

    /** Levenshtein distance between {@code a} and {@code b} (UTF-16 chars). */
    static int editDistance(String a, String b) {
        int[] row = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            row[j] = j;
        }
        for (int i = 0; i < a.length(); i++) {
            int prev = row[0];
            row[0] = i + 1;
            for (int j = 0; j < b.length(); j++) {
                int cur = row[j + 1];
                int same = a.charAt(i) == b.charAt(j) ? 0 : 1;
                row[j + 1] = Math.min(prev + same, Math.min(row[j] + 1, cur + 1));
                prev = cur;
            }
        }
        return row[b.length()];
    }

    /** A directive's arguments, with typed getters that name file and line on a bad value. */
    record Args(String file, int line, String name, Map<String, String> values) {
        boolean has(String key) {
            return values.containsKey(key);
        }

        private String raw(String key) {
            String v = values.get(key);
            if (v == null) {
                throw new ScenarioError(file, line, missingKey(key, name));
            }
            return v;
        }

        long nonNegative(String key) {
            long v = integer(key);
            if (v < 0) {
                throw new ScenarioError(file, line, key + "=" + v + ": must not be negative");
            }
            return v;
        }

        int integer(String key) {
            String v = raw(key);
            if (!v.matches("-?[0-9]+")) {
                throw new ScenarioError(file, line, key + "=" + v + ": not an integer");
            }
            try {
                return Integer.parseInt(v);
            } catch (NumberFormatException e) {
                throw new ScenarioError(file, line, key + "=" + v + ": out of range");
            }
        }

        boolean bool(String key) {
            String v = raw(key);
            if (!v.equals("true") && !v.equals("false")) {
                throw new ScenarioError(file, line, key + "=" + v + ": not true or false");
            }
            return v.equals("true");
        }

        /** A node id, or {@code none} (-1) where allowed. */
        int nodeOrNone(String key) {
            return raw(key).equals("none") ? CoreTypes.NONE : integer(key);
        }

        List<Integer> ids(String key) {
            String v = raw(key);
            List<Integer> out = new ArrayList<>();
            if (v.isEmpty()) {
                return out;
            }
            for (String part : v.split(",", -1)) {
                if (!part.matches("-?[0-9]+")) {
                    throw new ScenarioError(file, line, key + "=" + v + ": not a list of ids");
                }
                out.add(Integer.parseInt(part));
            }
            return out;
        }

        long[] range(String key) {
            String v = raw(key);
            String[] p = v.split("\\.\\.", -1);
            if (p.length != 2 || !p[0].matches("[0-9]+") || !p[1].matches("[0-9]+")) {
                throw new ScenarioError(file, line, key + "=" + v + ": not a range MIN..MAX");
            }
            return new long[] {Long.parseLong(p[0]), Long.parseLong(p[1])};
        }

        String command(String key) {
            String v = raw(key);
            if (v.length() < 2 || !v.startsWith("\"") || !v.endsWith("\"")) {
                throw new ScenarioError(file, line, key + "=" + v + ": not a quoted command");
            }
            return v.substring(1, v.length() - 1);
        }
    }

    /** One case: directive (at {@code line}), entries, expected output. */
    record Case(int line, String name, Args args, List<Entry> entries, List<String> expected) {}

    /** Splits on spaces outside double quotes. */
    static List<String> tokens(String file, int line, String text) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (char c : text.toCharArray()) {
            if (c == '"') {
                quoted = !quoted;
            }
            if (c == ' ' && !quoted) {
                if (cur.length() > 0) {
                    out.add(cur.toString());
                    cur.setLength(0);
                }
            } else {
                cur.append(c);
            }
        }
        if (quoted) {
            throw new ScenarioError(file, line, "unterminated quote in: " + text);
        }
        if (cur.length() > 0) {
            out.add(cur.toString());
        }
        return out;
    }

    /**
     * The key=value arguments of a line. Errors, first found first: a token without "=", a key
     * given twice, an unknown key ("unknown key `nwo` for `tick` (did you mean `now`?)"), a
     * missing required key ("missing key `now` for `tick`").
     */
    static Args args(String file, int line, List<String> toks, ScenarioGrammar.Spec spec,
            String name) {
        Map<String, String> values = new LinkedHashMap<>();
        for (String t : toks) {
            int eq = t.indexOf('=');
            if (eq <= 0) {
                throw new ScenarioError(file, line, "`" + t + "`: expected key=value");
            }
            String key = t.substring(0, eq);
            if (values.put(key, t.substring(eq + 1)) != null) {
                throw new ScenarioError(file, line, "key `" + key + "` given twice");
            }
        }
        for (String key : values.keySet()) {
            if (!spec.knows(key)) {
                List<String> unused = new ArrayList<>();
                for (String k : spec.required()) {
                    if (!values.containsKey(k)) {
                        unused.add(k);
                    }
                }
                for (String k : spec.optional()) {
                    if (!values.containsKey(k)) {
                        unused.add(k);
                    }
                }
                throw new ScenarioError(file, line, "unknown key `" + key + "` for `" + name + "`"
                        + didYouMean(key, unused));
            }
        }
        for (String key : spec.required()) {
            if (!values.containsKey(key)) {
                throw new ScenarioError(file, line, missingKey(key, name));
            }
        }
        return new Args(file, line, name, values);
    }

    /** Parses a whole file. */
    static List<Case> parse(String file, String text) {
        String[] lines = text.split("\n", -1);
        List<Case> cases = new ArrayList<>();
        int i = 0;
        while (i < lines.length) {
            String l = strip(lines[i]);
            if (l.isBlank() || l.trim().startsWith("#")) {
                i++;
                continue;
            }
            i = parseCase(file, lines, i, cases);
        }
        if (cases.isEmpty() || !cases.get(0).name().equals("init")) {
            throw new ScenarioError(file, 1, "the first case must be init");
        }
        return cases;
    }

    private static String strip(String l) {
        return l.endsWith("\r") ? l.substring(0, l.length() - 1) : l;
    }

    /** Parses the case starting at line index {@code i}; returns the index after it. */
    private static int parseCase(String file, String[] lines, int i, List<Case> cases) {
        int line = i + 1;
        List<String> toks = tokens(file, line, strip(lines[i]));
        String name = toks.get(0);
        Map<String, ScenarioGrammar.Spec> specs = ScenarioGrammar.get().directives();
        ScenarioGrammar.Spec spec = specs.get(name);
        if (spec == null) {
            throw new ScenarioError(file, line,
                    "unknown directive `" + name + "`" + didYouMean(name, specs.keySet()));
        }
        Args args = args(file, line, toks.subList(1, toks.size()), spec, name);
        List<Entry> entries = new ArrayList<>();
        i++;
        while (i < lines.length && !strip(lines[i]).equals("----")) {
            String l = strip(lines[i]).trim();
            if (l.isEmpty()) {
                break; // a blank line ends the case: it has no ---- line
            }
            if (l.startsWith("entry ") && spec.entries()) {
                entries.add(entry(file, i + 1, l));
            } else if (!l.startsWith("#")) {
                throw new ScenarioError(file, i + 1, "expected an entry line or ----, got: " + l);
            }
            i++;
        }
        if (i >= lines.length || !strip(lines[i]).equals("----")) {
            throw new ScenarioError(file, line, "case has no ---- line");
        }
        i++;
        List<String> expected = new ArrayList<>();
        while (i < lines.length && !strip(lines[i]).isEmpty()) {
            expected.add(strip(lines[i]));
            i++;
        }
        cases.add(new Case(line, name, args, entries, expected));
        return i;
    }

    private static Entry entry(String file, int line, String text) {
        List<String> toks = tokens(file, line, text);
        Args a = args(file, line, toks.subList(1, toks.size()),
                ScenarioGrammar.get().entry(), "entry");
        return new Entry(a.integer("index"), a.integer("term"), a.command("command"));
    }
}

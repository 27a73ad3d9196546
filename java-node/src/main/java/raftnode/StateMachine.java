package raftnode;

import java.util.HashMap;
import java.util.Map;

/**
 * The key-value state machine of docs/node-contract.md section 3. A command is SET/GET/CAS/DEL
 * only with exactly the right number of space-separated words; anything else (including the
 * leader's empty no-op) is an opaque no-op whose result is absent (null).
 */
final class StateMachine {
    private final Map<String, String> data = new HashMap<>();

    /** Applies one committed command and returns its result, or null when the result is absent. */
    String apply(String command) {
        String[] w = command.split(" ", -1);
        for (String word : w) {
            if (word.isEmpty()) {
                return null; // "" (leader no-op) or doubled/edge spaces: opaque
            }
        }
        switch (w[0]) {
            case "SET":
                if (w.length == 3) {
                    data.put(w[1], w[2]);
                    return "OK";
                }
                break;
            case "GET":
                if (w.length == 2) {
                    return data.get(w[1]);
                }
                break;
            case "CAS":
                if (w.length == 4) {
                    if (w[2].equals(data.get(w[1]))) {
                        data.put(w[1], w[3]);
                        return "true";
                    }
                    return "false";
                }
                break;
            case "DEL":
                if (w.length == 2) {
                    data.remove(w[1]);
                    return "OK";
                }
                break;
            default:
                break;
        }
        return null;
    }

    String get(String key) {
        return data.get(key);
    }
}

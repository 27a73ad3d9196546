package raftnode;

import com.google.gson.JsonElement;
import com.google.gson.JsonPrimitive;
import java.util.LinkedHashMap;
import java.util.Map;

/** Journal/state lines as flat maps for assertions: integers as Long, strings, booleans, null. */
final class TestJson {
    private TestJson() {}

    static Map<String, Object> parseObject(String line) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : FileStorage.parseObject(line).entrySet()) {
            out.put(e.getKey(), value(e.getValue()));
        }
        return out;
    }

    private static Object value(JsonElement e) {
        if (e.isJsonNull()) {
            return null;
        }
        JsonPrimitive p = e.getAsJsonPrimitive();
        if (p.isNumber()) {
            return p.getAsBigDecimal().longValueExact();
        }
        return p.isBoolean() ? (Object) p.getAsBoolean() : p.getAsString();
    }
}

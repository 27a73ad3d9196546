package raftnode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** docs/node-contract.md section 3. */
class StateMachineTest {
    @Test
    void setGetCasDel() {
        StateMachine sm = new StateMachine();
        assertNull(sm.apply("GET k"), "missing key: absent");
        assertEquals("OK", sm.apply("SET k v1"));
        assertEquals("v1", sm.apply("GET k"));
        assertEquals("false", sm.apply("CAS k nope v2"));
        assertEquals("v1", sm.apply("GET k"));
        assertEquals("true", sm.apply("CAS k v1 v2"));
        assertEquals("v2", sm.apply("GET k"));
        assertEquals("false", sm.apply("CAS missing a b"));
        assertEquals("OK", sm.apply("DEL k"));
        assertEquals("OK", sm.apply("DEL k"), "deleting a missing key is still OK");
        assertNull(sm.apply("GET k"));
    }

    @Test
    void wrongArityAndOtherTextAreOpaqueNoOps() {
        StateMachine sm = new StateMachine();
        sm.apply("SET k v");
        String[] opaque = {"", "operation_1", "SET k", "SET k v extra", "GET", "GET k extra",
            "CAS k v", "DEL", "set k x", "SET  k x", "SET k x ", " SET k x"};
        for (String c : opaque) {
            assertNull(sm.apply(c), "'" + c + "' is opaque");
        }
        assertEquals("v", sm.get("k"), "no opaque command changed the state");
    }
}

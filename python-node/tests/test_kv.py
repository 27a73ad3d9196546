"""The state machine of node contract section 3."""

from raftnode.kv import KvStore


def test_set_get_cas_del():
    kv = KvStore()
    assert kv.apply("GET x") is None
    assert kv.apply("SET x 1") == "OK"
    assert kv.apply("GET x") == "1"
    assert kv.apply("CAS x 2 3") == "false"
    assert kv.apply("GET x") == "1"
    assert kv.apply("CAS x 1 3") == "true"
    assert kv.apply("GET x") == "3"
    assert kv.apply("DEL x") == "OK"
    assert kv.apply("GET x") is None
    assert kv.apply("DEL x") == "OK"  # deleting a missing key is fine


def test_cas_on_a_missing_key_is_false():
    kv = KvStore()
    assert kv.apply("CAS x 1 2") == "false"
    assert kv.data == {}


def test_noop_and_opaque_commands_change_nothing():
    kv = KvStore()
    kv.apply("SET a 1")
    for cmd in [
        "",
        "operation_1",
        "SET a",
        "SET a 1 2",
        "GET",
        "GET a b",
        "CAS a 1",
        "DEL",
        "set a 2",
        "SET  a 2",
        "SET a 2 ",
        " SET a 2",
    ]:
        assert kv.apply(cmd) is None, cmd
    assert kv.data == {"a": "1"}

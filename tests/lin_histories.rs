//! Linearizability checker: hand-made histories, property tests on generated
//! histories, and the shared reference histories with known verdicts.
use proptest::prelude::*;
use raft_harness::history::{Op, Outcome};
use raft_harness::lin::gen::{corrupt_one_read, generate_kv_history, GenConfig};
use raft_harness::lin::jepsen::parse_jepsen_log;
use raft_harness::lin::kvtext::parse_kv_history;
use raft_harness::lin::{
    check, check_kv_history, AppendKv, CasRegister, Limits, Operation, RegisterOp, RegisterOut,
    Status, Verdict, VerdictKind,
};
use std::path::PathBuf;
use std::time::Duration;

/// `(client, command, invoke, complete, outcome, result)`
type Row<'a> = (u32, &'a str, u64, Option<u64>, Outcome, Option<&'a str>);

fn ops(rows: &[Row]) -> Vec<Op> {
    rows.iter()
        .enumerate()
        .map(
            |(i, &(client, command, invoke, complete, outcome, result))| Op {
                id: i as u64,
                client,
                node: 1,
                command: command.to_string(),
                invoke_us: invoke,
                complete_us: complete,
                outcome,
                result: result.map(str::to_string),
                message: String::new(),
            },
        )
        .collect()
}

fn kv(rows: &[Row]) -> VerdictKind {
    check_kv_history(&ops(rows), Limits::default()).verdict
}

use Outcome::{Fail, Info, Ok as Done};

#[test]
fn sequential_history_is_ok() {
    let rows = [
        (1, "GET a", 0, Some(1), Done, None),
        (1, "SET a 1", 2, Some(3), Done, Some("OK")),
        (2, "GET a", 4, Some(5), Done, Some("1")),
        (2, "CAS a 1 2", 6, Some(7), Done, Some("true")),
        (1, "CAS a 1 3", 8, Some(9), Done, Some("false")),
        (1, "GET a", 10, Some(11), Done, Some("2")),
        (2, "DEL a", 12, Some(13), Done, Some("OK")),
        (2, "GET a", 14, Some(15), Done, None),
    ];
    assert_eq!(kv(&rows), VerdictKind::Ok);
}

#[test]
fn read_of_missing_key_after_a_write_is_illegal() {
    let rows = [
        (1, "SET a 1", 0, Some(1), Done, Some("OK")),
        (2, "GET a", 2, Some(3), Done, None),
    ];
    assert_eq!(kv(&rows), VerdictKind::Illegal);
    // Concurrent with the write, the missing value is fine.
    let rows = [
        (1, "SET a 1", 0, Some(3), Done, Some("OK")),
        (2, "GET a", 1, Some(2), Done, None),
    ];
    assert_eq!(kv(&rows), VerdictKind::Ok);
}

#[test]
fn stale_read_is_explained() {
    let rows = [
        (1, "SET a 1", 0, Some(10), Done, Some("OK")),
        (1, "SET a 2", 20, Some(30), Done, Some("OK")),
        (2, "GET a", 40, Some(50), Done, Some("1")),
        (3, "SET b 7", 0, Some(100), Done, Some("OK")),
    ];
    let all = Limits {
        stop_after_illegal: false,
        ..Limits::default()
    };
    let r = check_kv_history(&ops(&rows), all);
    assert_eq!(r.verdict, VerdictKind::Illegal);
    assert_eq!(r.keys.len(), 2);
    let b = r.keys.iter().find(|k| k.key == "b").unwrap();
    assert_eq!(b.verdict, Verdict::Ok);
    let a = r.keys.iter().find(|k| k.key == "a").unwrap();
    let Verdict::Illegal(e) = &a.verdict else {
        panic!("key a should be illegal: {:?}", a.verdict)
    };
    assert_eq!(e.key, "a");
    assert_eq!(e.stuck.id, 2);
    assert_eq!(e.stuck.client, 2);
    assert_eq!((e.stuck.invoke, e.stuck.complete), (40, Some(50)));
    assert_eq!(e.stuck.op, "GET a -> 1");
    assert_eq!(e.prefix_len, 2);
    assert_eq!(e.state, "2");
    assert_eq!(e.prefix_tail[1].op.op, "SET a 2");
    assert!(e.open.iter().any(|c| c.op.id == 2 && c.rejected));
    let text = r.to_string();
    assert!(text.contains("linearizability: illegal"), "{text}");
    assert!(
        text.contains(
            "key a: not linearizable: op 2 (client 2, invoked 40 completed 50) GET a -> 1"
        ),
        "{text}"
    );
    assert!(text.contains("leaving state 2"), "{text}");
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["verdict"], "illegal");
    assert_eq!(json["keys"][0]["verdict"]["verdict"], "illegal");
    assert_eq!(json["keys"][0]["verdict"]["stuck"]["id"], 2);
    assert_eq!(json["keys"][1]["verdict"]["verdict"], "ok");
}

#[test]
fn concurrent_cas_both_succeeding_is_illegal() {
    let base = (1, "SET a 1", 0, Some(1), Done, Some("OK"));
    let rows = [
        base,
        (2, "CAS a 1 2", 5, Some(20), Done, Some("true")),
        (3, "CAS a 1 3", 6, Some(21), Done, Some("true")),
    ];
    assert_eq!(kv(&rows), VerdictKind::Illegal);
    let rows = [
        base,
        (2, "CAS a 1 2", 5, Some(20), Done, Some("true")),
        (3, "CAS a 1 3", 6, Some(21), Done, Some("false")),
        (4, "GET a", 30, Some(31), Done, Some("2")),
    ];
    assert_eq!(kv(&rows), VerdictKind::Ok);
}

#[test]
fn failed_cas_is_still_a_read_constraint() {
    let rows = [
        (1, "SET a 1", 0, Some(1), Done, Some("OK")),
        (2, "CAS a 1 2", 5, Some(6), Done, Some("false")),
    ];
    assert_eq!(kv(&rows), VerdictKind::Illegal);
}

#[test]
fn fail_operations_are_ignored() {
    let failed = (1, "SET a 9", 0, Some(1), Fail, None);
    assert_eq!(
        kv(&[failed, (2, "GET a", 5, Some(6), Done, Some("9"))]),
        VerdictKind::Illegal
    );
    assert_eq!(
        kv(&[failed, (2, "GET a", 5, Some(6), Done, None)]),
        VerdictKind::Ok
    );
}

#[test]
fn info_operations_may_apply_late_or_never() {
    let info = (1, "SET a 5", 0, None, Info, None);
    // Never applied.
    assert_eq!(
        kv(&[info, (2, "GET a", 10, Some(11), Done, None)]),
        VerdictKind::Ok
    );
    // Applied after a later write.
    let rows = [
        info,
        (2, "SET a 6", 10, Some(20), Done, Some("OK")),
        (2, "GET a", 30, Some(40), Done, Some("5")),
        (3, "GET a", 50, Some(60), Done, Some("5")),
    ];
    assert_eq!(kv(&rows), VerdictKind::Ok);
    // Applied at most once: 5, missing, 5 is impossible.
    let rows = [
        info,
        (2, "GET a", 10, Some(11), Done, Some("5")),
        (2, "DEL a", 12, Some(13), Done, Some("OK")),
        (2, "GET a", 14, Some(15), Done, None),
        (3, "GET a", 20, Some(21), Done, Some("5")),
    ];
    assert_eq!(kv(&rows), VerdictKind::Illegal);
    // Not before its invocation.
    let rows = [
        (2, "GET a", 0, Some(1), Done, Some("5")),
        (1, "SET a 5", 2, Some(3), Info, None),
    ];
    assert_eq!(kv(&rows), VerdictKind::Illegal);
    // An unknown CAS may have applied.
    let rows = [
        (1, "SET a 1", 0, Some(1), Done, Some("OK")),
        (2, "CAS a 1 2", 2, None, Done, None),
        (3, "GET a", 5, Some(6), Done, Some("2")),
    ];
    assert_eq!(kv(&rows), VerdictKind::Ok);
}

#[test]
fn other_commands_are_ignored() {
    let rows = [
        (1, "operation_1", 0, Some(1), Done, None),
        (1, "SET a", 0, Some(1), Done, None),
        (1, "SET a 1", 2, Some(3), Done, Some("OK")),
        (1, "GET a", 4, Some(5), Done, Some("1")),
    ];
    let r = check_kv_history(&ops(&rows), Limits::default());
    assert_eq!(r.verdict, VerdictKind::Ok);
    assert_eq!(r.conversion.ignored, 2);
    assert_eq!(r.stats.ops, 2);
}

#[test]
fn empty_history_is_ok() {
    assert_eq!(kv(&[]), VerdictKind::Ok);
}

#[test]
fn register_model_directly() {
    let op = |id, call, ret, input, output| Operation {
        id,
        client: id,
        call,
        ret: Some(ret),
        status: Status::Ok,
        input,
        output,
    };
    let h = vec![
        op(0, 0, 1, RegisterOp::Write(3), RegisterOut::Done),
        op(1, 2, 5, RegisterOp::Cas(3, 4), RegisterOut::Cas(true)),
        op(2, 3, 4, RegisterOp::Read, RegisterOut::Read(Some(4))),
        op(3, 6, 7, RegisterOp::Read, RegisterOut::Read(Some(4))),
    ];
    let r = check(&CasRegister, &h, Limits::default());
    assert_eq!(r.verdict, VerdictKind::Ok);
    let mut bad = h.clone();
    bad[3].output = RegisterOut::Read(Some(3));
    let r = check(&CasRegister, &bad, Limits::default());
    assert_eq!(r.verdict, VerdictKind::Illegal);
    let e = r.illegal().next().unwrap();
    assert_eq!(e.stuck.op, "read -> 3");
    assert!(r.to_string().contains("not linearizable"));
}

#[test]
fn bounds_give_unknown_never_ok() {
    let h = generate_kv_history(&GenConfig {
        seed: 7,
        ops: 3000,
        keys: 2,
        clients: 20,
        ..GenConfig::default()
    });
    let tiny = Limits {
        max_cache_entries: Some(10),
        ..Limits::default()
    };
    let r = check_kv_history(&h, tiny);
    assert_eq!(r.verdict, VerdictKind::Unknown);
    assert!(r.to_string().contains("cache limit of 10 entries"), "{r}");
    let tiny = Limits {
        max_cache_bytes: Some(1000),
        ..Limits::default()
    };
    assert_eq!(check_kv_history(&h, tiny).verdict, VerdictKind::Unknown);
    let no_time = Limits {
        time: Some(Duration::ZERO),
        ..Limits::default()
    };
    let r = check_kv_history(&h, no_time);
    assert_eq!(r.verdict, VerdictKind::Unknown);
    assert!(r.to_string().contains("time limit"), "{r}");
    assert_eq!(
        check_kv_history(&h, Limits::default()).verdict,
        VerdictKind::Ok
    );
}

#[test]
fn one_thread_and_many_agree() {
    let mut h = generate_kv_history(&GenConfig {
        seed: 3,
        ops: 2000,
        keys: 10,
        clients: 10,
        ..GenConfig::default()
    });
    corrupt_one_read(&mut h, 5).unwrap();
    let all = Limits {
        stop_after_illegal: false,
        ..Limits::default()
    };
    let one = check_kv_history(
        &h,
        Limits {
            threads: Some(1),
            ..all
        },
    );
    let many = check_kv_history(
        &h,
        Limits {
            threads: Some(4),
            ..all
        },
    );
    assert_eq!(one.verdict, VerdictKind::Illegal);
    let kinds = |r: &raft_harness::lin::KvReport| {
        r.keys
            .iter()
            .map(|k| (k.key.clone(), k.verdict.kind()))
            .collect::<Vec<_>>()
    };
    assert_eq!(kinds(&one), kinds(&many));
}

#[test]
fn other_keys_stop_once_one_is_illegal() {
    let rows = [
        (1, "SET a 1", 0, Some(1), Done, Some("OK")),
        (2, "GET a", 2, Some(3), Done, Some("2")),
        (3, "SET b 1", 0, Some(1), Done, Some("OK")),
        (3, "GET b", 2, Some(3), Done, Some("1")),
    ];
    let one = Limits {
        threads: Some(1),
        ..Limits::default()
    };
    // One thread, larger parts first, ties by key: `a` is checked first.
    let r = check_kv_history(&ops(&rows), one);
    assert_eq!(r.verdict, VerdictKind::Illegal);
    let b = r.keys.iter().find(|k| k.key == "b").unwrap();
    assert_eq!(
        b.verdict,
        Verdict::Unknown {
            bound: raft_harness::lin::Bound::Stopped
        }
    );
    assert!(
        r.to_string()
            .contains("key b: unknown: not finished: another part is illegal"),
        "{r}"
    );
    let r = check_kv_history(
        &ops(&rows),
        Limits {
            stop_after_illegal: false,
            ..one
        },
    );
    let b = r.keys.iter().find(|k| k.key == "b").unwrap();
    assert_eq!(b.verdict, Verdict::Ok);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn generated_histories_are_ok(
        seed in any::<u64>(),
        n in 1usize..400,
        keys in 1usize..5,
        clients in 1usize..12,
        info in 0u32..20,
        fail in 0u32..15,
    ) {
        let cfg = GenConfig { seed, ops: n, keys, clients, info_percent: info, fail_percent: fail };
        let h = generate_kv_history(&cfg);
        let r = check_kv_history(&h, Limits::default());
        prop_assert_eq!(r.verdict, VerdictKind::Ok, "{}", r);
    }

    // Few info operations: proving a history illegal explores every order of
    // its prefix, and each never-resolved info operation can double that.
    #[test]
    fn a_read_of_a_value_never_written_is_illegal(
        seed in any::<u64>(),
        n in 1usize..200,
        keys in 1usize..5,
        clients in 1usize..12,
        info in 0u32..4,
        fail in 0u32..15,
        pick in any::<usize>(),
    ) {
        let cfg = GenConfig { seed, ops: n, keys, clients, info_percent: info, fail_percent: fail };
        let mut h = generate_kv_history(&cfg);
        if let Some(id) = corrupt_one_read(&mut h, pick) {
            let key = h[id as usize].command.split(' ').nth(1).unwrap().to_string();
            let r = check_kv_history(&h, Limits::default());
            prop_assert_eq!(r.verdict, VerdictKind::Illegal, "{}", r);
            let illegal: Vec<&str> = r
                .keys
                .iter()
                .filter(|k| k.verdict.kind() == VerdictKind::Illegal)
                .map(|k| k.key.as_str())
                .collect();
            prop_assert_eq!(illegal, vec![key.as_str()]);
        }
    }
}

fn histories_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/histories");
    assert!(
        dir.join("jepsen-etcd/expected.tsv").is_file() && dir.join("kv/expected.tsv").is_file(),
        "reference histories not found: expected {} with jepsen-etcd/ and kv/ (the shared/ folder beside the repository)",
        dir.display()
    );
    dir
}

/// `(file, linearizable)` rows of an expected.tsv.
fn expected(dir: &std::path::Path) -> Vec<(String, bool)> {
    let path = dir.join("expected.tsv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let rows: Vec<(String, bool)> = text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (f, v) = l
                .split_once('\t')
                .unwrap_or_else(|| panic!("bad row {l:?}"));
            let v = match v.trim() {
                "true" => true,
                "false" => false,
                other => panic!("{}: bad verdict {other:?}", path.display()),
            };
            (f.to_string(), v)
        })
        .collect();
    assert!(!rows.is_empty(), "{} lists no histories", path.display());
    rows
}

fn verdict_of(ok: bool) -> VerdictKind {
    if ok {
        VerdictKind::Ok
    } else {
        VerdictKind::Illegal
    }
}

#[test]
fn jepsen_etcd_histories_get_the_expected_verdict() {
    let dir = histories_dir().join("jepsen-etcd");
    let rows = expected(&dir);
    assert!(rows.len() >= 100);
    let mut wrong = Vec::new();
    for (file, ok) in &rows {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let h = parse_jepsen_log(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        let r = check(&CasRegister, &h, Limits::default());
        if r.verdict != verdict_of(*ok) {
            wrong.push(format!("{file}: expected {}, got {}", verdict_of(*ok), r));
        }
        if let Some(e) = r.illegal().next() {
            assert!(
                e.stuck.complete.is_some(),
                "{file}: stuck op must be completed"
            );
        };
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn kv_histories_get_the_expected_verdict() {
    let dir = histories_dir().join("kv");
    let rows = expected(&dir);
    assert_eq!(rows.len(), 6);
    for (file, ok) in &rows {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let h = parse_kv_history(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        let r = check(&AppendKv, &h, Limits::default());
        assert_eq!(r.verdict, verdict_of(*ok), "{file}: {r}");
    }
}

#[test]
fn parsers_reject_bad_lines_with_the_line_number() {
    let e = parse_jepsen_log("x\nINFO  jepsen.util - 1\t:invoke\t:write\tabc\n").unwrap_err();
    assert_eq!(e.to_string(), "line 2: expected an integer, found \"abc\"");
    let e = parse_jepsen_log("INFO  jepsen.util - 1\t:ok\t:read\t3\n").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("line 1: :ok for process 1 with no open invocation"),
        "{e}"
    );
    let e = parse_kv_history(
        "{:process 0, :type :invoke, :f :get, :key \"1\", :value nil}\n{:process 0 :type\n",
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("line 2:"), "{e}");
}

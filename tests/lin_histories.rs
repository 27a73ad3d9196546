//! Linearizability checker: hand-made histories, property tests on generated
//! histories and generated ones with fixed seeds, histories the project owns
//! (tests/data/histories: recorded from real runs of the reference nodes, and
//! Jepsen / kv-text ones written by hand), and, where present, the public
//! reference corpus (`$RAFT_HARNESS_REFERENCE_HISTORIES`, default
//! `../shared/histories`): absent, it is one line and a pass.
use proptest::prelude::*;
use raft_harness::history::{Op, Outcome};
use raft_harness::lin::gen::{corrupt_one_read, generate_kv_history, stale_one_read, GenConfig};
use raft_harness::lin::jepsen::parse_jepsen_log;
use raft_harness::lin::kvtext::parse_kv_history;
use raft_harness::lin::{
    check, check_kv_history, AppendKv, CasRegister, Limits, Operation, RegisterOp, RegisterOut,
    Verdict, VerdictKind,
};
use std::io::Write;
use std::path::{Path, PathBuf};
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
        status: Outcome::Ok,
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

fn illegal_keys(r: &raft_harness::lin::KvReport) -> Vec<&str> {
    r.keys
        .iter()
        .filter(|k| k.verdict.kind() == VerdictKind::Illegal)
        .map(|k| k.key.as_str())
        .collect()
}

/// The key an operation's command names (`GET k`, `SET k v`, ...).
fn key_of(op: &Op) -> &str {
    op.command.split(' ').nth(1).unwrap()
}

/// Generator settings: any seed, fail percentage in `0..15`, the rest in the given ranges.
fn configs(
    ops: std::ops::Range<usize>,
    keys: std::ops::Range<usize>,
    clients: std::ops::Range<usize>,
    info: std::ops::Range<u32>,
) -> impl Strategy<Value = GenConfig> {
    (any::<u64>(), ops, keys, clients, info, 0u32..15).prop_map(
        |(seed, ops, keys, clients, info_percent, fail_percent)| GenConfig {
            seed,
            ops,
            keys,
            clients,
            info_percent,
            fail_percent,
        },
    )
}

/// A history generated by `cfg` with one read spoiled by `spoil` (picked by
/// `pick`): when a read could be spoiled, the history is illegal, and in the
/// spoiled read's key alone.
fn spoiled_read_is_the_only_illegal_key(
    cfg: &GenConfig,
    spoil: fn(&mut [Op], usize) -> Option<u64>,
    pick: usize,
) -> Result<(), TestCaseError> {
    let mut h = generate_kv_history(cfg);
    if let Some(id) = spoil(&mut h, pick) {
        let key = key_of(&h[id as usize]);
        let r = check_kv_history(&h, Limits::default());
        prop_assert_eq!(r.verdict, VerdictKind::Illegal, "{}", r);
        prop_assert_eq!(illegal_keys(&r), vec![key]);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn generated_histories_are_ok(cfg in configs(1..400, 1..5, 1..12, 0..20)) {
        let h = generate_kv_history(&cfg);
        let r = check_kv_history(&h, Limits::default());
        prop_assert_eq!(r.verdict, VerdictKind::Ok, "{}", r);
    }

    // Few info operations: proving a history illegal explores every order of
    // its prefix, and each never-resolved info operation can double that.
    #[test]
    fn a_read_of_a_value_never_written_is_illegal(
        cfg in configs(1..200, 1..5, 1..12, 0..4),
        pick in any::<usize>(),
    ) {
        spoiled_read_is_the_only_illegal_key(&cfg, corrupt_one_read, pick)?;
    }

    // A read of a value certainly overwritten before the read (what a node
    // answering reads without confirming its leadership returns).
    #[test]
    fn a_stale_read_is_illegal(
        cfg in configs(1..200, 1..4, 1..10, 0..4),
        pick in any::<usize>(),
    ) {
        spoiled_read_is_the_only_illegal_key(&cfg, stale_one_read, pick)?;
    }
}

/// The histories the project owns (see tests/data/histories/README.md).
fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/histories")
        .join(name)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn verdict_of(ok: bool) -> VerdictKind {
    if ok {
        VerdictKind::Ok
    } else {
        VerdictKind::Illegal
    }
}

#[test]
fn generated_histories_with_fixed_seeds_get_their_verdict() {
    for (seed, ops, keys, clients, info) in [
        (1, 300, 1, 3, 0),
        (2, 500, 3, 8, 5),
        (3, 1000, 10, 10, 2),
        (4, 200, 2, 12, 10),
    ] {
        let cfg = GenConfig {
            seed,
            ops,
            keys,
            clients,
            info_percent: info,
            fail_percent: 5,
        };
        let mut h = generate_kv_history(&cfg);
        let r = check_kv_history(&h, Limits::default());
        assert_eq!(r.verdict, VerdictKind::Ok, "{cfg:?}: {r}");
        let mut stale = h.clone();
        let id = stale_one_read(&mut stale, seed as usize).expect("a read to make stale");
        let key = key_of(&stale[id as usize]);
        let r = check_kv_history(&stale, Limits::default());
        assert_eq!(r.verdict, VerdictKind::Illegal, "{cfg:?} op {id}: {r}");
        assert_eq!(illegal_keys(&r), vec![key], "{cfg:?} op {id}: {r}");
        let id = corrupt_one_read(&mut h, seed as usize).expect("a read to corrupt");
        let r = check_kv_history(&h, Limits::default());
        assert_eq!(r.verdict, VerdictKind::Illegal, "{cfg:?} op {id}: {r}");
        let e = r.keys.iter().find_map(|k| match &k.verdict {
            Verdict::Illegal(e) => Some(e),
            _ => None,
        });
        assert!(
            e.is_some_and(|e| e.stuck.op.ends_with("-> never-written")),
            "{cfg:?}: {r}"
        );
    }
}

#[test]
fn the_recorded_failover_history_is_linearizable() {
    let h = raft_harness::history::read_jsonl(&data("failover-rust.jsonl")).unwrap();
    assert_eq!(h.len(), 144);
    let r = check_kv_history(&h, Limits::default());
    assert_eq!(r.verdict, VerdictKind::Ok, "{r}");
    assert_eq!(r.keys.len(), 2, "{r}");
}

#[test]
fn the_recorded_stale_read_history_is_not_linearizable() {
    let h = raft_harness::history::read_jsonl(&data("stale-read.jsonl")).unwrap();
    assert_eq!(h.len(), 106);
    let r = check_kv_history(&h, Limits::default());
    assert_eq!(r.verdict, VerdictKind::Illegal, "{r}");
    let e = r.keys[0].verdict.clone();
    let Verdict::Illegal(e) = e else {
        panic!("{r}")
    };
    assert_eq!((e.key.as_str(), e.stuck.id), ("k0", 86), "{r}");
    assert_eq!(e.stuck.op, "GET k0 -> 38");
    // The stale read was sent to node 1, the node cut off from the others.
    assert_eq!(h[86].node, 1);
}

#[test]
fn our_jepsen_histories_get_their_verdict() {
    let dir = data("jepsen");
    let h = parse_jepsen_log(&read(&dir.join("register-ok.log"))).unwrap();
    assert_eq!(h.len(), 11, "the :nemesis lines are no operations");
    assert_eq!(h.iter().filter(|o| o.status == Outcome::Info).count(), 2);
    let r = check(&CasRegister, &h, Limits::default());
    assert_eq!(r.verdict, VerdictKind::Ok, "{r}");

    let h = parse_jepsen_log(&read(&dir.join("register-stale-read.log"))).unwrap();
    let r = check(&CasRegister, &h, Limits::default());
    assert_eq!(r.verdict, VerdictKind::Illegal, "{r}");
    let e = r.illegal().next().unwrap();
    assert_eq!(e.stuck.op, "read -> 1");
    assert_eq!((e.stuck.invoke, e.stuck.complete), (10, Some(11)));

    let e = parse_jepsen_log(&read(&dir.join("malformed.log"))).unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 3: cas value must be [old new], found \"[1]\""
    );
}

#[test]
fn our_kv_text_histories_get_their_verdict() {
    let dir = data("kv");
    let h = parse_kv_history(&read(&dir.join("append-ok.txt"))).unwrap();
    assert_eq!(h.len(), 7);
    assert_eq!(h.iter().filter(|o| o.status == Outcome::Info).count(), 1);
    let r = check(&AppendKv, &h, Limits::default());
    assert_eq!(r.verdict, VerdictKind::Ok, "{r}");
    assert_eq!(r.partitions.len(), 2);

    let h = parse_kv_history(&read(&dir.join("append-bad.txt"))).unwrap();
    let r = check(&AppendKv, &h, Limits::default());
    assert_eq!(r.verdict, VerdictKind::Illegal, "{r}");
    let e = r.illegal().next().unwrap();
    assert_eq!(e.key, "a");
    assert_eq!((e.stuck.invoke, e.stuck.complete), (4, Some(6)));

    let e = parse_kv_history(&read(&dir.join("malformed.txt"))).unwrap_err();
    assert_eq!(e.line, 3);
    assert!(e.to_string().contains("unterminated string"), "{e}");
}

/// The public reference corpus (see `reference_corpus_...` below): the
/// folder named by this variable, else `../shared/histories` beside the
/// repository (`raft_harness::lin::reference_corpus_dir`).
const CORPUS_VAR: &str = raft_harness::lin::REFERENCE_CORPUS_VAR;
/// Histories the corpus holds: Jepsen etcd logs and kv-text histories.
const CORPUS_JEPSEN: usize = 102;
const CORPUS_KV: usize = 6;
const CORPUS_TEST: &str = "reference_corpus_histories_get_the_expected_verdict";

fn corpus_dir() -> PathBuf {
    raft_harness::lin::reference_corpus_dir()
}

/// `(file, linearizable)` rows of `dir/expected.tsv` (after its header line);
/// a row that cannot be read is a problem, named with its line.
fn expected(dir: &Path, problems: &mut Vec<String>) -> Vec<(String, bool)> {
    let path = dir.join("expected.tsv");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            problems.push(format!("{}: cannot read: {e}", path.display()));
            return Vec::new();
        }
    };
    let mut rows = Vec::new();
    for (i, l) in text.lines().enumerate().skip(1) {
        match l.split_once('\t').map(|(f, v)| (f, v.trim())) {
            Some((f, "true")) => rows.push((f.to_string(), true)),
            Some((f, "false")) => rows.push((f.to_string(), false)),
            _ if l.trim().is_empty() => {}
            _ => problems.push(format!(
                "{}:{}: expected FILE<TAB>true|false, found {l:?}",
                path.display(),
                i + 1
            )),
        }
    }
    rows
}

/// Checks every history `expected.tsv` lists in `dir`: each must be readable,
/// parse (`judge` gives its verdict, or why it cannot) and get the listed
/// verdict, and there must be `count` of them. Every failure is a problem.
fn check_corpus_folder(
    dir: &Path,
    count: usize,
    judge: impl Fn(&str) -> Result<VerdictKind, String>,
    problems: &mut Vec<String>,
) {
    let rows = expected(dir, problems);
    if rows.len() != count {
        problems.push(format!(
            "{}: lists {} histories, expected {count}",
            dir.join("expected.tsv").display(),
            rows.len()
        ));
    }
    for (file, ok) in rows {
        let path = dir.join(&file);
        let verdict = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read: {e}"))
            .and_then(|text| judge(&text));
        match verdict {
            Ok(v) if v == verdict_of(ok) => {}
            Ok(v) => problems.push(format!(
                "{}: expected {}, got {v}",
                path.display(),
                verdict_of(ok)
            )),
            Err(e) => problems.push(format!("{}: {e}", path.display())),
        }
    }
}

fn judge_jepsen(text: &str) -> Result<VerdictKind, String> {
    let h = parse_jepsen_log(text).map_err(|e| e.to_string())?;
    let r = check(&CasRegister, &h, Limits::default());
    if r.illegal().any(|e| e.stuck.complete.is_none()) {
        return Err(format!("stuck op is not completed: {r}"));
    }
    Ok(r.verdict)
}

fn judge_kv(text: &str) -> Result<VerdictKind, String> {
    let h = parse_kv_history(text).map_err(|e| e.to_string())?;
    Ok(check(&AppendKv, &h, Limits::default()).verdict)
}

/// One line on stderr that the test harness does not capture.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// The public reference corpus, an extra check: absent (no such path) is one
/// line and a pass; present, it must be whole (both subfolders, every listed
/// file readable and parsed) and every verdict must be the listed one.
#[test]
fn reference_corpus_histories_get_the_expected_verdict() {
    let dir = corpus_dir();
    match dir.try_exists() {
        Ok(false) => {
            say(&format!(
                "reference corpus: absent ({}), {CORPUS_JEPSEN} Jepsen + {CORPUS_KV} kv histories not run",
                dir.display()
            ));
            return;
        }
        Ok(true) => {}
        Err(e) => panic!("reference corpus {}: {e}", dir.display()),
    }
    let mut problems = Vec::new();
    check_corpus_folder(
        &dir.join("jepsen-etcd"),
        CORPUS_JEPSEN,
        judge_jepsen,
        &mut problems,
    );
    check_corpus_folder(&dir.join("kv"), CORPUS_KV, judge_kv, &mut problems);
    assert!(
        problems.is_empty(),
        "reference corpus {} (${CORPUS_VAR} or ../shared/histories) is present but wrong:\n{}",
        dir.display(),
        problems.join("\n")
    );
    say(&format!(
        "reference corpus: {} ({CORPUS_JEPSEN} Jepsen + {CORPUS_KV} kv histories), every verdict as expected",
        dir.display()
    ));
}

/// Runs only [`reference_corpus_histories_get_the_expected_verdict`], in a
/// new process of this test binary, with the corpus at `dir`.
fn run_corpus_test(dir: &Path) -> (bool, String, String) {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .env(CORPUS_VAR, dir)
        .args([CORPUS_TEST, "--exact", "--test-threads=1"])
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

#[test]
fn an_absent_reference_corpus_is_one_line_and_a_pass() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("no-such-folder");
    let (ok, stdout, stderr) = run_corpus_test(&dir);
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.contains("1 passed"), "{stdout}");
    let line = format!(
        "reference corpus: absent ({}), 102 Jepsen + 6 kv histories not run",
        dir.display()
    );
    assert_eq!(stderr.trim_end(), line, "{stdout}");
}

/// A small corpus made of our own histories, laid out like the real one.
fn small_corpus(root: &Path, jepsen: &[(&str, bool)], kv: &[(&str, bool)]) {
    for (sub, ours, rows) in [("jepsen-etcd", "jepsen", jepsen), ("kv", "kv", kv)] {
        let dir = root.join(sub);
        std::fs::create_dir_all(&dir).unwrap();
        let mut tsv = "file\tlinearizable\n".to_string();
        for (file, ok) in rows {
            tsv.push_str(&format!("{file}\t{ok}\n"));
            let _ = std::fs::copy(data(ours).join(file), dir.join(file));
        }
        std::fs::write(dir.join("expected.tsv"), tsv).unwrap();
    }
}

#[test]
fn a_present_but_wrong_reference_corpus_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let good_j = [
        ("register-ok.log", true),
        ("register-stale-read.log", false),
    ];
    let good_kv = [("append-ok.txt", true), ("append-bad.txt", false)];
    let cases: Vec<(&str, PathBuf, String)> = vec![
        {
            let d = t.join("empty");
            std::fs::create_dir(&d).unwrap();
            let want = format!(
                "{}: cannot read",
                d.join("jepsen-etcd/expected.tsv").display()
            );
            ("no subfolders", d, want)
        },
        {
            let d = t.join("no-kv");
            small_corpus(&d, &good_j, &good_kv);
            std::fs::remove_dir_all(d.join("kv")).unwrap();
            let want = format!("{}: cannot read", d.join("kv/expected.tsv").display());
            ("kv/ missing", d, want)
        },
        {
            let d = t.join("gone");
            small_corpus(&d, &[("gone.log", true)], &good_kv);
            let want = format!("{}: cannot read", d.join("jepsen-etcd/gone.log").display());
            ("listed file missing", d, want)
        },
        {
            let d = t.join("wrong");
            small_corpus(&d, &[("register-stale-read.log", true)], &good_kv);
            let want = format!(
                "{}: expected ok, got illegal",
                d.join("jepsen-etcd/register-stale-read.log").display()
            );
            ("wrong verdict", d, want)
        },
        {
            let d = t.join("malformed");
            small_corpus(&d, &good_j, &[("malformed.txt", false)]);
            let want = format!("{}: line 3:", d.join("kv/malformed.txt").display());
            ("unparsable history", d, want)
        },
        {
            let d = t.join("bad-row");
            small_corpus(&d, &good_j, &good_kv);
            std::fs::write(
                d.join("kv/expected.tsv"),
                "file\tlinearizable\nc01.txt yes\n",
            )
            .unwrap();
            let want = format!(
                "{}:2: expected FILE<TAB>true|false",
                d.join("kv/expected.tsv").display()
            );
            ("bad expected.tsv row", d, want)
        },
        {
            let d = t.join("a-file");
            std::fs::write(&d, "not a folder").unwrap();
            let want = format!(
                "{}: cannot read",
                d.join("jepsen-etcd/expected.tsv").display()
            );
            ("a file, not a folder", d, want)
        },
        {
            let d = t.join("small");
            small_corpus(&d, &good_j, &good_kv);
            let want = format!(
                "{}: lists 2 histories, expected 102",
                d.join("jepsen-etcd/expected.tsv").display()
            );
            ("histories missing from expected.tsv", d, want)
        },
    ];
    for (what, dir, want) in cases {
        let (ok, stdout, stderr) = run_corpus_test(&dir);
        assert!(!ok, "{what}: passed\n{stdout}{stderr}");
        assert!(
            stdout.contains(&want),
            "{what}: no {want:?} in\n{stdout}{stderr}"
        );
        assert!(!stderr.contains("absent"), "{what}: {stderr}");
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

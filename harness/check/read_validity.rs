//! Read validity of the register workload: every GET that completed returns
//! "missing" or a value that SOME write of that key could have produced — a
//! SET or CAS that did not certainly fail, that was invoked before the GET
//! completed, and (for a CAS) that did not answer `false` (a CAS that answered
//! false wrote nothing). A value may be written more than once (Jepsen
//! histories do), so every writer of a (key, value) is kept, and a read fails
//! only when none of them can explain it. A cheap, always-decisive complement
//! of the linearizability check (Jepsen's "read of a value never written"),
//! with evidence a person can read.
use super::{secs, CheckResult, Evidence, Status};
use crate::history::{Command, Op, Outcome};
use std::collections::HashMap;

pub const NAME: &str = "read_validity";

/// (key, value) -> every op that may have written that value to that key.
type Writers<'a> = HashMap<(&'a str, &'a str), Vec<&'a Op>>;

/// The (key, value) an op may write: a SET, or a CAS not known to have answered false.
fn written(o: &Op) -> Option<(&str, &str)> {
    match o.kv()? {
        Command::Set { key, value } => Some((key, value)),
        Command::Cas { .. } if o.outcome == Outcome::Ok && o.result.as_deref() == Some("false") => {
            None
        }
        Command::Cas { key, new, .. } => Some((key, new)),
        _ => None,
    }
}

fn writers(history: &[Op]) -> Writers<'_> {
    let mut m: Writers = HashMap::new();
    for o in history {
        if let Some(kv) = written(o) {
            m.entry(kv).or_default().push(o);
        }
    }
    m
}

/// Why no writer explains a read of `v` that completed at `done`; None = some writer does.
fn unexplained(ws: Option<&Vec<&Op>>, key: &str, done: u64) -> Option<String> {
    let Some(ws) = ws else {
        return Some(format!("a value never written to {key}"));
    };
    if ws
        .iter()
        .any(|w| w.outcome != Outcome::Fail && w.invoke_us <= done)
    {
        return None;
    }
    let why: Vec<String> = ws
        .iter()
        .map(|w| {
            if w.outcome == Outcome::Fail {
                format!(
                    "{:?} (client {}) failed for certain: {}",
                    w.command, w.client, w.message
                )
            } else {
                format!(
                    "{:?} (client {}) invoked later, at {}",
                    w.command,
                    w.client,
                    secs(w.invoke_us)
                )
            }
        })
        .collect();
    Some(format!("no write explains it: {}", why.join("; ")))
}

/// Issue 11 §5: GETs answered by black-box nodes (no value in the original
/// protocol) while no GET returned a value; or a register workload whose GETs
/// completed but all said
/// "missing", though a write of their key had been acknowledged before they
/// began, points at a server that does not answer GET values: a warning, since
/// neither read validity nor linearizability was really tested. (GETs that never
/// complete, e.g. on a cut-off minority, are not this case: no read is judged
/// and `linearizable` says `not checked`.) None = not that case.
/// `reads`: every completed GET with its key.
fn no_get_values(history: &[Op], reads: &[(&Op, &str)]) -> Option<CheckResult> {
    if reads.iter().any(|(r, _)| r.result.is_some()) {
        return None;
    }
    let valueless = history
        .iter()
        .filter(|o| o.message == crate::workload::NO_READ_RESULT)
        .count();
    if valueless > 0 {
        let mut r = CheckResult::new(NAME, format!("{valueless} GETs answered without a value"));
        r.status = Status::Warn;
        r.summary = format!(
            "{valueless} GETs were answered by black-box nodes, whose protocol carries no value, and no GET returned one: \
             a register workload against them tests neither read validity nor linearizability"
        );
        return Some(r);
    }
    if reads.is_empty() {
        return None;
    }
    let acked_before = |&&(r, key): &&(&Op, &str)| {
        history.iter().any(|w| {
            w.outcome == Outcome::Ok
                && written(w).is_some_and(|(k, _)| k == key)
                && w.complete_us.is_some_and(|c| c < r.invoke_us)
        })
    };
    let stale = reads.iter().filter(acked_before).count();
    if stale == 0 {
        return None;
    }
    let mut r = CheckResult::new(NAME, format!("{} completed GETs", reads.len()));
    r.status = Status::Warn;
    r.summary = format!(
        "all {} completed GETs returned \"missing\", {stale} of them after a write of their key was \
         acknowledged: the server may not answer GET values, so reads were not tested",
        reads.len()
    );
    Some(r)
}

pub fn check(ev: &Evidence) -> CheckResult {
    let writers = writers(&ev.history);
    let reads: Vec<(&Op, &str)> = ev
        .history
        .iter()
        .filter(|o| o.outcome == Outcome::Ok)
        .filter_map(|o| match o.kv() {
            Some(Command::Get { key }) => Some((o, key)),
            _ => None,
        })
        .collect();
    if let Some(w) = no_get_values(&ev.history, &reads) {
        return w;
    }
    if reads.is_empty() {
        return CheckResult::not_checked(NAME, "the history has no completed GET");
    }
    let mut violations = Vec::new();
    for &(r, key) in &reads {
        let Some(v) = &r.result else { continue }; // missing key: always possible before a write
        let done = r.complete_us.unwrap_or(u64::MAX);
        if let Some(why) = unexplained(writers.get(&(key, v.as_str())), key, done) {
            violations.push(format!(
                "GET {key} by client {} via node {} [{} – {}] returned {v:?}, {why}",
                r.client,
                r.node,
                secs(r.invoke_us),
                secs(done)
            ));
        }
    }
    let n_writes: usize = writers.values().map(Vec::len).sum();
    CheckResult::new(
        NAME,
        format!("{} completed GETs, {n_writes} writes", reads.len()),
    )
    .with_violations(
        violations,
        format!("all {} reads returned a written value", reads.len()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fixtures::*;

    fn judge(ops: impl IntoIterator<Item = Op>) -> CheckResult {
        check(&Evidence::default().with_history(history(ops)))
    }

    #[test]
    fn reads_of_written_or_missing_values_pass() {
        let r = judge([
            ok(1, "GET k", (0, 5), None),
            ok(1, "SET k 7", (10, 20), Some("OK")),
            ok(2, "GET k", (15, 30), Some("7")),
            info(2, "CAS k 7 8", 31),
            ok(3, "GET k", (40, 50), Some("8")),
        ]);
        assert_verdict(&r, Status::Pass, &[]);
    }

    #[test]
    fn value_of_a_failed_write_fails() {
        let r = judge([
            fail(1, "SET k 7", (0, 5)),
            ok(2, "GET k", (6, 9), Some("7")),
        ]);
        assert_verdict(&r, Status::Fail, &["failed for certain"]);
    }

    #[test]
    fn never_written_and_future_values_fail() {
        let r = judge([
            ok(2, "GET k", (0, 3), Some("9")),
            ok(1, "SET k 7", (10, 15), None),
            ok(2, "GET k", (1, 4), Some("7")),
        ]);
        assert_verdict(&r, Status::Fail, &[]);
        assert_eq!(r.evidence.len(), 2, "{r:?}");
    }

    /// Issue 11 §8: `first` (a SET r 2); GET r -> 2; SET r 2 again, after the read.
    fn written_twice(first: Op) -> CheckResult {
        let again = ok(1, "SET r 2", (10, 15), Some("OK"));
        judge([first, ok(2, "GET r", (6, 9), Some("2")), again])
    }

    #[test]
    fn a_value_written_twice_is_explained_by_the_earlier_write() {
        let r = written_twice(ok(1, "SET r 2", (0, 5), Some("OK")));
        assert_verdict(&r, Status::Pass, &[]);
    }

    #[test]
    fn a_read_explained_only_by_a_later_write_fails_even_if_written_twice() {
        let r = written_twice(fail(1, "SET r 2", (0, 5)));
        assert_verdict(&r, Status::Fail, &["failed for certain", "invoked later"]);
    }

    #[test]
    fn a_cas_that_answered_false_wrote_nothing() {
        let read = || ok(2, "GET r", (6, 9), Some("5"));
        let r = judge([ok(1, "CAS r 1 5", (0, 5), Some("false")), read()]);
        assert_verdict(&r, Status::Fail, &["never written"]);
        // A CAS with an unknown outcome may have written its value.
        let r = judge([info(1, "CAS r 1 5", 0), read()]);
        assert_verdict(&r, Status::Pass, &[]);
    }

    #[test]
    fn a_server_that_answers_no_get_values_is_a_warning() {
        let mut ev = Evidence::default().with_history(history([
            ok(1, "SET r 2", (0, 5), Some("OK")),
            ok(2, "GET r", (6, 9), None),
            info(2, "GET r", 10),
        ]));
        assert_verdict(&check(&ev), Status::Warn, &["may not answer GET values"]);
        // GETs that never completed (a cut-off minority): no warning, nothing judged.
        let cut_off = judge([ev.history[0].clone(), ev.history[2].clone()]);
        assert_verdict(&cut_off, Status::NotChecked, &[]);
        // GETs a black-box node answered: no value to judge, a warning too.
        let bb = Op {
            message: crate::workload::NO_READ_RESULT.into(),
            ..info(4, "GET r", 20)
        };
        let r = judge([ev.history[0].clone(), bb]);
        assert_verdict(&r, Status::Warn, &["black-box nodes"]);
        // One GET that returns a value: judged normally.
        ev.history.push(Op {
            id: 3,
            ..ok(3, "GET r", (11, 12), Some("2"))
        });
        assert_verdict(&check(&ev), Status::Pass, &[]);
        // No acknowledged write: "missing" is the right answer, no warning.
        ev.history.retain(|o| o.id == 1);
        assert_verdict(&check(&ev), Status::Pass, &[]);
    }

    /// A Jepsen etcd history as the harness's ops on one key `r`.
    fn from_jepsen(text: &str) -> Vec<Op> {
        use crate::lin::models::{RegisterOp as I, RegisterOut as O};
        let ops = crate::lin::jepsen::parse_jepsen_log(text).unwrap();
        ops.into_iter()
            .map(|o| {
                let command = match &o.input {
                    I::Read => "GET r".to_string(),
                    I::Write(v) => format!("SET r {v}"),
                    I::Cas(a, b) => format!("CAS r {a} {b}"),
                    I::Delete => "DEL r".to_string(),
                };
                let result = match &o.output {
                    O::Read(v) => v.map(|v| v.to_string()),
                    O::Cas(ok) => Some(ok.to_string()),
                    _ => None,
                };
                let outcome = o.status;
                Op {
                    id: o.id,
                    client: o.client as u32,
                    node: 1,
                    command,
                    invoke_us: o.call,
                    complete_us: o.ret.filter(|_| outcome != Outcome::Info),
                    outcome,
                    result,
                    message: String::new(),
                }
            })
            .collect()
    }

    /// Every read of a linearizable Jepsen history has a write that explains it.
    fn assert_valid_reads(dir: &std::path::Path, file: &str) {
        let h = from_jepsen(&std::fs::read_to_string(dir.join(file)).unwrap());
        let r = check(&Evidence::default().with_history(h));
        assert_eq!(r.status, Status::Pass, "{file}: {r:?}");
    }

    #[test]
    fn our_linearizable_jepsen_history_has_valid_reads() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/histories/jepsen");
        assert_valid_reads(&dir, "register-ok.log");
    }

    /// Issue 11 §8: all 23 linearizable histories of the public Jepsen etcd corpus failed
    /// read_validity, which blamed a read on the last of several writes of its value. The
    /// corpus is an optional extra ([`crate::lin::reference_corpus_dir`]): absent, one
    /// line says so.
    #[test]
    fn reference_corpus_linearizable_jepsen_histories_have_valid_reads() {
        let root = crate::lin::reference_corpus_dir();
        if !root.exists() {
            eprintln!(
                "reference corpus: absent ({}), 23 Jepsen read_validity histories not run",
                root.display()
            );
            return;
        }
        let dir = root.join("jepsen-etcd");
        let tsv = std::fs::read_to_string(dir.join("expected.tsv"))
            .unwrap_or_else(|e| panic!("{}: {e} (corpus present but malformed)", dir.display()));
        let mut judged = 0;
        for line in tsv.lines().skip(1).filter(|l| l.ends_with("\ttrue")) {
            assert_valid_reads(&dir, line.split('\t').next().unwrap());
            judged += 1;
        }
        assert_eq!(judged, 23);
    }

    #[test]
    fn no_reads_is_not_a_pass() {
        assert_verdict(&check(&Evidence::default()), Status::NotChecked, &[]);
    }
}

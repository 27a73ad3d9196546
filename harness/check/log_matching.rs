//! Log Matching (Raft §5.3, Figure 3): if two logs contain an entry with the same
//! index and term, the logs are identical in all entries up through that index.
//! Evidence: every GetLog snapshot (periodic and final), of every node.
//!
//! Each snapshot is summarised by a running hash of its prefix, so comparing
//! all snapshots costs one pass over their entries, not a pass per pair.
use super::{secs, CheckResult, Evidence};
use crate::observe::LogSnapshot;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

pub const NAME: &str = "log_matching";

pub fn check(ev: &Evidence) -> CheckResult {
    let snaps: Vec<&LogSnapshot> = ev.logs.iter().chain(ev.final_logs.iter()).collect();
    if snaps.is_empty() {
        return CheckResult::not_checked(NAME, "no GetLog snapshot was taken");
    }
    let mut violations = Vec::new();
    // (index, term) -> (prefix hash, snapshot number)
    let mut seen: HashMap<(i32, i32), (u64, usize)> = HashMap::new();
    let mut entries = 0usize;
    for (si, s) in snaps.iter().enumerate() {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for (pos, e) in s.entries.iter().enumerate() {
            entries += 1;
            if e.index != pos as i32 {
                violations.push(format!(
                    "node {} at {}: the entry at position {pos} says it has index {}",
                    s.node,
                    secs(s.t_us),
                    e.index
                ));
                break;
            }
            (e.term, &e.command).hash(&mut h);
            let ph = h.finish();
            match seen.get(&(e.index, e.term)) {
                None => {
                    seen.insert((e.index, e.term), (ph, si));
                }
                Some((other_h, oi)) if *other_h != ph => {
                    violations.push(describe(snaps[*oi], s, e.index, e.term));
                    break; // one finding per snapshot is enough
                }
                Some(_) => {}
            }
        }
    }
    let based_on = format!("{} GetLog snapshots ({} entries)", snaps.len(), entries);
    if seen.is_empty() {
        // Only empty logs: no prefix to compare.
        return CheckResult::not_checked(NAME, format!("every log was empty ({based_on})"));
    }
    CheckResult::new(NAME, based_on).with_violations(
        violations,
        format!(
            "{} distinct (index, term) pairs agree on their prefixes",
            seen.len()
        ),
    )
}

fn describe(a: &LogSnapshot, b: &LogSnapshot, index: i32, term: i32) -> String {
    let first_diff = (0..=index as usize)
        .find(|&i| a.entries.get(i) != b.entries.get(i))
        .unwrap_or(index as usize);
    let show = |s: &LogSnapshot| {
        s.entries
            .get(first_diff)
            .map(|e| format!("(term {}, {:?})", e.term, e.command))
            .unwrap_or_else(|| "nothing".into())
    };
    format!(
        "nodes {} (at {}) and {} (at {}) both have index {index} in term {term}, but differ at index {first_diff}: {} vs {}",
        a.node,
        secs(a.t_us),
        b.node,
        secs(b.t_us),
        show(a),
        show(b)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fixtures::*;
    use crate::check::Status;

    /// (node, µs, log as (term, command) pairs)
    type Log<'a> = (u32, u64, &'a [(i32, &'a str)]);

    /// Snapshots of term-2 logs (node 1 leads), one per [`Log`].
    fn logs(of: &[Log]) -> Vec<LogSnapshot> {
        of.iter()
            .map(|(n, t, log)| {
                let state = if *n == 1 { "Leader" } else { "Follower" };
                snap(*n, *t, state, 2, None, log)
            })
            .collect()
    }

    #[test]
    fn matching_prefixes_pass_even_when_lengths_differ() {
        let ev = Evidence::default().with_logs(logs(&[
            (1, 10, &[(1, "a"), (2, "b"), (2, "c")]),
            (2, 20, &[(1, "a"), (2, "b")]),
            // A divergent uncommitted tail in another term is allowed.
            (3, 30, &[(1, "a"), (1, "x")]),
        ]));
        assert_verdict(&check(&ev), Status::Pass, &[]);
    }

    #[test]
    fn only_empty_logs_are_not_checked_never_a_pass() {
        let ev = Evidence::default().with_logs(logs(&[(1, 10, &[]), (2, 20, &[])]));
        assert_verdict(&check(&ev), Status::NotChecked, &[]);
    }

    #[test]
    fn same_index_and_term_with_different_prefix_fails() {
        let ev = Evidence::default().with_logs(logs(&[
            (1, 10, &[(1, "a"), (2, "b")]),
            (2, 20, &[(1, "z"), (2, "b")]),
        ]));
        assert_verdict(&check(&ev), Status::Fail, &["differ at index 0"]);
    }

    #[test]
    fn same_index_and_term_with_different_command_fails() {
        let ev = Evidence::default()
            .with_final_logs(logs(&[(1, 10, &[(2, "b")]), (2, 20, &[(2, "c")])]));
        assert_verdict(&check(&ev), Status::Fail, &[]);
    }

    #[test]
    fn wrong_index_numbers_fail() {
        let mut ev = Evidence::default().with_logs(logs(&[(1, 10, &[(1, "a"), (1, "b")])]));
        ev.logs[0].entries[1].index = 5;
        assert_verdict(&check(&ev), Status::Fail, &[]);
    }

    #[test]
    fn no_snapshots_is_not_a_pass() {
        assert_verdict(&check(&Evidence::default()), Status::NotChecked, &[]);
    }
}

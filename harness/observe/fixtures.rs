//! Builders of hand-made observations for tests (of `observe` and of the checks above it).
use super::{StatusExt, StatusSample};

/// A GetStatus answer of `node` at `t_us` (µs since the run started, sent 100 µs
/// before) in role `state` and `term`, naming no vote and no leader. With
/// `commit = Some(c)` it carries the extension with commitIndex = lastApplied =
/// lastLogIndex = c and lastLogTerm = `term`.
pub fn status(node: u32, t_us: u64, state: &str, term: i32, commit: Option<i32>) -> StatusSample {
    StatusSample {
        t_us,
        sent_us: t_us.saturating_sub(100),
        node,
        state: state.into(),
        term,
        voted_for: -1,
        leader_id: -1,
        ext: commit.map(|c| StatusExt {
            node_id: node as i32,
            commit_index: c,
            last_applied: c,
            last_log_index: c,
            last_log_term: term,
            implementation: "test 0".into(),
            leader_address: String::new(),
        }),
    }
}

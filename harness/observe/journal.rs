//! Node journals (docs/node-contract.md §5): one JSON event per line.
use super::view::Role;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// What a journal line records (docs/node-contract.md §5), by its `event` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Started, before serving: the recovered state.
    Start,
    /// currentTerm changed (Raft §5.1).
    Term,
    /// A vote was granted (§5.2).
    Vote,
    /// The role changed (`role`).
    Role,
    /// Entries from `from_index` on were deleted (§5.3).
    Truncate,
    /// commitIndex advanced (§5.3).
    Commit,
    /// An entry was applied to the state machine (§5.3).
    Apply,
    /// Clean shutdown.
    Stop,
    /// A pre-vote campaign (thesis §9.6) and its result.
    Prevote,
    PrevoteResult,
    /// Any other name: read and ignored (readers ignore what they do not know).
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// µs since the run started (converted from the node's wall-clock `ts_us`).
    #[serde(default)]
    pub t_us: u64,
    pub ts_us: u64,
    pub node: u32,
    pub event: Kind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_index: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// `start`: entries in the recovered log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_len: Option<i64>,
}

/// Read a journal. A torn last line (the node was killed mid-write) is dropped;
/// any other malformed line is returned as a problem, with its line number.
pub fn read(path: &Path, start_unix_us: u64) -> (Vec<Event>, Vec<String>) {
    let mut events = Vec::new();
    let mut problems = Vec::new();
    let Ok(text) = std::fs::read_to_string(path) else {
        return (events, problems);
    };
    let lines: Vec<&str> = text.lines().collect();
    let torn_tail = !text.is_empty() && !text.ends_with('\n');
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Event>(line) {
            Ok(mut e) => {
                e.t_us = e.ts_us.saturating_sub(start_unix_us);
                events.push(e);
            }
            Err(_) if torn_tail && i + 1 == lines.len() => {}
            Err(err) => problems.push(format!("{}:{}: {err}", path.display(), i + 1)),
        }
    }
    (events, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_events_and_drops_a_torn_tail() {
        let (_dir, p) = crate::testutil::temp_file(
            "j.jsonl",
            "{\"ts_us\":1000500,\"node\":2,\"event\":\"role\",\"role\":\"Leader\",\"term\":3,\"extra\":1}\n\
             not json\n\
             {\"ts_us\":1000900,\"node\":2,\"event\":\"apply\",\"index\":0,\"term\":3,\"command\":\"SET a 1\",\"result\":\"OK\"}\n\
             {\"ts_us\":10",
        );
        let (ev, problems) = read(&p, 1_000_000);
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[0].t_us, 500);
        assert_eq!(ev[0].event, Kind::Role);
        assert_eq!(ev[0].role, Some(Role::Leader));
        assert_eq!(ev[1].event, Kind::Apply);
        assert_eq!(ev[1].command.as_deref(), Some("SET a 1"));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains(":2:"));
    }

    #[test]
    fn unknown_event_names_and_roles_are_other_but_a_missing_event_is_a_problem() {
        let (_dir, p) = crate::testutil::temp_file(
            "j.jsonl",
            "{\"ts_us\":1,\"node\":2,\"event\":\"snapshot\"}\n\
             {\"ts_us\":2,\"node\":2,\"event\":\"role\",\"role\":\"Observer\"}\n\
             {\"ts_us\":3,\"node\":2,\"role\":\"Leader\"}\n",
        );
        let (ev, problems) = read(&p, 0);
        assert_eq!(ev.len(), 2, "{ev:?}");
        assert_eq!(ev[0].event, Kind::Other);
        assert_eq!(ev[1].role, Some(Role::Other));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains(":3:"), "{problems:?}");
    }
}

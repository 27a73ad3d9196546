//! Planted bugs (issue 13 §3): test-only switches, each breaking exactly one rule of Raft, so
//! the harness can prove its checks find what they claim. All are off by default; a node gets
//! one with `--bug NAME` (repeatable). Each variant names the rule it breaks; the change itself
//! sits where the rule lives (core.rs, or the driver in server.rs for persistence and client
//! replies) behind `Bugs::has`.

use std::collections::BTreeSet;

use crate::core::HardState;

/// One planted bug. The names on the command line are the kebab-case forms (`vote-twice`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub enum Bug {
    /// Grant a second vote in the same term ("votedFor is null or candidateId", Figure 2;
    /// Election Safety, §5.2).
    VoteTwice,
    /// Grant votes without the up-to-date check on the candidate's log (§5.4.1), in RequestVote
    /// and in PreVote alike: a server lacking the check lacks it in both, and a PreVote that
    /// kept it would mask the bug (a stale candidate never reaches RequestVote).
    NoUpToDateCheck,
    /// Commit an entry of an earlier term by counting replicas (Figure 8, §5.4.2).
    CommitOldTerm,
    /// Acknowledge a client write when the leader appends it, before it commits (§8).
    AckBeforeCommit,
    /// Keep currentTerm and votedFor only in memory ("persistent state on all servers",
    /// Figure 2).
    VolatileTerm,
    /// Keep the log only in memory ("persistent state on all servers", Figure 2).
    VolatileLog,
    /// Serve reads from local state without confirming leadership (§8; thesis §6.4 ReadIndex).
    /// `--unsafe-stale-reads` is an alias.
    StaleReads,
    /// Accept AppendEntries whose prevLogIndex entry has another term than prevLogTerm
    /// (AppendEntries receiver rule 2, Figure 2; Log Matching, §5.3).
    NoPrevLogCheck,
    /// Truncate the log from the first entry of an append even when the entries already match
    /// (AppendEntries receiver rule 3 deletes only on a conflict, Figure 2, §5.3).
    TruncateMatching,
    /// A leader does not step down on seeing a higher term ("convert to follower", Rules for
    /// Servers, Figure 2).
    NoStepDown,
    /// Set commitIndex = leaderCommit without min(leaderCommit, index of last new entry)
    /// (AppendEntries receiver rule 5, Figure 2).
    CommitNoMin,
    /// Restart with term 0 and no vote, ignoring the stored currentTerm/votedFor (Figure 2).
    RestartTermZero,
}

/// The set of planted bugs a node runs with (empty: a correct node).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bugs(BTreeSet<Bug>);

impl Bugs {
    pub fn of(bugs: impl IntoIterator<Item = Bug>) -> Bugs {
        Bugs(bugs.into_iter().collect())
    }

    pub fn has(&self, bug: Bug) -> bool {
        self.0.contains(&bug)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The kebab-case names, for the start-up warning.
    pub fn names(&self) -> Vec<String> {
        use clap::ValueEnum;
        self.0
            .iter()
            .filter_map(|b| b.to_possible_value().map(|v| v.get_name().to_string()))
            .collect()
    }

    /// The term and vote a (re)starting node begins with: the stored ones, unless
    /// `restart-term-zero` makes it ignore them.
    pub fn recovered(&self, stored: HardState) -> HardState {
        if self.has(Bug::RestartTermZero) {
            return HardState::default();
        }
        stored
    }

    /// Whether currentTerm/votedFor reach the disk (`volatile-term` keeps them in memory).
    pub fn persists_term(&self) -> bool {
        !self.has(Bug::VolatileTerm)
    }

    /// Whether log changes reach the disk (`volatile-log` keeps them in memory).
    pub fn persists_log(&self) -> bool {
        !self.has(Bug::VolatileLog)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_term_zero_ignores_the_stored_state_and_the_default_keeps_it() {
        let stored = HardState {
            term: 7,
            voted_for: 2,
        };
        assert_eq!(Bugs::default().recovered(stored), stored);
        let zero = Bugs::of([Bug::RestartTermZero]).recovered(stored);
        assert_eq!(zero.term, 0);
        assert_eq!(zero, HardState::default());
    }

    #[test]
    fn volatile_switches_stop_persisting_only_their_own_state() {
        let none = Bugs::default();
        assert!(none.persists_term() && none.persists_log());
        let term = Bugs::of([Bug::VolatileTerm]);
        assert!(!term.persists_term() && term.persists_log());
        let log = Bugs::of([Bug::VolatileLog]);
        assert!(log.persists_term() && !log.persists_log());
    }

    #[test]
    fn names_are_the_kebab_case_command_line_forms() {
        let b = Bugs::of([Bug::CommitOldTerm, Bug::VoteTwice]);
        assert_eq!(b.names(), ["vote-twice", "commit-old-term"]);
        use clap::ValueEnum;
        assert_eq!(Bug::value_variants().len(), 12);
        assert!(Bug::from_str("no-such-bug", false).is_err());
    }
}

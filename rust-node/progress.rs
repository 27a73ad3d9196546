//! The leader's view of one follower (Raft §5.3 nextIndex and matchIndex) and the flow control
//! of its AppendEntries, in the manner of etcd raft's `Progress` (probe and replicate states,
//! a window of in-flight appends; written for this core, not taken from etcd).
//!
//! - **Probe** (at leader start, after a rejection, a timeout or a failed send): at most one
//!   append carrying entries in flight; `next_index` moves only on replies, so a lost probe is
//!   sent again from the same place.
//! - **Replicate** (after a success that raised matchIndex): appends go out optimistically,
//!   `next_index` moves past what was sent, up to `max_inflight` appends carrying entries are
//!   outstanding at once.
//!
//! Replies may arrive late, duplicated or out of order: matchIndex only grows, nextIndex never
//! drops below matchIndex + 1, and a rejection of an append the follower has since moved past
//! is ignored. With `max_inflight = 1` the leader behaves as it did before pipelining.

use std::collections::VecDeque;

/// How the leader sends entries to a follower.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgressState {
    /// One append in flight; nextIndex is where the leader believes the logs may match.
    Probe,
    /// Several appends in flight; nextIndex is past the last entry sent.
    Replicate,
}

/// An AppendEntries carrying entries, not yet answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Inflight {
    /// Index of the last entry it carries.
    last_index: i32,
    sent_ms: u64,
}

#[derive(Clone, Debug)]
pub struct Progress {
    pub next_index: i32,
    pub match_index: i32,
    pub state: ProgressState,
    /// Appends carrying entries, oldest first.
    inflight: VecDeque<Inflight>,
    /// Last AppendEntries of any kind, for the heartbeat interval.
    pub last_sent_ms: Option<u64>,
    /// After a failed send, entries are retried no earlier than this.
    pub retry_at_ms: u64,
    /// Last reply of any kind from this peer (or when this node became leader): check-quorum.
    pub last_reply_ms: u64,
    /// Highest ReadIndex round this peer has acknowledged (an append-response of this term to
    /// an append sent in that round or later).
    pub read_acked: u64,
}

impl Progress {
    /// A follower as a new leader sees it (Figure 2 "Volatile state on leaders": nextIndex =
    /// leader's last log index + 1, matchIndex = -1 in this 0-based log), in probe state.
    pub fn new(next_index: i32, now_ms: u64) -> Progress {
        Progress {
            next_index,
            match_index: -1,
            state: ProgressState::Probe,
            inflight: VecDeque::new(),
            last_sent_ms: None,
            retry_at_ms: 0,
            last_reply_ms: now_ms,
            read_acked: 0,
        }
    }

    /// Whether another append carrying entries may go out: in probe none may be in flight, in
    /// replicate fewer than `max_inflight` (at least 1).
    pub fn can_send(&self, max_inflight: usize) -> bool {
        match self.state {
            ProgressState::Probe => self.inflight.is_empty(),
            ProgressState::Replicate => self.inflight.len() < max_inflight.max(1),
        }
    }

    /// Number of appends carrying entries in flight.
    #[cfg(test)]
    pub fn inflight_count(&self) -> usize {
        self.inflight.len()
    }

    /// An append carrying entries `first ..= last` left at `now_ms`. In replicate, nextIndex
    /// moves past it (the next append follows without waiting for this one's reply).
    pub fn on_sent(&mut self, last: i32, now_ms: u64) {
        self.inflight.push_back(Inflight {
            last_index: last,
            sent_ms: now_ms,
        });
        if self.state == ProgressState::Replicate {
            self.next_index = self.next_index.max(last + 1);
        }
    }

    /// Whether the oldest append in flight was sent `timeout_ms` or more before `now_ms`.
    pub fn oldest_expired(&self, now_ms: u64, timeout_ms: u64) -> bool {
        self.inflight
            .front()
            .is_some_and(|f| now_ms.saturating_sub(f.sent_ms) >= timeout_ms)
    }

    /// Back to probe: nothing counts as in flight any more; from replicate, nextIndex returns
    /// to matchIndex + 1 (what was sent past it may be lost); in probe it stays.
    pub fn become_probe(&mut self) {
        if self.state == ProgressState::Replicate {
            self.next_index = self.match_index + 1;
        }
        self.state = ProgressState::Probe;
        self.inflight.clear();
    }

    /// A success for an append whose last entry is `last` (§5.3: the follower's log matches
    /// the leader's through `last`). matchIndex and nextIndex only grow; appends up to `last`
    /// are no longer in flight. A probe answered with new progress turns into replicate, with
    /// nextIndex past anything still in flight. Returns whether matchIndex grew.
    pub fn on_success(&mut self, last: i32) -> bool {
        while self.inflight.front().is_some_and(|f| f.last_index <= last) {
            self.inflight.pop_front();
        }
        if last <= self.match_index {
            return false;
        }
        self.match_index = last;
        if self.state == ProgressState::Probe {
            self.state = ProgressState::Replicate;
            let sent_to = self.inflight.back().map_or(last, |f| f.last_index);
            self.next_index = self.next_index.max(sent_to + 1);
        }
        self.next_index = self.next_index.max(last + 1);
        true
    }

    /// A rejection of the append with `prev_log_index` that carried entries up to `last`
    /// (`last == prev_log_index` for an empty one); `hinted` is the leader's reading of the
    /// follower's conflict hint (thesis §5.3). Returns whether nextIndex was set from it
    /// (false: a stale rejection, ignored).
    ///
    /// Probe: only a rejection of the append sent from the current nextIndex counts. Replicate:
    /// one for an append past matchIndex (the follower lacked `prev_log_index`, or held another
    /// term there) falls back to probe; one below matchIndex is stale (the follower has since
    /// accepted more). Either way nextIndex = max(min(hinted, prev_log_index), matchIndex + 1).
    pub fn on_reject(&mut self, prev_log_index: i32, last: i32, hinted: i32) -> bool {
        if last > prev_log_index {
            if let Some(pos) = self.inflight.iter().position(|f| f.last_index == last) {
                self.inflight.remove(pos);
            }
        }
        let stale = match self.state {
            ProgressState::Probe => prev_log_index + 1 != self.next_index,
            ProgressState::Replicate => prev_log_index < self.match_index,
        };
        if stale {
            return false;
        }
        if self.state == ProgressState::Replicate {
            self.become_probe();
        }
        self.next_index = hinted.min(prev_log_index).max(self.match_index + 1).max(0);
        true
    }

    /// The driver could not deliver the append that carried entries up to `last`. Entries the
    /// follower already holds (up to matchIndex) need nothing; otherwise back to probe.
    pub fn on_send_failure(&mut self, last: i32) {
        if last <= self.match_index {
            return;
        }
        if self.state == ProgressState::Probe {
            if let Some(pos) = self.inflight.iter().position(|f| f.last_index == last) {
                self.inflight.remove(pos);
            }
            return;
        }
        self.become_probe();
    }
}

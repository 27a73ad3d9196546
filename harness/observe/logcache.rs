//! A per-node cache of the log, so the poller reads only what is new.
//!
//! GetLog's paging extension (`from_index`, docs/node-contract.md §6) answers
//! the entries from a position on. The cache asks from its last entry (the
//! *anchor*) and accepts the page only when the page's first entry has the
//! anchor's (index, term): by the Log Matching property (Raft paper §5.3) the
//! entries before it are then the same as the cached ones. Anything else — an
//! empty page (the log was truncated below the anchor), another term at the
//! anchor (the entry was overwritten), a whole log (a server that ignores
//! `from_index`) — asks for a full read. Every `full_every`-th read is a full
//! read anyway, so a node that breaks Log Matching is still seen whole.
use super::Entry;

/// What to ask the node for next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// The whole log (GetLog without paging fields).
    Full,
    /// The entries from this position (0-based offset in the log) onward;
    /// the position of the anchor, the last cached entry.
    From(usize),
}

/// Whether the node honours `from_index`, as far as seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    Unknown,
    Honoured,
    /// The node answered a paged read with its whole log: only full reads.
    Ignored,
}

/// The result of [`LogCache::accept`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    /// The node's whole log, as of this answer.
    Log(Vec<Entry>),
    /// The page did not extend the cache: do a [`Read::Full`].
    NeedFull,
}

/// One node's cached log; see the module docs.
#[derive(Debug, Clone)]
pub struct LogCache {
    entries: Vec<Entry>,
    reads: u64,
    full_every: u64,
    paging: Paging,
}

impl LogCache {
    /// A cache that does a full read on every `full_every`-th read (≥ 1;
    /// 1 = always full, no paging).
    pub fn new(full_every: u64) -> Self {
        LogCache {
            entries: Vec::new(),
            reads: 0,
            full_every: full_every.max(1),
            paging: Paging::Unknown,
        }
    }

    pub fn paging(&self) -> Paging {
        self.paging
    }

    /// The next read to make: full when nothing is cached, on every
    /// `full_every`-th read and for nodes that ignore paging.
    pub fn next_read(&mut self) -> Read {
        let n = self.reads;
        self.reads += 1;
        if self.entries.is_empty() || self.paging == Paging::Ignored || n % self.full_every == 0 {
            Read::Full
        } else {
            Read::From(self.entries.len() - 1)
        }
    }

    /// Take the node's answer to `read`; `page` is the entries it returned.
    pub fn accept(&mut self, read: Read, page: Vec<Entry>) -> Accepted {
        let at = match read {
            Read::Full => {
                self.entries = page;
                return Accepted::Log(self.entries.clone());
            }
            Read::From(at) => at,
        };
        let (Some(anchor), Some(first)) = (self.entries.get(at), page.first()) else {
            return Accepted::NeedFull;
        };
        if same_entry(anchor, first) {
            if at > 0 && self.paging == Paging::Unknown {
                self.paging = Paging::Honoured;
            }
            self.entries.truncate(at);
            self.entries.extend(page);
            return Accepted::Log(self.entries.clone());
        }
        if at > 0 && same_entry(&self.entries[0], first) {
            // The page starts where the whole log starts: `from_index` was ignored.
            self.paging = Paging::Ignored;
        }
        Accepted::NeedFull
    }
}

/// Same (index, term): by Log Matching (§5.3) the same entry and prefix.
fn same_entry(a: &Entry, b: &Entry) -> bool {
    a.index == b.index && a.term == b.term
}

#[cfg(test)]
#[path = "logcache_tests.rs"]
mod tests;

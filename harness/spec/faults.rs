//! The plain data of fault steps: what a `[[step]]`, a nemesis or an `[explore]` mix names for
//! the network to do. The network (`net::proxy`, `net::msgfault`) acts on these types and
//! re-exports them; they live here so that the spec reads them without importing the stages
//! after it in the pipeline (issue 16 §2).
use serde::{Deserialize, Serialize};
use strum::{EnumIter, EnumString, IntoStaticStr, VariantNames};

/// What a link does with its traffic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkMode {
    /// Forward bytes (possibly delayed).
    #[default]
    Pass,
    /// Hold all bytes; answer nothing.
    Blackhole,
    /// Reset connections.
    Reject,
}

/// Which calls a rule matches. Its name in a suite (`append-entries`, `heartbeat`, `any`, ...):
/// kebab-case for serde and strum alike, so `Display`, `FromStr` and JSON agree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[derive(strum::Display, EnumString, IntoStaticStr, EnumIter, VariantNames)]
#[strum(serialize_all = "kebab-case")]
pub enum MsgMethod {
    RequestVote,
    PreVote,
    /// Every AppendEntries, heartbeats included.
    AppendEntries,
    /// AppendEntries with no entries.
    Heartbeat,
    /// AppendEntries carrying at least one entry.
    AppendWithEntries,
    /// AppendEntries carrying an entry of the sender's currentTerm (the request's `term`; a
    /// log's terms never decrease, so: its last entry's term is the request's). The others
    /// carry only entries of earlier terms: with these the Figure 8 sequence of the Raft paper
    /// (§5.4.2) is scripted exactly, a leader's earlier-term entries reaching a follower while
    /// its own-term ones do not.
    AppendWithCurrentTermEntries,
    /// A forwarded client request.
    ClientRequest,
    /// Every call.
    Any,
}

impl MsgMethod {
    /// All names, in declaration order, for error messages.
    pub const NAMES: &'static [&'static str] = <MsgMethod as strum::VariantNames>::VARIANTS;

    /// Parses a name of [`MsgMethod::NAMES`].
    pub fn parse(s: &str) -> Option<MsgMethod> {
        s.parse().ok()
    }
}

/// What happens to a matching call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum MsgAction {
    /// Never delivered: the caller sees nothing until its own deadline.
    DropRequest,
    /// Delivered and answered; the reply is held from the caller, who times out.
    DropReply,
    /// Delivered after a delay drawn uniformly from `[min_ms, max_ms]`.
    Delay { min_ms: u64, max_ms: u64 },
    /// Delivered at once, and a second copy `after_ms` later (its reply goes nowhere).
    Duplicate { after_ms: u64 },
    /// Held until a later call of the same method on the same link has been delivered (or
    /// `max_hold_ms` passed), then delivered: the two arrive in swapped order.
    Reorder { max_hold_ms: u64 },
}

/// The action in a suite's words with its parameters: `drop-request`, `delay 5–30 ms`,
/// `duplicate (copy 20 ms later)`, `reorder (hold ≤ 50 ms)`.
impl std::fmt::Display for MsgAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            MsgAction::DropRequest => f.write_str("drop-request"),
            MsgAction::DropReply => f.write_str("drop-reply"),
            MsgAction::Delay { min_ms, max_ms } if min_ms == max_ms => {
                write!(f, "delay {min_ms} ms")
            }
            MsgAction::Delay { min_ms, max_ms } => write!(f, "delay {min_ms}–{max_ms} ms"),
            MsgAction::Duplicate { after_ms } => write!(f, "duplicate (copy {after_ms} ms later)"),
            MsgAction::Reorder { max_hold_ms } => write!(f, "reorder (hold ≤ {max_hold_ms} ms)"),
        }
    }
}

/// The five kinds of message fault, without their parameters: what a nemesis fault list or an
/// `[explore]` fault mix names (issue 12 §2). A concrete [`MsgAction`] is drawn per fault.
/// (`Default` only lets `explore::Fault`, which holds one, derive its variant iterator.)
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MsgKind {
    #[default]
    DropRequest,
    DropReply,
    Delay,
    Duplicate,
    Reorder,
}

impl MsgKind {
    /// Names and kinds, as in `[[step]] msg = ...`.
    pub const WORDS: &'static [(&'static str, MsgKind)] = &[
        ("drop-request", MsgKind::DropRequest),
        ("drop-reply", MsgKind::DropReply),
        ("delay", MsgKind::Delay),
        ("duplicate", MsgKind::Duplicate),
        ("reorder", MsgKind::Reorder),
    ];

    /// The name of [`MsgKind::WORDS`].
    pub fn name(self) -> &'static str {
        MsgKind::WORDS
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("", |(w, _)| w)
    }
}

/// How often a rule fires.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Budget {
    /// Each matching call with this probability in `[0, 1]` (seeded per link).
    Rate(f64),
    /// The next N matching calls, then the rule is spent.
    Next(u32),
}

#[cfg(test)]
mod display_tests {
    use super::*;

    #[test]
    fn message_faults_print_in_a_suites_words() {
        let d = MsgAction::Delay {
            min_ms: 5,
            max_ms: 30,
        };
        assert_eq!(
            format!("{d} {}", MsgMethod::AppendEntries),
            "delay 5–30 ms append-entries"
        );
        assert_eq!(
            format!("{} {}", MsgAction::DropReply, MsgMethod::Heartbeat),
            "drop-reply heartbeat"
        );
        assert_eq!(
            MsgAction::Delay {
                min_ms: 7,
                max_ms: 7
            }
            .to_string(),
            "delay 7 ms"
        );
        for name in MsgMethod::NAMES {
            assert_eq!(
                MsgMethod::parse(name).map(|m| m.to_string()).as_deref(),
                Some(*name)
            );
        }
    }
}

//! Message faults of RPC-aware links: plain data saying which calls to break and how, so a
//! schedule step, a nemesis or an explorer can make them alike.
//!
//! A [`MsgFault`] matches calls by directed link and [`MsgMethod`], and acts on a matching
//! call with a [`MsgAction`], either with a probability (seeded per link) or on the next N
//! matching calls ([`Budget`]). The first rule (oldest first) that matches and fires acts.
use super::proxy::Link;
use super::trace::{Method, Request};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Which calls a rule matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
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
    /// All names, for error messages.
    pub const NAMES: &'static [&'static str] = &[
        "request-vote",
        "pre-vote",
        "append-entries",
        "heartbeat",
        "append-with-entries",
        "append-with-current-term-entries",
        "client-request",
        "any",
    ];

    /// Parses a name of [`MsgMethod::NAMES`].
    pub fn parse(s: &str) -> Option<MsgMethod> {
        Some(match s {
            "request-vote" => MsgMethod::RequestVote,
            "pre-vote" => MsgMethod::PreVote,
            "append-entries" => MsgMethod::AppendEntries,
            "heartbeat" => MsgMethod::Heartbeat,
            "append-with-entries" => MsgMethod::AppendWithEntries,
            "append-with-current-term-entries" => MsgMethod::AppendWithCurrentTermEntries,
            "client-request" => MsgMethod::ClientRequest,
            "any" => MsgMethod::Any,
            _ => return None,
        })
    }

    /// True when a call of `method` with (decoded) request `req` is one of these.
    pub fn matches(self, method: Method, req: Option<&Request>) -> bool {
        let entries = match req {
            Some(Request::Append { entries, .. }) => Some(*entries),
            _ => None,
        };
        let current_term = match req {
            Some(Request::Append {
                term,
                last: Some((_, last_term)),
                ..
            }) => last_term == term,
            _ => false,
        };
        match self {
            MsgMethod::RequestVote => method == Method::RequestVote,
            MsgMethod::PreVote => method == Method::PreVote,
            MsgMethod::AppendEntries => method == Method::AppendEntries,
            MsgMethod::Heartbeat => method == Method::AppendEntries && entries == Some(0),
            MsgMethod::AppendWithEntries => {
                method == Method::AppendEntries && entries.is_some_and(|n| n > 0)
            }
            MsgMethod::AppendWithCurrentTermEntries => {
                method == Method::AppendEntries && current_term
            }
            MsgMethod::ClientRequest => method == Method::ClientRequest,
            MsgMethod::Any => true,
        }
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

/// How often a rule fires.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Budget {
    /// Each matching call with this probability in `[0, 1]` (seeded per link).
    Rate(f64),
    /// The next N matching calls, then the rule is spent.
    Next(u32),
}

/// One message fault: which links and calls, what to do, how often.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MsgFault {
    pub links: BTreeSet<Link>,
    pub method: MsgMethod,
    pub action: MsgAction,
    pub budget: Budget,
}

/// Errors of a message fault's values.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MsgFaultError {
    #[error("rate must be between 0 and 1, got {0}")]
    Rate(f64),
    #[error("delay range {0}..{1} ms is empty (min above max)")]
    DelayRange(u64, u64),
    #[error("a message fault needs at least one link")]
    NoLinks,
}

impl MsgFault {
    /// Checks the values: a rate in `[0, 1]`, `min_ms <= max_ms`, some link.
    pub fn validate(&self) -> Result<(), MsgFaultError> {
        if let Budget::Rate(r) = self.budget {
            if !(0.0..=1.0).contains(&r) {
                return Err(MsgFaultError::Rate(r));
            }
        }
        if let MsgAction::Delay { min_ms, max_ms } = self.action {
            if min_ms > max_ms {
                return Err(MsgFaultError::DelayRange(min_ms, max_ms));
            }
        }
        if self.links.is_empty() {
            return Err(MsgFaultError::NoLinks);
        }
        Ok(())
    }

    /// One line for the report, e.g. `drop-reply of append-entries on 2 links, next 3`.
    pub fn describe(&self) -> String {
        let action = match self.action {
            MsgAction::DropRequest => "drop-request".to_string(),
            MsgAction::DropReply => "drop-reply".to_string(),
            MsgAction::Delay { min_ms, max_ms } if min_ms == max_ms => format!("delay {min_ms} ms"),
            MsgAction::Delay { min_ms, max_ms } => format!("delay {min_ms}–{max_ms} ms"),
            MsgAction::Duplicate { after_ms } => format!("duplicate (copy {after_ms} ms later)"),
            MsgAction::Reorder { max_hold_ms } => format!("reorder (hold ≤ {max_hold_ms} ms)"),
        };
        let method = serde_json::to_value(self.method)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let links: Vec<String> = self.links.iter().map(|(a, b)| format!("{a}→{b}")).collect();
        let budget = match self.budget {
            Budget::Rate(r) => format!("rate {r}"),
            Budget::Next(n) => format!("next {n}"),
        };
        format!("{action} of {method} on {} ({budget})", links.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(budget: Budget, action: MsgAction) -> MsgFault {
        MsgFault {
            links: [(1, 2)].into_iter().collect(),
            method: MsgMethod::Heartbeat,
            action,
            budget,
        }
    }

    #[test]
    fn heartbeats_are_appends_without_entries() {
        let append = |entries| Request::Append {
            term: 1,
            leader: 1,
            prev_log_index: -1,
            prev_log_term: 0,
            entries,
            first: None,
            last: None,
            leader_commit: -1,
        };
        let hb = MsgMethod::Heartbeat;
        assert!(hb.matches(Method::AppendEntries, Some(&append(0))));
        assert!(!hb.matches(Method::AppendEntries, Some(&append(2))));
        assert!(MsgMethod::AppendWithEntries.matches(Method::AppendEntries, Some(&append(2))));
        assert!(MsgMethod::AppendEntries.matches(Method::AppendEntries, Some(&append(0))));
        assert!(!MsgMethod::RequestVote.matches(Method::PreVote, None));
        assert!(MsgMethod::PreVote.matches(Method::PreVote, None));
        // Figure 8: entries of earlier terms only, or one of the leader's term among them.
        let carrying = |last_term| Request::Append {
            term: 4,
            leader: 1,
            prev_log_index: 0,
            prev_log_term: 1,
            entries: 2,
            first: Some((1, 2)),
            last: Some((2, last_term)),
            leader_commit: 0,
        };
        let own = MsgMethod::AppendWithCurrentTermEntries;
        assert!(own.matches(Method::AppendEntries, Some(&carrying(4))));
        assert!(!own.matches(Method::AppendEntries, Some(&carrying(2))));
        assert!(!own.matches(Method::AppendEntries, Some(&append(0))));
        assert!(!own.matches(Method::AppendEntries, None));
        assert!(!own.matches(Method::RequestVote, None));
        for name in MsgMethod::NAMES {
            assert!(MsgMethod::parse(name).is_some(), "{name}");
        }
        assert_eq!(MsgMethod::parse("heartbeats"), None);
    }

    #[test]
    fn bad_values_are_refused() {
        assert_eq!(
            fault(Budget::Rate(1.5), MsgAction::DropReply).validate(),
            Err(MsgFaultError::Rate(1.5))
        );
        assert!(fault(Budget::Rate(f64::NAN), MsgAction::DropReply)
            .validate()
            .is_err());
        let d = MsgAction::Delay {
            min_ms: 50,
            max_ms: 10,
        };
        assert_eq!(
            fault(Budget::Next(1), d).validate(),
            Err(MsgFaultError::DelayRange(50, 10))
        );
        let mut none = fault(Budget::Next(1), MsgAction::DropRequest);
        none.links.clear();
        assert_eq!(none.validate(), Err(MsgFaultError::NoLinks));
        let ok = fault(Budget::Next(3), MsgAction::DropReply);
        assert!(ok.validate().is_ok());
        assert_eq!(ok.describe(), "drop-reply of heartbeat on 1→2 (next 3)");
    }
}

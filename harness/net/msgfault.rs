//! Message faults of RPC-aware links: plain data saying which calls to break and how, so a
//! schedule step, a nemesis or an explorer can make them alike.
//!
//! A [`MsgFault`] matches calls by directed link and [`MsgMethod`], and acts on a matching
//! call with a [`MsgAction`], either with a probability (seeded per link) or on the next N
//! matching calls ([`Budget`]). The first rule (oldest first) that matches and fires acts.
use super::proxy::Link;
use super::trace::{Method, Request};
pub use crate::spec::faults::{Budget, MsgAction, MsgKind, MsgMethod};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// How a [`MsgMethod`] recognises the calls it names (the type itself is plain step data in
/// [`crate::spec::faults`]).
impl MsgMethod {
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
        let (action, method) = (self.action, self.method);
        let links: Vec<String> = self.links.iter().map(|(a, b)| format!("{a}→{b}")).collect();
        let budget = match self.budget {
            Budget::Rate(r) => format!("rate {r}"),
            Budget::Next(n) => format!("next {n}"),
        };
        format!("{action} of {method} on {} ({budget})", links.join(" "))
    }
}

/// A message fault drawn at random for a nemesis or an `explore` trial: the concrete method,
/// action and budget, and whom it hits — calls from the leader (else from one random node) to
/// every other node (else to one random other node).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Drawn {
    pub method: MsgMethod,
    pub action: MsgAction,
    pub budget: Budget,
    pub from_leader: bool,
    pub to_all: bool,
}

/// Draws the parameters of a `kind` fault from `rng` (seeded by the caller, so a run replays):
/// a method among the Raft RPCs (RequestVote, AppendEntries with or without entries, any);
/// delays of 20–1500 ms; a duplicate 20–500 ms later; reorder holds up to 200–2000 ms; the
/// next 1–5 matching calls or each with probability 0.2–1.0. Always passes
/// [`MsgFault::validate`].
pub fn draw(kind: MsgKind, rng: &mut impl rand::Rng) -> Drawn {
    const METHODS: [MsgMethod; 5] = [
        MsgMethod::AppendEntries,
        MsgMethod::AppendWithEntries,
        MsgMethod::Heartbeat,
        MsgMethod::RequestVote,
        MsgMethod::Any,
    ];
    let method = METHODS[rng.random_range(0..METHODS.len())];
    let action = match kind {
        MsgKind::DropRequest => MsgAction::DropRequest,
        MsgKind::DropReply => MsgAction::DropReply,
        MsgKind::Delay => {
            let min_ms = rng.random_range(20..=500);
            MsgAction::Delay {
                min_ms,
                max_ms: rng.random_range(min_ms..=1500),
            }
        }
        MsgKind::Duplicate => MsgAction::Duplicate {
            after_ms: rng.random_range(20..=500),
        },
        MsgKind::Reorder => MsgAction::Reorder {
            max_hold_ms: rng.random_range(200..=2000),
        },
    };
    let budget = if rng.random_bool(0.5) {
        Budget::Next(rng.random_range(1..=5))
    } else {
        Budget::Rate(f64::from(rng.random_range(2..=10u32)) / 10.0)
    };
    Drawn {
        method,
        action,
        budget,
        from_leader: rng.random_bool(0.5),
        to_all: rng.random_bool(0.5),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::testing::fault_on_1_to_2;

    fn fault(budget: Budget, action: MsgAction) -> MsgFault {
        fault_on_1_to_2(MsgMethod::Heartbeat, action, budget)
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

    #[test]
    fn drawn_faults_are_valid_seeded_and_of_their_kind() {
        use rand::SeedableRng;
        for (_, kind) in MsgKind::WORDS {
            for seed in 0..200 {
                let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
                let d = draw(*kind, &mut rng);
                let mut again = rand::rngs::StdRng::seed_from_u64(seed);
                assert_eq!(d, draw(*kind, &mut again), "the same seed draws the same");
                let f = fault_on_1_to_2(d.method, d.action, d.budget);
                assert_eq!(f.validate(), Ok(()), "{kind:?} seed {seed}: {f:?}");
                let same_kind = matches!(
                    (kind, d.action),
                    (MsgKind::DropRequest, MsgAction::DropRequest)
                        | (MsgKind::DropReply, MsgAction::DropReply)
                        | (MsgKind::Delay, MsgAction::Delay { .. })
                        | (MsgKind::Duplicate, MsgAction::Duplicate { .. })
                        | (MsgKind::Reorder, MsgAction::Reorder { .. })
                );
                assert!(same_kind, "{kind:?} drew {:?}", d.action);
                if let Budget::Rate(r) = d.budget {
                    assert!(r > 0.0, "a rate of 0 would inject nothing");
                }
            }
        }
        assert_eq!(MsgKind::Reorder.name(), "reorder");
    }
}

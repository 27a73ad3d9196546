//! What the harness did to the cluster and when: the fault events and waits
//! the schedule records and the checks and reports read. Low in the pipeline so that
//! `check` and `report` read it without depending on `schedule`.
use serde::{Deserialize, Serialize};
use std::fmt;

/// A fault or other intervention of the schedule, by its name in reports
/// (`kill`, `net-isolate`, `heal`, `workload-start`, ...). serde and strum spell it
/// alike (kebab-case): `name`, `Display`, `FromStr` and JSON agree.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumIter,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum FaultAction {
    WorkloadStart,
    WorkloadStop,
    /// Every link back to normal (ends every `net-*` fault).
    Heal,
    Kill,
    Stop,
    Pause,
    Resume,
    Restart,
    NetIsolate,
    NetHalves,
    NetBridge,
    NetMajoritiesRing,
    NetFlaky,
    /// A message fault on RPC-aware links (`msg` step): drops, delays, duplicates or
    /// reorders single calls; ends at `heal`. Not disruptive by itself.
    NetMsg,
}

impl FaultAction {
    /// The action's name in reports (what serde writes).
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// A network shape (`net-*`), not its heal.
    pub fn is_net(self) -> bool {
        use FaultAction::*;
        matches!(
            self,
            NetIsolate | NetHalves | NetBridge | NetMajoritiesRing | NetFlaky | NetMsg
        )
    }

    /// Takes its nodes down until a restart (kill, stop) or resume (pause).
    pub fn takes_down(self) -> bool {
        matches!(self, Self::Kill | Self::Stop | Self::Pause)
    }

    /// Brings its nodes back (restart, resume).
    pub fn brings_back(self) -> bool {
        matches!(self, Self::Restart | Self::Resume)
    }

    /// The workload's start or stop: no fault at all.
    pub fn is_workload(self) -> bool {
        matches!(self, Self::WorkloadStart | Self::WorkloadStop)
    }

    /// A fault that may cost the cluster its leader or its majority: what
    /// `first_commit_after_fault_ms.N` numbers (every node fault that takes a
    /// node down, every network shape that cuts links).
    pub fn is_disruptive(self) -> bool {
        self.takes_down() || (self.is_net() && !matches!(self, Self::NetFlaky | Self::NetMsg))
    }
}

/// What a schedule wait waited for, by its name in reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WaitCondition {
    /// A current leader: a Leader whose term a majority reports.
    #[serde(rename = "leader")]
    Leader,
    /// A leader that is none of the nodes the last fault hit, in a later term.
    #[serde(rename = "new-leader")]
    NewLeader,
    /// Every running node holds every entry committed when the wait began.
    #[serde(rename = "caught-up")]
    CaughtUp,
    /// A probe write sent by the harness is applied.
    #[serde(rename = "commit")]
    Commit,
    /// The leader a step targeting `leader` or `follower` needs first.
    #[serde(rename = "leader (to target)")]
    LeaderToTarget,
    /// A leader of a given node kind (`wait = "leader"` with `kind`); the kind is in the
    /// record's detail.
    #[serde(rename = "leader of kind")]
    LeaderOfKind,
}

impl WaitCondition {
    pub fn name(self) -> &'static str {
        match self {
            WaitCondition::Leader => "leader",
            WaitCondition::NewLeader => "new-leader",
            WaitCondition::CaughtUp => "caught-up",
            WaitCondition::Commit => "commit",
            WaitCondition::LeaderToTarget => "leader (to target)",
            WaitCondition::LeaderOfKind => "leader of kind",
        }
    }
}

impl fmt::Display for WaitCondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A wait step of the schedule and how it went.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WaitRecord {
    pub at: String,
    pub condition: WaitCondition,
    pub timeout_ms: u64,
    pub expect_timeout: bool,
    /// When the condition was met, ms after the wait began; None = not met in time.
    pub met_after_ms: Option<u64>,
    pub detail: String,
}

/// Node ids as `1, 2, 3`.
pub fn list(ids: impl IntoIterator<Item = u32>) -> String {
    ids.into_iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A fault or other intervention, with the time it took effect.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FaultEvent {
    /// µs on the run's clock, taken once just before the harness acted: every
    /// metric of this fault (`failover_ms`, `first_commit_after_fault_ms`)
    /// counts from this instant.
    pub t_us: u64,
    pub action: FaultAction,
    pub nodes: Vec<u32>,
    pub detail: String,
    pub at: String,
    /// After a network step: the nodes through which nothing can commit until the
    /// next heal (see `schedule::netfault::cut_off`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cut_off: Vec<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::IntoEnumIterator;

    #[test]
    fn names_round_trip_through_text_and_json() {
        for a in FaultAction::iter() {
            let name = a.name();
            assert_eq!(a.to_string(), name);
            assert_eq!(name.parse::<FaultAction>(), Ok(a));
            assert_eq!(serde_json::to_string(&a).unwrap(), format!("\"{name}\""));
        }
    }

    #[test]
    fn wait_conditions_serialize_as_their_names() {
        use WaitCondition::*;
        for c in [Leader, NewLeader, CaughtUp, Commit, LeaderToTarget] {
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{c}\""));
            assert_eq!(serde_json::from_str::<WaitCondition>(&json).unwrap(), c);
        }
        assert!(serde_json::from_str::<WaitCondition>("\"Leader\"").is_err());
    }

    #[test]
    fn unknown_names_are_rejected() {
        for bad in ["", "Kill", "net-", "net-ring", "workload"] {
            assert!(bad.parse::<FaultAction>().is_err(), "{bad:?}");
            assert!(serde_json::from_str::<FaultAction>(&format!("\"{bad}\"")).is_err());
        }
    }

    #[test]
    fn disruptive_faults_are_the_ones_the_metrics_number() {
        let disruptive: Vec<&str> = FaultAction::iter()
            .filter(|a| a.is_disruptive())
            .map(FaultAction::name)
            .collect();
        assert_eq!(
            disruptive,
            [
                "kill",
                "stop",
                "pause",
                "net-isolate",
                "net-halves",
                "net-bridge",
                "net-majorities-ring"
            ]
        );
    }
}

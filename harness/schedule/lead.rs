//! `wait = "leader"` with `kind = "KIND"` (issue 13 §1): in a mixed cluster a bug of one kind
//! only shows while a node of that kind leads, so this step moves leadership until one does —
//! it kills the current leader when it is of another kind, waits for the next leader, restarts
//! the killed node (same data dir), and repeats within `timeout_s`. Each kill and restart is a
//! recorded fault like any other; the wait is recorded as met or not.

use super::{Exec, Stop};
use crate::spec::ProcFault;
use crate::trace::WaitCondition;
use crate::trace::WaitRecord;
use std::time::{Duration, Instant};

impl Exec<'_> {
    /// Moves leadership to a node of `kind`; returns after it leads or `timeout_ms` passed.
    pub(super) async fn lead_by(
        &mut self,
        kind: &str,
        timeout_ms: u64,
        at: &str,
    ) -> Result<(), Stop> {
        let of_kind: Vec<u32> = self
            .spec
            .nodes
            .iter()
            .filter(|n| n.kind == kind)
            .map(|n| n.id)
            .collect();
        let started = Instant::now();
        let end = started + Duration::from_millis(timeout_ms);
        let mut moves = 0;
        let met = loop {
            self.check_interrupt()?;
            if of_kind.is_empty() || Instant::now() >= end {
                break None;
            }
            let Some(l) = self.await_leader().await? else {
                continue;
            };
            if of_kind.contains(&l.node) {
                break Some((started.elapsed().as_millis() as u64, l.node));
            }
            // Move leadership off a node of another kind.
            moves += 1;
            self.proc_fault(ProcFault::Kill, vec![l.node], at).await?;
            self.await_leader().await?;
            self.proc_fault(ProcFault::Restart, vec![l.node], at)
                .await?;
        };
        let detail = match met {
            Some((_, node)) => format!("node {node} ({kind}) leads after {moves} leader kills"),
            None if of_kind.is_empty() => format!("no node of kind \"{kind}\" in the cluster"),
            None => format!("no {kind} node led after {moves} leader kills"),
        };
        let name = format!("leader of kind {kind}");
        self.progress.outcome(
            met.is_some(),
            match met {
                Some((ms, _)) => format!("{at}: {name} after {ms} ms: {detail}"),
                None => format!("{at}: {name} not met within {timeout_ms} ms: {detail}"),
            },
        );
        self.waits.push(WaitRecord {
            at: at.into(),
            condition: WaitCondition::LeaderOfKind,
            timeout_ms,
            expect_timeout: false,
            met_after_ms: met.map(|(ms, _)| ms),
            detail,
        });
        Ok(())
    }
}

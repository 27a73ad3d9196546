//! `msg` steps: a message fault on RPC-aware links, from a suite's [`MsgStep`] to a
//! [`MsgFault`] in force on the network until the next heal. Recorded as fault `net-msg`
//! (a network fault: it ends at `heal`).
use super::{Exec, Stop};
use crate::net::msgfault::MsgFault;
use crate::spec::MsgStep;
use crate::trace::FaultAction;
use std::collections::BTreeSet;

impl Exec<'_> {
    /// Resolves `from` and `to` now (e.g. the current leader) and puts the fault in force on
    /// every link from × to. Errors (exit 3): no RPC-aware links, or the network refused it.
    pub(super) async fn msg_step(&mut self, m: &MsgStep, at: &str) -> Result<(), Stop> {
        let Some(net) = self.net else {
            return Err(Stop::Fatal(format!(
                "{at}: message faults need `network = \"rpc\"`"
            )));
        };
        let from = self.resolve(&m.from, at).await?;
        let to = self.resolve(&m.to, at).await?;
        let links: BTreeSet<(u32, u32)> = from
            .iter()
            .flat_map(|&a| to.iter().filter(move |&&b| b != a).map(move |&b| (a, b)))
            .collect();
        let mut nodes: Vec<u32> = from.iter().chain(to.iter()).copied().collect();
        nodes.sort_unstable();
        nodes.dedup();
        if links.is_empty() {
            self.record(
                FaultAction::NetMsg,
                nodes,
                "no link between the targets: nothing done".into(),
                at,
            );
            return Ok(());
        }
        let fault = MsgFault {
            links,
            method: m.method,
            action: m.action,
            budget: m.budget,
        };
        let detail = fault.describe();
        let id = net
            .add_msg_fault(fault)
            .map_err(|e| Stop::Fatal(format!("{at}: {e}")))?;
        self.record(
            FaultAction::NetMsg,
            nodes.clone(),
            format!("rule {id}: {detail}"),
            at,
        );
        self.previous = nodes;
        Ok(())
    }
}

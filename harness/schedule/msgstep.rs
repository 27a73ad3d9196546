//! `msg` steps: a message fault on RPC-aware links, from a suite's [`MsgStep`] to a
//! [`MsgFault`] in force on the network until the next heal. Recorded as fault `net-msg`
//! (a network fault: it ends at `heal`).
use super::{Exec, Stop};
use crate::net::msgfault::MsgFault;
use crate::spec::{MsgStep, Target};
use crate::trace::FaultAction;
use std::collections::BTreeSet;

impl Exec<'_> {
    /// Resolves `from` and `to` now (e.g. the current leader) and puts the fault in force on
    /// every link from × to. `label` names the nodes hit ([`label_nodes`]) for later `@label`
    /// targets. Errors (exit 3): no RPC-aware links, or the network refused it.
    pub(super) async fn msg_step(
        &mut self,
        m: &MsgStep,
        at: &str,
        label: Option<&str>,
    ) -> Result<(), Stop> {
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
        if let Some(l) = label {
            self.labels
                .insert(l.to_string(), label_nodes(&m.to, &from, &links));
        }
        let named = label.map_or(String::new(), |l| format!(" @{l}"));
        if links.is_empty() {
            self.record(
                FaultAction::NetMsg,
                nodes,
                format!("no link between the targets{named}: nothing done"),
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
            format!("rule {id}{named}: {detail}"),
            at,
        );
        self.previous = nodes;
        Ok(())
    }
}

/// The nodes a labelled `msg` step hit: the receivers of its links, or — when `to` is every
/// node (absent) — its callers `from`. Sorted, without repeats.
fn label_nodes(to: &Target, from: &[u32], links: &BTreeSet<(u32, u32)>) -> Vec<u32> {
    let hit: BTreeSet<u32> = match to {
        Target::All => from.iter().copied().collect(),
        _ => links.iter().map(|&(_, b)| b).collect(),
    };
    hit.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_names_the_receivers_or_the_callers_when_every_node_receives() {
        let links: BTreeSet<(u32, u32)> = [(1, 2), (1, 3)].into_iter().collect();
        assert_eq!(label_nodes(&Target::Follower, &[1], &links), vec![2, 3]);
        assert_eq!(
            label_nodes(&Target::Ids(vec![3]), &[1], &[(1, 3)].into()),
            vec![3]
        );
        let all: BTreeSet<(u32, u32)> = [(2, 1), (2, 3)].into_iter().collect();
        assert_eq!(label_nodes(&Target::All, &[2], &all), vec![2]);
        assert!(label_nodes(&Target::Leader, &[1], &BTreeSet::new()).is_empty());
    }
}

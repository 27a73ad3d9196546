//! Network fault steps: from a suite's `net = ...` step to link faults on the proxies.
use crate::net::shapes::{self, Shape};
use crate::net::{LinkFault, LinkMode, Network, NodeId};
use crate::spec::NetShape;
use rand::rngs::StdRng;
use std::collections::BTreeSet;

/// What a `net` step asks for, besides its shape and target.
pub struct NetParams {
    pub mode: LinkMode,
    pub one_way: bool,
    pub delay_ms: u64,
    pub jitter_ms: u64,
    pub loss: f64,
}

/// What a `net` step did: its description, and the directed links it cut.
pub struct Applied {
    pub description: String,
    pub cut: BTreeSet<(NodeId, NodeId)>,
}

/// Nodes through which no request can be committed while `cut` holds: a request
/// to X is committed by X itself or by the one node X forwards it to (X→L), and
/// a leader L commits only if it reaches a majority over its outgoing links (a
/// link carries a call's request and its response). So X is cut off when neither
/// X nor any node it reaches can reach a majority.
pub fn cut_off(all: &[NodeId], cut: &BTreeSet<(NodeId, NodeId)>) -> Vec<NodeId> {
    let majority = all.len() / 2 + 1;
    let reach = |x: NodeId| -> Vec<NodeId> {
        all.iter()
            .copied()
            .filter(|&y| y == x || !cut.contains(&(x, y)))
            .collect()
    };
    all.iter()
        .copied()
        .filter(|&x| reach(x).into_iter().all(|l| reach(l).len() < majority))
        .collect()
}

/// Apply a shape; returns what it cut, for the report and the checks.
pub fn apply(
    net: &Network,
    shape: NetShape,
    all: &[NodeId],
    targets: &[NodeId],
    leader: Option<NodeId>,
    p: &NetParams,
    rng: &mut StdRng,
) -> Result<Applied, String> {
    let cut_fault = LinkFault {
        mode: p.mode,
        ..LinkFault::PASS
    };
    let named: Shape = match shape {
        NetShape::Flaky => {
            let f = LinkFault {
                mode: LinkMode::Pass,
                delay_ms: p.delay_ms as u32,
                jitter_ms: p.jitter_ms as u32,
                loss_rate: p.loss,
            };
            let links: BTreeSet<(NodeId, NodeId)> = net
                .links()
                .into_iter()
                .filter(|(a, b)| targets.contains(a) || targets.contains(b))
                .collect();
            let n = links.len();
            net.set_links(links, f).map_err(|e| e.to_string())?;
            return Ok(Applied {
                description: format!(
                    "{n} links: delay {} ± {} ms, connection loss {:.0}%",
                    p.delay_ms,
                    p.jitter_ms,
                    p.loss * 100.0
                ),
                cut: BTreeSet::new(),
            });
        }
        NetShape::Isolate => {
            let rest = shapes::others(all, targets);
            if targets.is_empty() || rest.is_empty() {
                return Err("isolate needs at least one target and one other node".into());
            }
            if p.one_way {
                Shape::OneWay {
                    from: targets.to_vec(),
                    to: rest,
                }
            } else {
                Shape::Isolate(targets.to_vec())
            }
        }
        NetShape::Halves => Shape::Halves,
        NetShape::Bridge => Shape::Bridge,
        NetShape::MajoritiesRing => Shape::MajoritiesRing,
    };
    let cut = named.plan(all, leader, rng).map_err(|e| e.to_string())?;
    net.set_links(cut.links.iter().copied(), cut_fault)
        .map_err(|e| e.to_string())?;
    Ok(Applied {
        description: format!(
            "{} ({} links {})",
            cut.description,
            cut.links.len(),
            match p.mode {
                LinkMode::Blackhole => "blackholed",
                LinkMode::Reject => "rejecting",
                LinkMode::Pass => "passing",
            }
        ),
        cut: cut.links,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(pairs: &[(NodeId, NodeId)]) -> BTreeSet<(NodeId, NodeId)> {
        pairs.iter().copied().collect()
    }

    fn both_ways(a: &[NodeId], b: &[NodeId]) -> BTreeSet<(NodeId, NodeId)> {
        let mut s = BTreeSet::new();
        for &x in a {
            for &y in b {
                s.insert((x, y));
                s.insert((y, x));
            }
        }
        s
    }

    #[test]
    fn a_minority_split_off_is_cut_off_and_the_majority_is_not() {
        let all = [1, 2, 3, 4, 5];
        assert_eq!(cut_off(&all, &both_ways(&[1, 2], &[3, 4, 5])), vec![1, 2]);
        assert!(cut_off(&all, &BTreeSet::new()).is_empty());
    }

    #[test]
    fn a_node_that_can_still_send_to_the_majority_is_not_cut_off() {
        // Others cannot reach 1, but 1 reaches everyone: it can forward, or lead.
        let all = [1, 2, 3, 4, 5];
        let inbound_cut = links(&[(2, 1), (3, 1), (4, 1), (5, 1)]);
        assert!(cut_off(&all, &inbound_cut).is_empty());
        // 1 cannot send to anyone: nothing sent to it can commit.
        let outbound_cut = links(&[(1, 2), (1, 3), (1, 4), (1, 5)]);
        assert_eq!(cut_off(&all, &outbound_cut), vec![1]);
    }

    #[test]
    fn a_bridge_leaves_nobody_cut_off() {
        // {1,2} and {4,5} cannot talk; 3 talks to all: every side has a majority with 3.
        let all = [1, 2, 3, 4, 5];
        assert!(cut_off(&all, &both_ways(&[1, 2], &[4, 5])).is_empty());
    }
}

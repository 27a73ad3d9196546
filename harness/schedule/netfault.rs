//! Network fault steps: from a suite's `net = ...` step to link faults on the proxies.
use crate::net::{shapes, LinkFault, LinkMode, Network, NodeId};
use crate::spec::{CutMode, NetShape};
use rand::rngs::StdRng;
use std::collections::BTreeSet;

/// What a `net` step asks for, besides its shape and target.
pub struct NetParams {
    pub mode: CutMode,
    pub one_way: bool,
    pub delay_ms: u64,
    pub jitter_ms: u64,
    pub loss: f64,
}

/// Apply a shape; returns the description of what was cut, for the report.
pub fn apply(
    net: &Network,
    shape: NetShape,
    all: &[NodeId],
    targets: &[NodeId],
    leader: Option<NodeId>,
    p: &NetParams,
    rng: &mut StdRng,
) -> Result<String, String> {
    let cut_fault = LinkFault {
        mode: match p.mode {
            CutMode::Blackhole => LinkMode::Blackhole,
            CutMode::Reject => LinkMode::Reject,
        },
        ..LinkFault::PASS
    };
    let cut = match shape {
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
            return Ok(format!(
                "{n} links: delay {} ± {} ms, connection loss {:.0}%",
                p.delay_ms,
                p.jitter_ms,
                p.loss * 100.0
            ));
        }
        NetShape::Isolate => {
            let rest: Vec<NodeId> = all
                .iter()
                .copied()
                .filter(|n| !targets.contains(n))
                .collect();
            if targets.is_empty() || rest.is_empty() {
                return Err("isolate needs at least one target and one other node".into());
            }
            if p.one_way {
                shapes::one_way(all, targets, &rest).map_err(|e| e.to_string())?
            } else {
                let mut links = BTreeSet::new();
                for &a in targets {
                    for &b in &rest {
                        links.insert((a, b));
                        links.insert((b, a));
                    }
                }
                shapes::Cut {
                    links,
                    description: format!(
                        "isolate {} from {}",
                        crate::check::list(targets.iter().copied()),
                        crate::check::list(rest.iter().copied())
                    ),
                }
            }
        }
        NetShape::Halves => shapes::halves(all, leader, rng).map_err(|e| e.to_string())?,
        NetShape::Bridge => shapes::bridge(all, leader, rng).map_err(|e| e.to_string())?,
        NetShape::MajoritiesRing => shapes::majorities_ring(all, rng).map_err(|e| e.to_string())?,
    };
    net.set_links(cut.links.iter().copied(), cut_fault)
        .map_err(|e| e.to_string())?;
    Ok(format!(
        "{} ({} links {})",
        cut.description,
        cut.links.len(),
        match p.mode {
            CutMode::Blackhole => "blackholed",
            CutMode::Reject => "rejecting",
        }
    ))
}

//! Which network faults a docker run carries out, and by what — decided from the suite before
//! anything starts.
//!
//! Under `backend = "docker"` the nodes call their peers directly on the run's bridge network
//! (`ID=10.213.X.Y:PORT`, see [`super::backend`]): no node traffic passes the harness's TCP
//! proxies, even with `[cluster] proxies = true`. That switch still turns network faults on:
//! the proxies' per-link fault table ([`crate::net::Network`]) is what every `net` step,
//! `heal` and nemesis changes, and after each change `Cluster::sync_links` makes each
//! container's packet filter match it ([`super::netfilter`]), or stops the run with the error.
//! So a cut (`blackhole` or `reject`, one-way or not) is in force in the containers; what a
//! packet filter cannot do — delay, jitter, loss (`flaky`) and message faults (`network =
//! "rpc"`) — is refused here, so that no run reports a fault it did not inject.
use crate::spec::{Action, Backend, Cluster, NemesisFault, NetShape, Spec, Step};

/// What carries a run's network faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    /// No links of the harness: a network fault stops the run (validate refuses it first).
    None,
    /// Node traffic goes through the harness's TCP proxies, which cut, delay and drop it.
    Proxies,
    /// Node traffic goes through the RPC-aware links (`network = "rpc"`, message faults).
    Rpc,
    /// Docker backend: nodes call each other directly; cuts are iptables rules in each
    /// container's network namespace, mirrored from the proxies' fault table.
    PacketFilter,
}

impl Links {
    /// The links of `cluster`, or why the pair of settings cannot be carried out.
    pub fn of(cluster: &Cluster) -> Result<Links, String> {
        match (cluster.backend, cluster.rpc, cluster.proxies) {
            (Backend::Process, true, _) => Ok(Links::Rpc),
            (Backend::Process, false, true) => Ok(Links::Proxies),
            (_, false, false) => Ok(Links::None),
            (Backend::Docker, true, _) => Err("`backend = \"docker\"` cannot have `network = \
                 \"rpc\"`: containers call their peers directly, not through the harness's \
                 links"
                .into()),
            (Backend::Docker, false, true) => Ok(Links::PacketFilter),
        }
    }
}

/// Every step of `spec` a docker run could not carry out, as `FILE:LINE: reason` (empty for
/// the process backend): the rpc links refused by [`Links::of`], and `flaky` as a `net` step
/// or among a nemesis's `faults` (nested `repeat` steps included). `flaky` delays and drops
/// bytes; a packet filter only cuts ([`super::netfilter::rules`] refuses it at run time).
pub fn refusals(spec: &Spec) -> Vec<String> {
    if spec.cluster.backend != Backend::Docker {
        return Vec::new();
    }
    let mut out = Vec::new();
    if let Err(e) = Links::of(&spec.cluster) {
        out.push(format!("[cluster]: {e}"));
    }
    flaky_steps(&spec.steps, &mut out);
    out
}

fn flaky_steps(steps: &[Step], out: &mut Vec<String>) {
    const WHY: &str = "is not supported by `backend = \"docker\"` (its links are cut with \
                       iptables: no delay, jitter or loss); use the process backend";
    for s in steps {
        match &s.action {
            Action::Net {
                shape: NetShape::Flaky,
                ..
            } => out.push(format!("{}: `net = \"flaky\"` {WHY}", s.at)),
            Action::Nemesis { faults, .. }
                if faults.contains(&NemesisFault::Net(NetShape::Flaky)) =>
            {
                out.push(format!("{}: nemesis fault \"flaky\" {WHY}", s.at))
            }
            Action::Repeat { steps, .. } => flaky_steps(steps, out),
            _ => {}
        }
    }
}

#[cfg(test)]
#[path = "fit_tests.rs"]
mod tests;

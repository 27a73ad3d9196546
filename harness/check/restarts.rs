//! Restarts of nodes that keep no state: a kind whose command has no
//! `{data_dir}` loses its log, term and vote on every restart by design (Raft
//! §5.1 and Figure 2 require them on stable storage before answering an RPC),
//! so a restart of such a node is not the Raft crash–recovery the suite may
//! mean to test, and a node that votes twice in a term after it is not a bug
//! of the node. Issue 11 §7: a warning naming the nodes and the restarts.
use super::{list, secs, CheckResult, Evidence, Status};

pub const NAME: &str = "restarts";

pub fn check(ev: &Evidence) -> CheckResult {
    let restarts: Vec<_> = ev
        .faults
        .iter()
        .filter(|f| f.action == crate::trace::FaultAction::Restart)
        .collect();
    if restarts.is_empty() {
        return CheckResult::not_checked(NAME, "no node was restarted");
    }
    let stateless: Vec<u32> = ev
        .nodes
        .iter()
        .filter(|n| !n.data_dir)
        .map(|n| n.id)
        .collect();
    let mut lost = Vec::new();
    for f in &restarts {
        for n in f.nodes.iter().filter(|n| stateless.contains(n)) {
            let kind = ev
                .nodes
                .iter()
                .find(|x| x.id == *n)
                .map_or("", |x| x.kind.as_str());
            lost.push(format!(
                "node {n} (kind {kind}, no {{data_dir}} in its command) was restarted at {} ({}): its log, term and vote were lost by design",
                secs(f.t_us),
                f.at
            ));
        }
    }
    let mut r = CheckResult::new(
        NAME,
        format!(
            "{} restart steps; nodes without a data dir: [{}]",
            restarts.len(),
            list(stateless)
        ),
    )
    .with_violations(lost, "every restarted node kept its data dir");
    if r.status == Status::Fail {
        r.status = Status::Warn;
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fixtures::*;

    fn ev(data_dir: bool, action: &str) -> Evidence {
        Evidence {
            faults: vec![fault(3_000_000, action, &[2], &[])],
            ..Evidence::default().with_nodes(vec![node(2, "rust-blackbox", data_dir)])
        }
    }

    #[test]
    fn restarting_a_node_without_a_data_dir_is_a_warning() {
        let r = check(&ev(false, "restart"));
        assert_summary_starts(
            &r,
            Status::Warn,
            "node 2 (kind rust-blackbox, no {data_dir}",
        );
        assert_verdict(&r, Status::Warn, &["3.000 s (s.toml:1)"]);
    }

    #[test]
    fn nodes_with_a_data_dir_or_no_restart_give_no_warning() {
        assert_verdict(&check(&ev(true, "restart")), Status::Pass, &[]);
        assert_verdict(&check(&ev(false, "kill")), Status::NotChecked, &[]);
    }
}

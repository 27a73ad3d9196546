//! Network shapes that cannot be built for the suite's cluster, found before
//! anything starts (the same limits `net::shapes` and `schedule::netfault`
//! enforce at run time, where they would stop the run with exit 3).
use super::{NetShape, Target};
use std::collections::BTreeSet;

/// Fewest nodes a shape can be built on: `isolate` needs a target and another
/// node, `halves` a minority and a majority, `bridge` two halves and a bridge
/// node, `majorities-ring` four nodes (with three, every majority is everyone).
pub fn min_nodes(shape: NetShape) -> usize {
    match shape {
        NetShape::Flaky => 1,
        NetShape::Isolate | NetShape::Halves => 2,
        NetShape::Bridge => 3,
        NetShape::MajoritiesRing => 4,
    }
}

/// Why a `net` step of `shape` on `target` cannot be applied to a cluster with
/// node ids `ids`, or None when it can (as far as can be known before the run:
/// `leader`, `down`, `previous`... are only known then).
pub fn net_problem(shape: NetShape, target: &Target, ids: &BTreeSet<u32>) -> Option<String> {
    let n = ids.len();
    let need = min_nodes(shape);
    if n < need {
        return Some(format!(
            "`{}` needs at least {need} nodes, the cluster has {n}",
            shape_word(shape)
        ));
    }
    if shape != NetShape::Isolate {
        return None;
    }
    let everyone = "it would isolate every node: an isolation needs at least one node left on \
                    the other side";
    match target {
        Target::Ids(v) if v.is_empty() => {
            Some("it names no node: an isolation needs at least one node to cut off".into())
        }
        Target::All => Some(everyone.into()),
        Target::Ids(v) if !v.is_empty() && ids.iter().all(|i| v.contains(i)) => {
            Some(everyone.into())
        }
        Target::Majority if n / 2 + 1 >= n => Some(format!(
            "a majority of {n} nodes is every node, so nothing would be left to isolate it from"
        )),
        Target::Minority if (n - 1) / 2 == 0 => {
            Some(format!("a minority of {n} nodes has no node to isolate"))
        }
        _ => None,
    }
}

/// The suite word of a shape (as in `suites/README.md`).
pub fn shape_word(shape: NetShape) -> &'static str {
    super::NET_SHAPES
        .iter()
        .find(|(_, s)| *s == shape)
        .map_or("?", |(w, _)| w)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: u32) -> BTreeSet<u32> {
        (1..=n).collect()
    }

    #[test]
    fn shapes_need_enough_nodes() {
        assert!(net_problem(NetShape::Halves, &Target::All, &ids(1)).is_some());
        assert!(net_problem(NetShape::Halves, &Target::All, &ids(2)).is_none());
        assert!(net_problem(NetShape::Bridge, &Target::All, &ids(2)).is_some());
        assert!(net_problem(NetShape::Bridge, &Target::All, &ids(3)).is_none());
        let e = net_problem(NetShape::MajoritiesRing, &Target::All, &ids(3)).unwrap();
        assert!(e.contains("at least 4 nodes, the cluster has 3"), "{e}");
        assert!(net_problem(NetShape::MajoritiesRing, &Target::All, &ids(4)).is_none());
        assert!(net_problem(NetShape::Flaky, &Target::All, &ids(1)).is_none());
    }

    #[test]
    fn isolate_must_leave_someone_on_the_other_side() {
        let five = ids(5);
        assert!(net_problem(NetShape::Isolate, &Target::All, &five).is_some());
        let every = Target::Ids(vec![1, 2, 3, 4, 5]);
        assert!(net_problem(NetShape::Isolate, &every, &five).is_some());
        let some = Target::Ids(vec![1, 2]);
        assert!(net_problem(NetShape::Isolate, &some, &five).is_none());
        assert!(net_problem(NetShape::Isolate, &Target::Majority, &five).is_none());
        assert!(net_problem(NetShape::Isolate, &Target::Majority, &ids(2)).is_some());
        assert!(net_problem(NetShape::Isolate, &Target::Minority, &ids(2)).is_some());
        assert!(net_problem(NetShape::Isolate, &Target::Minority, &ids(3)).is_none());
        assert!(net_problem(NetShape::Isolate, &Target::Leader, &five).is_none());
        assert!(net_problem(NetShape::Isolate, &Target::Leader, &ids(1)).is_some());
        let nobody = net_problem(NetShape::Isolate, &Target::Ids(vec![]), &five).unwrap();
        assert!(nobody.contains("names no node"), "{nobody}");
    }
}

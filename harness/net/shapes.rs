//! Partition shapes: which directed links to cut, as pure functions of the node ids, the
//! current leader (when it matters) and a seeded RNG, so a run can be replayed from its seed.
//!
//! Every shape returns a [`Cut`]: the set of directed links `(from, to)` to fault (usually
//! with `LinkFault::BLACKHOLE`) and a one-line description for reports. All shapes except
//! [`one_way`] cut both directions of a pair.
use std::collections::BTreeSet;
use std::fmt;

use rand::seq::SliceRandom;
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::proxy::{Link, NodeId};

/// The directed links to cut, and what the cut means.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Cut {
    pub links: BTreeSet<Link>,
    pub description: String,
}

impl Cut {
    /// Every link between the groups `a` and `b`, both directions.
    fn apart(a: &[NodeId], b: &[NodeId], description: String) -> Cut {
        let links = a
            .iter()
            .flat_map(|&x| b.iter().flat_map(move |&y| [(x, y), (y, x)]))
            .filter(|(x, y)| x != y)
            .collect();
        Cut { links, description }
    }

    /// True when `from` can still reach `to` (the directed link is not cut).
    pub fn reaches(&self, from: NodeId, to: NodeId) -> bool {
        from == to || !self.links.contains(&(from, to))
    }

    /// True when `a` and `b` can reach each other.
    pub fn connected(&self, a: NodeId, b: NodeId) -> bool {
        self.reaches(a, b) && self.reaches(b, a)
    }

    /// The nodes that `node` is connected to both ways, itself included.
    pub fn view(&self, nodes: &[NodeId], node: NodeId) -> BTreeSet<NodeId> {
        nodes
            .iter()
            .copied()
            .filter(|&other| self.connected(node, other))
            .collect()
    }
}

/// Why a shape cannot be planned.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShapeError {
    #[error("{shape} needs at least {need} nodes, the cluster has {got}")]
    TooFewNodes {
        shape: &'static str,
        need: usize,
        got: usize,
    },
    #[error("node {0} is not in the cluster")]
    UnknownNode(NodeId),
    #[error("node {0} is listed twice")]
    DuplicateNode(NodeId),
    #[error("{0} needs a leader and none is known")]
    NoLeader(&'static str),
    #[error("one-way needs two non-empty groups that are not the same single node")]
    EmptyGroup,
}

/// A named shape, as a nemesis schedule would name it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Shape {
    /// Cut these nodes from all others (both ways; they still reach each other).
    Isolate(Vec<NodeId>),
    /// Cut the current leader from all others.
    IsolateLeader,
    /// Random majority / minority split; the leader, when known, goes to the minority.
    Halves,
    /// Two halves that cannot talk, and one node that talks to both.
    Bridge,
    /// Every node sees a majority, no two nodes the same one (Jepsen's majorities ring).
    MajoritiesRing,
    /// Nodes of `from` cannot reach nodes of `to`; the other direction still works.
    OneWay { from: Vec<NodeId>, to: Vec<NodeId> },
}

impl Shape {
    /// The links to cut for this shape.
    pub fn plan(
        &self,
        nodes: &[NodeId],
        leader: Option<NodeId>,
        rng: &mut impl Rng,
    ) -> Result<Cut, ShapeError> {
        match self {
            Shape::Isolate(group) => isolate(nodes, group),
            Shape::IsolateLeader => isolate(
                nodes,
                &[leader.ok_or(ShapeError::NoLeader("isolate-leader"))?],
            ),
            Shape::Halves => halves(nodes, leader, rng),
            Shape::Bridge => bridge(nodes, leader, rng),
            Shape::MajoritiesRing => majorities_ring(nodes, rng),
            Shape::OneWay { from, to } => one_way(nodes, from, to),
        }
    }
}

/// Cuts the nodes of `group` from every other node, both ways (`isolate 3 from
/// {1,2,4,5}`, `isolate {1,2} from {3,4,5}`). An empty group, or one that
/// leaves no other node, is [`ShapeError::EmptyGroup`].
pub fn isolate(nodes: &[NodeId], group: &[NodeId]) -> Result<Cut, ShapeError> {
    let nodes = checked(nodes, "isolate", 2)?;
    let group = checked(group, "isolate", 0)?;
    for &node in &group {
        known(&nodes, node)?;
    }
    let rest = others(&nodes, &group);
    if group.is_empty() || rest.is_empty() {
        return Err(ShapeError::EmptyGroup);
    }
    let description = match group.as_slice() {
        [one] => format!("isolate {one} from {}", Group(&rest)),
        _ => format!("isolate {} from {}", Group(&group), Group(&rest)),
    };
    Ok(Cut::apart(&group, &rest, description))
}

/// A random split into a minority (`n / 2` nodes) and a majority. A known `leader` is put in
/// the minority, the case where a deposed leader keeps believing it leads.
pub fn halves(
    nodes: &[NodeId],
    leader: Option<NodeId>,
    rng: &mut impl Rng,
) -> Result<Cut, ShapeError> {
    let order = shuffled(nodes, "halves", 2, leader, rng)?;
    let (minority, majority) = order.split_at(order.len() / 2);
    let (minority, majority) = (sorted(minority), sorted(majority));
    let description = format!("halves {} | {}", Group(&minority), Group(&majority));
    Ok(Cut::apart(&minority, &majority, description))
}

/// Two halves that cannot reach each other and one bridge node connected to all. With an odd
/// number of nodes, each half plus the bridge is a majority. A known `leader` is put in a
/// half, never on the bridge.
pub fn bridge(
    nodes: &[NodeId],
    leader: Option<NodeId>,
    rng: &mut impl Rng,
) -> Result<Cut, ShapeError> {
    let order = shuffled(nodes, "bridge", 3, leader, rng)?;
    let left_len = (order.len() - 1) / 2;
    let bridge = order[left_len];
    let left = sorted(&order[..left_len]);
    let right = sorted(&order[left_len + 1..]);
    let description = format!("bridge {} - {bridge} - {}", Group(&left), Group(&right));
    Ok(Cut::apart(&left, &right, description))
}

/// Jepsen's majorities ring: the nodes are shuffled onto a ring and each node stays connected
/// to the `k` nodes on each side of it, `k = ceil((majority - 1) / 2)`, so it sees a majority
/// including itself, and no two nodes see the same set. Connections stay symmetric (when
/// `2k + 1` exceeds the majority, as for an even or 7+ node cluster, views are a bit larger
/// than a bare majority). Needs at least 4 nodes: with 3, every majority window is everyone.
pub fn majorities_ring(nodes: &[NodeId], rng: &mut impl Rng) -> Result<Cut, ShapeError> {
    let ring = shuffled(nodes, "majorities-ring", 4, None, rng)?;
    let n = ring.len();
    let majority = n / 2 + 1;
    let k = majority / 2; // = ceil((majority - 1) / 2)
    let ring_distance = |i: usize, j: usize| {
        let d = i.abs_diff(j);
        d.min(n - d)
    };
    let mut links = BTreeSet::new();
    for i in 0..n {
        for j in 0..n {
            if i != j && ring_distance(i, j) > k {
                links.insert((ring[i], ring[j]));
            }
        }
    }
    let views: Vec<String> = (0..n)
        .map(|i| {
            let view: Vec<NodeId> = (0..n)
                .filter(|&j| ring_distance(i, j) <= k)
                .map(|j| ring[j])
                .collect();
            format!("{} sees {}", ring[i], Group(&sorted(&view)))
        })
        .collect();
    Ok(Cut {
        links,
        description: format!("majorities ring: {}", views.join("; ")),
    })
}

/// Nodes of `from` cannot reach nodes of `to`; `to` still reaches `from`. A node in both
/// groups keeps its link to itself (there is none).
pub fn one_way(nodes: &[NodeId], from: &[NodeId], to: &[NodeId]) -> Result<Cut, ShapeError> {
    let nodes = checked(nodes, "one-way", 2)?;
    let (from, to) = (sorted(from), sorted(to));
    for &node in from.iter().chain(&to) {
        known(&nodes, node)?;
    }
    let links: BTreeSet<Link> = from
        .iter()
        .flat_map(|&f| to.iter().filter(move |&&t| t != f).map(move |&t| (f, t)))
        .collect();
    if links.is_empty() {
        return Err(ShapeError::EmptyGroup);
    }
    Ok(Cut {
        links,
        description: format!("one-way {} -/-> {}", Group(&from), Group(&to)),
    })
}

/// The sorted node list, or an error on duplicates or too few nodes.
fn checked(nodes: &[NodeId], shape: &'static str, need: usize) -> Result<Vec<NodeId>, ShapeError> {
    let mut sorted = nodes.to_vec();
    sorted.sort_unstable();
    if let Some(pair) = sorted.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(ShapeError::DuplicateNode(pair[0]));
    }
    if sorted.len() < need {
        return Err(ShapeError::TooFewNodes {
            shape,
            need,
            got: sorted.len(),
        });
    }
    Ok(sorted)
}

fn known(nodes: &[NodeId], node: NodeId) -> Result<(), ShapeError> {
    if nodes.binary_search(&node).is_ok() {
        Ok(())
    } else {
        Err(ShapeError::UnknownNode(node))
    }
}

/// The nodes [`checked`] for `shape`, in a random order with a known leader moved to the
/// front, where the minority side of `halves` and the left half of `bridge` are taken from.
fn shuffled(
    nodes: &[NodeId],
    shape: &'static str,
    need: usize,
    leader: Option<NodeId>,
    rng: &mut impl Rng,
) -> Result<Vec<NodeId>, ShapeError> {
    let nodes = checked(nodes, shape, need)?;
    let mut order = nodes.clone();
    order.shuffle(rng);
    if let Some(leader) = leader {
        known(&nodes, leader)?;
        let at = order
            .iter()
            .position(|&n| n == leader)
            .expect("known leader");
        order.swap(0, at);
    }
    Ok(order)
}

fn sorted(nodes: &[NodeId]) -> Vec<NodeId> {
    let mut nodes = nodes.to_vec();
    nodes.sort_unstable();
    nodes
}

/// The nodes of `nodes` not in `group`, in order.
pub fn others(nodes: &[NodeId], group: &[NodeId]) -> Vec<NodeId> {
    nodes
        .iter()
        .copied()
        .filter(|n| !group.contains(n))
        .collect()
}

/// Formats a node group as `{1,2,3}`.
struct Group<'a>(&'a [NodeId]);

impl fmt::Display for Group<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, node) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{node}")?;
        }
        f.write_str("}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::SeedableRng;

    fn ids(n: u32) -> Vec<NodeId> {
        (1..=n).collect()
    }

    fn majority(n: usize) -> usize {
        n / 2 + 1
    }

    /// Every link in the cut is between two known, distinct nodes, and the cut is symmetric.
    fn assert_symmetric(cut: &Cut, nodes: &[NodeId]) {
        for &(a, b) in &cut.links {
            assert_ne!(a, b);
            assert!(nodes.contains(&a) && nodes.contains(&b), "{cut:?}");
            assert!(cut.links.contains(&(b, a)), "{cut:?} not symmetric");
        }
    }

    /// Cuts drawn by `plan` for the nodes `1..=n`, each `n` of `sizes`, with an RNG seeded
    /// 0..50: (n, the nodes, the seed, the cut), each checked by [`assert_symmetric`].
    fn seeded_cuts(
        sizes: std::ops::RangeInclusive<u32>,
        plan: impl Fn(&[NodeId], u64, &mut SmallRng) -> Result<Cut, ShapeError>,
    ) -> Vec<(u32, Vec<NodeId>, u64, Cut)> {
        let mut cuts = Vec::new();
        for n in sizes {
            let nodes = ids(n);
            for seed in 0..50 {
                let cut = plan(&nodes, seed, &mut SmallRng::seed_from_u64(seed)).unwrap();
                assert_symmetric(&cut, &nodes);
                cuts.push((n, nodes.clone(), seed, cut));
            }
        }
        cuts
    }

    #[test]
    fn isolate_cuts_a_group_from_the_rest_but_not_within_itself() {
        let cut = isolate(&ids(5), &[4, 1]).unwrap();
        assert_eq!(cut.description, "isolate {1,4} from {2,3,5}");
        assert_eq!(cut.links.len(), 12);
        assert!(cut.connected(1, 4) && cut.connected(2, 5));
        assert!(!cut.reaches(1, 2) && !cut.reaches(3, 4));
    }

    #[test]
    fn isolate_cuts_one_node_both_ways_and_nothing_else() {
        let nodes = ids(5);
        let cut = isolate(&nodes, &[3]).unwrap();
        assert_eq!(cut.description, "isolate 3 from {1,2,4,5}");
        assert_eq!(cut.links.len(), 8);
        for &other in &[1, 2, 4, 5] {
            assert!(!cut.reaches(3, other) && !cut.reaches(other, 3));
            for &third in &[1, 2, 4, 5] {
                assert!(cut.connected(other, third));
            }
        }
    }

    #[test]
    fn halves_splits_into_disconnected_minority_and_majority() {
        for (n, nodes, _, cut) in seeded_cuts(2..=7, |nodes, _, rng| halves(nodes, None, rng)) {
            let view = |node| cut.view(&nodes, node);
            // Exactly two groups, each seeing only itself: n/2 nodes and the rest.
            let groups: BTreeSet<BTreeSet<NodeId>> = nodes.iter().map(|&x| view(x)).collect();
            assert_eq!(groups.len(), 2, "n={n}: {cut:?}");
            let sizes: BTreeSet<usize> = groups.iter().map(BTreeSet::len).collect();
            let expected = BTreeSet::from([n as usize / 2, n as usize - n as usize / 2]);
            assert_eq!(sizes, expected, "n={n}: {cut:?}");
            let covered: usize = groups.iter().map(BTreeSet::len).sum();
            assert_eq!(covered, n as usize, "groups overlap: {cut:?}");
            for &a in &nodes {
                for &b in &nodes {
                    assert_eq!(cut.connected(a, b), view(a) == view(b));
                }
            }
        }
    }

    #[test]
    fn halves_puts_a_known_leader_in_the_minority() {
        for (_, nodes, _, cut) in seeded_cuts(5..=5, |nodes, _, rng| halves(nodes, Some(4), rng)) {
            assert_eq!(cut.view(&nodes, 4).len(), 2, "{cut:?}");
        }
    }

    #[test]
    fn bridge_node_sees_everyone_and_the_halves_see_only_their_side() {
        let leader = |n: u32, seed: u64| Some(1 + (seed as u32 % n));
        let cuts = seeded_cuts(3..=7, |nodes, seed, rng| {
            bridge(nodes, leader(nodes.len() as u32, seed), rng)
        });
        for (n, nodes, seed, cut) in cuts {
            let leader = leader(n, seed);
            let bridges: Vec<NodeId> = nodes
                .iter()
                .copied()
                .filter(|&x| cut.view(&nodes, x).len() == n as usize)
                .collect();
            assert_eq!(bridges.len(), 1, "n={n}: {cut:?}");
            let bridge = bridges[0];
            assert_ne!(Some(bridge), leader);
            let others: Vec<NodeId> = nodes.iter().copied().filter(|&x| x != bridge).collect();
            // The others fall in two non-empty sides that do not see each other.
            let left = cut.view(&nodes, others[0]);
            let right: BTreeSet<NodeId> = others
                .iter()
                .copied()
                .filter(|x| !left.contains(x))
                .chain([bridge])
                .collect();
            assert!(right.len() >= 2, "n={n}: {cut:?}");
            for &x in &others {
                let side = if left.contains(&x) { &left } else { &right };
                assert_eq!(&cut.view(&nodes, x), side, "n={n}: {cut:?}");
            }
            if n % 2 == 1 {
                assert_eq!(left.len(), majority(n as usize));
                assert_eq!(right.len(), majority(n as usize));
            }
        }
    }

    #[test]
    fn majorities_ring_gives_every_node_a_different_majority() {
        for (n, nodes, _, cut) in seeded_cuts(4..=9, |nodes, _, rng| majorities_ring(nodes, rng)) {
            let views: Vec<BTreeSet<NodeId>> = nodes.iter().map(|&x| cut.view(&nodes, x)).collect();
            for (view, &x) in views.iter().zip(&nodes) {
                assert!(view.contains(&x));
                assert!(view.len() >= majority(n as usize), "n={n}: {cut:?}");
                assert!(view.len() < n as usize, "n={n}: {cut:?}");
            }
            let distinct: BTreeSet<&BTreeSet<NodeId>> = views.iter().collect();
            assert_eq!(distinct.len(), n as usize, "n={n}: {cut:?}");
            if n == 5 {
                assert!(views.iter().all(|v| v.len() == 3), "{cut:?}");
            }
        }
    }

    #[test]
    fn one_way_cuts_only_one_direction() {
        let nodes = ids(5);
        let cut = one_way(&nodes, &[1], &[2, 3]).unwrap();
        assert_eq!(cut.description, "one-way {1} -/-> {2,3}");
        assert_eq!(cut.links, BTreeSet::from([(1, 2), (1, 3)]));
        assert!(cut.reaches(2, 1) && cut.reaches(3, 1) && cut.reaches(2, 3));
        assert!(!cut.reaches(1, 2) && !cut.reaches(1, 3) && cut.reaches(1, 4));
    }

    #[test]
    fn same_seed_same_cut() {
        let nodes = ids(5);
        for shape in [Shape::Halves, Shape::Bridge, Shape::MajoritiesRing] {
            let a = shape
                .plan(&nodes, None, &mut SmallRng::seed_from_u64(7))
                .unwrap();
            let b = shape
                .plan(&nodes, None, &mut SmallRng::seed_from_u64(7))
                .unwrap();
            assert_eq!(a, b);
        }
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let mut rng = SmallRng::seed_from_u64(1);
        assert_eq!(isolate(&[1, 2, 3], &[9]), Err(ShapeError::UnknownNode(9)));
        assert_eq!(isolate(&[1, 2, 2], &[1]), Err(ShapeError::DuplicateNode(2)));
        assert_eq!(isolate(&[1, 2, 3], &[]), Err(ShapeError::EmptyGroup));
        assert_eq!(isolate(&[1, 2, 3], &[1, 2, 3]), Err(ShapeError::EmptyGroup));
        assert_eq!(
            isolate(&[1, 2, 3], &[2, 2]),
            Err(ShapeError::DuplicateNode(2))
        );
        assert_eq!(
            majorities_ring(&[1, 2, 3], &mut rng),
            Err(ShapeError::TooFewNodes {
                shape: "majorities-ring",
                need: 4,
                got: 3
            })
        );
        assert_eq!(
            bridge(&[1, 2], None, &mut rng).unwrap_err().to_string(),
            "bridge needs at least 3 nodes, the cluster has 2"
        );
        assert_eq!(one_way(&[1, 2], &[1], &[1]), Err(ShapeError::EmptyGroup));
        assert_eq!(
            Shape::IsolateLeader.plan(&[1, 2, 3], None, &mut rng),
            Err(ShapeError::NoLeader("isolate-leader"))
        );
        assert_eq!(
            halves(&[1, 2, 3], Some(5), &mut rng),
            Err(ShapeError::UnknownNode(5))
        );
    }
}

//! Keys of open-loop register requests (issue 13 §1): the linearizability search (Wing & Gong
//! with Lowe's memoisation, `crate::lin`) is checked key by key and its cost grows exponentially
//! with the operations that overlap on one key. A closed loop of a few clients bounds that by
//! itself; an open loop facing slow answers does not (measured: 26 operations overlapping on one
//! key took a 30 s search to no verdict). So, as Jepsen's independent keys do, each key takes at
//! most [`MAX_LOAD`] operations the search must keep open at once — requests in flight plus
//! writes that ended `info` (an `info` write stays open to the end of the history) — and an
//! arrival that finds every one of the workload's `keys` keys full goes to a further key
//! (`k{keys}`, `k{keys+1}`, …). Arrivals are never held back for it.

use rand::rngs::StdRng;
use rand::Rng;

/// Most open operations (in flight + `info` writes) on one key.
pub const MAX_LOAD: u32 = 8;

/// Open operations per key: index = key number (`k0`, `k1`, …).
#[derive(Debug, Default)]
pub struct KeyLoad {
    load: Vec<u32>,
}

impl KeyLoad {
    /// The key of a new request: a random one of `0..keys` below [`MAX_LOAD`], else the first
    /// further key below it. Counts the request as in flight on it.
    pub fn pick(&mut self, rng: &mut StdRng, keys: u32) -> u32 {
        let keys = keys.max(1) as usize;
        if self.load.len() < keys {
            self.load.resize(keys, 0);
        }
        let free: Vec<usize> = (0..keys).filter(|&k| self.load[k] < MAX_LOAD).collect();
        let k = if free.is_empty() {
            match (keys..self.load.len()).find(|&k| self.load[k] < MAX_LOAD) {
                Some(k) => k,
                None => {
                    self.load.push(0);
                    self.load.len() - 1
                }
            }
        } else {
            free[rng.random_range(0..free.len())]
        };
        self.load[k] += 1;
        k as u32
    }

    /// The request on `key` ended: no longer in flight, but an `info` write stays open for
    /// good (`info_write`).
    pub fn done(&mut self, key: u32, info_write: bool) {
        if let Some(l) = self.load.get_mut(key as usize) {
            if !info_write {
                *l = l.saturating_sub(1);
            }
        }
    }

    /// Keys used so far (at least the workload's `keys` once a request was made).
    pub fn used(&self) -> usize {
        self.load.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn requests_spread_over_the_keys_and_overflow_to_further_keys_only_when_all_are_full() {
        let mut rng = StdRng::seed_from_u64(3);
        let mut k = KeyLoad::default();
        let first: Vec<u32> = (0..3 * MAX_LOAD).map(|_| k.pick(&mut rng, 3)).collect();
        assert!(first.iter().all(|&x| x < 3), "{first:?}");
        for key in 0..3 {
            assert_eq!(
                first.iter().filter(|&&x| x == key).count(),
                MAX_LOAD as usize
            );
        }
        // Every base key holds MAX_LOAD open operations: the next goes to k3, then k3 fills.
        assert_eq!(k.pick(&mut rng, 3), 3);
        for _ in 1..MAX_LOAD {
            assert_eq!(k.pick(&mut rng, 3), 3);
        }
        assert_eq!(k.pick(&mut rng, 3), 4);
        assert_eq!(k.used(), 5);
        // One answered request on k1 frees a place there: a base key again.
        k.done(1, false);
        assert_eq!(k.pick(&mut rng, 3), 1);
    }

    #[test]
    fn an_info_write_keeps_its_place_for_good() {
        let mut rng = StdRng::seed_from_u64(5);
        let mut k = KeyLoad::default();
        for _ in 0..MAX_LOAD {
            let key = k.pick(&mut rng, 1);
            assert_eq!(key, 0);
            k.done(key, true);
        }
        // k0 has MAX_LOAD writes that may take effect at any later time: full for good.
        assert_eq!(k.pick(&mut rng, 1), 1);
        k.done(1, false);
        assert_eq!(k.pick(&mut rng, 1), 1, "answered: its place is free again");
        assert_eq!(k.load, vec![MAX_LOAD, 1]);
    }
}

//! Random histories of our key-value commands that are linearizable by
//! construction, for property tests and benchmarks.
//!
//! A real sequential execution is generated first: operation i takes effect at
//! time `t_i` (strictly increasing) on a model store. Each operation is given to
//! a client that is idle at `t_i`, with an invocation before and a completion
//! after `t_i` drawn from a window, so operations of different clients overlap.
//! Some operations are recorded as `info` (their effect was applied, or with
//! half that chance never applied) and some as `fail` (never applied).
use crate::history::{Op, Outcome};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;

/// Shape of a generated history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenConfig {
    pub seed: u64,
    pub ops: usize,
    pub keys: usize,
    pub clients: usize,
    /// Percentage of operations recorded as `info`.
    pub info_percent: u32,
    /// Percentage of operations recorded as `fail`.
    pub fail_percent: u32,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            seed: 1,
            ops: 1000,
            keys: 10,
            clients: 10,
            info_percent: 2,
            fail_percent: 2,
        }
    }
}

/// A linearizable history, ids in invocation order.
pub fn generate_kv_history(cfg: &GenConfig) -> Vec<Op> {
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let clients = cfg.clients.max(1);
    let keys = cfg.keys.max(1);
    let mut store: HashMap<usize, String> = HashMap::new();
    let mut free_at = vec![0u64; clients];
    // Window around each effect: wider with more clients, so more overlap.
    let window = 20 * clients as u64;
    let mut t = 0u64;
    let mut ops = Vec::with_capacity(cfg.ops);
    for i in 0..cfg.ops {
        t += rng.random_range(1..=10);
        let start = rng.random_range(0..clients);
        let c = match (0..clients)
            .map(|j| (start + j) % clients)
            .find(|&c| free_at[c] < t)
        {
            Some(c) => c,
            None => {
                let c = (0..clients).min_by_key(|&c| free_at[c]).unwrap_or(0);
                t = free_at[c] + 1;
                c
            }
        };
        let invoke = rng.random_range(free_at[c].max(t.saturating_sub(window))..=t);
        let complete = t + rng.random_range(0..=window);
        free_at[c] = complete + 1;

        let k = rng.random_range(0..keys);
        let key = format!("k{k}");
        let roll = rng.random_range(0..100);
        let command = if roll < 35 {
            format!("GET {key}")
        } else if roll < 65 {
            format!("SET {key} v{i}")
        } else if roll < 90 {
            let old = match store.get(&k) {
                Some(v) if rng.random_bool(0.7) => v.clone(),
                _ => format!("v{}", rng.random_range(0..=i)),
            };
            format!("CAS {key} {old} v{i}")
        } else {
            format!("DEL {key}")
        };

        let r = rng.random_range(0..100);
        let (outcome, apply) = if r < cfg.info_percent {
            (Outcome::Info, rng.random_bool(0.5))
        } else if r < cfg.info_percent + cfg.fail_percent {
            (Outcome::Fail, false)
        } else {
            (Outcome::Ok, true)
        };
        let result = if apply {
            execute(&mut store, k, &command)
        } else {
            None
        };
        let (complete_us, result) = match outcome {
            Outcome::Ok => (Some(complete), result),
            Outcome::Fail => (Some(complete), None),
            Outcome::Info => (rng.random_bool(0.5).then_some(complete), None),
        };
        ops.push(Op {
            id: 0,
            client: c as u32,
            node: 1,
            command,
            invoke_us: invoke,
            complete_us,
            outcome,
            result,
            message: String::new(),
        });
    }
    ops.sort_by_key(|o| o.invoke_us);
    for (i, o) in ops.iter_mut().enumerate() {
        o.id = i as u64;
    }
    ops
}

fn execute(store: &mut HashMap<usize, String>, k: usize, command: &str) -> Option<String> {
    let w: Vec<&str> = command.split(' ').collect();
    match w.as_slice() {
        ["GET", _] => store.get(&k).cloned(),
        ["SET", _, v] => {
            store.insert(k, v.to_string());
            Some("OK".into())
        }
        ["CAS", _, old, new] => {
            if store.get(&k).map(String::as_str) == Some(*old) {
                store.insert(k, new.to_string());
                Some("true".into())
            } else {
                Some("false".into())
            }
        }
        ["DEL", _] => {
            store.remove(&k);
            Some("OK".into())
        }
        _ => None,
    }
}

/// Makes the history certainly not linearizable: one completed `ok` GET (chosen
/// by `pick`) now returns a value no operation ever wrote. Returns its id, or
/// `None` when the history has no such GET.
pub fn corrupt_one_read(ops: &mut [Op], pick: usize) -> Option<u64> {
    let reads: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, o)| {
            o.outcome == Outcome::Ok && o.complete_us.is_some() && o.command.starts_with("GET ")
        })
        .map(|(i, _)| i)
        .collect();
    let &i = reads.get(pick % reads.len().max(1))?;
    ops[i].result = Some("never-written".into());
    Some(ops[i].id)
}

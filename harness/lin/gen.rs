//! Random histories of our key-value commands that are linearizable by
//! construction, for property tests and benchmarks.
//!
//! A real sequential execution is generated first: operation i takes effect at
//! time `t_i` (strictly increasing) on a model store. Each operation is given to
//! a client that is idle at `t_i`, with an invocation before and a completion
//! after `t_i` drawn from a window, so operations of different clients overlap.
//! Some operations are recorded as `info` (their effect was applied, or with
//! half that chance never applied) and some as `fail` (never applied).
use crate::history::{Command, Op, Outcome};
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
        let c;
        (c, t) = pick_client(&mut rng, &free_at, t);
        let invoke = rng.random_range(free_at[c].max(t.saturating_sub(window))..=t);
        let complete = t + rng.random_range(0..=window);
        free_at[c] = complete + 1;

        let k = rng.random_range(0..keys);
        let command = pick_command(&mut rng, &store, k, i);

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

/// A client free at `t` (from a random one on), or else the first to be
/// free, with `t` moved just after it; returns (client, t).
fn pick_client(rng: &mut StdRng, free_at: &[u64], t: u64) -> (usize, u64) {
    let clients = free_at.len();
    let start = rng.random_range(0..clients);
    match (0..clients)
        .map(|j| (start + j) % clients)
        .find(|&c| free_at[c] < t)
    {
        Some(c) => (c, t),
        None => {
            let c = (0..clients).min_by_key(|&c| free_at[c]).unwrap_or(0);
            (c, free_at[c] + 1)
        }
    }
}

/// The `i`-th command, on key `k`: 35% GET, 30% SET, 25% CAS (its old value
/// mostly the current one), 10% DEL.
fn pick_command(rng: &mut StdRng, store: &HashMap<usize, String>, k: usize, i: usize) -> String {
    let key = format!("k{k}");
    let roll = rng.random_range(0..100);
    if roll < 35 {
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
    }
}

/// Applies `command` to key `k` of a sequential key-value `store` (the reference nodes'
/// semantics) and returns its result: the value (or None) for GET, `"OK"` for SET and DEL,
/// `"true"`/`"false"` for CAS; None for a command that is not key-value.
pub fn execute(store: &mut HashMap<usize, String>, k: usize, command: &str) -> Option<String> {
    match Command::parse(command)? {
        Command::Get { .. } => store.get(&k).cloned(),
        Command::Set { value, .. } => {
            store.insert(k, value.to_string());
            Some("OK".into())
        }
        Command::Cas { old, new, .. } => {
            if store.get(&k).map(String::as_str) == Some(old) {
                store.insert(k, new.to_string());
                Some("true".into())
            } else {
                Some("false".into())
            }
        }
        Command::Del { .. } => {
            store.remove(&k);
            Some("OK".into())
        }
    }
}

/// Positions of the completed `ok` GETs in `ops`.
fn completed_gets(ops: &[Op]) -> Vec<usize> {
    let done_get = |o: &Op| {
        o.outcome == Outcome::Ok
            && o.complete_us.is_some()
            && matches!(o.kv(), Some(Command::Get { .. }))
    };
    (0..ops.len()).filter(|&i| done_get(&ops[i])).collect()
}

/// Makes the history certainly not linearizable: one completed `ok` GET (chosen
/// by `pick`) now returns a value no operation ever wrote. Returns its id, or
/// `None` when the history has no such GET.
pub fn corrupt_one_read(ops: &mut [Op], pick: usize) -> Option<u64> {
    let reads = completed_gets(ops);
    let &i = reads.get(pick % reads.len().max(1))?;
    ops[i].result = Some("never-written".into());
    Some(ops[i].id)
}

/// A write that certainly took effect (`ok`, and a CAS that returned `true`):
/// `Some(value written)` (`None` for DEL), or `None` when `op` is no such write.
fn certain_write(op: &Op) -> Option<Option<&str>> {
    if op.outcome != Outcome::Ok || op.complete_us.is_none() {
        return None;
    }
    match (op.kv()?, op.result.as_deref()) {
        (Command::Set { value, .. }, _) => Some(Some(value)),
        (Command::Cas { new, .. }, Some("true")) => Some(Some(new)),
        (Command::Del { .. }, _) => Some(None),
        _ => None,
    }
}

/// For the completed `ok` read `ops[g]`: a value its key certainly no longer
/// held when the read was invoked. That is the value of a certain write W1
/// (values are unique per operation) followed by a certain write W2 of the
/// same key invoked after W1 completed and completed before the read was
/// invoked: W1 < W2 < read in every linearization.
fn overwritten_value(ops: &[Op], g: usize) -> Option<String> {
    let key = ops[g].kv()?.key();
    let read_at = ops[g].invoke_us;
    let on_key = |o: &&Op| o.kv().map(|c| c.key()) == Some(key);
    let w2 = ops
        .iter()
        .filter(on_key)
        .filter(|o| certain_write(o).is_some() && o.complete_us.is_some_and(|c| c < read_at))
        .max_by_key(|o| o.invoke_us)?;
    ops.iter()
        .filter(on_key)
        .filter(|o| o.complete_us.is_some_and(|c| c < w2.invoke_us))
        .find_map(|o| {
            certain_write(o)
                .flatten()
                .filter(|v| Some(*v) != certain_write(w2).flatten())
        })
        .map(str::to_string)
}

/// Makes the history certainly not linearizable with a *stale* read, the
/// failure of a node that answers reads without confirming it still leads
/// (Raft §8): one completed `ok` GET (the first from the one `pick` selects,
/// in id order, that can be made stale) now returns a value its key certainly
/// no longer held when the read was invoked. Returns its id, or `None` when no
/// GET can be made stale.
pub fn stale_one_read(ops: &mut [Op], pick: usize) -> Option<u64> {
    let reads = completed_gets(ops);
    let n = reads.len();
    let (g, v) = (0..n)
        .map(|j| reads[(pick % n.max(1) + j) % n])
        .find_map(|g| overwritten_value(ops, g).map(|v| (g, v)))?;
    ops[g].result = Some(v);
    Some(ops[g].id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(id: u64, command: &str, invoke: u64, complete: u64, result: Option<&str>) -> Op {
        Op {
            id,
            client: id as u32,
            node: 1,
            command: command.to_string(),
            invoke_us: invoke,
            complete_us: Some(complete),
            outcome: Outcome::Ok,
            result: result.map(str::to_string),
            message: String::new(),
        }
    }

    #[test]
    fn a_stale_read_returns_a_value_overwritten_before_it() {
        let mut h = vec![
            op(0, "SET k v0", 0, 10, Some("OK")),
            op(1, "CAS k v0 v1", 20, 30, Some("true")),
            op(2, "GET k", 40, 50, Some("v1")),
        ];
        assert_eq!(stale_one_read(&mut h, 7), Some(2));
        assert_eq!(h[2].result.as_deref(), Some("v0"));
    }

    #[test]
    fn no_read_is_made_stale_without_a_certain_overwrite() {
        let base = vec![
            op(0, "SET k v0", 0, 10, Some("OK")),
            op(1, "CAS k v0 v1", 20, 30, Some("true")),
            op(2, "GET k", 40, 50, Some("v1")),
        ];
        // Overlapping writes: either order is possible.
        let mut h = base.clone();
        h[1].invoke_us = 5;
        assert_eq!(stale_one_read(&mut h, 0), None);
        // The second write did not certainly apply.
        let mut h = base.clone();
        h[1].result = Some("false".into());
        assert_eq!(stale_one_read(&mut h, 0), None);
        let mut h = base.clone();
        h[1].outcome = Outcome::Info;
        assert_eq!(stale_one_read(&mut h, 0), None);
        // The overwrite is concurrent with the read.
        let mut h = base.clone();
        h[1].complete_us = Some(45);
        assert_eq!(stale_one_read(&mut h, 0), None);
        // Another key.
        let mut h = base;
        h[2].command = "GET j".into();
        assert_eq!(stale_one_read(&mut h, 0), None);
    }
}

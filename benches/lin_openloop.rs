//! Linearizability checker cost on open-loop vs closed-loop histories with leader faults
//! (issue 13 §1): `cargo bench --bench lin_openloop`.
//!
//! A history of the `register` workload (GET / SET / CAS over `keys` keys, unique values) is
//! generated linearizable by construction: every operation takes effect at one instant between
//! its invocation and its answer, results come from executing the effects in time order. Every
//! `FAULT_EVERY_S` a leader fault of `FAULT_MS` begins: every request invoked during it ends
//! `info` (no answer; half of them take effect before the fault ends + 200 ms, half never).
//! - closed loop: `CLOSED_CLIENTS` clients, each with one request open; a request during a fault
//!   holds its client for the whole deadline (3 s) and the client then continues under a fresh
//!   id; arrivals that find every client busy are not sent;
//! - open loop: every arrival is sent by a free logical client or a fresh one (ids are never
//!   reused after `info`), so a fault leaves rate × fault length requests `info`.
//!
//! Prints per history: ops, info ops, logical clients, the verdict (and the expected one: the
//! `bad` rows have one read changed to a value never written, which must be `illegal`), wall ms,
//! states explored, peak memoisation KiB; the process's peak RSS at the end. Exit 1 if a verdict
//! is wrong (`ok` for `illegal` or the reverse); a search bound hit (`unknown`) is flagged only.
//! `LIN_BENCH_ONLY=text` runs only the rows whose name contains `text`.
use raft_harness::history::{Op, Outcome};
use raft_harness::lin::gen::{corrupt_one_read, execute};
use raft_harness::lin::{check_kv_history, Limits, VerdictKind};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

const SECS: u64 = 60;
const FAULT_EVERY_S: u64 = 10;
const FAULT_MS: u64 = 2_000;
const DEADLINE_US: u64 = 3_000_000;
const CLOSED_CLIENTS: usize = 4;

/// One request before its results are known: who sent it, when, and when it takes effect.
struct Pending {
    client: u32,
    key: usize,
    /// 0 GET, 1 SET, 2 CAS.
    kind: u8,
    invoke_us: u64,
    /// `None`: `info`.
    complete_us: Option<u64>,
    /// `None`: never takes effect.
    effect_us: Option<u64>,
}

/// Whether `t_us` falls in a leader fault: `[k·FAULT_EVERY_S + 5 s, + FAULT_MS)`, k = 0, 1, ….
fn fault_end(t_us: u64) -> Option<u64> {
    let every = FAULT_EVERY_S * 1_000_000;
    let start = (t_us / every) * every + 5_000_000;
    (t_us >= start && t_us < start + FAULT_MS * 1000).then_some(start + FAULT_MS * 1000)
}

/// The requests of `secs` seconds of Poisson arrivals at `rate`/s, open or closed loop.
fn arrivals(rng: &mut StdRng, rate: f64, keys: usize, open: bool) -> Vec<Pending> {
    let mut out = Vec::new();
    let mut free: VecDeque<u32> = (1..=CLOSED_CLIENTS as u32).collect();
    let mut busy: Vec<(u64, u32, bool)> = Vec::new(); // (free at, client, retired)
    let mut next_id = CLOSED_CLIENTS as u32 + 1;
    let mut t = 0u64;
    loop {
        let u: f64 = rng.random();
        t += (-(1.0 - u).ln() / rate * 1e6) as u64;
        if t >= SECS * 1_000_000 {
            return out;
        }
        busy.retain(|&(at, c, retired)| {
            let done = at <= t;
            if done {
                // A retired client continues under a fresh id (closed loop).
                free.push_back(if retired { u32::MAX } else { c });
            }
            !done
        });
        for c in free.iter_mut().filter(|c| **c == u32::MAX) {
            *c = next_id;
            next_id += 1;
        }
        let client = match free.pop_front() {
            Some(c) => c,
            None if open => {
                next_id += 1;
                next_id - 1
            }
            None => continue, // every closed-loop client is waiting: no arrival
        };
        let p = request(rng, t, client, keys);
        let holds_until = p.complete_us.unwrap_or(t + DEADLINE_US);
        busy.push((holds_until, client, p.complete_us.is_none()));
        out.push(p);
    }
}

/// One request invoked at `t`: answered within 2–15 ms, or `info` during a fault.
fn request(rng: &mut StdRng, t: u64, client: u32, keys: usize) -> Pending {
    let roll: f64 = rng.random();
    let kind = if roll < 0.4 {
        0
    } else if roll < 0.8 {
        1
    } else {
        2
    };
    let (complete_us, effect_us) = match fault_end(t) {
        Some(end) if rng.random_bool(0.5) => (None, Some(rng.random_range(t..end + 200_000))),
        Some(_) => (None, None),
        None => {
            let c = t + rng.random_range(2_000..15_000);
            (Some(c), Some(rng.random_range(t..=c)))
        }
    };
    Pending {
        client,
        key: rng.random_range(0..keys),
        kind,
        invoke_us: t,
        complete_us,
        effect_us,
    }
}

/// The history: commands and results from executing the effects in time order.
fn history(seed: u64, rate: f64, keys: usize, open: bool) -> Vec<Op> {
    let mut rng = StdRng::seed_from_u64(seed);
    let reqs = arrivals(&mut rng, rate, keys, open);
    let mut order: Vec<usize> = (0..reqs.len()).collect();
    order.sort_by_key(|&i| (reqs[i].effect_us.unwrap_or(u64::MAX), i));
    let mut store: HashMap<usize, String> = HashMap::new();
    let mut ops: Vec<Op> = Vec::with_capacity(reqs.len());
    for (n, &i) in order.iter().enumerate() {
        let r = &reqs[i];
        let key = format!("k{}", r.key);
        let fresh = format!("v{n}");
        let command = match r.kind {
            0 => format!("GET {key}"),
            1 => format!("SET {key} {fresh}"),
            _ => {
                let old = match store.get(&r.key) {
                    Some(v) if rng.random_bool(0.7) => v.clone(),
                    _ => format!("v{}", rng.random_range(0..=n)),
                };
                format!("CAS {key} {old} {fresh}")
            }
        };
        let result = r
            .effect_us
            .and_then(|_| execute(&mut store, r.key, &command));
        let ok = r.complete_us.is_some();
        ops.push(Op {
            id: 0,
            client: r.client,
            node: 1,
            command,
            invoke_us: r.invoke_us,
            complete_us: r.complete_us,
            outcome: if ok { Outcome::Ok } else { Outcome::Info },
            result: if ok { result } else { None },
            message: String::new(),
        });
    }
    ops.sort_by_key(|o| o.invoke_us);
    for (i, o) in ops.iter_mut().enumerate() {
        o.id = i as u64;
    }
    ops
}

fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn row(name: &str, h: &[Op], expected: VerdictKind, limits: Limits) -> bool {
    let info = h.iter().filter(|o| o.outcome == Outcome::Info).count();
    let clients = h
        .iter()
        .map(|o| o.client)
        .collect::<std::collections::HashSet<_>>()
        .len();
    let t = Instant::now();
    let r = check_kv_history(h, limits);
    let ms = t.elapsed().as_secs_f64() * 1e3;
    // A bound hit is no verdict (never a pass): flagged, not wrong.
    let undecided = r.verdict == VerdictKind::Unknown;
    let wrong = !undecided && r.verdict != expected;
    let flag = match (wrong, undecided) {
        (true, _) => "  <-- WRONG",
        (_, true) => "  <-- undecided (search bound hit)",
        _ => "",
    };
    println!(
        "{name:<26} {:>6} {info:>6} {clients:>7} {:>8} {:>8} {ms:>10.1} {:>10} {:>10.1}{flag}",
        h.len(),
        r.verdict.to_string(),
        expected.to_string(),
        r.stats.states_explored,
        r.stats.cache_bytes as f64 / 1024.0,
    );
    !wrong
}

fn main() {
    let limits = Limits {
        time: Some(Duration::from_secs(30)),
        ..Limits::default()
    };
    let only = std::env::var("LIN_BENCH_ONLY").unwrap_or_default();
    println!(
        "{SECS} s of register ops over 3 keys, a {FAULT_MS} ms leader fault every {FAULT_EVERY_S} s; limits {limits:?}"
    );
    println!(
        "{:<26} {:>6} {:>6} {:>7} {:>8} {:>8} {:>10} {:>10} {:>10}",
        "history",
        "ops",
        "info",
        "clients",
        "verdict",
        "expected",
        "wall ms",
        "states",
        "cache KiB"
    );
    let mut right = true;
    for rate in [40.0, 200.0, 1000.0] {
        for (open, mode) in [(false, "closed"), (true, "open")] {
            for bad in [false, true] {
                let name = format!("{mode} {rate}/s{}", if bad { " bad" } else { "" });
                if !name.contains(only.as_str()) {
                    continue;
                }
                let mut h = history(7 + rate as u64, rate, 3, open);
                let expected = if bad {
                    let middle = h.len() / 2;
                    corrupt_one_read(&mut h, middle);
                    VerdictKind::Illegal
                } else {
                    VerdictKind::Ok
                };
                right &= row(&name, &h, expected, limits);
            }
        }
    }
    println!(
        "peak RSS of this process: {} KiB",
        peak_rss_kib().map_or("?".into(), |k| k.to_string())
    );
    if !right {
        eprintln!("a verdict differs from the expected one");
        std::process::exit(1);
    }
}

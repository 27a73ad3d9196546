//! The search for one part of a history: Wing & Gong's algorithm with Lowe's
//! memoisation (as in Porcupine).
//!
//! Calls and returns are entries of a doubly linked list sorted by time. The
//! search walks the list from the head: a call entry is tried (the model steps
//! and the call and its return are lifted out of the list); a return entry means
//! an operation that must already have taken effect has not, so the last choice
//! is undone. A (set of linearized operations, state) pair seen before is not
//! explored again. The set is a bitset hashed incrementally (Zobrist: one random
//! word per operation, xor-ed in and out), so a step costs O(1) hashing and
//! allocates nothing except amortised growth of the cache arena; the cache
//! keeps only the bitset's words past the fully linearized prefix.
use super::{
    Bound, Candidate, Explanation, Model, OpView, Operation, Outcome, PartitionResult, Shared,
    Stats, StepView, Verdict, MAX_CANDIDATES, PREFIX_TAIL,
};
use std::collections::hash_map::{Entry, HashMap};
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::atomic::Ordering;
use std::time::Instant;

const NIL: u32 = u32::MAX;

/// Hasher for keys that are already well mixed u64s.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Small fast hasher for model states (FxHash-style).
#[derive(Default)]
struct FxHasher(u64);

const FX_K: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(FX_K);
    }
}

impl Hasher for FxHasher {
    fn finish(&self) -> u64 {
        // Final avalanche so that low bits are usable by the table.
        splitmix(self.0)
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 59));
        }
    }
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }
    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn hash_state<S: Hash>(s: &S) -> u64 {
    let mut h = FxHasher::default();
    s.hash(&mut h);
    h.finish()
}

/// The set of linearized operations, in two parts. Required (ok) operations
/// are numbered in call order and stored relative to a frontier: all words
/// below `lo` are full, so only `words[lo..hi]` is kept in the cache (a few
/// words however long the history). Optional (info) operations have their own
/// small bitset, kept whole.
struct Linearized {
    ok: Vec<u64>,
    ok_last_full: u64,
    info: Vec<u64>,
    lo: usize,
    hi: usize,
}

impl Linearized {
    fn new(n_ok: usize, n_info: usize) -> Self {
        Linearized {
            ok: vec![0u64; n_ok.div_ceil(64)],
            ok_last_full: if n_ok % 64 == 0 {
                !0
            } else {
                (1u64 << (n_ok % 64)) - 1
            },
            info: vec![0u64; n_info.div_ceil(64)],
            lo: 0,
            hi: 0,
        }
    }
    fn full(&self, w: usize) -> bool {
        let mask = if w + 1 == self.ok.len() {
            self.ok_last_full
        } else {
            !0
        };
        self.ok[w] == mask
    }
    // Keeps `lo` = first word not full and `hi` = max(lo, last nonzero word + 1),
    // so that equal sets have equal windows.
    fn advance_lo(&mut self) {
        while self.lo < self.ok.len() && self.full(self.lo) {
            self.lo += 1;
        }
        self.hi = self.hi.max(self.lo);
    }
    fn set(&mut self, slot: Slot) {
        match slot {
            Slot::Ok(i) => {
                let w = i / 64;
                self.ok[w] |= 1 << (i % 64);
                self.hi = self.hi.max(w + 1);
                if w == self.lo {
                    self.advance_lo();
                }
            }
            Slot::Info(i) => self.info[i / 64] |= 1 << (i % 64),
        }
    }
    fn clear(&mut self, slot: Slot) {
        match slot {
            Slot::Ok(i) => {
                let w = i / 64;
                self.ok[w] &= !(1 << (i % 64));
                self.lo = self.lo.min(w);
                while self.hi > self.lo && self.ok[self.hi - 1] == 0 {
                    self.hi -= 1;
                }
            }
            Slot::Info(i) => self.info[i / 64] &= !(1 << (i % 64)),
        }
    }
    fn window(&self) -> &[u64] {
        &self.ok[self.lo..self.hi]
    }
}

#[derive(Clone, Copy)]
enum Slot {
    Ok(usize),
    Info(usize),
}

struct Meta {
    start: usize,
    lo: u32,
    len: u32,
    chain: u32,
}

/// Memo of (linearized set, state) pairs: sets live in one flat arena and
/// entries with the same hash are chained.
struct Cache<S> {
    heads: HashMap<u64, u32, BuildHasherDefault<IdHasher>>,
    meta: Vec<Meta>,
    words: Vec<u64>,
    states: Vec<S>,
    info_words: usize,
}

impl<S: Eq + Clone> Cache<S> {
    fn new(info_words: usize) -> Self {
        Cache {
            heads: HashMap::default(),
            meta: Vec::new(),
            words: Vec::new(),
            states: Vec::new(),
            info_words,
        }
    }

    fn len(&self) -> usize {
        self.states.len()
    }

    /// Records the pair and returns its size in words, or `None` when it was
    /// seen before.
    fn insert(&mut self, h: u64, set: &Linearized, state: &S) -> Option<usize> {
        let idx = self.states.len() as u32;
        let win = set.window();
        let lo = set.lo as u32;
        let len = (win.len() + self.info_words) as u32;
        let chain = match self.heads.entry(h) {
            Entry::Occupied(mut e) => {
                let mut i = *e.get();
                while i != NIL {
                    let m = &self.meta[i as usize];
                    if m.lo == lo
                        && m.len == len
                        && self.states[i as usize] == *state
                        && self.words[m.start..m.start + win.len()] == *win
                        && self.words[m.start + win.len()..m.start + len as usize] == *set.info
                    {
                        return None;
                    }
                    i = m.chain;
                }
                e.insert(idx)
            }
            Entry::Vacant(e) => {
                e.insert(idx);
                NIL
            }
        };
        self.meta.push(Meta {
            start: self.words.len(),
            lo,
            len,
            chain,
        });
        self.words.extend_from_slice(win);
        self.words.extend_from_slice(&set.info);
        self.states.push(state.clone());
        Some(len as usize)
    }
}

/// The call/return list. Node 0 is the head, node `2n+1` the tail.
struct List {
    next: Vec<u32>,
    prev: Vec<u32>,
    /// Operation of each node (unused for head and tail).
    op: Vec<u32>,
    is_call: Vec<bool>,
    /// Return node of each operation.
    ret_node: Vec<u32>,
}

impl List {
    fn unlink(&mut self, x: u32) {
        let (p, n) = (self.prev[x as usize], self.next[x as usize]);
        self.next[p as usize] = n;
        self.prev[n as usize] = p;
    }
    fn relink(&mut self, x: u32) {
        let (p, n) = (self.prev[x as usize], self.next[x as usize]);
        self.next[p as usize] = x;
        self.prev[n as usize] = x;
    }
    fn lift(&mut self, call: u32) {
        let r = self.ret_node[self.op[call as usize] as usize];
        self.unlink(call);
        self.unlink(r);
    }
    fn unlift(&mut self, call: u32) {
        let r = self.ret_node[self.op[call as usize] as usize];
        self.relink(r);
        self.relink(call);
    }
}

enum End {
    Linearizable,
    Illegal,
    Bound(Bound),
}

type Ops<'a, M> = [&'a Operation<<M as Model>::Input, <M as Model>::Output>];

/// Events sorted by time: `(time, 0 = call / 1 = return, op)`. At equal
/// times calls come first (the operations then count as concurrent, which
/// never invents a violation); an operation not in `must` never returns.
fn events_of<I, O>(ops: &[&Operation<I, O>], must: &[bool]) -> Vec<(u64, u8, u32)> {
    let mut events: Vec<(u64, u8, u32)> = Vec::with_capacity(2 * ops.len());
    for (i, o) in ops.iter().enumerate() {
        events.push((o.call, 0, i as u32));
        let r = match (must[i], o.ret) {
            (true, Some(r)) => r.max(o.call),
            _ => u64::MAX,
        };
        events.push((r, 1, i as u32));
    }
    events.sort_unstable();
    events
}

impl List {
    /// The list of `events` (of `n` operations) between head and tail.
    fn new(events: &[(u64, u8, u32)], n: usize) -> List {
        let tail = (2 * n + 1) as u32;
        let mut list = List {
            next: (1..=tail + 1).collect(),
            prev: (0..=tail).map(|i| i.saturating_sub(1)).collect(),
            op: vec![0; 2 * n + 2],
            is_call: vec![false; 2 * n + 2],
            ret_node: vec![0; n],
        };
        for (k, &(_, kind, op)) in events.iter().enumerate() {
            let node = k + 1;
            list.op[node] = op;
            list.is_call[node] = kind == 0;
            if kind == 1 {
                list.ret_node[op as usize] = node as u32;
            }
        }
        list
    }
}

/// The bit of each operation in [`Linearized`]: `must` ones are `Ok` slots,
/// the others `Info` slots; with the number of each.
fn slots_of(must: &[bool]) -> (Vec<Slot>, usize, usize) {
    let (mut oks, mut infos) = (0usize, 0usize);
    let slots = must
        .iter()
        .map(|&m| {
            if m {
                oks += 1;
                Slot::Ok(oks - 1)
            } else {
                infos += 1;
                Slot::Info(infos - 1)
            }
        })
        .collect();
    (slots, oks, infos)
}

/// A bound reached by the whole check (cancel, stop, time), if any.
fn run_bound(shared: &Shared) -> Option<Bound> {
    if shared.cancelled() {
        return Some(Bound::Cancelled);
    }
    if shared.stop.load(Ordering::Relaxed) {
        return Some(Bound::Stopped);
    }
    let d = shared.deadline?;
    (Instant::now() >= d).then(|| Bound::TimeLimit {
        limit_ms: shared.limits.time.map_or(0, |t| t.as_millis() as u64),
    })
}

/// Count `add` bytes and one entry against the shared cache limits.
fn charge(shared: &Shared, add: usize) -> Option<Bound> {
    let total = shared.bytes.fetch_add(add, Ordering::Relaxed) + add;
    shared.peak_bytes.fetch_max(total, Ordering::Relaxed);
    let entries = shared.entries.fetch_add(1, Ordering::Relaxed) + 1;
    let limits = shared.limits;
    if let Some(limit) = limits.max_cache_bytes.filter(|l| total > *l) {
        return Some(Bound::CacheBytes { limit });
    }
    let limit = limits.max_cache_entries.filter(|l| entries > *l)?;
    Some(Bound::CacheEntries { limit })
}

/// The state of the depth-first search over one part (WGL: Wing & Gong,
/// Lowe's cache of (linearized set, state)).
struct Search<'a, 'o, M: Model> {
    model: &'a M,
    shared: &'a Shared,
    ops: &'a Ops<'o, M>,
    /// Only ok operations with a completion must be linearized.
    must: Vec<bool>,
    list: List,
    tail: u32,
    slots: Vec<Slot>,
    set: Linearized,
    zobrist: Vec<u64>,
    zob: u64,
    cache: Cache<M::State>,
    /// Per entry: meta, state, hash slot (~16 bytes), plus its words.
    entry_bytes: usize,
    remaining: usize,
    state: M::State,
    /// (call entry, state before it)
    stack: Vec<(u32, M::State)>,
    explored: u64,
    local_bytes: usize,
    /// Longest prefix seen when stuck; `best[..low]` equals the current stack's
    /// operations, so recording copies only what changed.
    best: Vec<u32>,
    low: usize,
    best_stuck: Option<u32>,
    entry: u32,
}

impl<'a, 'o, M: Model> Search<'a, 'o, M> {
    fn new(
        model: &'a M,
        shared: &'a Shared,
        ops: &'a Ops<'o, M>,
        events: &[(u64, u8, u32)],
        must: Vec<bool>,
    ) -> Self {
        let n = ops.len();
        let (slots, oks, infos) = slots_of(&must);
        let set = Linearized::new(oks, infos);
        let list = List::new(events, n);
        Search {
            model,
            shared,
            ops,
            remaining: oks,
            must,
            entry: list.next[0],
            list,
            tail: (2 * n + 1) as u32,
            slots,
            cache: Cache::new(set.info.len()),
            set,
            zobrist: (0..n as u64)
                .map(|i| splitmix(i ^ 0xA076_1D64_78BD_642F))
                .collect(),
            zob: 0,
            entry_bytes: std::mem::size_of::<Meta>() + std::mem::size_of::<M::State>() + 16,
            state: model.init(),
            stack: Vec::with_capacity(n),
            explored: 0,
            local_bytes: 0,
            best: Vec::new(),
            low: 0,
            best_stuck: None,
        }
    }

    fn run(&mut self) -> End {
        let mut iters = 0u64;
        loop {
            if self.remaining == 0 {
                return End::Linearizable;
            }
            iters += 1;
            if iters & 0xFFF == 0 {
                if let Some(b) = run_bound(self.shared) {
                    return End::Bound(b);
                }
            }
            let e = self.entry as usize;
            if self.entry != self.tail && self.list.is_call[e] {
                if let Err(b) = self.try_call(e) {
                    return End::Bound(b);
                }
            } else if !self.backtrack(e) {
                return End::Illegal;
            }
        }
    }

    /// Try to linearize the call at entry `e` now; moves `entry` on.
    fn try_call(&mut self, e: usize) -> Result<(), Bound> {
        let op = self.list.op[e] as usize;
        let (o, must) = (self.ops[op], self.must[op]);
        let next_state = self
            .model
            .step(&self.state, &o.input, &o.output)
            // An optional operation that leaves the state as it is gains
            // nothing: every order open after it is open without it.
            .filter(|ns| must || *ns != self.state);
        if let Some(ns) = next_state {
            self.set.set(self.slots[op]);
            self.zob ^= self.zobrist[op];
            let h = self.zob ^ hash_state(&ns);
            if let Some(words) = self.cache.insert(h, &self.set, &ns) {
                self.explored += 1;
                let add = self.entry_bytes + 8 * words + self.model.state_heap_bytes(&ns);
                self.local_bytes += add;
                if let Some(b) = charge(self.shared, add) {
                    return Err(b);
                }
                let old = std::mem::replace(&mut self.state, ns);
                self.stack.push((self.entry, old));
                self.list.lift(self.entry);
                if must {
                    self.remaining -= 1;
                }
                self.entry = self.list.next[0];
                return Ok(());
            }
            self.set.clear(self.slots[op]);
            self.zob ^= self.zobrist[op];
        }
        self.entry = self.list.next[e];
        Ok(())
    }

    /// At a return (or, defensively, the tail) at entry `e`: this operation
    /// had to take effect by now and has not, so undo the last choice. False
    /// when there is none left (the part is not linearizable).
    fn backtrack(&mut self, e: usize) -> bool {
        if self.entry != self.tail
            && (self.best_stuck.is_none() || self.stack.len() > self.best.len())
        {
            self.best.truncate(self.low);
            let list = &self.list;
            self.best.extend(
                self.stack[self.low..]
                    .iter()
                    .map(|(c, _)| list.op[*c as usize]),
            );
            self.low = self.stack.len();
            self.best_stuck = Some(self.list.op[e]);
        }
        let Some((call, old)) = self.stack.pop() else {
            return false;
        };
        self.low = self.low.min(self.stack.len());
        self.state = old;
        let op = self.list.op[call as usize] as usize;
        self.set.clear(self.slots[op]);
        self.zob ^= self.zobrist[op];
        if self.must[op] {
            self.remaining += 1;
        }
        self.list.unlift(call);
        self.entry = self.list.next[call as usize];
        true
    }
}

/// Checks one part. `ops` holds no `Fail` operations.
pub(crate) fn check_part<M: Model>(
    model: &M,
    key: &str,
    ops_in: &Ops<'_, M>,
    shared: &Shared,
) -> PartitionResult {
    let started = Instant::now();
    let mut ops: Vec<&Operation<M::Input, M::Output>> = ops_in.to_vec();
    ops.sort_by_key(|o| (o.call, o.id));
    let n = ops.len();
    // Only ok operations with a completion must be linearized.
    let must: Vec<bool> = ops
        .iter()
        .map(|o| o.status == Outcome::Ok && o.ret.is_some())
        .collect();
    let events = events_of(&ops, &must);
    let mut search = Search::new(model, shared, &ops, &events, must);
    let end = search.run();

    let cache_entries = search.cache.len();
    let (explored, local_bytes) = (search.explored, search.local_bytes);
    let (best, best_stuck) = (std::mem::take(&mut search.best), search.best_stuck);
    drop(search);
    shared.bytes.fetch_sub(local_bytes, Ordering::Relaxed);
    shared.entries.fetch_sub(cache_entries, Ordering::Relaxed);
    if matches!(end, End::Illegal) && shared.limits.stop_after_illegal {
        shared.stop.store(true, Ordering::Relaxed);
    }
    let verdict = match end {
        End::Linearizable => Verdict::Ok,
        End::Bound(bound) => Verdict::Unknown { bound },
        End::Illegal => {
            let stuck = best_stuck.unwrap_or(0);
            Verdict::Illegal(Box::new(explain(model, key, &ops, &events, &best, stuck)))
        }
    };
    PartitionResult {
        key: key.to_string(),
        verdict,
        stats: Stats {
            ops: n,
            states_explored: explored,
            cache_entries,
            cache_bytes: local_bytes,
            elapsed_us: started.elapsed().as_micros() as u64,
        },
    }
}

fn view<M: Model>(model: &M, o: &Operation<M::Input, M::Output>) -> OpView {
    let done = o.status == Outcome::Ok && o.ret.is_some();
    OpView {
        id: o.id,
        client: o.client,
        invoke: o.call,
        complete: if done { o.ret } else { None },
        status: if done { Outcome::Ok } else { Outcome::Info },
        op: model.describe_op(&o.input, &o.output),
    }
}

/// Rebuilds the situation at the deepest point the search got stuck.
fn explain<M: Model>(
    model: &M,
    key: &str,
    ops: &Ops<'_, M>,
    events: &[(u64, u8, u32)],
    prefix: &[u32],
    stuck: u32,
) -> Explanation {
    let mut state = model.init();
    let mut tail = Vec::new();
    let tail_from = prefix.len().saturating_sub(PREFIX_TAIL);
    let mut placed = vec![false; ops.len()];
    for (i, &p) in prefix.iter().enumerate() {
        let o = ops[p as usize];
        placed[p as usize] = true;
        // The search took exactly these steps, so the model accepts them again.
        if let Some(s) = model.step(&state, &o.input, &o.output) {
            state = s;
        }
        if i >= tail_from {
            tail.push(StepView {
                op: view(model, o),
                state_after: model.describe_state(&state),
            });
        }
    }
    let mut open = Vec::new();
    let mut omitted = 0;
    for &(_, kind, op) in events {
        if placed[op as usize] {
            continue;
        }
        if kind == 1 {
            break;
        }
        if open.len() == MAX_CANDIDATES {
            omitted += 1;
            continue;
        }
        let o = ops[op as usize];
        open.push(Candidate {
            op: view(model, o),
            rejected: model.step(&state, &o.input, &o.output).is_none(),
        });
    }
    Explanation {
        key: key.to_string(),
        stuck: view(model, ops[stuck as usize]),
        prefix_len: prefix.len(),
        prefix_tail: tail,
        state: model.describe_state(&state),
        open,
        open_omitted: omitted,
    }
}

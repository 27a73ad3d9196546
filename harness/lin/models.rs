//! The shipped models: a compare-and-set register, the key-value store of our
//! nodes (`SET`/`GET`/`CAS`/`DEL`, split by key) with the harness entry point
//! [`check_kv_history`], and a get/put/append key-value map.
use super::{
    check, overall, render, Limits, Model, Operation, PartitionResult, Stats, VerdictKind,
};
use crate::history::{Command, Op, Outcome};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;

/// Register operations; "missing" (no value) is a state of its own.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RegisterOp<V> {
    Read,
    Write(V),
    /// If the register holds `.0`, set it to `.1`.
    Cas(V, V),
    /// Make the register missing.
    Delete,
}

/// What a register operation returned.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RegisterOut<V> {
    /// A read's value; `None` = missing.
    Read(Option<V>),
    /// A write or delete completed.
    Done,
    /// Whether a cas applied. `false` is still a constraint: the value was not `.0`.
    Cas(bool),
    /// Outcome unknown (info operations): any effect the operation can have.
    Unknown,
}

/// The register's transition function, shared by the register and key-value models.
pub fn register_step<V: Clone + Eq>(
    state: &Option<V>,
    op: &RegisterOp<V>,
    out: &RegisterOut<V>,
) -> Option<Option<V>> {
    match (op, out) {
        (RegisterOp::Read, RegisterOut::Read(v)) => (v == state).then(|| state.clone()),
        (RegisterOp::Read, RegisterOut::Unknown) => Some(state.clone()),
        (RegisterOp::Write(v), RegisterOut::Done | RegisterOut::Unknown) => Some(Some(v.clone())),
        (RegisterOp::Delete, RegisterOut::Done | RegisterOut::Unknown) => Some(None),
        // An unknown cas that did not apply had no effect: the search covers that
        // by never placing it.
        (RegisterOp::Cas(old, new), RegisterOut::Cas(true) | RegisterOut::Unknown) => {
            (state.as_ref() == Some(old)).then(|| Some(new.clone()))
        }
        (RegisterOp::Cas(old, _), RegisterOut::Cas(false)) => {
            (state.as_ref() != Some(old)).then(|| state.clone())
        }
        _ => None,
    }
}

/// A single compare-and-set register of integers that starts missing (Jepsen's
/// `cas-register`).
#[derive(Debug, Clone, Copy, Default)]
pub struct CasRegister;

fn show_opt<V: fmt::Display>(v: &Option<V>) -> String {
    v.as_ref()
        .map_or_else(|| "missing".to_string(), |v| v.to_string())
}

fn unknown_suffix<V>(out: &RegisterOut<V>) -> &'static str {
    if matches!(out, RegisterOut::Unknown) {
        " (outcome unknown)"
    } else {
        ""
    }
}

impl Model for CasRegister {
    type State = Option<i64>;
    type Input = RegisterOp<i64>;
    type Output = RegisterOut<i64>;

    fn init(&self) -> Option<i64> {
        None
    }
    fn step(
        &self,
        s: &Option<i64>,
        i: &RegisterOp<i64>,
        o: &RegisterOut<i64>,
    ) -> Option<Option<i64>> {
        register_step(s, i, o)
    }
    fn describe_op(&self, i: &RegisterOp<i64>, o: &RegisterOut<i64>) -> String {
        let u = unknown_suffix(o);
        match (i, o) {
            (RegisterOp::Read, RegisterOut::Read(v)) => format!("read -> {}", show_opt(v)),
            (RegisterOp::Read, _) => format!("read{u}"),
            (RegisterOp::Write(v), _) => format!("write {v}{u}"),
            (RegisterOp::Delete, _) => format!("delete{u}"),
            (RegisterOp::Cas(a, b), RegisterOut::Cas(ok)) => format!("cas {a}->{b} -> {ok}"),
            (RegisterOp::Cas(a, b), _) => format!("cas {a}->{b}{u}"),
        }
    }
    fn describe_state(&self, s: &Option<i64>) -> String {
        show_opt(s)
    }
}

/// A command of our nodes on one key; keys and values are interned ids of
/// [`KvModel`], so the search compares integers and never allocates.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KvOp {
    pub key: u32,
    pub op: RegisterOp<u32>,
}

/// The nodes' key-value state machine, split by key: each part is a register
/// that starts missing. Holds the key and value names for descriptions.
#[derive(Debug, Clone, Default)]
pub struct KvModel {
    pub keys: Vec<String>,
    pub values: Vec<String>,
}

impl KvModel {
    fn value(&self, v: u32) -> &str {
        &self.values[v as usize]
    }
    fn show(&self, v: &Option<u32>) -> String {
        v.map_or_else(|| "(missing)".to_string(), |v| self.value(v).to_string())
    }
}

impl Model for KvModel {
    type State = Option<u32>;
    type Input = KvOp;
    type Output = RegisterOut<u32>;

    fn init(&self) -> Option<u32> {
        None
    }
    fn step(&self, s: &Option<u32>, i: &KvOp, o: &RegisterOut<u32>) -> Option<Option<u32>> {
        register_step(s, &i.op, o)
    }
    fn partition(&self, i: &KvOp) -> Option<String> {
        Some(self.keys[i.key as usize].clone())
    }
    fn describe_op(&self, i: &KvOp, o: &RegisterOut<u32>) -> String {
        let k = &self.keys[i.key as usize];
        let u = unknown_suffix(o);
        match (&i.op, o) {
            (RegisterOp::Read, RegisterOut::Read(v)) => format!("GET {k} -> {}", self.show(v)),
            (RegisterOp::Read, _) => format!("GET {k}{u}"),
            (RegisterOp::Write(v), _) => format!("SET {k} {}{u}", self.value(*v)),
            (RegisterOp::Delete, _) => format!("DEL {k}{u}"),
            (RegisterOp::Cas(a, b), RegisterOut::Cas(ok)) => {
                format!("CAS {k} {} {} -> {ok}", self.value(*a), self.value(*b))
            }
            (RegisterOp::Cas(a, b), _) => {
                format!("CAS {k} {} {}{u}", self.value(*a), self.value(*b))
            }
        }
    }
    fn describe_state(&self, s: &Option<u32>) -> String {
        self.show(s)
    }
}

/// How [`kv_operations`] read a `history::Op` list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct KvConversion {
    /// Commands that are not SET/GET/CAS/DEL with the right number of words.
    pub ignored: usize,
    /// `fail` operations (no effect) and `info` GETs (no effect, no result).
    pub dropped: usize,
    /// `ok` CAS whose result was neither "true" nor "false": checked as unknown.
    pub odd_results: usize,
}

struct Interner {
    names: Vec<String>,
    ids: HashMap<String, u32>,
}

impl Interner {
    fn new() -> Self {
        Interner {
            names: Vec::new(),
            ids: HashMap::new(),
        }
    }
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.ids.get(s) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(s.to_string());
        self.ids.insert(s.to_string(), i);
        i
    }
}

/// Turns harness records into operations of [`KvModel`].
pub fn kv_operations(
    ops: &[Op],
) -> (
    KvModel,
    Vec<Operation<KvOp, RegisterOut<u32>>>,
    KvConversion,
) {
    let mut keys = Interner::new();
    let mut values = Interner::new();
    let mut conv = KvConversion::default();
    let mut out = Vec::with_capacity(ops.len());
    for o in ops {
        let Some(command) = o.kv() else {
            conv.ignored += 1;
            continue;
        };
        let key = command.key();
        let op = match command {
            Command::Set { value, .. } => RegisterOp::Write(values.id(value)),
            Command::Get { .. } => RegisterOp::Read,
            Command::Cas { old, new, .. } => RegisterOp::Cas(values.id(old), values.id(new)),
            Command::Del { .. } => RegisterOp::Delete,
        };
        let known = o.outcome == Outcome::Ok && o.complete_us.is_some();
        if o.outcome == Outcome::Fail || (!known && op == RegisterOp::Read) {
            conv.dropped += 1;
            continue;
        }
        let mut status = if known { Outcome::Ok } else { Outcome::Info };
        let output = if !known {
            RegisterOut::Unknown
        } else {
            match &op {
                RegisterOp::Read => RegisterOut::Read(o.result.as_deref().map(|v| values.id(v))),
                RegisterOp::Write(_) | RegisterOp::Delete => RegisterOut::Done,
                RegisterOp::Cas(..) => match o.result.as_deref() {
                    Some("true") => RegisterOut::Cas(true),
                    Some("false") => RegisterOut::Cas(false),
                    _ => {
                        conv.odd_results += 1;
                        status = Outcome::Info;
                        RegisterOut::Unknown
                    }
                },
            }
        };
        out.push(Operation {
            id: o.id,
            client: u64::from(o.client),
            call: o.invoke_us,
            ret: o.complete_us,
            status,
            input: KvOp {
                key: keys.id(key),
                op,
            },
            output,
        });
    }
    let model = KvModel {
        keys: keys.names,
        values: values.names,
    };
    (model, out, conv)
}

/// Verdict of [`check_kv_history`]: overall and per key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KvReport {
    pub verdict: VerdictKind,
    /// One result per key, sorted by key.
    pub keys: Vec<PartitionResult>,
    pub conversion: KvConversion,
    pub stats: Stats,
}

impl fmt::Display for KvReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        render(f, self.verdict, &self.keys, &self.stats)?;
        let c = &self.conversion;
        if c.ignored + c.dropped + c.odd_results > 0 {
            writeln!(
                f,
                "  ({} ops ignored as not SET/GET/CAS/DEL, {} dropped as fail or unknown GET, {} CAS with an odd result checked as unknown)",
                c.ignored, c.dropped, c.odd_results
            )?;
        }
        Ok(())
    }
}

/// Checks a harness history of `SET`/`GET`/`CAS`/`DEL` commands, key by key.
pub fn check_kv_history(ops: &[Op], limits: Limits) -> KvReport {
    let (model, history, conversion) = kv_operations(ops);
    let r = check(&model, &history, limits);
    debug_assert_eq!(r.verdict, overall(&r.partitions));
    KvReport {
        verdict: r.verdict,
        keys: r.partitions,
        conversion,
        stats: r.stats,
    }
}

/// Operation on [`AppendKv`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AppendKvOp {
    pub key: String,
    pub op: AppendOp,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AppendOp {
    Get,
    Put(String),
    Append(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AppendOut {
    /// A get's value.
    Value(String),
    Done,
    Unknown,
}

/// A string key-value map split by key, every key starting as the empty string
/// (the model of Porcupine's `kv` test data).
#[derive(Debug, Clone, Copy, Default)]
pub struct AppendKv;

impl Model for AppendKv {
    type State = String;
    type Input = AppendKvOp;
    type Output = AppendOut;

    fn init(&self) -> String {
        String::new()
    }
    fn step(&self, s: &String, i: &AppendKvOp, o: &AppendOut) -> Option<String> {
        match (&i.op, o) {
            (AppendOp::Get, AppendOut::Value(v)) => (v == s).then(|| s.clone()),
            (AppendOp::Get, AppendOut::Unknown) => Some(s.clone()),
            (AppendOp::Put(v), AppendOut::Done | AppendOut::Unknown) => Some(v.clone()),
            (AppendOp::Append(v), AppendOut::Done | AppendOut::Unknown) => {
                let mut n = String::with_capacity(s.len() + v.len());
                n.push_str(s);
                n.push_str(v);
                Some(n)
            }
            _ => None,
        }
    }
    fn partition(&self, i: &AppendKvOp) -> Option<String> {
        Some(i.key.clone())
    }
    fn describe_op(&self, i: &AppendKvOp, o: &AppendOut) -> String {
        match (&i.op, o) {
            (AppendOp::Get, AppendOut::Value(v)) => format!("get {:?} -> {v:?}", i.key),
            (AppendOp::Get, _) => format!("get {:?} (outcome unknown)", i.key),
            (AppendOp::Put(v), _) => format!("put {:?} {v:?}", i.key),
            (AppendOp::Append(v), _) => format!("append {:?} {v:?}", i.key),
        }
    }
    fn describe_state(&self, s: &String) -> String {
        format!("{s:?}")
    }
    fn state_heap_bytes(&self, s: &String) -> usize {
        s.capacity()
    }
}

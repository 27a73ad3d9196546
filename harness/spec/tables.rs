//! The flat tables of a suite as serde structs (read through `de.rs`): the keys
//! each table may have, and the type and range of each value. What needs the
//! whole suite (node ids, kinds, the timing pair) is checked in parse.rs.
//! Units are in the key's name (`_ms`, `_s` → ms, `_mb`).
use super::value::Node;
use super::{Backend, WorkloadKind};
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, Visitor};
use serde_spanned::Spanned;
use std::fmt;

/// The top level of a suite: the sections are read by their own readers.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Top {
    pub name: Option<Spanned<String>>,
    pub description: Option<String>,
    pub include: Option<Node>,
    pub seed: Option<UInt<0, { i64::MAX }>>,
    pub root: Option<String>,
    pub kind: Option<Node>,
    pub cluster: Option<Node>,
    pub node: Option<Node>,
    pub workload: Option<Node>,
    pub step: Option<Node>,
    pub checks: Option<Node>,
    /// `[explore]`, read by `explore.rs` (used by `raft-harness explore`, not by `run`).
    pub explore: Option<Node>,
}

/// A kinds file (`include = [...]`): kinds and the folder they are relative to.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindFile {
    pub root: Option<String>,
    pub kind: Option<Node>,
    /// For readers only.
    #[serde(rename = "description")]
    pub _description: Option<IgnoredAny>,
}

/// `[cluster]`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterTable {
    pub host: Option<Spanned<String>>,
    pub base_port: Option<UInt<1, 65000>>,
    /// `[MIN, MAX]` or `"MIN-MAX"`: read with the heartbeat (parse.rs `read_timing`).
    pub election_timeout_ms: Option<Node>,
    pub heartbeat_ms: Option<Node>,
    pub poll_ms: Option<UInt<5, 10_000>>,
    pub log_poll_ms: Option<UInt<50, 60_000>>,
    pub proxies: Option<Spanned<Flag>>,
    pub node_log_cap_mb: Option<UInt<1, { 1 << 20 }>>,
    pub network: Option<Spanned<Network>>,
    pub backend: Option<Spanned<Backend>>,
}

/// `[cluster] network`: TCP proxies, or RPC-aware links (harness/net/rpc.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    Tcp,
    Rpc,
}

/// `[workload]`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadTable {
    #[serde(rename = "type")]
    pub kind: WorkloadKind,
    pub clients: Option<UInt<1, 1000>>,
    pub rate: Option<Rate>,
    pub keys: Option<UInt<1, 1000>>,
    pub targets: Option<Node>,
    pub request_timeout_ms: Option<UInt<10, 600_000>>,
    pub group: Option<Node>,
    /// `mode` and `max_clients` are read with the rest of the table in mind (arrivals.rs).
    #[serde(rename = "mode")]
    pub _mode: Option<IgnoredAny>,
    #[serde(rename = "max_clients")]
    pub _max_clients: Option<IgnoredAny>,
}

/// `[[workload.group]]`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupTable {
    pub clients: Option<UInt<1, 1000>>,
    pub rate: Option<Rate>,
    pub targets: Option<Node>,
}

/// `[checks]`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecksTable {
    pub required: Option<Spanned<Strings>>,
    pub settle_timeout_s: Option<Secs>,
    pub lin_timeout_s: Option<Secs>,
    pub max_new_terms: Option<UInt<0, 1_000_000>>,
    pub term_window_s: Option<Secs>,
    pub terms_through_network_faults: Option<Flag>,
    pub node_errors: Option<NodeErrors>,
}

/// `[checks] node_errors`: errors in node logs fail the run, or only warn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeErrors {
    Fail,
    Warning,
}

/// A number as a message shows it: plain when short, else in exponent form
/// (`1e300`, not 301 digits).
pub fn number(x: f64) -> String {
    let plain = format!("{x}");
    if plain.len() <= 16 {
        plain
    } else {
        format!("{x:e}")
    }
}

/// An integer in `MIN..=MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UInt<const MIN: i64, const MAX: i64>(pub u64);

impl<'de, const MIN: i64, const MAX: i64> Deserialize<'de> for UInt<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<const MIN: i64, const MAX: i64>;
        impl<const MIN: i64, const MAX: i64> Visitor<'_> for V<MIN, MAX> {
            type Value = UInt<MIN, MAX>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer")
            }
            fn visit_i64<E: de::Error>(self, i: i64) -> Result<Self::Value, E> {
                if (MIN..=MAX).contains(&i) {
                    Ok(UInt(i as u64))
                } else {
                    Err(E::custom(format!(
                        "must be between {MIN} and {MAX}, found {i}"
                    )))
                }
            }
        }
        d.deserialize_any(V::<MIN, MAX>)
    }
}

/// A number of seconds in `0..=86400` (integer or float), held in ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Secs(pub u64);

/// A rate in operations per second, `0..=100000`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate(pub f64);

/// A number (integer or float) in `lo..=hi`, or the error words.
fn in_range<E: de::Error>(x: f64, lo: f64, hi: f64, unit: &str) -> Result<f64, E> {
    if (lo..=hi).contains(&x) {
        Ok(x)
    } else {
        Err(E::custom(format!(
            "must be between {} and {}{unit}, found {}",
            number(lo),
            number(hi),
            number(x)
        )))
    }
}

/// Deserialize for a number type: `$expect` names it, `$conv` builds it from an f64.
macro_rules! number_type {
    ($t:ty, $expect:literal, $conv:expr) => {
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = $t;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str($expect)
                    }
                    fn visit_i64<E: de::Error>(self, i: i64) -> Result<$t, E> {
                        self.visit_f64(i as f64)
                    }
                    fn visit_f64<E: de::Error>(self, x: f64) -> Result<$t, E> {
                        $conv(x)
                    }
                }
                d.deserialize_any(V)
            }
        }
    };
}

number_type!(Secs, "a number of seconds", |s| in_range(
    s, 0.0, 86_400.0, " seconds"
)
.map(|s: f64| Secs((s * 1000.0).round() as u64)));
number_type!(Rate, "a number", |x| in_range(x, 0.0, 100_000.0, "")
    .map(Rate));
number_type!(Fraction, "a number", |x| in_range(x, 0.0, 1.0, "")
    .map(Fraction));

/// A probability or share in `0..=1` (`loss`, a message fault's `rate`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fraction(pub f64);

/// `true` or `false`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag(pub bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Flag;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("true or false")
            }
            fn visit_bool<E>(self, b: bool) -> Result<Flag, E> {
                Ok(Flag(b))
            }
        }
        d.deserialize_any(V)
    }
}

/// An array of strings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Strings(pub Vec<String>);

impl<'de> Deserialize<'de> for Strings {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Strings;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array of strings")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Strings, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                Ok(Strings(out))
            }
        }
        d.deserialize_any(V)
    }
}

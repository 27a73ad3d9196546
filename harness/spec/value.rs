//! A TOML value tree that remembers where every key and value came from.
//!
//! serde's derive gives poor messages for suites (no suggestions, and enums of
//! step kinds would need `untagged`, which hides the real error), so the spec
//! is read in two passes: TOML text → `Node` tree with byte spans (here), then
//! a hand-written walk that turns it into the typed `Spec` and reports every
//! problem at the exact line and column (parse.rs).
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_spanned::Spanned;
use std::fmt;
use std::ops::Range;

#[derive(Debug, Clone)]
pub enum Value {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Array(Vec<Node>),
    Table(Vec<(Key, Node)>),
    /// Dates and times: TOML allows them, suites never need them.
    Other(&'static str),
}

/// A key with the span of its text.
#[derive(Debug, Clone)]
pub struct Key {
    pub name: String,
    pub span: Range<usize>,
}

/// A value with the span of its text.
#[derive(Debug, Clone)]
pub struct Node {
    pub value: Value,
    pub span: Range<usize>,
}

impl Value {
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "a string",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Bool(_) => "a boolean",
            Value::Array(_) => "an array",
            Value::Table(_) => "a table",
            Value::Other(t) => t,
        }
    }
}

/// The message for an integer TOML cannot hold (TOML integers are 64-bit).
fn too_large(v: impl fmt::Display) -> String {
    let digits = v.to_string();
    format!(
        "the integer {} does not fit in 64 bits (at most {})",
        super::diag::excerpt(&digits, 30),
        i64::MAX
    )
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any TOML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Value, E> {
        i64::try_from(v)
            .map(Value::Int)
            .map_err(|_| E::custom(too_large(v)))
    }
    fn visit_i128<E: serde::de::Error>(self, v: i128) -> Result<Value, E> {
        i64::try_from(v)
            .map(Value::Int)
            .map_err(|_| E::custom(too_large(v)))
    }
    fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<Value, E> {
        i64::try_from(v)
            .map(Value::Int)
            .map_err(|_| E::custom(too_large(v)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(n) = seq.next_element::<Node>()? {
            out.push(n);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(k) = map.next_key::<Spanned<String>>()? {
            let span = k.span();
            let name = k.into_inner();
            // Datetimes arrive as a one-key map with toml's private marker key.
            if name.starts_with("$__toml_private") {
                let _ignored: serde::de::IgnoredAny = map.next_value()?;
                return Ok(Value::Other("a date/time"));
            }
            let v = map.next_value::<Node>()?;
            out.push((Key { name, span }, v));
        }
        Ok(Value::Table(out))
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Spanned::<Value>::deserialize(d)?;
        let span = s.span();
        Ok(Node {
            value: s.into_inner(),
            span,
        })
    }
}

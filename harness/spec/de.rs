//! serde over the spanned `Node` tree (value.rs), so that the flat tables of a
//! suite are `#[derive(Deserialize)]` structs (`deny_unknown_fields`, fields
//! wrapped in `serde_spanned::Spanned`) while every error keeps the span and
//! key it is about, and the message a suite author reads stays ours.
//!
//! One table yields every problem, not only the first: `table` drops the key
//! an error names and deserializes again, so bad values read as absent.
use super::value::{Key, Node, Value};
use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::ops::Range;

/// What went wrong, as data: the caller words it (parse.rs).
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// A key the table does not have; `valid` are the keys it has.
    UnknownKey { valid: &'static [&'static str] },
    /// A required key is absent (the span is the table's).
    MissingKey(&'static str),
    /// The value has another type than `expected` (e.g. "an integer").
    Type {
        expected: String,
        found: &'static str,
    },
    /// A word from a fixed list is not one of `valid`.
    Word {
        found: String,
        valid: &'static [&'static str],
    },
    /// Anything else a value type reports (ranges: "must be between …").
    Other(String),
}

/// One problem, with the key it is under and the span it points at.
#[derive(Debug, Clone, PartialEq)]
pub struct DeError {
    pub problem: Problem,
    /// The key whose value (or which key itself) is wrong; None at table level.
    pub key: Option<String>,
    pub span: Option<Range<usize>>,
}

impl DeError {
    fn new(problem: Problem) -> Self {
        DeError {
            problem,
            key: None,
            span: None,
        }
    }
    /// Fill in the span (and the type found) from `node` where still unknown.
    fn at(mut self, node: &Node) -> Self {
        if let Problem::Type { found, .. } = &mut self.problem {
            if self.span.is_none() {
                *found = node.value.type_name();
            }
        }
        self.span.get_or_insert_with(|| node.span.clone());
        self
    }
    fn under(mut self, key: &Key) -> Self {
        if self.key.is_none() {
            self.key = Some(key.name.clone());
            // An unknown key points at the key, a bad value at the value.
            if matches!(self.problem, Problem::UnknownKey { .. }) {
                self.span = Some(key.span.clone());
            }
        }
        self
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.problem)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError::new(Problem::Other(msg.to_string()))
    }
    fn invalid_type(_: de::Unexpected, exp: &dyn de::Expected) -> Self {
        DeError::new(Problem::Type {
            expected: exp.to_string(),
            found: "another type",
        })
    }
    fn unknown_field(_: &str, valid: &'static [&'static str]) -> Self {
        DeError::new(Problem::UnknownKey { valid })
    }
    fn unknown_variant(found: &str, valid: &'static [&'static str]) -> Self {
        DeError::new(Problem::Word {
            found: found.to_string(),
            valid,
        })
    }
    fn missing_field(key: &'static str) -> Self {
        DeError::new(Problem::MissingKey(key))
    }
}

/// Deserialize a `T` from one table `node`, collecting every problem: a key
/// with a problem is left out and the table read again, so the result holds
/// the good keys (None when a problem concerns the table as a whole, such as
/// a missing required key or a value that is not a table).
pub fn table<T: de::DeserializeOwned>(node: &Node) -> (Option<T>, Vec<DeError>) {
    let mut node = node.clone();
    let mut problems = Vec::new();
    let mut dropped = Vec::new();
    loop {
        match T::deserialize(NodeDe(&node)) {
            Ok(t) => return (Some(t), problems),
            // A required key dropped for its bad value: already reported.
            Err(e) if matches!(e.problem, Problem::MissingKey(k) if dropped.iter().any(|d: &String| d == k)) => {
                return (None, problems)
            }
            Err(e) => {
                let key = e.key.clone();
                problems.push(e);
                let Value::Table(entries) = &mut node.value else {
                    return (None, problems);
                };
                let before = entries.len();
                if let Some(k) = key {
                    entries.retain(|(name, _)| name.name != k);
                    dropped.push(k);
                }
                if entries.len() == before {
                    return (None, problems);
                }
            }
        }
    }
}

/// `IntoDeserializer` for a deserializer type itself (serde_spanned's protocol needs it).
macro_rules! self_into_deserializer {
    ($t:ident) => {
        impl<'de> IntoDeserializer<'de, DeError> for $t<'de> {
            type Deserializer = Self;
            fn into_deserializer(self) -> Self {
                self
            }
        }
    };
}

/// A `Node` as a serde `Deserializer`.
#[derive(Clone, Copy)]
pub struct NodeDe<'de>(pub &'de Node);

self_into_deserializer!(NodeDe);

impl<'de> de::Deserializer<'de> for NodeDe<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        let r = match &self.0.value {
            Value::Str(s) => v.visit_borrowed_str(s),
            Value::Int(i) => v.visit_i64(*i),
            Value::Float(x) => v.visit_f64(*x),
            Value::Bool(b) => v.visit_bool(*b),
            Value::Array(items) => v.visit_seq(Items(items.iter())),
            Value::Table(entries) => v.visit_map(Entries {
                iter: entries.iter(),
                value: None,
            }),
            // Dates: whatever the visitor expects, the type found is named.
            Value::Other(_) => v.visit_unit(),
        };
        r.map_err(|e| e.at(self.0))
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        // A key that is present is Some; an absent key never reaches here.
        v.visit_some(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        let _ = fields;
        spanned(self, self.0.span.clone(), name, v)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        let r = match &self.0.value {
            Value::Str(s) => {
                v.visit_enum(IntoDeserializer::<DeError>::into_deserializer(s.as_str()))
            }
            _ => Err(DeError::new(Problem::Type {
                expected: "a string".into(),
                found: "another type",
            })),
        };
        r.map_err(|e| e.at(self.0))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map identifier ignored_any
    }
}

/// A `Spanned<T>` (serde_spanned's protocol, struct `name`) of `d` at `span`; any other struct
/// is read as a map.
fn spanned<'de, D, V>(
    d: D,
    span: Range<usize>,
    name: &'static str,
    v: V,
) -> Result<V::Value, DeError>
where
    D: de::Deserializer<'de, Error = DeError> + IntoDeserializer<'de, DeError>,
    V: Visitor<'de>,
{
    if serde_spanned::de::is_spanned(name) {
        v.visit_map(serde_spanned::de::SpannedDeserializer::new(d, span))
    } else {
        d.deserialize_any(v)
    }
}

struct Items<'de>(std::slice::Iter<'de, Node>);

impl<'de> SeqAccess<'de> for Items<'de> {
    type Error = DeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        self.0
            .next()
            .map(|n| seed.deserialize(NodeDe(n)).map_err(|e| e.at(n)))
            .transpose()
    }
}

struct Entries<'de> {
    iter: std::slice::Iter<'de, (Key, Node)>,
    value: Option<(&'de Key, &'de Node)>,
}

impl<'de> MapAccess<'de> for Entries<'de> {
    type Error = DeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((k, n)) = self.iter.next() else {
            return Ok(None);
        };
        self.value = Some((k, n));
        seed.deserialize(KeyDe(k)).map(Some).map_err(|e| e.under(k))
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let (k, n) = self.value.take().expect("next_key_seed first");
        seed.deserialize(NodeDe(n)).map_err(|e| e.at(n).under(k))
    }
}

/// A key as a serde `Deserializer`: a string, or a `Spanned<String>` with the key's span.
#[derive(Clone, Copy)]
struct KeyDe<'de>(&'de Key);

self_into_deserializer!(KeyDe);

impl<'de> de::Deserializer<'de> for KeyDe<'de> {
    type Error = DeError;
    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        v.visit_borrowed_str(&self.0.name)
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        spanned(self, self.0.span.clone(), name, v)
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

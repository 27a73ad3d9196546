//! The replicated state machine: a string key-value map driven by text commands.
//!
//! `SET k v`, `GET k`, `CAS k old new` and `DEL k` count only with exactly the right number of
//! non-empty words separated by single spaces; anything else (including the leader's empty
//! no-op) is an opaque no-op, so commands from the original client still apply.

use std::collections::HashMap;

#[derive(Debug, PartialEq, Eq)]
pub enum Command<'a> {
    Set(&'a str, &'a str),
    Get(&'a str),
    Cas(&'a str, &'a str, &'a str),
    Del(&'a str),
    Noop,
}

pub fn parse(command: &str) -> Command<'_> {
    let words: Vec<&str> = command.split(' ').collect();
    if words.iter().any(|w| w.is_empty()) {
        return Command::Noop;
    }
    match words.as_slice() {
        ["SET", k, v] => Command::Set(k, v),
        ["GET", k] => Command::Get(k),
        ["CAS", k, old, new] => Command::Cas(k, old, new),
        ["DEL", k] => Command::Del(k),
        _ => Command::Noop,
    }
}

#[derive(Debug, Default)]
pub struct Kv {
    map: HashMap<String, String>,
}

impl Kv {
    /// Applies one committed command and returns its `result` (None = absent).
    pub fn apply(&mut self, command: &str) -> Option<String> {
        match parse(command) {
            Command::Set(k, v) => {
                self.map.insert(k.to_string(), v.to_string());
                Some("OK".to_string())
            }
            Command::Get(k) => self.map.get(k).cloned(),
            Command::Cas(k, old, new) => {
                let swap = self.map.get(k).map(String::as_str) == Some(old);
                if swap {
                    self.map.insert(k.to_string(), new.to_string());
                }
                Some(swap.to_string())
            }
            Command::Del(k) => {
                self.map.remove(k);
                Some("OK".to_string())
            }
            Command::Noop => None,
        }
    }

    /// Local read without the log (only for `--unsafe-stale-reads`).
    pub fn get(&self, key: &str) -> Option<String> {
        self.map.get(key).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_then_get_returns_value_and_missing_key_is_absent() {
        let mut kv = Kv::default();
        assert_eq!(kv.apply("GET a"), None);
        assert_eq!(kv.apply("SET a 1"), Some("OK".into()));
        assert_eq!(kv.apply("GET a"), Some("1".into()));
        assert_eq!(kv.apply("SET a 2"), Some("OK".into()));
        assert_eq!(kv.apply("GET a"), Some("2".into()));
    }

    #[test]
    fn cas_swaps_only_on_match() {
        let mut kv = Kv::default();
        assert_eq!(kv.apply("CAS a x y"), Some("false".into()));
        assert_eq!(kv.get("a"), None);
        kv.apply("SET a x");
        assert_eq!(kv.apply("CAS a z y"), Some("false".into()));
        assert_eq!(kv.get("a"), Some("x".into()));
        assert_eq!(kv.apply("CAS a x y"), Some("true".into()));
        assert_eq!(kv.get("a"), Some("y".into()));
    }

    #[test]
    fn del_removes_and_is_ok_when_missing() {
        let mut kv = Kv::default();
        kv.apply("SET a 1");
        assert_eq!(kv.apply("DEL a"), Some("OK".into()));
        assert_eq!(kv.get("a"), None);
        assert_eq!(kv.apply("DEL a"), Some("OK".into()));
    }

    #[test]
    fn wrong_arity_and_unknown_commands_are_opaque_noops() {
        let mut kv = Kv::default();
        for cmd in [
            "",
            "operation_1",
            "SET a",
            "SET a b c",
            "GET",
            "GET a b",
            "CAS a b",
            "DEL",
            "set a 1",
            "SET  a 1",
            "SET a 1 ",
        ] {
            assert_eq!(parse(cmd), Command::Noop, "{cmd:?}");
            assert_eq!(kv.apply(cmd), None, "{cmd:?}");
        }
        assert_eq!(kv.get("a"), None);
    }
}

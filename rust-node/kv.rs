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

    /// One step of a store test: apply a command and check what it returns, or read key `a`
    /// locally (`get`) and check its value.
    enum Step {
        Apply(&'static str, Option<&'static str>),
        GetA(Option<&'static str>),
    }
    use Step::{Apply, GetA};

    /// Runs `steps` in order against a fresh store.
    fn check_steps(steps: &[Step]) {
        let mut kv = Kv::default();
        for step in steps {
            match *step {
                Apply(cmd, result) => assert_eq!(kv.apply(cmd).as_deref(), result, "{cmd:?}"),
                GetA(value) => assert_eq!(kv.get("a").as_deref(), value, "get a"),
            }
        }
    }

    #[test]
    fn set_then_get_returns_value_and_missing_key_is_absent() {
        check_steps(&[
            Apply("GET a", None),
            Apply("SET a 1", Some("OK")),
            Apply("GET a", Some("1")),
            Apply("SET a 2", Some("OK")),
            Apply("GET a", Some("2")),
        ]);
    }

    #[test]
    fn cas_swaps_only_on_match() {
        check_steps(&[
            Apply("CAS a x y", Some("false")),
            GetA(None),
            Apply("SET a x", Some("OK")),
            Apply("CAS a z y", Some("false")),
            GetA(Some("x")),
            Apply("CAS a x y", Some("true")),
            GetA(Some("y")),
        ]);
    }

    #[test]
    fn del_removes_and_is_ok_when_missing() {
        check_steps(&[
            Apply("SET a 1", Some("OK")),
            Apply("DEL a", Some("OK")),
            GetA(None),
            Apply("DEL a", Some("OK")),
        ]);
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

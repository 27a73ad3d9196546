//! The one reader of client command text (`SET k v`, `GET k`, `CAS k old new`,
//! `DEL k`): words separated by single spaces, exactly as many as the command
//! takes. Shared by the workload, the history checks and `lin`, so a spelling
//! change cannot silently change what one of them counts.
use std::fmt;

/// A key-value command of the nodes' state machine (Raft thesis §6.3: the
/// commands clients submit). Borrowed from the command text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command<'a> {
    Get {
        key: &'a str,
    },
    Set {
        key: &'a str,
        value: &'a str,
    },
    Cas {
        key: &'a str,
        old: &'a str,
        new: &'a str,
    },
    Del {
        key: &'a str,
    },
}

impl<'a> Command<'a> {
    /// `None` for any text that is not one of the four commands with exactly
    /// its number of single-space-separated words (`SET k` or `GET a b` are none).
    pub fn parse(text: &'a str) -> Option<Self> {
        let mut words = text.split(' ');
        let verb = words.next()?;
        let mut next = || words.next();
        let c = match verb {
            "GET" => Command::Get { key: next()? },
            "SET" => Command::Set {
                key: next()?,
                value: next()?,
            },
            "CAS" => Command::Cas {
                key: next()?,
                old: next()?,
                new: next()?,
            },
            "DEL" => Command::Del { key: next()? },
            _ => return None,
        };
        words.next().is_none().then_some(c)
    }

    /// `GET`, `SET`, `CAS` or `DEL`.
    pub fn verb(&self) -> &'static str {
        match self {
            Command::Get { .. } => "GET",
            Command::Set { .. } => "SET",
            Command::Cas { .. } => "CAS",
            Command::Del { .. } => "DEL",
        }
    }

    pub fn key(&self) -> &'a str {
        match *self {
            Command::Get { key }
            | Command::Set { key, .. }
            | Command::Cas { key, .. }
            | Command::Del { key } => key,
        }
    }

    /// The value this command writes when it takes effect (`None` for GET and DEL).
    pub fn written(&self) -> Option<&'a str> {
        match *self {
            Command::Set { value, .. } => Some(value),
            Command::Cas { new, .. } => Some(new),
            Command::Get { .. } | Command::Del { .. } => None,
        }
    }
}

impl fmt::Display for Command<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Get { key } => write!(f, "GET {key}"),
            Command::Set { key, value } => write!(f, "SET {key} {value}"),
            Command::Cas { key, old, new } => write!(f, "CAS {key} {old} {new}"),
            Command::Del { key } => write!(f, "DEL {key}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Command;

    #[test]
    fn the_four_commands_parse_and_print_back() {
        for text in ["GET k1", "SET k1 7", "CAS k1 7 8", "DEL k1"] {
            let c = Command::parse(text).expect(text);
            assert_eq!(c.key(), "k1");
            assert_eq!(c.to_string(), text);
        }
        assert_eq!(Command::parse("SET k 7").unwrap().written(), Some("7"));
        assert_eq!(Command::parse("CAS k 7 8").unwrap().written(), Some("8"));
        assert_eq!(Command::parse("GET k").unwrap().written(), None);
    }

    #[test]
    fn wrong_word_counts_spacing_and_verbs_are_rejected() {
        for text in [
            "",
            "GET",
            "GET a b",
            "SET k",
            "SET k 1 2",
            "CAS k 1",
            "DEL",
            "DEL a b",
            "get k",
            "PUT k 1",
            "GET  k",
            " GET k",
            "SET k 1 ",
        ] {
            assert_eq!(Command::parse(text), None, "{text:?}");
        }
    }
}

//! The key set of every directive (docs/scenarios.md, "Directives") and the typo errors the
//! three runners word identically (Rust here, python-node/tests/scenario/parse.py, Java
//! `ScenarioScript`): an unknown directive, an unknown key, a missing key, each with a
//! did-you-mean when a known name is at most two edits away.

const VOTE_REQ: &[&str] = &[
    "now",
    "term",
    "candidate_id",
    "last_log_index",
    "last_log_term",
];

/// `(name, required keys, optional keys)` of every directive and of `entry` lines, in the
/// order of docs/scenarios.md; the order decides which missing key is named first and which
/// suggestion wins a tie.
const SPECS: &[(&str, &[&str], &[&str])] = &[
    (
        "init",
        &[
            "id",
            "peers",
            "heartbeat",
            "rpc_timeout",
            "max_entries",
            "election",
            "pre_vote",
            "check_quorum",
            "now",
            "timeout",
            "term",
            "voted_for",
        ],
        &["max_inflight"],
    ),
    ("restart", &["now", "timeout"], &[]),
    ("election-timeout", &["ms"], &[]),
    ("tick", &["now"], &[]),
    ("prevote-request", VOTE_REQ, &[]),
    (
        "prevote-response",
        &["now", "from", "term"],
        &["reply_term", "vote_granted", "unimplemented"],
    ),
    ("vote-request", VOTE_REQ, &[]),
    (
        "vote-response",
        &["now", "from", "term", "vote_granted"],
        &[],
    ),
    (
        "append-request",
        &[
            "now",
            "term",
            "leader_id",
            "prev_log_index",
            "prev_log_term",
            "leader_commit",
        ],
        &[],
    ),
    (
        "append-response",
        &[
            "now",
            "from",
            "sent_term",
            "sent_prev_log_index",
            "sent_n_entries",
            "term",
            "success",
        ],
        &["conflict_index", "conflict_term", "sent_read_seq"],
    ),
    (
        "send-failure",
        &["now", "peer"],
        &[
            "sent_term",
            "sent_prev_log_index",
            "sent_n_entries",
            "sent_read_seq",
        ],
    ),
    ("propose", &["now", "command"], &[]),
    ("read-index", &["now", "ctx"], &[]),
    ("state", &[], &[]),
    ("log", &[], &[]),
    ("progress", &["peer"], &[]),
];

/// The key spec of entry lines (`entry index=N term=T command="..."`).
const ENTRY: (&[&str], &[&str]) = (&["index", "term", "command"], &[]);

/// Checks the keys of a directive line (`name`, keys in the order written) or, with `name ==
/// "entry"`, of an entry line. Errors, first found first: `unknown directive `tikc` (did you
/// mean `tick`?)`, `unknown key `nwo` for `tick` (did you mean `now`?)`, `missing key `now`
/// for `tick``.
pub fn check_keys(name: &str, keys: &[&str]) -> Result<(), String> {
    let (required, optional) = if name == "entry" {
        ENTRY
    } else {
        match SPECS.iter().find(|(n, _, _)| *n == name) {
            Some(&(_, r, o)) => (r, o),
            None => {
                let names = SPECS.iter().map(|(n, _, _)| *n);
                return Err(format!(
                    "unknown directive `{name}`{}",
                    did_you_mean(name, names)
                ));
            }
        }
    };
    let known = || required.iter().chain(optional).copied();
    for key in keys {
        if !known().any(|k| k == *key) {
            let unused = known().filter(|k| !keys.contains(k));
            return Err(format!(
                "unknown key `{key}` for `{name}`{}",
                did_you_mean(key, unused)
            ));
        }
    }
    match required.iter().find(|k| !keys.contains(k)) {
        Some(k) => Err(missing_key(k, name)),
        None => Ok(()),
    }
}

/// `missing key `now` for `tick``.
pub fn missing_key(key: &str, name: &str) -> String {
    format!("missing key `{key}` for `{name}`")
}

/// ` (did you mean `x`?)` for the first candidate nearest to `word`, if it is at most two
/// edits away; otherwise empty.
fn did_you_mean<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = edit_distance(word, c);
        if d <= 2 && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map_or(String::new(), |(_, c)| format!(" (did you mean `{c}`?)"))
}

/// Levenshtein distance between `a` and `b` (characters).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

//! Command templates: `{placeholder}` expansion of a kind's argv for one node.
use super::{Kind, NodeSpec};
use std::collections::BTreeMap;

pub const PLACEHOLDERS: &[&str] = &[
    "id",
    "port",
    "host",
    "peers",
    "peer_addrs",
    "data_dir",
    "journal",
    "election_timeout_ms",
    "heartbeat_ms",
    "root",
];

/// Placeholders that expand to several arguments when they stand alone.
const LISTS: &[&str] = &["peers", "peer_addrs"];

/// Err(name) for the first unknown placeholder in `arg`. A placeholder is
/// `{name}` with a name of ASCII letters, digits and `_`; other text in braces
/// (`{"a": 1}` in an env value, `{}`) is literal and left as it is.
pub fn check(arg: &str) -> Result<(), String> {
    for name in names(arg) {
        if !PLACEHOLDERS.contains(&name) {
            return Err(name.to_string());
        }
    }
    Ok(())
}

fn names(arg: &str) -> impl Iterator<Item = &str> {
    arg.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(n, _)| n))
        .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

/// Values for one node. `lists` hold the list placeholders, `scalars` the rest.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    pub scalars: BTreeMap<&'static str, String>,
    pub lists: BTreeMap<&'static str, Vec<String>>,
}

/// Expand an argv template. A list placeholder standing alone as an argument
/// becomes one argument per item (`{peers}` → `2=127.0.0.1:5002 3=...`);
/// inside a longer argument it is joined with commas.
pub fn render(template: &[String], vars: &Vars) -> Vec<String> {
    let mut out = Vec::new();
    for arg in template {
        if let Some(name) = arg.strip_prefix('{').and_then(|a| a.strip_suffix('}')) {
            if LISTS.contains(&name) {
                out.extend(vars.lists.get(name).cloned().unwrap_or_default());
                continue;
            }
        }
        out.push(render_one(arg, vars));
    }
    out
}

pub fn render_one(arg: &str, vars: &Vars) -> String {
    let mut s = arg.to_string();
    for (k, v) in &vars.scalars {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    for (k, v) in &vars.lists {
        s = s.replace(&format!("{{{k}}}"), &v.join(","));
    }
    s
}

/// Where node `n` runs, as its command sees it: the address it binds, its data dir, its
/// journal ("" when its kind writes none) and the kind's root (paths as text).
pub struct Place {
    pub host: String,
    pub data_dir: String,
    pub journal: String,
    pub root: String,
}

/// The values of node `n`'s placeholders: its own (`id`, `port`, timing), `place`, and its
/// peers (every other node of `nodes`) as `peer_addr(peer)` (`HOST:PORT`).
pub fn node_vars(
    n: &NodeSpec,
    nodes: &[NodeSpec],
    place: Place,
    peer_addr: &dyn Fn(&NodeSpec) -> String,
) -> Vars {
    let t = &n.timing;
    let scalars = [
        ("id", n.id.to_string()),
        ("port", n.port.to_string()),
        ("host", place.host),
        ("data_dir", place.data_dir),
        ("journal", place.journal),
        (
            "election_timeout_ms",
            format!("{}-{}", t.election_min_ms, t.election_max_ms),
        ),
        ("heartbeat_ms", t.heartbeat_ms.to_string()),
        ("root", place.root),
    ];
    let peers: Vec<&NodeSpec> = nodes.iter().filter(|p| p.id != n.id).collect();
    let peer_list = |f: &dyn Fn(&NodeSpec) -> String| peers.iter().map(|p| f(p)).collect();
    let lists = [
        (
            "peers",
            peer_list(&|p| format!("{}={}", p.id, peer_addr(p))),
        ),
        ("peer_addrs", peer_list(peer_addr)),
    ];
    Vars {
        scalars: scalars.into(),
        lists: lists.into(),
    }
}

/// Node `n`'s command line: its kind's `command`, then its own `args`, both rendered.
pub fn command(kind: &Kind, n: &NodeSpec, vars: &Vars) -> Vec<String> {
    let mut argv = render(&kind.command, vars);
    argv.extend(n.args.iter().map(|a| render_one(a, vars)));
    argv
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vars {
        let mut v = Vars::default();
        v.scalars.insert("id", "3".into());
        v.scalars.insert("port", "5003".into());
        v.lists.insert(
            "peers",
            vec!["1=127.0.0.1:5001".into(), "2=127.0.0.1:5002".into()],
        );
        v
    }

    #[test]
    fn list_placeholder_alone_expands_to_several_args() {
        let t: Vec<String> = ["node", "{id}", "{port}", "{peers}", "--x={peers}"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            render(&t, &vars()),
            vec![
                "node",
                "3",
                "5003",
                "1=127.0.0.1:5001",
                "2=127.0.0.1:5002",
                "--x=1=127.0.0.1:5001,2=127.0.0.1:5002"
            ]
        );
    }

    #[test]
    fn unknown_placeholder_is_rejected() {
        assert_eq!(check("--port={prot}"), Err("prot".to_string()));
        assert!(check("{data_dir}/x").is_ok());
        assert_eq!(check("{id}-{journl}"), Err("journl".to_string()));
    }

    #[test]
    fn braces_that_are_not_placeholders_are_literal() {
        assert!(check(r#"{"level": "debug"}"#).is_ok());
        assert!(check("{}").is_ok());
        assert!(check("a { b } c").is_ok());
        assert_eq!(render_one(r#"{"x":{id}}"#, &vars()), r#"{"x":3}"#);
    }
}

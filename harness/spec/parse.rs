//! From TOML text to a validated `Spec`, collecting every problem with its position.
use super::de::{DeError, Problem};
use super::diag::{did_you_mean, excerpt, quoted, suggest, ticked, Diagnostic, SpecErrors};
use super::tables::{self, ChecksTable, ClusterTable, KindFile, NodeErrors, Top};
use super::value::{Key, Node, Value};
use super::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::LazyLock;

#[path = "msgstep.rs"]
pub(super) mod msgstep;

#[path = "dockerfit.rs"]
mod dockerfit;

#[path = "arrivals.rs"]
mod arrivals;

#[path = "needs.rs"]
mod needs;

#[path = "labelset.rs"]
mod labelset;

#[path = "kindfile.rs"]
mod kindfile;

#[path = "waitfit.rs"]
mod waitfit;
use labelset::{LabelDef, Labels};

#[path = "explore.rs"]
pub mod explore;

/// One file being read: where diagnostics point.
struct Src<'a> {
    file: &'a Path,
    text: &'a str,
}

impl Src<'_> {
    /// The 1-based line of byte offset `at` in the text.
    fn line(&self, at: usize) -> usize {
        self.text[..at.min(self.text.len())].matches('\n').count() + 1
    }
}

#[derive(Default)]
struct Errs(Vec<Diagnostic>);

impl Errs {
    /// `what` (e.g. "`rate` must be a number") about `v`, with the type found.
    fn expected(&mut self, src: &Src, v: &Node, what: impl AsRef<str>) {
        let msg = format!("{}, found {}", what.as_ref(), v.value.type_name());
        self.at(src, v.span.clone(), msg);
    }
    fn at(&mut self, src: &Src, span: std::ops::Range<usize>, msg: impl Into<String>) {
        self.0
            .push(Diagnostic::at(src.file, src.text, span, msg.into(), None));
    }
    fn help(
        &mut self,
        src: &Src,
        span: std::ops::Range<usize>,
        msg: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.0.push(Diagnostic::at(
            src.file,
            src.text,
            span,
            msg.into(),
            Some(help.into()),
        ));
    }
}

/// The keys of one table, checked against the keys it may have.
struct Fields<'n> {
    map: BTreeMap<&'n str, (&'n Key, &'n Node)>,
    span: std::ops::Range<usize>,
    what: String,
}

fn fields<'n>(
    src: &Src,
    errs: &mut Errs,
    node: &'n Node,
    what: &str,
    allowed: &[&str],
) -> Option<Fields<'n>> {
    let Value::Table(entries) = &node.value else {
        errs.expected(src, node, format!("{what} must be a table"));
        return None;
    };
    let mut map = BTreeMap::new();
    for (k, v) in entries {
        if !allowed.contains(&k.name.as_str()) {
            let msg = format!("unknown key `{}` in {what}", excerpt(&k.name, 60));
            let help = did_you_mean(&k.name, allowed, ticked, "valid keys here");
            errs.help(src, k.span.clone(), msg, help);
            continue;
        }
        map.insert(k.name.as_str(), (k, v));
    }
    Some(Fields {
        map,
        span: node.span.clone(),
        what: what.to_string(),
    })
}

impl<'n> Fields<'n> {
    fn get(&self, key: &str) -> Option<&'n Node> {
        self.map.get(key).map(|(_, v)| *v)
    }
    fn key_span(&self, key: &str) -> std::ops::Range<usize> {
        self.map
            .get(key)
            .map_or(self.span.clone(), |(k, _)| k.span.clone())
    }
    fn require(&self, src: &Src, errs: &mut Errs, key: &str) -> Option<&'n Node> {
        let v = self.get(key);
        if v.is_none() {
            errs.at(
                src,
                self.span.clone(),
                format!("{} is missing the required key `{key}`", self.what),
            );
        }
        v
    }
    fn str(&self, src: &Src, errs: &mut Errs, key: &str) -> Option<&'n str> {
        self.get(key).and_then(|v| as_str(src, errs, v, key))
    }
    fn uint(&self, src: &Src, errs: &mut Errs, key: &str, min: i64, max: i64) -> Option<u64> {
        self.get(key)
            .and_then(|v| as_uint(src, errs, v, key, min, max))
    }
    /// A duration given in seconds (integer or float, `tables::Secs`), returned in ms.
    fn secs(&self, src: &Src, errs: &mut Errs, key: &str) -> Option<u64> {
        self.typed::<tables::Secs>(src, errs, key).map(|s| s.0)
    }
    /// The value of `key` read as `T` (a value type of tables.rs), a problem reported.
    fn typed<T: serde::de::DeserializeOwned>(
        &self,
        src: &Src,
        errs: &mut Errs,
        key: &str,
    ) -> Option<T> {
        let v = self.get(key)?;
        T::deserialize(super::de::NodeDe(v))
            .map_err(|mut e| {
                e.key = Some(key.to_string());
                report(src, errs, v, &self.what, e);
            })
            .ok()
    }
    fn bool(&self, src: &Src, errs: &mut Errs, key: &str) -> Option<bool> {
        let v = self.get(key)?;
        match v.value {
            Value::Bool(b) => Some(b),
            _ => {
                errs.expected(src, v, format!("`{key}` must be true or false"));
                None
            }
        }
    }
    fn str_list(&self, src: &Src, errs: &mut Errs, key: &str) -> Option<Vec<String>> {
        self.get(key).and_then(|v| as_str_list(src, errs, v, key))
    }
    fn env(&self, src: &Src, errs: &mut Errs, key: &str) -> Vec<(String, String)> {
        let Some(v) = self.get(key) else {
            return Vec::new();
        };
        let Value::Table(entries) = &v.value else {
            errs.expected(
                src,
                v,
                format!("`{key}` must be a table of NAME = \"value\""),
            );
            return Vec::new();
        };
        entries
            .iter()
            .filter_map(|(k, v)| Some((k.name.clone(), as_str(src, errs, v, &k.name)?.to_string())))
            .collect()
    }
    /// A keyword from a fixed list, with a suggestion when it is misspelt.
    fn word<T: Clone>(
        &self,
        src: &Src,
        errs: &mut Errs,
        key: &str,
        words: &[(&str, T)],
    ) -> Option<T> {
        let v = self.get(key)?;
        as_word(src, errs, v, key, words)
    }
}

fn as_str<'n>(src: &Src, errs: &mut Errs, v: &'n Node, key: &str) -> Option<&'n str> {
    match &v.value {
        Value::Str(s) => Some(s),
        _ => {
            errs.expected(src, v, format!("`{key}` must be a string"));
            None
        }
    }
}

fn as_uint(src: &Src, errs: &mut Errs, v: &Node, key: &str, min: i64, max: i64) -> Option<u64> {
    match v.value {
        Value::Int(i) if (min..=max).contains(&i) => Some(i as u64),
        Value::Int(i) => {
            errs.at(
                src,
                v.span.clone(),
                format!("`{key}` must be between {min} and {max}, found {i}"),
            );
            None
        }
        _ => {
            errs.expected(src, v, format!("`{key}` must be an integer"));
            None
        }
    }
}

fn as_str_list(src: &Src, errs: &mut Errs, v: &Node, key: &str) -> Option<Vec<String>> {
    let Value::Array(items) = &v.value else {
        errs.expected(src, v, format!("`{key}` must be an array of strings"));
        return None;
    };
    let mut out = Vec::new();
    for it in items {
        out.push(as_str(src, errs, it, key)?.to_string());
    }
    Some(out)
}

fn as_word<T: Clone>(
    src: &Src,
    errs: &mut Errs,
    v: &Node,
    key: &str,
    words: &[(&str, T)],
) -> Option<T> {
    let s = as_str(src, errs, v, key)?;
    if let Some((_, t)) = words.iter().find(|(w, _)| *w == s) {
        return Some(t.clone());
    }
    let names: Vec<&str> = words.iter().map(|(w, _)| *w).collect();
    word_error(src, errs, v.span.clone(), key, s, &names);
    None
}

/// `key` holds `s`, which is none of the words `names`: a suggestion when close.
fn word_error(
    src: &Src,
    errs: &mut Errs,
    span: std::ops::Range<usize>,
    key: &str,
    s: &str,
    names: &[&str],
) {
    let msg = format!("`{key}` cannot be \"{}\"", excerpt(s, 60));
    let help = match suggest(s, names) {
        Some(g) => format!("did you mean \"{g}\"? (one of: {})", names.join(", ")),
        None => format!("expected one of: {}", names.join(", ")),
    };
    errs.help(src, span, msg, help);
}

/// One flat table read into its serde struct (tables.rs), every problem worded
/// and pointed at: the key for an unknown key, the value for a bad value.
fn read_table<T: serde::de::DeserializeOwned>(
    src: &Src,
    errs: &mut Errs,
    node: &Node,
    what: &str,
) -> Option<T> {
    if !matches!(node.value, Value::Table(_)) {
        errs.expected(src, node, format!("{what} must be a table"));
        return None;
    }
    let (t, problems) = super::de::table::<T>(node);
    for p in problems {
        report(src, errs, node, what, p);
    }
    t
}

/// The message for one problem `de` found in the table `table`.
fn report(src: &Src, errs: &mut Errs, table: &Node, what: &str, e: DeError) {
    let span = e.span.clone().unwrap_or(table.span.clone());
    let key = e.key.as_deref().unwrap_or_default();
    match e.problem {
        Problem::UnknownKey { valid } => {
            let msg = format!("unknown key `{}` in {what}", excerpt(key, 60));
            let help = did_you_mean(key, valid, ticked, "valid keys here");
            errs.help(src, span, msg, help);
        }
        Problem::MissingKey(k) => errs.at(
            src,
            table.span.clone(),
            format!("{what} is missing the required key `{k}`"),
        ),
        Problem::Type { expected, found } => errs.at(
            src,
            span,
            format!("`{key}` must be {expected}, found {found}"),
        ),
        Problem::Word { found, valid } => word_error(src, errs, span, key, &found, valid),
        Problem::Other(m) if key.is_empty() => errs.at(src, span, m),
        Problem::Other(m) => errs.at(src, span, format!("`{key}` {m}")),
    }
}

fn parse_toml(file: &Path, text: &str) -> Result<Node, Diagnostic> {
    toml::from_str::<Node>(text).map_err(|e| {
        let mut msg = e.message().trim().to_string();
        match e.span() {
            Some(span) => {
                if let Some(m) = super::input::date_message(&msg, text, span.start) {
                    msg = m;
                }
                Diagnostic::at(file, text, span, msg, None)
            }
            None => Diagnostic::whole_file(file, msg),
        }
    })
}

/// A suite or kinds file: regular files of at most 1 MiB of UTF-8 only.
fn read(file: &Path) -> Result<String, SpecErrors> {
    super::input::read_source(file).map_err(|d| SpecErrors(vec![d]))
}

const KIND_KEYS: &[&str] = &[
    "build",
    "build_inputs",
    "command",
    "env",
    "ready_timeout_s",
    "stop_grace_s",
    "black_box",
    "error_patterns",
    "programs",
    "description",
];
const NODE_KEYS: &[&str] = &[
    "id",
    "kind",
    "port",
    "election_timeout_ms",
    "heartbeat_ms",
    "env",
    "args",
];
const STEP_ACTIONS: &[&str] = &[
    "wait", "workload", "sleep_s", "fault", "net", "heal", "repeat", "nemesis", "msg",
];

/// Read and validate a suite file and the kind files it includes.
///
/// Stages: text → tables (`Top`) → kinds (included files, then the suite's own) → `[cluster]`
/// → nodes → workload → steps → checks → `[explore]`, each adding its problems to one list;
/// any problem makes the whole load an `Err` with all of them.
pub fn load(path: &Path) -> Result<Spec, SpecErrors> {
    let text = read(path)?;
    let root_node = parse_toml(path, &text).map_err(|d| SpecErrors(vec![d]))?;
    let src = Src {
        file: path,
        text: &text,
    };
    let mut errs = Errs::default();
    let mut sources = vec![(path.to_path_buf(), text.clone())];
    let dir = dir_of(path);

    let Some(top) = read_table::<Top>(&src, &mut errs, &root_node, "the suite") else {
        return Err(SpecErrors(errs.0));
    };
    if kindfile::refuse(&src, &mut errs, &top) {
        return Err(SpecErrors(errs.0));
    }
    let name = suite_name(&src, &mut errs, path, &top);
    let description = top.description.clone().unwrap_or_default();
    let seed = top.seed.map(|s| s.0);

    let (kinds, include_failed) = read_all_kinds(&src, &mut errs, &top, &dir, &mut sources);

    let cf = top
        .cluster
        .as_ref()
        .and_then(|n| read_table::<ClusterTable>(&src, &mut errs, n, "[cluster]"))
        .unwrap_or_default();
    let (cluster, base_port) = read_cluster(&src, &mut errs, &cf);

    let ncx = NodeCx {
        kinds: &kinds,
        include_failed,
        timing: cluster.timing,
        base_port,
    };
    let (nodes, node_kinds) = read_nodes_and_kinds(&src, &mut errs, top.node.as_ref(), &ncx);
    let ids: BTreeSet<u32> = nodes.iter().map(|n| n.id).collect();
    if let Some(links) = links_written(&cf) {
        refuse_peer_addrs_through_proxies(&src, &mut errs, links, &nodes, &kinds);
    }

    let workload = top
        .workload
        .as_ref()
        .and_then(|n| read_workload(&src, &mut errs, n, &ids));
    let has_wl = workload.is_some();
    let steps = read_suite_steps(&src, &mut errs, &top, &ids, node_kinds, &cluster, has_wl);
    let checks = read_suite_checks(&src, &mut errs, &top, workload.as_ref(), &steps, &cluster);
    let explore = top
        .explore
        .as_ref()
        .and_then(|n| explore::read(&src, &mut errs, n, &cluster));

    if errs.0.is_empty() {
        Ok(Spec {
            name,
            file: path.to_path_buf(),
            description,
            seed,
            kinds,
            cluster,
            nodes,
            workload,
            steps,
            checks,
            sources,
            explore,
        })
    } else {
        Err(SpecErrors(errs.0))
    }
}

/// `name`, or the file's stem; checked as a file name.
fn suite_name(src: &Src, errs: &mut Errs, path: &Path, top: &Top) -> String {
    let name = top
        .name
        .as_ref()
        .map(|n| n.get_ref().clone())
        .unwrap_or_else(|| {
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "suite".into())
        });
    check_suite_name(src, errs, &name, top.name.as_ref().map(|n| n.span()));
    name
}

/// Kinds: from included files first, then the suite's own [kind.*] tables. Each included
/// file read is added to `sources`. Also true when an `include` failed.
fn read_all_kinds(
    src: &Src,
    errs: &mut Errs,
    top: &Top,
    dir: &Path,
    sources: &mut Vec<(std::path::PathBuf, String)>,
) -> (BTreeMap<String, Kind>, bool) {
    let mut kinds = BTreeMap::new();
    let errors_before_include = errs.0.len();
    let inc_node = top.include.as_ref();
    if let Some(inc) = inc_node.and_then(|n| as_str_list(src, errs, n, "include")) {
        let inc_node = inc_node.unwrap();
        for (i, rel) in inc.iter().enumerate() {
            let span = match &inc_node.value {
                Value::Array(items) => items[i].span.clone(),
                _ => inc_node.span.clone(),
            };
            let ipath = dir.join(rel);
            if let Some(itext) = read_include(src, errs, span, &ipath, &mut kinds) {
                sources.push((ipath, itext));
            }
        }
    }
    let include_failed = errs.0.len() > errors_before_include;
    let (root, kind) = (top.root.as_deref(), top.kind.as_ref());
    read_kinds(src, errs, root, kind, dir, &mut kinds);
    (kinds, include_failed)
}

/// One included kinds file at `ipath` (named at `span` of the suite): its kinds go into
/// `kinds`. Returns its text when it could be read (even if it is not TOML).
fn read_include(
    src: &Src,
    errs: &mut Errs,
    span: std::ops::Range<usize>,
    ipath: &Path,
    kinds: &mut BTreeMap<String, Kind>,
) -> Option<String> {
    let itext = match super::input::read_source(ipath) {
        Ok(t) => t,
        Err(d) if d.line > 0 => {
            // A position inside the included file (bad UTF-8): point there.
            errs.0.push(d);
            return None;
        }
        Err(d) => {
            let msg = format!("included file {}: {}", ipath.display(), d.message);
            errs.at(src, span, msg);
            return None;
        }
    };
    let isrc = Src {
        file: ipath,
        text: &itext,
    };
    match parse_toml(ipath, &itext) {
        // Not TOML (e.g. a system file): the error is the suite's include;
        // the included file's text is not quoted.
        Err(d) => errs.help(
            src,
            span,
            match d.line {
                0 => format!(
                    "included file {} is not TOML: {}",
                    ipath.display(),
                    d.message
                ),
                l => format!(
                    "included file {} is not TOML: line {l}, column {}: {}",
                    ipath.display(),
                    d.col,
                    d.message
                ),
            },
            "`include` names kind files ([kind.NAME] tables), e.g. `include = [\"kinds.toml\"]`",
        ),
        Ok(inode) => {
            if let Some(f) = read_table::<KindFile>(&isrc, errs, &inode, "a kinds file") {
                let idir = dir_of(ipath);
                let (root, kind) = (f.root.as_deref(), f.kind.as_ref());
                read_kinds(&isrc, errs, root, kind, &idir, kinds);
            }
        }
    }
    Some(itext)
}

/// What reading a `[[node]]` needs from the stages before it.
struct NodeCx<'a> {
    kinds: &'a BTreeMap<String, Kind>,
    /// An `include` failed: an unknown kind may be one of its.
    include_failed: bool,
    /// `[cluster]`'s timing, the default of each node's.
    timing: Timing,
    /// A node without `port` listens on `base_port + id`.
    base_port: u64,
}

/// [`read_nodes`], and the kinds of the nodes when every `[[node]]` was read without a
/// problem (None otherwise: a step naming a kind is then not checked against them).
fn read_nodes_and_kinds(
    src: &Src,
    errs: &mut Errs,
    node: Option<&Node>,
    cx: &NodeCx,
) -> (Vec<NodeSpec>, Option<BTreeSet<String>>) {
    let before = errs.0.len();
    let nodes = read_nodes(src, errs, node, cx);
    let kinds = (errs.0.len() == before).then(|| nodes.iter().map(|n| n.kind.clone()).collect());
    (nodes, kinds)
}

/// The `[[node]]` tables (at most [`MAX_NODES`]): ids and ports unique.
fn read_nodes(src: &Src, errs: &mut Errs, node: Option<&Node>, cx: &NodeCx) -> Vec<NodeSpec> {
    let mut nodes: Vec<NodeSpec> = Vec::new();
    let mut seen_ids: BTreeMap<u32, ()> = BTreeMap::new();
    let mut seen_ports: BTreeMap<u16, u32> = BTreeMap::new();
    let Some(n) = node else {
        errs.at(
            src,
            0..0,
            "the suite has no nodes: add [[node]] tables with `id` and `kind`",
        );
        return nodes;
    };
    let Some(items) = array_of_tables(src, errs, n, "node") else {
        return nodes;
    };
    if items.is_empty() {
        errs.help(
            src,
            n.span.clone(),
            "the node list is empty",
            "add [[node]] tables with `id` and `kind`",
        );
    }
    if items.len() > MAX_NODES {
        errs.help(
            src,
            n.span.clone(),
            format!(
                "{} nodes; a suite may have at most {MAX_NODES}",
                items.len()
            ),
            "each node is a process (and one proxy per link): split the suite",
        );
    }
    for item in items.iter().take(MAX_NODES) {
        if let Some(node) = read_node(src, errs, item, cx, &mut seen_ids, &mut seen_ports) {
            nodes.push(node);
        }
    }
    nodes
}

/// The items of `n`, the value of `key` (`node`, `step`): an array of `[[key]]` tables.
fn array_of_tables<'n>(src: &Src, errs: &mut Errs, n: &'n Node, key: &str) -> Option<&'n [Node]> {
    let Value::Array(items) = &n.value else {
        errs.help(
            src,
            n.span.clone(),
            format!(
                "`{key}` must be an array of tables, found {}",
                n.value.type_name()
            ),
            format!("write each {key} as a [[{key}]] table"),
        );
        return None;
    };
    Some(items)
}

/// One `[[node]]`; `seen_ids` and `seen_ports` hold the nodes read before it.
fn read_node(
    src: &Src,
    errs: &mut Errs,
    item: &Node,
    cx: &NodeCx,
    seen_ids: &mut BTreeMap<u32, ()>,
    seen_ports: &mut BTreeMap<u16, u32>,
) -> Option<NodeSpec> {
    let f = fields(src, errs, item, "[[node]]", NODE_KEYS)?;
    let id = f
        .require(src, errs, "id")
        .and_then(|v| as_uint(src, errs, v, "id", 1, 60_000))
        .map(|i| i as u32);
    let kind = f
        .require(src, errs, "kind")
        .and_then(|v| read_node_kind(src, errs, v, cx));
    let port = f.uint(src, errs, "port", 1, 65535).map(|p| p as u16);
    let (election, heartbeat) = (f.get("election_timeout_ms"), f.get("heartbeat_ms"));
    let ntiming = read_timing(src, errs, election, heartbeat, cx.timing);
    let env = f.env(src, errs, "env");
    let args = f.str_list(src, errs, "args").unwrap_or_default();
    check_process_strings(src, errs, &f, &["args", "env"]);
    let (Some(id), Some(kind)) = (id, kind) else {
        return None;
    };
    if seen_ids.insert(id, ()).is_some() {
        errs.at(
            src,
            f.get("id").unwrap().span.clone(),
            format!("node id {id} is used twice"),
        );
        // Its port (base_port + id) is the first one's: one error is enough.
        return None;
    }
    let port = match port {
        Some(p) => p,
        None => match u16::try_from(cx.base_port + id as u64) {
            Ok(p) => p,
            Err(_) => {
                errs.at(
                    src,
                    f.span.clone(),
                    format!(
                        "base_port + id = {} is not a valid port",
                        cx.base_port + id as u64
                    ),
                );
                return None;
            }
        },
    };
    if let Some(other) = seen_ports.insert(port, id) {
        errs.at(
            src,
            f.key_span("port"),
            format!("port {port} is used by nodes {other} and {id}"),
        );
    }
    Some(NodeSpec {
        id,
        kind,
        port,
        timing: ntiming,
        env,
        args,
    })
}

/// A node's `kind`: one of the kinds read.
fn read_node_kind(src: &Src, errs: &mut Errs, v: &Node, cx: &NodeCx) -> Option<String> {
    let k = as_str(src, errs, v, "kind")?;
    if cx.kinds.contains_key(k) {
        return Some(k.to_string());
    }
    let names: Vec<&str> = cx.kinds.keys().map(String::as_str).collect();
    let help = if names.is_empty() && cx.include_failed {
        "no kinds were read: fix the `include` error above".to_string()
    } else if names.is_empty() {
        "no kinds are defined: add `include = [\"kinds.toml\"]` or a [kind.NAME] table".to_string()
    } else {
        did_you_mean(k, &names, quoted, "defined kinds")
    };
    let msg = format!("unknown node kind \"{}\"", excerpt(k, 60));
    errs.help(src, v.span.clone(), msg, help);
    None
}

/// The suite's `[[step]]` list (empty when absent).
fn read_suite_steps(
    src: &Src,
    errs: &mut Errs,
    top: &Top,
    ids: &BTreeSet<u32>,
    node_kinds: Option<BTreeSet<String>>,
    cluster: &Cluster,
    has_workload: bool,
) -> Vec<Step> {
    if let (Some(n), true, false) = (&top.step, cluster.proxies, cluster.rpc) {
        msgstep::refuse_on_tcp_proxies(src, errs, n);
    }
    if let (Some(n), Backend::Docker) = (&top.step, cluster.backend) {
        dockerfit::refuse_flaky(src, errs, n);
    }
    let Some(n) = &top.step else {
        return Vec::new();
    };
    let mut cx = StepCx {
        ids,
        proxies: cluster.proxies,
        has_workload,
        labels: Labels::new(),
        node_kinds,
        disruption: waitfit::Disruption::default(),
    };
    let steps = read_steps(src, errs, n, &mut cx);
    cx.disruption.report(src, errs);
    steps
}

/// Calls `visit(entries, key, value)` for each entry of each table of `steps` (the suite's
/// `step` array), where `entries` is the step table; the steps of a `repeat` (`steps = [...]`)
/// are walked in their place, in file order. Values of other types are passed over: the step
/// readers report them.
fn each_step_entry<'n, F>(steps: &'n Node, visit: &mut F)
where
    F: FnMut(&'n [(Key, Node)], &'n Key, &'n Node),
{
    let Value::Array(items) = &steps.value else {
        return;
    };
    for item in items {
        let Value::Table(entries) = &item.value else {
            continue;
        };
        for (k, v) in entries {
            match k.name.as_str() {
                "steps" => each_step_entry(v, visit),
                _ => visit(entries, k, v),
            }
        }
    }
}

/// `[checks]`; a `required` check the suite cannot produce evidence for is refused.
fn read_suite_checks(
    src: &Src,
    errs: &mut Errs,
    top: &Top,
    workload: Option<&Workload>,
    steps: &[Step],
    cluster: &Cluster,
) -> Checks {
    let checks_table = top
        .checks
        .as_ref()
        .and_then(|n| read_table::<ChecksTable>(src, errs, n, "[checks]"));
    let required_span = checks_table
        .as_ref()
        .and_then(|f| f.required.as_ref().map(|r| r.span()));
    // Each entry of `required` at its own span (the whole array if they cannot be found).
    let entries = top
        .checks
        .as_ref()
        .map(|n| entry_spans(n, "required"))
        .unwrap_or_default();
    let at = |i: usize| {
        entries
            .get(i)
            .cloned()
            .or(required_span.clone())
            .unwrap_or(0..0)
    };
    let checks = read_checks(src, errs, checks_table, &at);
    if let Some(span) = required_span {
        let p = needs::Produces::of(workload.map(|w| w.kind), steps, cluster.rpc);
        refuse_unjudgeable(src, errs, span, &checks.required, p);
    }
    checks
}

/// The spans of the items of the array `key` of the table `table` (empty when it is not one).
fn entry_spans(table: &Node, key: &str) -> Vec<std::ops::Range<usize>> {
    let Value::Table(entries) = &table.value else {
        return Vec::new();
    };
    match entries.iter().find(|(k, _)| k.name == key) {
        Some((
            _,
            Node {
                value: Value::Array(items),
                ..
            },
        )) => items.iter().map(|n| n.span.clone()).collect(),
        _ => Vec::new(),
    }
}

/// `[cluster]` as `Cluster`, and `base_port` (default 5000) for nodes without a `port`.
fn read_cluster(src: &Src, errs: &mut Errs, cf: &ClusterTable) -> (Cluster, u64) {
    let host = cf
        .host
        .as_ref()
        .map_or("127.0.0.1", |h| h.get_ref().as_str())
        .to_string();
    if let Some(h) = &cf.host {
        check_host(src, errs, &host, h.span());
    }
    let default_timing = Timing {
        election_min_ms: 150,
        election_max_ms: 300,
        heartbeat_ms: 50,
    };
    let (election, heartbeat) = (cf.election_timeout_ms.as_ref(), cf.heartbeat_ms.as_ref());
    let timing = read_timing(src, errs, election, heartbeat, default_timing);
    // `network = "rpc"`: RPC-aware links (harness/net/rpc.rs); they are proxies too.
    let rpc = cf
        .network
        .as_ref()
        .is_some_and(|n| *n.get_ref() == tables::Network::Rpc);
    let backend = cf
        .backend
        .as_ref()
        .map_or_else(Default::default, |b| *b.get_ref());
    if let Some(b) = cf
        .backend
        .as_ref()
        .filter(|_| rpc && backend == Backend::Docker)
    {
        // Containers reach their peers directly on the run's bridge network: no link of the
        // harness is on that path (docker/README.md).
        errs.help(
            src,
            b.span(),
            "`backend = \"docker\"` cannot have `network = \"rpc\"`: containers call their peers directly, not through the harness's links",
            "use the process backend for RPC-aware links and message faults",
        );
    }
    let cluster = Cluster {
        rpc,
        host,
        timing,
        poll_ms: cf.poll_ms.map_or(50, |v| v.0),
        log_poll_ms: cf.log_poll_ms.map_or(1000, |v| v.0),
        proxies: cf.proxies.as_ref().is_some_and(|p| p.get_ref().0) || rpc,
        node_log_cap_bytes: cf
            .node_log_cap_mb
            .map_or(super::DEFAULT_NODE_LOG_CAP_BYTES, |mb| mb.0 << 20),
        backend,
    };
    (cluster, cf.base_port.map_or(5000, |v| v.0))
}

/// `[checks]` (None: absent) as `Checks`, with the defaults; `required` names known checks.
/// `at(i)`: where the i-th entry of `required` is written.
fn read_checks(
    src: &Src,
    errs: &mut Errs,
    f: Option<ChecksTable>,
    at: &dyn Fn(usize) -> std::ops::Range<usize>,
) -> Checks {
    let Some(f) = f else {
        return Checks {
            required: Vec::new(),
            settle_timeout_ms: 20_000,
            lin_timeout_ms: 30_000,
            max_new_terms: 3,
            term_window_ms: None,
            terms_through_network_faults: false,
            node_errors_warn: false,
        };
    };
    let required = f.required.map_or(Vec::new(), |r| r.get_ref().0.clone());
    for (i, r) in required.iter().enumerate() {
        if !CHECK_NAMES.contains(&r.as_str()) {
            let msg = format!("unknown check \"{}\" in `required`", excerpt(r, 60));
            let help = did_you_mean(r, CHECK_NAMES, quoted, "checks");
            errs.help(src, at(i), msg, help);
        }
    }
    Checks {
        required,
        settle_timeout_ms: f.settle_timeout_s.map_or(20_000, |s| s.0),
        lin_timeout_ms: f.lin_timeout_s.map_or(30_000, |s| s.0),
        max_new_terms: f.max_new_terms.map_or(3, |v| v.0 as u32),
        term_window_ms: f.term_window_s.map(|s| s.0),
        terms_through_network_faults: f.terms_through_network_faults.is_some_and(|b| b.0),
        node_errors_warn: f.node_errors == Some(NodeErrors::Warning),
    }
}

/// A required check no run of this suite can judge ([`needs::unjudgeable`]) is
/// an error at `required` (it would be exit 4 in every run).
fn refuse_unjudgeable(
    src: &Src,
    errs: &mut Errs,
    span: std::ops::Range<usize>,
    required: &[String],
    p: needs::Produces,
) {
    for u in needs::unjudgeable(required, p) {
        let msg = format!(
            "required check \"{}\" can never be judged: {}",
            u.check, u.why
        );
        errs.help(src, span.clone(), msg, u.help);
    }
}

/// The absolute folder of a file (paths in specs are relative to their file).
fn dir_of(file: &Path) -> std::path::PathBuf {
    let parent = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::path::absolute(parent).unwrap_or_else(|_| parent.to_path_buf())
}

/// Nodes, proxies and clients bind and connect on IPv4 loopback only:
/// `localhost` (taken as 127.0.0.1) or an address in 127.0.0.0/8.
fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::Ipv4Addr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

/// `[cluster] host` must be an IPv4 loopback host (see `is_loopback`).
fn check_host(src: &Src, errs: &mut Errs, host: &str, span: std::ops::Range<usize>) {
    if is_loopback(host) {
        return;
    }
    let shown = excerpt(host, 60);
    let msg = match host.parse::<std::net::IpAddr>() {
        Ok(ip) if ip.is_loopback() => {
            format!("host \"{shown}\" is IPv6 loopback, which raft-harness does not support")
        }
        _ => format!("host \"{shown}\" is not a loopback address"),
    };
    errs.help(
        src,
        span,
        msg,
        "only IPv4 loopback hosts are supported: 127.0.0.0/8 or `localhost`; use 127.0.0.1",
    );
}

/// The suite's name names its report folder: letters, digits, `-` and `_`, not
/// empty, at most 200 characters.
fn check_suite_name(src: &Src, errs: &mut Errs, name: &str, node: Option<std::ops::Range<usize>>) {
    let span = node.clone().unwrap_or(0..0);
    let problem = super::input::name_problem(name)
        .or_else(|| {
            (!name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .then(|| "may hold only letters, digits, '-' and '_'".to_string())
        })
        .or_else(|| {
            (name == super::LATEST_LINK).then(|| {
                "is reserved: `latest` is the reports folder's link to the newest run".to_string()
            })
        });
    if let Some(p) = problem {
        let what = match node {
            Some(_) => "`name`",
            None => "the suite name (the file name; set `name` to choose another)",
        };
        errs.at(
            src,
            span,
            format!(
                "{what} {p} (it names a report folder), found \"{}\"",
                excerpt(name, 60)
            ),
        );
    }
}

/// Every string in the values of `keys` (string arrays like `command` and
/// `args`, or `env` tables) may use only known `{placeholders}` and holds no NUL
/// (it becomes an argument or environment entry of a process); env names are
/// not empty and hold no `=` or NUL.
fn check_process_strings(src: &Src, errs: &mut Errs, f: &Fields, keys: &[&str]) {
    for key in keys {
        let Some(v) = f.get(key) else { continue };
        let items: Vec<(Option<&Key>, &Node)> = match &v.value {
            Value::Array(items) => items.iter().map(|n| (None, n)).collect(),
            Value::Table(entries) => entries.iter().map(|(k, n)| (Some(k), n)).collect(),
            _ => continue, // a type error, reported where the value is read
        };
        for (name, it) in items {
            if let Some(k) = name.filter(|k| k.name.is_empty() || k.name.contains(['=', '\0'])) {
                let msg = format!(
                    "environment variable name \"{}\" must not be empty or hold `=` or NUL",
                    excerpt(&k.name, 40)
                );
                errs.at(src, k.span.clone(), msg);
            }
            let Value::Str(arg) = &it.value else { continue };
            if arg.contains('\0') {
                errs.at(
                    src,
                    it.span.clone(),
                    format!("`{key}` values must not contain a NUL character"),
                );
            }
            check_placeholder(src, errs, it, arg, key);
        }
    }
}

fn check_placeholder(src: &Src, errs: &mut Errs, it: &Node, arg: &str, key: &str) {
    use super::template;
    if let Err(bad) = template::check(arg) {
        let bad = excerpt(&bad, 40);
        let msg = format!("unknown placeholder `{{{bad}}}` in `{key}`");
        let help = did_you_mean(
            &bad,
            template::PLACEHOLDERS,
            |s| format!("`{{{s}}}`"),
            "placeholders",
        );
        errs.help(src, it.span.clone(), msg, help);
    }
}

/// The `[kind.NAME]` tables of a suite or kinds file (`kind`), relative to `root` in `dir`.
fn read_kinds(
    src: &Src,
    errs: &mut Errs,
    root: Option<&str>,
    kind: Option<&Node>,
    dir: &Path,
    kinds: &mut BTreeMap<String, Kind>,
) {
    let root = match root {
        Some(r) => dir.join(r),
        None => dir.to_path_buf(),
    };
    let Some(kn) = kind else { return };
    let Value::Table(entries) = &kn.value else {
        errs.expected(src, kn, "`kind` must be a table of [kind.NAME] tables");
        return;
    };
    for (k, v) in entries {
        let Some(kind) = read_kind(src, errs, k, v, &root) else {
            continue;
        };
        if kinds.contains_key(&k.name) {
            errs.at(
                src,
                k.span.clone(),
                format!("node kind \"{}\" is defined twice", excerpt(&k.name, 60)),
            );
            continue;
        }
        kinds.insert(k.name.clone(), kind);
    }
}

/// One `[kind.NAME]` table `v` named by `k`, its paths relative to `root`; None when it has no
/// usable `command` (the problems are in `errs`).
fn read_kind(src: &Src, errs: &mut Errs, k: &Key, v: &Node, root: &Path) -> Option<Kind> {
    let what = format!("[kind.{}]", k.name);
    let kf = fields(src, errs, v, &what, KIND_KEYS)?;
    let command = kf
        .require(src, errs, "command")
        .and_then(|c| as_str_list(src, errs, c, "command"));
    if let (Some(cmd), Some(c)) = (&command, kf.get("command")) {
        if cmd.is_empty() {
            errs.at(src, c.span.clone(), "`command` must not be empty");
        }
    }
    check_process_strings(src, errs, &kf, &["command", "env"]);
    if let Some(p) = super::input::name_problem(&k.name) {
        // Kind names become file names (build logs, build stamps).
        let msg = format!("kind name \"{}\" {p}", excerpt(&k.name, 60));
        errs.at(src, k.span.clone(), msg);
    }
    let build = kf.str_list(src, errs, "build");
    if let (Some(b), Some(n)) = (&build, kf.get("build")) {
        if b.is_empty() {
            errs.at(
                src,
                n.span.clone(),
                "`build` must not be empty (leave it out for no build step)",
            );
        }
    }
    let build_inputs = kf
        .str_list(src, errs, "build_inputs")
        .unwrap_or_default()
        .into_iter()
        .map(std::path::PathBuf::from)
        .collect();
    let env = kf.env(src, errs, "env");
    let ready_timeout_ms = kf.secs(src, errs, "ready_timeout_s").unwrap_or(30_000);
    let stop_grace_ms = kf.secs(src, errs, "stop_grace_s").unwrap_or(3_000);
    let black_box = kf.bool(src, errs, "black_box").unwrap_or(false);
    let error_patterns = kf.str_list(src, errs, "error_patterns").unwrap_or_default();
    for p in &error_patterns {
        if let Err(e) = regex::Regex::new(p) {
            let span = kf.get("error_patterns").unwrap().span.clone();
            errs.at(
                src,
                span,
                format!("invalid regular expression {p:?} in `error_patterns`: {e}"),
            );
        }
    }
    let programs = kf.str_list(src, errs, "programs").unwrap_or_default();
    Some(Kind {
        name: k.name.clone(),
        root: root.to_path_buf(),
        build,
        build_inputs,
        command: command?,
        env,
        ready_timeout_ms,
        stop_grace_ms,
        black_box,
        error_patterns,
        programs,
    })
}

/// The `[cluster]` setting the user wrote that puts the harness's links between the nodes:
/// `proxies = true`, else `network = "rpc"` (RPC-aware links are proxies too), with the
/// span of its value and how to name it; None when the nodes call each other directly.
fn links_written(cf: &ClusterTable) -> Option<(std::ops::Range<usize>, &'static str)> {
    if let Some(p) = cf.proxies.as_ref().filter(|p| p.get_ref().0) {
        return Some((p.span(), "`proxies = true`"));
    }
    cf.network
        .as_ref()
        .filter(|n| *n.get_ref() == tables::Network::Rpc)
        .map(|n| (n.span(), "`network = \"rpc\"` (its links are proxies too)"))
}

/// Issue 11 §7: servers of the original protocol (`{peer_addrs}`: plain
/// `HOST:PORT` peers) derive a peer's id as PORT−5000; with `proxies = true`
/// (or `network = "rpc"`) those ports are the proxies' (e.g. 35561), so such a
/// server computes wrong ids and misroutes its RPCs. Refused at the setting
/// written (`links`: its span and name, [`links_written`]), naming the nodes.
fn refuse_peer_addrs_through_proxies(
    src: &Src,
    errs: &mut Errs,
    links: (std::ops::Range<usize>, &str),
    nodes: &[NodeSpec],
    kinds: &BTreeMap<String, Kind>,
) {
    let (span, setting) = links;
    let uses = |a: &String| a.contains("{peer_addrs}");
    let bad: Vec<String> = nodes
        .iter()
        .filter(|n| {
            n.args.iter().any(uses)
                || n.env.iter().any(|(_, v)| uses(v))
                || kinds.get(&n.kind).is_some_and(|k| {
                    k.command.iter().any(uses) || k.env.iter().any(|(_, v)| uses(v))
                })
        })
        .map(|n| format!("{} ({})", n.id, n.kind))
        .collect();
    if bad.is_empty() {
        return;
    }
    errs.help(
        src,
        span,
        format!(
            "{setting} with `{{peer_addrs}}` (nodes {}): through the proxies the peers' ports are the proxies' own, so a server that derives a peer's id as PORT-5000 gets wrong ids",
            bad.join(", ")
        ),
        "give such servers `{peers}` (ID=HOST:PORT) if they accept it, or run them without `proxies` and `network = \"rpc\"` (no `net` or `msg` steps)",
    );
}

/// `election_timeout_ms` ("300-600" or [300, 600]) and `heartbeat_ms`, checked for sanity.
fn read_timing(
    src: &Src,
    errs: &mut Errs,
    election: Option<&Node>,
    heartbeat: Option<&Node>,
    base: Timing,
) -> Timing {
    let mut t = base;
    // An invalid value is reported once; the heartbeat check below would only
    // compare against a default the user never chose.
    let mut invalid = false;
    if let Some(v) = election {
        let pair = match &v.value {
            Value::Str(s) => s.split_once('-').and_then(|(a, b)| {
                Some((a.trim().parse::<u64>().ok()?, b.trim().parse::<u64>().ok()?))
            }),
            Value::Array(items) if items.len() == 2 => match (&items[0].value, &items[1].value) {
                (Value::Int(a), Value::Int(b)) if *a >= 0 && *b >= 0 => {
                    Some((*a as u64, *b as u64))
                }
                _ => None,
            },
            _ => None,
        };
        invalid = !matches!(pair, Some((a, b)) if a < b && a > 0);
        match pair {
            None => errs.help(
                src,
                v.span.clone(),
                "`election_timeout_ms` must be a range",
                "write it as [MIN, MAX] or \"MIN-MAX\", e.g. [300, 600]",
            ),
            Some((a, b)) if a >= b || a == 0 => errs.at(
                src,
                v.span.clone(),
                format!(
                    "election timeout minimum ({a}) must be above 0 and below the maximum ({b})"
                ),
            ),
            Some((a, b)) => {
                t.election_min_ms = a;
                t.election_max_ms = b;
            }
        }
    }
    match heartbeat.and_then(|v| as_uint(src, errs, v, "heartbeat_ms", 1, 60_000)) {
        Some(h) => t.heartbeat_ms = h,
        None => invalid |= heartbeat.is_some(),
    }
    // A heartbeat must arrive several times per election timeout, or followers
    // start elections against a healthy leader (the original used 50 vs 150).
    if !invalid && t.heartbeat_ms * 3 > t.election_min_ms {
        let Some(at) = heartbeat.or(election) else {
            return t;
        };
        let span = at.span.clone();
        errs.help(
            src,
            span,
            format!(
                "heartbeat {} ms is not well below the minimum election timeout {} ms",
                t.heartbeat_ms, t.election_min_ms
            ),
            format!(
                "keep heartbeat_ms at most a third of the minimum election timeout (here ≤ {} ms)",
                t.election_min_ms / 3
            ),
        );
    }
    t
}

fn read_workload(src: &Src, errs: &mut Errs, n: &Node, ids: &BTreeSet<u32>) -> Option<Workload> {
    let f = read_table::<tables::WorkloadTable>(src, errs, n, "[workload]")?;
    let rate = f.rate.map_or(0.0, |r| r.0);
    let targets = match &f.targets {
        None => Vec::new(),
        Some(v) => read_ids(src, errs, v, "targets", ids).unwrap_or_default(),
    };
    let groups = match &f.group {
        None => Vec::new(),
        Some(g) => read_groups(src, errs, g, ids, rate),
    };
    let clients = f.clients.map_or(3, |c| c.0 as u32);
    // `mode` / `max_clients` depend on the other keys (arrivals.rs): read from the raw table,
    // whose keys serde has already checked.
    let present: Vec<&str> = match &n.value {
        Value::Table(entries) => entries.iter().map(|(k, _)| k.name.as_str()).collect(),
        _ => Vec::new(),
    };
    let raw = fields(src, errs, n, "[workload]", &present)?;
    let given = arrivals::Read {
        clients,
        rate,
        groups: &groups,
    };
    let (mode, max_clients) = arrivals::read(src, errs, &raw, given);
    Some(Workload {
        kind: f.kind,
        clients,
        rate,
        keys: f.keys.map_or(3, |k| k.0 as u32),
        targets,
        request_timeout_ms: f.request_timeout_ms.map_or(3000, |t| t.0),
        mode,
        max_clients,
        groups,
    })
}

/// `[[workload.group]]` tables: `clients` (default 1), `rate` (default: the
/// workload's), `targets` (default: every node).
fn read_groups(
    src: &Src,
    errs: &mut Errs,
    v: &Node,
    ids: &BTreeSet<u32>,
    rate: f64,
) -> Vec<ClientGroup> {
    let Value::Array(items) = &v.value else {
        errs.expected(
            src,
            v,
            "`group` must be an array of tables ([[workload.group]])",
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for it in items {
        let what = "[[workload.group]]";
        let Some(f) = read_table::<tables::GroupTable>(src, errs, it, what) else {
            continue;
        };
        let targets = match &f.targets {
            None => Vec::new(),
            Some(t) => read_ids(src, errs, t, "targets", ids).unwrap_or_default(),
        };
        out.push(ClientGroup {
            clients: f.clients.map_or(1, |c| c.0 as u32),
            rate: f.rate.map_or(rate, |r| r.0),
            targets,
        });
    }
    out
}

/// `"all"`, an id, or an array of ids; every id must be a node of the suite.
fn read_ids(
    src: &Src,
    errs: &mut Errs,
    v: &Node,
    key: &str,
    ids: &BTreeSet<u32>,
) -> Option<Vec<u32>> {
    let list: Vec<&Node> = match &v.value {
        Value::Str(s) if s == "all" => return Some(Vec::new()),
        Value::Int(_) => vec![v],
        Value::Array(items) => items.iter().collect(),
        _ => {
            errs.expected(
                src,
                v,
                format!("`{key}` must be \"all\", a node id or an array of node ids"),
            );
            return None;
        }
    };
    let mut out = Vec::new();
    for it in list {
        let id = as_uint(src, errs, it, key, 1, 60_000)? as u32;
        if !ids.contains(&id) {
            errs.help(
                src,
                it.span.clone(),
                format!("no node has id {id}"),
                format!(
                    "node ids: {}",
                    ids.iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            return None;
        }
        out.push(id);
    }
    Some(out)
}

/// `wait = "leader"` with `kind = "KIND"`: move leadership until a KIND node leads (issue 13).
fn lead_by(
    src: &Src,
    errs: &mut Errs,
    k: &Node,
    cond: WaitFor,
    timeout_ms: u64,
    expect_timeout: bool,
) -> Option<Action> {
    let kind = as_str(src, errs, k, "kind")?.to_string();
    if cond != WaitFor::Leader || expect_timeout || kind.is_empty() {
        let msg = "`kind` goes with `wait = \"leader\"` only (no `expect = \"timeout\"`), and names a node kind";
        errs.at(src, k.span.clone(), msg);
        return None;
    }
    Some(Action::LeadBy { kind, timeout_ms })
}

/// The words of a keyword enum (strum's kebab-case names) with their values, in the order the
/// enum declares them (the order error messages list them in).
fn words_of<T>() -> Vec<(&'static str, T)>
where
    T: strum::IntoEnumIterator + Copy + Into<&'static str>,
{
    T::iter().map(|t| (t.into(), t)).collect()
}

/// Words of `fault` steps (and of the nemesis): `kill`, `stop`, `pause`, `resume`, `restart`,
/// `crash-all`.
pub static PROC_FAULTS: LazyLock<Vec<(&str, ProcFault)>> = LazyLock::new(words_of);

/// Words of `net` steps (and of the nemesis): `isolate`, `halves`, `bridge`,
/// `majorities-ring`, `flaky`.
pub static NET_SHAPES: LazyLock<Vec<(&str, NetShape)>> = LazyLock::new(words_of);

const TARGET_WORDS: &[(&str, Target)] = &[
    ("leader", Target::Leader),
    ("follower", Target::Follower),
    ("random", Target::Random),
    ("minority", Target::Minority),
    ("majority", Target::Majority),
    ("all", Target::All),
    ("down", Target::Down),
    ("paused", Target::Paused),
    ("previous", Target::Previous),
    ("isolated", Target::Isolated),
    ("candidate", Target::Candidate),
];

/// What the `[[step]]` readers share besides the file and its problems: the suite's node ids
/// and links, whether it has a `[workload]`, and the labels of the steps read so far.
struct StepCx<'a> {
    ids: &'a BTreeSet<u32>,
    /// `[cluster]` routes node traffic through the harness's links (TCP proxies or RPC-aware).
    proxies: bool,
    has_workload: bool,
    labels: Labels,
    /// The kinds of the suite's nodes; None when a `[[node]]` could not be read.
    node_kinds: Option<BTreeSet<String>>,
    /// `new-leader` waits and the steps before them that can depose a leader.
    disruption: waitfit::Disruption,
}

/// `target = "@name"`: the nodes the step labelled `name` hit. The label must be
/// defined by an earlier step (in file order).
fn read_label_target(
    src: &Src,
    errs: &mut Errs,
    v: &Node,
    name: &str,
    labels: &Labels,
) -> Option<Target> {
    if labels.contains_key(name) {
        return Some(Target::Label(name.to_string()));
    }
    let known: Vec<&str> = labels.keys().map(String::as_str).collect();
    let help = if known.is_empty() {
        "no earlier step has a `label`; add `label = \"NAME\"` to the step whose nodes you mean"
            .to_string()
    } else {
        did_you_mean(
            name,
            &known,
            |s| format!("\"@{s}\""),
            "labels defined before this step",
        )
    };
    errs.help(
        src,
        v.span.clone(),
        format!("unknown label \"@{name}\": no step before this one has `label = \"{name}\"`"),
        help,
    );
    None
}

/// `label = "name"` on a fault, net or msg step: later steps may target `@name`, which names
/// `nodes` (as far as known before the run, [`labelset`]).
fn read_label(src: &Src, errs: &mut Errs, f: &Fields, labels: &mut Labels, nodes: Option<Target>) {
    let Some(v) = f.get("label") else { return };
    let Some(name) = as_str(src, errs, v, "label") else {
        return;
    };
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        errs.help(
            src,
            v.span.clone(),
            format!("`label` cannot be \"{name}\""),
            "use letters, digits, `-` and `_`",
        );
        return;
    }
    let line = src.line(v.span.start);
    match labels.get(name) {
        Some(first) => errs.help(
            src,
            v.span.clone(),
            format!("label \"{name}\" is already defined on line {}", first.line),
            "give each labelled step its own name",
        ),
        _ => {
            labels.insert(name.to_string(), LabelDef { line, nodes });
        }
    }
}

/// A step's `target` (`default` when absent; an error when there is none).
fn read_target(
    src: &Src,
    errs: &mut Errs,
    f: &Fields,
    default: Option<Target>,
    cx: &StepCx,
) -> Option<Target> {
    let Some(v) = f.get("target") else {
        if default.is_none() {
            errs.help(
                src,
                f.span.clone(),
                format!("{} needs a `target`", f.what),
                format!(
                    "one of: {}, \"@LABEL\", a node id, or an array of ids",
                    TARGET_WORDS
                        .iter()
                        .map(|(w, _)| *w)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        return default;
    };
    target_value(src, errs, v, "target", cx)
}

/// The value `v` of a target key (`target`, a `msg` step's `from`/`to`): a target word,
/// `"@label"`, a node id or an array of ids.
fn target_value(src: &Src, errs: &mut Errs, v: &Node, key: &str, cx: &StepCx) -> Option<Target> {
    match &v.value {
        Value::Str(w) if w.starts_with('@') => read_label_target(src, errs, v, &w[1..], &cx.labels),
        Value::Str(_) => as_word(src, errs, v, key, TARGET_WORDS),
        _ => read_ids(src, errs, v, key, cx.ids).map(Target::Ids),
    }
}

/// `mode` of a `net` step: how its cut links fail (a cut never passes).
const CUT_MODES: &[(&str, LinkMode)] = &[
    ("blackhole", LinkMode::Blackhole),
    ("reject", LinkMode::Reject),
];

/// Most nodes in one suite.
pub const MAX_NODES: usize = 64;
/// Most steps a suite runs once every `repeat` is unrolled.
pub const MAX_EXPANDED_STEPS: u64 = 100_000;

/// How many steps `steps` run with every `repeat` unrolled (saturating).
fn expanded_len(steps: &[Step]) -> u64 {
    steps
        .iter()
        .map(|s| match &s.action {
            Action::Repeat { times, steps } => {
                u64::from(*times).saturating_mul(expanded_len(steps))
            }
            _ => 1,
        })
        .fold(0u64, u64::saturating_add)
}

fn read_steps(src: &Src, errs: &mut Errs, n: &Node, cx: &mut StepCx) -> Vec<Step> {
    let Some(items) = array_of_tables(src, errs, n, "step") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        if let Some(s) = read_step(src, errs, item, cx) {
            out.push(s);
        }
    }
    out
}

fn read_step(src: &Src, errs: &mut Errs, item: &Node, cx: &mut StepCx) -> Option<Step> {
    let Value::Table(entries) = &item.value else {
        errs.expected(src, item, "a step must be a table");
        return None;
    };
    let at = step_at(src, item);
    let action_key = step_action_key(src, errs, item, entries)?;
    let what = format!("a `{action_key}` step");
    let f = fields(src, errs, item, &what, step_keys(&action_key))?;
    let action = match action_key.as_str() {
        "wait" => read_wait_step(src, errs, &f, cx),
        "workload" => read_workload_step(src, errs, &f, cx.has_workload),
        "sleep_s" => f.secs(src, errs, "sleep_s").map(|ms| Action::Sleep { ms }),
        "fault" => read_fault_step(src, errs, &f, cx),
        "msg" => read_msg_step(src, errs, &f, cx),
        "net" => read_net_step(src, errs, &f, cx),
        "heal" => read_heal_step(src, errs, &f),
        "repeat" => read_repeat_step(src, errs, &f, cx),
        "nemesis" => read_nemesis_step(src, errs, &f, cx),
        _ => unreachable!(),
    };
    // The label is read even when the action is wrong, so that a duplicate label is
    // reported in the same round and later `@label` targets resolve (finding 10).
    let nodes = action
        .as_ref()
        .and_then(|a| labelset::hit_by(a, &cx.labels, cx.ids));
    read_label(src, errs, &f, &mut cx.labels, nodes);
    let label = f.str(src, errs, "label").map(str::to_string);
    let action = action?;
    let wait_span = f.get("wait").map(|v| v.span.clone());
    let previous = ["target", "from", "to"]
        .iter()
        .filter_map(|k| f.get(k))
        .filter(|v| matches!(&v.value, Value::Str(w) if w == "previous"))
        .map(|v| v.span.clone())
        .collect();
    cx.disruption.step(&action, wait_span, previous);
    Some(Step { action, at, label })
}

/// `FILE:LINE` of a step, for logs and reports.
fn step_at(src: &Src, item: &Node) -> String {
    let line = src.line(item.span.start);
    format!(
        "{}:{}",
        src.file
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        line
    )
}

/// The one key of [`STEP_ACTIONS`] a step has; none or two are errors.
fn step_action_key(
    src: &Src,
    errs: &mut Errs,
    item: &Node,
    entries: &[(Key, Node)],
) -> Option<String> {
    let actions: Vec<&Key> = entries
        .iter()
        .map(|(k, _)| k)
        .filter(|k| STEP_ACTIONS.contains(&k.name.as_str()))
        .collect();
    match actions.as_slice() {
        [one] => Some(one.name.clone()),
        [] => {
            // No action: report unknown keys with suggestions among the actions.
            let first = entries.first().map(|(k, _)| k);
            match first.and_then(|k| suggest(&k.name, STEP_ACTIONS).map(|s| (k, s))) {
                Some((k, s)) => errs.help(
                    src,
                    k.span.clone(),
                    format!("unknown step action `{}`", excerpt(&k.name, 60)),
                    format!("did you mean `{s}`?"),
                ),
                None => errs.help(
                    src,
                    item.span.clone(),
                    "this step has no action",
                    format!("give it exactly one of: {}", STEP_ACTIONS.join(", ")),
                ),
            }
            None
        }
        [_, second, ..] => {
            errs.help(
                src,
                second.span.clone(),
                format!(
                    "a step has exactly one action, this one also has `{}`",
                    second.name
                ),
                "split it into two [[step]] tables",
            );
            None
        }
    }
}

/// The keys a step of action `action_key` may have.
fn step_keys(action_key: &str) -> &'static [&'static str] {
    match action_key {
        "wait" => &["wait", "timeout_s", "expect", "kind"],
        "workload" => &["workload"],
        "sleep_s" => &["sleep_s"],
        "fault" => &["fault", "target", "label"],
        "net" => &[
            "net",
            "target",
            "label",
            "mode",
            "one_way",
            "delay_ms",
            "jitter_ms",
            "loss",
        ],
        "heal" => &["heal"],
        "msg" => msgstep::KEYS,
        "repeat" => &["repeat", "steps"],
        "nemesis" => &["nemesis", "faults", "interval_s", "duration_s"],
        _ => unreachable!("filtered by STEP_ACTIONS"),
    }
}

/// `wait = "leader" | "new-leader" | "caught-up" | "commit"`, optionally led by a `kind`.
fn read_wait_step(src: &Src, errs: &mut Errs, f: &Fields, cx: &StepCx) -> Option<Action> {
    let cond = f.word(src, errs, "wait", &words_of::<WaitFor>())?;
    let timeout_ms = f.secs(src, errs, "timeout_s").unwrap_or(10_000);
    let expect_timeout = match f.get("expect") {
        None => false,
        Some(v) => as_word(src, errs, v, "expect", &[("met", false), ("timeout", true)])?,
    };
    Some(match f.get("kind") {
        Some(k) => {
            let a = lead_by(src, errs, k, cond, timeout_ms, expect_timeout)?;
            if let Action::LeadBy { kind, .. } = &a {
                waitfit::refuse_unknown_kind(src, errs, k, kind, cx.node_kinds.as_ref());
            }
            a
        }
        None => Action::Wait {
            cond,
            timeout_ms,
            expect_timeout,
        },
    })
}

/// `workload = "start" | "stop"`; the suite needs a [workload].
fn read_workload_step(
    src: &Src,
    errs: &mut Errs,
    f: &Fields,
    has_workload: bool,
) -> Option<Action> {
    if !has_workload {
        errs.help(
            src,
            f.key_span("workload"),
            "this step starts or stops the workload, but the suite has no [workload]",
            "add a [workload] table, or remove this step",
        );
    }
    let start = f.word(src, errs, "workload", &[("start", true), ("stop", false)])?;
    Some(Action::Workload { start })
}

/// `fault = kill | stop | pause | resume | restart | …` with its `target`.
fn read_fault_step(src: &Src, errs: &mut Errs, f: &Fields, cx: &StepCx) -> Option<Action> {
    let fault = f.word(src, errs, "fault", &PROC_FAULTS)?;
    let default = match fault {
        ProcFault::Resume => Some(Target::Paused),
        ProcFault::Restart => Some(Target::Down),
        ProcFault::CrashAll => Some(Target::All),
        _ => None,
    };
    let target = read_target(src, errs, f, default, cx)?;
    Some(Action::Fault { fault, target })
}

/// `msg = ...`: a message fault (`msgstep`); needs RPC-aware links.
fn read_msg_step(src: &Src, errs: &mut Errs, f: &Fields, cx: &StepCx) -> Option<Action> {
    if !cx.proxies {
        refuse_without(src, errs, f.key_span("msg"), Links::Rpc);
    }
    msgstep::read(src, errs, f, cx)
}

/// `net = SHAPE` with `target`, `mode`, `one_way`, `delay_ms`, `jitter_ms`, `loss`.
fn read_net_step(src: &Src, errs: &mut Errs, f: &Fields, cx: &StepCx) -> Option<Action> {
    if !cx.proxies {
        refuse_without(src, errs, f.key_span("net"), Links::Proxies);
    }
    let shape = f.word(src, errs, "net", &NET_SHAPES)?;
    let default = if shape == NetShape::Isolate {
        None
    } else {
        Some(Target::All)
    };
    let target = read_target(src, errs, f, default, cx)?;
    if let Some(p) = super::fit::net_problem(shape, &target, cx.ids) {
        errs.at(src, f.key_span("net"), format!("this step cannot run: {p}"));
    } else if let Some(v) = f.get("target") {
        labelset::refuse_unfit(src, errs, v, shape, &target, cx);
    }
    let mode = match f.get("mode") {
        None => LinkMode::Blackhole,
        Some(v) => as_word(src, errs, v, "mode", CUT_MODES)?,
    };
    Some(Action::Net {
        shape,
        target,
        mode,
        one_way: f.bool(src, errs, "one_way").unwrap_or(false),
        delay_ms: f.uint(src, errs, "delay_ms", 0, 60_000).unwrap_or(0),
        jitter_ms: f.uint(src, errs, "jitter_ms", 0, 60_000).unwrap_or(0),
        loss: f
            .typed::<tables::Fraction>(src, errs, "loss")
            .map_or(0.0, |l| l.0),
    })
}

/// `heal = true`.
fn read_heal_step(src: &Src, errs: &mut Errs, f: &Fields) -> Option<Action> {
    require_true(src, errs, f, "heal")?;
    Some(Action::Heal)
}

/// `key = true` (the value of `heal` and `nemesis` steps); anything else is an error at `key`.
fn require_true(src: &Src, errs: &mut Errs, f: &Fields, key: &str) -> Option<()> {
    if f.bool(src, errs, key) != Some(true) {
        errs.at(src, f.key_span(key), format!("write `{key} = true`"));
        return None;
    }
    Some(())
}

/// `repeat = N` over `steps`; at most [`MAX_EXPANDED_STEPS`] once unrolled.
fn read_repeat_step(src: &Src, errs: &mut Errs, f: &Fields, cx: &mut StepCx) -> Option<Action> {
    let times = f.uint(src, errs, "repeat", 1, 10_000)? as u32;
    let sn = f.require(src, errs, "steps")?;
    let start = cx.disruption.body_start();
    let steps = read_steps(src, errs, sn, cx);
    cx.disruption.body_end(start, times, &steps);
    let total = u64::from(times).saturating_mul(expanded_len(&steps));
    if total > MAX_EXPANDED_STEPS {
        errs.help(
            src,
            f.key_span("repeat"),
            format!("this `repeat` runs {total} steps in all; at most {MAX_EXPANDED_STEPS}"),
            "nested repeats multiply: lower `repeat` here or inside",
        );
        return None;
    }
    Some(Action::Repeat { times, steps })
}

/// `nemesis = true` with `faults`, `interval_s`, `duration_s`.
fn read_nemesis_step(src: &Src, errs: &mut Errs, f: &Fields, cx: &StepCx) -> Option<Action> {
    require_true(src, errs, f, "nemesis")?;
    // Every process fault but `resume` (the nemesis undoes its own pauses), and
    // every network shape.
    let words: Vec<(&str, NemesisFault)> = PROC_FAULTS
        .iter()
        .filter(|(_, p)| *p != ProcFault::Resume)
        .map(|(w, p)| (*w, NemesisFault::Proc(*p)))
        .chain(NET_SHAPES.iter().map(|(w, n)| (*w, NemesisFault::Net(*n))))
        .chain(msgstep::nemesis_words())
        .collect();
    let mut faults = Vec::new();
    let fv = f.require(src, errs, "faults")?;
    let Value::Array(items) = &fv.value else {
        errs.at(
            src,
            fv.span.clone(),
            "`faults` must be an array of fault names",
        );
        return None;
    };
    for it in items {
        let fault = as_word(src, errs, it, "faults", &words)?;
        check_nemesis_fault(src, errs, it, fault, cx);
        faults.push(fault);
    }
    if faults.is_empty() {
        errs.at(
            src,
            fv.span.clone(),
            "`faults` must name at least one fault",
        );
    }
    Some(Action::Nemesis {
        faults,
        interval_ms: f.secs(src, errs, "interval_s").unwrap_or(3000).max(100),
        duration_ms: f.secs(src, errs, "duration_s").unwrap_or(20_000),
    })
}

/// One entry of a nemesis's `faults`: a network shape must fit the cluster and both network
/// and message faults need the proxies.
fn check_nemesis_fault(src: &Src, errs: &mut Errs, it: &Node, fault: NemesisFault, cx: &StepCx) {
    if let NemesisFault::Net(shape) = fault {
        // The nemesis isolates the leader or a random node.
        if let Some(p) = super::fit::net_problem(shape, &Target::Random, cx.ids) {
            errs.at(
                src,
                it.span.clone(),
                format!("the nemesis cannot use it: {p}"),
            );
        }
    }
    let needs = match fault {
        NemesisFault::Net(_) => Some(Links::Proxies),
        NemesisFault::Msg(_) => Some(Links::Rpc),
        NemesisFault::Proc(_) => None,
    };
    if let Some(links) = needs.filter(|_| !cx.proxies) {
        refuse_without(src, errs, it.span.clone(), links);
    }
}

/// The links a fault needs from `[cluster]`: the per-link proxies (network faults) or
/// RPC-aware links (message faults).
#[derive(Clone, Copy)]
enum Links {
    Proxies,
    Rpc,
}

/// An error at `span`: the fault there needs `links`, and the suite has no links at all.
fn refuse_without(src: &Src, errs: &mut Errs, span: std::ops::Range<usize>, links: Links) {
    let (msg, help) = match links {
        Links::Proxies => (
            "network faults need the per-link proxies",
            "set `proxies = true` in [cluster]",
        ),
        Links::Rpc => (
            "message faults need RPC-aware links",
            "set `network = \"rpc\"` in [cluster]",
        ),
    };
    errs.help(src, span, msg, help);
}

#[cfg(test)]
mod words_tests {
    use super::faults::MsgMethod;
    use super::*;

    fn names<T>(words: &[(&'static str, T)]) -> Vec<&'static str> {
        words.iter().map(|(w, _)| *w).collect()
    }

    /// The words of each keyword enum in the order its "one of: ..." help lists them: the
    /// declaration order of its variants (strum), which reordering them would change.
    #[test]
    fn keyword_enums_spell_their_words_in_the_documented_order() {
        let procs = ["kill", "stop", "pause", "resume", "restart", "crash-all"];
        assert_eq!(names(&PROC_FAULTS), procs);
        let shapes = ["isolate", "halves", "bridge", "majorities-ring", "flaky"];
        assert_eq!(names(&NET_SHAPES), shapes);
        let waits = ["leader", "new-leader", "caught-up", "commit"];
        assert_eq!(names(&words_of::<WaitFor>()), waits);
        let methods = [
            "request-vote",
            "pre-vote",
            "append-entries",
            "heartbeat",
            "append-with-entries",
            "append-with-current-term-entries",
            "client-request",
            "any",
        ];
        assert_eq!(MsgMethod::NAMES, methods);
        assert_eq!(names(&words_of::<MsgMethod>()), methods);
        let explore = explore::Fault::words();
        let mix = [
            "kill",
            "stop",
            "pause",
            "crash-all",
            "isolate",
            "halves",
            "drop-request",
            "drop-reply",
            "delay",
            "duplicate",
            "reorder",
            "lag",
            "deposed-leader",
            "partial-replication",
            "stale-appends",
        ];
        assert_eq!(names(&explore), mix);
        for (w, f) in explore {
            assert_eq!(f.name(), w);
        }
    }
}

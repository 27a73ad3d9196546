//! `raft-harness compose SUITE`: the suite's cluster as a `docker-compose.yml`, one service
//! per node, for users who start the reference cluster with their compose tool.
//!
//! The file is compose format `version: "3.8"` (docker-compose 1.29 needs a version for
//! named networks and volumes; compose v2 accepts it and ignores it), written as YAML whose
//! scalars are all JSON-quoted strings, so neither tool guesses a type. Each node gets: the
//! image of its kind ([`super::image_for`]), the kind's command rendered with `host =
//! 0.0.0.0`, peers addressed by service name (`node2:15101`) on the file's own bridge
//! network, a named volume at `/data` for its data dir (and journal), and its port published
//! on `127.0.0.1` only.
use crate::spec::template;
use crate::spec::{NodeSpec, Spec};
use std::fmt::Write as _;

/// Where a node's data dir lives in its container (a named volume).
pub const DATA_DIR: &str = "/data";

/// Why a suite has no compose file.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("node {node}: kind `{kind}`: {msg}")]
    Kind {
        node: u32,
        kind: String,
        msg: String,
    },
}

/// Service name of a node (also its host name on the compose network).
pub fn service(id: u32) -> String {
    format!("node{id}")
}

/// The command line of `n` inside its container (binding 0.0.0.0); `peer_host(id)` names
/// where a peer lives; `journal` is used only by kinds that write one.
pub fn container_argv(
    spec: &Spec,
    n: &NodeSpec,
    data_dir: &str,
    journal: &str,
    peer_host: &dyn Fn(u32) -> String,
) -> Vec<String> {
    let kind = &spec.kinds[&n.kind];
    let place = template::Place {
        host: "0.0.0.0".to_string(),
        data_dir: data_dir.to_string(),
        journal: if kind.writes_journal() {
            journal.to_string()
        } else {
            String::new()
        },
        root: super::WORKDIR.to_string(),
    };
    let peer = |p: &NodeSpec| format!("{}:{}", peer_host(p.id), p.port);
    let vars = template::node_vars(n, &spec.nodes, place, &peer);
    template::command(kind, n, &vars)
}

fn q(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}

/// The compose file of `spec`'s cluster; `project` names its network and volumes.
/// Node port P is published on `127.0.0.1:P+port_offset` (a published port above 65535 is
/// an error).
pub fn render(spec: &Spec, project: &str, port_offset: u16) -> Result<String, ComposeError> {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Written by `raft-harness compose` from the suite {}.\n# Start: docker compose up -d  (or docker-compose up -d); stop: down -v.\nversion: \"3.8\"\nservices:",
        q(project)
    );
    for n in &spec.nodes {
        let kind = &spec.kinds[&n.kind];
        let image = super::image_for(kind).map_err(|msg| ComposeError::Kind {
            node: n.id,
            kind: n.kind.clone(),
            msg,
        })?;
        let journal = format!("{DATA_DIR}/journal.jsonl");
        let argv = container_argv(spec, n, DATA_DIR, &journal, &service);
        let published = n
            .port
            .checked_add(port_offset)
            .ok_or_else(|| ComposeError::Kind {
                node: n.id,
                kind: n.kind.clone(),
                msg: format!("port {} + offset {port_offset} is above 65535", n.port),
            })?;
        let _ = writeln!(out, "  {}:", service(n.id));
        let _ = writeln!(out, "    image: {}", q(&image));
        let _ = writeln!(out, "    hostname: {}", q(&service(n.id)));
        let cmd: Vec<String> = argv.iter().map(|a| q(a)).collect();
        let _ = writeln!(out, "    command: [{}]", cmd.join(", "));
        let env: Vec<String> = kind
            .env
            .iter()
            .chain(n.env.iter())
            .map(|(k, v)| format!("      {}: {}", q(k), q(v)))
            .collect();
        if !env.is_empty() {
            let _ = writeln!(out, "    environment:\n{}", env.join("\n"));
        }
        let _ = writeln!(
            out,
            "    ports:\n      - {}\n    volumes:\n      - {}\n    networks:\n      - \"raft\"\n    init: true\n    stop_grace_period: \"{}s\"",
            q(&format!("127.0.0.1:{published}:{}", n.port)),
            q(&format!("{}-data:{DATA_DIR}", service(n.id))),
            kind.stop_grace_ms.div_ceil(1000)
        );
    }
    let _ = writeln!(out, "networks:\n  raft:\n    driver: \"bridge\"\nvolumes:");
    for n in &spec.nodes {
        let _ = writeln!(out, "  {}-data: {{}}", service(n.id));
    }
    Ok(out)
}

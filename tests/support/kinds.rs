//! Kinds files for the integration tests: this build's `rust-node` as a node kind, run directly
//! or through a wrapper, with the placeholders of `suites/kinds.toml`.
use std::path::{Path, PathBuf};

/// This build's rust-node binary.
pub const NODE: &str = env!("CARGO_BIN_EXE_rust-node");

/// The rust-node arguments after the program (TOML array items), with a journal, as in
/// `suites/kinds.toml`.
pub const NODE_ARGS: &str = r#""{id}", "{port}", "{peers}", "--host", "{host}",
           "--data-dir", "{data_dir}", "--journal", "{journal}",
           "--election-timeout-ms", "{election_timeout_ms}", "--heartbeat-ms", "{heartbeat_ms}""#;

/// The `command` array running rust-node through `wrapper` (program and its arguments; empty:
/// the node directly) with [`NODE_ARGS`].
pub fn node_command(wrapper: &[&str]) -> String {
    let pre: String = wrapper.iter().map(|w| format!("\"{w}\", ")).collect();
    format!("[{pre}\"{NODE}\", {NODE_ARGS}]")
}

/// A `[kind.NAME]` table with `command`, `ready_timeout_s = 30` and `extra` TOML lines.
pub fn kind(name: &str, command: &str, extra: &str) -> String {
    format!("[kind.{name}]\ncommand = {command}\nready_timeout_s = 30\n{extra}\n")
}

/// `[kind.NAME]` running this build's rust-node directly, plus `extra` TOML lines.
pub fn rust_kind(name: &str, extra: &str) -> String {
    kind(name, &node_command(&[]), extra)
}

/// `[kind.NAME]` running this build's rust-node with the planted bug `--bug BUG` (rust-node's
/// test-only switch), with [`NODE_ARGS`].
pub fn bug_kind(name: &str, bug: &str) -> String {
    kind(
        name,
        &format!("[\"{NODE}\", {NODE_ARGS}, \"--bug\", \"{bug}\"]"),
        "",
    )
}

/// Writes `dir/kinds.toml`: the `rust` kind, then each of `extra` (kind tables); its path.
pub fn write_kinds(dir: &Path, extra: &[String]) -> PathBuf {
    let p = dir.join("kinds.toml");
    let text = std::iter::once(rust_kind("rust", ""))
        .chain(extra.iter().cloned())
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&p, text).unwrap();
    p
}

/// `[kind.NAME]`: this build's rust-node (id, port, peers only) after a build step running
/// `sh -c BUILD_SH` (TOML-escaped), stopped with a grace of `stop_grace_s` seconds.
pub fn build_kind(name: &str, build_sh: &str, stop_grace_s: u32) -> String {
    let command = format!(r#"["{NODE}", "{{id}}", "{{port}}", "{{peers}}"]"#);
    format!(
        "[kind.{name}]\nbuild = [\"sh\", \"-c\", \"{build_sh}\"]\ncommand = {command}\n\
         stop_grace_s = {stop_grace_s}\n"
    )
}

/// `[kind.stubborn]`: a build that ignores SIGTERM, writes its pid to `pid_file` and lasts a
/// minute, with a 60 s grace: after one Ctrl+C the run waits for the build; a second must not.
pub fn stubborn_build_kind(pid_file: &Path) -> String {
    let sh = format!("trap '' TERM; echo $$ > {}; sleep 60", pid_file.display());
    build_kind("stubborn", &sh, 60)
}

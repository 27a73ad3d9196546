//! Nodes in containers: the `docker` backend of a suite (`[cluster] backend = "docker"`) and
//! `raft-harness compose`. Images are made by `docker/build.sh` (see docker/README.md).
//!
//! The engine is driven through its CLI (`docker`, or `$RAFT_HARNESS_DOCKER`), not an API
//! crate: the CLI already speaks every transport `DOCKER_HOST` can name (unix socket, tcp,
//! `ssh://` through the user's ssh config and keys), negotiates the API version with any
//! engine (client 28 against engine 20.10 here), and every call the harness makes can be
//! repeated by hand. A call costs a fork (~20–60 ms); the harness makes them only on
//! faults, starts, liveness polls (one `ps` per poll for all nodes) and teardown.
pub mod backend;
pub mod cleanup;
pub mod compose;
pub mod fit;
pub mod netfilter;

use crate::spec::Kind;
use std::process::{Command, Output, Stdio};

/// Where the images keep the project's files (paths mirror the repository).
pub const WORKDIR: &str = "/opt/raft-harness";
/// Labels on every container and network the harness creates.
pub const LABEL_RUN: &str = "org.raft-harness.run";
pub const LABEL_NODE: &str = "org.raft-harness.node";
/// `HARNESS_PID.HARNESS_START` (see [`crate::ports::Owner`]).
pub const LABEL_OWNER: &str = "org.raft-harness.owner";
/// The boot of the machine whose harness made it: an owner's pid is only meaningful there.
pub const LABEL_BOOT: &str = "org.raft-harness.boot";

/// The image of a kind: chosen by its program (`target/release/rust-node`,
/// `python-node/...`, `java-node/...`), `raft-harness/{rust,python,java}-node:latest`.
pub fn image_for(kind: &Kind) -> Result<String, String> {
    let prog = kind.command.first().map(String::as_str).unwrap_or("");
    let name = if prog.ends_with("rust-node") {
        "rust"
    } else if prog.starts_with("python-node/") {
        "python"
    } else if prog.starts_with("java-node/") {
        "java"
    } else {
        return Err(format!(
            "no image for program `{prog}`: the docker backend runs the reference nodes \
             (rust-node, python-node, java-node) from the images of docker/build.sh"
        ));
    };
    Ok(format!("raft-harness/{name}-node:latest"))
}

/// The CLI program.
pub fn program() -> String {
    std::env::var("RAFT_HARNESS_DOCKER").unwrap_or_else(|_| "docker".into())
}

/// Run `docker ARGS`; its stdout (trimmed) or an error quoting the command and its stderr.
/// Blocks the calling thread: for the `clean` command, `Drop` and [`off_runtime`] closures;
/// async code uses [`cli_async`].
pub fn cli(args: &[&str]) -> Result<String, String> {
    let out = Command::new(program())
        .args(args)
        .stdin(Stdio::null())
        .output();
    outcome(args, out)
}

/// [`cli`] on the runtime (`tokio::process`): the engine call never holds a worker thread.
/// Dropping the future kills the `docker` client (the engine may still act on the request).
pub async fn cli_async(args: &[&str]) -> Result<String, String> {
    let out = tokio::process::Command::new(program())
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await;
    outcome(args, out)
}

/// What a finished `docker ARGS` gives: its trimmed stdout, or the error text of [`cli`].
fn outcome(args: &[&str], out: std::io::Result<Output>) -> Result<String, String> {
    let out = out.map_err(|e| format!("cannot run `{} {}`: {e}", program(), args.join(" ")))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(format!(
            "`{} {}` failed ({}): {}",
            program(),
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Run blocking engine work `f` from a synchronous method that async code calls (start,
/// pause, liveness polls, packet filters). On the multi-threaded runtime this is
/// `block_in_place`: the worker's other tasks move to another worker while `f` waits on
/// the engine, so timers, links and clients keep running. Elsewhere (no runtime, or a
/// current-thread one, where nothing else could run meanwhile anyway) `f` runs as is.
pub fn off_runtime<T>(f: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// This machine's boot id (`/proc/sys/kernel/random/boot_id`).
pub fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn off_runtime_runs_its_work_with_no_runtime_and_on_a_current_thread_one() {
        assert_eq!(off_runtime(|| 1), 1);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert_eq!(rt.block_on(async { off_runtime(|| 2) }), 2);
    }

    /// On a runtime with one worker, blocking work through `off_runtime` must let another
    /// task run meanwhile: here that task is what the blocked work waits for.
    #[test]
    fn off_runtime_lets_other_tasks_run_while_it_blocks() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let (entered_tx, entered_rx) = tokio::sync::oneshot::channel::<()>();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let got = rt.block_on(async move {
            let blocked = tokio::spawn(async move {
                off_runtime(move || {
                    let _ = entered_tx.send(());
                    // Bounded only so that a regression fails instead of hanging.
                    rx.recv_timeout(Duration::from_secs(120))
                })
            });
            tokio::spawn(async move {
                let _ = entered_rx.await;
                let _ = tx.send(());
            });
            blocked.await.unwrap()
        });
        assert_eq!(
            got,
            Ok(()),
            "the other task never ran while the work blocked"
        );
    }

    #[test]
    fn a_failed_call_quotes_the_command_and_its_stderr_and_a_missing_program_says_so() {
        let out = Command::new("sh")
            .args(["-c", "echo fine; echo no such container >&2; exit 3"])
            .output();
        let e = outcome(&["kill", "rh-x-1"], out).unwrap_err();
        assert!(e.contains("kill rh-x-1` failed"), "{e}");
        assert!(e.contains("no such container"), "{e}");
        let ok = Command::new("sh").args(["-c", "echo ' 42 '"]).output();
        assert_eq!(outcome(&["inspect"], ok), Ok("42".to_string()));
        let missing = Err(std::io::Error::from(std::io::ErrorKind::NotFound));
        let e = outcome(&["ps"], missing).unwrap_err();
        assert!(e.starts_with("cannot run `"), "{e}");
    }
}

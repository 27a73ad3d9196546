//! The python kind's build step (`python-node/setup.sh`) run by [`build`] on a fake tree: a
//! copy of the real script, a stand-in proto and requirements, and a fake `.venv/bin/python`
//! whose pip either finds every requirement installed (offline) or cannot reach the registry
//! (as inside `unshare -n`). No network and no real pip are used.
use super::*;
use crate::testutil::{assert_all, assert_none};
use std::os::unix::fs::PermissionsExt;

/// What the fake venv's pip does.
#[derive(Clone, Copy)]
enum Pip {
    /// `--no-index` succeeds: every pinned requirement is already installed.
    AllInstalled,
    /// Nothing installed; the registry is unreachable (pip's words from a network namespace).
    NoRegistry,
    /// Nothing installed; the registry answers but has no such version.
    NoSuchVersion,
}

/// The fake interpreter: `-m pip install` per `pip`, `-m grpc_tools.protoc` writes the two
/// generated modules into `--python_out`. Every call is appended to `calls.log`.
fn fake_python(pip: Pip) -> String {
    let (offline, online) = match pip {
        Pip::AllInstalled => ("exit 0", "echo 'online pip called' >&2; exit 1"),
        Pip::NoRegistry => (
            "echo 'ERROR: No matching distribution found for grpcio==1.85.1' >&2; exit 1",
            "echo \"WARNING: Retrying after connection broken by 'NewConnectionError(Failed to \
             establish a new connection: [Errno -3] Temporary failure in name resolution)'\" >&2; \
             echo 'ERROR: No matching distribution found for grpcio==1.85.1' >&2; exit 1",
        ),
        Pip::NoSuchVersion => (
            "echo 'ERROR: No matching distribution found for grpcio==1.85.1' >&2; exit 1",
            "echo 'ERROR: Could not find a version that satisfies the requirement \
             grpcio==1.85.1 (from versions: 1.0.0)' >&2; exit 1",
        ),
    };
    format!(
        r#"#!/bin/sh
echo "$*" >>"$(dirname "$0")/calls.log"
case "$*" in
  *"-m pip install"*"--no-index"*) {offline} ;;
  *"-m pip install"*) {online} ;;
  *"-m grpc_tools.protoc"*)
    for a in "$@"; do case "$a" in --python_out=*) out="${{a#--python_out=}}" ;; esac; done
    mkdir -p "$out/raft_pb" && touch "$out/raft_pb/raft_service_pb2.py" "$out/raft_pb/raft_service_pb2_grpc.py" ;;
  *) echo "fake python: unexpected $*" >&2; exit 9 ;;
esac
"#
    )
}

/// A tree `root/{python-node/setup.sh, python-node/requirements.txt, proto/…, python-node/.venv}`
/// and the kind that builds it, as `suites/kinds.toml` declares it.
fn fake_tree(pip: Pip) -> (tempfile::TempDir, Kind) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python-node/setup.sh");
    let bin = root.join("python-node/.venv/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(root.join("proto")).unwrap();
    std::fs::copy(&script, root.join("python-node/setup.sh")).unwrap();
    std::fs::write(
        root.join("python-node/requirements.txt"),
        "grpcio==1.85.1\n",
    )
    .unwrap();
    std::fs::write(
        root.join("proto/raft_service.proto"),
        "syntax = \"proto3\";\n",
    )
    .unwrap();
    std::fs::write(bin.join("python"), fake_python(pip)).unwrap();
    std::fs::set_permissions(bin.join("python"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let kind = Kind {
        name: "python".into(),
        root: root.to_path_buf(),
        build: Some(vec!["python-node/setup.sh".into()]),
        build_inputs: Vec::new(),
        command: vec!["python-node/.venv/bin/python".into()],
        env: Vec::new(),
        ready_timeout_ms: 30_000,
        stop_grace_ms: 2_000,
        black_box: false,
        error_patterns: Vec::new(),
        programs: Vec::new(),
    };
    (dir, kind)
}

fn calls(kind: &Kind) -> String {
    std::fs::read_to_string(kind.root.join("python-node/.venv/bin/calls.log")).unwrap_or_default()
}

#[test]
fn a_venv_that_has_every_requirement_builds_without_the_registry() {
    let (dir, kind) = fake_tree(Pip::AllInstalled);
    let built = build(&kind, &dir.path().join("logs"), Cancel::new());
    assert!(
        matches!(built, Ok(Built::Ran { .. })),
        "{built:?}; calls:\n{}",
        calls(&kind)
    );
    let calls = calls(&kind);
    assert!(calls.contains("--no-index"), "{calls}");
    let online = calls
        .lines()
        .filter(|l| l.contains("pip install") && !l.contains("--no-index"));
    assert_eq!(online.count(), 0, "the registry was asked:\n{calls}");
    let stamp = kind.root.join("python-node/.venv/.requirements.sha256");
    assert!(
        stamp.exists(),
        "no requirements stamp: the next build would check again"
    );
    assert!(kind
        .root
        .join("python-node/raft_pb/raft_service_pb2.py")
        .exists());
}

/// The error text of a build of the fake tree with `pip` (it must fail), and whether the
/// requirements stamp was written.
fn failed_build(pip: Pip) -> (String, bool) {
    let (dir, kind) = fake_tree(pip);
    let e = build(&kind, &dir.path().join("logs"), Cancel::new()).unwrap_err();
    let stamp = kind.root.join("python-node/.venv/.requirements.sha256");
    (e.to_string(), stamp.exists())
}

#[test]
fn an_unreachable_registry_says_to_run_setup_once_outside_the_namespace() {
    let (text, stamped) = failed_build(Pip::NoRegistry);
    assert_all(
        &text,
        &[
            "build of node kind `python` failed",
            "needs the package registry",
            "run python-node/setup.sh once",
            "outside the network namespace",
        ],
    );
    assert!(!stamped, "a failed install must not be stamped as done");
}

#[test]
fn a_pip_failure_with_the_registry_reachable_gets_no_namespace_advice() {
    let (text, _) = failed_build(Pip::NoSuchVersion);
    // pip's own words are kept.
    assert_all(
        &text,
        &[
            "pip install -r requirements.txt failed",
            "Could not find a version",
        ],
    );
    assert_none(&text, &["network namespace"]);
}

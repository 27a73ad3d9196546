//! Helpers for rust-node's unit tests only (compiled under `cfg(test)`; the harness library's
//! `testutil` is not reachable from this binary).
use std::path::PathBuf;

use tempfile::TempDir;

/// A fresh temporary folder and the path of `name` in it (nothing created there); the folder
/// lives as long as the returned guard. Panics on I/O errors (tests only).
pub fn temp_path(name: &str) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    (dir, path)
}

/// As [`temp_path`], with the file `name` written with `text`.
pub fn temp_file(name: &str, text: &str) -> (TempDir, PathBuf) {
    let (dir, path) = temp_path(name);
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

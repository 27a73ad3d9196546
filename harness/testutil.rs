//! Helpers for the library's unit tests only (compiled under `cfg(test)`).
use std::path::PathBuf;

/// A fresh temporary folder holding one file `name` with `text`; the folder lives as long as
/// the returned guard. Panics on I/O errors (tests only).
pub fn temp_file(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

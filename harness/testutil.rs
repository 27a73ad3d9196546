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

/// Every one of `wants` is in `text` (messages, a rendered error).
#[track_caller]
pub fn assert_all(text: &str, wants: &[&str]) {
    for want in wants {
        assert!(text.contains(want), "{want:?} in:\n{text}");
    }
}

/// None of `unwanted` is in `text`.
#[track_caller]
pub fn assert_none(text: &str, unwanted: &[&str]) {
    for bad in unwanted {
        assert!(!text.contains(bad), "{bad:?} must not be in:\n{text}");
    }
}

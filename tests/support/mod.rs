//! Helpers shared by the integration tests that run the `raft-harness` binary and node
//! processes: ports, polling, child processes. Each test file uses what it needs.
#![allow(dead_code)]
use std::net::TcpStream;
use std::process::Child;
use std::time::Duration;

/// A fresh temporary folder holding one file `name` with `text`; the folder lives as long as
/// the returned guard.
pub fn temp_file(name: &str, text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

/// Something accepts TCP connections on 127.0.0.1:`port` (within 200 ms).
pub fn port_open(port: u16) -> bool {
    TcpStream::connect_timeout(
        &format!("127.0.0.1:{port}").parse().unwrap(),
        Duration::from_millis(200),
    )
    .is_ok()
}

/// Poll `f` every 50 ms until it gives a value or `limit` passes, then once more; its value.
pub fn poll<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let mut got = None;
    raft_harness::wait::until_blocking(limit, Duration::from_millis(50), || {
        got = f();
        got.is_some()
    });
    got
}

/// Poll `f` every 50 ms until it holds or `limit` passes; its last answer.
pub fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    poll(limit, || f().then_some(())).is_some()
}

/// The child's exit code once it exits within `limit` (None: still running, or killed by a signal).
pub fn wait_exit(c: &mut Child, limit: Duration) -> Option<i32> {
    poll(limit, || c.try_wait().ok().flatten()).and_then(|st| st.code())
}

/// The process exists and is not a zombie.
pub fn alive(pid: impl Into<i64>) -> bool {
    std::fs::read_to_string(format!("/proc/{}/stat", pid.into()))
        .map(|s| !s.contains(") Z "))
        .unwrap_or(false)
}

/// Kills a child process on drop, so a failing assertion leaks nothing.
pub struct Guard(pub Child);
impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub mod kinds;
pub mod procs;
pub mod suite;

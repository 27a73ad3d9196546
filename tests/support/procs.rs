//! Processes a test starts by hand beside the harness: a stranger holding a port, and this
//! build's rust-node started outside any run (or as the leftover of an earlier one). Each is
//! a [`Guard`], so a failing assertion leaks nothing.
use std::process::{Command, Stdio};

use super::kinds::NODE;
use super::Guard;

/// A process that is no node (`python3`) listening on 127.0.0.1:`port` for `secs` seconds:
/// a stranger the harness must leave alone.
pub fn stranger(port: u16, secs: u32) -> Guard {
    let script = format!(
        "import socket,time\ns=socket.socket()\ns.bind(('127.0.0.1',{port}))\ns.listen()\n\
         time.sleep({secs})"
    );
    Guard(
        Command::new("python3")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// This build's rust-node `id` on `port` with `peers` (`ID=HOST:PORT,…`), started by hand:
/// without a run marker, or with `marker` (`RUN/NODE/INCARNATION/PID.START`) as if an earlier
/// run had left it behind.
pub fn node_by_hand(id: u32, port: u16, peers: &str, marker: Option<&str>) -> Guard {
    let mut c = Command::new(NODE);
    c.args([&id.to_string(), &port.to_string(), peers])
        .stderr(Stdio::null());
    match marker {
        Some(m) => c.env("RAFT_HARNESS_RUN", m),
        None => c.env_remove("RAFT_HARNESS_RUN"),
    };
    Guard(c.spawn().unwrap())
}

//! raft-harness: launch, break and judge polyglot Raft clusters.
//!
//! A run is a pipeline of plain data, one module per stage:
//! `spec` (TOML → Spec) → `cluster` (processes, proxies) → `schedule` (steps,
//! faults, waits) with `workload` (clients → History) and `observe` (status,
//! logs, journals → Observations) → `check` (one file per property → Verdicts)
//! → `report` (terminal, junit.xml, report.json).
pub mod proto {
    //! Generated from `proto/raft_service.proto` at build time (see build.rs).
    tonic::include_proto!("raft");
    /// Encoded `FileDescriptorSet` of the wire protocol, for compatibility tests.
    pub const DESCRIPTOR: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/raft_descriptor.bin"));
}
pub mod cancel;
pub mod check;
pub mod client;
pub mod cluster;
pub mod docker;
pub mod explore;
pub mod history;
pub mod lin;
pub mod net;
pub mod observe;
pub mod ports;
pub mod progress;
pub mod report;
pub mod run;
pub mod runner;
pub mod schedule;
pub mod spec;
#[cfg(test)]
pub(crate) mod testutil;
pub mod trace;
pub mod wait;
pub mod workload;

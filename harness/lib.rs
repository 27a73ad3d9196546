//! raft-harness: launch, break and judge polyglot Raft clusters.
pub mod proto {
    //! Generated from `proto/raft_service.proto` at build time (see build.rs).
    tonic::include_proto!("raft");
    /// Encoded `FileDescriptorSet` of the wire protocol, for compatibility tests.
    pub const DESCRIPTOR: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/raft_descriptor.bin"));
}
pub mod history;
pub mod lin;

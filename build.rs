//! Compiles `proto/raft_service.proto` into Rust for both binaries.
//!
//! protox is a pure-Rust protobuf compiler, so no system `protoc` is needed:
//! a fresh clone builds with cargo alone.
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "proto/raft_service.proto";
    println!("cargo:rerun-if-changed={proto}");
    let fds = protox::compile([proto], ["proto"])?;
    // Keep the encoded descriptor too: the wire-compatibility test reads field
    // names and numbers from it instead of trusting the .proto text.
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out.join("raft_descriptor.bin"),
        prost::Message::encode_to_vec(&fds),
    )?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(fds)?;
    Ok(())
}

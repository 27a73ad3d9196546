//! The harness's own network between nodes: one TCP proxy per directed link, so the harness
//! alone decides which node can reach which, without root and for any node implementation.
//!
//! - [`proxy`] runs the proxies ([`Network`]) and changes their faults at run time.
//! - [`rpc`] (`[cluster] network = "rpc"`): the links are gRPC endpoints that forward each
//!   RaftService call, record it ([`trace`], `messages.jsonl`) and apply message faults
//!   ([`msgfault`]) as well as the link faults above.
//! - [`shapes`] computes which directed links to cut for named partition shapes
//!   (isolate, halves, bridge, majorities ring, one way), as pure functions of a seed.
//!
//! Node A is told that peer B lives at `network.listen_addr(A, B)`; that proxy forwards to B's
//! real port. A gRPC call from A to B and its response both travel on link (A, B); calls from B
//! to A use link (B, A). Cutting only (A, B) is a one-way partition: A cannot reach B, B still
//! reaches A.
pub mod msgfault;
pub mod proxy;
pub mod rpc;
pub mod shapes;
pub mod testing;
pub mod trace;

pub use proxy::{Link, LinkEvent, LinkFault, LinkMode, LinkStatus, NetError, Network, NodeId};
pub use shapes::{Cut, Shape, ShapeError};

//! gRPC clients of the nodes, with deadlines on every call.
use crate::proto::raft_service_client::RaftServiceClient;
use crate::proto::{GetLogRequest, GetStatusRequest, GetStatusResponse, LogEntry};
use std::net::SocketAddr;
use std::time::Duration;
use tonic::transport::{Channel, Endpoint};

pub type Client = RaftServiceClient<Channel>;

/// A lazily connecting client: it (re)connects on demand, so a node that
/// restarts on the same port is reached again without rebuilding anything.
pub fn lazy(addr: SocketAddr, connect_timeout: Duration) -> Client {
    let ep = Endpoint::from_shared(format!("http://{addr}"))
        .expect("a socket address is a valid URI")
        .connect_timeout(connect_timeout)
        .tcp_nodelay(true);
    RaftServiceClient::new(ep.connect_lazy())
}

fn req<T>(msg: T, timeout: Duration) -> tonic::Request<T> {
    let mut r = tonic::Request::new(msg);
    r.set_timeout(timeout);
    r
}

pub async fn status(c: &mut Client, timeout: Duration) -> Result<GetStatusResponse, tonic::Status> {
    tokio::time::timeout(timeout, c.get_status(req(GetStatusRequest {}, timeout)))
        .await
        .map_err(|_| tonic::Status::deadline_exceeded("GetStatus timed out"))?
        .map(|r| r.into_inner())
}

pub async fn log(c: &mut Client, timeout: Duration) -> Result<Vec<LogEntry>, tonic::Status> {
    let r = GetLogRequest {
        from_index: None,
        max_entries: None,
    };
    tokio::time::timeout(timeout, c.get_log(req(r, timeout)))
        .await
        .map_err(|_| tonic::Status::deadline_exceeded("GetLog timed out"))?
        .map(|r| r.into_inner().entries)
}

/// Send one client command with a deadline.
pub async fn command(
    c: &mut Client,
    command: &str,
    timeout: Duration,
) -> Result<crate::proto::ClientResponseMessage, tonic::Status> {
    let m = crate::proto::ClientRequestMessage {
        command: command.to_string(),
    };
    tokio::time::timeout(timeout, c.client_request(req(m, timeout)))
        .await
        .map_err(|_| tonic::Status::deadline_exceeded("ClientRequest timed out"))?
        .map(|r| r.into_inner())
}

/// True when the error says the connection was refused: the request was certainly not sent.
pub fn refused(s: &tonic::Status) -> bool {
    if s.code() != tonic::Code::Unavailable {
        return false;
    }
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(s);
    let mut text = s.message().to_string();
    while let Some(e) = src {
        text.push_str(&e.to_string());
        src = e.source();
    }
    let t = text.to_ascii_lowercase();
    t.contains("connection refused") || t.contains("tcp connect error")
}

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
    log_from(c, None, timeout).await
}

/// GetLog from a position (0-based offset) onward, with the paging extension
/// (docs/node-contract.md §6); `None` = the whole log. A server built from the
/// original proto ignores the field and answers the whole log.
pub async fn log_from(
    c: &mut Client,
    from: Option<usize>,
    timeout: Duration,
) -> Result<Vec<LogEntry>, tonic::Status> {
    let r = GetLogRequest {
        from_index: from.map(|f| i32::try_from(f).unwrap_or(i32::MAX)),
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

/// True when the call failed because no connection could be made (refused,
/// or no route to the node): the request was certainly not sent. Judged from
/// the `std::io::Error` kind in the status's source chain (tonic → hyper →
/// the connector's I/O error), never from message text.
pub fn refused(s: &tonic::Status) -> bool {
    use std::io::ErrorKind::{
        AddrNotAvailable, ConnectionRefused, HostUnreachable, NetworkUnreachable,
    };
    if s.code() != tonic::Code::Unavailable {
        return false;
    }
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(s);
    while let Some(e) = src {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if matches!(
                io.kind(),
                ConnectionRefused | HostUnreachable | NetworkUnreachable | AddrNotAvailable
            ) {
                return true;
            }
        }
        src = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A port in this test's range (30300–30399) that nothing listens on.
    fn closed_port() -> SocketAddr {
        let a: SocketAddr = "127.0.0.1:30301".parse().unwrap();
        assert!(
            std::net::TcpStream::connect(a).is_err(),
            "something listens on {a}: this test needs it closed"
        );
        a
    }

    #[tokio::test]
    async fn a_refused_connection_is_told_by_its_error_kind() {
        let mut c = lazy(closed_port(), Duration::from_secs(5));
        let e = status(&mut c, Duration::from_secs(30)).await.unwrap_err();
        assert!(refused(&e), "not seen as refused: {e:?}");
    }

    #[test]
    fn message_text_alone_is_not_a_refusal() {
        // The words without the I/O error behind them: not a refusal.
        let s = tonic::Status::unavailable("tcp connect error: Connection refused (os error 111)");
        assert!(!refused(&s));
        assert!(!refused(&tonic::Status::deadline_exceeded(
            "GetStatus timed out"
        )));
        // An I/O error of another kind (a reset on a live connection) may have been sent.
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert!(!refused(&tonic::Status::from_error(Box::new(reset))));
        let refused_io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let mut s = tonic::Status::unavailable("x");
        s.set_source(std::sync::Arc::new(refused_io));
        assert!(refused(&s));
    }
}

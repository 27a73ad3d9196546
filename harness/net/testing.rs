//! A tiny in-process RaftService for proxy and link tests and benchmarks: GetStatus answers a
//! fixed status, AppendEntries succeeds in the caller's term, ClientRequest is APPLIED at once;
//! GetStatus and AppendEntries calls are counted. RequestVote, PreVote and GetLog are
//! Unimplemented.
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};

use super::msgfault::{Budget, MsgAction, MsgFault, MsgMethod};
use crate::proto::raft_service_server::{RaftService, RaftServiceServer};
use crate::proto::{
    AppendEntriesRequest, AppendEntriesResponse, ClientRequestMessage, ClientResponseMessage,
    GetLogRequest, GetLogResponse, GetStatusRequest, GetStatusResponse, Outcome as Wire,
    RequestVoteRequest, RequestVoteResponse,
};

/// A message fault on the one link 1→2: the fault the link and message-fault tests set.
pub fn fault_on_1_to_2(method: MsgMethod, action: MsgAction, budget: Budget) -> MsgFault {
    MsgFault {
        links: [(1, 2)].into_iter().collect(),
        method,
        action,
        budget,
    }
}

/// A running stub node. Stops on [`StatusServer::stop`] or drop.
pub struct StatusServer {
    pub addr: SocketAddr,
    counts: Arc<Counts>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

/// Calls answered so far, by method.
#[derive(Default)]
struct Counts {
    status: AtomicU64,
    appends: AtomicU64,
}

impl StatusServer {
    /// Starts a server on `127.0.0.1:<ephemeral>` whose GetStatus reports `node_id` as a
    /// Leader in term 1.
    pub async fn start(node_id: i32) -> std::io::Result<StatusServer> {
        Self::bind(node_id, (Ipv4Addr::LOCALHOST, 0).into()).await
    }

    /// [`StatusServer::start`] on `addr`, on the current runtime.
    pub async fn bind(node_id: i32, addr: SocketAddr) -> std::io::Result<StatusServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let counts = Arc::new(Counts::default());
        let service = RaftServiceServer::new(Stub {
            node_id,
            counts: counts.clone(),
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
        let task = tokio::spawn(async move {
            let served = tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming_shutdown(incoming, async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(error) = served {
                tracing::warn!(%error, "status server failed");
            }
        });
        Ok(StatusServer {
            addr,
            counts,
            stop: Some(stop),
            task,
        })
    }

    /// GetStatus calls answered so far.
    pub fn calls(&self) -> u64 {
        self.counts.status.load(Ordering::SeqCst)
    }

    /// AppendEntries calls answered (applied) so far.
    pub fn appends(&self) -> u64 {
        self.counts.appends.load(Ordering::SeqCst)
    }

    /// Stops the server and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for StatusServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Stub {
    node_id: i32,
    counts: Arc<Counts>,
}

/// Counts a call in `calls` and answers it with `reply`.
fn counted<T>(calls: &AtomicU64, reply: T) -> Result<Response<T>, Status> {
    calls.fetch_add(1, Ordering::SeqCst);
    Ok(Response::new(reply))
}

#[tonic::async_trait]
impl RaftService for Stub {
    async fn request_vote(
        &self,
        _: Request<RequestVoteRequest>,
    ) -> Result<Response<RequestVoteResponse>, Status> {
        Err(Status::unimplemented("RequestVote"))
    }

    async fn append_entries(
        &self,
        r: Request<AppendEntriesRequest>,
    ) -> Result<Response<AppendEntriesResponse>, Status> {
        let reply = AppendEntriesResponse {
            term: r.get_ref().term,
            success: true,
            conflict_index: None,
            conflict_term: None,
        };
        counted(&self.counts.appends, reply)
    }

    async fn client_request(
        &self,
        _: Request<ClientRequestMessage>,
    ) -> Result<Response<ClientResponseMessage>, Status> {
        Ok(Response::new(ClientResponseMessage {
            success: true,
            message: "applied".into(),
            leader_id: self.node_id,
            outcome: Wire::Applied as i32,
            ..Default::default()
        }))
    }

    async fn get_status(
        &self,
        _: Request<GetStatusRequest>,
    ) -> Result<Response<GetStatusResponse>, Status> {
        let reply = GetStatusResponse {
            state: "Leader".to_string(),
            current_term: 1,
            voted_for: self.node_id,
            leader_id: self.node_id,
            node_id: self.node_id,
            commit_index: -1,
            last_applied: -1,
            last_log_index: -1,
            last_log_term: 0,
            implementation: "proxy-test-server".to_string(),
            leader_address: String::new(),
        };
        counted(&self.counts.status, reply)
    }

    async fn get_log(&self, _: Request<GetLogRequest>) -> Result<Response<GetLogResponse>, Status> {
        Err(Status::unimplemented("GetLog"))
    }

    async fn pre_vote(
        &self,
        _: Request<RequestVoteRequest>,
    ) -> Result<Response<RequestVoteResponse>, Status> {
        Err(Status::unimplemented("PreVote"))
    }
}

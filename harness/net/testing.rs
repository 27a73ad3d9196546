//! A tiny in-process RaftService for proxy tests and benchmarks: GetStatus answers a fixed
//! status and counts its calls; every other method is Unimplemented.
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};

use crate::proto::raft_service_server::{RaftService, RaftServiceServer};
use crate::proto::{
    AppendEntriesRequest, AppendEntriesResponse, ClientRequestMessage, ClientResponseMessage,
    GetLogRequest, GetLogResponse, GetStatusRequest, GetStatusResponse, RequestVoteRequest,
    RequestVoteResponse,
};

/// A running status server on `127.0.0.1:<ephemeral>`. Stops on [`StatusServer::stop`] or drop.
pub struct StatusServer {
    pub addr: SocketAddr,
    calls: Arc<AtomicU64>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl StatusServer {
    /// Starts a server whose GetStatus reports `node_id` as a Leader in term 1.
    pub async fn start(node_id: i32) -> std::io::Result<StatusServer> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let calls = Arc::new(AtomicU64::new(0));
        let service = RaftServiceServer::new(FixedStatus {
            node_id,
            calls: calls.clone(),
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
            calls,
            stop: Some(stop),
            task,
        })
    }

    /// GetStatus calls answered so far.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
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

struct FixedStatus {
    node_id: i32,
    calls: Arc<AtomicU64>,
}

#[tonic::async_trait]
impl RaftService for FixedStatus {
    async fn request_vote(
        &self,
        _: Request<RequestVoteRequest>,
    ) -> Result<Response<RequestVoteResponse>, Status> {
        Err(Status::unimplemented("RequestVote"))
    }

    async fn append_entries(
        &self,
        _: Request<AppendEntriesRequest>,
    ) -> Result<Response<AppendEntriesResponse>, Status> {
        Err(Status::unimplemented("AppendEntries"))
    }

    async fn client_request(
        &self,
        _: Request<ClientRequestMessage>,
    ) -> Result<Response<ClientResponseMessage>, Status> {
        Err(Status::unimplemented("ClientRequest"))
    }

    async fn get_status(
        &self,
        _: Request<GetStatusRequest>,
    ) -> Result<Response<GetStatusResponse>, Status> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(Response::new(GetStatusResponse {
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
        }))
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

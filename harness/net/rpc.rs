//! RPC-aware links (`[cluster] network = "rpc"`): each directed link A→B is a gRPC server
//! that takes A's unary RaftService calls and makes them to B.
//!
//! The request and reply bytes are forwarded unchanged (a raw-bytes codec: fields this
//! harness does not know pass intact); a copy is decoded with prost for `messages.jsonl`
//! ([`super::trace`]) and for matching message faults ([`super::msgfault`]).
//!
//! Link faults of `net` steps act per call: `Blackhole` and loss hold the call like a lost
//! packet (the caller waits for its own deadline), `Reject` answers UNAVAILABLE at once,
//! delay ± jitter postpones delivery. A held call ends when its caller gives up, at the
//! deadline it sent (`grpc-timeout`), after [`HOLD_CAP`], or at shutdown.
//!
//! Each call is handled in its own task, so a call that reached the receiver is completed and
//! recorded even when its caller gave up meanwhile (as a packet in flight still arrives).
use super::msgfault::{Budget, MsgAction, MsgFault};
use super::proxy::{Link, LinkFault, LinkMode, LinkStats};
use super::trace::{decode_reply, decode_request, Fate, Message, Method, TraceSink};
use bytes::{Buf, BufMut, Bytes};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, watch};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::{http, BoxFuture, Service};
use tonic::{Code, Status};

/// Longest a dropped or blackholed call is held when its caller sent no deadline.
pub const HOLD_CAP: Duration = Duration::from_secs(30);
/// Deadline of a forwarded call whose caller sent none.
const FORWARD_CAP: Duration = Duration::from_secs(30);

/// A codec that hands message bytes through as they are.
#[derive(Clone, Copy, Default)]
pub struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;
    fn encoder(&mut self) -> RawCodec {
        RawCodec
    }
    fn decoder(&mut self) -> RawCodec {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = Status;
    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// A message fault in force, with what is left of its budget.
struct Rule {
    id: u32,
    fault: MsgFault,
    left: Option<u32>,
}

/// What all RPC links of one network share: the trace, the run clock, the message faults.
pub(super) struct Shared {
    trace: Option<TraceSink>,
    clock: Instant,
    next_id: AtomicU64,
    rules: Mutex<(u32, Vec<Rule>)>,
}

impl Shared {
    pub(super) fn new(trace: Option<TraceSink>, clock: Instant) -> Arc<Shared> {
        Arc::new(Shared {
            trace,
            clock,
            next_id: AtomicU64::new(0),
            rules: Mutex::new((0, Vec::new())),
        })
    }

    fn now_us(&self) -> u64 {
        self.clock.elapsed().as_micros() as u64
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (u32, Vec<Rule>)> {
        self.rules.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a message fault; returns its id (the `rule` of the calls it acts on).
    pub(super) fn add(&self, fault: MsgFault) -> u32 {
        let mut g = self.lock();
        let id = g.0;
        g.0 += 1;
        let left = match fault.budget {
            Budget::Next(n) => Some(n),
            Budget::Rate(_) => None,
        };
        g.1.push(Rule { id, fault, left });
        id
    }

    /// Ends every message fault.
    pub(super) fn clear(&self) {
        self.lock().1.clear();
    }

    /// The message faults in force.
    pub(super) fn rules(&self) -> Vec<(u32, MsgFault)> {
        self.lock()
            .1
            .iter()
            .map(|r| (r.id, r.fault.clone()))
            .collect()
    }

    /// The first rule that matches the call and fires, spending its budget.
    fn pick(
        &self,
        link: Link,
        method: Method,
        req: Option<&super::trace::Request>,
        rng: &mut SmallRng,
    ) -> Option<(u32, MsgAction)> {
        let mut g = self.lock();
        for r in g.1.iter_mut() {
            if !r.fault.links.contains(&link) || !r.fault.method.matches(method, req) {
                continue;
            }
            let fires = match (&mut r.left, r.fault.budget) {
                (Some(left), _) if *left > 0 => {
                    *left -= 1;
                    true
                }
                (Some(_), _) => false,
                (None, Budget::Rate(p)) => p > 0.0 && rng.random_bool(p),
                (None, Budget::Next(_)) => false,
            };
            if fires {
                return Some((r.id, r.fault.action));
            }
        }
        None
    }
}

/// One RPC link: where it forwards, its link fault, and its counters.
pub(super) struct RpcLink {
    link: Link,
    channel: tonic::transport::Channel,
    fault: watch::Receiver<LinkFault>,
    stats: Arc<LinkStats>,
    shared: Arc<Shared>,
    rng: Mutex<SmallRng>,
    /// Calls delivered on this link so far, per method (for `reorder`).
    delivered: watch::Sender<u64>,
    stop: watch::Receiver<bool>,
}

/// Serves one link on `listener` until `stop` is set.
#[allow(clippy::too_many_arguments)]
pub(super) async fn serve(
    listener: tokio::net::TcpListener,
    link: Link,
    target: SocketAddr,
    fault: watch::Receiver<LinkFault>,
    stats: Arc<LinkStats>,
    shared: Arc<Shared>,
    seed: u64,
    mut stop: watch::Receiver<bool>,
) {
    let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{target}"))
        .expect("a socket address is a valid URI")
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(1));
    let ctx = Arc::new(RpcLink {
        link,
        channel: endpoint.connect_lazy(),
        fault,
        stats,
        shared,
        rng: Mutex::new(SmallRng::seed_from_u64(seed)),
        delivered: watch::channel(0).0,
        stop: stop.clone(),
    });
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    let shutdown = async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    let served = tonic::transport::Server::builder()
        .add_service(LinkService(ctx))
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await;
    if let Err(error) = served {
        tracing::warn!(%error, "RPC link {}->{} stopped", link.0, link.1);
    }
}

#[derive(Clone)]
struct LinkService(Arc<RpcLink>);

impl tonic::server::NamedService for LinkService {
    const NAME: &'static str = "raft.RaftService";
}

impl Service<http::Request<tonic::body::Body>> for LinkService {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(
        &mut self,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Infallible>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<tonic::body::Body>) -> Self::Future {
        let call = OneCall {
            ctx: self.0.clone(),
            path: req.uri().path().to_string(),
        };
        Box::pin(async move {
            let mut grpc = tonic::server::Grpc::new(RawCodec);
            Ok(grpc.unary(call, req).await)
        })
    }
}

struct OneCall {
    ctx: Arc<RpcLink>,
    path: String,
}

impl tonic::server::UnaryService<Bytes> for OneCall {
    type Response = Bytes;
    type Future = BoxFuture<tonic::Response<Bytes>, Status>;

    fn call(&mut self, request: tonic::Request<Bytes>) -> Self::Future {
        let ctx = self.ctx.clone();
        let path = self.path.clone();
        // Dropped when the caller gives up: held calls then end.
        let (caller_alive, caller_gone) = oneshot::channel::<()>();
        let task = tokio::spawn(async move { ctx.handle(path, request, caller_gone).await });
        Box::pin(async move {
            let r = task
                .await
                .unwrap_or_else(|e| Err(Status::internal(format!("link task failed: {e}"))));
            drop(caller_alive);
            r.map(tonic::Response::new)
        })
    }
}

/// The deadline a caller sent (`grpc-timeout`: digits and a unit H M S m u n).
fn deadline(meta: &tonic::metadata::MetadataMap) -> Option<Duration> {
    let v = meta.get("grpc-timeout")?.to_str().ok()?;
    let (n, unit) = v.split_at(v.len().checked_sub(1)?);
    let n: u64 = n.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n * 3600),
        "M" => Duration::from_secs(n * 60),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// The fate of a call that never reaches the receiver: the link's mode, a loss draw, or a
/// `drop-request` rule; `None` lets it through.
fn held_fate(mode: LinkMode, lost: bool, action: Option<MsgAction>) -> Option<Fate> {
    match (mode, lost, action) {
        (LinkMode::Reject, _, _) => Some(Fate::Rejected),
        (LinkMode::Blackhole, _, _) => Some(Fate::Blackholed),
        (_, true, _) => Some(Fate::Lost),
        (_, _, Some(MsgAction::DropRequest)) => Some(Fate::DroppedRequest),
        _ => None,
    }
}

impl RpcLink {
    /// One forwarded call: record it as `m`, then hold, delay, reorder, duplicate or drop
    /// it as the link's fault and the message rules say.
    async fn handle(
        self: Arc<Self>,
        path: String,
        request: tonic::Request<Bytes>,
        mut caller_gone: oneshot::Receiver<()>,
    ) -> Result<Bytes, Status> {
        let start = Instant::now();
        let method = Method::from_path(&path);
        let timeout = deadline(request.metadata());
        let (meta, _, body) = request.into_parts();
        let mut m = self.message(method, &path, &body);
        let fault = *self.fault.borrow();
        let (lost, delay_ms, action) = self.draw(&fault, &mut m);
        if let Some(fate) = held_fate(fault.mode, lost, action) {
            m.fate = fate;
            m.error = Some(format!("{:?}", Code::Unavailable));
            self.record(m).await;
            if fate != Fate::Rejected {
                self.hold(timeout, start, &mut caller_gone).await;
            }
            return Err(Status::unavailable(format!(
                "call {fate:?} by the harness on link {}->{}",
                self.link.0, self.link.1
            )));
        }
        self.delay(&mut m, delay_ms, action).await;
        let reply = self
            .deliver(&mut m, &path, &meta, body.clone(), timeout, start)
            .await;
        match action {
            Some(MsgAction::Duplicate { after_ms }) => {
                self.duplicate(&m, path, meta, body, after_ms)
            }
            Some(MsgAction::DropReply) => {
                m.fate = Fate::DroppedReply;
                self.record(m).await;
                self.hold(timeout, start, &mut caller_gone).await;
                return Err(Status::deadline_exceeded("reply dropped by the harness"));
            }
            _ => {}
        }
        self.record(m).await;
        reply
    }

    /// The trace record of a call just received on this link (it passes until told otherwise).
    fn message(&self, method: Method, path: &str, body: &Bytes) -> Message {
        Message {
            id: self.shared.next_id.fetch_add(1, Ordering::Relaxed),
            from: self.link.0,
            to: self.link.1,
            method,
            path: (method == Method::Other).then(|| path.to_string()),
            req: decode_request(method, body),
            reply: None,
            error: None,
            sent_us: self.shared.now_us(),
            delivered_us: None,
            replied_us: None,
            fate: Fate::Pass,
            delay_ms: 0,
            rule: None,
        }
    }

    /// The seeded draws for one call, in a fixed order (loss, link delay, rule): whether it
    /// is lost, the link's delay in ms, and the message rule's action (its id goes in `m`).
    /// A `delay` rule's own draw comes later, in [`RpcLink::delay`].
    fn draw(&self, fault: &LinkFault, m: &mut Message) -> (bool, u64, Option<MsgAction>) {
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        let lost = fault.loss_rate > 0.0 && rng.random_bool(fault.loss_rate);
        let delay_ms = link_delay(fault, &mut rng);
        let rule = self
            .shared
            .pick(self.link, m.method, m.req.as_ref(), &mut rng);
        m.rule = rule.map(|r| r.0);
        (lost, delay_ms, rule.map(|r| r.1))
    }

    /// Wait before delivering: the link's delay plus a `delay` rule's (drawn here, only for
    /// calls that are delivered), then (`reorder`) until a later call on this link is
    /// delivered or `max_hold_ms` passes. The time held goes in `m.delay_ms`.
    async fn delay(&self, m: &mut Message, mut delay_ms: u64, action: Option<MsgAction>) {
        if let Some(MsgAction::Delay { min_ms, max_ms }) = action {
            let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
            delay_ms += rng.random_range(min_ms..=max_ms);
        }
        if delay_ms > 0 {
            m.fate = Fate::Delayed;
            m.delay_ms = delay_ms;
            self.sleep(Duration::from_millis(delay_ms)).await;
        }
        if let Some(MsgAction::Reorder { max_hold_ms }) = action {
            m.fate = Fate::Reordered;
            let mut seen = self.delivered.subscribe();
            let held_from = Instant::now();
            let wait = async { drop(seen.changed().await) };
            let cap = Duration::from_millis(max_hold_ms);
            tokio::select! {
                _ = wait => {}
                _ = tokio::time::sleep(cap) => {}
            }
            m.delay_ms += held_from.elapsed().as_millis() as u64;
        }
    }

    /// Forwards the bytes to the receiver; fills delivery and reply fields of `m`.
    async fn deliver(
        &self,
        m: &mut Message,
        path: &str,
        meta: &tonic::metadata::MetadataMap,
        body: Bytes,
        timeout: Option<Duration>,
        start: Instant,
    ) -> Result<Bytes, Status> {
        m.delivered_us = Some(self.shared.now_us());
        self.stats
            .bytes_forward
            .fetch_add(body.len() as u64, Ordering::Relaxed);
        self.delivered.send_modify(|n| *n += 1);
        let left = timeout
            .unwrap_or(FORWARD_CAP)
            .saturating_sub(start.elapsed())
            .max(Duration::from_millis(1));
        let r = self.forward(path, meta, body, left).await;
        m.replied_us = Some(self.shared.now_us());
        match &r {
            Ok(bytes) => {
                self.stats
                    .bytes_backward
                    .fetch_add(bytes.len() as u64, Ordering::Relaxed);
                m.reply = decode_reply(m.method, bytes);
            }
            Err(status) => m.error = Some(format!("{:?}", status.code())),
        }
        r
    }

    async fn forward(
        &self,
        path: &str,
        meta: &tonic::metadata::MetadataMap,
        body: Bytes,
        timeout: Duration,
    ) -> Result<Bytes, Status> {
        let mut grpc = tonic::client::Grpc::new(self.channel.clone());
        grpc.ready()
            .await
            .map_err(|e| Status::unavailable(format!("receiver not reachable: {e}")))?;
        let path = http::uri::PathAndQuery::from_str(path)
            .map_err(|e| Status::unimplemented(format!("bad path {path}: {e}")))?;
        let mut req = tonic::Request::from_parts(meta.clone(), tonic::Extensions::default(), body);
        req.set_timeout(timeout);
        let mut stop = self.stop.clone();
        tokio::select! {
            r = grpc.unary(req, path, RawCodec) => r.map(|r| r.into_inner()),
            _ = async { drop(stop.wait_for(|s| *s).await) } => Err(Status::unavailable("the network is shut down")),
        }
    }

    /// Sends a second copy `after_ms` later; its reply goes nowhere but is recorded.
    fn duplicate(
        self: &Arc<Self>,
        first: &Message,
        path: String,
        meta: tonic::metadata::MetadataMap,
        body: Bytes,
        after_ms: u64,
    ) {
        let mut copy = first.clone();
        copy.id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        copy.fate = Fate::Duplicate;
        copy.delay_ms = after_ms;
        copy.reply = None;
        copy.error = None;
        let me = self.clone();
        tokio::spawn(async move {
            me.sleep(Duration::from_millis(after_ms)).await;
            if *me.stop.borrow() {
                return;
            }
            copy.sent_us = me.shared.now_us();
            let start = Instant::now();
            let _ = me
                .deliver(&mut copy, &path, &meta, body, Some(FORWARD_CAP), start)
                .await;
            me.record(copy).await;
        });
    }

    async fn record(&self, m: Message) {
        if let Some(t) = &self.shared.trace {
            t.record(m).await;
        }
    }

    /// Sleeps, cut short by shutdown.
    async fn sleep(&self, d: Duration) {
        let mut stop = self.stop.clone();
        tokio::select! {
            _ = tokio::time::sleep(d) => {}
            _ = async { drop(stop.wait_for(|s| *s).await) } => {}
        }
    }

    /// Holds a call: until its caller gives up, its deadline, [`HOLD_CAP`] or shutdown.
    async fn hold(
        &self,
        timeout: Option<Duration>,
        start: Instant,
        caller_gone: &mut oneshot::Receiver<()>,
    ) {
        let left = timeout
            .unwrap_or(HOLD_CAP)
            .min(HOLD_CAP)
            .saturating_sub(start.elapsed());
        tokio::select! {
            _ = self.sleep(left) => {}
            _ = caller_gone => {}
        }
    }
}

impl super::Network {
    /// A full mesh of RPC-aware links (`[cluster] network = "rpc"`) between `(id, real
    /// address)` nodes. Every call is recorded to `trace` (if any) with times in µs since
    /// `clock`; `seed` drives every random choice (jitter, loss, message-fault rates).
    pub async fn start_rpc_mesh(
        nodes: &[(super::NodeId, SocketAddr)],
        seed: u64,
        trace: Option<TraceSink>,
        clock: Instant,
    ) -> Result<super::Network, super::NetError> {
        let shared = Shared::new(trace, clock);
        super::Network::start_with(&super::proxy::mesh(nodes), seed, Some(shared)).await
    }

    /// True when the links are RPC-aware (message faults and `messages.jsonl` work).
    pub fn is_rpc(&self) -> bool {
        self.rpc.is_some()
    }

    /// Puts a message fault in force until [`super::Network::heal`] or
    /// [`super::Network::clear_msg_faults`]; returns its id (the `rule` in `messages.jsonl`).
    /// Errors: bad values, a link the network does not have, TCP links.
    pub fn add_msg_fault(&self, fault: MsgFault) -> Result<u32, String> {
        let Some(rpc) = &self.rpc else {
            return Err("message faults need RPC-aware links (`network = \"rpc\"`)".into());
        };
        fault.validate().map_err(|e| e.to_string())?;
        let known = self.links();
        if let Some((a, b)) = fault.links.iter().find(|l| !known.contains(l)) {
            return Err(super::NetError::UnknownLink(*a, *b).to_string());
        }
        Ok(rpc.add(fault))
    }

    /// Ends every message fault (link faults stay).
    pub fn clear_msg_faults(&self) {
        if let Some(rpc) = &self.rpc {
            rpc.clear();
        }
    }

    /// The message faults in force, with their ids.
    pub fn msg_faults(&self) -> Vec<(u32, MsgFault)> {
        self.rpc.as_ref().map_or_else(Vec::new, |r| r.rules())
    }
}

/// Name of the trace in a run's report folder.
pub const TRACE_FILE: &str = "messages.jsonl";

/// Starts the RPC-aware mesh of a run, tracing to `run_dir/messages.jsonl`; the trace's
/// writer task goes to `task` (for [`finish_trace`]).
pub async fn start_for_run(
    nodes: &[(super::NodeId, SocketAddr)],
    seed: u64,
    run_dir: &std::path::Path,
    clock: Instant,
    task: &mut Option<tokio::task::JoinHandle<u64>>,
) -> Result<super::Network, String> {
    let path = run_dir.join(TRACE_FILE);
    let (sink, writer) =
        TraceSink::create(&path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    *task = Some(writer);
    super::Network::start_rpc_mesh(nodes, seed, Some(sink), clock)
        .await
        .map_err(|e| e.to_string())
}

/// Waits for the trace writer (every sink must be dropped: the network shut down and
/// dropped) and reads the trace back for the checks; None without RPC-aware links.
pub async fn finish_trace(
    task: Option<tokio::task::JoinHandle<u64>>,
    run_dir: &std::path::Path,
) -> Option<Vec<Message>> {
    let task = task?;
    let _ = task.await;
    let (messages, problems) = super::trace::read(&run_dir.join(TRACE_FILE));
    for p in problems {
        tracing::warn!("{p}");
    }
    Some(messages)
}

/// The link's delay ± jitter for one call, ms.
fn link_delay(fault: &LinkFault, rng: &mut SmallRng) -> u64 {
    let jitter = i64::from(fault.jitter_ms);
    let offset = if jitter > 0 {
        rng.random_range(-jitter..=jitter)
    } else {
        0
    };
    (i64::from(fault.delay_ms) + offset).max(0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_are_read_from_grpc_timeout() {
        let mut meta = tonic::metadata::MetadataMap::new();
        assert_eq!(deadline(&meta), None);
        meta.insert("grpc-timeout", "250m".parse().unwrap());
        assert_eq!(deadline(&meta), Some(Duration::from_millis(250)));
        meta.insert("grpc-timeout", "3S".parse().unwrap());
        assert_eq!(deadline(&meta), Some(Duration::from_secs(3)));
        meta.insert("grpc-timeout", "3x".parse().unwrap());
        assert_eq!(deadline(&meta), None);
    }
}

//! TCP proxies for the directed links of a cluster, with faults that change at run time.
//!
//! Each link (from, to) has its own listener on `127.0.0.1:<ephemeral>` and forwards every
//! accepted connection to the target node's real address. The fault of a link lives in a
//! `watch` channel: connection tasks check it per chunk with one atomic load and wake on a
//! change, so faults act on existing long-lived (HTTP/2) connections, not only on new ones.
//!
//! What each mode does:
//! - `Pass`: bytes flow, after `delay_ms ± jitter_ms` per chunk when set (order is kept).
//! - `Blackhole`: nothing more is forwarded in either byte direction of the link's
//!   connections, and new connections are accepted but get nothing. Bytes are held, never
//!   answered, like dropped packets. When the link leaves `Blackhole`, its held connections are
//!   reset so clients reconnect at once instead of receiving minutes-old bytes.
//! - `Reject`: existing connections are reset (RST, via `SO_LINGER` 0) and new ones are reset
//!   as soon as they are accepted.
//! - `loss_rate` p: a new connection is reset with probability p, and every live connection
//!   is reset with probability p once per [`LOSS_PERIOD`].
//!
//! A connection whose target refuses or resets is reset towards the client too, so a killed
//! node looks killed through its proxy.
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

pub use crate::spec::faults::LinkMode;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior};

/// A node id, as on the node command line.
pub type NodeId = u32;
/// A directed link `(from, to)`: the connections that `from` opens to reach `to`.
pub type Link = (NodeId, NodeId);

/// First size of the reusable read buffer of each direction of each connection; it doubles
/// whenever a read fills it, up to [`MAX_CHUNK`], so RPC connections stay small and bulk
/// transfers make few system calls.
const FIRST_CHUNK: usize = 16 * 1024;
const MAX_CHUNK: usize = 256 * 1024;
/// Bytes a delayed direction may hold before it stops reading (back-pressure).
const MAX_QUEUED: usize = 4 * 1024 * 1024;
/// Spare chunk buffers a delayed direction keeps for reuse.
const MAX_SPARE: usize = 16;
/// How often a live connection rolls the dice against `loss_rate`.
pub const LOSS_PERIOD: Duration = Duration::from_secs(1);

/// The fault state of one directed link. `LinkFault::default()` is a healthy link.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LinkFault {
    pub mode: LinkMode,
    /// Added to every chunk forwarded, in each byte direction.
    pub delay_ms: u32,
    /// Each chunk's delay is drawn uniformly from `delay_ms ± jitter_ms` (at least 0), but a
    /// chunk is never delivered before the one read before it.
    pub jitter_ms: u32,
    /// Probability in `[0, 1]` that a new connection is reset, and that a live connection is
    /// reset in each [`LOSS_PERIOD`].
    pub loss_rate: f64,
}

impl LinkFault {
    /// A healthy link.
    pub const PASS: LinkFault = LinkFault {
        mode: LinkMode::Pass,
        delay_ms: 0,
        jitter_ms: 0,
        loss_rate: 0.0,
    };
    /// A link that holds everything.
    pub const BLACKHOLE: LinkFault = LinkFault {
        mode: LinkMode::Blackhole,
        ..LinkFault::PASS
    };
    /// A link that resets every connection.
    pub const REJECT: LinkFault = LinkFault {
        mode: LinkMode::Reject,
        ..LinkFault::PASS
    };

    /// A passing link with a delay of `delay_ms ± jitter_ms` per chunk.
    pub fn delay(delay_ms: u32, jitter_ms: u32) -> LinkFault {
        LinkFault {
            delay_ms,
            jitter_ms,
            ..LinkFault::PASS
        }
    }

    /// A passing link whose connections are reset with probability `loss_rate`.
    pub fn loss(loss_rate: f64) -> LinkFault {
        LinkFault {
            loss_rate,
            ..LinkFault::PASS
        }
    }

    /// True when the link forwards everything at once.
    pub fn is_healthy(&self) -> bool {
        *self == LinkFault::PASS
    }

    fn validate(&self) -> Result<(), NetError> {
        if !(0.0..=1.0).contains(&self.loss_rate) {
            return Err(NetError::InvalidLossRate(self.loss_rate));
        }
        Ok(())
    }

    fn delays(&self) -> bool {
        self.delay_ms > 0 || self.jitter_ms > 0
    }
}

impl fmt::Display for LinkFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.mode {
            LinkMode::Pass => "pass",
            LinkMode::Blackhole => "blackhole",
            LinkMode::Reject => "reject",
        })?;
        if self.delays() {
            write!(f, " delay={}±{}ms", self.delay_ms, self.jitter_ms)?;
        }
        if self.loss_rate > 0.0 {
            write!(f, " loss={}", self.loss_rate)?;
        }
        Ok(())
    }
}

/// Errors of the proxy network.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("no proxy for link {0}->{1}")]
    UnknownLink(NodeId, NodeId),
    #[error("link {0}->{1} is listed twice")]
    DuplicateLink(NodeId, NodeId),
    #[error("link {0}->{0} connects a node to itself")]
    SelfLink(NodeId),
    #[error("loss_rate must be between 0 and 1, got {0}")]
    InvalidLossRate(f64),
    #[error("cannot listen for link {from}->{to}: {source}")]
    Listen {
        from: NodeId,
        to: NodeId,
        source: io::Error,
    },
    #[error("the network is shut down")]
    ShutDown,
}

/// One recorded change of a link's fault.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LinkEvent {
    /// Wall clock time of the change, to line up with node journals.
    pub at: SystemTime,
    pub link: Link,
    pub old: LinkFault,
    pub new: LinkFault,
}

/// A snapshot of one link: where it listens, its fault, and its counters.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LinkStatus {
    pub link: Link,
    pub listen: SocketAddr,
    pub target: SocketAddr,
    pub fault: LinkFault,
    /// Connections open right now.
    pub live_connections: usize,
    /// Connections accepted since start.
    pub accepted: u64,
    /// Connections the proxy reset (faults, loss, target refused or reset).
    pub resets: u64,
    /// Bytes delivered from `from` to `to` (requests).
    pub bytes_forward: u64,
    /// Bytes delivered from `to` back to `from` (responses).
    pub bytes_backward: u64,
}

#[derive(Default)]
pub(super) struct LinkStats {
    live: AtomicUsize,
    accepted: AtomicU64,
    resets: AtomicU64,
    pub(super) bytes_forward: AtomicU64,
    pub(super) bytes_backward: AtomicU64,
}

struct LinkHandle {
    listen: SocketAddr,
    target: SocketAddr,
    fault: watch::Sender<LinkFault>,
    stats: Arc<LinkStats>,
}

/// The proxies of all directed links of one cluster.
///
/// Start it before the nodes (targets need not listen yet: each accepted connection dials its
/// target then). Faults are changed with [`Network::set_link`] / [`Network::set_links`] /
/// [`Network::heal`]; every change is recorded in [`Network::events`]. Call
/// [`Network::shutdown`] at the end: it returns once every listener, connection and task is
/// gone. Dropping a `Network` without it also aborts everything, but asynchronously.
pub struct Network {
    links: BTreeMap<Link, LinkHandle>,
    events: Mutex<Vec<LinkEvent>>,
    stop: watch::Sender<bool>,
    tasks: Mutex<Option<JoinSet<()>>>,
    live_tasks: Arc<AtomicUsize>,
    /// RPC-aware links only: trace, clock and message faults ([`super::rpc`]).
    pub(super) rpc: Option<Arc<super::rpc::Shared>>,
}

impl Network {
    /// Binds one `127.0.0.1:0` listener per link `(from, to, target)` and starts forwarding.
    /// `seed` drives every random choice (jitter, loss), per link and per connection.
    pub async fn start(
        links: &[(NodeId, NodeId, SocketAddr)],
        seed: u64,
    ) -> Result<Network, NetError> {
        Network::start_with(links, seed, None).await
    }

    /// As [`Network::start`]; with `rpc`, every link is an RPC-aware link ([`super::rpc`])
    /// instead of a TCP proxy.
    pub(super) async fn start_with(
        links: &[(NodeId, NodeId, SocketAddr)],
        seed: u64,
        rpc: Option<Arc<super::rpc::Shared>>,
    ) -> Result<Network, NetError> {
        let (stop, _) = watch::channel(false);
        let live_tasks = Arc::new(AtomicUsize::new(0));
        let mut tasks = JoinSet::new();
        let mut handles = BTreeMap::new();
        for &(from, to, target) in links {
            if from == to {
                return Err(NetError::SelfLink(from));
            }
            if handles.contains_key(&(from, to)) {
                return Err(NetError::DuplicateLink(from, to));
            }
            let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
                .await
                .and_then(|l| Ok((l.local_addr()?, l)))
                .map_err(|source| NetError::Listen { from, to, source });
            let (listen, listener) = listener?;
            let (fault, fault_rx) = watch::channel(LinkFault::PASS);
            let stats = Arc::new(LinkStats::default());
            let link_seed = mix(seed, (u64::from(from) << 32) | u64::from(to));
            let guard = TaskGuard::new(&live_tasks);
            if let Some(shared) = &rpc {
                let served = super::rpc::serve(
                    listener,
                    (from, to),
                    target,
                    fault_rx,
                    stats.clone(),
                    shared.clone(),
                    link_seed,
                    stop.subscribe(),
                );
                tasks.spawn(async move {
                    let _guard = guard;
                    served.await;
                });
            } else {
                let acceptor = Acceptor {
                    listener,
                    target,
                    fault: fault_rx,
                    stats: stats.clone(),
                    stop: stop.subscribe(),
                    seed: link_seed,
                    live_tasks: live_tasks.clone(),
                };
                tasks.spawn(async move {
                    let _guard = guard;
                    acceptor.run().await;
                });
            }
            handles.insert(
                (from, to),
                LinkHandle {
                    listen,
                    target,
                    fault,
                    stats,
                },
            );
        }
        Ok(Network {
            links: handles,
            events: Mutex::new(Vec::new()),
            stop,
            tasks: Mutex::new(Some(tasks)),
            live_tasks,
            rpc,
        })
    }

    /// A full mesh: one link for every ordered pair of distinct nodes `(id, real address)`.
    pub async fn start_mesh(
        nodes: &[(NodeId, SocketAddr)],
        seed: u64,
    ) -> Result<Network, NetError> {
        Network::start(&mesh(nodes), seed).await
    }
}

/// Every ordered pair of distinct nodes, as `(from, to, to's address)`.
pub(super) fn mesh(nodes: &[(NodeId, SocketAddr)]) -> Vec<(NodeId, NodeId, SocketAddr)> {
    nodes
        .iter()
        .flat_map(|&(from, _)| {
            nodes
                .iter()
                .filter(move |&&(to, _)| to != from)
                .map(move |&(to, target)| (from, to, target))
        })
        .collect()
}

impl Network {
    /// Where `from` must connect to reach `to`.
    pub fn listen_addr(&self, from: NodeId, to: NodeId) -> Result<SocketAddr, NetError> {
        Ok(self.handle(from, to)?.listen)
    }

    /// The peers of `from` as it must be told them: `(peer id, proxy address)`, by peer id.
    pub fn peers_of(&self, from: NodeId) -> Vec<(NodeId, SocketAddr)> {
        self.links
            .iter()
            .filter(|((f, _), _)| *f == from)
            .map(|(&(_, to), h)| (to, h.listen))
            .collect()
    }

    /// All links, in order.
    pub fn links(&self) -> Vec<Link> {
        self.links.keys().copied().collect()
    }

    /// Sets the fault of one link. Setting the fault it already has records nothing.
    pub fn set_link(&self, from: NodeId, to: NodeId, fault: LinkFault) -> Result<(), NetError> {
        self.set_links([(from, to)], fault)
    }

    /// Sets the same fault on several links. Nothing changes if any link is unknown.
    pub fn set_links(
        &self,
        links: impl IntoIterator<Item = Link>,
        fault: LinkFault,
    ) -> Result<(), NetError> {
        fault.validate()?;
        if *self.stop.borrow() {
            return Err(NetError::ShutDown);
        }
        let handles = links
            .into_iter()
            .map(|(from, to)| Ok(((from, to), self.handle(from, to)?)))
            .collect::<Result<Vec<_>, NetError>>()?;
        let mut events = self.lock_events();
        for (link, handle) in handles {
            let mut old = fault;
            handle.fault.send_if_modified(|current| {
                old = *current;
                *current = fault;
                old != fault
            });
            if old != fault {
                events.push(LinkEvent {
                    at: SystemTime::now(),
                    link,
                    old,
                    new: fault,
                });
            }
        }
        Ok(())
    }

    /// Every link back to a healthy [`LinkFault::PASS`]; on RPC-aware links every message
    /// fault ends too.
    pub fn heal(&self) -> Result<(), NetError> {
        if let Some(rpc) = &self.rpc {
            rpc.clear();
        }
        self.set_links(self.links.keys().copied(), LinkFault::PASS)
    }

    /// The current fault of a link.
    pub fn link_fault(&self, from: NodeId, to: NodeId) -> Result<LinkFault, NetError> {
        Ok(*self.handle(from, to)?.fault.borrow())
    }

    /// A snapshot of every link, in order.
    pub fn status(&self) -> Vec<LinkStatus> {
        self.links
            .iter()
            .map(|(&link, h)| LinkStatus {
                link,
                listen: h.listen,
                target: h.target,
                fault: *h.fault.borrow(),
                live_connections: h.stats.live.load(Ordering::Relaxed),
                accepted: h.stats.accepted.load(Ordering::Relaxed),
                resets: h.stats.resets.load(Ordering::Relaxed),
                bytes_forward: h.stats.bytes_forward.load(Ordering::Relaxed),
                bytes_backward: h.stats.bytes_backward.load(Ordering::Relaxed),
            })
            .collect()
    }

    /// Every fault change so far, oldest first.
    pub fn events(&self) -> Vec<LinkEvent> {
        self.lock_events().clone()
    }

    /// Tasks alive right now: one acceptor per link plus one per open connection.
    pub fn live_tasks(&self) -> usize {
        self.live_tasks.load(Ordering::SeqCst)
    }

    /// Closes every listener and connection and waits until all tasks have ended.
    /// Later calls do nothing; later fault changes fail with [`NetError::ShutDown`].
    pub async fn shutdown(&self) {
        self.stop.send_replace(true);
        let tasks = self
            .tasks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(mut tasks) = tasks {
            while tasks.join_next().await.is_some() {}
        }
    }

    fn handle(&self, from: NodeId, to: NodeId) -> Result<&LinkHandle, NetError> {
        self.links
            .get(&(from, to))
            .ok_or(NetError::UnknownLink(from, to))
    }

    fn lock_events(&self) -> MutexGuard<'_, Vec<LinkEvent>> {
        // A panic while holding the lock cannot leave the list half-written.
        self.events
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl fmt::Debug for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Network")
            .field("links", &self.links.keys().collect::<Vec<_>>())
            .field("live_tasks", &self.live_tasks())
            .finish()
    }
}

/// Counts a task as alive from before it is spawned until its future is dropped (also when
/// it is aborted before it ever ran).
struct TaskGuard(Arc<AtomicUsize>);

impl TaskGuard {
    fn new(counter: &Arc<AtomicUsize>) -> TaskGuard {
        counter.fetch_add(1, Ordering::SeqCst);
        TaskGuard(counter.clone())
    }
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Counts one open connection of a link for as long as it lives.
struct Live<'a>(&'a AtomicUsize);

impl<'a> Live<'a> {
    fn enter(counter: &'a AtomicUsize) -> Live<'a> {
        counter.fetch_add(1, Ordering::SeqCst);
        Live(counter)
    }
}

impl Drop for Live<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// SplitMix64 finaliser: independent seeds for links and connections from one run seed.
fn mix(seed: u64, salt: u64) -> u64 {
    let mut z = seed ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Doubles a read buffer that the last read filled, up to [`MAX_CHUNK`].
fn grow(buf: &mut Vec<u8>, last_read: usize) {
    if last_read == buf.len() && buf.len() < MAX_CHUNK {
        buf.resize(buf.len() * 2, 0);
    }
}

fn lose(rng: &mut SmallRng, loss_rate: f64) -> bool {
    loss_rate > 0.0 && rng.random_bool(loss_rate)
}

/// The accept loop of one link; owns the tasks of the link's connections.
struct Acceptor {
    listener: TcpListener,
    target: SocketAddr,
    fault: watch::Receiver<LinkFault>,
    stats: Arc<LinkStats>,
    stop: watch::Receiver<bool>,
    seed: u64,
    live_tasks: Arc<AtomicUsize>,
}

impl Acceptor {
    async fn run(mut self) {
        let mut connections = JoinSet::new();
        let mut accepted: u64 = 0;
        loop {
            tokio::select! {
                // The Ref that wait_for returns is not Send: drop it inside the branch future.
                _ = async { drop(self.stop.wait_for(|stop| *stop).await) } => break,
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
                accept = self.listener.accept() => match accept {
                    Ok((client, _)) => {
                        accepted += 1;
                        let connection = Connection {
                            target: self.target,
                            fault: self.fault.clone(),
                            stats: self.stats.clone(),
                            rng: SmallRng::seed_from_u64(mix(self.seed, accepted)),
                        };
                        let guard = TaskGuard::new(&self.live_tasks);
                        connections.spawn(async move {
                            let _guard = guard;
                            connection.run(client).await;
                        });
                    }
                    // One client gave up before we accepted it: nothing to wait for.
                    Err(error) if one_connection_failed(&error) => {
                        tracing::debug!(%error, "proxy accept: connection gone");
                    }
                    Err(error) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!(%error, "proxy accept failed");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                },
            }
        }
        drop(self.listener);
        connections.shutdown().await;
    }
}

/// An `accept` error that concerns one connection (aborted or reset before it
/// was accepted, or a signal), told by its `io::ErrorKind`: the listener is
/// fine. Anything else (EMFILE, ENOBUFS, …) is the process's problem.
fn one_connection_failed(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionReset, Interrupted};
    matches!(e.kind(), ConnectionAborted | ConnectionReset | Interrupted)
}

#[derive(Debug, PartialEq, Eq)]
enum End {
    /// Both directions finished with EOF, or the network is gone: close normally.
    Close,
    /// Reset both sockets.
    Reset,
}

struct Connection {
    target: SocketAddr,
    fault: watch::Receiver<LinkFault>,
    stats: Arc<LinkStats>,
    rng: SmallRng,
}

impl Connection {
    async fn run(mut self, mut client: TcpStream) {
        self.stats.accepted.fetch_add(1, Ordering::Relaxed);
        let stats = self.stats.clone();
        let _live = Live::enter(&stats.live);
        let mut server = None;
        let end = self.serve(&mut client, &mut server).await;
        if end == End::Reset {
            self.stats.resets.fetch_add(1, Ordering::Relaxed);
            // SO_LINGER 0 turns the close into an RST; it never blocks with a zero timeout.
            let _ = client.set_zero_linger();
            if let Some(server) = &server {
                let _ = server.set_zero_linger();
            }
        }
    }

    async fn serve(&mut self, client: &mut TcpStream, server: &mut Option<TcpStream>) -> End {
        let fault = *self.fault.borrow_and_update();
        match fault.mode {
            LinkMode::Reject => return End::Reset,
            LinkMode::Blackhole => {
                // Accepted, never dialled, nothing answered; reset once the link changes.
                loop {
                    if self.fault.changed().await.is_err() {
                        return End::Close;
                    }
                    if self.fault.borrow_and_update().mode != LinkMode::Blackhole {
                        return End::Reset;
                    }
                }
            }
            LinkMode::Pass => {}
        }
        if lose(&mut self.rng, fault.loss_rate) {
            return End::Reset;
        }
        let Ok(dialled) = TcpStream::connect(self.target).await else {
            return End::Reset;
        };
        let _ = client.set_nodelay(true);
        let _ = dialled.set_nodelay(true);
        let server = server.insert(dialled);
        let (client_read, client_write) = client.split();
        let (server_read, server_write) = server.split();
        let forward = Pump {
            fault: self.fault.clone(),
            bytes: &self.stats.bytes_forward,
            rng: SmallRng::seed_from_u64(self.rng.random()),
        };
        let backward = Pump {
            fault: self.fault.clone(),
            bytes: &self.stats.bytes_backward,
            rng: SmallRng::seed_from_u64(self.rng.random()),
        };
        let forward = forward.run(client_read, server_write, fault);
        let backward = backward.run(server_read, client_write, fault);
        tokio::pin!(forward, backward);
        let (mut forward_done, mut backward_done) = (false, false);
        let mut current = fault;
        let mut loss_tick = tokio::time::interval_at(Instant::now() + LOSS_PERIOD, LOSS_PERIOD);
        loss_tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        while !(forward_done && backward_done) {
            tokio::select! {
                result = &mut forward, if !forward_done => match result {
                    Ok(()) => forward_done = true,
                    Err(_) => return End::Reset,
                },
                result = &mut backward, if !backward_done => match result {
                    Ok(()) => backward_done = true,
                    Err(_) => return End::Reset,
                },
                changed = self.fault.changed() => {
                    if changed.is_err() {
                        return End::Close;
                    }
                    let new = *self.fault.borrow_and_update();
                    let leaves_blackhole =
                        current.mode == LinkMode::Blackhole && new.mode != LinkMode::Blackhole;
                    if new.mode == LinkMode::Reject || leaves_blackhole {
                        return End::Reset;
                    }
                    current = new;
                }
                _ = loss_tick.tick(), if current.loss_rate > 0.0 => {
                    if lose(&mut self.rng, current.loss_rate) {
                        return End::Reset;
                    }
                }
            }
        }
        End::Close
    }
}

/// Copies one byte direction of a connection, applying the link's delay; holds everything
/// forever once the link is no longer `Pass` (the connection task then resets or drops it).
struct Pump<'a> {
    fault: watch::Receiver<LinkFault>,
    bytes: &'a AtomicU64,
    rng: SmallRng,
}

impl Pump<'_> {
    async fn run<R, W>(mut self, mut from: R, mut to: W, mut fault: LinkFault) -> io::Result<()>
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let mut buf = vec![0u8; FIRST_CHUNK];
        let mut queue: VecDeque<(Instant, Vec<u8>)> = VecDeque::new();
        let mut queued = 0usize;
        let mut spare: Vec<Vec<u8>> = Vec::new();
        let mut last_due = Instant::now();
        let mut eof = false;
        loop {
            self.refresh(&mut fault).await;
            // Deliver what is due, oldest first.
            while let Some((due, _)) = queue.front() {
                if *due > Instant::now() {
                    break;
                }
                // Checked per chunk: a blackhole set meanwhile holds the rest of the queue.
                self.refresh(&mut fault).await;
                let (_, chunk) = queue.pop_front().expect("front exists");
                to.write_all(&chunk).await?;
                self.bytes.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                queued -= chunk.len();
                if spare.len() < MAX_SPARE {
                    spare.push(chunk);
                }
            }
            if eof && queue.is_empty() {
                to.shutdown().await?;
                return Ok(());
            }
            if queue.is_empty() {
                // Nothing is queued: wait for data with no timer, and forward it from the
                // one reusable buffer at once unless the link delays.
                let n = from.read(&mut buf).await?;
                if n == 0 {
                    eof = true;
                    continue;
                }
                grow(&mut buf, n);
                // The link may have changed while this read waited for data.
                self.refresh(&mut fault).await;
                if !fault.delays() {
                    to.write_all(&buf[..n]).await?;
                    self.bytes.fetch_add(n as u64, Ordering::Relaxed);
                    continue;
                }
                last_due = self.enqueue(&mut queue, &mut spare, &buf[..n], fault, last_due);
                queued += n;
                continue;
            }
            // Something is queued: wake for its due time, or read more meanwhile.
            let next_due = queue.front().expect("queue is not empty").0;
            tokio::select! {
                _ = tokio::time::sleep_until(next_due) => {}
                read = from.read(&mut buf), if !eof && queued < MAX_QUEUED => {
                    let n = read?;
                    if n == 0 {
                        eof = true;
                    } else {
                        grow(&mut buf, n);
                        last_due = self.enqueue(&mut queue, &mut spare, &buf[..n], fault, last_due);
                        queued += n;
                    }
                }
            }
        }
    }

    /// Picks up a changed fault (one atomic load when nothing changed); never returns while
    /// the link is not `Pass`.
    async fn refresh(&mut self, fault: &mut LinkFault) {
        if self.fault.has_changed().unwrap_or(false) {
            *fault = *self.fault.borrow_and_update();
        }
        if fault.mode != LinkMode::Pass {
            std::future::pending::<()>().await;
        }
    }

    fn enqueue(
        &mut self,
        queue: &mut VecDeque<(Instant, Vec<u8>)>,
        spare: &mut Vec<Vec<u8>>,
        data: &[u8],
        fault: LinkFault,
        last_due: Instant,
    ) -> Instant {
        let jitter = i64::from(fault.jitter_ms);
        let offset = if jitter > 0 {
            self.rng.random_range(-jitter..=jitter)
        } else {
            0
        };
        let delay_ms = (i64::from(fault.delay_ms) + offset).max(0) as u64;
        // Never before the previous chunk: delay reorders nothing within a connection.
        let due = (Instant::now() + Duration::from_millis(delay_ms)).max(last_due);
        let mut chunk = spare.pop().unwrap_or_default();
        chunk.clear();
        chunk.extend_from_slice(data);
        queue.push_back((due, chunk));
        due
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn accept_errors_of_one_connection_are_told_from_the_listeners_by_kind() {
        use std::io::{Error, ErrorKind};
        assert!(super::one_connection_failed(&Error::from(
            ErrorKind::ConnectionAborted
        )));
        assert!(super::one_connection_failed(&Error::from(
            ErrorKind::ConnectionReset
        )));
        // EMFILE (24): out of file descriptors, the listener cannot go on as is.
        assert!(!super::one_connection_failed(&Error::from_raw_os_error(24)));
        assert!(!super::one_connection_failed(&Error::other(
            "connection aborted"
        )));
    }

    use super::*;

    #[test]
    fn network_can_be_shared_between_tasks() {
        fn shareable<T: Send + Sync + 'static>() {}
        shareable::<Network>();
        fn sendable<F: std::future::Future + Send>(_: F) {}
        let net: Option<&Network> = None;
        if let Some(net) = net {
            sendable(net.shutdown());
        }
    }

    #[test]
    fn faults_read_well_and_reject_bad_loss_rates() {
        assert_eq!(LinkFault::PASS.to_string(), "pass");
        assert_eq!(LinkFault::BLACKHOLE.to_string(), "blackhole");
        assert_eq!(LinkFault::delay(30, 5).to_string(), "pass delay=30±5ms");
        assert!(LinkFault::loss(f64::NAN).validate().is_err());
        assert!(LinkFault::loss(-0.1).validate().is_err());
        assert!(LinkFault::loss(1.0).validate().is_ok());
        assert_eq!(
            NetError::InvalidLossRate(2.0).to_string(),
            "loss_rate must be between 0 and 1, got 2"
        );
    }

    #[test]
    fn faults_come_from_spec_text() {
        let fault: LinkFault = toml::from_str("mode = \"blackhole\"\ndelay_ms = 5").unwrap();
        assert_eq!(
            fault,
            LinkFault {
                delay_ms: 5,
                ..LinkFault::BLACKHOLE
            }
        );
        assert_eq!(toml::from_str::<LinkFault>("").unwrap(), LinkFault::PASS);
        let typo = toml::from_str::<LinkFault>("delay = 5").unwrap_err();
        assert!(typo.to_string().contains("unknown field `delay`"), "{typo}");
    }

    #[test]
    fn read_buffers_grow_only_when_filled() {
        let mut buf = vec![0u8; FIRST_CHUNK];
        grow(&mut buf, 100);
        assert_eq!(buf.len(), FIRST_CHUNK);
        for _ in 0..10 {
            let full = buf.len();
            grow(&mut buf, full);
        }
        assert_eq!(buf.len(), MAX_CHUNK);
    }
}

//! Fault proxies: one TCP proxy in front of each broker, for drills that need the network
//! to misbehave without touching the brokers.
//!
//! [`FaultProxies::start`] binds one proxy per broker on 127.0.0.1 and rewrites every
//! Metadata response passing through so that each broker's address is its proxy's: a
//! client bootstrapped with [`FaultProxies::bootstrap`] then talks to the whole cluster
//! only through the proxies. Each [`FaultProxy`] can then
//!
//! - add latency to every byte in both directions ([`FaultProxy::set_latency`]),
//! - cut every open connection with a reset, wherever the bytes are, in the middle of a
//!   request included ([`FaultProxy::cut`]); new connections are served again at once,
//! - black-hole traffic: accept connections and hold every byte, forwarding nothing
//!   ([`FaultProxy::black_hole`]),
//! - resume normal forwarding ([`FaultProxy::resume`]); bytes held in a black hole are
//!   then delivered, as TCP would after a partition heals.
//!
//! [`ProxyStats`] counts what happened, e.g. how many cuts caught requests in flight.
//! Only Metadata carries broker addresses among the requests a producer sends; other
//! address-carrying responses (FindCoordinator, DescribeCluster) pass unchanged.
//!
//! ```no_run
//! # async fn demo() -> Result<(), kiel_testcontainers::HarnessError> {
//! use kiel_testcontainers::{FaultProxies, KafkaCluster};
//!
//! let cluster = KafkaCluster::builder().nodes(3).start().await?;
//! let proxies = FaultProxies::start(&cluster).await?;
//! let bootstrap = proxies.bootstrap(); // give this to the client under test
//! proxies.cut_all(); // every connection dies, requests in flight included
//! # Ok(()) }
//! ```
//!
//! # References
//! - Kafka protocol guide, Metadata API: <https://kafka.apache.org/protocol#The_Messages_Metadata>
//! - Toxiproxy's vocabulary of network faults (latency, reset, timeout):
//!   <https://github.com/Shopify/toxiproxy#toxics>

mod relay;
mod requests;
mod rewrite;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::cluster::KafkaCluster;
use crate::error::{HarnessError, Result};
use rewrite::AddressBook;

/// What every connection of one proxy obeys; changed through [`FaultProxy`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Control {
    latency: Duration,
    black_hole: bool,
    /// Bumped by every cut; connections opened before end.
    cuts: u64,
    shut_down: bool,
}

/// Live counters of one proxy.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    accepted: AtomicU64,
    requests: AtomicU64,
    cuts: AtomicU64,
    cuts_with_requests_in_flight: AtomicU64,
    requests_in_flight_at_cuts: AtomicU64,
    metadata_rewritten: AtomicU64,
    rewrite_failures: AtomicU64,
    protocol_errors: AtomicU64,
    upstream_failures: AtomicU64,
}

/// A snapshot of what a proxy (or all of them, summed) has done.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProxyStats {
    /// Client connections accepted.
    pub connections_accepted: u64,
    /// Requests read from clients (counted when their header has passed).
    pub requests: u64,
    /// Connections closed by a cut.
    pub connections_cut: u64,
    /// Cuts that caught a connection with at least one request not yet answered.
    pub cuts_with_requests_in_flight: u64,
    /// Requests (started or whole) that had no answer delivered when their connection was cut.
    pub requests_in_flight_at_cuts: u64,
    /// Metadata responses whose broker addresses were rewritten.
    pub metadata_rewritten: u64,
    /// Metadata responses that could not be rewritten (their connection was closed).
    pub rewrite_failures: u64,
    /// Streams that were not Kafka frames (their connection was closed).
    pub protocol_errors: u64,
    /// Connections the broker refused or did not take.
    pub upstream_failures: u64,
}

impl ProxyStats {
    fn add(mut self, other: Self) -> Self {
        self.connections_accepted += other.connections_accepted;
        self.requests += other.requests;
        self.connections_cut += other.connections_cut;
        self.cuts_with_requests_in_flight += other.cuts_with_requests_in_flight;
        self.requests_in_flight_at_cuts += other.requests_in_flight_at_cuts;
        self.metadata_rewritten += other.metadata_rewritten;
        self.rewrite_failures += other.rewrite_failures;
        self.protocol_errors += other.protocol_errors;
        self.upstream_failures += other.upstream_failures;
        self
    }
}

/// A proxy in front of one broker. Dropping it closes its listener and every connection.
#[derive(Debug)]
pub struct FaultProxy {
    node: i32,
    address: String,
    upstream: String,
    control: watch::Sender<Control>,
    counters: Arc<Counters>,
    acceptor: JoinHandle<()>,
}

impl FaultProxy {
    /// The broker (node id) behind this proxy.
    pub fn node(&self) -> i32 {
        self.node
    }

    /// `127.0.0.1:<port>` where clients reach this proxy.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The broker's own address.
    pub fn upstream(&self) -> &str {
        &self.upstream
    }

    /// Delays every byte read from now on by `latency` in each direction (zero: none).
    pub fn set_latency(&self, latency: Duration) {
        self.control.send_modify(|c| c.latency = latency);
    }

    /// Closes every connection open now with a reset, in whatever state it is; later
    /// connections are served normally.
    pub fn cut(&self) {
        self.control.send_modify(|c| c.cuts += 1);
    }

    /// From now on, accepts connections and holds every byte: nothing reaches the broker
    /// or the client until [`Self::resume`].
    pub fn black_hole(&self) {
        self.control.send_modify(|c| c.black_hole = true);
    }

    /// Ends a black hole (held bytes flow again) and removes added latency.
    pub fn resume(&self) {
        self.control.send_modify(|c| {
            c.black_hole = false;
            c.latency = Duration::ZERO;
        });
    }

    /// What this proxy has done so far.
    pub fn stats(&self) -> ProxyStats {
        let c = &self.counters;
        let get = |n: &AtomicU64| n.load(Ordering::Relaxed);
        ProxyStats {
            connections_accepted: get(&c.accepted),
            requests: get(&c.requests),
            connections_cut: get(&c.cuts),
            cuts_with_requests_in_flight: get(&c.cuts_with_requests_in_flight),
            requests_in_flight_at_cuts: get(&c.requests_in_flight_at_cuts),
            metadata_rewritten: get(&c.metadata_rewritten),
            rewrite_failures: get(&c.rewrite_failures),
            protocol_errors: get(&c.protocol_errors),
            upstream_failures: get(&c.upstream_failures),
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.acceptor.abort();
        self.control.send_modify(|c| c.shut_down = true);
    }
}

/// One [`FaultProxy`] per broker of a cluster, sharing the address rewrite.
#[derive(Debug)]
pub struct FaultProxies {
    proxies: Vec<FaultProxy>,
}

impl FaultProxies {
    /// Starts one proxy per broker that `cluster`'s Metadata lists (on the current tokio
    /// runtime). The brokers' addresses must stay the same for the proxies' lifetime
    /// (restarted nodes of a local cluster keep theirs; [`KafkaCluster::restart_on_new_port`]
    /// moves one, and its proxy still forwards to the old port).
    pub async fn start(cluster: &KafkaCluster) -> Result<Self> {
        let metadata = cluster.metadata(&[]).await?;
        let mut brokers: Vec<(i32, String)> = metadata
            .brokers
            .iter()
            .map(|b| (b.node_id, format!("{}:{}", b.host, b.port)))
            .collect();
        brokers.sort_unstable();
        let mut listeners = Vec::with_capacity(brokers.len());
        let mut book = AddressBook::new();
        for (node, _) in &brokers {
            let listener = TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|e| HarnessError::io("binding a fault proxy", e))?;
            let port = listener
                .local_addr()
                .map_err(|e| HarnessError::io("reading a fault proxy's address", e))?
                .port();
            book.insert(*node, ("127.0.0.1".to_owned(), i32::from(port)));
            listeners.push((listener, port));
        }
        let book = Arc::new(book);
        let proxies = brokers
            .into_iter()
            .zip(listeners)
            .map(|((node, upstream), (listener, port))| {
                let (control, watching) = watch::channel(Control::default());
                let counters = Arc::new(Counters::default());
                let acceptor = tokio::spawn(accept_loop(
                    listener,
                    upstream.clone(),
                    watching,
                    Arc::clone(&counters),
                    Arc::clone(&book),
                ));
                FaultProxy {
                    node,
                    address: format!("127.0.0.1:{port}"),
                    upstream,
                    control,
                    counters,
                    acceptor,
                }
            })
            .collect();
        Ok(Self { proxies })
    }

    /// The proxies' addresses, comma-separated: a client's bootstrap list.
    pub fn bootstrap(&self) -> String {
        let addresses: Vec<&str> = self.proxies.iter().map(FaultProxy::address).collect();
        addresses.join(",")
    }

    /// The proxy in front of broker `node`.
    pub fn proxy(&self, node: i32) -> Result<&FaultProxy> {
        self.proxies
            .iter()
            .find(|p| p.node == node)
            .ok_or_else(|| HarnessError::UnknownNode {
                node,
                known: self.proxies.iter().map(|p| p.node).collect(),
            })
    }

    /// Every proxy, by node id.
    pub fn iter(&self) -> impl Iterator<Item = &FaultProxy> {
        self.proxies.iter()
    }

    /// Cuts every connection of every proxy.
    pub fn cut_all(&self) {
        self.proxies.iter().for_each(FaultProxy::cut);
    }

    /// Black-holes every proxy.
    pub fn black_hole_all(&self) {
        self.proxies.iter().for_each(FaultProxy::black_hole);
    }

    /// Resumes every proxy (no black hole, no latency).
    pub fn resume_all(&self) {
        self.proxies.iter().for_each(FaultProxy::resume);
    }

    /// Sets the same added latency on every proxy.
    pub fn set_latency_all(&self, latency: Duration) {
        self.proxies.iter().for_each(|p| p.set_latency(latency));
    }

    /// The counters of all proxies, summed.
    pub fn stats(&self) -> ProxyStats {
        self.proxies
            .iter()
            .map(FaultProxy::stats)
            .fold(ProxyStats::default(), ProxyStats::add)
    }
}

async fn accept_loop(
    listener: TcpListener,
    upstream: String,
    control: watch::Receiver<Control>,
    counters: Arc<Counters>,
    book: Arc<AddressBook>,
) {
    loop {
        match listener.accept().await {
            Ok((client, _)) => {
                counters.accepted.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(relay::serve(
                    client,
                    upstream.clone(),
                    control.clone(),
                    Arc::clone(&counters),
                    Arc::clone(&book),
                ));
            }
            // Out of descriptors or similar: let the client retry rather than spin.
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

//! The driver: the one tokio task that owns the [`Sender`] and does its IO. It wakes on new
//! records, on connection events, and when the sender's next deadline (a linger, a retry
//! backoff, a request timeout, a metadata refresh) comes due, then carries out the sender's
//! [`Action`]s. Nothing here decides anything.
//!
//! # References
//! - quinn's `Endpoint`/`Connection` driver over the sans-IO quinn-proto (the model)

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use crate::connection::{self, ConnectionConfig, ConnectionHandle, ConnectionId};
use crate::error::Error;
use crate::sender::{Action, Sender};
use crate::shared::Shared;
use crate::time::later;

/// Runs the producer until it is closed and drained. `ready` is answered once the cluster's
/// brokers are known, or with the error that stopped the bootstrap.
pub(crate) async fn run(
    shared: Arc<Shared>,
    conn_config: ConnectionConfig,
    ready: oneshot::Sender<Result<(), Error>>,
) {
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let mut sender = Sender::new(Arc::clone(&shared));
    let mut conns: HashMap<ConnectionId, ConnectionHandle> = HashMap::new();
    let mut ready = Some(ready);
    let bootstrap_deadline = later(Instant::now(), shared.config.max_block);
    loop {
        let now = Instant::now();
        for action in sender.poll(now) {
            match action {
                Action::Connect { id, address } => {
                    let handle =
                        connection::spawn(id, address, conn_config.clone(), events_tx.clone());
                    conns.insert(id, handle);
                }
                Action::Send {
                    id,
                    correlation_id,
                    frame,
                    expect_response,
                } => {
                    if let Some(conn) = conns.get(&id) {
                        // A failed send means the task ended; its Closed event fails the request over.
                        let _ = conn.send(correlation_id, frame, expect_response);
                    }
                }
                Action::Close { id } => {
                    conns.remove(&id);
                }
            }
        }
        if ready.is_some() {
            let outcome = if sender.bootstrapped() {
                Some(Ok(()))
            } else if let Some(e) = sender.fatal_error().or(sender.bootstrap_error().as_ref()) {
                Some(Err(e.clone()))
            } else if now >= bootstrap_deadline {
                Some(Err(Error::Bootstrap {
                    brokers: shared.config.bootstrap_servers.join(","),
                    last_error: format!(
                        "no Metadata answer within max.block.ms ({:?})",
                        shared.config.max_block
                    ),
                }))
            } else {
                None
            };
            if let Some(outcome) = outcome {
                let failed = outcome.is_err();
                if let Some(tx) = ready.take() {
                    let _ = tx.send(outcome);
                }
                if failed {
                    break;
                }
            }
        }
        if shared.is_closing() && sender.idle() {
            break;
        }
        let wake_at = sender
            .next_wakeup(now)
            .map_or(later(now, Duration::from_secs(3600)), |t| t.max(now));
        tokio::select! {
            _ = shared.wake_driver.notified() => {}
            event = events.recv() => {
                let now = Instant::now();
                if let Some(event) = event {
                    sender.handle_event(event, now);
                }
                while let Ok(event) = events.try_recv() {
                    sender.handle_event(event, now);
                }
            }
            _ = tokio::time::sleep_until(wake_at.into()) => {}
        }
    }
    drop(conns);
    drop(sender);
    shared.finished();
    tracing::debug!("producer driver stopped");
}

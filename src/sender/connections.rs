//! The [`Sender`]'s connections: opening them (to bootstrap addresses until the cluster is
//! known, then to brokers by id), their events, losing them, and request timeouts.
//!
//! # References
//! - Java `NetworkClient.java` (least loaded node, reconnect backoff)

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::{Action, ConnState, Endpoint, InFlight, InFlightKind, Sender, Versions};
use crate::connection::{ConnectionError, ConnectionEvent, ConnectionId};
use crate::delivery::Acked;
use crate::error::Error;
use crate::session::Answer;
use crate::time::later;

impl Sender {
    pub(super) fn correlation_id(&mut self) -> i32 {
        let id = self.next_correlation_id;
        // Wrap before the range Java reserves for SASL; never negative.
        self.next_correlation_id = if id >= i32::MAX - 8 { 1 } else { id + 1 };
        id
    }

    pub(super) fn address(&self, endpoint: &Endpoint) -> Option<String> {
        match endpoint {
            Endpoint::Broker(id) => self.cluster.broker(*id).map(ToString::to_string),
            Endpoint::Bootstrap(i) => self.config.bootstrap_servers.get(*i).cloned(),
        }
    }

    pub(super) fn connect(&mut self, endpoint: Endpoint, now: Instant, actions: &mut Vec<Action>) {
        match self.conns.get(&endpoint) {
            Some(ConnState::Connecting { .. } | ConnState::Ready { .. }) => return,
            Some(ConnState::Backoff { until }) if *until > now => return,
            _ => {}
        }
        let Some(address) = self.address(&endpoint) else {
            return;
        };
        let id = self.next_connection_id;
        self.next_connection_id += 1;
        self.conns
            .insert(endpoint.clone(), ConnState::Connecting { id });
        self.by_id.insert(id, endpoint);
        actions.push(Action::Connect { id, address });
    }

    /// A ready connection for a request that can go to any broker.
    pub(super) fn any_ready(&self) -> Option<(Endpoint, ConnectionId, Versions)> {
        let mut best: Option<(Endpoint, ConnectionId, Versions, usize)> = None;
        for (endpoint, state) in &self.conns {
            if let ConnState::Ready {
                id,
                versions,
                in_flight,
            } = state
            {
                if best.as_ref().is_none_or(|b| *in_flight < b.3) {
                    best = Some((endpoint.clone(), *id, *versions, *in_flight));
                }
            }
        }
        best.map(|(e, id, v, _)| (e, id, v))
    }

    /// Makes sure some connection is being made when nothing is ready.
    pub(super) fn ensure_some_connection(&mut self, now: Instant, actions: &mut Vec<Action>) {
        if self
            .conns
            .values()
            .any(|s| matches!(s, ConnState::Ready { .. } | ConnState::Connecting { .. }))
        {
            return;
        }
        let mut known: Vec<i32> = self.cluster.broker_ids().collect();
        known.sort_unstable();
        let candidates: Vec<Endpoint> = if known.is_empty() {
            (0..self.config.bootstrap_servers.len())
                .map(Endpoint::Bootstrap)
                .collect()
        } else {
            known.into_iter().map(Endpoint::Broker).collect()
        };
        if candidates.is_empty() {
            return;
        }
        for _ in 0..candidates.len() {
            let endpoint = candidates[self.next_bootstrap % candidates.len()].clone();
            self.next_bootstrap = self.next_bootstrap.wrapping_add(1);
            let before = actions.len();
            self.connect(endpoint, now, actions);
            if actions.len() > before {
                return;
            }
        }
    }

    /// Applies one event from a connection.
    pub(crate) fn handle_event(&mut self, event: ConnectionEvent, now: Instant) {
        match event {
            ConnectionEvent::Ready {
                id,
                api_versions,
                transaction_version,
            } => {
                if let Some(mut manager) = self.shared.lock_transaction() {
                    manager.set_cluster_transaction_version(transaction_version);
                }
                if let Some(endpoint) = self.by_id.get(&id).cloned() {
                    let versions = Versions::from(&api_versions);
                    if versions.produce.is_none() {
                        let reason =
                            "the broker does not speak Produce v3+ (Kafka 0.11 or later is needed)";
                        tracing::error!(connection = id, reason);
                        if matches!(endpoint, Endpoint::Bootstrap(_)) || !self.bootstrapped() {
                            self.fatal = Some(Error::UnsupportedBroker {
                                broker: self.address(&endpoint).unwrap_or_default(),
                                reason: reason.into(),
                            });
                        }
                    }
                    if let Endpoint::Broker(broker) = endpoint {
                        self.unreachable_brokers.remove(&broker);
                        self.shared.lock_metrics().broker(broker).connections_opened += 1;
                    }
                    self.failed_connects.remove(&endpoint);
                    self.conns.insert(
                        endpoint,
                        ConnState::Ready {
                            id,
                            versions,
                            in_flight: 0,
                        },
                    );
                }
            }
            ConnectionEvent::Closed { id, error } => self.connection_lost(id, error, now),
            ConnectionEvent::Written { id, correlation_id } => {
                if let Some(flight) = self.in_flight.remove(&(id, correlation_id)) {
                    self.request_done(&flight.endpoint);
                    if let InFlightKind::Produce { batches, .. } = flight.kind {
                        // acks=0: written is all there is to know.
                        let written = Acked {
                            base_offset: -1,
                            log_append_time: -1,
                        };
                        for batch in batches {
                            self.judge(batch, Answer::Acked(written), now);
                        }
                    }
                }
            }
            ConnectionEvent::Response {
                id,
                correlation_id,
                frame,
            } => {
                if let Some(flight) = self.in_flight.remove(&(id, correlation_id)) {
                    self.request_done(&flight.endpoint);
                    self.handle_response(id, correlation_id, flight, frame, now);
                }
            }
        }
    }

    fn request_done(&mut self, endpoint: &Endpoint) {
        if let Some(ConnState::Ready { in_flight, .. }) = self.conns.get_mut(endpoint) {
            *in_flight = in_flight.saturating_sub(1);
        }
        self.count_request_ended(endpoint);
    }

    /// A request to `endpoint` was answered or lost: one fewer in flight.
    fn count_request_ended(&self, endpoint: &Endpoint) {
        if let Endpoint::Broker(broker) = endpoint {
            let mut metrics = self.shared.lock_metrics();
            let counts = metrics.broker(*broker);
            counts.in_flight_requests = counts.in_flight_requests.saturating_sub(1);
        }
    }

    fn connection_lost(&mut self, id: ConnectionId, cause: ConnectionError, now: Instant) {
        let Some(endpoint) = self.by_id.remove(&id) else {
            return;
        };
        let was_ready = matches!(self.conns.get(&endpoint), Some(ConnState::Ready { .. }));
        if matches!(self.conns.get(&endpoint), Some(ConnState::Connecting { id: c } | ConnState::Ready { id: c, .. }) if *c == id)
        {
            let failures = if was_ready {
                0
            } else {
                let failures = self.failed_connects.entry(endpoint.clone()).or_insert(0);
                *failures = failures.saturating_add(1);
                *failures
            };
            let wait = reconnect_backoff(
                self.config.reconnect_backoff,
                self.config.reconnect_backoff_max,
                failures,
            );
            self.conns.insert(
                endpoint.clone(),
                ConnState::Backoff {
                    until: later(now, wait),
                },
            );
        }
        if let Endpoint::Broker(broker) = endpoint {
            let mut metrics = self.shared.lock_metrics();
            if was_ready {
                metrics.broker(broker).connections_closed += 1;
            } else {
                metrics.broker(broker).connection_failures += 1;
            }
            drop(metrics);
            if !was_ready {
                if let Some(mut manager) = self.shared.lock_transaction() {
                    manager.broker_unreachable(broker, now);
                }
            }
            self.connection_errors.insert(broker, cause.to_string());
            if cause.is_fatal() {
                // No retry can fix it: what is bound for this broker fails at once.
                tracing::error!(broker, %cause, "broker unusable");
                self.unreachable_brokers.insert(broker, cause.clone());
            }
        }
        if let Endpoint::Bootstrap(i) = endpoint {
            let address = self
                .config
                .bootstrap_servers
                .get(i)
                .cloned()
                .unwrap_or_default();
            self.bootstrap_failures.insert(i, (address, cause.clone()));
            self.last_bootstrap_failure = Some(i);
        }
        if !was_ready {
            tracing::debug!(connection = id, %cause, "connect failed");
        } else {
            tracing::info!(connection = id, %cause, "connection lost");
        }
        self.cluster.mark_stale();
        let keys: Vec<(ConnectionId, i32)> = self
            .in_flight
            .keys()
            .filter(|(c, _)| *c == id)
            .copied()
            .collect();
        let error = Error::Connection {
            broker: self.address(&endpoint).unwrap_or_default(),
            cause,
        };
        for key in keys {
            if let Some(flight) = self.in_flight.remove(&key) {
                self.count_request_ended(&flight.endpoint);
                self.request_failed(flight, &error, now);
            }
        }
    }

    fn request_failed(&mut self, flight: InFlight, error: &Error, now: Instant) {
        match flight.kind {
            InFlightKind::Produce { batches, spans, .. } => {
                spans.lost("connection");
                for batch in batches {
                    self.judge(batch, Answer::Lost(error.clone()), now);
                }
            }
            InFlightKind::Metadata { .. } => self.cluster.refresh_failed(),
            InFlightKind::InitProducerId { .. } => self.session.identity_failed(now),
            InFlightKind::Transaction { .. } => {
                self.transaction_answered(crate::transaction::TxnAnswer::Lost, now);
            }
        }
    }

    pub(super) fn timeouts(&mut self, now: Instant, actions: &mut Vec<Action>) {
        let late: Vec<ConnectionId> = self
            .in_flight
            .iter()
            .filter(|(_, f)| f.deadline <= now)
            .map(|((c, _), _)| *c)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        for id in late {
            tracing::warn!(connection = id, "request timed out; closing the connection");
            actions.push(Action::Close { id });
            self.connection_lost(id, ConnectionError::RequestTimeout, now);
        }
    }
}

/// The wait before reconnecting after `failures` failed attempts in a row (0 after a
/// connection that was up): `base` doubled per failure after the first, at most `max` (or
/// `base`, if that is larger), as Java's `reconnect.backoff.max.ms` does.
fn reconnect_backoff(base: Duration, max: Duration, failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(31);
    base.saturating_mul(1u32 << doublings).min(max.max(base))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reconnect_backoff_doubles_up_to_its_maximum() {
        let ms = Duration::from_millis;
        let waits: Vec<_> = (0..8)
            .map(|f| reconnect_backoff(ms(50), ms(1000), f))
            .collect();
        assert_eq!(
            waits,
            [50, 50, 100, 200, 400, 800, 1000, 1000].map(ms).to_vec()
        );
        assert_eq!(reconnect_backoff(ms(50), ms(1000), u32::MAX), ms(1000));
        // A maximum below the base is the base.
        assert_eq!(reconnect_backoff(ms(500), ms(10), 5), ms(500));
        assert_eq!(
            reconnect_backoff(Duration::MAX, Duration::MAX, 3),
            Duration::MAX
        );
    }
}

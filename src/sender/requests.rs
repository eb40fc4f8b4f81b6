//! The [`Sender`]'s other requests: Metadata (healing the cluster state) and
//! InitProducerId (idempotence), how their answers are applied, and how any request is
//! encoded and recorded as in flight.
//!
//! # References
//! - Java `Metadata.java`, `TransactionManager.java` (InitProducerId handling)

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use kiel_protocol::frame::{decode_response, encode_request};
use kiel_protocol::messages::init_producer_id::InitProducerIdRequest;
use kiel_protocol::messages::metadata::{MetadataRequest, MetadataRequestTopic};
use kiel_protocol::messages::produce::ProduceRequest;
use kiel_protocol::{EncodeError, ErrorCode, Request};

use super::{Action, ConnState, Endpoint, InFlight, InFlightKind, Sender};
use crate::config::Acks;
use crate::connection::{ConnectionId, FrameChunks};
use crate::error::Error;
use crate::session::{Answer, ProducerIdentity};
use crate::shared::TopicInterest;
use crate::time::later;

/// Record batches smaller than this are copied into the Produce frame; larger ones are
/// written from their own buffers (a `writev` entry each), so their bytes are never copied
/// after the batch is finished.
const INLINE_BATCHES_BELOW: usize = 2048;

impl Sender {
    pub(super) fn handle_response(
        &mut self,
        id: ConnectionId,
        correlation_id: i32,
        flight: InFlight,
        frame: Bytes,
        now: Instant,
    ) {
        match flight.kind {
            InFlightKind::Metadata { version } => {
                match decode_response::<MetadataRequest>(frame, version, correlation_id) {
                    Ok(response) => {
                        let update = self.cluster.apply_metadata(&response, now);
                        self.publish_topics(&update.changed_topics, now);
                        for (topic, code) in update.failed_topics {
                            self.fail_waiting(
                                &topic,
                                &Error::Broker {
                                    code,
                                    topic: topic.to_string(),
                                    partition: -1,
                                    message: None,
                                },
                            );
                        }
                    }
                    Err(e) => {
                        tracing::warn!(connection = id, error = %e, "bad Metadata response");
                        self.cluster.refresh_failed();
                    }
                }
            }
            InFlightKind::InitProducerId { version } => {
                match decode_response::<InitProducerIdRequest>(frame, version, correlation_id) {
                    Ok(r) if r.error_code == 0 => {
                        tracing::info!(
                            producer_id = r.producer_id,
                            epoch = r.producer_epoch,
                            "producer id"
                        );
                        self.session.identity_received(ProducerIdentity {
                            id: r.producer_id,
                            epoch: r.producer_epoch,
                        });
                    }
                    Ok(r) => {
                        let code = ErrorCode::from_code(r.error_code);
                        tracing::warn!(%code, "InitProducerId failed");
                        if code.is_retriable() {
                            self.session.identity_failed(now);
                        } else {
                            self.fatal = Some(Error::ProducerId(code));
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "bad InitProducerId response");
                        self.session.identity_failed(now);
                    }
                }
            }
            InFlightKind::Transaction { version, request } => {
                self.handle_transaction_response(id, correlation_id, version, request, frame, now);
            }
            InFlightKind::Produce {
                batches,
                version,
                spans,
            } => match decode_response::<ProduceRequest>(frame, version, correlation_id) {
                Ok(response) => {
                    if let Endpoint::Broker(broker) = flight.endpoint {
                        let mut metrics = self.shared.lock_metrics();
                        let counts = metrics.broker(broker);
                        let took = now.saturating_duration_since(flight.sent_at);
                        counts.produce_latency.record(took);
                        #[cfg(feature = "metrics")]
                        if !self.config.metrics_export_interval.is_zero() {
                            counts
                                .operation_duration
                                .get_or_insert_with(|| {
                                    crate::metrics::operation_duration(
                                        &self.config.client_id,
                                        broker,
                                        &self.address(&flight.endpoint).unwrap_or_default(),
                                    )
                                })
                                .record(took.as_secs_f64());
                        }
                        if response.throttle_time_ms > 0 {
                            counts.throttle_time.record(Duration::from_millis(
                                u64::try_from(response.throttle_time_ms).unwrap_or(0),
                            ));
                        }
                    }
                    self.handle_produce_response(batches, &spans, &response, now)
                }
                Err(e) => {
                    tracing::warn!(connection = id, error = %e, "bad Produce response");
                    let error = Error::Protocol {
                        broker: self.address(&flight.endpoint).unwrap_or_default(),
                        source: e,
                    };
                    for batch in batches {
                        self.judge(batch, Answer::Lost(error.clone()), now);
                    }
                }
            },
        }
    }

    /// Fails every record waiting for `topic`'s metadata (the topic cannot be written).
    fn fail_waiting(&mut self, topic: &Arc<str>, error: &Error) {
        let waiting = self.shared.lock_accumulator().take_pending(topic);
        self.waiting_topics.remove(topic);
        self.cluster.forget_missing(topic);
        self.shared.fail_waiting(waiting, error);
    }

    /// Publishes new partition counts to `produce` and moves records that waited for them
    /// into batches.
    pub(super) fn publish_topics(&mut self, changed: &[Arc<str>], now: Instant) {
        for topic in changed {
            let Some(info) = self.cluster.topic(topic).cloned() else {
                continue;
            };
            self.shared.publish_topic(topic, Arc::clone(&info));
            if self.waiting_topics.remove(topic) {
                self.shared.move_waiting_into_batches(topic, &info, now);
            }
        }
    }

    pub(super) fn refresh_metadata(&mut self, now: Instant, actions: &mut Vec<Action>) {
        for (topic, interest) in self.shared.take_topic_interest() {
            match interest {
                TopicInterest::RecordsWaiting => {
                    self.cluster.want_topic(&topic);
                    if let Some(info) = self.cluster.topic(&topic).cloned() {
                        // Known already (the records came just before it was published).
                        self.shared.move_waiting_into_batches(&topic, &info, now);
                    } else {
                        self.waiting_topics.insert(topic);
                    }
                }
                TopicInterest::Asked => self.cluster.want_topic(&topic),
                TopicInterest::GaveUp if !self.waiting_topics.contains(&topic) => {
                    self.cluster.forget_missing(&topic);
                }
                TopicInterest::GaveUp => {}
            }
        }
        let Some((endpoint, id, versions)) = self.any_ready() else {
            self.ensure_some_connection(now, actions);
            return;
        };
        let Some(version) = versions.metadata else {
            return;
        };
        let Some(topics) = self.cluster.poll_refresh(now) else {
            return;
        };
        let request = MetadataRequest {
            topics: Some(
                topics
                    .iter()
                    .map(|t| MetadataRequestTopic {
                        topic_id: [0; 16],
                        name: Some(t.to_string()),
                    })
                    .collect(),
            ),
            allow_auto_topic_creation: true,
            include_cluster_authorized_operations: false,
            include_topic_authorized_operations: false,
        };
        self.shared.lock_metrics().metadata_requests += 1;
        if self
            .send_request(
                endpoint,
                id,
                &request,
                version,
                InFlightKind::Metadata { version },
                now,
                actions,
            )
            .is_err()
        {
            self.cluster.refresh_failed();
        }
    }

    pub(super) fn init_producer_id(&mut self, now: Instant, actions: &mut Vec<Action>) {
        // A transactional producer's id comes from its coordinator (init_transactions).
        if self.shared.transaction.is_some() || !self.session.wants_identity(now) {
            return;
        }
        let Some((endpoint, id, versions)) = self.any_ready() else {
            return;
        };
        let Some(version) = versions.init_producer_id else {
            self.fatal = Some(Error::UnsupportedBroker {
                broker: self.address(&endpoint).unwrap_or_default(),
                reason: "no InitProducerId (idempotence needs Kafka 0.11+); set enable.idempotence=false".into(),
            });
            return;
        };
        self.session.identity_requested();
        let request = InitProducerIdRequest::idempotent();
        if self
            .send_request(
                endpoint,
                id,
                &request,
                version,
                InFlightKind::InitProducerId { version },
                now,
                actions,
            )
            .is_err()
        {
            self.session.identity_failed(now);
        }
    }

    /// Encodes `request` into one buffer and sends it (Metadata, InitProducerId).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn send_request<R: Request>(
        &mut self,
        endpoint: Endpoint,
        id: ConnectionId,
        request: &R,
        version: i16,
        kind: InFlightKind,
        now: Instant,
        actions: &mut Vec<Action>,
    ) -> Result<(), (InFlightKind, Error)> {
        self.send_encoded(
            endpoint,
            id,
            kind,
            now,
            actions,
            |correlation_id, client_id| {
                let mut frame = BytesMut::new();
                encode_request(
                    request,
                    version,
                    correlation_id,
                    Some(client_id),
                    &mut frame,
                )?;
                Ok(frame.into())
            },
        )
    }

    /// Sends a Produce request as a list of chunks: record batches of at least
    /// [`INLINE_BATCHES_BELOW`] bytes are referenced, not copied, on their way to the socket.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn send_produce_request(
        &mut self,
        endpoint: Endpoint,
        id: ConnectionId,
        request: &ProduceRequest,
        version: i16,
        kind: InFlightKind,
        now: Instant,
        actions: &mut Vec<Action>,
    ) -> Result<(), (InFlightKind, Error)> {
        self.send_encoded(
            endpoint,
            id,
            kind,
            now,
            actions,
            |correlation_id, client_id| {
                request
                    .encode_frame_chunks(
                        version,
                        correlation_id,
                        Some(client_id),
                        INLINE_BATCHES_BELOW,
                    )
                    .map(FrameChunks::from)
            },
        )
    }

    /// Encodes a request with the next correlation id (`encode` gets it and the client id),
    /// records it as in flight and asks the driver to write it. On an encoding error the
    /// request's kind comes back with the error, for its batches to be failed.
    fn send_encoded(
        &mut self,
        endpoint: Endpoint,
        id: ConnectionId,
        kind: InFlightKind,
        now: Instant,
        actions: &mut Vec<Action>,
        encode: impl FnOnce(i32, &str) -> Result<FrameChunks, EncodeError>,
    ) -> Result<(), (InFlightKind, Error)> {
        let correlation_id = self.correlation_id();
        let frame = match encode(correlation_id, &self.config.client_id) {
            Ok(frame) => frame,
            Err(e) => {
                tracing::error!(error = %e, "encoding a request failed");
                return Err((kind, Error::Encode(e)));
            }
        };
        let expect_response =
            !matches!(&kind, InFlightKind::Produce { .. }) || self.config.acks != Acks::None;
        self.in_flight.insert(
            (id, correlation_id),
            InFlight {
                endpoint: endpoint.clone(),
                kind,
                deadline: later(now, self.config.request_timeout),
                sent_at: now,
            },
        );
        if let Some(ConnState::Ready { in_flight, .. }) = self.conns.get_mut(&endpoint) {
            *in_flight += 1;
        }
        if let Endpoint::Broker(broker) = endpoint {
            let mut metrics = self.shared.lock_metrics();
            let counts = metrics.broker(broker);
            counts.requests_sent += 1;
            counts.in_flight_requests += 1;
        }
        actions.push(Action::Send {
            id,
            correlation_id,
            frame,
            expect_response,
        });
        Ok(())
    }
}

//! The [`Sender`]'s other requests: Metadata (healing the cluster state) and
//! InitProducerId (idempotence), and how their answers are applied.
//!
//! # References
//! - Java `Metadata.java`, `TransactionManager.java` (InitProducerId handling)

use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use kiel_protocol::frame::{decode_response, encode_request};
use kiel_protocol::messages::init_producer_id::InitProducerIdRequest;
use kiel_protocol::messages::metadata::{MetadataRequest, MetadataRequestTopic};
use kiel_protocol::messages::produce::ProduceRequest;
use kiel_protocol::{EncodeError, ErrorCode, Request};

use super::{Action, ConnState, Endpoint, InFlight, InFlightKind, ProducerIdentity, Sender};
use crate::config::Acks;
use crate::connection::{ConnectionId, FrameChunks};
use crate::error::Error;

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
                        self.publish_topics(&update.changed_topics);
                        for (topic, code) in update.failed_topics {
                            self.fail_pending(
                                &topic,
                                Error::Broker {
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
                self.producer_id_in_flight = false;
                match decode_response::<InitProducerIdRequest>(frame, version, correlation_id) {
                    Ok(r) if r.error_code == 0 => {
                        tracing::info!(
                            producer_id = r.producer_id,
                            epoch = r.producer_epoch,
                            "producer id"
                        );
                        self.new_producer_identity(ProducerIdentity {
                            id: r.producer_id,
                            epoch: r.producer_epoch,
                        });
                    }
                    Ok(r) => {
                        let code = ErrorCode::from_code(r.error_code);
                        tracing::warn!(%code, "InitProducerId failed");
                        if code.is_retriable() {
                            self.producer_id_retry_at = Some(now + self.config.retry_backoff);
                        } else {
                            self.fatal = Some(Error::ProducerId(code));
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "bad InitProducerId response");
                        self.producer_id_retry_at = Some(now + self.config.retry_backoff);
                    }
                }
            }
            InFlightKind::Produce { batches, version } => {
                match decode_response::<ProduceRequest>(frame, version, correlation_id) {
                    Ok(response) => self.handle_produce_response(batches, &response, now),
                    Err(e) => {
                        tracing::warn!(connection = id, error = %e, "bad Produce response");
                        let error = Error::Protocol {
                            broker: self.address(&flight.endpoint).unwrap_or_default(),
                            source: e,
                        };
                        for batch in batches {
                            self.landed(&batch);
                            self.retry_or_fail(
                                batch,
                                ErrorCode::NetworkException,
                                error.clone(),
                                now,
                            );
                        }
                    }
                }
            }
        }
    }

    pub(super) fn fail_pending(&mut self, topic: &str, error: Error) {
        let pending = self.shared.lock_accumulator().take_pending(topic);
        self.cluster.forget_missing(topic);
        for p in pending {
            p.completion.resolve_rest(1, -1, &error);
            if let Some(callback) = p.callback {
                callback(Err(error.clone()));
            }
            self.shared.records_finished(1, p.reserved);
        }
    }

    /// Publishes new partition counts to `produce` and moves waiting records into batches.
    pub(super) fn publish_topics(&mut self, changed: &[Arc<str>]) {
        for topic in changed {
            let Some(info) = self.cluster.topic(topic).cloned() else {
                continue;
            };
            self.shared.publish_topic(topic, info);
        }
    }

    pub(super) fn refresh_metadata(&mut self, now: Instant, actions: &mut Vec<Action>) {
        for topic in self.shared.lock_accumulator().pending_topics() {
            self.cluster.want_topic(&topic);
        }
        for (topic, wanted) in self.shared.take_topic_interest() {
            if wanted {
                self.cluster.want_topic(&topic);
            } else if !self.shared.lock_accumulator().has_pending(&topic) {
                self.cluster.forget_missing(&topic);
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
        self.send_request(
            endpoint,
            id,
            &request,
            version,
            InFlightKind::Metadata { version },
            now,
            actions,
        );
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
    ) -> bool {
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
    ) -> bool {
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
    /// records it as in flight and asks the driver to write it. False if encoding failed.
    fn send_encoded(
        &mut self,
        endpoint: Endpoint,
        id: ConnectionId,
        kind: InFlightKind,
        now: Instant,
        actions: &mut Vec<Action>,
        encode: impl FnOnce(i32, &str) -> Result<FrameChunks, EncodeError>,
    ) -> bool {
        let correlation_id = self.correlation_id();
        let frame = match encode(correlation_id, &self.config.client_id) {
            Ok(frame) => frame,
            Err(e) => {
                tracing::error!(error = %e, "encoding a request failed");
                return false;
            }
        };
        let expect_response =
            !matches!(&kind, InFlightKind::Produce { .. }) || self.config.acks != Acks::None;
        self.in_flight.insert(
            (id, correlation_id),
            InFlight {
                endpoint: endpoint.clone(),
                kind,
                deadline: now + self.config.request_timeout,
            },
        );
        if let Some(ConnState::Ready { in_flight, .. }) = self.conns.get_mut(&endpoint) {
            *in_flight += 1;
        }
        actions.push(Action::Send {
            id,
            correlation_id,
            frame,
            expect_response,
        });
        true
    }

    pub(super) fn init_producer_id(&mut self, now: Instant, actions: &mut Vec<Action>) {
        if !self.idempotent || self.producer_id.is_some() || self.producer_id_in_flight {
            return;
        }
        if self.producer_id_retry_at.is_some_and(|t| t > now) {
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
        self.producer_id_in_flight = true;
        let request = InitProducerIdRequest::idempotent();
        self.send_request(
            endpoint,
            id,
            &request,
            version,
            InFlightKind::InitProducerId { version },
            now,
            actions,
        );
    }
}

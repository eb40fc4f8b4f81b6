//! FindCoordinator (API key 10), versions 0 to 6: which broker coordinates a consumer group or
//! a transactional id. A transactional producer asks with key type 1 (transaction) and its
//! transactional id, and sends its transaction requests to the broker named.
//!
//! Wire layout (flexible from v3):
//!
//! ```text
//! request   key STRING (v0-3), key_type INT8 (v1+), coordinator_keys [STRING] (v4+),
//!           TAG_BUFFER (v3+)
//! response  throttle_time_ms INT32 (v1+), error_code INT16 (v0-3),
//!           error_message NULLABLE_STRING (v1-3), node_id INT32 (v0-3), host STRING (v0-3),
//!           port INT32 (v0-3),
//!           coordinators [key STRING, node_id INT32, host STRING, port INT32,
//!                         error_code INT16, error_message NULLABLE_STRING, TAG_BUFFER] (v4+),
//!           TAG_BUFFER (v3+)
//! ```
//!
//! v4 (KIP-699) asks for several keys at once and answers per key; before it one key and one
//! answer. v2 is the same as v1; v5 and v6 only allow new error codes and key types
//! (TRANSACTION_ABORTABLE; share groups, key type 2). [`FindCoordinatorRequest::for_keys`] builds
//! the request a version can carry, and [`FindCoordinatorResponse::coordinators`] reads either
//! shape as a list.
//!
//! # References
//! - `FindCoordinatorRequest.json`, `FindCoordinatorResponse.json` in apache/kafka
//!   `clients/src/main/resources/common/message/`
//! - KIP-98 (transaction coordinator), KIP-699 (batched FindCoordinator), KIP-890, KIP-932

use bytes::{BufMut, Bytes};

use crate::api::{
    check_decode_version, check_encode_version, ApiKey, Decode, Encode, Request, VersionRange,
};
use crate::error::{DecodeError, EncodeError};
use crate::messages::common::{check_field, min_string_len, put_tags, skip_tags, tags_len};
use crate::primitives::{
    get_array, get_i16, get_i32, get_i8, get_nullable_string, get_string, put_array,
    put_nullable_string, put_string,
};

/// The first flexible version of FindCoordinator.
const FIRST_FLEXIBLE: i16 = 3;

/// The version that added the key type.
const KEY_TYPE: i16 = 1;

/// The version that added throttle time and error messages to the response.
const THROTTLE_TIME: i16 = 1;

/// The first batched version (KIP-699).
const BATCHED: i16 = 4;

/// What a coordinator key names.
pub mod key_type {
    /// A consumer group id.
    pub const GROUP: i8 = 0;
    /// A transactional id.
    pub const TRANSACTION: i8 = 1;
    /// A share group id (v6+).
    pub const SHARE: i8 = 2;
}

/// The FindCoordinator request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindCoordinatorRequest {
    /// The key (v0-3); empty from v4, which uses `coordinator_keys`.
    pub key: String,
    /// The key type (v1+, default [`key_type::GROUP`]; not ignorable).
    pub key_type: i8,
    /// The keys (v4+); empty before.
    pub coordinator_keys: Vec<String>,
}

impl FindCoordinatorRequest {
    /// A request for `keys` of `key_type` in `version`: one `key` before v4 (the first of
    /// `keys`), the list from v4.
    pub fn for_keys(key_type: i8, keys: &[&str], version: i16) -> Self {
        if version >= BATCHED {
            Self {
                key: String::new(),
                key_type,
                coordinator_keys: keys.iter().map(|k| (*k).to_owned()).collect(),
            }
        } else {
            Self {
                key: keys.first().map(|k| (*k).to_owned()).unwrap_or_default(),
                key_type,
                coordinator_keys: Vec::new(),
            }
        }
    }
}

impl Encode for FindCoordinatorRequest {
    fn encode<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError> {
        check_encode_version::<Self>(version)?;
        let batched = version >= BATCHED;
        check_field("key", version, !batched, self.key.is_empty())?;
        check_field(
            "key_type",
            version,
            version >= KEY_TYPE,
            self.key_type == key_type::GROUP,
        )?;
        check_field(
            "coordinator_keys",
            version,
            batched,
            self.coordinator_keys.is_empty(),
        )?;
        let flexible = Self::is_flexible(version);
        if !batched {
            put_string(buf, &self.key, flexible)?;
        }
        if version >= KEY_TYPE {
            buf.put_i8(self.key_type);
        }
        if batched {
            put_array(buf, &self.coordinator_keys, flexible, |b, k| {
                put_string(b, k, flexible)
            })?;
        }
        put_tags(buf, flexible);
        Ok(())
    }
}

impl Decode for FindCoordinatorRequest {
    fn decode(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        check_decode_version::<Self>(version)?;
        let flexible = Self::is_flexible(version);
        let batched = version >= BATCHED;
        let key = if batched {
            String::new()
        } else {
            get_string(buf, flexible)?
        };
        let key_type = if version >= KEY_TYPE {
            get_i8(buf)?
        } else {
            key_type::GROUP
        };
        let coordinator_keys = if batched {
            get_array(buf, flexible, min_string_len(flexible), |b| {
                get_string(b, flexible)
            })?
        } else {
            Vec::new()
        };
        skip_tags(buf, flexible)?;
        Ok(Self {
            key,
            key_type,
            coordinator_keys,
        })
    }
}

impl Request for FindCoordinatorRequest {
    const API_KEY: ApiKey = ApiKey::FindCoordinator;
    const VERSIONS: VersionRange = VersionRange::new(0, 6);
    const FIRST_FLEXIBLE_VERSION: i16 = FIRST_FLEXIBLE;
    type Response = FindCoordinatorResponse;
}

/// One key's coordinator (v4+; before v4 the response's own fields).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coordinator {
    /// The key asked about.
    pub key: String,
    /// The coordinator's node id (-1 on error).
    pub node_id: i32,
    /// Its host.
    pub host: String,
    /// Its port.
    pub port: i32,
    /// The error code, 0 on success (COORDINATOR_NOT_AVAILABLE while it loads, ...).
    pub error_code: i16,
    /// The error message, if any.
    pub error_message: Option<String>,
}

/// The FindCoordinator response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindCoordinatorResponse {
    /// How long the request was throttled, in milliseconds (v1+, ignorable).
    pub throttle_time_ms: i32,
    /// The error code (v0-3).
    pub error_code: i16,
    /// The error message (v1-3, ignorable).
    pub error_message: Option<String>,
    /// The coordinator's node id (v0-3).
    pub node_id: i32,
    /// Its host (v0-3).
    pub host: String,
    /// Its port (v0-3).
    pub port: i32,
    /// Each key's coordinator (v4+).
    pub coordinators: Vec<Coordinator>,
}

impl FindCoordinatorResponse {
    /// The answer as a list in every version: before v4 one entry for `key` (the key asked
    /// about, which those versions do not repeat).
    pub fn coordinators(&self, version: i16, key: &str) -> Vec<Coordinator> {
        if version >= BATCHED {
            self.coordinators.clone()
        } else {
            vec![Coordinator {
                key: key.to_owned(),
                node_id: self.node_id,
                host: self.host.clone(),
                port: self.port,
                error_code: self.error_code,
                error_message: self.error_message.clone(),
            }]
        }
    }
}

impl Encode for FindCoordinatorResponse {
    fn encode<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError> {
        check_encode_version::<FindCoordinatorRequest>(version)?;
        let batched = version >= BATCHED;
        check_field("error_code", version, !batched, self.error_code == 0)?;
        check_field("node_id", version, !batched, self.node_id == 0)?;
        check_field("host", version, !batched, self.host.is_empty())?;
        check_field("port", version, !batched, self.port == 0)?;
        check_field(
            "coordinators",
            version,
            batched,
            self.coordinators.is_empty(),
        )?;
        let flexible = FindCoordinatorRequest::is_flexible(version);
        if version >= THROTTLE_TIME {
            buf.put_i32(self.throttle_time_ms);
        }
        if batched {
            put_array(buf, &self.coordinators, flexible, |b, c| {
                put_string(b, &c.key, flexible)?;
                b.put_i32(c.node_id);
                put_string(b, &c.host, flexible)?;
                b.put_i32(c.port);
                b.put_i16(c.error_code);
                put_nullable_string(b, c.error_message.as_deref(), flexible)?;
                put_tags(b, flexible);
                Ok(())
            })?;
        } else {
            buf.put_i16(self.error_code);
            if version >= THROTTLE_TIME {
                put_nullable_string(buf, self.error_message.as_deref(), flexible)?;
            }
            buf.put_i32(self.node_id);
            put_string(buf, &self.host, flexible)?;
            buf.put_i32(self.port);
        }
        put_tags(buf, flexible);
        Ok(())
    }
}

impl Decode for FindCoordinatorResponse {
    fn decode(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        check_decode_version::<FindCoordinatorRequest>(version)?;
        let flexible = FindCoordinatorRequest::is_flexible(version);
        let mut response = Self {
            throttle_time_ms: if version >= THROTTLE_TIME {
                get_i32(buf)?
            } else {
                0
            },
            ..Self::default()
        };
        if version >= BATCHED {
            // key, node_id, host, port, error_code, error_message, tags.
            let smallest = min_string_len(flexible) * 3 + 4 + 4 + 2 + tags_len(flexible);
            response.coordinators = get_array(buf, flexible, smallest, |b| {
                let coordinator = Coordinator {
                    key: get_string(b, flexible)?,
                    node_id: get_i32(b)?,
                    host: get_string(b, flexible)?,
                    port: get_i32(b)?,
                    error_code: get_i16(b)?,
                    error_message: get_nullable_string(b, flexible)?,
                };
                skip_tags(b, flexible)?;
                Ok(coordinator)
            })?;
        } else {
            response.error_code = get_i16(buf)?;
            if version >= THROTTLE_TIME {
                response.error_message = get_nullable_string(buf, flexible)?;
            }
            response.node_id = get_i32(buf)?;
            response.host = get_string(buf, flexible)?;
            response.port = get_i32(buf)?;
        }
        skip_tags(buf, flexible)?;
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::test_util::{
        assert_encodes_to, assert_not_ignorable, golden_exchange, message_tests, name,
        over_the_wire, since,
    };
    use proptest::prelude::*;

    #[test]
    fn v4_asks_for_a_list_of_transactional_ids() {
        let request = FindCoordinatorRequest::for_keys(key_type::TRANSACTION, &["tx"], 4);
        assert_encodes_to(
            &request,
            4,
            &[
                1, // key_type: transaction
                0x02, 0x03, b't', b'x', // coordinator_keys: COMPACT_ARRAY of 1, "tx"
                0,    // no tagged fields
            ],
        );
        let request = FindCoordinatorRequest::for_keys(key_type::TRANSACTION, &["tx"], 3);
        assert_eq!(request.key, "tx");
        assert_encodes_to(&request, 3, &[0x03, b't', b'x', 1, 0]);
        assert_encodes_to(
            &FindCoordinatorRequest::for_keys(key_type::GROUP, &["g"], 0),
            0,
            &[0, 1, b'g'],
        );
    }

    #[test]
    fn v4_answers_per_key_and_older_versions_read_as_one_entry() {
        let coordinator = Coordinator {
            key: "tx".into(),
            node_id: 1,
            host: "h".into(),
            port: 9092,
            error_code: 0,
            error_message: None,
        };
        let response = FindCoordinatorResponse {
            coordinators: vec![coordinator.clone()],
            ..FindCoordinatorResponse::default()
        };
        assert_encodes_to(
            &response,
            4,
            &[
                0, 0, 0, 0,    // throttle_time_ms
                0x02, // coordinators: COMPACT_ARRAY of 1
                0x03, b't', b'x', // key
                0, 0, 0, 1, // node_id
                0x02, b'h', // host
                0, 0, 0x23, 0x84, // port 9092
                0, 0, // error_code
                0, // error_message: null
                0, // the coordinator's tagged fields
                0, // the response's tagged fields
            ],
        );
        assert_eq!(
            response.coordinators(4, "ignored"),
            vec![coordinator.clone()]
        );
        let old = FindCoordinatorResponse {
            node_id: 1,
            host: "h".into(),
            port: 9092,
            ..FindCoordinatorResponse::default()
        };
        assert_eq!(old.coordinators(3, "tx"), vec![coordinator]);
        assert_encodes_to(&old, 0, &[0, 0, 0, 0, 0, 1, 0, 1, b'h', 0, 0, 0x23, 0x84]);
    }

    #[test]
    fn fields_a_version_lacks_are_refused_or_dropped() {
        let transaction = FindCoordinatorRequest::for_keys(key_type::TRANSACTION, &["tx"], 3);
        assert_not_ignorable(&transaction, VersionRange::new(0, 3), "key_type", |v| {
            v >= KEY_TYPE
        });
        let batched = FindCoordinatorRequest::for_keys(key_type::GROUP, &["a", "b"], 4);
        assert_not_ignorable(
            &batched,
            FindCoordinatorRequest::VERSIONS,
            "coordinator_keys",
            |v| v >= BATCHED,
        );
        let single = FindCoordinatorRequest::for_keys(key_type::GROUP, &["a"], 3);
        assert_not_ignorable(&single, FindCoordinatorRequest::VERSIONS, "key", |v| {
            v < BATCHED
        });
        let throttled = FindCoordinatorResponse {
            throttle_time_ms: 5,
            error_message: Some("loading".into()),
            ..FindCoordinatorResponse::default()
        };
        let back = over_the_wire(&throttled, 0);
        assert_eq!((back.throttle_time_ms, back.error_message), (0, None));
    }

    fn request_for(version: i16) -> impl Strategy<Value = FindCoordinatorRequest> {
        let batched = version >= BATCHED;
        (
            since(!batched, name(), String::new()),
            since(version >= KEY_TYPE, any::<i8>(), key_type::GROUP),
            since(batched, proptest::collection::vec(name(), 0..4), Vec::new()),
        )
            .prop_map(|(key, key_type, coordinator_keys)| FindCoordinatorRequest {
                key,
                key_type,
                coordinator_keys,
            })
    }

    fn coordinator() -> impl Strategy<Value = Coordinator> {
        (
            name(),
            any::<i32>(),
            name(),
            any::<i32>(),
            any::<i16>(),
            proptest::option::of(name()),
        )
            .prop_map(|(key, node_id, host, port, error_code, error_message)| {
                Coordinator {
                    key,
                    node_id,
                    host,
                    port,
                    error_code,
                    error_message,
                }
            })
    }

    fn response_for(version: i16) -> impl Strategy<Value = FindCoordinatorResponse> {
        let batched = version >= BATCHED;
        let old = version >= THROTTLE_TIME;
        (
            since(old, any::<i32>(), 0),
            since(!batched, any::<i16>(), 0),
            since(old && !batched, proptest::option::of(name()), None),
            since(
                !batched,
                (any::<i32>(), name(), any::<i32>()),
                (0, String::new(), 0),
            ),
            since(
                batched,
                proptest::collection::vec(coordinator(), 0..3),
                Vec::new(),
            ),
        )
            .prop_map(
                |(
                    throttle_time_ms,
                    error_code,
                    error_message,
                    (node_id, host, port),
                    coordinators,
                )| {
                    FindCoordinatorResponse {
                        throttle_time_ms,
                        error_code,
                        error_message,
                        node_id,
                        host,
                        port,
                        coordinators,
                    }
                },
            )
    }

    message_tests! {
        request: FindCoordinatorRequest = request_for,
        response: FindCoordinatorResponse = response_for,
        random_input_len: 64,
    }

    // -- golden frames from Kafka 4.1.1 and the Java client (tests/golden/) ----------------

    #[test]
    fn v6_golden_frames_for_a_transactional_id_and_a_group() {
        let (request, response) = golden_exchange::<FindCoordinatorRequest>(
            include_bytes!(
                "../../tests/golden/transactional/c2-02-find_coordinator-v6-request.bin"
            ),
            include_bytes!(
                "../../tests/golden/transactional/c2-03-find_coordinator-v6-response.bin"
            ),
            6,
        );
        assert_eq!(
            request,
            FindCoordinatorRequest::for_keys(
                key_type::TRANSACTION,
                &["golden-tx-transactional"],
                6
            )
        );
        let found = response.coordinators(6, "golden-tx-transactional");
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].node_id, found[0].error_code), (1, 0));
        assert_eq!(found[0].host, "127.0.0.1");
        let (request, response) = golden_exchange::<FindCoordinatorRequest>(
            include_bytes!(
                "../../tests/golden/transactional/c2-16-find_coordinator-v6-request.bin"
            ),
            include_bytes!(
                "../../tests/golden/transactional/c2-17-find_coordinator-v6-response.bin"
            ),
            6,
        );
        assert_eq!(request.key_type, key_type::GROUP);
        assert_eq!(request.coordinator_keys, ["golden-group-transactional"]);
        assert_eq!(response.coordinators[0].key, "golden-group-transactional");
    }
}

//! The Kafka error-code table: every code the Java client's `Errors.java` knows as of
//! Kafka 4.1, with its name, whether it can be retried, and whether it means the client's
//! metadata is stale.
//!
//! One table at the bottom of this file generates [`ErrorCode`] and all of its methods, so a
//! code, its name and its classification cannot drift apart. Codes the table does not list
//! (from a newer broker, or garbage) are kept as [`ErrorCode::Unknown`] with their number, so
//! `ErrorCode::from_code(c).code() == c` holds for every `i16`.
//!
//! "Retriable" means the Java exception class for the code extends `RetriableException`;
//! "invalidates metadata" means it extends `InvalidMetadataException` (every such class is
//! also retriable). The Java producer refreshes its metadata on the latter, and the retry
//! decision of a non-idempotent Java producer is `instanceof RetriableException`. The
//! descriptions are our own one-line summaries, not Kafka's messages.
//!
//! `tests/error_codes.rs` checks the table against a snapshot of the upstream facts in
//! `tests/data/kafka-4.1-error-codes.txt`.
//!
//! # References
//! - Kafka protocol guide, "Error Codes": <https://kafka.apache.org/protocol#protocol_error_codes>
//! - apache/kafka `clients/src/main/java/org/apache/kafka/common/protocol/Errors.java` and
//!   `clients/src/main/java/org/apache/kafka/common/errors/*.java` at tag 4.1.0
//!   (commit `13f70256db3c`)
//! - `shared/design/protocol.md` §7 (the codes a producer meets)

use std::fmt;

/// How the Java client classifies a code, read from its exception class hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// The exception class does not extend `RetriableException` (or there is none: `NONE`).
    NotRetriable,
    /// The class extends `RetriableException` but not `InvalidMetadataException`.
    Retriable,
    /// The class extends `InvalidMetadataException`, and so `RetriableException` too.
    StaleMetadata,
}

/// The description of [`ErrorCode::Unknown`].
const UNKNOWN_DESCRIPTION: &str =
    "A code this table does not list: from a newer broker, or not a Kafka error code at all.";

/// Builds [`ErrorCode`] from rows of `code Variant "NAME" Class "description";`.
macro_rules! error_codes {
    ($($code:literal $variant:ident $name:literal $class:ident $desc:literal;)+) => {
        /// A Kafka protocol error code, as found in the `error_code` fields of responses.
        ///
        /// Build one with [`ErrorCode::from_code`]; codes this table does not list become
        /// [`ErrorCode::Unknown`]. The table follows Kafka 4.1; later Kafka releases add
        /// codes, so the enum is `#[non_exhaustive]`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $(
                #[doc = concat!("`", $name, "` (", stringify!($code), "): ", $desc)]
                $variant,
            )+
            /// A code this table does not list, kept as it came off the wire. It is treated as
            /// not retriable, like the Java client treats a code it does not know.
            ///
            /// [`ErrorCode::from_code`] never puts a listed code in here; an `Unknown` built
            /// by hand with a listed code compares unequal to the named variant.
            Unknown(i16),
        }

        impl ErrorCode {
            /// Every code in the table, in ascending numeric order ([`ErrorCode::Unknown`] is
            /// not included).
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The numeric code on the wire.
            pub const fn code(self) -> i16 {
                match self {
                    $(Self::$variant => $code,)+
                    Self::Unknown(code) => code,
                }
            }

            /// The error for a numeric code; codes not in the table become
            /// [`ErrorCode::Unknown`].
            pub const fn from_code(code: i16) -> Self {
                match code {
                    $($code => Self::$variant,)+
                    other => Self::Unknown(other),
                }
            }

            /// The name as Kafka spells it (`NOT_LEADER_OR_FOLLOWER`); `UNKNOWN` for
            /// [`ErrorCode::Unknown`].
            pub const fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)+
                    Self::Unknown(_) => "UNKNOWN",
                }
            }

            /// A one-line description of what the code means.
            pub const fn description(self) -> &'static str {
                match self {
                    $(Self::$variant => $desc,)+
                    Self::Unknown(_) => UNKNOWN_DESCRIPTION,
                }
            }

            /// The Java client's classification; `None` for [`ErrorCode::Unknown`].
            const fn class(self) -> Option<Class> {
                match self {
                    $(Self::$variant => Some(Class::$class),)+
                    Self::Unknown(_) => None,
                }
            }
        }
    };
}

impl ErrorCode {
    /// Whether the code is `NONE` (0), i.e. no error.
    pub const fn is_ok(self) -> bool {
        self.code() == 0
    }

    /// Whether the Java client treats the error as retriable (its exception class extends
    /// `RetriableException`). [`ErrorCode::Unknown`] is not retriable.
    ///
    /// This is the class-level answer. An idempotent producer decides some codes
    /// differently (for example `OUT_OF_ORDER_SEQUENCE_NUMBER`); see `protocol.md` §8.
    pub const fn is_retriable(self) -> bool {
        matches!(self.class(), Some(Class::Retriable | Class::StaleMetadata))
    }

    /// Whether the error means the client's view of the cluster is stale and metadata should
    /// be refreshed before retrying (the Java exception class extends
    /// `InvalidMetadataException`). Every such code is also [retriable](Self::is_retriable).
    pub const fn invalidates_metadata(self) -> bool {
        matches!(self.class(), Some(Class::StaleMetadata))
    }
}

impl fmt::Display for ErrorCode {
    /// Writes the name and the numeric code, e.g. `NOT_LEADER_OR_FOLLOWER (6)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.code())
    }
}

impl std::error::Error for ErrorCode {}

// The table. Source of the codes, names and classes: apache/kafka at tag 4.1.0 (commit
// 13f70256db3c), `Errors.java` and the exception classes it names. Descriptions are ours.
error_codes! {
    -1 UnknownServerError "UNKNOWN_SERVER_ERROR" NotRetriable
        "The broker failed with an error it has no specific code for.";
    0 None "NONE" NotRetriable
        "No error: the operation succeeded.";
    1 OffsetOutOfRange "OFFSET_OUT_OF_RANGE" NotRetriable
        "The requested offset lies outside the range of the partition's log on the broker.";
    2 CorruptMessage "CORRUPT_MESSAGE" Retriable
        "The broker found a record batch damaged: a bad CRC, an impossible size, or another corruption.";
    3 UnknownTopicOrPartition "UNKNOWN_TOPIC_OR_PARTITION" StaleMetadata
        "The broker has no such topic or partition, or will not admit to it for this client.";
    4 InvalidFetchSize "INVALID_FETCH_SIZE" NotRetriable
        "A fetch asked for an unusable maximum size.";
    5 LeaderNotAvailable "LEADER_NOT_AVAILABLE" StaleMetadata
        "The partition has no leader at the moment, usually because an election is under way.";
    6 NotLeaderOrFollower "NOT_LEADER_OR_FOLLOWER" StaleMetadata
        "The broker is not the partition's leader, or not a replica of it at all.";
    7 RequestTimedOut "REQUEST_TIMED_OUT" Retriable
        "The broker stopped waiting (for example for in-sync replicas) before the request finished.";
    8 BrokerNotAvailable "BROKER_NOT_AVAILABLE" NotRetriable
        "The broker in question is not up.";
    9 ReplicaNotAvailable "REPLICA_NOT_AVAILABLE" StaleMetadata
        "A replica the request needs is not present on the broker.";
    10 MessageTooLarge "MESSAGE_TOO_LARGE" NotRetriable
        "A record batch is bigger than the broker or topic allows.";
    11 StaleControllerEpoch "STALE_CONTROLLER_EPOCH" NotRetriable
        "The request came from a controller that has since been replaced.";
    12 OffsetMetadataTooLarge "OFFSET_METADATA_TOO_LARGE" NotRetriable
        "The metadata string attached to an offset commit is too long.";
    13 NetworkException "NETWORK_EXCEPTION" StaleMetadata
        "The connection broke before the response arrived.";
    14 CoordinatorLoadInProgress "COORDINATOR_LOAD_IN_PROGRESS" Retriable
        "The coordinator is still loading its state and cannot serve requests yet.";
    15 CoordinatorNotAvailable "COORDINATOR_NOT_AVAILABLE" Retriable
        "No coordinator is available for this group or transactional id.";
    16 NotCoordinator "NOT_COORDINATOR" Retriable
        "The broker is not the coordinator for this group or transactional id.";
    17 InvalidTopicException "INVALID_TOPIC_EXCEPTION" NotRetriable
        "The topic name is illegal, or the topic cannot be used for this operation.";
    18 RecordListTooLarge "RECORD_LIST_TOO_LARGE" NotRetriable
        "A record batch is larger than a log segment can hold.";
    19 NotEnoughReplicas "NOT_ENOUGH_REPLICAS" Retriable
        "Too few in-sync replicas for the requested acks; nothing was written.";
    20 NotEnoughReplicasAfterAppend "NOT_ENOUGH_REPLICAS_AFTER_APPEND" Retriable
        "The leader wrote the records, but the in-sync replica set then shrank below the minimum.";
    21 InvalidRequiredAcks "INVALID_REQUIRED_ACKS" NotRetriable
        "The produce request's acks value is not one the broker accepts.";
    22 IllegalGeneration "ILLEGAL_GENERATION" NotRetriable
        "The group generation in the request is not the current one.";
    23 InconsistentGroupProtocol "INCONSISTENT_GROUP_PROTOCOL" NotRetriable
        "The member's protocol type or protocol list does not fit the group.";
    24 InvalidGroupId "INVALID_GROUP_ID" NotRetriable
        "The group id is empty or otherwise unusable.";
    25 UnknownMemberId "UNKNOWN_MEMBER_ID" NotRetriable
        "The coordinator does not know this group member.";
    26 InvalidSessionTimeout "INVALID_SESSION_TIMEOUT" NotRetriable
        "The requested session timeout is outside the range the broker allows.";
    27 RebalanceInProgress "REBALANCE_IN_PROGRESS" NotRetriable
        "The group is rebalancing, so the member has to rejoin.";
    28 InvalidCommitOffsetSize "INVALID_COMMIT_OFFSET_SIZE" NotRetriable
        "The data of an offset commit has an invalid size.";
    29 TopicAuthorizationFailed "TOPIC_AUTHORIZATION_FAILED" NotRetriable
        "The client is not authorized for this operation on the topic.";
    30 GroupAuthorizationFailed "GROUP_AUTHORIZATION_FAILED" NotRetriable
        "The client is not authorized for this operation on the group.";
    31 ClusterAuthorizationFailed "CLUSTER_AUTHORIZATION_FAILED" NotRetriable
        "The client lacks the cluster-level permission this request needs.";
    32 InvalidTimestamp "INVALID_TIMESTAMP" NotRetriable
        "A record timestamp is outside the range the topic accepts.";
    33 UnsupportedSaslMechanism "UNSUPPORTED_SASL_MECHANISM" NotRetriable
        "The broker does not offer the SASL mechanism asked for.";
    34 IllegalSaslState "ILLEGAL_SASL_STATE" NotRetriable
        "The request is not allowed at this point of the SASL exchange.";
    35 UnsupportedVersion "UNSUPPORTED_VERSION" NotRetriable
        "The broker does not support this API version.";
    36 TopicAlreadyExists "TOPIC_ALREADY_EXISTS" NotRetriable
        "The topic name is taken already.";
    37 InvalidPartitions "INVALID_PARTITIONS" NotRetriable
        "The partition count asked for is not valid.";
    38 InvalidReplicationFactor "INVALID_REPLICATION_FACTOR" NotRetriable
        "The replication factor is not possible in this cluster.";
    39 InvalidReplicaAssignment "INVALID_REPLICA_ASSIGNMENT" NotRetriable
        "The explicit replica assignment is not valid.";
    40 InvalidConfig "INVALID_CONFIG" NotRetriable
        "A configuration value in the request is not valid.";
    41 NotController "NOT_CONTROLLER" Retriable
        "The broker is not the active controller.";
    42 InvalidRequest "INVALID_REQUEST" NotRetriable
        "The broker could not make sense of the request (malformed or inconsistent); its log says more.";
    43 UnsupportedForMessageFormat "UNSUPPORTED_FOR_MESSAGE_FORMAT" NotRetriable
        "The request needs a newer message format than the topic uses.";
    44 PolicyViolation "POLICY_VIOLATION" NotRetriable
        "The request breaks a policy configured on the broker.";
    45 OutOfOrderSequenceNumber "OUT_OF_ORDER_SEQUENCE_NUMBER" NotRetriable
        "The broker saw a producer sequence number with a gap before it.";
    46 DuplicateSequenceNumber "DUPLICATE_SEQUENCE_NUMBER" NotRetriable
        "The broker saw a producer sequence number it had already written.";
    47 InvalidProducerEpoch "INVALID_PRODUCER_EPOCH" NotRetriable
        "The producer epoch is older than the one the broker knows.";
    48 InvalidTxnState "INVALID_TXN_STATE" NotRetriable
        "The transactional operation is not allowed in the transaction's current state.";
    49 InvalidProducerIdMapping "INVALID_PRODUCER_ID_MAPPING" NotRetriable
        "The producer id is not the one assigned to this transactional id.";
    50 InvalidTransactionTimeout "INVALID_TRANSACTION_TIMEOUT" NotRetriable
        "The transaction timeout exceeds the broker's maximum.";
    51 ConcurrentTransactions "CONCURRENT_TRANSACTIONS" Retriable
        "Another operation on the same transaction is still in progress.";
    52 TransactionCoordinatorFenced "TRANSACTION_COORDINATOR_FENCED" NotRetriable
        "Transaction markers came from a transaction coordinator that is no longer current.";
    53 TransactionalIdAuthorizationFailed "TRANSACTIONAL_ID_AUTHORIZATION_FAILED" NotRetriable
        "The client is not authorized to use this transactional id.";
    54 SecurityDisabled "SECURITY_DISABLED" NotRetriable
        "The request needs security features that are turned off.";
    55 OperationNotAttempted "OPERATION_NOT_ATTEMPTED" NotRetriable
        "The broker skipped this operation because another one in the same request failed.";
    56 KafkaStorageError "KAFKA_STORAGE_ERROR" StaleMetadata
        "The broker hit a disk error on the partition's log.";
    57 LogDirNotFound "LOG_DIR_NOT_FOUND" NotRetriable
        "The requested log directory is not configured on the broker.";
    58 SaslAuthenticationFailed "SASL_AUTHENTICATION_FAILED" NotRetriable
        "The SASL exchange did not authenticate the client.";
    59 UnknownProducerId "UNKNOWN_PRODUCER_ID" NotRetriable
        "The broker holds no state for this producer id (for example after its records expired).";
    60 ReassignmentInProgress "REASSIGNMENT_IN_PROGRESS" NotRetriable
        "The partition is being reassigned.";
    61 DelegationTokenAuthDisabled "DELEGATION_TOKEN_AUTH_DISABLED" NotRetriable
        "Delegation token support is turned off.";
    62 DelegationTokenNotFound "DELEGATION_TOKEN_NOT_FOUND" NotRetriable
        "The delegation token does not exist on the server.";
    63 DelegationTokenOwnerMismatch "DELEGATION_TOKEN_OWNER_MISMATCH" NotRetriable
        "The principal is neither the owner nor a renewer of the token.";
    64 DelegationTokenRequestNotAllowed "DELEGATION_TOKEN_REQUEST_NOT_ALLOWED" NotRetriable
        "Delegation token requests are refused on this kind of connection (plaintext, one-way TLS, or token-authenticated).";
    65 DelegationTokenAuthorizationFailed "DELEGATION_TOKEN_AUTHORIZATION_FAILED" NotRetriable
        "The client is not authorized for this delegation token operation.";
    66 DelegationTokenExpired "DELEGATION_TOKEN_EXPIRED" NotRetriable
        "The delegation token is past its expiry time.";
    67 InvalidPrincipalType "INVALID_PRINCIPAL_TYPE" NotRetriable
        "The principal type is not one the broker supports.";
    68 NonEmptyGroup "NON_EMPTY_GROUP" NotRetriable
        "The group cannot be deleted while it has members.";
    69 GroupIdNotFound "GROUP_ID_NOT_FOUND" NotRetriable
        "The group does not exist.";
    70 FetchSessionIdNotFound "FETCH_SESSION_ID_NOT_FOUND" Retriable
        "The broker has no fetch session with this id.";
    71 InvalidFetchSessionEpoch "INVALID_FETCH_SESSION_EPOCH" Retriable
        "The fetch session epoch does not match the broker's.";
    72 ListenerNotFound "LISTENER_NOT_FOUND" StaleMetadata
        "The leader has no listener matching the one the metadata request arrived on.";
    73 TopicDeletionDisabled "TOPIC_DELETION_DISABLED" NotRetriable
        "Topic deletion is turned off in this cluster.";
    74 FencedLeaderEpoch "FENCED_LEADER_EPOCH" StaleMetadata
        "The leader epoch in the request is older than the broker's.";
    75 UnknownLeaderEpoch "UNKNOWN_LEADER_EPOCH" Retriable
        "The leader epoch in the request is newer than the broker's.";
    76 UnsupportedCompressionType "UNSUPPORTED_COMPRESSION_TYPE" NotRetriable
        "The compression type cannot be used with this request version or partition.";
    77 StaleBrokerEpoch "STALE_BROKER_EPOCH" NotRetriable
        "The broker epoch in the request is out of date.";
    78 OffsetNotAvailable "OFFSET_NOT_AVAILABLE" Retriable
        "The new leader's high watermark has not caught up yet, so the offset cannot be served.";
    79 MemberIdRequired "MEMBER_ID_REQUIRED" NotRetriable
        "The member has to obtain a member id before it can join the group.";
    80 PreferredLeaderNotAvailable "PREFERRED_LEADER_NOT_AVAILABLE" StaleMetadata
        "The preferred replica cannot become leader right now.";
    81 GroupMaxSizeReached "GROUP_MAX_SIZE_REACHED" NotRetriable
        "The group is at its maximum number of members.";
    82 FencedInstanceId "FENCED_INSTANCE_ID" NotRetriable
        "Another member registered with the same static group instance id.";
    83 EligibleLeadersNotAvailable "ELIGIBLE_LEADERS_NOT_AVAILABLE" StaleMetadata
        "No replica eligible for leadership is available.";
    84 ElectionNotNeeded "ELECTION_NOT_NEEDED" StaleMetadata
        "The partition already has the leader the election would pick.";
    85 NoReassignmentInProgress "NO_REASSIGNMENT_IN_PROGRESS" NotRetriable
        "There is no partition reassignment to act on.";
    86 GroupSubscribedToTopic "GROUP_SUBSCRIBED_TO_TOPIC" NotRetriable
        "Offsets of the topic cannot be deleted while the group is subscribed to it.";
    87 InvalidRecord "INVALID_RECORD" NotRetriable
        "The broker's validation rejected a record.";
    88 UnstableOffsetCommit "UNSTABLE_OFFSET_COMMIT" Retriable
        "Pending transactional offsets have to settle before offsets can be fetched.";
    89 ThrottlingQuotaExceeded "THROTTLING_QUOTA_EXCEEDED" Retriable
        "The request went over a throttling quota (such as the topic mutation rate).";
    90 ProducerFenced "PRODUCER_FENCED" NotRetriable
        "A newer producer with the same transactional id has fenced this one.";
    91 ResourceNotFound "RESOURCE_NOT_FOUND" NotRetriable
        "The request names a resource that does not exist.";
    92 DuplicateResource "DUPLICATE_RESOURCE" NotRetriable
        "The request names the same resource more than once.";
    93 UnacceptableCredential "UNACCEPTABLE_CREDENTIAL" NotRetriable
        "The credential does not meet the broker's requirements.";
    94 InconsistentVoterSet "INCONSISTENT_VOTER_SET" NotRetriable
        "The sender or the receiver of a voter-only request is not an expected voter.";
    95 InvalidUpdateVersion "INVALID_UPDATE_VERSION" NotRetriable
        "The feature update names an invalid version.";
    96 FeatureUpdateFailed "FEATURE_UPDATE_FAILED" NotRetriable
        "Finalized features could not be updated because of a server error.";
    97 PrincipalDeserializationFailure "PRINCIPAL_DESERIALIZATION_FAILURE" NotRetriable
        "The principal of a forwarded request could not be deserialized.";
    98 SnapshotNotFound "SNAPSHOT_NOT_FOUND" NotRetriable
        "There is no snapshot with the requested id.";
    99 PositionOutOfRange "POSITION_OUT_OF_RANGE" NotRetriable
        "The requested position lies outside the snapshot.";
    100 UnknownTopicId "UNKNOWN_TOPIC_ID" StaleMetadata
        "The broker does not host a topic with this topic id.";
    101 DuplicateBrokerRegistration "DUPLICATE_BROKER_REGISTRATION" NotRetriable
        "Another broker already registered with this broker id.";
    102 BrokerIdNotRegistered "BROKER_ID_NOT_REGISTERED" NotRetriable
        "The broker id has no registration.";
    103 InconsistentTopicId "INCONSISTENT_TOPIC_ID" StaleMetadata
        "The topic id in the request differs from the one in the log.";
    104 InconsistentClusterId "INCONSISTENT_CLUSTER_ID" NotRetriable
        "The cluster id in the request differs from the server's.";
    105 TransactionalIdNotFound "TRANSACTIONAL_ID_NOT_FOUND" NotRetriable
        "No transaction state exists for this transactional id.";
    106 FetchSessionTopicIdError "FETCH_SESSION_TOPIC_ID_ERROR" Retriable
        "The fetch session used topic ids inconsistently.";
    107 IneligibleReplica "INELIGIBLE_REPLICA" NotRetriable
        "The proposed in-sync replica set contains a replica that may not join it.";
    108 NewLeaderElected "NEW_LEADER_ELECTED" NotRetriable
        "The partition state was updated, but leadership has moved.";
    109 OffsetMovedToTieredStorage "OFFSET_MOVED_TO_TIERED_STORAGE" NotRetriable
        "The requested offset now lives only in tiered storage.";
    110 FencedMemberEpoch "FENCED_MEMBER_EPOCH" NotRetriable
        "The coordinator fenced the member's epoch; the member must give up its partitions and rejoin.";
    111 UnreleasedInstanceId "UNRELEASED_INSTANCE_ID" NotRetriable
        "Another member still holds this instance id and has to leave first.";
    112 UnsupportedAssignor "UNSUPPORTED_ASSIGNOR" NotRetriable
        "The group does not support the assignor or its version range.";
    113 StaleMemberEpoch "STALE_MEMBER_EPOCH" NotRetriable
        "The member epoch is out of date; the member should retry with the epoch from its next heartbeat.";
    114 MismatchedEndpointType "MISMATCHED_ENDPOINT_TYPE" NotRetriable
        "The request went to the wrong kind of endpoint.";
    115 UnsupportedEndpointType "UNSUPPORTED_ENDPOINT_TYPE" NotRetriable
        "The broker does not handle this endpoint type yet.";
    116 UnknownControllerId "UNKNOWN_CONTROLLER_ID" NotRetriable
        "No controller with this id is known.";
    117 UnknownSubscriptionId "UNKNOWN_SUBSCRIPTION_ID" NotRetriable
        "The telemetry subscription id is unknown or out of date.";
    118 TelemetryTooLarge "TELEMETRY_TOO_LARGE" NotRetriable
        "A telemetry push is larger than the broker accepts.";
    119 InvalidRegistration "INVALID_REGISTRATION" NotRetriable
        "The controller judged the broker's registration invalid.";
    120 TransactionAbortable "TRANSACTION_ABORTABLE" NotRetriable
        "The transaction hit an error; aborting it makes the transactional id usable again.";
    121 InvalidRecordState "INVALID_RECORD_STATE" NotRetriable
        "The record's state does not allow acknowledging its delivery.";
    122 ShareSessionNotFound "SHARE_SESSION_NOT_FOUND" Retriable
        "The broker has no such share session.";
    123 InvalidShareSessionEpoch "INVALID_SHARE_SESSION_EPOCH" Retriable
        "The share session epoch does not match the broker's.";
    124 FencedStateEpoch "FENCED_STATE_EPOCH" NotRetriable
        "The share coordinator refused the request because the share-group state epoch did not match.";
    125 InvalidVoterKey "INVALID_VOTER_KEY" NotRetriable
        "The voter key differs from the receiving replica's.";
    126 DuplicateVoter "DUPLICATE_VOTER" NotRetriable
        "The voter is already a member of the voter set.";
    127 VoterNotFound "VOTER_NOT_FOUND" NotRetriable
        "The voter is missing from the voter set.";
    128 InvalidRegularExpression "INVALID_REGULAR_EXPRESSION" NotRetriable
        "A subscription regular expression could not be parsed.";
    129 RebootstrapRequired "REBOOTSTRAP_REQUIRED" NotRetriable
        "The client's metadata is too stale; it has to go back to its bootstrap servers.";
    130 StreamsInvalidTopology "STREAMS_INVALID_TOPOLOGY" NotRetriable
        "The Streams topology sent is not valid.";
    131 StreamsInvalidTopologyEpoch "STREAMS_INVALID_TOPOLOGY_EPOCH" NotRetriable
        "The Streams topology epoch sent is not valid.";
    132 StreamsTopologyFenced "STREAMS_TOPOLOGY_FENCED" NotRetriable
        "The Streams topology epoch sent is out of date.";
    133 ShareSessionLimitReached "SHARE_SESSION_LIMIT_REACHED" Retriable
        "No new share session can be opened: the broker's limit is reached.";
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::ErrorCode;

    #[test]
    fn from_code_then_code_is_identity_for_every_i16() {
        for code in i16::MIN..=i16::MAX {
            assert_eq!(ErrorCode::from_code(code).code(), code);
        }
    }

    #[test]
    fn all_lists_every_known_code_once_in_ascending_order() {
        for pair in ErrorCode::ALL.windows(2) {
            assert!(
                pair[0].code() < pair[1].code(),
                "{} then {}",
                pair[0],
                pair[1]
            );
        }
        let listed: HashSet<i16> = ErrorCode::ALL.iter().map(|e| e.code()).collect();
        for code in i16::MIN..=i16::MAX {
            let known = !matches!(ErrorCode::from_code(code), ErrorCode::Unknown(_));
            assert_eq!(known, listed.contains(&code), "code {code}");
        }
        for &error in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_code(error.code()), error);
        }
    }

    #[test]
    fn names_are_unique_upper_snake_case() {
        let mut seen = HashSet::new();
        for &error in ErrorCode::ALL {
            let name = error.name();
            assert!(seen.insert(name), "duplicate name {name}");
            assert!(!name.is_empty() && name != "UNKNOWN", "bad name {name:?}");
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'),
                "{name} is not UPPER_SNAKE"
            );
        }
    }

    #[test]
    fn descriptions_are_single_sentences() {
        for &error in ErrorCode::ALL.iter().chain(&[ErrorCode::Unknown(i16::MAX)]) {
            let text = error.description();
            assert!(
                text.ends_with('.') && !text.contains('\n'),
                "{error}: {text:?}"
            );
        }
    }

    #[test]
    fn metadata_errors_are_retriable() {
        for &error in ErrorCode::ALL {
            if error.invalidates_metadata() {
                assert!(error.is_retriable(), "{error}");
            }
        }
    }

    #[test]
    fn only_none_is_ok() {
        for &error in ErrorCode::ALL {
            assert_eq!(error.is_ok(), error == ErrorCode::None, "{error}");
        }
        assert!(ErrorCode::from_code(0).is_ok());
        assert!(!ErrorCode::from_code(0).is_retriable());
    }

    #[test]
    fn unknown_codes_are_kept_and_not_retriable() {
        for code in [i16::MIN, -2, 134, 999, i16::MAX] {
            let error = ErrorCode::from_code(code);
            assert_eq!(error, ErrorCode::Unknown(code));
            assert_eq!(error.name(), "UNKNOWN");
            assert!(!error.is_ok() && !error.is_retriable() && !error.invalidates_metadata());
        }
    }

    /// The producer-relevant classifications listed in `protocol.md` §7.
    #[test]
    fn protocol_md_section_7_spot_checks() {
        // (code, name, retriable, invalidates metadata)
        let expected: &[(i16, &str, bool, bool)] = &[
            (-1, "UNKNOWN_SERVER_ERROR", false, false),
            (2, "CORRUPT_MESSAGE", true, false),
            (3, "UNKNOWN_TOPIC_OR_PARTITION", true, true),
            (5, "LEADER_NOT_AVAILABLE", true, true),
            (6, "NOT_LEADER_OR_FOLLOWER", true, true),
            (7, "REQUEST_TIMED_OUT", true, false),
            (8, "BROKER_NOT_AVAILABLE", false, false),
            (9, "REPLICA_NOT_AVAILABLE", true, true),
            (10, "MESSAGE_TOO_LARGE", false, false),
            (13, "NETWORK_EXCEPTION", true, true),
            (17, "INVALID_TOPIC_EXCEPTION", false, false),
            (19, "NOT_ENOUGH_REPLICAS", true, false),
            (20, "NOT_ENOUGH_REPLICAS_AFTER_APPEND", true, false),
            (45, "OUT_OF_ORDER_SEQUENCE_NUMBER", false, false),
            (46, "DUPLICATE_SEQUENCE_NUMBER", false, false),
            (47, "INVALID_PRODUCER_EPOCH", false, false),
            (51, "CONCURRENT_TRANSACTIONS", true, false),
            (56, "KAFKA_STORAGE_ERROR", true, true),
            (59, "UNKNOWN_PRODUCER_ID", false, false),
            (72, "LISTENER_NOT_FOUND", true, true),
            (74, "FENCED_LEADER_EPOCH", true, true),
            (75, "UNKNOWN_LEADER_EPOCH", true, false),
            (89, "THROTTLING_QUOTA_EXCEEDED", true, false),
            (90, "PRODUCER_FENCED", false, false),
            (100, "UNKNOWN_TOPIC_ID", true, true),
            (120, "TRANSACTION_ABORTABLE", false, false),
            (129, "REBOOTSTRAP_REQUIRED", false, false),
        ];
        for &(code, name, retriable, metadata) in expected {
            let error = ErrorCode::from_code(code);
            assert_eq!(error.name(), name, "code {code}");
            assert_eq!(error.is_retriable(), retriable, "{error} retriable");
            assert_eq!(error.invalidates_metadata(), metadata, "{error} metadata");
        }
        assert_eq!(ErrorCode::NotLeaderOrFollower.code(), 6);
        assert_eq!(ErrorCode::UnknownTopicOrPartition.code(), 3);
    }

    #[test]
    fn display_shows_name_and_code() {
        assert_eq!(
            ErrorCode::NotLeaderOrFollower.to_string(),
            "NOT_LEADER_OR_FOLLOWER (6)"
        );
        assert_eq!(
            ErrorCode::UnknownServerError.to_string(),
            "UNKNOWN_SERVER_ERROR (-1)"
        );
        assert_eq!(ErrorCode::Unknown(4242).to_string(), "UNKNOWN (4242)");
        let boxed: Box<dyn std::error::Error> = Box::new(ErrorCode::MessageTooLarge);
        assert_eq!(boxed.to_string(), "MESSAGE_TOO_LARGE (10)");
    }
}

//! Golden tests: frames, record batches and log segments captured from a real Apache Kafka
//! 4.1.1 broker and the Java producer (kafka-clients 4.0.1 and 3.9.1), in `tests/golden/`.
//! Two runs authenticate first, over a SASL_PLAINTEXT listener: with PLAIN and with
//! SCRAM-SHA-256 (SaslHandshake v1, SaslAuthenticate v2, and the authenticator's
//! ApiVersions v0).
//!
//! Every expected value comes from a sidecar file written at capture time from sources other
//! than kiel: the Java client's own decoding of each frame (its NetworkClient DEBUG log, or for
//! the authentication frames NetworkClient does not log, the same kafka-clients' generated
//! message classes), the records the Java producer was asked to send, `StorageTool`,
//! `Admin.createTopics`, the client's `ProducerId set to` line, and the SASL user and broker
//! settings the capture script used. Nothing here is hard-coded from kiel's own output.
//!
//! - Requests are decoded (header and body) and re-encoded; the bytes must be identical.
//! - Responses are decoded and checked field by field; where kiel can encode the response
//!   too, the re-encoding must also be identical.
//! - Record batches (as the client wrote them, and as the broker stored them in its log
//!   segment) are decoded with every codec; uncompressed ones are rebuilt byte for byte.
//!
//! # References
//! - `tests/golden/README.md`: how every file was captured, and the sidecar format
//! - `tests/golden/capture/`: the script that re-creates them

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::fs;
use std::path::{Path, PathBuf};

use bytes::{Bytes, BytesMut};
use kiel_protocol::api::decode_exact;
use kiel_protocol::compression::decompress;
use kiel_protocol::frame::{decode_response, encode_request};
use kiel_protocol::header::{RequestHeader, ResponseHeader};
use kiel_protocol::messages::api_versions::ApiVersionsRequest;
use kiel_protocol::messages::init_producer_id::{InitProducerIdRequest, InitProducerIdResponse};
use kiel_protocol::messages::metadata::MetadataRequest;
use kiel_protocol::messages::produce::{PartitionProduceData, ProduceRequest, TopicProduceData};
use kiel_protocol::messages::sasl_authenticate::{
    SaslAuthenticateRequest, SaslAuthenticateResponse,
};
use kiel_protocol::messages::sasl_handshake::{
    tokens_in_sasl_authenticate, SaslHandshakeRequest, SaslHandshakeResponse,
};
use kiel_protocol::record::{
    verify_batch, BatchOptions, RecordBatch, RecordBatchBuilder, RecordHeader, TimestampType,
    RECORD_BATCH_OVERHEAD,
};
use kiel_protocol::{ApiKey, Compression, Decode, Encode, ErrorCode, Request, VersionRange};

/// The runs `capture.sh` records; each is a directory under `tests/golden/`.
const RUNS: [&str; 9] = [
    "acks1-none",
    "client39-idempotent-none",
    "idempotent-gzip",
    "idempotent-lz4",
    "idempotent-none",
    "idempotent-snappy",
    "idempotent-zstd",
    "sasl-plain",
    "sasl-scram-sha-256",
];

/// The runs over the SASL_PLAINTEXT listener.
const SASL_RUNS: [&str; 2] = ["sasl-plain", "sasl-scram-sha-256"];

/// How a sidecar spells a null value.
const NULL: &str = "<null>";

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn read(path: &Path) -> Bytes {
    match fs::read(path) {
        Ok(bytes) => Bytes::from(bytes),
        Err(e) => panic!("cannot read {}: {e}", path.display()),
    }
}

// ---------------------------------------------------------------------------------------
// Sidecar files: `key=value` lines, `#` comments, `<null>` for null.
// ---------------------------------------------------------------------------------------

/// One parsed sidecar file.
struct Sidecar {
    path: PathBuf,
    fields: BTreeMap<String, String>,
}

impl Sidecar {
    fn load(path: &Path) -> Self {
        let text = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) => panic!("cannot read {}: {e}", path.display()),
        };
        let mut fields = BTreeMap::new();
        for line in text.lines() {
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                panic!("{}: not key=value: {line:?}", path.display());
            };
            assert!(
                fields.insert(key.to_owned(), value.to_owned()).is_none(),
                "{}: duplicate key {key}",
                path.display()
            );
        }
        Self {
            path: path.to_owned(),
            fields,
        }
    }

    fn has(&self, key: &str) -> bool {
        self.fields.contains_key(key)
    }

    fn str(&self, key: &str) -> &str {
        match self.fields.get(key) {
            Some(value) => value,
            None => panic!("{}: no key {key}", self.path.display()),
        }
    }

    /// The value, or `None` for `<null>`.
    fn opt(&self, key: &str) -> Option<&str> {
        Some(self.str(key)).filter(|v| *v != NULL)
    }

    fn int<T: std::str::FromStr>(&self, key: &str) -> T
    where
        T::Err: Debug,
    {
        match self.str(key).parse() {
            Ok(v) => v,
            Err(e) => panic!("{}: {key} is not a number: {e:?}", self.path.display()),
        }
    }

    fn bool(&self, key: &str) -> bool {
        match self.str(key) {
            "true" => true,
            "false" => false,
            other => panic!("{}: {key}={other} is not a bool", self.path.display()),
        }
    }

    /// A comma-separated list of integers (empty value: empty list).
    fn ints(&self, key: &str) -> Vec<i32> {
        let value = self.str(key);
        if value.is_empty() {
            return Vec::new();
        }
        value
            .split(',')
            .map(|v| match v.parse() {
                Ok(n) => n,
                Err(e) => panic!("{}: {key}: {v:?}: {e}", self.path.display()),
            })
            .collect()
    }

    /// A space-separated list of `name:min-max` items.
    fn ranges(&self, key: &str) -> Vec<(String, i16, i16)> {
        let value = self.str(key);
        value
            .split(' ')
            .filter(|item| !item.is_empty())
            .map(|item| {
                let parsed = item.rsplit_once(':').and_then(|(name, range)| {
                    let (min, max) = range.split_once('-')?;
                    Some((name.to_owned(), min.parse().ok()?, max.parse().ok()?))
                });
                match parsed {
                    Some(p) => p,
                    None => panic!("{}: {key}: bad item {item:?}", self.path.display()),
                }
            })
            .collect()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------------------
// Runs and frames
// ---------------------------------------------------------------------------------------

/// One captured run: its directory and `expected.txt`.
struct Run {
    name: String,
    dir: PathBuf,
    expected: Sidecar,
}

/// One captured frame (after the size prefix) and its sidecar.
struct Frame {
    name: String,
    bytes: Bytes,
    meta: Sidecar,
}

impl Frame {
    fn api_key(&self) -> i16 {
        self.meta.int("api_key")
    }

    fn version(&self) -> i16 {
        self.meta.int("api_version")
    }

    fn correlation_id(&self) -> i32 {
        self.meta.int("correlation_id")
    }

    fn is_request(&self) -> bool {
        match self.meta.str("direction") {
            "request" => true,
            "response" => false,
            other => panic!("{}: direction {other}", self.name),
        }
    }
}

/// Frame files are named `c<conn>-<seq>-...bin`.
fn is_frame_file(name: &str) -> bool {
    name.strip_prefix('c')
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        && name.ends_with(".bin")
}

fn runs() -> Vec<Run> {
    RUNS.iter()
        .map(|name| {
            let dir = golden_dir().join(name);
            let expected = Sidecar::load(&dir.join("expected.txt"));
            Run {
                name: (*name).to_owned(),
                dir,
                expected,
            }
        })
        .collect()
}

impl Run {
    /// Every frame of the run, in file-name order (connection, then sequence).
    fn frames(&self) -> Vec<Frame> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) => panic!("cannot list {}: {e}", self.dir.display()),
        };
        let mut names: Vec<String> = entries
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|name| is_frame_file(name))
            .collect();
        names.sort();
        assert!(!names.is_empty(), "{}: no frames", self.name);
        names
            .into_iter()
            .map(|name| {
                let bin = self.dir.join(&name);
                let meta = Sidecar::load(&bin.with_extension("txt"));
                Frame {
                    name: format!("{}/{name}", self.name),
                    bytes: read(&bin),
                    meta,
                }
            })
            .collect()
    }

    fn frames_of(&self, api: ApiKey, request: bool) -> Vec<Frame> {
        self.frames()
            .into_iter()
            .filter(|f| f.api_key() == api.code() && f.is_request() == request)
            .collect()
    }

    fn compression(&self) -> Compression {
        match self.expected.str("compression").parse() {
            Ok(codec) => codec,
            Err(e) => panic!("{}: compression: {e}", self.name),
        }
    }

    fn topic(&self) -> &str {
        self.expected.str("topic")
    }

    fn is_sasl(&self) -> bool {
        self.expected.has("sasl_mechanism")
    }

    /// The connections of the run (1 = bootstrap, 2 = node 1), each with its frames in order.
    fn connections(&self) -> BTreeMap<String, Vec<Frame>> {
        let mut connections: BTreeMap<String, Vec<Frame>> = BTreeMap::new();
        for frame in self.frames() {
            let file = frame.name.rsplit('/').next().unwrap_or_default();
            let conn = file.split('-').next().unwrap_or_default().to_owned();
            connections.entry(conn).or_default().push(frame);
        }
        connections
    }
}

/// The SASL runs.
fn sasl_runs() -> Vec<Run> {
    let runs: Vec<Run> = runs().into_iter().filter(Run::is_sasl).collect();
    let names: Vec<&str> = runs.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, SASL_RUNS);
    runs
}

// ---------------------------------------------------------------------------------------
// Generic request / response checks
// ---------------------------------------------------------------------------------------

/// Decodes a request frame (header + body), checks the header against the sidecar, and
/// re-encodes it twice: header and body by hand, and through `frame::encode_request` (the
/// path the producer uses). Both must give the captured bytes exactly.
fn check_request<R>(frame: &Frame) -> R
where
    R: Request + Decode + Debug,
{
    let version = frame.version();
    let header_version = R::request_header_version(version);
    assert_eq!(
        header_version,
        frame.meta.int::<i16>("header_version"),
        "{}: request header version",
        frame.name
    );
    let mut buf = frame.bytes.clone();
    let header = match RequestHeader::decode(&mut buf, header_version) {
        Ok(h) => h,
        Err(e) => panic!("{}: header: {e}", frame.name),
    };
    assert_eq!(header.api_key, R::API_KEY.code(), "{}", frame.name);
    assert_eq!(header.api_version, version, "{}", frame.name);
    assert_eq!(
        header.correlation_id,
        frame.correlation_id(),
        "{}",
        frame.name
    );
    assert_eq!(
        header.client_id.as_deref(),
        frame.meta.opt("client_id"),
        "{}",
        frame.name
    );
    assert!(header.tagged_fields.is_empty(), "{}", frame.name);
    let body: R = match decode_exact(buf, version) {
        Ok(body) => body,
        Err(e) => panic!("{}: body: {e}", frame.name),
    };

    let mut by_hand = BytesMut::new();
    let encoded = header
        .encode(&mut by_hand, header_version)
        .and_then(|()| body.encode(&mut by_hand, version));
    if let Err(e) = encoded {
        panic!("{}: re-encode: {e}", frame.name);
    }
    assert_eq!(
        hex(&by_hand),
        hex(&frame.bytes),
        "{}: re-encoded request differs",
        frame.name
    );

    let mut framed = BytesMut::new();
    if let Err(e) = encode_request(
        &body,
        version,
        header.correlation_id,
        header.client_id.as_deref(),
        &mut framed,
    ) {
        panic!("{}: encode_request: {e}", frame.name);
    }
    let size = u32::try_from(frame.bytes.len()).map_or([0; 4], u32::to_be_bytes);
    assert_eq!(&framed[..4], &size[..], "{}: size prefix", frame.name);
    assert_eq!(
        hex(&framed[4..]),
        hex(&frame.bytes),
        "{}: encode_request differs",
        frame.name
    );
    body
}

/// Decodes a response frame through `frame::decode_response`, then re-encodes header and
/// body and requires the captured bytes exactly.
fn check_response<R>(frame: &Frame) -> R::Response
where
    R: Request,
    R::Response: Encode + Debug,
{
    let version = frame.version();
    let header_version = R::response_header_version(version);
    assert_eq!(
        header_version,
        frame.meta.int::<i16>("header_version"),
        "{}: response header version",
        frame.name
    );
    let response = match decode_response::<R>(frame.bytes.clone(), version, frame.correlation_id())
    {
        Ok(r) => r,
        Err(e) => panic!("{}: decode: {e}", frame.name),
    };
    let mut out = BytesMut::new();
    let header = ResponseHeader {
        correlation_id: frame.correlation_id(),
        tagged_fields: Vec::new(),
    };
    let encoded = header
        .encode(&mut out, header_version)
        .and_then(|()| response.encode(&mut out, version));
    if let Err(e) = encoded {
        panic!("{}: re-encode: {e}", frame.name);
    }
    assert_eq!(
        hex(&out),
        hex(&frame.bytes),
        "{}: re-encoded response differs",
        frame.name
    );
    response
}

// ---------------------------------------------------------------------------------------
// The captures themselves
// ---------------------------------------------------------------------------------------

#[test]
fn every_run_was_captured_with_the_documented_versions() {
    for run in runs() {
        assert_eq!(run.expected.str("broker_version"), "4.1.1", "{}", run.name);
        let client = run.expected.str("client_version");
        assert_eq!(
            client,
            if run.name.starts_with("client39") {
                "3.9.1"
            } else {
                "4.0.1"
            },
            "{}",
            run.name
        );
        let frames = run.frames();
        for frame in &frames {
            assert!(
                ApiKey::from_code(frame.api_key()).is_some(),
                "{}: unexpected api key",
                frame.name
            );
        }
        let requests = frames.iter().filter(|f| f.is_request()).count();
        assert_eq!(requests * 2, frames.len(), "{}: unanswered", run.name);
        let produce = run.frames_of(ApiKey::Produce, true);
        assert_eq!(produce.len(), 1, "{}", run.name);
        assert_eq!(
            produce[0].version(),
            if client == "3.9.1" { 11 } else { 12 },
            "{}",
            run.name
        );
        let idempotent = run.expected.bool("idempotence");
        assert_eq!(
            run.frames_of(ApiKey::InitProducerId, true).is_empty(),
            !idempotent,
            "{}",
            run.name
        );
        // Only the SASL runs authenticate: once on each of their two connections.
        let handshakes = run.frames_of(ApiKey::SaslHandshake, true).len();
        assert_eq!(
            handshakes,
            if run.is_sasl() { 2 } else { 0 },
            "{}",
            run.name
        );
        assert_eq!(
            run.frames_of(ApiKey::SaslAuthenticate, true).is_empty(),
            !run.is_sasl(),
            "{}",
            run.name
        );
    }
}

// ---------------------------------------------------------------------------------------
// ApiVersions
// ---------------------------------------------------------------------------------------

#[test]
fn api_versions_requests_re_encode_byte_for_byte() {
    let mut v0 = 0;
    for run in runs() {
        for frame in run.frames_of(ApiKey::ApiVersions, true) {
            let request: ApiVersionsRequest = check_request(&frame);
            if frame.version() < 3 {
                // The SASL authenticator's own ApiVersions: an empty v0 body. Java shows its
                // software fields at their schema default (empty), kiel has none.
                v0 += 1;
                assert_eq!(frame.version(), 0, "{}", frame.name);
                assert_eq!(request, ApiVersionsRequest::default(), "{}", frame.name);
                assert_eq!(frame.meta.str("client_software_name"), "");
                assert_eq!(frame.meta.str("client_software_version"), "");
                continue;
            }
            assert_eq!(
                request.client_software_name.as_deref(),
                Some(frame.meta.str("client_software_name")),
                "{}",
                frame.name
            );
            assert_eq!(
                request.client_software_version.as_deref(),
                Some(frame.meta.str("client_software_version")),
                "{}",
                frame.name
            );
            assert_eq!(
                request.client_software_version.as_deref(),
                Some(run.expected.str("client_version")),
                "{}",
                frame.name
            );
        }
    }
    assert_eq!(v0, 2 * SASL_RUNS.len(), "one v0 per SASL connection");
}

#[test]
fn api_versions_responses_match_the_java_client() {
    let mut seen = 0;
    for run in runs() {
        for frame in run.frames_of(ApiKey::ApiVersions, false) {
            seen += 1;
            let response = check_response::<ApiVersionsRequest>(&frame);
            let meta = &frame.meta;
            assert_eq!(response.error_code, meta.int::<i16>("error_code"));
            assert_eq!(
                response.throttle_time_ms,
                meta.int::<i32>("throttle_time_ms")
            );
            let api_keys: Vec<(String, i16, i16)> = response
                .api_keys
                .iter()
                .map(|k| (k.api_key.to_string(), k.min_version, k.max_version))
                .collect();
            assert_eq!(api_keys, meta.ranges("api_keys"), "{}", frame.name);
            let supported: Vec<(String, i16, i16)> = response
                .supported_features
                .iter()
                .map(|f| (f.name.clone(), f.min_version, f.max_version))
                .collect();
            assert_eq!(
                supported,
                meta.ranges("supported_features"),
                "{}",
                frame.name
            );
            assert_eq!(
                response.finalized_features_epoch,
                meta.int::<i64>("finalized_features_epoch")
            );
            let finalized: Vec<(String, i16, i16)> = response
                .finalized_features
                .iter()
                .map(|f| (f.name.clone(), f.min_version_level, f.max_version_level))
                .collect();
            assert_eq!(
                finalized,
                meta.ranges("finalized_features"),
                "{}",
                frame.name
            );
            assert_eq!(response.zk_migration_ready, meta.bool("zk_migration_ready"));

            // What the brief asks of a 4.1 broker: Produce up to at least v12, and the
            // other three APIs the producer needs.
            let produce = response.api(ApiKey::Produce);
            assert!(
                produce.is_some_and(|p| p.max_version >= 12),
                "{}",
                frame.name
            );
            for api in [
                ApiKey::Metadata,
                ApiKey::ApiVersions,
                ApiKey::InitProducerId,
            ] {
                assert!(response.api(api).is_some(), "{}: {api}", frame.name);
            }
            // A 4.x broker advertises Produce from v0 but kiel must never go below v3.
            assert_eq!(
                response.produce_version(VersionRange::new(3, 12)),
                Ok(12),
                "{}",
                frame.name
            );
            assert_eq!(
                response.version_for(ApiKey::Metadata, MetadataRequest::VERSIONS),
                Some(13)
            );
            // Both SASL APIs, at the versions the Java client chose.
            assert_eq!(
                response.version_for(ApiKey::SaslHandshake, SaslHandshakeRequest::VERSIONS),
                Some(1),
                "{}",
                frame.name
            );
            assert_eq!(
                response.version_for(ApiKey::SaslAuthenticate, SaslAuthenticateRequest::VERSIONS),
                Some(2),
                "{}",
                frame.name
            );
        }
    }
    assert_eq!(
        seen,
        2 * RUNS.len() + 2 * SASL_RUNS.len(),
        "two connections per run, and the authenticator's own on a SASL connection"
    );
}

// ---------------------------------------------------------------------------------------
// Metadata
// ---------------------------------------------------------------------------------------

#[test]
fn metadata_requests_re_encode_byte_for_byte() {
    let mut versions = Vec::new();
    for run in runs() {
        for frame in run.frames_of(ApiKey::Metadata, true) {
            versions.push(frame.version());
            let request: MetadataRequest = check_request(&frame);
            let names: Vec<&str> = request
                .topics
                .iter()
                .flatten()
                .map(|t| t.name.as_deref().unwrap_or(NULL))
                .collect();
            assert_eq!(names.join(","), frame.meta.str("topics"), "{}", frame.name);
            assert_eq!(names, [run.topic()], "{}", frame.name);
            assert!(request
                .topics
                .iter()
                .flatten()
                .all(|t| t.topic_id == [0; 16]));
            assert_eq!(
                request.allow_auto_topic_creation,
                frame.meta.bool("allow_auto_topic_creation")
            );
            assert_eq!(
                request.include_cluster_authorized_operations,
                frame.meta.bool("include_cluster_authorized_operations")
            );
            assert_eq!(
                request.include_topic_authorized_operations,
                frame.meta.bool("include_topic_authorized_operations")
            );
        }
    }
    versions.sort_unstable();
    versions.dedup();
    assert_eq!(versions, [12, 13], "Metadata versions captured");
}

#[test]
fn metadata_responses_name_the_broker_and_the_topic() {
    for run in runs() {
        let frames = run.frames_of(ApiKey::Metadata, false);
        assert_eq!(frames.len(), 1, "{}", run.name);
        for frame in frames {
            let response = check_response::<MetadataRequest>(&frame);
            let meta = &frame.meta;
            let expected = &run.expected;
            assert_eq!(
                response.throttle_time_ms,
                meta.int::<i32>("throttle_time_ms")
            );
            let brokers: Vec<String> = response
                .brokers
                .iter()
                .map(|b| {
                    let rack = b.rack.as_deref().unwrap_or(NULL);
                    format!("{}:{}:{}:{rack}", b.node_id, b.host, b.port)
                })
                .collect();
            assert_eq!(brokers.join(" "), meta.str("brokers"), "{}", frame.name);
            let [broker] = response.brokers.as_slice() else {
                panic!("{}: one broker expected", frame.name);
            };
            assert_eq!(broker.node_id, expected.int::<i32>("broker_node_id"));
            assert_eq!(broker.host, expected.str("broker_host"));
            assert_eq!(broker.port, expected.int::<i32>("broker_port"));

            assert_eq!(response.cluster_id.as_deref(), meta.opt("cluster_id"));
            assert_eq!(
                response.cluster_id.as_deref(),
                Some(expected.str("cluster_id"))
            );
            assert_eq!(response.controller_id, meta.int::<i32>("controller_id"));
            assert_eq!(
                response.cluster_authorized_operations,
                meta.int::<i32>("cluster_authorized_operations")
            );
            if meta.has("error_code") {
                assert_eq!(response.error_code, meta.int::<i16>("error_code"));
            } else {
                assert!(frame.version() < 13, "{}", frame.name);
                assert_eq!(response.error_code, 0);
            }

            let [topic] = response.topics.as_slice() else {
                panic!("{}: one topic expected", frame.name);
            };
            assert_eq!(topic.name.as_deref(), Some(meta.str("topics")));
            assert_eq!(topic.name.as_deref(), Some(run.topic()));
            let t = format!("topic.{}.", run.topic());
            assert_eq!(topic.error_code, meta.int::<i16>(&format!("{t}error_code")));
            assert_eq!(hex(&topic.topic_id), meta.str(&format!("{t}topic_id")));
            assert_eq!(hex(&topic.topic_id), expected.str("topic_id"));
            assert_eq!(topic.is_internal, meta.bool(&format!("{t}is_internal")));
            assert_eq!(
                topic.topic_authorized_operations,
                meta.int::<i32>(&format!("{t}topic_authorized_operations"))
            );
            let indexes: Vec<i32> = topic.partitions.iter().map(|p| p.partition_index).collect();
            assert_eq!(indexes, meta.ints(&format!("{t}partitions")));
            for p in &topic.partitions {
                let q = format!("{t}partition.{}.", p.partition_index);
                assert_eq!(p.error_code, meta.int::<i16>(&format!("{q}error_code")));
                assert_eq!(p.leader_id, meta.int::<i32>(&format!("{q}leader_id")));
                assert_eq!(p.leader_epoch, meta.int::<i32>(&format!("{q}leader_epoch")));
                assert_eq!(p.replica_nodes, meta.ints(&format!("{q}replica_nodes")));
                assert_eq!(p.isr_nodes, meta.ints(&format!("{q}isr_nodes")));
                assert_eq!(
                    p.offline_replicas,
                    meta.ints(&format!("{q}offline_replicas"))
                );
                assert_eq!(p.leader_id, broker.node_id);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// InitProducerId
// ---------------------------------------------------------------------------------------

#[test]
fn init_producer_id_requests_re_encode_byte_for_byte() {
    let mut seen = 0;
    for run in runs() {
        for frame in run.frames_of(ApiKey::InitProducerId, true) {
            seen += 1;
            let request: InitProducerIdRequest = check_request(&frame);
            let meta = &frame.meta;
            assert_eq!(
                request.transactional_id.as_deref(),
                meta.opt("transactional_id")
            );
            assert_eq!(
                request.transaction_timeout_ms,
                meta.int::<i32>("transaction_timeout_ms")
            );
            assert_eq!(request.producer_id, meta.int::<i64>("producer_id"));
            assert_eq!(request.producer_epoch, meta.int::<i16>("producer_epoch"));
            // The Java idempotent producer sends exactly what kiel's constructor builds.
            assert_eq!(
                request,
                InitProducerIdRequest::idempotent(),
                "{}",
                frame.name
            );
        }
    }
    assert!(seen >= 6, "one InitProducerId per idempotent run at least");
}

#[test]
fn init_producer_id_responses_give_the_producer_id() {
    // Loading-coordinator answers per capture session (one broker, one cluster id).
    let mut errors: BTreeMap<String, usize> = BTreeMap::new();
    for run in runs() {
        let frames = run.frames_of(ApiKey::InitProducerId, false);
        for frame in &frames {
            let response: InitProducerIdResponse = check_response::<InitProducerIdRequest>(frame);
            let meta = &frame.meta;
            assert_eq!(
                response.throttle_time_ms,
                meta.int::<i32>("throttle_time_ms")
            );
            assert_eq!(response.error_code, meta.int::<i16>("error_code"));
            assert_eq!(response.producer_id, meta.int::<i64>("producer_id"));
            assert_eq!(response.producer_epoch, meta.int::<i16>("producer_epoch"));
            let code = ErrorCode::from_code(response.error_code);
            if code.is_ok() {
                assert!(response.producer_id >= 0, "{}", frame.name);
                assert_eq!(response.producer_epoch, 0, "{}", frame.name);
            } else {
                // The broker's answer while its transaction coordinator was still loading.
                *errors
                    .entry(run.expected.str("cluster_id").to_owned())
                    .or_default() += 1;
                assert!(code.is_retriable(), "{}: {code:?}", frame.name);
                assert_eq!(code, ErrorCode::CoordinatorLoadInProgress, "{}", frame.name);
                assert_eq!((response.producer_id, response.producer_epoch), (-1, -1));
            }
        }
        // The last answer is the one the producer kept.
        if let Some(last) = frames.last() {
            assert_eq!(
                last.meta.int::<i64>("producer_id"),
                run.expected.int::<i64>("producer_id"),
                "{}",
                run.name
            );
            assert_eq!(
                last.meta.int::<i16>("producer_epoch"),
                run.expected.int::<i16>("producer_epoch")
            );
        }
    }
    assert!(
        errors.values().all(|n| *n <= 1),
        "at most the first run of a capture met a loading coordinator: {errors:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Produce
// ---------------------------------------------------------------------------------------

#[test]
fn produce_requests_re_encode_byte_for_byte_and_carry_the_client_batch() {
    for run in runs() {
        for frame in run.frames_of(ApiKey::Produce, true) {
            let request: ProduceRequest = check_request(&frame);
            let meta = &frame.meta;
            let acks: i16 = meta.int("acks");
            assert_eq!(request.acks, acks, "{}", frame.name);
            let run_acks = match run.expected.str("acks") {
                "all" => -1,
                other => other.parse().unwrap_or(i16::MIN),
            };
            assert_eq!(acks, run_acks, "{}", frame.name);
            assert!(request.expects_response());
            assert_eq!(request.timeout_ms, meta.int::<i32>("timeout_ms"));
            assert_eq!(request.transactional_id, None, "{}", frame.name);
            // encoded_len is exactly the body: the frame minus its header.
            let mut body = frame.bytes.clone();
            let header_version = ProduceRequest::request_header_version(frame.version());
            assert!(RequestHeader::decode(&mut body, header_version).is_ok());
            assert_eq!(
                request.encoded_len(frame.version()),
                body.len(),
                "{}",
                frame.name
            );

            // The batch in the request is the one extract.py cut out as client_batch.bin.
            let batch = read(&run.dir.join("client_batch.bin"));
            let expected = ProduceRequest {
                transactional_id: None,
                acks,
                timeout_ms: request.timeout_ms,
                topics: vec![TopicProduceData {
                    name: run.topic().to_owned(),
                    partitions: vec![PartitionProduceData {
                        index: run.expected.int("partition"),
                        records: Some(batch.clone()),
                    }],
                }],
            };
            assert_eq!(request, expected, "{}", frame.name);
            let size: usize = meta.int(&format!(
                "topic.{}.partition.{}.records_size",
                run.topic(),
                run.expected.str("partition")
            ));
            assert_eq!(
                batch.len(),
                size,
                "{}: size the Java client reported",
                frame.name
            );
        }
    }
}

#[test]
fn produce_responses_give_the_base_offset() {
    for run in runs() {
        let frames = run.frames_of(ApiKey::Produce, false);
        assert_eq!(frames.len(), 1, "{}", run.name);
        for frame in frames {
            let response = check_response::<ProduceRequest>(&frame);
            let meta = &frame.meta;
            assert_eq!(
                response.throttle_time_ms,
                meta.int::<i32>("throttle_time_ms")
            );
            assert_eq!(meta.str("node_endpoints"), "");
            assert!(response.node_endpoints.is_empty(), "{}", frame.name);
            let [topic] = response.topics.as_slice() else {
                panic!("{}: one topic expected", frame.name);
            };
            assert_eq!(topic.name, meta.str("topics"));
            assert_eq!(topic.name, run.topic());
            let [partition] = topic.partitions.as_slice() else {
                panic!("{}: one partition expected", frame.name);
            };
            let q = format!("topic.{}.partition.{}.", topic.name, partition.index);
            assert_eq!(partition.index, run.expected.int::<i32>("partition"));
            assert_eq!(
                partition.error_code,
                meta.int::<i16>(&format!("{q}error_code"))
            );
            assert_eq!(partition.error_code, 0, "{}", frame.name);
            assert_eq!(
                partition.base_offset,
                meta.int::<i64>(&format!("{q}base_offset"))
            );
            assert_eq!(
                partition.base_offset,
                run.expected.int::<i64>("base_offset")
            );
            assert_eq!(
                partition.log_append_time_ms,
                meta.int::<i64>(&format!("{q}log_append_time_ms"))
            );
            assert_eq!(
                partition.log_start_offset,
                meta.int::<i64>(&format!("{q}log_start_offset"))
            );
            assert!(partition.record_errors.is_empty(), "{}", frame.name);
            assert_eq!(
                partition.error_message.as_deref(),
                meta.opt(&format!("{q}error_message"))
            );
            // Java shows the default -1/-1 when the tagged field is absent.
            let leader = partition
                .current_leader
                .map_or((-1, -1), |l| (l.leader_id, l.leader_epoch));
            assert_eq!(
                leader,
                (
                    meta.int::<i32>(&format!("{q}current_leader_id")),
                    meta.int::<i32>(&format!("{q}current_leader_epoch"))
                ),
                "{}",
                frame.name
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// SaslHandshake and SaslAuthenticate
// ---------------------------------------------------------------------------------------

#[test]
fn sasl_handshake_requests_re_encode_byte_for_byte() {
    let mut seen = 0;
    for run in sasl_runs() {
        for frame in run.frames_of(ApiKey::SaslHandshake, true) {
            seen += 1;
            assert_eq!(frame.version(), 1, "{}", frame.name);
            assert!(tokens_in_sasl_authenticate(frame.version()));
            let request: SaslHandshakeRequest = check_request(&frame);
            assert_eq!(
                request.mechanism,
                frame.meta.str("mechanism"),
                "{}",
                frame.name
            );
            assert_eq!(
                request,
                SaslHandshakeRequest::new(run.expected.str("sasl_mechanism")),
                "{}",
                frame.name
            );
        }
    }
    assert_eq!(seen, 2 * SASL_RUNS.len(), "one handshake per connection");
}

#[test]
fn sasl_handshake_responses_list_the_enabled_mechanisms() {
    let mut seen = 0;
    for run in sasl_runs() {
        for frame in run.frames_of(ApiKey::SaslHandshake, false) {
            seen += 1;
            let response: SaslHandshakeResponse = check_response::<SaslHandshakeRequest>(&frame);
            let meta = &frame.meta;
            assert_eq!(response.error_code, meta.int::<i16>("error_code"));
            assert_eq!(response.error_code, 0, "{}", frame.name);
            assert_eq!(response.mechanisms.join(","), meta.str("mechanisms"));
            assert_eq!(
                response.mechanisms.join(","),
                run.expected.str("sasl_enabled_mechanisms"),
                "{}",
                frame.name
            );
            assert!(response.offers(run.expected.str("sasl_mechanism")));
        }
    }
    assert_eq!(seen, 2 * SASL_RUNS.len());
}

#[test]
fn sasl_authenticate_requests_re_encode_byte_for_byte() {
    let mut seen = 0;
    for run in sasl_runs() {
        for frame in run.frames_of(ApiKey::SaslAuthenticate, true) {
            seen += 1;
            assert_eq!(frame.version(), 2, "{}", frame.name);
            let request: SaslAuthenticateRequest = check_request(&frame);
            assert_eq!(
                hex(&request.auth_bytes),
                frame.meta.str("auth_bytes"),
                "{}",
                frame.name
            );
        }
    }
    // PLAIN: one round per connection; SCRAM: two.
    assert_eq!(seen, 2 + 4);
}

#[test]
fn sasl_authenticate_responses_match_the_java_client() {
    let mut seen = 0;
    for run in sasl_runs() {
        for frame in run.frames_of(ApiKey::SaslAuthenticate, false) {
            seen += 1;
            let response: SaslAuthenticateResponse =
                check_response::<SaslAuthenticateRequest>(&frame);
            let meta = &frame.meta;
            assert_eq!(response.error_code, meta.int::<i16>("error_code"));
            assert_eq!(response.error_code, 0, "{}", frame.name);
            assert_eq!(response.error_message.as_deref(), meta.opt("error_message"));
            // A 4.1 broker answers success with an empty message, not null.
            assert_eq!(
                response.error_message.as_deref(),
                Some(""),
                "{}",
                frame.name
            );
            assert_eq!(hex(&response.auth_bytes), meta.str("auth_bytes"));
            assert_eq!(
                response.session_lifetime_ms,
                meta.int::<i64>("session_lifetime_ms"),
                "{}",
                frame.name
            );
        }
    }
    assert_eq!(seen, 2 + 4);
}

/// A SASL connection's frames up to the end of its authentication, checked for their order
/// (the authenticator's ApiVersions v0, SaslHandshake v1, then SaslAuthenticate v2 rounds,
/// then NetworkClient's own ApiVersions v4), with the rounds decoded.
fn sasl_rounds(
    run: &Run,
    conn: &str,
    frames: &[Frame],
) -> Vec<(SaslAuthenticateRequest, SaslAuthenticateResponse)> {
    let at = |i: usize| match frames.get(i) {
        Some(f) => (f.api_key(), f.version(), f.is_request()),
        None => panic!("{}/{conn}: only {} frames", run.name, frames.len()),
    };
    let expected_start = [
        (ApiKey::ApiVersions.code(), 0, true),
        (ApiKey::ApiVersions.code(), 0, false),
        (ApiKey::SaslHandshake.code(), 1, true),
        (ApiKey::SaslHandshake.code(), 1, false),
    ];
    for (i, expected) in expected_start.into_iter().enumerate() {
        assert_eq!(at(i), expected, "{}/{conn} frame {i}", run.name);
    }
    let mut rounds = Vec::new();
    let mut i = expected_start.len();
    while at(i).0 == ApiKey::SaslAuthenticate.code() {
        assert_eq!(at(i), (ApiKey::SaslAuthenticate.code(), 2, true));
        assert_eq!(at(i + 1), (ApiKey::SaslAuthenticate.code(), 2, false));
        let request: SaslAuthenticateRequest = check_request(&frames[i]);
        let response = check_response::<SaslAuthenticateRequest>(&frames[i + 1]);
        rounds.push((request, response));
        i += 2;
    }
    assert_eq!(
        at(i),
        (ApiKey::ApiVersions.code(), 4, true),
        "{}/{conn}: after authentication",
        run.name
    );
    rounds
}

fn sasl_run(name: &str) -> Run {
    match sasl_runs().into_iter().find(|r| r.name == name) {
        Some(run) => run,
        None => panic!("no run {name}"),
    }
}

#[test]
fn plain_sends_user_and_password_in_one_round() {
    let run = sasl_run("sasl-plain");
    let expected = &run.expected;
    assert_eq!(expected.str("sasl_mechanism"), "PLAIN");
    // RFC 4616: authzid (empty) NUL authcid NUL passwd.
    let token = format!(
        "\0{}\0{}",
        expected.str("sasl_username"),
        expected.str("sasl_password")
    );
    let connections = run.connections();
    assert_eq!(connections.len(), expected.int::<usize>("sasl_connections"));
    for (conn, frames) in &connections {
        let rounds = sasl_rounds(&run, conn, frames);
        let [(request, response)] = rounds.as_slice() else {
            panic!("{conn}: {} rounds, expected 1", rounds.len());
        };
        assert_eq!(&request.auth_bytes[..], token.as_bytes(), "{conn}");
        assert!(response.auth_bytes.is_empty(), "{conn}");
        assert_eq!(
            response.session_lifetime_ms,
            expected.int::<i64>("connections_max_reauth_ms"),
            "{conn}"
        );
    }
}

/// The text after `prefix` in `message`, which must start with it.
fn after<'a>(message: &'a str, prefix: &str) -> &'a str {
    match message.strip_prefix(prefix) {
        Some(rest) => rest,
        None => panic!("{message:?} does not start with {prefix:?}"),
    }
}

#[test]
fn scram_sha_256_takes_two_rounds_with_chained_nonces() {
    let run = sasl_run("sasl-scram-sha-256");
    let expected = &run.expected;
    assert_eq!(expected.str("sasl_mechanism"), "SCRAM-SHA-256");
    let connections = run.connections();
    assert_eq!(connections.len(), expected.int::<usize>("sasl_connections"));
    // extract.py recomputed every proof and server signature from the password.
    assert_eq!(
        expected.int::<usize>("scram_exchanges_verified"),
        connections.len()
    );
    let text = |bytes: &Bytes| match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(e) => panic!("SCRAM message is not UTF-8: {e}"),
    };
    for (conn, frames) in &connections {
        let rounds = sasl_rounds(&run, conn, frames);
        let [(first, challenge), (last, outcome)] = rounds.as_slice() else {
            panic!("{conn}: {} rounds, expected 2", rounds.len());
        };
        // RFC 5802: client-first (no channel binding, no authzid), server-first, client-final
        // (c=biws is "n,," in base64), server-final.
        let client_first = text(&first.auth_bytes);
        let client_nonce = after(
            &client_first,
            &format!("n,,n={},r=", expected.str("sasl_username")),
        );
        assert!(!client_nonce.is_empty() && !client_nonce.contains(','));
        let server_first = text(&challenge.auth_bytes);
        let nonce = after(&server_first, "r=")
            .split(',')
            .next()
            .unwrap_or_default();
        assert!(nonce.len() > client_nonce.len() && nonce.starts_with(client_nonce));
        let rest: Vec<&str> = server_first.split(',').skip(1).collect();
        assert_eq!(rest.len(), 2, "{server_first}");
        assert!(
            rest[0].starts_with("s=") && rest[0].len() > 2,
            "{server_first}"
        );
        assert_eq!(rest[1], "i=4096", "the broker's default iteration count");
        let client_final = text(&last.auth_bytes);
        let proof = after(&client_final, &format!("c=biws,r={nonce},p="));
        assert_eq!(proof.len(), 44, "a base64 SHA-256 proof: {client_final}");
        let server_final = text(&outcome.auth_bytes);
        assert_eq!(after(&server_final, "v=").len(), 44, "{server_final}");
        // Only the last answer ends the exchange, with the session lifetime.
        assert_eq!(challenge.session_lifetime_ms, 0, "{conn}");
        assert_eq!(
            outcome.session_lifetime_ms,
            expected.int::<i64>("connections_max_reauth_ms"),
            "{conn}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Record batches: as the client wrote them, and as the broker stored them
// ---------------------------------------------------------------------------------------

/// The one batch in `bytes`, decoded; checked against the run's expected records.
fn check_batch(run: &Run, what: &str, bytes: &Bytes, base_offset: i64, leader_epoch: i32) {
    let batches = match RecordBatch::decode_all(bytes.clone()) {
        Ok(b) => b,
        Err(e) => panic!("{}/{what}: decode: {e}", run.name),
    };
    let [batch] = batches.as_slice() else {
        panic!("{}/{what}: {} batches, expected 1", run.name, batches.len());
    };
    let ctx = format!("{}/{what}", run.name);
    let expected = &run.expected;
    assert_eq!(batch.compression, run.compression(), "{ctx}");
    assert_eq!(batch.base_offset, base_offset, "{ctx}");
    assert_eq!(batch.partition_leader_epoch, leader_epoch, "{ctx}");
    assert_eq!(
        batch.producer_id,
        expected.int::<i64>("producer_id"),
        "{ctx}"
    );
    assert_eq!(
        batch.producer_epoch,
        expected.int::<i16>("producer_epoch"),
        "{ctx}"
    );
    assert_eq!(
        batch.base_sequence,
        expected.int::<i32>("base_sequence"),
        "{ctx}"
    );
    assert_eq!(batch.timestamp_type, TimestampType::CreateTime, "{ctx}");
    assert!(!batch.is_transactional && !batch.is_control, "{ctx}");

    let count: usize = expected.int("record_count");
    assert_eq!(batch.records.len(), count, "{ctx}");
    assert_eq!(
        batch.last_offset_delta,
        i32::try_from(count).unwrap_or(0) - 1
    );
    let mut timestamps = Vec::new();
    for (i, record) in batch.records.iter().enumerate() {
        let r = format!("record.{i}.");
        let timestamp = expected.int::<i64>(&format!("{r}timestamp"));
        timestamps.push(timestamp);
        assert_eq!(record.timestamp(batch), timestamp, "{ctx} record {i}");
        assert_eq!(
            record.offset(batch),
            base_offset + i64::try_from(i).unwrap_or(-1),
            "{ctx} record {i}"
        );
        assert_eq!(
            record.key.as_deref(),
            expected.opt(&format!("{r}key")).map(str::as_bytes),
            "{ctx} record {i} key"
        );
        assert_eq!(
            record.value.as_deref(),
            expected.opt(&format!("{r}value")).map(str::as_bytes),
            "{ctx} record {i} value"
        );
        let header_count: usize = expected.int(&format!("{r}header_count"));
        let headers: Vec<RecordHeader> = (0..header_count)
            .map(|j| {
                RecordHeader::new(
                    expected.str(&format!("{r}header.{j}.key")),
                    expected
                        .opt(&format!("{r}header.{j}.value"))
                        .map(|v| Bytes::copy_from_slice(v.as_bytes())),
                )
            })
            .collect();
        assert_eq!(record.headers, headers, "{ctx} record {i} headers");
    }
    assert_eq!(Some(&batch.base_timestamp), timestamps.first(), "{ctx}");
    assert_eq!(Some(&batch.max_timestamp), timestamps.iter().max(), "{ctx}");
    if batch.base_sequence >= 0 {
        assert_eq!(
            batch.last_sequence(),
            batch.base_sequence + batch.last_offset_delta
        );
    }
}

#[test]
fn client_batches_decode_with_every_codec() {
    let mut codecs = Vec::new();
    for run in runs() {
        let bytes = read(&run.dir.join("client_batch.bin"));
        // A producer writes base offset 0 and no partition leader epoch.
        check_batch(&run, "client_batch.bin", &bytes, 0, -1);
        codecs.push(run.compression());
    }
    for codec in Compression::ALL {
        assert!(codecs.contains(&codec), "no golden batch for {codec:?}");
    }
}

#[test]
fn log_segments_hold_the_client_batch_with_the_broker_fields() {
    for run in runs() {
        let client = read(&run.dir.join("client_batch.bin"));
        let segment = read(&run.dir.join("log_segment.bin"));
        let metadata = run.frames_of(ApiKey::Metadata, false);
        let leader_epoch: i32 = metadata[0]
            .meta
            .int(&format!("topic.{}.partition.0.leader_epoch", run.topic()));
        let base_offset: i64 = run.expected.int("base_offset");
        check_batch(&run, "log_segment.bin", &segment, base_offset, leader_epoch);

        // The broker kept the client's bytes (compressed records and CRC included) and only
        // set the base offset and the partition leader epoch.
        let client_header = verify_batch(&client);
        let segment_header = verify_batch(&segment);
        let (Ok(client_header), Ok(segment_header)) = (client_header, segment_header) else {
            panic!("{}: verify_batch failed", run.name);
        };
        assert_eq!(client_header.crc, segment_header.crc, "{}", run.name);
        assert_eq!(client.len(), segment.len(), "{}", run.name);
        assert_eq!(
            &client[8..12],
            &segment[8..12],
            "{}: batch length",
            run.name
        );
        assert_eq!(
            &client[16..],
            &segment[16..],
            "{}: after the epoch",
            run.name
        );
        assert_eq!(
            &segment[..8],
            &base_offset.to_be_bytes()[..],
            "{}",
            run.name
        );
        assert_eq!(
            &segment[12..16],
            &leader_epoch.to_be_bytes()[..],
            "{}",
            run.name
        );
    }
}

/// Builds, with kiel's builder, the batch the Java client was asked to send.
fn rebuild(run: &Run, compression: Compression) -> Bytes {
    let expected = &run.expected;
    let mut builder = RecordBatchBuilder::new();
    for i in 0..expected.int::<usize>("record_count") {
        let r = format!("record.{i}.");
        let headers: Vec<(&str, Option<&[u8]>)> = (0..expected
            .int::<usize>(&format!("{r}header_count")))
            .map(|j| {
                (
                    expected.str(&format!("{r}header.{j}.key")),
                    expected
                        .opt(&format!("{r}header.{j}.value"))
                        .map(str::as_bytes),
                )
            })
            .collect();
        let appended = builder.append(
            expected.int(&format!("{r}timestamp")),
            expected.opt(&format!("{r}key")).map(str::as_bytes),
            expected.opt(&format!("{r}value")).map(str::as_bytes),
            &headers,
        );
        if let Err(e) = appended {
            panic!("{}: append {i}: {e}", run.name);
        }
    }
    let options = BatchOptions {
        compression,
        producer_id: expected.int("producer_id"),
        producer_epoch: expected.int("producer_epoch"),
        base_sequence: expected.int("base_sequence"),
        ..BatchOptions::default()
    };
    match builder.finish(&options) {
        Ok(bytes) => bytes,
        Err(e) => panic!("{}: finish: {e}", run.name),
    }
}

#[test]
fn uncompressed_batches_rebuild_byte_for_byte() {
    let mut rebuilt = 0;
    for run in runs() {
        if run.compression() != Compression::None {
            continue;
        }
        rebuilt += 1;
        let client = read(&run.dir.join("client_batch.bin"));
        let ours = rebuild(&run, Compression::None);
        assert_eq!(
            hex(&ours),
            hex(&client),
            "{}: rebuilt batch differs",
            run.name
        );
    }
    assert_eq!(rebuilt, 5);
}

#[test]
fn compressed_batches_hold_the_same_records_as_ours() {
    for run in runs() {
        let codec = run.compression();
        if codec == Compression::None {
            continue;
        }
        // The records section, once decompressed, is byte for byte what kiel writes
        // uncompressed: only the compressor differs.
        let client = read(&run.dir.join("client_batch.bin"));
        let mut section = Vec::new();
        if let Err(e) = decompress(
            codec,
            &client[RECORD_BATCH_OVERHEAD..],
            &mut section,
            1 << 20,
        ) {
            panic!("{}: decompress: {e}", run.name);
        }
        let plain = rebuild(&run, Compression::None);
        assert_eq!(
            hex(&section),
            hex(&plain[RECORD_BATCH_OVERHEAD..]),
            "{}: records section",
            run.name
        );
        // The header fields outside the CRC'd records agree too (attributes aside).
        assert_eq!(
            &client[23..57],
            &plain[23..57],
            "{}: header fields",
            run.name
        );

        // kiel's own compressed batch decodes to the same records as Java's.
        let ours = rebuild(&run, codec);
        let theirs = RecordBatch::decode_all(client.clone());
        let mine = RecordBatch::decode_all(ours);
        match (theirs, mine) {
            (Ok(theirs), Ok(mine)) => assert_eq!(theirs, mine, "{}", run.name),
            (theirs, mine) => panic!("{}: {theirs:?} / {mine:?}", run.name),
        }
    }
}

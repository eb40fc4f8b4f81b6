//! Writes the seed corpus: real inputs for every fuzz target into `fuzz/corpus/<target>/`.
//!
//! Seeds come from two places: the Kafka 4.1.1 captures in `protocol/tests/golden/` (frames,
//! client batches, log segments, and the compressed records sections cut out of them), and
//! encodings made here with kiel-protocol for every version of every message and every
//! codec. Each seed file is named after what it holds; existing files of the same name are
//! overwritten, other files are left alone.
//!
//! Run from `fuzz/`: `cargo run --example seed_corpus`.
//!
//! # References
//! - `protocol/tests/golden/README.md`: what each capture holds

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use bytes::{BufMut, Bytes, BytesMut};
use kiel_fuzz::{version_selector, TARGETS};
use kiel_protocol::compression::{compress, Compression};
use kiel_protocol::frame::encode_request;
use kiel_protocol::header::ResponseHeader;
use kiel_protocol::messages::add_offsets_to_txn::{
    AddOffsetsToTxnRequest, AddOffsetsToTxnResponse,
};
use kiel_protocol::messages::add_partitions_to_txn::{
    AddPartitionsToTxnPartitionResult, AddPartitionsToTxnRequest, AddPartitionsToTxnResponse,
    AddPartitionsToTxnTopic, AddPartitionsToTxnTopicResult,
};
use kiel_protocol::messages::api_versions::{ApiVersion, ApiVersionsRequest, ApiVersionsResponse};
use kiel_protocol::messages::end_txn::{EndTxnRequest, EndTxnResponse};
use kiel_protocol::messages::find_coordinator::{
    key_type, Coordinator, FindCoordinatorRequest, FindCoordinatorResponse,
};
use kiel_protocol::messages::init_producer_id::{InitProducerIdRequest, InitProducerIdResponse};
use kiel_protocol::messages::metadata::{
    MetadataBroker, MetadataPartition, MetadataRequest, MetadataResponse, MetadataTopic,
};
use kiel_protocol::messages::produce::{
    LeaderIdAndEpoch, NodeEndpoint, PartitionProduceData, PartitionProduceResponse, ProduceRequest,
    ProduceResponse, TopicProduceData, TopicProduceResponse,
};
use kiel_protocol::messages::sasl_authenticate::{
    SaslAuthenticateRequest, SaslAuthenticateResponse,
};
use kiel_protocol::messages::sasl_handshake::{SaslHandshakeRequest, SaslHandshakeResponse};
use kiel_protocol::messages::txn_offset_commit::{
    TxnOffsetCommitPartition, TxnOffsetCommitPartitionResult, TxnOffsetCommitRequest,
    TxnOffsetCommitResponse, TxnOffsetCommitTopic, TxnOffsetCommitTopicResult,
};
use kiel_protocol::record::{BatchOptions, RecordBatchBuilder, RECORD_BATCH_OVERHEAD};
use kiel_protocol::{Encode, Request};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Collects seeds per target, skipping duplicate contents.
struct Corpus {
    root: PathBuf,
    seen: BTreeSet<(String, Vec<u8>)>,
    written: usize,
}

impl Corpus {
    fn add(&mut self, target: &str, name: &str, data: &[u8]) -> Result<()> {
        if !TARGETS.iter().any(|(t, _)| *t == target) {
            return Err(format!("unknown target {target}").into());
        }
        if !self.seen.insert((target.to_owned(), data.to_vec())) {
            return Ok(());
        }
        let dir = self.root.join(target);
        fs::create_dir_all(&dir)?;
        fs::write(dir.join(format!("seed-{name}")), data)?;
        self.written += 1;
        Ok(())
    }
}

fn with_selector(selector: u8, frame: &[u8]) -> Vec<u8> {
    let mut data = vec![selector];
    data.extend_from_slice(frame);
    data
}

/// A response frame (header and body, no size prefix) in `version`.
fn response_frame<R: Request>(response: &R::Response, version: i16) -> Option<Vec<u8>>
where
    R::Response: Encode,
{
    let mut buf = BytesMut::new();
    let header = ResponseHeader {
        correlation_id: 1000 + i32::from(version),
        tagged_fields: Vec::new(),
    };
    header
        .encode(&mut buf, R::response_header_version(version))
        .ok()?;
    response.encode(&mut buf, version).ok()?;
    Some(buf.to_vec())
}

/// Seeds for a response target: `candidates` tried in order for each version.
fn response_seeds<R: Request>(
    corpus: &mut Corpus,
    target: &str,
    candidates: &[R::Response],
) -> Result<()>
where
    R::Response: Encode,
{
    for version in R::VERSIONS.iter() {
        for (i, candidate) in candidates.iter().enumerate() {
            if let Some(frame) = response_frame::<R>(candidate, version) {
                let data = with_selector(version_selector(R::VERSIONS, version), &frame);
                corpus.add(target, &format!("gen-v{version}-{i}"), &data)?;
            }
        }
    }
    Ok(())
}

/// A request frame without its size prefix.
fn request_frame<R: Request>(request: &R, version: i16) -> Option<Vec<u8>> {
    let mut buf = BytesMut::new();
    encode_request(request, version, 77, Some("kiel-seed"), &mut buf).ok()?;
    Some(buf[4..].to_vec())
}

fn request_seeds<R: Request>(corpus: &mut Corpus, requests: &[R]) -> Result<()> {
    for version in R::VERSIONS.iter() {
        for (i, request) in requests.iter().enumerate() {
            if let Some(frame) = request_frame(request, version) {
                let name = format!("gen-{}-v{version}-{i}", R::API_KEY.name());
                corpus.add("decode_requests", &name, &frame)?;
            }
        }
    }
    Ok(())
}

/// A small batch: a few records with keys, nulls and headers.
fn small_batch(codec: Compression, idempotent: bool, records: usize) -> Result<Bytes> {
    let mut builder = RecordBatchBuilder::new();
    for i in 0..records {
        let key = format!("key-{i}");
        let value = format!("value {i}: {}", "compressible kafka payload ".repeat(i % 5));
        let header_value = format!("h{i}");
        let headers: &[(&str, Option<&[u8]>)] = &[("trace", Some(header_value.as_bytes()))];
        let key = (i % 3 != 2).then_some(key.as_bytes());
        let value = (i % 4 != 3).then_some(value.as_bytes());
        builder.append(1_700_000_000_000 + i as i64 * 7, key, value, headers)?;
    }
    let options = BatchOptions {
        compression: codec,
        producer_id: if idempotent { 4242 } else { -1 },
        producer_epoch: if idempotent { 3 } else { -1 },
        base_sequence: if idempotent { 17 } else { -1 },
        ..BatchOptions::default()
    };
    Ok(builder.finish(&options)?)
}

fn golden_files(golden: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut files = Vec::new();
    for run in fs::read_dir(golden)? {
        let run = run?.path();
        if !run.is_dir() || run.ends_with("capture") {
            continue;
        }
        let run_name = run
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        for file in fs::read_dir(&run)? {
            let file = file?.path();
            if file.extension().is_some_and(|e| e == "bin") {
                files.push((run_name.clone(), file));
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The version in a golden frame's file name (`...-v13-response.bin`).
fn golden_version(stem: &str) -> Option<i16> {
    let rest = stem.rsplit_once("-v")?.1;
    rest.split('-').next()?.parse().ok()
}

fn golden_seeds(corpus: &mut Corpus, golden: &Path) -> Result<Vec<Vec<u8>>> {
    let mut frames = Vec::new();
    for (run, path) in golden_files(golden)? {
        let data = fs::read(&path)?;
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let name = format!("golden-{run}-{stem}");
        if stem == "client_batch" || stem == "log_segment" {
            corpus.add("decode_record_batch", &name, &data)?;
            let codec = match run.rsplit('-').next() {
                Some("gzip") => Some("decompress_gzip"),
                Some("snappy") => Some("decompress_snappy"),
                Some("lz4") => Some("decompress_lz4"),
                Some("zstd") => Some("decompress_zstd"),
                _ => None,
            };
            if let (Some(target), Some(section)) = (codec, data.get(RECORD_BATCH_OVERHEAD..)) {
                corpus.add(target, &format!("golden-{run}-records"), section)?;
            }
            continue;
        }
        frames.push(data.clone());
        let version = golden_version(stem).ok_or(format!("no version in {stem}"))?;
        if stem.ends_with("request") {
            corpus.add("decode_requests", &name, &data)?;
            continue;
        }
        let (target, range) = if stem.contains("api_versions") {
            ("decode_api_versions_response", ApiVersionsRequest::VERSIONS)
        } else if stem.contains("metadata") {
            ("decode_metadata_response", MetadataRequest::VERSIONS)
        } else if stem.contains("find_coordinator") {
            (
                "decode_find_coordinator_response",
                FindCoordinatorRequest::VERSIONS,
            )
        } else if stem.contains("add_partitions_to_txn") {
            (
                "decode_add_partitions_to_txn_response",
                AddPartitionsToTxnRequest::VERSIONS,
            )
        } else if stem.contains("add_offsets_to_txn") {
            (
                "decode_add_offsets_to_txn_response",
                AddOffsetsToTxnRequest::VERSIONS,
            )
        } else if stem.contains("end_txn") {
            ("decode_end_txn_response", EndTxnRequest::VERSIONS)
        } else if stem.contains("txn_offset_commit") {
            (
                "decode_txn_offset_commit_response",
                TxnOffsetCommitRequest::VERSIONS,
            )
        } else if stem.contains("init_producer_id") {
            (
                "decode_init_producer_id_response",
                InitProducerIdRequest::VERSIONS,
            )
        } else if stem.contains("produce") {
            ("decode_produce_response", ProduceRequest::VERSIONS)
        } else if stem.contains("sasl_handshake") {
            (
                "decode_sasl_handshake_response",
                SaslHandshakeRequest::VERSIONS,
            )
        } else if stem.contains("sasl_authenticate") {
            (
                "decode_sasl_authenticate_response",
                SaslAuthenticateRequest::VERSIONS,
            )
        } else {
            return Err(format!("unknown golden frame {stem}").into());
        };
        let data = with_selector(version_selector(range, version), &data);
        corpus.add(target, &name, &data)?;
    }
    Ok(frames)
}

fn api_versions_seeds(corpus: &mut Corpus) -> Result<()> {
    let full = ApiVersionsResponse {
        api_keys: vec![
            ApiVersion {
                api_key: 0,
                min_version: 3,
                max_version: 12,
            },
            ApiVersion {
                api_key: 18,
                min_version: 0,
                max_version: 4,
            },
        ],
        throttle_time_ms: 5,
        finalized_features_epoch: 9,
        zk_migration_ready: true,
        ..ApiVersionsResponse::default()
    };
    let unsupported = ApiVersionsResponse {
        error_code: 35,
        api_keys: full.api_keys[1..].to_vec(),
        ..ApiVersionsResponse::default()
    };
    response_seeds::<ApiVersionsRequest>(
        corpus,
        "decode_api_versions_response",
        &[full, unsupported.clone()],
    )?;
    // A v0 error-35 body read as a v3 response: the fallback path.
    let mut body = BytesMut::new();
    body.put_i32(5);
    unsupported.encode(&mut body, 0)?;
    let data = with_selector(version_selector(ApiVersionsRequest::VERSIONS, 3), &body[..]);
    corpus.add(
        "decode_api_versions_response",
        "gen-fallback-v3-to-v0",
        &data,
    )
}

fn metadata_seeds(corpus: &mut Corpus) -> Result<()> {
    let partition = MetadataPartition {
        partition_index: 1,
        leader_id: 2,
        replica_nodes: vec![2, 3],
        isr_nodes: vec![2],
        ..MetadataPartition::default()
    };
    let portable = MetadataResponse {
        brokers: vec![MetadataBroker {
            node_id: 2,
            host: "broker-2".to_owned(),
            port: 9092,
            rack: None,
        }],
        topics: vec![MetadataTopic {
            name: Some("orders".to_owned()),
            partitions: vec![partition.clone()],
            ..MetadataTopic::default()
        }],
        ..MetadataResponse::default()
    };
    let mut rich = portable.clone();
    rich.throttle_time_ms = 3;
    rich.cluster_id = Some("cluster".to_owned());
    rich.controller_id = 2;
    rich.brokers[0].rack = Some("rack-a".to_owned());
    rich.topics[0].is_internal = true;
    rich.topics[0].topic_id = [7; 16];
    rich.topics[0].partitions[0].leader_epoch = 11;
    rich.topics[0].partitions[0].offline_replicas = vec![3];
    rich.topics[0].topic_authorized_operations = 0x0ff8;
    let mut errored = rich.clone();
    errored.error_code = 129;
    response_seeds::<MetadataRequest>(
        corpus,
        "decode_metadata_response",
        &[rich, portable, errored],
    )
}

fn produce_response_seeds(corpus: &mut Corpus) -> Result<()> {
    let partition = PartitionProduceResponse {
        index: 0,
        base_offset: 1234,
        log_start_offset: 0,
        ..PartitionProduceResponse::default()
    };
    let plain = ProduceResponse {
        topics: vec![TopicProduceResponse {
            name: "orders".to_owned(),
            partitions: vec![partition.clone()],
        }],
        throttle_time_ms: 1,
        node_endpoints: Vec::new(),
    };
    let mut moved = plain.clone();
    moved.topics[0].partitions[0].error_code = 6;
    moved.topics[0].partitions[0].error_message = Some("not leader".to_owned());
    moved.topics[0].partitions[0].current_leader = Some(LeaderIdAndEpoch {
        leader_id: 3,
        leader_epoch: 8,
    });
    moved.node_endpoints = vec![NodeEndpoint {
        node_id: 3,
        host: "broker-3".to_owned(),
        port: 9093,
        rack: Some("rack-b".to_owned()),
    }];
    response_seeds::<ProduceRequest>(corpus, "decode_produce_response", &[moved, plain])
}

fn init_producer_id_seeds(corpus: &mut Corpus) -> Result<()> {
    let ok = InitProducerIdResponse {
        producer_id: 1000,
        producer_epoch: 0,
        ..InitProducerIdResponse::default()
    };
    let loading = InitProducerIdResponse {
        error_code: 14,
        producer_epoch: -1,
        ..InitProducerIdResponse::default()
    };
    response_seeds::<InitProducerIdRequest>(
        corpus,
        "decode_init_producer_id_response",
        &[ok, loading],
    )
}

fn transaction_seeds(corpus: &mut Corpus) -> Result<()> {
    let found = FindCoordinatorResponse {
        node_id: 1,
        host: "127.0.0.1".to_owned(),
        port: 9092,
        ..FindCoordinatorResponse::default()
    };
    let batched = FindCoordinatorResponse {
        coordinators: vec![
            Coordinator {
                key: "tx-1".to_owned(),
                node_id: 1,
                host: "127.0.0.1".to_owned(),
                port: 9092,
                error_code: 0,
                error_message: None,
            },
            Coordinator {
                key: "tx-2".to_owned(),
                node_id: -1,
                host: String::new(),
                port: -1,
                error_code: 15,
                error_message: Some("The coordinator is not available.".to_owned()),
            },
        ],
        ..FindCoordinatorResponse::default()
    };
    response_seeds::<FindCoordinatorRequest>(
        corpus,
        "decode_find_coordinator_response",
        &[batched, found],
    )?;
    let added = AddPartitionsToTxnResponse {
        results_by_topic: vec![AddPartitionsToTxnTopicResult {
            name: "orders".to_owned(),
            results_by_partition: vec![AddPartitionsToTxnPartitionResult {
                partition_index: 0,
                partition_error_code: 0,
            }],
        }],
        ..AddPartitionsToTxnResponse::default()
    };
    response_seeds::<AddPartitionsToTxnRequest>(
        corpus,
        "decode_add_partitions_to_txn_response",
        &[added, AddPartitionsToTxnResponse::default()],
    )?;
    let concurrent = AddOffsetsToTxnResponse {
        throttle_time_ms: 0,
        error_code: 51,
    };
    response_seeds::<AddOffsetsToTxnRequest>(
        corpus,
        "decode_add_offsets_to_txn_response",
        &[AddOffsetsToTxnResponse::default(), concurrent],
    )?;
    let bumped = EndTxnResponse {
        producer_id: 1000,
        producer_epoch: 3,
        ..EndTxnResponse::default()
    };
    response_seeds::<EndTxnRequest>(
        corpus,
        "decode_end_txn_response",
        &[bumped, EndTxnResponse::default()],
    )?;
    let committed = TxnOffsetCommitResponse {
        throttle_time_ms: 0,
        topics: vec![TxnOffsetCommitTopicResult {
            name: "orders".to_owned(),
            partitions: vec![TxnOffsetCommitPartitionResult {
                partition_index: 0,
                error_code: 0,
            }],
        }],
    };
    response_seeds::<TxnOffsetCommitRequest>(
        corpus,
        "decode_txn_offset_commit_response",
        &[committed, TxnOffsetCommitResponse::default()],
    )?;
    request_seeds(
        corpus,
        &[
            FindCoordinatorRequest::for_keys(key_type::TRANSACTION, &["tx-1"], 0),
            FindCoordinatorRequest::for_keys(key_type::TRANSACTION, &["tx-1", "tx-2"], 4),
        ],
    )?;
    request_seeds(
        corpus,
        &[AddPartitionsToTxnRequest {
            transactional_id: "tx-1".to_owned(),
            producer_id: 1000,
            producer_epoch: 0,
            topics: vec![AddPartitionsToTxnTopic {
                name: "orders".to_owned(),
                partitions: vec![0, 1],
            }],
            transactions: Vec::new(),
        }],
    )?;
    request_seeds(
        corpus,
        &[AddOffsetsToTxnRequest {
            transactional_id: "tx-1".to_owned(),
            producer_id: 1000,
            producer_epoch: 0,
            group_id: "readers".to_owned(),
        }],
    )?;
    request_seeds(
        corpus,
        &[EndTxnRequest {
            transactional_id: "tx-1".to_owned(),
            producer_id: 1000,
            producer_epoch: 0,
            committed: true,
        }],
    )?;
    request_seeds(
        corpus,
        &[TxnOffsetCommitRequest {
            transactional_id: "tx-1".to_owned(),
            group_id: "readers".to_owned(),
            producer_id: 1000,
            producer_epoch: 0,
            topics: vec![TxnOffsetCommitTopic {
                name: "orders".to_owned(),
                partitions: vec![TxnOffsetCommitPartition {
                    partition_index: 0,
                    committed_offset: 42,
                    committed_leader_epoch: -1,
                    committed_metadata: Some(String::new()),
                }],
            }],
            ..TxnOffsetCommitRequest::default()
        }],
    )
}

fn sasl_seeds(corpus: &mut Corpus) -> Result<()> {
    let ok = SaslHandshakeResponse {
        error_code: 0,
        mechanisms: vec!["PLAIN".to_owned(), "SCRAM-SHA-256".to_owned()],
    };
    let unsupported = SaslHandshakeResponse {
        error_code: 33,
        mechanisms: vec!["GSSAPI".to_owned()],
    };
    response_seeds::<SaslHandshakeRequest>(
        corpus,
        "decode_sasl_handshake_response",
        &[ok, unsupported],
    )?;
    let challenge = SaslAuthenticateResponse {
        error_code: 0,
        error_message: None,
        auth_bytes: Bytes::from_static(b"r=abcdefgh12345678,s=c2FsdA==,i=4096"),
        session_lifetime_ms: 0,
    };
    let done = SaslAuthenticateResponse {
        error_message: Some(String::new()),
        auth_bytes: Bytes::new(),
        session_lifetime_ms: 3_600_000,
        ..challenge.clone()
    };
    let failed = SaslAuthenticateResponse {
        error_code: 58,
        error_message: Some("Authentication failed: Invalid username or password".to_owned()),
        auth_bytes: Bytes::new(),
        session_lifetime_ms: 0,
    };
    response_seeds::<SaslAuthenticateRequest>(
        corpus,
        "decode_sasl_authenticate_response",
        &[challenge, done, failed],
    )
}

fn request_seeds_all(corpus: &mut Corpus) -> Result<()> {
    request_seeds(
        corpus,
        &[
            ApiVersionsRequest::new("kiel", "0.1.0"),
            ApiVersionsRequest::default(),
        ],
    )?;
    request_seeds(
        corpus,
        &[
            MetadataRequest::for_topics(["orders", "events"]),
            MetadataRequest::all_topics(),
        ],
    )?;
    let transactional = InitProducerIdRequest {
        transactional_id: Some("tx-1".to_owned()),
        transaction_timeout_ms: 60_000,
        ..InitProducerIdRequest::idempotent()
    };
    request_seeds(
        corpus,
        &[InitProducerIdRequest::idempotent(), transactional],
    )?;
    request_seeds(
        corpus,
        &[
            SaslHandshakeRequest::new("PLAIN"),
            SaslHandshakeRequest::new("SCRAM-SHA-512"),
        ],
    )?;
    request_seeds(
        corpus,
        &[
            SaslAuthenticateRequest::new(&b"\0user\0throwaway"[..]),
            SaslAuthenticateRequest::default(),
        ],
    )?;
    let mut produce = Vec::new();
    for codec in [Compression::None, Compression::Zstd] {
        produce.push(ProduceRequest {
            transactional_id: None,
            acks: -1,
            timeout_ms: 30_000,
            topics: vec![TopicProduceData {
                name: "orders".to_owned(),
                partitions: vec![
                    PartitionProduceData {
                        index: 0,
                        records: Some(small_batch(codec, true, 3)?),
                    },
                    PartitionProduceData {
                        index: 1,
                        records: None,
                    },
                ],
            }],
        });
    }
    request_seeds(corpus, &produce)
}

fn batch_and_codec_seeds(corpus: &mut Corpus) -> Result<()> {
    for codec in Compression::ALL {
        let one = small_batch(codec, true, 6)?;
        corpus.add("decode_record_batch", &format!("gen-{codec}-batch"), &one)?;
        let mut two = one.to_vec();
        two.extend_from_slice(&small_batch(codec, false, 2)?);
        corpus.add(
            "decode_record_batch",
            &format!("gen-{codec}-two-batches"),
            &two,
        )?;

        let target = match codec {
            Compression::Gzip => "decompress_gzip",
            Compression::Snappy => "decompress_snappy",
            Compression::Lz4 => "decompress_lz4",
            Compression::Zstd => "decompress_zstd",
            _ => continue,
        };
        let text = "compressible kafka payload ".repeat(40);
        let inputs: [(&str, Vec<u8>); 4] = [
            ("empty", Vec::new()),
            ("text", text.into_bytes()),
            (
                "records",
                one.get(RECORD_BATCH_OVERHEAD..)
                    .unwrap_or_default()
                    .to_vec(),
            ),
            // 100 KiB of zeros: above the targets' 64 KiB output limit.
            ("zeros-100k", vec![0; 100 * 1024]),
        ];
        for (name, input) in inputs {
            let mut out = Vec::new();
            compress(codec, None, &input, &mut out)?;
            corpus.add(target, &format!("gen-{name}"), &out)?;
        }
    }
    Ok(())
}

fn frame_reader_seeds(corpus: &mut Corpus, frames: &[Vec<u8>]) -> Result<()> {
    let mut stream = Vec::new();
    for frame in frames.iter().take(6) {
        stream.extend_from_slice(&(frame.len() as i32).to_be_bytes());
        stream.extend_from_slice(frame);
    }
    for (limit, seed) in [(255u8, 0u8), (255, 7), (64, 3)] {
        let mut data = vec![limit, seed];
        data.extend_from_slice(&stream);
        corpus.add(
            "frame_reader",
            &format!("golden-stream-{limit}-{seed}"),
            &data,
        )?;
    }
    let small: &[u8] = &[255, 1, 0, 0, 0, 2, 0xaa, 0xbb, 0, 0, 0, 0, 0, 0, 0, 1];
    corpus.add("frame_reader", "gen-small-frames", small)?;
    let negative: &[u8] = &[255, 2, 0, 0, 0, 1, 9, 0xff, 0xff, 0xff, 0xfe];
    corpus.add("frame_reader", "gen-negative-size", negative)?;
    let oversize: &[u8] = &[1, 3, 0, 0, 0, 1, 9, 0, 0, 0, 5, 1, 2, 3, 4, 5];
    corpus.add("frame_reader", "gen-oversize", oversize)
}

fn round_trip_seeds(corpus: &mut Corpus) -> Result<()> {
    for (codec, id) in Compression::ALL.iter().zip(0u8..) {
        // codec, level selector, flags (idempotent, transactional), producer id (8),
        // epoch, sequence, Produce version selector, first timestamp (8), capacity.
        let mut data = vec![id, 3, 3, 0, 0, 0, 0, 0, 0, 0x10, 0x01, 5, 2, 9];
        data.extend_from_slice(&1_700_000_000_000i64.to_be_bytes());
        data.push(4);
        for i in 0..8u8 {
            // timestamp step, key, value, headers
            data.extend_from_slice(&[i, 5, b'k', b'e', b'y', b'-', b'0' + i]);
            data.extend_from_slice(&[20]);
            data.extend_from_slice(b"compressible payload");
            data.extend_from_slice(&[1, 5]);
            data.extend_from_slice(b"trace");
            data.extend_from_slice(&[if i % 2 == 0 { 255 } else { 1 }, b'x'][..]);
        }
        corpus.add("round_trip", &format!("gen-{codec}"), &data)?;
    }
    Ok(())
}

fn main() -> Result<()> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut corpus = Corpus {
        root: fuzz.join("corpus"),
        seen: BTreeSet::new(),
        written: 0,
    };
    let frames = golden_seeds(&mut corpus, &fuzz.join("../protocol/tests/golden"))?;
    api_versions_seeds(&mut corpus)?;
    metadata_seeds(&mut corpus)?;
    produce_response_seeds(&mut corpus)?;
    init_producer_id_seeds(&mut corpus)?;
    sasl_seeds(&mut corpus)?;
    transaction_seeds(&mut corpus)?;
    request_seeds_all(&mut corpus)?;
    batch_and_codec_seeds(&mut corpus)?;
    frame_reader_seeds(&mut corpus, &frames)?;
    round_trip_seeds(&mut corpus)?;
    for (target, _) in TARGETS {
        let count = corpus.seen.iter().filter(|(t, _)| t == target).count();
        println!("{target}: {count} seeds");
    }
    println!("wrote {} seed files", corpus.written);
    Ok(())
}

//! `null-broker`: a Kafka endpoint that acknowledges every Produce request at once and keeps
//! nothing, so a producer benchmark measures the client alone, without a JVM broker sharing
//! the CPU. **Not a correctness test**: it checks no sequence number, CRC or record; it only
//! counts records (from each batch's header) to hand out offsets.
//!
//! It answers ApiVersions (kiel-protocol's versions), Metadata (itself as node 0, leading
//! every partition of every topic asked for, `--partitions` each), InitProducerId (a fresh
//! producer id per request) and Produce (error none, offsets counted per partition);
//! anything else closes the connection. One thread, one tokio task per connection.
//!
//! ```sh
//! cargo run --release --manifest-path benches/null-broker/Cargo.toml -- --listen 127.0.0.1:19092 --partitions 16
//! ```
//!
//! It prints `listening on HOST:PORT` once ready, and, when the process is stopped with
//! SIGINT or its stdin closes, nothing more (it keeps no state worth reporting).
//!
//! # References
//! - Kafka protocol guide (request/response headers, API versions)
//! - RecordBatch v2 layout: `lastOffsetDelta` at byte 23 of a batch

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::{BufMut, Bytes, BytesMut};
use kiel_protocol::frame::FrameReader;
use kiel_protocol::header::{RequestHeader, ResponseHeader};
use kiel_protocol::messages::api_versions::{ApiVersion, ApiVersionsRequest, ApiVersionsResponse};
use kiel_protocol::messages::init_producer_id::{InitProducerIdRequest, InitProducerIdResponse};
use kiel_protocol::messages::metadata::{
    MetadataBroker, MetadataPartition, MetadataRequest, MetadataResponse, MetadataTopic,
};
use kiel_protocol::messages::produce::{
    PartitionProduceResponse, ProduceRequest, ProduceResponse, TopicProduceResponse,
};
use kiel_protocol::{ApiKey, Decode, Encode, Request};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Where a batch's `lastOffsetDelta` starts: base offset (8), length (4), leader epoch (4),
/// magic (1), CRC (4), attributes (2).
const LAST_OFFSET_DELTA_AT: usize = 23;

/// What every connection shares: the partition count and the next offset per partition.
struct Broker {
    partitions: i32,
    address: SocketAddr,
    offsets: Mutex<HashMap<(String, i32), i64>>,
    next_producer_id: AtomicI64,
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

fn main() -> Result<(), Failure> {
    let mut listen = "127.0.0.1:0".to_owned();
    let mut partitions = 16;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => listen = args.next().ok_or("--listen needs HOST:PORT")?,
            "--partitions" => {
                partitions = args
                    .next()
                    .ok_or("--partitions needs a number")?
                    .parse()
                    .map_err(|e| format!("--partitions: {e}"))?;
            }
            other => {
                return Err(format!(
                    "unknown argument {other}; usage: null-broker [--listen HOST:PORT] [--partitions N]"
                )
                .into())
            }
        }
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(serve(&listen, partitions))
}

async fn serve(listen: &str, partitions: i32) -> Result<(), Failure> {
    let listener = TcpListener::bind(listen).await?;
    let address = listener.local_addr()?;
    println!("listening on {address}");
    let broker = Arc::new(Broker {
        partitions,
        address,
        offsets: Mutex::new(HashMap::new()),
        next_producer_id: AtomicI64::new(1000),
    });
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        let broker = Arc::clone(&broker);
        tokio::spawn(async move {
            if let Err(e) = connection(stream, &broker).await {
                eprintln!("connection closed: {e}");
            }
        });
    }
}

async fn connection(mut stream: TcpStream, broker: &Broker) -> Result<(), Failure> {
    let reader = FrameReader::new(256 * 1024 * 1024);
    let mut input = BytesMut::with_capacity(1 << 20);
    let mut output = BytesMut::with_capacity(1 << 16);
    loop {
        while let Some(frame) = reader.next_frame(&mut input)? {
            answer(frame, broker, &mut output)?;
        }
        if !output.is_empty() {
            stream.write_all(&output).await?;
            output.clear();
        }
        if stream.read_buf(&mut input).await? == 0 {
            return Ok(());
        }
    }
}

/// The request and response header versions of `R` at `version`.
fn header_versions<R: Request>(version: i16) -> (i16, i16) {
    (
        R::request_header_version(version),
        R::response_header_version(version),
    )
}

/// Decodes one request frame and writes its answer (size-prefixed) to `out`.
fn answer(mut frame: Bytes, broker: &Broker, out: &mut BytesMut) -> Result<(), Failure> {
    if frame.len() < 4 {
        return Err("a frame too short for a header".into());
    }
    let api_key = i16::from_be_bytes([frame[0], frame[1]]);
    let version = i16::from_be_bytes([frame[2], frame[3]]);
    let key = ApiKey::from_code(api_key).ok_or_else(|| format!("API key {api_key}"))?;
    let (request_header, response_header) = match key {
        ApiKey::ApiVersions => header_versions::<ApiVersionsRequest>(version),
        ApiKey::Metadata => header_versions::<MetadataRequest>(version),
        ApiKey::InitProducerId => header_versions::<InitProducerIdRequest>(version),
        ApiKey::Produce => header_versions::<ProduceRequest>(version),
        other => return Err(format!("{other} is not served here").into()),
    };
    let header = RequestHeader::decode(&mut frame, request_header)?;
    let mut body = BytesMut::new();
    match key {
        ApiKey::ApiVersions => api_versions().encode(&mut body, version)?,
        ApiKey::Metadata => {
            let request = MetadataRequest::decode(&mut frame, version)?;
            metadata(broker, &request).encode(&mut body, version)?;
        }
        ApiKey::InitProducerId => InitProducerIdResponse {
            producer_id: broker.next_producer_id.fetch_add(1, Ordering::Relaxed),
            producer_epoch: 0,
            ..InitProducerIdResponse::default()
        }
        .encode(&mut body, version)?,
        ApiKey::Produce => {
            let request = ProduceRequest::decode(&mut frame, version)?;
            if request.acks == 0 {
                return Ok(());
            }
            produce(broker, request).encode(&mut body, version)?;
        }
        _ => unreachable!("refused above"),
    }
    let mut head = BytesMut::new();
    ResponseHeader {
        correlation_id: header.correlation_id,
        tagged_fields: Vec::new(),
    }
    .encode(&mut head, response_header)?;
    let size = i32::try_from(head.len() + body.len())?;
    out.put_i32(size);
    out.extend_from_slice(&head);
    out.extend_from_slice(&body);
    Ok(())
}

/// Every API this endpoint serves, at every version kiel-protocol speaks.
fn api_versions() -> ApiVersionsResponse {
    let range = |key: ApiKey, versions: kiel_protocol::VersionRange| ApiVersion {
        api_key: key.code(),
        min_version: versions.min,
        max_version: versions.max,
    };
    ApiVersionsResponse {
        api_keys: vec![
            range(ApiKey::Produce, ProduceRequest::VERSIONS),
            range(ApiKey::Metadata, MetadataRequest::VERSIONS),
            range(ApiKey::ApiVersions, ApiVersionsRequest::VERSIONS),
            range(ApiKey::InitProducerId, InitProducerIdRequest::VERSIONS),
        ],
        ..ApiVersionsResponse::default()
    }
}

/// This endpoint as node 0, leading `--partitions` partitions of every topic asked for.
fn metadata(broker: &Broker, request: &MetadataRequest) -> MetadataResponse {
    let names: Vec<String> = request
        .topics
        .iter()
        .flatten()
        .filter_map(|t| t.name.clone())
        .collect();
    MetadataResponse {
        brokers: vec![MetadataBroker {
            node_id: 0,
            host: broker.address.ip().to_string(),
            port: i32::from(broker.address.port()),
            rack: None,
        }],
        cluster_id: Some("null-broker".to_owned()),
        controller_id: 0,
        topics: names
            .into_iter()
            .enumerate()
            .map(|(i, name)| MetadataTopic {
                error_code: 0,
                name: Some(name),
                topic_id: {
                    let mut id = [0u8; 16];
                    id[8..].copy_from_slice(&(i as u64 + 1).to_be_bytes());
                    id
                },
                is_internal: false,
                partitions: (0..broker.partitions)
                    .map(|p| MetadataPartition {
                        partition_index: p,
                        leader_id: 0,
                        leader_epoch: 0,
                        replica_nodes: vec![0],
                        isr_nodes: vec![0],
                        ..MetadataPartition::default()
                    })
                    .collect(),
                topic_authorized_operations: MetadataResponse::default()
                    .cluster_authorized_operations,
            })
            .collect(),
        ..MetadataResponse::default()
    }
}

/// Every batch written: its offsets are the partition's next ones.
fn produce(broker: &Broker, request: ProduceRequest) -> ProduceResponse {
    let mut offsets = broker.offsets.lock().unwrap_or_else(|p| p.into_inner());
    ProduceResponse {
        topics: request
            .topics
            .into_iter()
            .map(|topic| TopicProduceResponse {
                partitions: topic
                    .partitions
                    .iter()
                    .map(|partition| {
                        let records = partition
                            .records
                            .as_deref()
                            .and_then(|b| b.get(LAST_OFFSET_DELTA_AT..LAST_OFFSET_DELTA_AT + 4))
                            .map_or(0, |d| {
                                i64::from(i32::from_be_bytes([d[0], d[1], d[2], d[3]])) + 1
                            });
                        let next = offsets
                            .entry((topic.name.clone(), partition.index))
                            .or_insert(0);
                        let base_offset = *next;
                        *next += records;
                        PartitionProduceResponse {
                            index: partition.index,
                            error_code: 0,
                            base_offset,
                            log_append_time_ms: -1,
                            log_start_offset: 0,
                            record_errors: Vec::new(),
                            error_message: None,
                            current_leader: None,
                        }
                    })
                    .collect(),
                name: topic.name,
            })
            .collect(),
        ..ProduceResponse::default()
    }
}

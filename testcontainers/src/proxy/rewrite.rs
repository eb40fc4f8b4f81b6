//! Rewrites the broker addresses in Metadata responses so that clients connect to the
//! proxies instead of the brokers: each broker's `host`/`port` becomes its proxy's.
//!
//! The response is decoded and encoded again with `kiel-protocol`; unknown tagged fields
//! of a future version would be dropped (none exist up to Metadata v13).
//!
//! # References
//! - Kafka protocol guide, Metadata API (key 3):
//!   <https://kafka.apache.org/protocol#The_Messages_Metadata>

use std::collections::HashMap;

use bytes::{BufMut, Bytes, BytesMut};
use kiel_protocol::api::{decode_exact, Encode, Request};
use kiel_protocol::header::ResponseHeader;
use kiel_protocol::messages::metadata::{MetadataRequest, MetadataResponse};

/// Node id → the (host, port) clients should use for it.
pub(crate) type AddressBook = HashMap<i32, (String, i32)>;

/// Takes a Metadata response frame's contents (after the size prefix) answered in
/// `version` and returns the whole frame (size prefix included) with every broker known to
/// `book` pointing at its proxy.
pub(crate) fn rewrite_metadata(
    mut frame: Bytes,
    version: i16,
    book: &AddressBook,
) -> Result<Bytes, String> {
    let header_version = MetadataRequest::response_header_version(version);
    let header = ResponseHeader::decode(&mut frame, header_version)
        .map_err(|e| format!("Metadata v{version} response header: {e}"))?;
    let mut response: MetadataResponse =
        decode_exact(frame, version).map_err(|e| format!("Metadata v{version} response: {e}"))?;
    for broker in &mut response.brokers {
        if let Some((host, port)) = book.get(&broker.node_id) {
            broker.host.clone_from(host);
            broker.port = *port;
        }
    }
    let mut out = BytesMut::with_capacity(1024);
    out.put_i32(0);
    header
        .encode(&mut out, header_version)
        .and_then(|()| response.encode(&mut out, version))
        .map_err(|e| format!("re-encoding Metadata v{version}: {e}"))?;
    let size = i32::try_from(out.len() - 4).map_err(|_| "Metadata response too large")?;
    out[..4].copy_from_slice(&size.to_be_bytes());
    Ok(out.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiel_protocol::messages::metadata::MetadataBroker;

    fn broker(node_id: i32, port: i32) -> MetadataBroker {
        MetadataBroker {
            node_id,
            host: "127.0.0.1".to_owned(),
            port,
            rack: None,
        }
    }

    #[test]
    fn brokers_point_at_their_proxies_in_every_version() {
        let book: AddressBook = [(1, ("localhost".to_owned(), 4001))].into_iter().collect();
        for version in MetadataRequest::VERSIONS.iter() {
            let response = MetadataResponse {
                brokers: vec![broker(1, 9001), broker(2, 9002)],
                controller_id: if version >= 1 { 1 } else { -1 },
                ..MetadataResponse::default()
            };
            let header_version = MetadataRequest::response_header_version(version);
            let mut frame = BytesMut::new();
            ResponseHeader {
                correlation_id: 42,
                tagged_fields: Vec::new(),
            }
            .encode(&mut frame, header_version)
            .unwrap_or_else(|e| panic!("{e}"));
            response
                .encode(&mut frame, version)
                .unwrap_or_else(|e| panic!("{e}"));
            let rewritten = rewrite_metadata(frame.freeze(), version, &book)
                .unwrap_or_else(|e| panic!("v{version}: {e}"));
            let size = i32::from_be_bytes([rewritten[0], rewritten[1], rewritten[2], rewritten[3]]);
            assert_eq!(size as usize, rewritten.len() - 4);
            let mut body = rewritten.slice(4..);
            let header =
                ResponseHeader::decode(&mut body, header_version).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(header.correlation_id, 42);
            let decoded: MetadataResponse =
                decode_exact(body, version).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(decoded.brokers[0].host, "localhost", "v{version}");
            assert_eq!(decoded.brokers[0].port, 4001, "v{version}");
            assert_eq!(
                decoded.brokers[1].port, 9002,
                "v{version}: unknown node kept"
            );
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let book = AddressBook::new();
        assert!(rewrite_metadata(Bytes::from_static(&[0, 0, 0, 1, 9]), 12, &book).is_err());
        assert!(rewrite_metadata(Bytes::new(), 0, &book).is_err());
    }
}

//! snappy (codec id 2): written as one raw snappy block, read as raw snappy or as xerial
//! snappy-java framing.
//!
//! Writing raw snappy is what librdkafka and franz-go do. Java readers accept it: snappy-java's
//! `SnappyInputStream` decodes the whole input as one raw block when it does not start with the
//! xerial magic.
//!
//! The Java producer writes xerial framing instead (`SnappyOutputStream`):
//!
//! | bytes | field |
//! |---|---|
//! | 8 | magic `82 53 4E 41 50 50 59 00` (`\x82SNAPPY\0`) |
//! | 4 | version, int32 big-endian (1) |
//! | 4 | compatible version, int32 big-endian (1) |
//! | 4 + n, repeated | int32 big-endian length n, then a raw snappy block of n bytes |
//!
//! An input is read as xerial when it is at least 16 bytes long and starts with the magic
//! (like snappy-java); otherwise as one raw block. Inside a xerial stream a new 16-byte header
//! may start a concatenated stream, as snappy-java allows. A valid raw block can never start
//! with the magic: its first element would be a copy, which needs earlier output.
//!
//! Google's official snappy *framing* format (stream identifier `ff 06 00 00 73 4e 61 50 70 59`)
//! is neither written nor read: no Kafka client understands it.
//!
//! Every raw block states its decompressed length up front; it is checked against the output
//! limit before any room is made for it. Snappy has no compression level.
//!
//! # References
//! - Snappy format: <https://github.com/google/snappy/blob/main/format_description.txt>
//! - xerial snappy-java `SnappyCodec.java`, `SnappyOutputStream.java`, `SnappyInputStream.java`
//! - Kafka `SnappyCompression.java`; librdkafka `rdkafka_msgset_writer.c`, `snappy.c`
//!   (`rd_kafka_snappy_java_uncompress`)

use super::output::OutputLimit;
use super::{Compression, CompressionError};

/// The xerial stream magic: `-126, 'S', 'N', 'A', 'P', 'P', 'Y', 0`.
pub(super) const XERIAL_MAGIC: [u8; 8] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0];
/// Magic plus the two int32 versions.
pub(super) const XERIAL_HEADER_LEN: usize = 16;
/// The lowest xerial version a concatenated header may declare (snappy-java
/// `MINIMUM_COMPATIBLE_VERSION`).
const XERIAL_MIN_VERSION: i32 = 1;

fn corrupt(reason: impl Into<String>) -> CompressionError {
    CompressionError::Corrupt {
        codec: Compression::Snappy,
        reason: reason.into(),
    }
}

/// Appends `input` as one raw snappy block.
pub(super) fn compress(input: &[u8], out: &mut Vec<u8>) -> Result<(), CompressionError> {
    let bound = snap::raw::max_compress_len(input.len());
    if bound == 0 {
        return Err(CompressionError::CompressFailed {
            codec: Compression::Snappy,
            reason: format!("input of {} bytes is too large for snappy", input.len()),
        });
    }
    let start = out.len();
    out.resize(start + bound, 0);
    let written = snap::raw::Encoder::new()
        .compress(input, out.get_mut(start..).unwrap_or_default())
        .map_err(|e| CompressionError::CompressFailed {
            codec: Compression::Snappy,
            reason: e.to_string(),
        });
    match written {
        Ok(n) => {
            out.truncate(start + n);
            Ok(())
        }
        Err(e) => {
            out.truncate(start);
            Err(e)
        }
    }
}

/// Appends the decompression of a raw or xerial-framed input, at most `max_output` bytes.
pub(super) fn decompress(
    input: &[u8],
    out: &mut Vec<u8>,
    max_output: usize,
) -> Result<(), CompressionError> {
    let limit = OutputLimit::new(Compression::Snappy, out, max_output);
    if input.is_empty() {
        return Err(corrupt("empty input"));
    }
    if input.len() >= XERIAL_HEADER_LEN && input.starts_with(&XERIAL_MAGIC) {
        // snappy-java does not check the versions of the first header; neither do we.
        decompress_xerial_blocks(&input[XERIAL_HEADER_LEN..], out, &limit)
    } else {
        decompress_raw(input, out, &limit)
    }
}

/// Decodes the length-prefixed blocks that follow a xerial header.
fn decompress_xerial_blocks(
    mut rest: &[u8],
    out: &mut Vec<u8>,
    limit: &OutputLimit,
) -> Result<(), CompressionError> {
    while !rest.is_empty() {
        let prefix = rest
            .get(..4)
            .ok_or_else(|| corrupt("truncated xerial block length"))?;
        if prefix == &XERIAL_MAGIC[..4] {
            // A concatenated stream: a whole new header.
            let header = rest
                .get(..XERIAL_HEADER_LEN)
                .ok_or_else(|| corrupt("truncated concatenated xerial header"))?;
            if header[..8] != XERIAL_MAGIC {
                return Err(corrupt("bad magic in concatenated xerial header"));
            }
            let version = i32::from_be_bytes([header[8], header[9], header[10], header[11]]);
            if version < XERIAL_MIN_VERSION {
                return Err(corrupt(format!(
                    "concatenated xerial header has incompatible version {version}"
                )));
            }
            rest = &rest[XERIAL_HEADER_LEN..];
            continue;
        }
        let declared = i32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]);
        let len = usize::try_from(declared)
            .map_err(|_| corrupt(format!("negative xerial block length {declared}")))?;
        let block = rest
            .get(4..4 + len)
            .ok_or_else(|| corrupt(format!("xerial block of {len} bytes is truncated")))?;
        decompress_raw(block, out, limit)?;
        rest = &rest[4 + len..];
    }
    Ok(())
}

/// Decodes one raw snappy block onto `out`.
fn decompress_raw(
    block: &[u8],
    out: &mut Vec<u8>,
    limit: &OutputLimit,
) -> Result<(), CompressionError> {
    let declared = snap::raw::decompress_len(block).map_err(|e| corrupt(e.to_string()))?;
    if declared > limit.remaining(out.len()) {
        return Err(limit.too_large());
    }
    let start = out.len();
    limit.extend_zeroed(out, declared);
    let decoded = snap::raw::Decoder::new()
        .decompress(block, out.get_mut(start..).unwrap_or_default())
        .map_err(|e| corrupt(e.to_string()));
    match decoded {
        Ok(n) if n == declared => Ok(()),
        Ok(n) => {
            out.truncate(start);
            Err(corrupt(format!(
                "block declares {declared} bytes but decodes to {n}"
            )))
        }
        Err(e) => {
            out.truncate(start);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unsnappy(data: &[u8], max: usize) -> Result<Vec<u8>, CompressionError> {
        let mut out = Vec::new();
        decompress(data, &mut out, max).map(|()| out)
    }

    fn xerial(blocks: &[&[u8]]) -> Vec<u8> {
        let mut v = XERIAL_MAGIC.to_vec();
        v.extend_from_slice(&1i32.to_be_bytes());
        v.extend_from_slice(&1i32.to_be_bytes());
        for block in blocks {
            v.extend_from_slice(&(block.len() as i32).to_be_bytes());
            v.extend_from_slice(block);
        }
        v
    }

    /// A raw snappy block by hand: length 5, then one literal of 5 bytes (tag (5-1)<<2).
    const HELLO_BLOCK: [u8; 7] = [0x05, 0x10, b'h', b'e', b'l', b'l', b'o'];
    /// Length 8, literal "ab" (tag (2-1)<<2), then a copy of 6 bytes at offset 2
    /// (1-byte-offset copy: tag ((6-4)<<2)|1, offset byte 2).
    const ABAB_BLOCK: [u8; 6] = [0x08, 0x04, b'a', b'b', 0x09, 0x02];

    #[test]
    fn writes_raw_snappy_not_a_framing_format() {
        let data = b"kafka kafka kafka kafka kafka".repeat(50);
        let mut z = Vec::new();
        compress(&data, &mut z).unwrap();
        assert!(!z.starts_with(&XERIAL_MAGIC));
        assert!(!z.starts_with(&[0xff, 0x06, 0x00, 0x00, b's', b'N', b'a', b'P', b'p', b'Y']));
        // A raw block starts with the uncompressed length as a varint.
        assert_eq!(snap::raw::decompress_len(&z).unwrap(), data.len());
        assert_eq!(snap::raw::Decoder::new().decompress_vec(&z).unwrap(), data);
        assert!(z.len() < data.len() / 4);
    }

    #[test]
    fn hand_built_raw_blocks_decode() {
        assert_eq!(unsnappy(&HELLO_BLOCK, 100), Ok(b"hello".to_vec()));
        assert_eq!(unsnappy(&ABAB_BLOCK, 100), Ok(b"abababab".to_vec()));
    }

    #[test]
    fn xerial_with_one_hand_built_block() {
        let framed = xerial(&[&HELLO_BLOCK]);
        assert_eq!(framed.len(), 16 + 4 + HELLO_BLOCK.len());
        assert_eq!(
            &framed[..8],
            &[0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]
        );
        assert_eq!(unsnappy(&framed, 100), Ok(b"hello".to_vec()));
    }

    #[test]
    fn xerial_with_two_hand_built_blocks() {
        let framed = xerial(&[&HELLO_BLOCK, &ABAB_BLOCK]);
        assert_eq!(unsnappy(&framed, 100), Ok(b"helloabababab".to_vec()));
        // The limit counts both blocks together.
        assert_eq!(unsnappy(&framed, 13), Ok(b"helloabababab".to_vec()));
        assert!(matches!(
            unsnappy(&framed, 12),
            Err(CompressionError::OutputTooLarge { limit: 12, .. })
        ));
    }

    #[test]
    fn xerial_header_alone_and_concatenated_streams() {
        assert_eq!(unsnappy(&xerial(&[]), 10), Ok(Vec::new()));
        let mut twice = xerial(&[&HELLO_BLOCK]);
        twice.extend_from_slice(&xerial(&[&ABAB_BLOCK]));
        assert_eq!(unsnappy(&twice, 100), Ok(b"helloabababab".to_vec()));
    }

    #[test]
    fn xerial_errors_are_corrupt() {
        let good = xerial(&[&HELLO_BLOCK]);
        // truncated block, truncated length, negative length
        for bad in [
            good[..good.len() - 1].to_vec(),
            [&good[..], &[0, 0]].concat(),
            [&xerial(&[])[..], &(-5i32).to_be_bytes()].concat(),
            xerial(&[&[]]),
        ] {
            assert!(
                matches!(unsnappy(&bad, 100), Err(CompressionError::Corrupt { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn short_input_with_magic_prefix_is_read_as_raw() {
        // Fewer than 16 bytes can't be xerial. As a raw block it declares 10626 bytes (varint
        // 82 53) and then starts with a copy: garbage.
        assert!(matches!(
            unsnappy(&XERIAL_MAGIC, 100),
            Err(CompressionError::OutputTooLarge { .. })
        ));
        assert!(matches!(
            unsnappy(&XERIAL_MAGIC, 1 << 20),
            Err(CompressionError::Corrupt { .. })
        ));
    }

    #[test]
    fn declared_length_is_checked_before_allocating() {
        // A varint declaring 2^31 bytes followed by nothing useful.
        let huge = [0x80, 0x80, 0x80, 0x80, 0x08, 0x00];
        assert!(matches!(
            unsnappy(&huge, 1 << 20),
            Err(CompressionError::OutputTooLarge { .. })
        ));
    }
}

//! zstd (codec id 4; needs Produce v7 or later): standard zstd frames.
//!
//! Without features both directions are pure Rust (ruzstd). With the `zstd-c` feature (which
//! the `kiel` crate turns on by default), compression uses the C library (the `zstd` crate)
//! and honours every level; decompression stays on ruzstd, which keeps the output bound below
//! in one place.
//!
//! Levels (Kafka `compression.zstd.level`, -131072 to 22, default 3):
//! - ruzstd only implements its `Fastest` mode (about zstd level 1); its `Default`, `Better`
//!   and `Best` modes are unimplemented and panic, so they are never used. Every Kafka level is
//!   validated and then compressed with `Fastest`: the level does not change the output.
//! - with `zstd-c`, the level goes to libzstd as is (negative levels are its fast modes).
//!
//! Reading accepts one or more frames and skippable frames (as zstd-jni's stream and librdkafka
//! do); frames needing a dictionary are rejected; content checksums are verified; a declared
//! content size larger than the output limit fails before decoding. ruzstd reserves a buffer of
//! the frame's declared window size up front; a window larger than this call can ever produce
//! (the remaining output limit plus the decoder's step) is lowered in a copy of the frame
//! header before ruzstd sees it. That changes nothing for valid data, which cannot refer back
//! further than what was produced, and keeps memory bounded by the output limit (plus a constant)
//! rather than by what the input claims.
//!
//! # References
//! - RFC 8878, Zstandard compression: <https://www.rfc-editor.org/rfc/rfc8878>
//! - Kafka `ZstdCompression.java`, `CompressionType.java` (level range and default),
//!   `ProduceRequest.java` (zstd needs version 7)
//! - ruzstd: <https://docs.rs/ruzstd>

use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};
use ruzstd::io::Read;

use super::output::OutputLimit;
use super::{Compression, CompressionError};

/// `0xFD2FB528`, little-endian.
const FRAME_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
/// Skippable frames have magic `0x184D2A50` to `0x184D2A5F`.
const SKIPPABLE_MAGIC_HIGH: [u8; 3] = [0x2a, 0x4d, 0x18];
/// Longest frame header: magic, descriptor, window, 4-byte dictionary id, 8-byte content size.
const MAX_FRAME_HEADER: usize = 4 + 1 + 1 + 4 + 8;
/// Largest zstd block (RFC 8878 Block_Maximum_Size).
const MAX_BLOCK: usize = 128 * 1024;
/// How much output ruzstd produces before it is moved into the caller's vector.
const DECODE_STEP: usize = 128 * 1024;
/// What ruzstd may hold beyond the output limit between two checks.
const WINDOW_SLACK: usize = DECODE_STEP + 2 * MAX_BLOCK;

fn corrupt(reason: impl Into<String>) -> CompressionError {
    CompressionError::Corrupt {
        codec: Compression::Zstd,
        reason: reason.into(),
    }
}

/// Appends one zstd frame holding `input`. `level` is already validated.
pub(super) fn compress(
    level: i32,
    input: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), CompressionError> {
    #[cfg(feature = "zstd-c")]
    {
        compress_c(level, input, out)
    }
    #[cfg(not(feature = "zstd-c"))]
    {
        let _ = level;
        compress_pure(input, out)
    }
}

/// ruzstd at its only implemented level, `Fastest`.
#[cfg_attr(feature = "zstd-c", allow(dead_code))]
fn compress_pure(input: &[u8], out: &mut Vec<u8>) -> Result<(), CompressionError> {
    ruzstd::encoding::compress(
        input,
        &mut *out,
        ruzstd::encoding::CompressionLevel::Fastest,
    );
    Ok(())
}

/// libzstd's one-shot compressor, writing straight after the existing bytes of `out`.
#[cfg(feature = "zstd-c")]
fn compress_c(level: i32, input: &[u8], out: &mut Vec<u8>) -> Result<(), CompressionError> {
    let start = out.len();
    out.resize(start + ::zstd::zstd_safe::compress_bound(input.len()), 0);
    match ::zstd::zstd_safe::compress(&mut out[start..], input, level) {
        Ok(n) => {
            out.truncate(start + n);
            Ok(())
        }
        Err(code) => {
            out.truncate(start);
            Err(CompressionError::CompressFailed {
                codec: Compression::Zstd,
                reason: ::zstd::zstd_safe::get_error_name(code).to_string(),
            })
        }
    }
}

/// What the frame header says, read before ruzstd sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FrameHeader {
    /// Header length in bytes.
    len: usize,
    /// Offset of the window descriptor byte, when the frame has one (not single-segment).
    window_descriptor_at: Option<usize>,
    /// Declared window size (the content size for single-segment frames).
    window: u64,
    /// Declared content size, when present.
    content_size: Option<u64>,
}

/// The window size a window descriptor byte stands for.
fn window_from_descriptor(descriptor: u8) -> u64 {
    let base = 1u64 << (10 + u32::from(descriptor >> 3));
    base + (base / 8) * u64::from(descriptor & 7)
}

/// The smallest window descriptor whose window is at least `at_least`, if any.
fn descriptor_at_least(at_least: u64) -> Option<u8> {
    (0..=u8::MAX).find(|&d| window_from_descriptor(d) >= at_least)
}

fn parse_frame_header(input: &[u8]) -> Result<FrameHeader, CompressionError> {
    let fixed = input
        .get(..5)
        .ok_or_else(|| corrupt("truncated frame header"))?;
    if fixed[..4] != FRAME_MAGIC {
        return Err(corrupt(format!(
            "bad frame magic {:02x}{:02x}{:02x}{:02x}",
            fixed[3], fixed[2], fixed[1], fixed[0]
        )));
    }
    let descriptor = fixed[4];
    if descriptor & 0x08 != 0 {
        return Err(corrupt("reserved bit set in the frame header descriptor"));
    }
    let single_segment = descriptor & 0x20 != 0;
    let dict_len = [0, 1, 2, 4][usize::from(descriptor & 3)];
    let content_size_len = match descriptor >> 6 {
        0 if single_segment => 1,
        0 => 0,
        1 => 2,
        2 => 4,
        _ => 8,
    };
    let mut pos = 5;
    let window_descriptor_at = if single_segment {
        None
    } else {
        pos += 1;
        Some(5)
    };
    pos += dict_len;
    let len = pos + content_size_len;
    let size_bytes = input
        .get(pos..len)
        .ok_or_else(|| corrupt("truncated frame header"))?;
    let content_size = match size_bytes.len() {
        0 => None,
        n => {
            let mut le = [0u8; 8];
            le[..n].copy_from_slice(size_bytes);
            let raw = u64::from_le_bytes(le);
            // The 2-byte form is offset by 256.
            Some(if n == 2 { raw + 256 } else { raw })
        }
    };
    let window = match (window_descriptor_at, content_size) {
        (Some(at), _) => window_from_descriptor(input[at]),
        (None, Some(size)) => size,
        (None, None) => 0,
    };
    Ok(FrameHeader {
        len,
        window_descriptor_at,
        window,
        content_size,
    })
}

/// Appends the decompression of every frame in `input`, at most `max_output` bytes in all.
pub(super) fn decompress(
    input: &[u8],
    out: &mut Vec<u8>,
    max_output: usize,
) -> Result<(), CompressionError> {
    if input.is_empty() {
        return Err(corrupt("empty input"));
    }
    let limit = OutputLimit::new(Compression::Zstd, out, max_output);
    let mut decoder = FrameDecoder::new();
    let mut rest = input;
    while !rest.is_empty() {
        if rest.len() >= 4 && rest[0] & 0xf0 == 0x50 && rest[1..4] == SKIPPABLE_MAGIC_HIGH {
            let len = rest
                .get(4..8)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
                .ok_or_else(|| corrupt("truncated skippable frame header"))?;
            rest = rest
                .get(8..)
                .and_then(|r| r.get(len..))
                .ok_or_else(|| corrupt("truncated skippable frame"))?;
            continue;
        }
        rest = decompress_frame(&mut decoder, rest, out, &limit)?;
    }
    Ok(())
}

/// Decodes the frame at the start of `input` onto `out`; returns the input after it.
fn decompress_frame<'a>(
    decoder: &mut FrameDecoder,
    input: &'a [u8],
    out: &mut Vec<u8>,
    limit: &OutputLimit,
) -> Result<&'a [u8], CompressionError> {
    let header = parse_frame_header(input)?;
    let budget = limit.remaining(out.len());
    if let Some(size) = header.content_size {
        if size > budget as u64 {
            return Err(limit.too_large());
        }
    }
    let mut header_copy = [0u8; MAX_FRAME_HEADER];
    header_copy[..header.len].copy_from_slice(&input[..header.len]);
    if let Some(at) = header.window_descriptor_at {
        let needed = budget.saturating_add(WINDOW_SLACK) as u64;
        if header.window > needed {
            if let Some(smaller) = descriptor_at_least(needed) {
                header_copy[at] = smaller;
            }
        }
    }
    decoder
        .init(&header_copy[..header.len])
        .map_err(|e| corrupt(e.to_string()))?;

    let mut rest = &input[header.len..];
    let frame_start = out.len();
    loop {
        decoder
            .decode_blocks(&mut rest, BlockDecodingStrategy::UptoBytes(DECODE_STEP))
            .map_err(|e| corrupt(e.to_string()))?;
        let ready = decoder.can_collect();
        if ready > limit.remaining(out.len()) {
            return Err(limit.too_large());
        }
        let at = out.len();
        limit.extend_zeroed(out, ready);
        let mut filled = at;
        while filled < out.len() {
            match decoder.read(&mut out[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) => return Err(corrupt(e.to_string())),
            }
        }
        if filled != out.len() {
            return Err(corrupt("decoder returned less output than it announced"));
        }
        if decoder.is_finished() && decoder.can_collect() == 0 {
            break;
        }
    }

    if let Some(stored) = decoder.get_checksum_from_data() {
        let computed = decoder.get_calculated_checksum();
        if computed != Some(stored) {
            return Err(corrupt("content checksum mismatch"));
        }
    }
    let produced = (out.len() - frame_start) as u64;
    if let Some(size) = header.content_size {
        if produced != size {
            return Err(corrupt(format!(
                "frame declares {size} bytes of content but holds {produced}"
            )));
        }
    }
    Ok(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zstd_pure(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        compress_pure(data, &mut out).unwrap();
        out
    }

    fn unzstd(data: &[u8], max: usize) -> Result<Vec<u8>, CompressionError> {
        let mut out = Vec::new();
        decompress(data, &mut out, max).map(|()| out)
    }

    fn sample(len: usize) -> Vec<u8> {
        (0..len as u32)
            .flat_map(|i| format!("{{\"id\":{},\"v\":{}}}", i % 1000, i % 7).into_bytes())
            .take(len)
            .collect()
    }

    /// A single-segment frame by hand: descriptor 0x20 (single segment, 1-byte content size),
    /// content size 5, one raw last block of 5 bytes (header = 1 | raw << 1 | 5 << 3), "hello".
    fn hello_frame(declared: u8) -> Vec<u8> {
        let mut f = FRAME_MAGIC.to_vec();
        f.extend_from_slice(&[0x20, declared]);
        f.extend_from_slice(&[1 | (5 << 3), 0, 0]);
        f.extend_from_slice(b"hello");
        f
    }

    #[test]
    fn hand_built_frame_decodes() {
        assert_eq!(unzstd(&hello_frame(5), 5), Ok(b"hello".to_vec()));
        assert!(matches!(
            unzstd(&hello_frame(5), 4),
            Err(CompressionError::OutputTooLarge { limit: 4, .. })
        ));
        assert!(matches!(
            unzstd(&hello_frame(4), 100),
            Err(CompressionError::Corrupt { .. })
        ));
    }

    #[test]
    fn huge_declared_content_size_fails_before_decoding() {
        let mut f = FRAME_MAGIC.to_vec();
        // 8-byte content size field, single segment: 2^40 bytes.
        f.extend_from_slice(&[0xe0]);
        f.extend_from_slice(&(1u64 << 40).to_le_bytes());
        f.extend_from_slice(&[1 | (5 << 3), 0, 0]);
        f.extend_from_slice(b"hello");
        assert!(matches!(
            unzstd(&f, 1 << 20),
            Err(CompressionError::OutputTooLarge { .. })
        ));
    }

    #[test]
    fn multiple_and_skippable_frames() {
        let a = sample(40_000);
        let b = sample(1000);
        let mut z = zstd_pure(&a);
        z.extend_from_slice(&[0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9]);
        z.extend_from_slice(&zstd_pure(&b));
        let mut want = a.clone();
        want.extend_from_slice(&b);
        assert_eq!(unzstd(&z, usize::MAX), Ok(want));
    }

    #[test]
    fn large_declared_window_is_lowered_and_still_decodes() {
        let data = sample(300_000);
        let mut z = zstd_pure(&data);
        let header = parse_frame_header(&z).unwrap();
        let at = header
            .window_descriptor_at
            .expect("ruzstd writes a window descriptor");
        // Claim a 1 GiB window (exponent 20): ruzstd alone would refuse it.
        z[at] = 20 << 3;
        assert_eq!(window_from_descriptor(z[at]), 1 << 30);
        assert_eq!(unzstd(&z, data.len()), Ok(data.clone()));
        assert!(matches!(
            unzstd(&z, data.len() - 1),
            Err(CompressionError::OutputTooLarge { .. })
        ));
    }

    #[test]
    fn window_descriptor_arithmetic() {
        assert_eq!(window_from_descriptor(0), 1024);
        assert_eq!(window_from_descriptor(1), 1024 + 128);
        assert_eq!(
            window_from_descriptor(0xff),
            (1u64 << 41) + 7 * (1u64 << 38)
        );
        let d = descriptor_at_least(1_000_000).unwrap();
        assert!(window_from_descriptor(d) >= 1_000_000);
        assert!(d == 0 || window_from_descriptor(d - 1) < 1_000_000);
        assert_eq!(descriptor_at_least(u64::MAX), None);
    }

    #[test]
    fn bad_checksum_and_trailing_bytes_are_corrupt() {
        let data = sample(10_000);
        let z = zstd_pure(&data);
        let mut bad = z.clone();
        let n = bad.len();
        bad[n - 1] ^= 0x55;
        assert!(matches!(
            unzstd(&bad, usize::MAX),
            Err(CompressionError::Corrupt { .. })
        ));
        let mut trailing = z.clone();
        trailing.push(0);
        assert!(matches!(
            unzstd(&trailing, usize::MAX),
            Err(CompressionError::Corrupt { .. })
        ));
        for cut in [0, 3, 5, 6, 8, n / 2, n - 1] {
            assert!(
                matches!(
                    unzstd(&z[..cut], usize::MAX),
                    Err(CompressionError::Corrupt { .. })
                ),
                "cut {cut}"
            );
        }
    }

    #[test]
    fn dictionary_frames_are_rejected() {
        let mut f = FRAME_MAGIC.to_vec();
        // single segment, 1-byte dictionary id 7, 1-byte content size 5.
        f.extend_from_slice(&[0x21, 7, 5]);
        f.extend_from_slice(&[1 | (5 << 3), 0, 0]);
        f.extend_from_slice(b"hello");
        assert!(matches!(
            unzstd(&f, 100),
            Err(CompressionError::Corrupt { .. })
        ));
    }

    #[cfg(feature = "zstd-c")]
    #[test]
    fn c_and_pure_implementations_read_each_other() {
        let data = sample(250_000);
        for level in [-5, 1, 3, 19] {
            let mut c = Vec::new();
            compress_c(level, &data, &mut c).unwrap();
            assert_eq!(unzstd(&c, data.len()), Ok(data.clone()), "level {level}");
        }
        let pure = zstd_pure(&data);
        let back = ::zstd::bulk::decompress(&pure, data.len()).unwrap();
        assert_eq!(back, data);
    }
}

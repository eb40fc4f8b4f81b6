//! lz4 (codec id 3): the LZ4 frame format, in the subset Kafka's Java client reads, built
//! around lz4_flex's block compressor.
//!
//! The frame written:
//!
//! | bytes | field |
//! |---|---|
//! | 4 | magic `0x184D2204`, little-endian |
//! | 1 | FLG `0x60`: version 01, independent blocks, no block checksums, no content size, no content checksum, no dictionary id |
//! | 1 | BD `0x40`: block maximum size id 4 (64 KiB) |
//! | 1 | HC: `(XXH32(FLG, BD; seed 0) >> 8) & 0xFF`, over the descriptor only, not the magic |
//! | 4 + n, repeated | uint32 LE block size (high bit set: stored uncompressed), then n bytes |
//! | 4 | end mark, uint32 0 |
//!
//! This is what Java's `Lz4BlockOutputStream` writes. The Java reader (`Lz4BlockInputStream`)
//! rejects dependent blocks and any set reserved bit, which includes the dictionary-id flag;
//! it skips a content-size field and reads a content checksum without checking it. The hash
//! over magic *and* descriptor is the broken legacy form, used only for magic 0 message sets.
//!
//! Reading accepts every frame the Java reader accepts: block size ids 4 to 7, a content-size
//! field (checked against the output limit up front and against the output at the end), block
//! checksums and a content checksum (both verified). It rejects what Java rejects: dependent
//! blocks, a dictionary id, reserved bits, a wrong HC byte. Bytes after the frame are an error.
//!
//! Levels (Kafka `compression.lz4.level`, 1 to 17, default 9) are validated but do not change
//! the output: lz4_flex has a single compressor, lz4's fast mode at acceleration 1, which is
//! the compressor Java uses at its default level 9. Java switches to the slower
//! high-compression compressor for every other level; this crate does not have one.
//!
//! # References
//! - LZ4 frame format: <https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md>
//! - Kafka `Lz4BlockOutputStream.java`, `Lz4BlockInputStream.java`, `Lz4Compression.java`
//! - librdkafka `rdkafka_lz4.c` (independent blocks "required by Kafka")

use lz4_flex::block::{self, CompressTable, DecompressError};
use twox_hash::XxHash32;

use super::output::OutputLimit;
use super::{Compression, CompressionError};

/// The frame magic number (little-endian on the wire).
const MAGIC: u32 = 0x184D_2204;
/// FLG: version 01 (bits 7-6), block independence (bit 5); everything else 0.
pub(super) const FLG: u8 = 0b0110_0000;
/// BD: block maximum size id 4 (bits 6-4), meaning 64 KiB.
pub(super) const BD: u8 = 0b0100_0000;
/// The block size used when writing.
const BLOCK_SIZE: usize = 64 * 1024;
/// High bit of a block size: the block is stored uncompressed.
const UNCOMPRESSED_BIT: u32 = 0x8000_0000;

const FLG_VERSION_MASK: u8 = 0b1100_0000;
const FLG_VERSION_01: u8 = 0b0100_0000;
const FLG_INDEPENDENT: u8 = 0b0010_0000;
const FLG_BLOCK_CHECKSUM: u8 = 0b0001_0000;
const FLG_CONTENT_SIZE: u8 = 0b0000_1000;
const FLG_CONTENT_CHECKSUM: u8 = 0b0000_0100;
const FLG_RESERVED: u8 = 0b0000_0010;
const FLG_DICT_ID: u8 = 0b0000_0001;
const BD_RESERVED: u8 = 0b1000_1111;

fn corrupt(reason: impl Into<String>) -> CompressionError {
    CompressionError::Corrupt {
        codec: Compression::Lz4,
        reason: reason.into(),
    }
}

/// The frame descriptor checksum byte: the second byte of XXH32 (seed 0) of the descriptor.
fn header_checksum(descriptor: &[u8]) -> u8 {
    (XxHash32::oneshot(0, descriptor) >> 8) as u8
}

/// Appends one LZ4 frame holding `input`.
pub(super) fn compress(input: &[u8], out: &mut Vec<u8>) -> Result<(), CompressionError> {
    let start = out.len();
    let blocks = input.len().div_ceil(BLOCK_SIZE);
    // Header, then per block a size and at most lz4's worst case, then the end mark.
    let bound = 7 + blocks * (4 + block::get_maximum_output_size(BLOCK_SIZE)) + 4;
    out.resize(start + bound, 0);

    out[start..start + 4].copy_from_slice(&MAGIC.to_le_bytes());
    out[start + 4] = FLG;
    out[start + 5] = BD;
    out[start + 6] = header_checksum(&[FLG, BD]);
    let mut pos = start + 7;

    let mut table = CompressTable::large();
    for chunk in input.chunks(BLOCK_SIZE) {
        let data_at = pos + 4;
        let compressed = block::compress_into_with_table(
            chunk,
            out.get_mut(data_at..).unwrap_or_default(),
            &mut table,
        );
        let (size_field, len) = match compressed {
            Ok(n) if n < chunk.len() => (n as u32, n),
            // Incompressible (or, which cannot happen with the bound above, no room): store it.
            _ => {
                out[data_at..data_at + chunk.len()].copy_from_slice(chunk);
                (chunk.len() as u32 | UNCOMPRESSED_BIT, chunk.len())
            }
        };
        out[pos..data_at].copy_from_slice(&size_field.to_le_bytes());
        pos = data_at + len;
    }
    out[pos..pos + 4].copy_from_slice(&0u32.to_le_bytes());
    out.truncate(pos + 4);
    Ok(())
}

/// A little-endian reader over the frame that fails with `Corrupt` when input runs out.
struct Cursor<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], CompressionError> {
        let bytes = self
            .input
            .get(self.pos..)
            .and_then(|rest| rest.get(..n))
            .ok_or_else(|| corrupt(format!("truncated {what}")))?;
        self.pos += n;
        Ok(bytes)
    }

    fn u32_le(&mut self, what: &str) -> Result<u32, CompressionError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// Appends the decompression of one LZ4 frame, at most `max_output` bytes.
pub(super) fn decompress(
    input: &[u8],
    out: &mut Vec<u8>,
    max_output: usize,
) -> Result<(), CompressionError> {
    let limit = OutputLimit::new(Compression::Lz4, out, max_output);
    let mut cur = Cursor { input, pos: 0 };

    let magic = cur.u32_le("frame magic")?;
    if magic != MAGIC {
        return Err(corrupt(format!("bad frame magic {magic:#010x}")));
    }
    let descriptor_start = cur.pos;
    let flg_bd = cur.take(2, "frame descriptor")?;
    let (flg, bd) = (flg_bd[0], flg_bd[1]);
    if flg & FLG_VERSION_MASK != FLG_VERSION_01 {
        return Err(corrupt(format!(
            "unsupported frame version in FLG {flg:#04x}"
        )));
    }
    if flg & FLG_INDEPENDENT == 0 {
        return Err(corrupt("dependent (linked) blocks are not supported"));
    }
    if flg & FLG_DICT_ID != 0 {
        return Err(corrupt("frames with a dictionary id are not supported"));
    }
    if flg & FLG_RESERVED != 0 || bd & BD_RESERVED != 0 {
        return Err(corrupt(format!(
            "reserved bits set in FLG {flg:#04x} / BD {bd:#04x}"
        )));
    }
    let size_id = (bd >> 4) & 0b111;
    if size_id < 4 {
        return Err(corrupt(format!("invalid block maximum size id {size_id}")));
    }
    let block_max = 1usize << (2 * size_id + 8);
    let content_size = if flg & FLG_CONTENT_SIZE != 0 {
        let b = cur.take(8, "content size")?;
        let size = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
        if size > max_output as u64 {
            return Err(limit.too_large());
        }
        Some(size)
    } else {
        None
    };
    let descriptor = &input[descriptor_start..cur.pos];
    let stored_hc = cur.take(1, "header checksum")?[0];
    let expected_hc = header_checksum(descriptor);
    if stored_hc != expected_hc {
        return Err(corrupt(format!(
            "header checksum {stored_hc:#04x} does not match descriptor ({expected_hc:#04x})"
        )));
    }

    loop {
        let size_field = cur.u32_le("block size")?;
        if size_field == 0 {
            break;
        }
        let stored = size_field & UNCOMPRESSED_BIT != 0;
        let len = (size_field & !UNCOMPRESSED_BIT) as usize;
        if len > block_max {
            return Err(corrupt(format!(
                "block of {len} bytes exceeds the maximum {block_max}"
            )));
        }
        let data = cur.take(len, "block")?;
        if flg & FLG_BLOCK_CHECKSUM != 0 {
            let stored_sum = cur.u32_le("block checksum")?;
            if stored_sum != XxHash32::oneshot(0, data) {
                return Err(corrupt("block checksum mismatch"));
            }
        }
        if stored {
            if len > limit.remaining(out.len()) {
                return Err(limit.too_large());
            }
            out.extend_from_slice(data);
        } else {
            decompress_block(data, block_max, out, &limit)?;
        }
    }

    let produced = &out[limit.start()..];
    if flg & FLG_CONTENT_CHECKSUM != 0 {
        let stored_sum = cur.u32_le("content checksum")?;
        if stored_sum != XxHash32::oneshot(0, produced) {
            return Err(corrupt("content checksum mismatch"));
        }
    }
    if let Some(size) = content_size {
        if produced.len() as u64 != size {
            return Err(corrupt(format!(
                "content size field says {size} bytes, frame holds {}",
                produced.len()
            )));
        }
    }
    if cur.pos != input.len() {
        return Err(corrupt(format!(
            "{} bytes after the end of the frame",
            input.len() - cur.pos
        )));
    }
    Ok(())
}

/// Decodes one compressed block onto `out`.
fn decompress_block(
    data: &[u8],
    block_max: usize,
    out: &mut Vec<u8>,
    limit: &OutputLimit,
) -> Result<(), CompressionError> {
    let start = out.len();
    let room = block_max.min(limit.remaining(start));
    limit.extend_zeroed(out, room);
    let result = block::decompress_into(data, &mut out[start..]);
    match result {
        Ok(n) => {
            out.truncate(start + n);
            Ok(())
        }
        Err(e) => {
            out.truncate(start);
            match e {
                DecompressError::OutputTooSmall { .. } if room < block_max => {
                    Err(limit.too_large())
                }
                DecompressError::OutputTooSmall { .. } => Err(corrupt(format!(
                    "block decodes to more than the maximum {block_max} bytes"
                ))),
                other => Err(corrupt(format!("block: {other}"))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// XXH32 written from the specification, independent of the hash crate the codec uses.
    fn xxh32_reference(data: &[u8], seed: u32) -> u32 {
        const P1: u32 = 2_654_435_761;
        const P2: u32 = 2_246_822_519;
        const P3: u32 = 3_266_489_917;
        const P4: u32 = 668_265_263;
        const P5: u32 = 374_761_393;
        let round = |acc: u32, lane: u32| {
            acc.wrapping_add(lane.wrapping_mul(P2))
                .rotate_left(13)
                .wrapping_mul(P1)
        };
        let word = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let mut rest = data;
        let mut acc = if data.len() >= 16 {
            let mut v = [
                seed.wrapping_add(P1).wrapping_add(P2),
                seed.wrapping_add(P2),
                seed,
                seed.wrapping_sub(P1),
            ];
            while rest.len() >= 16 {
                for (i, lane) in v.iter_mut().enumerate() {
                    *lane = round(*lane, word(&rest[i * 4..]));
                }
                rest = &rest[16..];
            }
            v[0].rotate_left(1)
                .wrapping_add(v[1].rotate_left(7))
                .wrapping_add(v[2].rotate_left(12))
                .wrapping_add(v[3].rotate_left(18))
        } else {
            seed.wrapping_add(P5)
        };
        acc = acc.wrapping_add(data.len() as u32);
        while rest.len() >= 4 {
            acc = acc
                .wrapping_add(word(rest).wrapping_mul(P3))
                .rotate_left(17)
                .wrapping_mul(P4);
            rest = &rest[4..];
        }
        for &b in rest {
            acc = acc
                .wrapping_add(u32::from(b).wrapping_mul(P5))
                .rotate_left(11)
                .wrapping_mul(P1);
        }
        acc ^= acc >> 15;
        acc = acc.wrapping_mul(P2);
        acc ^= acc >> 13;
        acc = acc.wrapping_mul(P3);
        acc ^ (acc >> 16)
    }

    fn lz4(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        compress(data, &mut out).unwrap();
        out
    }

    fn unlz4(data: &[u8], max: usize) -> Result<Vec<u8>, CompressionError> {
        let mut out = Vec::new();
        decompress(data, &mut out, max).map(|()| out)
    }

    fn sample(len: usize) -> Vec<u8> {
        (0..len as u32)
            .map(|i| {
                if i % 7 == 0 {
                    (i % 251) as u8
                } else {
                    b'a' + (i % 5) as u8
                }
            })
            .collect()
    }

    #[test]
    fn reference_xxh32_matches_published_vectors() {
        // From the xxHash repository's sanity checks.
        assert_eq!(xxh32_reference(b"", 0), 0x02CC_5D05);
        assert_eq!(xxh32_reference(b"a", 0), 0x550D_7456);
        assert_eq!(xxh32_reference(b"abc", 0), 0x32D1_53FF);
        let long = b"Nobody inspects the spammish repetition";
        assert_eq!(xxh32_reference(long, 0), XxHash32::oneshot(0, long));
    }

    #[test]
    fn frame_header_is_what_the_java_reader_accepts() {
        let z = lz4(&sample(1000));
        assert_eq!(&z[..4], &[0x04, 0x22, 0x4d, 0x18], "magic, little-endian");
        let (flg, bd) = (z[4], z[5]);
        assert_eq!(flg >> 6, 0b01, "version");
        assert_eq!((flg >> 5) & 1, 1, "block independence");
        assert_eq!((flg >> 4) & 1, 0, "block checksum");
        assert_eq!((flg >> 3) & 1, 0, "content size");
        assert_eq!((flg >> 2) & 1, 0, "content checksum");
        assert_eq!((flg >> 1) & 1, 0, "reserved");
        assert_eq!(flg & 1, 0, "dictionary id");
        assert_eq!(bd & 0x8f, 0, "BD reserved bits");
        assert_eq!((bd >> 4) & 7, 4, "block maximum size id 4 = 64 KiB");
        // HC covers FLG and BD only; the broken legacy form also hashed the magic.
        assert_eq!(z[6], (xxh32_reference(&[flg, bd], 0) >> 8) as u8);
        assert_ne!(z[6], (xxh32_reference(&z[..6], 0) >> 8) as u8);
        assert_eq!(&z[z.len() - 4..], &[0, 0, 0, 0], "end mark");
    }

    #[test]
    fn blocks_are_at_most_64_kib_and_independent() {
        let data = sample(200_000);
        let z = lz4(&data);
        let mut pos = 7;
        let mut sizes = Vec::new();
        loop {
            let field = u32::from_le_bytes(z[pos..pos + 4].try_into().unwrap());
            if field == 0 {
                break;
            }
            let len = (field & !UNCOMPRESSED_BIT) as usize;
            let decoded = if field & UNCOMPRESSED_BIT != 0 {
                z[pos + 4..pos + 4 + len].to_vec()
            } else {
                // Each block decodes alone, with no history from earlier blocks.
                block::decompress(&z[pos + 4..pos + 4 + len], BLOCK_SIZE).unwrap()
            };
            sizes.push(decoded.len());
            pos += 4 + len;
        }
        assert_eq!(pos + 4, z.len());
        assert_eq!(sizes, vec![65536, 65536, 65536, 200_000 - 3 * 65536]);
    }

    #[test]
    fn lz4_flex_frame_decoder_reads_our_frames() {
        for len in [0, 1, 100, 65536, 65537, 300_000] {
            let data = sample(len);
            let mut back = Vec::new();
            lz4_flex::frame::FrameDecoder::new(&lz4(&data)[..])
                .read_to_end(&mut back)
                .unwrap();
            assert_eq!(back, data, "len {len}");
        }
    }

    #[test]
    fn incompressible_blocks_are_stored() {
        let mut x = 0x1234_5678u32;
        let noise: Vec<u8> = (0..70_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        let z = lz4(&noise);
        let first = u32::from_le_bytes(z[7..11].try_into().unwrap());
        assert_eq!(first, UNCOMPRESSED_BIT | 65536);
        assert_eq!(unlz4(&z, usize::MAX), Ok(noise));
    }

    fn flex_frame(data: &[u8], info: lz4_flex::frame::FrameInfo) -> Vec<u8> {
        let mut enc = lz4_flex::frame::FrameEncoder::with_frame_info(info, Vec::new());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn reads_frames_with_content_size_and_checksums() {
        use lz4_flex::frame::{BlockMode, BlockSize, FrameInfo};
        let data = sample(150_000);
        for (size, content_size, content_checksum, block_checksums) in [
            (BlockSize::Max64KB, Some(data.len() as u64), false, false),
            (BlockSize::Max256KB, None, true, false),
            (BlockSize::Max1MB, Some(data.len() as u64), true, true),
            (BlockSize::Max4MB, None, false, true),
        ] {
            let mut info = FrameInfo::new();
            info.block_size = size;
            info.block_mode = BlockMode::Independent;
            info.content_size = content_size;
            info.content_checksum = content_checksum;
            info.block_checksums = block_checksums;
            let z = flex_frame(&data, info);
            assert_eq!(unlz4(&z, usize::MAX), Ok(data.clone()));
        }
    }

    #[test]
    fn rejects_what_the_java_reader_rejects() {
        use lz4_flex::frame::{BlockMode, FrameInfo};
        let data = sample(100_000);
        let mut info = FrameInfo::new();
        info.block_mode = BlockMode::Linked;
        assert!(matches!(
            unlz4(&flex_frame(&data, info), usize::MAX),
            Err(CompressionError::Corrupt { .. })
        ));

        let good = lz4(&data);
        let with_flg = |flg: u8| {
            let mut z = good.clone();
            z[4] = flg;
            z[6] = header_checksum(&[flg, BD]);
            z
        };
        for flg in [
            FLG | FLG_DICT_ID,
            FLG | FLG_RESERVED,
            0b1010_0000,
            0b0010_0000,
        ] {
            assert!(
                matches!(
                    unlz4(&with_flg(flg), usize::MAX),
                    Err(CompressionError::Corrupt { .. })
                ),
                "FLG {flg:#04x}"
            );
        }
        let mut bad_hc = good.clone();
        bad_hc[6] = (xxh32_reference(&bad_hc[..6], 0) >> 8) as u8;
        assert!(matches!(
            unlz4(&bad_hc, usize::MAX),
            Err(CompressionError::Corrupt { .. })
        ));
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(matches!(
            unlz4(&trailing, usize::MAX),
            Err(CompressionError::Corrupt { .. })
        ));
        for cut in [0, 3, 6, 7, 10, good.len() - 1] {
            assert!(
                matches!(
                    unlz4(&good[..cut], usize::MAX),
                    Err(CompressionError::Corrupt { .. })
                ),
                "cut {cut}"
            );
        }
    }

    #[test]
    fn declared_content_size_over_the_limit_fails_early() {
        use lz4_flex::frame::FrameInfo;
        let data = sample(5000);
        let mut info = FrameInfo::new();
        info.content_size = Some(data.len() as u64);
        let z = flex_frame(&data, info);
        assert!(matches!(
            unlz4(&z, 4999),
            Err(CompressionError::OutputTooLarge { limit: 4999, .. })
        ));
        assert_eq!(unlz4(&z, 5000), Ok(data));
    }

    #[test]
    fn java_style_frame_by_hand() {
        // One stored block of "kafka" and the end mark, as Lz4BlockOutputStream would lay it out.
        let mut z = vec![0x04, 0x22, 0x4d, 0x18, 0x60, 0x40];
        z.push((xxh32_reference(&[0x60, 0x40], 0) >> 8) as u8);
        z.extend_from_slice(&(5u32 | UNCOMPRESSED_BIT).to_le_bytes());
        z.extend_from_slice(b"kafka");
        z.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(unlz4(&z, 5), Ok(b"kafka".to_vec()));
        assert!(matches!(
            unlz4(&z, 4),
            Err(CompressionError::OutputTooLarge { .. })
        ));
    }
}

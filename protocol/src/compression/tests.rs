//! Tests across every codec: names and ids, levels, round trips, the output bound, and
//! arbitrary input to every decompressor.

use proptest::prelude::*;

use super::*;

const CODECS: [Compression; 5] = Compression::ALL;

/// Levels worth trying per codec: the edges of the range, the default, and one in between.
fn levels(codec: Compression) -> Vec<Option<i32>> {
    match codec {
        Compression::Gzip => vec![None, Some(-1), Some(1), Some(5), Some(9)],
        Compression::Lz4 => vec![None, Some(1), Some(9), Some(17)],
        Compression::Zstd => vec![None, Some(-131_072), Some(-1), Some(1), Some(3), Some(22)],
        Compression::None | Compression::Snappy => vec![None],
    }
}

fn round_trip(codec: Compression, level: Option<i32>, data: &[u8]) -> Vec<u8> {
    let prefix = b"already here";
    let mut z = prefix.to_vec();
    compress(codec, level, data, &mut z).unwrap();
    assert_eq!(&z[..prefix.len()], prefix, "compress must append");
    let mut back = prefix.to_vec();
    decompress(codec, &z[prefix.len()..], &mut back, data.len()).unwrap();
    assert_eq!(&back[..prefix.len()], prefix, "decompress must append");
    back.split_off(prefix.len())
}

/// Records-like data: repeated keys and JSON-ish values with varying numbers.
fn semi_compressible(len: usize) -> Vec<u8> {
    let mut x = 0x9e37_79b9u32;
    let mut v = Vec::with_capacity(len + 64);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        v.extend_from_slice(
            format!(
                "{{\"user\":\"u{}\",\"ts\":{},\"amount\":{}}}",
                x % 5000,
                1_700_000_000 + (x % 100_000),
                x % 997
            )
            .as_bytes(),
        );
    }
    v.truncate(len);
    v
}

#[test]
fn ids_names_and_parsing() {
    for (i, codec) in CODECS.into_iter().enumerate() {
        assert_eq!(codec.attribute_id(), i as i16);
        assert_eq!(Compression::from_attribute_id(i as i16), Ok(codec));
        assert_eq!(codec.to_string(), codec.name());
        assert_eq!(codec.name().parse::<Compression>(), Ok(codec));
        assert_eq!(
            codec.name().to_uppercase().parse::<Compression>(),
            Ok(codec)
        );
    }
    assert_eq!(
        ["none", "gzip", "snappy", "lz4", "zstd"],
        CODECS.map(Compression::name)
    );
    assert_eq!("Snappy".parse::<Compression>(), Ok(Compression::Snappy));
    for id in [5, 6, 7, -1, i16::MAX] {
        assert_eq!(
            Compression::from_attribute_id(id),
            Err(CompressionError::UnknownCodec(id))
        );
    }
    for bad in ["", "lz5", " gzip", "zstd ", "brotli"] {
        assert_eq!(
            bad.parse::<Compression>(),
            Err(CompressionError::UnknownName(bad.to_owned()))
        );
    }
    let message = "lzma".parse::<Compression>().unwrap_err().to_string();
    assert!(message.contains("\"lzma\""), "{message}");
    assert_eq!(Compression::default(), Compression::None);
}

#[test]
fn produce_versions() {
    for codec in CODECS {
        let want = if codec == Compression::Zstd { 7 } else { 3 };
        assert_eq!(codec.min_produce_version(), want, "{codec}");
    }
}

#[test]
fn level_ranges_and_defaults_follow_the_java_client() {
    assert_eq!(Compression::Gzip.level_range(), Some(1..=9));
    assert_eq!(Compression::Lz4.level_range(), Some(1..=17));
    assert_eq!(Compression::Zstd.level_range(), Some(-131_072..=22));
    assert_eq!(Compression::None.level_range(), None);
    assert_eq!(Compression::Snappy.level_range(), None);
    assert_eq!(Compression::Gzip.default_level(), Some(-1));
    assert_eq!(Compression::Lz4.default_level(), Some(9));
    assert_eq!(Compression::Zstd.default_level(), Some(3));
    assert_eq!(Compression::None.default_level(), None);
    assert_eq!(Compression::Snappy.default_level(), None);

    for (codec, good, bad) in [
        (Compression::Gzip, vec![-1, 1, 6, 9], vec![-2, 0, 10]),
        (Compression::Lz4, vec![1, 9, 17], vec![0, 18, -1]),
        (
            Compression::Zstd,
            vec![-131_072, -1, 0, 3, 22],
            vec![-131_073, 23],
        ),
        (Compression::Snappy, vec![], vec![0, 1, -1]),
        (Compression::None, vec![], vec![0]),
    ] {
        for level in good {
            assert_eq!(codec.validate_level(level), Ok(()), "{codec} {level}");
        }
        for level in bad {
            let err = codec.validate_level(level).unwrap_err();
            assert_eq!(
                err,
                CompressionError::InvalidLevel {
                    codec,
                    level,
                    allowed: codec.level_range()
                }
            );
            let text = err.to_string();
            assert!(
                text.contains(codec.name()) && text.contains(&level.to_string()),
                "{text}"
            );
            // compress refuses the level too, and leaves the output alone.
            let mut out = vec![1, 2, 3];
            assert_eq!(compress(codec, Some(level), b"x", &mut out), Err(err));
            assert_eq!(out, [1, 2, 3]);
        }
    }
    let text = Compression::Gzip.validate_level(0).unwrap_err().to_string();
    assert!(text.contains("1..=9 or -1"), "{text}");
    let text = Compression::Snappy
        .validate_level(1)
        .unwrap_err()
        .to_string();
    assert!(text.contains("snappy takes no level"), "{text}");
}

#[test]
fn every_codec_and_level_round_trips() {
    let data = semi_compressible(300_000);
    for codec in CODECS {
        for level in levels(codec) {
            assert_eq!(round_trip(codec, level, &data), data, "{codec} {level:?}");
            assert_eq!(
                round_trip(codec, level, b""),
                b"",
                "{codec} {level:?} empty"
            );
        }
    }
}

#[test]
fn compressible_data_gets_smaller() {
    let data = semi_compressible(100_000);
    for codec in CODECS {
        let mut z = Vec::new();
        compress(codec, None, &data, &mut z).unwrap();
        if codec != Compression::None {
            assert!(z.len() < data.len() / 2, "{codec}: {} bytes", z.len());
        }
    }
}

#[test]
fn one_mib_bomb_with_limit_1000_is_output_too_large() {
    let zeros = vec![0u8; 1 << 20];
    for codec in CODECS {
        let mut z = Vec::new();
        compress(codec, None, &zeros, &mut z).unwrap();
        let mut out = b"keep".to_vec();
        let err = decompress(codec, &z, &mut out, 1000).unwrap_err();
        assert_eq!(
            err,
            CompressionError::OutputTooLarge { codec, limit: 1000 },
            "{codec}"
        );
        assert_eq!(out, b"keep", "{codec}: output restored");
        assert!(
            out.capacity() < 1000 + 300 * 1024,
            "{codec}: capacity grew to {}",
            out.capacity()
        );
    }
}

#[test]
fn limit_is_exact() {
    let data = semi_compressible(200_001);
    for codec in CODECS {
        let mut z = Vec::new();
        compress(codec, None, &data, &mut z).unwrap();
        let mut out = Vec::new();
        assert_eq!(
            decompress(codec, &z, &mut out, data.len()),
            Ok(()),
            "{codec}"
        );
        assert_eq!(out, data);
        let mut out = Vec::new();
        assert_eq!(
            decompress(codec, &z, &mut out, data.len() - 1),
            Err(CompressionError::OutputTooLarge {
                codec,
                limit: data.len() - 1
            }),
            "{codec}"
        );
        assert!(out.is_empty());
    }
}

#[test]
fn empty_input_is_corrupt_for_real_codecs() {
    for codec in CODECS {
        let mut out = Vec::new();
        let result = decompress(codec, &[], &mut out, 100);
        if codec == Compression::None {
            assert_eq!(result, Ok(()));
        } else {
            assert!(
                matches!(result, Err(CompressionError::Corrupt { codec: c, .. }) if c == codec),
                "{codec}: {result:?}"
            );
        }
    }
}

/// Compressed streams of a few kinds of data, to mutate.
fn valid_streams() -> Vec<(Compression, Vec<u8>)> {
    let mut v = Vec::new();
    for codec in CODECS {
        for data in [semi_compressible(5000), vec![7u8; 3000], b"short".to_vec()] {
            let mut z = Vec::new();
            compress(codec, None, &data, &mut z).unwrap();
            v.push((codec, z));
        }
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn round_trip_arbitrary_data(
        data in prop::collection::vec(any::<u8>(), 0..20_000),
        repeat in 1usize..8,
        codec_index in 0usize..5,
        level_pick in any::<prop::sample::Index>(),
    ) {
        let codec = CODECS[codec_index];
        let data = data.repeat(repeat);
        let levels = levels(codec);
        let level = levels[level_pick.index(levels.len())];
        prop_assert_eq!(round_trip(codec, level, &data), data);
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_respect_the_limit(
        input in prop::collection::vec(any::<u8>(), 0..4096),
        max_output in 0usize..100_000,
    ) {
        for codec in CODECS {
            let mut out = vec![0xaa; 3];
            match decompress(codec, &input, &mut out, max_output) {
                Ok(()) => prop_assert!(out.len() - 3 <= max_output),
                Err(_) => prop_assert_eq!(&out, &[0xaa; 3]),
            }
            prop_assert_eq!(&out[..3], &[0xaa; 3]);
        }
    }

    #[test]
    fn headers_followed_by_noise_never_panic(
        noise in prop::collection::vec(any::<u8>(), 0..2048),
        max_output in 0usize..100_000,
    ) {
        let prefixes: [(Compression, &[u8]); 5] = [
            (Compression::Gzip, &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]),
            (Compression::Snappy, &[0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1]),
            (Compression::Lz4, &[0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82]),
            (Compression::Zstd, &[0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58]),
            (Compression::Zstd, &[0x28, 0xb5, 0x2f, 0xfd, 0x20]),
        ];
        for (codec, prefix) in prefixes {
            let input = [prefix, &noise[..]].concat();
            let mut out = Vec::new();
            if decompress(codec, &input, &mut out, max_output).is_ok() {
                prop_assert!(out.len() <= max_output);
            } else {
                prop_assert!(out.is_empty());
            }
        }
    }

    #[test]
    fn mutated_streams_never_panic(
        pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        max_output in 0usize..20_000,
    ) {
        let streams = valid_streams();
        let (codec, stream) = &streams[pick.index(streams.len())];
        let mut input = stream.clone();
        for (at, byte) in edits {
            let i = at.index(input.len());
            input[i] = byte;
        }
        input.truncate(cut.index(input.len() + 1).max(1));
        let mut out = Vec::new();
        if decompress(*codec, &input, &mut out, max_output).is_ok() {
            prop_assert!(out.len() <= max_output);
        }
    }
}

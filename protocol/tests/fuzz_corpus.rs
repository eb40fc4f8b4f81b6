//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) as ordinary tests on stable
//! Rust, through the very functions the cargo-fuzz targets call (`fuzz/src/`, included
//! here with `#[path]`), so every input a fuzz run kept, and every crash it found, is
//! checked on each `cargo test`.
//!
//! A target whose corpus directory is missing or empty fails, as does a target file in
//! `fuzz/fuzz_targets/` without an entry in `TARGETS` (or the other way round), so the
//! replay cannot silently test nothing.
//!
//! # References
//! - `fuzz/README.md`: the targets, how to run them, and what a run found

#[allow(unreachable_pub, dead_code)]
#[path = "../../fuzz/src/lib.rs"]
mod fuzz_checks;

use std::fs;
use std::path::{Path, PathBuf};

use fuzz_checks::{Check, TARGETS};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The files of `dir`, sorted by name; panics when it cannot be read.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => panic!("cannot read {}: {e}", dir.display()),
    };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| match entry {
            Ok(entry) => entry.path(),
            Err(e) => panic!("cannot list {}: {e}", dir.display()),
        })
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// Seeds cut from the Kafka captures in `protocol/tests/golden/`: valid inputs, which every
/// check must accept (not just survive).
const GOLDEN_PREFIX: &str = "seed-golden-";

/// Runs `check` on every file of the target's corpus; returns how many files there were and
/// how many the check accepted.
fn replay(name: &str, check: Check) -> (usize, usize) {
    let dir = fuzz_dir().join("corpus").join(name);
    let files = files_in(&dir);
    assert!(
        !files.is_empty(),
        "corpus {} is empty: nothing would be tested",
        dir.display()
    );
    let mut accepted = 0;
    for file in &files {
        let data = match fs::read(file) {
            Ok(data) => data,
            Err(e) => panic!("cannot read {}: {e}", file.display()),
        };
        let result = std::panic::catch_unwind(|| check(&data));
        match result {
            Ok(true) => accepted += 1,
            Ok(false) => {
                let file_name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
                assert!(
                    !file_name.starts_with(GOLDEN_PREFIX),
                    "{name}: the golden input {} was rejected",
                    file.display()
                );
            }
            Err(panic) => std::panic::resume_unwind(Box::new(format!(
                "{name}: {} fails: {}",
                file.display(),
                panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("(no message)")
            ))),
        }
    }
    (files.len(), accepted)
}

/// One test per target, so a failure names its target.
macro_rules! corpus_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let check = TARGETS
                    .iter()
                    .find(|(target, _)| *target == stringify!($name))
                    .map(|(_, check)| *check);
                let Some(check) = check else {
                    panic!("{} is not in TARGETS", stringify!($name));
                };
                let (files, accepted) = replay(stringify!($name), check);
                println!("{}: {accepted} of {files} inputs accepted", stringify!($name));
                assert!(
                    accepted > 0,
                    "{}: none of {files} inputs was accepted, so only rejection paths ran",
                    stringify!($name)
                );
            }
        )*
        /// The targets this file has a test for.
        const TESTED: &[&str] = &[$(stringify!($name)),*];
    };
}

corpus_tests!(
    decode_api_versions_response,
    decode_metadata_response,
    decode_produce_response,
    decode_init_producer_id_response,
    decode_sasl_handshake_response,
    decode_sasl_authenticate_response,
    decode_find_coordinator_response,
    decode_add_partitions_to_txn_response,
    decode_add_offsets_to_txn_response,
    decode_end_txn_response,
    decode_txn_offset_commit_response,
    decode_requests,
    decode_record_batch,
    decompress_gzip,
    decompress_snappy,
    decompress_lz4,
    decompress_zstd,
    frame_reader,
    round_trip,
);

#[test]
fn every_fuzz_target_has_a_check_a_corpus_and_a_test() {
    let mut files: Vec<String> = files_in(&fuzz_dir().join("fuzz_targets"))
        .iter()
        .filter_map(|path| path.file_stem()?.to_str().map(str::to_owned))
        .collect();
    files.sort();
    let mut listed: Vec<String> = TARGETS.iter().map(|(n, _)| (*n).to_owned()).collect();
    listed.sort();
    let mut tested: Vec<String> = TESTED.iter().map(|n| (*n).to_owned()).collect();
    tested.sort();
    assert_eq!(files, listed, "fuzz_targets/*.rs and TARGETS differ");
    assert_eq!(tested, listed, "tests in this file and TARGETS differ");
}

//! Checks [`ErrorCode`] against the vendored snapshot of Kafka's own error-code facts in
//! `tests/data/kafka-4.1-error-codes.txt` (codes and names from `Errors.java`, classification
//! from the Java exception hierarchy; see the file's header for where and at which commit it
//! was read). A missing, extra or mistyped code, or a wrong retriable / metadata flag, fails.

use std::collections::{BTreeMap, HashSet};

use kiel_protocol::ErrorCode;

const SNAPSHOT: &str = include_str!("data/kafka-4.1-error-codes.txt");

/// What the snapshot (or the table) says about one code.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Facts {
    name: String,
    retriable: bool,
    invalidates_metadata: bool,
}

/// Parses the snapshot strictly: every line that is not blank or a `#` comment must be
/// `CODE NAME RETRIABLE METADATA` with known keywords, and codes and names must not repeat.
fn parse_snapshot(text: &str) -> Result<BTreeMap<i16, Facts>, String> {
    let mut codes = BTreeMap::new();
    let mut names = HashSet::new();
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [code, name, retriable, metadata] = fields[..] else {
            return Err(format!("line {line_no}: expected 4 fields, got {line:?}"));
        };
        let code: i16 = code
            .parse()
            .map_err(|e| format!("line {line_no}: bad code {code:?}: {e}"))?;
        let retriable = match retriable {
            "retriable" => true,
            "not_retriable" => false,
            other => return Err(format!("line {line_no}: bad retriable flag {other:?}")),
        };
        let invalidates_metadata = match metadata {
            "invalidates_metadata" => true,
            "keeps_metadata" => false,
            other => return Err(format!("line {line_no}: bad metadata flag {other:?}")),
        };
        if !names.insert(name.to_owned()) {
            return Err(format!("line {line_no}: name {name} repeats"));
        }
        let facts = Facts {
            name: name.to_owned(),
            retriable,
            invalidates_metadata,
        };
        if codes.insert(code, facts).is_some() {
            return Err(format!("line {line_no}: code {code} repeats"));
        }
    }
    Ok(codes)
}

fn snapshot() -> BTreeMap<i16, Facts> {
    parse_snapshot(SNAPSHOT).unwrap_or_else(|e| panic!("kafka-4.1-error-codes.txt: {e}"))
}

fn table() -> BTreeMap<i16, Facts> {
    ErrorCode::ALL
        .iter()
        .map(|&error| {
            let facts = Facts {
                name: error.name().to_owned(),
                retriable: error.is_retriable(),
                invalidates_metadata: error.invalidates_metadata(),
            };
            (error.code(), facts)
        })
        .collect()
}

#[test]
fn table_matches_the_kafka_4_1_snapshot() {
    let upstream = snapshot();
    let ours = table();
    assert!(!upstream.is_empty(), "snapshot has no entries");

    let missing: Vec<_> = upstream
        .iter()
        .filter(|(code, _)| !ours.contains_key(code))
        .collect();
    let extra: Vec<_> = ours
        .iter()
        .filter(|(code, _)| !upstream.contains_key(code))
        .collect();
    let different: Vec<_> = upstream
        .iter()
        .filter_map(|(code, theirs)| {
            let mine = ours.get(code)?;
            (mine != theirs).then_some((code, theirs, mine))
        })
        .collect();

    assert!(
        missing.is_empty(),
        "codes missing from ErrorCode: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "codes in ErrorCode but not upstream: {extra:?}"
    );
    assert!(
        different.is_empty(),
        "codes that differ (code, upstream, ours): {different:?}"
    );
}

#[test]
fn every_snapshot_code_decodes_to_its_named_variant() {
    for (code, facts) in snapshot() {
        let error = ErrorCode::from_code(code);
        assert!(!matches!(error, ErrorCode::Unknown(_)), "{code} is Unknown");
        assert_eq!(error.name(), facts.name, "code {code}");
        assert_eq!(error.code(), code);
    }
}

#[test]
fn parser_rejects_a_mistyped_line() {
    let good = "# comment\n\n6 NOT_LEADER_OR_FOLLOWER retriable invalidates_metadata\n";
    assert_eq!(parse_snapshot(good).map(|codes| codes.len()), Ok(1));
    for bad in [
        "6 NOT_LEADER_OR_FOLLOWER retriabel invalidates_metadata\n",
        "6 NOT_LEADER_OR_FOLLOWER retriable\n",
        "six NOT_LEADER_OR_FOLLOWER retriable invalidates_metadata\n",
        "6 A retriable keeps_metadata\n6 B retriable keeps_metadata\n",
        "6 A retriable keeps_metadata\n7 A retriable keeps_metadata\n",
    ] {
        assert!(parse_snapshot(bad).is_err(), "accepted {bad:?}");
    }
}

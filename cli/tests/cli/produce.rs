//! `kiel produce` against a real broker, read back with Kafka's console consumer.

use std::collections::BTreeMap;

use kiel_testcontainers::ConsumedRecord;
use regex::Regex;

use crate::support::{cluster, kiel, kiel_with_open_stdin, unique, READ_TIMEOUT};

/// The summary line's parts: (produced, failed, bytes).
pub(crate) fn summary(stdout: &str, topic: &str) -> (u64, u64, u64) {
    let pattern = Regex::new(&format!(
        r"^(\d+) records produced to `{}`, (\d+) failed: (\d+) bytes in \d+\.\d{{3}} s \(\d+\.\d{{2}} records/s, \d+\.\d{{2}} MB/s\)$",
        regex::escape(topic)
    ))
    .unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "stdout should be the summary line only:\n{stdout}"
    );
    let caps = pattern
        .captures(lines[0])
        .unwrap_or_else(|| panic!("not a summary line: {:?}", lines[0]));
    let number = |i: usize| caps[i].parse::<u64>().unwrap();
    (number(1), number(2), number(3))
}

fn text(bytes: &Option<Vec<u8>>) -> Option<&[u8]> {
    bytes.as_deref()
}

type Headers<'a> = Vec<(&'a str, Option<&'a [u8]>)>;

fn headers(record: &ConsumedRecord) -> Headers<'_> {
    record
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_deref()))
        .collect()
}

#[tokio::test]
async fn keys_values_and_headers_from_stdin() {
    let cluster = cluster().await;
    let topic = unique("cli-produce");
    let input: &[u8] = b"h1:v1,h2:x:y\tkey-1\tvalue one\n\
                         \tkey-2\tvalue two\r\n\
                         h1:\tkey-3\t\n\
                         h3:NULL\tNULL\tNULL\n\
                         \tkey-5\tbin\x01\xff\\end";
    let run = kiel(
        &[
            "produce",
            "-b",
            &cluster.bootstrap(),
            "-t",
            &topic,
            "-K",
            "\\t",
            "--parse-headers",
            "-H",
            "source=cli",
            "--null-marker",
            "NULL",
            "-X",
            "acks=all",
            "-X",
            "linger.ms=1",
        ],
        input,
    )
    .await;
    run.expect_code(0);
    // key + value + header bytes, "source"+"cli" (9) on every record.
    let expected_bytes =
        (5 + 9 + 2 + 2 + 2 + 3 + 9) + (5 + 9 + 9) + (5 + 2 + 9) + (2 + 9) + (5 + 9 + 9);
    assert_eq!(summary(&run.stdout, &topic), (5, 0, expected_bytes));
    assert!(!run.stderr.contains("line "), "{}", run.stderr);

    let records = cluster
        .consume_all(&topic, 5, READ_TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("reading back {topic}: {e}"));
    assert_eq!(records.len(), 5);
    let by_value: BTreeMap<Option<&[u8]>, &ConsumedRecord> =
        records.iter().map(|r| (text(&r.value), r)).collect();
    let get = |value: Option<&[u8]>| -> &ConsumedRecord {
        by_value
            .get(&value)
            .unwrap_or_else(|| panic!("no record with value {value:?} in {records:?}"))
    };
    let source = ("source", Some(&b"cli"[..]));

    let r1 = get(Some(b"value one"));
    assert_eq!(text(&r1.key), Some(&b"key-1"[..]));
    assert_eq!(
        headers(r1),
        vec![source, ("h1", Some(&b"v1"[..])), ("h2", Some(&b"x:y"[..]))]
    );

    let r2 = get(Some(b"value two"));
    assert_eq!(text(&r2.key), Some(&b"key-2"[..]));
    assert_eq!(headers(r2), vec![source]);

    let r3 = get(Some(b""));
    assert_eq!(text(&r3.key), Some(&b"key-3"[..]));
    assert_eq!(headers(r3), vec![source, ("h1", Some(&b""[..]))]);

    let tombstone = get(None);
    assert_eq!(tombstone.key, None);
    assert_eq!(headers(tombstone), vec![source, ("h3", None)]);

    let binary = get(Some(b"bin\x01\xff\\end"));
    assert_eq!(text(&binary.key), Some(&b"key-5"[..]));
}

#[tokio::test]
async fn a_file_of_many_keyed_lines() {
    let cluster = cluster().await;
    let topic = unique("cli-file");
    let n = 3000u64;
    let content: String = (0..n).map(|i| format!("k{}:v{i}\n", i % 17)).collect();
    let dir = std::env::temp_dir().join(unique("kiel-cli-input"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("lines.txt");
    std::fs::write(&path, &content).unwrap();
    // --max-outstanding 7: the FIFO of pending records is cycled many times.
    let run = kiel(
        &[
            "produce",
            "--brokers",
            &cluster.bootstrap(),
            "--topic",
            &topic,
            "--file",
            path.to_str().unwrap(),
            "--key-separator",
            ":",
            "--max-outstanding",
            "7",
            "--stats",
        ],
        b"ignored\n",
    )
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    run.expect_code(0);
    let bytes: u64 = content.lines().map(|l| l.len() as u64 - 1).sum();
    assert_eq!(summary(&run.stdout, &topic), (n, 0, bytes));
    // --stats: the producer's metrics on stderr.
    assert!(
        run.stderr
            .contains("kiel: 3000 records acknowledged, 0 failed, 0 retried;"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("Produce requests, latency p50"),
        "{}",
        run.stderr
    );

    let records = cluster
        .consume_all(&topic, n as usize, READ_TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("reading back {topic}: {e}"));
    let mut seen: Vec<(String, String)> = records
        .iter()
        .map(|r| {
            (
                String::from_utf8(r.key.clone().unwrap()).unwrap(),
                String::from_utf8(r.value.clone().unwrap()).unwrap(),
            )
        })
        .collect();
    seen.sort_by_key(|(_, v)| v[1..].parse::<u64>().unwrap());
    let expected: Vec<(String, String)> = (0..n)
        .map(|i| (format!("k{}", i % 17), format!("v{i}")))
        .collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn failed_records_are_named_by_line_and_fail_the_run() {
    let cluster = cluster().await;
    let topic = unique("cli-fail");
    let long = "x".repeat(5000);
    let input = format!("a:1\nb:{long}\nc:3\nno separator\nd:5\n");
    let run = kiel(
        &[
            "produce",
            "-b",
            &cluster.bootstrap(),
            "-t",
            &topic,
            "-K",
            ":",
            "-X",
            "max.request.size=1000",
        ],
        input.as_bytes(),
    )
    .await;
    run.expect_code(1);
    assert_eq!(summary(&run.stdout, &topic), (3, 2, 6));
    let failures: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("kiel: line "))
        .collect();
    assert_eq!(failures.len(), 2, "{}", run.stderr);
    assert!(
        failures[0].starts_with("kiel: line 2: ") && failures[0].contains("max.request.size"),
        "{}",
        failures[0]
    );
    assert!(
        failures[1].starts_with("kiel: line 4: no key separator `:`"),
        "{}",
        failures[1]
    );
    assert!(
        run.stderr.contains("kiel: error: 2 of 5 records failed"),
        "{}",
        run.stderr
    );

    let records = cluster
        .consume_all(&topic, 3, READ_TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("reading back {topic}: {e}"));
    let mut keys: Vec<Vec<u8>> = records.iter().map(|r| r.key.clone().unwrap()).collect();
    keys.sort();
    assert_eq!(keys, vec![b"a".to_vec(), b"c".to_vec(), b"d".to_vec()]);
}

#[tokio::test]
async fn the_failure_list_is_capped() {
    let cluster = cluster().await;
    let topic = unique("cli-cap");
    let input: String = (0..20).map(|i| format!("no key {i}\n")).collect();
    let run = kiel(
        &[
            "produce",
            "-b",
            &cluster.bootstrap(),
            "-t",
            &topic,
            "-K",
            "=",
            "--max-errors",
            "3",
        ],
        input.as_bytes(),
    )
    .await;
    run.expect_code(1);
    assert_eq!(summary(&run.stdout, &topic), (0, 20, 0));
    let listed: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("kiel: line "))
        .collect();
    assert_eq!(listed.len(), 3, "{}", run.stderr);
    assert!(listed[0].starts_with("kiel: line 1: "), "{}", listed[0]);
    assert!(
        run.stderr.contains("... and 17 more failed records"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn a_line_is_sent_while_stdin_stays_open() {
    use std::process::Stdio;
    use tokio::io::AsyncWriteExt;

    let cluster = cluster().await;
    let topic = unique("cli-interactive");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_kiel"))
        .args([
            "produce",
            "-b",
            &cluster.bootstrap(),
            "-t",
            &topic,
            "-K",
            ":",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"typed:first line\n").await.unwrap();
    stdin.flush().await.unwrap();
    // The record arrives although the input is neither finished nor a full batch.
    let records = cluster
        .consume_all(&topic, 1, READ_TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("reading back {topic}: {e}"));
    assert_eq!(text(&records[0].key), Some(&b"typed"[..]));
    assert_eq!(text(&records[0].value), Some(&b"first line"[..]));
    stdin.write_all(b"typed:second line\n").await.unwrap();
    drop(stdin);
    let output = tokio::time::timeout(READ_TIMEOUT, child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(summary(&stdout, &topic), (2, 0, 5 + 10 + 5 + 11));
}

#[tokio::test]
async fn an_invalid_topic_name_is_refused_before_reading_input() {
    // Before: the whole input was read and every record failed, exit 1. Now the name is
    // checked first; stdin stays open, so a command that read it would never end.
    let cluster = cluster().await;
    let run =
        kiel_with_open_stdin(&["produce", "-b", &cluster.bootstrap(), "-t", "bad topic!"]).await;
    run.expect_code(2);
    assert_eq!(run.stdout, "", "nothing was produced, so no summary");
    assert!(run.stderr.contains("`bad topic!`"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("1 to 249 characters of ASCII letters, digits, `.`, `_` and `-`"),
        "the message says what a valid name is: {}",
        run.stderr
    );
}

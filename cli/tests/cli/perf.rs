//! `kiel perf`: ProducerPerformance's output, line for line.

use regex::Regex;

use crate::support::{cluster, kiel, unique};

/// The final line's numbers.
#[derive(Debug)]
pub(crate) struct Total {
    pub(crate) records: u64,
    records_per_sec: f64,
    mb_per_sec: f64,
    avg_ms: f64,
    max_ms: f64,
    percentiles: [u64; 4],
}

const TOTAL: &str = r"^(\d+) records sent, (\d+\.\d{6}) records/sec \((\d+\.\d{2}) MB/sec\), (\d+\.\d{2}) ms avg latency, (\d+\.\d{2}) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th\.$";
const WINDOW: &str = r"^(\d+) records sent, (\d+\.\d) records/sec \((\d+\.\d{2}) MB/sec\), (\d+\.\d) ms avg latency, (\d+\.\d) ms max latency\.$";

/// Checks that stdout is progress lines followed by one final line, and parses them.
pub(crate) fn parse_output(stdout: &str, record_size: u64) -> (Vec<u64>, Total) {
    let total = Regex::new(TOTAL).unwrap();
    let window = Regex::new(WINDOW).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    let (last, progress) = lines
        .split_last()
        .unwrap_or_else(|| panic!("no output:\n{stdout}"));
    let windows: Vec<u64> = progress
        .iter()
        .map(|line| {
            let caps = window
                .captures(line)
                .unwrap_or_else(|| panic!("not a progress line: {line:?}"));
            caps[1].parse().unwrap()
        })
        .collect();
    let caps = total
        .captures(last)
        .unwrap_or_else(|| panic!("not a final line: {last:?}"));
    let f = |i: usize| caps[i].parse::<f64>().unwrap();
    let n = |i: usize| caps[i].parse::<u64>().unwrap();
    let parsed = Total {
        records: n(1),
        records_per_sec: f(2),
        mb_per_sec: f(3),
        avg_ms: f(4),
        max_ms: f(5),
        percentiles: [n(6), n(7), n(8), n(9)],
    };
    // The numbers agree with each other.
    let p = parsed.percentiles;
    assert!(p[0] <= p[1] && p[1] <= p[2] && p[2] <= p[3], "{parsed:?}");
    assert!(p[3] as f64 <= parsed.max_ms, "{parsed:?}");
    assert!(parsed.avg_ms <= parsed.max_ms, "{parsed:?}");
    assert_eq!(
        parsed.records_per_sec > 0.0,
        parsed.records > 0,
        "{parsed:?}"
    );
    let expected_mb = parsed.records_per_sec * record_size as f64 / (1024.0 * 1024.0);
    assert!(
        (parsed.mb_per_sec - expected_mb).abs() <= 0.0051,
        "{parsed:?}: MB/sec should be {expected_mb}"
    );
    (windows, parsed)
}

#[tokio::test]
async fn unthrottled_run_prints_the_final_line() {
    let cluster = cluster().await;
    let topic = unique("cli-perf");
    let run = kiel(
        &[
            "perf",
            "--num-records",
            "20000",
            "--record-size",
            "100",
            "--throughput",
            "-1",
            "--brokers",
            &cluster.bootstrap(),
            "--topic",
            &topic,
        ],
        b"",
    )
    .await;
    run.expect_code(0);
    let (windows, total) = parse_output(&run.stdout, 100);
    assert_eq!(total.records, 20_000, "{}", run.stdout);
    // Progress lines count records acknowledged within each 5 s window.
    assert!(windows.iter().sum::<u64>() <= 20_000, "{}", run.stdout);
    let ends = cluster.end_offsets(&topic).await.unwrap();
    assert_eq!(
        ends.iter().map(|(_, o)| *o).sum::<i64>(),
        20_000,
        "{ends:?}"
    );
}

#[tokio::test]
async fn transactional_runs_commit_every_record_in_transactions() {
    let cluster = cluster().await;
    let topic = unique("cli-perf-txn");
    cluster.create_topic(&topic, 3, 1, &[]).await.unwrap();
    let run = kiel(
        &[
            "perf",
            "--num-records",
            "20000",
            "--record-size",
            "100",
            "--throughput",
            "10000",
            "--brokers",
            &cluster.bootstrap(),
            "--topic",
            &topic,
            "--transactional-id",
            &unique("cli-perf-txn"),
            "--transaction-duration-ms",
            "300",
        ],
        b"",
    )
    .await;
    run.expect_code(0);
    let (_, total) = parse_output(&run.stdout, 100);
    assert_eq!(total.records, 20_000, "{}", run.stdout);
    let committed = transactions_committed(&run.stderr);
    // About 2 s at 10,000 records/s, a commit every 300 ms.
    assert!((3..=20).contains(&committed), "{committed} transactions");
    // Every record once, read committed; the rest of the log is the commit markers.
    let mut options =
        kiel_testcontainers::ReadOptions::new(20_000, std::time::Duration::from_secs(30));
    options.read_committed = true;
    let read = cluster.consume_with(&topic, &options).await.unwrap();
    assert_eq!(read.len(), 20_000);
    let ends: i64 = cluster
        .end_offsets(&topic)
        .await
        .unwrap()
        .iter()
        .map(|(_, o)| o)
        .sum();
    let markers = ends - 20_000;
    assert!(
        markers >= committed as i64 && markers <= 3 * committed as i64,
        "{markers} markers for {committed} transactions over 3 partitions"
    );
}

#[tokio::test]
async fn transactions_of_a_fixed_size_hold_that_many_records() {
    let cluster = cluster().await;
    let topic = unique("cli-perf-txn-size");
    cluster.create_topic(&topic, 1, 1, &[]).await.unwrap();
    let run = kiel(
        &[
            "perf",
            "--num-records",
            "10500",
            "--record-size",
            "100",
            "--throughput",
            "-1",
            "--brokers",
            &cluster.bootstrap(),
            "--topic",
            &topic,
            "--transaction-records",
            "1000",
        ],
        b"",
    )
    .await;
    run.expect_code(0);
    let committed = transactions_committed(&run.stderr);
    // Ten of 1,000 and the last 500.
    assert_eq!(committed, 11, "{}", run.stderr);
    // The metrics summary: every record acknowledged, none retried or failed.
    assert!(
        run.stderr
            .contains("kiel perf: 10500 records acknowledged, 0 failed, 0 retried;"),
        "{}",
        run.stderr
    );
    // One partition: every transaction leaves one commit marker.
    let ends = cluster.end_offsets(&topic).await.unwrap();
    assert_eq!(ends.iter().map(|(_, o)| *o).sum::<i64>(), 10_500 + 11);
}

#[tokio::test]
async fn records_that_wait_for_buffer_room_are_all_counted() {
    let cluster = cluster().await;
    let topic = unique("cli-perf-small-buffer");
    // A 64 KiB buffer is full most of the time: most records wait for room.
    let run = kiel(
        &[
            "perf",
            "--num-records",
            "10000",
            "--record-size",
            "200",
            "--throughput",
            "-1",
            "--brokers",
            &cluster.bootstrap(),
            "--topic",
            &topic,
            "-X",
            "buffer.memory=65536",
            "-X",
            "batch.size=8192",
        ],
        b"",
    )
    .await;
    run.expect_code(0);
    let (_, total) = parse_output(&run.stdout, 200);
    assert_eq!(total.records, 10_000, "{}", run.stdout);
    let ends = cluster.end_offsets(&topic).await.unwrap();
    assert_eq!(
        ends.iter().map(|(_, o)| *o).sum::<i64>(),
        10_000,
        "{ends:?}"
    );
}

#[tokio::test]
async fn throttled_run_holds_the_rate_and_prints_progress() {
    let cluster = cluster().await;
    let topic = unique("cli-perf-throttled");
    // 12,000 records at 2,000 records/s: about 6 s, so one 5 s progress line.
    let run = kiel(
        &[
            "perf",
            "--num-records",
            "12000",
            "--record-size",
            "64",
            "--throughput",
            "2000",
            "--brokers",
            &cluster.bootstrap(),
            "--topic",
            &topic,
            "-X",
            "acks=1",
        ],
        b"",
    )
    .await;
    run.expect_code(0);
    let (windows, total) = parse_output(&run.stdout, 64);
    assert_eq!(total.records, 12_000);
    assert!(
        total.records_per_sec <= 2000.0 * 1.05,
        "throttled to 2000 records/s: {total:?}"
    );
    assert!(
        total.records_per_sec >= 2000.0 * 0.5,
        "far below the target: {total:?}"
    );
    assert_eq!(
        windows.len(),
        1,
        "one progress line expected:\n{}",
        run.stdout
    );
    assert!((8_000..=12_000).contains(&windows[0]), "{}", run.stdout);
}

#[tokio::test]
async fn a_record_that_can_never_be_sent_fails_the_run() {
    let cluster = cluster().await;
    let topic = unique("cli-perf-too-large");
    let run = kiel(
        &[
            "perf",
            "--num-records",
            "100",
            "--record-size",
            "5000",
            "--throughput",
            "-1",
            "--brokers",
            &cluster.bootstrap(),
            "--topic",
            &topic,
            "-X",
            "max.request.size=1000",
        ],
        b"",
    )
    .await;
    run.expect_code(1);
    let (_, total) = parse_output(&run.stdout, 5000);
    assert_eq!(total.records, 0);
    assert!(run.stderr.contains("max.request.size"), "{}", run.stderr);
}

#[tokio::test]
async fn without_brokers_a_local_kafka_is_started_and_stopped() {
    if let Some(bootstrap) = kiel_testcontainers::bootstrap_from_env() {
        eprintln!("KAFKA_BOOTSTRAP={bootstrap} is set: not starting a second, local Kafka");
        return;
    }
    let topic = unique("cli-perf-local");
    let run = kiel(
        &[
            "perf",
            "--topic",
            &topic,
            "--num-records",
            "5000",
            "--record-size",
            "10",
            "--throughput",
            "-1",
            "--partitions",
            "3",
        ],
        b"",
    )
    .await;
    run.expect_code(0);
    let (_, total) = parse_output(&run.stdout, 10);
    assert_eq!(total.records, 5000);
    let status = Regex::new(
        r"(?m)^kiel perf: Apache Kafka [0-9.]+ is running at 127\.0\.0\.1:\d+ \(started in \d+\.\d s; files in .+\)$",
    )
    .unwrap();
    assert!(
        run.stderr.contains("starting a local Apache Kafka"),
        "{}",
        run.stderr
    );
    assert!(status.is_match(&run.stderr), "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("creating topic `{topic}` with 3 partitions")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("stopping the local Kafka"),
        "{}",
        run.stderr
    );
    // The broker's folder is gone once the command has exited.
    let folder = run
        .stderr
        .lines()
        .find_map(|l| l.split("files in ").nth(1))
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("no folder in {}", run.stderr));
    assert!(
        !std::path::Path::new(folder).exists(),
        "{folder} was left behind"
    );
}

#[tokio::test]
async fn an_invalid_topic_name_is_refused_before_sending() {
    // Before: every record failed with InvalidTopic and the run exited with 1.
    let cluster = cluster().await;
    let run = kiel(
        &[
            "perf",
            "--num-records",
            "100",
            "--record-size",
            "10",
            "--throughput",
            "-1",
            "--brokers",
            &cluster.bootstrap(),
            "--topic",
            "bad/topic",
        ],
        b"",
    )
    .await;
    run.expect_code(2);
    assert_eq!(run.stdout, "", "no perf lines");
    assert!(run.stderr.contains("`bad/topic`"), "{}", run.stderr);
    assert!(run.stderr.contains("1 to 249 characters"), "{}", run.stderr);
}

/// The count of `kiel perf: N transactions committed` on stderr.
fn transactions_committed(stderr: &str) -> u64 {
    Regex::new(r"kiel perf: (\d+) transactions committed")
        .unwrap()
        .captures(stderr)
        .and_then(|c| c[1].parse().ok())
        .unwrap_or_else(|| panic!("no transaction count: {stderr}"))
}

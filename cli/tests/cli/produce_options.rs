//! `kiel produce -p/--partition` and `--delivery-report json` against a real broker.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::support::{cluster, kiel, kiel_with_open_stdin, unique, READ_TIMEOUT};

#[tokio::test]
async fn every_record_goes_to_the_partition_given_with_p() {
    let cluster = cluster().await;
    let topic = unique("cli-partition");
    cluster.create_topic(&topic, 3, 1, &[]).await.unwrap();
    // Keys that the partitioner would spread over all three partitions.
    let input: String = (0..30).map(|i| format!("k{i}:v{i}\n")).collect();
    let run = kiel(
        &[
            "produce",
            "-b",
            &cluster.bootstrap(),
            "-t",
            &topic,
            "-K",
            ":",
            "-p",
            "2",
        ],
        input.as_bytes(),
    )
    .await;
    run.expect_code(0);
    assert!(
        run.stdout
            .starts_with(&format!("30 records produced to `{topic}`, 0 failed")),
        "{}",
        run.stdout
    );
    let ends = cluster.end_offsets(&topic).await.unwrap();
    assert_eq!(ends, vec![(0, 0), (1, 0), (2, 30)]);
    let records = cluster
        .consume_all(&topic, 30, READ_TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("reading back {topic}: {e}"));
    let values: Vec<(i32, i64, String)> = records
        .iter()
        .map(|r| {
            (
                r.partition,
                r.offset,
                String::from_utf8(r.value.clone().unwrap()).unwrap(),
            )
        })
        .collect();
    let expected: Vec<(i32, i64, String)> = (0..30).map(|i| (2, i, format!("v{i}"))).collect();
    assert_eq!(values, expected);
}

#[tokio::test]
async fn a_partition_the_topic_does_not_have_is_refused_before_reading_input() {
    let cluster = cluster().await;
    let topic = unique("cli-no-such-partition");
    cluster.create_topic(&topic, 3, 1, &[]).await.unwrap();
    let run = kiel_with_open_stdin(&[
        "produce",
        "-b",
        &cluster.bootstrap(),
        "-t",
        &topic,
        "--partition",
        "3",
    ])
    .await;
    run.expect_code(2);
    assert_eq!(run.stdout, "", "nothing was produced, so no summary");
    assert!(
        run.stderr.contains(&format!(
            "--partition 3: topic `{topic}` has 3 partitions (0 to 2)"
        )),
        "{}",
        run.stderr
    );
    let ends = cluster.end_offsets(&topic).await.unwrap();
    assert_eq!(ends, vec![(0, 0), (1, 0), (2, 0)]);
}

fn field<'a>(report: &'a Value, name: &str) -> &'a Value {
    report
        .get(name)
        .unwrap_or_else(|| panic!("no `{name}` in {report}"))
}

#[tokio::test]
async fn delivery_report_json_has_one_line_per_record_in_input_order() {
    let cluster = cluster().await;
    let topic = unique("cli-delivery-report");
    cluster.create_topic(&topic, 3, 1, &[]).await.unwrap();
    // 200 lines: line 50 has no key separator, line 120 is too large, the rest are records
    // with keys spread over the three partitions (one with a quote and a tab to escape).
    let long = "x".repeat(2000);
    let lines: Vec<String> = (1..=200)
        .map(|line| match line {
            50 => "no separator".to_owned(),
            120 => format!("big:{long}"),
            77 => "say \"hi\"\\t:v77".to_owned(),
            _ => format!("k{line}:v{line}"),
        })
        .collect();
    let input: String = lines.iter().map(|l| format!("{l}\n")).collect();
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
            "--delivery-report",
            "json",
        ],
        input.as_bytes(),
    )
    .await;
    run.expect_code(1);
    // stdout is the report only; the summary went to stderr.
    assert!(
        run.stderr
            .contains(&format!("198 records produced to `{topic}`, 2 failed")),
        "{}",
        run.stderr
    );
    let reports: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect();
    assert_eq!(reports.len(), 200, "{}", run.stdout);

    let records = cluster
        .consume_all(&topic, 198, READ_TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("reading back {topic}: {e}"));
    let stored: BTreeMap<(i64, i64), &kiel_testcontainers::ConsumedRecord> = records
        .iter()
        .map(|r| ((i64::from(r.partition), r.offset), r))
        .collect();

    let mut last_offset: BTreeMap<i64, i64> = BTreeMap::new();
    for (i, report) in reports.iter().enumerate() {
        let line = i as u64 + 1;
        assert_eq!(field(report, "line").as_u64(), Some(line), "{report}");
        assert_eq!(field(report, "topic").as_str(), Some(topic.as_str()));
        let partition = field(report, "partition").as_i64().unwrap();
        match line {
            50 | 120 => {
                assert_eq!(partition, -1, "{report}");
                assert!(report.get("offset").is_none(), "{report}");
                let (code, error) = if line == 50 {
                    ("BAD_LINE", "no key separator `:`")
                } else {
                    ("RECORD_TOO_LARGE", "max.request.size")
                };
                assert_eq!(field(report, "error_code").as_str(), Some(code), "{report}");
                let message = field(report, "error").as_str().unwrap();
                assert!(message.contains(error), "{report}");
            }
            _ => {
                assert!(report.get("error").is_none(), "{report}");
                let offset = field(report, "offset").as_i64().unwrap();
                assert_eq!(field(report, "tstype").as_str(), Some("create"));
                assert!(field(report, "ts").as_i64().unwrap() > 1_600_000_000_000);
                // Per partition, the report follows the offsets (produce order).
                if let Some(previous) = last_offset.insert(partition, offset) {
                    assert!(offset > previous, "{report} after offset {previous}");
                }
                let expected_key = lines[i].split_once(':').unwrap().0;
                assert_eq!(field(report, "key").as_str(), Some(expected_key));
                // The broker has this record at that partition and offset.
                let record = stored
                    .get(&(partition, offset))
                    .unwrap_or_else(|| panic!("{report}: no such record"));
                assert_eq!(record.key.as_deref(), Some(expected_key.as_bytes()));
                assert_eq!(record.value.as_deref(), Some(format!("v{line}").as_bytes()));
            }
        }
    }
    assert_eq!(last_offset.len(), 3, "all partitions were used");
}

#[tokio::test]
async fn delivery_report_shows_the_partition_given_with_p_and_null_keys() {
    let cluster = cluster().await;
    let topic = unique("cli-delivery-report-p");
    cluster.create_topic(&topic, 2, 1, &[]).await.unwrap();
    let run = kiel(
        &[
            "produce",
            "-b",
            &cluster.bootstrap(),
            "-t",
            &topic,
            "-p",
            "1",
            "--delivery-report",
            "json",
        ],
        b"a\nb\nc\n",
    )
    .await;
    run.expect_code(0);
    let reports: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect();
    let placed: Vec<(i64, i64, bool)> = reports
        .iter()
        .map(|r| {
            (
                field(r, "partition").as_i64().unwrap(),
                field(r, "offset").as_i64().unwrap(),
                field(r, "key").is_null(),
            )
        })
        .collect();
    assert_eq!(placed, vec![(1, 0, true), (1, 1, true), (1, 2, true)]);
}

//! The race's report in markdown: the median table and the list of places where kiel is
//! behind a peer.

use crate::clients::Client;
use crate::report::MedianRow;
use crate::workload::{format_size, Brokers, Phase};

/// `1234567.8` as `1,234,568`.
pub fn thousands(value: f64) -> String {
    let rounded = value.round();
    let digits = format!("{}", rounded.abs() as u64);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if rounded < 0.0 {
        format!("-{out}")
    } else {
        out
    }
}

fn cell(value: Option<f64>, format: impl Fn(f64) -> String) -> String {
    value.map_or_else(|| "—".to_owned(), format)
}

/// How a phase is shown in the run column: `max` or the target rate.
fn run_label(row: &MedianRow) -> String {
    match (row.phase, row.target_rate) {
        (Phase::Throughput, _) => "max rate".to_owned(),
        (Phase::Latency, Some(rate)) => format!("at {}/s", thousands(rate)),
        (Phase::Latency, None) => "latency".to_owned(),
    }
}

/// The median table: one row per workload, phase and client; the workload columns are
/// filled on the first row of each group only.
pub fn render_table(rows: &[MedianRow]) -> String {
    let mut out = String::from(
        "| brokers | record | codec | run | client | records/s | MB/s | CPU s / M records | peak RSS MiB | p50 ms | p99 ms | runs ok |\n\
         |---|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|\n",
    );
    let mut previous = None;
    for row in rows {
        let group = (row.workload, row.phase);
        let first = previous != Some(group);
        previous = Some(group);
        let brokers = match row.workload.brokers {
            Brokers::Local(n) => n.to_string(),
            Brokers::External => "ext".to_owned(),
        };
        let lead = if first {
            format!(
                "| {brokers} | {} | {} | {} ",
                format_size(row.workload.record_size),
                row.workload.codec,
                run_label(row)
            )
        } else {
            "| | | | ".to_owned()
        };
        let records_per_sec = match row.not_run() {
            Some(reason) => format!("not run: {}", table_text(reason, 120)),
            None => cell(row.records_per_sec, thousands),
        };
        out.push_str(&format!(
            "{lead}| {} | {} | {} | {} | {} | {} | {} | {}/{} |\n",
            row.client,
            records_per_sec,
            cell(row.mb_per_sec, |v| format!("{v:.2}")),
            cell(row.cpu_per_million, |v| format!("{v:.2}")),
            cell(row.rss_mib, |v| format!("{v:.0}")),
            cell(row.p50_ms, |v| format!("{v:.0}")),
            cell(row.p99_ms, |v| format!("{v:.0}")),
            row.runs_ok,
            row.runs
        ));
    }
    out
}

/// `text` fit for a table cell: no `|` or line ends, at most `max` characters.
pub fn table_text(text: &str, max: usize) -> String {
    let clean: String = text
        .chars()
        .map(|c| match c {
            '|' => '/',
            '\n' | '\r' => ' ',
            c => c,
        })
        .collect();
    if clean.chars().count() > max {
        let cut: String = clean.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    } else {
        clean
    }
}

fn percent(ours: f64, theirs: f64) -> String {
    if theirs == 0.0 {
        return String::new();
    }
    format!(" ({:+.0}%)", (ours / theirs - 1.0) * 100.0)
}

/// Where kiel's median is worse than a peer's in the same workload and phase: lower
/// records/s in a throughput run, more CPU per record, a larger peak RSS, or (latency runs,
/// by at least 1 ms, the percentiles' resolution) a higher p99. One line per kiel figure,
/// naming every peer ahead of it (`... vs rdkafka-future 8.26 (+56%), rdkafka-base 3.85
/// (+234%)`), so no figure of kiel's is listed twice; then the workloads where kiel's runs
/// failed or were not made.
pub fn kiel_losses(rows: &[MedianRow]) -> Vec<String> {
    let mut losses: Vec<String> = Vec::new();
    for kiel in rows.iter().filter(|r| r.client == Client::Kiel) {
        let context = format!("{}, {}", kiel.workload.label(), run_label(kiel));
        // Each peer once, even if its row is given twice.
        let mut peers: Vec<&MedianRow> = Vec::new();
        for row in rows.iter().filter(|r| {
            r.client != Client::Kiel && r.workload == kiel.workload && r.phase == kiel.phase
        }) {
            if !peers.iter().any(|p| p.client == row.client) {
                peers.push(row);
            }
        }
        // Each figure: kiel's value, the peers ahead with theirs, and how to write them.
        let mut figure = |ours: Option<f64>,
                          theirs: fn(&MedianRow) -> Option<f64>,
                          behind: fn(f64, f64) -> bool,
                          ours_text: &dyn Fn(f64) -> String,
                          theirs_text: &dyn Fn(f64, f64) -> String| {
            let Some(ours) = ours else { return };
            let ahead: Vec<String> = peers
                .iter()
                .filter_map(|p| theirs(p).map(|t| (p.client.name(), t)))
                .filter(|(_, t)| behind(ours, *t))
                .map(|(name, t)| format!("{name} {}", theirs_text(ours, t)))
                .collect();
            if !ahead.is_empty() {
                let line = format!("{context}: {} vs {}", ours_text(ours), ahead.join(", "));
                if !losses.contains(&line) {
                    losses.push(line);
                }
            }
        };
        if kiel.phase == Phase::Throughput {
            figure(
                kiel.records_per_sec,
                |r| r.records_per_sec,
                |ours, theirs| ours < theirs,
                &|ours| format!("records/s {}", thousands(ours)),
                &|ours, theirs| format!("{}{}", thousands(theirs), percent(ours, theirs)),
            );
        }
        figure(
            kiel.cpu_per_million,
            |r| r.cpu_per_million,
            |ours, theirs| ours > theirs,
            &|ours| format!("CPU s per M records {ours:.2}"),
            &|ours, theirs| format!("{theirs:.2}{}", percent(ours, theirs)),
        );
        figure(
            kiel.rss_mib,
            |r| r.rss_mib,
            |ours, theirs| ours > theirs,
            &|ours| format!("peak RSS {ours:.0} MiB"),
            &|ours, theirs| format!("{theirs:.0} MiB{}", percent(ours, theirs)),
        );
        if kiel.phase == Phase::Latency {
            figure(
                kiel.p99_ms,
                |r| r.p99_ms,
                |ours, theirs| ours >= theirs + 1.0,
                &|ours| format!("p99 {ours:.0} ms"),
                &|_, theirs| format!("{theirs:.0} ms"),
            );
        }
        let line = match kiel.not_run() {
            Some(reason) => format!("{context}: kiel not run: {reason}"),
            None if kiel.runs_ok < kiel.runs => format!(
                "{context}: only {} of {} kiel runs succeeded",
                kiel.runs_ok, kiel.runs
            ),
            None => continue,
        };
        if !losses.contains(&line) {
            losses.push(line);
        }
    }
    losses
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::medians;
    use crate::report::tests::{figures, run};

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0.4), "0");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(291_911.479), "291,911");
        assert_eq!(thousands(1_234_567.5), "1,234,568");
        assert_eq!(thousands(-12_345.0), "-12,345");
    }

    fn sample_rows() -> Vec<MedianRow> {
        medians(&[
            run(
                Client::Kiel,
                Phase::Throughput,
                0,
                Ok(figures(250_000.0, 2.0, 40, 500.0)),
            ),
            run(
                Client::RdkafkaBase,
                Phase::Throughput,
                0,
                Ok(figures(300_000.0, 2.5, 30, 450.0)),
            ),
            run(Client::Java, Phase::Throughput, 0, Err("exit 1".into())),
            run(
                Client::Kiel,
                Phase::Latency,
                0,
                Ok(figures(50_000.0, 1.0, 30, 9.0)),
            ),
            run(
                Client::RdkafkaBase,
                Phase::Latency,
                0,
                Ok(figures(50_000.0, 0.5, 35, 4.0)),
            ),
        ])
    }

    #[test]
    fn the_table_has_a_row_per_client_and_the_workload_once_per_group() {
        let table = render_table(&sample_rows());
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 2 + 5, "{table}");
        assert!(lines[0].starts_with("| brokers | record | codec | run | client |"));
        assert_eq!(
            lines[2],
            "| 1 | 100 B | none | max rate | kiel | 250,000 | 23.84 | 2.00 | 40 | 125 | 500 | 1/1 |"
        );
        assert!(
            lines[3].starts_with("| | | | | rdkafka-base | 300,000 |"),
            "{}",
            lines[3]
        );
        assert_eq!(lines[4], "| | | | | java | — | — | — | — | — | — | 0/1 |");
        assert!(
            lines[5].starts_with("| 1 | 100 B | none | at 50,000/s | kiel |"),
            "{}",
            lines[5]
        );
        let columns = |l: &str| l.matches('|').count();
        assert!(
            lines.iter().all(|l| columns(l) == columns(lines[0])),
            "{table}"
        );
    }

    #[test]
    fn losses_name_each_figure_where_kiel_is_behind() {
        let losses = kiel_losses(&sample_rows());
        assert_eq!(losses.len(), 4, "{losses:#?}");
        assert_eq!(
            losses[0],
            "1 broker, 100 B, none, max rate: records/s 250,000 vs rdkafka-base 300,000 (-17%)"
        );
        assert!(
            losses[1].contains("peak RSS 40 MiB vs rdkafka-base 30 MiB (+33%)"),
            "{}",
            losses[1]
        );
        assert!(
            losses[2]
                .contains("at 50,000/s: CPU s per M records 1.00 vs rdkafka-base 0.50 (+100%)"),
            "{}",
            losses[2]
        );
        assert!(
            losses[3].contains("p99 9 ms vs rdkafka-base 4 ms"),
            "{}",
            losses[3]
        );
    }

    #[test]
    fn each_figure_of_kiel_is_listed_once_with_every_peer_ahead() {
        let rows = medians(&[
            run(
                Client::Kiel,
                Phase::Latency,
                0,
                Ok(figures(5_000.0, 12.86, 8, 5.0)),
            ),
            run(
                Client::RdkafkaFuture,
                Phase::Latency,
                0,
                Ok(figures(5_000.0, 8.26, 9, 29.0)),
            ),
            run(
                Client::RdkafkaBase,
                Phase::Latency,
                0,
                Ok(figures(5_000.0, 3.85, 8, 29.0)),
            ),
            run(
                Client::Java,
                Phase::Latency,
                0,
                Ok(figures(5_000.0, 117.66, 146, 18.0)),
            ),
        ]);
        let losses = kiel_losses(&rows);
        assert_eq!(
            losses,
            ["1 broker, 100 B, none, at 50,000/s: CPU s per M records 12.86 vs rdkafka-future 8.26 (+56%), rdkafka-base 3.85 (+234%)"]
        );
        // Rows given twice (a report redrawn from runs listed twice) still give each line once.
        let twice: Vec<MedianRow> = rows.iter().chain(rows.iter()).cloned().collect();
        assert_eq!(kiel_losses(&twice), losses);
    }

    #[test]
    fn clients_not_run_say_why_in_the_table() {
        use crate::report::NOT_RUN;
        let rows = medians(&[
            run(
                Client::Kiel,
                Phase::Throughput,
                0,
                Err(format!(
                    "{NOT_RUN}exit 2: error: unexpected argument '--keys' found"
                )),
            ),
            run(
                Client::FranzGo,
                Phase::Throughput,
                0,
                Err(format!("{NOT_RUN}go/franz-perf | missing")),
            ),
        ]);
        let table = render_table(&rows);
        assert!(
            table.contains(
                "| kiel | not run: exit 2: error: unexpected argument '--keys' found | — |"
            ),
            "{table}"
        );
        assert!(
            table.contains("| franz-go | not run: go/franz-perf / missing |"),
            "{table}"
        );
        let losses = kiel_losses(&rows);
        assert_eq!(
            losses,
            ["1 broker, 100 B, none, max rate: kiel not run: exit 2: error: unexpected argument '--keys' found"]
        );
        assert_eq!(table_text("abcdef", 4), "abc…");
    }
}

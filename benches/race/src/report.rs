//! The runs of a race and their medians per workload, phase and client.

use crate::clients::Client;
use crate::settings::Acks;
use crate::stats::median;
use crate::summary::PerfSummary;
use crate::workload::{Brokers, Phase, Workload, DEFAULT_PARTITIONS};

/// Bytes in a MiB.
const MIB: f64 = 1024.0 * 1024.0;

/// How the error of a run that was not made begins: the client could not be built, does
/// not support the workload (exit 2 or 3, or known beforehand), or its connection.
pub const NOT_RUN: &str = "not run: ";

/// Whether `error` says the run was not made (rather than made and failed).
pub fn is_not_run(error: &str) -> bool {
    error.starts_with(NOT_RUN)
}

/// What one finished run measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunFigures {
    /// The client's own summary line.
    pub summary: PerfSummary,
    /// User + system CPU seconds of the client process.
    pub cpu_secs: f64,
    /// Peak RSS of the client process, bytes.
    pub max_rss_bytes: u64,
    /// Wall-clock seconds of the whole process, start-up included.
    pub wall_secs: f64,
}

impl RunFigures {
    /// CPU seconds per million acknowledged records.
    pub fn cpu_per_million(&self) -> f64 {
        if self.summary.records == 0 {
            f64::NAN
        } else {
            self.cpu_secs / self.summary.records as f64 * 1e6
        }
    }

    /// Peak RSS in MiB.
    pub fn rss_mib(&self) -> f64 {
        self.max_rss_bytes as f64 / MIB
    }
}

/// One run of one client.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    /// The workload.
    pub workload: Workload,
    /// Throughput or latency run.
    pub phase: Phase,
    /// Records/s asked for (latency runs).
    pub target_rate: Option<f64>,
    /// The round, from 0.
    pub round: usize,
    /// Who ran.
    pub client: Client,
    /// Records asked for.
    pub records: u64,
    /// The figures, or why there are none.
    pub result: Result<RunFigures, String>,
}

/// The medians of one client's runs in one phase of one workload.
#[derive(Debug, Clone, PartialEq)]
pub struct MedianRow {
    /// The workload.
    pub workload: Workload,
    /// Throughput or latency run.
    pub phase: Phase,
    /// Records/s asked for (latency runs).
    pub target_rate: Option<f64>,
    /// The client.
    pub client: Client,
    /// Runs that succeeded.
    pub runs_ok: usize,
    /// Runs made.
    pub runs: usize,
    /// Median records/s.
    pub records_per_sec: Option<f64>,
    /// Median MB/s (MiB).
    pub mb_per_sec: Option<f64>,
    /// Median CPU seconds per million records.
    pub cpu_per_million: Option<f64>,
    /// Median peak RSS, MiB.
    pub rss_mib: Option<f64>,
    /// Median of the runs' median latencies, ms.
    pub p50_ms: Option<f64>,
    /// Median of the runs' 99th percentile latencies, ms.
    pub p99_ms: Option<f64>,
    /// When no run succeeded: the first run's error, first line (`not run: ...` when the
    /// client was not run).
    pub failure: Option<String>,
}

impl MedianRow {
    /// Why the client was not run in this workload, when it was not.
    pub fn not_run(&self) -> Option<&str> {
        self.failure
            .as_deref()
            .filter(|f| is_not_run(f))
            .map(|f| &f[NOT_RUN.len()..])
    }
}

/// The medians of `runs`, one row per workload, phase and client: workloads and phases in
/// the order they first appear, clients in [`Client::ALL`] order. Each figure's median is
/// taken on its own over the successful runs.
pub fn medians(runs: &[RunRecord]) -> Vec<MedianRow> {
    let mut groups: Vec<(Workload, Phase)> = Vec::new();
    for run in runs {
        if !groups.contains(&(run.workload, run.phase)) {
            groups.push((run.workload, run.phase));
        }
    }
    let mut rows = Vec::new();
    for (workload, phase) in groups {
        for client in Client::ALL {
            let mine: Vec<&RunRecord> = runs
                .iter()
                .filter(|r| r.workload == workload && r.phase == phase && r.client == client)
                .collect();
            if mine.is_empty() {
                continue;
            }
            let ok: Vec<&RunFigures> = mine.iter().filter_map(|r| r.result.as_ref().ok()).collect();
            let of =
                |f: fn(&RunFigures) -> f64| median(&ok.iter().map(|r| f(r)).collect::<Vec<_>>());
            rows.push(MedianRow {
                workload,
                phase,
                target_rate: mine.iter().find_map(|r| r.target_rate),
                client,
                runs_ok: ok.len(),
                runs: mine.len(),
                records_per_sec: of(|r| r.summary.records_per_sec),
                mb_per_sec: of(|r| r.summary.mb_per_sec),
                cpu_per_million: of(RunFigures::cpu_per_million),
                rss_mib: of(RunFigures::rss_mib),
                p50_ms: of(|r| r.summary.p50_ms),
                p99_ms: of(|r| r.summary.p99_ms),
                failure: if ok.is_empty() {
                    mine.iter()
                        .find_map(|r| r.result.as_ref().err())
                        .map(|e| e.lines().next().unwrap_or_default().to_owned())
                } else {
                    None
                },
            });
        }
    }
    rows
}

/// The CSV's header line (without its line end).
const CSV_HEADER: &str = "workload,brokers,record_size,codec,partitions,keys,acks,settings,\
    phase,target_rate,round,client,records_asked,ok,records,records_per_sec,mb_per_sec,avg_ms,\
    max_ms,p50_ms,p95_ms,p99_ms,p999_ms,cpu_secs,cpu_secs_per_million,max_rss_mib,wall_secs,\
    error";

/// The columns before `brokers` and between `codec` and `phase` that races before the
/// workloads did not write.
const CSV_WORKLOAD_COLUMNS: usize = 5;

/// Every run as a CSV line (with a header line first).
pub fn runs_csv(runs: &[RunRecord]) -> String {
    let mut out = format!("{CSV_HEADER}\n");
    for r in runs {
        let rate = r.target_rate.map_or(String::new(), |t| format!("{t:.0}"));
        let w = &r.workload;
        let head = format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{}",
            w.name,
            w.brokers,
            w.record_size,
            w.codec,
            w.partitions,
            w.keys.map_or(String::new(), |k| k.to_string()),
            w.acks.name(),
            if w.own_defaults { "defaults" } else { "shared" },
            r.phase.name(),
            rate,
            r.round,
            r.client,
            r.records
        );
        match &r.result {
            Ok(f) => {
                let s = &f.summary;
                out.push_str(&format!(
                    "{head},true,{},{:.1},{:.2},{:.2},{:.2},{},{},{},{},{:.3},{:.3},{:.1},{:.2},\n",
                    s.records,
                    s.records_per_sec,
                    s.mb_per_sec,
                    s.avg_ms,
                    s.max_ms,
                    s.p50_ms,
                    s.p95_ms,
                    s.p99_ms,
                    s.p999_ms,
                    f.cpu_secs,
                    f.cpu_per_million(),
                    f.rss_mib(),
                    f.wall_secs
                ));
            }
            Err(e) => {
                let clean: String = e
                    .chars()
                    .map(|c| if c == ',' || c == '\n' { ' ' } else { c })
                    .collect();
                out.push_str(&format!("{head},false,,,,,,,,,,,,,,{clean}\n"));
            }
        }
    }
    out
}

fn parse_brokers(text: &str) -> Option<Brokers> {
    if text == Brokers::External.to_string() {
        return Some(Brokers::External);
    }
    let count = text.split_whitespace().next()?.parse().ok()?;
    Some(Brokers::Local(count))
}

/// Reads back what [`runs_csv`] wrote (to redraw a report without running the race); also
/// the CSVs of races before the workloads (23 columns, no workload columns: read as the
/// classic workload on topics of 6 partitions).
pub fn parse_runs_csv(text: &str) -> Result<Vec<RunRecord>, String> {
    let mut runs = Vec::new();
    let with_workloads = text.starts_with("workload,");
    for (index, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |what: &str| format!("line {}: bad {what}: {line}", index + 1);
        let all: Vec<&str> = line.split(',').collect();
        let expected = 23
            + if with_workloads {
                CSV_WORKLOAD_COLUMNS
            } else {
                0
            };
        if all.len() != expected {
            return Err(bad("field count"));
        }
        // `f` is the old layout: the workload's own columns are taken out of it.
        let (workload, f) = if with_workloads {
            let workload = Workload {
                name: all[0].parse().map_err(|_| bad("workload"))?,
                brokers: parse_brokers(all[1]).ok_or_else(|| bad("brokers"))?,
                record_size: all[2].parse().map_err(|_| bad("record size"))?,
                codec: all[3].parse().map_err(|_| bad("codec"))?,
                partitions: all[4].parse().map_err(|_| bad("partitions"))?,
                keys: if all[5].is_empty() {
                    None
                } else {
                    Some(all[5].parse().map_err(|_| bad("keys"))?)
                },
                acks: all[6].parse::<Acks>().map_err(|_| bad("acks"))?,
                own_defaults: match all[7] {
                    "defaults" => true,
                    "shared" => false,
                    _ => return Err(bad("settings")),
                },
            };
            let mut f = vec![all[1], all[2], all[3]];
            f.extend(&all[8..]);
            (workload, f)
        } else {
            let workload = Workload::classic(
                parse_brokers(all[0]).ok_or_else(|| bad("brokers"))?,
                all[1].parse().map_err(|_| bad("record size"))?,
                all[2].parse().map_err(|_| bad("codec"))?,
                DEFAULT_PARTITIONS,
            );
            (workload, all)
        };
        let number = |i: usize, what: &str| -> Result<f64, String> {
            f[i].parse::<f64>().map_err(|_| bad(what))
        };
        let phase = match f[3] {
            "throughput" => Phase::Throughput,
            "latency" => Phase::Latency,
            _ => return Err(bad("phase")),
        };
        let target_rate = if f[4].is_empty() {
            None
        } else {
            Some(number(4, "target rate")?)
        };
        let result = if f[8] == "true" {
            let summary = PerfSummary {
                records: f[9].parse().map_err(|_| bad("records"))?,
                records_per_sec: number(10, "records/s")?,
                mb_per_sec: number(11, "MB/s")?,
                avg_ms: number(12, "avg")?,
                max_ms: number(13, "max")?,
                p50_ms: number(14, "p50")?,
                p95_ms: number(15, "p95")?,
                p99_ms: number(16, "p99")?,
                p999_ms: number(17, "p99.9")?,
            };
            Ok(RunFigures {
                summary,
                cpu_secs: number(18, "CPU")?,
                max_rss_bytes: (number(20, "RSS")? * MIB) as u64,
                wall_secs: number(21, "wall time")?,
            })
        } else {
            Err(f[22].to_owned())
        };
        runs.push(RunRecord {
            workload,
            phase,
            target_rate,
            round: f[5].parse().map_err(|_| bad("round"))?,
            client: f[6].parse().map_err(|_| bad("client"))?,
            records: f[7].parse().map_err(|_| bad("records asked"))?,
            result,
        });
    }
    Ok(runs)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::settings::Codec;

    pub(crate) fn workload() -> Workload {
        Workload::classic(Brokers::Local(1), 100, Codec::None, DEFAULT_PARTITIONS)
    }

    pub(crate) fn figures(rate: f64, cpu: f64, rss_mib: u64, p99: f64) -> RunFigures {
        RunFigures {
            summary: PerfSummary {
                records: 1_000_000,
                records_per_sec: rate,
                mb_per_sec: rate * 100.0 / MIB,
                avg_ms: p99 / 2.0,
                max_ms: p99 * 2.0,
                p50_ms: p99 / 4.0,
                p95_ms: p99 / 2.0,
                p99_ms: p99,
                p999_ms: p99 * 1.5,
            },
            cpu_secs: cpu,
            max_rss_bytes: rss_mib * 1024 * 1024,
            wall_secs: 5.0,
        }
    }

    pub(crate) fn run(
        client: Client,
        phase: Phase,
        round: usize,
        result: Result<RunFigures, String>,
    ) -> RunRecord {
        RunRecord {
            workload: workload(),
            phase,
            target_rate: (phase == Phase::Latency).then_some(50_000.0),
            round,
            client,
            records: 1_000_000,
            result,
        }
    }

    #[test]
    fn medians_are_per_client_and_phase_and_skip_failed_runs() {
        let runs = vec![
            run(
                Client::Java,
                Phase::Throughput,
                0,
                Ok(figures(100_000.0, 9.0, 300, 900.0)),
            ),
            run(
                Client::Kiel,
                Phase::Throughput,
                0,
                Ok(figures(250_000.0, 2.0, 40, 500.0)),
            ),
            run(
                Client::Kiel,
                Phase::Throughput,
                1,
                Ok(figures(300_000.0, 3.0, 50, 400.0)),
            ),
            run(Client::Kiel, Phase::Throughput, 2, Err("exit 1".into())),
            run(
                Client::Kiel,
                Phase::Latency,
                0,
                Ok(figures(50_000.0, 1.0, 30, 5.0)),
            ),
        ];
        let rows = medians(&runs);
        assert_eq!(rows.len(), 3);
        // Clients in report order within a phase: kiel before java.
        assert_eq!(
            (rows[0].client, rows[0].phase),
            (Client::Kiel, Phase::Throughput)
        );
        assert_eq!(
            (rows[1].client, rows[1].phase),
            (Client::Java, Phase::Throughput)
        );
        assert_eq!(
            (rows[2].client, rows[2].phase),
            (Client::Kiel, Phase::Latency)
        );
        let kiel = &rows[0];
        assert_eq!((kiel.runs_ok, kiel.runs), (2, 3));
        assert_eq!(kiel.records_per_sec, Some(275_000.0));
        assert_eq!(kiel.cpu_per_million, Some(2.5));
        assert_eq!(kiel.rss_mib, Some(45.0));
        assert_eq!(kiel.p99_ms, Some(450.0));
        assert_eq!(rows[2].target_rate, Some(50_000.0));
        assert_eq!(rows[1].target_rate, None);
    }

    #[test]
    fn a_client_whose_runs_all_failed_has_no_figures() {
        let rows = medians(&[run(Client::Java, Phase::Throughput, 0, Err("boom".into()))]);
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].runs_ok, rows[0].runs), (0, 1));
        assert_eq!(rows[0].records_per_sec, None);
    }

    #[test]
    fn the_csv_has_a_line_per_run_with_the_same_number_of_fields() {
        let csv = runs_csv(&[
            run(
                Client::Kiel,
                Phase::Throughput,
                0,
                Ok(figures(250_000.0, 2.0, 40, 500.0)),
            ),
            run(
                Client::Java,
                Phase::Latency,
                1,
                Err("exit 1, see log\nmore".into()),
            ),
        ]);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3);
        let fields = |l: &str| l.split(',').count();
        assert!(lines.iter().all(|l| fields(l) == fields(lines[0])), "{csv}");
        assert!(
            lines[1].contains(",kiel,1000000,true,1000000,250000.0,"),
            "{}",
            lines[1]
        );
        assert!(lines[2].ends_with("exit 1  see log more"), "{}", lines[2]);
    }

    #[test]
    fn the_csv_reads_back_to_the_same_medians() {
        let mut three = run(
            Client::Java,
            Phase::Latency,
            1,
            Ok(figures(50_000.0, 9.5, 300, 7.0)),
        );
        three.workload.brokers = Brokers::Local(3);
        let runs = vec![
            run(
                Client::Kiel,
                Phase::Throughput,
                0,
                Ok(figures(250_000.0, 2.0, 40, 500.0)),
            ),
            run(Client::Java, Phase::Throughput, 0, Err("exit 1".into())),
            three,
        ];
        let back = parse_runs_csv(&runs_csv(&runs)).unwrap();
        assert_eq!(back.len(), 3);
        assert_eq!(back[2].workload.brokers, Brokers::Local(3));
        assert_eq!(back[2].target_rate, Some(50_000.0));
        assert_eq!(back[1].result, Err("exit 1".to_owned()));
        let (before, after) = (medians(&runs), medians(&back));
        assert_eq!(before.len(), after.len());
        for (b, a) in before.iter().zip(&after) {
            assert_eq!(
                (b.client, b.phase, b.runs_ok),
                (a.client, a.phase, a.runs_ok)
            );
            let close = |x: Option<f64>, y: Option<f64>| match (x, y) {
                (Some(x), Some(y)) => (x - y).abs() <= 0.01 * x.abs().max(1.0),
                (None, None) => true,
                _ => false,
            };
            assert!(close(b.records_per_sec, a.records_per_sec), "{b:?} {a:?}");
            assert!(close(b.cpu_per_million, a.cpu_per_million), "{b:?} {a:?}");
            assert!(close(b.rss_mib, a.rss_mib), "{b:?} {a:?}");
            assert!(close(b.p99_ms, a.p99_ms), "{b:?} {a:?}");
        }
        assert!(parse_runs_csv("header\n1 broker,100,none").is_err());
    }

    #[test]
    fn the_csv_carries_each_workload_through() {
        use crate::settings::Codec;
        use crate::workload::{variants, Matrix, WorkloadName};
        let matrix = Matrix {
            brokers: vec![Brokers::Local(1)],
            sizes: vec![100],
            codecs: vec![Codec::None],
            partitions: 6,
        };
        let (all, _) = variants(&WorkloadName::ALL, &matrix);
        let runs: Vec<RunRecord> = all
            .iter()
            .map(|w| RunRecord {
                workload: *w,
                ..run(
                    Client::Kiel,
                    Phase::Throughput,
                    0,
                    Ok(figures(250_000.0, 2.0, 40, 500.0)),
                )
            })
            .collect();
        let csv = runs_csv(&runs);
        assert!(csv.starts_with(
            "workload,brokers,record_size,codec,partitions,keys,acks,settings,phase,"
        ));
        assert!(
            csv.contains("\nc,1 broker,100,none,64,10000,all,shared,throughput,"),
            "{csv}"
        );
        assert!(csv.contains("\nd,1 broker,100,none,6,,1,shared,"), "{csv}");
        assert!(
            csv.contains("\ne,1 broker,100,none,6,,all,defaults,"),
            "{csv}"
        );
        let back = parse_runs_csv(&csv).unwrap();
        assert_eq!(
            back.iter().map(|r| r.workload).collect::<Vec<_>>(),
            all,
            "{csv}"
        );
    }

    #[test]
    fn csvs_of_races_before_the_workloads_still_read() {
        let old = "brokers,record_size,codec,phase,target_rate,round,client,records_asked,ok,records,records_per_sec,mb_per_sec,avg_ms,max_ms,p50_ms,p95_ms,p99_ms,p999_ms,cpu_secs,cpu_secs_per_million,max_rss_mib,wall_secs,error
1 broker,100,none,throughput,,0,kiel,1000000,true,1000000,184766.6,17.62,7.70,100.98,2,24,27,30,0.805,0.805,12.5,5.43,
3 brokers,1024,lz4,latency,5266,1,java,1000,false,,,,,,,,,,,,,,exit 1
";
        let runs = parse_runs_csv(old).unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].workload, workload());
        assert_eq!(runs[0].result.as_ref().unwrap().summary.p99_ms, 27.0);
        assert_eq!(runs[1].workload.brokers, Brokers::Local(3));
        assert_eq!(runs[1].target_rate, Some(5266.0));
        assert_eq!(runs[1].result, Err("exit 1".to_owned()));
    }

    #[test]
    fn clients_not_run_keep_their_reason() {
        let rows = medians(&[
            run(
                Client::Kacrab,
                Phase::Throughput,
                0,
                Err(format!(
                    "{NOT_RUN}cargo: no bin target named `kacrab-perf`\nmore"
                )),
            ),
            run(Client::Java, Phase::Throughput, 0, Err("exit 1 (x)".into())),
            run(Client::Java, Phase::Throughput, 1, Err("exit 1 (y)".into())),
        ]);
        let java = rows.iter().find(|r| r.client == Client::Java).unwrap();
        assert_eq!(java.failure.as_deref(), Some("exit 1 (x)"));
        assert_eq!(java.not_run(), None);
        let kacrab = rows.iter().find(|r| r.client == Client::Kacrab).unwrap();
        assert_eq!(
            kacrab.not_run(),
            Some("cargo: no bin target named `kacrab-perf`")
        );
        let ok = medians(&[run(
            Client::Kiel,
            Phase::Throughput,
            0,
            Ok(figures(1.0, 1.0, 1, 1.0)),
        )]);
        assert_eq!(ok[0].failure, None);
    }
}

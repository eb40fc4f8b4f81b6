//! The race's chart: four panels of grouped bars (one group per workload variant, one bar
//! per client) drawn with plotters into a PNG: records/s and CPU per record in the
//! throughput runs, peak RSS in the throughput runs, p99 latency in the latency runs. Up to
//! 8 groups the panels are 2 × 2 in a 1600 × 1100 picture; with more (the default race
//! has 16) they are stacked, each the picture's full width, and the picture widens.
//!
//! Text is drawn with plotters' `ab_glyph` backend from a TrueType file given at run time
//! (DejaVu Sans from Debian's `fonts-dejavu-core` by default), so no system font library
//! is linked.
//!
//! # References
//! - plotters `BitMapBackend`, `ChartBuilder`, `register_font` (feature `ab_glyph`)

use std::path::Path;

use plotters::prelude::*;
use plotters::style::register_font;

use crate::clients::Client;
use crate::report::MedianRow;
use crate::settings::Acks;
use crate::workload::{Brokers, Phase, Workload, WorkloadName};

/// The chart's size in pixels, up to [`GRID_MAX_GROUPS`] groups.
pub const SIZE: (u32, u32) = (1600, 1100);

/// Up to this many groups per panel the panels are laid out 2 × 2.
pub const GRID_MAX_GROUPS: usize = 8;

/// Pixels per group when the panels are stacked.
const STACKED_GROUP_WIDTH: u32 = 130;

/// The chart's size for `groups` groups per panel: [`SIZE`], or for more than
/// [`GRID_MAX_GROUPS`], four stacked panels of 130 pixels per group.
pub fn size_for(groups: usize) -> (u32, u32) {
    if groups <= GRID_MAX_GROUPS {
        SIZE
    } else {
        let width = u32::try_from(groups)
            .unwrap_or(u32::MAX / STACKED_GROUP_WIDTH)
            .saturating_mul(STACKED_GROUP_WIDTH)
            .saturating_add(160);
        (width.max(SIZE.0), 4 * 420 + LEGEND_HEIGHT)
    }
}

/// The font family name the chart registers its font under.
const FAMILY: &str = "sans-serif";

/// One panel's data: a label per workload and, per client, a value per workload.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// The panel's title.
    pub title: String,
    /// Group labels, one per workload.
    pub labels: Vec<String>,
    /// Per client, its value in each group (`None`: no bar).
    pub series: Vec<(Client, Vec<Option<f64>>)>,
}

impl Panel {
    /// The largest value (0 when there is none).
    pub fn max_value(&self) -> f64 {
        self.series
            .iter()
            .flat_map(|(_, values)| values.iter().flatten())
            .copied()
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max)
    }
}

/// `1b 100B none` (classic), `c 1b 100B p64 keys`, `d 1b 100B acks=1`, `e 1b 100B dflt`.
fn short_label(workload: &Workload) -> String {
    let brokers = match workload.brokers {
        Brokers::Local(n) => format!("{n}b"),
        Brokers::External => "ext".to_owned(),
    };
    let size = if workload.record_size >= 1024 && workload.record_size.is_multiple_of(1024) {
        format!("{}KiB", workload.record_size / 1024)
    } else {
        format!("{}B", workload.record_size)
    };
    if workload.name == WorkloadName::Classic {
        return format!("{brokers} {size} {}", workload.codec);
    }
    let mut label = format!("{} {brokers} {size}", workload.name);
    if workload.codec != crate::settings::Codec::None {
        label.push_str(&format!(" {}", workload.codec));
    }
    if matches!(
        workload.name,
        WorkloadName::A | WorkloadName::C | WorkloadName::F
    ) {
        label.push_str(&format!(" p{}", workload.partitions));
    }
    if workload.keys.is_some() {
        label.push_str(" keys");
    }
    if workload.acks == Acks::LeaderOnly {
        label.push_str(" acks=1");
    }
    if workload.own_defaults {
        label.push_str(" dflt");
    }
    label
}

/// The panel of `phase` rows showing `value`, workloads in order of appearance.
pub fn panel(
    rows: &[MedianRow],
    phase: Phase,
    title: &str,
    value: fn(&MedianRow) -> Option<f64>,
) -> Panel {
    let mut workloads: Vec<Workload> = Vec::new();
    for row in rows.iter().filter(|r| r.phase == phase) {
        if !workloads.contains(&row.workload) {
            workloads.push(row.workload);
        }
    }
    let series = Client::ALL
        .into_iter()
        .filter(|c| rows.iter().any(|r| r.client == *c && r.phase == phase))
        .map(|client| {
            let values = workloads
                .iter()
                .map(|w| {
                    rows.iter()
                        .find(|r| r.client == client && r.phase == phase && r.workload == *w)
                        .and_then(value)
                })
                .collect();
            (client, values)
        })
        .collect();
    Panel {
        title: title.to_owned(),
        labels: workloads.iter().map(short_label).collect(),
        series,
    }
}

/// The four panels of the race's chart.
pub fn panels(rows: &[MedianRow]) -> Vec<Panel> {
    vec![
        panel(
            rows,
            Phase::Throughput,
            "records/s at max rate (higher is better)",
            |r| r.records_per_sec,
        ),
        panel(
            rows,
            Phase::Throughput,
            "client CPU s per million records at max rate (lower is better)",
            |r| r.cpu_per_million,
        ),
        panel(
            rows,
            Phase::Throughput,
            "client peak RSS MiB at max rate (lower is better)",
            |r| r.rss_mib,
        ),
        panel(
            rows,
            Phase::Latency,
            "p99 latency ms at half the slowest max rate (lower is better)",
            |r| r.p99_ms,
        ),
    ]
}

fn color(client: Client) -> RGBColor {
    match client {
        Client::Kiel => RGBColor(214, 69, 65),
        Client::RdkafkaFuture => RGBColor(49, 130, 189),
        Client::RdkafkaBase => RGBColor(158, 202, 225),
        Client::Java => RGBColor(116, 116, 116),
        Client::Kacrab => RGBColor(230, 145, 56),
        Client::Krafka => RGBColor(117, 107, 177),
        Client::ConfluentKafka => RGBColor(49, 163, 84),
        Client::FranzGo => RGBColor(140, 86, 75),
    }
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    panel: &Panel,
) -> Result<(), String> {
    let groups = panel.labels.len().max(1);
    let top = match panel.max_value() {
        v if v > 0.0 => v * 1.08,
        _ => 1.0,
    };
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, (FAMILY, 20))
        .margin(12)
        .x_label_area_size(34)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..groups as f64, 0f64..top)
        .map_err(|e| format!("chart: {e}"))?;
    let labels = panel.labels.clone();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(WHITE)
        // Key points every half unit: the group centres (i + 0.5) carry the labels.
        .x_labels(2 * groups + 1)
        .x_label_formatter(&|x| {
            let shifted = x - 0.5;
            if (shifted - shifted.round()).abs() < 1e-6 && shifted >= 0.0 {
                labels
                    .get(shifted.round() as usize)
                    .cloned()
                    .unwrap_or_default()
            } else {
                String::new()
            }
        })
        .x_label_style((FAMILY, 14))
        .y_label_style((FAMILY, 14))
        .y_label_formatter(&|y| {
            if *y == 0.0 {
                "0".to_owned()
            } else if *y >= 10_000.0 {
                format!("{:.0}k", y / 1000.0)
            } else if *y >= 10.0 {
                format!("{y:.0}")
            } else {
                format!("{y:.1}")
            }
        })
        .draw()
        .map_err(|e| format!("chart mesh: {e}"))?;
    let bars = panel.series.len().max(1) as f64;
    let width = 0.8 / bars;
    for (index, (client, values)) in panel.series.iter().enumerate() {
        let fill = color(*client);
        let rectangles = values.iter().enumerate().filter_map(move |(group, value)| {
            let value = (*value)?;
            let left = group as f64 + 0.1 + index as f64 * width;
            Some(Rectangle::new(
                [(left, 0.0), (left + width * 0.92, value)],
                fill.filled(),
            ))
        });
        chart
            .draw_series(rectangles)
            .map_err(|e| format!("chart bars: {e}"))?;
    }
    Ok(())
}

/// Height of the strip above the panels holding the title and the legend.
const LEGEND_HEIGHT: u32 = 76;

/// Width of one client's colour key.
const LEGEND_ENTRY_WIDTH: i32 = 175;

/// The title on the first line of the top strip and one colour key per client below it.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    clients: &[Client],
    title: &str,
    width: u32,
) -> Result<(), String> {
    let failed = |e: DrawingAreaErrorKind<DB::ErrorType>| format!("chart legend: {e}");
    // A title too wide for the picture gets a smaller font.
    let mut size = 22.0;
    while size > 12.0
        && area
            .estimate_text_size(title, &(FAMILY, size).into_text_style(area))
            .is_ok_and(|(w, _)| 16 + w as i32 + 16 > width as i32)
    {
        size -= 1.0;
    }
    area.draw(&Text::new(title.to_owned(), (16, 8), (FAMILY, size)))
        .map_err(failed)?;
    let mut x = 16;
    for client in clients {
        area.draw(&Rectangle::new(
            [(x, 42), (x + 22, 60)],
            color(*client).filled(),
        ))
        .map_err(failed)?;
        area.draw(&Text::new(client.name(), (x + 30, 42), (FAMILY, 18)))
            .map_err(failed)?;
        x += LEGEND_ENTRY_WIDTH;
    }
    Ok(())
}

/// Draws the race's chart of `rows` into the PNG file `path`, titled `title`, with the
/// TrueType font in `font` (read once and kept for the rest of the process, as plotters
/// needs it).
pub fn render_png(rows: &[MedianRow], path: &Path, font: &Path, title: &str) -> Result<(), String> {
    let bytes = std::fs::read(font).map_err(|e| {
        format!(
            "cannot read the chart font {} ({e}); install fonts-dejavu-core or pass --font",
            font.display()
        )
    })?;
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    register_font(FAMILY, FontStyle::Normal, bytes)
        .map_err(|_| format!("{} is not a usable TrueType font", font.display()))?;
    let panels = panels(rows);
    let groups = panels.iter().map(|p| p.labels.len()).max().unwrap_or(0);
    let size = size_for(groups);
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(|e| format!("chart: {e}"))?;
    let (top, body) = root.split_vertically(LEGEND_HEIGHT);
    let clients: Vec<Client> = Client::ALL
        .into_iter()
        .filter(|c| rows.iter().any(|r| r.client == *c))
        .collect();
    draw_legend(&top, &clients, title, size.0)?;
    let layout = if groups <= GRID_MAX_GROUPS {
        (2, 2)
    } else {
        (4, 1)
    };
    let areas = body.split_evenly(layout);
    for (area, panel) in areas.iter().zip(&panels) {
        draw_panel(area, panel)?;
    }
    root.present()
        .map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::medians;
    use crate::report::tests::{figures, run};
    use crate::settings::Codec;

    fn rows() -> Vec<MedianRow> {
        let mut runs = vec![
            run(
                Client::Kiel,
                Phase::Throughput,
                0,
                Ok(figures(250_000.0, 2.0, 40, 500.0)),
            ),
            run(
                Client::Java,
                Phase::Throughput,
                0,
                Ok(figures(100_000.0, 9.0, 300, 90.0)),
            ),
            run(
                Client::Kiel,
                Phase::Latency,
                0,
                Ok(figures(50_000.0, 1.0, 30, 5.0)),
            ),
        ];
        let mut lz4 = run(
            Client::Kiel,
            Phase::Throughput,
            0,
            Ok(figures(200_000.0, 3.0, 50, 400.0)),
        );
        lz4.workload.codec = Codec::Lz4;
        lz4.workload.brokers = Brokers::Local(3);
        lz4.workload.record_size = 1024;
        runs.push(lz4);
        medians(&runs)
    }

    #[test]
    fn panels_have_a_group_per_workload_and_a_series_per_client() {
        let panels = panels(&rows());
        assert_eq!(panels.len(), 4);
        let throughput = &panels[0];
        assert_eq!(throughput.labels, ["1b 100B none", "3b 1KiB lz4"]);
        assert_eq!(throughput.series.len(), 2);
        assert_eq!(
            throughput.series[0],
            (Client::Kiel, vec![Some(250_000.0), Some(200_000.0)])
        );
        assert_eq!(
            throughput.series[1],
            (Client::Java, vec![Some(100_000.0), None])
        );
        assert_eq!(throughput.max_value(), 250_000.0);
        let latency = &panels[3];
        assert_eq!(latency.labels, ["1b 100B none"]);
        assert_eq!(latency.series, vec![(Client::Kiel, vec![Some(5.0)])]);
    }

    #[test]
    fn the_chart_is_written_as_a_png() {
        let font = Path::new("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
        assert!(
            font.exists(),
            "the chart test needs {} (Debian: apt-get install fonts-dejavu-core)",
            font.display()
        );
        let dir = std::env::temp_dir().join(format!("kiel-race-chart-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("chart.png");
        render_png(&rows(), &path, font, "test").unwrap();
        let png = std::fs::read(&path).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        // The IHDR chunk holds the width and height.
        assert_eq!(
            u32::from_be_bytes([png[16], png[17], png[18], png[19]]),
            SIZE.0
        );
        assert_eq!(
            u32::from_be_bytes([png[20], png[21], png[22], png[23]]),
            SIZE.1
        );
        assert!(render_png(&rows(), &dir.join("x.png"), &dir.join("missing.ttf"), "t").is_err());
    }

    #[test]
    fn many_workloads_widen_the_chart_and_label_each_variant() {
        use crate::workload::{variants, Matrix};
        let matrix = Matrix {
            brokers: vec![Brokers::Local(1), Brokers::Local(3)],
            sizes: vec![100, 1024],
            codecs: vec![Codec::None, Codec::Lz4],
            partitions: 6,
        };
        let (all, _) = variants(&WorkloadName::ALL, &matrix);
        let runs: Vec<_> = all
            .iter()
            .flat_map(|w| {
                Client::ALL
                    .into_iter()
                    .map(move |c| crate::report::RunRecord {
                        workload: *w,
                        ..run(c, Phase::Throughput, 0, Ok(figures(1000.0, 1.0, 10, 5.0)))
                    })
            })
            .collect();
        let rows = medians(&runs);
        let panels = panels(&rows);
        assert_eq!(panels[0].labels.len(), 16);
        assert_eq!(panels[0].series.len(), Client::ALL.len());
        let mut labels = panels[0].labels.clone();
        assert!(
            labels.contains(&"c 1b 100B p64 keys".to_owned()),
            "{labels:?}"
        );
        assert!(labels.contains(&"b 1b 10KiB zstd".to_owned()), "{labels:?}");
        assert!(labels.contains(&"f 3b 10B p16".to_owned()), "{labels:?}");
        labels.sort();
        labels.dedup();
        assert_eq!(labels.len(), 16);
        assert_eq!(size_for(8), SIZE);
        assert_eq!(size_for(16), (16 * 130 + 160, 4 * 420 + LEGEND_HEIGHT));
        let font = Path::new("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
        if font.exists() {
            let dir =
                std::env::temp_dir().join(format!("kiel-race-chart16-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            render_png(&rows, &dir.join("wide.png"), font, "test").unwrap();
        }
    }
}

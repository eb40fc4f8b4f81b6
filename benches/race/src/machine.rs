//! Facts about the machine and the moment of a race, for its report: CPU, memory, load,
//! kernel, Java, the kiel commit; and UTC timestamps without a date library.
//!
//! # References
//! - proc(5): `/proc/cpuinfo`, `/proc/meminfo`, `/proc/loadavg`
//! - Howard Hinnant, "chrono-Compatible Low-Level Date Algorithms" (`civil_from_days`)

use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

/// The 1, 5 and 15 minute load averages, as `/proc/loadavg` gives them.
pub fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let parts: Vec<&str> = text.split_whitespace().take(3).collect();
    (parts.len() == 3).then(|| parts.join(" "))
}

fn cpu_model() -> Option<String> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    text.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
}

fn memory_gib() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: f64 = text
        .lines()
        .find(|l| l.starts_with("MemTotal:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kib / 1024.0 / 1024.0)
}

fn first_line_of(program: &str, args: &[&str], dir: Option<&Path>) -> Option<String> {
    let mut command = Command::new(program);
    command.args(args);
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let output = command.output().ok()?;
    // `java -version` writes to stderr.
    let text = if output.stdout.is_empty() {
        output.stderr
    } else {
        output.stdout
    };
    String::from_utf8_lossy(&text)
        .lines()
        .next()
        .map(|l| l.trim().to_owned())
}

/// One line per fact: cores, CPU, memory, kernel, Java, kiel commit.
pub fn describe(java: &Path, repo: &Path) -> Vec<String> {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let mut facts = vec![format!(
        "{cores} cores ({}), {:.0} GiB memory",
        cpu_model().unwrap_or_else(|| "unknown CPU".to_owned()),
        memory_gib().unwrap_or(0.0)
    )];
    if let Ok(kernel) = std::fs::read_to_string("/proc/sys/kernel/osrelease") {
        facts.push(format!("Linux {}", kernel.trim()));
    }
    if let Some(java) = java
        .to_str()
        .and_then(|j| first_line_of(j, &["-version"], None))
    {
        facts.push(format!("Java: {java}"));
    }
    if let Some(commit) = first_line_of("git", &["rev-parse", "--short", "HEAD"], Some(repo)) {
        facts.push(format!("kiel commit {commit}"));
    }
    facts
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `2026-11-23-0231` (UTC) for `unix_secs`.
pub fn stamp(unix_secs: u64) -> String {
    let secs = i64::try_from(unix_secs).unwrap_or(0);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let of_day = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}-{:02}{:02}",
        of_day / 3600,
        of_day % 3600 / 60
    )
}

/// `2026-11-23 02:31 UTC` for `unix_secs`.
pub fn human_time(unix_secs: u64) -> String {
    let s = stamp(unix_secs);
    let (date, hm) = s.split_at(10);
    let hm = hm.trim_start_matches('-');
    format!(
        "{date} {}:{} UTC",
        hm.get(..2).unwrap_or("00"),
        hm.get(2..).unwrap_or("00")
    )
}

/// Seconds since the Unix epoch, now.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_utc_calendar_times() {
        assert_eq!(stamp(0), "1970-01-01-0000");
        // 2000-02-29 12:34:56 UTC, a leap day.
        assert_eq!(stamp(951_827_696), "2000-02-29-1234");
        // 2026-11-23 02:31:00 UTC.
        assert_eq!(stamp(1_795_401_060), "2026-11-23-0231");
        assert_eq!(human_time(1_795_401_060), "2026-11-23 02:31 UTC");
    }
}

//! Progress bars on stderr (drawn only when stderr is a terminal) and stdout lines that do
//! not tear them.
//!
//! # References
//! - indicatif `ProgressBar` (`suspend` to print around a bar)
//! - `std::io::IsTerminal`

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often a bar is refreshed from the counters.
pub(crate) const TICK: Duration = Duration::from_millis(200);

/// A progress bar, or nothing when stderr is not a terminal.
#[derive(Debug, Clone, Default)]
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar with `total` steps (or a spinner when the total is unknown), shown only when
    /// `wanted` and stderr is a terminal. `template` is indicatif's template syntax.
    pub(crate) fn new(wanted: bool, total: Option<u64>, template: &str) -> Self {
        if !wanted || !std::io::stderr().is_terminal() {
            return Self { bar: None };
        }
        let bar = match total {
            Some(total) => ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr()),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        Self { bar: Some(bar) }
    }

    /// Moves the bar to `position` with `message` (shown where the template has `{msg}`).
    pub(crate) fn update(&self, position: u64, message: String) {
        if let Some(bar) = &self.bar {
            bar.set_position(position);
            bar.set_message(message);
            bar.tick();
        }
    }

    /// Prints a line on stdout (around the bar, if any). A closed stdout is ignored.
    pub(crate) fn println(&self, line: &str) {
        let print = || {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        };
        match &self.bar {
            Some(bar) => bar.suspend(print),
            None => print(),
        }
    }

    /// Prints a line on stderr (around the bar, if any).
    pub(crate) fn eprintln(&self, line: &str) {
        let print = || {
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        };
        match &self.bar {
            Some(bar) => bar.suspend(print),
            None => print(),
        }
    }

    /// Removes the bar.
    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    /// Whether a bar is drawn.
    pub(crate) fn is_shown(&self) -> bool {
        self.bar.is_some()
    }
}

/// Refreshes `progress` every [`TICK`] with what `read` reports (position, message) until
/// the returned task is aborted. Does nothing when no bar is drawn.
pub(crate) fn spawn_ticker<F>(
    progress: Progress,
    mut read: F,
) -> Option<tokio::task::JoinHandle<()>>
where
    F: FnMut() -> (u64, String) + Send + 'static,
{
    if !progress.is_shown() {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut interval = tokio::time::interval(TICK);
        loop {
            interval.tick().await;
            let (position, message) = read();
            progress.update(position, message);
        }
    }))
}

/// Formats a byte count for humans (KiB, MiB, GiB).
pub(crate) fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_shown_in_binary_units() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(5 * 1024 * 1024), "5.0 MiB");
        assert_eq!(human_bytes(3 << 40), "3072.0 GiB");
    }

    #[test]
    fn no_bar_when_not_wanted() {
        let p = Progress::new(false, Some(10), "{bar}");
        assert!(!p.is_shown());
        p.update(5, String::new());
        p.finish();
    }
}

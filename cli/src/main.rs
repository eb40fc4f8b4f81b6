//! `kiel`: the kiel Kafka producer on the command line.
//!
//! - `kiel produce`: one record per line of stdin or a file (keys, headers, `-X` settings,
//!   a fixed partition), with a summary and the failed lines at the end, and optionally a
//!   JSON delivery report per line.
//! - `kiel produce -X list` / `kiel perf -X list`: every producer setting kiel knows.
//! - `kiel perf`: Kafka ProducerPerformance's workload and output; without `--brokers` it
//!   runs against a local Kafka it starts itself.
//!
//! See `kiel --help`, `kiel produce --help`, `kiel perf --help` and `cli/README.md`.
//!
//! # References
//! - Kafka's `kafka-console-producer.sh` and `kafka-producer-perf-test.sh`; kcat

#![forbid(unsafe_code)]

mod cli;
mod delivery_report;
mod error;
mod interrupt;
mod line_format;
mod line_reader;
mod local_kafka;
mod metrics_summary;
mod payload;
mod perf;
mod perf_keys;
mod perf_stats;
mod produce;
mod produce_input;
mod produce_report;
mod progress;
mod schema_format;
mod settings;
mod throttle;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{settings_list_request, Cli, Command};
use crate::error::CliError;
use crate::interrupt::Interrupt;
use crate::settings::settings_list_output;

/// The library's log on stderr: warnings and errors, or the level `KIEL_LOG` names
/// (`off`, `error`, `warn`, `info`, `debug`, `trace`).
fn log_to_stderr() {
    use tracing_subscriber::filter::LevelFilter;
    let level = std::env::var("KIEL_LOG")
        .ok()
        .and_then(|level| level.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::WARN);
    // A subscriber already set (none is, in the binary) is left alone. Debugging logs
    // carry the time, to see where a run's time goes.
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = if level >= LevelFilter::DEBUG {
        builder.try_init()
    } else {
        builder.without_time().try_init()
    };
}

fn main() -> ExitCode {
    // `-X list` prints the settings and exits 0, like `kcat -X list`: it needs no other
    // option, and the options given are not acted on.
    if let Some(client_id) = settings_list_request(std::env::args_os()) {
        return print_settings(client_id);
    }
    let cli = Cli::parse();
    if cli.command.lists_settings() {
        return print_settings(cli.command.client_id());
    }
    log_to_stderr();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("kiel-cli")
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("kiel: error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result: Result<(), CliError> = runtime.block_on(async {
        let interrupt = Interrupt::listen();
        match cli.command {
            Command::Produce(args) => produce::run(*args, interrupt).await,
            Command::Perf(args) => perf::run(args, interrupt).await,
        }
    });
    // Tasks still running (the reader of a half-read stdin, say) must not hold up the exit.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kiel: error: {e}");
            e.exit_code()
        }
    }
}

/// `-X list`: every setting on stdout; exit 0 (1 if stdout cannot be written).
fn print_settings(client_id: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out
        .write_all(settings_list_output(client_id).as_bytes())
        .and_then(|()| out.flush())
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kiel: error: writing the settings list: {e}");
            ExitCode::FAILURE
        }
    }
}

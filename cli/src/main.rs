//! `kiel`: the kiel Kafka producer on the command line.
//!
//! - `kiel produce`: one record per line of stdin or a file (keys, headers, `-X` settings),
//!   with a summary and the failed lines at the end.
//! - `kiel perf`: Kafka ProducerPerformance's workload and output; without `--brokers` it
//!   runs against a local Kafka it starts itself.
//!
//! See `kiel --help`, `kiel produce --help`, `kiel perf --help` and `cli/README.md`.
//!
//! # References
//! - Kafka's `kafka-console-producer.sh` and `kafka-producer-perf-test.sh`; kcat

#![forbid(unsafe_code)]

mod cli;
mod error;
mod interrupt;
mod line_format;
mod line_reader;
mod local_kafka;
mod payload;
mod perf;
mod perf_stats;
mod produce;
mod produce_input;
mod produce_report;
mod progress;
mod settings;
mod throttle;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::error::CliError;
use crate::interrupt::Interrupt;

fn main() -> ExitCode {
    let cli = Cli::parse();
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
            Command::Produce(args) => produce::run(args, interrupt).await,
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

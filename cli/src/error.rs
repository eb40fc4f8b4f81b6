//! The command's error type and exit codes.
//!
//! | exit code | meaning |
//! | --- | --- |
//! | 0 | every record was acknowledged |
//! | 1 | some records failed, or the run could not go on (brokers unreachable, unreadable input or --file, other I/O) |
//! | 2 | bad arguments or producer settings, an invalid topic name, a --partition the topic does not have (nothing was sent) |
//! | 130 | interrupted with Ctrl-C (the summary of what was done is still printed) |
//!
//! # References
//! - sysexits-style conventions as clap uses them (usage errors exit with 2)

use std::fmt;
use std::process::ExitCode;

/// Exit code for a run that failed (records failed, brokers unreachable, I/O errors).
pub(crate) const EXIT_FAILED: u8 = 1;
/// Exit code for bad arguments or settings.
pub(crate) const EXIT_USAGE: u8 = 2;
/// Exit code after Ctrl-C (128 + SIGINT, as shells report it).
pub(crate) const EXIT_INTERRUPTED: u8 = 130;

/// Something that ends the command with a message and a non-zero exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CliError {
    message: String,
    code: u8,
}

impl CliError {
    /// Bad arguments or settings: exit code 2.
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: EXIT_USAGE,
        }
    }

    /// The run failed: exit code 1.
    pub(crate) fn failed(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: EXIT_FAILED,
        }
    }

    /// Stopped by Ctrl-C: exit code 130.
    pub(crate) fn interrupted(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: EXIT_INTERRUPTED,
        }
    }

    /// The process exit code for this error, as a number.
    pub(crate) fn code(&self) -> u8 {
        self.code
    }

    /// The process exit code for this error.
    pub(crate) fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code())
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_and_failure_have_distinct_codes() {
        assert_eq!(CliError::usage("x").code, EXIT_USAGE);
        assert_eq!(CliError::failed("y").code, EXIT_FAILED);
        assert_eq!(CliError::failed("broker down").to_string(), "broker down");
        assert_ne!(EXIT_USAGE, EXIT_FAILED);
    }
}

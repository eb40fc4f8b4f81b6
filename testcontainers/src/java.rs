//! Finding the `java` launcher, checking its version, and building JVM command lines for the
//! broker and the Kafka tools (class path, heap, logging configuration).
//!
//! # References
//! - Kafka's `bin/kafka-run-class.sh` (what the shipped scripts pass to `java`)
//! - Kafka compatibility: brokers from 4.0 need Java 17+
//!   <https://kafka.apache.org/41/getting-started/compatibility>

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use crate::error::{HarnessError, Result};
use crate::version::{KafkaVersion, LoggingBackend};

/// A `java` launcher that was found and whose major version is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JavaRuntime {
    /// The launcher to run.
    pub(crate) program: PathBuf,
    /// Its feature release (17 for `17.0.15`, 8 for `1.8.0_392`).
    pub(crate) major: u32,
    /// What `java -version` printed, to tell runtimes apart (class-data archives are only
    /// valid for the JVM that wrote them).
    pub(crate) version_text: String,
}

/// Results of earlier probes, so a test binary asks each launcher for its version once.
static PROBED: Mutex<Vec<JavaRuntime>> = Mutex::new(Vec::new());

impl JavaRuntime {
    /// The launcher to use: `explicit` if given, else `$JAVA_HOME/bin/java`, else `java` on
    /// `PATH`. Fails with [`HarnessError::NoBroker`] when it cannot run or is too old for
    /// `version`.
    pub(crate) fn locate(explicit: Option<&Path>, version: &KafkaVersion) -> Result<Self> {
        let program = match explicit {
            Some(p) => p.to_path_buf(),
            None => match std::env::var_os("JAVA_HOME") {
                Some(home) if !home.is_empty() => Path::new(&home).join("bin").join("java"),
                _ => PathBuf::from("java"),
            },
        };
        let runtime = Self::probe(&program)?;
        let needed = if version.major() >= 4 { 17 } else { 11 };
        if runtime.major < needed {
            return Err(HarnessError::NoBroker {
                reason: format!(
                    "{} is Java {}, but Kafka {version} needs Java {needed} or newer",
                    program.display(),
                    runtime.major
                ),
            });
        }
        Ok(runtime)
    }

    fn probe(program: &Path) -> Result<Self> {
        if let Ok(cache) = PROBED.lock() {
            if let Some(found) = cache.iter().find(|r| r.program == program) {
                return Ok(found.clone());
            }
        }
        let output = Command::new(program)
            .arg("-version")
            .output()
            .map_err(|e| HarnessError::NoBroker {
                reason: format!(
                    "cannot run the Java launcher {} ({e}); Kafka brokers run on Java 17+",
                    program.display()
                ),
            })?;
        // `java -version` writes to stderr.
        let text = String::from_utf8_lossy(&output.stderr);
        let major = parse_java_major(&text).ok_or_else(|| HarnessError::NoBroker {
            reason: format!(
                "{} -version printed no version I understand: {}",
                program.display(),
                text.trim()
            ),
        })?;
        let runtime = Self {
            program: program.to_path_buf(),
            major,
            version_text: text.trim().to_owned(),
        };
        if let Ok(mut cache) = PROBED.lock() {
            cache.push(runtime.clone());
        }
        Ok(runtime)
    }
}

/// Reads the feature release from `java -version` output: the first quoted version string,
/// `"17.0.15"` gives 17 and the old scheme `"1.8.0_392"` gives 8.
pub(crate) fn parse_java_major(text: &str) -> Option<u32> {
    let start = text.find('"')? + 1;
    let rest = text.get(start..)?;
    let quoted = rest.get(..rest.find('"')?)?;
    let mut parts = quoted.split(['.', '_', '-', '+']);
    let first: u32 = parts.next()?.parse().ok()?;
    if first == 1 {
        parts.next()?.parse().ok()
    } else {
        Some(first)
    }
}

/// The pieces every Kafka JVM of one distribution shares.
#[derive(Debug, Clone)]
pub(crate) struct JvmLauncher {
    pub(crate) java: JavaRuntime,
    pub(crate) libs_dir: PathBuf,
    pub(crate) logging: LoggingBackend,
}

impl JvmLauncher {
    /// A `java` command running `main_class` with the distribution's jars, the heap limits
    /// given, and `log_config` as the logging configuration.
    pub(crate) fn command(
        &self,
        main_class: &str,
        heap: &HeapSize,
        log_config: &Path,
        extra_jvm_options: &[String],
    ) -> Command {
        let mut cmd = Command::new(&self.java.program);
        cmd.arg(format!("-Xms{}m", heap.initial_mb))
            .arg(format!("-Xmx{}m", heap.max_mb))
            .arg("-Djava.awt.headless=true")
            .arg("-Dfile.encoding=UTF-8")
            .arg("-Dsun.stdout.encoding=UTF-8")
            .arg("-Dsun.stderr.encoding=UTF-8")
            // The JVM's own warnings (e.g. about a class-data archive) go to stdout by
            // default, where they would mix with a tool's output: send them to stderr.
            .arg("-Xlog:disable")
            .arg("-Xlog:all=warning:stderr");
        match self.logging {
            LoggingBackend::Log4j2 => {
                cmd.arg(format!(
                    "-Dlog4j2.configurationFile={}",
                    log_config.display()
                ));
            }
            LoggingBackend::Reload4j => {
                cmd.arg(format!(
                    "-Dlog4j.configuration=file:{}",
                    log_config.display()
                ));
            }
        }
        cmd.args(extra_jvm_options);
        // The JVM expands `dir/*` to every jar in the folder itself.
        cmd.arg("-cp")
            .arg(format!("{}/*", self.libs_dir.display()))
            .arg(main_class);
        cmd
    }
}

/// JVM heap limits in MiB (`-Xms` / `-Xmx`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeapSize {
    /// `-Xms`, MiB.
    pub initial_mb: u32,
    /// `-Xmx`, MiB.
    pub max_mb: u32,
}

impl HeapSize {
    /// The heap for command-line tools (TopicCommand, ConsoleConsumer, ...).
    pub(crate) const TOOL: Self = Self {
        initial_mb: 64,
        max_mb: 512,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_major_versions_are_read_from_both_schemes() {
        let modern = "openjdk version \"17.0.15\" 2025-04-15\nOpenJDK Runtime Environment";
        assert_eq!(parse_java_major(modern), Some(17));
        assert_eq!(parse_java_major("java version \"1.8.0_392\""), Some(8));
        assert_eq!(
            parse_java_major("openjdk version \"21\" 2023-09-19"),
            Some(21)
        );
        assert_eq!(
            parse_java_major("openjdk version \"22-ea\" 2024-03-19"),
            Some(22)
        );
        assert_eq!(parse_java_major("no version here"), None);
        assert_eq!(parse_java_major("version \"x.1\""), None);
    }
}

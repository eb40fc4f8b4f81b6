//! Running Kafka's command-line tools (TopicCommand, ConsoleConsumer, ProducerPerformance,
//! GetOffsetShell) from the downloaded jars, to completion, with a deadline. Their stdout
//! and stderr go to files in the cluster's `tools/` folder, kept for the test's logs.
//!
//! # References
//! - Kafka `bin/kafka-run-class.sh` (tool heap and main classes)

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use crate::error::{HarnessError, Result};
use crate::java::{HeapSize, JvmLauncher};
use crate::spawner::{self, Signal};
use crate::version::KafkaVersion;

/// JVM options for short-lived tools: the C1 compiler only and the serial collector start
/// a JVM faster and use less CPU, which matters more than peak speed for a tool that runs
/// a few seconds on a 2-core machine.
pub(crate) fn tool_jvm_options() -> Vec<String> {
    vec![
        "-XX:TieredStopAtLevel=1".to_owned(),
        "-XX:+UseSerialGC".to_owned(),
    ]
}

/// What a finished Kafka tool left behind: its output files (in the cluster's `tools/`
/// folder) and how it exited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolOutput {
    /// Its standard output, in a file.
    pub stdout: PathBuf,
    /// Its standard error, in a file.
    pub stderr: PathBuf,
    /// Whether it exited with status 0.
    pub success: bool,
    /// Its exit status, as text.
    pub status: String,
}

impl ToolOutput {
    /// Turns a failed run into [`HarnessError::ToolFailed`].
    pub(crate) fn check(self, tool: &str) -> Result<Self> {
        if self.success {
            Ok(self)
        } else {
            Err(self.failure(tool))
        }
    }

    /// The [`HarnessError::ToolFailed`] describing this run.
    pub(crate) fn failure(&self, tool: &str) -> HarnessError {
        HarnessError::ToolFailed {
            tool: tool.to_owned(),
            status: self.status.clone(),
            stderr_tail: crate::logs::tail_file(&self.stderr, 20),
            output: self.stdout.clone(),
        }
    }
}

/// Everything needed to start tools of one distribution.
#[derive(Debug)]
pub(crate) struct ToolRunner {
    /// The release the tools come from (their options differ between releases).
    pub(crate) version: KafkaVersion,
    launcher: JvmLauncher,
    log_config: PathBuf,
    output_dir: PathBuf,
    counter: AtomicU32,
    /// Options every tool JVM gets (the class-data archive).
    common_options: Vec<String>,
}

impl ToolRunner {
    /// Tools from `launcher`'s jars that log per `log_config` and write into `output_dir`.
    pub(crate) fn new(
        version: KafkaVersion,
        launcher: JvmLauncher,
        log_config: PathBuf,
        output_dir: PathBuf,
        common_options: Vec<String>,
    ) -> Self {
        Self {
            common_options,
            version,
            launcher,
            log_config,
            output_dir,
            counter: AtomicU32::new(0),
        }
    }

    /// The folder with every jar of the distribution.
    pub(crate) fn libs_dir(&self) -> &Path {
        &self.launcher.libs_dir
    }

    /// A fresh file path in the output folder, for a configuration file a tool reads.
    pub(crate) fn scratch_file(&self, label: &str) -> Result<PathBuf> {
        std::fs::create_dir_all(&self.output_dir)
            .map_err(|e| HarnessError::io(format!("creating {}", self.output_dir.display()), e))?;
        let seq = self.counter.fetch_add(1, Ordering::Relaxed);
        Ok(self.output_dir.join(format!("{seq:03}-{label}")))
    }

    /// Runs `main_class` with `args` until it exits or `timeout` passes (then it is
    /// killed and [`HarnessError::Timeout`] returned). `label` names the output files.
    pub(crate) async fn run(
        &self,
        main_class: &str,
        args: Vec<OsString>,
        jvm_options: &[String],
        label: &str,
        timeout: Duration,
    ) -> Result<ToolOutput> {
        std::fs::create_dir_all(&self.output_dir)
            .map_err(|e| HarnessError::io(format!("creating {}", self.output_dir.display()), e))?;
        let seq = self.counter.fetch_add(1, Ordering::Relaxed);
        let stdout = self.output_dir.join(format!("{seq:03}-{label}.out"));
        let stderr = self.output_dir.join(format!("{seq:03}-{label}.err"));
        let open = |p: &Path| {
            std::fs::File::create(p)
                .map_err(|e| HarnessError::io(format!("creating {}", p.display()), e))
        };
        let mut options = self.common_options.clone();
        options.extend_from_slice(jvm_options);
        let mut cmd =
            self.launcher
                .command(main_class, &HeapSize::TOOL, &self.log_config, &options);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(open(&stdout)?))
            .stderr(Stdio::from(open(&stderr)?));
        let mut child = spawner::spawn(cmd, main_class)?;
        let pid = child.id();
        let mut waiter = tokio::task::spawn_blocking(move || child.wait());
        let joined = match tokio::time::timeout(timeout, &mut waiter).await {
            Ok(joined) => joined,
            Err(_) => {
                // The child is not reaped until `wait` returns, so the pid is still ours.
                let _ = spawner::send_signal(pid, Signal::Kill);
                let _ = waiter.await;
                return Err(HarnessError::Timeout {
                    what: format!("{main_class} to finish"),
                    waited: timeout,
                    details: format!(
                        "it was killed; output in {} and {}",
                        stdout.display(),
                        stderr.display()
                    ),
                });
            }
        };
        let status = joined
            .map_err(|e| {
                HarnessError::io(
                    format!("waiting for {main_class}"),
                    std::io::Error::other(e),
                )
            })?
            .map_err(|e| HarnessError::io(format!("waiting for {main_class}"), e))?;
        Ok(ToolOutput {
            stdout,
            stderr,
            success: status.success(),
            status: status.to_string(),
        })
    }
}

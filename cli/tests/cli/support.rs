//! Running the binary and reaching the test cluster.

use std::process::Stdio;
use std::time::Duration;

use kiel_testcontainers::{shared_cluster, KafkaCluster};
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// How long one run of the binary may take before the test fails.
const RUN_TIMEOUT: Duration = Duration::from_secs(300);

/// How long reading back may wait for the next record.
pub(crate) const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// What a finished run left.
#[derive(Debug)]
pub(crate) struct Run {
    /// The exit code (`None`: killed by a signal).
    pub(crate) code: Option<i32>,
    /// Standard output.
    pub(crate) stdout: String,
    /// Standard error.
    pub(crate) stderr: String,
}

impl Run {
    /// Panics with both outputs unless the exit code is `code`.
    pub(crate) fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "exit code; stdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// Runs `kiel args...` with `stdin` as its standard input.
pub(crate) async fn kiel(args: &[&str], stdin: &[u8]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kiel"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("starting the kiel binary");
    let mut input = child.stdin.take().expect("stdin is piped");
    let data = stdin.to_vec();
    let writer = tokio::spawn(async move {
        // The binary may exit without reading everything (e.g. on a usage error).
        let _ = input.write_all(&data).await;
        let _ = input.shutdown().await;
    });
    let output = tokio::time::timeout(RUN_TIMEOUT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("kiel {args:?} did not finish within {RUN_TIMEOUT:?}"))
        .expect("waiting for kiel");
    let _ = writer.await;
    Run {
        code: output.status.code(),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

/// How long a run with an open standard input may take: it must end without waiting for
/// input, so this only bounds a test that fails.
const OPEN_STDIN_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `kiel args...` with a standard input that stays open, with nothing written to it,
/// until the process has exited: a command that must fail before reading its input ends
/// anyway, one that reads first does not (and the test fails after a minute).
pub(crate) async fn kiel_with_open_stdin(args: &[&str]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kiel"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("starting the kiel binary");
    let stdin = child.stdin.take().expect("stdin is piped");
    let output = tokio::time::timeout(OPEN_STDIN_TIMEOUT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| {
            panic!(
                "kiel {args:?} was still running after {OPEN_STDIN_TIMEOUT:?} (reading its input?)"
            )
        })
        .expect("waiting for kiel");
    drop(stdin);
    Run {
        code: output.status.code(),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

/// The shared cluster; fails the test with the harness's explanation if there is none.
pub(crate) async fn cluster() -> &'static KafkaCluster {
    shared_cluster()
        .await
        .unwrap_or_else(|e| panic!("this test needs a Kafka broker: {e}"))
}

/// A topic name no other test (or earlier run) uses.
pub(crate) fn unique(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{name}-{nanos:x}-{:x}", rand::random::<u32>())
}

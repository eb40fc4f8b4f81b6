//! Broker processes never outlive the test process: not when a test panics (Drop kills
//! them and keeps the logs), and not when the test process itself is killed with SIGKILL
//! (the kernel's parent-death signal kills them).
//!
//! The second test runs this same test binary again as a child (selected by an
//! environment variable), lets it start a broker, SIGKILLs the child, and checks that the
//! broker's JVM is gone.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kiel_testcontainers::{process_is_alive, KafkaCluster};

/// Set in the child: the file to write the broker's pid and folder into.
const CHILD_ENV: &str = "KIEL_TC_ORPHAN_CHILD_REPORT";
const TEST_NAME: &str = "brokers_die_when_the_test_process_is_killed";

/// Polls `condition` every 50 ms until it holds or `timeout` passes.
fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_panicking_test_kills_its_brokers_and_keeps_their_logs() {
    let seen: Arc<Mutex<Option<(u32, PathBuf, PathBuf)>>> = Arc::new(Mutex::new(None));
    let slot = Arc::clone(&seen);
    let outcome = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let cluster = KafkaCluster::builder().start().await.expect("cluster");
            let pid = cluster.pid(1).unwrap().expect("running");
            let log = cluster.log_path(1).unwrap();
            *slot.lock().unwrap() = Some((pid, log, cluster.work_dir().to_path_buf()));
            panic!("deliberate panic with a running cluster");
        })
    })
    .join();
    assert!(outcome.is_err(), "the thread panicked");
    let (pid, log, dir) = seen.lock().unwrap().clone().expect("cluster started");
    assert!(!process_is_alive(pid), "broker {pid} survived the panic");
    assert!(log.is_file(), "the log {} was kept", log.display());
    assert!(dir.join("KEEP").is_file());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// In the child: start a broker, report it, wait to be killed. In the parent: run the
/// child, kill it, and check the broker dies too.
#[test]
fn brokers_die_when_the_test_process_is_killed() {
    if let Ok(report) = std::env::var(CHILD_ENV) {
        run_as_child(PathBuf::from(report));
    }
    let report = std::env::temp_dir().join(format!("kiel-orphan-report-{}", std::process::id()));
    let _ = std::fs::remove_file(&report);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &report)
        .stdin(Stdio::null())
        .spawn()
        .expect("re-run this test binary");
    let started = wait_until(Duration::from_secs(240), || {
        std::fs::read_to_string(&report).is_ok_and(|t| t.ends_with('\n'))
            || child.try_wait().ok().flatten().is_some()
    });
    let text = std::fs::read_to_string(&report).unwrap_or_default();
    let mut lines = text.lines();
    let pid: u32 = lines.next().and_then(|l| l.parse().ok()).unwrap_or(0);
    let dir = PathBuf::from(lines.next().unwrap_or_default());
    assert!(
        started && pid != 0,
        "the child did not start a broker (status {:?})",
        child.try_wait()
    );
    assert!(
        process_is_alive(pid),
        "broker {pid} runs while the child runs"
    );

    child.kill().expect("SIGKILL the child");
    child.wait().unwrap();
    let gone = wait_until(Duration::from_secs(30), || !process_is_alive(pid));
    assert!(gone, "broker {pid} outlived its killed test process");
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_file(&report);
}

fn run_as_child(report: PathBuf) -> ! {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let cluster = runtime
        .block_on(KafkaCluster::builder().start())
        .expect("child cluster");
    let pid = cluster.pid(1).unwrap().expect("running");
    // The runtime's worker threads exit here; that must not take the broker with them.
    drop(runtime);
    let text = format!("{pid}\n{}\n", cluster.work_dir().display());
    let tmp = report.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, &report).unwrap();
    // Never returns: the parent kills this process.
    loop {
        std::thread::park();
    }
}

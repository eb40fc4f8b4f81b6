//! One broker+controller JVM: its folder, ports, and process, with the signals tests use
//! (kill, pause, resume, stop) and restarts on the same data.
//!
//! A node's folder holds `server.properties`, `data/` (the log directory) and `broker.log`
//! (the JVM's stdout and stderr; every start appends to it after a banner line).
//!
//! # References
//! - `shared/design/kafka-harness/NOTES.md` section 4 (SIGTERM is a controlled shutdown;
//!   restart with the same config and data, never reformat)

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::error::{HarnessError, Result};
use crate::java::{HeapSize, JvmLauncher};
use crate::node_config::NodePorts;
use crate::spawner::{self, Signal};

/// How long [`Node::stop`] waits for a controlled shutdown before it kills.
pub(crate) const STOP_GRACE: Duration = Duration::from_secs(30);

/// How long [`Node::pause`] waits for every thread of the JVM to stop after SIGSTOP.
pub(crate) const PAUSE_TIMEOUT: Duration = Duration::from_secs(10);

/// What a node's process is doing.
#[derive(Debug)]
enum ProcessState {
    /// `stopping`: SIGTERM was sent; its exit is expected, not a failure.
    Running {
        child: Child,
        paused: bool,
        stopping: bool,
    },
    Stopped {
        how: String,
    },
}

/// A broker node of a local cluster.
#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) id: i32,
    ports: Mutex<NodePorts>,
    pub(crate) dir: PathBuf,
    state: Mutex<ProcessState>,
    starts: Mutex<u32>,
}

/// What a node needs to (re)start its JVM.
#[derive(Debug, Clone)]
pub(crate) struct LaunchSpec {
    pub(crate) launcher: JvmLauncher,
    pub(crate) heap: HeapSize,
    pub(crate) jvm_options: Vec<String>,
    pub(crate) log_config: PathBuf,
}

impl Node {
    /// A node that has not been started; its folder must exist with `server.properties`.
    pub(crate) fn new(id: i32, ports: NodePorts, dir: PathBuf) -> Self {
        Self {
            id,
            ports: Mutex::new(ports),
            dir,
            state: Mutex::new(ProcessState::Stopped {
                how: "not started".to_owned(),
            }),
            starts: Mutex::new(0),
        }
    }

    /// `127.0.0.1:<broker port>`.
    pub(crate) fn address(&self) -> String {
        format!("127.0.0.1:{}", self.ports().broker)
    }

    /// The node's listener ports now.
    pub(crate) fn ports(&self) -> NodePorts {
        *self.ports.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Moves the client (PLAINTEXT) listener of a node that is not running to `port`: in
    /// its `server.properties` and in [`Self::address`]. The controller port stays.
    pub(crate) fn move_broker_port(&self, port: u16) -> Result<()> {
        let state = self.lock();
        if let ProcessState::Running { .. } = *state {
            return Err(self.bad_state_of("move the port of", &state));
        }
        let path = self.config_path();
        let text = std::fs::read_to_string(&path)
            .map_err(|e| HarnessError::io(format!("reading {}", path.display()), e))?;
        let old = self.ports().broker;
        let moved = crate::node_config::move_broker_port(&text, old, port).ok_or_else(|| {
            HarnessError::InvalidArgument(format!(
                "{} names no listener on port {old} to move",
                path.display()
            ))
        })?;
        std::fs::write(&path, moved)
            .map_err(|e| HarnessError::io(format!("writing {}", path.display()), e))?;
        self.ports.lock().unwrap_or_else(|e| e.into_inner()).broker = port;
        Ok(())
    }

    /// The file with the JVM's output.
    pub(crate) fn log_path(&self) -> PathBuf {
        self.dir.join("broker.log")
    }

    pub(crate) fn config_path(&self) -> PathBuf {
        self.dir.join("server.properties")
    }

    pub(crate) fn data_dir(node_dir: &Path) -> PathBuf {
        node_dir.join("data")
    }

    fn lock(&self) -> MutexGuard<'_, ProcessState> {
        // A panic while holding the lock leaves a consistent state behind; keep going.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts the JVM. Fails if it is already running.
    pub(crate) fn start(&self, spec: &LaunchSpec) -> Result<()> {
        let mut state = self.lock();
        if let ProcessState::Running { .. } = *state {
            return Err(self.bad_state("start", "running"));
        }
        let attempt = {
            let mut starts = self.starts.lock().unwrap_or_else(|e| e.into_inner());
            *starts += 1;
            *starts
        };
        let log_path = self.log_path();
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| HarnessError::io(format!("opening {}", log_path.display()), e))?;
        let _ = writeln!(
            log,
            "===== kiel-testcontainers: starting node {} (start #{attempt}) =====",
            self.id
        );
        let log_err = log
            .try_clone()
            .map_err(|e| HarnessError::io("duplicating a file handle", e))?;
        let mut jvm_options = spec.jvm_options.clone();
        jvm_options.push(format!(
            "-Dkafka.logs.dir={}",
            self.dir.join("logs").display()
        ));
        let mut cmd =
            spec.launcher
                .command("kafka.Kafka", &spec.heap, &spec.log_config, &jvm_options);
        cmd.arg(self.config_path())
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err));
        let child = spawner::spawn(cmd, &format!("Kafka node {}", self.id))?;
        *state = ProcessState::Running {
            child,
            paused: false,
            stopping: false,
        };
        Ok(())
    }

    /// The JVM's process id while it runs.
    pub(crate) fn pid(&self) -> Option<u32> {
        match &*self.lock() {
            ProcessState::Running { child, .. } => Some(child.id()),
            ProcessState::Stopped { .. } => None,
        }
    }

    /// Whether the process runs, is not paused and is not being stopped. Notices a
    /// process that exited on its own and returns [`HarnessError::NodeExited`] for it (an
    /// exit after SIGTERM from [`Self::stop`] is no error).
    pub(crate) fn check_alive(&self) -> Result<bool> {
        let mut state = self.lock();
        let ProcessState::Running {
            child,
            paused,
            stopping,
        } = &mut *state
        else {
            return Ok(false);
        };
        let (paused, stopping) = (*paused, *stopping);
        match child.try_wait() {
            Ok(None) => Ok(!paused && !stopping),
            Ok(Some(status)) if stopping => {
                *state = ProcessState::Stopped {
                    how: format!("stopped ({status})"),
                };
                Ok(false)
            }
            Ok(Some(status)) => {
                *state = ProcessState::Stopped {
                    how: format!("exited by itself ({status})"),
                };
                Err(HarnessError::NodeExited {
                    node: self.id,
                    status: status.to_string(),
                    log: self.log_path(),
                    log_tail: crate::logs::tail_file(&self.log_path(), 30),
                })
            }
            Err(e) => Err(HarnessError::io(format!("checking node {}", self.id), e)),
        }
    }

    /// Whether the process is running, not paused and not being stopped (no error for an
    /// exited one).
    pub(crate) fn is_serving(&self) -> bool {
        self.check_alive().unwrap_or(false)
    }

    /// A short description of the process state.
    pub(crate) fn describe(&self) -> String {
        match &*self.lock() {
            ProcessState::Running {
                stopping: true,
                child,
                ..
            } => format!("stopping (pid {})", child.id()),
            ProcessState::Running {
                paused: true,
                child,
                ..
            } => format!("paused (pid {})", child.id()),
            ProcessState::Running { child, .. } => format!("running (pid {})", child.id()),
            ProcessState::Stopped { how } => format!("stopped: {how}"),
        }
    }

    /// SIGKILL, then reap. Fails if the node is not running.
    pub(crate) fn kill(&self) -> Result<()> {
        let mut state = self.lock();
        let ProcessState::Running { child, .. } = &mut *state else {
            return Err(self.bad_state_of("kill", &state));
        };
        spawner::send_signal(child.id(), Signal::Kill)
            .map_err(|e| HarnessError::io(format!("killing node {}", self.id), e))?;
        let status = child
            .wait()
            .map_err(|e| HarnessError::io(format!("reaping node {}", self.id), e))?;
        *state = ProcessState::Stopped {
            how: format!("killed ({status})"),
        };
        Ok(())
    }

    /// SIGSTOP, then a wait (up to `timeout`) until every thread of the JVM has stopped:
    /// the signal only asks, and a thread running on another core stops a moment later.
    /// Fails unless the node is running, not paused and not being stopped, and with
    /// [`HarnessError::Timeout`] naming the threads still running when it takes longer.
    pub(crate) fn pause(&self, timeout: Duration) -> Result<()> {
        // The lock is held throughout, so the child cannot be reaped (and its pid reused)
        // while its threads are looked at.
        let mut state = self.lock();
        let pid = match &mut *state {
            ProcessState::Running {
                child,
                paused: paused @ false,
                stopping: false,
            } => {
                spawner::send_signal(child.id(), Signal::Stop)
                    .map_err(|e| HarnessError::io(format!("pausing node {}", self.id), e))?;
                *paused = true;
                child.id()
            }
            other => return Err(self.bad_state_of("pause", other)),
        };
        spawner::wait_until_stopped(pid, timeout).map_err(|running| HarnessError::Timeout {
            what: format!(
                "every thread of node {} (pid {pid}) to stop after SIGSTOP",
                self.id
            ),
            waited: timeout,
            details: format!("threads not stopped (tid state): {running}"),
        })
    }

    /// SIGCONT. Fails unless the node is paused.
    pub(crate) fn resume(&self) -> Result<()> {
        let mut state = self.lock();
        match &mut *state {
            ProcessState::Running {
                child,
                paused: paused @ true,
                ..
            } => {
                spawner::send_signal(child.id(), Signal::Continue)
                    .map_err(|e| HarnessError::io(format!("resuming node {}", self.id), e))?;
                *paused = false;
                Ok(())
            }
            other => Err(self.bad_state_of("resume", other)),
        }
    }

    /// SIGTERM (a controlled shutdown; a paused node is resumed first so it can act on
    /// it), wait up to `grace`, then SIGKILL. Fails if the node is not running.
    pub(crate) async fn stop(&self, grace: Duration) -> Result<()> {
        {
            let mut state = self.lock();
            let ProcessState::Running {
                child,
                paused,
                stopping,
            } = &mut *state
            else {
                return Err(self.bad_state_of("stop", &state));
            };
            let pid = child.id();
            spawner::send_signal(pid, Signal::Terminate)
                .map_err(|e| HarnessError::io(format!("stopping node {}", self.id), e))?;
            *stopping = true;
            if *paused {
                let _ = spawner::send_signal(pid, Signal::Continue);
                *paused = false;
            }
        }
        let deadline = Instant::now() + grace;
        loop {
            {
                let mut state = self.lock();
                let ProcessState::Running { child, .. } = &mut *state else {
                    return Ok(());
                };
                match child.try_wait() {
                    Ok(Some(status)) => {
                        *state = ProcessState::Stopped {
                            how: format!("stopped ({status})"),
                        };
                        return Ok(());
                    }
                    Ok(None) if Instant::now() >= deadline => {
                        drop(state);
                        return self.kill();
                    }
                    Ok(None) => {}
                    Err(e) => {
                        return Err(HarnessError::io(format!("waiting for node {}", self.id), e))
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL and reap if running; never fails (for `Drop` and the exit handler).
    pub(crate) fn kill_quietly(&self) {
        let mut state = self.lock();
        if let ProcessState::Running { child, .. } = &mut *state {
            let _ = spawner::send_signal(child.id(), Signal::Kill);
            let _ = child.wait();
            *state = ProcessState::Stopped {
                how: "killed by the harness".to_owned(),
            };
        }
    }

    /// The resident memory of the JVM in bytes (`VmRSS` of `/proc/<pid>/status`).
    pub(crate) fn rss_bytes(&self) -> Option<u64> {
        let pid = self.pid()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kib * 1024)
    }

    fn bad_state(&self, operation: &'static str, state: &str) -> HarnessError {
        HarnessError::BadNodeState {
            operation,
            node: self.id,
            state: state.to_owned(),
        }
    }

    fn bad_state_of(&self, operation: &'static str, state: &ProcessState) -> HarnessError {
        let text = match state {
            ProcessState::Running { stopping: true, .. } => "stopping".to_owned(),
            ProcessState::Running { paused: true, .. } => "paused".to_owned(),
            ProcessState::Running { .. } => "running".to_owned(),
            ProcessState::Stopped { how } => format!("stopped ({how})"),
        };
        self.bad_state(operation, &text)
    }
}

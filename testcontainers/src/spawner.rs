//! Starting child processes that can never outlive the test process, and sending them
//! signals.
//!
//! On Linux every child gets `prctl(PR_SET_PDEATHSIG, SIGKILL)` between `fork` and `exec`:
//! the kernel kills it when its parent goes away, also when the test binary is killed with
//! SIGKILL and no destructor runs. The "parent" the kernel watches is the *thread* that
//! forked, not the process. Tokio's worker and blocking threads come and go, and each
//! `#[tokio::test]` has its own runtime, so children are forked from one dedicated thread
//! that lives as long as the process; the other threads hand it their commands.
//!
//! On other Unix systems the children are started the same way without the death signal;
//! the harness then relies on `Drop` and its exit handler.
//!
//! # References
//! - prctl(2), `PR_SET_PDEATHSIG`: <https://man7.org/linux/man-pages/man2/prctl.2.html>
//! - kill(2): <https://man7.org/linux/man-pages/man2/kill.2.html>

use std::process::{Child, Command};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;
#[cfg(target_os = "linux")]
use std::time::Instant;

use crate::error::{HarnessError, Result};

type Job = (Command, mpsc::Sender<std::io::Result<Child>>);

static SPAWNER: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();

fn spawner() -> Result<mpsc::Sender<Job>> {
    let sender = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        let spawned = std::thread::Builder::new()
            .name("kiel-kafka-spawner".to_owned())
            .spawn(move || {
                // Runs until the process exits: the sender lives in a static.
                while let Ok((mut cmd, reply)) = rx.recv() {
                    let _ = reply.send(spawn_here(&mut cmd));
                }
            });
        if let Err(e) = spawned {
            // Leave a sender whose receiver is gone; every spawn then reports the failure.
            eprintln!("kiel-testcontainers: cannot start the spawner thread: {e}");
        }
        Mutex::new(tx)
    });
    sender
        .lock()
        .map(|s| s.clone())
        .map_err(|_| HarnessError::io("spawner", std::io::Error::other("spawner lock poisoned")))
}

/// Starts `cmd` from the long-lived spawner thread, with the parent-death signal set on
/// Linux. `what` names the process in errors.
pub(crate) fn spawn(cmd: Command, what: &str) -> Result<Child> {
    let (reply_tx, reply_rx) = mpsc::channel();
    let lost = || {
        HarnessError::io(
            format!("starting {what}"),
            std::io::Error::other("the spawner thread is not running"),
        )
    };
    spawner()?.send((cmd, reply_tx)).map_err(|_| lost())?;
    reply_rx
        .recv()
        .map_err(|_| lost())?
        .map_err(|e| HarnessError::io(format!("starting {what}"), e))
}

#[cfg(target_os = "linux")]
fn spawn_here(cmd: &mut Command) -> std::io::Result<Child> {
    use std::os::unix::process::CommandExt;
    // SAFETY: getpid is async-signal-safe and runs before the fork.
    let parent = unsafe { libc::getpid() };
    // SAFETY: the closure runs in the forked child before exec and only makes the
    // async-signal-safe system calls prctl and getppid; it allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            let signal = libc::SIGKILL as libc::c_ulong;
            if libc::prctl(libc::PR_SET_PDEATHSIG, signal, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent may have died between fork and prctl: then no signal will come.
            if libc::getppid() != parent {
                return Err(std::io::Error::other("parent exited during spawn"));
            }
            Ok(())
        });
    }
    cmd.spawn()
}

#[cfg(not(target_os = "linux"))]
fn spawn_here(cmd: &mut Command) -> std::io::Result<Child> {
    cmd.spawn()
}

/// A signal the harness sends to brokers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// SIGKILL: die now, no shutdown.
    Kill,
    /// SIGTERM: controlled shutdown.
    Terminate,
    /// SIGSTOP: freeze every thread.
    Stop,
    /// SIGCONT: thaw.
    Continue,
}

impl Signal {
    const fn number(self) -> libc::c_int {
        match self {
            Self::Kill => libc::SIGKILL,
            Self::Terminate => libc::SIGTERM,
            Self::Stop => libc::SIGSTOP,
            Self::Continue => libc::SIGCONT,
        }
    }
}

/// Sends `signal` to process `pid`. The caller must still own the (unreaped) child, so
/// that the pid cannot have been reused.
pub(crate) fn send_signal(pid: u32, signal: Signal) -> std::io::Result<()> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| std::io::Error::other("pid out of range"))?;
    // SAFETY: kill takes plain integers; a pid of a child we have not reaped is ours.
    let rc = unsafe { libc::kill(pid, signal.number()) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Whether process `pid` is alive (exists and is not a zombie), from `/proc/<pid>/stat`.
/// Linux only; elsewhere asks `kill(pid, 0)`.
pub fn process_is_alive(pid: u32) -> bool {
    #[cfg(target_os = "linux")]
    {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return false;
        };
        !matches!(stat_state(&stat), Some('Z' | 'X') | None)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        // SAFETY: signal 0 only checks that the process exists.
        unsafe { libc::kill(pid, 0) == 0 }
    }
}

/// The state letter of a `/proc/<pid>/stat` or `/proc/<pid>/task/<tid>/stat` line: it
/// follows the parenthesised command name, which may hold spaces and parentheses.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn stat_state(stat: &str) -> Option<char> {
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    rest.trim_start().chars().next()
}

/// Whether a thread in this state runs no more code: stopped by a signal (`T`) or a
/// tracer (`t`), or dead (`Z`, `X`).
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
const fn is_halted(state: char) -> bool {
    matches!(state, 'T' | 't' | 'Z' | 'X')
}

/// How often [`wait_until_stopped`] looks at the threads again.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
const STOP_POLL: Duration = Duration::from_millis(1);

/// Waits until every thread of process `pid` is halted (see [`is_halted`]), as they are
/// some time after SIGSTOP; on timeout, the threads still running as `tid state` pairs.
/// Blocks the calling thread for that long (normally well under a millisecond to a few).
/// Linux only; elsewhere returns at once.
pub(crate) fn wait_until_stopped(pid: u32, timeout: Duration) -> std::result::Result<(), String> {
    #[cfg(target_os = "linux")]
    {
        let deadline = Instant::now() + timeout;
        loop {
            let running = threads_not_halted(pid).map_err(|e| format!("reading threads: {e}"))?;
            if running.is_empty() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(running
                    .iter()
                    .map(|(tid, state)| format!("{tid} {state}"))
                    .collect::<Vec<_>>()
                    .join(", "));
            }
            std::thread::sleep(STOP_POLL);
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (pid, timeout);
        Ok(())
    }
}

/// The threads of `pid` (from `/proc/<pid>/task`) that are not halted, with their state.
#[cfg(target_os = "linux")]
fn threads_not_halted(pid: u32) -> std::io::Result<Vec<(String, char)>> {
    let mut running = Vec::new();
    for entry in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let entry = entry?;
        // A thread that ended after the listing has no stat file any more.
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        match stat_state(&stat) {
            Some(state) if is_halted(state) => {}
            state => running.push((
                entry.file_name().to_string_lossy().into_owned(),
                state.unwrap_or('?'),
            )),
        }
    }
    Ok(running)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_start_from_any_thread_and_can_be_signalled() {
        let mut cmd = Command::new("sleep");
        cmd.arg("30");
        let mut child = std::thread::spawn(move || spawn(cmd, "sleep"))
            .join()
            .unwrap()
            .unwrap();
        // The forking thread above has exited; the child must still be running.
        assert!(child.try_wait().unwrap().is_none());
        assert!(process_is_alive(child.id()));
        send_signal(child.id(), Signal::Kill).unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success());
        assert!(!process_is_alive(child.id()));
    }

    #[test]
    fn stat_state_reads_past_the_command_name() {
        assert_eq!(stat_state("42 (java) S 1 42"), Some('S'));
        assert_eq!(stat_state("42 (a) b) (c) T 1 42"), Some('T'));
        assert_eq!(stat_state("42 (java)"), None);
        assert!(is_halted('T') && is_halted('Z') && !is_halted('R') && !is_halted('S'));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_stopped_child_has_every_thread_halted() {
        let mut cmd = Command::new("sleep");
        cmd.arg("30");
        let mut child = spawn(cmd, "sleep").unwrap();
        send_signal(child.id(), Signal::Stop).unwrap();
        wait_until_stopped(child.id(), Duration::from_secs(10)).unwrap();
        assert!(threads_not_halted(child.id()).unwrap().is_empty());
        send_signal(child.id(), Signal::Continue).unwrap();
        assert!(!threads_not_halted(child.id()).unwrap().is_empty());
        send_signal(child.id(), Signal::Kill).unwrap();
        child.wait().unwrap();
    }

    #[test]
    fn a_missing_program_is_an_error() {
        let err = spawn(Command::new("/nonexistent/kiel-no-such-program"), "nothing").unwrap_err();
        assert!(err.to_string().contains("starting nothing"), "{err}");
    }
}

//! Running a client as a child process and measuring what it cost: wall time, user and
//! system CPU time and peak resident set size, from `wait4(2)`'s `rusage` of that child
//! alone (so the brokers and the harness are not counted).
//!
//! The child's standard output and error go to files (read back afterwards), so a chatty
//! client can never block on a full pipe. On Linux the child gets `PR_SET_PDEATHSIG`
//! (SIGKILL), so it does not outlive a killed race; the thread that forks it is the one that
//! waits for it, and lives as long as the child.
//!
//! # References
//! - wait4(2), getrusage(2) (`ru_utime`, `ru_stime`, `ru_maxrss` in KiB on Linux)
//! - prctl(2) `PR_SET_PDEATHSIG`

use std::fs::File;
use std::io;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How a child ran and what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// Whether it exited with status 0.
    pub success: bool,
    /// How it ended, as text (`exit 0`, `killed by signal 9`, ...).
    pub status: String,
    /// Its exit code, when it exited (rather than being killed).
    pub exit_code: Option<i32>,
    /// Whether it was killed for taking longer than allowed.
    pub timed_out: bool,
    /// From start to exit.
    pub wall: Duration,
    /// User CPU time.
    pub user: Duration,
    /// System CPU time.
    pub system: Duration,
    /// Peak resident set size, bytes.
    pub max_rss_bytes: u64,
}

impl Measured {
    /// User plus system CPU time.
    pub fn cpu(&self) -> Duration {
        self.user + self.system
    }
}

/// What `wait4` returned.
struct Reaped {
    status: libc::c_int,
    usage: libc::rusage,
}

/// Waits for `pid`, retrying on EINTR.
fn wait_for(pid: libc::pid_t) -> io::Result<Reaped> {
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: an all-zero rusage is a valid value of this plain C struct.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `status` and `usage` are valid for writes for the whole call.
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            return Ok(Reaped { status, usage });
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

fn timeval(t: libc::timeval) -> Duration {
    let secs = u64::try_from(t.tv_sec).unwrap_or(0);
    let micros = u64::try_from(t.tv_usec).unwrap_or(0);
    Duration::from_secs(secs) + Duration::from_micros(micros)
}

fn describe_status(status: libc::c_int) -> (bool, String) {
    if libc::WIFEXITED(status) {
        let code = libc::WEXITSTATUS(status);
        (code == 0, format!("exit {code}"))
    } else if libc::WIFSIGNALED(status) {
        (
            false,
            format!("killed by signal {}", libc::WTERMSIG(status)),
        )
    } else {
        (false, format!("wait status {status}"))
    }
}

/// Runs `command` (its stdin closed, stdout and stderr into the files given) until it
/// exits, killing it with SIGKILL after `timeout`. Blocks the calling thread.
pub fn run_measured(
    mut command: Command,
    stdout: &Path,
    stderr: &Path,
    timeout: Duration,
) -> io::Result<Measured> {
    command
        .stdin(Stdio::null())
        .stdout(File::create(stdout)?)
        .stderr(File::create(stderr)?);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: the closure only calls prctl, which is async-signal-safe.
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) == 0 {
                    Ok(())
                } else {
                    Err(io::Error::last_os_error())
                }
            });
        }
    }
    let started = Instant::now();
    let child = command.spawn()?;
    let pid = libc::pid_t::try_from(child.id())
        .map_err(|_| io::Error::other("the child's pid does not fit a pid_t"))?;
    // `Child` is not used to wait: wait4 below reaps the child and reads its usage.
    drop(child);
    let (sender, receiver) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let _ = sender.send(wait_for(pid));
    });
    let mut timed_out = false;
    let reaped = match receiver.recv_timeout(timeout) {
        Ok(reaped) => reaped,
        Err(_) => {
            timed_out = true;
            // Not reaped yet (the waiter has not sent), so the pid is still this child's.
            // SAFETY: kill has no memory-safety preconditions.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
            receiver
                .recv()
                .map_err(|_| io::Error::other("the waiting thread ended without an answer"))?
        }
    };
    let wall = started.elapsed();
    let _ = waiter.join();
    let reaped = reaped?;
    let (success, status) = describe_status(reaped.status);
    let exit_code = libc::WIFEXITED(reaped.status).then(|| libc::WEXITSTATUS(reaped.status));
    Ok(Measured {
        success: success && !timed_out,
        status,
        exit_code,
        timed_out,
        wall,
        user: timeval(reaped.usage.ru_utime),
        system: timeval(reaped.usage.ru_stime),
        max_rss_bytes: u64::try_from(reaped.usage.ru_maxrss)
            .unwrap_or(0)
            .saturating_mul(1024),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("kiel-race-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    #[test]
    fn a_child_that_burns_cpu_and_memory_is_measured() {
        // Touch ~64 MiB and spin a little: the child's own CPU and RSS, not ours.
        let mut command = Command::new("sh");
        command.args([
            "-c",
            "head -c 67108864 /dev/zero | tr '\\0' 'a' > /dev/null; \
             i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; echo done",
        ]);
        let out = scratch("burn.out");
        let m = run_measured(command, &out, &scratch("burn.err"), Duration::from_secs(60)).unwrap();
        assert!(m.success, "{m:?}");
        assert_eq!(m.status, "exit 0");
        assert!(m.cpu() > Duration::from_millis(20), "{m:?}");
        assert!(m.max_rss_bytes > 0, "{m:?}");
        assert!(m.wall >= m.cpu() / 4, "{m:?}");
        assert_eq!(std::fs::read_to_string(out).unwrap(), "done\n");
    }

    #[test]
    fn failures_and_timeouts_are_reported() {
        let mut failing = Command::new("sh");
        failing.args(["-c", "exit 3"]);
        let m = run_measured(
            failing,
            &scratch("fail.out"),
            &scratch("fail.err"),
            Duration::from_secs(60),
        )
        .unwrap();
        assert!(!m.success);
        assert_eq!(m.status, "exit 3");
        assert_eq!(m.exit_code, Some(3));
        let mut slow = Command::new("sleep");
        slow.arg("30");
        let m = run_measured(
            slow,
            &scratch("slow.out"),
            &scratch("slow.err"),
            Duration::from_millis(200),
        )
        .unwrap();
        assert!(m.timed_out && !m.success, "{m:?}");
        assert_eq!(m.status, "killed by signal 9");
        assert_eq!(m.exit_code, None);
        assert!(m.wall < Duration::from_secs(20), "{m:?}");
    }
}

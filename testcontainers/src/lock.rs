//! An exclusive advisory lock on a file (`flock(2)`), held for the life of a guard. Two test
//! processes that download the same Kafka release at once take turns: the second one waits,
//! then finds the finished download. The kernel drops the lock when the process dies, so a
//! killed download never leaves a stale lock behind.
//!
//! # References
//! - flock(2): <https://man7.org/linux/man-pages/man2/flock.2.html>

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::path::Path;

use crate::error::{HarnessError, Result};

/// Holds an exclusive `flock` on a file until dropped.
#[derive(Debug)]
pub(crate) struct FileLock {
    // Closing the descriptor releases the lock.
    _file: File,
}

impl FileLock {
    /// Opens (creating if needed) `path` and blocks until this process holds the exclusive
    /// lock on it. Call from a blocking context.
    pub(crate) fn acquire(path: &Path) -> Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| HarnessError::io(format!("opening lock file {}", path.display()), e))?;
        loop {
            // SAFETY: flock only reads the descriptor number, which `file` keeps open.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
            if rc == 0 {
                return Ok(Self { _file: file });
            }
            let err = std::io::Error::last_os_error();
            if err.kind() != std::io::ErrorKind::Interrupted {
                return Err(HarnessError::io(format!("locking {}", path.display()), err));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tries a non-blocking exclusive lock through a second open file description, as
    /// another process would.
    fn try_lock_elsewhere(path: &Path) -> bool {
        let file = OpenOptions::new().write(true).open(path).unwrap();
        // SAFETY: as in `acquire`; the descriptor stays open for the call.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        rc == 0
    }

    #[test]
    fn the_lock_excludes_others_until_dropped() {
        let dir = std::env::temp_dir().join(format!("kiel-lock-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.lock");
        let first = FileLock::acquire(&path).unwrap();
        assert!(!try_lock_elsewhere(&path), "lock granted twice");
        drop(first);
        assert!(try_lock_elsewhere(&path), "lock not released on drop");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

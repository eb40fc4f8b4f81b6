//! Each cluster's temporary folder: `<root>/cluster-<pid>-<n>-<random>/` holding one folder
//! per node (configuration, data, `broker.log`) and `tools/` (output of every tool run).
//! A Schema Registry gets `<root>/registry-<pid>-<n>-<random>/` (its log, access log and
//! temporary files), handled the same way.
//!
//! The root is `$KIEL_KAFKA_TMP`, else `<temp dir>/kiel-kafka`. A cluster removes its folder
//! when dropped, unless a test failed (then the folder is kept and its place printed). A
//! folder whose owning process is gone and that was not kept is removed by the next cluster
//! start (this covers clusters held in statics, whose destructors never run).
//!
//! # References
//! - None: file-system housekeeping.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::error::{HarnessError, Result};

/// The environment variable naming the root of the clusters' temporary folders.
pub const TMP_ENV: &str = "KIEL_KAFKA_TMP";

const OWNER_FILE: &str = "owner.pid";

/// The name prefixes of the folders this module makes (and sweeps).
const PREFIXES: [&str; 2] = ["cluster-", "registry-"];
const KEEP_FILE: &str = "KEEP";

static SEQUENCE: AtomicU32 = AtomicU32::new(0);

/// The root folder of all clusters' temporary folders.
pub fn tmp_root() -> PathBuf {
    match std::env::var_os(TMP_ENV) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => std::env::temp_dir().join("kiel-kafka"),
    }
}

/// One cluster's folder.
#[derive(Debug)]
pub(crate) struct RunDir {
    path: PathBuf,
}

impl RunDir {
    /// Creates a fresh cluster folder under [`tmp_root`], after removing abandoned ones.
    pub(crate) fn create() -> Result<Self> {
        Self::create_named("cluster")
    }

    /// Creates a fresh `<kind>-<pid>-<n>-<random>` folder under [`tmp_root`] (`kind` is
    /// `cluster` or `registry`), after removing abandoned ones.
    pub(crate) fn create_named(kind: &str) -> Result<Self> {
        debug_assert!(PREFIXES.contains(&format!("{kind}-").as_str()));
        let root = tmp_root();
        std::fs::create_dir_all(&root)
            .map_err(|e| HarnessError::io(format!("creating {}", root.display()), e))?;
        sweep_abandoned(&root);
        let pid = std::process::id();
        let path = root.join(format!(
            "{kind}-{pid}-{}-{:06x}",
            SEQUENCE.fetch_add(1, Ordering::Relaxed),
            rand::random::<u32>() & 0xff_ffff
        ));
        std::fs::create_dir(&path)
            .map_err(|e| HarnessError::io(format!("creating {}", path.display()), e))?;
        std::fs::write(path.join(OWNER_FILE), pid.to_string())
            .map_err(|e| HarnessError::io(format!("writing into {}", path.display()), e))?;
        Ok(Self { path })
    }

    /// The folder.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Marks the folder to be kept (a test failed), with the reason.
    pub(crate) fn keep(&self, reason: &str) {
        let _ = std::fs::write(self.path.join(KEEP_FILE), reason);
    }

    /// Whether [`Self::keep`] was called.
    pub(crate) fn is_kept(&self) -> bool {
        self.path.join(KEEP_FILE).exists()
    }

    /// Removes the folder unless it is kept.
    pub(crate) fn remove_unless_kept(&self) {
        if !self.is_kept() {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Removes cluster and registry folders whose owner process has exited and that are not
/// kept.
fn sweep_abandoned(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if !PREFIXES.iter().any(|p| name.starts_with(p)) || path.join(KEEP_FILE).exists() {
            continue;
        }
        let owner = std::fs::read_to_string(path.join(OWNER_FILE))
            .ok()
            .and_then(|t| t.trim().parse::<u32>().ok());
        let abandoned = match owner {
            Some(pid) => pid != std::process::id() && !crate::spawner::process_is_alive(pid),
            // A folder without an owner file is one being created right now, or junk.
            None => false,
        };
        if abandoned {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

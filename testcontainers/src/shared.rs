//! One cluster shared by all tests of a test binary: started on first use (or taken from
//! `KAFKA_BOOTSTRAP`), never restarted. Tests that kill, pause or restart nodes must start
//! their own cluster instead.
//!
//! A static is never dropped, so the shared cluster's cleanup is done by two hooks installed
//! when it starts: a panic hook that keeps its folder and prints where its logs are (a test
//! failed), and a process-exit handler (`atexit`) that kills its JVMs and removes the folder
//! unless it is kept. The brokers' parent-death signal covers a test binary that is killed.
//!
//! # References
//! - atexit(3): <https://man7.org/linux/man-pages/man3/atexit.3.html>
//! - `std::panic::set_hook`

use std::sync::Once;

use crate::cluster::KafkaCluster;
use crate::error::{HarnessError, Result};

static SHARED: tokio::sync::OnceCell<std::result::Result<KafkaCluster, String>> =
    tokio::sync::OnceCell::const_new();

static HOOKS: Once = Once::new();

/// The test binary's shared cluster: `KAFKA_BOOTSTRAP` if set, else one local node with
/// the builder's defaults (auto topic creation on). Started once; a failure to start is
/// remembered and returned to every later caller.
pub async fn shared_cluster() -> Result<&'static KafkaCluster> {
    let slot = SHARED
        .get_or_init(|| async {
            let started = KafkaCluster::from_env_or_start(KafkaCluster::builder()).await;
            if started.is_ok() {
                install_hooks();
            }
            started.map_err(|e| e.to_string())
        })
        .await;
    match slot {
        Ok(cluster) => Ok(cluster),
        Err(message) => Err(HarnessError::NoBroker {
            reason: format!("the shared cluster of this test binary failed to start: {message}"),
        }),
    }
}

fn install_hooks() {
    HOOKS.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            previous(info);
            if let Some(Ok(cluster)) = SHARED.get() {
                cluster.keep_and_report("a test panicked while the shared cluster was running");
            }
        }));
        // SAFETY: registers a plain `extern "C"` function that catches every panic.
        let _ = unsafe { libc::atexit(clean_up_at_exit) };
    });
}

extern "C" fn clean_up_at_exit() {
    let _ = std::panic::catch_unwind(|| {
        if let Some(Ok(cluster)) = SHARED.get() {
            for node in &cluster.nodes {
                node.kill_quietly();
            }
            if cluster.failed.load(std::sync::atomic::Ordering::SeqCst) {
                cluster.run.keep("a harness call failed");
            }
            cluster.run.remove_unless_kept();
        }
    });
}

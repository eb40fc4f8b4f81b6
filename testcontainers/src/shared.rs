//! One cluster shared by all tests of a test binary: started on first use (or taken from
//! `KAFKA_BOOTSTRAP`), never restarted. Tests that kill, pause or restart nodes must start
//! their own cluster instead. [`shared_secured_cluster`] is the same for one secured
//! node (always started here: an existing cluster's listeners and users are unknown).
//!
//! [`shared_registry`] is the same for one Schema Registry.
//!
//! A static is never dropped, so the shared cluster's cleanup is done by two hooks installed
//! when it starts: a panic hook that keeps its folder and prints where its logs are (a test
//! failed), and a process-exit handler (`atexit`) that kills its JVMs and removes the folder
//! unless it is kept. The brokers' parent-death signal covers a test binary that is killed.
//! The shared registry is cleaned up by the same hooks.
//!
//! # References
//! - atexit(3): <https://man7.org/linux/man-pages/man3/atexit.3.html>
//! - `std::panic::set_hook`

use std::sync::Once;

use crate::cluster::KafkaCluster;
use crate::error::{HarnessError, Result};
use crate::registry::SchemaRegistry;

type Slot = tokio::sync::OnceCell<std::result::Result<KafkaCluster, String>>;

static SHARED: Slot = tokio::sync::OnceCell::const_new();

static SHARED_SECURED: Slot = tokio::sync::OnceCell::const_new();

static SHARED_REGISTRY: tokio::sync::OnceCell<std::result::Result<SchemaRegistry, String>> =
    tokio::sync::OnceCell::const_new();

static HOOKS: Once = Once::new();

/// The test binary's shared cluster: `KAFKA_BOOTSTRAP` if set, else one local node with
/// the builder's defaults (auto topic creation on). Started once; a failure to start is
/// remembered and returned to every later caller.
pub async fn shared_cluster() -> Result<&'static KafkaCluster> {
    shared_in(&SHARED, "shared cluster", || {
        KafkaCluster::from_env_or_start(KafkaCluster::builder())
    })
    .await
}

/// The test binary's shared secured cluster: one local node started with
/// [`crate::KafkaClusterBuilder::secured`] (every secured listener, the default user),
/// once; a failure to start is remembered and returned to every later caller. It runs
/// beside [`shared_cluster`] if both are used. `KAFKA_BOOTSTRAP` does not apply.
pub async fn shared_secured_cluster() -> Result<&'static KafkaCluster> {
    shared_in(&SHARED_SECURED, "shared secured cluster", || {
        KafkaCluster::builder().secured().start()
    })
    .await
}

/// The test binary's shared Schema Registry: one Apicurio Registry started with
/// [`SchemaRegistry::builder`]'s defaults, once; a failure to start is remembered and
/// returned to every later caller. Tests that kill or pause the registry, or need basic
/// authentication, must start their own.
pub async fn shared_registry() -> Result<&'static SchemaRegistry> {
    let slot = SHARED_REGISTRY
        .get_or_init(|| async {
            let started = SchemaRegistry::start().await;
            if started.is_ok() {
                install_hooks();
            }
            started.map_err(|e| e.to_string())
        })
        .await;
    match slot {
        Ok(registry) => Ok(registry),
        Err(message) => Err(HarnessError::NoRegistry {
            reason: format!(
                "the shared Schema Registry of this test binary failed to start: {message}"
            ),
        }),
    }
}

fn shared_registry_if_started() -> Option<&'static SchemaRegistry> {
    SHARED_REGISTRY.get()?.as_ref().ok()
}

async fn shared_in<F, Fut>(
    slot: &'static Slot,
    what: &str,
    start: F,
) -> Result<&'static KafkaCluster>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<KafkaCluster>>,
{
    let slot = slot
        .get_or_init(|| async {
            let started = start().await;
            if started.is_ok() {
                install_hooks();
            }
            started.map_err(|e| e.to_string())
        })
        .await;
    match slot {
        Ok(cluster) => Ok(cluster),
        Err(message) => Err(HarnessError::NoBroker {
            reason: format!("the {what} of this test binary failed to start: {message}"),
        }),
    }
}

fn shared_clusters() -> impl Iterator<Item = &'static KafkaCluster> {
    [&SHARED, &SHARED_SECURED]
        .into_iter()
        .filter_map(|slot| slot.get()?.as_ref().ok())
}

fn install_hooks() {
    HOOKS.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            previous(info);
            for cluster in shared_clusters() {
                cluster.keep_and_report("a test panicked while the shared cluster was running");
            }
            if let Some(registry) = shared_registry_if_started() {
                registry.keep_and_report("a test panicked while the shared registry was running");
            }
        }));
        // SAFETY: registers a plain `extern "C"` function that catches every panic.
        let _ = unsafe { libc::atexit(clean_up_at_exit) };
    });
}

extern "C" fn clean_up_at_exit() {
    let _ = std::panic::catch_unwind(|| {
        for cluster in shared_clusters() {
            for node in &cluster.nodes {
                node.kill_quietly();
            }
            if cluster.failed.load(std::sync::atomic::Ordering::SeqCst) {
                cluster.run.keep("a harness call failed");
            }
            cluster.run.remove_unless_kept();
        }
        if let Some(registry) = shared_registry_if_started() {
            registry.kill_quietly();
            if registry.has_failed() {
                registry.run_dir().keep("a harness call failed");
            }
            registry.run_dir().remove_unless_kept();
        }
    });
}

//! The four fault schedules. Each runs beside the workload until every record has been
//! handed to the producer, and leaves the cluster whole (every node running, every
//! partition with three in-sync replicas) when it returns.

use std::time::Duration;

use kiel_testcontainers::{FaultProxies, KafkaCluster};
use rand::Rng;
use tokio::sync::watch;

use crate::workload::Progress;

/// One drill's fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Drill {
    /// SIGKILL the leader of a busy partition, restart it, let it catch up, again.
    KillLeaders,
    /// SIGSTOP a leader for longer than the request timeout (and the broker session
    /// timeout, so the controller fences it), then SIGCONT.
    PauseBroker,
    /// The fault proxies reset every connection every 0.2–0.8 s.
    CutConnections,
    /// SIGKILL every node and start them all again, at a third and at two thirds.
    RestartCluster,
    /// SIGKILL, in turn, the transaction coordinator (the leader of `__transaction_state`)
    /// and a partition leader, restart it, let it catch up, again.
    KillCoordinatorAndLeaders,
}

impl Drill {
    /// A short name for topics and the report.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::KillLeaders => "kill-leaders",
            Self::PauseBroker => "pause-broker",
            Self::CutConnections => "cut-connections",
            Self::RestartCluster => "restart-cluster",
            Self::KillCoordinatorAndLeaders => "kill-coordinator-and-leaders",
        }
    }
}

/// The transaction coordinator's log (one partition in the harness's clusters).
const TRANSACTION_STATE: &str = "__transaction_state";

/// How long a killed node stays down.
const KILL_DOWNTIME: Duration = Duration::from_secs(2);
/// How long a paused node stays frozen: above the producer's request timeout (5 s) and the
/// broker session timeout (9 s by default).
const PAUSE: Duration = Duration::from_secs(12);
/// How long the stream runs healthy between two node faults.
const HEALTHY_GAP: Duration = Duration::from_secs(1);
/// How long a healing cluster may take to bring every replica back in sync.
const HEAL_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs `drill` until the workload is done; returns a description of the faults dealt.
pub(crate) async fn run(
    drill: Drill,
    cluster: &KafkaCluster,
    proxies: Option<&FaultProxies>,
    topic: &str,
    partitions: u32,
    records: u64,
    mut progress: watch::Receiver<Progress>,
) -> String {
    // Let the stream get going first.
    let _ = progress
        .wait_for(|p| p.done || p.enqueued >= records / 10)
        .await;
    let done = |progress: &watch::Receiver<Progress>| progress.borrow().done;
    let mut dealt: Vec<String> = Vec::new();
    match drill {
        Drill::KillLeaders => {
            dealt = strike_leaders(NodeFault::Kill, cluster, topic, partitions, &progress).await;
        }
        Drill::KillCoordinatorAndLeaders => {
            dealt = strike_leaders(
                NodeFault::KillCoordinatorToo,
                cluster,
                topic,
                partitions,
                &progress,
            )
            .await;
        }
        Drill::PauseBroker => {
            dealt = strike_leaders(NodeFault::Pause, cluster, topic, partitions, &progress).await;
        }
        Drill::CutConnections => {
            let proxies = proxies.unwrap_or_else(|| panic!("the cut drill needs the proxies"));
            let mut cycle: u32 = 0;
            while !done(&progress) {
                let pause = rand::rng().random_range(200..800);
                tokio::time::sleep(Duration::from_millis(pause)).await;
                proxies.cut_all();
                cycle += 1;
            }
            let stats = proxies.stats();
            dealt.push(format!(
                "{cycle} cuts: {} connections reset, {} with requests in flight ({} requests)",
                stats.connections_cut,
                stats.cuts_with_requests_in_flight,
                stats.requests_in_flight_at_cuts
            ));
        }
        Drill::RestartCluster => {
            for third in 1..=2 {
                let _ = progress
                    .wait_for(|p| p.done || p.enqueued >= records * third / 3)
                    .await;
                if done(&progress) {
                    break;
                }
                cluster
                    .restart_all()
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                dealt.push("restarted all".to_owned());
            }
            heal(cluster, topic, partitions).await;
        }
    }
    if drill != Drill::CutConnections {
        let count = dealt.len();
        let at_coordinator = dealt.iter().filter(|d| d.contains("coordinator")).count();
        // A long run's list is summed up: the count, then the first dozen.
        if count > 12 {
            dealt.truncate(12);
            dealt.push("...".to_owned());
        }
        let head = if at_coordinator > 0 {
            format!("{count} faults ({at_coordinator} at the coordinator):")
        } else {
            format!("{count} faults:")
        };
        dealt.insert(0, head);
    }
    dealt.join(" ")
}

/// What the kill and pause drills do to a leader.
#[derive(Debug, Clone, Copy)]
enum NodeFault {
    /// SIGKILL, down for [`KILL_DOWNTIME`], restart.
    Kill,
    /// As `Kill`, every other strike at the transaction coordinator.
    KillCoordinatorToo,
    /// SIGSTOP for [`PAUSE`], SIGCONT.
    Pause,
}

/// Strikes the leader of each partition in turn with `fault`, letting the cluster heal and
/// the stream run healthy between strikes, until the workload is done. Returns what was dealt.
async fn strike_leaders(
    fault: NodeFault,
    cluster: &KafkaCluster,
    topic: &str,
    partitions: u32,
    progress: &watch::Receiver<Progress>,
) -> Vec<String> {
    let mut dealt = Vec::new();
    let mut cycle: u32 = 0;
    while !progress.borrow().done {
        let at_coordinator =
            matches!(fault, NodeFault::KillCoordinatorToo) && cycle.is_multiple_of(2);
        let target = if at_coordinator {
            leader(cluster, TRANSACTION_STATE, 0).await
        } else {
            leader(cluster, topic, cycle % partitions).await
        };
        let Some(node) = target else {
            // No leader named right now: ask again shortly.
            tokio::time::sleep(Duration::from_millis(200)).await;
            cycle += 1;
            continue;
        };
        match fault {
            NodeFault::Kill | NodeFault::KillCoordinatorToo => {
                cluster.kill(node).unwrap_or_else(|e| panic!("{e}"));
                tracing::info!(target: "kiel::drill", node, at_coordinator, "killed");
                tokio::time::sleep(KILL_DOWNTIME).await;
                cluster
                    .restart(node)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                let what = if at_coordinator { "coordinator " } else { "" };
                dealt.push(format!("killed {what}{node}"));
            }
            NodeFault::Pause => {
                cluster.pause(node).unwrap_or_else(|e| panic!("{e}"));
                tokio::time::sleep(PAUSE).await;
                cluster.resume(node).unwrap_or_else(|e| panic!("{e}"));
                dealt.push(format!("paused {node}"));
            }
        }
        heal(cluster, topic, partitions).await;
        tracing::info!(target: "kiel::drill", node, "healed");
        tokio::time::sleep(HEALTHY_GAP).await;
        cycle += 1;
    }
    dealt
}

/// The leader of `partition`, if the cluster names one right now.
async fn leader(cluster: &KafkaCluster, topic: &str, partition: u32) -> Option<i32> {
    cluster.leader_of(topic, partition as i32).await.ok()
}

/// Waits until every partition has all three replicas in sync again.
async fn heal(cluster: &KafkaCluster, topic: &str, partitions: u32) {
    for partition in 0..partitions as i32 {
        cluster
            .wait_for_partition(
                topic,
                partition,
                HEAL_TIMEOUT,
                "three in-sync replicas",
                |p| p.leader.is_some() && p.isr.len() == 3,
            )
            .await
            .unwrap_or_else(|e| panic!("the cluster did not heal: {e}"));
    }
}

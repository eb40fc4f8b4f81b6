//! Free TCP ports on 127.0.0.1 for the brokers' listeners.
//!
//! The kernel picks each port (bind to port 0); all listeners of one call stay open until
//! every port is known, so one call never returns the same port twice. Between closing them
//! and the broker binding there is a small window in which another process could take a
//! port; the broker then fails to start and says so in its log.
//!
//! # References
//! - ip(7), "ip_local_port_range": <https://man7.org/linux/man-pages/man7/ip.7.html>

use std::net::{Ipv4Addr, TcpListener};

use crate::error::{HarnessError, Result};

/// `count` distinct free ports on 127.0.0.1.
pub(crate) fn free_ports(count: usize) -> Result<Vec<u16>> {
    let mut listeners = Vec::with_capacity(count);
    for _ in 0..count {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|e| HarnessError::io("finding a free port on 127.0.0.1", e))?;
        listeners.push(listener);
    }
    listeners
        .iter()
        .map(|l| {
            l.local_addr()
                .map(|a| a.port())
                .map_err(|e| HarnessError::io("reading a bound port", e))
        })
        .collect()
}

/// One free port on 127.0.0.1 other than `leaving` (a port just given up, which the
/// kernel may hand out again).
pub(crate) fn free_port_except(leaving: u16) -> Result<u16> {
    // Two distinct ports: at least one of them is not `leaving`.
    free_ports(2)?
        .into_iter()
        .find(|p| *p != leaving)
        .ok_or_else(|| {
            HarnessError::io(
                "finding a free port on 127.0.0.1",
                std::io::Error::other("no second port"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_distinct_and_bindable() {
        let ports = free_ports(6).unwrap();
        let mut sorted = ports.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 6);
        for p in ports {
            assert_ne!(p, 0);
            TcpListener::bind((Ipv4Addr::LOCALHOST, p)).unwrap();
        }
    }

    #[test]
    fn a_port_other_than_the_one_left() {
        let left = free_ports(1).unwrap()[0];
        for _ in 0..20 {
            assert_ne!(free_port_except(left).unwrap(), left);
        }
    }
}

//! The cap on connections per client address (`RELAY_MAX_CONNECTIONS_PER_IP`).
//!
//! Counted per TCP connection from the moment it is accepted (a handshake that never
//! finishes holds a slot too) until it closes, WebSocket or plain HTTP alike. An IPv6 client
//! usually holds a whole /64, so IPv6 addresses count per /64 prefix; IPv4-mapped IPv6
//! addresses count as their IPv4 address. Behind a reverse proxy every connection comes from
//! the proxy's address: set the cap above what the proxy opens (or 0) and limit per client
//! at the proxy.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, PoisonError};

/// The open connections of each address (or /64).
#[derive(Debug)]
pub struct PerIp {
    max: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One open connection's place in the count; dropping it frees the place.
#[derive(Debug)]
pub struct IpSlot {
    table: Arc<PerIp>,
    key: IpAddr,
}

/// What connections from `ip` count against.
fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(Ipv6Addr::from(prefix))
            }
        },
    }
}

impl PerIp {
    /// A table allowing `max` open connections per address.
    pub fn new(max: usize) -> Arc<PerIp> {
        Arc::new(PerIp {
            max,
            open: Mutex::default(),
        })
    }

    /// A slot for a new connection from `ip`, or `None` when that address is at the cap.
    pub fn try_open(self: &Arc<Self>, ip: IpAddr) -> Option<IpSlot> {
        let key = key(ip);
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(key).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(IpSlot {
            table: Arc::clone(self),
            key,
        })
    }

    /// Open connections from `ip` (or its /64) right now.
    pub fn open(&self, ip: IpAddr) -> usize {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.get(&key(ip)).copied().unwrap_or(0)
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut open = self
            .table
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                // Forget the address: the table holds only addresses with open connections.
                open.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn each_address_gets_its_own_cap_and_closing_frees_a_place() {
        let table = PerIp::new(2);
        let a = table.try_open(ip("192.0.2.1")).unwrap();
        let _b = table.try_open(ip("192.0.2.1")).unwrap();
        assert!(table.try_open(ip("192.0.2.1")).is_none());
        let _other = table.try_open(ip("192.0.2.2")).unwrap();
        drop(a);
        assert_eq!(table.open(ip("192.0.2.1")), 1);
        assert!(table.try_open(ip("192.0.2.1")).is_some());
    }

    #[test]
    fn addresses_without_connections_are_forgotten() {
        let table = PerIp::new(1);
        for i in 0..1_000u32 {
            let slot = table.try_open(IpAddr::from(i.to_be_bytes())).unwrap();
            drop(slot);
        }
        assert!(table.open.lock().unwrap().is_empty());
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        let table = PerIp::new(1);
        let _a = table.try_open(ip("2001:db8:1:2::1")).unwrap();
        assert!(table.try_open(ip("2001:db8:1:2:ffff::9")).is_none());
        assert!(table.try_open(ip("2001:db8:1:3::1")).is_some());
        let _v4 = table.try_open(ip("198.51.100.7")).unwrap();
        assert!(table.try_open(ip("::ffff:198.51.100.7")).is_none());
    }
}

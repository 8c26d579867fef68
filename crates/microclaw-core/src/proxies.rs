//! Trusted proxies (`server.trusted_proxies`) and the client address behind them.
//!
//! `X-Forwarded-For` is a list each proxy appends to, so only its right end is trustworthy:
//! walking from the peer leftwards, every hop that is a trusted proxy is skipped and the first
//! one that is not is the client. The left-most entry is whatever the client chose to send.

use crate::error::Error;
use std::net::IpAddr;

/// One entry: an address or a CIDR block (`10.0.0.0/8`, `::1`, `fd00::/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyNet {
    addr: IpAddr,
    prefix: u8,
}

impl ProxyNet {
    pub fn parse(s: &str) -> Result<ProxyNet, Error> {
        let t = s.trim();
        let bad = || {
            Error::invalid(format!(
                "server.trusted_proxies entry '{s}' is not an IP address or CIDR block: expected e.g. \"127.0.0.1\", \"10.0.0.0/8\" or \"::1\""
            ))
        };
        let (ip, prefix) = match t.split_once('/') {
            Some((ip, p)) => (ip, Some(p.parse::<u8>().map_err(|_| bad())?)),
            None => (t, None),
        };
        let addr: IpAddr = ip.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return Err(bad());
        }
        Ok(ProxyNet { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                masked(u32::from(net).into(), self.prefix, 32)
                    == masked(u32::from(a).into(), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                masked(u128::from(net), self.prefix, 128) == masked(u128::from(a), self.prefix, 128)
            }
            _ => false,
        }
    }
}

fn masked(v: u128, prefix: u8, bits: u32) -> u128 {
    if prefix == 0 {
        return 0;
    }
    let shift = bits - u32::from(prefix);
    (v >> shift) << shift
}

/// IPv4-mapped IPv6 (`::ffff:1.2.3.4`) compares as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// Parses every entry; the first bad one is an error naming it.
pub fn parse_list<S: AsRef<str>>(items: &[S]) -> Result<Vec<ProxyNet>, Error> {
    items.iter().map(|s| ProxyNet::parse(s.as_ref())).collect()
}

/// The client address: the peer, unless the peer is a trusted proxy, in which case the
/// right-most `X-Forwarded-For` hop that is not a trusted proxy (or the left-most hop when
/// every hop is trusted). Unparsable hops end the walk at the last good address.
pub fn client_ip(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[ProxyNet]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
    let peer = canonical(peer);
    let Some(header) = forwarded_for else {
        return peer;
    };
    if !is_trusted(peer) {
        return peer;
    }
    let mut client = peer;
    for hop in header.rsplit(',') {
        let Some(ip) = parse_hop(hop) else {
            return client;
        };
        client = canonical(ip);
        if !is_trusted(client) {
            return client;
        }
    }
    client
}

/// `1.2.3.4`, `1.2.3.4:5678`, `[::1]:80` or `::1`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let t = hop.trim();
    if let Ok(ip) = t.parse() {
        return Some(ip);
    }
    if let Some(rest) = t.strip_prefix('[') {
        return rest.split_once(']').and_then(|(ip, _)| ip.parse().ok());
    }
    t.rsplit_once(':').and_then(|(ip, _)| ip.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let trusted = parse_list(&["127.0.0.1", "10.0.0.0/8"]).unwrap();
        let peer = ip("127.0.0.1");
        let xff = Some("6.6.6.6, 203.0.113.7, 10.1.2.3");
        assert_eq!(client_ip(peer, xff, &trusted), ip("203.0.113.7"));
        assert_eq!(
            client_ip(ip("198.51.100.1"), xff, &trusted),
            ip("198.51.100.1"),
            "an untrusted peer is the client whatever it sends"
        );
        assert_eq!(client_ip(peer, None, &trusted), peer);
        assert_eq!(
            client_ip(peer, Some("10.0.0.1, 10.0.0.2"), &trusted),
            ip("10.0.0.1"),
            "all trusted: the left-most"
        );
        assert_eq!(
            client_ip(peer, Some("garbage, 203.0.113.9:4444"), &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(client_ip(peer, Some("garbage"), &trusted), peer);
        assert_eq!(
            client_ip(ip("::ffff:127.0.0.1"), Some("[2001:db8::1]:99"), &trusted),
            ip("2001:db8::1")
        );
    }

    #[test]
    fn entries_are_addresses_or_cidr_blocks_and_bad_ones_are_named() {
        let n = ProxyNet::parse("192.168.0.0/16").unwrap();
        assert!(n.contains(ip("192.168.44.1")) && !n.contains(ip("192.169.0.1")));
        assert!(ProxyNet::parse("::/0").unwrap().contains(ip("2001:db8::5")));
        assert!(ProxyNet::parse("0.0.0.0/0")
            .unwrap()
            .contains(ip("8.8.8.8")));
        let err = ProxyNet::parse("10.0.0.0/33").unwrap_err();
        assert!(err.message.contains("10.0.0.0/33"), "{}", err.message);
        assert!(ProxyNet::parse("proxy.local").is_err());
    }
}

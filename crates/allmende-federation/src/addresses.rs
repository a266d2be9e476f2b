//! Which IP addresses are on the public internet: every range of the IANA
//! IPv4 and IPv6 Special-Purpose Address Registries that is not globally
//! reachable, plus multicast, as one table each. Addresses that embed an
//! IPv4 address (IPv4-mapped, NAT64 64:ff9b::/96, 6to4 2002::/16,
//! IPv4-compatible) are judged by the IPv4 address they carry.
//!
//! Registries as of 2025 (RFC 6890 and updates, including RFC 9637's
//! 3fff::/20 and RFC 9780's dummy prefix). A few small registry entries
//! inside a blocked range are globally reachable (anycast services in
//! 192.0.0.0/24 and 2001::/23); they stay blocked: no Allmende peer lives
//! there, and a coarser block fails closed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Non-public IPv4 ranges: (network, prefix length, what it is).
pub const IPV4_NOT_PUBLIC: &[(Ipv4Addr, u8, &str)] = &[
    (Ipv4Addr::new(0, 0, 0, 0), 8, "this network"),
    (Ipv4Addr::new(10, 0, 0, 0), 8, "private use"),
    (
        Ipv4Addr::new(100, 64, 0, 0),
        10,
        "shared address space (carrier-grade NAT)",
    ),
    (Ipv4Addr::new(127, 0, 0, 0), 8, "loopback"),
    (Ipv4Addr::new(169, 254, 0, 0), 16, "link local"),
    (Ipv4Addr::new(172, 16, 0, 0), 12, "private use"),
    (Ipv4Addr::new(192, 0, 0, 0), 24, "IETF protocol assignments"),
    (
        Ipv4Addr::new(192, 0, 2, 0),
        24,
        "documentation (TEST-NET-1)",
    ),
    (
        Ipv4Addr::new(192, 88, 99, 0),
        24,
        "6to4 relay anycast (deprecated)",
    ),
    (Ipv4Addr::new(192, 168, 0, 0), 16, "private use"),
    (Ipv4Addr::new(198, 18, 0, 0), 15, "benchmarking"),
    (
        Ipv4Addr::new(198, 51, 100, 0),
        24,
        "documentation (TEST-NET-2)",
    ),
    (
        Ipv4Addr::new(203, 0, 113, 0),
        24,
        "documentation (TEST-NET-3)",
    ),
    (Ipv4Addr::new(224, 0, 0, 0), 4, "multicast"),
    (
        Ipv4Addr::new(240, 0, 0, 0),
        4,
        "reserved (includes broadcast)",
    ),
];

/// Non-public IPv6 ranges (after embedded IPv4 addresses are judged).
pub const IPV6_NOT_PUBLIC: &[(Ipv6Addr, u8, &str)] = &[
    (Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 0), 128, "unspecified"),
    (Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 1), 128, "loopback"),
    (
        Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 0),
        96,
        "IPv4-compatible (deprecated)",
    ),
    (
        Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0),
        48,
        "local-use NAT64",
    ),
    (
        Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0),
        64,
        "discard-only",
    ),
    (
        Ipv6Addr::new(0x100, 0, 0, 1, 0, 0, 0, 0),
        64,
        "dummy prefix",
    ),
    (
        Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0),
        23,
        "IETF protocol assignments (Teredo, benchmarking, ORCHID)",
    ),
    (
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0),
        32,
        "documentation",
    ),
    (
        Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0),
        20,
        "documentation",
    ),
    (
        Ipv6Addr::new(0x5f00, 0, 0, 0, 0, 0, 0, 0),
        16,
        "segment routing (SRv6) SIDs",
    ),
    (
        Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0),
        7,
        "unique local",
    ),
    (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10, "link local"),
    (
        Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0),
        10,
        "site local (deprecated)",
    ),
    (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8, "multicast"),
];

fn in_v4(ip: Ipv4Addr, (net, len, _): &(Ipv4Addr, u8, &str)) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(*len)).unwrap_or(0);
    u32::from(ip) & mask == u32::from(*net) & mask
}

fn in_v6(ip: Ipv6Addr, (net, len, _): &(Ipv6Addr, u8, &str)) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(*len)).unwrap_or(0);
    u128::from(ip) & mask == u128::from(*net) & mask
}

/// The IPv4 address an IPv6 address carries, for the forms that carry one.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let seg = ip.segments();
    let v4 = |high: u16, low: u16| {
        let [a, b] = high.to_be_bytes();
        let [c, d] = low.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    match seg {
        // NAT64 well-known prefix: the IPv4 address at the end.
        [0x64, 0xff9b, 0, 0, 0, 0, high, low] => Some(v4(high, low)),
        // 6to4: the IPv4 address after the prefix.
        [0x2002, high, low, ..] => Some(v4(high, low)),
        _ => None,
    }
}

/// Whether an address is on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !IPV4_NOT_PUBLIC.iter().any(|range| in_v4(v4, range)),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => is_public(IpAddr::V4(v4)),
            None => !IPV6_NOT_PUBLIC.iter().any(|range| in_v6(v6, range)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4_last(net: Ipv4Addr, len: u8) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(net) | u32::MAX.checked_shr(u32::from(len)).unwrap_or(0))
    }

    fn v6_last(net: Ipv6Addr, len: u8) -> Ipv6Addr {
        Ipv6Addr::from(u128::from(net) | u128::MAX.checked_shr(u32::from(len)).unwrap_or(0))
    }

    /// Every table row: its first and last address are refused, and so
    /// are the same addresses as NAT64 and 6to4 forms of IPv4 rows.
    #[test]
    fn every_special_purpose_range_is_refused_from_first_to_last_address() {
        for row @ (net, len, name) in IPV4_NOT_PUBLIC {
            for ip in [*net, v4_last(*net, *len)] {
                assert!(!is_public(IpAddr::V4(ip)), "{ip} ({name})");
                let [a, b, c, d] = ip.octets();
                let (high, low) = (u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d]));
                for wrapped in [
                    Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, high, low),
                    Ipv6Addr::new(0x2002, high, low, 0, 0, 0, 0, 1),
                    ip.to_ipv6_mapped(),
                ] {
                    assert!(
                        !is_public(IpAddr::V6(wrapped)),
                        "{wrapped} wraps {ip} ({name})"
                    );
                }
                assert!(in_v4(ip, row));
            }
        }
        for (net, len, name) in IPV6_NOT_PUBLIC {
            for ip in [*net, v6_last(*net, *len)] {
                assert!(!is_public(IpAddr::V6(ip)), "{ip} ({name})");
            }
        }
    }

    /// The addresses around the ranges, and well-known public ones, pass:
    /// the filter is not simply closed.
    #[test]
    fn public_neighbours_pass() {
        for ip in [
            "1.1.1.1",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.0",
            "192.31.196.1",
            "192.52.193.1",
            "192.88.98.255",
            "192.88.100.0",
            "192.167.255.255",
            "192.169.0.0",
            "192.175.48.1",
            "198.17.255.255",
            "198.20.0.0",
            "203.0.112.255",
            "223.255.255.255",
            "93.184.216.34",
            "2a00:1450:4001::1",
            "2620:4f:8000::1",
            "2001:200::1",
            "3fff:1000::",
            "64:ff9b::5db8:d822",
            "2002:5db8:d822::1",
            "::ffff:93.184.216.34",
            "2000::1",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }
}

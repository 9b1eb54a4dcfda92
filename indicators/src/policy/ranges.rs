//! Address ranges that are never routed on the public internet.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One special-purpose range and why it is not sent out.
#[derive(Debug)]
pub(crate) struct Range {
    pub reason: &'static str,
    /// One of the documentation ranges, which tests may opt back in.
    pub documentation: bool,
}

const PRIVATE: Range = Range { reason: "private address (RFC 1918)", documentation: false };
const DOC_V4: Range = Range { reason: "documentation address (RFC 5737)", documentation: true };

/// IPv4 ranges as (network, prefix length, range).
static V4: &[(u32, u8, Range)] = &[
    (0x0000_0000, 8, Range { reason: "\"this network\" address (RFC 1122)", documentation: false }),
    (0x0a00_0000, 8, PRIVATE),
    (
        0x6440_0000,
        10,
        Range { reason: "shared carrier-grade NAT address (RFC 6598)", documentation: false },
    ),
    (0x7f00_0000, 8, Range { reason: "loopback address (RFC 1122)", documentation: false }),
    (0xa9fe_0000, 16, Range { reason: "link-local address (RFC 3927)", documentation: false }),
    (0xac10_0000, 12, PRIVATE),
    (
        0xc000_0000,
        24,
        Range { reason: "IETF protocol assignment (RFC 6890)", documentation: false },
    ),
    (0xc000_0200, 24, DOC_V4),
    (0xc0a8_0000, 16, PRIVATE),
    (0xc612_0000, 15, Range { reason: "benchmarking address (RFC 2544)", documentation: false }),
    (0xc633_6400, 24, DOC_V4),
    (0xcb00_7100, 24, DOC_V4),
    (0xe000_0000, 4, Range { reason: "multicast address (RFC 5771)", documentation: false }),
    (
        0xffff_ffff,
        32,
        Range { reason: "limited broadcast address (RFC 919)", documentation: false },
    ),
    (0xf000_0000, 4, Range { reason: "reserved address (RFC 1112)", documentation: false }),
];

/// IPv6 ranges as (network, prefix length, range). IPv4-mapped and NAT64
/// addresses are judged by the IPv4 address inside them.
static V6: &[(u128, u8, Range)] = &[
    (0, 128, Range { reason: "unspecified address (RFC 4291)", documentation: false }),
    (1, 128, Range { reason: "loopback address (RFC 4291)", documentation: false }),
    (
        0x0064_ff9b_0001 << 80,
        48,
        Range { reason: "local-use NAT64 address (RFC 8215)", documentation: false },
    ),
    (0x0100 << 112, 64, Range { reason: "discard-only address (RFC 6666)", documentation: false }),
    (
        0x2001_0002 << 96,
        48,
        Range { reason: "benchmarking address (RFC 5180)", documentation: false },
    ),
    (
        0x2001_0db8 << 96,
        32,
        Range { reason: "documentation address (RFC 3849)", documentation: true },
    ),
    (0x3fff << 112, 20, Range { reason: "documentation address (RFC 9637)", documentation: true }),
    (0xfc00 << 112, 7, Range { reason: "unique local address (RFC 4193)", documentation: false }),
    (0xfe80 << 112, 10, Range { reason: "link-local address (RFC 4291)", documentation: false }),
    (
        0xfec0 << 112,
        10,
        Range { reason: "site-local address (deprecated, RFC 3879)", documentation: false },
    ),
    (0xff00 << 112, 8, Range { reason: "multicast address (RFC 4291)", documentation: false }),
];

static V6_RESERVED: Range = Range {
    reason: "reserved address (outside IPv6 global unicast 2000::/3)",
    documentation: false,
};

/// Why `ip` is never routed on the public internet, or `None` if it is an
/// ordinary public address: "private address (RFC 1918)", "loopback
/// address (RFC 1122)", "documentation address (RFC 5737)" and so on.
pub fn non_routable_reason(ip: IpAddr) -> Option<&'static str> {
    range_of(ip).map(|range| range.reason)
}

pub(crate) fn range_of(ip: IpAddr) -> Option<&'static Range> {
    match ip {
        IpAddr::V4(v4) => range_of_v4(v4),
        IpAddr::V6(v6) => range_of_v6(v6),
    }
}

fn range_of_v4(ip: Ipv4Addr) -> Option<&'static Range> {
    let bits = u32::from(ip);
    V4.iter()
        .find(|(network, prefix, _)| bits & mask32(*prefix) == *network)
        .map(|(_, _, range)| range)
}

fn range_of_v6(ip: Ipv6Addr) -> Option<&'static Range> {
    let bits = u128::from(ip);
    let embedded_v4 = Ipv4Addr::from(bits as u32);
    // ::ffff:0:0/96 (IPv4-mapped) and 64:ff9b::/96 (NAT64) carry an IPv4
    // address that decides.
    if bits >> 32 == 0xffff || bits >> 32 == 0x0064_ff9b_u128 << 64 {
        return range_of_v4(embedded_v4);
    }
    if let Some((_, _, range)) =
        V6.iter().find(|(network, prefix, _)| bits & mask128(*prefix) == *network)
    {
        return Some(range);
    }
    (bits >> 125 != 0b001).then_some(&V6_RESERVED)
}

/// The range that holds the whole network `first..=last`, if one does.
pub(crate) fn range_of_network(first: IpAddr, last: IpAddr) -> Option<&'static Range> {
    let a = range_of(first)?;
    let b = range_of(last)?;
    std::ptr::eq(a, b).then_some(a)
}

fn mask32(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

fn mask128(prefix: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(ip: &str) -> Option<&'static str> {
        non_routable_reason(ip.parse().expect("an address"))
    }

    #[test]
    fn every_special_range_has_a_reason() {
        let cases = [
            ("0.1.2.3", "\"this network\" address (RFC 1122)"),
            ("172.31.255.255", "private address (RFC 1918)"),
            ("100.64.0.1", "shared carrier-grade NAT address (RFC 6598)"),
            ("192.0.2.7", "documentation address (RFC 5737)"),
            ("198.51.100.7", "documentation address (RFC 5737)"),
            ("203.0.113.7", "documentation address (RFC 5737)"),
            ("198.19.0.1", "benchmarking address (RFC 2544)"),
            ("224.0.0.251", "multicast address (RFC 5771)"),
            ("255.255.255.255", "limited broadcast address (RFC 919)"),
            ("240.0.0.1", "reserved address (RFC 1112)"),
            ("::", "unspecified address (RFC 4291)"),
            ("::1", "loopback address (RFC 4291)"),
            ("::ffff:10.1.2.3", "private address (RFC 1918)"),
            ("2001:db8::1", "documentation address (RFC 3849)"),
            ("fe80::1", "link-local address (RFC 4291)"),
            ("ff02::1", "multicast address (RFC 4291)"),
            ("4000::1", "reserved address (outside IPv6 global unicast 2000::/3)"),
        ];
        for (ip, expected) in cases {
            assert_eq!(reason(ip), Some(expected), "for {ip}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for ip in
            ["8.8.8.8", "1.1.1.1", "100.128.0.1", "172.32.0.1", "2606:4700::1111", "::ffff:8.8.8.8"]
        {
            assert_eq!(reason(ip), None, "for {ip}");
        }
    }
}

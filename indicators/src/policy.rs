//! The policy gate: what may leave the building, and to whom.
//!
//! Before the router hands an indicator to a provider, the host asks
//! [`Gate::decide`] once per (indicator, provider). An indicator is not sent
//! when:
//!
//! 1. the operator allow-listed it: its verdict is known locally (benign),
//!    so no provider is asked;
//! 2. it is a non-routable address (private, loopback, link-local,
//!    documentation, ...), a network inside such a range, or a URL, domain
//!    or email address whose host is one, and the provider is external; a
//!    provider the operator marks internal (a self-hosted MISP) may still
//!    receive it;
//! 3. the input carries a TLP label above the provider's maximum; this
//!    holds for internal providers too.
//!
//! The deny-list does not stop sending: enrichment of a known-bad indicator
//! is still useful. [`Gate::local_verdict`] reports both lists' verdicts.

mod lists;
mod ranges;
mod tlp;

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

use crate::classify::url_host;
use crate::kind::{Indicator, Kind};

pub use lists::{IndicatorList, ListError};
pub use ranges::non_routable_reason;
pub use tlp::{ParseTlpError, Tlp, find_tlp};

/// Settings of the gate that are not lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GatePolicy {
    /// Send addresses in the documentation ranges (192.0.2.0/24,
    /// 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32, 3fff::/20) and names
    /// under `.example` and `.test` as if they were public. Off by default;
    /// tests and demos against fake providers turn it on.
    pub allow_documentation_ranges: bool,
}

/// What the gate knows about one provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderPolicy {
    /// The operator runs it inside the network (a self-hosted MISP): it may
    /// receive non-routable addresses.
    pub internal: bool,
    /// The most restrictive TLP label it may receive.
    pub max_tlp: Tlp,
}

/// Whether one indicator may go to one provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Ask the provider.
    Send,
    /// Do not ask; report the indicator as not sent, with the reason, as a
    /// normal result (DBotScore 0), not as an error.
    NotSent {
        /// Why.
        reason: NotSentReason,
    },
}

/// Why an indicator was not sent to a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NotSentReason {
    /// A non-routable address, network or host, and an external provider.
    NonRoutable {
        /// Which kind of range, e.g. "private address (RFC 1918)".
        range: &'static str,
    },
    /// The input's TLP label is above the provider's maximum.
    TlpBlocked {
        /// The input's label.
        label: Tlp,
        /// The provider's maximum.
        max: Tlp,
    },
    /// On the operator's allow-list.
    AllowListed,
}

impl fmt::Display for NotSentReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotSentReason::NonRoutable { range } => write!(f, "not sent: {range}"),
            NotSentReason::TlpBlocked { label, max } => {
                write!(f, "blocked by TLP policy: {label} exceeds this provider's maximum {max}")
            }
            NotSentReason::AllowListed => f.write_str("allow-listed"),
        }
    }
}

/// A verdict from the operator's own lists, before any provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocalVerdict {
    /// Benign (allow-list) or malicious (deny-list).
    pub verdict: ListVerdict,
    /// The list entry that matched, normalised (`10.0.0.0/8`, `example.org`).
    pub entry: String,
}

/// Which list matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ListVerdict {
    /// On the allow-list.
    Benign,
    /// On the deny-list.
    Malicious,
}

impl LocalVerdict {
    /// "allow-listed" or "deny-listed".
    pub fn reason(&self) -> &'static str {
        match self.verdict {
            ListVerdict::Benign => "allow-listed",
            ListVerdict::Malicious => "deny-listed",
        }
    }
}

/// The gate: the operator's lists and settings.
#[derive(Debug, Clone, Default)]
pub struct Gate {
    policy: GatePolicy,
    allow: IndicatorList,
    deny: IndicatorList,
}

impl Gate {
    /// A gate with no lists.
    pub fn new(policy: GatePolicy) -> Self {
        Gate { policy, ..Gate::default() }
    }

    /// Use `list` as the allow-list.
    pub fn with_allow_list(mut self, list: IndicatorList) -> Self {
        self.allow = list;
        self
    }

    /// Use `list` as the deny-list.
    pub fn with_deny_list(mut self, list: IndicatorList) -> Self {
        self.deny = list;
        self
    }

    /// Whether `indicator` may be sent to `provider`, for an input labelled
    /// `tlp` (`None`: no label).
    pub fn decide(
        &self,
        indicator: &Indicator,
        tlp: Option<Tlp>,
        provider: &ProviderPolicy,
    ) -> Decision {
        let reason = if self.allow.matching_entry(indicator).is_some() {
            Some(NotSentReason::AllowListed)
        } else if let Some(range) = self.non_routable(indicator).filter(|_| !provider.internal) {
            Some(NotSentReason::NonRoutable { range })
        } else {
            tlp.filter(|label| !label.allowed_under(provider.max_tlp))
                .map(|label| NotSentReason::TlpBlocked { label, max: provider.max_tlp })
        };
        match reason {
            Some(reason) => Decision::NotSent { reason },
            None => Decision::Send,
        }
    }

    /// The verdict of the operator's lists. The allow-list wins when an
    /// indicator is on both.
    pub fn local_verdict(&self, indicator: &Indicator) -> Option<LocalVerdict> {
        let found = |list: &IndicatorList, verdict| {
            list.matching_entry(indicator)
                .map(|entry| LocalVerdict { verdict, entry: entry.to_owned() })
        };
        found(&self.allow, ListVerdict::Benign)
            .or_else(|| found(&self.deny, ListVerdict::Malicious))
    }

    /// Why `indicator` must stay inside, under this gate's settings: a
    /// non-routable address or network, or a URL, email address or domain
    /// whose host is a non-routable address or a special-use name.
    pub fn non_routable(&self, indicator: &Indicator) -> Option<&'static str> {
        let allow_doc = self.policy.allow_documentation_ranges;
        let ip_reason = |ip: IpAddr| {
            ranges::range_of(ip)
                .filter(|range| !(allow_doc && range.documentation))
                .map(|range| range.reason)
        };
        match indicator.kind {
            Kind::Ipv4 | Kind::Ipv6 => ip_reason(indicator.value.parse().ok()?),
            Kind::Cidr => {
                let (first, last) = network_bounds(&indicator.value)?;
                ranges::range_of_network(first, last)
                    .filter(|range| !(allow_doc && range.documentation))
                    .map(|range| range.reason)
            }
            Kind::Domain => special_use_domain(&indicator.value, allow_doc),
            Kind::Email => {
                let domain = indicator.value.rsplit_once('@')?.1;
                special_use_domain(domain, allow_doc)
            }
            Kind::Url => {
                let rest = indicator.value.split_once("://")?.1;
                let authority = rest.split(['/', '?', '#']).next()?;
                let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
                let host = url_host(host_port)?;
                self.non_routable(&host)
            }
            Kind::Md5 | Kind::Sha1 | Kind::Sha256 | Kind::Sha512 => None,
        }
    }
}

/// Top-level names that never resolve on the public internet.
///
/// Only whole top-level names are held back. RFC 2606 also reserves the
/// second-level names `example.com`, `example.net` and `example.org`, which
/// do resolve; names under them are sent like any public domain, so an
/// alert quoting them spends a lookup on a name that is never malicious.
fn special_use_domain(domain: &str, allow_doc: bool) -> Option<&'static str> {
    let tld = domain.rsplit('.').next()?;
    match tld {
        "example" | "test" if !allow_doc => Some("documentation domain name (RFC 2606)"),
        "invalid" | "localhost" => Some("special-use domain name (RFC 6761)"),
        "local" => Some("multicast DNS name (RFC 6762)"),
        "internal" => Some("private-use domain name (.internal)"),
        _ if domain == "home.arpa" || domain.ends_with(".home.arpa") => {
            Some("residential network name (RFC 8375)")
        }
        _ => None,
    }
}

/// The first and last address of a normalised CIDR value.
fn network_bounds(cidr: &str) -> Option<(IpAddr, IpAddr)> {
    let (network, prefix) = cidr.split_once('/')?;
    let prefix: u32 = prefix.parse().ok()?;
    match network.parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) => {
            let host_bits = u32::MAX.checked_shr(prefix).unwrap_or(0);
            Some((IpAddr::V4(v4), IpAddr::V4((u32::from(v4) | host_bits).into())))
        }
        IpAddr::V6(v6) => {
            let host_bits = u128::MAX.checked_shr(prefix).unwrap_or(0);
            Some((IpAddr::V6(v6), IpAddr::V6((u128::from(v6) | host_bits).into())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify;

    const EXTERNAL: ProviderPolicy = ProviderPolicy { internal: false, max_tlp: Tlp::Amber };

    fn decide(gate: &Gate, value: &str) -> Decision {
        gate.decide(&classify(value).expect("an indicator"), None, &EXTERNAL)
    }

    #[test]
    fn networks_inside_a_private_range_stay_inside() {
        let gate = Gate::default();
        assert_eq!(
            decide(&gate, "10.1.0.0/16"),
            Decision::NotSent {
                reason: NotSentReason::NonRoutable { range: "private address (RFC 1918)" }
            }
        );
        // Straddling private and public space: partly public, so sent.
        assert_eq!(decide(&gate, "8.0.0.0/4"), Decision::Send);
    }

    #[test]
    fn hosts_of_urls_and_addresses_count() {
        let gate = Gate::default();
        assert!(matches!(decide(&gate, "http://192.168.1.1/admin"), Decision::NotSent { .. }));
        assert!(matches!(decide(&gate, "printer.local"), Decision::NotSent { .. }));
        assert!(matches!(decide(&gate, "bob@corp.internal"), Decision::NotSent { .. }));
        assert_eq!(decide(&gate, "https://example.com/login"), Decision::Send);
    }

    #[test]
    fn documentation_ranges_can_be_opted_in() {
        let strict = Gate::default();
        let demo = Gate::new(GatePolicy { allow_documentation_ranges: true });
        for value in ["198.51.100.7", "2001:db8::1", "203.0.113.0/24", "www.example"] {
            assert!(matches!(decide(&strict, value), Decision::NotSent { .. }), "{value}");
            assert_eq!(decide(&demo, value), Decision::Send, "{value}");
        }
        // Private space stays private either way.
        assert!(matches!(decide(&demo, "10.0.0.1"), Decision::NotSent { .. }));
    }

    #[test]
    fn allow_list_wins_and_deny_list_still_sends() {
        let gate = Gate::default()
            .with_allow_list(IndicatorList::parse("example.org").expect("list"))
            .with_deny_list(IndicatorList::parse("example.org\n1.2.3.4").expect("list"));
        let allowed = classify("www.example.org").expect("domain");
        assert_eq!(
            gate.decide(&allowed, None, &EXTERNAL),
            Decision::NotSent { reason: NotSentReason::AllowListed }
        );
        assert_eq!(gate.local_verdict(&allowed).map(|v| v.reason()), Some("allow-listed"));

        let denied = classify("1.2.3.4").expect("ip");
        assert_eq!(gate.decide(&denied, None, &EXTERNAL), Decision::Send);
        assert_eq!(
            gate.local_verdict(&denied),
            Some(LocalVerdict { verdict: ListVerdict::Malicious, entry: "1.2.3.4".to_owned() })
        );
    }
}

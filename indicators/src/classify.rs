//! Classifying and normalising one value.
//!
//! Normal forms, chosen so that normalising twice changes nothing:
//! - IPv4 as a dotted quad; IPv6 in RFC 5952 form (what std prints);
//!   brackets and any port split off into [`Indicator::port`].
//! - CIDR as `network/prefix`, host bits cleared.
//! - Domains lowercased, trailing dot removed, as A-labels (the Unicode form
//!   kept in [`Indicator::display`]); the top-level domain must be one the
//!   public suffix list knows.
//! - URLs byte-exact apart from refanging: VirusTotal identifies a URL by
//!   its exact text, so Ferret does not reorder, lowercase or re-encode it.
//! - Email addresses lowercased, the domain as A-labels.
//! - Hex hashes lowercased; the kind follows from the length.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use thiserror::Error;

use crate::kind::{Indicator, Kind};
use crate::refang::refang;

/// Why a value could not be classified.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ClassifyError {
    /// Nothing was given, or only whitespace.
    #[error("missing value: the indicator is empty")]
    Empty,
    /// The value looks like a `kind` but is not a valid one.
    #[error("invalid {kind} `{value}`: {reason}")]
    Invalid {
        /// The value after refanging and trimming.
        value: String,
        /// What the value looked like.
        kind: Kind,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The value is not any kind of indicator Ferret knows.
    #[error(
        "`{value}` is not a recognised indicator \
         (ipv4, ipv6, cidr, domain, url, email, md5, sha1, sha256 or sha512)"
    )]
    Unrecognised {
        /// The value after refanging and trimming.
        value: String,
    },
}

/// Refang, trim, classify and normalise one value, such as a command
/// argument (`!ip ip=8.8.8.8`).
///
/// The whole value must be one indicator: `example.com` is a domain, not a
/// URL; `8.8.4.0/24` is a CIDR, never the host 8.8.4.0; an IP literal is
/// always `ipv4` or `ipv6`, never a domain.
pub fn classify(raw: &str) -> Result<Indicator, ClassifyError> {
    let refanged = refang(raw.trim());
    let value = refanged.trim();
    if value.is_empty() {
        return Err(ClassifyError::Empty);
    }
    parse(value).map_err(|problem| match problem {
        Problem::Unrecognised => ClassifyError::Unrecognised { value: value.to_owned() },
        Problem::Invalid(kind, reason) => {
            ClassifyError::Invalid { value: value.to_owned(), kind, reason }
        }
    })
}

/// What [`parse`] found wrong; cheap, so the text scanner can try many
/// candidates that turn out not to be indicators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Problem {
    Unrecognised,
    Invalid(Kind, &'static str),
}

/// Classify an already refanged and trimmed value.
pub(crate) fn parse(value: &str) -> Result<Indicator, Problem> {
    if value.contains("://") {
        return parse_url(value);
    }
    if value.starts_with('[') {
        let (ip, port) = parse_bracketed_ipv6(value)?;
        return Ok(ip_indicator(IpAddr::V6(ip), port));
    }
    if value.contains('@') {
        return parse_email(value);
    }
    if value.contains('/') {
        return parse_cidr(value);
    }
    if let Ok(ip) = value.parse::<IpAddr>() {
        return Ok(ip_indicator(ip, None));
    }
    if let Some((host, port)) = split_port(value) {
        if let Ok(ip) = host.parse::<Ipv4Addr>() {
            return Ok(ip_indicator(IpAddr::V4(ip), Some(port)));
        }
        if looks_like_ipv4(host) {
            return Err(Problem::Invalid(Kind::Ipv4, "not a valid dotted-quad address"));
        }
        if !host.contains(':') {
            let (value, display) = normalise_domain(host)?;
            return Ok(Indicator { kind: Kind::Domain, value, display, port: Some(port) });
        }
    }
    if value.contains(':') {
        return Err(if value.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.') {
            Problem::Invalid(Kind::Ipv6, "not a valid address")
        } else {
            Problem::Unrecognised
        });
    }
    if value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return parse_hash(value);
    }
    if looks_like_ipv4(value) {
        return Err(Problem::Invalid(Kind::Ipv4, "not a valid dotted-quad address"));
    }
    if value.contains('.') {
        let (value, display) = normalise_domain(value)?;
        return Ok(Indicator { kind: Kind::Domain, value, display, port: None });
    }
    Err(Problem::Unrecognised)
}

/// A hash: the kind by length, lowercased.
pub(crate) fn parse_hash(value: &str) -> Result<Indicator, Problem> {
    match Kind::hash_for_len(value.len()) {
        Some(kind) => {
            Ok(Indicator { kind, value: value.to_ascii_lowercase(), display: None, port: None })
        }
        // Long hex runs are almost surely a hash with a character missing
        // or extra; short ones are numbers or words like `cafe`.
        None if value.len() >= 24 => Err(Problem::Invalid(
            Kind::Sha256,
            "wrong length for a hash (md5 has 32 hex characters, sha1 40, sha256 64, sha512 128)",
        )),
        None => Err(Problem::Unrecognised),
    }
}

pub(crate) fn ip_indicator(ip: IpAddr, port: Option<u16>) -> Indicator {
    Indicator {
        kind: match ip {
            IpAddr::V4(_) => Kind::Ipv4,
            IpAddr::V6(_) => Kind::Ipv6,
        },
        value: ip.to_string(),
        display: None,
        port,
    }
}

/// `[2606:4700::1111]` or `[2606:4700::1111]:443`.
fn parse_bracketed_ipv6(value: &str) -> Result<(Ipv6Addr, Option<u16>), Problem> {
    let invalid = Problem::Invalid(Kind::Ipv6, "expected `[address]` or `[address]:port`");
    let close = value.find(']').ok_or(invalid)?;
    let ip = value[1..close].parse::<Ipv6Addr>().map_err(|_| invalid)?;
    let port = match &value[close + 1..] {
        "" => None,
        rest => Some(rest.strip_prefix(':').and_then(parse_port).ok_or(invalid)?),
    };
    Ok((ip, port))
}

fn parse_cidr(value: &str) -> Result<Indicator, Problem> {
    let (address, prefix) = value.split_once('/').ok_or(Problem::Unrecognised)?;
    let address = address.parse::<IpAddr>().map_err(|_| Problem::Unrecognised)?;
    let invalid =
        Problem::Invalid(Kind::Cidr, "the prefix length must be 0-32 for IPv4, 0-128 for IPv6");
    if prefix.is_empty() || prefix.len() > 3 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid);
    }
    let prefix: u8 = prefix.parse().map_err(|_| invalid)?;
    let network = network_of(address, prefix).ok_or(invalid)?;
    Ok(Indicator {
        kind: Kind::Cidr,
        value: format!("{network}/{prefix}"),
        display: None,
        port: None,
    })
}

/// The first address of `address/prefix`, or `None` if the prefix is too
/// long for the address family.
pub(crate) fn network_of(address: IpAddr, prefix: u8) -> Option<IpAddr> {
    match address {
        IpAddr::V4(v4) if prefix <= 32 => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            Some(IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask)))
        }
        IpAddr::V6(v6) if prefix <= 128 => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            Some(IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask)))
        }
        _ => None,
    }
}

fn parse_email(value: &str) -> Result<Indicator, Problem> {
    let invalid = |reason| Problem::Invalid(Kind::Email, reason);
    let (local, domain) = value.rsplit_once('@').ok_or(Problem::Unrecognised)?;
    if !is_valid_local_part(local) {
        return Err(invalid(
            "the part before `@` is empty or has characters an address cannot have",
        ));
    }
    let (domain, display_domain) =
        normalise_domain(domain).map_err(|_| invalid("the domain is not valid"))?;
    let local = local.to_ascii_lowercase();
    Ok(Indicator {
        kind: Kind::Email,
        display: display_domain.map(|d| format!("{local}@{d}")),
        value: format!("{local}@{domain}"),
        port: None,
    })
}

pub(crate) fn is_valid_local_part(local: &str) -> bool {
    !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(&b))
}

/// Schemes Ferret treats as URLs; others (`mailto:`, `file://`) are not
/// something a reputation service can look up.
const SCHEMES: &[&str] = &["http", "https", "ftp", "ftps", "sftp", "ws", "wss"];

fn parse_url(value: &str) -> Result<Indicator, Problem> {
    let invalid = |reason| Problem::Invalid(Kind::Url, reason);
    let (scheme, rest) = value.split_once("://").ok_or(Problem::Unrecognised)?;
    if !SCHEMES.iter().any(|s| s.eq_ignore_ascii_case(scheme)) {
        return Err(invalid("the scheme is not one of http, https, ftp, ftps, sftp, ws or wss"));
    }
    if value.bytes().any(|b| b.is_ascii_whitespace() || b.is_ascii_control()) {
        return Err(invalid("contains whitespace or control characters"));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    url_host(host_port).ok_or(invalid(
        "the host is not an IP address or a domain with a known top-level domain",
    ))?;
    Ok(Indicator { kind: Kind::Url, value: value.to_owned(), display: None, port: None })
}

/// The host of a URL's `host[:port]`, as an indicator, if it is an IP
/// address or a plausible domain.
pub(crate) fn url_host(host_port: &str) -> Option<Indicator> {
    if host_port.starts_with('[') {
        let (ip, _) = parse_bracketed_ipv6(host_port).ok()?;
        return Some(ip_indicator(IpAddr::V6(ip), None));
    }
    let host = match split_port(host_port) {
        Some((host, _)) => host,
        None if host_port.contains(':') => return None,
        None => host_port,
    };
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return Some(ip_indicator(IpAddr::V4(ip), None));
    }
    let (value, display) = normalise_domain(host).ok()?;
    Some(Indicator { kind: Kind::Domain, value, display, port: None })
}

/// Split `host:port` when the part after the last `:` is a port number.
pub(crate) fn split_port(value: &str) -> Option<(&str, u16)> {
    let (host, port) = value.rsplit_once(':')?;
    if host.is_empty() || host.contains(':') {
        return None;
    }
    Some((host, parse_port(port)?))
}

fn parse_port(port: &str) -> Option<u16> {
    if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    port.parse().ok()
}

/// Digits and dots only, in four or so groups: meant as an IPv4 address.
fn looks_like_ipv4(value: &str) -> bool {
    value.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && value.bytes().filter(|&b| b == b'.').count() >= 3
}

/// Normalise a domain name: lowercase A-labels, no trailing dot, with the
/// Unicode form when it differs. Refuses names whose top-level domain the
/// public suffix list does not know, so that `file.exe`, `version 1.2.3`
/// and `a.b` from log noise are not taken for domains.
pub(crate) fn normalise_domain(name: &str) -> Result<(String, Option<String>), Problem> {
    let invalid = |reason| Problem::Invalid(Kind::Domain, reason);
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() || name.len() > 253 * 4 {
        return Err(invalid("empty or too long"));
    }

    let ascii = if name.is_ascii() {
        name.to_ascii_lowercase()
    } else {
        idna::domain_to_ascii(name).map_err(|_| invalid("not a valid internationalised name"))?
    };
    check_labels(&ascii).map_err(invalid)?;

    let display = if ascii.contains("xn--") {
        let (unicode, result) = idna::domain_to_unicode(&ascii);
        if result.is_err() {
            return Err(invalid("has an A-label that does not decode"));
        }
        (unicode != ascii).then_some(unicode)
    } else {
        None
    };
    Ok((ascii, display))
}

/// Reserved top-level names that are not on the public suffix list but are
/// real names in alerts and documentation (RFC 2606, RFC 6761, RFC 6762,
/// ICANN's `.internal`). They are domains; the policy gate keeps them in.
const SPECIAL_USE_TLDS: &[&str] = &["example", "test", "invalid", "localhost", "local", "internal"];

fn check_labels(ascii: &str) -> Result<(), &'static str> {
    if ascii.len() > 253 {
        return Err("longer than 253 characters");
    }
    let mut labels = 0;
    for label in ascii.split('.') {
        labels += 1;
        let valid = !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !valid {
            return Err("a label is empty, too long or has characters a host name cannot have");
        }
    }
    if labels < 2 {
        return Err("a single label is not a domain Ferret can look up");
    }
    let tld = ascii.rsplit('.').next().unwrap_or_default();
    let plausible = tld.len() >= 2
        && (tld.bytes().all(|b| b.is_ascii_lowercase()) || tld.starts_with("xn--"))
        && (SPECIAL_USE_TLDS.contains(&tld)
            || psl::suffix(ascii.as_bytes()).is_some_and(|suffix| suffix.is_known()));
    if !plausible {
        return Err("the top-level domain is not on the public suffix list");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_and_value(raw: &str) -> (Kind, String) {
        let indicator = classify(raw).unwrap_or_else(|e| panic!("classifying {raw}: {e}"));
        (indicator.kind, indicator.value)
    }

    #[test]
    fn each_kind_is_recognised() {
        let cases = [
            ("8.8.8.8", Kind::Ipv4, "8.8.8.8"),
            ("2606:4700:0:0::1111", Kind::Ipv6, "2606:4700::1111"),
            ("10.1.2.3/8", Kind::Cidr, "10.0.0.0/8"),
            ("2001:DB8::1/32", Kind::Cidr, "2001:db8::/32"),
            ("WWW.Example.COM.", Kind::Domain, "www.example.com"),
            ("https://Example.com/A?b=1", Kind::Url, "https://Example.com/A?b=1"),
            ("Alice@Example.ORG", Kind::Email, "alice@example.org"),
            ("44D88612FEA8A8F36DE82E1278ABB02F", Kind::Md5, "44d88612fea8a8f36de82e1278abb02f"),
        ];
        for (raw, kind, value) in cases {
            assert_eq!(kind_and_value(raw), (kind, value.to_owned()), "for {raw}");
        }
    }

    #[test]
    fn log_noise_is_not_a_domain() {
        // File names, version numbers and made-up two-letter pairs have no
        // real top-level domain.
        for noise in ["file.exe", "1.2.3", "a.b", "config.yaml", "v1.2.3-rc1"] {
            assert!(classify(noise).is_err(), "{noise} should not classify");
        }
    }

    #[test]
    fn errors_name_the_value_and_the_fault() {
        let err = classify("999.1.1.1").expect_err("not an address");
        assert_eq!(err.to_string(), "invalid ipv4 `999.1.1.1`: not a valid dotted-quad address");
        let err = classify("8.8.8.0/33").expect_err("prefix too long");
        assert!(err.to_string().starts_with("invalid cidr `8.8.8.0/33`"));
        let err = classify("hello").expect_err("a word");
        assert!(err.to_string().starts_with("`hello` is not a recognised indicator"));
    }

    #[test]
    fn a_url_needs_a_real_host() {
        assert!(classify("http://localhost/").is_err());
        assert!(classify("mailto://a@example.com").is_err());
        assert_eq!(kind_and_value("http://[2001:db8::1]:8080/x").0, Kind::Url);
    }
}

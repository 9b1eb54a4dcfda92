//! The kinds of indicator Ferret knows, and one classified indicator.

use std::fmt;

use serde::Serialize;

/// What an indicator is. The names match the WIT `indicator-kind` cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// An IPv4 address, without port.
    Ipv4,
    /// An IPv6 address in RFC 5952 form, without brackets or port.
    Ipv6,
    /// An IPv4 or IPv6 network, `address/prefix`, host bits cleared.
    Cidr,
    /// A domain name as lowercase A-labels, no trailing dot.
    Domain,
    /// A URL, byte-exact apart from refanging.
    Url,
    /// An email address, lowercased, its domain as A-labels.
    Email,
    /// 32 hex characters, lowercased.
    Md5,
    /// 40 hex characters, lowercased.
    Sha1,
    /// 64 hex characters, lowercased.
    Sha256,
    /// 128 hex characters, lowercased.
    Sha512,
}

impl Kind {
    /// Every kind, in declaration order.
    pub const ALL: [Kind; 10] = [
        Kind::Ipv4,
        Kind::Ipv6,
        Kind::Cidr,
        Kind::Domain,
        Kind::Url,
        Kind::Email,
        Kind::Md5,
        Kind::Sha1,
        Kind::Sha256,
        Kind::Sha512,
    ];

    /// The lowercase name: `ipv4`, `ipv6`, `cidr`, `domain`, `url`, `email`,
    /// `md5`, `sha1`, `sha256` or `sha512`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Ipv4 => "ipv4",
            Kind::Ipv6 => "ipv6",
            Kind::Cidr => "cidr",
            Kind::Domain => "domain",
            Kind::Url => "url",
            Kind::Email => "email",
            Kind::Md5 => "md5",
            Kind::Sha1 => "sha1",
            Kind::Sha256 => "sha256",
            Kind::Sha512 => "sha512",
        }
    }

    /// Whether this is a single IP address (`ipv4` or `ipv6`, not `cidr`).
    pub fn is_ip(self) -> bool {
        matches!(self, Kind::Ipv4 | Kind::Ipv6)
    }

    /// Whether this is a file hash.
    pub fn is_hash(self) -> bool {
        matches!(self, Kind::Md5 | Kind::Sha1 | Kind::Sha256 | Kind::Sha512)
    }

    /// The hash kind for a run of `len` hex characters, if any.
    pub fn hash_for_len(len: usize) -> Option<Kind> {
        match len {
            32 => Some(Kind::Md5),
            40 => Some(Kind::Sha1),
            64 => Some(Kind::Sha256),
            128 => Some(Kind::Sha512),
            _ => None,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One classified, normalised indicator.
///
/// `value` is what providers receive, what caches key on and what
/// deduplication compares: normalising it again gives it back unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Indicator {
    /// What it is.
    pub kind: Kind,
    /// The normalised value.
    pub value: String,
    /// A form for people, when it differs from `value`: the Unicode form of
    /// an internationalised domain (or of an email address's domain).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    /// A port that was written with the value (`8.8.8.8:8080`,
    /// `[2606:4700::1111]:443`, `example.com:443`). It is context, not part
    /// of the indicator: lookups use `value` alone. In a [`Batch`] entry it
    /// is always `None`; each occurrence keeps its own port.
    ///
    /// [`Batch`]: crate::Batch
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

impl Indicator {
    /// The text to show a person: `display` if there is one, else `value`.
    pub fn display_value(&self) -> &str {
        self.display.as_deref().unwrap_or(&self.value)
    }
}

impl fmt::Display for Indicator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.value)
    }
}

/// The hash a service that prefers strong digests should be asked about.
///
/// VirusTotal identifies a file by sha256, sha1 or md5, and does not index
/// sha512; so among hashes of the same file this picks sha256, else sha1,
/// else md5, and never sha512. Non-hash indicators are ignored.
pub fn preferred_hash<'a, I>(hashes: I) -> Option<&'a Indicator>
where
    I: IntoIterator<Item = &'a Indicator>,
{
    let rank = |kind: Kind| match kind {
        Kind::Sha256 => Some(3),
        Kind::Sha1 => Some(2),
        Kind::Md5 => Some(1),
        _ => None,
    };
    hashes
        .into_iter()
        .filter_map(|indicator| rank(indicator.kind).map(|r| (r, indicator)))
        .max_by_key(|(r, _)| *r)
        .map(|(_, indicator)| indicator)
}

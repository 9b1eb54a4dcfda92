//! The operator's allow-list and deny-list.

use std::collections::HashSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::classify::{ClassifyError, classify, network_of};
use crate::kind::{Indicator, Kind};

/// An allow-list or deny-list could not be read.
#[derive(Debug, Error)]
pub enum ListError {
    /// The file could not be read.
    #[error("reading indicator list {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// A line is not an indicator.
    #[error("line {line} of the indicator list: {source}")]
    Entry {
        /// 1-based line number.
        line: usize,
        /// Why the line is not an indicator.
        #[source]
        source: ClassifyError,
    },
}

/// A set of indicators from an operator's file.
///
/// One entry per line; `#` starts a comment; blank lines are skipped;
/// entries may be defanged. An IP or CIDR entry covers every address in
/// it. A domain entry covers the domain and its subdomains. URLs, email
/// addresses and hashes match exactly: a domain entry does not cover URLs
/// or addresses under it, because allow-listing `google.com` must not hide
/// a phishing form at `https://docs.google.com/forms/...`.
#[derive(Debug, Clone, Default)]
pub struct IndicatorList {
    networks: Vec<(IpAddr, u8, String)>,
    domains: HashSet<String>,
    exact: HashSet<(Kind, String)>,
}

impl IndicatorList {
    /// Read a list from the text of a file.
    pub fn parse(text: &str) -> Result<Self, ListError> {
        let mut list = IndicatorList::default();
        for (index, line) in text.lines().enumerate() {
            let entry = line.split('#').next().unwrap_or_default().trim();
            if entry.is_empty() {
                continue;
            }
            let indicator =
                classify(entry).map_err(|source| ListError::Entry { line: index + 1, source })?;
            list.insert(indicator);
        }
        Ok(list)
    }

    /// Read a list from a file.
    pub fn load(path: &Path) -> Result<Self, ListError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ListError::Io { path: path.to_owned(), source })?;
        Self::parse(&text)
    }

    /// Add one entry.
    pub fn insert(&mut self, indicator: Indicator) {
        match indicator.kind {
            Kind::Ipv4 | Kind::Ipv6 | Kind::Cidr => {
                if let Some((network, prefix)) = network(&indicator) {
                    self.networks.push((network, prefix, indicator.value));
                }
            }
            Kind::Domain => {
                self.domains.insert(indicator.value);
            }
            kind => {
                self.exact.insert((kind, indicator.value));
            }
        }
    }

    /// Whether the list holds no entries.
    pub fn is_empty(&self) -> bool {
        self.networks.is_empty() && self.domains.is_empty() && self.exact.is_empty()
    }

    /// The entry that covers `indicator`, if any.
    pub fn matching_entry(&self, indicator: &Indicator) -> Option<&str> {
        match indicator.kind {
            Kind::Ipv4 | Kind::Ipv6 | Kind::Cidr => {
                let (net, prefix) = network(indicator)?;
                self.networks
                    .iter()
                    .find(|(entry, entry_prefix, _)| {
                        *entry_prefix <= prefix && network_of(net, *entry_prefix) == Some(*entry)
                    })
                    .map(|(_, _, text)| text.as_str())
            }
            Kind::Domain => {
                let mut name = indicator.value.as_str();
                loop {
                    if let Some(entry) = self.domains.get(name) {
                        return Some(entry);
                    }
                    name = name.split_once('.')?.1;
                }
            }
            kind => {
                self.exact.get(&(kind, indicator.value.clone())).map(|(_, value)| value.as_str())
            }
        }
    }
}

/// An IP or CIDR indicator as (network, prefix length).
fn network(indicator: &Indicator) -> Option<(IpAddr, u8)> {
    match indicator.kind {
        Kind::Ipv4 => Some((indicator.value.parse().ok()?, 32)),
        Kind::Ipv6 => Some((indicator.value.parse().ok()?, 128)),
        Kind::Cidr => {
            let (net, prefix) = indicator.value.split_once('/')?;
            Some((net.parse().ok()?, prefix.parse().ok()?))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list() -> IndicatorList {
        IndicatorList::parse(
            "# corporate ranges and partners\n\
             10.20.0.0/16\n\
             example[.]org   # partner\n\
             \n\
             https://example.net/ok\n\
             44d88612fea8a8f36de82e1278abb02f\n",
        )
        .expect("a valid list")
    }

    fn matches(value: &str) -> Option<String> {
        let indicator = classify(value).expect("an indicator");
        list().matching_entry(&indicator).map(str::to_owned)
    }

    #[test]
    fn entries_cover_what_they_should() {
        assert_eq!(matches("10.20.3.4").as_deref(), Some("10.20.0.0/16"));
        assert_eq!(matches("10.20.3.0/24").as_deref(), Some("10.20.0.0/16"));
        assert_eq!(matches("mail.example.org").as_deref(), Some("example.org"));
        assert_eq!(matches("https://example.net/ok").as_deref(), Some("https://example.net/ok"));
        assert_eq!(
            matches("44D88612FEA8A8F36DE82E1278ABB02F").as_deref(),
            Some("44d88612fea8a8f36de82e1278abb02f")
        );
    }

    #[test]
    fn entries_do_not_cover_more() {
        for value in ["10.21.0.1", "10.0.0.0/8", "badexample.org", "https://example.org/x"] {
            assert_eq!(matches(value), None, "for {value}");
        }
    }

    #[test]
    fn a_bad_line_is_named() {
        let err = IndicatorList::parse("8.8.8.8\nnot an indicator\n").expect_err("line 2 is bad");
        assert!(err.to_string().starts_with("line 2 of the indicator list: "));
    }
}

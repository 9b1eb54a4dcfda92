//! What the operator grants one provider: where it may connect, the
//! credentials the host adds for it, its settings and its limits.
//!
//! A grant is built once per provider from its manifest and the operator's
//! configuration; every outbound request of every call is checked against
//! it.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::Url;

use super::bindings::{Manifest, SecretPlacement};
use super::failure::Violation;
use crate::config::{Config, SandboxLimits, Secret, secret_env_var};

/// Redirects followed for one request at the most.
const MAX_REDIRECTS: usize = 5;

/// Everything one provider is allowed, and the client that enforces it.
#[derive(Debug)]
pub struct Grant {
    /// `id version` of the provider, for errors and logs.
    pub label: String,
    /// Requests whose URL is a path resolve against this.
    pub base_url: Url,
    /// Host of the base URL, when the operator configured it: trusted as
    /// given, private or not.
    trusted_host: Option<String>,
    /// Every host the provider may reach, lower case.
    allowed_hosts: Arc<BTreeSet<String>>,
    /// Credentials and where they go.
    pub(super) credentials: Vec<(SecretPlacement, Secret)>,
    /// Header names (lower case) a module may not set itself.
    pub(super) reserved_headers: BTreeSet<String>,
    /// Effective settings: the operator's, else the manifest's defaults.
    settings: BTreeMap<String, String>,
    /// Sandbox limits.
    pub limits: SandboxLimits,
    /// The HTTP client, with this grant's redirect and address rules.
    pub(super) client: reqwest::Client,
}

impl Grant {
    /// The grant of provider `manifest` under `config`. Secrets the
    /// operator has not set are simply absent; [`missing_secrets`] names
    /// them.
    pub fn new(manifest: &Manifest, config: &Config) -> Result<Self> {
        let table = config.provider(&manifest.id);
        let base_text = table.base_url.clone().unwrap_or_else(|| manifest.base_url.clone());
        let base_url = Url::parse(&base_text)
            .with_context(|| format!("base URL `{base_text}` of {} is not a URL", manifest.id))?;
        let trusted_host =
            table.base_url.as_ref().and(base_url.host_str()).map(str::to_ascii_lowercase);

        let mut allowed: BTreeSet<String> =
            manifest.hosts.iter().map(|host| host.to_ascii_lowercase()).collect();
        allowed.extend(base_url.host_str().map(str::to_ascii_lowercase));
        let allowed_hosts = Arc::new(allowed);

        let credentials: Vec<(SecretPlacement, Secret)> = manifest
            .secrets
            .iter()
            .filter_map(|spec| {
                let value = config.secret(&manifest.id, &spec.name)?;
                Some((spec.placement.clone(), value))
            })
            .collect();
        let mut reserved_headers: BTreeSet<String> =
            ["authorization", "proxy-authorization", "cookie"].map(str::to_owned).into();
        for spec in &manifest.secrets {
            if let SecretPlacement::Header(name) = &spec.placement {
                reserved_headers.insert(name.to_ascii_lowercase());
            }
        }

        let settings = manifest
            .settings
            .iter()
            .filter_map(|spec| {
                let value = table.setting(&spec.name).or_else(|| spec.default_value.clone())?;
                Some((spec.name.clone(), value))
            })
            .collect();

        let limits = config.sandbox.clone();
        let client = build_client(&allowed_hosts, trusted_host.clone(), &limits)?;
        Ok(Self {
            label: format!("{} {}", manifest.id, manifest.version),
            base_url,
            trusted_host,
            allowed_hosts,
            credentials,
            reserved_headers,
            settings,
            limits,
            client,
        })
    }

    /// Every host the provider may reach: its base URL's and those its
    /// manifest declares, lower case and sorted.
    pub fn allowed_hosts(&self) -> impl Iterator<Item = &str> {
        self.allowed_hosts.iter().map(String::as_str)
    }

    /// A grant that allows no network at all, for describing a module.
    pub fn offline(label: &str, limits: &SandboxLimits) -> Result<Self> {
        let allowed_hosts = Arc::new(BTreeSet::new());
        Ok(Self {
            label: label.to_owned(),
            base_url: Url::parse("https://offline.invalid/").expect("a constant URL parses"),
            trusted_host: None,
            client: build_client(&allowed_hosts, None, limits)?,
            allowed_hosts,
            credentials: Vec::new(),
            reserved_headers: BTreeSet::new(),
            settings: BTreeMap::new(),
            limits: limits.clone(),
        })
    }

    /// The value of a declared setting.
    pub fn setting(&self, key: &str) -> Option<String> {
        self.settings.get(key).cloned()
    }

    /// Replaces every credential value in `text` with `<redacted>`. An
    /// upstream may quote the key it was sent back in an error or an
    /// answer, and the module passes that on; nothing a module returns or
    /// logs may show it. A basic-auth user name is an identity, not a
    /// secret, and may rightly appear in answers, so it is left alone.
    pub fn redact(&self, text: &mut String) {
        for (placement, secret) in &self.credentials {
            let value = secret.expose();
            if !matches!(placement, SecretPlacement::BasicUsername) && text.contains(value) {
                *text = text.replace(value, "<redacted>");
            }
        }
    }

    /// Checks that `url` may be requested: its host is declared, and an
    /// address literal is routable unless the operator configured it.
    pub fn check_url(&self, url: &Url) -> Result<(), Violation> {
        let host = url.host_str().unwrap_or("").trim_matches(['[', ']']).to_ascii_lowercase();
        if !self.allowed_hosts.contains(&host) {
            return Err(Violation::UndeclaredHost(host));
        }
        if self.trusted_host.as_deref() == Some(host.as_str()) {
            return Ok(());
        }
        if let Ok(address) = host.parse::<IpAddr>()
            && let Some(why) = ferret_indicators::policy::non_routable_reason(address)
        {
            return Err(Violation::NonRoutableHost { host, why: why.to_owned() });
        }
        Ok(())
    }
}

/// The environment variables of the secrets `manifest` needs and
/// `config` does not provide.
pub fn missing_secrets(manifest: &Manifest, config: &Config) -> Vec<String> {
    manifest
        .secrets
        .iter()
        .filter(|spec| config.secret(&manifest.id, &spec.name).is_none())
        .map(|spec| secret_env_var(&manifest.id, &spec.name))
        .collect()
}

/// A client that follows redirects only to allowed hosts and refuses
/// names that resolve to non-routable addresses, unless trusted.
fn build_client(
    allowed: &Arc<BTreeSet<String>>,
    trusted_host: Option<String>,
    limits: &SandboxLimits,
) -> Result<reqwest::Client> {
    let redirect_hosts = Arc::clone(allowed);
    let redirects = reqwest::redirect::Policy::custom(move |attempt| {
        let host = attempt.url().host_str().unwrap_or("").to_ascii_lowercase();
        if attempt.previous().len() >= MAX_REDIRECTS {
            attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
        } else if redirect_hosts.contains(&host) {
            attempt.follow()
        } else {
            attempt.error(format!("redirect to undeclared host `{host}` refused"))
        }
    });
    reqwest::Client::builder()
        .redirect(redirects)
        .dns_resolver(Arc::new(GuardedResolver { trusted_host }))
        .timeout(Duration::from_secs(limits.http_timeout_seconds))
        .connect_timeout(Duration::from_secs(limits.http_timeout_seconds.min(5)))
        .user_agent(concat!("ferret/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("failed to build the HTTP client")
}

/// Resolves names with the system resolver and drops non-routable
/// answers, so a declared public host cannot be pointed at the inside of
/// the network through DNS. The operator's own base URL host is exempt.
#[derive(Debug)]
struct GuardedResolver {
    trusted_host: Option<String>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let trusted = self.trusted_host.as_deref() == Some(host.as_str());
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let usable: Vec<SocketAddr> = found
                .into_iter()
                .filter(|address| {
                    trusted
                        || ferret_indicators::policy::non_routable_reason(address.ip()).is_none()
                })
                .collect();
            if usable.is_empty() {
                let message = format!("`{host}` resolves only to non-routable addresses");
                return Err(message.into());
            }
            Ok(Box::new(usable.into_iter()) as Addrs)
        })
    }
}

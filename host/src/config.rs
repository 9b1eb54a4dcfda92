//! The operator's configuration: `ferret.toml` and secrets from the
//! environment.
//!
//! Everything has a default, so a first run works with no file at all:
//! providers without their secrets are listed as not configured.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// Environment variable naming the configuration file.
pub const CONFIG_ENV: &str = "FERRET_CONFIG";

/// Environment variable holding the HTTP service's bearer token; it wins
/// over `[serve] token`.
pub const SERVE_TOKEN_ENV: &str = "FERRET_SERVE_TOKEN";

/// The whole configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Folder of drop-in provider modules (`*.wasm`), loaded after the
    /// built-in ones; a drop-in module replaces a built-in one of the same
    /// id.
    pub providers_dir: Option<PathBuf>,
    /// Folder of the built-in provider modules; by default the `providers`
    /// folder beside the binary's own folder (`target/providers` for
    /// `target/release/ferret`).
    pub builtin_dir: Option<PathBuf>,
    /// Folder for Ferret's own state: the compiled-module cache, and the
    /// SQLite file of results, daily quotas and the call ledger. Defaults
    /// to `$XDG_CACHE_HOME/ferret` (or `~/.cache/ferret`) for modules and
    /// `$XDG_DATA_HOME/ferret` (or `~/.local/share/ferret`) for the file.
    pub data_dir: Option<PathBuf>,
    /// The SQLite state file itself, when it should not be
    /// `<data_dir>/ferret.sqlite3`.
    pub state_file: Option<PathBuf>,
    /// Sandbox limits applied to every provider call.
    #[serde(default)]
    pub sandbox: SandboxLimits,
    /// What may leave the building.
    #[serde(default)]
    pub policy: PolicyConfig,
    /// Per-provider settings, keyed by provider id.
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderConfig>,
    /// The HTTP service, `ferret serve`.
    #[serde(default)]
    pub serve: ServeConfig,
    /// How long results are kept.
    #[serde(default)]
    pub cache: CacheConfig,
    /// How providers' rate limits and pauses are applied.
    #[serde(default)]
    pub scheduler: SchedulerConfig,
    /// How provider verdicts combine into one.
    #[serde(default)]
    pub scoring: ScoringConfig,
}

/// The HTTP service's settings, `[serve]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServeConfig {
    /// Address and port to listen on when `--listen` is not given.
    pub listen: String,
    /// Bearer token every client must send. Without one the service only
    /// listens on loopback addresses. `FERRET_SERVE_TOKEN` wins over it.
    pub token: Option<Secret>,
    /// Largest request body, in bytes.
    pub max_body_bytes: u64,
    /// Commands run at once; later requests wait their turn.
    pub max_concurrent_requests: u32,
    /// Time one request may take, waiting its turn included, in seconds.
    pub request_timeout_seconds: u64,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8700".to_owned(),
            token: None,
            max_body_bytes: 1024 * 1024,
            max_concurrent_requests: 64,
            request_timeout_seconds: 120,
        }
    }
}

/// Indicator kinds as configuration names them (DBotScore types), for
/// `[scoring.weights.<kind>]` and `[cache.kind.<kind>]`.
pub const KIND_NAMES: [&str; 6] = ["ip", "domain", "url", "file", "email", "cidr"];

/// `[cache]`: result lifetimes, in seconds.
///
/// The lifetime of a result of provider `p` for an indicator of kind `k`
/// is the first set of: `[providers.p.cache.kind.k]`,
/// `[providers.p.cache]`, `[cache.kind.k]`, `[cache]`. What the operator
/// says of one provider wins over what is said of every provider.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// How long an answer is reused. Default one day.
    pub answer_ttl_seconds: u64,
    /// How long "the upstream knows nothing of it" is reused; shorter, as
    /// an indicator may appear upstream at any time. Default one hour.
    pub not_found_ttl_seconds: u64,
    /// Lifetimes for one kind of indicator (`ip`, `file`, ...): a hash's
    /// verdict rarely changes, an address's does.
    pub kind: BTreeMap<String, Lifetimes>,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self { answer_ttl_seconds: 24 * 3600, not_found_ttl_seconds: 3600, kind: BTreeMap::new() }
    }
}

/// Result lifetimes in seconds; an absent field falls through to the
/// next table (see [`CacheConfig`]).
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lifetimes {
    /// Seconds an answer is reused.
    pub answer_ttl_seconds: Option<u64>,
    /// Seconds a not-found is reused.
    pub not_found_ttl_seconds: Option<u64>,
}

/// A provider's own result lifetimes, `[providers.<id>.cache]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheOverride {
    /// Seconds an answer is reused.
    pub answer_ttl_seconds: Option<u64>,
    /// Seconds a not-found is reused.
    pub not_found_ttl_seconds: Option<u64>,
    /// Its lifetimes for one kind of indicator.
    #[serde(default)]
    pub kind: BTreeMap<String, Lifetimes>,
}

impl Config {
    /// How long a result of provider `id` for an indicator of `kind` (a
    /// [`KIND_NAMES`] name) is reused: an answer, then a not-found.
    pub fn lifetimes(&self, id: &str, kind: &str) -> (Duration, Duration) {
        let own = self.providers.get(id).and_then(|provider| provider.cache.as_ref());
        let tables = [
            own.and_then(|own| own.kind.get(kind)).copied(),
            own.map(|own| Lifetimes {
                answer_ttl_seconds: own.answer_ttl_seconds,
                not_found_ttl_seconds: own.not_found_ttl_seconds,
            }),
            self.cache.kind.get(kind).copied(),
        ];
        let first = |field: fn(&Lifetimes) -> Option<u64>, last: u64| {
            let seconds = tables.iter().flatten().find_map(field).unwrap_or(last);
            Duration::from_secs(seconds)
        };
        (
            first(|t| t.answer_ttl_seconds, self.cache.answer_ttl_seconds),
            first(|t| t.not_found_ttl_seconds, self.cache.not_found_ttl_seconds),
        )
    }
}

/// `[scheduler]`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SchedulerConfig {
    /// Calls one provider may have running at once.
    pub concurrency: u32,
    /// Longest pause a `429` with `Retry-After` may impose on a provider,
    /// in seconds. A longer one is not waited out: the call reports the
    /// rate limit instead, so one throttled upstream cannot stall a batch
    /// for an hour.
    pub max_pause_seconds: u64,
    /// How many times a rate-limited call is tried again after its pause.
    pub rate_limit_retries: u32,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self { concurrency: 8, max_pause_seconds: 60, rate_limit_retries: 3 }
    }
}

/// `[scoring]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScoringConfig {
    /// Weights per indicator kind (`ip`, `domain`, `url`, `file`, `email`,
    /// `cidr`), then per provider id: `[scoring.weights.ip] virustotal =
    /// 60`. A kind's table replaces the built-in one for that kind; a
    /// provider it does not name has weight 0.
    pub weights: BTreeMap<String, BTreeMap<String, f64>>,
}

/// The policy gate's settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyConfig {
    /// Treat the documentation ranges (192.0.2.0/24, 198.51.100.0/24,
    /// 203.0.113.0/24, 2001:db8::/32) as routable. Off by default; test
    /// set-ups turn it on.
    pub allow_documentation_ranges: bool,
    /// File of indicators never sent out, judged benign.
    pub allow_list: Option<PathBuf>,
    /// File of indicators judged malicious locally.
    pub deny_list: Option<PathBuf>,
}

/// Limits of the sandbox, the same for every provider. A provider cannot
/// change them; an operator can.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxLimits {
    /// Linear memory one provider instance may grow to, in MiB.
    pub memory_mib: u64,
    /// CPU budget of one call in the module, in milliseconds of a current
    /// x86-64 core: counted as fuel (a million WebAssembly instructions per
    /// millisecond), so waiting on the network, in host imports or for a
    /// busy machine does not spend it.
    pub cpu_ms: u64,
    /// Wall-clock time one call may take, network included, in seconds.
    pub call_timeout_seconds: u64,
    /// Time one outbound request may take, in seconds.
    pub http_timeout_seconds: u64,
    /// Outbound requests one call may make.
    pub max_requests_per_call: u32,
    /// Largest response body handed to a module, in bytes.
    pub max_response_bytes: u64,
    /// Largest output a call may return (raw answer plus context), in bytes.
    pub max_output_bytes: u64,
}

impl Default for SandboxLimits {
    fn default() -> Self {
        Self {
            memory_mib: 64,
            cpu_ms: 2_000,
            call_timeout_seconds: 30,
            http_timeout_seconds: 10,
            max_requests_per_call: 8,
            max_response_bytes: 8 * 1024 * 1024,
            max_output_bytes: 4 * 1024 * 1024,
        }
    }
}

/// One provider's table, `[providers.<id>]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// `false` hides the provider's commands. Default `true`.
    pub enabled: Option<bool>,
    /// Replaces the manifest's base URL, e.g. a self-hosted MISP. Its host
    /// is trusted as given, even when it is private or loopback.
    pub base_url: Option<String>,
    /// Shorthand for `secrets.api-key`.
    pub api_key: Option<String>,
    /// Secrets by the names the manifest declares. The environment
    /// variable `FERRET_<ID>_<NAME>` wins over these.
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
    /// Non-secret settings by the names the manifest declares.
    #[serde(default)]
    pub settings: BTreeMap<String, toml::Value>,
    /// Reliability for DBotScore, e.g. `B - Usually reliable` or just `B`.
    pub reliability: Option<String>,
    /// Rate limits replacing the manifest's defaults.
    pub limits: Option<RateLimitOverride>,
    /// Result lifetimes replacing `[cache]`'s.
    pub cache: Option<CacheOverride>,
    /// Whether the provider runs inside the organisation (a self-hosted
    /// MISP): it may then receive non-routable addresses.
    #[serde(default)]
    pub internal: bool,
    /// The most sensitive TLP label this provider may receive.
    pub max_tlp: Option<String>,
}

/// Operator override of a provider's rate limits; an absent field keeps
/// the manifest's value.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitOverride {
    /// Requests per second.
    pub per_second: Option<u32>,
    /// Requests per minute.
    pub per_minute: Option<u32>,
    /// Requests per UTC day.
    pub per_day: Option<u32>,
}

/// A secret value. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Config {
    /// Reads the configuration from `path`, else from `$FERRET_CONFIG`,
    /// else from `./ferret.toml` if it exists; otherwise the defaults.
    pub fn load(path: Option<&Path>) -> Result<Self> {
        let from_env = std::env::var_os(CONFIG_ENV).map(PathBuf::from);
        let chosen = path.map(Path::to_path_buf).or(from_env);
        let path = match chosen {
            Some(path) => path,
            None if Path::new("ferret.toml").is_file() => PathBuf::from("ferret.toml"),
            None => return Ok(Self::default()),
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("failed to read configuration file {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("invalid configuration file {}", path.display()))
    }

    /// Parses configuration text.
    pub fn parse(text: &str) -> Result<Self> {
        let config: Self = toml::from_str(text)?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<()> {
        let limits = &self.sandbox;
        // Zero would not mean "no limit" but "nothing may run": every
        // request would time out at once, every output would be too large.
        let zero = [
            ("memory_mib", limits.memory_mib),
            ("cpu_ms", limits.cpu_ms),
            ("call_timeout_seconds", limits.call_timeout_seconds),
            ("http_timeout_seconds", limits.http_timeout_seconds),
            ("max_requests_per_call", u64::from(limits.max_requests_per_call)),
            ("max_response_bytes", limits.max_response_bytes),
            ("max_output_bytes", limits.max_output_bytes),
        ]
        .into_iter()
        .find(|(_, value)| *value == 0);
        if let Some((name, _)) = zero {
            bail!("sandbox.{name} must be above zero");
        }
        let serve = &self.serve;
        let zero = [
            ("max_body_bytes", serve.max_body_bytes),
            ("max_concurrent_requests", u64::from(serve.max_concurrent_requests)),
            ("request_timeout_seconds", serve.request_timeout_seconds),
        ]
        .into_iter()
        .find(|(_, value)| *value == 0);
        if let Some((name, _)) = zero {
            bail!("serve.{name} must be above zero");
        }
        if self.scheduler.concurrency == 0 {
            bail!("scheduler.concurrency must be above zero");
        }
        let unknown_kind = |table: &str, kind: &str| {
            anyhow::anyhow!(
                "{table}.{kind}: unknown indicator kind (use ip, domain, url, file, email or cidr)"
            )
        };
        let known = |kind: &&String| KIND_NAMES.contains(&kind.as_str());
        if let Some(kind) = self.cache.kind.keys().find(|kind| !known(kind)) {
            return Err(unknown_kind("cache.kind", kind));
        }
        for (id, provider) in &self.providers {
            let mut kinds = provider.cache.iter().flat_map(|cache| cache.kind.keys());
            if let Some(kind) = kinds.find(|kind| !known(kind)) {
                return Err(unknown_kind(&format!("providers.{id}.cache.kind"), kind));
            }
        }
        for (kind, weights) in &self.scoring.weights {
            if !KIND_NAMES.contains(&kind.as_str()) {
                return Err(unknown_kind("scoring.weights", kind));
            }
            if let Some((id, weight)) =
                weights.iter().find(|(_, weight)| !weight.is_finite() || **weight < 0.0)
            {
                bail!("scoring.weights.{kind}.{id} = {weight}: a weight must be 0 or more");
            }
        }
        for (id, provider) in &self.providers {
            let zero_limit = provider.limits.and_then(|limits| {
                [("per_second", limits.per_second), ("per_minute", limits.per_minute)]
                    .into_iter()
                    .find(|(_, value)| *value == Some(0))
            });
            if let Some((name, _)) = zero_limit {
                bail!(
                    "providers.{id}.limits.{name} must be above zero (disable the provider with \
                     `enabled = false` instead)"
                );
            }
            if let Some(base) = &provider.base_url {
                let url = url::Url::parse(base)
                    .with_context(|| format!("providers.{id}.base_url `{base}` is not a URL"))?;
                if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                    bail!("providers.{id}.base_url `{base}` must be an http(s) URL with a host");
                }
            }
        }
        Ok(())
    }

    /// The table of provider `id`, or an empty one.
    pub fn provider(&self, id: &str) -> ProviderConfig {
        self.providers.get(id).cloned().unwrap_or_default()
    }

    /// The value of secret `name` for provider `id`: the environment
    /// variable first, then the file.
    pub fn secret(&self, id: &str, name: &str) -> Option<Secret> {
        let from_env = std::env::var(secret_env_var(id, name)).ok();
        let table = self.providers.get(id);
        let from_file = table.and_then(|provider| {
            provider
                .secrets
                .get(name)
                .cloned()
                .or_else(|| (name == "api-key").then(|| provider.api_key.clone()).flatten())
        });
        from_env.or(from_file).filter(|value| !value.is_empty()).map(Secret::new)
    }

    /// The HTTP service's bearer token: `FERRET_SERVE_TOKEN` first, then
    /// `[serve] token`; an empty value counts as none.
    pub fn serve_token(&self) -> Option<Secret> {
        let from_env = std::env::var(SERVE_TOKEN_ENV).ok().map(Secret::new);
        from_env.or_else(|| self.serve.token.clone()).filter(|token| !token.expose().is_empty())
    }

    /// Where compiled modules are cached.
    pub fn cache_dir(&self) -> PathBuf {
        if let Some(dir) = &self.data_dir {
            return dir.join("modules");
        }
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
            .unwrap_or_else(std::env::temp_dir);
        base.join("ferret").join("modules")
    }

    /// The SQLite file of cached results, daily quotas and the call ledger.
    pub fn store_path(&self) -> PathBuf {
        if let Some(file) = &self.state_file {
            return file.clone();
        }
        if let Some(dir) = &self.data_dir {
            return dir.join("ferret.sqlite3");
        }
        let base = std::env::var_os("XDG_DATA_HOME")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/share"))
            })
            .unwrap_or_else(std::env::temp_dir);
        base.join("ferret").join("ferret.sqlite3")
    }
}

impl ProviderConfig {
    /// Whether the provider's commands are offered.
    pub fn is_enabled(&self) -> bool {
        self.enabled.unwrap_or(true)
    }

    /// A setting's value as text (numbers and booleans as written).
    pub fn setting(&self, name: &str) -> Option<String> {
        self.settings.get(name).map(|value| match value {
            toml::Value::String(text) => text.clone(),
            other => other.to_string(),
        })
    }
}

/// The environment variable holding a provider's secret, e.g.
/// `FERRET_VIRUSTOTAL_API_KEY`.
pub fn secret_env_var(id: &str, name: &str) -> String {
    format!("FERRET_{id}_{name}").to_ascii_uppercase().replace('-', "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_variables_are_upper_snake_case() {
        assert_eq!(secret_env_var("virustotal", "api-key"), "FERRET_VIRUSTOTAL_API_KEY");
        assert_eq!(secret_env_var("passivetotal", "username"), "FERRET_PASSIVETOTAL_USERNAME");
    }

    #[test]
    fn api_key_shorthand_is_the_api_key_secret() {
        let config = Config::parse("[providers.demo]\napi_key = \"k1\"\n").unwrap();
        assert_eq!(config.secret("demo", "api-key").unwrap().expose(), "k1");
        // Other secrets are not filled from the shorthand.
        assert!(config.secret("demo", "username").is_none());
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let shown = format!("{:?}", Secret::new("hunter2"));
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn unknown_keys_are_refused_by_name() {
        let error = Config::parse("[providers.demo]\nbase_ulr = \"http://x\"\n").unwrap_err();
        assert!(format!("{error:#}").contains("base_ulr"), "{error:#}");
    }

    #[test]
    fn regression_a_zero_http_timeout_is_refused_by_name() {
        // It used to pass, and every request then timed out at once.
        let error = Config::parse("[sandbox]\nhttp_timeout_seconds = 0\n").unwrap_err();
        assert_eq!(error.to_string(), "sandbox.http_timeout_seconds must be above zero");
        let error = Config::parse("[sandbox]\nmax_output_bytes = 0\n").unwrap_err();
        assert_eq!(error.to_string(), "sandbox.max_output_bytes must be above zero");
    }

    #[test]
    fn the_serve_table_reads_its_token_without_showing_it() {
        let config = Config::parse("[serve]\ntoken = \"s3cret-token\"\n").unwrap();
        assert_eq!(config.serve.token.as_ref().unwrap().expose(), "s3cret-token");
        assert_eq!(config.serve.listen, "127.0.0.1:8700");
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cret-token"), "{shown}");
        let error = Config::parse("[serve]\nrequest_timeout_seconds = 0\n").unwrap_err();
        assert_eq!(error.to_string(), "serve.request_timeout_seconds must be above zero");
    }

    #[test]
    fn cache_lifetimes_take_the_most_specific_table() {
        let config = Config::parse(
            "[cache]\nanswer_ttl_seconds = 100\nnot_found_ttl_seconds = 10\n\
             [cache.kind.file]\nanswer_ttl_seconds = 700\n\
             [providers.misp.cache]\nanswer_ttl_seconds = 60\n\
             [providers.misp.cache.kind.ip]\nnot_found_ttl_seconds = 5\n",
        )
        .unwrap();
        let seconds = |id: &str, kind: &str| {
            let (answer, not_found) = config.lifetimes(id, kind);
            (answer.as_secs(), not_found.as_secs())
        };
        // Nothing said of the provider: the kind's table, then `[cache]`.
        assert_eq!(seconds("virustotal", "file"), (700, 10));
        assert_eq!(seconds("virustotal", "ip"), (100, 10));
        // The provider's own tables win, field by field.
        assert_eq!(seconds("misp", "file"), (60, 10));
        assert_eq!(seconds("misp", "ip"), (60, 5));
        // Without any table, a day and an hour.
        let defaults = Config::parse("").unwrap().lifetimes("misp", "url");
        assert_eq!(defaults, (Duration::from_secs(86_400), Duration::from_secs(3_600)));
    }

    #[test]
    fn a_cache_table_for_an_unknown_kind_is_refused_by_name() {
        let error = Config::parse("[cache.kind.hash]\nanswer_ttl_seconds = 1\n").unwrap_err();
        assert_eq!(
            format!("{error:#}"),
            "cache.kind.hash: unknown indicator kind (use ip, domain, url, file, email or cidr)"
        );
        let error =
            Config::parse("[providers.vt.cache.kind.ipv4]\nanswer_ttl_seconds = 1\n").unwrap_err();
        assert!(format!("{error:#}").starts_with("providers.vt.cache.kind.ipv4: unknown"));
    }

    #[test]
    fn a_base_url_must_be_http() {
        let error = Config::parse("[providers.demo]\nbase_url = \"ftp://x\"\n").unwrap_err();
        assert!(format!("{error:#}").contains("providers.demo.base_url"), "{error:#}");
    }
}

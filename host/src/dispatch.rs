//! One command end to end: route it, bind its arguments, classify and gate
//! its indicators, run every provider call at once, and collect one result
//! per provider and indicator.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use ferret_indicators::policy::{Decision, Gate, GatePolicy, IndicatorList, ProviderPolicy};
use ferret_indicators::{Kind, Tlp};
use futures::future::join_all;
use thiserror::Error;

use crate::command::{BindError, CommandLine, RawValue, bind_arguments, split_list};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::router::{Missing, Provider, Registry};
use crate::sandbox::{
    Argument, CallStats, CommandOutput, CommandRequest, Indicator, IndicatorKind, ProviderError,
    Sandbox, SandboxFailure,
};
use crate::schedule::{CallOptions, Priority, Scheduler};
use crate::store::Store;

/// The host with its providers loaded: what every front end (CLI, HTTP
/// service, XSOAR bridge) calls.
pub struct Ferret {
    /// The engine.
    pub sandbox: Sandbox,
    /// The providers.
    pub registry: Registry,
    /// Cache, rate limits, quotas and the call ledger.
    pub scheduler: Scheduler,
    gate: Gate,
    weights: crate::config::ScoringConfig,
}

/// What became of one provider call.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The provider answered.
    Answered(CommandOutput),
    /// The upstream knows nothing of the indicator.
    NotFound,
    /// The policy gate kept the indicator from this provider.
    NotSent(String),
    /// The provider lacks its secrets or its upstream's address.
    NotConfigured(Missing),
    /// The provider reported an error.
    Refused(ProviderError),
    /// The sandbox stopped the call.
    Failed(SandboxFailure),
    /// The provider's daily quota is spent; nothing was sent.
    QuotaExhausted {
        /// When it renews: the next UTC midnight, `YYYY-MM-DDT00:00:00Z`.
        until: String,
    },
}

/// One provider's result for one indicator (or for the whole command, when
/// it takes no indicator).
#[derive(Debug)]
pub struct CallResult {
    /// Provider id.
    pub provider: String,
    /// Provider version.
    pub version: String,
    /// Brand, the DBotScore vendor.
    pub brand: String,
    /// The command's declared name.
    pub command: String,
    /// The command's context path and key field.
    pub context: (String, String),
    /// The indicator, when the command takes one.
    pub indicator: Option<Indicator>,
    /// DBotScore reliability text.
    pub reliability: String,
    /// Environment variables that hold the provider's secrets, for
    /// messages that say how to configure it.
    pub secret_vars: Vec<String>,
    /// What happened.
    pub outcome: Outcome,
    /// How long the call took, end to end.
    pub elapsed: Duration,
    /// Where the sandbox's time went; zero for calls not made.
    pub stats: CallStats,
    /// Answered from the cache, or by an identical call in flight.
    pub cache_hit: bool,
}

/// Why a command could not run at all.
#[derive(Debug, Error)]
pub enum CommandError {
    /// No enabled provider has the command.
    #[error("unknown command !{name}{hint}")]
    UnknownCommand {
        /// The name given.
        name: String,
        /// A suggestion, or empty.
        hint: String,
    },
    /// Arguments that no provider's command declares.
    #[error("!{command} does not take {names}; it takes: {known}")]
    UnknownArguments {
        /// The command.
        command: String,
        /// The unknown names, quoted.
        names: String,
        /// The declared names.
        known: String,
    },
    /// Arguments that do not fit.
    #[error(transparent)]
    Bind(#[from] BindError),
    /// A value of the indicator argument that is no indicator.
    #[error("argument \"{argument}\": {message}")]
    Classify { argument: String, message: String },
    /// An indicator of a kind the command does not take.
    #[error(
        "`{value}` is {article} {kind}, which !{command} does not take (it takes {accepted}){hint}"
    )]
    WrongKind {
        /// The command.
        command: String,
        /// The value.
        value: String,
        /// `a` or `an`.
        article: &'static str,
        /// Its kind.
        kind: &'static str,
        /// Kinds the command takes.
        accepted: String,
        /// Which command to use instead, or empty.
        hint: String,
    },
    /// A TLP label that does not parse.
    #[error("argument \"tlp\": {0}")]
    Tlp(String),
}

/// One planned provider call.
pub(crate) struct Call<'a> {
    pub(crate) provider: &'a Provider,
    pub(crate) request: CommandRequest,
    pub(crate) indicator: Option<Indicator>,
    pub(crate) skip: Option<Outcome>,
}

impl Ferret {
    /// Loads the providers `config` names.
    pub async fn load(config: &Config) -> Result<Self> {
        let sandbox = Sandbox::new(&config.sandbox, Some(&config.cache_dir()))?;
        let registry = Registry::load(&sandbox, config).await?;
        Self::assemble(sandbox, registry, config)
    }

    /// Wraps an already loaded registry.
    pub fn assemble(sandbox: Sandbox, registry: Registry, config: &Config) -> Result<Self> {
        let policy = &config.policy;
        let mut gate =
            Gate::new(GatePolicy { allow_documentation_ranges: policy.allow_documentation_ranges });
        if let Some(path) = &policy.allow_list {
            gate = gate.with_allow_list(IndicatorList::load(path)?);
        }
        if let Some(path) = &policy.deny_list {
            gate = gate.with_deny_list(IndicatorList::load(path)?);
        }
        let store = Arc::new(Store::open(&config.store_path())?);
        let scheduler = Scheduler::new(config, &registry, store, Arc::new(Metrics::new()));
        Ok(Self { sandbox, registry, scheduler, gate, weights: config.scoring.clone() })
    }

    /// The policy gate and the operator's lists.
    pub fn gate(&self) -> &Gate {
        &self.gate
    }

    /// The scoring weights in force.
    pub fn weights(&self) -> &crate::config::ScoringConfig {
        &self.weights
    }

    /// Runs a command on every provider that answers it, as a person or a
    /// playbook asks: before queued batch calls, and from the cache.
    ///
    /// A command answers from the cache too, for reputation lookups only
    /// (`!ip`, `!vt-ip-scan`...): a playbook that runs `!ip` on the same
    /// address in every incident should not spend the daily quota on it.
    /// `ferret run --no-cache` asks the upstream again.
    pub async fn execute(&self, line: &CommandLine) -> Result<Vec<CallResult>, CommandError> {
        let options = CallOptions { priority: Priority::Interactive, use_cache: true };
        self.execute_with(line, options).await
    }

    /// Runs a command on every provider that answers it, with `options`.
    pub async fn execute_with(
        &self,
        line: &CommandLine,
        options: CallOptions,
    ) -> Result<Vec<CallResult>, CommandError> {
        if line.name == "test-module" {
            return Ok(self.test_module(using(line).as_deref()).await);
        }
        let targets = self.registry.route(&line.name, using(line).as_deref());
        if targets.is_empty() {
            return Err(self.unknown_command(&line.name));
        }
        let tlp = tlp_argument(line).map_err(CommandError::Tlp)?;

        let mut bound = Vec::new();
        let mut unknown_everywhere: Option<Vec<String>> = None;
        for (provider, spec) in &targets {
            let (arguments, unknown) = bind_arguments(spec, line)?;
            unknown_everywhere = Some(match unknown_everywhere {
                None => unknown,
                Some(previous) => {
                    previous.into_iter().filter(|name| unknown.contains(name)).collect()
                }
            });
            bound.push((*provider, *spec, arguments));
        }
        let unknown = unknown_everywhere.unwrap_or_default();
        let unknown: Vec<String> = unknown.into_iter().filter(|name| name != "tlp").collect();
        if !unknown.is_empty() {
            let mut known: Vec<&str> = targets
                .iter()
                .flat_map(|(_, spec)| spec.arguments.iter().map(|argument| argument.name.as_str()))
                .collect();
            known.sort();
            known.dedup();
            return Err(CommandError::UnknownArguments {
                command: line.name.clone(),
                names: unknown
                    .iter()
                    .map(|name| format!("\"{name}\""))
                    .collect::<Vec<_>>()
                    .join(", "),
                known: known.join(", "),
            });
        }

        let mut calls = Vec::new();
        for (provider, spec, arguments) in bound {
            let Some(indicator_argument) = &spec.indicator_argument else {
                let request =
                    CommandRequest { command: spec.name.clone(), arguments, indicator: None };
                calls.push(self.plan(provider, request, None, None));
                continue;
            };
            let values = arguments
                .iter()
                .find(|argument| &argument.name == indicator_argument)
                .map(|argument| argument.values.clone())
                .unwrap_or_default();
            let mut seen: Vec<ferret_indicators::Indicator> = Vec::new();
            for value in values {
                let found = ferret_indicators::classify(&value).map_err(|error| {
                    CommandError::Classify {
                        argument: indicator_argument.clone(),
                        message: error.to_string(),
                    }
                })?;
                let kind = wit_kind(found.kind);
                if !spec.kinds.contains(&kind) {
                    let accepted_anywhere =
                        targets.iter().any(|(_, other)| other.kinds.contains(&kind));
                    if accepted_anywhere {
                        continue;
                    }
                    return Err(self.wrong_kind(&line.name, &value, found.kind, &spec.kinds));
                }
                if seen
                    .iter()
                    .any(|earlier| earlier.kind == found.kind && earlier.value == found.value)
                {
                    continue;
                }
                let indicator = Indicator { kind, value: found.value.clone() };
                let arguments = arguments
                    .iter()
                    .map(|argument| {
                        if &argument.name == indicator_argument {
                            Argument {
                                name: argument.name.clone(),
                                values: vec![found.value.clone()],
                            }
                        } else {
                            argument.clone()
                        }
                    })
                    .collect();
                let request = CommandRequest {
                    command: spec.name.clone(),
                    arguments,
                    indicator: Some(indicator.clone()),
                };
                let policy = provider_policy(provider).map_err(CommandError::Tlp)?;
                let decision = self.gate.decide(&found, tlp, &policy);
                let skip = match decision {
                    Decision::Send => None,
                    Decision::NotSent { reason } => Some(Outcome::NotSent(reason.to_string())),
                };
                calls.push(self.plan(provider, request, Some(indicator), skip));
                seen.push(found);
            }
        }
        Ok(join_all(calls.into_iter().map(|call| self.perform(call, options))).await)
    }

    /// Runs every provider's connection check (`test-module`).
    pub async fn test_module(&self, using: Option<&[String]>) -> Vec<CallResult> {
        let providers = self.registry.providers().iter().filter(|provider| {
            provider.config.is_enabled()
                && using
                    .is_none_or(|names| names.iter().any(|n| n.eq_ignore_ascii_case(provider.id())))
        });
        let checks = providers.map(async |provider| {
            let started = Instant::now();
            let outcome = if !provider.is_configured() {
                Outcome::NotConfigured(provider.missing.clone())
            } else {
                match self.sandbox.check(&provider.module, Arc::clone(&provider.grant)).await {
                    Ok(Ok(())) => Outcome::Answered(CommandOutput {
                        raw: "\"ok\"".to_owned(),
                        context: String::new(),
                        assessments: Vec::new(),
                        readable: None,
                    }),
                    Ok(Err(error)) => Outcome::Refused(error),
                    Err(failure) => Outcome::Failed(failure),
                }
            };
            self.result(provider, "test-module", None, outcome, started)
        });
        join_all(checks).await
    }

    pub(crate) fn plan<'a>(
        &self,
        provider: &'a Provider,
        request: CommandRequest,
        indicator: Option<Indicator>,
        skip: Option<Outcome>,
    ) -> Call<'a> {
        let skip = skip.or_else(|| {
            (!provider.is_configured()).then(|| Outcome::NotConfigured(provider.missing.clone()))
        });
        Call { provider, request, indicator, skip }
    }

    pub(crate) async fn perform(&self, call: Call<'_>, options: CallOptions) -> CallResult {
        let started = Instant::now();
        let command = call.request.command.clone();
        let (outcome, stats, cache_hit) = match call.skip {
            Some(outcome) => {
                self.scheduler.record_skipped(call.provider, &call.request, &outcome);
                (outcome, CallStats::default(), false)
            }
            None => {
                let scheduled =
                    self.scheduler.call(&self.sandbox, call.provider, call.request, options).await;
                (scheduled.outcome, scheduled.stats, scheduled.cache_hit)
            }
        };
        let mut result = self.result(call.provider, &command, call.indicator, outcome, started);
        result.stats = stats;
        result.cache_hit = cache_hit;
        tracing::info!(
            provider = %result.provider,
            command = %result.command,
            kind = result.indicator.as_ref().map(|i| kind_name(i.kind)).unwrap_or("-"),
            status = outcome_name(&result.outcome),
            cache_hit,
            latency_ms = result.elapsed.as_secs_f64() * 1000.0,
            "provider call"
        );
        result
    }

    fn result(
        &self,
        provider: &Provider,
        command: &str,
        indicator: Option<Indicator>,
        outcome: Outcome,
        started: Instant,
    ) -> CallResult {
        let manifest = &provider.module.manifest;
        let spec = provider.command(command);
        CallResult {
            provider: manifest.id.clone(),
            version: manifest.version.clone(),
            brand: manifest.brand.clone(),
            command: command.to_owned(),
            context: spec
                .map(|spec| (spec.context_path.clone(), spec.key_field.clone()))
                .unwrap_or_default(),
            indicator,
            reliability: crate::scoring::reliability_text(
                provider.config.reliability.as_deref(),
                manifest.reliability,
            ),
            secret_vars: manifest
                .secrets
                .iter()
                .map(|secret| crate::config::secret_env_var(&manifest.id, &secret.name))
                .collect(),
            outcome,
            elapsed: started.elapsed(),
            stats: CallStats::default(),
            cache_hit: false,
        }
    }

    fn unknown_command(&self, name: &str) -> CommandError {
        let names = self.registry.command_names();
        // A name that holds what was typed (`vt-ip` in `vt-ip-scan`) is the
        // better guess; only then one that the typed name holds, which a
        // short alias such as `ip` nearly always is.
        let close = names
            .iter()
            .find(|known| known.contains(name))
            .or_else(|| names.iter().find(|known| name.contains(known.as_str())));
        let hint = match close {
            Some(known) => format!("; did you mean !{known}?"),
            None if names.is_empty() => {
                "; no providers are loaded (run `cargo xtask build`)".to_owned()
            }
            None => "; `ferret providers list` shows the commands".to_owned(),
        };
        CommandError::UnknownCommand { name: name.to_owned(), hint }
    }

    fn wrong_kind(
        &self,
        command: &str,
        value: &str,
        kind: Kind,
        accepted: &[IndicatorKind],
    ) -> CommandError {
        let wanted = wit_kind(kind);
        let reputation = match kind {
            Kind::Ipv4 | Kind::Ipv6 => "ip",
            Kind::Domain => "domain",
            Kind::Url => "url",
            Kind::Md5 | Kind::Sha1 | Kind::Sha256 | Kind::Sha512 => "file",
            Kind::Email => "email",
            Kind::Cidr => "",
        };
        let mut alternatives: Vec<String> = self
            .registry
            .providers()
            .iter()
            .filter(|provider| provider.config.is_enabled())
            .flat_map(|provider| provider.module.manifest.commands.iter())
            .filter(|spec| spec.kinds.contains(&wanted))
            .map(|spec| {
                if spec.aliases.iter().any(|alias| alias == reputation) {
                    reputation.to_owned()
                } else {
                    spec.name.clone()
                }
            })
            .collect();
        alternatives.sort();
        alternatives.dedup();
        let hint = match alternatives.first() {
            Some(other) => format!("; use !{other} for {}", kind_plural(kind)),
            None => String::new(),
        };
        let name = kind_name(wanted);
        CommandError::WrongKind {
            command: command.to_owned(),
            value: value.to_owned(),
            article: if matches!(name.as_bytes()[0], b'a' | b'e' | b'i' | b'o' | b'u') {
                "an"
            } else {
                "a"
            },
            kind: if kind == Kind::Cidr { "CIDR network" } else { name },
            accepted: accepted.iter().map(|kind| kind_name(*kind)).collect::<Vec<_>>().join(", "),
            hint,
        }
    }
}

/// `using` / `using-brand`, as a list.
fn using(line: &CommandLine) -> Option<Vec<String>> {
    line.arguments.iter().find(|(name, _)| name == "using-brand" || name == "using").map(
        |(_, value)| match value {
            RawValue::Text(text) => split_list(text),
            RawValue::List(items) => items.clone(),
        },
    )
}

/// The `tlp` argument, when given; the error is [`CommandError::Tlp`]'s
/// text.
fn tlp_argument(line: &CommandLine) -> Result<Option<Tlp>, String> {
    let Some((_, RawValue::Text(text))) = line.arguments.iter().find(|(name, _)| name == "tlp")
    else {
        return Ok(None);
    };
    text.parse::<Tlp>().map(Some).map_err(|error| error.to_string())
}

/// The gate's view of a provider: internal or not, and its TLP ceiling.
/// Without a configured ceiling a provider may receive up to TLP:AMBER.
/// The error is [`CommandError::Tlp`]'s text.
pub(crate) fn provider_policy(provider: &Provider) -> Result<ProviderPolicy, String> {
    let max_tlp = match &provider.config.max_tlp {
        Some(text) => text
            .parse::<Tlp>()
            .map_err(|error| format!("providers.{}.max_tlp: {error}", provider.id()))?,
        None => Tlp::Amber,
    };
    Ok(ProviderPolicy { internal: provider.config.internal, max_tlp })
}

/// The contract's kind for an indicators-crate kind.
pub fn wit_kind(kind: Kind) -> IndicatorKind {
    match kind {
        Kind::Ipv4 => IndicatorKind::Ipv4,
        Kind::Ipv6 => IndicatorKind::Ipv6,
        Kind::Cidr => IndicatorKind::Cidr,
        Kind::Domain => IndicatorKind::Domain,
        Kind::Url => IndicatorKind::Url,
        Kind::Email => IndicatorKind::Email,
        Kind::Md5 => IndicatorKind::Md5,
        Kind::Sha1 => IndicatorKind::Sha1,
        Kind::Sha256 => IndicatorKind::Sha256,
        Kind::Sha512 => IndicatorKind::Sha512,
    }
}

/// The contract's name of a kind.
pub fn kind_name(kind: IndicatorKind) -> &'static str {
    match kind {
        IndicatorKind::Ipv4 => "ipv4",
        IndicatorKind::Ipv6 => "ipv6",
        IndicatorKind::Cidr => "cidr",
        IndicatorKind::Domain => "domain",
        IndicatorKind::Url => "url",
        IndicatorKind::Email => "email",
        IndicatorKind::Md5 => "md5",
        IndicatorKind::Sha1 => "sha1",
        IndicatorKind::Sha256 => "sha256",
        IndicatorKind::Sha512 => "sha512",
    }
}

fn kind_plural(kind: Kind) -> &'static str {
    match kind {
        Kind::Ipv4 | Kind::Ipv6 => "IP addresses",
        Kind::Cidr => "CIDR networks",
        Kind::Domain => "domains",
        Kind::Url => "URLs",
        Kind::Email => "e-mail addresses",
        Kind::Md5 | Kind::Sha1 | Kind::Sha256 | Kind::Sha512 => "file hashes",
    }
}

/// A short name of an outcome, for logs and JSON.
pub fn outcome_name(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Answered(_) => "answered",
        Outcome::NotFound => "not-found",
        Outcome::NotSent(_) => "not-sent",
        Outcome::NotConfigured(_) => "not-configured",
        Outcome::Refused(_) => "provider-error",
        Outcome::Failed(_) => "sandbox-failure",
        Outcome::QuotaExhausted { .. } => "quota-exhausted",
    }
}

//! Builders for the manifest, so a provider's description reads as a list
//! of its commands rather than as nested records.

use crate::{
    ArgumentSpec, CommandSpec, IndicatorKind, Manifest, OutputSpec, RateLimits, Reliability,
    SecretPlacement, SecretSpec, SettingSpec,
};

/// Builds a [`Manifest`].
#[derive(Debug, Clone)]
pub struct ManifestBuilder {
    manifest: Manifest,
}

impl ManifestBuilder {
    /// A provider with the given id, brand and upstream base URL. The
    /// version defaults to the crate's own; reliability to `C - Fairly
    /// reliable`, XSOAR's usual default for enrichment sources.
    pub fn new(id: &str, brand: &str, base_url: &str) -> Self {
        Self {
            manifest: Manifest {
                id: id.to_owned(),
                brand: brand.to_owned(),
                version: "0.1.0".to_owned(),
                description: String::new(),
                reliability: Reliability::C,
                base_url: base_url.to_owned(),
                hosts: Vec::new(),
                secrets: Vec::new(),
                settings: Vec::new(),
                limits: RateLimits { per_second: None, per_minute: None, per_day: None },
                commands: Vec::new(),
            },
        }
    }

    /// The provider's version; pass `env!("CARGO_PKG_VERSION")`.
    pub fn version(mut self, version: &str) -> Self {
        self.manifest.version = version.to_owned();
        self
    }

    /// One line on what the provider does.
    pub fn description(mut self, text: &str) -> Self {
        self.manifest.description = text.to_owned();
        self
    }

    /// Default reliability of the source.
    pub fn reliability(mut self, reliability: Reliability) -> Self {
        self.manifest.reliability = reliability;
        self
    }

    /// Another host the provider may reach besides the base URL's.
    pub fn host(mut self, host: &str) -> Self {
        self.manifest.hosts.push(host.to_owned());
        self
    }

    /// A credential the host adds at `placement`.
    pub fn secret(mut self, name: &str, placement: SecretPlacement, description: &str) -> Self {
        self.manifest.secrets.push(SecretSpec {
            name: name.to_owned(),
            placement,
            description: description.to_owned(),
        });
        self
    }

    /// A non-secret setting, with its default if it has one.
    pub fn setting(mut self, name: &str, default: Option<&str>, description: &str) -> Self {
        self.manifest.settings.push(SettingSpec {
            name: name.to_owned(),
            default_value: default.map(str::to_owned),
            description: description.to_owned(),
        });
        self
    }

    /// Default rate limits: per second, per minute and per day.
    pub fn limits(
        mut self,
        per_second: Option<u32>,
        per_minute: Option<u32>,
        per_day: Option<u32>,
    ) -> Self {
        self.manifest.limits = RateLimits { per_second, per_minute, per_day };
        self
    }

    /// A command.
    pub fn command(mut self, command: CommandBuilder) -> Self {
        self.manifest.commands.push(command.spec);
        self
    }

    /// The finished manifest.
    pub fn build(self) -> Manifest {
        self.manifest
    }
}

/// Builds a [`CommandSpec`].
#[derive(Debug, Clone)]
pub struct CommandBuilder {
    spec: CommandSpec,
}

impl CommandBuilder {
    /// A command with no arguments yet.
    pub fn new(name: &str, description: &str) -> Self {
        Self {
            spec: CommandSpec {
                name: name.to_owned(),
                aliases: Vec::new(),
                description: description.to_owned(),
                arguments: Vec::new(),
                indicator_argument: None,
                kinds: Vec::new(),
                context_path: String::new(),
                key_field: String::new(),
                outputs: Vec::new(),
            },
        }
    }

    /// Another name that runs this command, such as the reputation
    /// command `ip`.
    pub fn alias(mut self, name: &str) -> Self {
        self.spec.aliases.push(name.to_owned());
        self
    }

    /// The argument that carries the indicators, of the given kinds: a
    /// required list argument that a bare value binds to. The host calls
    /// the provider once per indicator.
    pub fn indicator(mut self, name: &str, description: &str, kinds: &[IndicatorKind]) -> Self {
        self.spec.arguments.push(ArgumentSpec {
            name: name.to_owned(),
            description: description.to_owned(),
            required: true,
            default_value: None,
            is_array: true,
            is_default: true,
            predefined: Vec::new(),
        });
        self.spec.indicator_argument = Some(name.to_owned());
        self.spec.kinds = kinds.to_vec();
        self
    }

    /// Another argument.
    pub fn argument(mut self, argument: ArgumentBuilder) -> Self {
        self.spec.arguments.push(argument.spec);
        self
    }

    /// Where the vendor context goes and which field identifies an entry,
    /// e.g. `("AbuseIPDB", "IP.Address")`.
    pub fn context(mut self, path: &str, key_field: &str) -> Self {
        self.spec.context_path = path.to_owned();
        self.spec.key_field = key_field.to_owned();
        self
    }

    /// A context path the command writes, for the integration YAML. `path`
    /// is relative to the command's context path unless it starts with
    /// `/`, which marks a full path (e.g. `/DBotScore.Score`).
    pub fn output(mut self, path: &str, value_type: &str, description: &str) -> Self {
        let context_path = match path.strip_prefix('/') {
            Some(full) => full.to_owned(),
            None => format!("{}.{path}", self.spec.context_path),
        };
        self.spec.outputs.push(OutputSpec {
            context_path,
            description: description.to_owned(),
            value_type: value_type.to_owned(),
        });
        self
    }
}

/// Builds an [`ArgumentSpec`].
#[derive(Debug, Clone)]
pub struct ArgumentBuilder {
    spec: ArgumentSpec,
}

impl ArgumentBuilder {
    /// An optional single-valued argument.
    pub fn new(name: &str, description: &str) -> Self {
        Self {
            spec: ArgumentSpec {
                name: name.to_owned(),
                description: description.to_owned(),
                required: false,
                default_value: None,
                is_array: false,
                is_default: false,
                predefined: Vec::new(),
            },
        }
    }

    /// The command fails without it.
    pub fn required(mut self) -> Self {
        self.spec.required = true;
        self
    }

    /// A bare value binds to it.
    pub fn default_argument(mut self) -> Self {
        self.spec.is_default = true;
        self
    }

    /// It takes a list.
    pub fn list(mut self) -> Self {
        self.spec.is_array = true;
        self
    }

    /// The value when the argument is absent.
    pub fn default_value(mut self, value: &str) -> Self {
        self.spec.default_value = Some(value.to_owned());
        self
    }

    /// The only values allowed.
    pub fn one_of(mut self, values: &[&str]) -> Self {
        self.spec.predefined = values.iter().map(|value| (*value).to_owned()).collect();
        self
    }
}

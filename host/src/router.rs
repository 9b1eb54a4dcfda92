//! The providers loaded, and which of them answer a command.
//!
//! Built-in modules come from the built-in folder, drop-in modules from
//! the operator's `providers_dir`; a drop-in module replaces a built-in one
//! with the same id. Nothing here names a provider: every module is
//! treated alike.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};

use crate::config::{Config, ProviderConfig};
use crate::sandbox::{CommandSpec, Grant, Manifest, Module, Sandbox, missing_secrets};

/// A loaded provider with the operator's grant.
pub struct Provider {
    /// The compiled module and its manifest.
    pub module: Module,
    /// What it may do.
    pub grant: Arc<Grant>,
    /// The operator's table for it.
    pub config: ProviderConfig,
    /// What the operator has yet to set; nothing when it is ready.
    pub missing: Missing,
}

/// What an operator has yet to set before a provider can be asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Missing {
    /// Environment variables of the secrets it needs and lacks.
    pub secrets: Vec<String>,
    /// Whether it waits for the operator's `base_url`: its manifest's own
    /// is a placeholder (see [`needs_base_url`]).
    pub base_url: bool,
}

impl Missing {
    /// Whether nothing is missing.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty() && !self.base_url
    }

    /// What to set, in a few words: `FERRET_VIRUSTOTAL_API_KEY`, or
    /// `base_url in [providers.misp] and FERRET_MISP_API_KEY`.
    pub fn summary(&self, id: &str) -> String {
        let mut parts = Vec::new();
        if self.base_url {
            parts.push(format!("base_url in [providers.{id}]"));
        }
        parts.extend(self.secrets.iter().cloned());
        parts.join(" and ")
    }
}

/// Whether `manifest`'s provider waits for the operator's `base_url`: the
/// manifest's own lies under `.invalid`, the top-level name reserved for
/// names that never resolve. A provider for a service each operator runs
/// (MISP) ships such a placeholder; asking it would only fail on DNS.
pub fn needs_base_url(manifest: &Manifest, config: &Config) -> bool {
    if config.provider(&manifest.id).base_url.is_some() {
        return false;
    }
    let host = url::Url::parse(&manifest.base_url)
        .ok()
        .and_then(|url| url.host_str().map(str::to_ascii_lowercase));
    host.is_some_and(|host| host == "invalid" || host.ends_with(".invalid"))
}

impl Provider {
    /// The provider's id.
    pub fn id(&self) -> &str {
        &self.module.manifest.id
    }

    /// Whether everything it needs is set.
    pub fn is_configured(&self) -> bool {
        self.missing.is_empty()
    }

    /// The command of this provider called `name`, directly or by alias.
    pub fn command(&self, name: &str) -> Option<&CommandSpec> {
        self.module
            .manifest
            .commands
            .iter()
            .find(|spec| spec.name == name || spec.aliases.iter().any(|alias| alias == name))
    }
}

/// Every provider loaded.
pub struct Registry {
    providers: Vec<Provider>,
}

impl Registry {
    /// Loads the built-in folder, then the drop-in folder.
    pub async fn load(sandbox: &Sandbox, config: &Config) -> Result<Self> {
        let mut modules: Vec<Module> = Vec::new();
        let builtin = config.builtin_dir.clone().or_else(default_builtin_dir);
        for (dir, drop_in) in [(builtin, false), (config.providers_dir.clone(), true)] {
            let Some(dir) = dir else { continue };
            if !dir.is_dir() {
                if drop_in {
                    bail!("providers_dir {} is not a folder", dir.display());
                }
                tracing::warn!(folder = %dir.display(), "no built-in providers folder");
                continue;
            }
            for module in load_folder(sandbox, &dir).await? {
                if let Some(at) = modules.iter().position(|m| m.manifest.id == module.manifest.id) {
                    tracing::info!(
                        provider = %module.manifest.id,
                        replaced = %modules[at].origin.display(),
                        by = %module.origin.display(),
                        "drop-in module replaces a built-in one"
                    );
                    modules[at] = module;
                } else {
                    modules.push(module);
                }
            }
        }
        Self::from_modules(modules, config)
    }

    /// Loads exactly the given module files, as `--provider` does.
    pub async fn load_files(sandbox: &Sandbox, config: &Config, files: &[PathBuf]) -> Result<Self> {
        let mut modules: Vec<Module> = Vec::new();
        for file in files {
            modules.push(load_file(sandbox, file).await?);
        }
        Self::from_modules(modules, config)
    }

    /// Grants already loaded modules under `config`.
    pub fn from_modules(modules: Vec<Module>, config: &Config) -> Result<Self> {
        let mut providers = Vec::new();
        for module in modules {
            if providers.iter().any(|p: &Provider| p.id() == module.manifest.id) {
                bail!("two modules declare provider id `{}`", module.manifest.id);
            }
            let table = config.provider(&module.manifest.id);
            let grant = Grant::new(&module.manifest, config)?;
            let missing = Missing {
                secrets: missing_secrets(&module.manifest, config),
                base_url: needs_base_url(&module.manifest, config),
            };
            providers.push(Provider { grant: Arc::new(grant), config: table, missing, module });
        }
        Ok(Self { providers })
    }

    /// Every provider, enabled or not.
    pub fn providers(&self) -> &[Provider] {
        &self.providers
    }

    /// The enabled providers that answer `name`, with their command,
    /// narrowed to the brands or ids in `using` when given (XSOAR's
    /// `using-brand`).
    pub fn route(&self, name: &str, using: Option<&[String]>) -> Vec<(&Provider, &CommandSpec)> {
        self.providers
            .iter()
            .filter(|provider| provider.config.is_enabled())
            .filter(|provider| {
                using.is_none_or(|names| {
                    names.iter().any(|wanted| {
                        wanted.eq_ignore_ascii_case(provider.id())
                            || wanted.eq_ignore_ascii_case(&provider.module.manifest.brand)
                    })
                })
            })
            .filter_map(|provider| provider.command(name).map(|spec| (provider, spec)))
            .collect()
    }

    /// Names of every enabled command, aliases included, sorted.
    pub fn command_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .providers
            .iter()
            .filter(|provider| provider.config.is_enabled())
            .flat_map(|provider| provider.module.manifest.commands.iter())
            .flat_map(|spec| std::iter::once(spec.name.clone()).chain(spec.aliases.iter().cloned()))
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

/// `target/providers` for `target/release/ferret`: the `providers` folder
/// beside the binary's own folder.
fn default_builtin_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.parent()?.join("providers"))
}

/// Loads every `*.wasm` in `dir`, in name order. A module that fails to
/// load is reported and skipped, so one broken drop-in does not take the
/// others down.
async fn load_folder(sandbox: &Sandbox, dir: &Path) -> Result<Vec<Module>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("failed to list providers folder {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "wasm"))
        .collect();
    files.sort();
    let mut modules: Vec<Module> = Vec::new();
    for file in files {
        match load_file(sandbox, &file).await {
            Ok(module) if modules.iter().any(|m| m.manifest.id == module.manifest.id) => {
                bail!(
                    "{} declares provider id `{}`, already loaded from this folder",
                    file.display(),
                    module.manifest.id
                );
            }
            Ok(module) => modules.push(module),
            Err(error) => tracing::error!("skipping provider module: {error:#}"),
        }
    }
    Ok(modules)
}

async fn load_file(sandbox: &Sandbox, file: &Path) -> Result<Module> {
    let bytes = std::fs::read(file)
        .with_context(|| format!("failed to read provider module {}", file.display()))?;
    sandbox.load(&bytes, file).await
}

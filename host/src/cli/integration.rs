//! `ferret integration yaml|write`: the Cortex XSOAR integration YAML for
//! the enabled providers.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use ferret_host::config::Config;
use ferret_host::integration::{self, Integration, brand_file_name};
use ferret_host::router::{Provider, Registry};
use ferret_host::sandbox::Manifest;

/// The bridge's file name in the integration folder.
const BRIDGE: &str = "ferret.py";

/// Prints one YAML document, or writes it to `output`.
pub async fn yaml(
    config: &Config,
    brand: Option<&str>,
    output: Option<&Path>,
    script: Option<&Path>,
) -> Result<ExitCode> {
    let registry = super::load_registry(config).await?;
    let script = script.map(read_script).transpose()?;
    let document = match brand {
        Some(wanted) => integration::branded(find_brand(&registry, wanted)?, script.as_deref()),
        None => integration::combined(&enabled(&registry), script.as_deref())?,
    };
    let text = document.to_yaml()?;
    match output {
        Some(path) => write(path, &text)?,
        None => out!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes `Ferret.yml` and `brands/<Brand>.yml` for every enabled provider
/// into `dir`, inlining `dir/ferret.py` when it is there.
pub async fn write_all(config: &Config, dir: &Path) -> Result<ExitCode> {
    let registry = super::load_registry(config).await?;
    let bridge = dir.join(BRIDGE);
    let script = bridge.is_file().then(|| read_script(&bridge)).transpose()?;
    let manifests = enabled(&registry);

    let mut documents: Vec<(String, Integration)> = vec![(
        format!("{}.yml", integration::FERRET_ID),
        integration::combined(&manifests, script.as_deref())?,
    )];
    for manifest in &manifests {
        let name = format!("brands/{}", brand_file_name(&manifest.brand));
        documents.push((name, integration::branded(manifest, script.as_deref())));
    }
    for (name, document) in documents {
        let path = dir.join(&name);
        write(&path, &document.to_yaml()?)?;
        outln!("{}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn enabled(registry: &Registry) -> Vec<&Manifest> {
    registry
        .providers()
        .iter()
        .filter(|provider| provider.config.is_enabled())
        .map(|provider| &provider.module.manifest)
        .collect()
}

/// The enabled provider whose id or brand is `wanted`, in any case.
fn find_brand<'a>(registry: &'a Registry, wanted: &str) -> Result<&'a Manifest> {
    let matches = |provider: &&Provider| {
        wanted.eq_ignore_ascii_case(provider.id())
            || wanted.eq_ignore_ascii_case(&provider.module.manifest.brand)
    };
    match registry.providers().iter().find(matches) {
        Some(provider) if provider.config.is_enabled() => Ok(&provider.module.manifest),
        Some(provider) => {
            bail!("provider `{}` is disabled in the configuration", provider.id())
        }
        None => {
            let ids: Vec<&str> = registry.providers().iter().map(Provider::id).collect();
            bail!("no provider `{wanted}` is loaded; loaded: {}", ids.join(", "))
        }
    }
}

fn read_script(path: &Path) -> Result<String> {
    std::fs::read_to_string(path)
        .with_context(|| format!("failed to read the bridge script {}", path.display()))
}

fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("failed to create {}", parent.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("failed to write {}", path.display()))
}

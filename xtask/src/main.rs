//! Ferret's build tool, run as `cargo xtask <command>`.
//!
//! It builds the `ferret` host natively and every provider and guest
//! fixture as a WebAssembly component: each crate is compiled to a core
//! module for `wasm32-unknown-unknown` and wrapped with `wit-component`, as
//! `wasm-tools component new` would, then checked to import nothing but the
//! `ferret:provider` interfaces.
//!
//! Commands:
//!
//! - `build`: the host (release) and every component.
//! - `components [package...]`: only the components, all of them or the
//!   named packages, for quick iteration on a provider.
//! - `test`: `build`, then the native tests of every crate but the guest
//!   fixtures and this tool, in release mode so they reuse the host's
//!   build of wasmtime.
//!
//! Components land in `target/providers/<id>.wasm` (package
//! `ferret-provider-<id>`) and `target/guests/<name>.wasm` (package
//! `guest-<name>`), under cargo's target directory.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use serde_json::Value;

const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// The cargo profile components build with (see the workspace manifest).
const WASM_PROFILE: &str = "wasm";

/// Debian's `rustc-web`, `cargo-web`, `rust-web-src` and `lld-22`: a rustc
/// that can build the standard library for the wasm target from source.
const DEBIAN_CARGO: &str = "/usr/bin/cargo";
const DEBIAN_RUSTC: &str = "/usr/bin/rustc";
const DEBIAN_LLVM_BIN: &str = "/usr/lib/llvm-22/bin";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let mut args = env::args().skip(1);
    let command = args.next().unwrap_or_default();
    let mut workspace = Workspace::load()?;
    match command.as_str() {
        "build" => {
            build_host()?;
            build_components(&workspace)
        }
        "components" => {
            workspace.select_components(&args.collect::<Vec<_>>())?;
            build_components(&workspace)
        }
        "test" => {
            build_host()?;
            build_components(&workspace)?;
            test_native(&workspace)
        }
        _ => bail!(
            "unknown command `{command}`; use `cargo xtask build`, `cargo xtask components` \
             or `cargo xtask test`"
        ),
    }
}

/// The workspace as `cargo metadata` describes it.
struct Workspace {
    root: PathBuf,
    target_dir: PathBuf,
    /// Native crates: the host, the libraries, the SDK, this tool and the
    /// providers (whose unit tests run natively).
    native: Vec<String>,
    /// Crates built as components.
    components: Vec<ComponentCrate>,
    /// The WIT package the components must import from, e.g.
    /// `ferret:provider@0.1.0`.
    wit_package: String,
}

/// A crate built to a component, and where its component goes.
struct ComponentCrate {
    package: String,
    /// The core module's file name, from the crate's library target.
    module_file: String,
    /// Where the component is written.
    output: PathBuf,
}

impl Workspace {
    fn load() -> Result<Self> {
        let output = Command::new(cargo())
            .args(["metadata", "--no-deps", "--format-version", "1"])
            .output()
            .context("running cargo metadata")?;
        ensure!(
            output.status.success(),
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
        let metadata: Value =
            serde_json::from_slice(&output.stdout).context("reading cargo metadata's output")?;

        let root = PathBuf::from(string_field(&metadata, "workspace_root")?);
        let target_dir = PathBuf::from(string_field(&metadata, "target_directory")?);
        let members: Vec<&str> = metadata["workspace_members"]
            .as_array()
            .context("cargo metadata lists no workspace members")?
            .iter()
            .filter_map(Value::as_str)
            .collect();

        let mut native = Vec::new();
        let mut components = Vec::new();
        for package in metadata["packages"].as_array().into_iter().flatten() {
            let id = string_field(package, "id")?;
            if !members.contains(&id) {
                continue;
            }
            let name = string_field(package, "name")?;
            let manifest = Path::new(string_field(package, "manifest_path")?);
            let dir = manifest.parent().unwrap_or(manifest);
            let relative = dir.strip_prefix(&root).unwrap_or(dir);

            let output = if relative.starts_with("tests/guests") {
                let stem = name.strip_prefix("guest-").unwrap_or(name);
                target_dir.join("guests").join(format!("{stem}.wasm"))
            } else if relative.starts_with("providers") && relative != Path::new("providers/sdk") {
                native.push(name.to_owned());
                let stem = name.strip_prefix("ferret-provider-").unwrap_or(name);
                target_dir.join("providers").join(format!("{stem}.wasm"))
            } else {
                native.push(name.to_owned());
                continue;
            };
            components.push(ComponentCrate {
                package: name.to_owned(),
                module_file: format!("{}.wasm", library_name(package)?.replace('-', "_")),
                output,
            });
        }
        components.sort_by(|a, b| a.package.cmp(&b.package));

        let wit_package = wit_package(&root.join("wit/provider.wit"))?;
        Ok(Self { root, target_dir, native, components, wit_package })
    }
}

impl Workspace {
    /// Keeps only the named component crates; no names keeps them all.
    fn select_components(&mut self, names: &[String]) -> Result<()> {
        if let Some(unknown) =
            names.iter().find(|name| !self.components.iter().any(|c| &c.package == *name))
        {
            bail!("`{unknown}` is not a provider or guest fixture package");
        }
        if !names.is_empty() {
            self.components.retain(|c| names.contains(&c.package));
        }
        Ok(())
    }
}

fn string_field<'a>(value: &'a Value, key: &str) -> Result<&'a str> {
    value[key].as_str().with_context(|| format!("cargo metadata has no `{key}`"))
}

/// The name of a package's library target: the core module's file stem.
fn library_name(package: &Value) -> Result<&str> {
    let name = string_field(package, "name")?;
    package["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|target| {
            target["kind"].as_array().is_some_and(|kinds| kinds.iter().any(|kind| kind == "cdylib"))
        })
        .and_then(|target| target["name"].as_str())
        .with_context(|| format!("{name} has no cdylib target, so it cannot be a component"))
}

/// The WIT package name and version, read from the `package` line of
/// `wit/provider.wit`, so a version bump needs no change here.
fn wit_package(file: &Path) -> Result<String> {
    let text = fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    text.lines()
        .find_map(|line| line.trim().strip_prefix("package "))
        .map(|rest| rest.trim_end_matches(';').trim().to_owned())
        .with_context(|| format!("{} has no `package` line", file.display()))
}

/// The cargo that runs this tool, i.e. the machine's default one.
fn cargo() -> String {
    env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

fn build_host() -> Result<()> {
    step("building the host (release)");
    let started = Instant::now();
    let mut command = Command::new(cargo());
    command.args(["build", "--release", "-p", "ferret-host"]);
    run_command(&mut command).context("building the host")?;
    done(started);
    Ok(())
}

/// How this machine builds for `wasm32-unknown-unknown`.
enum Toolchain {
    /// rustup with the target installed.
    Rustup,
    /// Debian's rustc-web: the standard library built from source with
    /// `-Zbuild-std`, linked by LLVM's `wasm-ld`.
    DebianBuildStd,
}

impl Toolchain {
    fn detect() -> Result<Self> {
        let rustup_has_target = Command::new("rustup")
            .args(["target", "list", "--installed"])
            .output()
            .is_ok_and(|output| {
                output.status.success()
                    && String::from_utf8_lossy(&output.stdout).lines().any(|l| l == WASM_TARGET)
            });
        if rustup_has_target {
            return Ok(Self::Rustup);
        }

        let sysroot = Command::new(DEBIAN_RUSTC)
            .args(["--print", "sysroot"])
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
        let has_std_source =
            sysroot.is_some_and(|root| root.join("lib/rustlib/src/rust/library").is_dir());
        let has_linker = Path::new(DEBIAN_LLVM_BIN).join("wasm-ld").is_file();
        if Path::new(DEBIAN_CARGO).is_file() && has_std_source && has_linker {
            return Ok(Self::DebianBuildStd);
        }

        bail!(
            "no toolchain for {WASM_TARGET}: either `rustup target add {WASM_TARGET}`, or on \
             Debian `apt-get install rustc-web cargo-web rust-web-src lld-22` (found: rustup \
             target {}, {DEBIAN_CARGO} {}, std source {}, {DEBIAN_LLVM_BIN}/wasm-ld {})",
            "no",
            yes_no(Path::new(DEBIAN_CARGO).is_file()),
            yes_no(has_std_source),
            yes_no(has_linker),
        )
    }

    /// The cargo command that builds the given packages as core modules,
    /// and the target directory they land in.
    fn build_command(&self, workspace: &Workspace, packages: &[&str]) -> (Command, PathBuf) {
        let mut args = vec!["build", "--profile", WASM_PROFILE, "--target", WASM_TARGET];
        let (mut command, target_dir) = match self {
            Self::Rustup => (Command::new(cargo()), workspace.target_dir.clone()),
            Self::DebianBuildStd => {
                // A different rustc builds these, so they get their own
                // target directory rather than invalidating the host's.
                let target_dir = workspace.target_dir.join("wasm");
                let path = env::var("PATH").unwrap_or_default();
                let mut command = Command::new(DEBIAN_CARGO);
                command
                    .env("PATH", format!("{DEBIAN_LLVM_BIN}:{path}"))
                    .env("RUSTC_BOOTSTRAP", "1")
                    .env("RUSTC", DEBIAN_RUSTC)
                    .env("CARGO_TARGET_DIR", &target_dir)
                    // rustup's proxies would otherwise pick their toolchain.
                    .env_remove("RUSTUP_TOOLCHAIN");
                args.push("-Zbuild-std=std,panic_abort");
                (command, target_dir)
            }
        };
        command.current_dir(&workspace.root).args(args);
        for package in packages {
            command.args(["-p", package]);
        }
        (command, target_dir)
    }
}

impl std::fmt::Display for Toolchain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Rustup => write!(f, "rustup's {WASM_TARGET} target"),
            Self::DebianBuildStd => write!(
                f,
                "Debian's rustc-web with -Zbuild-std ({DEBIAN_CARGO}, wasm-ld from \
                 {DEBIAN_LLVM_BIN})"
            ),
        }
    }
}

fn yes_no(found: bool) -> &'static str {
    if found { "yes" } else { "no" }
}

fn build_components(workspace: &Workspace) -> Result<()> {
    ensure!(!workspace.components.is_empty(), "the workspace has no providers or guest fixtures");
    let toolchain = Toolchain::detect()?;
    step(&format!("building {} wasm crate(s) with {toolchain}", workspace.components.len()));

    // One cargo invocation for all of them, so shared dependencies (the
    // SDK, serde, the standard library itself) compile once.
    let started = Instant::now();
    let packages: Vec<&str> = workspace.components.iter().map(|c| c.package.as_str()).collect();
    let (mut command, target_dir) = toolchain.build_command(workspace, &packages);
    run_command(&mut command).context("building the wasm crates")?;
    done(started);

    let modules = target_dir.join(WASM_TARGET).join(WASM_PROFILE);
    for krate in &workspace.components {
        let module = modules.join(&krate.module_file);
        let size = componentize(&module, &krate.output, &workspace.wit_package)
            .with_context(|| format!("making a component of {}", krate.package))?;
        let shown = krate.output.strip_prefix(&workspace.root).unwrap_or(&krate.output);
        eprintln!("  {} ({} KiB)", shown.display(), size.div_ceil(1024));
    }
    Ok(())
}

/// Wraps a core module into a component at `output`, after checking it
/// imports only the `ferret:provider` interfaces; returns its size.
fn componentize(module: &Path, output: &Path, wit_package: &str) -> Result<usize> {
    let bytes = fs::read(module).with_context(|| format!("reading {}", module.display()))?;
    // wit-bindgen embeds the world in a custom section; the encoder reads
    // it from there.
    let component = wit_component::ComponentEncoder::default()
        .module(&bytes)
        .context("reading the module's component-type section")?
        .validate(true)
        .encode()
        .context("encoding the component")?;

    check_imports(&component, wit_package)?;

    let dir = output.parent().context("output path has no folder")?;
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    fs::write(output, &component).with_context(|| format!("writing {}", output.display()))?;
    Ok(component.len())
}

/// Fails unless every import of the component is an interface of
/// `wit_package` (`ferret:provider/<name>@<version>`): no WASI, no stray
/// functions, no other package or version.
fn check_imports(component: &[u8], wit_package: &str) -> Result<()> {
    let decoded = wit_component::decode(component).context("decoding the component")?;
    let wit_component::DecodedWasm::Component(resolve, world) = &decoded else {
        bail!("the encoder produced a WIT package, not a component");
    };
    let (namespace_name, version) = wit_package
        .split_once('@')
        .with_context(|| format!("WIT package `{wit_package}` has no version"))?;

    let stray: Vec<String> = resolve.worlds[*world]
        .imports
        .keys()
        .map(|key| resolve.name_world_key(key))
        .filter(|name| {
            let allowed = name
                .strip_prefix(namespace_name)
                .and_then(|rest| rest.strip_prefix('/'))
                .and_then(|rest| rest.strip_suffix(version))
                .is_some_and(|rest| rest.ends_with('@'));
            !allowed
        })
        .collect();
    ensure!(
        stray.is_empty(),
        "the component imports more than {wit_package}: {}",
        stray.join(", ")
    );
    Ok(())
}

/// Runs the native tests: every workspace crate but the guest fixtures and
/// this tool, the providers included (wit-bindgen compiles natively, with
/// imports that cannot be called).
///
/// `--release` reuses the host's release build of wasmtime; a debug build
/// would compile it a second time. This tool stays out for the same
/// reason: it has no tests, and its `wit-component` would turn on features
/// of `wasmparser` that wasmtime shares, so cargo would rebuild wasmtime.
fn test_native(workspace: &Workspace) -> Result<()> {
    let packages: Vec<&String> =
        workspace.native.iter().filter(|name| *name != env!("CARGO_PKG_NAME")).collect();
    step(&format!("testing {} native crates (release)", packages.len()));
    let started = Instant::now();
    let mut command = Command::new(cargo());
    command.current_dir(&workspace.root).args(["test", "--release"]);
    for package in packages {
        command.args(["-p", package]);
    }
    run_command(&mut command).context("running the tests")?;
    done(started);
    Ok(())
}

fn run_command(command: &mut Command) -> Result<()> {
    let status =
        command.status().with_context(|| format!("starting {:?}", command.get_program()))?;
    ensure!(status.success(), "{:?} exited with {status}", command.get_program());
    Ok(())
}

fn step(what: &str) {
    eprintln!("xtask: {what}");
}

fn done(started: Instant) {
    eprintln!("xtask: done in {:.1}s", started.elapsed().as_secs_f64());
}

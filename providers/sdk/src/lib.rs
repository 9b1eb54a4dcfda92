//! The kit for writing a Ferret provider.
//!
//! A provider is a WebAssembly component that the `ferret` host runs in a
//! sandbox: it describes itself with a [`Manifest`], builds requests for its
//! upstream, and maps the answers to context and verdicts. This crate hides
//! the bindings generated from the `ferret:provider` WIT package: implement
//! [`Provider`] and call [`register!`].
//!
//! ```text
//! use ferret_provider_sdk::prelude::*;
//! use serde_json::Value;
//!
//! struct Echo;
//!
//! impl Provider for Echo {
//!     fn manifest() -> Manifest {
//!         ManifestBuilder::new("echo", "Echo", "https://echo.example")
//!             .command(
//!                 CommandBuilder::new("echo-ip", "Echoes what the upstream says of an IP.")
//!                     .indicator("ip", "Addresses to look up.", &[IndicatorKind::Ipv4]),
//!             )
//!             .build()
//!     }
//!
//!     fn run(request: CommandRequest) -> Result<CommandOutput, ProviderError> {
//!         let answer = Request::get("/ip").query("q", request.value("ip")).send()?;
//!         Ok(Output::new().raw(&answer.success_json::<Value>()?).build())
//!     }
//!
//!     fn check() -> Result<(), ProviderError> {
//!         Request::get("/ping").send()?.expect_success()
//!     }
//! }
//!
//! register!(Echo);
//! ```
//!
//! `providers/README.md` is the author's guide: the manifest, requests and
//! errors, output and verdicts, building the component and trying it.

mod errors;
mod http;
mod manifest;
mod output;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

/// The bindings generated from `wit/`. Providers use the re-exports instead.
#[doc(hidden)]
pub mod bindings {
    // The generated glue lifts and lowers values across the component
    // boundary with raw pointers; that is the only unsafe code a provider
    // contains, and it is generated, not written.
    #![allow(unsafe_code)]

    wit_bindgen::generate!({
        path: "../../wit",
        world: "ferret-provider",
        pub_export_macro: true,
        export_macro_name: "export_provider",
        default_bindings_module: "ferret_provider_sdk::bindings",
        generate_all,
    });
}

pub use bindings::ferret::provider::types::{
    Argument, ArgumentSpec, Assessment, CommandOutput, CommandRequest, CommandSpec, Indicator,
    IndicatorKind, Manifest, OutputSpec, ProviderError, RateLimits, Reliability, SecretPlacement,
    SecretSpec, SettingSpec, Table, UpstreamFailure, Verdict,
};
pub use errors::{rate_limited_from, status_error};
pub use http::{Request, Response};
pub use manifest::{ArgumentBuilder, CommandBuilder, ManifestBuilder};
pub use output::{Output, assess, without_nulls};

/// What a provider implements. The host calls these through the component
/// boundary; [`register!`] connects them.
pub trait Provider {
    /// Describes the provider: its commands, hosts, secrets and limits.
    fn manifest() -> Manifest;

    /// Runs one command; the host has already validated the arguments.
    fn run(request: CommandRequest) -> Result<CommandOutput, ProviderError>;

    /// Makes the cheapest authenticated call to check the set-up.
    fn check() -> Result<(), ProviderError>;
}

impl<T: Provider> bindings::exports::ferret::provider::provider::Guest for T {
    fn describe() -> Manifest {
        T::manifest()
    }

    fn run(request: CommandRequest) -> Result<CommandOutput, ProviderError> {
        report_panics();
        T::run(request)
    }

    fn check() -> Result<(), ProviderError> {
        report_panics();
        T::check()
    }
}

/// Sends a panic's message to the host's log before the module aborts.
///
/// A module built for `wasm32-unknown-unknown` has nowhere to print, so
/// without this the host would see a bare trap; with it, the host reports
/// the panic message as the provider's failure.
fn report_panics() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            log(LogLevel::Error, &format!("panic: {info}"));
        }));
    });
}

/// Exports a type implementing [`Provider`] as the component's provider.
#[macro_export]
macro_rules! register {
    ($provider:ident) => {
        $crate::bindings::export_provider!($provider with_types_in $crate::bindings);
    };
}

/// Reads a non-secret setting: the operator's value, else the manifest's
/// default, else `None`.
pub fn setting(key: &str) -> Option<String> {
    bindings::ferret::provider::config::get(key)
}

/// Reads a numeric setting, falling back to `default` when it is unset.
///
/// A value that is not a number is an [`ProviderError::InvalidInput`] naming
/// the setting, so a typo in the operator's configuration is not silently
/// replaced by the default.
pub fn setting_u32(key: &str, default: u32) -> Result<u32, ProviderError> {
    match setting(key) {
        None => Ok(default),
        Some(text) => text.trim().parse().map_err(|_| {
            ProviderError::InvalidInput(format!(
                "setting `{key}` must be a whole number, not `{text}`"
            ))
        }),
    }
}

/// Writes a diagnostic line to the host's log.
pub fn log(level: LogLevel, message: &str) {
    bindings::ferret::provider::log::write(level, message);
}

pub use bindings::ferret::provider::log::Level as LogLevel;

impl CommandRequest {
    /// The first value of an argument, or `""` when it has none.
    pub fn value(&self, name: &str) -> &str {
        self.values(name).first().map(String::as_str).unwrap_or("")
    }

    /// Every value of an argument; empty when it has none.
    pub fn values(&self, name: &str) -> &[String] {
        self.arguments
            .iter()
            .find(|argument| argument.name == name)
            .map(|argument| argument.values.as_slice())
            .unwrap_or(&[])
    }

    /// The first value of an argument, or `None` when it is absent or empty.
    pub fn optional(&self, name: &str) -> Option<&str> {
        Some(self.value(name)).filter(|value| !value.is_empty())
    }

    /// A yes/no argument, read as XSOAR reads booleans: `true`, `false`,
    /// `yes` or `no` in any case; `None` when it is absent. Any other text
    /// is an [`ProviderError::InvalidInput`] naming the argument.
    pub fn flag(&self, name: &str) -> Result<Option<bool>, ProviderError> {
        match self.optional(name).map(str::to_ascii_lowercase).as_deref() {
            None => Ok(None),
            Some("true" | "yes") => Ok(Some(true)),
            Some("false" | "no") => Ok(Some(false)),
            Some(other) => Err(ProviderError::InvalidInput(format!(
                "argument `{name}` must be true, false, yes or no, not `{other}`"
            ))),
        }
    }

    /// A whole-number argument; `None` when it is absent. Any other text is
    /// an [`ProviderError::InvalidInput`] naming the argument.
    pub fn number(&self, name: &str) -> Result<Option<u64>, ProviderError> {
        self.optional(name)
            .map(|text| {
                text.trim().parse().map_err(|_| {
                    ProviderError::InvalidInput(format!(
                        "argument `{name}` must be a whole number, not `{text}`"
                    ))
                })
            })
            .transpose()
    }

    /// The indicator this call is about. Commands with an
    /// `indicator-argument` always get one; for others this is an
    /// [`ProviderError::InvalidInput`].
    pub fn indicator(&self) -> Result<&Indicator, ProviderError> {
        self.indicator.as_ref().ok_or_else(|| {
            ProviderError::InvalidInput(format!("command `{}` takes no indicator", self.command))
        })
    }
}

/// Everything a provider usually needs, in one import.
pub mod prelude {
    pub use crate::{
        ArgumentBuilder, Assessment, CommandBuilder, CommandOutput, CommandRequest, Indicator,
        IndicatorKind, LogLevel, Manifest, ManifestBuilder, Output, Provider, ProviderError,
        Reliability, Request, Response, SecretPlacement, Verdict, assess, log, register, setting,
        setting_u32, status_error, without_nulls,
    };
}

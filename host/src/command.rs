//! XSOAR commands: the text of a command line or its JSON form, and its
//! arguments bound to what a provider's command declares.

mod bind;
mod json;
mod parse;

pub use bind::{BindError, bind_arguments, split_list};
pub use json::{RequestError, command_line_from_json};
pub use parse::{CommandLine, ParseError, RawValue, parse_command_line};

/// Arguments XSOAR itself adds to any command; they steer the platform,
/// not the integration. `using` and `using-brand` choose providers; the
/// rest are accepted and ignored.
pub const SYSTEM_ARGUMENTS: &[&str] = &[
    "using",
    "using-brand",
    "using-category",
    "execution-timeout",
    "extend-context",
    "ignore-outputs",
    "raw-response",
    "retry-count",
    "retry-interval",
];

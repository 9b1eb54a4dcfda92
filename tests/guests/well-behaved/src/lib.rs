//! Well-behaved fixture: a small, correct provider.
//!
//! `echo` (brand `Echo`, base URL `https://echo.example`) answers:
//!
//! - `echo-ip` (alias `ip`, indicator argument `ip`, IPv4 or IPv6): GETs
//!   `/echo?ip=<value>` and returns the JSON body as raw, a context object
//!   under `Echo` keyed by `Address`, and an assessment whose verdict comes
//!   from the body's `verdict` (`malicious`, `suspicious`, `benign`,
//!   anything else `unknown`) and whose score is the body's `score`.
//! - `echo-setting`: returns `{"greeting": <setting greeting>}` as raw; the
//!   setting defaults to `hello`.
//!
//! Expected: every command succeeds against a fake upstream, including a
//! command run right after a hostile fixture stopped. The host benchmark
//! uses it as the cheapest real call.

use ferret_provider_sdk::prelude::*;
use serde_json::{Value, json};

struct Echo;

impl Provider for Echo {
    fn manifest() -> Manifest {
        ManifestBuilder::new("echo", "Echo", "https://echo.example")
            .version(env!("CARGO_PKG_VERSION"))
            .description("echoes what its upstream says about an address")
            .setting("greeting", Some("hello"), "returned by echo-setting")
            .command(
                CommandBuilder::new("echo-ip", "asks the upstream about an address")
                    .alias("ip")
                    .indicator("ip", "the address", &[IndicatorKind::Ipv4, IndicatorKind::Ipv6])
                    .context("Echo", "Address")
                    .output("Address", "String", "the address asked about")
                    .output("Verdict", "String", "the upstream's verdict"),
            )
            .command(CommandBuilder::new("echo-setting", "returns the `greeting` setting"))
            .build()
    }

    fn run(request: CommandRequest) -> Result<CommandOutput, ProviderError> {
        match request.command.as_str() {
            "echo-ip" => echo_ip(&request),
            "echo-setting" => {
                let raw = json!({ "greeting": ferret_provider_sdk::setting("greeting") });
                Ok(Output::new().raw(&raw).build())
            }
            other => Err(ProviderError::InvalidInput(format!("unknown command `{other}`"))),
        }
    }

    fn check() -> Result<(), ProviderError> {
        Request::get("/ping").send()?.expect_success()
    }
}

fn echo_ip(request: &CommandRequest) -> Result<CommandOutput, ProviderError> {
    let indicator = request.indicator()?;
    let body: Value = Request::get("/echo").query("ip", &indicator.value).send()?.success_json()?;

    let verdict = match body["verdict"].as_str() {
        Some("malicious") => Verdict::Malicious,
        Some("suspicious") => Verdict::Suspicious,
        Some("benign") => Verdict::Benign,
        _ => Verdict::Unknown,
    };
    let score = body["score"].as_u64().map(|score| score.min(100) as u8);
    let context = json!({
        "Address": indicator.value,
        "Verdict": body["verdict"],
        "Score": body["score"],
    });
    Ok(Output::new()
        .raw(&body)
        .context(context)
        .assessment(assess(indicator, verdict, score, "the upstream's own verdict"))
        .build())
}

register!(Echo);

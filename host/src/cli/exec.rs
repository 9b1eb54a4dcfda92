//! `ferret exec`: one request `{"command", "args"}` on standard input, the
//! body `POST /v1/execute` would answer on standard output. The XSOAR
//! bridge uses it where the binary sits beside the integration.

use std::process::ExitCode;

use anyhow::{Context, Result};
use serde_json::Value;
use tokio::io::AsyncReadExt;

use ferret_host::config::Config;
use ferret_host::dispatch::Ferret;
use ferret_host::serve::{self, malformed_json};

use super::EXIT_REFUSED;

pub async fn exec(config: &Config) -> Result<ExitCode> {
    let mut input = Vec::new();
    tokio::io::stdin()
        .read_to_end(&mut input)
        .await
        .context("failed to read the request from standard input")?;
    let answer = match serde_json::from_slice::<Value>(&input) {
        Ok(request) => serve::answer(&Ferret::load(config).await?, &request).await,
        Err(error) => Err(malformed_json(&error)),
    };
    // Entries are the answer even when some are error entries, as with
    // HTTP's 200; only a refused request exits with a failure.
    let (body, code) = match answer {
        Ok(body) => (body, ExitCode::SUCCESS),
        Err(error) => (error.body(), ExitCode::from(EXIT_REFUSED)),
    };
    outln!("{body}");
    Ok(code)
}

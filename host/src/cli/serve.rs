//! `ferret serve`: the HTTP service until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::net::TcpListener;

use ferret_host::config::Config;
use ferret_host::dispatch::Ferret;
use ferret_host::serve::{self, Service, Settings};

pub async fn serve(config: &Config, listen: Option<&str>) -> Result<ExitCode> {
    let text = listen.unwrap_or(&config.serve.listen);
    let address: SocketAddr = text.parse().with_context(|| {
        format!("listen address `{text}` is not an address and port such as 127.0.0.1:8700")
    })?;
    let settings = Settings::from_config(config);
    serve::check_exposure(address, settings.token.as_ref())?;

    let ferret = Arc::new(Ferret::load(config).await?);
    let listener = TcpListener::bind(address)
        .await
        .with_context(|| format!("failed to listen on {address}"))?;
    let bound = listener.local_addr().context("failed to read the listening address")?;
    let auth = if settings.token.is_some() { "bearer token required" } else { "no token" };
    outln!("ferret {} serving on http://{bound} ({auth})", env!("CARGO_PKG_VERSION"));

    let store = Arc::clone(ferret.scheduler.store());
    serve::serve(listener, Service::new(ferret, settings), shutdown_signal()).await?;
    // The ledger and cache rows of the last requests may still be queued.
    store.flush();
    outln!("ferret stopped: every request in flight was answered");
    Ok(ExitCode::SUCCESS)
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {error}");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!("cannot listen for SIGTERM: {error}");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: no new connections, finishing requests in flight");
}

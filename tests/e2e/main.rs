//! Ferret's end-to-end tests: the host with real provider components and
//! hostile guest fixtures, against fake upstreams on loopback.
//!
//! Components come from `target/providers` and `target/guests`;
//! `cargo xtask test` builds them first (or run `cargo xtask build`).

// Shared set-up: module paths, the fake upstream, Ferret from TOML.
mod support;

// Hostile fixtures end in their named failure; the next command runs.
mod sandbox_limits;

// Every VirusTotal sample and the entry it gives.
mod virustotal;

// Every AbuseIPDB sample, and `!ip` against the real integration's shape.
mod abuseipdb;

// The other six providers: every sample, the request each one answers,
// the entry it gives.
mod malwarebazaar;
mod misp;
mod passivetotal;
mod safebrowsing;
mod shodan;
mod urlscan;

// Refusals, fan-out failures, the policy gate, secrets, contract, redirects.
mod commands;

// The `ferret` binary: run, providers list, providers inspect.
mod cli;

// The HTTP service: entries, refusals, token, JSON errors, timeout, stop.
mod serve;

// The XSOAR bridge in Python, over HTTP and through `ferret exec`.
mod bridge;

// The XSOAR integration YAMLs: current with the providers, and their content.
mod integration_yaml;

// Context keys of the vendor and standard objects, one by one, against the
// real integrations' and the YAML's declarations.
mod context_keys;

// `providers test`: samples replayed, a missing recording, record then
// replay, credentials kept out of recordings, and the command line.
mod replay;

// Batch enrichment: duplicates, rate limits, pauses, single-flight, the
// cache and the daily quota across a restart.
mod enrich;

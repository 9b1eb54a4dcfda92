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

// Refusals, fan-out failures, the policy gate, secrets, contract, redirects.
mod commands;

// The `ferret` binary: run, providers list, providers inspect.
mod cli;

// Batch enrichment: duplicates, rate limits, pauses, single-flight, the
// cache and the daily quota across a restart.
mod enrich;

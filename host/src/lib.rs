//! Ferret's host: runs threat-intel providers as sandboxed WebAssembly
//! components and answers Cortex XSOAR commands with XSOAR entries.
//!
//! The modules follow the data flow, one stage each:
//!
//! - [`command`]: an XSOAR command line, parsed and bound to a command's
//!   declared arguments;
//! - [`router`]: which loaded providers answer a command;
//! - [`sandbox`]: compiling modules and running each call under its limits;
//! - [`dispatch`]: one command end to end, indicator by indicator;
//! - [`scoring`]: verdicts as DBot scores and reliability grades;
//! - [`output`]: XSOAR entries, tables and JSON;
//! - [`serve`]: the HTTP service, XSOAR commands as JSON.
//!
//! [`config`] holds the operator's settings; [`integration`] writes the
//! Cortex XSOAR integration YAML from the providers' manifests; [`replay`]
//! runs a module against recorded exchanges, or records them, for testing
//! without keys.

#![forbid(unsafe_code)]

/// Every call parses and builds JSON values of a few kilobytes and drops
/// them again, from several threads at once; mimalloc serves such small,
/// short-lived allocations with less locking and fewer system calls than
/// the platform's allocator. Set here, in the library, so that the
/// `ferret` binary, the tests and the benchmarks measure the same host.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod command;
pub mod config;
pub mod dispatch;
pub mod enrich;
pub mod integration;
pub mod metrics;
pub mod output;
pub mod replay;
pub mod router;
pub mod sandbox;
pub mod schedule;
pub mod scoring;
pub mod serve;
pub mod store;

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
//! - [`output`]: XSOAR entries, tables and JSON.
//!
//! [`config`] holds the operator's settings.

#![forbid(unsafe_code)]

pub mod command;
pub mod config;
pub mod dispatch;
pub mod enrich;
pub mod metrics;
pub mod output;
pub mod router;
pub mod sandbox;
pub mod schedule;
pub mod scoring;
pub mod store;

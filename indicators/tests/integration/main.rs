//! The integration tests of `ferret-indicators`, one binary:
//!
//! - `cases`: every indicator-layer case of Ferret's list of inputs that
//!   broke other tools (K01-K17), named after its case;
//! - `samples`: exactly what comes out of the real-shaped inputs in the
//!   repository's `examples/` folder;
//! - `properties`: proptest properties (no panic on any bytes, normalising
//!   is idempotent, defang then refang is the identity);
//! - `fuzz`: a bounded, deterministic mutation fuzzer that runs on stable.

mod cases;
mod fuzz;
mod properties;
mod samples;

use ferret_indicators::{Batch, Kind};

/// Each occurrence of a batch as (kind, value, where, original, port).
pub fn occurrences(batch: &Batch) -> Vec<(&'static str, String, String, String, Option<u16>)> {
    batch
        .entries()
        .iter()
        .flat_map(|entry| {
            entry.occurrences.iter().map(|o| {
                (
                    entry.indicator.kind.as_str(),
                    entry.indicator.value.clone(),
                    o.location.to_string(),
                    o.original.clone(),
                    o.port,
                )
            })
        })
        .collect()
}

/// The distinct indicators of a batch as (kind, value), in order.
pub fn entries(batch: &Batch) -> Vec<(Kind, String)> {
    batch
        .entries()
        .iter()
        .map(|entry| (entry.indicator.kind, entry.indicator.value.clone()))
        .collect()
}

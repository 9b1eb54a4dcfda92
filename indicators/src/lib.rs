//! Ferret's indicator layer: find the indicators of compromise in messy
//! input, read them right, and decide which may leave the building.
//!
//! Every batch Ferret enriches starts as text: a SIEM alert, a phishing
//! email, a CSV feed, an analyst's paste with defanged links. This crate is
//! the first stage of Ferret's data flow:
//!
//! ```text
//! input -> indicators -> router -> scheduler -> sandbox -> scoring -> output
//!          ^^^^^^^^^^
//!          extract, refang, classify, normalise, dedupe, policy
//! ```
//!
//! - [`extract`] (or [`extract_text`], [`extract_json`], [`extract_email`],
//!   [`extract_csv`]) turns an input into a [`Batch`]: one [`Entry`] per
//!   normalised indicator, with every place it occurred and the input's TLP
//!   label.
//! - [`classify`] reads one value, such as a command argument, into an
//!   [`Indicator`] of a [`Kind`], or says why it cannot.
//! - [`refang`] and [`defang`] undo and apply defanging.
//! - [`policy::Gate`] decides, per indicator and provider, whether the
//!   indicator may be sent: not when it is a non-routable address (unless
//!   the provider is internal), not above the provider's TLP maximum, not
//!   when the operator allow-listed it.
//!
//! The crate does no I/O apart from [`policy::IndicatorList::load`], and
//! does not depend on the host, so it can be tested, fuzzed and benchmarked
//! alone. Its result types are `serde::Serialize`, for the host's JSON
//! output.

#![forbid(unsafe_code)]

mod batch;
mod classify;
mod extract;
mod kind;
pub mod policy;
mod refang;
mod scan;

pub use batch::{Batch, Entry, Format, Location, Occurrence};
pub use classify::{ClassifyError, classify};
pub use extract::{
    ExtractError, extract, extract_csv, extract_email, extract_json, extract_text, sniff,
};
pub use kind::{Indicator, Kind, preferred_hash};
pub use policy::Tlp;
pub use refang::{defang, refang};

//! A batch of extracted indicators: one entry per normalised (kind, value),
//! each with every place it occurred, in first-seen order.

use std::collections::HashMap;
use std::fmt;

use serde::{Serialize, Serializer};

use crate::kind::{Indicator, Kind};
use crate::policy::Tlp;

/// The kind of input a batch was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Free text: an analyst's paste, a log, a report.
    Text,
    /// A SIEM alert as JSON (Splunk, Elastic, Sentinel), or JSON lines.
    Json,
    /// A phishing email as `.eml` (RFC 5322 with MIME).
    Email,
    /// A CSV (or tab-separated) feed.
    Csv,
}

/// Where in the input an indicator was found.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Location {
    /// A line of free text, 1-based.
    Line(u32),
    /// A JSON value, as a path: `source.ip`, `Entities[2].Address`,
    /// `result._raw`.
    Field(String),
    /// An email header: `From`, `Reply-To`, `Return-Path`, `Received[0]`
    /// (the top-most Received header is 0).
    Header(String),
    /// A line of an email's text body, or of the text of its HTML body.
    Body {
        /// The HTML body rather than the plain text one.
        html: bool,
        /// 1-based line number within that body.
        line: u32,
    },
    /// An attribute of an element of the HTML body, e.g. `a[href]`.
    HtmlAttribute(String),
    /// A digest of an email attachment's decoded bytes.
    Attachment {
        /// The attachment's file name, or `(unnamed)`.
        name: String,
    },
    /// A cell of a CSV feed.
    Cell {
        /// 1-based row number in the file, the header being row 1.
        row: u64,
        /// The column's header, or its 1-based number without a header.
        column: String,
    },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line(line) => write!(f, "line {line}"),
            Location::Field(path) => f.write_str(path),
            Location::Header(name) => write!(f, "header {name}"),
            Location::Body { html: false, line } => write!(f, "text body, line {line}"),
            Location::Body { html: true, line } => write!(f, "html body, line {line}"),
            Location::HtmlAttribute(attribute) => write!(f, "html body, {attribute}"),
            Location::Attachment { name } => write!(f, "attachment {name}"),
            Location::Cell { row, column } => write!(f, "row {row}, column {column}"),
        }
    }
}

/// Serialised as its display text, the "where found" column of a report.
impl Serialize for Location {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// One place an indicator occurred.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Occurrence {
    /// Where.
    pub location: Location,
    /// The text as written there, before refanging and normalising.
    pub original: String,
    /// A port written with the indicator there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

/// One distinct indicator and everywhere it occurred.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The normalised indicator; its `port` is always `None` (ports are per
    /// occurrence).
    #[serde(flatten)]
    pub indicator: Indicator,
    /// Every occurrence, in input order.
    pub occurrences: Vec<Occurrence>,
}

/// The indicators of one input, deduplicated.
#[derive(Debug, Clone, Serialize)]
pub struct Batch {
    format: Format,
    #[serde(skip_serializing_if = "Option::is_none")]
    tlp: Option<Tlp>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
    entries: Vec<Entry>,
    /// Per kind, each value's position in `entries`.
    #[serde(skip)]
    index: [HashMap<String, usize>; Kind::ALL.len()],
}

impl Batch {
    /// An empty batch for input of `format`.
    pub fn new(format: Format) -> Self {
        Batch {
            format,
            tlp: None,
            warnings: Vec::new(),
            entries: Vec::new(),
            index: Default::default(),
        }
    }

    /// The format the input was read as.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The most restrictive TLP label found on the input, if any.
    pub fn tlp(&self) -> Option<Tlp> {
        self.tlp
    }

    /// Things worth telling the operator, such as "the input is not valid
    /// JSON; it was read as text".
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The distinct indicators, in first-seen order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entry for a normalised (kind, value), if the batch has one.
    pub fn get(&self, kind: Kind, value: &str) -> Option<&Entry> {
        let at = self.index[kind as usize].get(value)?;
        Some(&self.entries[*at])
    }

    /// The number of distinct indicators.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no indicator was found.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Add one occurrence of `indicator`, merging it with an earlier one of
    /// the same kind and value. The indicator's port moves to the
    /// occurrence.
    pub fn add(&mut self, mut indicator: Indicator, location: Location, original: &str) {
        let occurrence =
            Occurrence { location, original: original.to_owned(), port: indicator.port.take() };
        let index = &mut self.index[indicator.kind as usize];
        if let Some(&at) = index.get(&indicator.value) {
            let entry = &mut self.entries[at];
            if entry.indicator.display.is_none() {
                entry.indicator.display = indicator.display;
            }
            entry.occurrences.push(occurrence);
            return;
        }
        index.insert(indicator.value.clone(), self.entries.len());
        self.entries.push(Entry { indicator, occurrences: vec![occurrence] });
    }

    /// Record a TLP label found on the input; the most restrictive stays.
    pub fn note_tlp(&mut self, tlp: Tlp) {
        self.tlp = self.tlp.max(Some(tlp));
    }

    /// Record a warning for the operator.
    pub fn warn(&mut self, warning: impl Into<String>) {
        self.warnings.push(warning.into());
    }
}

impl PartialEq for Batch {
    fn eq(&self, other: &Self) -> bool {
        self.format == other.format
            && self.tlp == other.tlp
            && self.warnings == other.warnings
            && self.entries == other.entries
    }
}

//! Extraction: from an input of some format to a [`Batch`].
//!
//! [`extract`] sniffs the format when not told; each format also has its
//! own function. The string values of every format go through the same
//! free-text scanner (`scan`), so an indicator reads the same wherever it is
//! found.

mod csv;
mod email;
mod json;

use thiserror::Error;

use crate::batch::{Batch, Format, Location};
use crate::policy::find_tlp;
use crate::scan::{Found, scan};

pub use self::csv::extract_csv;
pub use self::email::extract_email;
pub use self::json::extract_json;

/// An input could not be read as the format asked for.
#[derive(Debug, Error)]
pub enum ExtractError {
    /// Not valid JSON (nor JSON lines).
    #[error("reading the alert as JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Not a MIME message.
    #[error("reading the email: not an RFC 5322 message")]
    Email,
    /// Not a CSV file.
    #[error("reading the CSV feed: {0}")]
    Csv(#[from] ::csv::Error),
}

/// Extract every indicator from `input`.
///
/// `hint` names the format; without it the format is sniffed (see
/// [`sniff`]). An input that is not valid in its format is read as free
/// text, with a warning on the batch, so a damaged alert still yields what
/// it holds. Never panics, whatever the bytes.
pub fn extract(input: &[u8], hint: Option<Format>) -> Batch {
    let format = hint.unwrap_or_else(|| sniff(input));
    let result = match format {
        Format::Text => return extract_text(&String::from_utf8_lossy(input)),
        Format::Json => extract_json(input),
        Format::Email => extract_email(input),
        Format::Csv => extract_csv(input),
    };
    result.unwrap_or_else(|err| {
        let mut batch = extract_text(&String::from_utf8_lossy(input));
        batch.warn(format!("{err}; read as free text instead"));
        batch
    })
}

/// Guess the format of `input` from its first bytes: JSON if it opens with
/// `{` or `[`; an email if it opens with mail headers (at least two of
/// `From`, `To`, `Subject`, `Date`, `Received`, `Return-Path`,
/// `Message-ID`, `MIME-Version`, `Delivered-To`); CSV if its first lines
/// split into the same number (two or more) of comma, tab or semicolon
/// separated fields, the first of them a header without indicators; text
/// otherwise.
pub fn sniff(input: &[u8]) -> Format {
    let input = input.strip_prefix(b"\xef\xbb\xbf").unwrap_or(input);
    let start = input.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(input.len());
    let head = &input[start..input.len().min(start + 8192)];
    let head = String::from_utf8_lossy(head);

    if head.starts_with('{') || head.starts_with('[') {
        return Format::Json;
    }
    if looks_like_email(&head) {
        return Format::Email;
    }
    if csv::looks_like_csv(&head) {
        return Format::Csv;
    }
    Format::Text
}

fn looks_like_email(head: &str) -> bool {
    const NAMES: &[&str] = &[
        "from",
        "to",
        "subject",
        "date",
        "received",
        "return-path",
        "message-id",
        "mime-version",
        "delivered-to",
    ];
    let mut known = 0;
    for (index, line) in head.lines().enumerate() {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) || (index == 0 && line.starts_with("From ")) {
            continue;
        }
        let Some((name, _)) = line.split_once(':') else {
            return false;
        };
        let is_header_name =
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !is_header_name {
            return false;
        }
        if NAMES.iter().any(|known| known.eq_ignore_ascii_case(name)) {
            known += 1;
        }
    }
    known >= 2
}

/// Extract every indicator from free text; locations are line numbers.
pub fn extract_text(text: &str) -> Batch {
    let mut batch = Batch::new(Format::Text);
    scan_into(&mut batch, text, &mut |found| Location::Line(found.line));
    batch
}

/// Scan `text` into `batch`, placing each find with `locate`, and note any
/// TLP marking in it.
pub(crate) fn scan_into(
    batch: &mut Batch,
    text: &str,
    locate: &mut dyn FnMut(&Found<'_>) -> Location,
) {
    if let Some(tlp) = find_tlp(text) {
        batch.note_tlp(tlp);
    }
    scan(text, &mut |found| {
        let location = locate(&found);
        batch.add(found.indicator, location, found.original);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_sniffed() {
        assert_eq!(sniff(b"  {\"src\": \"8.8.8.8\"}"), Format::Json);
        assert_eq!(
            sniff(b"Received: from x\nFrom: a@example.com\nSubject: hi\n\nbody"),
            Format::Email
        );
        assert_eq!(sniff(b"indicator,type\n8.8.8.8,ip\nexample.com,domain\n"), Format::Csv);
        assert_eq!(sniff(b"Note: blocked 8.8.8.8, and example.com.\n"), Format::Text);
    }

    #[test]
    fn a_damaged_alert_is_read_as_text() {
        let batch = extract(b"{\"src\": \"8.8.8.8\", ", None);
        assert_eq!(batch.format(), Format::Text);
        assert_eq!(batch.entries()[0].indicator.value, "8.8.8.8");
        assert!(batch.warnings()[0].starts_with("reading the alert as JSON"));
    }
}

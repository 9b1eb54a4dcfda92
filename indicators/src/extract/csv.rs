//! CSV feeds: find the columns that hold indicators, read those.
//!
//! A column holds indicators when its header names one (`indicator`,
//! `ioc`, `ip`, `domain`, `url`, `sha256`, ...) or when at least half of its
//! first hundred non-empty cells classify as a whole. Other columns
//! (descriptions, dates, sources) are left alone, so a feed's prose does
//! not add indicators it only mentions. A feed with no such column is
//! scanned cell by cell.

use crate::batch::{Batch, Format, Location};
use crate::classify::classify;
use crate::extract::{ExtractError, scan_into};

/// Header names of indicator columns, compared case-insensitively with
/// spaces, dashes and underscores removed.
const INDICATOR_HEADERS: &[&str] = &[
    "indicator",
    "ioc",
    "iocvalue",
    "observable",
    "value",
    "ip",
    "ipaddress",
    "ipv4",
    "ipv6",
    "srcip",
    "dstip",
    "cidr",
    "network",
    "domain",
    "hostname",
    "host",
    "fqdn",
    "url",
    "uri",
    "link",
    "email",
    "sender",
    "md5",
    "sha1",
    "sha256",
    "sha512",
    "hash",
    "filehash",
];

/// Rows looked at to decide which columns hold indicators.
const SAMPLE_ROWS: usize = 100;

/// Whether the start of an input looks like a CSV feed with a header.
pub(crate) fn looks_like_csv(head: &str) -> bool {
    let mut lines = head.lines().filter(|line| !line.trim().is_empty()).take(5);
    let Some(header) = lines.next() else {
        return false;
    };
    let Some(delimiter) = delimiter_of(header) else {
        return false;
    };
    let fields = header.split(delimiter as char).count();
    let header_has_indicators =
        header.split(delimiter as char).any(|cell| classify(cell.trim().trim_matches('"')).is_ok());
    let rest: Vec<&str> = lines.collect();
    fields >= 2
        && !header_has_indicators
        && !rest.is_empty()
        && rest.iter().all(|line| line.split(delimiter as char).count() == fields)
}

/// The delimiter the header line uses most: comma, tab or semicolon.
fn delimiter_of(header: &str) -> Option<u8> {
    [b',', b'\t', b';']
        .into_iter()
        .map(|d| (header.bytes().filter(|&b| b == d).count(), d))
        .filter(|(count, _)| *count > 0)
        .max_by_key(|(count, _)| *count)
        .map(|(_, d)| d)
}

/// Extract the indicators of a CSV feed whose first row is a header.
pub fn extract_csv(input: &[u8]) -> Result<Batch, ExtractError> {
    let text = String::from_utf8_lossy(input);
    let text = text.trim_start_matches('\u{feff}');
    let first_line = text.lines().next().unwrap_or_default();
    let delimiter = delimiter_of(first_line).unwrap_or(b',');
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes());

    let headers: Vec<String> = reader.headers()?.iter().map(|h| h.trim().to_owned()).collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        rows.push(record?);
    }
    let columns = indicator_columns(&headers, &rows);

    let mut batch = Batch::new(Format::Csv);
    for (index, record) in rows.iter().enumerate() {
        // The header is row 1, and a record may span lines; count records.
        let row = index as u64 + 2;
        for (column, cell) in record.iter().enumerate() {
            if !columns.is_empty() && !columns.contains(&column) {
                continue;
            }
            let location = Location::Cell {
                row,
                column: headers
                    .get(column)
                    .filter(|h| !h.is_empty())
                    .cloned()
                    .unwrap_or_else(|| (column + 1).to_string()),
            };
            match classify(cell) {
                Ok(indicator) => batch.add(indicator, location, cell.trim()),
                Err(_) => scan_into(&mut batch, cell, &mut |_| location.clone()),
            }
        }
    }
    Ok(batch)
}

fn indicator_columns(headers: &[String], rows: &[csv::StringRecord]) -> Vec<usize> {
    (0..headers.len())
        .filter(|&column| {
            let name: String = headers[column]
                .chars()
                .filter(|c| !matches!(c, ' ' | '-' | '_'))
                .collect::<String>()
                .to_ascii_lowercase();
            if INDICATOR_HEADERS.contains(&name.as_str()) {
                return true;
            }
            let cells: Vec<&str> = rows
                .iter()
                .filter_map(|row| row.get(column))
                .filter(|cell| !cell.trim().is_empty())
                .take(SAMPLE_ROWS)
                .collect();
            let hits = cells.iter().filter(|cell| classify(cell).is_ok()).count();
            !cells.is_empty() && hits * 2 >= cells.len()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_indicator_columns_are_read() {
        let feed = "first_seen,observable,description\n\
                    2024-05-01,hxxp://example[.]com/a,\"seen with example.org\"\n\
                    2024-05-02,8.8.8.8,resolver\n";
        let batch = extract_csv(feed.as_bytes()).expect("a csv feed");
        let found: Vec<(String, String)> = batch
            .entries()
            .iter()
            .map(|e| (e.indicator.value.clone(), e.occurrences[0].location.to_string()))
            .collect();
        assert_eq!(
            found,
            [
                ("http://example.com/a".to_owned(), "row 2, column observable".to_owned()),
                ("8.8.8.8".to_owned(), "row 3, column observable".to_owned()),
            ]
        );
    }
}

//! Markdown tables as XSOAR's `tableToMarkdown` writes them.

use serde_json::Value;

/// A table with a `###` title; cells escaped so that a `|` or a line
/// break in upstream data cannot break the table.
pub fn table(title: &str, headers: &[String], rows: &[Value]) -> String {
    let mut out = format!("### {title}\n");
    if rows.is_empty() {
        out.push_str("**No entries.**\n");
        return out;
    }
    out.push('|');
    for header in headers {
        out.push_str(&escape(header));
        out.push('|');
    }
    out.push_str("\n|");
    out.push_str(&"---|".repeat(headers.len()));
    out.push('\n');
    for row in rows {
        out.push('|');
        for header in headers {
            out.push(' ');
            out.push_str(&escape(&cell(row.get(header).unwrap_or(&Value::Null))));
            out.push_str(" |");
        }
        out.push('\n');
    }
    out
}

/// The text of one cell.
pub fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(", "),
        Value::Object(_) => value.to_string(),
        other => other.to_string(),
    }
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('|', "\\|").replace("\r\n", "<br>").replace('\n', "<br>")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cells_are_escaped() {
        let rows = [json!({"A": "x|y", "B": "line\nbreak", "C": ["p", "q"]})];
        let headers = ["A", "B", "C"].map(String::from);
        let expected = "### T\n|A|B|C|\n|---|---|---|\n| x\\|y | line<br>break | p, q |\n";
        assert_eq!(table("T", &headers, &rows), expected);
    }

    #[test]
    fn an_empty_table_says_so() {
        assert_eq!(table("T", &["A".to_owned()], &[]), "### T\n**No entries.**\n");
    }
}

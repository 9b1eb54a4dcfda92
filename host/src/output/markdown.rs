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
        push_escaped(&mut out, header);
        out.push('|');
    }
    out.push_str("\n|");
    out.push_str(&"---|".repeat(headers.len()));
    out.push('\n');
    for row in rows {
        out.push('|');
        for header in headers {
            out.push(' ');
            push_escaped(&mut out, &cell(row.get(header).unwrap_or(&Value::Null)));
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

/// Appends `text` with `\` and `|` escaped and line breaks as `<br>`.
fn push_escaped(out: &mut String, text: &str) {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '|' => out.push_str("\\|"),
            '\r' if chars.peek() == Some(&'\n') => {
                chars.next();
                out.push_str("<br>");
            }
            '\n' => out.push_str("<br>"),
            other => out.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cells_are_escaped() {
        let rows =
            [json!({"A": "x|y", "B": "line\r\nbreak\nagain", "C": ["p", "q"], "D": "a\\b\rc"})];
        let headers = ["A", "B", "C", "D"].map(String::from);
        let expected = "### T\n|A|B|C|D|\n|---|---|---|---|\n\
                        | x\\|y | line<br>break<br>again | p, q | a\\\\b\rc |\n";
        assert_eq!(table("T", &headers, &rows), expected);
    }

    #[test]
    fn an_empty_table_says_so() {
        assert_eq!(table("T", &["A".to_owned()], &[]), "### T\n**No entries.**\n");
    }
}

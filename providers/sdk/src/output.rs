//! Building a command's output: the raw answer, vendor context, verdicts
//! and an optional readable table.

use serde::Serialize;
use serde_json::Value;

use crate::{Assessment, CommandOutput, Indicator, Table, Verdict};

/// Builds a [`CommandOutput`].
#[derive(Debug, Default)]
pub struct Output {
    raw: Option<String>,
    context: Vec<Value>,
    assessments: Vec<Assessment>,
    readable: Option<Table>,
}

impl Output {
    /// An empty output.
    pub fn new() -> Self {
        Self::default()
    }

    /// The upstream's answer, shown as the entry's raw contents.
    pub fn raw(mut self, answer: &impl Serialize) -> Self {
        self.raw = Some(to_json(answer));
        self
    }

    /// One vendor context object, written under the command's context path.
    pub fn context(mut self, object: Value) -> Self {
        self.context.push(object);
        self
    }

    /// A verdict on an indicator.
    pub fn assessment(mut self, assessment: Assessment) -> Self {
        self.assessments.push(assessment);
        self
    }

    /// The readable table: a title, its columns and one JSON object a row.
    pub fn table(mut self, title: &str, headers: &[&str], rows: Vec<Value>) -> Self {
        self.readable = Some(Table {
            title: title.to_owned(),
            headers: headers.iter().map(|header| (*header).to_owned()).collect(),
            rows: to_json(&rows),
        });
        self
    }

    /// The finished output.
    pub fn build(self) -> CommandOutput {
        CommandOutput {
            raw: self.raw.unwrap_or_default(),
            context: if self.context.is_empty() { String::new() } else { to_json(&self.context) },
            assessments: self.assessments,
            readable: self.readable,
        }
    }
}

/// A verdict on `indicator` with the provider's 0-100 figure and a reason.
pub fn assess(
    indicator: &Indicator,
    verdict: Verdict,
    score: Option<u8>,
    reason: &str,
) -> Assessment {
    Assessment {
        indicator: indicator.clone(),
        verdict,
        score,
        reason: reason.to_owned(),
        standard_context: String::new(),
    }
}

impl Assessment {
    /// Adds fields to the standard indicator object, e.g. `Geo`.
    pub fn with_standard_context(mut self, fields: Value) -> Self {
        self.standard_context = to_json(&fields);
        self
    }
}

/// Drops null fields from an object and, at any depth, from the objects
/// it holds (arrays are kept as they are), as XSOAR's
/// `createContext(removeNull=True)` does: an upstream's `"os": null` is
/// left out of the context rather than written as null.
pub fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, value)| !value.is_null())
                .map(|(key, value)| (key, without_nulls(value)))
                .collect(),
        ),
        other => other,
    }
}

fn to_json(value: &impl Serialize) -> String {
    serde_json::to_string(value).expect("a JSON value always serialises")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nulls_go_at_every_depth_of_objects_but_arrays_stay() {
        let value = json!({"os": null, "geo": {"city": null, "country": "NL"},
                           "ports": [null, 80], "tags": []});
        assert_eq!(
            without_nulls(value),
            json!({"geo": {"country": "NL"}, "ports": [null, 80], "tags": []})
        );
        // Anything but an object is returned as it is.
        assert_eq!(without_nulls(Value::Null), Value::Null);
    }
}

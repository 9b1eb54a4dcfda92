//! A command as JSON, `{"command": "ip", "args": {"ip": "8.8.8.8"}}`: what
//! the HTTP service and `ferret exec` take, and what XSOAR hands an
//! integration (`demisto.command()`, `demisto.args()`). It becomes the same
//! [`CommandLine`] a typed command gives, so both bind alike.

use serde_json::Value;
use thiserror::Error;

use super::parse::{CommandLine, RawValue, is_command_name};

/// Why a JSON request is not a command.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum RequestError {
    /// The body is not an object.
    #[error("the request must be a JSON object such as {{\"command\": \"ip\", \"args\": {{}}}}")]
    NotAnObject,
    /// No `command` field.
    #[error("the request has no \"command\": name one, such as \"ip\"")]
    MissingCommand,
    /// `command` is not text or not a command name.
    #[error("\"command\" must be a command name such as \"ip\" or \"!ip\"")]
    BadCommand,
    /// `args` is not an object.
    #[error("\"args\" must be an object of argument names and values")]
    ArgsNotAnObject,
    /// A value that is neither text, a number, a boolean nor a list of
    /// those.
    #[error("argument \"{0}\" must be a string, a number, a boolean or a list of those")]
    BadValue(String),
    /// A field other than `command` and `args`.
    #[error("the request has an unknown field \"{0}\"; it takes \"command\" and \"args\"")]
    UnknownField(String),
}

/// Reads `{"command": ..., "args": {...}}`. The name may start with `!`;
/// `args` may be absent. Values are read as XSOAR's helpers read them:
/// text as given, numbers and booleans as their text (`30`, `true`), a
/// real list as a list; `null` counts as not given.
pub fn command_line_from_json(request: &Value) -> Result<CommandLine, RequestError> {
    let fields = request.as_object().ok_or(RequestError::NotAnObject)?;
    if let Some(unknown) = fields.keys().find(|key| !matches!(key.as_str(), "command" | "args")) {
        return Err(RequestError::UnknownField(unknown.clone()));
    }
    let name = match fields.get("command") {
        None | Some(Value::Null) => return Err(RequestError::MissingCommand),
        Some(Value::String(text)) => text.trim().strip_prefix('!').unwrap_or(text.trim()),
        Some(_) => return Err(RequestError::BadCommand),
    };
    if !is_command_name(name) {
        return Err(RequestError::BadCommand);
    }

    let mut arguments = Vec::new();
    match fields.get("args") {
        None | Some(Value::Null) => {}
        Some(Value::Object(args)) => {
            for (key, value) in args {
                let bad = || RequestError::BadValue(key.clone());
                let value = match value {
                    Value::Null => continue,
                    Value::Array(items) => RawValue::List(
                        items
                            .iter()
                            .filter(|item| !item.is_null())
                            .map(|item| scalar_text(item).ok_or_else(bad))
                            .collect::<Result<_, _>>()?,
                    ),
                    scalar => RawValue::Text(scalar_text(scalar).ok_or_else(bad)?),
                };
                arguments.push((key.clone(), value));
            }
        }
        Some(_) => return Err(RequestError::ArgsNotAnObject),
    }
    Ok(CommandLine { name: name.to_owned(), arguments, bare: Vec::new() })
}

/// A string, number or boolean as text; `None` for anything else.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::command::{bind_arguments, parse_command_line};
    use crate::sandbox::{Argument, ArgumentSpec, CommandSpec};

    fn text(value: &str) -> RawValue {
        RawValue::Text(value.to_owned())
    }

    #[test]
    fn strings_numbers_booleans_and_lists_become_arguments() {
        let line = command_line_from_json(&json!({
            "command": "!abuseipdb-check-ip",
            "args": {"ip": ["1.1.1.1", "8.8.8.8"], "days": 30, "verbose": false, "note": "a b",
                     "skipped": null}
        }))
        .unwrap();
        assert_eq!(line.name, "abuseipdb-check-ip");
        assert_eq!(
            line.arguments,
            vec![
                ("ip".to_owned(), RawValue::List(vec!["1.1.1.1".into(), "8.8.8.8".into()])),
                ("days".to_owned(), text("30")),
                ("verbose".to_owned(), text("false")),
                ("note".to_owned(), text("a b")),
            ]
        );
        assert!(line.bare.is_empty());
    }

    #[test]
    fn the_json_form_binds_as_the_typed_form_does() {
        let spec = CommandSpec {
            name: "check-ip".to_owned(),
            aliases: vec!["ip".to_owned()],
            description: String::new(),
            arguments: vec![
                ArgumentSpec {
                    name: "ip".to_owned(),
                    description: String::new(),
                    required: true,
                    default_value: None,
                    is_array: true,
                    is_default: true,
                    predefined: Vec::new(),
                },
                ArgumentSpec {
                    name: "days".to_owned(),
                    description: String::new(),
                    required: false,
                    default_value: Some("30".to_owned()),
                    is_array: false,
                    is_default: false,
                    predefined: Vec::new(),
                },
            ],
            indicator_argument: Some("ip".to_owned()),
            kinds: Vec::new(),
            context_path: String::new(),
            key_field: String::new(),
            outputs: Vec::new(),
        };
        let bound = |line: &CommandLine| -> Vec<(String, Vec<String>)> {
            let (arguments, _) = bind_arguments(&spec, line).unwrap();
            arguments.into_iter().map(|Argument { name, values }| (name, values)).collect()
        };
        let expected = vec![
            ("ip".to_owned(), vec!["1.1.1.1".to_owned(), "8.8.8.8".to_owned()]),
            ("days".to_owned(), vec!["7".to_owned()]),
        ];
        assert_eq!(bound(&parse_command_line("!ip ip=1.1.1.1,8.8.8.8 days=7").unwrap()), expected);
        // A comma-separated string, a JSON array text and a real list all
        // give the same two addresses; a number gives its text.
        for ip in [
            json!("1.1.1.1,8.8.8.8"),
            json!("[\"1.1.1.1\", \"8.8.8.8\"]"),
            json!(["1.1.1.1", "8.8.8.8"]),
        ] {
            let line =
                command_line_from_json(&json!({"command": "ip", "args": {"ip": ip, "days": 7}}))
                    .unwrap();
            assert_eq!(bound(&line), expected);
        }
    }

    #[test]
    fn malformed_requests_name_their_fault() {
        let error = |request: Value| command_line_from_json(&request).unwrap_err();
        assert_eq!(error(json!(["ip"])), RequestError::NotAnObject);
        assert_eq!(error(json!({"args": {}})), RequestError::MissingCommand);
        assert_eq!(error(json!({"command": 7})), RequestError::BadCommand);
        assert_eq!(error(json!({"command": "i p"})), RequestError::BadCommand);
        assert_eq!(error(json!({"command": "!"})), RequestError::BadCommand);
        assert_eq!(error(json!({"command": "ip", "args": "ip=1"})), RequestError::ArgsNotAnObject);
        assert_eq!(
            error(json!({"command": "ip", "args": {"ip": {"a": 1}}})),
            RequestError::BadValue("ip".into())
        );
        assert_eq!(
            error(json!({"command": "ip", "args": {"ip": [["1.1.1.1"]]}})),
            RequestError::BadValue("ip".into())
        );
        assert_eq!(
            error(json!({"command": "ip", "arguments": {}})),
            RequestError::UnknownField("arguments".into())
        );
        assert_eq!(
            error(json!({"command": "ip", "args": {"ip": {"a": 1}}})).to_string(),
            "argument \"ip\" must be a string, a number, a boolean or a list of those"
        );
    }

    #[test]
    fn args_may_be_absent() {
        let line = command_line_from_json(&json!({"command": "test-module"})).unwrap();
        assert_eq!(line.name, "test-module");
        assert!(line.arguments.is_empty());
    }
}

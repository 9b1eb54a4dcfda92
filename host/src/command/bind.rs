//! Binding a command line's arguments to a command's declared arguments,
//! the way XSOAR's helpers read them: lists from comma-separated text or
//! JSON arrays, defaults applied, required arguments checked.

use thiserror::Error;

use super::SYSTEM_ARGUMENTS;
use super::parse::{CommandLine, RawValue};
use crate::sandbox::{Argument, CommandSpec};

/// Why arguments do not fit a command.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum BindError {
    /// A required argument is absent or empty.
    #[error("missing argument \"{argument}\": !{command} requires it")]
    Missing {
        /// The command as invoked.
        command: String,
        /// The argument.
        argument: String,
    },
    /// A bare value was given but the command has no default argument.
    #[error(
        "!{command} has no default argument for `{value}`; name the argument, as in `name=value`"
    )]
    NoDefaultArgument {
        /// The command as invoked.
        command: String,
        /// The bare value.
        value: String,
    },
    /// A value outside the argument's allowed set.
    #[error("argument \"{argument}\" of !{command} must be one of {allowed}, not `{value}`")]
    NotAllowed {
        /// The command as invoked.
        command: String,
        /// The argument.
        argument: String,
        /// The value given.
        value: String,
        /// The allowed values, comma-separated.
        allowed: String,
    },
    /// Several values for an argument that takes one.
    #[error("argument \"{argument}\" of !{command} takes one value, not a list")]
    NotAList {
        /// The command as invoked.
        command: String,
        /// The argument.
        argument: String,
    },
}

/// Binds `line` to `spec`. Returns the bound arguments in declaration
/// order, and the names given that `spec` does not declare (XSOAR's own
/// system arguments excepted), so that a fan-out over several providers
/// can refuse only names that no provider knows.
pub fn bind_arguments(
    spec: &CommandSpec,
    line: &CommandLine,
) -> Result<(Vec<Argument>, Vec<String>), BindError> {
    let command = line.name.clone();
    let unknown = line
        .arguments
        .iter()
        .map(|(name, _)| name)
        .filter(|name| !SYSTEM_ARGUMENTS.contains(&name.as_str()))
        .filter(|name| !spec.arguments.iter().any(|argument| &argument.name == *name))
        .cloned()
        .collect();

    let default_name = spec.arguments.iter().find(|argument| argument.is_default).map(|a| &a.name);
    if let (None, Some(value)) = (default_name, line.bare.first()) {
        return Err(BindError::NoDefaultArgument { command, value: value.clone() });
    }

    let mut bound = Vec::new();
    for declared in &spec.arguments {
        let given = line.arguments.iter().find(|(name, _)| *name == declared.name).map(|(_, v)| v);
        let mut values = match given {
            Some(RawValue::Text(text)) if declared.is_array => split_list(text),
            Some(RawValue::Text(text)) => vec![text.trim().to_owned()],
            Some(RawValue::List(items)) => items.clone(),
            None if declared.is_default && !line.bare.is_empty() => {
                line.bare.iter().flat_map(|value| split_list(value)).collect()
            }
            None => declared.default_value.iter().cloned().collect(),
        };
        values.retain(|value| !value.is_empty());

        if values.is_empty() {
            if declared.required {
                return Err(BindError::Missing { command, argument: declared.name.clone() });
            }
            continue;
        }
        if !declared.is_array && values.len() > 1 {
            return Err(BindError::NotAList { command, argument: declared.name.clone() });
        }
        if let Some(bad) = values
            .iter()
            .find(|value| !declared.predefined.is_empty() && !declared.predefined.contains(value))
        {
            return Err(BindError::NotAllowed {
                command,
                argument: declared.name.clone(),
                value: bad.clone(),
                allowed: declared.predefined.join(", "),
            });
        }
        bound.push(Argument { name: declared.name.clone(), values });
    }
    Ok((bound, unknown))
}

/// Reads a list argument as XSOAR's `argToList` does: a JSON array text
/// gives its elements, anything else is split on commas; elements are
/// trimmed and empty ones dropped.
pub fn split_list(text: &str) -> Vec<String> {
    let trimmed = text.trim();
    if trimmed.starts_with('[')
        && let Ok(items) = serde_json::from_str::<Vec<serde_json::Value>>(trimmed)
    {
        return items
            .into_iter()
            .map(|item| match item {
                serde_json::Value::String(text) => text.trim().to_owned(),
                other => other.to_string(),
            })
            .filter(|item| !item.is_empty())
            .collect();
    }
    trimmed.split(',').map(str::trim).filter(|item| !item.is_empty()).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::parse_command_line;
    use crate::sandbox::ArgumentSpec;

    fn argument(name: &str, required: bool, is_array: bool, is_default: bool) -> ArgumentSpec {
        ArgumentSpec {
            name: name.to_owned(),
            description: String::new(),
            required,
            default_value: None,
            is_array,
            is_default,
            predefined: Vec::new(),
        }
    }

    fn check_ip() -> CommandSpec {
        let mut days = argument("days", false, false, false);
        days.default_value = Some("30".to_owned());
        let mut verbose = argument("verbose", false, false, false);
        verbose.predefined = vec!["true".to_owned(), "false".to_owned()];
        CommandSpec {
            name: "check-ip".to_owned(),
            aliases: vec!["ip".to_owned()],
            description: String::new(),
            arguments: vec![argument("ip", true, true, true), days, verbose],
            indicator_argument: Some("ip".to_owned()),
            kinds: Vec::new(),
            context_path: String::new(),
            key_field: String::new(),
            outputs: Vec::new(),
        }
    }

    fn bind(line: &str) -> Result<(Vec<Argument>, Vec<String>), BindError> {
        bind_arguments(&check_ip(), &parse_command_line(line).unwrap())
    }

    fn values<'a>(bound: &'a [Argument], name: &str) -> Vec<&'a str> {
        let found = bound.iter().find(|argument| argument.name == name);
        found
            .map(|argument| argument.values.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }

    #[test]
    fn lists_come_from_commas_or_json_arrays() {
        let (bound, _) = bind("!ip ip=1.1.1.1,8.8.8.8").unwrap();
        assert_eq!(values(&bound, "ip"), ["1.1.1.1", "8.8.8.8"]);
        let (bound, _) = bind(r#"!ip ip=["1.1.1.1", "8.8.8.8"]"#).unwrap();
        assert_eq!(values(&bound, "ip"), ["1.1.1.1", "8.8.8.8"]);
    }

    #[test]
    fn the_bare_value_binds_to_the_default_argument_and_defaults_apply() {
        let (bound, unknown) = bind("!ip 8.8.8.8").unwrap();
        assert_eq!(values(&bound, "ip"), ["8.8.8.8"]);
        // `days` was not given: its declared default is used.
        assert_eq!(values(&bound, "days"), ["30"]);
        assert!(unknown.is_empty());
    }

    #[test]
    fn a_missing_required_argument_is_named() {
        let error = bind("!ip days=3").unwrap_err();
        assert_eq!(error.to_string(), "missing argument \"ip\": !ip requires it");
        // An empty value counts as missing too.
        assert!(matches!(bind("!ip ip=").unwrap_err(), BindError::Missing { .. }));
    }

    #[test]
    fn unknown_names_are_reported_but_system_arguments_are_not() {
        let (_, unknown) = bind("!ip ip=8.8.8.8 colour=red using-brand=AbuseIPDB").unwrap();
        assert_eq!(unknown, ["colour"]);
    }

    #[test]
    fn values_outside_the_allowed_set_are_refused() {
        let error = bind("!ip ip=8.8.8.8 verbose=maybe").unwrap_err();
        assert!(error.to_string().contains("must be one of true, false, not `maybe`"), "{error}");
    }

    #[test]
    fn a_single_valued_argument_keeps_commas() {
        // `days` is not a list argument, so "1,2" is kept as one value.
        let (bound, _) = bind("!ip 8.8.8.8 days=1,2").unwrap();
        assert_eq!(values(&bound, "days"), ["1,2"]);
    }
}

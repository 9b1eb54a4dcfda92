//! Parsing `!name arg=value arg2="quoted value" bare` into a name and its
//! arguments.

use thiserror::Error;

/// An argument value as given: text from a command line, or a real list
/// from a JSON request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawValue {
    /// Text; a list argument may still hold a comma-separated list or a
    /// JSON array.
    Text(String),
    /// Already a list.
    List(Vec<String>),
}

/// A command as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLine {
    /// The name without `!`.
    pub name: String,
    /// Named arguments in the order given.
    pub arguments: Vec<(String, RawValue)>,
    /// Values given without a name, bound to the default argument.
    pub bare: Vec<String>,
}

/// Why a command line could not be read.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ParseError {
    /// Nothing but white space.
    #[error("empty command: expected something like `!ip ip=8.8.8.8`")]
    Empty,
    /// A quote was opened and never closed.
    #[error("unclosed {0} quote in the command")]
    UnclosedQuote(char),
    /// The name has characters a command name cannot have.
    #[error("`{0}` is not a command name")]
    BadName(String),
    /// `=value` with no name before it.
    #[error("an argument value `{0}` has no name before `=`")]
    MissingName(String),
    /// The same argument twice.
    #[error("argument `{0}` is given twice")]
    Duplicate(String),
}

/// Parses an XSOAR command line. The leading `!` is optional. Values may
/// be quoted with `"` (backslash escapes `"` and `\`) or `'`; a value that
/// starts with `[` runs to its closing `]`, so a JSON array may hold
/// spaces.
pub fn parse_command_line(text: &str) -> Result<CommandLine, ParseError> {
    let mut tokens = tokenize(text)?.into_iter();
    let first = tokens.next().ok_or(ParseError::Empty)?;
    let name = first.text.strip_prefix('!').unwrap_or(&first.text).to_owned();
    if first.quoted || !is_command_name(&name) {
        return Err(ParseError::BadName(first.text));
    }

    let mut arguments: Vec<(String, RawValue)> = Vec::new();
    let mut bare = Vec::new();
    for token in tokens {
        match token.split_at_equals() {
            Some((key, _)) if key.is_empty() => return Err(ParseError::MissingName(token.text)),
            Some((key, value)) => {
                if arguments.iter().any(|(seen, _)| *seen == key) {
                    return Err(ParseError::Duplicate(key));
                }
                arguments.push((key, RawValue::Text(value)));
            }
            None => bare.push(token.text),
        }
    }
    Ok(CommandLine { name, arguments, bare })
}

/// Whether `name` (without `!`) can name a command: ASCII letters,
/// digits, `-` and `_`.
pub(crate) fn is_command_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// One word of a command line, quotes removed. `equals` is the byte
/// offset of the first `=` outside quotes, if any.
struct Token {
    text: String,
    quoted: bool,
    equals: Option<usize>,
}

impl Token {
    fn split_at_equals(&self) -> Option<(String, String)> {
        let at = self.equals?;
        Some((self.text[..at].to_owned(), self.text[at + 1..].to_owned()))
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, ParseError> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Ok(tokens);
        }
        let mut token = Token { text: String::new(), quoted: false, equals: None };
        let mut depth = 0usize;
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() && depth == 0 {
                break;
            }
            chars.next();
            match c {
                '"' | '\'' if depth == 0 => {
                    token.quoted = true;
                    read_quoted(&mut chars, c, &mut token.text)?;
                }
                '[' if depth > 0 || token.text.is_empty() || token.text.ends_with('=') => {
                    depth += 1;
                    token.text.push(c);
                }
                ']' if depth > 0 => {
                    depth -= 1;
                    token.text.push(c);
                }
                '=' if depth == 0 && token.equals.is_none() && !token.quoted => {
                    token.equals = Some(token.text.len());
                    token.text.push(c);
                }
                _ => token.text.push(c),
            }
        }
        tokens.push(token);
    }
}

fn read_quoted(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    quote: char,
    out: &mut String,
) -> Result<(), ParseError> {
    while let Some(c) = chars.next() {
        match c {
            '\\' if quote == '"' => match chars.next() {
                Some(escaped @ ('"' | '\\')) => out.push(escaped),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => return Err(ParseError::UnclosedQuote(quote)),
            },
            c if c == quote => return Ok(()),
            c => out.push(c),
        }
    }
    Err(ParseError::UnclosedQuote(quote))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: &str) -> RawValue {
        RawValue::Text(value.to_owned())
    }

    #[test]
    fn named_and_quoted_arguments() {
        let line =
            parse_command_line(r#"!vt-ip-scan ip=8.8.8.8 note="two words" x='a "b"'"#).unwrap();
        assert_eq!(line.name, "vt-ip-scan");
        assert_eq!(
            line.arguments,
            vec![
                ("ip".to_owned(), text("8.8.8.8")),
                ("note".to_owned(), text("two words")),
                ("x".to_owned(), text(r#"a "b""#)),
            ]
        );
        assert!(line.bare.is_empty());
    }

    #[test]
    fn a_bare_value_is_kept_for_the_default_argument() {
        let line = parse_command_line("!ip 8.8.8.8").unwrap();
        assert_eq!(line.bare, vec!["8.8.8.8".to_owned()]);
    }

    #[test]
    fn a_json_array_may_hold_spaces() {
        let line = parse_command_line(r#"!ip ip=["1.1.1.1", "8.8.8.8"] days=3"#).unwrap();
        assert_eq!(line.arguments[0].1, text(r#"["1.1.1.1", "8.8.8.8"]"#));
        assert_eq!(line.arguments[1], ("days".to_owned(), text("3")));
    }

    #[test]
    fn an_equals_sign_inside_a_value_stays() {
        let line = parse_command_line("!url url=http://example.com/a?b=1").unwrap();
        assert_eq!(line.arguments[0].1, text("http://example.com/a?b=1"));
    }

    #[test]
    fn the_bang_is_optional() {
        assert_eq!(parse_command_line("ip 1.1.1.1").unwrap().name, "ip");
    }

    #[test]
    fn malformed_lines_name_their_fault() {
        assert_eq!(parse_command_line("   "), Err(ParseError::Empty));
        assert_eq!(parse_command_line(r#"!ip ip="8.8.8.8"#), Err(ParseError::UnclosedQuote('"')));
        assert_eq!(
            parse_command_line("!ip =8.8.8.8"),
            Err(ParseError::MissingName("=8.8.8.8".into()))
        );
        assert_eq!(parse_command_line("!ip ip=1 ip=2"), Err(ParseError::Duplicate("ip".into())));
        assert_eq!(parse_command_line("!i$p"), Err(ParseError::BadName("!i$p".into())));
    }
}

//! Traffic Light Protocol labels (TLP 2.0, with the 1.0 name `white`).

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use thiserror::Error;

/// A TLP label, ordered from least to most restricted:
/// `Clear < Green < Amber < AmberStrict < Red`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tlp {
    /// TLP:CLEAR (TLP 1.0's TLP:WHITE): no limit on disclosure.
    Clear,
    /// TLP:GREEN: the community, not public channels.
    Green,
    /// TLP:AMBER: the recipient's organisation and its clients.
    Amber,
    /// TLP:AMBER+STRICT: the recipient's organisation only.
    AmberStrict,
    /// TLP:RED: the named recipients only.
    Red,
}

/// A TLP label that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown TLP label `{0}` (expected clear, white, green, amber, amber+strict or red)")]
pub struct ParseTlpError(pub String);

impl Tlp {
    /// The canonical label, `TLP:CLEAR` to `TLP:RED`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tlp::Clear => "TLP:CLEAR",
            Tlp::Green => "TLP:GREEN",
            Tlp::Amber => "TLP:AMBER",
            Tlp::AmberStrict => "TLP:AMBER+STRICT",
            Tlp::Red => "TLP:RED",
        }
    }

    /// Whether something labelled `self` may go to a recipient cleared up
    /// to `max`.
    pub fn allowed_under(self, max: Tlp) -> bool {
        self <= max
    }
}

impl FromStr for Tlp {
    type Err = ParseTlpError;

    /// Reads `TLP:RED`, `tlp red`, `red`, `white` (= clear), `amber+strict`,
    /// `AMBER_STRICT`, in any case.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        let lower = trimmed.to_ascii_lowercase();
        let label = lower
            .strip_prefix("tlp")
            .map(|rest| rest.trim_start_matches([':', ' ', '-', '_']))
            .unwrap_or(&lower)
            .trim();
        match label {
            "clear" | "white" => Ok(Tlp::Clear),
            "green" => Ok(Tlp::Green),
            "amber" => Ok(Tlp::Amber),
            "amber+strict" | "amber-strict" | "amber_strict" | "amber strict" => {
                Ok(Tlp::AmberStrict)
            }
            "red" => Ok(Tlp::Red),
            _ => Err(ParseTlpError(trimmed.to_owned())),
        }
    }
}

impl fmt::Display for Tlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Tlp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The most restrictive `TLP:<label>` marking written in `text`, such as
/// `[TLP:AMBER]` in a subject or a `TLP:RED` tag. The prefix is required, so
/// a lone word `red` is not a label.
pub fn find_tlp(text: &str) -> Option<Tlp> {
    let bytes = text.as_bytes();
    let mut most: Option<Tlp> = None;
    for needle in [&b"TLP:"[..], b"tlp:", b"Tlp:"] {
        for at in memchr::memmem::find_iter(bytes, needle) {
            let rest = &bytes[at + 4..];
            let skip = rest.iter().take_while(|&&b| b == b' ').count();
            let rest = &rest[skip..];
            let len = rest
                .iter()
                .take_while(|&&b| b.is_ascii_alphabetic() || b == b'+' || b == b'_')
                .count();
            let Ok(word) = std::str::from_utf8(&rest[..len]) else {
                continue;
            };
            if let Ok(tlp) = word.parse::<Tlp>() {
                most = most.max(Some(tlp));
            }
        }
    }
    most
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_parse_in_any_spelling() {
        let cases = [
            ("TLP:RED", Tlp::Red),
            ("red", Tlp::Red),
            ("white", Tlp::Clear),
            ("TLP:CLEAR", Tlp::Clear),
            ("amber+strict", Tlp::AmberStrict),
            ("TLP:AMBER+STRICT", Tlp::AmberStrict),
            ("tlp: green", Tlp::Green),
        ];
        for (text, tlp) in cases {
            assert_eq!(text.parse::<Tlp>(), Ok(tlp), "parsing {text}");
        }
        assert!("purple".parse::<Tlp>().is_err());
    }

    #[test]
    fn the_most_restrictive_marking_wins() {
        assert_eq!(find_tlp("[TLP:GREEN] fwd: TLP:AMBER+STRICT report"), Some(Tlp::AmberStrict));
        assert_eq!(find_tlp("a red car"), None);
    }
}

//! Refanging (undoing the defanging analysts apply so a link cannot be
//! clicked) and defanging.
//!
//! Recognised markers, letters in any case: `hxxp` and `hxxps` for the
//! scheme (the `s` stays), `[.]`, `(.)`, `{.}`, `[dot]`, `(dot)`, `{dot}`,
//! `[:]`, `(:)`, `[://]`, `[@]`, `(@)`, `[at]` and `(at)`.

use std::borrow::Cow;

/// Replacement text for each bracketed marker, matched case-insensitively
/// right after its opening bracket. Longer markers come first.
const BRACKETED: &[(&[u8], &str)] =
    &[(b"://]", "://"), (b"dot]", "."), (b"at]", "@"), (b".]", "."), (b":]", ":"), (b"@]", "@")];

/// Undo defanging: `hxxps://example[.]com` becomes `https://example.com`.
///
/// Text without any marker is returned borrowed, unchanged.
pub fn refang(text: &str) -> Cow<'_, str> {
    match refang_mapped(text) {
        Some((refanged, _)) => Cow::Owned(refanged),
        None => Cow::Borrowed(text),
    }
}

/// Make an indicator safe to paste: `https://example.com` becomes
/// `hxxps://example[.]com`, `alice@example.com` becomes
/// `alice[@]example[.]com`.
///
/// [`refang`] gives the original back for any text that does not itself
/// contain a marker, and whose scheme, if any, is lowercase (refanging
/// writes `http`, so `HTTP` comes back lowercased).
pub fn defang(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut rest = text;
    if starts_with_ignore_case(rest.as_bytes(), b"http") {
        out.push_str("hxxp");
        rest = &rest[4..];
    }
    for c in rest.chars() {
        match c {
            '.' => out.push_str("[.]"),
            '@' => out.push_str("[@]"),
            _ => out.push(c),
        }
    }
    out
}

/// Refang `text`, and say for each byte of the result which byte of `text`
/// it came from (one more entry for the end). `None` when nothing changed.
pub(crate) fn refang_mapped(text: &str) -> Option<(String, Vec<u32>)> {
    let bytes = text.as_bytes();
    // Markers open with a bracket or read `hx`; most words have neither.
    let bracket = memchr::memchr3(b'[', b'(', b'{', bytes).is_some();
    let hx = || bytes.windows(2).any(|w| w[0] | 0x20 == b'h' && w[1] | 0x20 == b'x');
    if !bracket && !hx() {
        return None;
    }

    let mut out = String::with_capacity(text.len());
    let mut map = Vec::with_capacity(text.len() + 1);
    let mut changed = false;
    let mut copied_to = 0;
    let mut i = 0;
    while i < bytes.len() {
        let (replacement, consumed) = match marker_at(bytes, i) {
            Some(found) => found,
            None => {
                i += 1;
                continue;
            }
        };
        changed = true;
        push_mapped(&mut out, &mut map, &text[copied_to..i], copied_to);
        for _ in 0..replacement.len() {
            map.push(i as u32);
        }
        out.push_str(replacement);
        i += consumed;
        copied_to = i;
    }
    if !changed {
        return None;
    }
    push_mapped(&mut out, &mut map, &text[copied_to..], copied_to);
    map.push(bytes.len() as u32);
    Some((out, map))
}

/// The marker starting at `i`, as (replacement, bytes consumed).
fn marker_at(bytes: &[u8], i: usize) -> Option<(&'static str, usize)> {
    match bytes[i] {
        open @ (b'[' | b'(' | b'{') => {
            let close = match open {
                b'[' => b']',
                b'(' => b')',
                _ => b'}',
            };
            let after = &bytes[i + 1..];
            BRACKETED.iter().find_map(|(marker, replacement)| {
                let body = &marker[..marker.len() - 1];
                let len = marker.len();
                let matches = after.len() >= len
                    && after[..len - 1].eq_ignore_ascii_case(body)
                    && after[len - 1] == close;
                // `(://)` is not a form anyone uses; only `[://]` is.
                let allowed = open == b'[' || body != b"://";
                (matches && allowed).then_some((*replacement, len + 1))
            })
        }
        b'h' | b'H' => {
            // `hxxp` or `hxxps`, as a scheme: not inside a longer word, and
            // followed by `:` or a bracketed `[:`.
            if i > 0 && bytes[i - 1].is_ascii_alphanumeric() {
                return None;
            }
            let rest = &bytes[i..];
            if rest.len() < 5 || !rest[..4].eq_ignore_ascii_case(b"hxxp") {
                return None;
            }
            let (scheme, len) =
                if rest[4].eq_ignore_ascii_case(&b's') { ("https", 5) } else { ("http", 4) };
            let next = rest.get(len).copied();
            let is_scheme = matches!(next, Some(b':') | Some(b'['));
            // Only the `x`s are defanged; leave an already-real `http` be.
            let defanged = !rest[..4].eq_ignore_ascii_case(b"http");
            (is_scheme && defanged).then_some((scheme, len))
        }
        _ => None,
    }
}

fn push_mapped(out: &mut String, map: &mut Vec<u32>, piece: &str, start: usize) {
    out.push_str(piece);
    map.extend((start..start + piece.len()).map(|offset| offset as u32));
}

fn starts_with_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.len() >= needle.len() && haystack[..needle.len()].eq_ignore_ascii_case(needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_marker_is_refanged() {
        let cases = [
            ("hxxp://a[.]example", "http://a.example"),
            ("HXXPS://a(.)example", "https://a.example"),
            ("http[:]//a[dot]example", "http://a.example"),
            ("https[://]a(DOT)example", "https://a.example"),
            ("alice[@]example{.}org", "alice@example.org"),
            ("alice[at]example.org", "alice@example.org"),
            ("alice(at)example.org", "alice@example.org"),
        ];
        for (defanged, expected) in cases {
            assert_eq!(refang(defanged), expected, "refanging {defanged}");
        }
    }

    #[test]
    fn plain_text_is_borrowed() {
        // No marker: no allocation, the same text back.
        assert!(matches!(refang("https://example.com/x"), Cow::Borrowed(_)));
        assert!(matches!(refang("xhxxp://nope"), Cow::Borrowed(_)));
    }

    #[test]
    fn the_map_points_back_into_the_original() {
        let original = "see hxxps://example[.]com/a";
        let (refanged, map) = refang_mapped(original).expect("something to refang");
        assert_eq!(refanged, "see https://example.com/a");
        let start = refanged.find("https").expect("the url");
        let end = refanged.len();
        assert_eq!(&original[map[start] as usize..map[end] as usize], "hxxps://example[.]com/a");
    }

    #[test]
    fn defang_then_refang_is_the_identity() {
        for value in ["https://example.com/a?b=1", "alice@example.org", "8.8.8.8"] {
            assert_eq!(refang(&defang(value)), value);
        }
    }
}

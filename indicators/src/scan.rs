//! The free-text scanner: finds indicators in prose, logs and the string
//! values of every other format.
//!
//! It works in two steps, without regular expressions. First it splits a
//! line into words at whitespace, quotes and angle brackets, and drops at
//! once every word that cannot hold an indicator (no dot, colon or `@`, not
//! a long hex run, no defang marker): that is most of a log. A remaining
//! word is refanged; a URL in it runs to the end of the word less trailing
//! punctuation; the rest is cut at `=`, `,`, `;`, `(`, `)` and the like,
//! trimmed, and each piece is classified as a whole, falling back to the
//! parts around its colons (`ip:8.8.8.8`, `mailto:a@example.org`).

use crate::classify::{self, Problem};
use crate::kind::{Indicator, Kind};
use crate::refang::refang_mapped;

/// One indicator found in a text.
pub(crate) struct Found<'t> {
    pub indicator: Indicator,
    /// The text it was read from, before refanging.
    pub original: &'t str,
    /// 1-based line number within the scanned text.
    pub line: u32,
}

/// Bytes that end a word: ASCII whitespace and control characters, quotes,
/// angle brackets, backslash, pipe, caret and backtick.
const fn is_word_break(b: u8) -> bool {
    matches!(b, b'\0'..=b' ' | b'"' | b'\'' | b'<' | b'>' | b'\\' | b'|' | b'^' | b'`' | 0x7f)
}

/// Bytes that cut a non-URL word into pieces.
const fn is_piece_break(b: u8) -> bool {
    matches!(b, b'=' | b',' | b';' | b'(' | b')' | b'{' | b'}' | b'!' | b'&' | b'?' | b'#' | b'*')
}

/// Per byte: ends a word, may mark an indicator, is a hex digit.
const BREAK: u8 = 1;
const PROMISING: u8 = 2;
const HEX: u8 = 4;

static CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        if is_word_break(byte) {
            table[b] |= BREAK;
        }
        if matches!(byte, b'.' | b':' | b'@' | b'[' | b'(' | b'{') {
            table[b] |= PROMISING;
        }
        if byte.is_ascii_hexdigit() {
            table[b] |= HEX;
        }
        b += 1;
    }
    table
};

/// Two-label names whose "top-level domain" is far more often a file
/// extension in logs (`invoice.zip`, `setup.py`, `README.md`). In free text
/// they are taken as domains only when defanged; in a URL, an email address
/// or a field that holds a domain they are domains as usual.
const FILE_EXTENSION_TLDS: &[&str] = &["zip", "mov", "py", "sh", "md", "rs", "so", "pm"];

/// Scan `text`, handing each indicator found to `sink` in order.
pub(crate) fn scan(text: &str, sink: &mut dyn FnMut(Found<'_>)) {
    let bytes = text.as_bytes();
    let mut line = 1u32;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if CLASS[b as usize] & BREAK != 0 {
            if b == b'\n' {
                line += 1;
            }
            i += 1;
            continue;
        }

        // One word: find its end and, on the way, whether it may hold an
        // indicator at all.
        let start = i;
        let mut any = 0u8;
        let mut all = HEX;
        while i < bytes.len() {
            let class = CLASS[bytes[i] as usize];
            if class & BREAK != 0 {
                break;
            }
            any |= class;
            all &= class;
            i += 1;
        }
        let promising = any & PROMISING != 0;
        let long_hex = all & HEX != 0 && i - start >= 32;
        if promising || long_hex {
            scan_word(text, start, i, line, sink);
        }
    }
}

/// Scan one word `text[start..end]`.
fn scan_word(text: &str, start: usize, end: usize, line: u32, sink: &mut dyn FnMut(Found<'_>)) {
    let original = &text[start..end];
    let refanged = refang_mapped(original);
    let (word, map) = match &refanged {
        Some((word, map)) => (word.as_str(), Some(map.as_slice())),
        None => (original, None),
    };
    let defanged = map.is_some();

    // The original text behind `word[a..b]`.
    let original_of = |a: usize, b: usize| -> &str {
        match map {
            Some(map) => &original[map[a] as usize..map[b] as usize],
            None => &original[a..b],
        }
    };
    let mut emit = |indicator: Indicator, a: usize, b: usize| {
        sink(Found { indicator, original: original_of(a, b), line })
    };

    let mut rest_end = word.len();
    if let Some((url_start, url_end)) = find_url(word)
        && let Ok(indicator) = classify::parse(&word[url_start..url_end])
    {
        emit(indicator, url_start, url_end);
        rest_end = url_start;
    }

    // Whatever precedes a URL (`href=`, `url:`) and words without one.
    let rest = &word[..rest_end];
    let mut piece_start = 0;
    for (at, b) in rest.bytes().enumerate().chain(std::iter::once((rest.len(), b'='))) {
        if is_piece_break(b) {
            if at > piece_start {
                scan_piece(rest, piece_start, at, defanged, &mut emit);
            }
            piece_start = at + 1;
        }
    }
}

/// Where a URL with a known scheme starts and ends within a word.
fn find_url(word: &str) -> Option<(usize, usize)> {
    let bytes = word.as_bytes();
    let mut search_from = 0;
    while let Some(found) = memchr::memmem::find(&bytes[search_from..], b"://") {
        let sep = search_from + found;
        let mut start = sep;
        while start > 0 && bytes[start - 1].is_ascii_alphabetic() && sep - start < 5 {
            start -= 1;
        }
        let scheme = &word[start..sep];
        let known = ["http", "https", "ftp", "ftps", "sftp", "ws", "wss"]
            .iter()
            .any(|s| s.eq_ignore_ascii_case(scheme));
        if known {
            return Some((start, url_end(bytes, start)));
        }
        search_from = sep + 3;
    }
    None
}

/// The end of a URL starting at `start`, without the punctuation that
/// closes a sentence or a parenthesis around it. A closing bracket stays
/// when the URL opened one (`https://en.wikipedia.org/wiki/Foo_(bar)`).
fn url_end(bytes: &[u8], start: usize) -> usize {
    let count = |b: u8| bytes[start..].iter().filter(|&&c| c == b).count();
    let open = [count(b'('), count(b'['), count(b'{')];
    let mut close = [count(b')'), count(b']'), count(b'}')];
    let mut end = bytes.len();
    while end > start {
        let pair = match bytes[end - 1] {
            b'.' | b',' | b';' | b':' | b'!' | b'?' | b'*' => None,
            b')' => Some(0),
            b']' => Some(1),
            b'}' => Some(2),
            _ => return end,
        };
        if let Some(pair) = pair {
            if close[pair] <= open[pair] {
                return end;
            }
            close[pair] -= 1;
        }
        end -= 1;
    }
    end
}

/// Classify one piece `text[start..end]` of a word, trimmed of the
/// punctuation around it.
fn scan_piece(
    text: &str,
    start: usize,
    end: usize,
    defanged: bool,
    emit: &mut dyn FnMut(Indicator, usize, usize),
) {
    let bytes = text.as_bytes();
    let (mut start, mut end) = (start, end);

    // Mail servers write `[IPv6:2001:db8::25]` in Received headers.
    if end - start > 7 && bytes[start..start + 6].eq_ignore_ascii_case(b"[ipv6:") {
        start += 6;
    }

    // `[2606:4700::1111]:443` keeps its brackets; any other `[` is noise.
    let bracketed_ipv6 =
        bytes[start] == b'[' && text[start..end].contains(':') && text[start..end].contains(']');
    if !bracketed_ipv6 {
        while start < end
            && matches!(
                bytes[start],
                b'[' | b'.' | b':' | b'/' | b'-' | b'+' | b'~' | b'%' | b'$' | b'@'
            )
        {
            start += 1;
        }
    }
    while end > start
        && matches!(
            bytes[end - 1],
            b']' | b'.' | b':' | b'/' | b'-' | b'+' | b'~' | b'%' | b'$' | b'@'
        )
    {
        if bracketed_ipv6 && bytes[end - 1] == b']' {
            break;
        }
        end -= 1;
    }
    if end <= start {
        return;
    }
    try_candidate(text, start, end, defanged, emit, 0);
}

fn try_candidate(
    text: &str,
    start: usize,
    end: usize,
    defanged: bool,
    emit: &mut dyn FnMut(Indicator, usize, usize),
    depth: u8,
) {
    let candidate = &text[start..end];
    if candidate.len() < 3 {
        return;
    }

    // `example.com/login` names the domain; `8.8.4.0/24` is a network.
    if let Some(slash) = candidate.find('/') {
        if let Ok(cidr) = classify::parse(candidate) {
            emit(cidr, start, end);
            return;
        }
        if !candidate.contains('@') {
            try_candidate(text, start, start + slash, defanged, emit, depth);
            return;
        }
    }

    match classify::parse(candidate) {
        Ok(indicator) => {
            if keep(&indicator, candidate, defanged) {
                emit(indicator, start, end);
            }
        }
        Err(Problem::Unrecognised | Problem::Invalid(..)) if depth < 8 => {
            // `key:value`: try the parts on either side of the first colon.
            if let Some(colon) = candidate.find(':') {
                try_candidate(text, start, start + colon, defanged, emit, depth + 1);
                try_candidate(text, start + colon + 1, end, defanged, emit, depth + 1);
            }
        }
        Err(_) => {}
    }
}

/// Whether a piece of free text that classified should be reported.
fn keep(indicator: &Indicator, candidate: &str, defanged: bool) -> bool {
    match indicator.kind {
        Kind::Domain if !defanged => {
            let value = indicator.value.as_str();
            let two_labels = value.bytes().filter(|&b| b == b'.').count() == 1;
            let tld = value.rsplit('.').next().unwrap_or_default();
            !(two_labels && FILE_EXTENSION_TLDS.contains(&tld))
        }
        // A hash must be the whole hex run, not a slice of a longer one.
        kind if kind.is_hash() => candidate.bytes().all(|b| b.is_ascii_hexdigit()),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(Kind, String, String)> {
        let mut out = Vec::new();
        scan(text, &mut |f| out.push((f.indicator.kind, f.indicator.value, f.original.to_owned())));
        out
    }

    fn values(text: &str) -> Vec<String> {
        found(text).into_iter().map(|(_, v, _)| v).collect()
    }

    #[test]
    fn urls_lose_sentence_punctuation_but_keep_balanced_parens() {
        assert_eq!(
            values("see http://example.com/a_(b). or (https://example.org/x)."),
            ["http://example.com/a_(b)", "https://example.org/x"]
        );
    }

    #[test]
    fn a_run_of_closing_brackets_is_linear() {
        // Regression: each stripped `)` used to recount the whole URL.
        let text = format!("http://example.com/{}", ")".repeat(200_000));
        let started = std::time::Instant::now();
        assert_eq!(values(&text), ["http://example.com/"]);
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn key_value_logs_are_split() {
        assert_eq!(
            values(
                "src=10.0.0.5 dst:8.8.8.8:53 user=alice@example.com sha1:3395856ce81f2b7382dee72602f798b642f14140"
            ),
            [
                "10.0.0.5",
                "8.8.8.8",
                "alice@example.com",
                "3395856ce81f2b7382dee72602f798b642f14140"
            ]
        );
    }

    #[test]
    fn the_original_text_is_kept() {
        let f = found("go to hxxps://example[.]com/login now");
        assert_eq!(f[0].2, "hxxps://example[.]com/login");
    }

    #[test]
    fn file_names_and_versions_are_not_domains() {
        assert!(values("ran setup.py and invoice.zip, version 1.2.3, a.b, file.exe").is_empty());
        // Defanged, the same name is a deliberate indicator.
        assert_eq!(values("invoice[.]zip"), ["invoice.zip"]);
    }

    #[test]
    fn received_headers_yield_ipv6_literals() {
        assert_eq!(values("from mx ([IPv6:2001:db8::25]) by x"), ["2001:db8::25"]);
    }
}

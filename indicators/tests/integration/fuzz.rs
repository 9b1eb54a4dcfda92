//! A bounded mutation fuzzer that runs on stable in `cargo test`.
//!
//! It starts from the example inputs and the case inputs, mutates them
//! with a fixed-seed generator (byte flips, inserted defang markers and
//! MIME/JSON punctuation, splices, truncation) and extracts each mutant
//! under every format. It checks that nothing panics and that every value
//! extracted is already in normal form. The count is fixed so a run is
//! repeatable; set `FERRET_FUZZ_ITERATIONS` for a longer run. For
//! coverage-guided fuzzing on nightly see `indicators/fuzz/`.

use ferret_indicators::{Format, classify, extract};

const SEEDS: &[&[u8]] = &[
    include_bytes!("../../../examples/splunk-notable.json"),
    include_bytes!("../../../examples/elastic-alert.json"),
    include_bytes!("../../../examples/sentinel-incident.json"),
    include_bytes!("../../../examples/phishing.eml"),
    include_bytes!("../../../examples/feed.csv"),
    b"hxxps://example[.]com/login and hXXps://example[.]net",
    b"http[:]//example.com https[:]//example.net http://example.org",
    b"8.8.8.8:8080 [2606:4700::1111]:443 8.8.4.0/24",
    b"10.0.0.5, 192.168.1.10, 127.0.0.1, 169.254.1.1, fc00::1, 8.8.8.8",
    "xn--bcher-kva.example bücher.example example.com. EXAMPLE.com".as_bytes(),
];

const TOKENS: &[&[u8]] = &[
    b"hxxp",
    b"[.]",
    b"(.)",
    b"[dot]",
    b"[:]",
    b"[://]",
    b"[@]",
    b"://",
    b"@",
    b":",
    b"/",
    b"[",
    b"]",
    b"(",
    b")",
    b"{",
    b"}",
    b"\"",
    b",",
    b"\r\n",
    b"\n\n",
    b"TLP:",
    b"xn--",
    b"::",
    b"%",
    b"=?utf-8?b?",
    b"Content-Type: multipart/mixed; boundary=\"b\"\r\n",
    b"--b\r\n",
    b"Content-Transfer-Encoding: base64\r\n",
    b"<a href=\"",
    b"\\u0000",
    "ü".as_bytes(),
    b"\xff\xfe",
    b"0000000000000000",
];

/// xorshift64*: small, fixed-seed, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, input: &mut Vec<u8>) {
    for _ in 0..=rng.below(4) {
        let at = rng.below(input.len() + 1);
        match rng.below(5) {
            0 if !input.is_empty() => {
                let i = at.min(input.len() - 1);
                input[i] ^= 1 << rng.below(8);
            }
            1 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                input.splice(at..at, token.iter().copied());
            }
            2 if !input.is_empty() => {
                let end = (at + rng.below(64)).min(input.len());
                input.drain(at.min(end)..end);
            }
            3 => {
                let other = SEEDS[rng.below(SEEDS.len())];
                let from = rng.below(other.len());
                let to = (from + rng.below(256)).min(other.len());
                input.splice(at..at, other[from..to].iter().copied());
            }
            _ => input.truncate(at),
        }
    }
}

#[test]
fn bounded_fuzz_never_panics_and_finds_normal_forms() {
    let iterations: usize =
        std::env::var("FERRET_FUZZ_ITERATIONS").ok().and_then(|n| n.parse().ok()).unwrap_or(1500);
    let mut rng = Rng(0x5eed_f3a7_1c0d_e001);
    for iteration in 0..iterations {
        let mut input = SEEDS[iteration % SEEDS.len()].to_vec();
        mutate(&mut rng, &mut input);
        for hint in
            [None, Some(Format::Text), Some(Format::Json), Some(Format::Email), Some(Format::Csv)]
        {
            let batch = extract(&input, hint);
            for entry in batch.entries() {
                let again = classify(&entry.indicator.value).unwrap_or_else(|err| {
                    panic!(
                        "iteration {iteration}: extracted {} does not classify: {err}",
                        entry.indicator
                    )
                });
                assert_eq!(
                    (again.kind, &again.value),
                    (entry.indicator.kind, &entry.indicator.value),
                    "iteration {iteration}: not in normal form"
                );
            }
        }
    }
}

//! Extraction throughput, side by side with iocextract, and the case list
//! run through both.
//!
//! Run: `cargo run --release -p ferret-indicators --example throughput`
//!
//! It generates a fixed corpus of mixed log and email text (50 MiB by
//! default, `--mib N` to change) and extracts it with Ferret twice: in
//! pieces of about 1 MiB, as the host gets alerts and emails, and line by
//! line. It then runs iocextract (installed with pip into a venv under the
//! target directory the first time) on the first 2 MiB of the same corpus
//! (`--iocextract-mib N` to change), line by line, which is iocextract's
//! fastest way: its time grows faster than its input, so all 50 MiB would
//! take it the better part of an hour. Rates are per MiB of input, so the
//! sample size does not favour either side.
//!
//! Last, it runs the extraction cases of Ferret's case list through both
//! tools and prints which of them each gets right. It exits non-zero if
//! iocextract gets a case right that Ferret gets wrong, or if Ferret (line
//! by line, like for like) is less than 20 times as fast. `--skip-python`
//! runs Ferret alone.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use ferret_indicators::{Kind, extract_text};
use serde_json::{Value, json};

/// Inputs are extracted in pieces of about this size, cut after a newline,
/// as the host would get them: one alert, one email, one log excerpt.
const CHUNK_BYTES: usize = 1 << 20;

/// (coarse kind, value): kinds are url, ip, cidr, domain, email and hash.
type Found = (&'static str, &'static str);

/// (case id, input, what must come out).
type Case = (&'static str, &'static str, &'static [Found]);

/// Extraction cases of Ferret's case list: id, input, and the indicators
/// that must come out, as (coarse kind, value).
const CASES: &[Case] = &[
    (
        "K01",
        "hxxps://example[.]com/login and hXXps://example[.]net",
        &[("url", "https://example.com/login"), ("url", "https://example.net")],
    ),
    (
        "K02",
        "http[:]//example.com https[:]//example.net http://example.org",
        &[
            ("url", "http://example.com"),
            ("url", "https://example.net"),
            ("url", "http://example.org"),
        ],
    ),
    ("K03", "8.8.4.0/24", &[("cidr", "8.8.4.0/24")]),
    ("K04", "8.8.8.8:8080 [2606:4700::1111]:443", &[("ip", "8.8.8.8"), ("ip", "2606:4700::1111")]),
    (
        "K05",
        "10.0.0.5, 192.168.1.10, 127.0.0.1, 169.254.1.1, fc00::1, 8.8.8.8",
        &[
            ("ip", "10.0.0.5"),
            ("ip", "192.168.1.10"),
            ("ip", "127.0.0.1"),
            ("ip", "169.254.1.1"),
            ("ip", "fc00::1"),
            ("ip", "8.8.8.8"),
        ],
    ),
    ("K07", "xn--bcher-kva.example bücher.example", &[("domain", "xn--bcher-kva.example")]),
    (
        "K09",
        "3395856CE81F2B7382DEE72602F798B642F14140",
        &[("hash", "3395856ce81f2b7382dee72602f798b642f14140")],
    ),
    (
        "K10",
        "44d88612fea8a8f36de82e1278abb02f 3395856ce81f2b7382dee72602f798b642f14140 \
         275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f \
         cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce\
         47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
        &[
            ("hash", "44d88612fea8a8f36de82e1278abb02f"),
            ("hash", "3395856ce81f2b7382dee72602f798b642f14140"),
            ("hash", "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"),
            (
                "hash",
                "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce\
                 47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
            ),
        ],
    ),
    ("K16", "example.com. example.com EXAMPLE.com", &[("domain", "example.com")]),
    ("K17", "8.8.8.8 example.com", &[("ip", "8.8.8.8"), ("domain", "example.com")]),
];

struct Options {
    mib: usize,
    iocextract_mib: usize,
    skip_python: bool,
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let work = bench_dir();
    if let Err(err) = std::fs::create_dir_all(&work) {
        eprintln!("creating {}: {err}", work.display());
        return ExitCode::FAILURE;
    }

    // The corpus.
    let corpus = generate_corpus(options.mib << 20);
    let corpus_path = work.join("corpus.txt");
    if let Err(err) = std::fs::write(&corpus_path, &corpus) {
        eprintln!("writing {}: {err}", corpus_path.display());
        return ExitCode::FAILURE;
    }
    println!(
        "corpus: {:.1} MiB of mixed log and email text, {} lines ({})",
        corpus.len() as f64 / (1 << 20) as f64,
        corpus.lines().count(),
        corpus_path.display()
    );

    // Ferret: in pieces of about 1 MiB, then line by line; best of three.
    let (piece_rate, found) = measure(&corpus, || chunks(&corpus));
    println!(
        "ferret-indicators  {piece_rate:>9.1} MiB/s   in 1 MiB pieces   {found:>9} indicator occurrences"
    );
    let (line_rate, found) = measure(&corpus, || corpus.split_inclusive('\n'));
    println!(
        "ferret-indicators  {line_rate:>9.1} MiB/s   line by line      {found:>9} indicator occurrences"
    );

    let ferret_cases: Vec<BTreeSet<(String, String)>> =
        CASES.iter().map(|(_, input, _)| ferret_case(input)).collect();
    if options.skip_python {
        print_cases(&ferret_cases, None);
        return ExitCode::SUCCESS;
    }

    // iocextract, line by line on the start of the same corpus.
    let limit = (options.iocextract_mib << 20).min(corpus.len());
    let answer = match run_iocextract(&work, &corpus_path, limit) {
        Ok(answer) => answer,
        Err(err) => {
            eprintln!("running iocextract: {err}");
            return ExitCode::FAILURE;
        }
    };
    let py_bytes = answer["bytes"].as_f64().unwrap_or(0.0);
    let py_seconds = answer["seconds"].as_f64().unwrap_or(f64::NAN);
    let py_rate = py_bytes / (1 << 20) as f64 / py_seconds;
    println!(
        "iocextract {:<7} {:>9.3} MiB/s   line by line      {:>9} indicator occurrences   ({:.1} s on the first {:.1} MiB)",
        answer["version"].as_str().unwrap_or("?"),
        py_rate,
        answer["found"],
        py_seconds,
        py_bytes / (1 << 20) as f64
    );
    let speedup = line_rate / py_rate;
    println!(
        "ferret is {speedup:.0}x iocextract's throughput line by line, {:.0}x in pieces (goal: at least 20x)",
        piece_rate / py_rate
    );

    let py_cases: Vec<BTreeSet<(String, String)>> = CASES
        .iter()
        .map(|(id, _, _)| {
            answer["cases"][*id]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|pair| {
                    Some((pair[0].as_str()?.to_owned(), pair[1].as_str()?.to_owned()))
                })
                .collect()
        })
        .collect();
    let regressions = print_cases(&ferret_cases, Some(&py_cases));

    if regressions > 0 || speedup < 20.0 {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Print the case comparison; return how many cases iocextract gets right
/// and Ferret wrong.
fn print_cases(
    ferret: &[BTreeSet<(String, String)>],
    iocextract: Option<&[BTreeSet<(String, String)>]>,
) -> usize {
    println!("\ncase  ferret  iocextract  expected");
    let mut regressions = 0;
    for (index, (id, _, expected)) in CASES.iter().enumerate() {
        let expected: BTreeSet<(String, String)> =
            expected.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let ferret_right = ferret[index] == expected;
        let py = iocextract.map(|py| &py[index]);
        let py_right = py.map(|py| *py == expected);
        if py_right == Some(true) && !ferret_right {
            regressions += 1;
        }
        let mark = |right: bool| if right { "right" } else { "WRONG" };
        println!(
            "{id}   {:<6}  {:<10}  {}",
            mark(ferret_right),
            py_right.map_or("-", mark),
            describe(&expected)
        );
        if !ferret_right {
            println!("        ferret got {}", describe(&ferret[index]));
        }
        if let Some(py) = py.filter(|py| **py != expected) {
            println!("        iocextract got {}", describe(py));
        }
    }
    let ferret_right = CASES
        .iter()
        .enumerate()
        .filter(|(i, (_, _, e))| {
            ferret[*i] == e.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        })
        .count();
    print!("ferret right on {ferret_right}/{}", CASES.len());
    if let Some(py) = iocextract {
        let py_right = CASES
            .iter()
            .enumerate()
            .filter(|(i, (_, _, e))| {
                py[*i] == e.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
            })
            .count();
        print!(
            ", iocextract right on {py_right}/{}; cases iocextract gets right and ferret wrong: {regressions}",
            CASES.len()
        );
    }
    println!();
    regressions
}

fn describe(set: &BTreeSet<(String, String)>) -> String {
    let items: Vec<String> = set.iter().map(|(k, v)| format!("{k} {v}")).collect();
    if items.is_empty() { "nothing".to_owned() } else { items.join(", ") }
}

/// Ferret's answer for a case, in iocextract's coarse kinds.
fn ferret_case(input: &str) -> BTreeSet<(String, String)> {
    extract_text(input)
        .entries()
        .iter()
        .map(|entry| {
            let kind = match entry.indicator.kind {
                Kind::Ipv4 | Kind::Ipv6 => "ip",
                kind if kind.is_hash() => "hash",
                kind => kind.as_str(),
            };
            (kind.to_owned(), entry.indicator.value.clone())
        })
        .collect()
}

fn run_iocextract(work: &Path, corpus: &Path, limit: usize) -> Result<Value, String> {
    let venv = work.join("venv");
    let python = venv.join("bin").join("python");
    if !python.exists() {
        println!("installing iocextract into {} ...", venv.display());
        run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    }
    let has_it = Command::new(&python)
        .args(["-c", "import iocextract"])
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("starting {}: {e}", python.display()))?
        .success();
    if !has_it {
        // iocextract imports requests without declaring it.
        run(Command::new(&python).args(["-m", "pip", "install", "-q", "iocextract", "requests"]))?;
    }

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/iocextract_runner.py");
    let job = json!({
        "corpus": corpus,
        "limit_bytes": limit,
        "cases": CASES.iter().map(|(id, input, _)| json!({"id": id, "input": input})).collect::<Vec<_>>(),
    });
    let mut child = Command::new(&python)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting {}: {e}", script.display()))?;
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(job.to_string().as_bytes())
        .map_err(|e| format!("writing the job: {e}"))?;
    let output = child.wait_with_output().map_err(|e| format!("waiting: {e}"))?;
    if !output.status.success() {
        return Err(format!("{} failed: {}", script.display(), output.status));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("reading its answer: {e}"))
}

fn run(command: &mut Command) -> Result<(), String> {
    let status = command.status().map_err(|e| format!("starting {command:?}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{command:?} failed: {status}")) }
}

fn chunks(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let cut = match rest.get(CHUNK_BYTES..).and_then(|tail| tail.find('\n')) {
            Some(newline) => CHUNK_BYTES + newline + 1,
            None => rest.len(),
        };
        let (chunk, tail) = rest.split_at(cut);
        rest = tail;
        Some(chunk)
    })
}

/// Extract each input `inputs()` yields, best of three passes; the rate in
/// MiB/s and the number of occurrences found.
fn measure<'a, I>(corpus: &str, inputs: impl Fn() -> I) -> (f64, usize)
where
    I: Iterator<Item = &'a str>,
{
    let mut best = f64::MAX;
    let mut found = 0;
    for _ in 0..3 {
        let started = Instant::now();
        found = inputs()
            .map(|input| {
                let batch = extract_text(input);
                batch.entries().iter().map(|e| e.occurrences.len()).sum::<usize>()
            })
            .sum();
        best = best.min(started.elapsed().as_secs_f64());
    }
    (mib(corpus.len()) / best, found)
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

fn bench_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("ferret-bench")
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options { mib: 50, iocextract_mib: 2, skip_python: false };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> Result<usize, String> {
            args.next().and_then(|n| n.parse().ok()).ok_or(format!("{name} needs a number of MiB"))
        };
        match arg.as_str() {
            "--mib" => options.mib = number("--mib")?,
            "--iocextract-mib" => options.iocextract_mib = number("--iocextract-mib")?,
            "--skip-python" => options.skip_python = true,
            _ => {
                return Err(format!(
                    "unknown argument {arg}; usage: throughput [--mib N] [--iocextract-mib N] [--skip-python]"
                ));
            }
        }
    }
    Ok(options)
}

// The corpus: a fixed-seed mix of firewall, proxy, EDR and DNS log lines
// and phishing-email text, with indicators drawn from pools so they repeat
// as they do in real logs, some of them defanged.

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn hex(&mut self, len: usize) -> String {
        (0..len).map(|_| char::from(b"0123456789abcdef"[self.below(16)])).collect()
    }
}

struct Pools {
    ips: Vec<String>,
    private: Vec<String>,
    ipv6: Vec<String>,
    domains: Vec<String>,
    hashes: Vec<String>,
}

fn pools(rng: &mut Rng) -> Pools {
    const WORDS: &[&str] = &[
        "login", "secure", "update", "cdn", "mail", "portal", "account", "verify", "files", "api",
        "billing", "static", "auth", "support", "docs", "shop",
    ];
    const TLDS: &[&str] = &["com", "net", "org", "example.com", "example.net", "co.uk", "de", "io"];
    let ips = (0..4000)
        .map(|_| {
            format!(
                "{}.{}.{}.{}",
                1 + rng.below(222),
                rng.below(256),
                rng.below(256),
                1 + rng.below(254)
            )
        })
        .collect();
    let private = (0..500)
        .map(|_| format!("10.{}.{}.{}", rng.below(256), rng.below(256), 1 + rng.below(254)))
        .collect();
    let ipv6 = (0..300)
        .map(|_| format!("2606:4700:{:x}::{:x}", rng.below(0xffff), 1 + rng.below(0xfffe)))
        .collect();
    let domains = (0..3000)
        .map(|i| format!("{}-{}{}.{}", rng.pick(WORDS), rng.pick(WORDS), i, rng.pick(TLDS)))
        .collect();
    let hashes = (0..1500).map(|i| rng.hex([32, 40, 64][i % 3])).collect();
    Pools { ips, private, ipv6, domains, hashes }
}

fn generate_corpus(size: usize) -> String {
    let mut rng = Rng(0x00c0_ffee_f3a7_0001);
    let pools = pools(&mut rng);
    let mut out = String::with_capacity(size + 4096);
    let mut second = 0u64;
    while out.len() < size {
        second += 1;
        let (h, m, s) = ((second / 3600) % 24, (second / 60) % 60, second % 60);
        let time = format!("May 14 {h:02}:{m:02}:{s:02}");
        let ip = rng.pick(&pools.ips).clone();
        let private = rng.pick(&pools.private).clone();
        let domain = rng.pick(&pools.domains).clone();
        let hash = rng.pick(&pools.hashes).clone();
        let line = match rng.below(10) {
            0..=2 => format!(
                "{time} fw01 kernel: [UFW BLOCK] IN=eth0 OUT= MAC=00:16:3e:5a:7b:9c:52:54:00:12:35:02:08:00 \
                 SRC={ip} DST={private} LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID={} DF PROTO=TCP SPT={} DPT=443 \
                 WINDOW=64240 RES=0x00 SYN URGP=0\n",
                rng.below(65535),
                1024 + rng.below(60000)
            ),
            3 | 4 => format!(
                "{private} - - [14/May/2024:{h:02}:{m:02}:{s:02} +0000] \"GET https://{domain}/{}/index.php?id={} HTTP/1.1\" \
                 200 {} \"https://www.{}/\" \"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
                 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\"\n",
                rng.hex(6),
                rng.below(100000),
                rng.below(90000),
                rng.pick(&pools.domains)
            ),
            5 => format!(
                "{time} edr01 agent[2211]: process_start host=WS-{:03} user=CORP\\jdoe image=C:\\Users\\jdoe\\AppData\\Local\\Temp\\svc.exe \
                 hash={hash} parent=explorer.exe cmdline=\"svc.exe --connect {ip}:8443 --retry 5\"\n",
                rng.below(999)
            ),
            6 => format!(
                "{time} dns01 named[812]: client @0x7f3a2c {private}#53211 ({domain}): query: {domain} IN A + ({})\n",
                rng.pick(&pools.ipv6)
            ),
            7 => format!(
                "{time} mx01 postfix/smtpd[4410]: connect from unknown[{ip}]; from=<billing@{domain}> to=<jdoe@corp.example.org> \
                 proto=ESMTP helo=<mail.{}>\n",
                rng.pick(&pools.domains)
            ),
            8 => {
                let defanged = domain.replace('.', "[.]");
                format!(
                    "Dear colleague, your mailbox is almost full. Please verify your account at hxxps://{defanged}/verify?u=jdoe \
                     within 24 hours, or write to support@{domain}. Version 2.4.1 of the client, invoice_0519.pdf attached.\n\
                     Regards, IT Service Desk (ticket {}), file.exe checksum {hash}.\n",
                    rng.below(1_000_000)
                )
            }
            _ => format!(
                "{time} ids01 suricata[1201]: [1:2024217:3] ET MALWARE Possible C2 beacon [Classification: A Network Trojan was detected] \
                 [Priority: 1] {{TCP}} {private}:{} -> {ip}:443, TLP:AMBER\n",
                1024 + rng.below(60000)
            ),
        };
        out.push_str(&line);
    }
    out
}

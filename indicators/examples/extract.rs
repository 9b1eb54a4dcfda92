//! Print what Ferret extracts from a file, one line per occurrence.
//!
//! Run: `cargo run -p ferret-indicators --example extract -- examples/phishing.eml`
//! (add `--json` for the batch as JSON).

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|a| a == "--json");
    let Some(path) = args.iter().find(|a| !a.starts_with("--")) else {
        eprintln!("usage: extract FILE [--json]");
        return ExitCode::from(2);
    };
    let input = match std::fs::read(path) {
        Ok(input) => input,
        Err(err) => {
            eprintln!("reading {path}: {err}");
            return ExitCode::FAILURE;
        }
    };

    let batch = ferret_indicators::extract(&input, None);
    if json {
        println!("{}", serde_json::to_string_pretty(&batch).expect("a batch serialises"));
        return ExitCode::SUCCESS;
    }
    println!("format {:?}, tlp {:?}", batch.format(), batch.tlp());
    for entry in batch.entries() {
        for occurrence in &entry.occurrences {
            println!(
                "{:<7} {:<50} {:<28} {:?} {:?}",
                entry.indicator.kind.as_str(),
                entry.indicator.display_value(),
                occurrence.location.to_string(),
                occurrence.original,
                occurrence.port,
            );
        }
    }
    ExitCode::SUCCESS
}

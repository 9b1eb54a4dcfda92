//! Verdicts as XSOAR reads them: DBot scores and reliability grades.

use crate::sandbox::{Reliability, Verdict};

/// The DBotScore of a verdict: 0 unknown, 1 good, 2 suspicious, 3 bad.
pub fn dbot_score(verdict: Verdict) -> u8 {
    match verdict {
        Verdict::Unknown => 0,
        Verdict::Benign => 1,
        Verdict::Suspicious => 2,
        Verdict::Malicious => 3,
    }
}

/// How XSOAR words a DBot score in timelines.
pub fn score_word(score: u8) -> &'static str {
    match score {
        1 => "Good",
        2 => "Suspicious",
        3 => "Bad",
        _ => "Unknown",
    }
}

/// XSOAR's text for a reliability grade.
pub fn reliability_label(grade: Reliability) -> &'static str {
    match grade {
        Reliability::APlus => "A+ - 3rd party enrichment",
        Reliability::A => "A - Completely reliable",
        Reliability::B => "B - Usually reliable",
        Reliability::C => "C - Fairly reliable",
        Reliability::D => "D - Not usually reliable",
        Reliability::E => "E - Unreliable",
        Reliability::F => "F - Reliability cannot be judged",
    }
}

/// The reliability an operator configured (the full text, or just its
/// grade such as `B` or `A+`), else the manifest's default. An unreadable
/// setting falls back to the default; `ferret providers list` shows what
/// is in force.
pub fn reliability_text(configured: Option<&str>, default: Reliability) -> String {
    let grades = [
        Reliability::APlus,
        Reliability::A,
        Reliability::B,
        Reliability::C,
        Reliability::D,
        Reliability::E,
        Reliability::F,
    ];
    let chosen = configured.and_then(|text| {
        let grade = text.split(" - ").next().unwrap_or("").trim();
        grades
            .into_iter()
            .find(|candidate| reliability_label(*candidate).split(" - ").next() == Some(grade))
    });
    reliability_label(chosen.unwrap_or(default)).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_grades_may_be_short_or_full() {
        assert_eq!(reliability_text(Some("B"), Reliability::C), "B - Usually reliable");
        assert_eq!(
            reliability_text(Some("A+ - 3rd party enrichment"), Reliability::C),
            "A+ - 3rd party enrichment"
        );
        // An unreadable grade leaves the default in force.
        assert_eq!(reliability_text(Some("Z"), Reliability::C), "C - Fairly reliable");
    }
}

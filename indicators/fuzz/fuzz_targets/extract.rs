//! Extraction must not panic on any bytes, under any format, and what it
//! finds must already be in normal form.

#![no_main]

use ferret_indicators::{Format, classify, extract};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for hint in [None, Some(Format::Text), Some(Format::Json), Some(Format::Email), Some(Format::Csv)] {
        let batch = extract(data, hint);
        for entry in batch.entries() {
            let again = classify(&entry.indicator.value).expect("an extracted value classifies");
            assert_eq!((again.kind, &again.value), (entry.indicator.kind, &entry.indicator.value));
        }
    }
});

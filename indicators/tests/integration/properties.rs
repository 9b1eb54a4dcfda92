//! Properties that must hold for every input, checked with proptest.

use ferret_indicators::{Format, classify, defang, extract, refang};
use proptest::prelude::*;

/// Text made of the pieces indicators are built from, so that generated
/// inputs reach deep into the scanner and classifier rather than stopping
/// at the first byte.
fn ioc_soup() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("hxxps://".to_owned()),
        Just("http[:]//".to_owned()),
        Just("[.]".to_owned()),
        Just("(dot)".to_owned()),
        Just("[@]".to_owned()),
        Just("xn--bcher-kva".to_owned()),
        Just("bücher".to_owned()),
        Just(".example".to_owned()),
        Just(".com".to_owned()),
        Just("::".to_owned()),
        Just("TLP:".to_owned()),
        "[0-9]{1,3}".prop_map(|s| s),
        "[0-9a-fA-F]{1,64}".prop_map(|s| s),
        "[a-z]{1,8}".prop_map(|s| s),
        "[ .:/@\\[\\]()=,;\"'<>\n\t%?#&-]".prop_map(|s| s),
        any::<char>().prop_map(|c| c.to_string()),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

/// Values that normalise to an indicator of each kind.
fn indicator_value() -> impl Strategy<Value = String> {
    let label = "[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?";
    prop_oneof![
        any::<[u8; 4]>().prop_map(|o| format!("{}.{}.{}.{}", o[0], o[1], o[2], o[3])),
        any::<u128>().prop_map(|bits| std::net::Ipv6Addr::from(bits).to_string()),
        (any::<[u8; 4]>(), 0u8..=32)
            .prop_map(|(o, p)| format!("{}.{}.{}.{}/{p}", o[0], o[1], o[2], o[3])),
        (label, prop::sample::select(vec!["com", "org", "example", "de", "co.uk", "中国"]))
            .prop_map(|(l, tld)| format!("{l}.{tld}")),
        (label, "[a-z0-9/._~%-]{0,30}")
            .prop_map(|(l, path)| format!("https://{l}.example.com/{path}")),
        (label, label).prop_map(|(user, host)| format!("{user}@{host}.example.org")),
        prop::sample::select(vec![32usize, 40, 64, 128]).prop_flat_map(|len| {
            proptest::string::string_regex(&format!("[0-9a-fA-F]{{{len}}}")).expect("a regex")
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Extraction never panics, whatever the bytes and whatever format is
    /// claimed for them.
    #[test]
    fn extraction_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        extract(&bytes, None);
        for format in [Format::Text, Format::Json, Format::Email, Format::Csv] {
            extract(&bytes, Some(format));
        }
    }

    /// Nor on indicator-like text; and what it finds is already normal.
    #[test]
    fn extraction_finds_normal_forms(text in ioc_soup()) {
        let batch = extract(text.as_bytes(), None);
        for entry in batch.entries() {
            let again = classify(&entry.indicator.value).expect("an extracted value classifies");
            prop_assert_eq!(again.kind, entry.indicator.kind);
            prop_assert_eq!(&again.value, &entry.indicator.value);
        }
    }

    /// Normalising twice changes nothing, for any text that classifies.
    #[test]
    fn normalising_is_idempotent(raw in prop_oneof![indicator_value(), ioc_soup()]) {
        if let Ok(once) = classify(&raw) {
            let twice = classify(&once.value).expect("a normal form classifies");
            prop_assert_eq!(twice.kind, once.kind);
            prop_assert_eq!(&twice.value, &once.value);
            prop_assert_eq!(twice.display, once.display);
        }
    }

    /// Defanging then refanging gives the original back.
    #[test]
    fn defang_then_refang_is_the_identity(value in indicator_value()) {
        let defanged = defang(&value);
        prop_assert_eq!(refang(&defanged), value.as_str());
        // And a defanged indicator classifies as the original does.
        prop_assert_eq!(classify(&defanged), classify(&value));
    }
}

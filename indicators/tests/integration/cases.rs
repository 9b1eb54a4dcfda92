//! Inputs that broke other enrichment tools, from Ferret's case list
//! (`cases/indicators.md` of the project notes), as data: each test quotes
//! its case and checks the exact expected value. Cases about providers and
//! the host (K08 URL ids, K12-K15 upstream behaviour) are tested there.

use ferret_indicators::policy::{
    Decision, Gate, GatePolicy, NotSentReason, ProviderPolicy, non_routable_reason,
};
use ferret_indicators::{ClassifyError, Kind, Tlp, classify, extract_text, preferred_hash};

use crate::{entries, occurrences};

fn url(value: &str) -> (Kind, String) {
    (Kind::Url, value.to_owned())
}

fn domain(value: &str) -> (Kind, String) {
    (Kind::Domain, value.to_owned())
}

/// K01: `hxxps://example[.]com/login` and `hXXps://example[.]net` in free
/// text are refanged to `https://example.com/login` and
/// `https://example.net`; the `s` of https survives.
#[test]
fn k01_hxxps_keeps_the_s() {
    let batch =
        extract_text("Blocked hxxps://example[.]com/login and hXXps://example[.]net today.");
    assert_eq!(entries(&batch), [url("https://example.com/login"), url("https://example.net")]);

    // The whole kind: every spelling of the defanged scheme, with or
    // without the `s`, as a single value too.
    for (defanged, expected) in [
        ("HXXPS://example[.]com/", "https://example.com/"),
        ("hXxP://example[.]com/", "http://example.com/"),
        ("hxxps[://]example[.]com/a", "https://example.com/a"),
    ] {
        assert_eq!(classify(defanged).map(|i| i.value), Ok(expected.to_owned()));
    }
}

/// K02: `http[:]//example.com https[:]//example.net http://example.org`
/// gives three URLs; `[:]`, `[://]`, `[.]`, `(.)`, `[dot]`, `(dot)` are all
/// refanged.
#[test]
fn k02_every_defang_marker_is_refanged() {
    let batch = extract_text("http[:]//example.com https[:]//example.net http://example.org");
    assert_eq!(
        entries(&batch),
        [url("http://example.com"), url("https://example.net"), url("http://example.org")]
    );

    let batch = extract_text(
        "https[://]example.com/a hxxp://example(.)org/b www[dot]example[.]net \
         mail(dot)example.com alice[@]example.org bob[at]example.net",
    );
    assert_eq!(
        entries(&batch),
        [
            url("https://example.com/a"),
            url("http://example.org/b"),
            domain("www.example.net"),
            domain("mail.example.com"),
            (Kind::Email, "alice@example.org".to_owned()),
            (Kind::Email, "bob@example.net".to_owned()),
        ]
    );
}

/// K03: `8.8.4.0/24` is kind `cidr`, never queried as the single host
/// 8.8.4.0. (`!ip` refusing it is the host's job: the kind tells it.)
#[test]
fn k03_a_cidr_is_never_a_host() {
    let indicator = classify("8.8.4.0/24").expect("a cidr");
    assert_eq!((indicator.kind, indicator.value.as_str()), (Kind::Cidr, "8.8.4.0/24"));
    assert!(!indicator.kind.is_ip(), "a command that takes one IP can refuse it by kind");

    // In text too: one cidr, and no stray 8.8.4.0.
    let batch = extract_text("block 8.8.4.0/24 and 2001:4860::/32 at the edge");
    assert_eq!(
        entries(&batch),
        [(Kind::Cidr, "8.8.4.0/24".to_owned()), (Kind::Cidr, "2001:4860::/32".to_owned())]
    );
}

/// K04: `8.8.8.8:8080` and `[2606:4700::1111]:443` are the IPs `8.8.8.8`
/// and `2606:4700::1111`, the port kept as context; one lookup each.
#[test]
fn k04_ports_are_context_not_part_of_the_ip() {
    let v4 = classify("8.8.8.8:8080").expect("ipv4 with port");
    assert_eq!((v4.kind, v4.value.as_str(), v4.port), (Kind::Ipv4, "8.8.8.8", Some(8080)));
    let v6 = classify("[2606:4700::1111]:443").expect("ipv6 with port");
    assert_eq!((v6.kind, v6.value.as_str(), v6.port), (Kind::Ipv6, "2606:4700::1111", Some(443)));

    // One entry per address however often and with whatever port it occurs.
    let batch = extract_text("8.8.8.8:8080 [2606:4700::1111]:443\n8.8.8.8 [2606:4700::1111]");
    assert_eq!(
        occurrences(&batch),
        [
            ("ipv4", "8.8.8.8".into(), "line 1".into(), "8.8.8.8:8080".into(), Some(8080)),
            ("ipv4", "8.8.8.8".into(), "line 2".into(), "8.8.8.8".into(), None),
            (
                "ipv6",
                "2606:4700::1111".into(),
                "line 1".into(),
                "[2606:4700::1111]:443".into(),
                Some(443)
            ),
            ("ipv6", "2606:4700::1111".into(), "line 2".into(), "[2606:4700::1111]".into(), None),
        ]
    );
}

/// K05: in the batch `10.0.0.5, 192.168.1.10, 127.0.0.1, 169.254.1.1,
/// fc00::1, 8.8.8.8` the first five go to no external provider, each
/// reported as not sent with the reason; an internal provider may still
/// get them; 8.8.8.8 is sent as usual.
#[test]
fn k05_non_routable_addresses_stay_inside() {
    let batch = extract_text("10.0.0.5, 192.168.1.10, 127.0.0.1, 169.254.1.1, fc00::1, 8.8.8.8");
    let expected = [
        ("10.0.0.5", Some("private address (RFC 1918)")),
        ("192.168.1.10", Some("private address (RFC 1918)")),
        ("127.0.0.1", Some("loopback address (RFC 1122)")),
        ("169.254.1.1", Some("link-local address (RFC 3927)")),
        ("fc00::1", Some("unique local address (RFC 4193)")),
        ("8.8.8.8", None),
    ];
    let gate = Gate::default();
    let external = ProviderPolicy { internal: false, max_tlp: Tlp::Red };
    let internal = ProviderPolicy { internal: true, max_tlp: Tlp::Red };
    assert_eq!(batch.len(), expected.len());
    for (entry, (value, reason)) in batch.entries().iter().zip(expected) {
        let indicator = &entry.indicator;
        assert_eq!(indicator.value, value);
        assert_eq!(non_routable_reason(value.parse().expect("an ip")), reason);

        let to_external = gate.decide(indicator, None, &external);
        let expected_decision = match reason {
            Some(range) => Decision::NotSent { reason: NotSentReason::NonRoutable { range } },
            None => Decision::Send,
        };
        assert_eq!(to_external, expected_decision, "{value} to an external provider");
        assert_eq!(
            gate.decide(indicator, None, &internal),
            Decision::Send,
            "{value} to an internal provider"
        );
    }

    // The reason reads as a report line.
    let reason = NotSentReason::NonRoutable { range: "private address (RFC 1918)" };
    assert_eq!(reason.to_string(), "not sent: private address (RFC 1918)");
}

/// K06: an indicator marked TLP:RED sent to a provider whose maximum is
/// TLP:AMBER: no call; the result says blocked by TLP policy; for every
/// provider, internal ones too.
#[test]
fn k06_tlp_above_the_providers_maximum_is_blocked() {
    let gate = Gate::default();
    let indicator = classify("8.8.8.8").expect("an ip");
    for internal in [false, true] {
        let provider = ProviderPolicy { internal, max_tlp: Tlp::Amber };
        let decision = gate.decide(&indicator, Some(Tlp::Red), &provider);
        let reason = NotSentReason::TlpBlocked { label: Tlp::Red, max: Tlp::Amber };
        assert_eq!(decision, Decision::NotSent { reason });
        assert_eq!(
            reason.to_string(),
            "blocked by TLP policy: TLP:RED exceeds this provider's maximum TLP:AMBER"
        );
    }

    // The whole kind: every label against every maximum.
    let order = [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict, Tlp::Red];
    for (i, label) in order.iter().enumerate() {
        for (j, max) in order.iter().enumerate() {
            let provider = ProviderPolicy { internal: false, max_tlp: *max };
            let sent = gate.decide(&indicator, Some(*label), &provider) == Decision::Send;
            assert_eq!(sent, i <= j, "{label} to a provider cleared for {max}");
        }
    }

    // Labels as analysts write them.
    assert_eq!("TLP:RED".parse(), Ok(Tlp::Red));
    assert_eq!("white".parse(), Ok(Tlp::Clear));
    assert_eq!("Amber+Strict".parse(), Ok(Tlp::AmberStrict));
    assert_eq!(extract_text("[TLP:RED] incident notes").tlp(), Some(Tlp::Red));
}

/// K07: `xn--bcher-kva.example` and `bücher.example` are both kind
/// `domain`, deduplicated to one; providers receive the A-label, reports
/// may show the Unicode form.
#[test]
fn k07_idn_forms_are_one_domain() {
    let batch = extract_text("xn--bcher-kva.example and bücher.example");
    assert_eq!(batch.len(), 1);
    let entry = &batch.entries()[0];
    assert_eq!(entry.indicator.kind, Kind::Domain);
    assert_eq!(entry.indicator.value, "xn--bcher-kva.example");
    assert_eq!(entry.indicator.display.as_deref(), Some("bücher.example"));
    assert_eq!(entry.occurrences.len(), 2);

    // Case and the trailing dot fold into the same A-label.
    assert_eq!(
        classify("BÜCHER.example.").map(|i| i.value),
        Ok("xn--bcher-kva.example".to_owned())
    );
}

/// K09: `3395856CE81F2B7382DEE72602F798B642F14140` is kind `sha1`,
/// lowercased before lookup, cache key and dedup.
#[test]
fn k09_hashes_are_lowercased() {
    let indicator = classify("3395856CE81F2B7382DEE72602F798B642F14140").expect("a hash");
    assert_eq!(indicator.kind, Kind::Sha1);
    assert_eq!(indicator.value, "3395856ce81f2b7382dee72602f798b642f14140");

    let batch = extract_text(
        "3395856CE81F2B7382DEE72602F798B642F14140 3395856ce81f2b7382dee72602f798b642f14140",
    );
    assert_eq!(
        entries(&batch),
        [(Kind::Sha1, "3395856ce81f2b7382dee72602f798b642f14140".to_owned())]
    );
}

/// K10: hashes of 32, 40, 64 and 128 hex characters are md5, sha1, sha256,
/// sha512 by length; VirusTotal gets sha256, else sha1, else md5, never
/// sha512.
#[test]
fn k10_hash_kind_by_length_and_virustotal_preference() {
    let md5 = classify(&"a".repeat(32)).expect("md5");
    let sha1 = classify(&"b".repeat(40)).expect("sha1");
    let sha256 = classify(&"c".repeat(64)).expect("sha256");
    let sha512 = classify(&"d".repeat(128)).expect("sha512");
    let kinds = [md5.kind, sha1.kind, sha256.kind, sha512.kind];
    assert_eq!(kinds, [Kind::Md5, Kind::Sha1, Kind::Sha256, Kind::Sha512]);

    // Other lengths are not hashes; long ones say why.
    assert!(classify(&"e".repeat(31)).is_err());
    assert!(classify(&"e".repeat(63)).is_err());

    let all = [&md5, &sha1, &sha256, &sha512];
    assert_eq!(preferred_hash(all), Some(&sha256));
    assert_eq!(preferred_hash([&md5, &sha1, &sha512]), Some(&sha1));
    assert_eq!(preferred_hash([&sha512, &md5]), Some(&md5));
    assert_eq!(preferred_hash([&sha512]), None);
}

/// K11: a file command with an empty hash argument gets a validation error
/// naming the missing value, before any HTTP call.
#[test]
fn k11_an_empty_value_is_refused() {
    for empty in ["", "   ", "\t\n"] {
        assert_eq!(classify(empty), Err(ClassifyError::Empty));
    }
    assert_eq!(ClassifyError::Empty.to_string(), "missing value: the indicator is empty");
}

/// K16: `example.com.`, `example.com` and `EXAMPLE.com` in one batch are
/// one indicator `example.com`, fanned back to every occurrence.
#[test]
fn k16_domain_spellings_are_one_indicator() {
    let batch = extract_text("example.com.\nexample.com\nEXAMPLE.com");
    assert_eq!(entries(&batch), [domain("example.com")]);
    let originals: Vec<&str> =
        batch.entries()[0].occurrences.iter().map(|o| o.original.as_str()).collect();
    assert_eq!(originals, ["example.com", "example.com", "EXAMPLE.com"]);

    // The same through the single-value classifier.
    for spelling in ["example.com.", "example.com", "EXAMPLE.com"] {
        assert_eq!(classify(spelling).map(|i| i.value), Ok("example.com".to_owned()));
    }
}

/// K17: `!url url=example.com` is refused with a hint to use `!domain`:
/// `example.com` classifies as a domain, not a URL. An IP literal is always
/// kind ip, never domain.
#[test]
fn k17_a_bare_name_is_a_domain_and_an_ip_is_an_ip() {
    assert_eq!(classify("example.com").map(|i| i.kind), Ok(Kind::Domain));
    assert_eq!(classify("https://example.com").map(|i| i.kind), Ok(Kind::Url));

    for (literal, kind) in [
        ("8.8.8.8", Kind::Ipv4),
        ("1.1.1.1", Kind::Ipv4),
        ("2606:4700::1111", Kind::Ipv6),
        ("::ffff:8.8.8.8", Kind::Ipv6),
    ] {
        assert_eq!(classify(literal).map(|i| i.kind), Ok(kind), "{literal}");
    }
    // Almost-IPs are refused as IPs, never taken for domains.
    for almost in ["256.1.1.1", "1.2.3.4.5", "01.02.03.04"] {
        match classify(almost) {
            Err(ClassifyError::Invalid { kind, .. }) => assert_eq!(kind, Kind::Ipv4, "{almost}"),
            other => panic!("{almost}: expected an invalid ipv4, got {other:?}"),
        }
    }
    // In text, a dotted quad is never reported as a domain.
    let batch = extract_text("seen 8.8.8.8. and 999.1.1.1 and 10.0.0.1.");
    assert_eq!(
        entries(&batch),
        [(Kind::Ipv4, "8.8.8.8".to_owned()), (Kind::Ipv4, "10.0.0.1".to_owned())]
    );
}

/// The documentation ranges are treated like private addresses unless the
/// operator opts them in (the case list's note on 192.0.2.0/24 and
/// friends).
#[test]
fn documentation_ranges_are_private_by_default() {
    let external = ProviderPolicy { internal: false, max_tlp: Tlp::Red };
    let indicator = classify("198.51.100.7").expect("an ip");
    assert_eq!(
        Gate::default().decide(&indicator, None, &external),
        Decision::NotSent {
            reason: NotSentReason::NonRoutable { range: "documentation address (RFC 5737)" }
        }
    );
    let demo = Gate::new(GatePolicy { allow_documentation_ranges: true });
    assert_eq!(demo.decide(&indicator, None, &external), Decision::Send);
}

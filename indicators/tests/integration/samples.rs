//! The real-shaped inputs of `examples/`: a Splunk notable, an Elastic
//! (ECS) alert, a Sentinel incident with entities, a phishing email with an
//! HTML body and an attachment, and a CSV feed. Each test lists every
//! occurrence that must come out, in order, with where it was found.

use ferret_indicators::{Format, Tlp, extract};

use crate::occurrences;

const SPLUNK: &[u8] = include_bytes!("../../../examples/splunk-notable.json");
const ELASTIC: &[u8] = include_bytes!("../../../examples/elastic-alert.json");
const SENTINEL: &[u8] = include_bytes!("../../../examples/sentinel-incident.json");
const PHISHING: &[u8] = include_bytes!("../../../examples/phishing.eml");
const FEED: &[u8] = include_bytes!("../../../examples/feed.csv");

type Expected<'a> = &'a [(&'a str, &'a str, &'a str, &'a str, Option<u16>)];

fn assert_occurrences(input: &[u8], format: Format, tlp: Option<Tlp>, expected: Expected<'_>) {
    let batch = extract(input, None);
    assert_eq!(batch.format(), format, "the format is sniffed");
    assert_eq!(batch.tlp(), tlp);
    assert!(batch.warnings().is_empty(), "warnings: {:?}", batch.warnings());
    let got = occurrences(&batch);
    let expected: Vec<_> = expected
        .iter()
        .map(|(k, v, at, original, port)| {
            (*k, v.to_string(), at.to_string(), original.to_string(), *port)
        })
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn splunk_notable() {
    // Fields read whole where Splunk's CIM names them (src, dest, url,
    // file_hash, sender), `_raw` and the description scanned as text, the
    // ports of `_raw` kept as context, the `TLP:AMBER` tag noted.
    assert_occurrences(
        SPLUNK,
        Format::Json,
        Some(Tlp::Amber),
        &[
            ("ipv4", "10.20.30.40", "result.rule_description", "10.20.30.40", None),
            ("ipv4", "10.20.30.40", "result.src", "10.20.30.40", None),
            ("ipv4", "10.20.30.40", "result.src_ip", "10.20.30.40", None),
            ("ipv4", "10.20.30.40", "result._raw", "10.20.30.40:51514", Some(51514)),
            ("ipv4", "8.8.8.8", "result.dest", "8.8.8.8", None),
            ("ipv4", "8.8.8.8", "result.dest_ip", "8.8.8.8", None),
            ("ipv4", "8.8.8.8", "result.threat_match_value", "8.8.8.8", None),
            ("ipv4", "8.8.8.8", "result._raw", "8.8.8.8:443", Some(443)),
            (
                "url",
                "https://login-portal.example.net/auth?session=7f3a",
                "result.url",
                "hxxps://login-portal.example[.]net/auth?session=7f3a",
                None,
            ),
            (
                "md5",
                "44d88612fea8a8f36de82e1278abb02f",
                "result.file_hash",
                "44D88612FEA8A8F36DE82E1278ABB02F",
                None,
            ),
            (
                "email",
                "billing@invoices.example.org",
                "result.sender",
                "billing@invoices.example.org",
                None,
            ),
            ("domain", "login-portal.example.net", "result._raw", "login-portal.example.net", None),
        ],
    );
}

#[test]
fn elastic_alert() {
    // ECS paths; the IDN destination as an A-label; `UPDATE.Example.com.`
    // merged with `update.example.com`; `svc.exe` and `WS-042` not domains;
    // the upper- and lowercase sha256 one entry; TLP from
    // `threat.indicator.marking.tlp`.
    assert_occurrences(
        ELASTIC,
        Format::Json,
        Some(Tlp::Green),
        &[
            ("ipv4", "192.168.1.10", "kibana.alert.reason", "192.168.1.10:49822", Some(49822)),
            ("ipv4", "192.168.1.10", "host.ip[0]", "192.168.1.10", None),
            ("ipv4", "192.168.1.10", "source.ip", "192.168.1.10", None),
            ("ipv4", "1.1.1.1", "kibana.alert.reason", "1.1.1.1:8443", Some(8443)),
            ("ipv4", "1.1.1.1", "destination.ip", "1.1.1.1", None),
            ("ipv6", "fe80::1c2a:3bff:fe4d:5e6f", "host.ip[1]", "fe80::1c2a:3bff:fe4d:5e6f", None),
            (
                "domain",
                "cdn.xn--bcher-kva.example",
                "destination.domain",
                "cdn.bücher.example",
                None,
            ),
            (
                "url",
                "https://update.example.com/dl/payload.bin?id=42",
                "url.full",
                "https://update.example.com/dl/payload.bin?id=42",
                None,
            ),
            ("domain", "update.example.com", "url.domain", "update.example.com", None),
            ("domain", "update.example.com", "dns.question.name", "UPDATE.Example.com.", None),
            (
                "sha256",
                "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
                "process.hash.sha256",
                "275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F",
                None,
            ),
            (
                "sha256",
                "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
                "file.hash.sha256",
                "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
                None,
            ),
            (
                "md5",
                "44d88612fea8a8f36de82e1278abb02f",
                "file.hash.md5",
                "44d88612fea8a8f36de82e1278abb02f",
                None,
            ),
        ],
    );
}

#[test]
fn sentinel_incident() {
    // Entities by index (`Entities[2].Address`), the uncompressed IPv6 in
    // RFC 5952 form, the JSON inside `ExtendedProperties` walked, the
    // bracketed IPv6 with its port, TLP:RED from the incident's labels.
    assert_occurrences(
        SENTINEL,
        Format::Json,
        Some(Tlp::Red),
        &[
            ("ipv4", "203.0.113.50", "properties.description", "203.0.113.50", None),
            ("ipv4", "203.0.113.50", "Entities[1].Address", "203.0.113.50", None),
            ("email", "exfil@example.net", "properties.description", "exfil@example.net", None),
            (
                "email",
                "exfil@example.net",
                "ExtendedProperties.Forwarding address",
                "exfil@example.net",
                None,
            ),
            ("domain", "contoso.example", "Entities[0].UPNSuffix", "contoso.example", None),
            (
                "ipv6",
                "2606:4700:4700::1111",
                "Entities[2].Address",
                "2606:4700:4700:0:0:0:0:1111",
                None,
            ),
            (
                "ipv6",
                "2606:4700:4700::1111",
                "ExtendedProperties.Client IP",
                "[2606:4700:4700::1111]:443",
                Some(443),
            ),
            (
                "url",
                "https://example.org/phish/login.php?u=jdoe",
                "Entities[3].Url",
                "https://example.org/phish/login.php?u=jdoe",
                None,
            ),
            (
                "domain",
                "xn--bcher-kva.example",
                "Entities[4].DomainName",
                "xn--bcher-kva.example",
                None,
            ),
            (
                "sha1",
                "3395856ce81f2b7382dee72602f798b642f14140",
                "Entities[5].Value",
                "3395856CE81F2B7382DEE72602F798B642F14140",
                None,
            ),
            ("domain", "corp.example", "Entities[6].DnsDomain", "corp.example", None),
        ],
    );
}

#[test]
fn phishing_email() {
    // Sender, Reply-To and Return-Path with their domains; the IPs of each
    // Received header (the IPv6 literal too); the HTML links, which differ
    // from the text they show; the defanged link of the text body,
    // quoted-printable decoded; the three digests of the attachment's
    // decoded bytes; `[TLP:AMBER]` from the subject.
    assert_occurrences(
        PHISHING,
        Format::Email,
        Some(Tlp::Amber),
        &[
            (
                "email",
                "helpdesk@secure-mail.example.net",
                "header From",
                "helpdesk@secure-mail.example.net",
                None,
            ),
            ("domain", "secure-mail.example.net", "header From", "secure-mail.example.net", None),
            (
                "email",
                "collect.payroll@example.org",
                "header Reply-To",
                "collect.payroll@example.org",
                None,
            ),
            ("domain", "example.org", "header Reply-To", "example.org", None),
            (
                "email",
                "bounce-7731@mailer.example.net",
                "header Return-Path",
                "bounce-7731@mailer.example.net",
                None,
            ),
            ("domain", "mailer.example.net", "header Return-Path", "mailer.example.net", None),
            ("ipv4", "198.51.100.23", "header Received[0]", "198.51.100.23", None),
            ("ipv4", "10.8.0.12", "header Received[1]", "10.8.0.12", None),
            ("ipv4", "8.8.4.4", "header Received[1]", "8.8.4.4", None),
            (
                "ipv6",
                "2001:db8:85a3::8a2e:370:7334",
                "header Received[2]",
                "2001:db8:85a3::8a2e:370:7334",
                None,
            ),
            (
                "url",
                "https://payroll-update.example.com/confirm?id=8812&t=a1",
                "html body, a[href]",
                "https://payroll-update.example.com/confirm?id=8812&t=a1",
                None,
            ),
            (
                "url",
                "http://8.8.4.4/track/open?u=jdoe",
                "html body, a[href]",
                "http://8.8.4.4/track/open?u=jdoe",
                None,
            ),
            (
                "url",
                "https://cdn.example.net/pixel.gif?u=jdoe",
                "html body, img[src]",
                "https://cdn.example.net/pixel.gif?u=jdoe",
                None,
            ),
            ("domain", "www.example.org", "html body, line 5", "www.example.org", None),
            (
                "url",
                "https://payroll-update.example.com/confirm?id=8812",
                "text body, line 3",
                "hxxps://payroll-update.example[.]com/confirm?id=8812",
                None,
            ),
            (
                "md5",
                "17beea2a17d5af0a2dce6b80f1ce2f46",
                "attachment Invoice_0519.html",
                "17beea2a17d5af0a2dce6b80f1ce2f46",
                None,
            ),
            (
                "sha1",
                "94920da46fa5c1468272b50ab70727301f051354",
                "attachment Invoice_0519.html",
                "94920da46fa5c1468272b50ab70727301f051354",
                None,
            ),
            (
                "sha256",
                "14f1a35b5d537237ecf25bc3fc74a54a7f92359c5c21153d91068c6dc88fb19d",
                "attachment Invoice_0519.html",
                "14f1a35b5d537237ecf25bc3fc74a54a7f92359c5c21153d91068c6dc88fb19d",
                None,
            ),
        ],
    );
}

#[test]
fn csv_feed() {
    // Only the `indicator` column is read: the descriptions' `example.org`
    // and the `type` column are not indicators of this feed.
    assert_occurrences(
        FEED,
        Format::Csv,
        None,
        &[
            (
                "url",
                "http://example.com/dropper/stage2.bin",
                "row 2, column indicator",
                "hxxp://example[.]com/dropper/stage2.bin",
                None,
            ),
            ("ipv4", "8.8.8.8", "row 3, column indicator", "8.8.8.8", None),
            (
                "sha256",
                "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
                "row 4, column indicator",
                "275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F",
                None,
            ),
            ("cidr", "198.51.100.0/24", "row 5, column indicator", "198.51.100.0/24", None),
        ],
    );
}

#[test]
fn batches_serialise_for_the_host() {
    // `ferret extract --format json` prints a batch as is: kind, value,
    // display, and each occurrence's place, original text and port.
    let batch = extract(SENTINEL, None);
    let json = serde_json::to_value(&batch).expect("a batch serialises");
    assert_eq!(json["format"], "json");
    assert_eq!(json["tlp"], "TLP:RED");
    let idn = &json["entries"][5];
    assert_eq!(idn["kind"], "domain");
    assert_eq!(idn["value"], "xn--bcher-kva.example");
    assert_eq!(idn["display"], "bücher.example");
    let v6 = &json["entries"][3]["occurrences"][1];
    assert_eq!(v6["location"], "ExtendedProperties.Client IP");
    assert_eq!(v6["original"], "[2606:4700:4700::1111]:443");
    assert_eq!(v6["port"], 443);
}

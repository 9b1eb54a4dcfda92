//! Phishing emails (`.eml`), read with `mail-parser` and `scraper`.
//!
//! What is taken, and from where:
//! - the addresses in `From`, `Sender`, `Reply-To` and `Return-Path`, and
//!   each address's domain;
//! - the IP addresses in every `Received` header (`Received[0]` is the
//!   top-most, the last hop) and in `X-Originating-IP`;
//! - every indicator in the plain text bodies;
//! - the links of the HTML bodies (`href`, `src`, `action` and the like),
//!   which may differ from the text shown, and every indicator in the text
//!   the HTML shows;
//! - the md5, sha1 and sha256 of each attachment's decoded bytes;
//! - any `TLP:` marking in a header or body.
//!
//! An attached message (`message/rfc822`) is hashed as an attachment but
//! not itself opened; extracting it as its own input finds what it holds.

use mail_parser::{Address, MessageParser, MimeHeaders, PartType};
use md5::Md5;
use scraper::{Html, Node};
use sha1::{Digest, Sha1};
use sha2::Sha256;

use crate::batch::{Batch, Format, Location};
use crate::classify::classify;
use crate::extract::{ExtractError, scan_into};
use crate::kind::{Indicator, Kind};
use crate::policy::find_tlp;
use crate::scan::scan;

/// Attributes of HTML elements that hold a link or a resource address.
const LINK_ATTRIBUTES: &[&str] =
    &["href", "src", "action", "formaction", "background", "data", "cite", "poster"];

/// Extract the indicators of an email.
pub fn extract_email(input: &[u8]) -> Result<Batch, ExtractError> {
    let message = MessageParser::default().parse(input).ok_or(ExtractError::Email)?;
    if message.headers().is_empty() {
        return Err(ExtractError::Email);
    }
    let mut batch = Batch::new(Format::Email);

    // Senders: who the mail says it is from, and where replies and bounces go.
    let senders =
        [("From", message.from()), ("Sender", message.sender()), ("Reply-To", message.reply_to())];
    for (header, address) in senders {
        for address in address.into_iter().flat_map(Address::iter) {
            if let Some(address) = address.address() {
                add_address(&mut batch, header, address);
            }
        }
    }
    if let Some(address) = message.return_address() {
        add_address(&mut batch, "Return-Path", address);
    }

    // The relays, last hop first, and any TLP marking in a header.
    let mut received = 0;
    for (name, raw) in message.headers_raw() {
        if let Some(tlp) = find_tlp(raw) {
            batch.note_tlp(tlp);
        }
        let header = if name.eq_ignore_ascii_case("Received") {
            received += 1;
            format!("Received[{}]", received - 1)
        } else if name.eq_ignore_ascii_case("X-Originating-IP") {
            "X-Originating-IP".to_owned()
        } else {
            continue;
        };
        scan(raw, &mut |found| {
            if found.indicator.kind.is_ip() {
                batch.add(found.indicator, Location::Header(header.clone()), found.original);
            }
        });
    }

    // The bodies. mail-parser lists an HTML-only message's HTML part as its
    // text body too; it is read once, as HTML.
    for &id in &message.html_body {
        if let Some(PartType::Html(html)) = message.part(id).map(|part| &part.body) {
            read_html(&mut batch, html);
        }
    }
    for &id in &message.text_body {
        if let Some(PartType::Text(text)) = message.part(id).map(|part| &part.body) {
            scan_into(&mut batch, text, &mut |found| Location::Body {
                html: false,
                line: found.line,
            });
        }
    }

    // Attachments, by the digests of their decoded bytes.
    for attachment in message.attachments() {
        let bytes = attachment.contents();
        let name = attachment.attachment_name().unwrap_or("(unnamed)");
        let digests = [
            (Kind::Md5, hex(&Md5::digest(bytes))),
            (Kind::Sha1, hex(&Sha1::digest(bytes))),
            (Kind::Sha256, hex(&Sha256::digest(bytes))),
        ];
        for (kind, value) in digests {
            let indicator = Indicator { kind, value: value.clone(), display: None, port: None };
            let location = Location::Attachment { name: name.to_owned() };
            batch.add(indicator, location, &value);
        }
    }
    Ok(batch)
}

/// An address and its domain, both placed at `header`.
fn add_address(batch: &mut Batch, header: &str, address: &str) {
    let Ok(indicator) = classify(address) else {
        return;
    };
    if indicator.kind != Kind::Email {
        return;
    }
    let domain = indicator.value.rsplit_once('@').map(|(_, domain)| domain.to_owned());
    let display = indicator
        .display
        .as_deref()
        .and_then(|d| d.rsplit_once('@'))
        .map(|(_, domain)| domain.to_owned());
    batch.add(indicator, Location::Header(header.to_owned()), address);
    if let Some(domain) = domain {
        let original = address.rsplit_once('@').map_or(address, |(_, d)| d);
        let indicator = Indicator { kind: Kind::Domain, value: domain, display, port: None };
        batch.add(indicator, Location::Header(header.to_owned()), original);
    }
}

/// The links of an HTML body, then the indicators in the text it shows.
fn read_html(batch: &mut Batch, html: &str) {
    let document = Html::parse_document(html);
    let mut shown = String::new();
    for node in document.tree.nodes() {
        match node.value() {
            Node::Element(element) => {
                for &attribute in LINK_ATTRIBUTES {
                    let Some(link) = element.attr(attribute) else {
                        continue;
                    };
                    let location =
                        Location::HtmlAttribute(format!("{}[{attribute}]", element.name()));
                    match classify(link) {
                        Ok(indicator) => batch.add(indicator, location, link.trim()),
                        Err(_) => scan_into(batch, link, &mut |_| location.clone()),
                    }
                }
            }
            Node::Text(text) => {
                let inside_script_or_style = node
                    .parent()
                    .and_then(|parent| parent.value().as_element())
                    .is_some_and(|parent| matches!(parent.name(), "script" | "style"));
                if !inside_script_or_style {
                    shown.push_str(text);
                }
            }
            _ => {}
        }
    }
    scan_into(batch, &shown, &mut |found| Location::Body { html: true, line: found.line });
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

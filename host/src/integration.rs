//! The Cortex XSOAR integration YAML, generated from the providers'
//! manifests.
//!
//! XSOAR runs integrations as Python scripts; Ferret's is a small bridge
//! (`integration/ferret.py`) that forwards each command to `ferret serve` or
//! to a local `ferret exec`. What XSOAR needs to know besides the script is
//! declared here: the instance's parameters, and every command with its
//! arguments and the context paths it writes. Two shapes come out of the same
//! manifests:
//!
//! - [`combined`]: the `Ferret` integration, answering every enabled
//!   provider's commands. A command several providers answer (`ip`,
//!   `domain`, `url`, `file`, ...) appears once, with the union of their
//!   arguments and outputs.
//! - [`branded`]: one provider alone, under the vendor's own brand (for
//!   example `AbuseIPDB`), for playbooks that pick an integration by brand.
//!
//! The script is either `-`, XSOAR's mark for code kept in a file beside
//! the YAML (the content repository's split layout, which `demisto-sdk`
//! unifies), or the bridge's source inlined, which is the unified form an
//! XSOAR server accepts as an upload.

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::sandbox::{ArgumentSpec, CommandSpec, IndicatorKind, Manifest, Reliability};
use crate::scoring::reliability_label;

/// `commonfields.id` and `name` of the combined integration.
pub const FERRET_ID: &str = "Ferret";

/// XSOAR's category for enrichment sources.
const CATEGORY: &str = "Data Enrichment & Threat Intelligence";

/// The container XSOAR runs the bridge in: Demisto's Python 3 image, which
/// has `requests`, the only library the bridge imports.
pub const DOCKER_IMAGE: &str = "demisto/python3:3.12.8.1983910";

/// `script.script` when the code lives in a file beside the YAML.
pub const SCRIPT_IN_FILE: &str = "-";

/// XSOAR's configuration parameter types.
const TEXT: u8 = 0;
const BOOLEAN: u8 = 8;
const CREDENTIALS: u8 = 9;
const SINGLE_SELECT: u8 = 15;

/// The grades XSOAR offers for a source's reliability, best first.
const RELIABILITY_GRADES: [Reliability; 7] = [
    Reliability::APlus,
    Reliability::A,
    Reliability::B,
    Reliability::C,
    Reliability::D,
    Reliability::E,
    Reliability::F,
];

/// An integration YAML document. Field order is the order written.
#[derive(Debug, Clone, Serialize)]
pub struct Integration {
    pub commonfields: CommonFields,
    pub name: String,
    pub display: String,
    pub category: String,
    pub description: String,
    pub configuration: Vec<Parameter>,
    pub script: Script,
}

/// `commonfields`: the id XSOAR keys the integration by; version `-1`
/// lets the server manage it.
#[derive(Debug, Clone, Serialize)]
pub struct CommonFields {
    pub id: String,
    pub version: i32,
}

/// One instance parameter on the integration's configuration page.
#[derive(Debug, Clone, Serialize)]
pub struct Parameter {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    #[serde(rename = "type")]
    pub kind: u8,
    pub required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub defaultvalue: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// For credentials: hide the user name field, leaving one secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hiddenusername: Option<bool>,
    /// For credentials: the label of the secret field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub displaypassword: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additionalinfo: Option<String>,
}

/// `script`: the language, the container and the commands.
#[derive(Debug, Clone, Serialize)]
pub struct Script {
    pub script: String,
    #[serde(rename = "type")]
    pub language: String,
    pub subtype: String,
    pub dockerimage: String,
    pub runonce: bool,
    pub commands: Vec<Command>,
}

/// One command as XSOAR lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Command {
    pub name: String,
    pub description: String,
    pub arguments: Vec<Argument>,
    pub outputs: Vec<Output>,
}

/// One argument of a command.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Argument {
    pub name: String,
    pub description: String,
    #[serde(skip_serializing_if = "is_false")]
    pub required: bool,
    /// Whether a bare value (`!ip 8.8.8.8`) binds to it.
    #[serde(skip_serializing_if = "is_false")]
    pub default: bool,
    #[serde(rename = "isArray", skip_serializing_if = "is_false")]
    pub is_array: bool,
    #[serde(rename = "defaultValue", skip_serializing_if = "Option::is_none")]
    pub default_value: Option<String>,
    /// `PREDEFINED` when the values are limited to `predefined`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub predefined: Vec<String>,
}

/// One context path a command writes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Output {
    #[serde(rename = "contextPath")]
    pub context_path: String,
    pub description: String,
    #[serde(rename = "type")]
    pub value_type: String,
}

fn is_false(value: &bool) -> bool {
    !*value
}

impl Integration {
    /// The document as YAML text.
    pub fn to_yaml(&self) -> Result<String> {
        serde_norway::to_string(self).context("failed to write the integration as YAML")
    }

    /// The command called `name`, if the integration declares it.
    pub fn command(&self, name: &str) -> Option<&Command> {
        self.script.commands.iter().find(|command| command.name == name)
    }
}

/// The `Ferret` integration: every command of the given providers, in the
/// order given. `script` is the bridge's source to inline, or `None` for
/// [`SCRIPT_IN_FILE`].
pub fn combined(manifests: &[&Manifest], script: Option<&str>) -> Result<Integration> {
    if manifests.is_empty() {
        bail!(
            "no enabled providers to describe: build the built-in ones with `cargo xtask build`, \
             or enable some in the configuration"
        );
    }
    let brands: Vec<&str> = manifests.iter().map(|manifest| manifest.brand.as_str()).collect();
    let description = format!(
        "Enriches IP addresses, domains, URLs, file hashes and e-mail addresses with threat \
         intelligence through Ferret, which runs each source as a sandboxed provider: {}. \
         Reputation commands answer once per provider, each with its own DBotScore.",
        brands.join(", ")
    );
    Ok(Integration {
        commonfields: CommonFields { id: FERRET_ID.to_owned(), version: -1 },
        name: FERRET_ID.to_owned(),
        display: FERRET_ID.to_owned(),
        category: CATEGORY.to_owned(),
        description,
        // Each provider keeps the reliability set in Ferret's configuration
        // unless the instance overrides it, so the combined integration
        // proposes no grade of its own.
        configuration: parameters(None),
        script: script_section(manifests, script),
    })
}

/// One provider's integration under the vendor's brand, with only its
/// commands. `script` as for [`combined`].
pub fn branded(manifest: &Manifest, script: Option<&str>) -> Integration {
    Integration {
        commonfields: CommonFields { id: manifest.brand.clone(), version: -1 },
        name: manifest.brand.clone(),
        display: format!("{} (Ferret)", manifest.brand),
        category: CATEGORY.to_owned(),
        description: format!(
            "{}. Runs Ferret's sandboxed `{}` provider, with the commands, arguments and \
             context of XSOAR's {} integration.",
            manifest.description.trim_end_matches('.'),
            manifest.id,
            manifest.brand
        ),
        configuration: parameters(Some(manifest.reliability)),
        script: script_section(&[manifest], script),
    }
}

/// The file name a brand's YAML is kept under: the brand with anything but
/// letters, digits, `_` and `-` left out (`MISP V3` gives `MISPV3.yml`).
pub fn brand_file_name(brand: &str) -> String {
    let stem: String =
        brand.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect();
    format!("{stem}.yml")
}

/// The instance parameters the bridge reads. `reliability` is the default
/// grade to propose, if any.
fn parameters(reliability: Option<Reliability>) -> Vec<Parameter> {
    let parameter = |name: &str, display: &str, kind: u8| Parameter {
        name: name.to_owned(),
        display: Some(display.to_owned()),
        kind,
        required: false,
        defaultvalue: None,
        options: Vec::new(),
        hiddenusername: None,
        displaypassword: None,
        additionalinfo: None,
    };
    let reliability_info = match reliability {
        Some(_) => "Reliability of the source providing the intelligence data.",
        None => {
            "Reliability of the source providing the intelligence data. Empty: each \
             provider's reliability from Ferret's configuration."
        }
    };
    vec![
        Parameter {
            additionalinfo: Some(
                "Base URL of a running `ferret serve`, e.g. https://ferret.example:8443. Leave \
                 empty to run a local binary instead (see the ferret binary path)."
                    .to_owned(),
            ),
            ..parameter("url", "Server URL", TEXT)
        },
        Parameter {
            display: None,
            hiddenusername: Some(true),
            displaypassword: Some("API token".to_owned()),
            additionalinfo: Some(
                "The bearer token `ferret serve` expects. Provider API keys stay in Ferret's \
                 own configuration."
                    .to_owned(),
            ),
            ..parameter("token", "", CREDENTIALS)
        },
        Parameter {
            defaultvalue: reliability.map(|grade| reliability_label(grade).to_owned()),
            options: RELIABILITY_GRADES
                .iter()
                .map(|grade| reliability_label(*grade).to_owned())
                .collect(),
            additionalinfo: Some(reliability_info.to_owned()),
            ..parameter("reliability", "Source Reliability", SINGLE_SELECT)
        },
        parameter("insecure", "Trust any certificate (not secure)", BOOLEAN),
        parameter("proxy", "Use system proxy settings", BOOLEAN),
        Parameter {
            additionalinfo: Some(
                "In a custom image that contains the ferret binary: its path, to run each \
                 command with `ferret exec` instead of calling a server."
                    .to_owned(),
            ),
            ..parameter("ferret_path", "Path of a local ferret binary", TEXT)
        },
    ]
}

fn script_section(manifests: &[&Manifest], script: Option<&str>) -> Script {
    Script {
        script: script.unwrap_or(SCRIPT_IN_FILE).to_owned(),
        language: "python".to_owned(),
        subtype: "python3".to_owned(),
        dockerimage: DOCKER_IMAGE.to_owned(),
        runonce: false,
        commands: commands(manifests),
    }
}

/// A command name and the providers' specs that answer it, by name or
/// alias, in the order first met.
struct Gathered<'a> {
    name: &'a str,
    specs: Vec<(&'a Manifest, &'a CommandSpec)>,
}

fn commands(manifests: &[&Manifest]) -> Vec<Command> {
    let mut gathered: Vec<Gathered> = Vec::new();
    for manifest in manifests {
        for spec in &manifest.commands {
            for name in std::iter::once(&spec.name).chain(&spec.aliases) {
                match gathered.iter_mut().find(|entry| entry.name == name.as_str()) {
                    Some(entry) => entry.specs.push((manifest, spec)),
                    None => gathered.push(Gathered { name, specs: vec![(manifest, spec)] }),
                }
            }
        }
    }
    gathered.iter().map(merge).collect()
}

/// One YAML command from every spec that answers its name.
fn merge(gathered: &Gathered) -> Command {
    let specs: Vec<&CommandSpec> = gathered.specs.iter().map(|(_, spec)| *spec).collect();
    let description = match gathered.specs.as_slice() {
        [(_, spec)] => spec.description.clone(),
        several => {
            let brands: Vec<&str> =
                several.iter().map(|(manifest, _)| manifest.brand.as_str()).collect();
            format!(
                "Answered by every enabled provider that has it ({}), one entry and one \
                 DBotScore each.",
                brands.join(", ")
            )
        }
    };

    let mut arguments: Vec<Argument> = Vec::new();
    for spec in &specs {
        for declared in &spec.arguments {
            if !arguments.iter().any(|argument| argument.name == declared.name) {
                arguments.push(merge_argument(&declared.name, &specs));
            }
        }
    }
    // XSOAR binds a bare value to one argument only; the first keeps it.
    let mut default_taken = false;
    for argument in &mut arguments {
        argument.default &= !default_taken;
        default_taken |= argument.default;
    }

    let mut outputs: Vec<Output> = Vec::new();
    for spec in &specs {
        let declared = spec.outputs.iter().map(|output| Output {
            context_path: output.context_path.clone(),
            description: output.description.clone(),
            value_type: output.value_type.clone(),
        });
        for output in standard_outputs(&spec.kinds).into_iter().chain(declared) {
            if !outputs.iter().any(|known| known.context_path == output.context_path) {
                outputs.push(output);
            }
        }
    }

    Command { name: gathered.name.to_owned(), description, arguments, outputs }
}

/// One argument across the specs that answer a command.
///
/// Each provider gets its own declared defaults from the host, so the YAML
/// states a default value only where they all agree; the argument is
/// required only if every provider requires it, since any one of them may
/// run without it; its values are limited only if every provider limits
/// them.
fn merge_argument(name: &str, specs: &[&CommandSpec]) -> Argument {
    let declared: Vec<&ArgumentSpec> = specs
        .iter()
        .filter_map(|spec| spec.arguments.iter().find(|argument| argument.name == name))
        .collect();
    let first = declared[0];
    let everywhere = declared.len() == specs.len();

    let default_value = first
        .default_value
        .clone()
        .filter(|value| declared.iter().all(|other| other.default_value.as_ref() == Some(value)));
    let mut predefined: Vec<String> = Vec::new();
    if declared.iter().all(|argument| !argument.predefined.is_empty()) {
        for value in declared.iter().flat_map(|argument| &argument.predefined) {
            if !predefined.contains(value) {
                predefined.push(value.clone());
            }
        }
    }

    Argument {
        name: name.to_owned(),
        description: first.description.clone(),
        required: everywhere && declared.iter().all(|argument| argument.required),
        default: declared.iter().all(|argument| argument.is_default),
        is_array: declared.iter().any(|argument| argument.is_array),
        default_value,
        auto: (!predefined.is_empty()).then(|| "PREDEFINED".to_owned()),
        predefined,
    }
}

/// What the host itself writes for a command that judges indicators of
/// these kinds: a DBotScore per indicator, and the standard indicator
/// object with its key and, for a bad score, `Malicious`. Networks get no
/// standard object, as in XSOAR.
fn standard_outputs(kinds: &[IndicatorKind]) -> Vec<Output> {
    let output = |path: &str, value_type: &str, description: &str| Output {
        context_path: path.to_owned(),
        description: description.to_owned(),
        value_type: value_type.to_owned(),
    };
    if kinds.is_empty() {
        return Vec::new();
    }
    let mut outputs = vec![
        output("DBotScore.Indicator", "String", "The indicator that was tested."),
        output("DBotScore.Type", "String", "The indicator type."),
        output("DBotScore.Vendor", "String", "The vendor used to calculate the score."),
        output("DBotScore.Score", "Number", "The actual score."),
        output(
            "DBotScore.Reliability",
            "String",
            "Reliability of the source providing the intelligence data.",
        ),
        output("DBotScore.Message", "String", "Why there is no score, e.g. No results found."),
    ];
    let mut objects: Vec<&str> = Vec::new();
    for kind in kinds {
        let (object, key, description) = match kind {
            IndicatorKind::Ipv4 | IndicatorKind::Ipv6 => ("IP", "Address", "The IP address."),
            IndicatorKind::Domain => ("Domain", "Name", "The domain name."),
            IndicatorKind::Url => ("URL", "Data", "The URL."),
            IndicatorKind::Email => ("Email", "Address", "The e-mail address."),
            IndicatorKind::Md5 => ("File", "MD5", "The file's MD5 hash."),
            IndicatorKind::Sha1 => ("File", "SHA1", "The file's SHA-1 hash."),
            IndicatorKind::Sha256 => ("File", "SHA256", "The file's SHA-256 hash."),
            IndicatorKind::Sha512 => ("File", "SHA512", "The file's SHA-512 hash."),
            IndicatorKind::Cidr => continue,
        };
        outputs.push(output(&format!("{object}.{key}"), "String", description));
        if !objects.contains(&object) {
            objects.push(object);
        }
    }
    for object in objects {
        outputs.push(output(
            &format!("{object}.Malicious.Vendor"),
            "String",
            "For a malicious indicator, the vendor that judged it so.",
        ));
        outputs.push(output(
            &format!("{object}.Malicious.Description"),
            "String",
            "For a malicious indicator, why the vendor judged it so.",
        ));
    }
    let mut unique: Vec<Output> = Vec::new();
    for output in outputs {
        if !unique.iter().any(|known| known.context_path == output.context_path) {
            unique.push(output);
        }
    }
    unique
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::{OutputSpec, RateLimits};

    fn argument(name: &str) -> ArgumentSpec {
        ArgumentSpec {
            name: name.to_owned(),
            description: format!("The {name}."),
            required: false,
            default_value: None,
            is_array: false,
            is_default: false,
            predefined: Vec::new(),
        }
    }

    fn indicator_argument(name: &str) -> ArgumentSpec {
        ArgumentSpec { required: true, is_array: true, is_default: true, ..argument(name) }
    }

    fn command(name: &str, alias: &str, arguments: Vec<ArgumentSpec>) -> CommandSpec {
        CommandSpec {
            name: name.to_owned(),
            aliases: vec![alias.to_owned()],
            description: format!("Runs {name}."),
            arguments,
            indicator_argument: Some("ip".to_owned()),
            kinds: vec![IndicatorKind::Ipv4, IndicatorKind::Ipv6],
            context_path: "Vendor".to_owned(),
            key_field: "Address".to_owned(),
            outputs: vec![OutputSpec {
                context_path: format!("{name}.Score"),
                description: "A score.".to_owned(),
                value_type: "Number".to_owned(),
            }],
        }
    }

    fn manifest(id: &str, brand: &str, commands: Vec<CommandSpec>) -> Manifest {
        Manifest {
            id: id.to_owned(),
            brand: brand.to_owned(),
            version: "0.1.0".to_owned(),
            description: format!("{brand} lookups."),
            reliability: Reliability::B,
            base_url: "https://example.invalid".to_owned(),
            hosts: Vec::new(),
            secrets: Vec::new(),
            settings: Vec::new(),
            limits: RateLimits { per_second: None, per_minute: None, per_day: None },
            commands,
        }
    }

    /// Two providers that both answer `ip`, with overlapping arguments.
    fn two_providers() -> (Manifest, Manifest) {
        let mut days = argument("days");
        days.default_value = Some("30".to_owned());
        let mut verbose = argument("verbose");
        verbose.predefined = vec!["true".to_owned(), "false".to_owned()];
        let first = manifest(
            "first",
            "First",
            vec![command("first-ip", "ip", vec![indicator_argument("ip"), days.clone(), verbose])],
        );
        let mut other_days = days;
        other_days.default_value = Some("7".to_owned());
        let mut mode = argument("mode");
        mode.required = true;
        let second = manifest(
            "second",
            "Second",
            vec![command(
                "second-ip",
                "ip",
                vec![indicator_argument("ip"), other_days, argument("verbose"), mode],
            )],
        );
        (first, second)
    }

    #[test]
    fn a_shared_command_appears_once_with_the_union_of_arguments() {
        let (first, second) = two_providers();
        let yaml = combined(&[&first, &second], None).unwrap();
        let names: Vec<&str> = yaml.script.commands.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["first-ip", "ip", "second-ip"]);

        let ip = yaml.command("ip").unwrap();
        let arguments: Vec<&str> = ip.arguments.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(arguments, ["ip", "days", "verbose", "mode"]);
        // Both require `ip` and bind a bare value to it.
        assert!(ip.arguments[0].required && ip.arguments[0].default && ip.arguments[0].is_array);
        // The providers disagree on `days`' default: each applies its own.
        assert_eq!(ip.arguments[1].default_value, None);
        // Only First limits `verbose`; Second takes any text: no list.
        assert!(ip.arguments[2].predefined.is_empty());
        assert_eq!(ip.arguments[2].auto, None);
        // Second requires `mode`, but First runs without it.
        assert!(!ip.arguments[3].required);
        assert!(ip.description.contains("(First, Second)"), "{}", ip.description);
        // Both providers' outputs, after the standard ones, each path once.
        let paths: Vec<&str> = ip.outputs.iter().map(|o| o.context_path.as_str()).collect();
        assert_eq!(paths.iter().filter(|path| **path == "DBotScore.Score").count(), 1);
        assert!(paths.ends_with(&["first-ip.Score", "second-ip.Score"]), "{paths:?}");
    }

    #[test]
    fn a_command_of_one_provider_keeps_its_own_defaults_and_values() {
        let (first, _) = two_providers();
        let yaml = combined(&[&first], None).unwrap();
        let command = yaml.command("first-ip").unwrap();
        assert_eq!(command.description, "Runs first-ip.");
        assert_eq!(command.arguments[1].default_value.as_deref(), Some("30"));
        assert_eq!(command.arguments[2].predefined, ["true", "false"]);
        assert_eq!(command.arguments[2].auto.as_deref(), Some("PREDEFINED"));
    }

    #[test]
    fn values_stay_limited_when_only_the_limiting_provider_declares_the_argument() {
        let (first, mut second) = two_providers();
        second.commands[0].arguments.retain(|argument| argument.name != "verbose");
        let yaml = combined(&[&first, &second], None).unwrap();
        // The host hands `verbose` to First alone, which checks its values.
        let verbose = &yaml.command("ip").unwrap().arguments[2];
        assert_eq!(verbose.name, "verbose");
        assert_eq!(verbose.predefined, ["true", "false"]);
        assert!(!verbose.required);
    }

    #[test]
    fn only_one_argument_takes_the_bare_value() {
        let mut spec = command("x-ip", "ip", vec![indicator_argument("ip"), argument("other")]);
        spec.arguments[1].is_default = true;
        let provider = manifest("x", "X", vec![spec]);
        let yaml = branded(&provider, None);
        let defaults: Vec<bool> =
            yaml.command("x-ip").unwrap().arguments.iter().map(|a| a.default).collect();
        assert_eq!(defaults, [true, false]);
    }

    #[test]
    fn reputation_commands_get_dbotscore_and_the_standard_object() {
        let outputs = standard_outputs(&[IndicatorKind::Md5, IndicatorKind::Sha256]);
        let paths: Vec<&str> = outputs.iter().map(|o| o.context_path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "DBotScore.Indicator",
                "DBotScore.Type",
                "DBotScore.Vendor",
                "DBotScore.Score",
                "DBotScore.Reliability",
                "DBotScore.Message",
                "File.MD5",
                "File.SHA256",
                "File.Malicious.Vendor",
                "File.Malicious.Description",
            ]
        );
        // A network gets a score per address but no standard object of its own.
        assert_eq!(standard_outputs(&[IndicatorKind::Cidr]).len(), 6);
        assert!(standard_outputs(&[]).is_empty());
    }

    #[test]
    fn the_brand_variant_is_named_after_the_vendor_with_its_reliability() {
        let (first, _) = two_providers();
        let yaml = branded(&first, None);
        assert_eq!(yaml.commonfields.id, "First");
        assert_eq!(yaml.name, "First");
        assert_eq!(yaml.display, "First (Ferret)");
        let reliability = yaml.configuration.iter().find(|p| p.name == "reliability").unwrap();
        assert_eq!(reliability.kind, 15);
        assert_eq!(reliability.defaultvalue.as_deref(), Some("B - Usually reliable"));
        assert_eq!(reliability.options.len(), 7);
        // The combined integration leaves the grade to each provider.
        let combined = combined(&[&first], None).unwrap();
        let reliability = combined.configuration.iter().find(|p| p.name == "reliability");
        assert_eq!(reliability.unwrap().defaultvalue, None);
    }

    #[test]
    fn the_script_is_a_dash_or_the_bridge_inlined_as_a_block() {
        let (first, _) = two_providers();
        let split = branded(&first, None).to_yaml().unwrap();
        assert!(split.contains("\nscript:\n  script: '-'\n  type: python\n  subtype: python3\n"));

        let bridge = "import demistomock as demisto\n\n\ndef main():\n    pass\n";
        let unified = branded(&first, Some(bridge)).to_yaml().unwrap();
        let parsed: serde_norway::Value = serde_norway::from_str(&unified).unwrap();
        assert_eq!(parsed["script"]["script"].as_str(), Some(bridge));
        assert!(unified.contains("  script: |\n    import demistomock as demisto\n"), "{unified}");
    }

    #[test]
    fn no_providers_is_an_error_saying_how_to_get_some() {
        let error = combined(&[], None).unwrap_err().to_string();
        assert!(error.contains("cargo xtask build"), "{error}");
    }

    #[test]
    fn brand_file_names_keep_letters_digits_and_underscores() {
        assert_eq!(brand_file_name("MISP V3"), "MISPV3.yml");
        assert_eq!(brand_file_name("urlscan.io"), "urlscanio.yml");
        assert_eq!(brand_file_name("PassiveTotal_v2"), "PassiveTotal_v2.yml");
    }
}

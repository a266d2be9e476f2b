//! The fixtures in `tests/fixtures/publiccode` (see its README), each with
//! the key the reference parser would name.

use super::*;

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../../tests/fixtures/publiccode/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn errors(name: &str) -> Vec<Finding> {
    Publiccode::parse(&fixture(name)).expect_err(name)
}

#[test]
fn valid_files_give_their_facts() {
    let p = Publiccode::parse(&fixture("valid-hundesteuer.yml")).unwrap();
    assert_eq!(p.name, "Hundesteuer online");
    assert_eq!(p.licence, "EUPL-1.2");
    assert_eq!(p.development_status, "stable");
    assert_eq!(p.platforms, ["web"]);
    assert_eq!(p.release_date.as_deref(), Some("2026-03-01"));
    assert_eq!(p.maintainers, ["Erika Mustermann"]);
    assert_eq!(p.used_by, ["Stadt Ulm"]);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert!(p.description("de").unwrap().long.starts_with("Bürgerinnen"));
    assert_eq!(p.description("en").unwrap().language, "en");
    assert_eq!(p.description("fr").unwrap().language, "de");

    let minimal = Publiccode::parse(&fixture("valid-minimal.yml")).unwrap();
    assert_eq!(minimal.licence, "MIT OR Apache-2.0");
    assert_eq!(minimal.warnings.len(), 1);
    assert_eq!(minimal.warnings[0].key, "publiccodeYmlVersion");
}

#[test]
fn invalid_files_name_the_key() {
    let cases = [
        (
            "invalid-missing-name.yml",
            "name",
            "name is a required field",
        ),
        (
            "invalid-unknown-key.yml",
            "foobar",
            "unknown field \"foobar\"",
        ),
        (
            "invalid-licence.yml",
            "legal.license",
            "must be a valid license",
        ),
        (
            "invalid-development-status.yml",
            "developmentStatus",
            "\"concept\", \"development\", \"beta\", \"stable\" or \"obsolete\"",
        ),
        ("invalid-wrong-type.yml", "platforms", "wrong type"),
        (
            "invalid-version.yml",
            "publiccodeYmlVersion",
            "unsupported version: '1'",
        ),
        (
            "invalid-short-description.yml",
            "description.de.longDescription",
            "at least 150 characters",
        ),
        ("invalid-yaml-syntax.yml", "", "is not valid YAML"),
    ];
    for (file, key, text) in cases {
        let found = errors(file);
        assert!(
            found
                .iter()
                .any(|f| f.key == key && f.message_en().contains(text)),
            "{file}: {:?}",
            found.iter().map(Finding::message_en).collect::<Vec<_>>()
        );
    }
    // Both problems of one file are reported, each at its line.
    let both = errors("invalid-wrong-type.yml");
    let keys: Vec<_> = both.iter().map(|f| (f.key.as_str(), f.line)).collect();
    assert_eq!(keys, [("platforms", 4), ("releaseDate", 5)]);
    assert_eq!(errors("invalid-yaml-syntax.yml")[0].line, 2);
    // German messages name the key too.
    assert!(errors("invalid-licence.yml")[0]
        .message_de()
        .contains("legal.license: license muss eine gültige SPDX-Lizenz sein"));
}

#[test]
fn yaml_1_2_booleans_and_bare_versions() {
    let base = fixture("valid-minimal.yml");
    let yes = base.replace("localisationReady: false", "localisationReady: yes");
    assert_eq!(
        Publiccode::parse(&yes).unwrap_err()[0].key,
        "localisation.localisationReady"
    );
    let bare = base.replace("\"0.4\"", "0.4");
    assert_eq!(
        Publiccode::parse(&bare).unwrap_err()[0].issue,
        Issue::WrongType
    );
}

#[test]
fn maintenance_needs_the_right_people() {
    let base = fixture("valid-minimal.yml");
    let contract = base.replace("type: \"none\"", "type: contract");
    assert_eq!(
        Publiccode::parse(&contract).unwrap_err()[0].issue,
        Issue::ContractorsRequired
    );
    let community = base.replace("type: \"none\"", "type: community");
    assert!(matches!(
        Publiccode::parse(&community).unwrap_err()[0].issue,
        Issue::ContactsRequired(_)
    ));
}

#[test]
fn export_adds_adopters_and_reads_back() {
    let p = Publiccode::parse(&fixture("valid-hundesteuer.yml")).unwrap();
    let out = p.export(&["Gemeinde Blaustein".into(), "Stadt Ulm".into()]);
    let back = Publiccode::parse(&out).unwrap_or_else(|e| panic!("{out}\n{e:?}"));
    assert_eq!(back.used_by, ["Stadt Ulm", "Gemeinde Blaustein"]);
    assert_eq!(back.version, "0");
    assert_eq!(back.software_version.as_deref(), Some("2.3.1"));
    assert_eq!(back.release_date, p.release_date);
    assert_eq!(back.descriptions, p.descriptions);
    assert_eq!(back.export(&[]), out, "a second export changes nothing");
    // A file without usedBy gets one.
    let minimal = Publiccode::parse(&fixture("valid-minimal.yml")).unwrap();
    let out = minimal.export(&["Stadt Ulm".into()]);
    assert_eq!(Publiccode::parse(&out).unwrap().used_by, ["Stadt Ulm"]);
}

#[test]
fn awkward_strings_survive_export() {
    let base = fixture("valid-minimal.yml");
    let tricky = base.replace(
        "name: Formularserver",
        "name: \"yes\"\nsoftwareVersion: \"0.4\"\nreleaseDate: \"2026-03-01\"\napplicationSuite: \"  eingerückt\\nzweite: Zeile\\n\\n\"",
    );
    let p = Publiccode::parse(&tricky).unwrap_or_else(|e| panic!("{e:?}"));
    let out = p.export(&[]);
    let back = Publiccode::parse(&out).unwrap_or_else(|e| panic!("{out}\n{e:?}"));
    assert_eq!(back.name, "yes");
    assert_eq!(back.software_version.as_deref(), Some("0.4"));
    assert_eq!(back.release_date.as_deref(), Some("2026-03-01"));
    let suite = |x: &Publiccode| {
        x.doc
            .get("applicationSuite")
            .and_then(tree::Node::as_str)
            .map(str::to_owned)
    };
    assert_eq!(
        suite(&back).as_deref(),
        Some("  eingerückt\nzweite: Zeile\n\n")
    );
    assert_eq!(
        back.descriptions, p.descriptions,
        "folded text comes back the same"
    );
}

#[test]
fn links_in_the_file_are_addresses() {
    let base = fixture("valid-minimal.yml");
    let script = base.replace(
        "url: \"https://code.example.org/verbund/formulare.git\"",
        "url: \"javascript:alert(1)\"",
    );
    assert_eq!(Publiccode::parse(&script).unwrap_err()[0].key, "url");
}

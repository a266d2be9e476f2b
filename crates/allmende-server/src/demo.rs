//! `allmende demo`: a node with realistic sample data, ready to click
//! through. It uses its own database (`data/demo.sqlite`, recreated on each
//! run) so it never touches a real node's data.

use allmende_domain::solution::LocalParameterInput;
use allmende_domain::text::LinkInput;
use allmende_domain::*;
use allmende_store::User;

use crate::app::{shutdown_signal, Application};
use crate::auth::password;
use crate::config::Config;
use crate::state::AppState;
use crate::usecases::{accounts, items, organizations, questions, UseCaseError};

pub const DEMO_DATABASE: &str = "data/demo.sqlite";

/// A login the demo prints.
pub struct DemoLogin {
    pub email: String,
    pub password: String,
    pub organization: String,
}

fn org(
    name: &str,
    kind: &str,
    ags: Option<&str>,
    population: Option<u32>,
    website: &str,
    description: &str,
) -> OrganizationInput {
    OrganizationInput {
        name: Some(name.into()),
        kind: Some(kind.into()),
        ags: ags.map(Into::into),
        population,
        website: Some(website.into()),
        description: Some(description.into()),
        ..Default::default()
    }
}

fn contact(name: &str, role: &str, email: &str) -> Option<ContactInput> {
    Some(ContactInput {
        name: Some(name.into()),
        role: Some(role.into()),
        email: Some(email.into()),
        phone: None,
    })
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

const PUBLICCODE: &str = "publiccodeYmlVersion: \"0.4\"
name: Hundesteuer online
url: https://git.example.org/ulm/hundesteuer-online
releaseDate: \"2026-03-01\"
platforms:
  - web
categories:
  - tax-management
developmentStatus: stable
softwareType: standalone/web
description:
  de:
    shortDescription: Online-Anmeldung und -Abmeldung von Hunden zur Hundesteuer
    longDescription: >
      Bürgerinnen und Bürger melden Hunde online an und ab. Der Dienst
      übergibt die Daten an das Steuerverfahren und erzeugt den Bescheid.
    features:
      - Anmeldung, Abmeldung, Ermäßigungsantrag
      - Anbindung an Servicekonto BW
legal:
  license: EUPL-1.2
maintenance:
  type: internal
  contacts:
    - name: Digitalisierungsstelle Ulm
localisation:
  localisationReady: true
  availableLanguages:
    - de
";

/// Fills an empty store with sample organizations, users and items.
/// Returns the logins to print.
pub async fn seed(state: &AppState) -> Result<Vec<DemoLogin>, UseCaseError> {
    let store = &state.store;
    organizations::create(
        store,
        "ulm",
        &org(
            "Stadt Ulm",
            "municipality",
            Some("08421000"),
            Some(128_928),
            "https://www.ulm.de",
            "Universitätsstadt an der Donau; Smart-City-Modellprojekt.",
        ),
    )
    .await?;
    organizations::create(
        store,
        "mannheim",
        &org(
            "Stadt Mannheim",
            "municipality",
            Some("08222000"),
            Some(315_554),
            "https://www.mannheim.de",
            "Quadratestadt; Digitalisierungsstrategie mit 40 Maßnahmen.",
        ),
    )
    .await?;
    organizations::create(
        store,
        "blaustein",
        &org(
            "Stadt Blaustein",
            "municipality",
            Some("08425020"),
            Some(16_200),
            "https://www.blaustein.de",
            "Kleine Stadt im Alb-Donau-Kreis ohne eigene IT-Abteilung.",
        ),
    )
    .await?;
    organizations::create(
        store,
        "digitalverbund-bw",
        &org(
            "Digitalverbund Baden-Württemberg (Beispiel)",
            "association",
            None,
            None,
            "https://digitalverbund.example.org",
            "Zusammenschluss von Kommunen für gemeinsame Digitalisierung.",
        ),
    )
    .await?;

    let mut logins = Vec::new();
    let mut users: Vec<User> = Vec::new();
    for (email, handle, role) in [
        ("digital@ulm.example", "ulm", "admin"),
        ("it@mannheim.example", "mannheim", "admin"),
        ("rathaus@blaustein.example", "blaustein", "admin"),
        (
            "geschaeftsstelle@digitalverbund.example",
            "digitalverbund-bw",
            "admin",
        ),
    ] {
        let pw = password::generate();
        users.push(accounts::create_user(store, email, handle, role, &pw).await?);
        logins.push(DemoLogin {
            email: email.into(),
            password: pw,
            organization: handle.into(),
        });
    }
    let [u_ulm, u_mannheim, u_blaustein, u_verbund] = [&users[0], &users[1], &users[2], &users[3]];

    let dog_tax_leika = strings(&["99041006017000"]);
    items::create::<Project>(state, u_ulm, &ProjectInput {
        title: Some("Hundesteuer digital anmelden".into()),
        summary: Some("An- und Abmeldung von Hunden vollständig online, mit Übergabe an das Steuerverfahren.".into()),
        body: Some("Seit Anfang 2026 können Hundehalterinnen und -halter in Ulm ihre Hunde online anmelden.\n\nWir suchen Kommunen, die den Dienst nachnutzen und gemeinsam weiterentwickeln möchten.".into()),
        status: Some("live".into()),
        start_date: Some("2025-03-01".into()),
        themenfeld: Some("steuern-zoll".into()),
        leika_keys: dog_tax_leika.clone(),
        partners: strings(&["Stadt Blaustein"]),
        funding_programme: Some("Digitalakademie@bw".into()),
        seeking_partners: Some(true),
        contact: contact("Eva Schäfer", "Digitalisierungsstelle", "eva.schaefer@ulm.example"),
        links: vec![LinkInput { title: Some("Onlinedienst".into()), url: "https://www.ulm.de/hundesteuer".into() }],
        ..Default::default()
    }).await?;
    items::create::<Project>(
        state,
        u_mannheim,
        &ProjectInput {
            title: Some("Bewohnerparkausweis online".into()),
            summary: Some(
                "Antrag, Bezahlung und digitaler Ausweis ohne Gang ins Bürgerbüro.".into(),
            ),
            status: Some("running".into()),
            start_date: Some("2025-09-01".into()),
            end_date: Some("2026-12-31".into()),
            themenfeld: Some("mobilitaet-reisen".into()),
            contact: contact(
                "Jonas Keller",
                "Fachbereich Digitalisierung",
                "jonas.keller@mannheim.example",
            ),
            ..Default::default()
        },
    )
    .await?;
    items::create::<Project>(
        state,
        u_blaustein,
        &ProjectInput {
            title: Some("LoRaWAN-Sensoren für Pegelstände der Blau".into()),
            summary: Some("Funkbasierte Pegelmessung als Frühwarnung bei Hochwasser.".into()),
            status: Some("planned".into()),
            themenfeld: Some("umwelt".into()),
            seeking_partners: Some(true),
            ..Default::default()
        },
    )
    .await?;
    items::create::<Project>(
        state,
        u_verbund,
        &ProjectInput {
            title: Some("E-Rechnung im Rathaus: gemeinsamer Rollout".into()),
            summary: Some(
                "Mitgliedskommunen führen den Empfang von XRechnungen gemeinsam ein.".into(),
            ),
            status: Some("idea".into()),
            themenfeld: Some("querschnitt".into()),
            ..Default::default()
        },
    )
    .await?;

    let question: Question = items::create(state, u_blaustein, &QuestionInput {
        title: Some("Wer hat die Hundesteuer-Anmeldung schon digitalisiert?".into()),
        body: Some("Wir sind eine kleine Stadt ohne eigene IT und möchten die Hundesteuer-Anmeldung online anbieten. Wer hat das schon umgesetzt, mit welchem Produkt, und was würden Sie heute anders machen?".into()),
        themenfeld: Some("steuern-zoll".into()),
        leika_keys: dog_tax_leika.clone(),
        ..Default::default()
    }).await?;
    let from_ulm = questions::answer(state, u_ulm, question.id.0, &AnswerInput {
        body: Some("Wir haben den Dienst selbst gebaut und stellen ihn unter EUPL zur Nachnutzung bereit (siehe Lösung „Hundesteuer online“). Sie müssen nur Ihre Steuersätze und das zuständige Amt eintragen.".into()),
    }).await?;
    questions::answer(state, u_mannheim, question.id.0, &AnswerInput {
        body: Some("Wir nutzen ein Modul unseres Steuerverfahrens. Das geht schnell, ist aber an den Hersteller gebunden.".into()),
    }).await?;
    questions::accept(state, u_blaustein, from_ulm.id.0).await?;

    items::create::<Solution>(state, u_ulm, &SolutionInput {
        title: Some("Hundesteuer online".into()),
        summary: Some("Onlinedienst zur An- und Abmeldung von Hunden, angebunden an das Servicekonto.".into()),
        body: Some("Der Dienst ist seit 2026 in Ulm produktiv. Die Nachnutzung erfordert keine Programmierung: Steuersätze, Ermäßigungen und das zuständige Amt werden konfiguriert.".into()),
        kind: Some("software".into()),
        licence: Some("EUPL-1.2".into()),
        maturity: Some("stable".into()),
        repository_url: Some("https://git.example.org/ulm/hundesteuer-online".into()),
        publiccode_yml: Some(PUBLICCODE.into()),
        used_by: strings(&["Stadt Ulm", "Stadt Blaustein (Pilot)"]),
        local_parameters: vec![
            LocalParameterInput { name: Some("Steuersatz Ersthund".into()), description: Some("Jahresbetrag laut Hundesteuersatzung".into()), example: Some("120 €".into()) },
            LocalParameterInput { name: Some("Steuersatz Zweithund".into()), description: None, example: Some("240 €".into()) },
            LocalParameterInput { name: Some("Zuständiges Amt".into()), description: Some("Empfänger der Anträge".into()), example: Some("Steueramt".into()) },
        ],
        themenfeld: Some("steuern-zoll".into()),
        leika_keys: dog_tax_leika,
        contact: contact("Eva Schäfer", "Digitalisierungsstelle", "eva.schaefer@ulm.example"),
        ..Default::default()
    }).await?;
    items::create::<Solution>(
        state,
        u_verbund,
        &SolutionInput {
            title: Some("Musterleistungsverzeichnis LoRaWAN-Netz".into()),
            summary: Some(
                "Ausschreibungsunterlagen für Aufbau und Betrieb eines kommunalen LoRaWAN-Netzes."
                    .into(),
            ),
            kind: Some("tender-documents".into()),
            licence: Some("CC-BY-4.0".into()),
            maturity: Some("beta".into()),
            themenfeld: Some("umwelt".into()),
            local_parameters: vec![LocalParameterInput {
                name: Some("Anzahl Gateways".into()),
                description: None,
                example: Some("6".into()),
            }],
            ..Default::default()
        },
    )
    .await?;
    Ok(logins)
}

pub async fn run(mut config: Config) -> anyhow::Result<()> {
    // The demo never uses the configured database, only its own file.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{DEMO_DATABASE}{suffix}"));
    }
    config.database_url = format!("sqlite://{DEMO_DATABASE}");
    // A demo moved to another port should still link to itself.
    if config.public_url == Config::default().public_url && config.listen.port() != 8080 {
        config.public_url = format!("http://localhost:{}", config.listen.port()).parse()?;
    }
    let app = Application::build(config.clone()).await?;
    let logins = seed(app.state())
        .await
        .map_err(|e| anyhow::anyhow!("seeding demo data: {e}"))?;
    println!();
    println!("Allmende demo is running: {}", config.public_url);
    println!("Log in as (passwords are new on every start):");
    for l in &logins {
        println!("  {:<42} {}   ({})", l.email, l.password, l.organization);
    }
    println!("Stop with Ctrl-C.");
    println!();
    app.run_until(shutdown_signal()).await
}

//! `allmende demo`: three federating nodes on localhost with realistic
//! sample data, ready to click through: a municipality's node (Ulm, also
//! hosting the small town of Blaustein), a second municipality (Mannheim,
//! whose node also hosts a cross-city network, ANDI) and an association
//! (Digitalverbund). The municipalities are members of the association's
//! group, which follows the network: what a member shares with either
//! travels on through the groups. They join and follow each other over
//! ActivityPub before anything is published, so every item travels. Each
//! uses its own database (`data/demo-*.sqlite`, recreated on each run) so
//! the demo never touches a real node's data.

use allmende_domain::solution::LocalParameterInput;
use allmende_domain::text::LinkInput;
use allmende_domain::*;
use allmende_store::User;

use crate::app::{shutdown_signal, Application};
use crate::auth::password;
use crate::config::Config;
use crate::state::AppState;
use crate::usecases::{accounts, follows, items, organizations, questions, UseCaseError};

/// The demo's nodes: database file name and what runs there.
const NODES: [(&str, &str); 3] = [
    ("demo-ulm", "Ulm (mit Blaustein)"),
    ("demo-mannheim", "Mannheim (mit ANDI)"),
    ("demo-verbund", "Digitalverbund BW"),
];

/// A login the demo prints.
pub struct DemoLogin {
    pub email: String,
    pub password: String,
    pub organization: String,
    /// Where to log in.
    pub node: String,
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

/// The demo solution's publiccode.yml (valid by the standard, version 0).
const PUBLICCODE: &str = "publiccodeYmlVersion: \"0\"
name: Hundesteuer online
url: https://git.example.org/ulm/hundesteuer-online
softwareVersion: \"2.3\"
releaseDate: \"2026-03-01\"
platforms:
  - web
categories:
  - taxes-management
developmentStatus: stable
softwareType: standalone/web
description:
  de:
    shortDescription: Online-Anmeldung und -Abmeldung von Hunden zur Hundesteuer
    longDescription: >
      Bürgerinnen und Bürger melden Hunde online an und ab und beantragen
      Ermäßigungen. Der Dienst übergibt die Daten an das Steuerverfahren,
      erzeugt den Bescheid und wird mit den örtlichen Steuersätzen betrieben.
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

/// Fills one empty node with all sample organizations, users and items.
pub async fn seed(state: &AppState) -> Result<Vec<DemoLogin>, UseCaseError> {
    seed_network([state, state, state]).await
}

/// Fills three empty nodes: Ulm and Blaustein on the first, Mannheim on the
/// second, the association on the third (or all on one node when the three
/// are the same). On separate nodes the organizations follow each other
/// first, so every item that follows travels over ActivityPub. Returns the
/// logins to print.
pub async fn seed_network(nodes: [&AppState; 3]) -> Result<Vec<DemoLogin>, UseCaseError> {
    let [ulm_node, mannheim_node, verbund_node] = nodes;
    let store = &ulm_node.store;
    // The catalogue entry of the service the sample items are about, so
    // that pages show its name (real catalogues come by `allmende data
    // import`).
    let dog_tax = allmende_domain::reference::ServiceEntry {
        key: allmende_domain::ServiceKey::Leika(
            allmende_domain::LeikaKey::parse("99041006017000").expect("a valid key"),
        ),
        name: "Hundesteuer Anmeldung".into(),
        themenfeld: Some(allmende_domain::Themenfeld::SteuernZoll),
    };
    for node in nodes {
        node.store
            .reference()
            .import_services(std::slice::from_ref(&dog_tax), "demo")
            .await?;
    }
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
    // Ulm's logo and colour on its pages (a drawn sample, not the real
    // coat of arms), given to the node as an upload would be.
    let ulm = store.organizations().by_handle("ulm").await?;
    let logo = crate::usecases::branding::reencode(&demo_logo())
        .map_err(|p| UseCaseError::Internal(format!("demo logo: {}", p.message(false))))?;
    store
        .branding()
        .set(
            ulm.id,
            Some(logo),
            true,
            Some("#7a1f1f"),
            chrono::Utc::now(),
        )
        .await?;
    organizations::create(
        &mannheim_node.store,
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
        &mannheim_node.store,
        "andi",
        &org(
            "ANDI – Agiles Netzwerk Digitale Innovation (Beispiel)",
            "network",
            None,
            None,
            "https://andi.example.org",
            "Netzwerk von Städten, die digitale Innovationen gemeinsam erproben und teilen.",
        ),
    )
    .await?;
    organizations::create(
        &verbund_node.store,
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
    for (node, email, handle) in [
        (ulm_node, "digital@ulm.example", "ulm"),
        (mannheim_node, "it@mannheim.example", "mannheim"),
        (ulm_node, "rathaus@blaustein.example", "blaustein"),
        (
            verbund_node,
            "geschaeftsstelle@digitalverbund.example",
            "digitalverbund-bw",
        ),
    ] {
        let pw = password::generate();
        users.push(accounts::create_user(&node.store, email, handle, "admin", &pw).await?);
        logins.push(DemoLogin {
            email: email.into(),
            password: pw,
            organization: handle.into(),
            node: node.config.public_url.to_string(),
        });
    }
    let [u_ulm, u_mannheim, u_blaustein, u_verbund] = [&users[0], &users[1], &users[2], &users[3]];

    // The demo's nodes trust each other, so their follows are accepted at
    // once (see the network page for approving others by hand).
    let host = |node: &AppState| node.federation.urls().host();
    for node in nodes {
        for other in nodes {
            if node.config.public_url != other.config.public_url {
                crate::usecases::policy::add(node, "demo", &host(other), "trust", "Demo-Knoten")
                    .await?;
            }
        }
    }
    // The municipalities follow each other and join the association's
    // group; Mannheim joins the network on its own node; the association
    // follows the network (networks following networks).
    let org_on = |node: &AppState, handle: &'static str| {
        let node = node.clone();
        async move { node.store.organizations().by_handle(handle).await }
    };
    for (follower_node, follower, target_node, target) in [
        (ulm_node, "ulm", mannheim_node, "mannheim"),
        (mannheim_node, "mannheim", ulm_node, "ulm"),
        (mannheim_node, "mannheim", ulm_node, "blaustein"),
        (ulm_node, "ulm", verbund_node, "digitalverbund-bw"),
        (ulm_node, "blaustein", verbund_node, "digitalverbund-bw"),
        (mannheim_node, "mannheim", verbund_node, "digitalverbund-bw"),
        (mannheim_node, "mannheim", mannheim_node, "andi"),
        (verbund_node, "digitalverbund-bw", mannheim_node, "andi"),
    ] {
        let same_node = follower_node.config.public_url == target_node.config.public_url;
        if same_node && follower == target {
            continue;
        }
        // On one node only groups are joined: other organizations there
        // see each other's items already.
        if same_node && !["andi", "digitalverbund-bw"].contains(&target) {
            continue;
        }
        let org = org_on(follower_node, follower).await?;
        follows::follow_as(
            follower_node,
            org.id,
            &format!("{target}@{}", host(target_node)),
        )
        .await
        .map_err(|e| UseCaseError::Internal(format!("{follower} follows {target}: {e}")))?;
    }
    settle(&nodes).await;

    let dog_tax_leika = strings(&["99041006017000"]);
    // The handle of a group as the member's node knows it.
    let group_at = |member: &AppState, group_node: &AppState, handle: &str| {
        if member.config.public_url == group_node.config.public_url {
            handle.to_owned()
        } else {
            format!("{handle}@{}", host(group_node))
        }
    };
    let verbund = |member: &AppState| vec![group_at(member, verbund_node, "digitalverbund-bw")];
    items::create_in_groups::<Project>(ulm_node, u_ulm, &ProjectInput {
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
    }, &verbund(ulm_node)).await?;
    // Shared with the network: it reaches the association through it.
    items::create_in_groups::<Project>(
        mannheim_node,
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
        &[group_at(mannheim_node, mannheim_node, "andi")],
    )
    .await?;
    items::create_in_groups::<Project>(
        ulm_node,
        u_blaustein,
        &ProjectInput {
            title: Some("LoRaWAN-Sensoren für Pegelstände der Blau".into()),
            summary: Some("Funkbasierte Pegelmessung als Frühwarnung bei Hochwasser.".into()),
            status: Some("planned".into()),
            themenfeld: Some("umwelt".into()),
            seeking_partners: Some(true),
            ..Default::default()
        },
        &verbund(ulm_node),
    )
    .await?;
    items::create::<Project>(
        verbund_node,
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

    let question: Question = items::create_in_groups(ulm_node, u_blaustein, &QuestionInput {
        title: Some("Wer hat die Hundesteuer-Anmeldung schon digitalisiert?".into()),
        body: Some("Wir sind eine kleine Stadt ohne eigene IT und möchten die Hundesteuer-Anmeldung online anbieten. Wer hat das schon umgesetzt, mit welchem Produkt, und was würden Sie heute anders machen?".into()),
        themenfeld: Some("steuern-zoll".into()),
        leika_keys: dog_tax_leika.clone(),
        ..Default::default()
    }, &verbund(ulm_node)).await?;
    let from_ulm = questions::answer(ulm_node, u_ulm, question.id.0, &AnswerInput {
        body: Some("Wir haben den Dienst selbst gebaut und stellen ihn unter EUPL zur Nachnutzung bereit (siehe Lösung „Hundesteuer online“). Sie müssen nur Ihre Steuersätze und das zuständige Amt eintragen.".into()),
    }).await?;
    // Mannheim answers its own node's copy of the question.
    settle(&nodes).await;
    let question_url = ulm_node
        .federation
        .urls()
        .item(ItemKind::Question, question.id.0);
    let copy = match mannheim_node
        .store
        .questions()
        .find_by_ap_id(&question_url)
        .await?
    {
        Some(copy) => copy.id.0,
        None => question.id.0,
    };
    questions::answer(mannheim_node, u_mannheim, copy, &AnswerInput {
        body: Some("Wir nutzen ein Modul unseres Steuerverfahrens. Das geht schnell, ist aber an den Hersteller gebunden.".into()),
    }).await?;
    settle(&nodes).await;
    questions::accept(ulm_node, u_blaustein, from_ulm.id.0).await?;

    let dog_tax: Solution = items::create::<Solution>(ulm_node, u_ulm, &SolutionInput {
        title: Some("Hundesteuer online".into()),
        summary: Some("Onlinedienst zur An- und Abmeldung von Hunden, angebunden an das Servicekonto.".into()),
        body: Some("Der Dienst ist seit 2026 in Ulm produktiv. Die Nachnutzung erfordert **keine Programmierung**; konfiguriert werden:\n\n- die Steuersätze,\n- die Ermäßigungen,\n- das zuständige Amt.\n\nDie [Hundesteuersatzung](https://www.ulm.example/satzungen/hundesteuer) regelt die Sätze.".into()),
        kind: Some("software".into()),
        licence: Some("EUPL-1.2".into()),
        maturity: Some("stable".into()),
        repository_url: Some("https://git.example.org/ulm/hundesteuer-online".into()),
        publiccode_yml: Some(PUBLICCODE.into()),
        local_parameters: vec![
            LocalParameterInput { name: Some("Steuersatz Ersthund".into()), description: Some("Jahresbetrag laut Hundesteuersatzung".into()), example: Some("120 €".into()), required: true },
            LocalParameterInput { name: Some("Steuersatz Zweithund".into()), description: None, example: Some("240 €".into()), required: true },
            LocalParameterInput { name: Some("Zuständiges Amt".into()), description: Some("Empfänger der Anträge".into()), example: Some("Steueramt".into()), required: false },
        ],
        themenfeld: Some("steuern-zoll".into()),
        leika_keys: dog_tax_leika,
        contact: contact("Eva Schäfer", "Digitalisierungsstelle", "eva.schaefer@ulm.example"),
        ..Default::default()
    }).await?;
    // Re-use that can be verified: Blaustein (same node) runs a pilot,
    // Mannheim (another node) runs it in production and adapted it.
    settle(&nodes).await;
    let dog_tax_url = ulm_node
        .federation
        .urls()
        .item(ItemKind::Solution, dog_tax.id.0);
    crate::usecases::adoptions::declare(
        ulm_node,
        u_blaustein,
        dog_tax.id.0,
        &AdoptionInput {
            stage: Some("pilot".into()),
            since: Some("2026-09-01".into()),
            version: Some("2.3".into()),
            note: Some("Pilot mit 40 Hunden, Bescheide noch auf Papier.".into()),
            ..Default::default()
        },
    )
    .await?;
    let copy = mannheim_node
        .store
        .solutions()
        .find_by_ap_id(&dog_tax_url)
        .await?
        .map_or(dog_tax.id.0, |c| c.id.0);
    crate::usecases::adoptions::declare(
        mannheim_node,
        u_mannheim,
        copy,
        &AdoptionInput {
            stage: Some("production".into()),
            since: Some("2026-05-01".into()),
            version: Some("2.3".into()),
            parameters: vec![
                allmende_domain::adoption::ParameterValueInput {
                    name: Some("Steuersatz Ersthund".into()),
                    value: Some("180 €".into()),
                },
                allmende_domain::adoption::ParameterValueInput {
                    name: Some("Zuständiges Amt".into()),
                    value: Some("Steuerverwaltung, Fachbereich Finanzen".into()),
                },
            ],
            note: Some("Angebunden an unser SAP-Steuerverfahren.".into()),
        },
    )
    .await?;
    items::create::<Solution>(
        mannheim_node,
        u_mannheim,
        &SolutionInput {
            title: Some("Hundesteuer online – Anbindung SAP".into()),
            summary: Some(
                "Variante der Ulmer Lösung mit Schnittstelle zum SAP-Steuerverfahren.".into(),
            ),
            kind: Some("software".into()),
            licence: Some("EUPL-1.2".into()),
            maturity: Some("beta".into()),
            themenfeld: Some("steuern-zoll".into()),
            variant_of: Some(dog_tax_url.clone()),
            ..Default::default()
        },
    )
    .await?;
    items::create::<Solution>(
        verbund_node,
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
                required: true,
            }],
            ..Default::default()
        },
    )
    .await?;
    settle(&nodes).await;
    Ok(logins)
}

/// Waits until no node has a delivery pending (every follow accepted, every
/// item arrived).
async fn settle(nodes: &[&AppState; 3]) {
    let federations: Vec<&allmende_federation::Federation> =
        nodes.iter().map(|n| &n.federation).collect();
    allmende_federation::Federation::settle(&federations).await;
}

/// What the demo prints once its nodes run: where they are, the logins,
/// who operates Ulm's node, and three things to try.
fn instructions(states: &[AppState], logins: &[DemoLogin]) -> String {
    use std::fmt::Write;
    let url = |i: usize, path: &str| {
        format!(
            "{}{path}",
            states[i].config.public_url.as_str().trim_end_matches('/')
        )
    };
    let mut out = String::new();
    let _ = writeln!(out, "\nAllmende demo: three federating nodes are running.");
    for (state, (_, name)) in states.iter().zip(NODES) {
        let _ = writeln!(out, "  {:<22} {}", name, state.config.public_url);
    }
    let _ = writeln!(out, "Log in as (passwords are new on every start):");
    for l in logins {
        let _ = writeln!(
            out,
            "  {:<42} {}   ({} on {})",
            l.email, l.password, l.organization, l.node
        );
    }
    let _ = writeln!(
        out,
        "Operator: digital@ulm.example also runs Ulm's node; its page \"Betrieb\" shows the\n  delivery queue and stuck work: {}",
        url(0, "/admin/queue")
    );
    let _ = writeln!(
        out,
        "Six things to try (each node keeps its own login, so one browser serves all three):"
    );
    let _ = writeln!(
        out,
        "  1. On Ulm's node as digital@ulm.example, publish a project ({}); a moment\n     later it is on Mannheim's node too: {}",
        url(0, "/projects/new"),
        url(1, "/projects")
    );
    let _ = writeln!(
        out,
        "  2. On Ulm's node as rathaus@blaustein.example, ask a question ({}); answer it\n     on Mannheim's node as it@mannheim.example; the answer appears under the\n     question on Ulm's node.",
        url(0, "/questions/new")
    );
    let _ = writeln!(
        out,
        "  3. On Mannheim's node, open \"Netzwerk\" ({}): whom Mannheim follows and the\n     feed of what they publish, each item linked to its home node.",
        url(1, "/network")
    );
    let _ = writeln!(
        out,
        "  4. Open the association's group ({}): members on two nodes, and what they\n     shared, including Mannheim's project that reached it through the ANDI\n     network ({}), which the association follows.",
        url(2, "/orgs/digitalverbund-bw"),
        url(1, "/orgs/andi")
    );
    let _ = writeln!(
        out,
        "  5. Open the solution \"Hundesteuer online\" ({}, search for it): Blaustein and\n     Mannheim declared that they use it (Mannheim from its own node), the same\n     two on Ulm's and on Mannheim's node; Mannheim's variant links back to it.\n     Its publiccode.yml lists them as usedBy; {} lists it for catalogues.",
        url(0, "/solutions"),
        url(0, "/api/v1/catalogue")
    );
    let _ = writeln!(
        out,
        "  6. As digital@ulm.example, open \"Personen verwalten\" on Ulm's page ({}) and\n     invite someone; the node writes its e-mail (invitations, password resets,\n     notifications of answers and of watched services) as .eml files into\n     data/demo-mail/. Ulm's pages show its logo and colour.",
        url(0, "/orgs/ulm/people")
    );
    let _ = writeln!(out, "Stop with Ctrl-C.\n");
    out
}

/// A sample logo: a shield in Ulm's colours, drawn here so the demo needs
/// no image file.
fn demo_logo() -> Vec<u8> {
    let mut img = image::RgbaImage::from_pixel(120, 140, image::Rgba([0, 0, 0, 0]));
    for (x, y, pixel) in img.enumerate_pixels_mut() {
        let (fx, fy) = (x as f32 - 60.0, y as f32);
        // A shield: straight sides, a rounded bottom.
        let inside = fx.abs() < 55.0
            && (fy < 80.0 || fx * fx + (fy - 80.0) * (fy - 80.0) * 1.2 < 55.0 * 55.0);
        if inside {
            *pixel = if fy < 70.0 {
                image::Rgba([20, 20, 20, 255])
            } else {
                image::Rgba([245, 245, 245, 255])
            };
            if fx.abs() > 51.0 || fy < 4.0 {
                *pixel = image::Rgba([122, 31, 31, 255]);
            }
        }
    }
    let mut png = Vec::new();
    image::DynamicImage::ImageRgba8(img)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("a PNG in memory");
    png
}

const DEMO_IMPRINT: &str = "Demonstration: {node}\n\nDieser Knoten ist eine Vorführung der Software Allmende mit erfundenen Angaben. Auf einem echten Knoten steht hier das Impressum der betreibenden Stelle nach § 5 DDG: Name, Anschrift, Vertretungsberechtigte, Kontakt.";
const DEMO_PRIVACY: &str = "Dieser Vorführknoten speichert nur, was Sie selbst eingeben, in einer lokalen Datenbank, die bei jedem Start neu angelegt wird. Er setzt nur technisch notwendige Cookies (Anmeldung, Sprache, Formularschutz).\n\nAuf einem echten Knoten steht hier die Datenschutzerklärung der betreibenden Stelle nach Art. 13 DSGVO.";
const DEMO_ENFORCEMENT: &str = "Beispiel: Schlichtungsstelle des Landes für barrierefreie Informationstechnik, Musterstraße 1, 70000 Musterstadt, schlichtung@land.example\n\nAuf einem echten Knoten steht hier die Durchsetzungs- bzw. Schlichtungsstelle des eigenen Landes.";

pub async fn run(config: Config) -> anyhow::Result<()> {
    let first_port = config.listen.port();
    let mut apps = Vec::new();
    for (i, (file, _)) in NODES.iter().enumerate() {
        let database = format!("data/{file}.sqlite");
        // The demo never uses the configured database, only its own files.
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{database}{suffix}"));
        }
        let _ = std::fs::remove_dir_all(format!("data/demo-mail/{file}"));
        let port = first_port
            .checked_add(i as u16)
            .ok_or_else(|| anyhow::anyhow!("port {first_port} too high for three nodes"))?;
        let mut listen = config.listen;
        listen.set_port(port);
        let node_config = Config {
            database_url: format!("sqlite://{database}").into(),
            listen,
            public_url: format!("http://localhost:{port}").parse()?,
            // The three nodes talk to each other over loopback.
            federation_development: true,
            delivery_retry_ms: 1_000,
            // The Ulm login sees the operations page.
            operators: vec!["digital@ulm.example".into()],
            // Legal pages as an operator sets them (invented for the demo).
            imprint_text: Some(DEMO_IMPRINT.replace("{node}", NODES[i].1)),
            privacy_text: Some(DEMO_PRIVACY.into()),
            accessibility_contact: Some("barrierefreiheit@allmende.example".into()),
            accessibility_enforcement: Some(DEMO_ENFORCEMENT.into()),
            // Mail (invitations, password resets, notifications) as files.
            mail_dir: Some(format!("data/demo-mail/{file}").into()),
            ..config.clone()
        };
        apps.push(Application::build(node_config).await?);
    }
    let states: Vec<AppState> = apps.iter().map(|a| a.state().clone()).collect();
    let (stop, _) = tokio::sync::broadcast::channel::<()>(1);
    let mut servers = Vec::new();
    for app in apps {
        let mut stopped = stop.subscribe();
        servers.push(tokio::spawn(app.run_until(async move {
            let _ = stopped.recv().await;
        })));
    }
    let logins = seed_network([&states[0], &states[1], &states[2]])
        .await
        .map_err(|e| anyhow::anyhow!("seeding demo data: {e}"))?;
    print!("{}", instructions(&states, &logins));
    shutdown_signal().await;
    let _ = stop.send(());
    for server in servers {
        server.await??;
    }
    Ok(())
}

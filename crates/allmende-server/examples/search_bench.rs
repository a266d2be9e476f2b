//! Benchmark: search at scale (issue 14).
//!
//! `cargo run --release -p allmende-server --example search_bench -- sqlite|postgres [SCALE]`
//!
//! Fills a fresh database through the store — 400 municipalities in all
//! Länder with AGS and population, then SCALE × (250,000 projects, 50,000
//! questions, 20,000 solutions) of generated German text built from the
//! words municipal projects use (services, verbs, filler), with LeiKa keys,
//! Themenfelder and statuses — and measures the indexing rate (items per
//! second, the index being written in the same transaction as the item).
//!
//! Then, 200 times each with varying words, the store's search with facet
//! counts and one page of 20 hits, as the search page and the API run it:
//! one word, two words, a prefix, a common word (in about a third of all
//! items), and a word with three facets chosen; the HTML search page of a
//! node on the same database (hits loaded and rendered); and, as the
//! baseline measured in the same run, reading one project by its key.
//! Prints `key value` lines; `bench/search.sh` makes the table.

use std::time::Instant;

use allmende_domain::{
    Handle, OrganizationId, OrganizationInput, ProjectInput, QuestionInput, SolutionInput,
};
use allmende_store::testing::TestDatabase;
use allmende_store::{Facet, SearchQuery, Store};
use chrono::{Duration, Utc};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

const SERVICES: &[(&str, &str)] = &[
    ("Hundesteuer", "99041006017000"),
    ("Bewohnerparkausweis", "99108012017000"),
    ("Sperrmüllabholung", "99066009000000"),
    ("Wohngeld", "99120001001000"),
    ("Kitaplatz", "99083004000000"),
    ("Baugenehmigung", "99004006001000"),
    ("Gewerbeanmeldung", "99050012104000"),
    ("Meldebescheinigung", "99115005001000"),
    ("Personalausweis", "99081042012000"),
    ("Führungszeugnis", "99084007003000"),
    ("Elterngeld", "99013001000000"),
    ("Fischereischein", "99032006000000"),
    ("Sondernutzungserlaubnis", "99108002017000"),
    ("Grundsteuer", "99041002000000"),
    ("Eheschließung", "99080002000000"),
    ("Schwerbehindertenausweis", "99107018000000"),
    ("Wahlschein", "99134004000000"),
    ("Kfz-Zulassung", "99036009000000"),
    ("Bauantrag", "99004006000000"),
    ("Einbürgerung", "99019001000000"),
];
const ACTIONS: &[&str] = &[
    "digital beantragen",
    "online anmelden",
    "Terminvergabe",
    "Antrag ohne Papier",
    "Portal",
    "Einführung",
    "Fachverfahren",
    "Schnittstelle",
    "Bürgerservice",
    "E-Akte",
];
const FILLER: &[&str] = &[
    "Die",
    "Stadt",
    "Verwaltung",
    "möchte",
    "den",
    "Prozess",
    "für",
    "Bürgerinnen",
    "und",
    "Bürger",
    "vereinfachen",
    "mit",
    "dem",
    "neuen",
    "Verfahren",
    "werden",
    "Anträge",
    "schneller",
    "bearbeitet",
    "Zusammenarbeit",
    "Landkreis",
    "Rechenzentrum",
    "Datenschutz",
    "Barrierefreiheit",
    "Nachnutzung",
    "Kommune",
    "Projektteam",
    "Pilotphase",
    "Rathaus",
    "Fachamt",
    "Beteiligung",
    "Umsetzung",
    "Förderung",
    "Ausschreibung",
    "Betrieb",
];
/// The common word: in about a third of all texts.
const COMMON: &str = "digital";

fn sentence(rng: &mut StdRng, words: usize) -> String {
    let mut out: Vec<&str> = (0..words)
        .map(|_| *FILLER.choose(rng).expect("words"))
        .collect();
    if rng.gen_bool(0.33) {
        let at = rng.gen_range(0..out.len());
        out.insert(at, COMMON);
    }
    out.join(" ")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn report(name: &str, mut samples: Vec<f64>) {
    samples.sort_by(f64::total_cmp);
    println!("{name}_p50 {:.2}", percentile(&samples, 0.5));
    println!("{name}_p95 {:.2}", percentile(&samples, 0.95));
}

async fn time<F, Fut>(rounds: usize, mut run: F) -> Vec<f64>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut samples = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let start = Instant::now();
        run(i).await;
        samples.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    samples
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let engine = args.get(1).map(String::as_str).unwrap_or("sqlite");
    let scale: f64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1.0);
    std::env::set_var("ALLMENDE_TEST_DATABASE", engine);
    let db = TestDatabase::new().await;
    let store = Store::open(db.url()).await.expect("store");
    let mut rng = StdRng::seed_from_u64(14);

    let lands = [
        "01", "03", "05", "06", "07", "08", "09", "10", "12", "13", "14", "15", "16",
    ];
    let mut orgs: Vec<OrganizationId> = Vec::new();
    for n in 0..400u32 {
        let land = lands[n as usize % lands.len()];
        let input = OrganizationInput {
            name: Some(format!("Gemeinde Musterort {n}")),
            kind: Some("municipality".into()),
            ags: Some(format!("{land}{:03}{:03}", 100 + n % 300, n % 1000)),
            population: Some(rng.gen_range(800..400_000)),
            description: Some(sentence(&mut rng, 12)),
            ..Default::default()
        };
        let org = store
            .organizations()
            .insert(
                &Handle::parse(&format!("musterort-{n}")).expect("handle"),
                &input.validate().expect("valid"),
                Utc::now(),
            )
            .await
            .expect("organization");
        orgs.push(org.id);
    }

    let counts = [
        ("projects", (250_000.0 * scale) as usize),
        ("questions", (50_000.0 * scale) as usize),
        ("solutions", (20_000.0 * scale) as usize),
    ];
    let started = Instant::now();
    let mut written = 0usize;
    let mut first_project = None;
    for (kind, count) in counts {
        for i in 0..count {
            let (service, key) = *SERVICES.choose(&mut rng).expect("services");
            let action = *ACTIONS.choose(&mut rng).expect("actions");
            let org = *orgs.choose(&mut rng).expect("orgs");
            let at = Utc::now() - Duration::minutes(rng.gen_range(0..525_600));
            let title = format!("{service} {action}");
            let summary = format!(
                "{} {service} {}",
                sentence(&mut rng, 8),
                sentence(&mut rng, 10)
            );
            let body = sentence(&mut rng, 50);
            match kind {
                "projects" => {
                    let input = ProjectInput {
                        title: Some(title),
                        summary: Some(summary),
                        body: Some(body),
                        status: Some(["idea", "planned", "running", "live"][i % 4].into()),
                        leika_keys: vec![key.into()],
                        themenfeld: Some(
                            [
                                "steuern-zoll",
                                "mobilitaet-reisen",
                                "bauen-wohnen",
                                "familie-kind",
                            ][i % 4]
                                .into(),
                        ),
                        seeking_partners: Some(i % 7 == 0),
                        ..Default::default()
                    };
                    let p = store
                        .projects()
                        .insert(org, &input.validate().expect("valid"), at)
                        .await
                        .expect("project");
                    first_project.get_or_insert(p.id);
                }
                "questions" => {
                    let input = QuestionInput {
                        title: Some(format!("Wer hat Erfahrung mit {service}?")),
                        body: Some(format!("{summary} {body}")),
                        leika_keys: vec![key.into()],
                        ..Default::default()
                    };
                    store
                        .questions()
                        .insert(org, &input.validate().expect("valid"), at)
                        .await
                        .expect("question");
                }
                _ => {
                    let input = SolutionInput {
                        title: Some(format!("{service}: {action}")),
                        summary: Some(summary),
                        body: Some(body),
                        kind: Some(["software", "form", "process-model"][i % 3].into()),
                        licence: Some(["EUPL-1.2", "AGPL-3.0-or-later", "MIT"][i % 3].into()),
                        leika_keys: vec![key.into()],
                        ..Default::default()
                    };
                    store
                        .solutions()
                        .insert(org, &input.validate().expect("valid"), at)
                        .await
                        .expect("solution");
                }
            }
            written += 1;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!("engine {engine}");
    println!("items {written}");
    println!("index_rate {:.0}", written as f64 / seconds);

    const ROUNDS: usize = 200;
    let search = |text: String| SearchQuery::new(allmende_domain::Viewer::Public, text);
    let store_ref = &store;
    let warm = search("Hundesteuer".into());
    store.search().query(&warm).await.expect("warm-up");

    let first_project = first_project.expect("a project");
    let baseline = time(ROUNDS, |_| async move {
        store_ref.projects().get(first_project).await.expect("read");
    })
    .await;
    report("baseline_read", baseline);
    let word = |i: usize| SERVICES[i % SERVICES.len()].0.to_owned();
    let samples = time(ROUNDS, |i| {
        let q = search(word(i));
        async move {
            store_ref.search().query(&q).await.expect("search");
        }
    })
    .await;
    report("one_word", samples);
    let samples = time(ROUNDS, |i| {
        let q = search(format!(
            "{} {}",
            word(i),
            ["online", "Portal", "Antrag"][i % 3]
        ));
        async move {
            store_ref.search().query(&q).await.expect("search");
        }
    })
    .await;
    report("two_words", samples);
    let samples = time(ROUNDS, |i| {
        let w = word(i);
        let prefix: String = w.chars().take(w.chars().count().min(7)).collect();
        let q = search(prefix);
        async move {
            store_ref.search().query(&q).await.expect("search");
        }
    })
    .await;
    report("prefix", samples);
    let samples = time(ROUNDS, |_| {
        let q = search(COMMON.into());
        async move {
            let page = store_ref.search().query(&q).await.expect("search");
            assert!(page.total > 0);
        }
    })
    .await;
    report("common_word", samples);
    let samples = time(ROUNDS, |i| {
        let q = search(word(i))
            .filter(Facet::Kind, "project")
            .filter(Facet::Status, ["idea", "planned", "running", "live"][i % 4])
            .filter(Facet::Land, ["bw", "by", "nw", "sn"][i % 4]);
        async move {
            store_ref.search().query(&q).await.expect("search");
        }
    })
    .await;
    report("three_facets", samples);
    let page = store
        .search()
        .query(&search(COMMON.into()))
        .await
        .expect("search");
    println!("common_word_hits {}", page.total);

    // The HTML page of a node on this database.
    let node = allmende_tests::spawn_app_with_db(db.url(), allmende_tests::test_config()).await;
    let client = reqwest::Client::new();
    let client_ref = &client;
    let node_ref = &node;
    let samples = time(ROUNDS, |i| {
        let url = node_ref.at(&format!("/search?q={}", urlencode(&word(i))));
        async move {
            let res = client_ref.get(url).send().await.expect("page");
            assert!(res.status().is_success());
            res.text().await.expect("body");
        }
    })
    .await;
    report("html_page", samples);
    drop(node);
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

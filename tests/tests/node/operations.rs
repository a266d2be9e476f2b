//! What operators and their tools see: Prometheus metrics (scraped and
//! parsed as Prometheus would), and the node's answer to a request for
//! another host.

use allmende_server::config::Config;
use allmende_tests::api::{create_project, follow};
use allmende_tests::{client, settle, spawn_app, spawn_app_with, test_config, wait_for};
use prometheus_parse::{Sample, Scrape, Value};
use secrecy::SecretString;

const TOKEN: &str = "metrics-token-for-tests-0123456789";

fn metrics_config() -> Config {
    Config {
        metrics_token: Some(SecretString::from(TOKEN)),
        metrics_listen: Some("127.0.0.1:0".parse().unwrap()),
        ..test_config()
    }
}

/// Scrapes `url` (with the token when given) and parses the text with an
/// independent parser of the Prometheus format.
async fn scrape_metrics(url: &str, token: Option<&str>) -> Scrape {
    let mut request = client().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text().await.unwrap();
    Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("valid Prometheus text")
}

/// The samples of `metric` whose labels include all of `labels`.
fn samples<'a>(scrape: &'a Scrape, metric: &str, labels: &[(&str, &str)]) -> Vec<&'a Sample> {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == metric)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .collect()
}

fn value(sample: &Sample) -> f64 {
    match &sample.value {
        Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
        other => panic!("not a single value: {other:?}"),
    }
}

#[tokio::test]
async fn metrics_need_the_token_and_parse() {
    let node = spawn_app_with(metrics_config()).await;
    let url = node.at("/metrics");
    for auth in [None, Some("wrong-token-wrong-token")] {
        let mut request = client().get(&url);
        if let Some(token) = auth {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "token {auth:?}");
        assert!(!response.text().await.unwrap().contains("allmende_"));
    }

    let token = node.org_with_token("ulm").await;
    create_project(&node, &token, "Gezählt").await;
    assert_eq!(
        client().get(node.at("/")).send().await.unwrap().status(),
        200
    );
    let scrape = scrape_metrics(&url, Some(TOKEN)).await;

    // Requests by route pattern (never the raw path), method and status.
    let created = samples(
        &scrape,
        "allmende_http_requests_total",
        &[
            ("route", "/api/v1/projects"),
            ("method", "POST"),
            ("status", "201"),
        ],
    );
    assert!(
        created.iter().map(|s| value(s)).sum::<f64>() >= 1.0,
        "{created:?}"
    );
    let latency = samples(
        &scrape,
        "allmende_http_request_duration_seconds",
        &[("route", "/"), ("method", "GET")],
    );
    assert!(
        latency
            .iter()
            .any(|s| matches!(&s.value, Value::Histogram(h) if !h.is_empty())),
        "a latency histogram for GET /: {latency:?}"
    );
    // Gauges read at the scrape: queues, mail, the database pools.
    for state in ["pending", "due", "in_flight", "retrying", "paused"] {
        assert_eq!(
            samples(&scrape, "allmende_queue_deliveries", &[("state", state)]).len(),
            1,
            "queue state {state}"
        );
    }
    assert_eq!(
        samples(&scrape, "allmende_queue_oldest_age_seconds", &[]).len(),
        1
    );
    assert_eq!(
        samples(&scrape, "allmende_mail_queue", &[("state", "waiting")]).len(),
        1
    );
    let pools = samples(&scrape, "allmende_db_pool_max_connections", &[]);
    assert!(
        pools.iter().all(|p| value(p) >= 1.0) && !pools.is_empty(),
        "{pools:?}"
    );
    let build = samples(&scrape, "allmende_build_info", &[]);
    assert_eq!(
        build[0].labels.get("version"),
        Some(env!("CARGO_PKG_VERSION"))
    );

    // The separate listener serves the same text without a token, and
    // nothing but /metrics.
    let addr = node.metrics_addr.expect("metrics_listen bound");
    let scrape = scrape_metrics(&format!("http://{addr}/metrics"), None).await;
    assert!(!samples(&scrape, "allmende_http_requests_total", &[]).is_empty());
    let other = client()
        .get(format!("http://{addr}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
    node.stop().await;
}

#[tokio::test]
async fn without_configuration_there_are_no_metrics() {
    let node = spawn_app().await;
    let response = client().get(node.at("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 404);
    node.stop().await;
}

#[tokio::test]
async fn deliveries_inbox_activities_and_jobs_are_counted() {
    let mannheim = spawn_app_with(metrics_config()).await;
    let ulm = spawn_app().await;
    let mannheim_token = mannheim.org_with_token("mannheim").await;
    let ulm_token = ulm.org_with_token("ulm").await;
    let url = mannheim.at("/metrics");
    // The recorder belongs to the process: other tests running beside this
    // one count too. What this test does is measured as growth from here.
    let before = scrape_metrics(&url, Some(TOKEN)).await;
    let total = |scrape: &Scrape, metric: &str, labels: &[(&str, &str)]| -> f64 {
        samples(scrape, metric, labels)
            .iter()
            .map(|s| value(s))
            .sum()
    };
    const DELIVERED: (&str, &[(&str, &str)]) = (
        "allmende_deliveries_total",
        &[("result", "delivered"), ("peer_class", "rfc9421")],
    );
    const FOLLOWS: (&str, &[(&str, &str)]) = (
        "allmende_inbox_activities_total",
        &[("type", "Follow"), ("result", "handled")],
    );
    const JOBS: (&str, &[(&str, &str)]) = (
        "allmende_job_runs_total",
        &[("job", "deliveries"), ("result", "ok")],
    );
    let baseline = [DELIVERED, FOLLOWS, JOBS].map(|(m, l)| total(&before, m, l));

    assert_eq!(
        follow(&ulm, &ulm_token, &format!("mannheim@{}", mannheim.host())).await,
        202
    );
    settle(&[&ulm, &mannheim]).await;
    create_project(&mannheim, &mannheim_token, "Unterwegs gezählt").await;
    settle(&[&ulm, &mannheim]).await;

    // Mannheim received ulm's Follow and delivered its Accept and Create.
    let scrape = wait_for(
        10,
        "deliveries, inbox activities and job runs counted",
        || {
            let url = url.clone();
            async move {
                let scrape = scrape_metrics(&url, Some(TOKEN)).await;
                // Mannheim delivered an Accept and a Create (2), handled
                // ulm's Follow (1), and ran delivery rounds.
                let grown = [(DELIVERED, 2.0), (FOLLOWS, 1.0), (JOBS, 1.0)]
                    .iter()
                    .zip(baseline)
                    .all(|(((m, l), at_least), was)| total(&scrape, m, l) - was >= *at_least);
                grown.then_some(scrape)
            }
        },
    )
    .await;
    // Labels stay few: no peer host, no activity id in any label.
    for sample in &scrape.samples {
        for (name, label) in sample.labels.iter() {
            assert!(
                !label.contains("localhost") && !label.contains("http"),
                "{} has label {name}={label}",
                sample.metric
            );
        }
    }
    ulm.stop().await;
    mannheim.stop().await;
}

#[tokio::test]
async fn a_request_for_another_host_is_refused() {
    let node = spawn_app().await;
    let wrong = client()
        .get(node.at("/"))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 400);
    let text = wrong.text().await.unwrap();
    assert!(
        text.contains(&node.host()) && text.contains("proxy_set_header Host"),
        "{text}"
    );
    // Also for the API and inboxes, and for the right name with the wrong port.
    for (path, host) in [
        ("/api/v1/projects", "evil.example".to_owned()),
        ("/orgs/ulm/inbox", "evil.example".to_owned()),
        ("/", format!("localhost:{}", node.port() + 1)),
    ] {
        let response = client()
            .get(node.at(path))
            .header("host", &host)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{path} for {host}");
    }
    // Health checks are asked for by address.
    let health = client()
        .get(node.at("/healthz"))
        .header("host", "10.0.0.7:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    // The node's own name, in any case, passes.
    let right = client()
        .get(node.at("/"))
        .header("host", node.host().to_uppercase())
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
    node.stop().await;
}

/// Every metric the example Grafana dashboard queries is one the node
/// records (a renamed metric would leave an empty panel).
#[test]
fn the_dashboard_queries_metrics_that_exist() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dashboard = std::fs::read_to_string(root.join("deploy/grafana-dashboard.json")).unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&dashboard).unwrap();
    let mut sources = String::new();
    for file in [
        "crates/allmende-server/src/metrics.rs",
        "crates/allmende-server/src/mail/worker.rs",
        "crates/allmende-federation/src/inbound/mod.rs",
        "crates/allmende-federation/src/jobs/mod.rs",
        "crates/allmende-federation/src/jobs/deliveries.rs",
    ] {
        sources += &std::fs::read_to_string(root.join(file)).unwrap();
    }
    let mut queried = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if let Some(name) = word.strip_prefix("allmende_") {
                    let name = name.strip_suffix("_bucket").unwrap_or(name);
                    assert!(
                        sources.contains(&format!("\"allmende_{name}\"")),
                        "the dashboard queries allmende_{name}, which nothing records"
                    );
                    queried += 1;
                }
            }
        }
    }
    assert!(queried >= 10, "{queried}");
}

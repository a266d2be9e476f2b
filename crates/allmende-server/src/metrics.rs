//! Prometheus metrics at `/metrics`.
//!
//! The code records through the `metrics` facade (counters where things
//! happen: requests here, deliveries and inbox activities in the federation
//! crate, mail in the mail worker); `metrics-exporter-prometheus` keeps the
//! values and writes the text format. Queue depths and pool use are read
//! when someone scrapes, so they are never stale and cost nothing between
//! scrapes.
//!
//! The recorder is global to the process (the facade's design): it is
//! installed once, by the first node that enables metrics. A production
//! process runs one node; tests that start several in one process see
//! their counters summed, which only ever grows what they assert on.
//!
//! Nothing is collected unless metrics are enabled (`metrics_token` or
//! `metrics_listen`): without a recorder, the facade's macros do nothing.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use secrecy::ExposeSecret;

use crate::state::AppState;

/// Latency buckets in seconds: pages and API calls answer in milliseconds,
/// inbox POSTs that fetch a key may take seconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

static RECORDER: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process's recorder (once) and returns its handle; `None`
/// if another recorder was installed first (by an embedding program).
pub fn install() -> Option<PrometheusHandle> {
    RECORDER
        .get_or_init(|| {
            let built = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("allmende_http_request_duration_seconds".into()),
                    &LATENCY_BUCKETS,
                )
                .and_then(PrometheusBuilder::install_recorder);
            match built {
                Ok(handle) => {
                    metrics::gauge!("allmende_build_info", "version" => env!("CARGO_PKG_VERSION"))
                        .set(1.0);
                    Some(handle)
                }
                Err(e) => {
                    tracing::error!(error = %e, "metrics recorder not installed; /metrics stays empty");
                    None
                }
            }
        })
        .clone()
}

/// Spawns the recorder's upkeep: histogram samples are folded into their
/// buckets every few seconds even if nobody scrapes, so they do not pile
/// up in memory.
pub fn spawn_upkeep(handle: PrometheusHandle, mut stop: tokio::sync::watch::Receiver<bool>) {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                () = tokio::time::sleep(Duration::from_secs(5)) => handle.run_upkeep(),
            }
        }
    });
}

/// Counts every request by route (the pattern, never the raw path, so
/// labels stay few), method and status, and times it.
pub async fn track_requests(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = method_label(request.method());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(
        "allmende_http_requests_total",
        "route" => route.clone(),
        "method" => method,
        "status" => status
    )
    .increment(1);
    metrics::histogram!(
        "allmende_http_request_duration_seconds",
        "route" => route,
        "method" => method
    )
    .record(started.elapsed().as_secs_f64());
    response
}

/// The method as a label; methods the node does not serve share one.
fn method_label(method: &axum::http::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

/// `/metrics` on the node's own address: only with the configured token.
/// Without one it does not exist (404), so it reveals nothing.
pub async fn scrape_with_token(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = &state.config.metrics_token else {
        return crate::web::error::PageError::NotFound.into_response();
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !crate::auth::constant_time_eq(given, token.expose_secret()) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\"")],
            "metrics need the bearer token configured as metrics_token\n",
        )
            .into_response();
    }
    scrape(State(state)).await
}

/// The metrics in Prometheus' text format, with the gauges read now.
pub async fn scrape(State(state): State<AppState>) -> Response {
    let Some(handle) = install() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics recorder unavailable\n",
        )
            .into_response();
    };
    if let Err(e) = read_gauges(&state).await {
        // The counters are still worth having; the gauges keep their last
        // values and the failure is counted.
        tracing::warn!(error = %e, "metrics: could not read queue depths");
        metrics::counter!("allmende_metrics_gauge_errors_total").increment(1);
    }
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}

/// Sets the gauges that describe the node's state: queues, their oldest
/// entries, failing peers, e-mail, and the database pools.
async fn read_gauges(state: &AppState) -> Result<(), allmende_store::StoreError> {
    let now = Utc::now();
    let age = |at: Option<chrono::DateTime<Utc>>| {
        at.map_or(0.0, |at| {
            (now - at).num_milliseconds().max(0) as f64 / 1000.0
        })
    };
    let queue = state.store.queue().status(now).await?;
    metrics::gauge!("allmende_queue_announcements").set(queue.events as f64);
    for (name, value) in [
        ("pending", queue.deliveries),
        ("due", queue.due),
        ("in_flight", queue.in_flight),
        ("retrying", queue.retrying),
        ("paused", queue.paused),
    ] {
        metrics::gauge!("allmende_queue_deliveries", "state" => name).set(value as f64);
    }
    metrics::gauge!("allmende_queue_dead").set(queue.dead as f64);
    metrics::gauge!("allmende_queue_oldest_age_seconds").set(age(queue.oldest_pending));
    let unreachable = queue
        .failing_peers
        .iter()
        .filter(|p| p.unreachable_since.is_some())
        .count();
    metrics::gauge!("allmende_peers", "state" => "failing")
        .set((queue.failing_peers.len() - unreachable) as f64);
    metrics::gauge!("allmende_peers", "state" => "unreachable").set(unreachable as f64);

    let mail = state.store.mail().counts().await?;
    metrics::gauge!("allmende_mail_queue", "state" => "waiting").set(mail.waiting as f64);
    metrics::gauge!("allmende_mail_queue", "state" => "failing").set(mail.failing as f64);
    metrics::gauge!("allmende_mail_queue", "state" => "dead").set(mail.dead as f64);
    metrics::gauge!("allmende_mail_queue_oldest_age_seconds").set(age(mail.oldest));

    for pool in state.store.pool_usage() {
        let busy = pool.size.saturating_sub(pool.idle);
        metrics::gauge!("allmende_db_pool_connections", "pool" => pool.name, "state" => "busy")
            .set(f64::from(busy));
        metrics::gauge!("allmende_db_pool_connections", "pool" => pool.name, "state" => "idle")
            .set(f64::from(pool.idle));
        metrics::gauge!("allmende_db_pool_max_connections", "pool" => pool.name)
            .set(f64::from(pool.max));
    }
    Ok(())
}

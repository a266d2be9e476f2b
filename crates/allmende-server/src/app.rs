//! Wiring: the router with its middleware, binding, and serving until a
//! shutdown signal, finishing in-flight requests first.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use allmende_federation::Federation;
use allmende_store::Store;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{middleware, Router};
use tokio::net::TcpListener;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::state::AppState;
use crate::{api, auth, documents, web};

pub struct Application {
    listener: TcpListener,
    /// `metrics_listen`'s listener, when configured.
    metrics_listener: Option<TcpListener>,
    state: AppState,
}

impl Application {
    /// Opens and migrates the database and binds `config.listen`.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
        Self::with_listener(config, listener).await
    }

    /// Like [`build`](Self::build) with a listener bound by the caller (tests
    /// bind port 0 first, so the public URL can name the real port).
    pub async fn with_listener(config: Config, listener: TcpListener) -> anyhow::Result<Self> {
        config.check()?;
        let store = Store::open(config.database_url()).await?;
        if store.engine() == allmende_store::Engine::Sqlite {
            // One server process owns a SQLite file: claims found before it
            // serves belong to a process that died, and are taken back now
            // (on PostgreSQL other processes may be alive; leases run out).
            store.outbox().release_all().await?;
        }
        if config.reference_data {
            let loaded = crate::usecases::reference::load_shipped(&store).await?;
            if loaded > 0 {
                tracing::info!(
                    "loaded {loaded} districts and municipalities (docs/data-sources.md)"
                );
            }
        }
        let federation = Federation::start(store.clone(), config.federation()).await?;
        let password_checks = Arc::new(auth::password::PasswordChecks::new(
            config.login_concurrency,
            std::time::Duration::from_millis(config.login_wait_ms),
        ));
        let mailer = crate::mail::Mailer::from_config(&config)?;
        let metrics_listener =
            match config.metrics_listen {
                Some(address) => Some(TcpListener::bind(address).await.map_err(|e| {
                    anyhow::anyhow!("metrics_listen: cannot listen on {address}: {e}")
                })?),
                None => None,
            };
        Ok(Self {
            listener,
            metrics_listener,
            state: AppState {
                mailer,
                password_checks,
                store,
                config: Arc::new(config),
                federation,
            },
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    /// The address of the metrics listener, if `metrics_listen` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then lets in-flight requests
    /// finish and closes the database.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let app = router(self.state.clone());
        tracing::info!(address = %self.local_addr(), public_url = %self.state.config.public_url, "Allmende node listening");
        let missing = self.state.config.legal_missing();
        if !missing.is_empty() {
            tracing::warn!(
                missing = %missing.join(", "),
                "legal pages not set: a public body's site needs an imprint, a privacy notice and an accessibility statement; set these keys (docs/configuration.md, \"Legal pages\")"
            );
        }
        // The connection's address feeds the per-client login limit.
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        // The mail worker stops with the server.
        let (stop_worker, stopped) = tokio::sync::watch::channel(false);
        let worker = tokio::spawn(crate::mail::worker::run(
            self.state.clone(),
            stopped.clone(),
        ));
        if let Some(handle) = self
            .state
            .config
            .metrics_enabled()
            .then(crate::metrics::install)
            .flatten()
        {
            crate::metrics::spawn_upkeep(handle, stopped.clone());
        }
        let metrics_server = match self.metrics_listener {
            Some(listener) => {
                tracing::info!(address = %listener.local_addr()?, "metrics listening (only /metrics)");
                let metrics_app = Router::new()
                    .route("/metrics", get(crate::metrics::scrape))
                    .with_state(self.state.clone());
                let mut stopped = stopped.clone();
                Some(tokio::spawn(async move {
                    axum::serve(listener, metrics_app)
                        .with_graceful_shutdown(async move {
                            let _ = stopped.wait_for(|stop| *stop).await;
                        })
                        .await
                }))
            }
            None => None,
        };
        let shutdown = async move {
            shutdown.await;
            let _ = stop_worker.send(true);
        };
        axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown)
            .await?;
        let _ = worker.await;
        if let Some(metrics_server) = metrics_server {
            let _ = metrics_server.await;
        }
        // Finish sends in flight and hand back claims before the pool closes.
        self.state.federation.shutdown().await;
        self.state.store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

fn static_header(
    name: header::HeaderName,
    value: &'static str,
) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

pub fn router(state: AppState) -> Router {
    let router = pages_and_federation(state.clone()).layer(middleware::from_fn_with_state(
        state.clone(),
        crate::proxy::require_own_host,
    ));
    // Counted only when someone may read the counts.
    let router = if state.config.metrics_enabled() {
        router.layer(middleware::from_fn(crate::metrics::track_requests))
    } else {
        router
    };
    router.layer(TraceLayer::new_for_http()).with_state(state)
}

/// Every route with the middleware of pages, API and inboxes.
fn pages_and_federation(state: AppState) -> Router<AppState> {
    // Inboxes read their own (smaller) body limit and need no CSRF token
    // or cookies: they are authenticated by HTTP signatures.
    let federation = allmende_federation::routes::router::<AppState>()
        .layer(DefaultBodyLimit::max(state.config.max_inbox_bytes));
    Router::new()
        .merge(web::router())
        .merge(federation)
        .nest("/api/v1", api::router())
        .route("/healthz", get(healthz))
        .route("/metrics", get(crate::metrics::scrape_with_token))
        .fallback(|| async { web::error::PageError::NotFound })
        .layer(middleware::from_fn_with_state(state.clone(), web::error::full_layout))
        .layer(middleware::from_fn_with_state(state.clone(), web::notice::carry))
        .layer(middleware::from_fn_with_state(state.clone(), documents::negotiate))
        .layer(middleware::from_fn_with_state(state.clone(), auth::csrf::ensure_token))
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(static_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(static_header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(static_header(header::REFERRER_POLICY, "same-origin"))
        .layer(static_header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; form-action 'self'",
        ))
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received, finishing in-flight requests");
}

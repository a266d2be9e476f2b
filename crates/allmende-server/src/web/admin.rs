//! The operations page for the node's operators: the delivery queue and
//! the peers that fail. The same figures as `allmende queue status`.

use axum::extract::State;
use axum::response::Html;
use chrono::{DateTime, Utc};
use maud::html;

use super::context::Ctx;
use super::error::PageError;
use super::layout::page;
use crate::state::AppState;

/// Date and time to the minute, in UTC (operators compare it with logs).
fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

pub async fn queue(ctx: Ctx, State(state): State<AppState>) -> Result<Html<String>, PageError> {
    ctx.require_operator()?;
    let status = state
        .store
        .outbox()
        .status(Utc::now())
        .await
        .map_err(PageError::internal)?;
    let rows = [
        (
            ctx.t(
                "Ankündigungen, noch nicht aufbereitet",
                "Announcements not yet prepared",
            ),
            status.events,
        ),
        (
            ctx.t("Zustellungen ausstehend", "Deliveries pending"),
            status.deliveries,
        ),
        (ctx.t("davon jetzt fällig", "of which due now"), status.due),
        (
            ctx.t("davon in Arbeit", "of which in flight"),
            status.in_flight,
        ),
        (
            ctx.t("davon nach Fehlschlag wartend", "of which waiting to retry"),
            status.retrying,
        ),
        (
            ctx.t(
                "davon pausiert (Gegenstelle unerreichbar)",
                "of which paused (peer unreachable)",
            ),
            status.paused,
        ),
    ];
    Ok(Html(
        page(
            &ctx,
            ctx.t("Betrieb: Zustellung", "Operations: delivery"),
            html! {
                section aria-labelledby="queue-heading" {
                    h2 #queue-heading { (ctx.t("Warteschlange", "Queue")) }
                    table {
                        caption { (ctx.t("Ausgehende Aktivitäten dieses Knotens", "Outgoing activities of this node")) }
                        tbody {
                            @for (label, count) in rows {
                                tr { th scope="row" { (label) } td { (count) } }
                            }
                            tr {
                                th scope="row" { (ctx.t("Älteste ausstehende seit", "Oldest pending since")) }
                                td { @match status.oldest_pending { Some(t) => (when(t)), None => "–" } }
                            }
                        }
                    }
                }
                section aria-labelledby="peers-heading" {
                    h2 #peers-heading { (ctx.t("Gegenstellen mit Fehlern", "Failing peers")) }
                    @if status.failing_peers.is_empty() {
                        p { (ctx.t("Keine: Alle Gegenstellen nehmen Zustellungen an.", "None: every peer accepts deliveries.")) }
                    } @else {
                        table {
                            caption { (ctx.t("Unerreichbare Gegenstellen werden pausiert und regelmäßig geprüft.", "Unreachable peers are paused and checked regularly.")) }
                            thead {
                                tr {
                                    th scope="col" { (ctx.t("Host", "Host")) }
                                    th scope="col" { (ctx.t("Fehler seit", "Failing since")) }
                                    th scope="col" { (ctx.t("Unerreichbar seit", "Unreachable since")) }
                                    th scope="col" { (ctx.t("Ausstehend", "Pending")) }
                                    th scope="col" { (ctx.t("Letzter Fehler", "Last error")) }
                                }
                            }
                            tbody {
                                @for peer in &status.failing_peers {
                                    tr {
                                        td { (peer.host) }
                                        td { (when(peer.failing_since)) }
                                        td { @match peer.unreachable_since { Some(t) => (when(t)), None => "–" } }
                                        td { (peer.pending) }
                                        td { (peer.last_error.as_deref().unwrap_or("–")) }
                                    }
                                }
                            }
                        }
                    }
                }
            },
        )
        .into_string(),
    ))
}

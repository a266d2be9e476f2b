//! The operations page for the node's operators: the background queue, the
//! peers that fail, and the work that does not finish by itself (dead jobs
//! and deliveries paused for unreachable peers), which operators retry or
//! drop per peer. The same as `allmende queue status|stuck|retry|drop`.

use allmende_store::{JobKind, Scope, StuckWork};
use axum::extract::{Query, State};
use axum::response::{Html, Response};
use chrono::{DateTime, Utc};
use maud::{html, Markup};
use serde::Deserialize;

use super::context::Ctx;
use super::error::PageError;
use super::forms::{csrf_field, value};
use super::layout::page;
use super::notice::{redirect, Notice};
use super::posted::SignedForm;
use crate::state::AppState;

/// Date and time to the minute, in UTC (operators compare it with logs).
fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The value the forms carry for "this node's own announcements": no host
/// name contains parentheses, so it cannot be a peer's.
const LOCAL: &str = "(this node)";

/// The scope a form's `peer` field names, with the peer for the log.
fn scope_of(values: &super::forms::FormValues) -> Result<(Scope, String), PageError> {
    let peer = value(values, "peer").ok_or(PageError::BadRequest("peer missing".into()))?;
    let scope = if peer == LOCAL {
        Scope::Local
    } else {
        Scope::Peer(peer.clone())
    };
    Ok((scope, peer))
}

fn kind_label(ctx: &Ctx, work: &StuckWork) -> &'static str {
    match (work.kind, work.paused) {
        (JobKind::Delivery, true) => ctx.t("Zustellungen, pausiert", "Deliveries, paused"),
        (JobKind::Delivery, false) => ctx.t("Zustellungen, aufgegeben", "Deliveries, given up"),
        (JobKind::Announcement, _) => ctx.t("Ankündigungen, aufgegeben", "Announcements, given up"),
        (JobKind::Activity, _) => ctx.t(
            "Empfangene Aktivitäten, aufgegeben",
            "Received activities, given up",
        ),
        (JobKind::Backfill, _) => ctx.t("Importe, aufgegeben", "Imports, given up"),
    }
}

/// `GET /admin/queue`
pub async fn queue(ctx: Ctx, State(state): State<AppState>) -> Result<Html<String>, PageError> {
    ctx.require_operator()?;
    let status = state
        .store
        .queue()
        .status(Utc::now())
        .await
        .map_err(PageError::internal)?;
    let stuck = state
        .store
        .queue()
        .stuck()
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
        (ctx.t("Aufgegebene Arbeit", "Work given up"), status.dead),
    ];
    // One block of rows per peer, in the order the store lists them.
    let mut peers: Vec<(String, Vec<&StuckWork>)> = Vec::new();
    for work in &stuck {
        let peer = work.peer.clone().unwrap_or_else(|| LOCAL.into());
        match peers.last_mut() {
            Some((p, list)) if *p == peer => list.push(work),
            _ => peers.push((peer, vec![work])),
        }
    }
    let mail = state
        .store
        .mail()
        .counts()
        .await
        .map_err(PageError::internal)?;
    Ok(Html(
        page(
            &ctx,
            ctx.t("Betrieb: Zustellung", "Operations: delivery"),
            html! {
                p { a href="/admin/organizations" { (ctx.t("Organisationen und Personen auf diesem Knoten verwalten", "Manage the organizations and people on this node")) } }
                p { a href="/admin/policy" { (ctx.t("Föderationsregeln: gesperrte, erlaubte und vertrauenswürdige Domains", "Federation policy: blocked, allowed and trusted domains")) } }
                section aria-labelledby="queue-heading" {
                    h2 #queue-heading { (ctx.t("Warteschlange", "Queue")) }
                    div.table-scroll role="region" tabindex="0" aria-label=(ctx.t("Tabelle, seitlich verschiebbar", "Table, scrolls sideways")) { table.kern-table {
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
                    } }
                }
                section aria-labelledby="mail-heading" {
                    h2 #mail-heading { (ctx.t("E-Mail", "E-mail")) }
                    @if state.mailer.enabled() {
                        p {
                            (mail.waiting) (ctx.t(" E-Mails warten, davon ", " e-mails waiting, of which "))
                            (mail.failing) (ctx.t(" nach Fehlschlag; ", " after a failure; "))
                            (mail.dead) (ctx.t(" aufgegeben.", " given up."))
                            @if let Some(t) = mail.oldest { " " (ctx.t("Älteste seit ", "Oldest since ")) (when(t)) "." }
                        }
                    } @else {
                        p { (ctx.t("Kein SMTP-Server eingerichtet (smtp_url): Einladungen zeigen ihren Link der einladenden Person, Passwörter lassen sich nicht per E-Mail zurücksetzen, Benachrichtigungen entfallen.",
                                   "No SMTP server set up (smtp_url): invitations show their link to the inviting person, passwords cannot be reset by e-mail, there are no notifications.")) }
                    }
                }
                section aria-labelledby="peers-heading" {
                    h2 #peers-heading { (ctx.t("Gegenstellen mit Fehlern", "Failing peers")) }
                    @if status.failing_peers.is_empty() {
                        p { (ctx.t("Keine: Alle Gegenstellen nehmen Zustellungen an.", "None: every peer accepts deliveries.")) }
                    } @else {
                        div.table-scroll role="region" tabindex="0" aria-label=(ctx.t("Tabelle, seitlich verschiebbar", "Table, scrolls sideways")) { table.kern-table {
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
                        } }
                    }
                }
                section aria-labelledby="stuck-heading" {
                    h2 #stuck-heading { (ctx.t("Hängende Arbeit", "Stuck work")) }
                    p { (ctx.t(
                        "Aufgegebene Arbeit hat alle Versuche verbraucht oder wurde abgelehnt; pausierte Zustellungen warten auf eine unerreichbare Gegenstelle. Nichts davon erledigt sich von selbst: Versuchen Sie es erneut, wenn die Ursache behoben ist, oder verwerfen Sie es.",
                        "Work given up has used all its attempts or was refused; paused deliveries wait for an unreachable peer. None of it finishes by itself: retry once the cause is fixed, or drop it."
                    )) }
                    @if peers.is_empty() {
                        p { (ctx.t("Nichts hängt.", "Nothing is stuck.")) }
                    }
                    @for (peer, works) in &peers {
                        @let name = if peer == LOCAL { ctx.t("Dieser Knoten", "This node").to_owned() } else { peer.clone() };
                        div.table-scroll role="region" tabindex="0" aria-label=(ctx.t("Tabelle, seitlich verschiebbar", "Table, scrolls sideways")) { table.kern-table {
                            caption { (name) }
                            thead {
                                tr {
                                    th scope="col" { (ctx.t("Art", "Kind")) }
                                    th scope="col" { (ctx.t("Anzahl", "Count")) }
                                    th scope="col" { (ctx.t("Seit", "Since")) }
                                    th scope="col" { (ctx.t("Letzter Fehler", "Last error")) }
                                }
                            }
                            tbody {
                                @for work in works {
                                    tr {
                                        td { (kind_label(&ctx, work)) }
                                        td { (work.count) }
                                        td { (when(work.since)) }
                                        td { (work.last_error.as_deref().unwrap_or("–")) }
                                    }
                                }
                            }
                        } }
                        div.actions {
                            form.inline method="post" action="/admin/queue/retry" {
                                (csrf_field(&ctx))
                                input type="hidden" name="peer" value=(peer);
                                button.kern-btn.kern-btn--secondary type="submit" aria-label={ (ctx.t("Erneut versuchen: ", "Retry: ")) (name) } { span.kern-label { (ctx.t("Erneut versuchen", "Retry")) } }
                            }
                            a href={ "/admin/queue/drop?peer=" (url::form_urlencoded::byte_serialize(peer.as_bytes()).collect::<String>()) } aria-label={ (ctx.t("Verwerfen: ", "Drop: ")) (name) } { (ctx.t("Verwerfen …", "Drop …")) }
                        }
                    }
                }
            },
        )
        .into_string(),
    ))
}

/// `POST /admin/queue/retry`: dead work of the peer starts over, a paused
/// peer is tried again at once.
pub async fn retry(
    State(state): State<AppState>,
    SignedForm { ctx, values, .. }: SignedForm,
) -> Result<Response, PageError> {
    ctx.require_operator()?;
    let (scope, peer) = scope_of(&values)?;
    let touched = state
        .store
        .queue()
        .retry(&scope, Utc::now())
        .await
        .map_err(PageError::internal)?;
    tracing::info!(operator = %ctx.user().map(|u| u.email.as_str()).unwrap_or("-"), %peer, jobs = touched.total(), peers = touched.peers, "operator retried stuck work");
    state.federation.wake();
    Ok(redirect("/admin/queue", Notice::Retried))
}

#[derive(Deserialize)]
pub struct DropQuery {
    peer: Option<String>,
}

/// `GET /admin/queue/drop?peer=`: asks before dropping.
pub async fn drop_confirm(ctx: Ctx, Query(query): Query<DropQuery>) -> Result<Markup, PageError> {
    ctx.require_operator()?;
    let peer = query
        .peer
        .filter(|p| !p.is_empty())
        .ok_or(PageError::BadRequest("peer missing".into()))?;
    let name = if peer == LOCAL {
        ctx.t("Dieser Knoten", "This node").to_owned()
    } else {
        peer.clone()
    };
    Ok(page(
        &ctx,
        ctx.t("Hängende Arbeit verwerfen?", "Drop stuck work?"),
        html! {
            p { strong { (name) } }
            p { (ctx.t(
                "Aufgegebene Arbeit und pausierte Zustellungen dieser Gegenstelle werden endgültig gelöscht. Was dort noch nicht angekommen ist, kommt nie an.",
                "Work given up and paused deliveries of this peer are deleted for good. What has not arrived there will never arrive."
            )) }
            form method="post" action="/admin/queue/drop" {
                (csrf_field(&ctx))
                input type="hidden" name="peer" value=(peer);
                div.actions {
                    button.kern-btn.kern-btn--danger type="submit" { span.kern-label { (ctx.t("Endgültig verwerfen", "Drop for good")) } }
                    a href="/admin/queue" { (ctx.t("Abbrechen", "Cancel")) }
                }
            }
        },
    ))
}

/// `POST /admin/queue/drop`
pub async fn drop(
    State(state): State<AppState>,
    SignedForm { ctx, values, .. }: SignedForm,
) -> Result<Response, PageError> {
    ctx.require_operator()?;
    let (scope, peer) = scope_of(&values)?;
    let touched = state
        .store
        .queue()
        .drop_stuck(&scope)
        .await
        .map_err(PageError::internal)?;
    tracing::warn!(operator = %ctx.user().map(|u| u.email.as_str()).unwrap_or("-"), %peer, jobs = touched.total(), "operator dropped stuck work");
    Ok(redirect("/admin/queue", Notice::Dropped))
}

//! What a person hears of by e-mail: their choice (at once, a daily
//! summary, nothing), the services and groups they watch, and the
//! unsubscribe link every notification carries, which works without
//! logging in (and with one click from the mail program, RFC 8058).

use std::collections::HashMap;

use allmende_store::notifications::WatchKind;
use allmende_store::people::NotifyMode;
use allmende_store::UserId;
use axum::extract::{Query, State};
use axum::response::Response;
use maud::{html, Markup};

use super::context::Ctx;
use super::error::PageError;
use super::forms::{csrf_field, value};
use super::items::parse_id;
use super::layout::page;
use super::notice::{redirect, Notice};
use super::posted::SignedForm;
use crate::state::AppState;

/// The settings on the account page.
pub async fn settings(ctx: &Ctx, state: &AppState) -> Result<Markup, PageError> {
    let s = ctx.require_user()?;
    let mode = state
        .store
        .people()
        .notify_mode(s.user.id)
        .await
        .map_err(PageError::internal)?;
    let watches = state
        .store
        .notifications()
        .watches_of(s.user.id)
        .await
        .map_err(PageError::internal)?;
    let mut groups = HashMap::new();
    for (kind, target) in &watches {
        if *kind == WatchKind::Group {
            if let Ok(id) = uuid::Uuid::parse_str(target) {
                if let Ok(org) = state
                    .store
                    .organizations()
                    .get(allmende_domain::OrganizationId(id))
                    .await
                {
                    groups.insert(target.clone(), org);
                }
            }
        }
    }
    let choices = [
        (
            NotifyMode::Immediate,
            ctx.t(
                "Sofort, je Ereignis eine E-Mail",
                "At once, one e-mail per event",
            ),
        ),
        (
            NotifyMode::Daily,
            ctx.t(
                "Einmal täglich als Zusammenfassung (morgens)",
                "Once a day as a summary (mornings)",
            ),
        ),
        (NotifyMode::Off, ctx.t("Keine E-Mails", "No e-mail")),
    ];
    Ok(html! {
        @if !state.mailer.enabled() {
            p.hint { (ctx.t("Dieser Knoten versendet derzeit keine E-Mails; Ihre Wahl gilt, sobald der Betrieb E-Mail einrichtet.", "This node sends no e-mail at the moment; your choice applies once the operators set up e-mail.")) }
        }
        p { (ctx.t("Sie erhalten Nachricht, wenn eine Frage Ihrer Organisation beantwortet oder eine Antwort Ihrer Organisation akzeptiert wird, und wenn es Neues zu Leistungen und Gruppen gibt, die Sie beobachten.",
                   "You hear of it when a question of your organization is answered or an answer of your organization is accepted, and of what is new on services and groups you watch.")) }
        form.stacked method="post" action="/notifications" {
            (csrf_field(ctx))
            fieldset {
                legend { (ctx.t("Benachrichtigungen per E-Mail", "Notifications by e-mail")) }
                @for (m, label) in choices {
                    div.field.checkbox {
                        input type="radio" id={ "notify-" (m.slug()) } name="notify" value=(m.slug()) checked[m == mode];
                        label for={ "notify-" (m.slug()) } { (label) }
                    }
                }
            }
            div.actions { button.kern-btn.kern-btn--primary type="submit" { span.kern-label { (ctx.t("Speichern", "Save")) } } }
        }
        h3 { (ctx.t("Sie beobachten", "You watch")) }
        @if watches.is_empty() {
            p { (ctx.t("Nichts. Auf der Seite einer Leistung oder einer Gruppe können Sie „Beobachten“ wählen.", "Nothing. On the page of a service or a group you can choose “Watch”.")) }
        } @else {
            ul {
                @for (kind, target) in &watches {
                    li {
                        @match kind {
                            WatchKind::Service => { a href={ "/services/" (target) } { (ctx.t("Leistung ", "Service ")) (target) } }
                            WatchKind::Group => {
                                @if let Some(org) = groups.get(target) { a href={ "/orgs/" (org.handle) } { (ctx.t("Gruppe ", "Group ")) (org.profile.name) } }
                                @else { (ctx.t("Gruppe (nicht mehr bekannt)", "Group (no longer known)")) }
                            }
                        }
                        " "
                        (watch_button(ctx, *kind, target, true, "/account#notifications"))
                    }
                }
            }
        }
    })
}

/// A one-button form to watch (or stop watching) a service or group.
pub fn watch_button(
    ctx: &Ctx,
    kind: WatchKind,
    target: &str,
    watching: bool,
    next: &str,
) -> Markup {
    let target_label = match kind {
        WatchKind::Service => format!("{} {target}", ctx.t("Leistung", "service")),
        WatchKind::Group => ctx.t("diese Gruppe", "this group").to_owned(),
    };
    html! {
        form.inline method="post" action="/notifications/watch" {
            (csrf_field(ctx))
            input type="hidden" name="kind" value=(match kind { WatchKind::Service => "service", WatchKind::Group => "group" });
            input type="hidden" name="target" value=(target);
            input type="hidden" name="next" value=(next);
            @if watching {
                input type="hidden" name="watch" value="off";
                button.kern-btn.kern-btn--secondary type="submit" aria-label={ (ctx.t("Nicht mehr beobachten: ", "Stop watching: ")) (target_label) } { span.kern-label { (ctx.t("Nicht mehr beobachten", "Stop watching")) } }
            } @else {
                input type="hidden" name="watch" value="on";
                button.kern-btn.kern-btn--secondary type="submit" { span.kern-label { (ctx.t("Beobachten", "Watch")) } }
            }
        }
    }
}

/// Whether the signed-in person watches `target`.
pub async fn watching(
    ctx: &Ctx,
    state: &AppState,
    kind: WatchKind,
    target: &str,
) -> Result<Option<bool>, PageError> {
    match ctx.user() {
        Some(u) => Ok(Some(
            state
                .store
                .notifications()
                .is_watching(u.id, kind, target)
                .await
                .map_err(PageError::internal)?,
        )),
        None => Ok(None),
    }
}

/// `POST /notifications`
pub async fn save(
    State(state): State<AppState>,
    SignedForm {
        signed_in, values, ..
    }: SignedForm,
) -> Result<Response, PageError> {
    let mode = value(&values, "notify")
        .and_then(|m| NotifyMode::parse(&m))
        .ok_or_else(|| PageError::BadRequest("notify: immediate, daily or off".into()))?;
    state
        .store
        .people()
        .set_notify_mode(signed_in.user.id, mode)
        .await
        .map_err(PageError::internal)?;
    Ok(redirect(
        "/account#notifications",
        Notice::NotificationsSaved,
    ))
}

/// `POST /notifications/watch`
pub async fn watch(
    State(state): State<AppState>,
    SignedForm {
        signed_in, values, ..
    }: SignedForm,
) -> Result<Response, PageError> {
    let kind = match value(&values, "kind").as_deref() {
        Some("service") => WatchKind::Service,
        Some("group") => WatchKind::Group,
        _ => return Err(PageError::BadRequest("kind: service or group".into())),
    };
    let target = value(&values, "target").unwrap_or_default();
    // Only what exists can be watched: a valid service key, a known group.
    let target = match kind {
        WatchKind::Service => allmende_domain::ServiceKey::parse(&target)
            .map_err(|_| PageError::BadRequest("target: a service key".into()))?
            .slug(),
        WatchKind::Group => {
            let id = parse_id(&target)?;
            let group = state
                .store
                .organizations()
                .get(allmende_domain::OrganizationId(id))
                .await
                .map_err(|_| PageError::NotFound)?;
            if !group.profile.kind.is_group() {
                return Err(PageError::BadRequest("target: a group".into()));
            }
            id.to_string()
        }
    };
    let next = value(&values, "next")
        .and_then(|n| crate::auth::local_target(&n, &state.config.public_url))
        .unwrap_or_else(|| "/account#notifications".into());
    let store = state.store.notifications();
    if value(&values, "watch").as_deref() == Some("off") {
        store
            .unwatch(signed_in.user.id, kind, &target)
            .await
            .map_err(PageError::internal)?;
        Ok(redirect(&next, Notice::NotWatching))
    } else {
        store
            .watch(signed_in.user.id, kind, &target, chrono::Utc::now())
            .await
            .map_err(PageError::internal)?;
        Ok(redirect(&next, Notice::Watching))
    }
}

fn unsubscribe_page(ctx: &Ctx, user: &str, token: &str, done: bool) -> Markup {
    page(
        ctx,
        ctx.t("Benachrichtigungen abbestellen", "Stop notifications"),
        html! {
            @if done {
                p { (ctx.t("Erledigt: Sie erhalten keine Benachrichtigungen mehr. Einladungen und Links zum Zurücksetzen des Passworts kommen weiterhin. Auf Ihrer Kontoseite können Sie sie wieder einschalten.",
                           "Done: you will get no more notifications. Invitations and password reset links still come. You can turn them on again on your account page.")) }
            } @else {
                p { (ctx.t("Möchten Sie keine Benachrichtigungen mehr per E-Mail erhalten?", "Do you want to stop notifications by e-mail?")) }
                form method="post" action="/notifications/unsubscribe" {
                    input type="hidden" name="u" value=(user);
                    input type="hidden" name="t" value=(token);
                    button.kern-btn.kern-btn--primary type="submit" { span.kern-label { (ctx.t("Abbestellen", "Stop them")) } }
                }
            }
        },
    )
}

/// `GET /notifications/unsubscribe?u=&t=`: asks (link checkers in mail
/// systems follow links; only the POST changes anything).
pub async fn unsubscribe_form(
    ctx: Ctx,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Markup, PageError> {
    let user = q.get("u").cloned().unwrap_or_default();
    let token = q.get("t").cloned().unwrap_or_default();
    parse_id(&user)?;
    Ok(unsubscribe_page(&ctx, &user, &token, false))
}

/// `POST /notifications/unsubscribe`: the token in the link authenticates
/// (no session, no CSRF token: mail programs post here themselves).
pub async fn unsubscribe(
    ctx: Ctx,
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    body: axum::body::Bytes,
) -> Result<Markup, PageError> {
    // Any body is read as a form; mail programs send
    // `List-Unsubscribe=One-Click`, our page `u` and `t`.
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    // RFC 8058 posts to the URL (u and t in the query); our page posts them
    // in the form.
    let get = |k: &str| {
        form.get(k)
            .or_else(|| query.get(k))
            .cloned()
            .unwrap_or_default()
    };
    let user = UserId(parse_id(&get("u"))?);
    let token = get("t");
    if token.is_empty()
        || !state
            .store
            .people()
            .unsubscribe(user, &token)
            .await
            .map_err(PageError::internal)?
    {
        return Err(PageError::NotFound);
    }
    Ok(unsubscribe_page(&ctx, "", "", true))
}

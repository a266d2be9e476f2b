//! The people of an organization, for its admins and the node's
//! operators: who has an account, with which role; invitations; the audit
//! log. And the pages a person reaches from an e-mail: accepting an
//! invitation.

use allmende_domain::{Organization, Role};
use allmende_store::audit::AuditEntry;
use allmende_store::UserId;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup};

use super::context::Ctx;
use super::error::PageError;
use super::forms::{csrf_field, error_summary, value, Field, FormErrors, FormValues};
use super::items::parse_id;
use super::layout::{page, timestamp};
use super::notice::{redirect, Notice};
use super::posted::{PostedForm, SignedForm};
use super::ui::{alert, Tone};
use crate::state::AppState;
use crate::usecases::people::{self, Actor};
use crate::usecases::UseCaseError;

fn role_options(ctx: &Ctx) -> [(&'static str, &'static str); 2] {
    [
        (
            "editor",
            ctx.t(
                "Redaktion: veröffentlichen und antworten",
                "Editor: publish and answer",
            ),
        ),
        (
            "admin",
            ctx.t(
                "Administration: auch Personen und Profil verwalten",
                "Admin: also manage people and the profile",
            ),
        ),
    ]
}

/// The local organization `ctx`'s user may manage (its people, its logo):
/// as one of its admins, or as an operator.
pub(super) async fn managed(
    ctx: &Ctx,
    state: &AppState,
    handle: &str,
) -> Result<Organization, PageError> {
    let s = ctx.require_user()?;
    let org = state
        .store
        .organizations()
        .by_handle(handle)
        .await
        .map_err(|_| PageError::NotFound)?;
    let actor = Actor {
        user: &s.user,
        operator: ctx.operator,
    };
    if !org.is_local() || !actor.may_manage(&org) {
        return Err(PageError::Forbidden);
    }
    Ok(org)
}

/// An audit log as a table.
pub fn audit_table(ctx: &Ctx, entries: &[AuditEntry], caption: &str) -> Markup {
    let action = |a: &str| match a {
        "invited" => ctx.t("eingeladen", "invited"),
        "invitation-withdrawn" => ctx.t("Einladung zurückgezogen", "invitation withdrawn"),
        "joined" => ctx.t("Einladung angenommen", "accepted the invitation"),
        "role-changed" => ctx.t("Rolle geändert", "role changed"),
        "removed" => ctx.t("entfernt", "removed"),
        "password-changed" => ctx.t("Passwort geändert", "password changed"),
        "password-reset" => ctx.t("Passwort zurückgesetzt", "password reset"),
        "organization-created" => ctx.t("Organisation angelegt", "organization created"),
        "user-added" => ctx.t("Person angelegt", "person added"),
        _ => ctx.t("Änderung", "change"),
    };
    html! {
        @if entries.is_empty() {
            p { (ctx.t("Noch keine Einträge.", "No entries yet.")) }
        } @else {
            div.table-scroll role="region" tabindex="0" aria-label=(caption) {
                table.kern-table {
                    caption.visually-hidden { (caption) }
                    thead { tr {
                        th scope="col" { (ctx.t("Wann", "When")) }
                        th scope="col" { (ctx.t("Wer", "Who")) }
                        th scope="col" { (ctx.t("Was", "What")) }
                        th scope="col" { (ctx.t("Betrifft", "Concerns")) }
                    } }
                    tbody {
                        @for e in entries {
                            tr {
                                td { (timestamp(ctx, e.at)) " " (e.at.format("%H:%M")) }
                                td.url { (e.actor) }
                                td { (action(&e.action)) }
                                td.url { (e.subject) }
                            }
                        }
                    }
                }
            }
        }
    }
}

async fn people_page(
    ctx: &Ctx,
    state: &AppState,
    org: &Organization,
    values: &FormValues,
    errors: &FormErrors,
    invited_link: Option<(&str, &str)>,
) -> Result<Markup, PageError> {
    let people = state
        .store
        .people()
        .of_organization(org.id)
        .await
        .map_err(PageError::internal)?;
    let invitations = state
        .store
        .people()
        .invitations_of(org.id, chrono::Utc::now())
        .await
        .map_err(PageError::internal)?;
    let log = state
        .store
        .audit()
        .recent(Some(org.id), 30)
        .await
        .map_err(PageError::internal)?;
    let roles = role_options(ctx);
    let base = format!("/orgs/{}/people", org.handle);
    let me = ctx.user().map(|u| u.id);
    Ok(page(
        ctx,
        &format!("{} {}", ctx.t("Personen:", "People:"), org.profile.name),
        html! {
            @if let Some((email, link)) = invited_link {
                (alert(Tone::Success, "status", ctx.t("Einladung erstellt", "Invitation created"), Some(html! {
                    p { (ctx.t("Dieser Knoten versendet keine E-Mails. Geben Sie diesen Link sicher an ", "This node sends no e-mail. Pass this link on securely to ")) strong { (email) } (ctx.t(" weiter; er gilt 7 Tage und nur einmal:", "; it is valid for 7 days and works once:")) }
                    p { code.wrap { (link) } }
                })))
            }
            (error_summary(ctx, errors))
            h2 { (ctx.t("Personen mit Zugang", "People with access")) }
            div.table-scroll role="region" tabindex="0" aria-label=(ctx.t("Personen mit Zugang", "People with access")) {
                table.kern-table {
                    thead { tr {
                        th scope="col" { (ctx.t("E-Mail", "E-mail")) }
                        th scope="col" { (ctx.t("Rolle", "Role")) }
                        th scope="col" { (ctx.t("Seit", "Since")) }
                        th scope="col" { (ctx.t("Entfernen", "Remove")) }
                    } }
                    tbody {
                        @for p in &people {
                            tr {
                                td.url { (p.email) }
                                td {
                                    form.role-form method="post" action={ (base) "/" (p.id) "/role" } {
                                        (csrf_field(ctx))
                                        label.visually-hidden for={ "role-" (p.id) } { (ctx.t("Rolle von ", "Role of ")) (p.email) }
                                        select id={ "role-" (p.id) } name="role" {
                                            @for (v, l) in &roles {
                                                option value=(v) selected[*v == p.role.slug()] { (l) }
                                            }
                                        }
                                        " "
                                        button.kern-btn.kern-btn--secondary type="submit" aria-label={ (ctx.t("Rolle speichern: ", "Save role: ")) (p.email) } { span.kern-label { (ctx.t("Speichern", "Save")) } }
                                    }
                                }
                                td { (timestamp(ctx, p.created_at)) }
                                td {
                                    @if Some(p.id) != me {
                                        a href={ (base) "/" (p.id) "/remove" } aria-label={ (ctx.t("Entfernen: ", "Remove: ")) (p.email) } { (ctx.t("Entfernen …", "Remove …")) }
                                    } @else {
                                        (ctx.t("(Sie)", "(you)"))
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if !invitations.is_empty() {
                h2 { (ctx.t("Offene Einladungen", "Open invitations")) }
                ul {
                    @for i in &invitations {
                        li {
                            (i.email) " – " (ctx.label(i.role)) " – " (ctx.t("gültig bis ", "valid until ")) (timestamp(ctx, i.expires_at)) " "
                            form.inline method="post" action={ "/orgs/" (org.handle) "/invitations/" (i.id) "/withdraw" } {
                                (csrf_field(ctx))
                                button.link type="submit" aria-label={ (ctx.t("Einladung zurückziehen: ", "Withdraw invitation: ")) (i.email) } { (ctx.t("Zurückziehen", "Withdraw")) }
                            }
                        }
                    }
                }
            }
            h2 #invite { (ctx.t("Person einladen", "Invite a person")) }
            p.hint {
                @if state.mailer.enabled() {
                    (ctx.t("Die Person erhält eine E-Mail mit einem Link, über den sie ihr Passwort festlegt.", "The person gets an e-mail with a link to set their password."))
                } @else {
                    (ctx.t("Dieser Knoten versendet keine E-Mails: Sie erhalten den Einladungslink und geben ihn selbst weiter.", "This node sends no e-mail: you get the invitation link and pass it on yourself."))
                }
            }
            form.stacked method="post" action={ (base) "/invite" } novalidate {
                (csrf_field(ctx))
                (Field::new("email", ctx.t("E-Mail-Adresse", "E-mail address")).required().autocomplete("off").input(ctx, "email", values, errors))
                (Field::new("role", ctx.t("Rolle", "Role")).required().select(ctx, &roles, values, errors))
                div.actions { button.kern-btn.kern-btn--primary type="submit" { span.kern-label { (ctx.t("Einladen", "Invite")) } } }
            }
            h2 { (ctx.t("Protokoll", "Log")) }
            (audit_table(ctx, &log, ctx.t("Protokoll der Organisation", "The organization's log")))
        },
    ))
}

/// `GET /orgs/{handle}/people`
pub async fn show(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(handle): Path<String>,
) -> Result<Markup, PageError> {
    let org = managed(&ctx, &state, &handle).await?;
    people_page(
        &ctx,
        &state,
        &org,
        &FormValues::new(),
        &FormErrors::default(),
        None,
    )
    .await
}

fn label(ctx: &Ctx, field: &str) -> String {
    match field {
        "email" => ctx.t("E-Mail-Adresse", "E-mail address").into(),
        "role" => ctx.t("Rolle", "Role").into(),
        other => other.into(),
    }
}

/// `POST /orgs/{handle}/people/invite`
pub async fn invite(
    State(state): State<AppState>,
    Path(handle): Path<String>,
    SignedForm {
        ctx,
        signed_in,
        values,
    }: SignedForm,
) -> Result<Response, PageError> {
    let org = managed(&ctx, &state, &handle).await?;
    let actor = Actor {
        user: &signed_in.user,
        operator: ctx.operator,
    };
    let email = value(&values, "email").unwrap_or_default();
    let role = value(&values, "role").unwrap_or_default();
    let errors = match people::invite(&state, &actor, &org, &email, &role).await {
        Ok(invited) if invited.mailed => {
            return Ok(redirect(
                &format!("/orgs/{}/people", org.handle),
                Notice::InvitationSent,
            ));
        }
        Ok(invited) => {
            let page = people_page(
                &ctx,
                &state,
                &org,
                &FormValues::new(),
                &FormErrors::default(),
                Some((invited.invitation.email.as_str(), &invited.link)),
            )
            .await?;
            // The link is a secret: no cache keeps it.
            return Ok((
                [(axum::http::header::CACHE_CONTROL, "no-store")],
                Html(page.into_string()),
            )
                .into_response());
        }
        Err(UseCaseError::Invalid(e)) => FormErrors::from_validation(&ctx, &e, |f| label(&ctx, f)),
        Err(UseCaseError::Conflict(_)) => FormErrors::single(
            "email",
            ctx.t(
                "E-Mail-Adresse: Mit dieser Adresse gibt es schon ein Konto.",
                "E-mail address: there is already an account with this address.",
            )
            .into(),
        ),
        Err(other) => return Err(other.into()),
    };
    let page = people_page(&ctx, &state, &org, &values, &errors, None).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.into_string())).into_response())
}

/// `POST /orgs/{handle}/invitations/{id}/withdraw`
pub async fn withdraw_invitation(
    State(state): State<AppState>,
    Path((handle, id)): Path<(String, String)>,
    SignedForm { ctx, signed_in, .. }: SignedForm,
) -> Result<Response, PageError> {
    let org = managed(&ctx, &state, &handle).await?;
    let actor = Actor {
        user: &signed_in.user,
        operator: ctx.operator,
    };
    people::withdraw_invitation(&state, &actor, &org, parse_id(&id)?).await?;
    Ok(redirect(
        &format!("/orgs/{}/people", org.handle),
        Notice::InvitationWithdrawn,
    ))
}

/// `POST /orgs/{handle}/people/{id}/role`
pub async fn set_role(
    State(state): State<AppState>,
    Path((handle, id)): Path<(String, String)>,
    SignedForm {
        ctx,
        signed_in,
        values,
    }: SignedForm,
) -> Result<Response, PageError> {
    let org = managed(&ctx, &state, &handle).await?;
    let actor = Actor {
        user: &signed_in.user,
        operator: ctx.operator,
    };
    let role = value(&values, "role").unwrap_or_default();
    match people::set_role(&state, &actor, &org, UserId(parse_id(&id)?), &role).await {
        Ok(_) => Ok(redirect(
            &format!("/orgs/{}/people", org.handle),
            Notice::RoleChanged,
        )),
        Err(UseCaseError::Conflict(_)) => last_admin(&ctx, &state, &org, &id).await,
        Err(e) => Err(e.into()),
    }
}

/// The page again, saying why the last admin stays one; the message links
/// to that person's role.
async fn last_admin(
    ctx: &Ctx,
    state: &AppState,
    org: &Organization,
    person: &str,
) -> Result<Response, PageError> {
    let errors = FormErrors::single(
        &format!("role-{person}"),
        ctx.t(
            "Rolle: Die Organisation braucht mindestens eine Person mit Administration. Ernennen Sie zuerst eine andere.",
            "Role: the organization needs at least one admin. Make someone else admin first.",
        )
        .into(),
    );
    let page = people_page(ctx, state, org, &FormValues::new(), &errors, None).await?;
    Ok((StatusCode::CONFLICT, Html(page.into_string())).into_response())
}

/// `GET /orgs/{handle}/people/{id}/remove`: asks first.
pub async fn remove_confirm(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((handle, id)): Path<(String, String)>,
) -> Result<Markup, PageError> {
    let org = managed(&ctx, &state, &handle).await?;
    let person = state
        .store
        .accounts()
        .user(UserId(parse_id(&id)?))
        .await
        .map_err(|_| PageError::NotFound)?;
    if person.organization_id != org.id {
        return Err(PageError::NotFound);
    }
    Ok(page(
        &ctx,
        ctx.t("Person entfernen?", "Remove the person?"),
        html! {
            p {
                strong { (person.email) }
                (ctx.t(" verliert den Zugang zu ", " loses access to ")) (org.profile.name)
                (ctx.t(": Anmeldungen und API-Tokens enden sofort. Was die Person veröffentlicht hat, bleibt als Beitrag der Organisation erhalten.",
                       ": logins and API tokens end at once. What they published stays, as the organization's."))
            }
            form method="post" action={ "/orgs/" (org.handle) "/people/" (person.id) "/remove" } {
                (csrf_field(&ctx))
                div.actions {
                    button.kern-btn.kern-btn--danger type="submit" { span.kern-label { (ctx.t("Endgültig entfernen", "Remove for good")) } }
                    a href={ "/orgs/" (org.handle) "/people" } { (ctx.t("Abbrechen", "Cancel")) }
                }
            }
        },
    ))
}

/// `POST /orgs/{handle}/people/{id}/remove`
pub async fn remove(
    State(state): State<AppState>,
    Path((handle, id)): Path<(String, String)>,
    SignedForm { ctx, signed_in, .. }: SignedForm,
) -> Result<Response, PageError> {
    let org = managed(&ctx, &state, &handle).await?;
    let actor = Actor {
        user: &signed_in.user,
        operator: ctx.operator,
    };
    let target = UserId(parse_id(&id)?);
    if target == signed_in.user.id {
        return Err(PageError::BadRequest(
            ctx.t(
                "Sie können sich nicht selbst entfernen.",
                "You cannot remove yourself.",
            )
            .into(),
        ));
    }
    match people::remove(&state, &actor, &org, target).await {
        Ok(_) => Ok(redirect(
            &format!("/orgs/{}/people", org.handle),
            Notice::PersonRemoved,
        )),
        Err(UseCaseError::Conflict(_)) => last_admin(&ctx, &state, &org, &id).await,
        Err(e) => Err(e.into()),
    }
}

fn invitation_page(
    ctx: &Ctx,
    org: &Organization,
    email: &str,
    role: Role,
    token: &str,
    errors: &FormErrors,
) -> Markup {
    page(
        ctx,
        ctx.t("Einladung annehmen", "Accept the invitation"),
        html! {
            (error_summary(ctx, errors))
            p {
                (ctx.t("Sie sind eingeladen, für ", "You are invited to work for ")) strong { (org.profile.name) }
                (ctx.t(" auf Allmende mitzuarbeiten, als ", " on Allmende, as ")) (ctx.label(role)) ". "
                (ctx.t("Ihr Konto: ", "Your account: ")) strong { (email) }
            }
            form.stacked method="post" action={ "/invitations/" (token) } novalidate {
                (csrf_field(ctx))
                (Field::new("password", ctx.t("Neues Passwort", "New password")).required().hint(ctx.t("Mindestens 10 Zeichen; ein langer Satz ist gut zu merken und schwer zu erraten.", "At least 10 characters; a long sentence is easy to remember and hard to guess.")).autocomplete("new-password").input(ctx, "password", &FormValues::new(), errors))
                (Field::new("password_confirm", ctx.t("Passwort wiederholen", "Repeat the password")).required().autocomplete("new-password").input(ctx, "password", &FormValues::new(), errors))
                div.actions { button.kern-btn.kern-btn--primary type="submit" { span.kern-label { (ctx.t("Konto anlegen", "Create account")) } } }
            }
        },
    )
}

/// Checks a new password and its repetition; the form errors if they fail.
pub fn new_password_errors(ctx: &Ctx, values: &FormValues) -> Option<FormErrors> {
    let password = values.get("password").map(String::as_str).unwrap_or("");
    let confirm = values
        .get("password_confirm")
        .map(String::as_str)
        .unwrap_or("");
    if password.chars().count() < crate::auth::password::MIN_LENGTH {
        return Some(FormErrors::single(
            "password",
            ctx.t(
                "Neues Passwort: mindestens 10 Zeichen.",
                "New password: at least 10 characters.",
            )
            .into(),
        ));
    }
    if password != confirm {
        return Some(FormErrors::single(
            "password_confirm",
            ctx.t(
                "Passwort wiederholen: Die beiden Eingaben stimmen nicht überein.",
                "Repeat the password: the two entries differ.",
            )
            .into(),
        ));
    }
    None
}

/// `GET /invitations/{token}`
pub async fn invitation_form(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Markup, PageError> {
    let invitation = people::invitation(&state, &token).await?;
    let org = state
        .store
        .organizations()
        .get(invitation.organization_id)
        .await
        .map_err(PageError::internal)?;
    Ok(invitation_page(
        &ctx,
        &org,
        invitation.email.as_str(),
        invitation.role,
        &token,
        &FormErrors::default(),
    ))
}

/// `POST /invitations/{token}`
pub async fn accept_invitation(
    State(state): State<AppState>,
    Path(token): Path<String>,
    PostedForm { ctx, values }: PostedForm,
) -> Result<Response, PageError> {
    let invitation = people::invitation(&state, &token).await?;
    if let Some(errors) = new_password_errors(&ctx, &values) {
        let org = state
            .store
            .organizations()
            .get(invitation.organization_id)
            .await
            .map_err(PageError::internal)?;
        let page = invitation_page(
            &ctx,
            &org,
            invitation.email.as_str(),
            invitation.role,
            &token,
            &errors,
        );
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.into_string())).into_response());
    }
    people::accept(
        &state,
        &token,
        values.get("password").map(String::as_str).unwrap_or(""),
    )
    .await?;
    Ok(redirect("/login", Notice::AccountCreated))
}

/// `GET /admin/audit`: every organization's log, for operators.
pub async fn admin_audit(ctx: Ctx, State(state): State<AppState>) -> Result<Markup, PageError> {
    ctx.require_operator()?;
    let log = state
        .store
        .audit()
        .recent(None, 200)
        .await
        .map_err(PageError::internal)?;
    Ok(page(
        &ctx,
        ctx.t("Protokoll aller Organisationen", "Log of all organizations"),
        html! {
            p { a href="/admin/organizations" { (ctx.t("Zu den Organisationen", "To the organizations")) } }
            p.hint { (ctx.t("Die letzten 200 Einträge: Einladungen, Rollen, entfernte Personen, Passwörter, angelegte Organisationen.", "The last 200 entries: invitations, roles, removed people, passwords, organizations created.")) }
            (audit_table(&ctx, &log, ctx.t("Protokoll", "Log")))
        },
    ))
}

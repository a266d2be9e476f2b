//! Organizations hosted on this node, for its operators: a node hosts any
//! number of them (an association's node hosts its small members, and the
//! association's own group), each with its own users, actor and keys.
//! Operators create organizations with their first admin and add people
//! to any of them, as `allmende org create` and `allmende user create` do.
//! A new person's password is generated and shown once.

use allmende_domain::{OrganizationInput, OrganizationKind, Role};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup};

use super::context::Ctx;
use super::error::PageError;
use super::forms::{csrf_field, error_summary, value, Field, FormErrors, FormValues};
use super::layout::page;
use super::posted::SignedForm;
use crate::auth::password;
use crate::state::AppState;
use crate::usecases::{accounts, organizations, UseCaseError};

/// Someone just created, shown above the lists with the password once.
struct Created {
    what: String,
    email: String,
    password: String,
    /// The organization's page.
    link: String,
}

async fn render(
    ctx: &Ctx,
    state: &AppState,
    values: &FormValues,
    errors: &FormErrors,
    created: Option<&Created>,
) -> Result<Markup, PageError> {
    let orgs = state
        .store
        .organizations()
        .list()
        .await
        .map_err(PageError::internal)?;
    let kinds: Vec<(&str, &str)> = OrganizationKind::ALL
        .iter()
        .filter(|k| **k != OrganizationKind::Other)
        .map(|k| (k.slug(), ctx.label(*k)))
        .collect();
    let org_options: Vec<(&str, &str)> = orgs
        .iter()
        .filter(|o| o.is_local())
        .map(|o| (o.handle.as_str(), o.profile.name.as_str()))
        .collect();
    let roles = [
        ("admin", ctx.t("Admin", "Admin")),
        ("editor", ctx.t("Redaktion", "Editor")),
    ];
    Ok(page(
        ctx,
        ctx.t("Organisationen verwalten", "Manage organizations"),
        html! {
            p { a href="/admin/queue" { (ctx.t("Zurück zum Betrieb", "Back to operations")) } " · " a href="/admin/audit" { (ctx.t("Protokoll aller Organisationen", "Log of all organizations")) } }
            @if let Some(Created { what, email, password, link }) = created {
                div.notice.kern-alert.kern-alert--success role="status" {
                    p { (what) " " a href=(link) { (ctx.t("Zur Seite der Organisation", "To the organization's page")) } }
                    p {
                        (ctx.t("Anmeldung: ", "Sign-in: ")) code { (email) }
                        " · " (ctx.t("Passwort (nur jetzt sichtbar, bitte sicher weitergeben): ", "Password (shown only now; pass it on securely): "))
                        code { (password) }
                    }
                }
            }
            (error_summary(ctx, errors))
            h2 { (ctx.t("Organisationen auf diesem Knoten", "Organizations on this node")) }
            div.table-scroll role="region" tabindex="0" aria-label=(ctx.t("Tabelle, seitlich verschiebbar", "Table, scrolls sideways")) { table.kern-table {
                thead { tr {
                    th scope="col" { (ctx.t("Name", "Name")) }
                    th scope="col" { (ctx.t("Kennung", "Handle")) }
                    th scope="col" { (ctx.t("Art", "Kind")) }
                    th scope="col" { (ctx.t("Personen", "People")) }
                } }
                tbody {
                    @for o in orgs.iter().filter(|o| o.is_local()) {
                        tr {
                            td { a href={ "/orgs/" (o.handle) } { (o.profile.name) } }
                            td { code { (o.handle) } }
                            td {
                                (ctx.label(o.profile.kind))
                                @if o.profile.kind.is_group() { " (" (ctx.t("Gruppe", "group")) ")" }
                            }
                            td { a href={ "/orgs/" (o.handle) "/people" } aria-label={ (ctx.t("Personen verwalten: ", "Manage people: ")) (o.profile.name) } { (ctx.t("Verwalten", "Manage")) } }
                        }
                    }
                }
            } }
            h2 { (ctx.t("Organisation anlegen", "Create an organization")) }
            p.hint { (ctx.t("Verbände und Netzwerke sind Gruppen: Organisationen treten ihnen bei, und sie geben die Beiträge ihrer Mitglieder weiter.", "Associations and networks are groups: organizations join them, and they pass their members' items on.")) }
            form.stacked method="post" action="/admin/organizations" novalidate {
                (csrf_field(ctx))
                (Field::new("handle", ctx.t("Kennung", "Handle")).required().hint(ctx.t("Kleinbuchstaben, Ziffern, - und _; Teil der Fediverse-Adresse, später nicht änderbar", "Lowercase letters, digits, - and _; part of the fediverse address, cannot be changed later")).input(ctx, "text", values, errors))
                (Field::new("name", ctx.t("Name", "Name")).required().input(ctx, "text", values, errors))
                (Field::new("kind", ctx.t("Art", "Kind")).required().select(ctx, &kinds, values, errors))
                (Field::new("email", ctx.t("E-Mail der ersten Admin-Person", "E-mail of its first admin")).required().input(ctx, "email", values, errors))
                div.actions { button.kern-btn.kern-btn--primary type="submit" { span.kern-label { (ctx.t("Anlegen", "Create")) } } }
            }
            h2 { (ctx.t("Person hinzufügen", "Add a person")) }
            form.stacked method="post" action="/admin/organizations/users" novalidate {
                (csrf_field(ctx))
                (Field::new("organization", ctx.t("Organisation", "Organization")).required().select(ctx, &org_options, values, errors))
                (Field::new("user_email", ctx.t("E-Mail", "E-mail")).required().input(ctx, "email", values, errors))
                (Field::new("role", ctx.t("Rolle", "Role")).required().select(ctx, &roles, values, errors))
                div.actions { button.kern-btn.kern-btn--primary type="submit" { span.kern-label { (ctx.t("Hinzufügen", "Add")) } } }
            }
        },
    ))
}

/// `GET /admin/organizations`
pub async fn show(ctx: Ctx, State(state): State<AppState>) -> Result<Markup, PageError> {
    ctx.require_operator()?;
    render(
        &ctx,
        &state,
        &FormValues::new(),
        &FormErrors::default(),
        None,
    )
    .await
}

fn label(ctx: &Ctx, field: &str) -> String {
    match field {
        "handle" => ctx.t("Kennung", "Handle"),
        "name" => ctx.t("Name", "Name"),
        "kind" => ctx.t("Art", "Kind"),
        "email" | "user_email" => ctx.t("E-Mail", "E-mail"),
        "role" => ctx.t("Rolle", "Role"),
        "organization" => ctx.t("Organisation", "Organization"),
        other => other,
    }
    .to_owned()
}

async fn invalid(
    ctx: &Ctx,
    state: &AppState,
    values: &FormValues,
    error: UseCaseError,
    email_field: &str,
) -> Result<Response, PageError> {
    let errors = match error {
        UseCaseError::Invalid(e) => FormErrors::from_validation(ctx, &e, |f| {
            label(ctx, if f == "email" { email_field } else { f })
        }),
        UseCaseError::Conflict(what) => FormErrors::single(
            if what.contains("mail") {
                email_field
            } else {
                "handle"
            },
            ctx.t("ist bereits vergeben", "is already taken").to_owned(),
        ),
        UseCaseError::NotFound => FormErrors::single(
            "organization",
            format!(
                "{} {}",
                label(ctx, "organization"),
                ctx.t(
                    "gibt es auf diesem Knoten nicht",
                    "does not exist on this node"
                )
            ),
        ),
        other => return Err(other.into()),
    };
    let errors = FormErrors {
        by_field: errors
            .by_field
            .into_iter()
            .map(|(f, m)| {
                if f == "email" {
                    (email_field.to_owned(), m)
                } else {
                    (f, m)
                }
            })
            .collect(),
    };
    let body = render(ctx, state, values, &errors, None).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(body.into_string())).into_response())
}

/// The page after a creation (201), with the new password shown once.
async fn created(ctx: &Ctx, state: &AppState, created: Created) -> Result<Response, PageError> {
    let body = render(
        ctx,
        state,
        &FormValues::new(),
        &FormErrors::default(),
        Some(&created),
    )
    .await?;
    Ok((StatusCode::CREATED, Html(body.into_string())).into_response())
}

/// `POST /admin/organizations`: a new organization with its first admin.
pub async fn create(
    State(state): State<AppState>,
    SignedForm { ctx, values, .. }: SignedForm,
) -> Result<Response, PageError> {
    ctx.require_operator()?;
    let handle = value(&values, "handle").unwrap_or_default();
    let email = value(&values, "email").unwrap_or_default();
    let input = OrganizationInput {
        name: value(&values, "name"),
        kind: value(&values, "kind"),
        ..Default::default()
    };
    // Every field checked at once, so the form names all its problems.
    let mut problems = Vec::new();
    if let Err(p) = allmende_domain::Handle::parse(&handle) {
        problems.push(p.at("handle"));
    }
    if let Err(e) = input.validate() {
        problems.extend(e.iter().cloned());
    }
    let parsed = allmende_domain::Email::parse(&email);
    if let Err(p) = &parsed {
        problems.push(p.clone().at("email"));
    }
    if let Some(errors) = allmende_domain::ValidationErrors::new(problems) {
        return invalid(
            &ctx,
            &state,
            &values,
            UseCaseError::Invalid(errors),
            "email",
        )
        .await;
    }
    // Checked before the organization is made, so a taken address does not
    // leave an organization without an admin.
    if let Ok(parsed) = &parsed {
        if state
            .store
            .accounts()
            .credentials(parsed)
            .await
            .map_err(PageError::internal)?
            .is_some()
        {
            let e = UseCaseError::Conflict("e-mail");
            return invalid(&ctx, &state, &values, e, "email").await;
        }
    }
    let org = match organizations::create(&state.store, &handle, &input).await {
        Ok(org) => org,
        Err(e) => return invalid(&ctx, &state, &values, e, "email").await,
    };
    let pw = password::generate();
    if let Err(e) = accounts::create_user(
        &state.store,
        &email,
        org.handle.as_str(),
        Role::Admin.slug(),
        &pw,
    )
    .await
    {
        return invalid(&ctx, &state, &values, e, "email").await;
    }
    let operator = ctx.require_operator()?.user.email.to_string();
    tracing::info!(%operator, organization = %org.handle, "organization created on the admin page");
    state
        .store
        .audit()
        .record(
            &format!("operator:{operator}"),
            Some(org.id),
            "organization-created",
            &format!("{} ({email})", org.handle),
            chrono::Utc::now(),
        )
        .await
        .map_err(PageError::internal)?;
    let what = format!(
        "{} „{}“ ({})",
        ctx.t("Angelegt:", "Created:"),
        org.profile.name,
        org.handle
    );
    created(
        &ctx,
        &state,
        Created {
            what,
            email,
            password: pw,
            link: format!("/orgs/{}", org.handle),
        },
    )
    .await
}

/// `POST /admin/organizations/users`: a person for an organization here.
pub async fn add_user(
    State(state): State<AppState>,
    SignedForm { ctx, values, .. }: SignedForm,
) -> Result<Response, PageError> {
    ctx.require_operator()?;
    let org = value(&values, "organization").unwrap_or_default();
    let email = value(&values, "user_email").unwrap_or_default();
    let role = value(&values, "role").unwrap_or_default();
    // People belong to organizations of this node only.
    let local = state
        .store
        .organizations()
        .by_handle(&org)
        .await
        .map(|o| o.is_local())
        .unwrap_or(false);
    if !local {
        return invalid(&ctx, &state, &values, UseCaseError::NotFound, "user_email").await;
    }
    let pw = password::generate();
    let user = match accounts::create_user(&state.store, &email, &org, &role, &pw).await {
        Ok(user) => user,
        Err(e) => return invalid(&ctx, &state, &values, e, "user_email").await,
    };
    let operator = ctx.require_operator()?.user.email.to_string();
    tracing::info!(%operator, organization = %org, "person added on the admin page");
    state
        .store
        .audit()
        .record(
            &format!("operator:{operator}"),
            Some(user.organization_id),
            "user-added",
            &format!("{} ({})", user.email, user.role.slug()),
            chrono::Utc::now(),
        )
        .await
        .map_err(PageError::internal)?;
    let what = format!(
        "{} {} ({})",
        ctx.t("Hinzugefügt:", "Added:"),
        user.email,
        org
    );
    created(
        &ctx,
        &state,
        Created {
            what,
            email: user.email.to_string(),
            password: pw,
            link: format!("/orgs/{org}"),
        },
    )
    .await
}

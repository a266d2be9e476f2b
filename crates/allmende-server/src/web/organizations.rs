//! Organization pages: the directory, a profile with the organization's
//! items, and profile editing for its admins.

use allmende_domain::ContactInput;
use allmende_domain::{
    Bundesland, Organization, OrganizationInput, OrganizationKind, Project, Question, Role,
    Solution,
};
use allmende_store::ListFilter;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup};

use super::context::Ctx;
use super::error::PageError;
use super::forms::{csrf_field, error_summary, set, value, Field, FormErrors, FormValues};
use super::items::{item_list, ItemPages};
use super::layout::page;
use super::notice::{redirect, Notice};
use super::posted::SignedForm;
use super::ui::{badge, Tone};
use crate::state::AppState;
use crate::usecases::{organizations, UseCaseError};

pub async fn list(ctx: Ctx, State(state): State<AppState>) -> Result<Markup, PageError> {
    let orgs = state
        .store
        .organizations()
        .list()
        .await
        .map_err(PageError::internal)?;
    Ok(page(
        &ctx,
        ctx.t(
            "Organisationen auf diesem Knoten",
            "Organizations on this node",
        ),
        html! {
            ul.items {
                @for o in &orgs {
                    li {
                        h2.item { a href={ "/orgs/" (o.handle) } { (o.profile.name) } }
                        p.meta {
                            (ctx.label(o.profile.kind))
                            @if let Some(l) = o.profile.bundesland { " · " (ctx.label(l)) }
                            @if let Some(a) = &o.profile.ags { " · AGS " (a) }
                        }
                    }
                }
            }
        },
    ))
}

pub async fn show(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(handle): Path<String>,
) -> Result<Markup, PageError> {
    let org = state
        .store
        .organizations()
        .by_handle(&handle)
        .await
        .map_err(UseCaseError::from)?;
    let filter = ListFilter {
        organization_id: Some(org.id),
        limit: 100,
        ..ListFilter::for_viewer(ctx.viewer())
    };
    // The solutions it declared it uses (verified: its own declarations,
    // made here or received from its node).
    let mut uses = Vec::new();
    for adoption in state
        .store
        .adoptions()
        .by_organization(org.id)
        .await
        .map_err(PageError::internal)?
    {
        let known =
            crate::usecases::adoptions::original(&state, ctx.viewer(), &adoption.solution).await?;
        // What this node does not have, or the reader may not read, is
        // not listed (the declaration is checked, the address is not).
        if let Some(known) = known {
            uses.push((adoption, known));
        }
    }
    let projects = state
        .store
        .projects()
        .list(&filter)
        .await
        .map_err(PageError::internal)?;
    let questions = state
        .store
        .questions()
        .list(&filter)
        .await
        .map_err(PageError::internal)?;
    let solutions = state
        .store
        .solutions()
        .list(&filter)
        .await
        .map_err(PageError::internal)?;
    let orgs = std::iter::once((org.id, org.clone())).collect();
    let is_admin = ctx
        .user()
        .is_some_and(|u| u.organization_id == org.id && u.role == Role::Admin);
    // Where others follow this organization from, and whether the viewer's
    // organization follows a remote one.
    let address = match &org.origin {
        None => format!("@{}@{}", org.handle, state.federation.urls().host()),
        Some(_) => format!("@{}", org.handle),
    };
    // A group here can be joined by the other organizations here.
    let joinable = org.is_local()
        && org.profile.kind.is_group()
        && ctx.user().is_some_and(|u| u.organization_id != org.id);
    let following = match (ctx.user(), !org.is_local() || joinable) {
        (Some(user), true) => state
            .store
            .follows()
            .get(user.organization_id, org.id)
            .await
            .map_err(PageError::internal)?,
        _ => None,
    };
    let identity = state
        .store
        .identities()
        .get(org.id)
        .await
        .map_err(PageError::internal)?;
    // Verified only for the website the profile names now.
    let verified = identity.as_ref().and_then(|i| {
        i.verified_at
            .filter(|_| i.website.as_deref() == org.profile.website.as_ref().map(url::Url::as_str))
    });
    // Others claiming the same AGS: a warning, since anyone can type one.
    let same_ags: Vec<Organization> = match &org.profile.ags {
        Some(ags) => state
            .store
            .organizations()
            .list_all()
            .await
            .map_err(PageError::internal)?
            .into_iter()
            .filter(|o| o.id != org.id && o.profile.ags.as_ref() == Some(ags))
            .collect(),
        None => Vec::new(),
    };
    let group = org.profile.kind.is_group();
    let group_section = if group {
        Some(super::groups::section(&ctx, &state, &org).await?)
    } else {
        None
    };
    let watch = if group {
        let target = org.id.to_string();
        super::notifications::watching(
            &ctx,
            &state,
            allmende_store::notifications::WatchKind::Group,
            &target,
        )
        .await?
        .map(|on| {
            super::notifications::watch_button(
                &ctx,
                allmende_store::notifications::WatchKind::Group,
                &target,
                on,
                &format!("/orgs/{}", org.handle),
            )
        })
    } else {
        None
    };
    let manages_people = org.is_local()
        && ctx.user().is_some_and(|u| {
            ctx.operator || (u.organization_id == org.id && u.role == allmende_domain::Role::Admin)
        });
    let p = &org.profile;
    let brand = super::branding::of(&state, &org).await?;
    Ok(super::layout::branded_page(
        &ctx,
        brand.as_ref(),
        &p.name,
        None,
        html! {
            @if let Some(moved_to) = &org.moved_to {
                div.notice.kern-alert.kern-alert--info role="note" {
                    p {
                        (ctx.t("Diese Organisation ist auf einen anderen Knoten umgezogen: ", "This organization has moved to another node: "))
                        a href=(moved_to) rel="noopener" { (moved_to) }
                    }
                }
            }
            @if is_admin || manages_people || watch.is_some() {
                div.actions {
                    @if is_admin { a.kern-btn.kern-btn--secondary href={ "/orgs/" (org.handle) "/edit" } { span.kern-label { (ctx.t("Profil bearbeiten", "Edit profile")) } } }
                    @if is_admin && org.is_local() { a.kern-btn.kern-btn--secondary href={ "/orgs/" (org.handle) "/branding" } { span.kern-label { (ctx.t("Logo und Farbe", "Logo and colour")) } } }
                    @if manages_people { a.kern-btn.kern-btn--secondary href={ "/orgs/" (org.handle) "/people" } { span.kern-label { (ctx.t("Personen verwalten", "Manage people")) } } }
                    @if let Some(w) = &watch { (w) }
                }
            }
            @if ctx.user().is_some() && (!org.is_local() || joinable) {
                div.actions {
                    @if let Some(f) = &following {
                        (badge(Tone::Info, match (group, f.accepted) {
                            (false, true) => ctx.t("Sie folgen", "You follow"),
                            (false, false) => ctx.t("Folgen angefragt", "Follow requested"),
                            (true, true) => ctx.t("Ihre Organisation ist Mitglied", "Your organization is a member"),
                            (true, false) => ctx.t("Beitritt angefragt", "Asked to join"),
                        }))
                        form.inline method="post" action="/network/unfollow" {
                            (csrf_field(&ctx))
                            input type="hidden" name="handle" value=(org.handle);
                            button.kern-btn.kern-btn--secondary type="submit" { span.kern-label { (if group { ctx.t("Gruppe verlassen", "Leave the group") } else { ctx.t("Nicht mehr folgen", "Unfollow") }) } }
                        }
                    } @else {
                        form.inline method="post" action="/network/follow" {
                            (csrf_field(&ctx))
                            input type="hidden" name="target" value=(if org.is_local() { state.federation.urls().organization(org.handle.as_str()) } else { org.handle.to_string() });
                            button.kern-btn.kern-btn--primary type="submit" { span.kern-label { (if group { ctx.t("Beitreten", "Join") } else { ctx.t("Folgen", "Follow") }) } }
                        }
                    }
                }
            }
            @if let Some(d) = &p.description { p { (d) } }
            dl.facts.kern-description-list {
                div.kern-description-list-item { dt.kern-description-list-item__key { (ctx.t("Fediverse-Adresse", "Fediverse address")) } dd.kern-description-list-item__value { code { (address) } } }
                @if let Some(origin) = &org.origin {
                    div.kern-description-list-item { dt.kern-description-list-item__key { (ctx.t("Heimatknoten", "Home node")) }
                    dd.kern-description-list-item__value { a href=(origin.profile_url.as_ref().unwrap_or(&origin.actor_id)) rel="noopener" { (ctx.t("Profil dort ansehen", "View profile there")) } } }
                }
                div.kern-description-list-item { dt.kern-description-list-item__key { (ctx.t("Art", "Kind")) } dd.kern-description-list-item__value { (ctx.label(p.kind)) } }
                @if let Some(l) = p.bundesland { div.kern-description-list-item { dt.kern-description-list-item__key { (ctx.t("Bundesland", "State")) } dd.kern-description-list-item__value { (ctx.label(l)) } } }
                @if let Some(a) = &p.ags {
                    div.kern-description-list-item { dt.kern-description-list-item__key { abbr title=(ctx.t("Amtlicher Gemeindeschlüssel", "Official municipality key")) { "AGS" } }
                    dd.kern-description-list-item__value {
                        (a)
                        @if !same_ags.is_empty() {
                            p.warning role="note" {
                                (ctx.t("Achtung: Denselben AGS geben auch an: ", "Note: the same AGS is also claimed by: "))
                                @for (i, other) in same_ags.iter().enumerate() {
                                    @if i > 0 { ", " }
                                    (super::network::org_label(other))
                                }
                                ". " (ctx.t("Verlassen Sie sich nur auf bestätigte Identitäten.", "Rely only on verified identities."))
                            }
                        }
                    } }
                }
                @if let Some(a) = &p.ars { div.kern-description-list-item { dt.kern-description-list-item__key { abbr title=(ctx.t("Regionalschlüssel", "Regional key")) { "ARS" } } dd.kern-description-list-item__value { (a) } } }
                @if let Some(n) = p.population { div.kern-description-list-item { dt.kern-description-list-item__key { (ctx.t("Einwohnerzahl", "Population")) } dd.kern-description-list-item__value { (n) } } }
                @if let Some(w) = &p.website {
                    // rel="me": the other half of a link the website makes
                    // to this profile (Mastodon verifies the same way).
                    div.kern-description-list-item { dt.kern-description-list-item__key { (ctx.t("Website", "Website")) } dd.kern-description-list-item__value { a href=(w) rel="me noopener" { (w) } } }
                }
                div.kern-description-list-item { dt.kern-description-list-item__key { (ctx.t("Identität", "Identity")) }
                dd.kern-description-list-item__value {
                    @match (verified, &identity) {
                        (Some(since), _) => {
                            strong.verified { (ctx.t("Bestätigt", "Verified")) }
                            " – " (ctx.t("die Website verweist auf dieses Profil (rel=\"me\") und das Profil auf die Website; bestätigt seit ", "the website links to this profile (rel=\"me\") and the profile to the website; verified since "))
                            (since.format("%d.%m.%Y"))
                        }
                        (None, Some(check)) if check.problem.as_deref().is_some_and(|p| p.starts_with(allmende_federation::identity::UNREACHABLE)) => {
                            (ctx.t("Nicht bestätigt: Die Website war bei der letzten Prüfung nicht abrufbar.", "Not verified: the website could not be read at the last check."))
                        }
                        (None, Some(check)) if check.website.is_some() => {
                            (ctx.t("Nicht bestätigt: Die Website verweist nicht mit rel=\"me\" auf dieses Profil.", "Not verified: the website does not link to this profile with rel=\"me\"."))
                        }
                        (None, Some(_)) => { (ctx.t("Nicht bestätigt: Das Profil nennt keine Website.", "Not verified: the profile names no website.")) }
                        (None, None) => { (ctx.t("Noch nicht geprüft.", "Not checked yet.")) }
                    }
                    @if verified.is_none() && org.is_local() && is_admin {
                        p.hint { (ctx.t("So bestätigen Sie die Identität: Setzen Sie auf Ihrer offiziellen Website einen Link mit rel=\"me\" auf ", "To verify your identity, put a link with rel=\"me\" on your official website to ")) code { (state.federation.urls().organization(org.handle.as_str())) } "." }
                    }
                } }
                @if let Some(c) = &p.contact {
                    div.kern-description-list-item { dt.kern-description-list-item__key { (ctx.t("Kontakt", "Contact")) }
                    dd.kern-description-list-item__value { (c.name) @if let Some(e) = &c.email { ", " a href={ "mailto:" (e) } { (e) } } @if let Some(t) = &c.phone { ", " (t) } } }
                }
            }
            @if let Some(section) = group_section { (section) }
            h2 { (Project::plural(&ctx)) } (item_list(&ctx, &projects, &orgs, true))
            h2 { (Question::plural(&ctx)) } (item_list(&ctx, &questions, &orgs, true))
            h2 { (Solution::plural(&ctx)) } (item_list(&ctx, &solutions, &orgs, true))
            h2 { (ctx.t("Nutzt diese Lösungen", "Uses these solutions")) }
            @if uses.is_empty() {
                p { (ctx.t("Keine erklärten Nachnutzungen.", "No declared adoptions.")) }
            } @else {
                ul { @for (adoption, known) in &uses { li {
                    a href=(known.1) { (known.0) }
                    " · " (ctx.label(adoption.content.stage))
                    @if let Some(since) = adoption.content.since { ", " (ctx.t("seit ", "since ")) (super::layout::date(&ctx, since)) }
                } } }
            }
        },
    ))
}

fn form_from_input(i: &OrganizationInput) -> FormValues {
    let mut v = FormValues::new();
    set(&mut v, "name", i.name.as_ref());
    set(&mut v, "kind", i.kind.as_ref());
    set(&mut v, "ags", i.ags.as_ref());
    set(&mut v, "ars", i.ars.as_ref());
    set(&mut v, "bundesland", i.bundesland.as_ref());
    set(&mut v, "population", i.population);
    set(&mut v, "website", i.website.as_ref());
    set(&mut v, "description", i.description.as_ref());
    if let Some(c) = &i.contact {
        set(&mut v, "contact_name", c.name.as_ref());
        set(&mut v, "contact_email", c.email.as_ref());
        set(&mut v, "contact_phone", c.phone.as_ref());
    }
    v
}

fn input_from_form(v: &FormValues) -> Result<OrganizationInput, allmende_domain::ValidationError> {
    let population = match value(v, "population") {
        None => None,
        Some(p) => Some(
            p.parse::<u32>()
                .map_err(|_| allmende_domain::Problem::Number.at("population"))?,
        ),
    };
    let contact = ContactInput {
        name: value(v, "contact_name"),
        role: None,
        email: value(v, "contact_email"),
        phone: value(v, "contact_phone"),
    };
    Ok(OrganizationInput {
        name: value(v, "name"),
        kind: value(v, "kind"),
        ags: value(v, "ags"),
        ars: value(v, "ars"),
        bundesland: value(v, "bundesland"),
        population,
        website: value(v, "website"),
        description: value(v, "description"),
        contact: (!contact.is_empty()).then_some(contact),
    })
}

fn label(ctx: &Ctx, field: &str) -> String {
    match field {
        "name" => ctx.t("Name", "Name"),
        "kind" => ctx.t("Art", "Kind"),
        "ags" => "AGS",
        "ars" => "ARS",
        "bundesland" => ctx.t("Bundesland", "State"),
        "population" => ctx.t("Einwohnerzahl", "Population"),
        "website" => ctx.t("Website", "Website"),
        "description" => ctx.t("Beschreibung", "Description"),
        "contact_name" => ctx.t("Kontakt: Name", "Contact: name"),
        "contact_email" => ctx.t("Kontakt: E-Mail", "Contact: e-mail"),
        "contact_phone" => ctx.t("Kontakt: Telefon", "Contact: phone"),
        _ => ctx.t("Eingabe", "Input"),
    }
    .to_owned()
}

fn edit_page(ctx: &Ctx, org: &Organization, v: &FormValues, e: &FormErrors) -> Markup {
    let kinds: Vec<(&str, &str)> = OrganizationKind::ALL
        .iter()
        .map(|k| (k.slug(), ctx.label(*k)))
        .collect();
    let lands: Vec<(&str, &str)> = Bundesland::ALL
        .iter()
        .map(|l| (l.slug(), ctx.label(*l)))
        .collect();
    page(
        ctx,
        &format!(
            "{}: {}",
            ctx.t("Profil bearbeiten", "Edit profile"),
            org.profile.name
        ),
        html! {
            (error_summary(ctx, e))
            form.stacked method="post" action={ "/orgs/" (org.handle) "/edit" } novalidate {
                (csrf_field(ctx))
                (Field::new("name", ctx.t("Name", "Name")).required().input(ctx, "text", v, e))
                (Field::new("kind", ctx.t("Art", "Kind")).required().select(ctx, &kinds, v, e))
                (Field::new("ags", ctx.t("Amtlicher Gemeindeschlüssel (AGS)", "Official municipality key (AGS)")).hint(ctx.t("8 Ziffern, z. B. 08111000 für Stuttgart", "8 digits, e.g. 08111000 for Stuttgart")).input(ctx, "text", v, e))
                (Field::new("ars", ctx.t("Regionalschlüssel (ARS)", "Regional key (ARS)")).hint(ctx.t("12 Ziffern", "12 digits")).input(ctx, "text", v, e))
                (Field::new("bundesland", ctx.t("Bundesland", "State")).hint(ctx.t("Wird aus dem AGS abgeleitet, wenn leer", "Derived from the AGS when empty")).select(ctx, &lands, v, e))
                (Field::new("population", ctx.t("Einwohnerzahl", "Population")).input(ctx, "number", v, e))
                (Field::new("website", ctx.t("Website", "Website")).input(ctx, "url", v, e))
                (Field::new("description", ctx.t("Beschreibung", "Description")).textarea(ctx, 4, v, e))
                fieldset {
                    legend { (ctx.t("Kontakt", "Contact")) }
                    (Field::new("contact_name", ctx.t("Name", "Name")).input(ctx, "text", v, e))
                    (Field::new("contact_email", ctx.t("E-Mail", "E-mail")).input(ctx, "email", v, e))
                    (Field::new("contact_phone", ctx.t("Telefon", "Phone")).input(ctx, "text", v, e))
                }
                div.actions {
                    button.kern-btn.kern-btn--primary type="submit" { span.kern-label { (ctx.t("Speichern", "Save")) } }
                    a href={ "/orgs/" (org.handle) } { (ctx.t("Abbrechen", "Cancel")) }
                }
            }
        },
    )
}

async fn admin_org(ctx: &Ctx, state: &AppState, handle: &str) -> Result<Organization, PageError> {
    let user = &ctx.require_user()?.user;
    Ok(organizations::administered(&state.store, user, handle).await?)
}

pub async fn edit_form(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(handle): Path<String>,
) -> Result<Markup, PageError> {
    let org = admin_org(&ctx, &state, &handle).await?;
    Ok(edit_page(
        &ctx,
        &org,
        &form_from_input(&OrganizationInput::from(&org.profile)),
        &FormErrors::default(),
    ))
}

pub async fn update(
    State(state): State<AppState>,
    Path(handle): Path<String>,
    SignedForm {
        ctx,
        signed_in,
        values,
    }: SignedForm,
) -> Result<Response, PageError> {
    let org = admin_org(&ctx, &state, &handle).await?;
    let user = &signed_in.user;
    let invalid = |e: &allmende_domain::ValidationErrors| {
        let errors = FormErrors::from_validation(&ctx, e, |f| label(&ctx, f));
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Html(edit_page(&ctx, &org, &values, &errors).into_string()),
        )
            .into_response()
    };
    let input = match input_from_form(&values) {
        Ok(i) => i,
        Err(e) => return Ok(invalid(&e.into())),
    };
    match organizations::update_profile(&state, user, &handle, &input).await {
        Ok(org) => Ok(redirect(&format!("/orgs/{}", org.handle), Notice::Saved)),
        Err(UseCaseError::Invalid(e)) => Ok(invalid(&e)),
        Err(e) => Err(e.into()),
    }
}

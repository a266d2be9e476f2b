//! Pages shared by projects, questions and solutions: list, detail, create,
//! edit and delete. [`ItemPages`] supplies what differs per type.

use std::collections::HashMap;

use allmende_domain::{
    Item, Organization, OrganizationId, Themenfeld, ValidationError, ValidationErrors,
};
use allmende_store::ListFilter;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup};
use uuid::Uuid;

use super::context::Ctx;
use super::error::PageError;
use super::forms::{csrf_field, error_summary, FormErrors, FormValues};
use super::layout::{branded_page, page, timestamp};
use super::notice::{redirect, Notice};
use super::posted::SignedForm;
use crate::state::AppState;
use crate::usecases::UseCaseError;
use crate::usecases::{items, search};

pub const PAGE_SIZE: u32 = 30;

pub trait ItemPages: Item {
    /// Plural noun for headings and navigation.
    fn plural(ctx: &Ctx) -> &'static str;
    fn new_title(ctx: &Ctx) -> &'static str;
    fn input_from_form(values: &FormValues) -> Result<Self::Input, ValidationError>;
    fn form_from_input(input: &Self::Input) -> FormValues;
    fn field_label(ctx: &Ctx, field: &str) -> &'static str;
    fn form_fields(ctx: &Ctx, values: &FormValues, errors: &FormErrors) -> Markup;
    /// Facts about the item as badge list items (status, kind, theme),
    /// shown in lists and under the title.
    fn badges(ctx: &Ctx, item: &Self) -> Markup;
    /// The body of the detail page, below the heading.
    fn detail(ctx: &Ctx, item: &Self, org: &Organization) -> Markup;
    /// The form field that holds a domain field, where the form does not
    /// follow the JSON shape (a solution's parameter rows).
    fn form_field(_field: &str) -> Option<String> {
        None
    }
    /// What the detail page shows about the item beyond its own content
    /// (a solution's adopters and variants); `object_id` is its
    /// ActivityPub id.
    fn related<'a>(
        _ctx: &'a Ctx,
        _state: &'a AppState,
        _item: &'a Self,
        _object_id: &'a str,
    ) -> impl std::future::Future<Output = Result<Markup, PageError>> + Send + 'a {
        async { Ok(html! {}) }
    }
}

/// Loads an item for its page. One deleted here or at its origin is 410
/// with an explanation, so a link someone kept explains itself.
pub async fn load_for_page<T: ItemPages>(
    state: &AppState,
    ctx: &Ctx,
    raw_id: &str,
) -> Result<T, PageError> {
    let id = parse_id(raw_id)?;
    match items::get::<T>(&state.store, ctx.viewer(), id).await {
        Err(UseCaseError::NotFound) => {
            match state
                .store
                .items::<T>()
                .withdrawn(id)
                .await
                .map_err(PageError::internal)?
            {
                Some((_, remote)) => Err(PageError::Withdrawn { remote }),
                None => Err(PageError::NotFound),
            }
        }
        other => other.map_err(PageError::from),
    }
}

pub fn parse_id(raw: &str) -> Result<Uuid, PageError> {
    Uuid::parse_str(raw).map_err(|_| PageError::NotFound)
}

/// An item's title, as stored.
pub fn heading<T: Item>(item: &T) -> &str {
    T::title(item.draft())
}

pub fn href<T: Item>(item: &T) -> String {
    format!("/{}/{}", T::KIND.collection(), item.id())
}

/// A list of items as cards: title, summary, facts and where it comes
/// from.
///
/// `nested` lists sit under an h2 and use h3 for their items; top-level
/// lists (directly under the page's h1) use h2, keeping the heading order.
pub fn item_list<T: ItemPages>(
    ctx: &Ctx,
    items: &[T],
    orgs: &HashMap<OrganizationId, Organization>,
    nested: bool,
) -> Markup {
    html! {
        @if items.is_empty() {
            p { (ctx.t("Noch keine Einträge.", "No entries yet.")) }
        } @else {
            ul.items {
                @for item in items {
                    li {
                        (card(
                            if nested { 3 } else { 2 },
                            html! { a href=(href(item)) lang=[ctx.content_lang()] { (heading(item)) } },
                            summary_text(ctx, list_text(item)),
                            T::badges(ctx, item),
                            html! {
                                @if let Some(org) = orgs.get(&item.organization_id()) {
                                    (super::network::org_label(org)) " · "
                                }
                                (timestamp(ctx, item.created_at()))
                            },
                        ))
                    }
                }
            }
        }
    }
}

/// One entry of a list as a KERN card. `level` is the heading level of its
/// title (2 to 4); `text` is its summary or search snippet; `origin` says
/// who published it and when.
pub fn card(level: u8, title: Markup, text: Markup, badges: Markup, origin: Markup) -> Markup {
    html! {
        article.kern-card {
            div.kern-card__container {
                header.kern-card__header {
                    @match level { 2 => h2 { (title) }, 3 => h3 { (title) }, _ => h4 { (title) } }
                }
                div.kern-card__body {
                    (text)
                    (super::ui::badge_list(badges))
                    p.origin { (origin) }
                }
            }
        }
    }
}

/// An item's summary (or the start of its text) as a card's text.
pub fn summary_text(ctx: &Ctx, text: Option<&str>) -> Markup {
    html! {
        @if let Some(s) = text { p.summary lang=[ctx.content_lang()] { (shorten(s, 240)) } }
    }
}

/// The text lists show of an item: its summary, else its main text.
pub fn list_text<T: Item>(item: &T) -> Option<&str> {
    T::summary(item.draft()).or_else(|| T::body(item.draft()))
}

/// The first `max` characters of `text` on one line, cut at a word.
pub fn shorten(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let cut: String = flat.chars().take(max).collect();
    let at_word = cut.rfind(' ').map_or(cut.as_str(), |i| &cut[..i]);
    format!("{}…", at_word.trim_end_matches([',', '.', ';', ':']))
}

/// The organizations of `ids`, to name the authors of what a page lists.
pub async fn org_map(
    state: &AppState,
    ids: impl IntoIterator<Item = OrganizationId>,
) -> Result<HashMap<OrganizationId, Organization>, PageError> {
    state
        .store
        .organizations()
        .by_ids(ids)
        .await
        .map_err(PageError::internal)
}

/// `GET /{items}?themenfeld=&page=`
pub async fn list<T: ItemPages>(
    ctx: Ctx,
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Markup, PageError> {
    let themenfeld = params
        .get("themenfeld")
        .and_then(|t| Themenfeld::parse(t).ok());
    let page_no: u32 = params
        .get("page")
        .and_then(|p| p.parse().ok())
        .filter(|p| *p >= 1 && *p <= 10_000)
        .unwrap_or(1);
    let filter = ListFilter {
        themenfeld,
        limit: PAGE_SIZE + 1,
        offset: (page_no - 1) * PAGE_SIZE,
        ..ListFilter::for_viewer(ctx.viewer())
    };
    let mut found = state
        .store
        .items::<T>()
        .list(&filter)
        .await
        .map_err(PageError::internal)?;
    let has_more = found.len() > PAGE_SIZE as usize;
    found.truncate(PAGE_SIZE as usize);
    let orgs = org_map(&state, found.iter().map(|i| i.organization_id())).await?;
    let mut values = FormValues::new();
    if let Some(t) = themenfeld {
        values.insert("themenfeld".into(), t.slug().into());
    }
    let page_link = |n: u32| match themenfeld {
        Some(t) => format!("/{}?themenfeld={}&page={n}", T::KIND.collection(), t.slug()),
        None => format!("/{}?page={n}", T::KIND.collection()),
    };
    Ok(page(
        &ctx,
        T::plural(&ctx),
        html! {
            div.actions {
                @if ctx.signed_in.is_some() {
                    a.kern-btn.kern-btn--primary href={ "/" (T::KIND.collection()) "/new" } { span.kern-label { (T::new_title(&ctx)) } }
                }
            }
            form.search-form method="get" action={ "/" (T::KIND.collection()) } {
                (super::fields::themenfeld_field(&ctx, &values, &FormErrors::default()))
                button.kern-btn.kern-btn--secondary type="submit" { span.kern-label { (ctx.t("Filtern", "Filter")) } }
            }
            (item_list(&ctx, &found, &orgs, false))
            nav.actions aria-label=(ctx.t("Seiten", "Pages")) {
                @if page_no > 1 { a href=(page_link(page_no - 1)) rel="prev" { (ctx.t("← Neuere", "← Newer")) } }
                @if has_more { a href=(page_link(page_no + 1)) rel="next" { (ctx.t("Ältere →", "Older →")) } }
            }
        },
    ))
}

pub(crate) fn form_page<T: ItemPages>(
    ctx: &Ctx,
    title: &str,
    action: &str,
    values: &FormValues,
    errors: &FormErrors,
    groups: &[Organization],
) -> Markup {
    form_page_with::<T>(ctx, title, action, values, errors, groups, None)
}

/// The form, with the similar items found before publishing above it.
fn form_page_with<T: ItemPages>(
    ctx: &Ctx,
    title: &str,
    action: &str,
    values: &FormValues,
    errors: &FormErrors,
    groups: &[Organization],
    similar: Option<Markup>,
) -> Markup {
    page(
        ctx,
        title,
        html! {
            (error_summary(ctx, errors))
            @if let Some(similar) = &similar {
                section.similar-check aria-labelledby="similar-heading" {
                    h2 #similar-heading tabindex="-1" { (ctx.t("Gibt es das schon? Ähnliche Einträge im Netzwerk", "Does this exist already? Similar entries in the network")) }
                    p { (ctx.t(
                        "Bevor Ihr Vorhaben veröffentlicht wird: Diese Einträge anderer Organisationen ähneln ihm. Vielleicht lohnt sich ein Anruf oder die Nachnutzung. Wenn Ihr Vorhaben trotzdem neu ist, veröffentlichen Sie es unten.",
                        "Before your project is published: these entries of other organizations are similar. A call or re-use may pay off. If yours is new all the same, publish it below."
                    )) }
                    (similar)
                }
            }
            p.hint { (ctx.t("Felder mit * sind Pflichtfelder. Listen: ein Eintrag pro Zeile.", "Fields marked * are required. Lists: one entry per line.")) }
            form.stacked method="post" action=(action) novalidate {
                (csrf_field(ctx))
                @if similar.is_some() { input type="hidden" name="similar_checked" value="1"; }
                (T::form_fields(ctx, values, errors))
                (super::groups::choice(ctx, groups, &super::groups::chosen(values), errors.get("groups")))
                div.actions {
                    button.kern-btn.kern-btn--primary type="submit" { span.kern-label { (ctx.t("Speichern", "Save")) } }
                    a href=(if action.ends_with("/edit") { action.trim_end_matches("/edit").to_owned() } else { format!("/{}", T::KIND.collection()) }) { (ctx.t("Abbrechen", "Cancel")) }
                }
            }
        },
    )
}

fn invalid<T: ItemPages>(
    ctx: &Ctx,
    title: &str,
    action: &str,
    values: &FormValues,
    e: &ValidationErrors,
    groups: &[Organization],
) -> Response {
    let e = &renamed(e, T::form_field);
    let errors = FormErrors::from_validation(ctx, e, |f| {
        if f == "groups" {
            ctx.t("Gruppen", "Groups").to_owned()
        } else {
            T::field_label(ctx, f).to_owned()
        }
    });
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Html(form_page::<T>(ctx, title, action, values, &errors, groups).into_string()),
    )
        .into_response()
}

/// `GET /{items}/new`
pub async fn new_form<T: ItemPages>(
    ctx: Ctx,
    State(state): State<AppState>,
) -> Result<Markup, PageError> {
    let user = ctx.require_user()?;
    let groups = crate::usecases::groups::memberships(&state, user.user.organization_id).await?;
    let values = T::form_from_input(&T::Input::default());
    Ok(form_page::<T>(
        &ctx,
        T::new_title(&ctx),
        &format!("/{}", T::KIND.collection()),
        &values,
        &FormErrors::default(),
        &groups,
    ))
}

/// `POST /{items}`: publish, then show the new item (303), or the form again
/// with errors (422).
pub async fn create<T: ItemPages>(
    State(state): State<AppState>,
    SignedForm {
        ctx,
        signed_in,
        values,
    }: SignedForm,
) -> Result<Response, PageError> {
    let user = &signed_in.user;
    let action = format!("/{}", T::KIND.collection());
    let groups = crate::usecases::groups::memberships(&state, user.organization_id).await?;
    let input = match T::input_from_form(&values) {
        Ok(i) => i,
        Err(e) => {
            return Ok(invalid::<T>(
                &ctx,
                T::new_title(&ctx),
                &action,
                &values,
                &e.into(),
                &groups,
            ))
        }
    };
    // A new project first meets the similar ones already in the network
    // (once: the form then carries `similar_checked`).
    if T::KIND == allmende_domain::ItemKind::Project
        && values.get("similar_checked").map(String::as_str) != Some("1")
    {
        if let Ok(draft) = T::validate(&input) {
            let similar = search::similar::<T>(&state.store, ctx.viewer(), &draft, None, 5).await?;
            if !similar.is_empty() {
                let list = super::search::similar_list(&ctx, &state, &similar).await?;
                return Ok(Html(
                    form_page_with::<T>(
                        &ctx,
                        T::new_title(&ctx),
                        &action,
                        &values,
                        &FormErrors::default(),
                        &groups,
                        Some(list),
                    )
                    .into_string(),
                )
                .into_response());
            }
        }
    }
    let chosen = super::groups::chosen(&values);
    match items::create_in_groups::<T>(&state, user, &input, &chosen).await {
        Ok(item) => Ok(redirect(&href(&item), Notice::Published)),
        Err(UseCaseError::Invalid(e)) => Ok(invalid::<T>(
            &ctx,
            T::new_title(&ctx),
            &action,
            &values,
            &e,
            &groups,
        )),
        Err(e) => Err(e.into()),
    }
}

/// Owner actions shown on a detail page.
pub fn owner_actions<T: ItemPages>(ctx: &Ctx, item: &T) -> Markup {
    let own = ctx
        .user()
        .is_some_and(|u| u.organization_id == item.organization_id());
    html! {
        @if own {
            div.actions {
                a.kern-btn.kern-btn--secondary href={ (href(item)) "/edit" } { span.kern-label { (ctx.t("Bearbeiten", "Edit")) } }
                a href={ (href(item)) "/delete" } { (ctx.t("Löschen", "Delete")) }
            }
        }
    }
}

/// `GET /{items}/{id}`
pub async fn show<T: ItemPages>(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Markup, PageError> {
    let item: T = load_for_page(&state, &ctx, &id).await?;
    let org = state
        .store
        .organizations()
        .get(item.organization_id())
        .await
        .map_err(PageError::internal)?;
    let original = state
        .store
        .items::<T>()
        .ap_id(item.id())
        .await
        .map_err(PageError::internal)?;
    let object_id = original
        .clone()
        .unwrap_or_else(|| state.federation.urls().item(T::KIND, item.id()));
    let shared = super::groups::shared_in(&ctx, &state, &object_id).await?;
    let similar =
        search::similar::<T>(&state.store, ctx.viewer(), item.draft(), Some(item.id()), 5).await?;
    let similar = if similar.is_empty() {
        html! {}
    } else {
        super::search::similar_list(&ctx, &state, &similar).await?
    };
    let similar_found = !similar.0.is_empty();
    let related = T::related(&ctx, &state, &item, &object_id).await?;
    let brand = super::branding::of(&state, &org).await?;
    Ok(branded_page(
        &ctx,
        brand.as_ref(),
        heading(&item),
        ctx.content_lang(),
        html! {
            p.meta {
                (super::network::org_label(&org))
                " · " (ctx.t("veröffentlicht am ", "published ")) (timestamp(&ctx, item.created_at()))
                (shared)
                (original_link(&ctx, original.as_deref()))
            }
            (owner_actions(&ctx, &item))
            (T::detail(&ctx, &item, &org))
            (related)
            @if similar_found {
                section aria-labelledby="similar-heading" {
                    h2 #similar-heading { (ctx.t("Ähnliche Einträge im Netzwerk", "Similar entries in the network")) }
                    (similar)
                }
            }
        },
    ))
}

/// `GET /{items}/{id}/edit`
pub async fn edit_form<T: ItemPages>(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Markup, PageError> {
    let user = &ctx.require_user()?.user;
    let item: T = items::editable(&state.store, user, parse_id(&id)?).await?;
    let values = T::form_from_input(&T::to_input(item.draft()));
    let title = format!("{}: {}", ctx.t("Bearbeiten", "Edit"), heading(&item));
    Ok(form_page::<T>(
        &ctx,
        &title,
        &format!("{}/edit", href(&item)),
        &values,
        &FormErrors::default(),
        // The groups are chosen when publishing; they stay with the item.
        &[],
    ))
}

/// `POST /{items}/{id}/edit`
pub async fn update<T: ItemPages>(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedForm {
        ctx,
        signed_in,
        values,
    }: SignedForm,
) -> Result<Response, PageError> {
    let user = &signed_in.user;
    let item: T = items::editable(&state.store, user, parse_id(&id)?).await?;
    let action = format!("{}/edit", href(&item));
    let title = format!("{}: {}", ctx.t("Bearbeiten", "Edit"), heading(&item));
    let input = match T::input_from_form(&values) {
        Ok(i) => i,
        Err(e) => return Ok(invalid::<T>(&ctx, &title, &action, &values, &e.into(), &[])),
    };
    match items::update::<T>(&state, user, item.id(), &input).await {
        Ok(item) => Ok(redirect(&href(&item), Notice::Saved)),
        Err(UseCaseError::Invalid(e)) => Ok(invalid::<T>(&ctx, &title, &action, &values, &e, &[])),
        Err(e) => Err(e.into()),
    }
}

/// `GET /{items}/{id}/delete`: asks before deleting.
pub async fn delete_confirm<T: ItemPages>(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Markup, PageError> {
    let user = &ctx.require_user()?.user;
    let item: T = items::editable(&state.store, user, parse_id(&id)?).await?;
    Ok(page(
        &ctx,
        ctx.t("Wirklich löschen?", "Really delete?"),
        html! {
            p { strong { (heading(&item)) } }
            p { (ctx.t("Der Eintrag wird endgültig gelöscht.", "The entry will be deleted permanently.")) }
            form method="post" action={ (href(&item)) "/delete" } {
                (csrf_field(&ctx))
                div.actions {
                    button.kern-btn.kern-btn--danger type="submit" { span.kern-label { (ctx.t("Endgültig löschen", "Delete permanently")) } }
                    a href=(href(&item)) { (ctx.t("Abbrechen", "Cancel")) }
                }
            }
        },
    ))
}

/// `POST /{items}/{id}/delete`
pub async fn delete<T: ItemPages>(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedForm { signed_in, .. }: SignedForm,
) -> Result<Response, PageError> {
    items::delete::<T>(&state, &signed_in.user, parse_id(&id)?).await?;
    Ok(redirect(
        &format!("/orgs/{}", signed_in.organization.handle),
        Notice::Deleted,
    ))
}

/// For a copy of an item from another node: a link to the original.
pub fn original_link(ctx: &Ctx, ap_id: Option<&str>) -> Markup {
    html! {
        @if let Some(url) = ap_id {
            " · " a href=(url) rel="noopener" { (ctx.t("Original auf dem Heimatknoten", "Original on its home node")) }
        }
    }
}

/// The errors with each field renamed by `form_field` where it has a form
/// name of its own, so messages sit at (and link to) the right input.
pub fn renamed(
    errors: &ValidationErrors,
    form_field: impl Fn(&str) -> Option<String>,
) -> ValidationErrors {
    let all = errors
        .iter()
        .map(|e| ValidationError {
            field: form_field(&e.field).unwrap_or_else(|| e.field.clone()),
            problem: e.problem.clone(),
        })
        .collect();
    ValidationErrors::new(all).unwrap_or_else(|| errors.clone())
}

//! The group part of an association's or network's page: members, what
//! the group carries with where it comes from, and for the group's admins
//! pending requests, removal, blocking and the moderation log.

use allmende_domain::{for_item_kind, ItemKind, Organization};
use allmende_store::GroupItem;
use axum::extract::State;
use axum::response::Response;
use maud::{html, Markup};

use super::context::Ctx;
use super::error::PageError;
use super::forms::{csrf_field, value};
use super::items::{heading, href, ItemPages};
use super::network::org_label;
use super::notice::{redirect, Notice};
use super::posted::SignedForm;
use crate::state::AppState;
use crate::usecases::groups;

/// One entry of a group's list: the item as this viewer may read it.
struct Listed {
    object_id: String,
    title: String,
    link: String,
    kind: ItemKind,
    author: Option<Organization>,
}

/// The group section of the page of `org` (an association or network).
pub async fn section(ctx: &Ctx, state: &AppState, org: &Organization) -> Result<Markup, PageError> {
    let view = groups::view(state, org.handle.as_str(), ctx.user()).await?;
    let authors = super::items::org_map(state, view.items.iter().map(|i| i.author_id)).await?;
    let mut listed = Vec::new();
    for entry in &view.items {
        if let Some(mut one) = readable(ctx, state, entry).await? {
            one.author = authors.get(&entry.author_id).cloned();
            listed.push(one);
        }
    }
    let admin = ctx
        .user()
        .is_some_and(|u| u.organization_id == org.id && u.role == allmende_domain::Role::Admin);
    Ok(html! {
        section aria-labelledby="group-heading" {
            h2 #group-heading { (ctx.t("Gruppe", "Group")) }
            p.hint {
                (ctx.t(
                    "Organisationen treten dieser Gruppe von jedem Knoten aus bei. Was ein Mitglied mit der Gruppe teilt, gibt sie an alle weiter, die ihr folgen – auch an Netzwerke auf anderen Knoten.",
                    "Organizations join this group from any node. What a member shares with the group, the group passes on to everyone who follows it – networks on other nodes included.",
                ))
            }
            h3 { (ctx.t("Mitglieder", "Members")) " (" (view.members.len()) ")" }
            @if admin {
                p.hint { (ctx.t("„Sperren“ nimmt eine Organisation aus der Gruppe, nimmt ihre Beiträge auf allen Knoten aus der Gruppe und verhindert einen neuen Beitritt. Wird die Sperre aufgehoben, kann sie wieder beitreten; ihre Beiträge kommen nicht von selbst zurück.", "“Block” takes an organization out of the group, takes its items out of the group on every node and prevents it from joining again. Once unblocked it may join again; its items do not come back by themselves.")) }
            }
            @if view.members.is_empty() {
                p { (ctx.t("Noch keine Mitglieder.", "No members yet.")) }
            } @else {
                ul.plain {
                    @for m in &view.members {
                        li {
                            (org_label(m))
                            @if admin {
                                " "
                                form.inline method="post" action="/group/block" {
                                    (csrf_field(ctx))
                                    input type="hidden" name="member" value=(m.handle);
                                    button.kern-btn.kern-btn--secondary type="submit" aria-label=(format!("{} {}", ctx.t("Sperren:", "Block:"), m.profile.name)) { span.kern-label { (ctx.t("Sperren", "Block")) } }
                                }
                            }
                        }
                    }
                }
            }
            @if admin && !view.pending.is_empty() {
                h3 { (ctx.t("Beitrittsanfragen", "Requests to join")) }
                ul.plain {
                    @for p in &view.pending {
                        li {
                            (org_label(p)) " "
                            form.inline method="post" action="/network/followers/decide" {
                                (csrf_field(ctx))
                                input type="hidden" name="handle" value=(p.handle);
                                input type="hidden" name="next" value={ "/orgs/" (org.handle) };
                                button.kern-btn.kern-btn--primary type="submit" name="decision" value="approve" aria-label=(format!("{} {}", ctx.t("Aufnehmen:", "Admit:"), p.profile.name)) { span.kern-label { (ctx.t("Aufnehmen", "Admit")) } }
                                " "
                                button.kern-btn.kern-btn--secondary type="submit" name="decision" value="refuse" aria-label=(format!("{} {}", ctx.t("Ablehnen:", "Refuse:"), p.profile.name)) { span.kern-label { (ctx.t("Ablehnen", "Refuse")) } }
                            }
                        }
                    }
                }
            }
            h3 { (ctx.t("Beiträge in der Gruppe", "Items in the group")) }
            @if admin {
                p.hint { (ctx.t("„Aus der Gruppe entfernen“ nimmt einen Beitrag auf allen Knoten aus der Gruppe; der Beitrag selbst bleibt bei der Organisation, die ihn veröffentlicht hat.", "“Remove from the group” takes an item out of the group on every node; the item itself stays with the organization that published it.")) }
            }
            @if listed.is_empty() {
                p { (ctx.t("Noch keine Einträge.", "No entries yet.")) }
            } @else {
                ul.items {
                    @for item in &listed {
                        li {
                            h4 { a href=(item.link) { (item.title) } }
                            p.meta {
                                (kind_label(ctx, item.kind)) " · "
                                (ctx.t("von ", "by "))
                                @match &item.author {
                                    Some(a) => (org_label(a)),
                                    None => (ctx.t("unbekannt", "unknown")),
                                }
                            }
                            @if admin {
                                form.inline method="post" action="/group/remove" {
                                    (csrf_field(ctx))
                                    input type="hidden" name="object" value=(item.object_id);
                                    button.kern-btn.kern-btn--secondary type="submit" aria-label=(format!("{} {}", ctx.t("Aus der Gruppe entfernen:", "Remove from the group:"), item.title)) { span.kern-label { (ctx.t("Aus der Gruppe entfernen", "Remove from the group")) } }
                                }
                            }
                        }
                    }
                }
            }
            @if admin {
                h3 { (ctx.t("Gesperrt", "Blocked")) }
                @if view.blocked.is_empty() {
                    p { (ctx.t("Niemand ist gesperrt.", "Nobody is blocked.")) }
                } @else {
                    ul.plain {
                        @for b in &view.blocked {
                            li {
                                (org_label(b)) " "
                                form.inline method="post" action="/group/unblock" {
                                    (csrf_field(ctx))
                                    input type="hidden" name="member" value=(b.handle);
                                    button.kern-btn.kern-btn--secondary type="submit" aria-label=(format!("{} {}", ctx.t("Sperre aufheben:", "Unblock:"), b.profile.name)) { span.kern-label { (ctx.t("Sperre aufheben", "Unblock")) } }
                                }
                            }
                        }
                    }
                }
                h3 { (ctx.t("Moderationsprotokoll", "Moderation log")) }
                @if view.log.is_empty() {
                    p { (ctx.t("Noch keine Moderation.", "No moderation yet.")) }
                } @else {
                    div.table-scroll role="region" tabindex="0" aria-label=(ctx.t("Tabelle, seitlich verschiebbar", "Table, scrolls sideways")) { table.kern-table {
                        caption.visually-hidden { (ctx.t("Moderationsprotokoll", "Moderation log")) }
                        thead { tr {
                            th scope="col" { (ctx.t("Zeit (UTC)", "Time (UTC)")) }
                            th scope="col" { (ctx.t("Wer", "Who")) }
                            th scope="col" { (ctx.t("Aktion", "Action")) }
                            th scope="col" { (ctx.t("Betrifft", "Concerns")) }
                        } }
                        tbody {
                            @for e in &view.log {
                                tr {
                                    td { (e.at.format("%Y-%m-%d %H:%M")) }
                                    td { (e.moderator) }
                                    td { (action_label(ctx, &e.action)) }
                                    td { code.wrap { (e.subject) } }
                                }
                            }
                        }
                    } }
                }
            }
        }
    })
}

fn kind_label(ctx: &Ctx, kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Project => ctx.t("Vorhaben", "Project"),
        ItemKind::Question => ctx.t("Frage", "Question"),
        ItemKind::Solution => ctx.t("Lösung", "Solution"),
        ItemKind::Answer => ctx.t("Antwort", "Answer"),
        ItemKind::Post => ctx.t("Beitrag", "Post"),
    }
}

fn action_label(ctx: &Ctx, action: &str) -> String {
    match action {
        "remove-item" => ctx.t("Beitrag entfernt", "Item removed"),
        "block-member" => ctx.t("Mitglied gesperrt", "Member blocked"),
        "unblock-member" => ctx.t("Sperre aufgehoben", "Block lifted"),
        other => other,
    }
    .to_owned()
}

/// The entry if the viewer may read the item (the store's rule).
async fn readable(
    ctx: &Ctx,
    state: &AppState,
    entry: &GroupItem,
) -> Result<Option<Listed>, PageError> {
    for_item_kind!(entry.kind,
        T => listed::<T>(ctx, state, entry).await,
        _not_an_item => Ok(None))
}

async fn listed<T: ItemPages>(
    ctx: &Ctx,
    state: &AppState,
    entry: &GroupItem,
) -> Result<Option<Listed>, PageError> {
    match state
        .store
        .items::<T>()
        .read(ctx.viewer(), entry.item_id)
        .await
    {
        Ok(item) => Ok(Some(Listed {
            object_id: entry.object_id.clone(),
            title: heading(&item).to_owned(),
            link: href(&item),
            kind: T::KIND,
            author: None,
        })),
        Err(allmende_store::StoreError::NotFound) => Ok(None),
        Err(e) => Err(PageError::internal(e)),
    }
}

/// `POST /group/remove`: an admin removes an item from their group.
pub async fn remove(
    State(state): State<AppState>,
    SignedForm {
        signed_in, values, ..
    }: SignedForm,
) -> Result<Response, PageError> {
    let object = value(&values, "object").unwrap_or_default();
    groups::remove_item(&state, &signed_in.user, &object).await?;
    Ok(back_to_group(&state, &signed_in.user).await)
}

/// `POST /group/block`: an admin blocks a member of their group.
pub async fn block(
    State(state): State<AppState>,
    SignedForm {
        signed_in, values, ..
    }: SignedForm,
) -> Result<Response, PageError> {
    let member = value(&values, "member").unwrap_or_default();
    groups::block(&state, &signed_in.user, &member).await?;
    Ok(back_to_group(&state, &signed_in.user).await)
}

/// `POST /group/unblock`: an admin lifts a block.
pub async fn unblock(
    State(state): State<AppState>,
    SignedForm {
        signed_in, values, ..
    }: SignedForm,
) -> Result<Response, PageError> {
    let member = value(&values, "member").unwrap_or_default();
    groups::unblock(&state, &signed_in.user, &member).await?;
    Ok(back_to_group(&state, &signed_in.user).await)
}

async fn back_to_group(state: &AppState, user: &allmende_store::User) -> Response {
    match state.store.organizations().get(user.organization_id).await {
        Ok(org) => redirect(&format!("/orgs/{}", org.handle), Notice::GroupChanged),
        Err(_) => redirect("/", Notice::GroupChanged),
    }
}

/// The groups the user's organization may publish to, as checkboxes for
/// an item form (nothing when it is a member of none). Checked ones are
/// submitted as `group.<handle>`; `error` is the form's message about them.
pub fn choice(ctx: &Ctx, mine: &[Organization], checked: &[String], error: Option<&str>) -> Markup {
    let described = if error.is_some() {
        "groups-hint groups-error"
    } else {
        "groups-hint"
    };
    html! {
        @if !mine.is_empty() {
            fieldset #groups aria-describedby=(described) tabindex="-1" {
                legend { (ctx.t("Mit Gruppen teilen", "Share with groups")) }
                p.hint #groups-hint { (ctx.t("Die Gruppe gibt den Beitrag an alle weiter, die ihr folgen, auch auf anderen Knoten. Fragen lassen sich nur teilen, wenn sie öffentlich sind.", "The group passes the item on to everyone who follows it, on other nodes too. Questions can be shared only when they are public.")) }
                @if let Some(e) = error { p.error #groups-error { (e) } }
                @for g in mine {
                    @let name = format!("group.{}", g.handle);
                    div.field.checkbox {
                        input type="checkbox" id=(name) name=(name) value="on" aria-invalid=[error.map(|_| "true")] checked[checked.iter().any(|c| c == g.handle.as_str())];
                        " "
                        label.inline for=(name) { (g.profile.name) @if !g.is_local() { " " span.handle { "@" (g.handle) } } }
                    }
                }
            }
        }
    }
}

/// The groups an item (by its ActivityPub id) is shared in, for the line
/// of facts under its title: nothing when none.
pub async fn shared_in(ctx: &Ctx, state: &AppState, object_id: &str) -> Result<Markup, PageError> {
    let ids = state
        .store
        .groups()
        .of_object(object_id)
        .await
        .map_err(PageError::internal)?;
    if ids.is_empty() {
        return Ok(html! {});
    }
    let mut groups: Vec<Organization> = super::items::org_map(state, ids)
        .await?
        .into_values()
        .collect();
    groups.sort_by(|a, b| a.profile.name.cmp(&b.profile.name));
    Ok(html! {
        " · " (ctx.t("geteilt in ", "shared in "))
        @for (i, g) in groups.iter().enumerate() {
            @if i > 0 { ", " }
            (org_label(g))
        }
    })
}

/// The group handles checked in a submitted item form.
pub fn chosen(values: &super::forms::FormValues) -> Vec<String> {
    let mut handles: Vec<String> = values
        .iter()
        .filter(|(k, v)| k.starts_with("group.") && v.as_str() == "on")
        .map(|(k, _)| k.trim_start_matches("group.").to_owned())
        .collect();
    handles.sort();
    handles
}

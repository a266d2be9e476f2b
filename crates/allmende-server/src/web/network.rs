//! The network page: following organizations on other nodes, who follows
//! us, and the feed of what followed organizations publish.

use std::collections::HashMap;

use allmende_domain::{FollowerApproval, Organization, OrganizationId};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup, PreEscaped};

use super::context::Ctx;
use super::error::PageError;
use super::forms::{csrf_field, error_summary, value, Field, FormErrors, FormValues};
use super::items::{heading, href, org_map};
use super::layout::{page, timestamp};
use super::notice::{redirect, Notice};
use super::posted::SignedForm;
use crate::state::AppState;
use crate::usecases::follows::{self, FeedEntry};
use crate::usecases::UseCaseError;

/// The organization's name with, for one on another node, its address.
pub fn org_label(org: &Organization) -> Markup {
    html! {
        a href={ "/orgs/" (org.handle) } { (org.profile.name) }
        @if !org.is_local() { " " span.handle { "@" (org.handle) } }
    }
}

async fn network_page(
    ctx: &Ctx,
    state: &AppState,
    values: &FormValues,
    errors: &FormErrors,
) -> Result<Markup, PageError> {
    let s = ctx.require_user()?;
    let relations = follows::relations(state, &s.user).await?;
    let feed = follows::feed(state, &s.user, 50).await?;
    let orgs = org_map(state, feed.iter().map(FeedEntry::organization_id)).await?;
    let admin = s.user.role == allmende_domain::Role::Admin;
    let group = s.organization.profile.kind.is_group();
    let approval = state
        .store
        .organizations()
        .follower_approval(s.user.organization_id)
        .await
        .map_err(PageError::internal)?;
    let status = |accepted: bool| {
        if accepted {
            ctx.t("bestätigt", "confirmed")
        } else {
            ctx.t("angefragt", "requested")
        }
    };
    Ok(page(
        ctx,
        ctx.t("Netzwerk", "Network"),
        html! {
            (error_summary(ctx, errors))
            section aria-labelledby="follow-heading" {
                h2 #follow-heading { (ctx.t("Einer Organisation folgen", "Follow an organization")) }
                p { (ctx.t("Folgen Sie Organisationen auf anderen Allmende-Knoten oder im Fediverse. Ihre Vorhaben, Fragen und Lösungen erscheinen dann hier und in der Suche.", "Follow organizations on other Allmende nodes or in the fediverse. Their projects, questions and solutions then appear here and in search.")) }
                form.stacked method="post" action="/network/follow" {
                    (csrf_field(ctx))
                    (Field::new("target", ctx.t("Adresse der Organisation", "Address of the organization"))
                        .hint(ctx.t("z. B. mannheim@allmende.mannheim.de oder die URL ihres Profils", "e.g. mannheim@allmende.mannheim.de or the URL of its profile"))
                        .required()
                        .input(ctx, "text", values, errors))
                    button.kern-btn.kern-btn--primary type="submit" { span.kern-label { (ctx.t("Folgen", "Follow")) } }
                }
            }
            section aria-labelledby="following-heading" {
                h2 #following-heading { (ctx.t("Wir folgen", "We follow")) }
                @if relations.following.is_empty() {
                    p { (ctx.t("Noch niemandem.", "No one yet.")) }
                } @else {
                    ul.relations {
                        @for (org, accepted) in &relations.following {
                            li {
                                (org_label(org)) " – " (status(*accepted)) " "
                                form.inline method="post" action="/network/unfollow" {
                                    (csrf_field(ctx))
                                    input type="hidden" name="handle" value=(org.handle);
                                    button.link type="submit" aria-label={ (ctx.t("Nicht mehr folgen: ", "Unfollow: ")) (org.profile.name) } { (ctx.t("Nicht mehr folgen", "Unfollow")) }
                                }
                            }
                        }
                    }
                }
            }
            section aria-labelledby="groups-heading" {
                h2 #groups-heading { (ctx.t("Unsere Gruppen", "Our groups")) }
                p { (ctx.t("Verbände und Netzwerke sind Gruppen: Treten Sie einer bei mit „Beitreten“ auf ihrer Seite, oder indem Sie ihre Adresse oben eingeben. Was Sie beim Veröffentlichen mit einer Gruppe teilen, gibt sie an alle weiter, die ihr folgen.", "Associations and networks are groups: join one with “Join” on its page, or by entering its address above. What you share with a group when publishing, it passes on to everyone who follows it.")) }
                @let groups: Vec<_> = relations.following.iter().filter(|(o, _)| o.profile.kind.is_group()).collect();
                @if groups.is_empty() {
                    p { (ctx.t("Noch in keiner Gruppe.", "In no group yet.")) }
                } @else {
                    ul.relations {
                        @for (org, accepted) in groups {
                            li {
                                (org_label(org)) " – "
                                (if *accepted { ctx.t("Mitglied", "member") } else { ctx.t("Beitritt angefragt", "asked to join") })
                            }
                        }
                    }
                }
            }
            section aria-labelledby="followers-heading" {
                @if group {
                    // For a group, following is membership.
                    h2 #followers-heading { (ctx.t("Mitglieder", "Members")) }
                    p { (ctx.t("Wer Ihrer Gruppe folgt, ist Mitglied: Die Gruppe gibt weiter, was Mitglieder mit ihr teilen, und Mitglieder erhalten auch Ihre Fragen, die nur für Folgende bestimmt sind. Moderation (Entfernen von Beiträgen, Sperren) auf der Seite der Gruppe.", "Whoever follows your group is a member: the group passes on what members share with it, and members also receive your questions meant for followers only. Moderation (removing items, blocking) on the group's page.")) " " a href={ "/orgs/" (s.organization.handle) } { (ctx.t("Zur Seite der Gruppe", "To the group's page")) } }
                } @else {
                    h2 #followers-heading { (ctx.t("Uns folgen", "Our followers")) }
                    p { (ctx.t("Wer Ihrer Organisation folgt, erhält auch Ihre Fragen, die nur für Folgende bestimmt sind.", "Whoever follows your organization also receives your questions meant for followers only.")) }
                }
                @let (accepted, pending): (Vec<_>, Vec<_>) = relations.followers.iter().partition(|(_, a)| *a);
                @if !pending.is_empty() {
                    h3 { (ctx.t("Anfragen", "Requests")) }
                    ul.relations {
                        @for (org, _) in &pending {
                            li {
                                (org_label(org))
                                @if admin {
                                    " "
                                    @if group {
                                        (decide_button(ctx, org, "approve", ctx.t("Aufnehmen", "Admit"), ctx.t("Aufnehmen: ", "Admit: ")))
                                    } @else {
                                        (decide_button(ctx, org, "approve", ctx.t("Annehmen", "Approve"), ctx.t("Annehmen: ", "Approve: ")))
                                    }
                                    " "
                                    (decide_button(ctx, org, "refuse", ctx.t("Ablehnen", "Refuse"), ctx.t("Ablehnen: ", "Refuse: ")))
                                }
                            }
                        }
                    }
                }
                @if accepted.is_empty() {
                    p { (ctx.t("Noch niemand.", "No one yet.")) }
                } @else {
                    ul.relations {
                        @for (org, _) in &accepted {
                            li {
                                (org_label(org))
                                // A group removes members on this node too.
                                @if admin && (!org.is_local() || s.organization.profile.kind.is_group()) {
                                    " "
                                    @if group {
                                        (decide_button(ctx, org, "refuse", ctx.t("Aus der Gruppe nehmen", "Remove from the group"), ctx.t("Aus der Gruppe nehmen: ", "Remove from the group: ")))
                                    } @else {
                                        (decide_button(ctx, org, "refuse", ctx.t("Entfernen", "Remove"), ctx.t("Als Folgende entfernen: ", "Remove follower: ")))
                                    }
                                }
                            }
                        }
                    }
                }
                @if admin {
                    form.stacked method="post" action="/network/followers/approval" {
                        (csrf_field(ctx))
                        @let options: Vec<(&str, &str)> = FollowerApproval::ALL.iter().map(|a| (a.slug(), ctx.label(*a))).collect();
                        @let mut current = FormValues::new();
                        @let _ = current.insert("follower_approval".into(), approval.slug().into());
                        (Field::new("follower_approval", ctx.t("Wer Ihnen sofort folgen darf", "Who may follow you at once"))
                            .hint(ctx.t("Alle anderen Anfragen warten hier, bis ein Admin sie annimmt. Vertrauenswürdige Knoten legt der Betrieb dieses Knotens fest.", "All other requests wait here until an admin approves them. The operators of this node decide which nodes are trusted."))
                            .required()
                            .select(ctx, &options, &current, &FormErrors::default()))
                        button.kern-btn.kern-btn--primary type="submit" { span.kern-label { (ctx.t("Speichern", "Save")) } }
                    }
                }
            }
            section aria-labelledby="feed-heading" {
                h2 #feed-heading { (ctx.t("Neues aus dem Netzwerk", "News from the network")) }
                (feed_list(ctx, &feed, &orgs))
            }
        },
    ))
}

/// A one-button form deciding about a follower.
fn decide_button(ctx: &Ctx, org: &Organization, decision: &str, label: &str, aria: &str) -> Markup {
    html! {
        form.inline method="post" action="/network/followers/decide" {
            (csrf_field(ctx))
            input type="hidden" name="handle" value=(org.handle);
            input type="hidden" name="decision" value=(decision);
            button.link type="submit" aria-label={ (aria) (org.profile.name) } { (label) }
        }
    }
}

fn feed_list(
    ctx: &Ctx,
    feed: &[FeedEntry],
    orgs: &HashMap<OrganizationId, Organization>,
) -> Markup {
    html! {
        @if feed.is_empty() {
            p { (ctx.t("Noch nichts – folgen Sie einer Organisation.", "Nothing yet – follow an organization.")) }
        } @else {
            ul.items {
                @for entry in feed {
                    li {
                        @match entry {
                            FeedEntry::Project(i) => { h3 { a href=(href(i)) { (heading(i)) } } p.meta { (ctx.t("Vorhaben", "Project")) } }
                            FeedEntry::Question(i) => { h3 { a href=(href(i)) { (heading(i)) } } p.meta { (ctx.t("Frage", "Question")) } }
                            FeedEntry::Solution(i) => { h3 { a href=(href(i)) { (heading(i)) } } p.meta { (ctx.t("Lösung", "Solution")) } }
                            FeedEntry::Post(p) => {
                                h3 { (p.name.as_deref().unwrap_or(ctx.t("Beitrag", "Post"))) }
                                // Sanitised on arrival, and again here.
                                div.remote-html { (PreEscaped(allmende_federation::sanitize::clean_html(&p.content_html))) }
                                @if let Some(url) = &p.url { p { a href=(url) rel="nofollow noopener" { (ctx.t("Original ansehen", "View original")) } } }
                            }
                        }
                        p.meta {
                            @if let Some(org) = orgs.get(&entry.organization_id()) { (org_label(org)) " · " }
                            (timestamp(ctx, entry.published()))
                        }
                    }
                }
            }
        }
    }
}

/// `GET /network`
pub async fn show(ctx: Ctx, State(state): State<AppState>) -> Result<Markup, PageError> {
    network_page(&ctx, &state, &FormValues::new(), &FormErrors::default()).await
}

/// `POST /network/follow`
pub async fn follow(
    State(state): State<AppState>,
    SignedForm {
        ctx,
        signed_in,
        values,
    }: SignedForm,
) -> Result<Response, PageError> {
    let target = value(&values, "target").unwrap_or_default();
    let result = if target.trim().is_empty() {
        Err(UseCaseError::from(
            allmende_domain::Problem::Required.at("target"),
        ))
    } else {
        follows::follow(&state, &signed_in.user, &target)
            .await
            .map(|_| ())
    };
    match result {
        Ok(()) => Ok(redirect("/network", Notice::Followed)),
        Err(UseCaseError::Invalid(errors)) => {
            let label = ctx.t("Adresse der Organisation", "Address of the organization");
            let errors = FormErrors::from_validation(&ctx, &errors, |_| label.to_owned());
            let body = network_page(&ctx, &state, &values, &errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(body.into_string())).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /network/unfollow`
pub async fn unfollow(
    State(state): State<AppState>,
    SignedForm {
        signed_in, values, ..
    }: SignedForm,
) -> Result<Response, PageError> {
    let handle = value(&values, "handle").unwrap_or_default();
    follows::unfollow(&state, &signed_in.user, &handle).await?;
    Ok(redirect("/network", Notice::Unfollowed))
}

/// `POST /network/followers/decide`: approve or refuse a follow request,
/// or remove a follower (admins).
pub async fn decide_follower(
    State(state): State<AppState>,
    SignedForm {
        signed_in, values, ..
    }: SignedForm,
) -> Result<Response, PageError> {
    let handle = value(&values, "handle").unwrap_or_default();
    let approve = match value(&values, "decision").as_deref() {
        Some("approve") => true,
        Some("refuse") => false,
        _ => return Err(PageError::BadRequest("decision: approve or refuse".into())),
    };
    follows::decide_follower(&state, &signed_in.user, &handle, approve).await?;
    // Back where the decision was made (the network page or a group's).
    let back = value(&values, "next")
        .and_then(|next| crate::auth::local_target(&next, &state.config.public_url))
        .unwrap_or_else(|| "/network".to_owned());
    Ok(redirect(&back, Notice::FollowerDecided))
}

/// `POST /network/followers/approval`: who may follow at once (admins).
pub async fn set_follower_approval(
    State(state): State<AppState>,
    SignedForm {
        signed_in, values, ..
    }: SignedForm,
) -> Result<Response, PageError> {
    let approval = value(&values, "follower_approval").unwrap_or_default();
    follows::set_follower_approval(&state, &signed_in.user, &approval).await?;
    Ok(redirect("/network", Notice::Saved))
}

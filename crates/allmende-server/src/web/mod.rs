//! Server-rendered pages (maud). German first, English on request; they work
//! without JavaScript and follow BITV 2.0 / WCAG 2.1 AA: labelled inputs,
//! landmarks, one h1 per page, visible focus, contrast ≥ 4.5:1.

pub mod account;
pub mod admin;
pub mod admin_organizations;
pub mod assets;
pub mod branding;
pub mod context;
pub mod error;
pub mod feeds;
pub mod fields;
pub mod forms;
pub mod groups;
pub mod home;
pub mod items;
pub mod layout;
pub mod legal;
pub mod network;
pub mod notice;
pub mod notifications;
pub mod organizations;
pub mod password;
pub mod people;
pub mod policy;
pub mod posted;
pub mod projects;
pub mod questions;
pub mod search;
pub mod services;
pub mod session;
pub mod solutions;
pub mod ui;

use allmende_domain::{Project, Question, Solution};
use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

/// Routes for one item type's pages under `/{collection}`.
fn item_routes<T: items::ItemPages + 'static>(
    router: Router<AppState>,
    show: axum::routing::MethodRouter<AppState>,
) -> Router<AppState> {
    let base = format!("/{}", T::KIND.collection());
    router
        .route(&base, get(items::list::<T>).post(items::create::<T>))
        .route(&format!("{base}/new"), get(items::new_form::<T>))
        .route(&format!("{base}/{{id}}"), show)
        .route(
            &format!("{base}/{{id}}/edit"),
            get(items::edit_form::<T>).post(items::update::<T>),
        )
        .route(
            &format!("{base}/{{id}}/delete"),
            get(items::delete_confirm::<T>).post(items::delete::<T>),
        )
}

pub fn router() -> Router<AppState> {
    let router = Router::new()
        .route("/", get(home::home))
        .route("/search", get(search::show))
        .route("/search/feed.atom", get(feeds::search))
        .route("/services", get(services::catalogue))
        .route("/services/{key}", get(services::show))
        .route("/services/{key}/feed.atom", get(feeds::service))
        .route("/orgs/{handle}/feed.atom", get(feeds::organization))
        .route("/login", get(session::login_form).post(session::login))
        .route("/login/code", post(session::login_code))
        .route("/logout", post(session::logout))
        .route("/lang", get(session::set_language))
        .route("/account", get(account::show))
        .route("/account/tokens", post(account::create_token))
        .route("/account/totp/setup", post(account::totp_setup))
        .route("/account/totp/enable", post(account::totp_enable))
        .route("/account/totp/disable", post(account::totp_disable))
        .route(
            "/account/tokens/{id}/revoke",
            get(account::revoke_confirm).post(account::revoke_token),
        )
        .route("/admin/queue", get(admin::queue))
        .route(
            "/admin/organizations",
            get(admin_organizations::show).post(admin_organizations::create),
        )
        .route(
            "/admin/organizations/users",
            post(admin_organizations::add_user),
        )
        .route("/admin/policy", get(policy::show).post(policy::add))
        .route("/admin/policy/remove", post(policy::remove))
        .route("/admin/queue/retry", post(admin::retry))
        .route(
            "/admin/queue/drop",
            get(admin::drop_confirm).post(admin::drop),
        )
        .route("/network", get(network::show))
        .route("/network/follow", post(network::follow))
        .route("/network/unfollow", post(network::unfollow))
        .route("/network/followers/decide", post(network::decide_follower))
        .route(
            "/network/followers/approval",
            post(network::set_follower_approval),
        )
        .route("/group/remove", post(groups::remove))
        .route("/group/block", post(groups::block))
        .route("/group/unblock", post(groups::unblock))
        .route("/orgs", get(organizations::list))
        .route("/orgs/{handle}/people", get(people::show))
        .route(
            "/orgs/{handle}/branding",
            get(branding::form).post(branding::save),
        )
        .route("/orgs/{handle}/logo.png", get(branding::logo))
        .route("/orgs/{handle}/brand.css", get(branding::stylesheet))
        .route("/orgs/{handle}/people/invite", post(people::invite))
        .route("/orgs/{handle}/people/{id}/role", post(people::set_role))
        .route(
            "/orgs/{handle}/people/{id}/remove",
            get(people::remove_confirm).post(people::remove),
        )
        .route(
            "/orgs/{handle}/invitations/{id}/withdraw",
            post(people::withdraw_invitation),
        )
        .route(
            "/invitations/{token}",
            get(people::invitation_form).post(people::accept_invitation),
        )
        .route("/admin/audit", get(people::admin_audit))
        .route("/account/password", post(password::change))
        .route(
            "/password/forgot",
            get(password::forgot_form).post(password::forgot),
        )
        .route(
            "/password/reset/{token}",
            get(password::reset_form).post(password::reset),
        )
        .route("/notifications", post(notifications::save))
        .route("/notifications/watch", post(notifications::watch))
        .route(
            "/notifications/unsubscribe",
            get(notifications::unsubscribe_form).post(notifications::unsubscribe),
        )
        .route("/orgs/{handle}", get(organizations::show))
        .route(
            "/orgs/{handle}/edit",
            get(organizations::edit_form).post(organizations::update),
        )
        .route("/questions/{id}/answers", post(questions::answer))
        .route("/answers/{id}", get(questions::show_answer))
        .route("/answers/{id}/accept", post(questions::accept))
        .route(
            "/solutions/import",
            get(solutions::import_page).post(solutions::import),
        )
        .route("/solutions/{id}/adoption", post(solutions::declare))
        .route(
            "/solutions/{id}/adoption/withdraw",
            post(solutions::withdraw),
        )
        .route("/solutions/{id}/variant", get(solutions::variant_form))
        .route("/solutions/{id}/publiccode.yml", get(solutions::publiccode))
        .route("/static/{version}/{file}", get(assets::serve))
        .route("/impressum", get(legal::imprint))
        .route("/datenschutz", get(legal::privacy))
        .route("/barrierefreiheit", get(legal::accessibility));
    let router = item_routes::<Project>(router, get(items::show::<Project>));
    let router = item_routes::<Question>(router, get(questions::show));
    item_routes::<Solution>(router, get(items::show::<Solution>))
}

//! Declaring that one's organization uses a solution, updating and
//! withdrawing the declaration; the adopters and variants of a solution;
//! its publiccode.yml for export. Declarations are made only for the
//! signed-in user's own organization, so no one declares in another's name.

use allmende_domain::publiccode::Publiccode;
use allmende_domain::{Adoption, AdoptionInput, Item, OrganizationId, Solution, Viewer};
use allmende_store::{Store, User};
use chrono::Utc;
use uuid::Uuid;

use super::{Result, UseCaseError};
use crate::state::AppState;

/// A solution as this node knows it, with its ActivityPub id (its URL
/// here for this node's own, its id at home for a copy).
pub struct KnownSolution {
    pub solution: Solution,
    pub ap_id: String,
    pub local: bool,
}

pub async fn known(state: &AppState, viewer: Viewer, id: Uuid) -> Result<KnownSolution> {
    let solution: Solution = state.store.solutions().read(viewer, id).await?;
    let remote = state.store.solutions().ap_id(id).await?;
    Ok(KnownSolution {
        local: remote.is_none(),
        ap_id: remote.unwrap_or_else(|| {
            state
                .federation
                .urls()
                .item(allmende_domain::ItemKind::Solution, id)
        }),
        solution,
    })
}

/// Declares or updates the user's organization's use of a solution.
pub async fn declare(
    state: &AppState,
    user: &User,
    solution_id: Uuid,
    input: &AdoptionInput,
) -> Result<Adoption> {
    let draft = input.validate()?;
    // Only public solutions: the declaration is public, and names it.
    let known = known(state, Viewer::Public, solution_id).await?;
    let home = known.local.then_some(known.solution.organization_id);
    let adoption = state
        .store
        .adoptions()
        .declare(user.organization_id, &known.ap_id, &draft, home, Utc::now())
        .await?;
    state.federation.wake();
    Ok(adoption)
}

/// Withdraws the user's organization's declaration for a solution.
pub async fn withdraw(state: &AppState, user: &User, solution_id: Uuid) -> Result<()> {
    let known = known(state, Viewer::Member(user.organization_id), solution_id).await?;
    let adoptions = state.store.adoptions();
    let adoption = adoptions
        .of(user.organization_id, &known.ap_id)
        .await?
        .ok_or(UseCaseError::NotFound)?;
    let ap_id = state.federation.urls().adoption(adoption.id.0);
    adoptions
        .withdraw(
            &adoption,
            &ap_id,
            Some(known.solution.organization_id),
            Utc::now(),
        )
        .await?;
    state.federation.wake();
    Ok(())
}

/// The declarations of a solution kept here.
pub async fn of_solution(store: &Store, ap_id: &str) -> Result<Vec<Adoption>> {
    Ok(store.adoptions().of_solution(ap_id).await?)
}

/// The names of a solution's adopters, for publiccode.yml's `usedBy`.
pub async fn adopter_names(store: &Store, adoptions: &[Adoption]) -> Result<Vec<String>> {
    let orgs = store
        .organizations()
        .by_ids(adoptions.iter().map(|a| a.organization_id))
        .await?;
    Ok(adoptions
        .iter()
        .filter_map(|a| orgs.get(&a.organization_id))
        .map(|o| o.profile.name.clone())
        .collect())
}

/// A solution's publiccode.yml with the verified adopters in `usedBy`;
/// `NotFound` for solutions without one.
pub async fn publiccode_export(state: &AppState, id: Uuid) -> Result<String> {
    let known = known(state, Viewer::Public, id).await?;
    let text = known
        .solution
        .content
        .publiccode_yml
        .as_deref()
        .ok_or(UseCaseError::NotFound)?;
    let parsed = Publiccode::parse(text).map_err(|_| UseCaseError::NotFound)?;
    let adoptions = of_solution(&state.store, &known.ap_id).await?;
    let names = adopter_names(&state.store, &adoptions).await?;
    Ok(parsed.export(&names))
}

/// Checks a new or edited solution's `variant_of`: a solution known here,
/// not the solution itself. A page URL of a copy here is replaced by the
/// copy's id at home.
pub async fn check_variant(
    state: &AppState,
    variant_of: &mut Option<String>,
    this: Option<Uuid>,
) -> Result<()> {
    use allmende_domain::Problem;
    let Some(raw) = variant_of
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    else {
        return Ok(());
    };
    let url = allmende_domain::text::http_url(raw).map_err(|p| p.at("variant_of"))?;
    let urls = state.federation.urls();
    let original = match urls.local_item(&url) {
        Some((allmende_domain::ItemKind::Solution, id)) => {
            let found = known(state, Viewer::Public, id).await;
            match found {
                Ok(_) if Some(id) == this => {
                    return Err(Problem::VariantOfItself.at("variant_of").into())
                }
                Ok(k) => k.ap_id,
                Err(_) => return Err(Problem::NotASolution.at("variant_of").into()),
            }
        }
        _ => match state.store.solutions().find_by_ap_id(url.as_str()).await? {
            Some(copy) if Some(copy.id.0) == this => {
                return Err(Problem::VariantOfItself.at("variant_of").into())
            }
            Some(_) => url.to_string(),
            None => return Err(Problem::NotASolution.at("variant_of").into()),
        },
    };
    *variant_of = Some(original);
    Ok(())
}

/// The solutions kept here that adapt the solution `ap_id`.
pub async fn variants(store: &Store, viewer: Viewer, ap_id: &str) -> Result<Vec<Solution>> {
    Ok(store.solutions().variants_of(ap_id, viewer).await?)
}

/// Whether `org` has declared use of the solution.
pub async fn own(store: &Store, org: OrganizationId, ap_id: &str) -> Result<Option<Adoption>> {
    Ok(store.adoptions().of(org, ap_id).await?)
}

/// The title of a solution known here by its ActivityPub id, with its
/// page here, if `viewer` may read it (for "variant of" links and the
/// solutions an organization uses).
pub async fn original(
    state: &AppState,
    viewer: Viewer,
    ap_id: &str,
) -> Result<Option<(String, String)>> {
    let url = match url::Url::parse(ap_id) {
        Ok(u) => u,
        Err(_) => return Ok(None),
    };
    let id = match state.federation.urls().local_item(&url) {
        Some((allmende_domain::ItemKind::Solution, id)) => Some(id),
        _ => state
            .store
            .solutions()
            .find_by_ap_id(ap_id)
            .await?
            .map(|s| s.id.0),
    };
    let Some(id) = id else { return Ok(None) };
    let found: Option<Solution> =
        allmende_store::Found::found(state.store.solutions().read(viewer, id).await)?;
    Ok(found.map(|s| {
        (
            Solution::title(&s.content).to_owned(),
            format!("/solutions/{id}"),
        )
    }))
}

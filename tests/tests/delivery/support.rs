//! Helpers of the delivery tests.

use allmende_tests::TestNode;

/// Titles of the projects a node holds (its own and copies), sorted.
pub async fn project_titles(node: &TestNode) -> Vec<String> {
    // Projects are always public.
    let filter = allmende_store::ListFilter {
        limit: 1000,
        ..Default::default()
    };
    let mut titles: Vec<String> = node
        .state
        .store
        .projects()
        .list(&filter)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.content.title)
        .collect();
    titles.sort();
    titles
}

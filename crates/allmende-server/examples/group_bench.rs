//! Benchmark: how long an item takes through groups (issue 13).
//!
//! `cargo run --release -p allmende-server --example group_bench -- [ITEMS]`
//!
//! Five nodes in this process, each on its own loopback port and SQLite
//! database, federating over HTTP: Ulm (A) publishes; the Verband (G), a
//! group Ulm is a member of; a network (N) that follows the Verband;
//! Mannheim (C), who follows the Verband; Augsburg (D), who follows only
//! the network; and Esslingen (E), who follows Ulm directly. For each of
//! ITEMS projects (default 200), published one after the other to the
//! Verband, the time from publishing until the project is stored on
//!
//! - E: directly, no group (the baseline of what one delivery costs);
//! - C: one hop (Ulm → Verband → Mannheim, the object fetched from Ulm);
//! - D: two hops (Ulm → Verband → network → Augsburg).
//!
//! Prints median and p95 per path and the ratios, one `key value` per
//! line (milliseconds).

use std::time::{Duration, Instant};

use allmende_domain::{FollowerApproval, Project, ProjectInput};
use allmende_tests::{settle, spawn_app, TestNode};

fn percentile(values: &mut [f64], p: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let rank = ((values.len() as f64 - 1.0) * p).round() as usize;
    values[rank]
}

/// Waits until `node` stores the item with ActivityPub id `ap_id`.
async fn arrived(node: &TestNode, ap_id: &str) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if node
            .state
            .store
            .projects()
            .find_by_ap_id(ap_id)
            .await
            .expect("store")
            .is_some()
        {
            return Instant::now();
        }
        assert!(Instant::now() < deadline, "{ap_id} never arrived");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

#[tokio::main]
async fn main() {
    let items: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse().expect("ITEMS is a number"))
        .unwrap_or(200);
    let a = spawn_app().await;
    a.org_with_user("ulm", "Stadt Ulm", "digital@ulm.example", "admin")
        .await;
    let g = spawn_app().await;
    g.group_with_token("verband", "association", FollowerApproval::Everyone)
        .await;
    let n = spawn_app().await;
    n.group_with_token("netz", "network", FollowerApproval::Everyone)
        .await;
    let c = spawn_app().await;
    c.org("mannheim", "Stadt Mannheim").await;
    let d = spawn_app().await;
    d.org("augsburg", "Stadt Augsburg").await;
    let e = spawn_app().await;
    e.org("esslingen", "Stadt Esslingen").await;
    let follow = |node: &TestNode, who: &'static str, whom: String| {
        let state = node.state.clone();
        async move {
            let org = state
                .store
                .organizations()
                .by_handle(who)
                .await
                .expect("organization");
            allmende_server::usecases::follows::follow_as(&state, org.id, &whom)
                .await
                .expect("follow");
        }
    };
    follow(&a, "ulm", format!("verband@{}", g.host())).await;
    follow(&n, "netz", format!("verband@{}", g.host())).await;
    follow(&c, "mannheim", format!("verband@{}", g.host())).await;
    follow(&d, "augsburg", format!("netz@{}", n.host())).await;
    follow(&e, "esslingen", format!("ulm@{}", a.host())).await;
    let all = [&a, &g, &n, &c, &d, &e];
    settle(&all).await;

    let email = allmende_domain::Email::parse("digital@ulm.example").expect("e-mail");
    let user = a
        .state
        .store
        .accounts()
        .credentials(&email)
        .await
        .expect("store")
        .expect("user")
        .0;
    let groups = [format!("verband@{}", g.host())];
    let (mut direct, mut one, mut two) = (Vec::new(), Vec::new(), Vec::new());
    // One unmeasured item warms every node up.
    for i in 0..=items {
        let input = ProjectInput {
            title: Some(format!("Vorhaben {i}")),
            status: Some("idea".into()),
            ..Default::default()
        };
        let started = Instant::now();
        let project: Project =
            allmende_server::usecases::items::create_in_groups(&a.state, &user, &input, &groups)
                .await
                .expect("published");
        let ap_id = a
            .state
            .federation
            .urls()
            .item(allmende_domain::ItemKind::Project, project.id.0);
        let (on_e, on_c, on_d) = tokio::join!(
            arrived(&e, &ap_id),
            arrived(&c, &ap_id),
            arrived(&d, &ap_id)
        );
        if i > 0 {
            let ms = |t: Instant| t.duration_since(started).as_secs_f64() * 1000.0;
            direct.push(ms(on_e));
            one.push(ms(on_c));
            two.push(ms(on_d));
        }
        settle(&all).await;
    }
    let report = |name: &str, values: &mut Vec<f64>| {
        let median = percentile(values, 0.5);
        let p95 = percentile(values, 0.95);
        println!("{name}_median {median:.1}");
        println!("{name}_p95 {p95:.1}");
        median
    };
    println!("items {items}");
    let d_med = report("direct", &mut direct);
    let one_med = report("one_hop", &mut one);
    let two_med = report("two_hops", &mut two);
    println!("ratio_two_to_one {:.2}", two_med / one_med);
    println!("ratio_one_to_direct {:.2}", one_med / d_med);
}

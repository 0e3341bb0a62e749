//! The candidate query of each variant returns exactly the rows, in exactly
//! the order, that `CandidateQuery`'s own definition of the scope gives when
//! evaluated in Rust over the same rows — the definition the simulated store
//! uses. A disagreement here means the simulator and Postgres would see
//! different candidates.

use pg_store::world;
use reconciler_core::{
    Candidate, CandidateQuery, LEGACY_STATUSES, LIVE_STATUSES, Order, Row, Status, Store,
    WorkspaceId,
};

use crate::fixtures::row;
use crate::support::postgres::test_db;

/// Every scope edge, plus ids whose byte order differs from a linguistic one
/// (upper case before lower, `ws-10` before `ws-9`, non-ASCII last), and
/// ties in `updated_at`.
fn fleet() -> Vec<Row> {
    use Status::*;
    vec![
        row("ws-1", Online, Some("i-1"), None, 100),
        row("ws-2", Degraded, Some("i-2"), None, 200),
        row("ws-3", Offline, Some("i-3"), None, 300),
        row("ws-4", Provisioning, Some("i-4"), None, 400),
        row("ws-5", Online, None, None, 500),
        row("ws-6", Online, Some(""), None, 600),
        row("ws-7", Online, Some("i-7"), Some("external"), 700),
        row("ws-8", Degraded, Some("i-8"), Some("saas"), 100),
        row("ws-9", Online, Some("i-9"), None, 100),
        row("ws-10", Online, Some("i-10"), None, 50),
        row("ws-11", Paused, Some("i-11"), None, 900),
        row("ws-12", Degraded, Some(""), None, 950),
        row("ws-13", Degraded, Some("i-13"), Some(""), 800),
        row("WS-14", Online, Some("i-14"), None, 100),
        row("ws-é", Online, Some("i-15"), None, 250),
        row(
            "ws-16",
            Other("deleting".to_owned()),
            Some("i-16"),
            None,
            999,
        ),
    ]
}

/// The reference model: `admits` and `after_cursor`, then the query's order
/// (ties in `updated_at` broken by id), then `LIMIT`.
fn expected(rows: &[Row], query: &CandidateQuery) -> Vec<Candidate> {
    let mut hits: Vec<&Row> = rows
        .iter()
        .filter(|r| {
            query.admits(&r.status, r.instance.as_ref(), r.runtime.as_deref())
                && query.after_cursor(&r.id)
        })
        .collect();
    match query.order {
        Order::UpdatedAtDesc => {
            hits.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(a.id.cmp(&b.id)));
        }
        Order::IdAfter(_) => hits.sort_by(|a, b| a.id.cmp(&b.id)),
    }
    hits.into_iter()
        .take(query.limit as usize)
        .map(|r| Candidate {
            id: r.id.clone(),
            instance: query.capture_instance.then(|| r.instance.clone()).flatten(),
        })
        .collect()
}

fn ids(candidates: &[Candidate]) -> Vec<&str> {
    candidates.iter().map(|c| c.id.0.as_str()).collect()
}

async fn seeded() -> crate::support::postgres::TestDb {
    let t = test_db().await;
    for r in fleet() {
        world::insert(&t.db.admin, &r).await.unwrap();
    }
    t
}

/// Runs `query` on Postgres and on the model, and returns the ids.
async fn check(t: &crate::support::postgres::TestDb, query: &CandidateQuery) -> Vec<String> {
    let got = t.db.store.candidates(query).await.unwrap();
    let want = expected(&fleet(), query);
    assert_eq!(got, want, "query {query:?}");
    ids(&got).into_iter().map(str::to_owned).collect()
}

#[tokio::test]
async fn legacy_selects_online_ids_by_updated_at() {
    let t = seeded().await;
    let mut query = CandidateQuery {
        statuses: LEGACY_STATUSES,
        capture_instance: false,
        order: Order::UpdatedAtDesc,
        limit: 200,
    };
    // Written out once by hand, so that the model itself is checked too.
    assert_eq!(
        check(&t, &query).await,
        ["ws-é", "WS-14", "ws-1", "ws-9", "ws-10"]
    );
    for limit in [1, 2, 3, 4] {
        query.limit = limit;
        check(&t, &query).await;
    }
}

#[tokio::test]
async fn pr2283_selects_live_rows_with_their_instance() {
    let t = seeded().await;
    let mut query = CandidateQuery {
        statuses: LIVE_STATUSES,
        capture_instance: true,
        order: Order::UpdatedAtDesc,
        limit: 200,
    };
    assert_eq!(
        check(&t, &query).await,
        [
            "ws-13", "ws-é", "ws-2", "WS-14", "ws-1", "ws-8", "ws-9", "ws-10"
        ]
    );
    // LIMIT cutting through the tie at updated_at = 100.
    for limit in [1, 3, 4, 5, 6, 7] {
        query.limit = limit;
        check(&t, &query).await;
    }
}

#[tokio::test]
async fn hardened_pages_by_id_in_byte_order() {
    let t = seeded().await;
    let all = CandidateQuery {
        statuses: LIVE_STATUSES,
        capture_instance: true,
        order: Order::IdAfter(None),
        limit: 200,
    };
    assert_eq!(
        check(&t, &all).await,
        [
            "WS-14", "ws-1", "ws-10", "ws-13", "ws-2", "ws-8", "ws-9", "ws-é"
        ]
    );
    // Walk the fleet in pages of 3, as hardened does across passes, and
    // after cursors that are and are not ids of the table.
    let mut cursor = None;
    let mut walked = Vec::new();
    loop {
        let page = CandidateQuery {
            order: Order::IdAfter(cursor.clone()),
            limit: 3,
            ..all.clone()
        };
        let ids = check(&t, &page).await;
        let Some(last) = ids.last() else { break };
        cursor = Some(WorkspaceId(last.clone()));
        walked.extend(ids);
    }
    assert_eq!(walked, check(&t, &all).await);
    for after in ["", "ws-", "ws-11", "ws-5", "ws-z", "ws-é", "zzz"] {
        let query = CandidateQuery {
            order: Order::IdAfter(Some(WorkspaceId::from(after))),
            ..all.clone()
        };
        check(&t, &query).await;
    }
}

#[tokio::test]
async fn every_query_form_matches_the_model() {
    let t = seeded().await;
    let orders = [
        Order::UpdatedAtDesc,
        Order::IdAfter(None),
        Order::IdAfter(Some(WorkspaceId::from("ws-10"))),
    ];
    for statuses in [LEGACY_STATUSES, LIVE_STATUSES] {
        for capture_instance in [false, true] {
            for order in &orders {
                for limit in [1, 2, 5, 200] {
                    check(
                        &t,
                        &CandidateQuery {
                            statuses,
                            capture_instance,
                            order: order.clone(),
                            limit,
                        },
                    )
                    .await;
                }
            }
        }
    }
}

//! The token check on SQLite runs on the actix worker, on a read-only
//! connection of its own that never waits (issue 14's conditions): a busy
//! database sends it to the pool at once, nothing is written on it
//! (`last_used` comes from a background writer), and a change made by any
//! other connection is seen from the next request on.

use std::time::Duration;

use crate::common::{TestApp, spawn_app};

fn fallbacks(app: &TestApp) -> u64 {
    app.state
        .domain
        .db
        .local_reads()
        .expect("SQLite")
        .fallbacks()
}

async fn me(app: &TestApp, key: &str) -> u16 {
    app.get_with_token("/api/auth/me/", key)
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_busy_database_sends_the_check_to_the_pool() {
    let app = spawn_app().await;
    if app.db.is_postgres() {
        return; // PostgreSQL's lookups always go through the pool.
    }
    let user = app.create_user("alice", "correct horse", false);
    let key = app.token_of(user.id);
    assert_eq!(me(&app, &key).await, 200);
    let before = fallbacks(&app);
    assert_eq!(me(&app, &key).await, 200);
    assert_eq!(
        fallbacks(&app),
        before,
        "an idle database is read on the worker"
    );

    // SQLITE_BUSY on the worker: the pool answers, the same answers.
    let local = app.state.domain.db.local_reads().unwrap();
    local.force_busy(3);
    assert_eq!(me(&app, &key).await, 200);
    assert_eq!(me(&app, &"0".repeat(40)).await, 401);
    app.state
        .domain
        .db
        .run(|c| authtoken::models::users::set_active(c, user.id, false))
        .unwrap();
    assert_eq!(me(&app, &key).await, 401);
    assert_eq!(fallbacks(&app), before + 3);
    assert_eq!(me(&app, &key).await, 401, "back on the worker");
    assert_eq!(fallbacks(&app), before + 3);
}

#[tokio::test]
async fn last_used_is_written_off_the_request() {
    let app = spawn_app().await;
    let user = app.create_user("bob", "correct horse", false);
    let key = app.token_of(user.id);
    assert_eq!(app.last_used(user.id), None);
    assert_eq!(me(&app, &key).await, 200);
    let first = app
        .last_used_eventually(user.id)
        .await
        .expect("recorded within a second or so");
    // At most once a minute: another use does not move it.
    assert_eq!(me(&app, &key).await, 200);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(app.last_used(user.id), Some(first));
}

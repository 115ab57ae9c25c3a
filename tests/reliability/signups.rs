//! Concurrent sign-ups with distinct names all succeed, and each new user
//! is found by the admin's search at once. On SQLite the search's FTS5
//! table is written in the sign-up's transaction: with triggers instead,
//! sign-ups like these failed at once with "database is locked" (b968406);
//! this test, with an AFTER INSERT trigger on users that writes to
//! `users_search` added, got 503s.

use serde_json::json;

use crate::common::spawn_app;

#[tokio::test]
async fn concurrent_sign_ups_all_succeed_and_are_searchable() {
    let app = spawn_app().await;
    let mut tasks = Vec::new();
    for i in 0..24 {
        let client = app.client.clone();
        let url = app.url("/api/auth/register/");
        tasks.push(tokio::spawn(async move {
            let response = client
                .post(url)
                .json(&json!({"username": format!("racer{i:02}"), "password": "correct horse battery"}))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.text().await.unwrap())
        }));
    }
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, 201, "{body}");
    }
    let domain = &app.state.domain;
    let found = |q: &str| {
        domain
            .db
            .run(|c| authtoken::models::users::search(c, q, 1, 50))
            .unwrap()
    };
    let all = found("racer");
    assert_eq!((all.total, all.rows.len(), all.capped), (24, 24, false));
    for i in 0..24 {
        let one = found(&format!("RACER{i:02}"));
        assert_eq!(one.total, 1, "racer{i:02}");
        assert_eq!(one.rows[0].0.username, format!("racer{i:02}"));
    }
}

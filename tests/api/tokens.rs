//! me, logout and regenerate.

use serde_json::{Value, json};

use crate::common::{spawn_app, status_body};

#[tokio::test]
async fn me_describes_the_user() {
    let app = spawn_app().await;
    let user = app.create_user("alice", "correct horse", false);
    let key = app.token_of(user.id);
    let (status, body) = status_body(app.get_with_token("/api/auth/me/", &key).await).await;
    assert_eq!(status, 200);
    let value: Value = serde_json::from_str(&body).unwrap();
    let keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(keys, ["id", "username", "email", "is_staff", "date_joined"]);
    assert_eq!(value["id"], user.id.get());
    assert_eq!(value["is_staff"], false);
    let joined = value["date_joined"].as_str().unwrap();
    assert!(joined.ends_with('Z'));
    assert_eq!(
        joined,
        authtoken::models::clock::drf_datetime(&user.date_joined)
    );
}

#[tokio::test]
async fn logout_revokes_the_key_and_the_next_sign_in_makes_a_new_one() {
    let app = spawn_app().await;
    let user = app.create_user("bob", "correct horse", false);
    let key = app.token_of(user.id);
    let response = app.post_with_token("/api/auth/logout/", &key).await;
    assert_eq!(response.status(), 204);
    assert!(response.headers().get("content-type").is_none());
    assert_eq!(response.text().await.unwrap(), "");
    let (status, body) = status_body(app.get_with_token("/api/auth/me/", &key).await).await;
    assert_eq!(
        (status, body.as_str()),
        (401, r#"{"detail":"Invalid token."}"#)
    );
    let response = app
        .post_json(
            "/api-token-auth/",
            &json!({"username": "bob", "password": "correct horse"}),
        )
        .await;
    let new: Value = response.json().await.unwrap();
    assert_ne!(new["token"].as_str().unwrap(), key);
}

#[tokio::test]
async fn regenerate_rotates_the_key() {
    let app = spawn_app().await;
    let user = app.create_user("carol", "correct horse", false);
    let key = app.token_of(user.id);
    let (status, body) = status_body(
        app.post_with_token("/api/auth/token/regenerate/", &key)
            .await,
    )
    .await;
    assert_eq!(status, 200);
    let new: Value = serde_json::from_str(&body).unwrap();
    let new = new["token"].as_str().unwrap();
    assert_eq!(body, format!("{{\"token\":\"{new}\"}}"));
    assert_ne!(new, key);
    assert_eq!(
        app.get_with_token("/api/auth/me/", &key).await.status(),
        401
    );
    assert_eq!(app.get_with_token("/api/auth/me/", new).await.status(), 200);
}

#[tokio::test]
async fn parallel_regenerations_with_one_key_leave_exactly_one_working_key() {
    let app = spawn_app().await;
    let user = app.create_user("dave", "correct horse", false);
    let key = app.token_of(user.id);
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let client = app.client.clone();
        let url = app.url("/api/auth/token/regenerate/");
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            let response = client
                .post(url)
                .header("Authorization", format!("Token {key}"))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap();
            (status, body)
        }));
    }
    let mut new_keys = Vec::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            200 => new_keys.push(body["token"].as_str().unwrap().to_string()),
            401 => assert_eq!(body, json!({"detail": "Invalid token."})),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(new_keys.len(), 1, "exactly one regeneration wins");
    assert_eq!(
        app.get_with_token("/api/auth/me/", &key).await.status(),
        401
    );
    assert_eq!(
        app.get_with_token("/api/auth/me/", &new_keys[0])
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn parallel_sign_ins_of_a_user_without_a_token_get_one_key() {
    let app = spawn_app().await;
    let user = app.create_user("erin", "correct horse", false);
    app.state
        .domain
        .db
        .run(|conn| app.state.domain.tokens.revoke(conn, user.id, None, "test"))
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let client = app.client.clone();
        let url = app.url("/api-token-auth/");
        tasks.push(tokio::spawn(async move {
            let response = client
                .post(url)
                .json(&json!({"username": "erin", "password": "correct horse"}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            let body: Value = response.json().await.unwrap();
            body["token"].as_str().unwrap().to_string()
        }));
    }
    let mut keys = Vec::new();
    for task in tasks {
        keys.push(task.await.unwrap());
    }
    keys.dedup();
    assert_eq!(keys.len(), 1);
    assert_eq!(
        app.get_with_token("/api/auth/me/", &keys[0]).await.status(),
        200
    );
}

//! `POST /api/auth/register/`.

use serde_json::{Value, json};

use crate::common::{spawn_app, status_body};

#[tokio::test]
async fn register_creates_the_user_with_the_hooks_token() {
    let app = spawn_app().await;
    let (status, body) = status_body(
        app.post_json(
            "/api/auth/register/",
            &json!({"username": "alice", "password": "correct horse", "email": "Alice@Example.COM"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(keys, ["id", "username", "email", "token"]);
    assert_eq!(body["username"], "alice");
    assert_eq!(body["email"], "Alice@example.com");
    let id = authtoken::models::UserId::new(body["id"].as_i64().unwrap() as i32);
    let key = body["token"].as_str().unwrap();
    assert_eq!(key, app.token_of(id));
    let me = app.get_with_token("/api/auth/me/", key).await;
    assert_eq!(me.status(), 200);
    // Signing in gives the same key.
    let response = app
        .post_json(
            "/api-token-auth/",
            &json!({"username": "alice", "password": "correct horse"}),
        )
        .await;
    assert_eq!(
        status_body(response).await,
        (200, format!("{{\"token\":\"{key}\"}}"))
    );
}

#[tokio::test]
async fn duplicate_username() {
    let app = spawn_app().await;
    app.create_user("bob", "correct horse", false);
    let (status, body) = status_body(
        app.post_json(
            "/api/auth/register/",
            &json!({"username": "bob", "password": "another horse"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (
            400,
            r#"{"username":["A user with that username already exists."]}"#
        )
    );
}

#[tokio::test]
async fn validation_messages_are_djangos() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({"username": "bad name!", "password": "correct horse"}),
            r#"{"username":["Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."]}"#.to_string(),
        ),
        (
            json!({"username": "a".repeat(151), "password": "correct horse"}),
            r#"{"username":["Ensure this field has no more than 150 characters."]}"#.to_string(),
        ),
        (
            json!({"username": "carol", "password": "short"}),
            r#"{"password":["This password is too short. It must contain at least 8 characters."]}"#.to_string(),
        ),
        (
            json!({"username": "carol", "password": "12345678"}),
            r#"{"password":["This password is entirely numeric."]}"#.to_string(),
        ),
        (
            json!({"username": "carol", "password": "123"}),
            r#"{"password":["This password is too short. It must contain at least 8 characters.","This password is entirely numeric."]}"#.to_string(),
        ),
        (
            json!({"username": "carol", "password": "correct horse", "email": "not-an-email"}),
            r#"{"email":["Enter a valid email address."]}"#.to_string(),
        ),
        (
            json!({}),
            r#"{"username":["This field is required."],"password":["This field is required."]}"#.to_string(),
        ),
    ];
    for (body, expected) in cases {
        let (status, text) = status_body(app.post_json("/api/auth/register/", &body).await).await;
        assert_eq!((status, text), (400, expected), "{body}");
    }
    // Nothing was created.
    let all = app
        .state
        .domain
        .db
        .run(authtoken::models::users::all)
        .unwrap();
    assert!(all.is_empty());
}

#[tokio::test]
async fn unicode_usernames_are_stored_nfkc() {
    let app = spawn_app().await;
    let (status, body) = status_body(
        app.post_json(
            "/api/auth/register/",
            &json!({"username": "ﬁona", "password": "correct horse"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["username"], "fiona");
}

#[tokio::test]
async fn many_clients_registering_one_name_get_one_201() {
    let app = spawn_app().await;
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let client = app.client.clone();
        let url = app.url("/api/auth/register/");
        tasks.push(tokio::spawn(async move {
            let response = client
                .post(url)
                .json(&json!({"username": "racer", "password": "correct horse"}))
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }));
    }
    let mut created = 0;
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            201 => created += 1,
            400 => assert_eq!(
                body,
                r#"{"username":["A user with that username already exists."]}"#
            ),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(created, 1);
}

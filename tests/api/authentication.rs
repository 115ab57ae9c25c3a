//! Every row of API.md's "Authentication failures" table.

use crate::common::{spawn_app, spawn_app_with, status_body};

async fn me_with_header(app: &crate::common::TestApp, value: Option<&[u8]>) -> reqwest::Response {
    let mut request = app.client.get(app.url("/api/auth/me/"));
    if let Some(value) = value {
        request = request.header(
            "Authorization",
            reqwest::header::HeaderValue::from_bytes(value).unwrap(),
        );
    }
    request.send().await.unwrap()
}

async fn assert_401(response: reqwest::Response, keyword: &str, detail: &str) {
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers().get("www-authenticate").unwrap(),
        keyword,
        "WWW-Authenticate"
    );
    assert_eq!(
        response.headers().get("content-type").unwrap(),
        "application/json"
    );
    assert_eq!(
        response.text().await.unwrap(),
        format!("{{\"detail\":\"{detail}\"}}")
    );
}

#[tokio::test]
async fn missing_or_foreign_credentials_are_not_provided() {
    let app = spawn_app().await;
    let not_provided = "Authentication credentials were not provided.";
    assert_401(me_with_header(&app, None).await, "Token", not_provided).await;
    assert_401(me_with_header(&app, Some(b"")).await, "Token", not_provided).await;
    assert_401(
        me_with_header(&app, Some(b"Basic YWxpY2U6c2VjcmV0")).await,
        "Token",
        not_provided,
    )
    .await;
    assert_401(
        me_with_header(&app, Some(b"Bearer abc")).await,
        "Token",
        not_provided,
    )
    .await;
}

#[tokio::test]
async fn malformed_token_headers() {
    let app = spawn_app().await;
    assert_401(
        me_with_header(&app, Some(b"Token")).await,
        "Token",
        "Invalid token header. No credentials provided.",
    )
    .await;
    assert_401(
        me_with_header(&app, Some(b"Token a b")).await,
        "Token",
        "Invalid token header. Token string should not contain spaces.",
    )
    .await;
    assert_401(
        me_with_header(&app, Some(b"Token \xff\xfe")).await,
        "Token",
        "Invalid token header. Token string should not contain invalid characters.",
    )
    .await;
}

#[tokio::test]
async fn unknown_key_is_invalid() {
    let app = spawn_app().await;
    assert_401(
        me_with_header(
            &app,
            Some(b"Token 0123456789abcdef0123456789abcdef01234567"),
        )
        .await,
        "Token",
        "Invalid token.",
    )
    .await;
}

#[tokio::test]
async fn valid_key_any_case_any_whitespace() {
    let app = spawn_app().await;
    let user = app.create_user("alice", "correct horse", false);
    let key = app.token_of(user.id);
    for header in [
        format!("Token {key}"),
        format!("token {key}"),
        format!("TOKEN {key}"),
        format!("Token\t{key}"),
        format!("Token    {key}"),
    ] {
        let response = me_with_header(&app, Some(header.as_bytes())).await;
        assert_eq!(response.status(), 200, "{header:?}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["username"], "alice");
    }
}

#[tokio::test]
async fn inactive_user_is_refused() {
    let app = spawn_app().await;
    let user = app.create_user("bob", "correct horse", false);
    let key = app.token_of(user.id);
    app.state
        .domain
        .db
        .run(|conn| authtoken::models::users::set_active(conn, user.id, false))
        .unwrap();
    assert_401(
        app.get_with_token("/api/auth/me/", &key).await,
        "Token",
        "User inactive or deleted.",
    )
    .await;
}

#[tokio::test]
async fn configured_keyword() {
    let app = spawn_app_with(&[("TOKEN_KEYWORD", "Bearer")]).await;
    let user = app.create_user("carol", "correct horse", false);
    let key = app.token_of(user.id);
    let ok = me_with_header(&app, Some(format!("bearer {key}").as_bytes())).await;
    assert_eq!(ok.status(), 200);
    assert_401(
        me_with_header(&app, Some(format!("Token {key}").as_bytes())).await,
        "Bearer",
        "Authentication credentials were not provided.",
    )
    .await;
    assert_401(
        me_with_header(&app, Some(b"Bearer")).await,
        "Bearer",
        "Invalid token header. No credentials provided.",
    )
    .await;
}

#[tokio::test]
async fn expired_key_is_refused_and_replaced_on_sign_in() {
    let app = spawn_app_with(&[("TOKEN_TTL", "1s")]).await;
    let user = app.create_user("dave", "correct horse", false);
    let key = app.token_of(user.id);
    assert_eq!(
        app.get_with_token("/api/auth/me/", &key).await.status(),
        200
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_401(
        app.get_with_token("/api/auth/me/", &key).await,
        "Token",
        "Token has expired.",
    )
    .await;
    let (status, body) = status_body(
        app.post_json(
            "/api-token-auth/",
            &serde_json::json!({"username": "dave", "password": "correct horse"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    let new_key = serde_json::from_str::<serde_json::Value>(&body).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_key, key);
    assert_eq!(
        app.get_with_token("/api/auth/me/", &new_key).await.status(),
        200
    );
}

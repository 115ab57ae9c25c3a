//! 405 with `Allow`, and authentication before the method check.

use crate::common::{spawn_app, status_body};

#[tokio::test]
async fn wrong_methods_get_405_with_allow() {
    let app = spawn_app().await;
    for path in [
        "/api-token-auth/",
        "/api/auth/login/",
        "/api/auth/register/",
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.headers().get("allow").unwrap(), "POST, OPTIONS");
        assert_eq!(
            status_body(response).await,
            (405, r#"{"detail":"Method \"GET\" not allowed."}"#.into())
        );
        let response = app.client.put(app.url(path)).send().await.unwrap();
        assert_eq!(
            status_body(response).await,
            (405, r#"{"detail":"Method \"PUT\" not allowed."}"#.into())
        );
    }
}

#[tokio::test]
async fn protected_endpoints_authenticate_before_the_method_check() {
    let app = spawn_app().await;
    let user = app.create_user("alice", "correct horse", false);
    let key = app.token_of(user.id);
    let anonymous = app
        .client
        .post(app.url("/api/auth/me/"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let response = app
        .client
        .post(app.url("/api/auth/me/"))
        .header("Authorization", format!("Token {key}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers().get("allow").unwrap(),
        "GET, HEAD, OPTIONS"
    );
    assert_eq!(
        status_body(response).await,
        (405, r#"{"detail":"Method \"POST\" not allowed."}"#.into())
    );
    for path in ["/api/auth/logout/", "/api/auth/token/regenerate/"] {
        let anonymous = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(anonymous.status(), 401);
        let response = app.get_with_token(path, &key).await;
        assert_eq!(response.headers().get("allow").unwrap(), "POST, OPTIONS");
        assert_eq!(
            status_body(response).await,
            (405, r#"{"detail":"Method \"GET\" not allowed."}"#.into())
        );
    }
}

#[tokio::test]
async fn every_answer_carries_allow_like_drf() {
    let app = spawn_app().await;
    let response = app
        .post_json("/api-token-auth/", &serde_json::json!({}))
        .await;
    assert_eq!(response.status(), 400);
    assert_eq!(response.headers().get("allow").unwrap(), "POST, OPTIONS");
    let response = app
        .client
        .get(app.url("/api/auth/me/"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers().get("allow").unwrap(),
        "GET, HEAD, OPTIONS"
    );
}

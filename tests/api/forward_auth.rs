//! `GET`/`HEAD /api/auth/verify/`: forward authentication for other services.

use serde_json::json;

use crate::common::{TestApp, spawn_app, status_body};

async fn verify(app: &TestApp, query: &str, key: Option<&str>) -> reqwest::Response {
    let mut request = app
        .client
        .get(app.url(&format!("/api/auth/verify/{query}")));
    if let Some(key) = key {
        request = request.header("Authorization", format!("Token {key}"));
    }
    request.send().await.unwrap()
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("{name} missing"))
        .to_str()
        .unwrap()
}

#[tokio::test]
async fn a_good_key_answers_who_it_is_in_headers() {
    let app = spawn_app().await;
    let staff = app.create_user("admin", "correct horse", true);
    let staff_key = app.token_of(staff.id);
    let response = verify(&app, "", Some(&staff_key)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "x-auth-username"), "admin");
    assert_eq!(header(&response, "x-auth-is-staff"), "true");

    let registered = app
        .post_json(
            "/api/auth/register/",
            &json!({"username": "zoë_ß", "password": "correct horse"}),
        )
        .await;
    assert_eq!(registered.status(), 201);
    let body: serde_json::Value = registered.json().await.unwrap();
    let key = body["token"].as_str().unwrap().to_string();
    let user = app
        .state
        .domain
        .db
        .run(|c| authtoken::models::users::find_by_username(c, "zoë_ß"))
        .unwrap()
        .unwrap();
    let response = verify(&app, "", Some(&key)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "x-auth-user-id"), user.id.to_string());
    assert_eq!(header(&response, "x-auth-username"), "zo%C3%AB_%C3%9F");
    assert_eq!(header(&response, "x-auth-is-staff"), "false");
    assert_eq!(header(&response, "x-auth-token-id"), "primary");
    assert_eq!(header(&response, "x-auth-scopes"), "*");
    assert_eq!(header(&response, "allow"), "GET, HEAD, OPTIONS");
    assert_eq!(response.text().await.unwrap(), "");

    let head = app
        .client
        .head(app.url("/api/auth/verify/"))
        .header("Authorization", format!("Token {key}"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(header(&head, "x-auth-username"), "zo%C3%AB_%C3%9F");
    assert_eq!(head.text().await.unwrap(), "");

    // It counts as a use of the key.
    assert!(app.last_used_eventually(user.id).await.is_some());
}

#[tokio::test]
async fn a_bad_key_gets_the_same_401_as_every_protected_endpoint() {
    let app = spawn_app().await;
    let user = app.create_user("alice", "correct horse", false);
    let key = app.token_of(user.id);
    for (presented, detail) in [
        (None, "Authentication credentials were not provided."),
        (Some("0".repeat(40)), "Invalid token."),
    ] {
        let response = verify(&app, "", presented.as_deref()).await;
        assert_eq!(header(&response, "www-authenticate"), "Token");
        let (status, body) = status_body(response).await;
        assert_eq!(
            (status, body),
            (401, json!({ "detail": detail }).to_string())
        );
    }
    app.state
        .domain
        .db
        .run(|c| authtoken::models::users::set_active(c, user.id, false))
        .unwrap();
    let (status, body) = status_body(verify(&app, "", Some(&key)).await).await;
    assert_eq!(
        (status, body),
        (401, r#"{"detail":"User inactive or deleted."}"#.to_string())
    );
}

#[tokio::test]
async fn scopes_must_all_be_held() {
    let app = spawn_app().await;
    let user = app.create_user("bob", "correct horse", false);
    let key = app.token_of(user.id);
    // The DRF token holds every scope.
    for query in [
        "?scopes=orders:read",
        "?scopes=orders:read,orders:write",
        "?scopes=",
    ] {
        assert_eq!(
            verify(&app, query, Some(&key)).await.status(),
            200,
            "{query}"
        );
    }
    // A name that is not a valid scope is never held.
    for query in ["?scopes=Orders", "?scopes=orders:read,a%20b", "?scopes=*"] {
        let (status, body) = status_body(verify(&app, query, Some(&key)).await).await;
        assert_eq!(
            (status, body),
            (
                403,
                r#"{"detail":"You do not have permission to perform this action."}"#.to_string()
            ),
            "{query}"
        );
    }
    // Authentication comes first.
    assert_eq!(verify(&app, "?scopes=Orders", None).await.status(), 401);
}

#[tokio::test]
async fn other_methods_get_405_after_authentication() {
    let app = spawn_app().await;
    let user = app.create_user("carol", "correct horse", false);
    let key = app.token_of(user.id);
    let (status, body) = status_body(app.post_with_token("/api/auth/verify/", &key).await).await;
    assert_eq!(
        (status, body),
        (
            405,
            r#"{"detail":"Method \"POST\" not allowed."}"#.to_string()
        )
    );
    let anonymous = app
        .client
        .post(app.url("/api/auth/verify/"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

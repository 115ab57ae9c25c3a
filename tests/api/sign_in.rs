//! `POST /api-token-auth/` and `POST /api/auth/login/`.

use serde_json::{Value, json};

use crate::common::{spawn_app, status_body};

const BAD: &str = r#"{"non_field_errors":["Unable to log in with provided credentials."]}"#;

async fn token_from(response: reqwest::Response) -> String {
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers().get("content-type").unwrap(),
        "application/json"
    );
    let body: Value = response.json().await.unwrap();
    body["token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn obtain_returns_the_users_token_and_the_same_again() {
    let app = spawn_app().await;
    let user = app.create_user("alice", "correct horse", false);
    let creds = json!({"username": "alice", "password": "correct horse"});
    let first = token_from(app.post_json("/api-token-auth/", &creds).await).await;
    assert_eq!(first.len(), 40);
    assert!(
        first
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    // The token the post-insert hook created at sign-up.
    assert_eq!(first, app.token_of(user.id));
    let second = token_from(app.post_json("/api-token-auth/", &creds).await).await;
    assert_eq!(first, second);
    let response = app.post_json("/api-token-auth/", &creds).await;
    let body = response.text().await.unwrap();
    assert_eq!(body, format!("{{\"token\":\"{first}\"}}"));
}

#[tokio::test]
async fn login_returns_the_user_too_and_records_last_login() {
    let app = spawn_app().await;
    let user = app.create_user("bob", "correct horse", false);
    assert!(user.last_login.is_none());
    let response = app
        .post_json(
            "/api/auth/login/",
            &json!({"username": "bob", "password": "correct horse"}),
        )
        .await;
    let (status, body) = status_body(response).await;
    assert_eq!(status, 200);
    let key = app.token_of(user.id);
    assert_eq!(
        body,
        format!(
            "{{\"token\":\"{key}\",\"user_id\":{},\"username\":\"bob\",\"email\":\"bob@example.com\"}}",
            user.id
        )
    );
    let after = app
        .state
        .domain
        .db
        .run(|conn| authtoken::models::users::find_by_id(conn, user.id))
        .unwrap()
        .unwrap();
    assert!(after.last_login.is_some());
}

#[tokio::test]
async fn wrong_password_unknown_and_inactive_users_get_one_answer() {
    let app = spawn_app().await;
    let user = app.create_user("carol", "correct horse", false);
    let inactive = app.create_user("dan", "correct horse", false);
    app.state
        .domain
        .db
        .run(|conn| authtoken::models::users::set_active(conn, inactive.id, false))
        .unwrap();
    for (path, creds) in [
        (
            "/api-token-auth/",
            json!({"username": "carol", "password": "wrong password"}),
        ),
        (
            "/api-token-auth/",
            json!({"username": "nobody", "password": "correct horse"}),
        ),
        (
            "/api-token-auth/",
            json!({"username": "dan", "password": "correct horse"}),
        ),
        (
            "/api-token-auth/",
            json!({"username": "CAROL", "password": "correct horse"}),
        ),
        (
            "/api/auth/login/",
            json!({"username": "carol", "password": "correct horse "}),
        ),
    ] {
        let (status, body) = status_body(app.post_json(path, &creds).await).await;
        assert_eq!((status, body.as_str()), (400, BAD), "{creds}");
    }
    // Nothing changed for carol.
    let _ = user;
}

#[tokio::test]
async fn unknown_user_costs_exactly_one_password_verification() {
    let app = spawn_app().await;
    app.create_user("erin", "correct horse", false);
    let before = app.state.domain.hasher.verifications();
    let (status, _) = status_body(
        app.post_json(
            "/api-token-auth/",
            &json!({"username": "ghost", "password": "whatever"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(app.state.domain.hasher.verifications() - before, 1);
    let before = app.state.domain.hasher.verifications();
    let (status, _) = status_body(
        app.post_json(
            "/api-token-auth/",
            &json!({"username": "erin", "password": "correct horse"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(app.state.domain.hasher.verifications() - before, 1);
}

#[tokio::test]
async fn field_errors_in_drf_shape() {
    let app = spawn_app().await;
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({}),
            r#"{"username":["This field is required."],"password":["This field is required."]}"#,
        ),
        (
            json!({"username": "alice"}),
            r#"{"password":["This field is required."]}"#,
        ),
        (
            json!({"username": "", "password": ""}),
            r#"{"username":["This field may not be blank."],"password":["This field may not be blank."]}"#,
        ),
        (
            json!({"username": "   ", "password": "x"}),
            r#"{"username":["This field may not be blank."]}"#,
        ),
        (
            json!({"username": null, "password": "x"}),
            r#"{"username":["This field may not be null."]}"#,
        ),
        (
            json!({"username": "a\u{0}b", "password": "x"}),
            r#"{"username":["Null characters are not allowed."]}"#,
        ),
        (
            json!(["username", "password"]),
            r#"{"non_field_errors":["Invalid data. Expected a dictionary, but got list."]}"#,
        ),
        (
            json!("text"),
            r#"{"non_field_errors":["Invalid data. Expected a dictionary, but got str."]}"#,
        ),
        (
            json!(42),
            r#"{"non_field_errors":["Invalid data. Expected a dictionary, but got int."]}"#,
        ),
        (Value::Null, r#"{"non_field_errors":["No data provided"]}"#),
    ];
    for (body, expected) in cases {
        let (status, text) = status_body(app.post_json("/api-token-auth/", &body).await).await;
        assert_eq!((status, text.as_str()), (400, expected), "{body}");
    }
}

#[tokio::test]
async fn username_is_trimmed_password_is_not() {
    let app = spawn_app().await;
    app.create_user("frank", " spaced password ", false);
    let (status, _) = status_body(
        app.post_json(
            "/api-token-auth/",
            &json!({"username": "  frank\t", "password": " spaced password "}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = status_body(
        app.post_json(
            "/api-token-auth/",
            &json!({"username": "frank", "password": "spaced password"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn malformed_json_is_a_parse_error() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api-token-auth/"))
        .header("Content-Type", "application/json")
        .body("{\"username\": ")
        .send()
        .await
        .unwrap();
    let (status, body) = status_body(response).await;
    assert_eq!(status, 400);
    assert!(
        body.starts_with("{\"detail\":\"JSON parse error - "),
        "{body}"
    );
}

#[tokio::test]
async fn deeply_nested_json_is_a_400_not_a_crash() {
    let app = spawn_app().await;
    let body = "[".repeat(60_000);
    let response = app
        .client
        .post(app.url("/api-token-auth/"))
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let (status, text) = status_body(response).await;
    assert_eq!(status, 400);
    assert!(
        text.starts_with("{\"detail\":\"JSON parse error - "),
        "{text}"
    );
    assert_eq!(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

fn stored_hash(app: &crate::common::TestApp, id: authtoken::models::UserId) -> String {
    app.state
        .domain
        .db
        .run(|conn| authtoken::models::users::find_by_id(conn, id))
        .unwrap()
        .expect("the user")
        .password_hash
}

#[tokio::test]
async fn a_hash_of_another_cost_is_replaced_at_sign_in_a_wrong_password_changes_nothing() {
    // Users are created with bcrypt at cost 4; the server hashes at 5.
    let app = crate::common::spawn_app_with(&[("BCRYPT_COST", "5")]).await;
    let user = app.create_user("alice", "right password", false);
    let old = stored_hash(&app, user.id);
    assert!(old.starts_with("$2b$04$"));
    let wrong = json!({"username": "alice", "password": "wrong password"});
    let (status, _) = status_body(app.post_json("/api-token-auth/", &wrong).await).await;
    assert_eq!(status, 400);
    assert_eq!(
        stored_hash(&app, user.id),
        old,
        "a wrong password changes nothing"
    );
    let right = json!({"username": "alice", "password": "right password"});
    let key = token_from(app.post_json("/api-token-auth/", &right).await).await;
    let new = stored_hash(&app, user.id);
    assert!(new.starts_with("$2b$05$"), "upgraded to BCRYPT_COST");
    // The password still works, against the new hash, and the key is kept.
    assert_eq!(
        token_from(app.post_json("/api-token-auth/", &right).await).await,
        key
    );
    assert_eq!(stored_hash(&app, user.id), new, "upgraded once");
}

#[tokio::test]
async fn a_django_hash_is_replaced_by_bcrypt_at_the_first_sign_in() {
    let app = spawn_app().await;
    let user = app.create_user("bob", "placeholder", false);
    // Django's md5 hasher: md5$<salt>$<hex md5(salt + password)>.
    let django = "md5$salt$2c2a010fa8d3e3b9ac6d96093c5b415c";
    app.state
        .domain
        .db
        .run(|conn| authtoken::models::users::set_password_hash(conn, user.id, django))
        .unwrap();
    let body = json!({"username": "bob", "password": "django password"});
    let (status, text) = status_body(app.post_json("/api-token-auth/", &body).await).await;
    assert_eq!(status, 200, "{text}");
    assert!(stored_hash(&app, user.id).starts_with("$2b$04$"));
    let (status, _) = status_body(app.post_json("/api-token-auth/", &body).await).await;
    assert_eq!(status, 200, "the old password still works");
}

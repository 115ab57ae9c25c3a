//! Named tokens: `POST`/`GET /api/auth/tokens/`, `DELETE
//! /api/auth/tokens/<id>/`, their scopes, expiry, limit and events, and
//! what logout, regenerate and verify do with them.

use authtoken::models::events::{self, EventKind};
use authtoken::models::{TokenRow, UserId};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::common::{TestApp, spawn_app, spawn_app_with, status_body};

const FORBIDDEN: &str = r#"{"detail":"You do not have permission to perform this action."}"#;

async fn create(app: &TestApp, key: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/auth/tokens/"))
        .header("Authorization", format!("Token {key}"))
        .json(body)
        .send()
        .await
        .unwrap()
}

/// Creates a named token that must succeed; its JSON answer.
async fn created(app: &TestApp, key: &str, body: Value) -> Value {
    let (status, text) = status_body(create(app, key, &body).await).await;
    assert_eq!(status, 201, "{body} → {text}");
    serde_json::from_str(&text).unwrap()
}

async fn list(app: &TestApp, key: &str) -> (u16, String) {
    status_body(app.get_with_token("/api/auth/tokens/", key).await).await
}

async fn delete(app: &TestApp, key: &str, id: &str) -> (u16, String) {
    let response = app
        .client
        .delete(app.url(&format!("/api/auth/tokens/{id}/")))
        .header("Authorization", format!("Token {key}"))
        .send()
        .await
        .unwrap();
    status_body(response).await
}

fn named_rows(app: &TestApp, user: UserId) -> Vec<TokenRow> {
    let domain = &app.state.domain;
    domain
        .db
        .run(|conn| domain.tokens.list_named(conn, user))
        .unwrap()
}

/// Moves a token's expiry into the past, as time passing would.
fn expire(app: &TestApp, id: i64) {
    use authtoken::schema::tokens::dsl;
    let past = chrono::Utc::now().naive_utc() - chrono::TimeDelta::seconds(5);
    app.state
        .domain
        .db
        .run(|conn| {
            diesel::update(dsl::tokens.filter(dsl::id.eq(id as i32)))
                .set(dsl::expires.eq(Some(past)))
                .execute(conn)
                .map_err(authtoken::db::DbError::from)
        })
        .unwrap();
}

#[tokio::test]
async fn a_named_token_is_shown_once_listed_without_its_key_and_deleted() {
    let app = spawn_app().await;
    let user = app.create_user("alice", "correct horse", false);
    let drf = app.token_of(user.id);
    let made = created(
        &app,
        &drf,
        json!({"name": "ci", "scopes": ["orders:write", "orders:read"], "expires_in": 86400}),
    )
    .await;
    let fields: Vec<&str> = made
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        [
            "id", "name", "token", "prefix", "scopes", "created", "expires"
        ]
    );
    let key = made["token"].as_str().unwrap().to_string();
    assert_eq!(key.len(), 40);
    assert_ne!(key, drf);
    assert_eq!(made["name"], "ci");
    assert_eq!(made["prefix"], &key[..8]);
    assert_eq!(made["scopes"], json!(["orders:read", "orders:write"]));
    let created_at =
        chrono::DateTime::parse_from_rfc3339(made["created"].as_str().unwrap()).unwrap();
    let expires_at =
        chrono::DateTime::parse_from_rfc3339(made["expires"].as_str().unwrap()).unwrap();
    assert_eq!((expires_at - created_at).num_seconds(), 86400);

    // The key works like any other, and the DRF key still does.
    let (status, body) = status_body(app.get_with_token("/api/auth/me/", &key).await).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"username\":\"alice\""));
    assert_eq!(
        app.get_with_token("/api/auth/me/", &drf).await.status(),
        200
    );

    // Listed, never with its key; nothing at rest is the key.
    let (status, text) = list(&app, &drf).await;
    assert_eq!(status, 200);
    assert!(!text.contains(&key), "{text}");
    let listed: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let item = &listed[0];
    let fields: Vec<&str> = item
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        [
            "id",
            "name",
            "prefix",
            "scopes",
            "created",
            "last_used",
            "expires"
        ]
    );
    assert_eq!(item["id"], made["id"]);
    assert_eq!(item["prefix"], made["prefix"]);
    let rows = named_rows(&app, user.id);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].digest, authtoken::models::Digest::of(&key));
    assert!(!rows[0].sealed.contains(&key));
    assert!(!rows[0].digest.as_str().contains(&key));

    // Deleted: the key is refused from then on; the DRF key is untouched.
    let id = made["id"].to_string();
    assert_eq!(delete(&app, &drf, &id).await, (204, String::new()));
    let (status, body) = status_body(app.get_with_token("/api/auth/me/", &key).await).await;
    assert_eq!(
        (status, body.as_str()),
        (401, r#"{"detail":"Invalid token."}"#)
    );
    assert_eq!(list(&app, &drf).await, (200, "[]".to_string()));
    assert_eq!(
        delete(&app, &drf, &id).await,
        (404, r#"{"detail":"Not found."}"#.to_string())
    );
    assert_eq!(
        app.get_with_token("/api/auth/me/", &drf).await.status(),
        200
    );

    // Created and revoked, as token events naming the token.
    let domain = &app.state.domain;
    let history = domain
        .db
        .run(|conn| events::for_user(conn, user.id, 10))
        .unwrap();
    let named: Vec<(EventKind, Option<&str>, &str)> = history
        .iter()
        .filter(|e| e.token_name.is_some())
        .map(|e| (e.kind, e.token_name.as_deref(), e.actor.as_str()))
        .collect();
    assert_eq!(
        named,
        [
            (EventKind::Revoked, Some("ci"), "alice"),
            (EventKind::Created, Some("ci"), "alice")
        ]
    );
}

#[tokio::test]
async fn newest_first_and_only_the_callers_own() {
    let app = spawn_app().await;
    let alice = app.create_user("alice", "correct horse", false);
    let bob = app.create_user("bob", "correct horse", false);
    let (alice_key, bob_key) = (app.token_of(alice.id), app.token_of(bob.id));
    for name in ["one", "two", "three"] {
        created(&app, &alice_key, json!({ "name": name })).await;
    }
    let bobs = created(&app, &bob_key, json!({"name": "one"})).await;
    let (_, text) = list(&app, &alice_key).await;
    let names: Vec<String> = serde_json::from_str::<Vec<Value>>(&text)
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["three", "two", "one"]);
    // Bob's token is not Alice's to see or delete.
    let bob_id = bobs["id"].to_string();
    assert_eq!(delete(&app, &alice_key, &bob_id).await.0, 404);
    assert_eq!(named_rows(&app, bob.id).len(), 1);
    assert_eq!(
        app.get_with_token("/api/auth/me/", bobs["token"].as_str().unwrap())
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn scopes_can_never_be_widened() {
    let app = spawn_app().await;
    let user = app.create_user("alice", "correct horse", false);
    let drf = app.token_of(user.id);
    let reader = created(
        &app,
        &drf,
        json!({"name": "reader", "scopes": ["orders:read"]}),
    )
    .await;
    let reader_key = reader["token"].as_str().unwrap();
    let manager = created(
        &app,
        &drf,
        json!({"name": "manager", "scopes": ["tokens", "orders:read"]}),
    )
    .await;
    let manager_key = manager["token"].as_str().unwrap();

    // Without `tokens`: no creating, listing or deleting, whatever is asked.
    for body in [
        json!({"name": "x"}),
        json!({"name": "x", "scopes": ["orders:read"]}),
        json!({}),
    ] {
        let (status, text) = status_body(create(&app, reader_key, &body).await).await;
        assert_eq!((status, text.as_str()), (403, FORBIDDEN), "{body}");
    }
    assert_eq!(list(&app, reader_key).await, (403, FORBIDDEN.to_string()));
    let manager_id = manager["id"].to_string();
    assert_eq!(
        delete(&app, reader_key, &manager_id).await,
        (403, FORBIDDEN.to_string())
    );

    // With `tokens`: only scopes it holds itself.
    for scopes in [
        json!(["orders:write"]),
        json!(["orders:read", "admin"]),
        json!(["orders"]),
    ] {
        let body = json!({"name": "wider", "scopes": scopes});
        let (status, text) = status_body(create(&app, manager_key, &body).await).await;
        assert_eq!((status, text.as_str()), (403, FORBIDDEN), "{body}");
    }
    assert_eq!(named_rows(&app, user.id).len(), 2, "nothing was written");
    let narrower = created(
        &app,
        manager_key,
        json!({"name": "narrower", "scopes": ["orders:read"]}),
    )
    .await;
    created(&app, manager_key, json!({"name": "bare"})).await;
    created(
        &app,
        manager_key,
        json!({"name": "heir", "scopes": ["tokens"]}),
    )
    .await;
    // And the narrower one cannot manage tokens in turn.
    let narrower_key = narrower["token"].as_str().unwrap();
    assert_eq!(list(&app, narrower_key).await.0, 403);
    assert_eq!(list(&app, manager_key).await.0, 200);
    // The DRF token holds every scope.
    created(
        &app,
        &drf,
        json!({"name": "anything", "scopes": ["billing:admin"]}),
    )
    .await;
}

#[tokio::test]
async fn bad_input_is_a_400_in_drfs_shape_and_writes_nothing() {
    let app = spawn_app().await;
    let user = app.create_user("alice", "correct horse", false);
    let drf = app.token_of(user.id);
    let many: Vec<String> = (0..33).map(|i| format!("s{i}")).collect();
    let cases: Vec<(Value, &str)> = vec![
        (json!({}), r#"{"name":["This field is required."]}"#),
        (json!({"name": ""}), r#"{"name":["This field may not be blank."]}"#),
        (json!({"name": "   "}), r#"{"name":["This field may not be blank."]}"#),
        (json!({"name": null}), r#"{"name":["This field may not be null."]}"#),
        (json!({"name": 5}), r#"{"name":["Not a valid string."]}"#),
        (json!({"name": ["a"]}), r#"{"name":["Not a valid string."]}"#),
        (json!({"name": "a\u{0}b"}), r#"{"name":["Null characters are not allowed."]}"#),
        (
            json!({"name": "x".repeat(101)}),
            r#"{"name":["Ensure this field has no more than 100 characters."]}"#,
        ),
        (
            json!({"name": "a", "scopes": "orders"}),
            r#"{"scopes":["Expected a list of items but got type \"str\"."]}"#,
        ),
        (
            json!({"name": "a", "scopes": {"a": 1}}),
            r#"{"scopes":["Expected a list of items but got type \"dict\"."]}"#,
        ),
        (json!({"name": "a", "scopes": null}), r#"{"scopes":["This field may not be null."]}"#),
        (json!({"name": "a", "scopes": [1]}), r#"{"scopes":["Not a valid string."]}"#),
        (
            json!({"name": "a", "scopes": ["Orders", "ok", "Orders"]}),
            r#"{"scopes":["\"Orders\" is not a valid scope: 1 to 64 characters of a-z 0-9 _ . : -."]}"#,
        ),
        (
            json!({"name": "a", "scopes": ["x".repeat(65)]}),
            &*Box::leak(
                format!(
                    r#"{{"scopes":["\"{}\" is not a valid scope: 1 to 64 characters of a-z 0-9 _ . : -."]}}"#,
                    "x".repeat(65)
                )
                .into_boxed_str(),
            ),
        ),
        (
            json!({"name": "a", "scopes": many}),
            r#"{"scopes":["Ensure this field has no more than 32 elements."]}"#,
        ),
        (
            json!({"name": "a", "expires_in": 0}),
            r#"{"expires_in":["Ensure this value is greater than or equal to 1."]}"#,
        ),
        (
            json!({"name": "a", "expires_in": -86400}),
            r#"{"expires_in":["Ensure this value is greater than or equal to 1."]}"#,
        ),
        (
            json!({"name": "a", "expires_in": 315_360_001}),
            r#"{"expires_in":["Ensure this value is less than or equal to 315360000."]}"#,
        ),
        (
            json!({"name": "a", "expires_in": 1e30}),
            r#"{"expires_in":["Ensure this value is less than or equal to 315360000."]}"#,
        ),
        (json!({"name": "a", "expires_in": "60"}), r#"{"expires_in":["A valid integer is required."]}"#),
        (json!({"name": "a", "expires_in": 1.5}), r#"{"expires_in":["A valid integer is required."]}"#),
        (json!({"name": "a", "expires_in": true}), r#"{"expires_in":["A valid integer is required."]}"#),
        (json!({"name": "a", "owner": "bob"}), r#"{"owner":["Unknown field."]}"#),
        (
            json!({"name": "", "expires_in": 0, "zzz": 1, "aaa": 2}),
            r#"{"name":["This field may not be blank."],"expires_in":["Ensure this value is greater than or equal to 1."],"zzz":["Unknown field."],"aaa":["Unknown field."]}"#,
        ),
        (json!([]), r#"{"non_field_errors":["Invalid data. Expected a dictionary, but got list."]}"#),
        (json!(null), r#"{"non_field_errors":["No data provided"]}"#),
    ];
    for (body, expected) in cases {
        let (status, text) = status_body(create(&app, &drf, &body).await).await;
        assert_eq!((status, text.as_str()), (400, expected), "{body}");
    }
    assert!(named_rows(&app, user.id).is_empty());

    // Ids that are not integers; integers no token has.
    let not_int = r#"{"id":["A valid integer is required."]}"#.to_string();
    for id in ["abc", "1.5", "1e3", "0x1"] {
        assert_eq!(delete(&app, &drf, id).await, (400, not_int.clone()), "{id}");
    }
    for id in ["0", "-1", "99999999999", "2147483647"] {
        assert_eq!(delete(&app, &drf, id).await.0, 404, "{id}");
    }

    // Well-formed edge values are accepted.
    let edge = created(
        &app,
        &drf,
        json!({"name": format!("  {}  ", "é".repeat(100)), "scopes": [], "expires_in": 315_360_000}),
    )
    .await;
    assert_eq!(edge["name"], "é".repeat(100));
    assert_eq!(edge["scopes"], json!([]));
    let never = created(&app, &drf, json!({"name": "never", "expires_in": null})).await;
    assert_eq!(never["expires"], Value::Null);
    let whole = created(&app, &drf, json!({"name": "whole", "expires_in": 60.0})).await;
    assert!(whole["expires"].is_string());
}

#[tokio::test]
async fn a_form_body_is_read_too() {
    let app = spawn_app().await;
    let user = app.create_user("alice", "correct horse", false);
    let drf = app.token_of(user.id);
    let response = app
        .client
        .post(app.url("/api/auth/tokens/"))
        .header("Authorization", format!("Token {drf}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("name=deploy&scopes=b&scopes=a&expires_in=")
        .send()
        .await
        .unwrap();
    let (status, text) = status_body(response).await;
    assert_eq!(status, 201, "{text}");
    let made: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(made["scopes"], json!(["a", "b"]));
    assert_eq!(made["expires"], Value::Null);
}

#[tokio::test]
async fn names_are_unique_per_user() {
    let app = spawn_app().await;
    let alice = app.create_user("alice", "correct horse", false);
    let bob = app.create_user("bob", "correct horse", false);
    let alice_key = app.token_of(alice.id);
    let first = created(&app, &alice_key, json!({"name": "laptop"})).await;
    let (status, text) =
        status_body(create(&app, &alice_key, &json!({"name": " laptop "})).await).await;
    assert_eq!(
        (status, text.as_str()),
        (
            400,
            r#"{"name":["A token with that name already exists."]}"#
        )
    );
    assert_eq!(named_rows(&app, alice.id).len(), 1);
    created(&app, &app.token_of(bob.id), json!({"name": "laptop"})).await;
    // Free again once deleted.
    assert_eq!(
        delete(&app, &alice_key, &first["id"].to_string()).await.0,
        204
    );
    created(&app, &alice_key, json!({"name": "laptop"})).await;
}

#[tokio::test]
async fn the_limit_counts_unexpired_tokens_and_holds_under_races() {
    let app = spawn_app_with(&[("TOKEN_LIMIT_PER_USER", "3")]).await;
    let user = app.create_user("alice", "correct horse", false);
    let drf = app.token_of(user.id);
    let limit = r#"{"non_field_errors":["Token limit reached."]}"#;
    let attempts = (0..10).map(|i| {
        let (app, drf) = (&app, &drf);
        async move { status_body(create(app, drf, &json!({ "name": format!("t{i}") })).await).await }
    });
    let results = futures_util::future::join_all(attempts).await;
    let ok = results.iter().filter(|(s, _)| *s == 201).count();
    let refused: Vec<_> = results.iter().filter(|(s, _)| *s != 201).collect();
    assert_eq!(ok, 3, "{results:?}");
    assert!(
        refused.iter().all(|(s, t)| *s == 400 && t == limit),
        "{refused:?}"
    );
    assert_eq!(named_rows(&app, user.id).len(), 3);

    // An expired token no longer counts.
    let oldest = named_rows(&app, user.id).last().unwrap().id;
    expire(&app, i64::from(oldest.get()));
    created(&app, &drf, json!({"name": "after"})).await;
    let (status, text) = status_body(create(&app, &drf, &json!({"name": "more"})).await).await;
    assert_eq!((status, text.as_str()), (400, limit));
}

#[tokio::test]
async fn an_expired_named_token_is_refused_whatever_token_ttl_says() {
    let app = spawn_app().await;
    let user = app.create_user("alice", "correct horse", false);
    let drf = app.token_of(user.id);
    let made = created(&app, &drf, json!({"name": "short", "expires_in": 3600})).await;
    let key = made["token"].as_str().unwrap();
    assert_eq!(app.get_with_token("/api/auth/me/", key).await.status(), 200);
    expire(&app, made["id"].as_i64().unwrap());
    let response = app.get_with_token("/api/auth/me/", key).await;
    assert_eq!(response.headers()["www-authenticate"], "Token");
    let (status, body) = status_body(response).await;
    assert_eq!(
        (status, body.as_str()),
        (401, r#"{"detail":"Token has expired."}"#)
    );
    // No TOKEN_TTL: the DRF token has no end.
    assert_eq!(
        app.get_with_token("/api/auth/me/", &drf).await.status(),
        200
    );

    // TOKEN_TTL is the DRF token's alone: a named token without expiry lives on.
    let app = spawn_app_with(&[("TOKEN_TTL", "1h")]).await;
    let user = app.create_user("bob", "correct horse", false);
    let drf = app.token_of(user.id);
    let forever = created(&app, &drf, json!({"name": "forever"})).await;
    assert_eq!(forever["expires"], Value::Null);
    assert_eq!(
        app.get_with_token("/api/auth/me/", forever["token"].as_str().unwrap())
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn logout_and_regenerate_act_on_the_presented_named_token() {
    let app = spawn_app().await;
    let user = app.create_user("alice", "correct horse", false);
    let drf = app.token_of(user.id);
    let a = created(
        &app,
        &drf,
        json!({"name": "a", "scopes": ["x"], "expires_in": 3600}),
    )
    .await;
    let b = created(&app, &drf, json!({"name": "b"})).await;
    let (a_key, b_key) = (a["token"].as_str().unwrap(), b["token"].as_str().unwrap());

    let (status, text) = status_body(
        app.post_with_token("/api/auth/token/regenerate/", a_key)
            .await,
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let new_key = serde_json::from_str::<Value>(&text).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_key, a_key);
    assert_eq!(
        app.get_with_token("/api/auth/me/", a_key).await.status(),
        401
    );
    assert_eq!(
        app.get_with_token("/api/auth/me/", &new_key).await.status(),
        200
    );
    assert_eq!(
        app.get_with_token("/api/auth/me/", &drf).await.status(),
        200,
        "the DRF key is untouched"
    );
    let rows = named_rows(&app, user.id);
    let rotated = rows
        .iter()
        .find(|r| r.name.as_deref() == Some("a"))
        .unwrap();
    assert_eq!(i64::from(rotated.id.get()), a["id"].as_i64().unwrap());
    assert_eq!(rotated.scopes.iter().collect::<Vec<_>>(), ["x"]);
    let expires = chrono::DateTime::parse_from_rfc3339(a["expires"].as_str().unwrap()).unwrap();
    assert_eq!(
        rotated.expires.unwrap().and_utc().timestamp(),
        expires.timestamp()
    );
    assert_eq!(rotated.prefix, new_key[..8]);

    assert_eq!(
        app.post_with_token("/api/auth/logout/", b_key)
            .await
            .status(),
        204
    );
    assert_eq!(
        app.get_with_token("/api/auth/me/", b_key).await.status(),
        401
    );
    assert_eq!(
        app.get_with_token("/api/auth/me/", &new_key).await.status(),
        200
    );
    assert_eq!(
        app.get_with_token("/api/auth/me/", &drf).await.status(),
        200
    );
    let names: Vec<_> = named_rows(&app, user.id)
        .into_iter()
        .filter_map(|r| r.name)
        .collect();
    assert_eq!(names, ["a"]);
    // A second logout with the same key: it is gone.
    assert_eq!(
        app.post_with_token("/api/auth/logout/", b_key)
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn deactivating_the_user_refuses_every_token() {
    let app = spawn_app().await;
    let user = app.create_user("alice", "correct horse", false);
    let drf = app.token_of(user.id);
    let made = created(&app, &drf, json!({"name": "a"})).await;
    let domain = &app.state.domain;
    domain
        .db
        .run(|conn| authtoken::models::users::set_active(conn, user.id, false))
        .unwrap();
    for key in [drf.as_str(), made["token"].as_str().unwrap()] {
        let (status, body) = status_body(app.get_with_token("/api/auth/me/", key).await).await;
        assert_eq!(
            (status, body.as_str()),
            (401, r#"{"detail":"User inactive or deleted."}"#)
        );
    }
}

#[tokio::test]
async fn verify_names_the_token_and_checks_its_scopes() {
    let app = spawn_app().await;
    let user = app.create_user("alice", "correct horse", false);
    let drf = app.token_of(user.id);
    let made = created(
        &app,
        &drf,
        json!({"name": "svc", "scopes": ["orders:read", "a.b"]}),
    )
    .await;
    let key = made["token"].as_str().unwrap();
    let verify = |query: &'static str, key: String| {
        let app = &app;
        async move {
            app.get_with_token(&format!("/api/auth/verify/{query}"), &key)
                .await
        }
    };
    let ok = verify("", key.to_string()).await;
    assert_eq!(ok.status(), 200);
    assert_eq!(
        ok.headers()["x-auth-token-id"],
        made["id"].to_string().as_str()
    );
    assert_eq!(ok.headers()["x-auth-scopes"], "a.b,orders:read");
    assert_eq!(
        verify("?scopes=orders:read", key.to_string())
            .await
            .status(),
        200
    );
    assert_eq!(
        verify("?scopes=orders:read,a.b", key.to_string())
            .await
            .status(),
        200
    );
    for query in [
        "?scopes=orders:write",
        "?scopes=orders:read,tokens",
        "?scopes=Bad",
    ] {
        let (status, body) = status_body(verify(query, key.to_string()).await).await;
        assert_eq!((status, body.as_str()), (403, FORBIDDEN), "{query}");
    }
    let bare = created(&app, &drf, json!({"name": "bare"})).await;
    let bare_ok = verify("", bare["token"].as_str().unwrap().to_string()).await;
    assert_eq!(bare_ok.status(), 200);
    assert_eq!(bare_ok.headers()["x-auth-scopes"], "");
    assert_eq!(
        verify("?scopes=a", bare["token"].as_str().unwrap().to_string())
            .await
            .status(),
        403
    );
    let primary = verify("?scopes=orders:write", drf.clone()).await;
    assert_eq!(primary.status(), 200);
    assert_eq!(primary.headers()["x-auth-token-id"], "primary");
    assert_eq!(primary.headers()["x-auth-scopes"], "*");
}

#[tokio::test]
async fn a_use_records_the_named_tokens_last_used_only() {
    let app = spawn_app().await;
    let user = app.create_user("alice", "correct horse", false);
    let drf = app.token_of(user.id);
    // Made without using the DRF key, so that its `last_used` stays empty.
    let spec = authtoken::models::NamedTokenSpec {
        name: "a".into(),
        scopes: Default::default(),
        expires_in: None,
    };
    let domain = &app.state.domain;
    let (_, key) = domain
        .db
        .run(|conn| domain.tokens.create_named(conn, user.id, &spec, "test"))
        .unwrap()
        .unwrap();
    assert_eq!(
        app.get_with_token("/api/auth/me/", key.as_str())
            .await
            .status(),
        200
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while named_rows(&app, user.id)[0].last_used.is_none() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(named_rows(&app, user.id)[0].last_used.is_some());
    assert_eq!(app.last_used(user.id), None, "the DRF token was not used");
    let (_, text) = list(&app, &drf).await;
    assert!(serde_json::from_str::<Value>(&text).unwrap()[0]["last_used"].is_string());
}

#[tokio::test]
async fn the_endpoints_answer_like_drf_views() {
    let app = spawn_app().await;
    let user = app.create_user("alice", "correct horse", false);
    let drf = app.token_of(user.id);
    let head = app
        .client
        .head(app.url("/api/auth/tokens/"))
        .header("Authorization", format!("Token {drf}"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["allow"], "GET, POST, HEAD, OPTIONS");
    let put = app
        .client
        .put(app.url("/api/auth/tokens/"))
        .header("Authorization", format!("Token {drf}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        status_body(put).await,
        (
            405,
            r#"{"detail":"Method \"PUT\" not allowed."}"#.to_string()
        )
    );
    let get_one = app.get_with_token("/api/auth/tokens/1/", &drf).await;
    assert_eq!(get_one.headers()["allow"], "DELETE, OPTIONS");
    assert_eq!(get_one.status(), 405);
    for path in ["/api/auth/tokens/", "/api/auth/tokens/1/"] {
        let (status, body) = status_body(app.client.get(app.url(path)).send().await.unwrap()).await;
        assert_eq!(
            (status, body.as_str()),
            (
                401,
                r#"{"detail":"Authentication credentials were not provided."}"#
            ),
            "{path}"
        );
    }
    let app = spawn_app_with(&[("TOKEN_FORMAT", "prefixed")]).await;
    let user = app.create_user("bob", "correct horse", false);
    let drf = app.token_of(user.id);
    let made = created(&app, &drf, json!({"name": "p"})).await;
    let key = made["token"].as_str().unwrap();
    assert!(key.starts_with("atk_") && key.len() == 40, "{key}");
    assert_eq!(app.get_with_token("/api/auth/me/", key).await.status(), 200);
}

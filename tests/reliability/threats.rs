//! The threat model of SECURITY.md, as tests: what a copy of the database
//! and a stolen key give an attacker, and what cuts a thief off.

use authtoken::db::DbError;
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::common::{TestApp, spawn_app, spawn_app_with};
use crate::support::snapshot;

const PASSWORD: &str = "correct horse battery";

async fn key_from(response: reqwest::Response) -> String {
    assert!(response.status().is_success(), "{}", response.status());
    let body: Value = response.json().await.unwrap();
    body["token"].as_str().unwrap().to_string()
}

async fn me(app: &TestApp, key: &str) -> (u16, String) {
    let response = app.get_with_token("/api/auth/me/", key).await;
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Every byte the database holds, as text: the SQLite files themselves
/// (database and WAL), or every row of every table on PostgreSQL.
fn everything_stored(app: &TestApp) -> String {
    if !app.db.is_postgres() {
        let mut all = Vec::new();
        for entry in std::fs::read_dir(app.db.dir.path()).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with("test.sqlite3") {
                all.extend(std::fs::read(&path).unwrap());
            }
        }
        return String::from_utf8_lossy(&all).to_lowercase();
    }
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        row: String,
    }
    let mut all = String::new();
    for table in ["users", "tokens", "token_events", "login_failures"] {
        let rows: Vec<Row> = app
            .state
            .domain
            .db
            .run(|conn| {
                diesel::sql_query(format!("SELECT CAST(t AS TEXT) AS row FROM {table} t"))
                    .load(conn)
                    .map_err(DbError::from)
            })
            .unwrap();
        for row in rows {
            all.push_str(&row.row.to_lowercase());
            all.push('\n');
        }
    }
    all
}

#[tokio::test]
async fn a_copy_of_the_database_holds_no_usable_key() {
    let app = spawn_app().await;
    let mut keys = Vec::new();
    for name in ["alice", "bob", "carol"] {
        let response = app
            .post_json(
                "/api/auth/register/",
                &json!({"username": name, "password": PASSWORD}),
            )
            .await;
        keys.push(key_from(response).await);
    }
    // History: a regeneration, a logout and a new sign-in, a failed sign-in.
    let response = app
        .post_with_token("/api/auth/token/regenerate/", &keys[0])
        .await;
    keys.push(key_from(response).await);
    assert_eq!(
        app.post_with_token("/api/auth/logout/", &keys[1])
            .await
            .status(),
        204
    );
    let response = app
        .post_json(
            "/api-token-auth/",
            &json!({"username": "bob", "password": PASSWORD}),
        )
        .await;
    keys.push(key_from(response).await);
    let response = app
        .post_json(
            "/api-token-auth/",
            &json!({"username": "carol", "password": "not the password"}),
        )
        .await;
    assert_eq!(response.status(), 400);

    let stored = everything_stored(&app);
    assert!(stored.contains("alice"), "the dump holds the data");
    for key in &keys {
        assert!(!stored.contains(key.as_str()), "a key is stored in clear");
        assert!(!stored.contains(&key[8..]), "most of a key is stored");
        let hex: String = key.bytes().map(|b| format!("{b:02x}")).collect();
        assert!(!stored.contains(&hex), "a key is stored as hex");
    }
    assert!(!stored.contains(PASSWORD), "a password is stored in clear");

    // What is stored does not open the API: not the digest, not the sealed
    // key, not the prefix.
    let snap = app
        .state
        .domain
        .db
        .run(|conn| Ok::<_, DbError>(snapshot(conn)))
        .unwrap();
    assert_eq!(snap.tokens.len(), 3);
    for (_, digest, sealed) in &snap.tokens {
        for candidate in [
            digest.as_str(),
            sealed.as_str(),
            &digest[..40],
            &sealed[..40],
        ] {
            let (status, body) = me(&app, candidate).await;
            assert_eq!(
                (status, body.as_str()),
                (401, r#"{"detail":"Invalid token."}"#)
            );
        }
    }
    for key in &keys[2..] {
        let (status, _) = me(&app, &key[..8]).await;
        assert_eq!(status, 401, "a prefix is not a key");
    }
}

#[tokio::test]
async fn a_stolen_key_is_cut_off_by_regenerate_revoke_or_deactivate() {
    let app = spawn_app_with(&[("LOGIN_THROTTLE", "1000/min")]).await;
    // The victim is even staff: the key still opens no admin page.
    let victim = app.create_user("alice", PASSWORD, true);
    let key = app.token_of(victim.id);
    let credentials = json!({"username": "alice", "password": PASSWORD});

    // The thief can do what the owner can do with it…
    assert_eq!(me(&app, &key).await.0, 200);
    // …but not sign in to the admin pages, which want the password.
    let response = app
        .client
        .get(app.url("/admin/users/"))
        .header("Authorization", format!("Token {key}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    assert!(
        response.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/admin/login/")
    );

    // The thief rotates the key. Signing in again does not cut them off:
    // sign-in returns the live key (DRF's get-or-create), the thief's.
    let thief = key_from(
        app.post_with_token("/api/auth/token/regenerate/", &key)
            .await,
    )
    .await;
    assert_eq!(me(&app, &key).await.0, 401);
    let signed_in = key_from(app.post_json("/api-token-auth/", &credentials).await).await;
    assert_eq!(signed_in, thief);
    // Regenerating does.
    let own = key_from(
        app.post_with_token("/api/auth/token/regenerate/", &signed_in)
            .await,
    )
    .await;
    assert_eq!(
        me(&app, &thief).await,
        (401, r#"{"detail":"Invalid token."}"#.to_string())
    );
    assert_eq!(me(&app, &own).await.0, 200);

    // So does an operator: deactivating refuses the key at once, and
    // revoking deletes it; nothing is cached.
    app.state
        .domain
        .db
        .run(|conn| authtoken::models::users::set_active(conn, victim.id, false))
        .unwrap();
    assert_eq!(
        me(&app, &own).await,
        (401, r#"{"detail":"User inactive or deleted."}"#.to_string())
    );
    app.state
        .domain
        .db
        .run(|conn| authtoken::models::users::set_active(conn, victim.id, true))
        .unwrap();
    assert_eq!(me(&app, &own).await.0, 200);
    app.state
        .domain
        .db
        .run(|conn| {
            app.state
                .domain
                .tokens
                .revoke(conn, victim.id, None, "admin")
        })
        .unwrap();
    assert_eq!(
        me(&app, &own).await,
        (401, r#"{"detail":"Invalid token."}"#.to_string())
    );
}

#[tokio::test]
async fn a_spoofed_x_forwarded_for_does_not_escape_the_sign_in_throttle() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, false);
    let attempt = |password: &'static str, forwarded: String| {
        app.client
            .post(app.url("/api-token-auth/"))
            .header("X-Forwarded-For", forwarded)
            .json(&json!({"username": "alice", "password": password}))
            .send()
    };
    // Five failures, each claiming another address: the peer is what counts.
    for i in 0..5 {
        let response = attempt("wrong password", format!("198.51.100.{i}"))
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
    }
    let response = attempt(PASSWORD, "203.0.113.9".into()).await.unwrap();
    assert_eq!(
        response.status(),
        429,
        "throttled even with the right password"
    );
    assert!(response.headers().contains_key("retry-after"));

    // Behind a configured proxy the header is believed, per client.
    let app = spawn_app_with(&[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    app.create_user("alice", PASSWORD, false);
    for i in 0..5 {
        let response = app
            .client
            .post(app.url("/api-token-auth/"))
            .header("X-Forwarded-For", "198.51.100.7")
            .json(&json!({"username": "alice", "password": format!("wrong {i}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
    }
    let other_client = app
        .client
        .post(app.url("/api-token-auth/"))
        .header("X-Forwarded-For", "198.51.100.8")
        .json(&json!({"username": "alice", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(other_client.status(), 200);
}

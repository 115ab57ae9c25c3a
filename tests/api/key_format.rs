//! `TOKEN_FORMAT=prefixed`: new keys are `atk_` + 30 base62 + a CRC-32, and
//! keys of both formats keep working.

use serde_json::{Value, json};

use authtoken::models::{TokenKey, clock};

use crate::common::{TestApp, spawn_app_with};

fn is_prefixed(key: &str) -> bool {
    key.len() == 40
        && key.starts_with("atk_")
        && key[4..].bytes().all(|b| b.is_ascii_alphanumeric())
}

async fn sign_in(app: &TestApp, username: &str) -> String {
    let response = app
        .post_json(
            "/api-token-auth/",
            &json!({"username": username, "password": "correct horse"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn new_keys_are_prefixed_and_old_ones_keep_working() {
    let app = spawn_app_with(&[("TOKEN_FORMAT", "prefixed")]).await;
    // A key of DRF's format, as an import or an older setting left it…
    let alice = app.create_user("alice", "correct horse", false);
    let drf_key = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b";
    let tokens = &app.state.domain.tokens;
    app.state
        .domain
        .db
        .run(|c| {
            tokens.revoke(c, alice.id, None, "test")?;
            let key = TokenKey::existing(drf_key.to_string()).unwrap();
            tokens.insert_key_if_absent(c, alice.id, key, "test", clock::now())
        })
        .unwrap()
        .expect("inserted");
    // …still authenticates, and sign-in returns it.
    assert_eq!(
        app.get_with_token("/api/auth/me/", drf_key).await.status(),
        200
    );
    assert_eq!(sign_in(&app, "alice").await, drf_key);

    let response = app
        .post_json(
            "/api/auth/register/",
            &json!({"username": "bob", "password": "correct horse"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    let key = body["token"].as_str().unwrap().to_string();
    assert!(is_prefixed(&key), "{key}");
    assert_eq!(
        app.get_with_token("/api/auth/me/", &key).await.status(),
        200
    );
    assert_eq!(sign_in(&app, "bob").await, key);

    let rotated = app
        .post_with_token("/api/auth/token/regenerate/", &key)
        .await;
    let body: Value = rotated.json().await.unwrap();
    let new_key = body["token"].as_str().unwrap();
    assert!(is_prefixed(new_key), "{new_key}");
    assert_ne!(new_key, key);
}

#[tokio::test]
async fn a_wrong_checksum_is_refused_without_the_database() {
    let app = spawn_app_with(&[("TOKEN_FORMAT", "prefixed")]).await;
    let user = app.create_user("carol", "correct horse", false);
    let key = app.token_of(user.id);
    assert!(is_prefixed(&key), "{key}");
    let mut typo = key.clone().into_bytes();
    typo[12] = if typo[12] == b'x' { b'y' } else { b'x' };
    let typo = String::from_utf8(typo).unwrap();
    let invalid = r#"{"detail":"Invalid token."}"#;
    let response = app.get_with_token("/api/auth/me/", &typo).await;
    assert_eq!(response.status(), 401);
    assert_eq!(response.text().await.unwrap(), invalid);

    if !app.db.is_postgres() {
        // With the database gone, a key that could exist gets 503, while a
        // key whose checksum is wrong is still answered: no query was made.
        let live = std::path::PathBuf::from(&app.db.url);
        let away = live.with_extension("away");
        std::fs::rename(&live, &away).unwrap();
        assert_eq!(
            app.get_with_token("/api/auth/me/", &typo).await.status(),
            401
        );
        let drf_shaped = "0".repeat(40);
        assert_eq!(
            app.get_with_token("/api/auth/me/", &drf_shaped)
                .await
                .status(),
            503
        );
        std::fs::rename(&away, &live).unwrap();
    }
}

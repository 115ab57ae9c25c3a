//! Failed sign-ins per client address and username.

use serde_json::json;

use crate::common::{spawn_app_with, status_body};

#[tokio::test]
async fn the_sixth_failure_is_throttled_even_with_the_right_password() {
    let app = spawn_app_with(&[("LOGIN_THROTTLE", "5/min")]).await;
    app.create_user("alice", "correct horse", false);
    app.create_user("bob", "correct horse", false);
    for _ in 0..5 {
        let (status, _) = status_body(
            app.post_json(
                "/api-token-auth/",
                &json!({"username": "alice", "password": "wrong"}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 400);
    }
    let response = app
        .post_json(
            "/api-token-auth/",
            &json!({"username": "alice", "password": "correct horse"}),
        )
        .await;
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after));
    let body = response.text().await.unwrap();
    let unit = if retry_after == 1 {
        "second"
    } else {
        "seconds"
    };
    assert_eq!(
        body,
        format!(
            "{{\"detail\":\"Request was throttled. Expected available in {retry_after} {unit}.\"}}"
        )
    );
    // Another user from the same address is not affected.
    let (status, _) = status_body(
        app.post_json(
            "/api-token-auth/",
            &json!({"username": "bob", "password": "correct horse"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_window_passes() {
    let app = spawn_app_with(&[("LOGIN_THROTTLE", "2/s")]).await;
    app.create_user("carol", "correct horse", false);
    for _ in 0..2 {
        app.post_json(
            "/api-token-auth/",
            &json!({"username": "carol", "password": "wrong"}),
        )
        .await;
    }
    let throttled = app
        .post_json(
            "/api/auth/login/",
            &json!({"username": "carol", "password": "correct horse"}),
        )
        .await;
    assert_eq!(throttled.status(), 429);
    assert_eq!(throttled.headers().get("retry-after").unwrap(), "1");
    assert!(
        throttled
            .text()
            .await
            .unwrap()
            .contains("Expected available in 1 second.")
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, _) = status_body(
        app.post_json(
            "/api/auth/login/",
            &json!({"username": "carol", "password": "correct horse"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
}

/// Attempts are counted before their password is checked: of 40 wrong
/// passwords sent at once for one user, exactly the allowance is checked
/// and the rest are throttled (DRF's throttle, which checks and then
/// records, lets all 40 through).
#[tokio::test]
async fn parallel_wrong_passwords_get_only_the_allowance_of_checks() {
    let app = spawn_app_with(&[("LOGIN_THROTTLE", "5/min")]).await;
    app.create_user("mallory", "correct horse", false);
    let before = app.state.domain.hasher.verifications();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let client = app.client.clone();
        let url = app.url("/api-token-auth/");
        tasks.push(tokio::spawn(async move {
            let response = client
                .post(url)
                .json(&json!({"username": "mallory", "password": format!("guess {i}")}))
                .send()
                .await
                .unwrap();
            response.status().as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    let bad = statuses.iter().filter(|s| **s == 400).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((bad, throttled), (5, 35), "{statuses:?}");
    assert_eq!(app.state.domain.hasher.verifications() - before, 5);
    // The right password is refused too until the window frees up.
    let (status, _) = status_body(
        app.post_json(
            "/api-token-auth/",
            &json!({"username": "mallory", "password": "correct horse"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 429);
}

/// Correct passwords sent at once are not refused for each other: each
/// waits while the allowance is held by attempts still being checked.
#[tokio::test]
async fn parallel_right_passwords_all_sign_in() {
    let app = spawn_app_with(&[("LOGIN_THROTTLE", "2/min")]).await;
    app.create_user("erin", "correct horse", false);
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let client = app.client.clone();
        let url = app.url("/api/auth/login/");
        tasks.push(tokio::spawn(async move {
            let response = client
                .post(url)
                .json(&json!({"username": "erin", "password": "correct horse"}))
                .send()
                .await
                .unwrap();
            response.status().as_u16()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
}

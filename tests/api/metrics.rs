//! `/metrics` at `METRICS_BIND`: request counts by route pattern, sign-in
//! outcomes, token events, the pool and the hashing queue; never on the
//! public port.

use serde_json::json;

use crate::common::{spawn_app_with, status_body};

/// The value of the series `name{labels}` (exactly so), if present.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn counts_by_route_outcome_and_event() {
    let app = spawn_app_with(&[("METRICS_BIND", "127.0.0.1:0"), ("LOGIN_THROTTLE", "2/min")]).await;
    let metrics_url = format!(
        "http://{}/metrics",
        app.metrics.expect("a metrics listener")
    );

    let (status, body) = status_body(
        app.post_json(
            "/api/auth/register/",
            &json!({"username": "alice", "password": "correct horse battery"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let key: serde_json::Value = serde_json::from_str(&body).unwrap();
    let key = key["token"].as_str().unwrap().to_string();
    let good = json!({"username": "alice", "password": "correct horse battery"});
    assert_eq!(app.post_json("/api-token-auth/", &good).await.status(), 200);
    for _ in 0..2 {
        assert_eq!(
            app.get_with_token("/api/auth/me/", &key).await.status(),
            200
        );
    }
    assert_eq!(
        app.get_with_token("/api/auth/me/", "0".repeat(40).as_str())
            .await
            .status(),
        401
    );
    let regenerated = app
        .post_with_token("/api/auth/token/regenerate/", &key)
        .await;
    let key: serde_json::Value = regenerated.json().await.unwrap();
    let key = key["token"].as_str().unwrap().to_string();
    assert_eq!(
        app.post_with_token("/api/auth/logout/", &key)
            .await
            .status(),
        204
    );
    // Signing in after the logout creates a new token.
    assert_eq!(app.post_json("/api/auth/login/", &good).await.status(), 200);
    let bad = json!({"username": "alice", "password": "wrong password"});
    for expected in [400, 400, 429] {
        assert_eq!(
            app.post_json("/api-token-auth/", &bad).await.status(),
            expected
        );
    }
    assert_eq!(
        app.client
            .get(app.url("/no/such/7"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    // Not on the public port.
    assert_eq!(
        app.client
            .get(app.url("/metrics"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    let response = app.client.get(&metrics_url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let expect = |series: &str, wanted: f64| {
        assert_eq!(value(&text, series), Some(wanted), "{series} in:\n{text}");
    };
    expect(
        r#"authtoken_http_requests_total{route="/api/auth/register/",method="POST",status="201"}"#,
        1.0,
    );
    expect(
        r#"authtoken_http_requests_total{route="/api/auth/me/",method="GET",status="200"}"#,
        2.0,
    );
    expect(
        r#"authtoken_http_requests_total{route="/api/auth/me/",method="GET",status="401"}"#,
        1.0,
    );
    expect(
        r#"authtoken_http_requests_total{route="/api-token-auth/",method="POST",status="400"}"#,
        2.0,
    );
    expect(
        r#"authtoken_http_requests_total{route="/api-token-auth/",method="POST",status="429"}"#,
        1.0,
    );
    expect(
        r#"authtoken_http_requests_total{route="unmatched",method="GET",status="404"}"#,
        2.0,
    );
    expect(
        r#"authtoken_http_request_duration_seconds_count{route="/api/auth/me/"}"#,
        3.0,
    );
    expect(r#"authtoken_sign_ins_total{outcome="ok"}"#, 2.0);
    expect(
        r#"authtoken_sign_ins_total{outcome="bad_credentials"}"#,
        2.0,
    );
    expect(r#"authtoken_sign_ins_total{outcome="throttled"}"#, 1.0);
    expect(r#"authtoken_sign_ins_total{outcome="busy"}"#, 0.0);
    expect(r#"authtoken_tokens_total{event="created"}"#, 2.0);
    expect(r#"authtoken_tokens_total{event="regenerated"}"#, 1.0);
    expect(r#"authtoken_tokens_total{event="revoked"}"#, 1.0);
    expect("authtoken_password_hash_waiting", 0.0);
    let idle = value(&text, r#"authtoken_db_connections{state="idle"}"#).unwrap();
    let in_use = value(&text, r#"authtoken_db_connections{state="in_use"}"#).unwrap();
    assert!(idle >= 1.0 && in_use == 0.0, "idle {idle}, in use {in_use}");
    // No raw path, no user id, no key among the labels.
    assert!(!text.contains("/no/such"), "{text}");
    assert!(!text.contains(&key), "{text}");
    // Only /metrics is served there.
    let other = metrics_url.replace("/metrics", "/api/auth/me/");
    assert_eq!(app.client.get(other).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn no_listener_without_metrics_bind() {
    let app = spawn_app_with(&[]).await;
    assert!(app.metrics.is_none());
    assert_eq!(
        app.client
            .get(app.url("/metrics"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

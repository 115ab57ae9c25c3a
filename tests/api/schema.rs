//! `GET /api/schema/` (OpenAPI 3.1) is true to the server, and
//! `GET /api/docs/` shows it without loading anything from other hosts.

use serde_json::Value;

use crate::common::spawn_app;

#[tokio::test]
async fn every_documented_operation_answers_with_a_documented_status() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/api/schema/"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let doc: Value = response.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    assert_eq!(paths.len(), 11);
    let user = app.create_user("alice", "correct horse", false);
    let key = app.token_of(user.id);
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let documented: Vec<u16> = op["responses"]
                .as_object()
                .unwrap()
                .keys()
                .map(|code| code.parse().unwrap())
                .collect();
            // Without a key, and (for the GETs) with one; the POSTs with an
            // empty body; logout and regenerate last, as they change the key.
            if path.ends_with("/logout/") || path.ends_with("/regenerate/") {
                continue;
            }
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            for with_key in [false, true] {
                let mut request = app.client.request(method.clone(), app.url(path));
                if with_key {
                    request = request.header("Authorization", format!("Token {key}"));
                }
                let status = request.send().await.unwrap().status().as_u16();
                assert!(
                    documented.contains(&status),
                    "{method} {path} (key: {with_key}) answered {status}, documented: {documented:?}"
                );
            }
        }
    }
    for path in ["/api/auth/token/regenerate/", "/api/auth/logout/"] {
        let status = app.post_with_token(path, "0000").await.status();
        assert_eq!(status, 401, "{path}");
    }
}

#[tokio::test]
async fn the_docs_page_lists_every_operation_and_loads_nothing_from_elsewhere() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/api/docs/")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let html = response.text().await.unwrap();
    for path in [
        "/api-token-auth/",
        "/api/auth/login/",
        "/api/auth/register/",
        "/api/auth/me/",
        "/api/auth/logout/",
        "/api/auth/token/regenerate/",
        "/api/auth/verify/",
        "/healthz",
        "/readyz",
    ] {
        assert!(html.contains(path), "{path}");
    }
    assert!(!html.contains("http://") && !html.contains("https://"));
    // The sign-in can be tried from the page: a form posting to the endpoint.
    assert!(html.contains(r#"<form method="post" action="/api-token-auth/""#));
}

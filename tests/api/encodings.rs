//! The three input encodings DRF's parsers accept, and what they refuse.

use serde_json::Value;

use crate::common::{spawn_app, status_body};

#[tokio::test]
async fn json_form_and_multipart_all_sign_in() {
    let app = spawn_app().await;
    let user = app.create_user("alice", "correct horse", false);
    let key = app.token_of(user.id);
    let expected = format!("{{\"token\":\"{key}\"}}");

    let json = app
        .client
        .post(app.url("/api-token-auth/"))
        .header("Content-Type", "application/json; charset=utf-8")
        .body(r#"{"username":"alice","password":"correct horse"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(status_body(json).await, (200, expected.clone()));

    let form = app
        .client
        .post(app.url("/api-token-auth/"))
        .form(&[("username", "alice"), ("password", "correct horse")])
        .send()
        .await
        .unwrap();
    assert_eq!(status_body(form).await, (200, expected.clone()));

    let multipart = reqwest::multipart::Form::new()
        .text("username", "alice")
        .text("password", "correct horse");
    let multipart = app
        .client
        .post(app.url("/api-token-auth/"))
        .multipart(multipart)
        .send()
        .await
        .unwrap();
    assert_eq!(status_body(multipart).await, (200, expected));
}

#[tokio::test]
async fn unsupported_media_type_quotes_the_whole_header() {
    let app = spawn_app().await;
    for content_type in ["text/plain", "text/plain; charset=utf-8", "application/xml"] {
        let response = app
            .client
            .post(app.url("/api-token-auth/"))
            .header("Content-Type", content_type)
            .body("username=alice")
            .send()
            .await
            .unwrap();
        assert_eq!(
            status_body(response).await,
            (
                415,
                format!(
                    "{{\"detail\":\"Unsupported media type \\\"{content_type}\\\" in request.\"}}"
                )
            )
        );
    }
}

#[tokio::test]
async fn empty_body_is_not_parsed() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api-token-auth/"))
        .header("Content-Type", "text/plain")
        .send()
        .await
        .unwrap();
    assert_eq!(
        status_body(response).await,
        (
            400,
            r#"{"username":["This field is required."],"password":["This field is required."]}"#
                .into()
        )
    );
}

#[tokio::test]
async fn bodies_over_64_kib_get_413() {
    let app = spawn_app().await;
    let big = format!(
        "{{\"username\":\"alice\",\"password\":\"{}\"}}",
        "x".repeat(70 * 1024)
    );
    let response = app
        .client
        .post(app.url("/api-token-auth/"))
        .header("Content-Type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    let (status, body) = status_body(response).await;
    assert_eq!(status, 413);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert!(body["detail"].as_str().unwrap().contains("65536"));
}

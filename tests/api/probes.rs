use crate::common::{spawn_app, status_body};

#[tokio::test]
async fn healthz_and_readyz() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(
        response.headers().get("content-type").unwrap(),
        "application/json"
    );
    assert_eq!(
        status_body(response).await,
        (200, r#"{"status":"ok"}"#.into())
    );
    let response = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(
        status_body(response).await,
        (200, r#"{"status":"ok"}"#.into())
    );
}

#[tokio::test]
async fn unknown_paths_are_404_json() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/nope/")).send().await.unwrap();
    assert_eq!(
        status_body(response).await,
        (404, r#"{"detail":"Not found."}"#.into())
    );
}

//! CSRF: a form without the session's token changes nothing.

use super::*;

#[tokio::test]
async fn a_sign_in_without_the_csrf_token_is_refused() {
    let app = spawn_app().await;
    app.create_user("admin", PASSWORD, true);
    let client = Client::new(&app);
    let form = client.get("/admin/login/").await;
    let good = form.csrf();
    for csrf in ["", "0000", &"a".repeat(64)] {
        let page = client
            .post(
                "/admin/login/",
                &[
                    ("csrf_token", csrf),
                    ("username", "admin"),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(page.status, 403, "{csrf:?}");
        assert!(page.body.contains("Form expired"));
    }
    let page = client
        .post(
            "/admin/login/",
            &[("username", "admin"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status, 403);
    // A fresh client (no session) with a stolen token is refused too.
    let other = Client::new(&app);
    let page = other
        .post(
            "/admin/login/",
            &[
                ("csrf_token", good.as_str()),
                ("username", "admin"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, 403);
    assert_eq!(client.get("/admin/users/").await.status, 302);
    assert!(user(&app, UserId::new(1)).last_login.is_none());
}

#[tokio::test]
async fn a_post_without_the_right_csrf_token_changes_nothing() {
    let app = spawn_app().await;
    let (client, _) = signed_in(&app).await;
    let gina = app.create_user("gina", PASSWORD, false);
    let key = app.token_of(gina.id);
    let events_before = events_of(&app, gina.id).len();
    let paths = [
        "/admin/users/2/token/regenerate/",
        "/admin/users/2/token/revoke/",
        "/admin/users/2/deactivate/",
    ];
    let wrong = "f".repeat(64);
    for path in paths {
        for fields in [
            vec![],
            vec![("csrf_token", "")],
            vec![("csrf_token", wrong.as_str())],
            vec![("other", "x")],
        ] {
            let page = client.post(path, &fields).await;
            assert_eq!(page.status, 403, "{path} {fields:?}");
            assert!(page.body.contains("nothing was changed"), "{path}");
            assert!(page.new_token().is_none());
        }
        // A body that is not a form at all.
        let response = client
            .http
            .post(app.url(path))
            .header("content-type", "application/json")
            .body("{\"csrf_token\": 1}")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 403);
    }
    // Anonymous POSTs (no session, so no token) are refused the same way.
    let stranger = Client::new(&app);
    for path in paths {
        let page = stranger.post(path, &[("csrf_token", wrong.as_str())]).await;
        assert_eq!(page.status, 403, "{path}");
    }
    assert_eq!(api_me(&app, &key).await.0, 200);
    assert!(user(&app, gina.id).is_active);
    assert_eq!(events_of(&app, gina.id).len(), events_before);

    // Deactivated, then an activate without the token does nothing either.
    assert_eq!(client.act("/admin/users/2/deactivate/").await.status, 303);
    let page = client.post("/admin/users/2/activate/", &[]).await;
    assert_eq!(page.status, 403);
    assert!(!user(&app, gina.id).is_active);
}

#[tokio::test]
async fn an_anonymous_post_with_a_valid_token_goes_to_the_sign_in() {
    let app = spawn_app().await;
    app.create_user("admin", PASSWORD, true);
    let hal = app.create_user("hal", PASSWORD, false);
    let client = Client::new(&app);
    let csrf = client.get("/admin/login/").await.csrf();
    let page = client
        .post(
            &format!("/admin/users/{}/token/revoke/", hal.id),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(page.status, 302);
    assert_eq!(page.location(), Some("/admin/login/?next=/admin/users/2/"));
    assert!(
        app.state
            .domain
            .db
            .run(|c| app.state.domain.tokens.find(c, hal.id))
            .unwrap()
            .is_some()
    );
}

//! The session: sign-out, expiry, losing staff, forged cookies.

use super::*;

#[tokio::test]
async fn sign_out_ends_the_session() {
    let app = spawn_app().await;
    let (client, _) = signed_in(&app).await;
    // Without the token nothing happens.
    let page = client.post("/admin/logout/", &[]).await;
    assert_eq!(page.status, 403);
    assert_eq!(client.get("/admin/users/").await.status, 200);

    let page = client.act("/admin/logout/").await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location(), Some("/admin/login/"));
    let page = client.get("/admin/login/").await;
    assert!(page.body.contains("You have been signed out."));
    assert_eq!(client.get("/admin/users/").await.status, 302);
    // The flash is shown once.
    let page = client.get("/admin/login/").await;
    assert!(!page.body.contains("You have been signed out."));
    // GET is not a way to sign out.
    let page = client.get("/admin/logout/").await;
    assert_eq!(page.status, 405);
    assert_eq!(page.header("allow"), Some("POST"));
}

#[tokio::test]
async fn the_session_expires_after_the_ttl() {
    let app = spawn_app_with(&[("ADMIN_SESSION_TTL", "2s")]).await;
    app.create_user("admin", PASSWORD, true);
    let client = Client::new(&app);
    let page = client.sign_in("admin", PASSWORD).await;
    assert_eq!(page.status, 303);
    let cookie = page.set_cookies().remove(0);
    assert!(cookie.contains("Max-Age=2"), "{cookie}");
    let cookie = cookie.split(';').next().unwrap().to_string();
    // A client that ignores Max-Age and replays the cookie.
    let replay = |cookie: String| {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let app = &app;
        async move {
            Page::read(
                http.get(app.url("/admin/users/"))
                    .header("cookie", cookie)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    assert_eq!(replay(cookie.clone()).await.status, 200);
    tokio::time::sleep(std::time::Duration::from_millis(2200)).await;
    let page = replay(cookie).await;
    assert_eq!(page.status, 302);
    assert_eq!(page.location(), Some("/admin/login/?next=/admin/users/"));
    // The session was replaced by one that says why.
    let renewed = page.set_cookies().remove(0);
    let renewed = renewed.split(';').next().unwrap().to_string();
    let http = reqwest::Client::new();
    let body = http
        .get(app.url("/admin/login/"))
        .header("cookie", renewed)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("Your session has expired"), "{body}");
}

#[tokio::test]
async fn the_session_ends_when_the_user_is_no_longer_active_staff() {
    let app = spawn_app().await;
    // No longer staff: 403, with a way to sign out.
    let (client, admin) = signed_in(&app).await;
    set_staff(&app, admin.id, false);
    let page = client.get("/admin/users/").await;
    assert_eq!(page.status, 403);
    assert!(page.body.contains("Staff only"));
    assert!(page.body.contains(">Sign out</button>"));
    let csrf = page.csrf();
    let page = client
        .post(
            &format!("/admin/users/{}/token/revoke/", admin.id),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(page.status, 403);
    assert!(
        app.state
            .domain
            .db
            .run(|c| app.state.domain.tokens.find(c, admin.id))
            .unwrap()
            .is_some()
    );
    // Staff again: the same session works again.
    set_staff(&app, admin.id, true);
    assert_eq!(client.get("/admin/users/").await.status, 200);

    // Deactivated: the session is over.
    app.state
        .domain
        .db
        .run(|conn| users::set_active(conn, admin.id, false))
        .unwrap();
    assert_eq!(client.get("/admin/users/").await.status, 302);
    app.state
        .domain
        .db
        .run(|conn| users::set_active(conn, admin.id, true))
        .unwrap();
    assert_eq!(
        client.get("/admin/users/").await.status,
        302,
        "ended for good"
    );

    // A new password ends the sessions signed in with the old one.
    let client = Client::new(&app);
    assert_eq!(client.sign_in("admin", PASSWORD).await.status, 303);
    assert_eq!(client.get("/admin/users/").await.status, 200);
    let hash = bcrypt::hash("another password", 4).unwrap();
    app.state
        .domain
        .db
        .run(|conn| users::set_password_hash(conn, admin.id, &hash))
        .unwrap();
    assert_eq!(client.get("/admin/users/").await.status, 302);
}

#[tokio::test]
async fn a_forged_or_foreign_cookie_is_not_a_session() {
    let app = spawn_app().await;
    app.create_user("admin", PASSWORD, true);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for cookie in ["authtoken_admin=garbage", "authtoken_admin={\"uid\":\"1\"}"] {
        let response = http
            .get(app.url("/admin/users/"))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 302, "{cookie}");
    }
}

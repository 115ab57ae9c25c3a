//! Signing in: the form, `next`, refusals that all look alike, the throttle.

use super::*;

#[tokio::test]
async fn anonymous_visitors_are_sent_to_the_sign_in_with_next() {
    let app = spawn_app().await;
    let client = Client::new(&app);
    for (path, location) in [
        ("/admin/users/", "/admin/login/?next=/admin/users/"),
        (
            "/admin/users/?q=ab&page=2",
            "/admin/login/?next=/admin/users/%3Fq%3Dab%26page%3D2",
        ),
        ("/admin/users/7/", "/admin/login/?next=/admin/users/7/"),
        ("/admin/", "/admin/login/?next=/admin/"),
        ("/admin/audit/", "/admin/login/?next=/admin/audit/"),
        ("/admin", "/admin/"),
    ] {
        let page = client.get(path).await;
        assert_eq!(page.status, 302, "{path}");
        assert_eq!(page.location(), Some(location), "{path}");
    }
}

#[tokio::test]
async fn the_sign_in_form_has_labelled_fields_next_and_a_csrf_token() {
    let app = spawn_app().await;
    let client = Client::new(&app);
    let page = client.get("/admin/login/?next=/admin/users/%3Fq%3Dx").await;
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    let body = &page.body;
    assert!(body.contains("name=\"username\""));
    assert!(body.contains("name=\"password\""));
    assert!(body.contains("type=\"password\""));
    assert!(body.contains("type=\"hidden\" name=\"next\" value=\"/admin/users/?q=x\""));
    assert!(body.contains("<label for=\"id_username\">"));
    assert!(body.contains("id=\"id_username\""));
    assert!(body.contains("<label for=\"id_password\">"));
    assert!(body.contains(">Sign in</button>"));
    assert_eq!(page.csrf().len(), 64);
    assert!(!body.contains("<script"));
    // A next that leaves the site is dropped.
    let page = client.get("/admin/login/?next=//evil.example/").await;
    assert!(page.body.contains("name=\"next\" value=\"\""));
}

#[tokio::test]
async fn staff_sign_in_goes_to_next_and_opens_the_pages() {
    let app = spawn_app().await;
    let admin = app.create_user("admin", PASSWORD, true);
    let client = Client::new(&app);
    let page = client
        .sign_in_with_next("admin", PASSWORD, "/admin/users/?q=adm")
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.location(), Some("/admin/users/?q=adm"));
    let cookies = page.set_cookies();
    assert_eq!(cookies.len(), 1);
    assert!(cookies[0].contains("Max-Age="), "{}", cookies[0]);

    let page = client.get("/admin/users/?q=adm").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Signed in as <strong>admin</strong>"));
    assert!(page.body.contains(">Sign out</button>"));
    // The sign-in was recorded; the form now sends a signed-in user on.
    assert!(user(&app, admin.id).last_login.is_some());
    let page = client.get("/admin/login/?next=/admin/users/1/").await;
    assert_eq!(page.status, 302);
    assert_eq!(page.location(), Some("/admin/users/1/"));
}

#[tokio::test]
async fn only_local_paths_are_accepted_as_next() {
    let app = spawn_app().await;
    app.create_user("admin", PASSWORD, true);
    for next in [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "javascript:alert(1)",
        "admin/users/",
    ] {
        let client = Client::new(&app);
        let page = client.sign_in_with_next("admin", PASSWORD, next).await;
        assert_eq!(page.status, 303, "{next}");
        assert_eq!(page.location(), Some("/admin/users/"), "{next}");
    }
}

#[tokio::test]
async fn every_refused_sign_in_gets_the_same_answer_and_no_session() {
    let app = spawn_app().await;
    app.create_user("admin", PASSWORD, true);
    app.create_user("plain", PASSWORD, false);
    let inactive = app.create_user("gone", PASSWORD, true);
    app.state
        .domain
        .db
        .run(|conn| users::set_active(conn, inactive.id, false))
        .unwrap();
    for (username, password) in [
        ("admin", "wrong password"),
        ("nobody", PASSWORD),
        ("plain", PASSWORD),
        ("gone", PASSWORD),
        ("Admin", PASSWORD),
    ] {
        let client = Client::new(&app);
        let before = app.state.domain.hasher.verifications();
        let page = client.sign_in(username, password).await;
        assert_eq!(page.status, 200, "{username}");
        assert!(page.body.contains(BAD_CREDENTIALS), "{username}");
        assert!(page.body.contains("role=\"alert\""));
        // The form is shown again, the password is not.
        assert!(page.body.contains("name=\"username\""));
        assert!(!page.body.contains(password), "{username}");
        // One bcrypt verification, whoever it was.
        assert_eq!(
            app.state.domain.hasher.verifications(),
            before + 1,
            "{username}"
        );
        let next = client.get("/admin/users/").await;
        assert_eq!(next.status, 302, "{username} must not be signed in");
    }
    // Blank fields are refused before any password check.
    let client = Client::new(&app);
    let page = client.sign_in("admin", "").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("Please enter both your username and your password.")
    );
}

#[tokio::test]
async fn the_sign_in_shares_the_api_throttle() {
    let app = spawn_app().await;
    app.create_user("admin", PASSWORD, true);
    let client = Client::new(&app);
    for _ in 0..5 {
        let page = client.sign_in("admin", "wrong").await;
        assert_eq!(page.status, 200);
    }
    // Now even the right password is refused, here and on the API.
    let page = client.sign_in("admin", PASSWORD).await;
    assert_eq!(page.status, 429, "{}", page.body);
    assert!(page.body.contains("Too many failed sign-in attempts"));
    assert!(page.header("retry-after").is_some());
    let response = app
        .post_json(
            "/api-token-auth/",
            &serde_json::json!({"username": "admin", "password": PASSWORD}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(client.get("/admin/users/").await.status, 302);
}

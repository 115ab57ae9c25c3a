//! Sessions kept in the database: the cookie only points at a row, so
//! signing out, signing out the other sessions, deactivation and a new
//! password end sessions wherever their cookies are; the account page lists
//! them with their address and browser.

use super::*;
use authtoken::models::admin_sessions::SessionRow;

/// The session cookie a response set, as a `Cookie` header value.
fn session_cookie(page: &Page) -> String {
    page.set_cookies()
        .into_iter()
        .find(|c| c.starts_with("authtoken_admin="))
        .expect("a session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

/// A GET with exactly this cookie, as a copy of it elsewhere would send.
async fn get_with_cookie(app: &TestApp, path: &str, cookie: &str) -> Page {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Page::read(
        http.get(app.url(path))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn rows(app: &TestApp) -> Vec<SessionRow> {
    use schema::admin_sessions::dsl;
    app.state
        .domain
        .db
        .run(|conn| {
            dsl::admin_sessions
                .order(dsl::id.asc())
                .select(SessionRow::as_select())
                .load(conn)
                .map_err(authtoken::db::DbError::from)
        })
        .unwrap()
}

#[tokio::test]
async fn a_copied_cookie_stops_working_at_sign_out() {
    let app = spawn_app().await;
    app.create_user("admin", PASSWORD, true);
    let client = Client::new(&app);
    let page = client.sign_in("admin", PASSWORD).await;
    let cookie = session_cookie(&page);
    assert_eq!(
        get_with_cookie(&app, "/admin/users/", &cookie).await.status,
        200
    );
    // The table holds a digest, never the id the cookie carries.
    let stored = rows(&app);
    assert_eq!(stored.len(), 1);
    let digest: String = app
        .state
        .domain
        .db
        .run(|conn| {
            schema::admin_sessions::table
                .select(schema::admin_sessions::digest)
                .first(conn)
                .map_err(authtoken::db::DbError::from)
        })
        .unwrap();
    assert_eq!(digest.len(), 64);
    assert!(!cookie.contains(&digest));

    let csrf = client.csrf().await;
    let page = client
        .post("/admin/logout/", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(page.status, 303);
    assert!(rows(&app).is_empty(), "the row is deleted");
    let page = get_with_cookie(&app, "/admin/users/", &cookie).await;
    assert_eq!(page.status, 302);
    assert_eq!(page.location(), Some("/admin/login/?next=/admin/users/"));
    // The copy cannot act either.
    let page = get_with_cookie(&app, "/admin/account/", &cookie).await;
    assert_eq!(page.status, 302);
}

#[tokio::test]
async fn sign_out_other_sessions_keeps_only_this_one() {
    let app = spawn_app().await;
    let (first, _) = signed_in(&app).await;
    let second = Client::new(&app);
    assert_eq!(second.sign_in("admin", PASSWORD).await.status, 303);
    let third = Client::new(&app);
    assert_eq!(third.sign_in("admin", PASSWORD).await.status, 303);
    let page = first.get("/admin/account/").await;
    assert_eq!(page.body.matches("<tr class=\"session").count(), 3);
    assert_eq!(page.body.matches("this session").count(), 1);
    assert!(page.body.contains(">Sign out other sessions</button>"));
    // Without the CSRF token nothing happens.
    let page = first
        .post("/admin/account/", &[("action", "sign_out_others")])
        .await;
    assert_eq!(page.status, 403);
    assert_eq!(second.get("/admin/users/").await.status, 200);

    let csrf = first.csrf().await;
    let page = first
        .post(
            "/admin/account/",
            &[("csrf_token", &csrf), ("action", "sign_out_others")],
        )
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location(), Some("/admin/account/"));
    let page = first.get("/admin/account/").await;
    assert!(page.body.contains("2 other sessions were signed out."));
    assert_eq!(page.body.matches("<tr class=\"session").count(), 1);
    assert_eq!(second.get("/admin/users/").await.status, 302);
    assert_eq!(third.get("/admin/users/").await.status, 302);
    assert_eq!(first.get("/admin/users/").await.status, 200);
    assert_eq!(rows(&app).len(), 1);
    let audited: Vec<(String, String)> = app
        .state
        .domain
        .db
        .run(|conn| {
            schema::audit_events::table
                .filter(schema::audit_events::action.eq("sign_out"))
                .select((schema::audit_events::actor, schema::audit_events::detail))
                .load(conn)
                .map_err(authtoken::db::DbError::from)
        })
        .unwrap();
    assert_eq!(
        audited,
        vec![("admin".to_string(), "other sessions: 2".to_string())]
    );
}

#[tokio::test]
async fn deactivation_ends_the_users_sessions_for_good() {
    let app = spawn_app().await;
    let (admin_client, _) = signed_in(&app).await;
    let bob = app.create_user("bob", PASSWORD, true);
    let bob_client = Client::new(&app);
    assert_eq!(bob_client.sign_in("bob", PASSWORD).await.status, 303);
    assert_eq!(rows(&app).len(), 2);
    let page = admin_client
        .act(&format!("/admin/users/{}/deactivate/", bob.id))
        .await;
    assert_eq!(page.status, 303);
    assert!(
        rows(&app).iter().all(|r| r.user_id != bob.id),
        "bob's sessions are deleted with the deactivation"
    );
    let page = admin_client
        .act(&format!("/admin/users/{}/activate/", bob.id))
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(bob_client.get("/admin/users/").await.status, 302);
}

#[tokio::test]
async fn a_new_password_ends_the_sessions() {
    let app = spawn_app().await;
    let (client, admin) = signed_in(&app).await;
    let hash = bcrypt::hash("another password", 4).unwrap();
    app.state
        .domain
        .db
        .run(|conn| users::set_password_hash(conn, admin.id, &hash))
        .unwrap();
    assert_eq!(client.get("/admin/users/").await.status, 302);
    assert!(rows(&app).is_empty(), "the ended session is deleted");
}

#[tokio::test]
async fn the_sessions_list_shows_address_browser_and_times() {
    let app = spawn_app_with(&[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    app.create_user("admin", PASSWORD, true);
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0 <b>")
        .build()
        .unwrap();
    let form = Page::read(http.get(app.url("/admin/login/")).send().await.unwrap()).await;
    let response = http
        .post(app.url("/admin/login/"))
        .header("x-forwarded-for", "203.0.113.7")
        .form(&[
            ("csrf_token", form.csrf().as_str()),
            ("username", "admin"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    let page = Page::read(http.get(app.url("/admin/account/")).send().await.unwrap()).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("<td class=\"session-address\">203.0.113.7</td>")
    );
    // The browser in short, the whole (escaped) user agent in its title.
    assert!(
        page.body.contains(">Firefox 133 on Linux</td>"),
        "{}",
        page.body
    );
    assert!(page.has_escaped("Firefox/133.0 <b>"), "{}", page.body);
    let row = &rows(&app)[0];
    assert_eq!(row.address, "203.0.113.7");
    assert!(row.user_agent.starts_with("Mozilla/5.0"));
    let started = row.created.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    assert!(page.body.contains(&started));

    // last_seen is written at most once a minute.
    let seen = row.last_seen;
    Page::read(http.get(app.url("/admin/users/")).send().await.unwrap()).await;
    assert_eq!(rows(&app)[0].last_seen, seen);
    use schema::admin_sessions::dsl;
    let an_hour_ago = seen - chrono::TimeDelta::hours(1);
    app.state
        .domain
        .db
        .run(|conn| {
            diesel::update(dsl::admin_sessions)
                .set(dsl::last_seen.eq(an_hour_ago))
                .execute(conn)
                .map_err(authtoken::db::DbError::from)
        })
        .unwrap();
    Page::read(http.get(app.url("/admin/users/")).send().await.unwrap()).await;
    assert!(rows(&app)[0].last_seen > seen);
}

#[tokio::test]
async fn long_user_agents_are_cut_and_anonymous_visitors_write_nothing() {
    let app = spawn_app().await;
    app.create_user("admin", PASSWORD, true);
    // Anonymous visitors: forms and failed sign-ins store no session.
    for _ in 0..3 {
        let client = Client::new(&app);
        assert_eq!(client.get("/admin/login/").await.status, 200);
        client.sign_in("admin", "wrong").await;
    }
    assert!(rows(&app).is_empty());
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("x".repeat(5000))
        .build()
        .unwrap();
    let form = Page::read(http.get(app.url("/admin/login/")).send().await.unwrap()).await;
    let response = http
        .post(app.url("/admin/login/"))
        .form(&[
            ("csrf_token", form.csrf().as_str()),
            ("username", "admin"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(rows(&app)[0].user_agent.len(), 200);
}

#[tokio::test]
async fn expired_sessions_are_deleted_at_the_next_sign_in() {
    let app = spawn_app_with(&[("ADMIN_SESSION_TTL", "1s")]).await;
    app.create_user("admin", PASSWORD, true);
    let first = Client::new(&app);
    assert_eq!(first.sign_in("admin", PASSWORD).await.status, 303);
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert_eq!(rows(&app).len(), 1, "still there, expired");
    let second = Client::new(&app);
    assert_eq!(second.sign_in("admin", PASSWORD).await.status, 303);
    assert_eq!(rows(&app).len(), 1, "the expired one went");
    assert_eq!(first.get("/admin/users/").await.status, 302);
}

#[tokio::test]
async fn signing_in_again_in_the_same_browser_replaces_its_session() {
    let app = spawn_app().await;
    let (client, _) = signed_in(&app).await;
    let first = rows(&app);
    assert_eq!(first.len(), 1);
    // A stale sign-in tab, submitted while signed in.
    let csrf = client.csrf().await;
    let page = client
        .post(
            "/admin/login/",
            &[
                ("csrf_token", csrf.as_str()),
                ("username", "admin"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, 303);
    let now = rows(&app);
    assert_eq!(now.len(), 1, "the old session is not left behind");
    assert_ne!(now[0].id, first[0].id);
    assert_eq!(client.get("/admin/users/").await.status, 200);
}

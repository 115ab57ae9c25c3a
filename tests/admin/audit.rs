//! The audit trail: every admin action recorded with who, what, on whom and
//! from where, in the action's transaction; the page's filters, pagination
//! and refusals.

use authtoken::models::audit::{self, AuditAction, AuditEvent, Filter, Origin, Subject};
use authtoken::models::clock;

use super::*;

/// Every recorded event, newest first.
fn trail(app: &TestApp) -> Vec<AuditEvent> {
    app.state
        .domain
        .db
        .run(|conn| audit::list(conn, &Filter::default(), 1, 10_000))
        .unwrap()
        .events
}

/// Signed in as `admin`; the sign-in's own record (checked here) is then
/// removed, so that each test counts only what it does itself.
async fn signed_in_quietly(app: &TestApp) -> (Client<'_>, User) {
    let (client, admin) = signed_in(app).await;
    let events = trail(app);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].action, AuditAction::SignIn);
    assert_eq!(events[0].actor, "admin");
    app.state
        .domain
        .db
        .run(|conn| {
            diesel::delete(schema::audit_events::table)
                .execute(conn)
                .map_err(authtoken::db::DbError::from)
        })
        .unwrap();
    (client, admin)
}

/// The rows of an audit page.
fn rows(page: &Page) -> usize {
    page.body.matches("class=\"audit-row\"").count()
}

#[tokio::test]
async fn every_admin_action_is_recorded_with_who_what_whom_and_where() {
    let app = spawn_app().await;
    let (client, _) = signed_in_quietly(&app).await;
    let dave = app.create_user("dave", PASSWORD, false);
    assert!(
        trail(&app).is_empty(),
        "creating users in tests is not audited"
    );
    let base = format!("/admin/users/{}/", dave.id);

    let page = client.act(&format!("{base}token/regenerate/")).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        client.act(&format!("{base}token/revoke/")).await.status,
        303
    );
    // Nothing left to revoke: nothing happened, nothing recorded.
    assert_eq!(
        client.act(&format!("{base}token/revoke/")).await.status,
        303
    );
    assert_eq!(
        client.act(&format!("{base}token/regenerate/")).await.status,
        200
    );
    assert_eq!(client.act(&format!("{base}deactivate/")).await.status, 303);
    assert_eq!(client.act(&format!("{base}activate/")).await.status, 303);

    let events = trail(&app);
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "user_activated",
            "user_deactivated",
            "token_created",
            "token_revoked",
            "token_regenerated",
        ]
    );
    for event in &events {
        assert_eq!(event.actor, "admin");
        assert_eq!(event.address, "127.0.0.1");
        assert_eq!(event.user_id, Some(dave.id));
        assert_eq!(event.username, "dave");
        assert!(event.at <= clock::now());
    }

    // The page shows them, newest first, with a link to the user.
    let page = client.get("/admin/audit/").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(rows(&page), 5);
    assert!(page.body.contains("Showing 1–5 of 5 events, newest first."));
    let first = page.body.find("user_activated</span>").unwrap();
    let last = page.body.find("token_regenerated</span>").unwrap();
    assert!(first < last, "newest first");
    assert!(page.body.contains(&format!("<a href=\"{base}\">dave</a>")));
    assert!(
        page.body
            .contains("<code class=\"address\">127.0.0.1</code>")
    );
    for column in ["When", "Who", "What", "On whom", "From"] {
        assert!(
            page.body
                .contains(&format!("<th scope=\"col\">{column}</th>"))
        );
    }

    // The token events stay on the user's page.
    let page = client.get(&base).await;
    for kind in ["created", "revoked", "regenerated"] {
        assert!(
            page.body.contains(&format!("badge-event-{kind}\">{kind}")),
            "{kind}"
        );
    }
}

#[tokio::test]
async fn a_trusted_proxy_s_client_address_is_recorded() {
    let app = spawn_app_with(&[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    let (client, _) = signed_in_quietly(&app).await;
    let erin = app.create_user("erin", PASSWORD, false);
    let csrf = client.csrf().await;
    let page = Page::read(
        client
            .http
            .post(app.url(&format!("/admin/users/{}/deactivate/", erin.id)))
            .header("X-Forwarded-For", "203.0.113.7")
            .form(&[("csrf_token", &csrf)])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(page.status, 303);
    let events = trail(&app);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].action, AuditAction::UserDeactivated);
    assert_eq!(events[0].address, "203.0.113.7");
}

#[tokio::test]
async fn a_refused_action_records_nothing() {
    let app = spawn_app().await;
    let (client, _) = signed_in_quietly(&app).await;
    let erin = app.create_user("erin", PASSWORD, false);
    // Without the CSRF token: 403 and nothing changed or recorded.
    let page = client
        .post(&format!("/admin/users/{}/deactivate/", erin.id), &[])
        .await;
    assert_eq!(page.status, 403);
    // No such user: 404, nothing recorded.
    assert_eq!(
        client
            .act("/admin/users/999/token/regenerate/")
            .await
            .status,
        404
    );
    assert_eq!(client.act("/admin/users/999/activate/").await.status, 404);
    assert!(trail(&app).is_empty());
}

/// 120 events by two actors on two users, recorded straight in the table.
fn seed(app: &TestApp, alice: &User, bob: &User) {
    app.state
        .domain
        .db
        .run(|conn| {
            for i in 0..120 {
                let (origin, action, subject) = match i % 3 {
                    0 => (
                        Origin::staff("root", "10.0.0.1"),
                        AuditAction::TokenRevoked,
                        Some(Subject::of(alice)),
                    ),
                    1 => (
                        Origin::cli(),
                        AuditAction::TokenCreated,
                        Some(Subject::of(bob)),
                    ),
                    _ => (Origin::cli(), AuditAction::Import, None),
                };
                let detail = format!("event {i}");
                audit::record(conn, &origin, action, subject, &detail, clock::now())?;
            }
            Ok::<_, authtoken::db::DbError>(())
        })
        .unwrap();
}

#[tokio::test]
async fn filters_and_pages_keep_each_other() {
    let app = spawn_app().await;
    let (client, _) = signed_in_quietly(&app).await;
    let alice = app.create_user("alice", PASSWORD, false);
    let bob = app.create_user("bob", PASSWORD, false);
    seed(&app, &alice, &bob);

    let page = client.get("/admin/audit/").await;
    assert_eq!(page.status, 200);
    assert_eq!(rows(&page), 50);
    assert!(page.body.contains("Showing 1–50 of 120 events"));
    assert!(page.body.contains("event 119"), "newest first");
    assert!(!page.body.contains("event 69<"));
    assert!(page.body.contains("Page 1 of 3"));
    assert_eq!(page.link("prev"), None);
    let next = page.link("next").expect("a next page");
    assert_eq!(next, "/admin/audit/?page=2");
    let page = client.get(&next).await;
    assert_eq!(rows(&page), 50);
    assert!(page.body.contains("Showing 51–100 of 120 events"));
    assert!(page.body.contains("event 69<"));
    let page = client.get("/admin/audit/?page=3").await;
    assert_eq!(rows(&page), 20);
    assert!(page.body.contains("event 0<"));
    assert_eq!(page.link("next"), None);
    // Past the end: the last page.
    let page = client.get("/admin/audit/?page=40").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Page 3 of 3"));

    // One filter at a time, then all of them, and the links keep them.
    let page = client.get("/admin/audit/?action=token_revoked").await;
    assert!(
        page.body.contains("Showing 1–40 of 40 events"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("token_created</span>"));
    assert!(
        page.body
            .contains("<option value=\"token_revoked\" selected>")
    );
    let page = client.get("/admin/audit/?actor=cli").await;
    assert!(page.body.contains("of 80 events"));
    assert_eq!(
        page.link("next").as_deref(),
        Some("/admin/audit/?actor=cli&page=2")
    );
    let page = client.get("/admin/audit/?actor=cli&page=2").await;
    assert_eq!(rows(&page), 30);
    assert_eq!(
        page.link("prev").as_deref(),
        Some("/admin/audit/?actor=cli")
    );
    let page = client.get("/admin/audit/?user=bob").await;
    assert!(page.body.contains("of 40 events"));
    assert!(
        page.body.contains("value=\"bob\""),
        "the form keeps the filter"
    );
    let page = client
        .get("/admin/audit/?actor=cli&action=token_created&user=bob")
        .await;
    assert!(page.body.contains("of 40 events"));
    let page = client.get("/admin/audit/?actor=root&user=bob").await;
    assert_eq!(rows(&page), 0);
    assert!(page.body.contains("No events match these filters."));
    // An import names nobody.
    let page = client.get("/admin/audit/?action=import").await;
    assert!(page.body.contains("<span class=\"muted\">—</span>"));

    // 51 matching rows make two pages, the links keeping every filter.
    app.state
        .domain
        .db
        .run(|conn| {
            for _ in 0..11 {
                let origin = Origin::staff("root", "10.0.0.1");
                let action = AuditAction::TokenRevoked;
                audit::record(
                    conn,
                    &origin,
                    action,
                    Some(Subject::of(&alice)),
                    "",
                    clock::now(),
                )?;
            }
            Ok::<_, authtoken::db::DbError>(())
        })
        .unwrap();
    let page = client
        .get("/admin/audit/?actor=root&action=token_revoked&user=alice")
        .await;
    assert!(page.body.contains("Showing 1–50 of 51 events"));
    let next = page.link("next").unwrap();
    assert_eq!(
        next,
        "/admin/audit/?actor=root&action=token_revoked&user=alice&page=2"
    );
    assert_eq!(rows(&client.get(&next).await), 1);
}

#[tokio::test]
async fn an_unknown_action_or_a_bad_page_is_a_400_that_says_why() {
    let app = spawn_app().await;
    let (client, _) = signed_in_quietly(&app).await;
    let page = client.get("/admin/audit/?action=token_stolen").await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("id=\"audit-error\""));
    assert!(
        page.has_escaped("Unknown action “token_stolen”. Choose one of: sign_in, sign_in_failed")
    );
    assert!(page.body.contains("2fa_disabled, import."));
    assert!(
        page.body.contains("id=\"id_action\""),
        "the form is there to fix it"
    );
    for bad in ["0", "-3", "two", "1e3"] {
        let page = client.get(&format!("/admin/audit/?page={bad}")).await;
        assert_eq!(page.status, 400, "{bad}");
        assert!(page.body.contains("is not a page number"), "{bad}");
    }
    // Markup in a filter is shown as text.
    let page = client.get("/admin/audit/?actor=%3Cb%3Ex").await;
    assert_eq!(page.status, 200);
    assert!(page.has_escaped("<b>x"));
    assert!(!page.body.contains("<b>x"));
}

#[tokio::test]
async fn the_navigation_links_the_overview_users_and_audit_trail() {
    let app = spawn_app().await;
    let (client, admin) = signed_in_quietly(&app).await;
    for path in ["/admin/", "/admin/users/", "/admin/audit/"] {
        let page = client.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        for link in [
            "<a href=\"/admin/\">Overview</a>",
            "<a href=\"/admin/users/\">Users</a>",
            "<a href=\"/admin/audit/\">Audit trail</a>",
        ] {
            assert!(page.body.contains(link), "{path}: {link}");
        }
    }
    // Staff only, like every admin page.
    let anonymous = Client::new(&app);
    let page = anonymous.get("/admin/audit/?action=import").await;
    assert_eq!(page.status, 302);
    set_staff(&app, admin.id, false);
    assert_eq!(client.get("/admin/audit/").await.status, 403);
    assert_eq!(client.get("/admin/").await.status, 403);
}

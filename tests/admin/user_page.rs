//! A user's page, and the 404s.

use super::*;

#[tokio::test]
async fn the_user_page_lists_token_events_newest_first() {
    let app = spawn_app().await;
    let (client, _) = signed_in(&app).await;
    let carol = app.create_user("carol", PASSWORD, false);
    assert_eq!(
        client.act("/admin/users/2/token/regenerate/").await.status,
        200
    );
    assert_eq!(client.act("/admin/users/2/token/revoke/").await.status, 303);
    let page = client.get(&format!("/admin/users/{}/", carol.id)).await;
    let body = &page.body;
    let table = &body[body.find("Token events").unwrap()..];
    let revoked = table.find(">revoked<").unwrap();
    let regenerated = table.find(">regenerated<").unwrap();
    let created = table.find(">created<").unwrap();
    assert!(revoked < regenerated && regenerated < created, "{table}");
    assert_eq!(table.matches("<td data-label=\"By\">admin</td>").count(), 2);
    assert_eq!(table.matches("<td data-label=\"By\">test</td>").count(), 1);
    assert!(body.contains("No token"));
    assert!(!body.contains(">Revoke token</button>"));
    assert!(body.contains(">Regenerate token</button>"));
    assert!(body.contains(">Deactivate user</button>"));
}

#[tokio::test]
async fn unknown_users_and_paths_are_404_pages() {
    let app = spawn_app().await;
    let (client, _) = signed_in(&app).await;
    for path in [
        "/admin/users/999/",
        "/admin/users/abc/",
        "/admin/users/-1/",
        "/admin/nope/",
    ] {
        let page = client.get(path).await;
        assert_eq!(page.status, 404, "{path}");
        assert!(page.body.contains("Not found"), "{path}");
        assert!(
            page.header("content-type")
                .unwrap()
                .starts_with("text/html")
        );
        assert!(page.header("content-security-policy").is_some());
    }
    let page = client.act("/admin/users/999/token/regenerate/").await;
    assert_eq!(page.status, 404);
    let page = client.act("/admin/users/999/deactivate/").await;
    assert_eq!(page.status, 404);
}

#[tokio::test]
async fn the_user_page_shows_first_and_last_names() {
    use schema::users::dsl;
    let app = spawn_app().await;
    let (client, _) = signed_in(&app).await;
    let ada = app.create_user("ada", PASSWORD, false);
    let page = client.get(&format!("/admin/users/{}/", ada.id)).await;
    assert!(
        page.body
            .contains(r#"<dd id="first-name"><span class="muted">—</span></dd>"#)
    );
    app.state
        .domain
        .db
        .run(|conn| {
            diesel::update(dsl::users.find(ada.id))
                .set((dsl::first_name.eq("Ada <&>"), dsl::last_name.eq("Lovelace")))
                .execute(conn)
                .map_err(authtoken::db::DbError::from)
        })
        .unwrap();
    let page = client.get(&format!("/admin/users/{}/", ada.id)).await;
    assert!(
        page.body
            .contains(r#"<dd id="first-name">Ada &#60;&#38;&#62;</dd>"#),
        "{}",
        page.body
    );
    assert!(page.body.contains(r#"<dd id="last-name">Lovelace</dd>"#));
}

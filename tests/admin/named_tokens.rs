//! Named tokens on a user's page: listed without their keys, each with
//! `Revoke token`.

use super::*;
use authtoken::models::{NamedTokenSpec, Scope, Scopes, TokenKey};

fn named(app: &TestApp, user: UserId, name: &str, scopes: &[&str]) -> TokenKey {
    let spec = NamedTokenSpec {
        name: name.into(),
        scopes: Scopes::new(scopes.iter().map(|s| Scope::parse(s).unwrap())),
        expires_in: Some(3600),
    };
    let domain = &app.state.domain;
    let (_, key) = domain
        .db
        .run(|conn| domain.tokens.create_named(conn, user, &spec, "carol"))
        .unwrap()
        .unwrap();
    key
}

fn named_ids(app: &TestApp, user: UserId) -> Vec<i32> {
    let domain = &app.state.domain;
    domain
        .db
        .run(|conn| domain.tokens.list_named(conn, user))
        .unwrap()
        .iter()
        .map(|t| t.id.get())
        .collect()
}

#[tokio::test]
async fn named_tokens_are_listed_without_keys_and_revoked_one_by_one() {
    let app = spawn_app().await;
    let (client, _) = signed_in(&app).await;
    let carol = app.create_user("carol", PASSWORD, false);
    let drf = app.token_of(carol.id);
    let laptop = named(&app, carol.id, "laptop", &["orders:read", "orders:write"]);
    let ci = named(&app, carol.id, "ci <deploy>", &[]);
    let page = client.get(&format!("/admin/users/{}/", carol.id)).await;
    assert_eq!(page.status, 200);
    let body = &page.body;
    let section = &body[body.find("Named tokens").unwrap()..body.find("Token events").unwrap()];
    for key in [laptop.as_str(), ci.as_str(), drf.as_str()] {
        assert!(!body.contains(key), "a key is on the page");
    }
    assert!(section.contains(&format!("{}…", laptop.prefix())));
    assert!(section.contains("orders:read, orders:write"));
    assert!(section.contains("ci &#60;deploy&#62;"), "{section}");
    assert_eq!(section.matches(">Revoke token</button>").count(), 2);
    // Newest first.
    assert!(section.find("ci &#60;deploy&#62;").unwrap() < section.find("laptop").unwrap());

    let ids = named_ids(&app, carol.id);
    let laptop_id = ids[1];
    let page = client
        .act(&format!(
            "/admin/users/{}/tokens/{laptop_id}/revoke/",
            carol.id
        ))
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(named_ids(&app, carol.id), [ids[0]]);
    assert_eq!(api_me(&app, laptop.as_str()).await.0, 401);
    assert_eq!(api_me(&app, ci.as_str()).await.0, 200);
    assert_eq!(api_me(&app, &drf).await.0, 200);
    let page = client.get(&format!("/admin/users/{}/", carol.id)).await;
    assert!(page.body.contains("A named token of carol was revoked."));
    let revoked = events_of(&app, carol.id);
    assert_eq!(
        revoked[0].kind,
        authtoken::models::events::EventKind::Revoked
    );
    assert_eq!(revoked[0].actor, "admin");
    assert_eq!(revoked[0].token_name.as_deref(), Some("laptop"));
    // And in the audit trail, with the staff member as the actor.
    let audited: (String, String, String, String) = app
        .state
        .domain
        .db
        .run(|conn| {
            use schema::audit_events::dsl;
            dsl::audit_events
                .order(dsl::id.desc())
                .select((dsl::actor, dsl::action, dsl::username, dsl::detail))
                .first(conn)
                .map_err(authtoken::db::DbError::from)
        })
        .unwrap();
    assert_eq!(
        audited,
        (
            "admin".to_string(),
            "token_revoked".to_string(),
            "carol".to_string(),
            "named token \"laptop\"".to_string()
        )
    );
    let events = &page.body[page.body.find("Token events").unwrap()..];
    assert!(
        events.contains("<td data-label=\"Token\">laptop</td>"),
        "{events}"
    );
}

#[tokio::test]
async fn another_users_token_or_a_bad_id_is_never_touched() {
    let app = spawn_app().await;
    let (client, _) = signed_in(&app).await;
    let carol = app.create_user("carol", PASSWORD, false);
    let dave = app.create_user("dave", PASSWORD, false);
    let key = named(&app, carol.id, "laptop", &[]);
    let id = named_ids(&app, carol.id)[0];
    // Through dave's page: not his token.
    let page = client
        .act(&format!("/admin/users/{}/tokens/{id}/revoke/", dave.id))
        .await;
    assert_eq!(page.status, 303);
    let page = client.get(&format!("/admin/users/{}/", dave.id)).await;
    assert!(page.body.contains("That token of dave was already gone."));
    for path in [
        format!("/admin/users/{}/tokens/abc/revoke/", carol.id),
        format!("/admin/users/999/tokens/{id}/revoke/"),
    ] {
        assert_eq!(client.act(&path).await.status, 404, "{path}");
    }
    // Without the CSRF token: refused, nothing changed.
    let page = client
        .post(
            &format!("/admin/users/{}/tokens/{id}/revoke/", carol.id),
            &[],
        )
        .await;
    assert_eq!(page.status, 403);
    assert_eq!(named_ids(&app, carol.id), [id]);
    assert_eq!(api_me(&app, key.as_str()).await.0, 200);
}

//! The actions: regenerate (the key shown once), revoke, deactivate, activate.

use super::*;

#[tokio::test]
async fn regenerate_shows_the_new_key_once() {
    let app = spawn_app().await;
    let (client, admin) = signed_in(&app).await;
    let dave = app.create_user("dave", PASSWORD, false);
    let old = app.token_of(dave.id);

    let page = client
        .act(&format!("/admin/users/{}/token/regenerate/", dave.id))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.header("cache-control"), Some("no-store"));
    let new = page.new_token().expect("the new key, in id=\"new-token\"");
    assert_eq!(new.len(), 40);
    assert!(
        new.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    assert_ne!(new, old);
    assert_eq!(page.body.matches(&new).count(), 1, "shown exactly once");
    assert!(page.body.contains("A new token was generated for dave."));

    // The old key is dead, the new one works.
    let (status, body) = api_me(&app, &old).await;
    assert_eq!(
        (status, body.as_str()),
        (401, "{\"detail\":\"Invalid token.\"}")
    );
    let (status, body) = api_me(&app, &new).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"username\":\"dave\""));

    // Never again: not on the user's page, not in the list.
    let page = client.get(&format!("/admin/users/{}/", dave.id)).await;
    assert!(page.new_token().is_none());
    assert!(!page.body.contains(&new[..9]));
    assert!(page.body.contains(&format!("{}…", &new[..8])));
    let page = client.get("/admin/users/").await;
    assert!(!page.body.contains(&new[..9]));

    let events = events_of(&app, dave.id);
    assert_eq!(events[0].kind.as_str(), "regenerated");
    assert_eq!(events[0].actor, "admin");
    assert_eq!(events.len(), 2);
    let _ = admin;

    // A user without a token gets one.
    app.state
        .domain
        .db
        .run(|c| app.state.domain.tokens.revoke(c, dave.id, None, "test"))
        .unwrap();
    let page = client
        .act(&format!("/admin/users/{}/token/regenerate/", dave.id))
        .await;
    let newer = page.new_token().unwrap();
    assert_eq!(api_me(&app, &newer).await.0, 200);
    assert_eq!(events_of(&app, dave.id)[0].kind.as_str(), "created");
    assert_eq!(events_of(&app, dave.id)[0].actor, "admin");
}

#[tokio::test]
async fn revoke_deletes_the_token() {
    let app = spawn_app().await;
    let (client, _) = signed_in(&app).await;
    let erin = app.create_user("erin", PASSWORD, false);
    let key = app.token_of(erin.id);
    let page = client
        .act(&format!("/admin/users/{}/token/revoke/", erin.id))
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location(), Some("/admin/users/2/"));
    let (status, body) = api_me(&app, &key).await;
    assert_eq!(
        (status, body.as_str()),
        (401, "{\"detail\":\"Invalid token.\"}")
    );
    assert!(
        app.state
            .domain
            .db
            .run(|c| app.state.domain.tokens.find(c, erin.id))
            .unwrap()
            .is_none()
    );
    let events = events_of(&app, erin.id);
    assert_eq!(
        (events[0].kind.as_str(), events[0].actor.as_str()),
        ("revoked", "admin")
    );

    let page = client.get("/admin/users/2/").await;
    assert!(page.body.contains("The token of erin was revoked."));
    assert!(page.body.contains("No token"));
    // Flashes are shown once.
    let page = client.get("/admin/users/2/").await;
    assert!(!page.body.contains("was revoked"));

    // Revoking again changes nothing and says so.
    let page = client.act("/admin/users/2/token/revoke/").await;
    assert_eq!(page.status, 303);
    let page = client.get("/admin/users/2/").await;
    assert!(page.body.contains("erin had no token to revoke."));
    assert_eq!(events_of(&app, erin.id).len(), events.len());
}

#[tokio::test]
async fn deactivate_and_activate_flip_is_active() {
    let app = spawn_app().await;
    let (client, admin) = signed_in(&app).await;
    let frank = app.create_user("frank", PASSWORD, false);
    let key = app.token_of(frank.id);

    let page = client
        .act(&format!("/admin/users/{}/deactivate/", frank.id))
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location(), Some("/admin/users/2/"));
    assert!(!user(&app, frank.id).is_active);
    let (status, body) = api_me(&app, &key).await;
    assert_eq!(
        (status, body.as_str()),
        (401, "{\"detail\":\"User inactive or deleted.\"}")
    );
    let page = client.get("/admin/users/2/").await;
    assert!(page.body.contains("frank was deactivated"));
    assert!(page.body.contains(">Activate user</button>"));
    assert!(!page.body.contains(">Deactivate user</button>"));
    let list = client.get("/admin/users/").await;
    assert!(list.body.contains("badge-no\">No</span>"));

    let page = client
        .act(&format!("/admin/users/{}/activate/", frank.id))
        .await;
    assert_eq!(page.status, 303);
    assert!(user(&app, frank.id).is_active);
    assert_eq!(api_me(&app, &key).await.0, 200);
    let page = client.get("/admin/users/2/").await;
    assert!(page.body.contains("frank was activated."));
    assert!(page.body.contains(">Deactivate user</button>"));

    // Not oneself.
    let page = client
        .act(&format!("/admin/users/{}/deactivate/", admin.id))
        .await;
    assert_eq!(page.status, 303);
    assert!(user(&app, admin.id).is_active);
    let page = client.get(&format!("/admin/users/{}/", admin.id)).await;
    assert!(page.body.contains("You cannot deactivate your own account"));
}

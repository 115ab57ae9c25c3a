//! What users typed is escaped in every page.

use super::*;

#[tokio::test]
async fn output_is_escaped() {
    let app = spawn_app().await;
    let (client, _) = signed_in(&app).await;
    let name = "<script>alert(\"x\")</script>";
    let email = "a\"b'c<d>@example.com";
    let id = insert_raw_user(&app, name, email);
    let page = client.get("/admin/users/").await;
    assert!(!page.body.contains("<script"), "{}", page.body);
    assert!(page.has_escaped(name), "{}", page.body);
    assert!(page.has_escaped(email), "{}", page.body);
    assert!(!page.body.contains(email));

    let page = client.get(&format!("/admin/users/{id}/")).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("<script"));
    assert!(page.has_escaped(name));
    assert!(page.has_escaped(email));

    // The search term is reflected escaped.
    let page = client.get("/admin/users/?q=%3Cscript%3Ex%22").await;
    assert!(!page.body.contains("<script"));
    assert!(page.has_escaped("<script>x\""));

    // Actions on that user flash the name escaped (it has no token: it was
    // inserted without the hook).
    let page = client
        .act(&format!("/admin/users/{id}/token/revoke/"))
        .await;
    assert_eq!(page.status, 303);
    let page = client.get(&format!("/admin/users/{id}/")).await;
    assert!(page.has_escaped(&format!("{name} had no token to revoke.")));
    assert!(!page.body.contains("<script"));

    // The sign-in form re-shows a username escaped.
    let anonymous = Client::new(&app);
    let page = anonymous.sign_in("\"><script>x</script>", "pw").await;
    assert!(!page.body.contains("<script"));
    assert!(page.has_escaped("\"><script>x</script>"));
}

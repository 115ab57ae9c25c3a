//! Security headers and the cookie's flags.

use super::*;

#[tokio::test]
async fn admin_pages_carry_the_security_headers() {
    let app = spawn_app().await;
    let client = Client::new(&app);
    let page = client.get("/admin/login/").await;
    let csp = page.header("content-security-policy").expect("a CSP");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("form-action 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(!csp.contains("script-src"), "{csp}");
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(page.header("cache-control"), Some("no-store"));

    let cookies = page.set_cookies();
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    let cookie = &cookies[0];
    assert!(cookie.starts_with("authtoken_admin="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.contains("Secure"), "{cookie}");

    // The stylesheet is served.
    let css = client.get("/static/admin.css").await;
    assert_eq!(css.status, 200);
    assert!(css.header("content-type").unwrap().starts_with("text/css"));
}

#[tokio::test]
async fn over_https_the_cookie_is_host_prefixed_and_secure() {
    let app = spawn_app_with(&[("SECURE_COOKIES", "true")]).await;
    let client = Client::new(&app);
    let page = client.get("/admin/login/").await;
    let cookies = page.set_cookies();
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    let cookie = &cookies[0];
    assert!(cookie.starts_with("__Host-authtoken_admin="), "{cookie}");
    assert!(cookie.contains("Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.to_ascii_lowercase().contains("domain="), "{cookie}");
}

/// `HEAD` answers wherever `GET` does: the same status and headers, no body.
#[tokio::test]
async fn head_works_wherever_get_does() {
    let app = spawn_app().await;
    let (client, admin) = signed_in(&app).await;
    let user_page = format!("/admin/users/{}/", admin.id);
    for path in [
        "/admin/login/",
        "/admin/",
        "/admin/users/",
        user_page.as_str(),
        "/admin/audit/",
        "/admin/audit/?action=token_revoked&page=1",
    ] {
        let get = client.get(path).await;
        let head = Page::read(client.http.head(app.url(path)).send().await.unwrap()).await;
        assert_eq!(head.status, get.status, "{path}");
        assert_eq!(
            head.status,
            if path == "/admin/login/" { 302 } else { 200 },
            "{path}"
        );
        assert_eq!(head.body, "", "{path}");
        assert_eq!(
            head.header("content-type"),
            get.header("content-type"),
            "{path}"
        );
        assert_eq!(head.header("cache-control"), Some("no-store"), "{path}");
    }
    // `/admin` redirects to the overview either way.
    let head = Page::read(client.http.head(app.url("/admin")).send().await.unwrap()).await;
    assert_eq!(head.status, 302);
    assert_eq!(head.location(), Some("/admin/"));
    // A refused filter is refused the same way.
    let bad = "/admin/audit/?action=nope";
    let head = Page::read(client.http.head(app.url(bad)).send().await.unwrap()).await;
    assert_eq!((head.status, head.body.as_str()), (400, ""));
    // An anonymous HEAD is sent to the sign-in like a GET.
    let anonymous = Client::new(&app);
    let head = Page::read(
        anonymous
            .http
            .head(app.url("/admin/users/"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(head.status, 302);
    assert_eq!(head.location(), Some("/admin/login/?next=/admin/users/"));
    // Other methods are refused with the page's methods.
    let put = Page::read(
        client
            .http
            .put(app.url("/admin/users/"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(put.status, 405);
    assert_eq!(put.header("allow"), Some("GET, HEAD"));
}

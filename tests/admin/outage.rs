//! The database going away: a 503 page, then back to normal.

use super::*;

#[tokio::test]
async fn a_database_outage_is_a_503_page_and_passes() {
    let mut db = common::TestDatabase::new();
    if db.is_postgres() {
        // Cutting PostgreSQL needs a proxy (tests/reliability does it for
        // the API); the admin's mapping of the outage is the same code.
        eprintln!("skipped on PostgreSQL: the SQLite run covers the admin's 503");
        return;
    }
    let live = db.dir.path().join("data");
    std::fs::create_dir(&live).unwrap();
    db.url = live.join("test.sqlite3").to_str().unwrap().to_string();
    let away = db.dir.path().join("away");
    let app = common::spawn_app_on(db, &[("DATABASE_TIMEOUT", "1s")]).await;
    let (client, _) = signed_in(&app).await;
    assert_eq!(client.get("/admin/users/").await.status, 200);
    let csrf = client.csrf().await;

    std::fs::rename(&live, &away).unwrap();
    let page = client.get("/admin/users/").await;
    assert_eq!(page.status, 503, "{}", page.body);
    assert!(page.body.contains("Temporarily unavailable"));
    assert!(page.header("retry-after").is_some());
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    let page = client
        .post("/admin/users/1/token/revoke/", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(page.status, 503);
    // The session's own pages: the account page, sign-out (the session is
    // not dropped by an outage: it works again afterwards, below).
    assert_eq!(client.get("/admin/account/").await.status, 503);
    let page = client
        .post("/admin/logout/", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(page.status, 503);
    assert!(page.body.contains("Temporarily unavailable"));

    std::fs::rename(&away, &live).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let status = client.get("/admin/users/").await.status;
        if status == 200 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "still {status}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

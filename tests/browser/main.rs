//! The admin pages in a real browser: Debian's headless Chromium driven
//! through chromedriver. A staff user signs in, searches, opens a user,
//! regenerates the token (the old key then gets 401 from the API and the new
//! one works), revokes it, deactivates the user (the API then says `User
//! inactive or deleted.`), reads the overview (counts and the chart of
//! sign-ins) and the audit trail (filtered too), and signs out. Every page is saved as a PNG under
//! `target/screenshots/`.
//!
//! `two_factor.rs` enrols in two-factor sign-in and signs in with a code
//! and with a recovery code.
//!
//! Without Chromium and chromedriver the test says so loudly and passes,
//! unless `REQUIRE_BROWSER=1`, which makes their absence a failure.

#[path = "../common/mod.rs"]
mod common;

mod two_factor;

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{TestApp, spawn_app};
use fantoccini::{Client, ClientBuilder, Locator};
use futures_util::FutureExt;

const PASSWORD: &str = "correct horse battery";
const WAIT: Duration = Duration::from_secs(20);

type Error = Box<dyn std::error::Error + Send + Sync>;
type Outcome<T = ()> = Result<T, Error>;

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    dirs.push(PathBuf::from("/usr/bin"));
    dirs.push(PathBuf::from("/usr/lib/chromium"));
    for name in names {
        for dir in &dirs {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// chromedriver in its own process group; dropping it ends the whole group
/// (chromedriver and every Chromium process it started).
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start(program: &Path) -> Outcome<Driver> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new(program)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()?;
        let driver = Driver { child, port };
        let deadline = Instant::now() + WAIT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err("chromedriver did not start listening".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(driver)
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn signal_group(&self, signal: &str) {
        let _ = Command::new("kill")
            .args([signal, "--", &format!("-{}", self.child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.signal_group("-TERM");
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Whatever is left of the group (Chromium's helpers) goes too.
        self.signal_group("-KILL");
        let _ = self.child.wait();
    }
}

fn screenshots_dir() -> PathBuf {
    // The test binary is target/<profile>/deps/browser-…: three levels up is target/.
    let target = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(Path::to_path_buf))
        .filter(|t| t.is_dir())
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target")));
    target.join("screenshots")
}

async fn screenshot(c: &Client, name: &str) -> Outcome {
    let png = c.screenshot().await?;
    let dir = screenshots_dir();
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, png)?;
    eprintln!("screenshot: {}", path.display());
    Ok(())
}

fn button(text: &str) -> String {
    format!("//button[normalize-space()='{text}']")
}

/// Clicks and waits until the browser has left the current page (its root
/// element went stale) and `expect` is on the new one.
async fn click_and_wait(c: &Client, target: Locator<'_>, expect: Locator<'_>) -> Outcome {
    let old_root = c.find(Locator::Css("html")).await?;
    c.find(target).await?.click().await?;
    let deadline = Instant::now() + WAIT;
    while old_root.tag_name().await.is_ok() {
        if Instant::now() > deadline {
            return Err("the page did not change after the click".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    c.wait().at_most(WAIT).for_element(expect).await?;
    Ok(())
}

async fn path_of(c: &Client) -> Outcome<String> {
    let url = c.current_url().await?;
    Ok(match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    })
}

async fn page_text(c: &Client) -> Outcome<String> {
    Ok(c.find(Locator::Css("body")).await?.text().await?)
}

async fn text_of(c: &Client, id: &str) -> Outcome<String> {
    Ok(c.find(Locator::Id(id)).await?.text().await?)
}

/// Sign-ins and failed ones in the last 24 hours, as the database has them.
fn last_day(app: &TestApp) -> (i64, i64) {
    use authtoken::models::{activity, clock};
    let since = activity::hour_of(clock::now()) - chrono::Duration::hours(23);
    let rows = app
        .state
        .domain
        .db
        .run(|c| activity::since(c, since))
        .expect("the counts");
    rows.iter().fold((0, 0), |(ok, failed), (_, o, f)| {
        (ok + i64::from(*o), failed + i64::from(*f))
    })
}

async fn api_me(app: &TestApp, key: &str) -> (u16, String) {
    common::status_body(app.get_with_token("/api/auth/me/", key).await).await
}

/// Chromium under chromedriver, with a fresh profile; `None` (the test
/// then passes, loudly) when they are not installed and not required.
struct Browser {
    client: Client,
    driver: Driver,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start() -> Option<Browser> {
        let required = std::env::var("REQUIRE_BROWSER").is_ok_and(|v| v == "1");
        let chromium = find_program(&["chromium", "chromium-browser"]);
        let chromedriver = find_program(&["chromedriver"]);
        let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
            let message = "BROWSER TEST SKIPPED: chromium and/or chromedriver are not installed \
                           (apt-get install chromium chromium-driver)";
            eprintln!(
                "\n{}\n!!! {message} !!!\n{}\n",
                "!".repeat(80),
                "!".repeat(80)
            );
            assert!(!required, "REQUIRE_BROWSER=1: {message}");
            return None;
        };
        let driver = Driver::start(&chromedriver).expect("chromedriver starts");
        let profile = tempfile::tempdir().expect("a profile folder");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": chromium.to_string_lossy(),
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                    "--hide-scrollbars",
                    "--force-device-scale-factor=1",
                    "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        let client = ClientBuilder::rustls()
            .expect("a WebDriver client")
            .capabilities(capabilities)
            .connect(&driver.url())
            .await
            .expect("a WebDriver session");
        Some(Browser {
            client,
            driver,
            _profile: profile,
        })
    }

    /// Always ends the WebDriver session, then the driver's process group,
    /// whatever the story's outcome; then reports it.
    async fn finish(self, outcome: Result<Outcome, Box<dyn std::any::Any + Send>>) {
        let closed = self.client.close().await;
        drop(self.driver);
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("the browser story failed: {e}"),
            Err(panic) => std::panic::resume_unwind(panic),
        }
        closed.expect("the WebDriver session closes");
        eprintln!("screenshots in {}", screenshots_dir().display());
    }
}

#[tokio::test]
async fn a_staff_user_manages_a_token_in_the_browser() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    let admin = app.create_user("admin", PASSWORD, true);
    for name in ["alice", "bob", "carol", "erin"] {
        app.create_user(name, PASSWORD, false);
    }
    let dave = app.create_user("dave", PASSWORD, false);
    let _ = admin;
    let outcome = AssertUnwindSafe(story(&browser.client, &app, dave.id))
        .catch_unwind()
        .await;
    browser.finish(outcome).await;
}

async fn story(c: &Client, app: &TestApp, dave_id: authtoken::models::UserId) -> Outcome {
    let url = |path: &str| app.url(path);

    // Anonymous: the users list sends us to the sign-in, keeping where we were going.
    c.goto(&url("/admin/users/")).await?;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Id("id_username"))
        .await?;
    assert_eq!(path_of(c).await?, "/admin/login/?next=/admin/users/");
    screenshot(c, "01-sign-in").await?;

    // A wrong password: the form again, with the error.
    c.find(Locator::Id("id_username"))
        .await?
        .send_keys("admin")
        .await?;
    c.find(Locator::Id("id_password"))
        .await?
        .send_keys("not it")
        .await?;
    click_and_wait(
        c,
        Locator::XPath(&button("Sign in")),
        Locator::Id("login-error"),
    )
    .await?;
    assert!(
        page_text(c)
            .await?
            .contains("Please enter the correct username and password")
    );
    screenshot(c, "02-sign-in-error").await?;

    // Sign in.
    let username = c.find(Locator::Id("id_username")).await?;
    assert_eq!(username.prop("value").await?.as_deref(), Some("admin"));
    c.find(Locator::Id("id_password"))
        .await?
        .send_keys(PASSWORD)
        .await?;
    click_and_wait(c, Locator::XPath(&button("Sign in")), Locator::Id("id_q")).await?;
    assert_eq!(path_of(c).await?, "/admin/users/");
    let text = page_text(c).await?;
    assert!(text.contains("Signed in as admin"), "{text}");
    assert!(text.contains("Showing 1–6 of 6 users"), "{text}");
    screenshot(c, "03-users").await?;

    // Search.
    c.find(Locator::Id("id_q")).await?.send_keys("dav").await?;
    click_and_wait(
        c,
        Locator::XPath(&button("Search")),
        Locator::LinkText("dave"),
    )
    .await?;
    assert_eq!(path_of(c).await?, "/admin/users/?q=dav");
    let text = page_text(c).await?;
    assert!(
        text.contains("Showing 1–1 of 1 user matching “dav”"),
        "{text}"
    );
    assert!(!text.contains("alice"));
    screenshot(c, "04-search").await?;

    // Open the user.
    click_and_wait(c, Locator::LinkText("dave"), Locator::Id("token-state")).await?;
    assert_eq!(path_of(c).await?, format!("/admin/users/{dave_id}/"));
    let old_key = app.token_of(dave_id);
    assert_eq!(api_me(app, &old_key).await.0, 200);
    let text = page_text(c).await?;
    assert!(text.contains(&format!("{}…", &old_key[..8])), "{text}");
    assert!(!text.contains(&old_key));
    screenshot(c, "05-user").await?;

    // Regenerate: the new key, once.
    click_and_wait(
        c,
        Locator::XPath(&button("Regenerate token")),
        Locator::Id("new-token"),
    )
    .await?;
    let new_key = c.find(Locator::Id("new-token")).await?.text().await?;
    let new_key = new_key.trim().to_string();
    assert_eq!(new_key.len(), 40, "{new_key:?}");
    assert_ne!(new_key, old_key);
    screenshot(c, "06-new-token").await?;
    let (status, body) = api_me(app, &old_key).await;
    assert_eq!(
        (status, body.as_str()),
        (401, "{\"detail\":\"Invalid token.\"}")
    );
    let (status, body) = api_me(app, &new_key).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"username\":\"dave\""), "{body}");

    // Never again.
    c.goto(&url(&format!("/admin/users/{dave_id}/"))).await?;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Id("token-state"))
        .await?;
    assert!(c.find(Locator::Id("new-token")).await.is_err());
    assert!(!page_text(c).await?.contains(&new_key));

    // Revoke.
    click_and_wait(
        c,
        Locator::XPath(&button("Revoke token")),
        Locator::Css(".flash-success"),
    )
    .await?;
    let text = page_text(c).await?;
    assert!(text.contains("The token of dave was revoked."), "{text}");
    assert!(text.contains("No token"), "{text}");
    screenshot(c, "07-revoked").await?;
    let (status, body) = api_me(app, &new_key).await;
    assert_eq!(
        (status, body.as_str()),
        (401, "{\"detail\":\"Invalid token.\"}")
    );

    // Deactivate, holding a fresh key made through the domain.
    let fresh_key = app.token_of(dave_id);
    assert_eq!(api_me(app, &fresh_key).await.0, 200);
    c.refresh().await?;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Id("token-prefix"))
        .await?;
    click_and_wait(
        c,
        Locator::XPath(&button("Deactivate user")),
        Locator::XPath(&button("Activate user")),
    )
    .await?;
    let text = page_text(c).await?;
    assert!(text.contains("dave was deactivated"), "{text}");
    screenshot(c, "08-deactivated").await?;
    let (status, body) = api_me(app, &fresh_key).await;
    assert_eq!(
        (status, body.as_str()),
        (401, "{\"detail\":\"User inactive or deleted.\"}")
    );

    // The same pages on a phone-sized screen.
    c.set_window_size(390, 844).await?;
    c.goto(&url("/admin/users/")).await?;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Id("id_q"))
        .await?;
    screenshot(c, "09-users-narrow").await?;
    c.goto(&url(&format!("/admin/users/{dave_id}/"))).await?;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Id("token-state"))
        .await?;
    screenshot(c, "10-user-narrow").await?;
    c.set_window_size(1280, 900).await?;

    // Some API sign-ins for the overview: two that work, one that does not.
    for password in [PASSWORD, PASSWORD, "not it"] {
        let response = app
            .post_json(
                "/api-token-auth/",
                &serde_json::json!({"username": "alice", "password": password}),
            )
            .await;
        assert!(response.status().as_u16() < 500);
    }

    // The overview: the counts, and the chart drawn with the stylesheet's
    // colours (the CSP lets no inline style through).
    click_and_wait(
        c,
        Locator::LinkText("Overview"),
        Locator::Id("activity-chart"),
    )
    .await?;
    assert_eq!(path_of(c).await?, "/admin/");
    assert_eq!(text_of(c, "count-users").await?, "6");
    assert_eq!(text_of(c, "count-active").await?, "5");
    assert_eq!(text_of(c, "count-staff").await?, "1");
    // The API's two and one, and whatever the admin's own sign-ins added.
    let (ok, failed) = last_day(app);
    assert!(ok >= 2 && failed >= 1, "{ok} {failed}");
    assert_eq!(text_of(c, "count-sign-ins").await?, ok.to_string());
    assert_eq!(text_of(c, "count-failed").await?, failed.to_string());
    let bars = c.find_all(Locator::Css("#activity-chart g.bar")).await?;
    assert_eq!(bars.len(), 168);
    let legend = c
        .find(Locator::Css("#activity-chart .chart-legend rect.bar-ok"))
        .await?;
    assert_eq!(legend.css_value("fill").await?, "rgb(46, 158, 91)");
    let chart = c.find(Locator::Id("activity-chart")).await?;
    let (_, _, width, height) = chart.rectangle().await?;
    assert!(
        width > 600.0 && height > 150.0,
        "the chart fills the card: {width}×{height}"
    );
    screenshot(c, "11-overview").await?;

    // The audit trail: this story's actions, newest first.
    click_and_wait(
        c,
        Locator::LinkText("Audit trail"),
        Locator::Id("id_action"),
    )
    .await?;
    let text = page_text(c).await?;
    assert!(text.contains("newest first"), "{text}");
    let rows = c.find_all(Locator::Css("tr.audit-row")).await?;
    let mut actions = Vec::new();
    for row in &rows {
        let text = row.text().await?;
        for action in ["user_deactivated", "token_revoked", "token_regenerated"] {
            if text.contains(action) {
                assert!(text.contains("dave"), "{text}");
                assert!(
                    text.contains("admin") && text.contains("127.0.0.1"),
                    "{text}"
                );
                actions.push(action);
            }
        }
    }
    assert_eq!(
        actions,
        ["user_deactivated", "token_revoked", "token_regenerated"]
    );
    screenshot(c, "12-audit").await?;
    // Filtered by what was done.
    c.find(Locator::Id("id_action"))
        .await?
        .select_by_value("token_revoked")
        .await?;
    click_and_wait(
        c,
        Locator::XPath(&button("Filter")),
        Locator::Css("tr.audit-row"),
    )
    .await?;
    assert_eq!(
        path_of(c).await?,
        "/admin/audit/?actor=&action=token_revoked&user="
    );
    let rows = c.find_all(Locator::Css("tr.audit-row")).await?;
    assert_eq!(rows.len(), 1);
    assert!(rows[0].text().await?.contains("token_revoked"));
    screenshot(c, "13-audit-filtered").await?;

    // Both on a phone-sized screen.
    c.set_window_size(390, 844).await?;
    c.goto(&url("/admin/")).await?;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Id("activity-chart"))
        .await?;
    screenshot(c, "14-overview-narrow").await?;
    c.goto(&url("/admin/audit/")).await?;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Id("id_action"))
        .await?;
    screenshot(c, "15-audit-narrow").await?;
    c.set_window_size(1280, 900).await?;

    // Sign out.
    click_and_wait(
        c,
        Locator::XPath(&button("Sign out")),
        Locator::Id("id_username"),
    )
    .await?;
    assert_eq!(path_of(c).await?, "/admin/login/");
    assert!(page_text(c).await?.contains("You have been signed out."));
    screenshot(c, "16-signed-out").await?;
    c.goto(&url("/admin/users/")).await?;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Id("id_username"))
        .await?;
    assert_eq!(path_of(c).await?, "/admin/login/?next=/admin/users/");
    Ok(())
}

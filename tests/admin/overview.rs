//! The overview at `/admin/`: the counts, the sign-ins of the last 24 hours
//! and the week's chart and table, checked against sign-ins made here.

use authtoken::models::activity::{self, SignInOutcome};
use authtoken::models::clock;
use chrono::Duration;

use super::*;

/// The text of the element with `id="<id>"`.
fn text_of(page: &Page, id: &str) -> String {
    let start = page
        .body
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no id={id} in the page"));
    let rest = &page.body[start..];
    let open = rest.find('>').unwrap() + 1;
    let close = rest[open..].find('<').unwrap();
    rest[open..open + close].trim().to_string()
}

fn number(page: &Page, id: &str) -> i64 {
    text_of(page, id).replace(',', "").parse().unwrap()
}

/// The table's `(sign-ins, failed)` per hour, newest first.
fn table(page: &Page) -> Vec<(i64, i64)> {
    let start = page.body.find("id=\"activity-table\"").expect("the table");
    let body = &page.body[start..];
    let body = &body[..body.find("</table>").unwrap()];
    body.split("<tr><th scope=\"row\">")
        .skip(1)
        .map(|row| {
            let cells: Vec<i64> = row
                .split("<td>")
                .skip(1)
                .map(|c| c[..c.find("</td>").unwrap()].parse().unwrap())
                .collect();
            (cells[0], cells[1])
        })
        .collect()
}

/// The chart's bars' `(sign-ins, failed)` from their titles.
fn bars(page: &Page) -> Vec<(i64, i64)> {
    page.body
        .split("<g class=\"bar\"><title>")
        .skip(1)
        .map(|bar| {
            let title = &bar[..bar.find("</title>").unwrap()];
            let numbers: Vec<i64> = title
                .rsplit(": ")
                .next()
                .unwrap()
                .split(", ")
                .map(|part| part.split(' ').next().unwrap().parse().unwrap())
                .collect();
            (numbers[0], numbers[1])
        })
        .collect()
}

fn sums(rows: &[(i64, i64)]) -> (i64, i64) {
    rows.iter()
        .fold((0, 0), |(ok, failed), (o, f)| (ok + o, failed + f))
}

async fn api_sign_in(app: &TestApp, username: &str, password: &str) -> u16 {
    app.post_json(
        "/api-token-auth/",
        &serde_json::json!({"username": username, "password": password}),
    )
    .await
    .status()
    .as_u16()
}

#[tokio::test]
async fn the_counts_are_the_database_s() {
    let app = spawn_app().await;
    let (client, _) = signed_in(&app).await;
    for name in ["alice", "bob", "carol", "dave"] {
        app.create_user(name, PASSWORD, false);
    }
    let helper = app.create_user("helper", PASSWORD, true);
    let bob = app
        .state
        .domain
        .db
        .run(|c| users::find_by_username(c, "bob"))
        .unwrap()
        .unwrap();
    app.state
        .domain
        .db
        .run(|c| {
            users::set_active(c, bob.id, false)?;
            app.state.domain.tokens.revoke(c, helper.id, None, "test")
        })
        .unwrap();

    let page = client.get("/admin/").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert_eq!(number(&page, "count-users"), 6);
    assert_eq!(number(&page, "count-active"), 5);
    assert_eq!(number(&page, "count-staff"), 2);
    // Every user got a token from the hook but helper, whose was revoked.
    assert_eq!(number(&page, "count-tokens"), 5);
}

#[tokio::test]
async fn api_sign_ins_are_counted_per_hour_in_the_figures_the_chart_and_the_table() {
    let app = spawn_app_with(&[("LOGIN_THROTTLE", "2/min")]).await;
    let (client, _) = signed_in(&app).await;
    app.create_user("alice", PASSWORD, false);
    app.create_user("bob", PASSWORD, false);
    // Earlier activity: three days ago (in the week, not the day) and eight
    // days ago (in neither).
    let now = clock::now();
    app.state
        .domain
        .db
        .run(|c| {
            for _ in 0..4 {
                activity::count(c, SignInOutcome::Ok, now - Duration::days(3))?;
            }
            activity::count(c, SignInOutcome::Failed, now - Duration::days(3))?;
            activity::count(c, SignInOutcome::Ok, now - Duration::days(8))
        })
        .unwrap();
    // What the admin's own sign-in may have added (it is counted by the
    // admin's sessions, not here).
    let before = client.get("/admin/").await;
    let (ok0, failed0) = (
        number(&before, "count-sign-ins"),
        number(&before, "count-failed"),
    );

    for _ in 0..3 {
        assert_eq!(api_sign_in(&app, "alice", PASSWORD).await, 200);
    }
    assert_eq!(api_sign_in(&app, "bob", "wrong").await, 400);
    assert_eq!(api_sign_in(&app, "bob", "wrong").await, 400);
    // The third within the minute is throttled: a failure too.
    assert_eq!(api_sign_in(&app, "bob", PASSWORD).await, 429);
    // Requests with a token are not sign-ins.
    let key = app.token_of(UserId::new(2));
    assert_eq!(api_me(&app, &key).await.0, 200);

    let page = client.get("/admin/").await;
    assert_eq!(page.status, 200);
    assert_eq!(number(&page, "count-sign-ins"), ok0 + 3);
    assert_eq!(number(&page, "count-failed"), failed0 + 3);

    // The table: 168 hours, the week's sums, the earlier hour in its place.
    let rows = table(&page);
    assert_eq!(rows.len(), 168);
    assert_eq!(sums(&rows), (ok0 + 3 + 4, failed0 + 3 + 1));
    assert_eq!(sums(&rows[..24]), (ok0 + 3, failed0 + 3));
    // Three days ago, newest first: row 72 (73 if an hour began meanwhile).
    let hour = (now - Duration::days(3))
        .format("%a %d %b %H:00")
        .to_string();
    let at = page
        .body
        .find(&format!("<tr><th scope=\"row\">{hour}</th>"))
        .expect("the hour three days ago");
    let index = page.body[..at].matches("<tr><th scope=\"row\">").count();
    assert!(index == 72 || index == 73, "{index}");
    assert_eq!(rows[index], (4, 1));
    // The chart: one bar an hour with the same numbers, oldest first.
    let mut drawn = bars(&page);
    assert_eq!(drawn.len(), 168);
    drawn.reverse();
    assert_eq!(drawn, rows);
    // Readable: a title, a legend, axis titles, day labels; no script and
    // no inline style (the CSP allows neither).
    for text in [
        "<svg id=\"activity-chart\"",
        "<title id=\"chart-title\">",
        ">Sign-ins</text>",
        ">Failed sign-ins</text>",
        ">Sign-ins per hour</text>",
        ">Day (UTC), one bar an hour</text>",
        &format!(">{}</text>", (now - Duration::days(3)).format("%a %d %b")),
    ] {
        assert!(page.body.contains(text), "{text}");
    }
    assert!(!page.body.contains("style="));
    assert!(!page.body.contains("<script"));
}

#[tokio::test]
async fn head_of_the_overview_and_anonymous_visitors() {
    let app = spawn_app().await;
    let anonymous = Client::new(&app);
    let page = anonymous.get("/admin/").await;
    assert_eq!(page.status, 302);
    assert_eq!(page.location(), Some("/admin/login/?next=/admin/"));
    let (client, _) = signed_in(&app).await;
    let head = Page::read(client.http.head(app.url("/admin/")).send().await.unwrap()).await;
    assert_eq!((head.status, head.body.as_str()), (200, ""));
    assert_eq!(
        head.header("content-type"),
        Some("text/html; charset=utf-8")
    );
}

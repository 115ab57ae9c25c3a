//! The admin pages over HTTP: every page and action, the redirects, the
//! 403s, CSRF refusals that change nothing, escaping, and the full key shown
//! exactly once. On SQLite, and on PostgreSQL with `TEST_DATABASE_URL`.

#[path = "../common/mod.rs"]
mod common;

mod actions;
mod audit;
mod csrf;
mod escaping;
mod headers;
mod named_tokens;
mod outage;
mod overview;
mod server_sessions;
mod session;
mod sign_in;
mod two_factor;
mod user_page;
mod users_list;

use authtoken::models::events::{self, TokenEvent};
use authtoken::models::{User, UserId, users};
use authtoken::schema;
use common::{TestApp, spawn_app, spawn_app_with};
use diesel::prelude::*;
use reqwest::header::HeaderMap;

const PASSWORD: &str = "correct horse battery";
const BAD_CREDENTIALS: &str = "Please enter the correct username and password for a staff account.";

/// A response, read.
struct Page {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Page {
    async fn read(response: reqwest::Response) -> Page {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.expect("a body");
        Page {
            status,
            headers,
            body,
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn location(&self) -> Option<&str> {
        self.header("location")
    }

    /// The CSRF token of the page's forms.
    fn csrf(&self) -> String {
        attribute_after(&self.body, "name=\"csrf_token\" value=\"")
            .unwrap_or_else(|| panic!("no CSRF token in the page:\n{}", self.body))
    }

    /// The text of the element with `id="new-token"`, if there is one.
    fn new_token(&self) -> Option<String> {
        let start = self.body.find("id=\"new-token\"")?;
        let rest = &self.body[start..];
        let open = rest.find('>')? + 1;
        let close = rest[open..].find('<')?;
        Some(rest[open..open + close].trim().to_string())
    }

    /// The `href` of the link with `rel="<rel>"`, its entities decoded.
    fn link(&self, rel: &str) -> Option<String> {
        let end = self.body.find(&format!("\" rel=\"{rel}\""))?;
        let start = self.body[..end].rfind("href=\"")? + "href=\"".len();
        Some(unescape(&self.body[start..end]))
    }

    /// Whether `text`, HTML-escaped, is in the page (and not raw).
    fn has_escaped(&self, text: &str) -> bool {
        let entities = text
            .replace('&', "&#38;")
            .replace('<', "&#60;")
            .replace('>', "&#62;")
            .replace('"', "&#34;")
            .replace('\'', "&#39;");
        let named = text
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&#x27;");
        self.body.contains(&entities) || self.body.contains(&named)
    }

    fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_string)
            .collect()
    }
}

fn unescape(s: &str) -> String {
    s.replace("&#38;", "&")
        .replace("&amp;", "&")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#60;", "<")
        .replace("&lt;", "<")
        .replace("&#62;", ">")
        .replace("&gt;", ">")
}

fn attribute_after(html: &str, marker: &str) -> Option<String> {
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_string())
}

/// A browser-like client: its own cookie jar, redirects not followed.
struct Client<'a> {
    app: &'a TestApp,
    http: reqwest::Client,
}

impl<'a> Client<'a> {
    fn new(app: &'a TestApp) -> Client<'a> {
        Client {
            app,
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    async fn get(&self, path: &str) -> Page {
        Page::read(
            self.http
                .get(self.app.url(path))
                .send()
                .await
                .expect("request sent"),
        )
        .await
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        Page::read(
            self.http
                .post(self.app.url(path))
                .form(fields)
                .send()
                .await
                .expect("request sent"),
        )
        .await
    }

    /// Fills in the sign-in form as a browser would.
    async fn sign_in_with_next(&self, username: &str, password: &str, next: &str) -> Page {
        let form = self.get("/admin/login/").await;
        assert_eq!(form.status, 200);
        let csrf = form.csrf();
        self.post(
            "/admin/login/",
            &[
                ("csrf_token", &csrf),
                ("username", username),
                ("password", password),
                ("next", next),
            ],
        )
        .await
    }

    async fn sign_in(&self, username: &str, password: &str) -> Page {
        self.sign_in_with_next(username, password, "").await
    }

    /// The CSRF token of the signed-in session (from the users list).
    async fn csrf(&self) -> String {
        let page = self.get("/admin/users/").await;
        assert_eq!(page.status, 200, "{}", page.body);
        page.csrf()
    }

    /// POSTs an action with the session's CSRF token.
    async fn act(&self, path: &str) -> Page {
        let csrf = self.csrf().await;
        self.post(path, &[("csrf_token", &csrf)]).await
    }
}

/// A staff user `admin` and a client signed in as them.
async fn signed_in(app: &TestApp) -> (Client<'_>, User) {
    let admin = app.create_user("admin", PASSWORD, true);
    let client = Client::new(app);
    let page = client.sign_in("admin", PASSWORD).await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.location(), Some("/admin/users/"));
    (client, admin)
}

fn events_of(app: &TestApp, user_id: UserId) -> Vec<TokenEvent> {
    app.state
        .domain
        .db
        .run(|conn| events::for_user(conn, user_id, 100))
        .unwrap()
}

fn user(app: &TestApp, id: UserId) -> User {
    app.state
        .domain
        .db
        .run(|conn| users::find_by_id(conn, id))
        .unwrap()
        .expect("the user exists")
}

fn set_staff(app: &TestApp, id: UserId, staff: bool) {
    use schema::users::dsl;
    app.state
        .domain
        .db
        .run(|conn| {
            diesel::update(dsl::users.find(id))
                .set(dsl::is_staff.eq(staff))
                .execute(conn)
                .map_err(authtoken::db::DbError::from)
        })
        .unwrap();
}

/// A user inserted as an import could bring one: a name the sign-up would
/// refuse.
fn insert_raw_user(app: &TestApp, username: &str, email: &str) -> i32 {
    use schema::users::dsl;
    app.state
        .domain
        .db
        .run(|conn| {
            diesel::insert_into(dsl::users)
                .values((
                    dsl::username.eq(username),
                    dsl::email.eq(email),
                    dsl::password_hash.eq("!"),
                    dsl::is_active.eq(true),
                    dsl::is_staff.eq(false),
                    dsl::is_superuser.eq(false),
                    dsl::date_joined.eq(authtoken::models::clock::now()),
                ))
                .returning(dsl::id)
                .get_result::<i32>(conn)
                .map_err(authtoken::db::DbError::from)
        })
        .unwrap()
}

async fn api_me(app: &TestApp, key: &str) -> (u16, String) {
    common::status_body(app.get_with_token("/api/auth/me/", key).await).await
}

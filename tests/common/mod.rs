//! Starting the real server for a test: a fresh database of its own (a
//! SQLite file, or a new PostgreSQL database when `TEST_DATABASE_URL` is
//! set), a random port, real HTTP.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::web;
use authtoken::state::AppState;
use authtoken::{Application, Settings};
use diesel::{Connection, RunQueryDsl, pg::PgConnection};

pub const SECRET: &str = "test-secret-0123456789abcdef0123456789abcdef";

/// A throwaway database: a SQLite file in a temporary folder, or a fresh
/// PostgreSQL database dropped again when the test ends.
pub struct TestDatabase {
    pub url: String,
    pub dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

impl TestDatabase {
    pub fn new() -> TestDatabase {
        let dir = tempfile::tempdir().expect("a temporary folder");
        match std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            Some(base) => {
                static COUNTER: AtomicU64 = AtomicU64::new(0);
                let name = format!(
                    "authtoken_test_{}_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::Relaxed),
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap()
                        .subsec_nanos()
                );
                let admin_url = format!("{}/postgres", base.trim_end_matches('/'));
                let mut conn = PgConnection::establish(&admin_url)
                    .unwrap_or_else(|e| panic!("cannot reach TEST_DATABASE_URL: {e}"));
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .expect("CREATE DATABASE");
                TestDatabase {
                    url: format!("{}/{name}", base.trim_end_matches('/')),
                    dir,
                    pg: Some((admin_url, name)),
                }
            }
            None => {
                let url = dir
                    .path()
                    .join("test.sqlite3")
                    .to_str()
                    .unwrap()
                    .to_string();
                TestDatabase { url, dir, pg: None }
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = &self.pg
            && let Ok(mut conn) = PgConnection::establish(admin_url)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn);
        }
    }
}

/// Settings for a test server: fast bcrypt, a fixed secret, the test's database.
pub fn test_settings(db: &TestDatabase, overrides: &[(&str, &str)]) -> Settings {
    let mut vars: HashMap<String, String> = HashMap::from([
        ("DATABASE_URL".into(), db.url.clone()),
        ("SECRET_KEY".into(), SECRET.into()),
        ("BCRYPT_COST".into(), "4".into()),
        ("WORKERS".into(), "2".into()),
        ("DATABASE_POOL_SIZE".into(), "4".into()),
        ("SHUTDOWN_TIMEOUT".into(), "1".into()),
    ]);
    for (k, v) in overrides {
        vars.insert(k.to_string(), v.to_string());
    }
    Settings::from_lookup(|k| vars.get(k).cloned()).expect("valid test settings")
}

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub state: web::Data<AppState>,
    pub client: reqwest::Client,
    pub server: actix_web::dev::ServerHandle,
    /// `/metrics`'s address, when `METRICS_BIND` was given.
    pub metrics: Option<std::net::SocketAddr>,
    // Dropped last: the server must stop before its database goes.
    pub db: TestDatabase,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop the workers so the database can be dropped.
        let handle = self.server.clone();
        std::mem::drop(handle.stop(false));
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    let db = TestDatabase::new();
    spawn_app_on(db, overrides).await
}

pub async fn spawn_app_on(db: TestDatabase, overrides: &[(&str, &str)]) -> TestApp {
    let settings = test_settings(&db, overrides);
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let app = Application::build(settings, listener).expect("the server starts");
    let port = app.port();
    let state = app.state();
    let server = app.server().handle();
    let metrics = app.metrics_addr();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        state,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        server,
        metrics,
        db,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Creates a user directly through the domain (with its token, via the hook).
    pub fn create_user(
        &self,
        username: &str,
        password: &str,
        staff: bool,
    ) -> authtoken::models::User {
        use authtoken::models::validation::{Email, Username};
        use authtoken::models::{NewUser, users};
        let new = NewUser {
            username: Username::parse(username).expect("a valid username"),
            email: Email::parse(&format!("{username}@example.com")).expect("a valid email"),
            password_hash: bcrypt::hash(password, 4).unwrap(),
            is_active: true,
            is_staff: staff,
            is_superuser: staff,
        };
        self.state
            .domain
            .db
            .run(|conn| users::create_user(conn, &self.state.domain.hooks, &new, "test"))
            .expect("user created")
    }

    /// The user's current key (get-or-create through the domain).
    pub fn token_of(&self, user_id: authtoken::models::UserId) -> String {
        self.state
            .domain
            .db
            .run(|conn| {
                self.state
                    .domain
                    .tokens
                    .get_or_create(conn, user_id, "test")
            })
            .expect("token")
            .as_str()
            .to_string()
    }

    /// The token's `last_used` as stored now.
    pub fn last_used(&self, user_id: authtoken::models::UserId) -> Option<chrono::NaiveDateTime> {
        let domain = &self.state.domain;
        domain
            .db
            .run(|conn| domain.tokens.find(conn, user_id))
            .expect("token read")
            .expect("a token")
            .last_used
    }

    /// `last_used` once it is recorded: on SQLite a background writer
    /// records it within a second of the use. `None` after 5 s.
    pub async fn last_used_eventually(
        &self,
        user_id: authtoken::models::UserId,
    ) -> Option<chrono::NaiveDateTime> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let found = self.last_used(user_id);
            if found.is_some() || std::time::Instant::now() >= deadline {
                return found;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn get_with_token(&self, path: &str, key: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .header("Authorization", format!("Token {key}"))
            .send()
            .await
            .expect("request sent")
    }

    pub async fn post_with_token(&self, path: &str, key: &str) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("Authorization", format!("Token {key}"))
            .send()
            .await
            .expect("request sent")
    }
}

/// Status and body text of a response.
pub async fn status_body(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

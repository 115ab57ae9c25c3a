//! The database goes away while the server runs, and comes back.
//!
//! - PostgreSQL: the server talks to it through a [`TcpProxy`]; "down" closes
//!   the proxy's port (new connections are refused) and cuts every open
//!   connection (pooled ones die mid-use), as a stopped or unreachable server
//!   would. The shared PostgreSQL server itself is never touched.
//! - SQLite: the folder holding the database (with its `-wal` and `-shm`) is
//!   renamed away, as when a volume is unmounted or the file moved; root
//!   ignores permissions, so `chmod` would simulate nothing. New connections
//!   cannot open it, and pooled connections, whose open file is no longer the
//!   one at `DATABASE_URL`'s path, must not be used. "Back" renames it back.
//!
//! Either way: protected endpoints and sign-in answer 503 with a JSON
//! `detail` within the pool's timeout (`DATABASE_TIMEOUT`, 2 s here), never
//! 401 or 500 and never a hang; `/readyz` is 503 and `/healthz` 200; once the
//! database is back, requests succeed again without a restart, and every
//! registration that was answered 201 around the cut is there.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{TestApp, TestDatabase, spawn_app_on};
use crate::support::{TcpProxy, pg_target, with_port};

const DATABASE_TIMEOUT: Duration = Duration::from_secs(2);
/// "Within the pool's timeout", with room for a loaded 2-core machine: a
/// request that takes longer than this hangs.
const ANSWER_LIMIT: Duration = Duration::from_secs(2 + 8);
const UNAVAILABLE: &str = r#"{"detail":"Service temporarily unavailable, try again later."}"#;

enum Switch {
    Postgres(TcpProxy),
    Sqlite { live: PathBuf, away: PathBuf },
}

impl Switch {
    fn cut(&mut self) {
        match self {
            Switch::Postgres(proxy) => proxy.stop(),
            Switch::Sqlite { live, away } => std::fs::rename(live, away).unwrap(),
        }
    }

    fn restore(&mut self) {
        match self {
            Switch::Postgres(proxy) => proxy.restart(),
            Switch::Sqlite { live, away } => std::fs::rename(away, live).unwrap(),
        }
    }
}

async fn app_with_switch() -> (TestApp, Switch) {
    let mut db = TestDatabase::new();
    let switch = if db.is_postgres() {
        let proxy = TcpProxy::start(pg_target(&db.url));
        db.url = with_port(&db.url, proxy.port());
        Switch::Postgres(proxy)
    } else {
        let live = db.dir.path().join("data");
        std::fs::create_dir(&live).unwrap();
        db.url = live.join("test.sqlite3").to_str().unwrap().to_string();
        let away = db.dir.path().join("away");
        Switch::Sqlite { live, away }
    };
    let app = spawn_app_on(
        db,
        &[
            ("DATABASE_TIMEOUT", "2s"),
            ("DATABASE_POOL_SIZE", "4"),
            ("LOGIN_THROTTLE", "1000/min"),
        ],
    )
    .await;
    (app, switch)
}

/// Sends a request and returns status, headers and body, checking that it
/// did not take longer than [`ANSWER_LIMIT`].
async fn timed(request: reqwest::RequestBuilder) -> (u16, reqwest::header::HeaderMap, String) {
    let started = Instant::now();
    let response = request
        .send()
        .await
        .expect("an answer, not a dropped connection");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap();
    let took = started.elapsed();
    assert!(
        took < ANSWER_LIMIT,
        "answered {status} after {took:?}: the database timeout is {DATABASE_TIMEOUT:?}"
    );
    (status, headers, body)
}

async fn assert_unavailable(what: &'static str, request: reqwest::RequestBuilder) {
    let (status, headers, body) = timed(request).await;
    assert_eq!((status, body.as_str()), (503, UNAVAILABLE), "{what}");
    assert_eq!(headers["content-type"], "application/json", "{what}");
    assert!(headers.contains_key("retry-after"), "{what}");
}

async fn register(app: &TestApp, username: &str) -> (u16, String) {
    let (status, _, body) = timed(
        app.client
            .post(app.url("/api/auth/register/"))
            .json(&json!({"username": username, "password": "correct horse battery"})),
    )
    .await;
    (status, body)
}

fn key_of(body: &str) -> String {
    let body: Value = serde_json::from_str(body).unwrap();
    body["token"].as_str().unwrap().to_string()
}

async fn me(app: &TestApp, key: &str) -> (u16, String) {
    let (status, _, body) = timed(
        app.client
            .get(app.url("/api/auth/me/"))
            .header("Authorization", format!("Token {key}")),
    )
    .await;
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_outage_is_503_and_the_server_recovers_without_a_restart() {
    let (app, mut switch) = app_with_switch().await;
    let (status, body) = register(&app, "alice").await;
    assert_eq!(status, 201, "{body}");
    let key = key_of(&body);

    // Fill the pool with idle connections: those are what an outage breaks.
    let warm: Vec<_> = (0..8)
        .map(|_| {
            let client = app.client.clone();
            let url = app.url("/api/auth/me/");
            let key = key.clone();
            tokio::spawn(async move {
                client
                    .get(url)
                    .header("Authorization", format!("Token {key}"))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    for task in warm {
        assert_eq!(task.await.unwrap(), 200);
    }
    assert!(app.state.domain.db.state().connections > 0);

    // Registrations on their way while the database goes: each is either
    // refused with 503 or, if it got a 201, kept.
    let racing: Vec<_> = (0..6)
        .map(|i| {
            let client = app.client.clone();
            let url = app.url("/api/auth/register/");
            tokio::spawn(async move {
                let response = client
                    .post(url)
                    .json(&json!({"username": format!("racer{i}"), "password": "correct horse battery"}))
                    .send()
                    .await
                    .unwrap();
                (response.status().as_u16(), response.text().await.unwrap())
            })
        })
        .collect();

    switch.cut();

    let mut acknowledged = Vec::new();
    for task in racing {
        let (status, body) = task.await.unwrap();
        match status {
            201 => acknowledged.push(key_of(&body)),
            503 => assert_eq!(body, UNAVAILABLE),
            other => panic!("a registration during the cut got {other}: {body}"),
        }
    }

    // The process itself is fine.
    let (status, _, body) = timed(app.client.get(app.url("/healthz"))).await;
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
    let (status, _, body) = timed(app.client.get(app.url("/readyz"))).await;
    assert_eq!(
        (status, body.as_str()),
        (503, r#"{"status":"unavailable"}"#)
    );

    // All at once (each waits for the pool's timeout): more requests than
    // the pool has connections, so that every pooled connection is tried,
    // and none may answer from a broken one.
    let auth = format!("Token {key}");
    let credentials = json!({"username": "alice", "password": "correct horse battery"});
    let mut requests = Vec::new();
    for _ in 0..6 {
        requests.push((
            "me",
            app.client
                .get(app.url("/api/auth/me/"))
                .header("Authorization", &auth),
        ));
    }
    requests.push((
        "an unknown key cannot be told from a known one without the database",
        app.client.get(app.url("/api/auth/me/")).header(
            "Authorization",
            "Token 0000000000000000000000000000000000000000",
        ),
    ));
    for path in ["/api-token-auth/", "/api/auth/login/"] {
        requests.push((path, app.client.post(app.url(path)).json(&credentials)));
    }
    requests.push((
        "register",
        app.client
            .post(app.url("/api/auth/register/"))
            .json(&json!({"username": "bob", "password": "correct horse battery"})),
    ));
    for path in ["/api/auth/token/regenerate/", "/api/auth/logout/"] {
        requests.push((
            path,
            app.client
                .post(app.url(path))
                .header("Authorization", &auth),
        ));
    }
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|(what, request)| tokio::spawn(assert_unavailable(what, request)))
        .collect();
    for task in tasks {
        task.await.unwrap();
    }

    switch.restore();

    // Wait (bounded) until the server says it is ready again, as a load
    // balancer would; from then on every request must succeed.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, _, _) = timed(app.client.get(app.url("/readyz"))).await;
        if status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "/readyz stayed {status} after the database came back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let (status, body) = me(&app, &key).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["username"],
        "alice"
    );
    let (status, _, body) = timed(
        app.client
            .post(app.url("/api-token-auth/"))
            .json(&credentials),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(key_of(&body), key, "the same key as before the outage");
    let (status, body) = register(&app, "bob").await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = me(&app, &key_of(&body)).await;
    assert_eq!(status, 200, "{body}");
    for racer in &acknowledged {
        let (status, body) = me(&app, racer).await;
        assert_eq!(status, 200, "a 201 from around the cut was lost: {body}");
    }
    let (status, _, body) = timed(
        app.client
            .post(app.url("/api/auth/token/regenerate/"))
            .header("Authorization", format!("Token {key}")),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let new_key = key_of(&body);
    assert_eq!(me(&app, &key).await.0, 401);
    // Every pooled connection is used again: none of them may be a broken
    // one kept from the outage.
    let parallel: Vec<_> = (0..16)
        .map(|_| {
            let request = app
                .client
                .get(app.url("/api/auth/me/"))
                .header("Authorization", format!("Token {new_key}"));
            tokio::spawn(async move { request.send().await.unwrap().status().as_u16() })
        })
        .collect();
    for task in parallel {
        assert_eq!(task.await.unwrap(), 200);
    }
}

/// A second outage after a recovery behaves like the first: the outage
/// flag and the pool hold no state that stops a later recovery.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_outages_each_recover() {
    let (app, mut switch) = app_with_switch().await;
    let (status, body) = register(&app, "dora").await;
    assert_eq!(status, 201, "{body}");
    let key = key_of(&body);
    for round in 0..2 {
        switch.cut();
        for _ in 0..3 {
            let (status, body) = me(&app, &key).await;
            assert_eq!((status, body.as_str()), (503, UNAVAILABLE), "round {round}");
        }
        switch.restore();
        let deadline = Instant::now() + Duration::from_secs(30);
        while timed(app.client.get(app.url("/readyz"))).await.0 != 200 {
            assert!(Instant::now() < deadline, "round {round}: not ready again");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let (status, body) = me(&app, &key).await;
        assert_eq!(status, 200, "round {round}: {body}");
    }
}

/// SQLite only: the database file alone disappears (its `-wal` and `-shm`
/// stay). The server must not create an empty database in its place: that
/// would answer "no such table" (a 500) and make SQLite delete the `-wal`
/// beside it, losing its commits once the real file is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_gone_is_an_outage_and_never_replaced_by_an_empty_one() {
    let (app, switch) = app_with_switch().await;
    let Switch::Sqlite { live, .. } = &switch else {
        return; // PostgreSQL: nothing like it.
    };
    // Many registrations, so that the WAL holds commits not yet copied into
    // the database file.
    let mut keys = Vec::new();
    for i in 0..5 {
        let (status, body) = register(&app, &format!("wal{i}")).await;
        assert_eq!(status, 201, "{body}");
        keys.push(key_of(&body));
    }
    let file = live.join("test.sqlite3");
    let moved = live.join("moved.sqlite3");
    assert!(live.join("test.sqlite3-wal").exists());
    std::fs::rename(&file, &moved).unwrap();

    let tasks: Vec<_> = keys
        .iter()
        .chain(keys.iter())
        .map(|key| {
            tokio::spawn(assert_unavailable(
                "me",
                app.client
                    .get(app.url("/api/auth/me/"))
                    .header("Authorization", format!("Token {key}")),
            ))
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let (status, _, body) = timed(app.client.get(app.url("/readyz"))).await;
    assert_eq!(
        (status, body.as_str()),
        (503, r#"{"status":"unavailable"}"#)
    );
    assert!(!file.exists(), "an empty database was created in its place");
    assert!(
        live.join("test.sqlite3-wal").exists(),
        "the WAL was deleted"
    );

    std::fs::rename(&moved, &file).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while timed(app.client.get(app.url("/readyz"))).await.0 != 200 {
        assert!(Instant::now() < deadline, "not ready again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for key in &keys {
        let (status, body) = me(&app, key).await;
        assert_eq!(status, 200, "{body}");
    }
}

/// SQLite only: the database is replaced under the running server (a
/// restore from a backup: another folder renamed into place). The server
/// answers from the file now at its path, never from the old one its pooled
/// connections still have open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_replaced_under_the_server_is_read_from_the_new_file() {
    let (app, switch) = app_with_switch().await;
    let Switch::Sqlite { live, away } = &switch else {
        return; // PostgreSQL: nothing like it.
    };
    let (status, body) = register(&app, "before").await;
    assert_eq!(status, 201, "{body}");
    let old_key = key_of(&body);
    assert_eq!(me(&app, &old_key).await.0, 200);

    // The "backup": another database, with another user, in its own folder.
    let restored = app.db.dir.path().join("restored");
    std::fs::create_dir(&restored).unwrap();
    let other = restored.join("test.sqlite3");
    authtoken::db::prepare_database(other.to_str().unwrap()).unwrap();
    let other_key = {
        let mut settings = app.state.settings.clone();
        settings.database_url = other.to_str().unwrap().into();
        let state = authtoken::state::AppState::new(
            settings,
            &authtoken::crypto::SecretKey::from_bytes(crate::common::SECRET.as_bytes()),
        );
        let new = authtoken::models::NewUser {
            username: authtoken::models::validation::Username::parse("after").unwrap(),
            email: authtoken::models::validation::Email::parse("").unwrap(),
            password_hash: bcrypt::hash("correct horse battery", 4).unwrap(),
            is_active: true,
            is_staff: false,
            is_superuser: false,
        };
        let user = state
            .domain
            .db
            .run(|conn| {
                authtoken::models::users::create_user(conn, &state.domain.hooks, &new, "test")
            })
            .unwrap();
        state
            .domain
            .db
            .run(|conn| state.domain.tokens.get_or_create(conn, user.id, "test"))
            .unwrap()
            .as_str()
            .to_string()
    };
    std::fs::rename(live, away).unwrap();
    std::fs::rename(&restored, live).unwrap();

    let (status, body) = me(&app, &old_key).await;
    assert_eq!(
        (status, body.as_str()),
        (401, r#"{"detail":"Invalid token."}"#),
        "answered from the old file"
    );
    let (status, body) = me(&app, &other_key).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["username"],
        "after"
    );
}

//! Three real server processes (one SECRET_KEY, one PostgreSQL database)
//! behind a real HAProxy running `deploy/haproxy.cfg` (addresses replaced).
//! PostgreSQL only: on SQLite every test says it is skipped and passes.
//! Without `haproxy` on PATH they are skipped too, unless
//! `REQUIRE_HAPROXY=1` (CI), where that is a failure.

use std::collections::HashSet;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use authtoken::schema::{tokens, users};
use diesel::prelude::*;
use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::common::TestDatabase;
use crate::support::{ChildServer, NEVER_A_HANG, command, connect};

const PASSWORD: &str = "correct horse battery";
/// The throttle's allowance in these tests.
const ALLOWANCE: usize = 3;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(20))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Whether this run can have a cluster: PostgreSQL and HAProxy.
fn available(test: &str) -> bool {
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        let found = Command::new("haproxy")
            .arg("-v")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if found {
            return true;
        }
        assert!(
            std::env::var("REQUIRE_HAPROXY").as_deref() != Ok("1"),
            "REQUIRE_HAPROXY=1 but no haproxy on PATH"
        );
        println!("{test}: skipped, no haproxy on PATH");
    } else {
        println!("{test}: skipped, the cluster needs PostgreSQL (TEST_DATABASE_URL)");
    }
    false
}

struct Cluster {
    servers: Vec<ChildServer>,
    ports: Vec<u16>,
    haproxy: Child,
    front: String,
    dir: tempfile::TempDir,
    // Dropped last: the processes must stop before their database goes.
    db: TestDatabase,
}

impl Cluster {
    fn start() -> Cluster {
        let db = TestDatabase::new();
        // Each process picks its own port (a port picked here could be taken
        // by another test's connection before the process binds it).
        let servers: Vec<ChildServer> = (0..3).map(|_| start_server(&db, 0)).collect();
        let ports: Vec<u16> = servers.iter().map(|s| s.addr().port()).collect();
        let front_port = free_port();
        let mut config =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/haproxy.cfg"))
                .unwrap()
                .replace("127.0.0.1:8080", &format!("127.0.0.1:{front_port}"))
                // Faster health checks than a deployment needs: the tests restart
                // processes within seconds.
                .replace("inter 500ms fall 2 rise 2", "inter 100ms fall 2 rise 2");
        for (i, port) in ports.iter().enumerate() {
            config = config.replace(
                &format!("127.0.0.1:800{}", i + 1),
                &format!("127.0.0.1:{port}"),
            );
        }
        assert!(config.contains("inter 100ms"), "deploy/haproxy.cfg changed");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("haproxy.cfg");
        std::fs::write(&path, config).unwrap();
        let log = std::fs::File::create(dir.path().join("haproxy.log")).unwrap();
        let haproxy = Command::new("haproxy")
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("haproxy starts");
        let cluster = Cluster {
            servers,
            ports,
            haproxy,
            front: format!("http://127.0.0.1:{front_port}"),
            dir,
            db,
        };
        let client = client();
        let deadline = Instant::now() + Duration::from_secs(10);
        while client
            .get(cluster.url("/readyz"))
            .send()
            .map_or(true, |r| r.status() != 200)
        {
            assert!(Instant::now() < deadline, "HAProxy did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
        cluster
    }

    /// Through HAProxy.
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.front)
    }

    /// Straight to process `i`.
    fn direct(&self, i: usize, path: &str) -> String {
        self.servers[i].url(path)
    }

    /// SIGTERM to process `i`, waits for its exit 0, starts it again on its
    /// port, and waits for HAProxy to send it traffic again.
    fn restart(&mut self, i: usize) {
        self.servers[i].terminate();
        let status = self.servers[i].wait_exit(NEVER_A_HANG);
        assert_eq!(status.code(), Some(0), "{}", self.servers[i].log());
        self.servers[i] = start_server(&self.db, self.ports[i]);
        // `rise 2` at `inter 100ms`, with room to spare.
        std::thread::sleep(Duration::from_millis(500));
    }

    fn haproxy_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("haproxy.log")).unwrap_or_default()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.haproxy.kill();
        let _ = self.haproxy.wait();
    }
}

/// A process on `port` (0: any). A given port (a restart's) may be held a
/// moment by another test's connection: it is tried again.
fn start_server(db: &TestDatabase, port: u16) -> ChildServer {
    let bind = format!("127.0.0.1:{port}");
    let env = [
        ("BIND", bind.as_str()),
        ("TRUSTED_PROXIES", "127.0.0.1"),
        ("LOGIN_THROTTLE", "3/min"),
        ("DATABASE_POOL_SIZE", "4"),
        ("SHUTDOWN_TIMEOUT", "10"),
    ];
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match ChildServer::try_start(db, &env) {
            Ok(server) => return server,
            Err(log) if log.contains("Address already in use") && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(log) => panic!("{log}"),
        }
    }
}

fn register(client: &Client, url: &str, username: &str) -> reqwest::Result<(u16, Value)> {
    let response = client
        .post(url)
        .json(&json!({"username": username, "password": PASSWORD}))
        .send()?;
    let status = response.status().as_u16();
    Ok((status, response.json().unwrap_or(Value::Null)))
}

fn me(client: &Client, url: &str, key: &str) -> (u16, String) {
    let response = client
        .get(url)
        .header("Authorization", format!("Token {key}"))
        .send()
        .unwrap();
    (response.status().as_u16(), response.text().unwrap())
}

fn post_with_key(client: &Client, url: &str, key: &str) -> (u16, Value) {
    let response = client
        .post(url)
        .header("Authorization", format!("Token {key}"))
        .send()
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().unwrap_or(Value::Null))
}

fn sign_in(client: &Client, url: &str, username: &str, password: &str) -> (u16, Value) {
    let response = client
        .post(url)
        .json(&json!({"username": username, "password": password}))
        .send()
        .unwrap();
    let status = response.status().as_u16();
    let retry_after = response.headers().contains_key("retry-after");
    let mut body: Value = response.json().unwrap_or(Value::Null);
    body["_retry_after"] = json!(retry_after);
    (status, body)
}

const INVALID: &str = r#"{"detail":"Invalid token."}"#;
const INACTIVE: &str = r#"{"detail":"User inactive or deleted."}"#;

#[test]
fn changes_through_one_process_hold_on_every_other() {
    if !available("changes_through_one_process_hold_on_every_other") {
        return;
    }
    let cluster = Cluster::start();
    let client = client();
    let (status, body) = register(&client, &cluster.url("/api/auth/register/"), "alice").unwrap();
    assert_eq!(status, 201, "{body}\n{}", cluster.haproxy_log());
    let alice_id = body["id"].as_i64().unwrap();
    let key = body["token"].as_str().unwrap().to_string();
    for i in 0..3 {
        assert_eq!(
            me(&client, &cluster.direct(i, "/api/auth/me/"), &key).0,
            200
        );
    }
    // HAProxy's request id (hex and dashes) is kept: it is a trusted proxy.
    let response = client.get(cluster.url("/healthz")).send().unwrap();
    let id = response.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.split('-').count(), 7, "{id}");

    // Revoked through process 0: refused by 1 and 2 at their next request.
    let (status, _) = post_with_key(&client, &cluster.direct(0, "/api/auth/logout/"), &key);
    assert_eq!(status, 204);
    for i in 1..3 {
        assert_eq!(
            me(&client, &cluster.direct(i, "/api/auth/me/"), &key),
            (401, INVALID.to_string())
        );
    }

    // One key per user while sign-ins spread over all three at once.
    let keys: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..24)
            .map(|_| {
                s.spawn(|| {
                    let (status, body) =
                        sign_in(&client, &cluster.url("/api-token-auth/"), "alice", PASSWORD);
                    assert_eq!(status, 200, "{body}");
                    body["token"].as_str().unwrap().to_string()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let distinct: HashSet<&String> = keys.iter().collect();
    assert_eq!(distinct.len(), 1, "one key for all: {distinct:?}");
    for server in &cluster.servers {
        assert!(
            server.log().contains("\"POST /api-token-auth/\" 200"),
            "HAProxy spread the sign-ins over all three"
        );
    }
    let key = keys[0].clone();

    // Regenerated through process 1: the old key is refused by 0 and 2,
    // the new one works on both.
    let (status, body) = post_with_key(
        &client,
        &cluster.direct(1, "/api/auth/token/regenerate/"),
        &key,
    );
    assert_eq!(status, 200);
    let new_key = body["token"].as_str().unwrap().to_string();
    for i in [0, 2] {
        assert_eq!(
            me(&client, &cluster.direct(i, "/api/auth/me/"), &key),
            (401, INVALID.to_string())
        );
        assert_eq!(
            me(&client, &cluster.direct(i, "/api/auth/me/"), &new_key).0,
            200
        );
    }

    // An admin session made on process 0 works on 1 and 2; deactivating
    // alice through process 2 is refused by 0 and 1; signing out through 1
    // ends the session on 0 and 2.
    let out = command(
        &cluster.db,
        &["user", "create", "boss", "--staff"],
        &[("AUTHTOKEN_PASSWORD", PASSWORD)],
    );
    assert!(out.status.success(), "{out:?}");
    let response = client
        .get(cluster.direct(0, "/admin/login/"))
        .send()
        .unwrap();
    let cookie = cookie_of(&response).expect("a session cookie");
    let csrf = csrf_of(&response.text().unwrap());
    let response = client
        .post(cluster.direct(0, "/admin/login/"))
        .header("Cookie", &cookie)
        .form(&[
            ("username", "boss"),
            ("password", PASSWORD),
            ("next", ""),
            ("csrf_token", &csrf),
        ])
        .send()
        .unwrap();
    assert_eq!(response.status(), 303);
    let cookie = cookie_of(&response).unwrap_or(cookie);
    let response = client
        .get(cluster.direct(1, "/admin/users/"))
        .header("Cookie", &cookie)
        .send()
        .unwrap();
    assert_eq!(response.status(), 200, "the session holds on process 1");
    let response = client
        .get(cluster.direct(2, &format!("/admin/users/{alice_id}/")))
        .header("Cookie", &cookie)
        .send()
        .unwrap();
    assert_eq!(response.status(), 200, "the session holds on process 2");
    let cookie = cookie_of(&response).unwrap_or(cookie);
    let csrf = csrf_of(&response.text().unwrap());
    let response = client
        .post(cluster.direct(2, &format!("/admin/users/{alice_id}/deactivate/")))
        .header("Cookie", &cookie)
        .form(&[("csrf_token", &csrf)])
        .send()
        .unwrap();
    assert_eq!(response.status(), 303);
    for i in [0, 1] {
        assert_eq!(
            me(&client, &cluster.direct(i, "/api/auth/me/"), &new_key),
            (401, INACTIVE.to_string())
        );
    }
    // Signing out through process 1 ends the session on every process: it
    // lives in the database, and its row is gone.
    let cookie = cookie_of(&response).unwrap_or(cookie);
    let response = client
        .post(cluster.direct(1, "/admin/logout/"))
        .header("Cookie", &cookie)
        .form(&[("csrf_token", &csrf)])
        .send()
        .unwrap();
    assert_eq!(response.status(), 303);
    for i in [0, 2] {
        let response = client
            .get(cluster.direct(i, "/admin/users/"))
            .header("Cookie", &cookie)
            .send()
            .unwrap();
        assert_eq!(response.status(), 302, "signed out on process {i} too");
    }
    let mut conn = connect(&cluster.db.url);
    let rows: i64 = tokens::table.count().get_result(&mut conn).unwrap();
    assert_eq!(rows, 2, "one token for alice, one for boss");
}

#[test]
fn the_throttle_holds_across_processes_under_parallel_attempts() {
    if !available("the_throttle_holds_across_processes_under_parallel_attempts") {
        return;
    }
    let cluster = Cluster::start();
    let client = client();
    let (status, body) = register(&client, &cluster.url("/api/auth/register/"), "bob").unwrap();
    assert_eq!(status, 201, "{body}\n{}", cluster.haproxy_log());
    const ATTEMPTS: usize = 15;
    let answers: Vec<(u16, Value)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..ATTEMPTS)
            .map(|i| {
                let (client, url) = (&client, cluster.url("/api-token-auth/"));
                s.spawn(move || sign_in(client, &url, "bob", &format!("wrong password {i}")))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let checked = answers.iter().filter(|(s, _)| *s == 400).count();
    let throttled = answers.iter().filter(|(s, _)| *s == 429).count();
    let busy = answers
        .iter()
        .filter(|(s, b)| *s == 503 && b["_retry_after"] == json!(true))
        .count();
    println!(
        "{ATTEMPTS} wrong passwords at once through HAProxy: {checked} checked (400), \
         {throttled} throttled (429), {busy} busy (503)"
    );
    assert!(
        (1..=ALLOWANCE).contains(&checked),
        "{checked} password checks: {answers:?}"
    );
    assert_eq!(checked + throttled + busy, ATTEMPTS, "{answers:?}");
    let served: usize = cluster
        .servers
        .iter()
        .filter(|s| s.log().contains("\"POST /api-token-auth/\""))
        .count();
    assert!(served >= 2, "the attempts were spread over the processes");
    // And the right password is refused too while the window lasts.
    let (status, _) = sign_in(&client, &cluster.url("/api-token-auth/"), "bob", PASSWORD);
    assert_eq!(status, 429);
}

#[test]
fn kill_9_during_a_storm_loses_no_answered_write() {
    if !available("kill_9_during_a_storm_loses_no_answered_write") {
        return;
    }
    let mut cluster = Cluster::start();
    let stop = AtomicBool::new(false);
    let created = Mutex::new(Vec::<String>::new());
    let failed = AtomicUsize::new(0);
    let counter = AtomicUsize::new(0);
    let started = Instant::now();
    let url = cluster.url("/api/auth/register/");
    std::thread::scope(|s| {
        for _ in 0..6 {
            s.spawn(|| {
                let client = client();
                while !stop.load(Ordering::Relaxed) {
                    let name = format!("storm{}", counter.fetch_add(1, Ordering::Relaxed));
                    match register(&client, &url, &name) {
                        Ok((201, body)) => {
                            assert_eq!(body["username"], name.as_str());
                            created.lock().unwrap().push(name);
                        }
                        _ => {
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            });
        }
        std::thread::sleep(Duration::from_millis(1500));
        cluster.servers[1].kill9();
        std::thread::sleep(Duration::from_millis(1500));
        stop.store(true, Ordering::Relaxed);
    });
    let created = created.into_inner().unwrap();
    let failed = failed.into_inner();
    println!(
        "kill -9 of one of three during {:?} of registrations: {} answered 201, {failed} not",
        started.elapsed(),
        created.len()
    );
    assert!(created.len() > 20, "the storm ran");
    let mut conn = connect(&cluster.db.url);
    let stored: HashSet<String> = users::table
        .select(users::username)
        .load(&mut conn)
        .unwrap()
        .into_iter()
        .collect();
    for name in &created {
        assert!(stored.contains(name), "{name} was answered 201 but is gone");
    }
    // HAProxy routes around the dead process: every later request succeeds.
    let client = client();
    for i in 0..30 {
        let (status, body) = register(
            &client,
            &cluster.url("/api/auth/register/"),
            &format!("after{i}"),
        )
        .unwrap();
        assert_eq!(status, 201, "{body}\n{}", cluster.haproxy_log());
    }
}

#[test]
fn a_rolling_restart_under_load_fails_no_request() {
    if !available("a_rolling_restart_under_load_fails_no_request") {
        return;
    }
    let mut cluster = Cluster::start();
    let (status, body) = register(&client(), &cluster.url("/api/auth/register/"), "carol").unwrap();
    assert_eq!(status, 201, "{body}\n{}", cluster.haproxy_log());
    let key = body["token"].as_str().unwrap().to_string();
    let stop = AtomicBool::new(false);
    let answered = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::<String>::new());
    let counter = AtomicUsize::new(0);
    let started = Instant::now();
    let front = cluster.front.clone();
    std::thread::scope(|s| {
        for worker in 0..4 {
            let (stop, answered, failures, counter, key, front) =
                (&stop, &answered, &failures, &counter, &key, &front);
            s.spawn(move || {
                let client = client();
                while !stop.load(Ordering::Relaxed) {
                    // Reads and writes both: half the workers register.
                    let outcome = if worker % 2 == 0 {
                        let n = counter.fetch_add(1, Ordering::Relaxed);
                        register(
                            &client,
                            &format!("{front}/api/auth/register/"),
                            &format!("r{n}"),
                        )
                        .map(|(status, _)| (status, 201))
                    } else {
                        client
                            .get(format!("{front}/api/auth/me/"))
                            .header("Authorization", format!("Token {key}"))
                            .send()
                            .map(|r| (r.status().as_u16(), 200))
                    };
                    match outcome {
                        Ok((status, expected)) if status == expected => {
                            answered.fetch_add(1, Ordering::Relaxed);
                        }
                        other => failures.lock().unwrap().push(format!("{other:?}")),
                    }
                }
            });
        }
        std::thread::sleep(Duration::from_millis(300));
        for i in 0..3 {
            cluster.restart(i);
        }
        stop.store(true, Ordering::Relaxed);
    });
    let failures = failures.into_inner().unwrap();
    println!(
        "rolling restart of three processes in {:?}: {} requests answered, {} failed",
        started.elapsed(),
        answered.load(Ordering::Relaxed),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{failures:?}\n{}",
        cluster.haproxy_log()
    );
    assert!(answered.load(Ordering::Relaxed) > 50, "the load ran");
}

fn cookie_of(response: &reqwest::blocking::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .next_back()
}

fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let at = html.find(marker).expect("a CSRF token") + marker.len();
    html[at..at + html[at..].find('"').unwrap()].to_string()
}

//! `kill -9` in the middle of a storm of registrations, regenerations and
//! sign-ins, then a restart on the same database: every answer the clients
//! got (201, 200) still holds, and no user lacks a token.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use serde_json::{Value, json};

use crate::common::TestDatabase;
use crate::support::{ChildServer, blocking_client, connect, users_without_token};

const THREADS: usize = 4;
const MAX_STEPS: usize = 1000;
/// Acknowledged operations before the kill.
const KILL_AFTER: usize = 400;

/// What the clients were told about one account.
#[derive(Debug, Clone)]
struct Account {
    password: String,
    /// The registration was answered 201.
    registered: bool,
    /// The key of the last acknowledged registration or regeneration.
    key: Option<String>,
    /// A request that could change the key got no answer (the kill) or an
    /// answer other than success: its key is unknown from then on.
    in_doubt: bool,
}

type Accounts = Arc<Mutex<HashMap<String, Account>>>;

fn key_of(response: reqwest::blocking::Response) -> String {
    let body: Value = response.json().unwrap();
    body["token"].as_str().unwrap().to_string()
}

/// One storming client: registers users, regenerates and signs in with the
/// ones it registered. Stops at its first transport error (the kill).
fn storm(
    base: String,
    thread: usize,
    accounts: Accounts,
    acked: Arc<AtomicUsize>,
    unexpected: Arc<Mutex<Vec<String>>>,
) {
    let client = blocking_client();
    let mut mine: Vec<String> = Vec::new();
    for step in 0..MAX_STEPS {
        let op = step % 3;
        if op == 0 || mine.is_empty() {
            let username = format!("t{thread}s{step}");
            let password = format!("pw-{thread}-{step}-correct horse");
            accounts.lock().unwrap().insert(
                username.clone(),
                Account {
                    password: password.clone(),
                    registered: false,
                    key: None,
                    in_doubt: true,
                },
            );
            let Ok(response) = client
                .post(format!("{base}/api/auth/register/"))
                .json(&json!({"username": username, "password": password}))
                .send()
            else {
                return;
            };
            match response.status().as_u16() {
                201 => {
                    let Ok(body) = response.json::<Value>() else {
                        return;
                    };
                    let key = body["token"].as_str().unwrap().to_string();
                    let mut all = accounts.lock().unwrap();
                    let account = all.get_mut(&username).unwrap();
                    account.registered = true;
                    account.key = Some(key);
                    account.in_doubt = false;
                    drop(all);
                    mine.push(username);
                    acked.fetch_add(1, Ordering::SeqCst);
                }
                // The hashing queue is full or the database busy: refused,
                // nothing done.
                503 => {}
                other => unexpected
                    .lock()
                    .unwrap()
                    .push(format!("register {username}: {other}")),
            }
            continue;
        }
        let username = mine[step % mine.len()].clone();
        let account = accounts.lock().unwrap()[&username].clone();
        if account.in_doubt {
            continue;
        }
        let key = account.key.clone().unwrap();
        if op == 1 {
            accounts
                .lock()
                .unwrap()
                .get_mut(&username)
                .unwrap()
                .in_doubt = true;
            let Ok(response) = client
                .post(format!("{base}/api/auth/token/regenerate/"))
                .header("Authorization", format!("Token {key}"))
                .send()
            else {
                return;
            };
            match response.status().as_u16() {
                200 => {
                    let Ok(body) = response.json::<Value>() else {
                        return;
                    };
                    let new = body["token"].as_str().unwrap().to_string();
                    let mut all = accounts.lock().unwrap();
                    let account = all.get_mut(&username).unwrap();
                    account.key = Some(new);
                    account.in_doubt = false;
                    acked.fetch_add(1, Ordering::SeqCst);
                }
                503 => {}
                other => unexpected
                    .lock()
                    .unwrap()
                    .push(format!("regenerate {username}: {other}")),
            }
        } else {
            let Ok(response) = client
                .post(format!("{base}/api-token-auth/"))
                .json(&json!({"username": username, "password": account.password}))
                .send()
            else {
                return;
            };
            match response.status().as_u16() {
                200 => {
                    let Ok(body) = response.json::<Value>() else {
                        return;
                    };
                    if body["token"].as_str() != Some(key.as_str()) {
                        unexpected
                            .lock()
                            .unwrap()
                            .push(format!("sign-in {username}: another key"));
                    }
                    acked.fetch_add(1, Ordering::SeqCst);
                }
                503 => {}
                other => unexpected
                    .lock()
                    .unwrap()
                    .push(format!("sign-in {username}: {other}")),
            }
        }
    }
}

#[test]
fn kill_9_mid_storm_loses_no_acknowledged_write() {
    let db = TestDatabase::new();
    let mut server = ChildServer::start(&db, &[("LOGIN_THROTTLE", "10000/min")]);
    let accounts: Accounts = Arc::default();
    let acked = Arc::new(AtomicUsize::new(0));
    let unexpected = Arc::new(Mutex::new(Vec::new()));
    let threads: Vec<_> = (0..THREADS)
        .map(|thread| {
            let (base, accounts, acked, unexpected) = (
                server.base.clone(),
                accounts.clone(),
                acked.clone(),
                unexpected.clone(),
            );
            std::thread::spawn(move || storm(base, thread, accounts, acked, unexpected))
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(300);
    while acked.load(Ordering::SeqCst) < KILL_AFTER {
        assert!(
            threads.iter().any(|t| !t.is_finished()),
            "the storm ended before the kill: {:?}\n{}",
            unexpected.lock().unwrap(),
            server.log()
        );
        assert!(Instant::now() < deadline, "the storm is too slow");
        std::thread::sleep(Duration::from_millis(5));
    }
    let status = server.kill9();
    assert!(!status.success());
    for thread in threads {
        thread.join().unwrap();
    }
    let unexpected = unexpected.lock().unwrap().clone();
    assert!(unexpected.is_empty(), "{unexpected:?}");
    let accounts = accounts.lock().unwrap().clone();
    eprintln!(
        "killed after {} acknowledged operations: {} accounts, {} with a request cut off",
        acked.load(Ordering::SeqCst),
        accounts.len(),
        accounts.values().filter(|a| a.in_doubt).count()
    );

    // The database after the crash, before the server touches it again.
    let mut conn = connect(&db.url);
    if !db.is_postgres() {
        #[derive(QueryableByName)]
        struct Check {
            #[diesel(sql_type = diesel::sql_types::Text)]
            integrity_check: String,
        }
        let check: Vec<Check> = diesel::sql_query("PRAGMA integrity_check")
            .load(&mut conn)
            .unwrap();
        assert_eq!(check.len(), 1);
        assert_eq!(check[0].integrity_check, "ok");
        // The durability settings the README promises: WAL, kept in the file.
        #[derive(QueryableByName)]
        struct Mode {
            #[diesel(sql_type = diesel::sql_types::Text)]
            journal_mode: String,
        }
        let mode: Vec<Mode> = diesel::sql_query("PRAGMA journal_mode")
            .load(&mut conn)
            .unwrap();
        assert_eq!(mode[0].journal_mode, "wal");
    }
    assert_eq!(
        users_without_token(&mut conn),
        Vec::<i32>::new(),
        "users without a token (nobody revoked one)"
    );
    drop(conn);

    let server = ChildServer::start(&db, &[("LOGIN_THROTTLE", "10000/min")]);
    let client = blocking_client();
    let me = |key: &str| {
        client
            .get(server.url("/api/auth/me/"))
            .header("Authorization", format!("Token {key}"))
            .send()
            .unwrap()
    };
    let mut checked = 0;
    for (username, account) in &accounts {
        let sign_in = client
            .post(server.url("/api-token-auth/"))
            .json(&json!({"username": username, "password": account.password}))
            .send()
            .unwrap();
        if !account.registered {
            // In flight at the kill: there or not, but whole if there.
            match sign_in.status().as_u16() {
                200 => assert_eq!(me(&key_of(sign_in)).status(), 200, "{username}"),
                400 => {}
                other => panic!("{username}: sign-in after the crash got {other}"),
            }
            continue;
        }
        assert_eq!(sign_in.status(), 200, "{username} was acknowledged 201");
        let current = key_of(sign_in);
        let response = me(&current);
        assert_eq!(response.status(), 200, "{username}");
        let body: Value = response.json().unwrap();
        assert_eq!(body["username"], username.as_str());
        let acknowledged = account.key.as_deref().unwrap();
        if account.in_doubt {
            // A regeneration was cut off: the old key or its successor.
            let status = me(acknowledged).status().as_u16();
            assert!(status == 200 || status == 401, "{username}: {status}");
            assert_eq!(status == 200, current == acknowledged, "{username}");
        } else {
            assert_eq!(current, acknowledged, "{username}: the acknowledged key");
            assert_eq!(me(acknowledged).status(), 200, "{username}");
        }
        checked += 1;
    }
    assert!(checked >= KILL_AFTER / 3, "only {checked} accounts checked");
}

//! Request ids: echoed from a trusted proxy only, replaced when invalid, new
//! otherwise; sent back in `X-Request-Id` and present in every log line
//! about the request (the access line, the failure line), in text and JSON.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::TestDatabase;
use crate::support::{ChildServer, NEVER_A_HANG, blocking_client};

fn id_of(response: &reqwest::blocking::Response) -> String {
    response
        .headers()
        .get("x-request-id")
        .expect("an X-Request-Id")
        .to_str()
        .unwrap()
        .to_string()
}

/// The log lines holding `id`, once the access line is written.
fn lines_with(server: &ChildServer, id: &str) -> Vec<String> {
    let deadline = Instant::now() + NEVER_A_HANG;
    loop {
        let lines: Vec<String> = server
            .log()
            .lines()
            .filter(|l| l.contains(id))
            .map(str::to_owned)
            .collect();
        if lines.iter().any(|l| l.contains("authtoken::access")) {
            return lines;
        }
        assert!(Instant::now() < deadline, "no access line for {id}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn ids_from_a_trusted_proxy_only() {
    let db = TestDatabase::new();
    let trusting = ChildServer::start(&db, &[("TRUSTED_PROXIES", "127.0.0.1")]);
    let client = blocking_client();
    let get = |server: &ChildServer, id: Option<&str>| {
        let mut request = client.get(server.url("/healthz"));
        if let Some(id) = id {
            request = request.header("X-Request-Id", id);
        }
        request.send().unwrap()
    };
    // From a trusted proxy: kept as it is.
    let response = get(&trusting, Some("edge-7f3a.b_c"));
    assert_eq!(id_of(&response), "edge-7f3a.b_c");
    let long = "a".repeat(128);
    assert_eq!(id_of(&get(&trusting, Some(&long))), long);
    // Invalid ones are replaced by a new id.
    for bad in ["has space", "quote\"d", &"a".repeat(129), "semi;colon"] {
        let id = id_of(&get(&trusting, Some(bad)));
        assert_ne!(id, bad);
        assert_eq!(id.len(), 32, "{id}");
    }
    // None sent: a new one each time.
    let (a, b) = (id_of(&get(&trusting, None)), id_of(&get(&trusting, None)));
    assert_ne!(a, b);
    assert!(a.bytes().all(|c| c.is_ascii_hexdigit()), "{a}");

    // Not from a trusted proxy: never believed.
    let other = ChildServer::start(&db, &[]);
    let id = id_of(&get(&other, Some("client-chosen")));
    assert_ne!(id, "client-chosen");
    assert!(!other.log().contains("client-chosen"));
}

#[test]
fn every_line_about_a_request_carries_its_id_in_json() {
    let db = TestDatabase::new();
    let server = ChildServer::start(
        &db,
        &[("LOG_FORMAT", "json"), ("TRUSTED_PROXIES", "127.0.0.1")],
    );
    let client = blocking_client();
    let response = client
        .post(server.url("/api/auth/register/"))
        .header("X-Request-Id", "reg-1")
        .json(&serde_json::json!({"username": "alice", "password": "correct horse battery"}))
        .send()
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(id_of(&response), "reg-1");
    let lines = lines_with(&server, "\"reg-1\"");
    for line in &lines {
        let value: Value = serde_json::from_str(line).unwrap();
        assert_eq!(value["request_id"], "reg-1", "{line}");
    }
    let access: Value = serde_json::from_str(
        lines
            .iter()
            .find(|l| l.contains("authtoken::access"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(access["level"], "INFO");
    assert!(
        access["message"]
            .as_str()
            .unwrap()
            .contains("\"POST /api/auth/register/\" 201"),
        "{access}"
    );
    // Every line of the log is one JSON object with the four fields.
    for line in server.log().lines() {
        let value: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: not JSON: {line}"));
        for field in ["time", "level", "target", "message"] {
            assert!(value.get(field).is_some(), "{field} missing: {line}");
        }
    }
}

#[test]
fn the_failure_line_carries_the_id_too() {
    // The database goes away under a running server (its file is removed):
    // the 503's failure line, written by `http::failure_log`, names the
    // request it is about.
    let db = TestDatabase::new();
    if db.is_postgres() {
        // The outage tests cover PostgreSQL; removing a file is SQLite's.
        return;
    }
    let server = ChildServer::start(&db, &[("DATABASE_TIMEOUT", "1")]);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.url));
    }
    let response = blocking_client()
        .post(server.url("/api-token-auth/"))
        .json(&serde_json::json!({"username": "alice", "password": "x"}))
        .send()
        .unwrap();
    assert_eq!(response.status(), 503);
    let id = id_of(&response);
    let lines = lines_with(&server, &id);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("WARN") && l.contains("POST /api-token-auth/:")),
        "no failure line with the id:\n{}",
        server.log()
    );
}

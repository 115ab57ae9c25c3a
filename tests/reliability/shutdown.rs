//! SIGTERM: the server stops taking connections, finishes the requests it
//! has (up to `SHUTDOWN_TIMEOUT`), and exits 0; nothing it answered 2xx is
//! undone.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::TestDatabase;
use crate::support::{ChildServer, NEVER_A_HANG, blocking_client, try_read_response};

fn register_request(username: &str) -> (String, String) {
    let body = format!(r#"{{"username":"{username}","password":"correct horse battery"}}"#);
    let head = format!(
        "POST /api/auth/register/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\nExpect: 100-continue\r\n\r\n",
        body.len()
    );
    (head, body)
}

/// Sends the head of a registration and waits for `100 Continue`: from then
/// on the server is working on this request (it called the handler, which
/// is reading the body), so it is in flight whatever happens next.
fn started_request(server: &ChildServer, username: &str) -> (TcpStream, String) {
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    stream.set_read_timeout(Some(NEVER_A_HANG)).unwrap();
    let (head, body) = register_request(username);
    stream.write_all(head.as_bytes()).unwrap();
    // Byte by byte: nothing after the interim answer may be consumed.
    let mut interim = Vec::new();
    let mut byte = [0u8; 1];
    while !interim.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).unwrap(), 1, "closed before 100");
        interim.push(byte[0]);
    }
    assert!(
        interim.starts_with(b"HTTP/1.1 100 "),
        "{:?}",
        String::from_utf8_lossy(&interim)
    );
    (stream, body)
}

fn wait_for_log(server: &ChildServer, text: &str) {
    let deadline = Instant::now() + NEVER_A_HANG;
    while !server.log().contains(text) {
        assert!(
            Instant::now() < deadline,
            "no {text:?} in the log:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn sigterm_finishes_in_flight_requests_then_exits_0() {
    let db = TestDatabase::new();
    // Slow, one-at-a-time hashing: the registrations are still being worked
    // on well after the signal.
    let mut server = ChildServer::start(
        &db,
        &[
            ("BCRYPT_COST", "10"),
            ("PASSWORD_HASH_CONCURRENCY", "1"),
            ("SHUTDOWN_TIMEOUT", "60"),
        ],
    );
    // Three requests sent whole (waiting for or in hashing at the signal)
    // and three whose bodies are not complete yet (being read at the signal).
    let mut whole = Vec::new();
    let mut partial = Vec::new();
    for i in 0..3 {
        let (mut stream, body) = started_request(&server, &format!("whole{i}"));
        stream.write_all(body.as_bytes()).unwrap();
        whole.push(stream);
        let (mut stream, body) = started_request(&server, &format!("partial{i}"));
        let (first, last) = body.split_at(body.len() - 1);
        stream.write_all(first.as_bytes()).unwrap();
        partial.push((stream, last.to_string()));
    }

    server.terminate();
    wait_for_log(&server, "SIGTERM received; starting graceful shutdown");
    wait_for_log(&server, "graceful worker shutdown");

    for (stream, last) in &mut partial {
        if let Err(e) = stream.write_all(last.as_bytes()) {
            panic!(
                "{e}: the server dropped a request it was reading:\n{}",
                server.log()
            );
        }
    }
    let mut keys = Vec::new();
    for mut stream in whole.into_iter().chain(partial.into_iter().map(|(s, _)| s)) {
        let response = try_read_response(&mut stream)
            .unwrap_or_else(|e| panic!("{e}: an in-flight request was dropped:\n{}", server.log()));
        assert_eq!(response.status, 201, "{}", response.text());
        let body: Value = serde_json::from_slice(&response.body).unwrap();
        keys.push(body["token"].as_str().unwrap().to_string());
    }
    let status = server.wait_exit(NEVER_A_HANG);
    assert_eq!(status.code(), Some(0), "{}", server.log());

    // Nothing answered 201 was undone.
    let server = ChildServer::start(&db, &[]);
    let client = blocking_client();
    for key in &keys {
        let response = client
            .get(server.url("/api/auth/me/"))
            .header("Authorization", format!("Token {key}"))
            .send()
            .unwrap();
        assert_eq!(response.status(), 200);
    }
}

#[test]
fn sigterm_gives_up_on_a_stuck_request_after_the_shutdown_timeout() {
    let db = TestDatabase::new();
    let mut server = ChildServer::start(&db, &[("SHUTDOWN_TIMEOUT", "1")]);
    // A client that never finishes its body.
    let (mut stuck, body) = started_request(&server, "never");
    stuck.write_all(&body.as_bytes()[..5]).unwrap();
    server.terminate();
    let status = server.wait_exit(NEVER_A_HANG);
    assert_eq!(status.code(), Some(0), "{}", server.log());
    drop(stuck);
}

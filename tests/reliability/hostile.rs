//! Hostile input over HTTP: bodies over the limit, huge headers, invalid
//! UTF-8, NUL bytes, deep nesting, 10 MB strings, SQL- and HTML-looking
//! values. Each gets a 4xx in the contract's shape and changes nothing in
//! the database.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use authtoken::db::DbError;
use serde_json::{Value, json};

use crate::common::{TestApp, TestDatabase, spawn_app_with};
use crate::contract::{assert_shape, response_shape};
use crate::support::{
    ChildServer, NEVER_A_HANG, RawResponse, Snapshot, blocking_client, raw_http, snapshot,
    try_read_response,
};

const SIGN_IN: &str = "/api-token-auth/";
const LOGIN: &str = "/api/auth/login/";
const REGISTER: &str = "/api/auth/register/";
const BODY_PATHS: [&str; 3] = [SIGN_IN, LOGIN, REGISTER];
const TEN_MB: usize = 10 * 1024 * 1024;
const PASSWORD: &str = "correct horse battery";
/// serde_json's reasons for the hostile bodies below.
const INVALID_UTF8_IN_JSON: &str =
    "JSON parse error - invalid unicode code point at line 1 column 17";
const TOO_DEEP_ARRAYS: &str = "recursion limit exceeded at line 1 column 140";
const TOO_DEEP_OBJECTS: &str = "recursion limit exceeded at line 1 column 644";

async fn app() -> (TestApp, String) {
    let app = spawn_app_with(&[("LOGIN_THROTTLE", "10000/min")]).await;
    let user = app.create_user("alice", PASSWORD, false);
    let key = app.token_of(user.id);
    (app, key)
}

fn snap(app: &TestApp) -> Snapshot {
    app.state
        .domain
        .db
        .run(|conn| Ok::<_, DbError>(snapshot(conn)))
        .unwrap()
}

fn addr(app: &TestApp) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], app.port))
}

/// A raw request on its own thread (the test's runtime stays free).
async fn raw(app: &TestApp, request: Vec<u8>) -> RawResponse {
    let addr = addr(app);
    tokio::task::spawn_blocking(move || raw_http(addr, &request))
        .await
        .unwrap()
}

/// A chunked body of `total` bytes of `fill`, written by another thread
/// while this one reads the answer (the server answers before the body ends).
async fn raw_chunked(
    app: &TestApp,
    path: &str,
    content_type: &str,
    prefix: &[u8],
    total: usize,
) -> RawResponse {
    let addr = addr(app);
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    let prefix = prefix.to_vec();
    tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(NEVER_A_HANG)).unwrap();
        let mut writer = stream.try_clone().unwrap();
        let sender = std::thread::spawn(move || {
            let chunk = vec![b'x'; 64 * 1024];
            let mut sent = 0;
            let _ = writer.write_all(head.as_bytes());
            let _ = writer.write_all(format!("{:x}\r\n", prefix.len()).as_bytes());
            let _ = writer.write_all(&prefix);
            let _ = writer.write_all(b"\r\n");
            while sent < total {
                let n = chunk.len().min(total - sent);
                let frame = [format!("{n:x}\r\n").as_bytes(), &chunk[..n], b"\r\n"].concat();
                if writer.write_all(&frame).is_err() {
                    return;
                }
                sent += n;
            }
            let _ = writer.write_all(b"0\r\n\r\n");
            let _ = writer.shutdown(Shutdown::Write);
        });
        let response = try_read_response(&mut stream).expect("an answer to a huge body");
        drop(stream);
        let _ = sender.join();
        response
    })
    .await
    .unwrap()
}

fn raw_shape(what: &str, response: &RawResponse) -> Value {
    assert_eq!(
        response.header("x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
    assert_shape(
        what,
        response.status,
        response.header("content-type"),
        &response.body,
    )
}

/// What a row expects of the answer besides its status (always checked
/// against the contract's shape).
enum Expect {
    /// `{"detail": <exactly this>}`.
    Detail(String),
    /// `{"detail": "<this>…"}`.
    DetailStarts(&'static str),
    /// `<field>: <messages>` among the field errors.
    Field(&'static str, Value),
    /// The status and the shape only.
    Shape,
}

/// One hostile request and what it must get.
struct Row {
    what: &'static str,
    content_type: String,
    body: Vec<u8>,
    status: u16,
    expect: Expect,
}

fn row(
    what: &'static str,
    content_type: &str,
    body: impl Into<Vec<u8>>,
    status: u16,
    expect: Expect,
) -> Row {
    Row {
        what,
        content_type: content_type.to_string(),
        body: body.into(),
        status,
        expect,
    }
}

/// POSTs every row to every path and checks its answer.
async fn run_rows(app: &TestApp, paths: &[&str], rows: &[Row]) {
    for path in paths {
        for row in rows {
            let what = format!("{path} {} ({} bytes)", row.what, row.body.len());
            let response = app
                .client
                .post(app.url(path))
                .header("Content-Type", &row.content_type)
                .body(row.body.clone())
                .send()
                .await
                .unwrap();
            let (status, value) = response_shape(&what, response).await;
            assert_eq!(status, row.status, "{what}: {value}");
            match &row.expect {
                Expect::Detail(detail) => assert_eq!(value["detail"], *detail, "{what}"),
                Expect::DetailStarts(prefix) => assert!(
                    value["detail"]
                        .as_str()
                        .is_some_and(|d| d.starts_with(prefix)),
                    "{what}: {value}"
                ),
                Expect::Field(field, messages) => {
                    assert_eq!(value[*field], *messages, "{what}: {value}")
                }
                Expect::Shape => {}
            }
        }
    }
}

fn multipart(fields: &[(&str, &str)]) -> (String, Vec<u8>) {
    let boundary = "----reliability-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn bodies_over_the_limit_get_413_and_change_nothing() {
    let (app, _) = app().await;
    let before = snap(&app);
    let big = "x".repeat(70 * 1024);
    let json_body = serde_json::to_vec(&json!({"username": "bob", "password": big})).unwrap();
    let form_body = format!("username=bob&password={big}").into_bytes();
    let (multipart_type, multipart_body) = multipart(&[("username", "bob"), ("password", &big)]);
    let ten_mb =
        serde_json::to_vec(&json!({"username": "bob", "password": "y".repeat(TEN_MB)})).unwrap();
    let too_large =
        || Expect::Detail("Request body is too large (the limit is 65536 bytes).".into());
    let rows = [
        row("JSON", "application/json", json_body, 413, too_large()),
        row(
            "form",
            "application/x-www-form-urlencoded",
            form_body,
            413,
            too_large(),
        ),
        row(
            "multipart",
            &multipart_type,
            multipart_body,
            413,
            too_large(),
        ),
        row("10 MB JSON", "application/json", ten_mb, 413, too_large()),
    ];
    run_rows(&app, &BODY_PATHS, &rows).await;
    for path in BODY_PATHS {
        // No Content-Length (chunked): Django reads `Content-Length` bytes,
        // so the body is not read at all and the fields are missing.
        let response = raw_chunked(
            &app,
            path,
            "application/json",
            br#"{"username":"bob","password":""#,
            TEN_MB,
        )
        .await;
        let value = raw_shape(&format!("{path} chunked 10 MB"), &response);
        assert_eq!(response.status, 400, "{value}");
        assert_eq!(value["username"], json!(["This field is required."]));
    }
    assert_eq!(snap(&app), before);
    // The server is fine.
    let response = app
        .post_json(SIGN_IN, &json!({"username": "alice", "password": PASSWORD}))
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn headers_over_8_kib_get_431_and_change_nothing() {
    let (app, key) = app().await;
    let before = snap(&app);
    // A 16 KiB key: too big a header for the app, in the API's shape.
    let long_key = "a".repeat(16 * 1024);
    let response = app.get_with_token("/api/auth/me/", &long_key).await;
    let (status, value) = response_shape("16 KiB Authorization", response).await;
    assert_eq!(status, 431);
    assert_eq!(value, json!({"detail": "Request header fields too large."}));
    // Another header pushes a valid request over: refused before anything
    // runs, so even a correct sign-in changes nothing.
    for path in BODY_PATHS {
        let response = app
            .client
            .post(app.url(path))
            .header("X-Padding", "p".repeat(9 * 1024))
            .json(&json!({"username": "carol", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        let (status, _) = response_shape(path, response).await;
        assert_eq!(status, 431, "{path}");
    }
    let response = app
        .client
        .get(app.url("/api/auth/me/"))
        .header("Authorization", format!("Token {key}"))
        .header("Cookie", "c".repeat(9 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(response_shape("cookie", response).await.0, 431);
    // Heads over 128 KiB (or with more than 96 headers) never reach the
    // app: actix-http itself answers a bare 431 and closes the connection.
    let huge = format!(
        "GET /api/auth/me/ HTTP/1.1\r\nHost: x\r\nAuthorization: Token {}\r\nConnection: close\r\n\r\n",
        "b".repeat(200 * 1024)
    );
    let mut many = String::from("GET /api/auth/me/ HTTP/1.1\r\nHost: x\r\n");
    for i in 0..120 {
        many.push_str(&format!("X-H{i}: v\r\n"));
    }
    many.push_str("Connection: close\r\n\r\n");
    // A 10 MB request line: the same.
    let url = format!(
        "GET /api/auth/me/?q={} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "q".repeat(TEN_MB)
    );
    for (what, request) in [
        ("200 KiB header", huge),
        ("120 headers", many),
        ("10 MB URL", url),
    ] {
        assert_eq!(raw(&app, request.into_bytes()).await.status, 431, "{what}");
    }
    assert_eq!(snap(&app), before);
    assert_eq!(
        app.get_with_token("/api/auth/me/", &key).await.status(),
        200
    );
}

#[tokio::test]
async fn invalid_utf8_and_nul_bytes_get_400_or_401_and_change_nothing() {
    let (app, key) = app().await;
    let before = snap(&app);
    let nul_message = || Expect::Field("username", json!(["Null characters are not allowed."]));
    let rows = [
        // Invalid UTF-8 in JSON: serde_json's reason.
        row(
            "invalid UTF-8 in JSON",
            "application/json",
            &b"{\"username\": \"al\xffce\", \"password\": \"correct horse battery\"}"[..],
            400,
            Expect::Detail(INVALID_UTF8_IN_JSON.into()),
        ),
        // Invalid UTF-8 in a form, escaped or raw: U+FFFD, then refused
        // as a username (and so also by register).
        row(
            "escaped invalid UTF-8 in a form",
            "application/x-www-form-urlencoded",
            &b"username=al%FFce&password=correct+horse+battery"[..],
            400,
            Expect::Shape,
        ),
        row(
            "raw invalid UTF-8 in a form",
            "application/x-www-form-urlencoded",
            &b"username=al\xffce&password=correct+horse+battery"[..],
            400,
            Expect::Shape,
        ),
        // NUL escaped in JSON and in a form: DRF's validator message.
        row(
            "escaped NUL in JSON",
            "application/json",
            serde_json::to_vec(&json!({"username": "al\u{0}ice", "password": "pass\u{0}word1"}))
                .unwrap(),
            400,
            nul_message(),
        ),
        row(
            "escaped NUL in a form",
            "application/x-www-form-urlencoded",
            &b"username=alice%00&password=correct+horse+battery"[..],
            400,
            nul_message(),
        ),
        // A raw NUL inside a JSON string is a control character.
        row(
            "raw NUL in a JSON string",
            "application/json",
            &b"{\"username\": \"a\x00\", \"password\": \"x\"}"[..],
            400,
            Expect::DetailStarts(
                "JSON parse error - control character (\\u0000-\\u001F) found while parsing a string at",
            ),
        ),
    ];
    run_rows(&app, &BODY_PATHS, &rows).await;
    // In the Authorization header: DRF's texts.
    for (header, detail) in [
        (
            &b"Token \xff\xfe"[..],
            "Invalid token header. Token string should not contain invalid characters.",
        ),
        (
            &b"Token abc\x80"[..],
            "Invalid token header. Token string should not contain invalid characters.",
        ),
    ] {
        let response = app
            .client
            .get(app.url("/api/auth/me/"))
            .header(
                "Authorization",
                reqwest::header::HeaderValue::from_bytes(header).unwrap(),
            )
            .send()
            .await
            .unwrap();
        let (status, value) = response_shape("authorization", response).await;
        assert_eq!((status, value), (401, json!({"detail": detail})));
    }
    // A NUL byte in a header is not HTTP: actix-http answers a bare 400.
    let response = raw(
        &app,
        format!(
            "GET /api/auth/me/ HTTP/1.1\r\nHost: x\r\nAuthorization: Token {key}\0\r\nConnection: close\r\n\r\n"
        )
        .into_bytes(),
    )
    .await;
    assert_eq!(response.status, 400);
    // Invalid UTF-8 in the path.
    let response = raw(
        &app,
        b"GET /api/auth/me/%FF%00\xff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
    )
    .await;
    assert!(
        response.status == 400 || response.status == 404,
        "{response:?}"
    );
    if response.status == 404 {
        raw_shape("path", &response);
    }
    assert_eq!(snap(&app), before);
}

#[tokio::test]
async fn json_nested_100_000_deep_is_refused_and_changes_nothing() {
    let (app, _) = app().await;
    let before = snap(&app);
    // 100,000 levels is 100 KB of brackets: over the size limit. As deep
    // as fits in the limit: serde_json's nesting limit (128), a parse error,
    // not a crash.
    let rows = [
        row(
            "100,000 arrays",
            "application/json",
            "[".repeat(100_000),
            413,
            Expect::Shape,
        ),
        row(
            "100,000 objects",
            "application/json",
            "{\"a\":".repeat(100_000),
            413,
            Expect::Shape,
        ),
        row(
            "60,000 arrays",
            "application/json",
            format!("{{\"username\": {}", "[".repeat(60_000)),
            400,
            Expect::Detail(format!("JSON parse error - {TOO_DEEP_ARRAYS}")),
        ),
        row(
            "10,000 objects",
            "application/json",
            format!(
                "{{\"username\": {}1{}}}",
                "{\"a\":".repeat(10_000),
                "}".repeat(10_000)
            ),
            400,
            Expect::Detail(format!("JSON parse error - {TOO_DEEP_OBJECTS}")),
        ),
    ];
    run_rows(&app, &BODY_PATHS, &rows).await;
    assert_eq!(snap(&app), before);
    assert_eq!(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn sql_and_html_looking_values_are_only_data() {
    let (app, key) = app().await;
    let before = snap(&app);
    let hostile = [
        "' OR '1'='1",
        "alice' --",
        "alice\"; DROP TABLE users; --",
        "'; DELETE FROM tokens; --",
        "%",
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "alice<!--",
        "{{7*7}}",
        "${jndi:ldap://x/a}",
    ];
    for value in hostile {
        for path in [SIGN_IN, LOGIN] {
            for body in [
                json!({"username": value, "password": value}),
                json!({"username": "alice", "password": value}),
            ] {
                let response = app.post_json(path, &body).await;
                let (status, body) = response_shape(path, response).await;
                assert_eq!(
                    (status, body),
                    (
                        400,
                        json!({"non_field_errors": ["Unable to log in with provided credentials."]})
                    ),
                    "{value}"
                );
            }
        }
        let response = app
            .post_json(REGISTER, &json!({"username": value, "password": PASSWORD}))
            .await;
        let (status, body) = response_shape(REGISTER, response).await;
        assert_eq!(status, 400, "{value}");
        assert!(body.get("username").is_some(), "{value}: {body}");
        // (`%`, `_`, `{`, `}` and `*` are valid in an address's local part.)
        if value.contains([' ', '<', '"', ':', '(']) {
            let response = app
                .post_json(
                    REGISTER,
                    &json!({"username": "mallory", "password": PASSWORD, "email": format!("{value}@example.com")}),
                )
                .await;
            let (status, body) = response_shape(REGISTER, response).await;
            assert_eq!(
                (status, body),
                (400, json!({"email": ["Enter a valid email address."]})),
                "{value}"
            );
        }
        // As a key: either malformed or unknown, never a match.
        let response = app.get_with_token("/api/auth/me/", value).await;
        assert_eq!(response_shape(value, response).await.0, 401);
    }
    // An HTML-looking media type is echoed only inside a JSON string, with
    // nosniff, so no browser renders it.
    let response = app
        .client
        .post(app.url(SIGN_IN))
        .header("Content-Type", "text/html; x=\"<script>alert(1)</script>\"")
        .body("<script>alert(1)</script>")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    let (status, body) = response_shape("text/html", response).await;
    assert_eq!(status, 415);
    assert_eq!(
        body["detail"],
        "Unsupported media type \"text/html; x=\"<script>alert(1)</script>\"\" in request."
    );
    assert_eq!(snap(&app), before);

    // A password is anything: stored and checked as given, never as SQL.
    let password = "'); DROP TABLE users; -- <script>";
    let response = app
        .post_json(
            REGISTER,
            &json!({"username": "bobby", "password": password}),
        )
        .await;
    let (status, created) = response_shape(REGISTER, response).await;
    assert_eq!(status, 201);
    let response = app
        .post_json(SIGN_IN, &json!({"username": "bobby", "password": password}))
        .await;
    let (status, signed_in) = response_shape(SIGN_IN, response).await;
    assert_eq!(status, 200);
    assert_eq!(signed_in["token"], created["token"]);
    let after = snap(&app);
    assert_eq!(after.users.len(), before.users.len() + 1);
    assert_eq!(after.tokens.len(), before.tokens.len() + 1);
    assert_eq!(&after.tokens[..before.tokens.len()], &before.tokens[..]);
    assert_eq!(
        app.get_with_token("/api/auth/me/", &key).await.status(),
        200
    );
}

/// A request whose head arrived but whose body stops half-way.
fn half_sent(path: &str, content_type: &str, extra_headers: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n{extra_headers}\r\n"
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

#[tokio::test]
async fn half_sent_bodies_get_408_and_the_connection_is_closed() {
    const BODY_TIMEOUT: Duration = Duration::from_secs(1);
    let app = spawn_app_with(&[("BODY_TIMEOUT", "1")]).await;
    let before = snap(&app);
    let json = br#"{"username": "alice", "pass"#;
    let cases = [
        (
            "API, Content-Length",
            half_sent(SIGN_IN, "application/json", "Content-Length: 100\r\n", json),
            true,
        ),
        (
            "API register, Content-Length",
            half_sent(
                REGISTER,
                "application/x-www-form-urlencoded",
                "Content-Length: 100\r\n",
                b"username=bob&pass",
            ),
            true,
        ),
        (
            "admin sign-in form, Content-Length",
            half_sent(
                "/admin/login/",
                "application/x-www-form-urlencoded",
                "Content-Length: 100\r\n",
                b"username=bob&pass",
            ),
            false,
        ),
        (
            "admin sign-in form, chunked",
            half_sent(
                "/admin/login/",
                "application/x-www-form-urlencoded",
                "Transfer-Encoding: chunked\r\n",
                b"40\r\nusername=bob&pass",
            ),
            false,
        ),
    ];
    for (what, request, api) in cases {
        let addr = addr(&app);
        let (response, elapsed, closed) = tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let mut stream = TcpStream::connect(addr).unwrap();
            stream.set_read_timeout(Some(NEVER_A_HANG)).unwrap();
            stream.write_all(&request).unwrap();
            // ... and idle, the writing half left open.
            let response = try_read_response(&mut stream);
            let elapsed = started.elapsed();
            // Closed: end of stream (or a reset), not a read timeout.
            stream
                .set_read_timeout(Some(Duration::from_secs(3)))
                .unwrap();
            let mut rest = [0u8; 64];
            let closed = match stream.read(&mut rest) {
                Ok(n) => n == 0,
                Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
            };
            (response, elapsed, closed)
        })
        .await
        .unwrap();
        let response = response.unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(response.status, 408, "{what}: {}", response.text());
        assert!(
            elapsed >= BODY_TIMEOUT && elapsed < BODY_TIMEOUT * 5,
            "{what}: answered after {elapsed:?}"
        );
        assert_eq!(response.header("connection"), Some("close"), "{what}");
        assert!(closed, "{what}: the connection stays open");
        if api {
            let value = raw_shape(what, &response);
            assert_eq!(
                value,
                json!({"detail": "Timed out waiting for the request body."}),
                "{what}"
            );
        }
    }
    // A body the handler never reads (chunked to the API, any body to a
    // GET) does not hold the connection either: answered at once, closed.
    for (what, request, status) in [
        (
            "API, chunked",
            half_sent(
                SIGN_IN,
                "application/json",
                "Transfer-Encoding: chunked\r\n",
                b"40\r\n{\"username\"",
            ),
            400,
        ),
        (
            "GET with half a body",
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc".to_vec(),
            200,
        ),
    ] {
        let addr = addr(&app);
        let (response, closed) = tokio::task::spawn_blocking(move || {
            let mut stream = TcpStream::connect(addr).unwrap();
            stream.set_read_timeout(Some(NEVER_A_HANG)).unwrap();
            stream.write_all(&request).unwrap();
            let response = try_read_response(&mut stream);
            stream.set_read_timeout(Some(BODY_TIMEOUT * 5)).unwrap();
            let closed = matches!(stream.read(&mut [0u8; 64]), Ok(0));
            (response, closed)
        })
        .await
        .unwrap();
        let response = response.unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(response.status, status, "{what}: {}", response.text());
        assert!(closed, "{what}: the connection stays open");
    }
    assert_eq!(snap(&app), before);
    // Whole bodies are not affected.
    let response = app
        .post_json(SIGN_IN, &json!({"username": "nobody", "password": "x"}))
        .await;
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn static_errors_are_the_json_404() {
    let (app, _) = app().await;
    let css = app
        .client
        .get(app.url("/static/admin.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), 200);
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    for path in [
        "/static/..%2fCargo.toml",
        "/static/..%2f..%2fetc%2fpasswd",
        "/static/%2e%2e/Cargo.toml",
        "/static/",
        "/static",
        "/static/missing.css",
        "/static/.hidden",
    ] {
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let response = raw(&app, request.into_bytes()).await;
        let value = raw_shape(path, &response);
        assert_eq!(
            (response.status, value),
            (404, json!({"detail": "Not found."})),
            "{path}"
        );
    }
    let response = app
        .client
        .post(app.url("/static/admin.css"))
        .send()
        .await
        .unwrap();
    let (status, value) = response_shape("POST /static/admin.css", response).await;
    assert_eq!(
        (status, value),
        (405, json!({"detail": "Method \"POST\" not allowed."}))
    );
}

/// Malformed requests on raw sockets: each is the client's mistake, so
/// nothing is logged at `error` (the dispatcher's `stream error` is a
/// warning).
#[test]
fn malformed_requests_are_not_logged_as_errors() {
    let db = TestDatabase::new();
    let server = ChildServer::start(&db, &[("BODY_TIMEOUT", "1")]);
    let (type_, body) = multipart(&[("username", "alice"), ("password", "x")]);
    let truncated_multipart = [
        format!(
            "POST {SIGN_IN} HTTP/1.1\r\nHost: x\r\nContent-Type: {type_}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes(),
        body[..body.len() / 2].to_vec(),
    ]
    .concat();
    let requests: [(&str, Vec<u8>); 6] = [
        ("bad request line", b"GARBAGE\r\n\r\n".to_vec()),
        (
            "bad header",
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n".to_vec(),
        ),
        (
            "bad method",
            b"G\x01T /healthz HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        ),
        (
            "broken chunked encoding",
            b"POST /admin/login/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nusername\r\n0\r\n\r\n"
                .to_vec(),
        ),
        ("truncated multipart", truncated_multipart.clone()),
        (
            "truncated JSON",
            format!(
                "POST {SIGN_IN} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{{\"username\""
            )
            .into_bytes(),
        ),
    ];
    for (_, request) in &requests {
        // Sent, then the connection is closed (or left for the deadline).
        let mut stream = TcpStream::connect(server.addr()).unwrap();
        stream.set_read_timeout(Some(NEVER_A_HANG)).unwrap();
        let _ = stream.write_all(request);
        let _ = stream.shutdown(Shutdown::Write);
        let _ = try_read_response(&mut stream);
        drop(stream);
    }
    // And a multipart body cut off by the client going away.
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    let _ = stream.write_all(&truncated_multipart);
    drop(stream);
    // The server is fine, and has logged each request.
    let client = blocking_client();
    assert_eq!(
        client.get(server.url("/healthz")).send().unwrap().status(),
        200
    );
    std::thread::sleep(Duration::from_millis(300));
    let log = server.log();
    let errors: Vec<&str> = log.lines().filter(|l| l.contains(" ERROR ")).collect();
    assert!(
        errors.is_empty(),
        "errors logged:\n{}\n\nwhole log:\n{log}",
        errors.join("\n")
    );
    assert!(
        log.contains("WARN  actix_http::h1::dispatcher] stream error"),
        "{log}"
    );
}

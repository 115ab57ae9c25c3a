//! Hostile input over HTTP: bodies over the limit, huge headers, invalid
//! UTF-8, NUL bytes, deep nesting, 10 MB strings, SQL- and HTML-looking
//! values. Each gets a 4xx in the contract's shape and changes nothing in
//! the database.

use std::io::Write;
use std::net::{Shutdown, SocketAddr, TcpStream};

use authtoken::db::DbError;
use serde_json::{Value, json};

use crate::common::{TestApp, spawn_app_with};
use crate::contract::{assert_shape, response_shape};
use crate::support::{NEVER_A_HANG, RawResponse, Snapshot, raw_http, snapshot, try_read_response};

const SIGN_IN: &str = "/api-token-auth/";
const LOGIN: &str = "/api/auth/login/";
const REGISTER: &str = "/api/auth/register/";
const BODY_PATHS: [&str; 3] = [SIGN_IN, LOGIN, REGISTER];
const TEN_MB: usize = 10 * 1024 * 1024;
const PASSWORD: &str = "correct horse battery";

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
    for path in BODY_PATHS {
        for (content_type, body) in [
            ("application/json", json_body.clone()),
            ("application/x-www-form-urlencoded", form_body.clone()),
            (multipart_type.as_str(), multipart_body.clone()),
            ("application/json", ten_mb.clone()),
        ] {
            let what = format!("{path} {content_type} {} bytes", body.len());
            let response = app
                .client
                .post(app.url(path))
                .header("Content-Type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            let (status, value) = response_shape(&what, response).await;
            assert_eq!(status, 413, "{what}");
            assert_eq!(
                value["detail"], "Request body is too large (the limit is 65536 bytes).",
                "{what}"
            );
        }
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
    let response = raw(&app, huge.into_bytes()).await;
    assert_eq!(response.status, 431);
    let mut many = String::from("GET /api/auth/me/ HTTP/1.1\r\nHost: x\r\n");
    for i in 0..120 {
        many.push_str(&format!("X-H{i}: v\r\n"));
    }
    many.push_str("Connection: close\r\n\r\n");
    assert_eq!(raw(&app, many.into_bytes()).await.status, 431);
    // A 10 MB request line: the same.
    let url = format!(
        "GET /api/auth/me/?q={} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "q".repeat(TEN_MB)
    );
    assert_eq!(raw(&app, url.into_bytes()).await.status, 431);
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
    let post = |path: &str, content_type: &str, body: Vec<u8>| {
        app.client
            .post(app.url(path))
            .header("Content-Type", content_type)
            .body(body)
    };
    for path in BODY_PATHS {
        // Invalid UTF-8 in JSON: Python's UnicodeDecodeError text.
        let response = post(
            path,
            "application/json",
            b"{\"username\": \"al\xffce\", \"password\": \"correct horse battery\"}".to_vec(),
        )
        .send()
        .await
        .unwrap();
        let (status, value) = response_shape(path, response).await;
        assert_eq!(status, 400);
        assert_eq!(
            value["detail"],
            "JSON parse error - 'utf-8' codec can't decode byte 0xff in position 16: invalid start byte"
        );
        // Invalid UTF-8 in a form: U+FFFD, then refused as a username.
        let response = post(
            path,
            "application/x-www-form-urlencoded",
            b"username=al%FFce&password=correct+horse+battery".to_vec(),
        )
        .send()
        .await
        .unwrap();
        assert_eq!(response_shape(path, response).await.0, 400);
        // (A raw non-UTF-8 form body is read as latin-1, as Django does:
        // `al\xffce` is then the valid username "alÿce", so only sign-in is
        // tried here.)
        if path != REGISTER {
            let response = post(
                path,
                "application/x-www-form-urlencoded",
                b"username=al\xffce&password=correct+horse+battery".to_vec(),
            )
            .send()
            .await
            .unwrap();
            assert_eq!(response_shape(path, response).await.0, 400);
        }
        // NUL escaped in JSON and in a form: DRF's validator message.
        let response = app
            .post_json(
                path,
                &json!({"username": "al\u{0}ice", "password": "pass\u{0}word1"}),
            )
            .await;
        let (status, value) = response_shape(path, response).await;
        assert_eq!(status, 400);
        assert_eq!(
            value["username"],
            json!(["Null characters are not allowed."])
        );
        let response = post(
            path,
            "application/x-www-form-urlencoded",
            b"username=alice%00&password=correct+horse+battery".to_vec(),
        )
        .send()
        .await
        .unwrap();
        let (status, value) = response_shape(path, response).await;
        assert_eq!(status, 400);
        assert_eq!(
            value["username"],
            json!(["Null characters are not allowed."])
        );
        // A raw NUL inside a JSON string is a control character.
        let response = post(
            path,
            "application/json",
            b"{\"username\": \"a\x00\", \"password\": \"x\"}".to_vec(),
        )
        .send()
        .await
        .unwrap();
        let (status, value) = response_shape(path, response).await;
        assert_eq!(status, 400);
        assert!(
            value["detail"]
                .as_str()
                .unwrap()
                .starts_with("JSON parse error - Invalid control character at"),
            "{value}"
        );
    }
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
    for path in BODY_PATHS {
        // 100,000 levels is 100 KB of brackets: over the size limit.
        for body in ["[".repeat(100_000), "{\"a\":".repeat(100_000)] {
            let response = app
                .client
                .post(app.url(path))
                .header("Content-Type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(response_shape(path, response).await.0, 413, "{path}");
        }
        // As deep as fits in the limit: a parse error, not a crash.
        for (body, kind) in [
            (format!("{{\"username\": {}", "[".repeat(60_000)), "array"),
            (
                format!(
                    "{{\"username\": {}1{}}}",
                    "{\"a\":".repeat(10_000),
                    "}".repeat(10_000)
                ),
                "object",
            ),
        ] {
            let response = app
                .client
                .post(app.url(path))
                .header("Content-Type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let (status, value) = response_shape(path, response).await;
            assert_eq!(status, 400);
            assert_eq!(
                value["detail"],
                format!(
                    "JSON parse error - maximum recursion depth exceeded while decoding a JSON {kind} from a unicode string"
                )
            );
        }
    }
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

//! The forward-auth example `deploy/nginx.conf`, run by a real nginx on
//! loopback in front of a small upstream: a good key passes with the
//! caller's headers, a bad one gets 401, headers a client makes up never
//! reach the upstream. Skipped when nginx is missing, unless REQUIRE_NGINX=1
//! (CI), which makes that a failure.

#[path = "../common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::spawn_app;
use serde_json::Value;

/// An upstream that answers every request with the `x-auth-*` headers it
/// received, as JSON, and the path.
fn start_upstream() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || answer(stream));
        }
    });
    port
}

fn answer(stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut seen = serde_json::Map::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.trim_end().split_once(':') {
            let name = name.to_ascii_lowercase();
            if name == "content-length" {
                length = value.trim().parse().unwrap_or(0);
            }
            if name.starts_with("x-auth-") {
                seen.insert(name, Value::String(value.trim().to_string()));
            }
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .to_string();
    seen.insert("path".into(), Value::String(path));
    let text = Value::Object(seen).to_string();
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Nginx {
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Nginx {
    /// SIGTERM, so that the master stops its workers too (SIGKILL would
    /// leave them running, holding the port).
    fn drop(&mut self) {
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: a signal to our own child process.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// nginx running `deploy/nginx.conf` with the ports replaced, or `None`
/// when nginx is not installed (and not required).
fn start_nginx(authtoken: u16, upstream: u16, listen: u16) -> Option<Nginx> {
    let binary = ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    let Some(binary) = binary else {
        assert!(
            std::env::var("REQUIRE_NGINX").is_err(),
            "REQUIRE_NGINX is set but nginx is not installed"
        );
        eprintln!("nginx is not installed: skipped");
        return None;
    };
    let example =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/nginx.conf")).unwrap();
    for needle in ["127.0.0.1:8000", "127.0.0.1:9000", "listen 127.0.0.1:8080;"] {
        assert!(example.contains(needle), "the example changed: {needle}");
    }
    let site = example
        .replace("127.0.0.1:8000", &format!("127.0.0.1:{authtoken}"))
        .replace("127.0.0.1:9000", &format!("127.0.0.1:{upstream}"))
        .replace(
            "listen 127.0.0.1:8080;",
            &format!("listen 127.0.0.1:{listen};"),
        );
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("site.conf"), site).unwrap();
    for temp in ["body", "proxy", "fastcgi", "uwsgi", "scgi"] {
        let path = root.join(temp);
        std::fs::create_dir(&path).unwrap();
        // nginx's workers run as another user when started by root.
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o777))
            .unwrap();
    }
    let main = format!(
        "daemon off;\nworker_processes 1;\npid {r}/nginx.pid;\nerror_log {r}/error.log warn;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n access_log off;\n client_body_temp_path {r}/body;\n proxy_temp_path {r}/proxy;\n\
         fastcgi_temp_path {r}/fastcgi;\n uwsgi_temp_path {r}/uwsgi;\n scgi_temp_path {r}/scgi;\n\
         include {r}/site.conf;\n}}\n",
        r = root.display()
    );
    std::fs::write(root.join("nginx.conf"), main).unwrap();
    let child = Command::new(binary)
        .arg("-c")
        .arg(root.join("nginx.conf"))
        .arg("-p")
        .arg(root)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("nginx starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", listen)).is_err() {
        assert!(Instant::now() < deadline, "nginx did not start listening");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(Nginx { child, _dir: dir })
}

#[tokio::test]
async fn nginx_passes_good_keys_with_the_callers_headers_and_refuses_bad_ones() {
    let app = spawn_app().await;
    let user = app.create_user("alice", "correct horse", true);
    let key = app.token_of(user.id);
    let upstream = start_upstream();
    let listen = free_port();
    let Some(_nginx) = start_nginx(app.port, upstream, listen) else {
        return;
    };
    let client = reqwest::Client::new();
    let url = |path: &str| format!("http://127.0.0.1:{listen}{path}");

    // A good key reaches the upstream with who the caller is; headers the
    // client made up under those names are replaced.
    for path in ["/hello", "/orders/42"] {
        let response = client
            .post(url(path))
            .header("Authorization", format!("Token {key}"))
            .header("X-Auth-User-Id", "999")
            .body("a body the check never sees")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let seen: Value = response.json().await.unwrap();
        assert_eq!(seen["path"], path);
        assert_eq!(seen["x-auth-user-id"], user.id.to_string());
        assert_eq!(seen["x-auth-username"], "alice");
        assert_eq!(seen["x-auth-is-staff"], "true");
    }

    // A bad or missing key never reaches it: 401 with the scheme to use.
    for authorization in [Some(format!("Token {}", "0".repeat(40))), None] {
        let mut request = client.get(url("/hello"));
        if let Some(value) = &authorization {
            request = request.header("Authorization", value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{authorization:?}");
        assert_eq!(response.headers()["www-authenticate"], "Token");
    }

    // A named token passes where it holds the scope the location asks for,
    // and gets authtoken's 403 where it does not.
    let create = |scopes: Value| {
        let (client, key) = (app.client.clone(), key.clone());
        let url = app.url("/api/auth/tokens/");
        async move {
            let made: Value = client
                .post(url)
                .header("Authorization", format!("Token {key}"))
                .json(&serde_json::json!({ "name": scopes.to_string(), "scopes": scopes }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            made["token"].as_str().unwrap().to_string()
        }
    };
    let reader = create(serde_json::json!(["orders:read"])).await;
    let other = create(serde_json::json!(["billing:read"])).await;
    for (named, path, expected) in [
        (&reader, "/orders/7", 200),
        (&reader, "/hello", 200),
        (&other, "/hello", 200),
        (&other, "/orders/7", 403),
    ] {
        let response = client
            .get(url(path))
            .header("Authorization", format!("Token {named}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected, "{path}");
        // nginx answers a refused check with its own page: only the status.
        if expected == 200 {
            let seen: Value = response.json().await.unwrap();
            assert_eq!(seen["x-auth-username"], "alice");
        }
    }

    // A revoked key is refused from the next request on.
    assert_eq!(
        app.post_with_token("/api/auth/logout/", &key)
            .await
            .status(),
        204
    );
    let response = client
        .get(url("/orders/1"))
        .header("Authorization", format!("Token {key}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

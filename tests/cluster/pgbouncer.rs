//! Three processes through PgBouncer in transaction pooling mode, with
//! `DATABASE_STATEMENT_CACHE=false`: started together on an empty database,
//! they migrate once and serve, and a revoke through one holds on another.
//! (With the cache on, diesel's named prepared statements meet server
//! connections that other clients prepared them on: "prepared statement
//! \"__diesel_stmt_1\" already exists".) PostgreSQL and Debian's
//! `pgbouncer` only; skipped otherwise, unless `REQUIRE_PGBOUNCER=1`.

use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::TestDatabase;
use crate::support::{ChildServer, blocking_client, pg_target, with_port};

struct Bouncer(Child);

impl Drop for Bouncer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn available() -> bool {
    if !std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        println!("pgbouncer: skipped, it needs PostgreSQL (TEST_DATABASE_URL)");
        return false;
    }
    let found = Command::new("pgbouncer")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found || std::env::var("REQUIRE_PGBOUNCER").as_deref() != Ok("1"),
        "REQUIRE_PGBOUNCER=1 but no pgbouncer on PATH"
    );
    if !found {
        println!("pgbouncer: skipped, no pgbouncer on PATH");
    }
    found
}

fn start_bouncer(db: &TestDatabase) -> (Bouncer, u16) {
    let target = pg_target(&db.url);
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // PgBouncer will not run as root: it is told to become `postgres`, who
    // must read its files.
    let dir = db.dir.path().join("pgbouncer");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let users = dir.join("users.txt");
    std::fs::write(&users, "\"postgres\" \"\"\n").unwrap();
    let ini = dir.join("pgbouncer.ini");
    std::fs::write(
        &ini,
        format!(
            "[databases]\n* = host={} port={}\n[pgbouncer]\nlisten_addr = 127.0.0.1\n\
             listen_port = {port}\nunix_socket_dir =\nauth_type = trust\nauth_file = {}\n\
             pool_mode = transaction\ndefault_pool_size = 6\nmax_client_conn = 200\n",
            target.ip(),
            target.port(),
            users.display()
        ),
    )
    .unwrap();
    for file in [&users, &ini] {
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let mut command = Command::new("pgbouncer");
    // SAFETY: geteuid(2) has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        command.args(["-u", "postgres"]);
    }
    let child = command
        .arg(&ini)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("pgbouncer starts");
    let bouncer = Bouncer(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "pgbouncer did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    (bouncer, port)
}

#[test]
fn processes_work_through_pgbouncer_in_transaction_mode() {
    if !available() {
        return;
    }
    let db = TestDatabase::new();
    let (_bouncer, port) = start_bouncer(&db);
    let url = with_port(&db.url, port);
    let servers: Vec<ChildServer> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3)
            .map(|_| {
                s.spawn(|| {
                    ChildServer::start(
                        &db,
                        &[
                            ("DATABASE_URL", url.as_str()),
                            ("DATABASE_STATEMENT_CACHE", "false"),
                            ("DATABASE_POOL_SIZE", "4"),
                        ],
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let applied: usize = servers
        .iter()
        .map(|s| s.log().matches("applied migration").count())
        .sum();
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .unwrap()
        .count();
    assert_eq!(applied, migrations, "migrated once");

    let client = blocking_client();
    let mut keys = Vec::new();
    for i in 0..12 {
        let server = &servers[i % 3];
        let response = client
            .post(server.url("/api/auth/register/"))
            .json(&json!({"username": format!("u{i}"), "password": "correct horse battery"}))
            .send()
            .unwrap();
        assert_eq!(response.status(), 201, "{}", server.log());
        let body: Value = response.json().unwrap();
        keys.push(body["token"].as_str().unwrap().to_string());
    }
    for (i, key) in keys.iter().enumerate() {
        let server = &servers[(i + 1) % 3];
        let response = client
            .get(server.url("/api/auth/me/"))
            .header("Authorization", format!("Token {key}"))
            .send()
            .unwrap();
        assert_eq!(response.status(), 200, "{}", server.log());
    }
    let response = client
        .post(servers[0].url("/api/auth/logout/"))
        .header("Authorization", format!("Token {}", keys[0]))
        .send()
        .unwrap();
    assert_eq!(response.status(), 204);
    let response = client
        .get(servers[2].url("/api/auth/me/"))
        .header("Authorization", format!("Token {}", keys[0]))
        .send()
        .unwrap();
    assert_eq!(response.status(), 401);
    for server in &servers {
        assert!(!server.log().contains("ERROR"), "{}", server.log());
    }
}

//! The operator commands, through the real binary, on SQLite and (with
//! TEST_DATABASE_URL) PostgreSQL.

#[path = "../common/mod.rs"]
mod common;

mod staff;

use std::process::{Command, Output};

use common::{SECRET, TestDatabase, spawn_app, spawn_app_on};

const BIN: &str = env!("CARGO_BIN_EXE_authtoken");

fn authtoken(db: &TestDatabase, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .current_dir(db.dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &db.url)
        .env("BCRYPT_COST", "4");
    if db.is_postgres() {
        command.env("SECRET_KEY", SECRET);
    }
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn create_user(db: &TestDatabase, name: &str) {
    let out = authtoken(
        db,
        &["user", "create", name, "--email", "x@example.com"],
        &[("AUTHTOKEN_PASSWORD", "correct horse")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

fn token_line_key(line: &str, user: &str) -> String {
    let key = line
        .strip_prefix("Generated token ")
        .and_then(|rest| rest.strip_suffix(&format!(" for user {user}\n")))
        .unwrap_or_else(|| panic!("unexpected output {line:?}"));
    assert_eq!(key.len(), 40);
    assert!(
        key.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    key.to_string()
}

#[test]
fn migrate_on_a_fresh_database() {
    let db = TestDatabase::new();
    let out = authtoken(&db, &["migrate"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "Migrations are up to date.\n");
    // Twice is fine.
    let out = authtoken(&db, &["migrate"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    if !db.is_postgres() {
        assert!(std::path::Path::new(&db.url).exists());
    }
}

#[test]
fn without_a_secret_sqlite_creates_one_beside_the_database() {
    let db = TestDatabase::new();
    if db.is_postgres() {
        let out = Command::new(BIN)
            .arg("migrate")
            .env_clear()
            .env("DATABASE_URL", &db.url)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("SECRET_KEY: "), "{err}");
        return;
    }
    let out = authtoken(&db, &["migrate"], &[]);
    assert!(out.status.success());
    let secret = std::path::PathBuf::from(format!("{}.secret", db.url));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(stderr(&out).contains("SECRET_KEY is not set"));
    // Keys survive a restart because the secret does.
    create_user(&db, "alice");
    let first = token_line_key(
        &stdout(&authtoken(&db, &["drf_create_token", "alice"], &[])),
        "alice",
    );
    let again = token_line_key(
        &stdout(&authtoken(&db, &["drf_create_token", "alice"], &[])),
        "alice",
    );
    assert_eq!(first, again);
}

#[test]
fn drf_create_token_prints_and_resets() {
    let db = TestDatabase::new();
    create_user(&db, "alice");
    let out = authtoken(&db, &["drf_create_token", "alice"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let first = token_line_key(&stdout(&out), "alice");
    let out = authtoken(&db, &["drf_create_token", "alice"], &[]);
    assert_eq!(token_line_key(&stdout(&out), "alice"), first);
    for flag in ["-r", "--reset"] {
        let out = authtoken(&db, &["drf_create_token", "alice", flag], &[]);
        assert!(out.status.success());
        let reset = token_line_key(&stdout(&out), "alice");
        assert_ne!(reset, first);
    }
}

#[test]
fn drf_create_token_for_an_unknown_user() {
    let db = TestDatabase::new();
    authtoken(&db, &["migrate"], &[]);
    let out = authtoken(&db, &["drf_create_token", "bob"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out),
        "CommandError: Cannot create the Token: user bob does not exist\n"
    );
}

#[test]
fn createsuperuser() {
    let db = TestDatabase::new();
    let out = authtoken(
        &db,
        &[
            "createsuperuser",
            "--username",
            "admin",
            "--email",
            "admin@Example.com",
        ],
        &[("AUTHTOKEN_PASSWORD", "correct horse")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "Superuser created successfully.\n");
    let list = stdout(&authtoken(&db, &["user", "list"], &[]));
    let row = list
        .lines()
        .find(|l| l.contains("\tadmin\t"))
        .expect("listed");
    assert!(row.contains("admin@example.com\tyes\tyes\t"), "{row}");

    let again = authtoken(
        &db,
        &["createsuperuser", "--username", "admin"],
        &[("AUTHTOKEN_PASSWORD", "correct horse")],
    );
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        stderr(&again),
        "CommandError: That username is already taken.\n"
    );

    let weak = authtoken(
        &db,
        &["createsuperuser", "--username", "root2"],
        &[("AUTHTOKEN_PASSWORD", "123")],
    );
    assert_eq!(weak.status.code(), Some(1));
    assert_eq!(stderr(&weak).lines().count(), 1);
    assert!(stderr(&weak).contains("This password is too short."));

    let no_password = authtoken(&db, &["createsuperuser", "--username", "root3"], &[]);
    assert_eq!(no_password.status.code(), Some(1));
    assert!(stderr(&no_password).contains("AUTHTOKEN_PASSWORD"));
}

#[test]
fn user_activate_deactivate_and_list() {
    let db = TestDatabase::new();
    create_user(&db, "carol");
    let out = authtoken(&db, &["user", "deactivate", "carol"], &[]);
    assert!(out.status.success());
    assert_eq!(stdout(&out), "Deactivated user carol.\n");
    let list = stdout(&authtoken(&db, &["user", "list"], &[]));
    assert!(list.starts_with("id\tusername\temail\tactive\tstaff\ttoken\n"));
    let row = list.lines().nth(1).unwrap();
    assert!(row.contains("\tcarol\tx@example.com\tno\tno\t"), "{row}");
    let out = authtoken(&db, &["user", "activate", "carol"], &[]);
    assert_eq!(stdout(&out), "Activated user carol.\n");
    let list = stdout(&authtoken(&db, &["user", "list"], &[]));
    assert!(list.contains("\tcarol\tx@example.com\tyes\tno\t"));
    let missing = authtoken(&db, &["user", "activate", "nobody"], &[]);
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(
        stderr(&missing),
        "CommandError: user nobody does not exist\n"
    );
    let invalid = authtoken(
        &db,
        &["user", "create", "bad name"],
        &[("AUTHTOKEN_PASSWORD", "correct horse")],
    );
    assert_eq!(invalid.status.code(), Some(1));
    assert!(stderr(&invalid).contains("Enter a valid username."));
}

#[test]
fn bad_settings_stop_with_one_line_and_exit_2() {
    let db = TestDatabase::new();
    for (var, value) in [
        ("BCRYPT_COST", "99"),
        ("TOKEN_TTL", "forever"),
        ("LOGIN_THROTTLE", "lots"),
        ("DATABASE_TIMEOUT", "-1"),
    ] {
        let out = authtoken(&db, &["migrate"], &[(var, value)]);
        assert_eq!(out.status.code(), Some(2), "{var}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with(&format!("{var}: ")), "{err}");
        assert!(!err.contains("panicked"));
    }
}

#[test]
fn an_unreachable_database_is_one_clear_line() {
    let db = TestDatabase::new();
    let out = authtoken(
        &db,
        &["migrate"],
        &[
            ("DATABASE_URL", "postgres://postgres@127.0.0.1:1/nothing"),
            ("SECRET_KEY", SECRET),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("cannot connect to the database"), "{err}");
    assert!(!err.contains("panicked"));
}

#[test]
fn serve_answers_and_stops_on_sigterm() {
    let db = TestDatabase::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = Command::new(BIN);
    command
        .current_dir(db.dir.path())
        .env("DATABASE_URL", &db.url)
        .env("SECRET_KEY", SECRET)
        .env("BIND", format!("127.0.0.1:{port}"))
        .env("SHUTDOWN_TIMEOUT", "2")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap();
    let url = format!("http://127.0.0.1:{port}/healthz");
    let mut ok = false;
    for _ in 0..100 {
        if let Ok(r) = reqwest::blocking::get(&url)
            && r.status() == 200
        {
            ok = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    unsafe_kill(child.id());
    let status = child.wait().unwrap();
    assert!(ok, "the server answered /healthz");
    assert_eq!(status.code(), Some(0));
}

fn unsafe_kill(pid: u32) {
    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
}

/// A change made by the command line is refused by a running server from
/// its next request: nothing is cached (on SQLite the worker-local read
/// sees the command's commit).
#[tokio::test]
async fn command_line_changes_reach_a_running_server_at_once() {
    let app = spawn_app().await;
    let user = app.create_user("dana", "correct horse", false);
    let key = app.token_of(user.id);
    async fn me(app: &common::TestApp, key: &str) -> (u16, String) {
        common::status_body(app.get_with_token("/api/auth/me/", key).await).await
    }
    assert_eq!(me(&app, &key).await.0, 200);
    let secret = [("SECRET_KEY", SECRET)];

    let out = authtoken(&app.db, &["drf_create_token", "-r", "dana"], &secret);
    assert!(out.status.success(), "{}", stderr(&out));
    let new_key = token_line_key(&stdout(&out), "dana");
    assert_eq!(
        me(&app, &key).await,
        (401, r#"{"detail":"Invalid token."}"#.to_string())
    );
    assert_eq!(me(&app, &new_key).await.0, 200);

    let out = authtoken(&app.db, &["user", "deactivate", "dana"], &secret);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        me(&app, &new_key).await,
        (401, r#"{"detail":"User inactive or deleted."}"#.to_string())
    );
    let out = authtoken(&app.db, &["user", "activate", "dana"], &secret);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(me(&app, &new_key).await.0, 200);
}

/// Every command that changes something leaves one audit record, by `cli`
/// from `cli`; one that changes nothing (an unknown user, printing an
/// existing key, a refused password) leaves none.
#[tokio::test]
async fn commands_that_change_something_are_audited() {
    use authtoken::models::audit::{self, Filter};
    let db = TestDatabase::new();
    let secret = [
        ("SECRET_KEY", SECRET),
        ("AUTHTOKEN_PASSWORD", "correct horse"),
    ];
    let run = |args: &[&str]| {
        let out = authtoken(&db, args, &secret);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    };
    run(&["createsuperuser", "--username", "root"]);
    run(&["user", "create", "carol", "--staff"]);
    // carol's token from the hook: printing it changes nothing.
    run(&["drf_create_token", "carol"]);
    run(&["drf_create_token", "-r", "carol"]);
    run(&["user", "deactivate", "carol"]);
    run(&["user", "activate", "carol"]);
    run(&["user", "list"]);
    let refused = authtoken(&db, &["drf_create_token", "nobody"], &secret);
    assert_eq!(refused.status.code(), Some(1));
    let refused = authtoken(
        &db,
        &["user", "create", "weak"],
        &[("SECRET_KEY", SECRET), ("AUTHTOKEN_PASSWORD", "1")],
    );
    assert_eq!(refused.status.code(), Some(1));

    let app = spawn_app_on(db, &[]).await;
    let mut events = app
        .state
        .domain
        .db
        .run(|c| audit::list(c, &Filter::default(), 1, 100))
        .unwrap()
        .events;
    events.reverse();
    let seen: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e.action.as_str(), e.username.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("user_created", "root"),
            ("user_created", "carol"),
            ("token_regenerated", "carol"),
            ("user_deactivated", "carol"),
            ("user_activated", "carol"),
        ]
    );
    for event in &events {
        assert_eq!(
            (event.actor.as_str(), event.address.as_str()),
            ("cli", "cli")
        );
        assert!(event.user_id.is_some());
    }

    // A user without a token: drf_create_token creates one, and says so.
    let carol = events[1].user_id.unwrap();
    app.state
        .domain
        .db
        .run(|c| app.state.domain.tokens.revoke(c, carol, None, "test"))
        .unwrap();
    let out = authtoken(&app.db, &["drf_create_token", "carol"], &secret);
    assert!(out.status.success(), "{}", stderr(&out));
    let latest = app
        .state
        .domain
        .db
        .run(|c| audit::list(c, &Filter::default(), 1, 1))
        .unwrap()
        .events;
    assert_eq!(latest[0].action.as_str(), "token_created");
    assert_eq!(latest[0].username, "carol");
}

//! `authtoken import-django` (issue 10), through the real binary, against
//! the database the real Django 5.2 + DRF 3.18 made
//! (`tests/fixtures/django/`), into a fresh target on SQLite or (with
//! `TEST_DATABASE_URL`) PostgreSQL; then checked over HTTP on a real server.
//!
//! With `DJANGO_IMPORT_SOURCE` (a Django database URL, e.g. one that
//! `make_fixture.py` just filled on PostgreSQL) and `DJANGO_IMPORT_MANIFEST`
//! (that run's manifest), the same checks run against that source too.

#[path = "../common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use authtoken::models::events::{self, EventKind};
use authtoken::models::{UserId, users};
use common::{SECRET, TestApp, TestDatabase, spawn_app_on, status_body};
use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::sqlite::SqliteConnection;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_authtoken");

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/django")
}

fn fixture_db() -> String {
    fixture_dir()
        .join("django.sqlite3")
        .to_str()
        .unwrap()
        .to_string()
}

fn manifest_at(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("a manifest")).expect("JSON")
}

fn fixture_users() -> Vec<Value> {
    manifest_users(&manifest_at(&fixture_dir().join("fixture.json")))
}

fn manifest_users(manifest: &Value) -> Vec<Value> {
    manifest["users"].as_array().expect("users").clone()
}

fn user<'a>(users: &'a [Value], name: &str) -> &'a Value {
    users
        .iter()
        .find(|u| u["username"] == name)
        .unwrap_or_else(|| panic!("no {name} in the manifest"))
}

/// Runs the binary on the target database, as an operator would.
fn authtoken(db: &TestDatabase, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .current_dir(db.dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &db.url)
        .env("SECRET_KEY", SECRET)
        .env("BCRYPT_COST", "4");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("the binary runs")
}

fn import(db: &TestDatabase, source: &str, dry_run: bool) -> Output {
    let mut args = vec!["import-django", source];
    if dry_run {
        args.push("--dry-run");
    }
    authtoken(db, &args, &[])
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// The summary line, after checking the command succeeded.
fn summary(o: &Output) -> String {
    assert!(o.status.success(), "import failed: {}", stderr(o));
    stdout(o).lines().last().unwrap_or_default().to_string()
}

/// DRF's rendering of a UTC time as the manifest spells it
/// (`2024-05-01 00:00:00.000000`): `isoformat()` drops a zero fraction.
fn drf_time(manifest: &str) -> String {
    let iso = manifest.replace(' ', "T");
    let iso = iso.strip_suffix(".000000").unwrap_or(&iso).to_string();
    format!("{iso}Z")
}

fn stored_hash(app: &TestApp, id: i64) -> String {
    let id = UserId::new(id as i32);
    app.state
        .domain
        .db
        .run(|conn| users::find_by_id(conn, id))
        .unwrap()
        .expect("the user")
        .password_hash
}

fn user_count(app: &TestApp) -> usize {
    app.state.domain.db.run(users::all).unwrap().len()
}

async fn sign_in(app: &TestApp, username: &str, password: &str) -> (u16, Value) {
    let response = app
        .post_json(
            "/api-token-auth/",
            &json!({"username": username, "password": password}),
        )
        .await;
    let (status, body) = status_body(response).await;
    (status, serde_json::from_str(&body).unwrap())
}

/// Every key authenticates its user with DRF's `me/` body; every usable
/// password signs in, returns the old key and leaves a bcrypt hash; the
/// inactive user and the unusable password are refused.
async fn check_imported(app: &TestApp, users: &[Value]) {
    for want in users {
        let name = want["username"].as_str().unwrap();
        let Some(key) = want["token"].as_str() else {
            continue;
        };
        let (status, body) = status_body(app.get_with_token("/api/auth/me/", key).await).await;
        if want["is_active"] == true {
            let expected = json!({
                "id": want["id"],
                "username": name,
                "email": want["email"],
                "is_staff": want["is_staff"],
                "date_joined": drf_time(want["date_joined"].as_str().unwrap()),
            });
            assert_eq!(status, 200, "{name}: {body}");
            assert_eq!(body, serde_json::to_string(&expected).unwrap(), "{name}");
        } else {
            assert_eq!(status, 401, "{name}");
            assert_eq!(body, r#"{"detail":"User inactive or deleted."}"#);
        }
    }
    // The slow hashes (PBKDF2 at 1,000,000 iterations, argon2 at 100 MiB)
    // are checked concurrently, one sign-in each.
    let sign_ins = users.iter().filter_map(|want| {
        let password = want["password"].as_str()?;
        Some(async move {
            let name = want["username"].as_str().unwrap();
            (want, sign_in(app, name, password).await)
        })
    });
    for (want, (status, body)) in futures_util::future::join_all(sign_ins).await {
        let name = want["username"].as_str().unwrap();
        let id = want["id"].as_i64().unwrap();
        if want["is_active"] == false {
            assert_eq!(status, 400, "{name}");
            assert_eq!(
                body,
                json!({"non_field_errors": ["Unable to log in with provided credentials."]})
            );
            assert_eq!(
                stored_hash(app, id),
                want["encoded"],
                "{name}: not upgraded"
            );
            continue;
        }
        assert_eq!(status, 200, "{name}: {body}");
        let key = body["token"].as_str().unwrap();
        match want["token"].as_str() {
            Some(old) => assert_eq!(key, old, "{name}: the DRF key"),
            None => assert_eq!(key.len(), 40, "{name}: a new key"),
        }
        assert!(
            stored_hash(app, id).starts_with("$2b$04$"),
            "{name}: upgraded to bcrypt at BCRYPT_COST"
        );
    }
    let unusable = users.iter().find(|u| u["password"].is_null()).unwrap();
    let name = unusable["username"].as_str().unwrap();
    for attempt in ["!", "anything", unusable["encoded"].as_str().unwrap()] {
        let (status, _) = sign_in(app, name, attempt).await;
        assert_eq!(status, 400, "the unusable password never verifies");
    }
}

async fn import_and_check(source: &str, users: &[Value]) {
    let db = TestDatabase::new();
    let with_tokens = users.iter().filter(|u| !u["token"].is_null()).count();
    let n = users.len();
    let out = import(&db, source, false);
    assert_eq!(
        summary(&out),
        format!(
            "imported {n} users ({with_tokens} with tokens): {n} added, 0 updated, 0 unchanged"
        )
    );
    let app = spawn_app_on(db, &[]).await;
    assert_eq!(user_count(&app), n);
    check_imported(&app, users).await;

    // Imported keys were recorded as created by the import, when DRF made them.
    let admin = user(users, "admin");
    let history = app
        .state
        .domain
        .db
        .run(|conn| events::for_user(conn, UserId::new(admin["id"].as_i64().unwrap() as i32), 10))
        .unwrap();
    let first = history.last().expect("an event");
    assert_eq!(
        (first.kind, first.actor.as_str()),
        (EventKind::Created, "import")
    );

    // New users get ids above every imported one.
    let max_id = users
        .iter()
        .map(|u| u["id"].as_i64().unwrap())
        .max()
        .unwrap();
    let response = app
        .post_json(
            "/api/auth/register/",
            &json!({"username": "newcomer", "password": "a long password 1"}),
        )
        .await;
    let (status, body) = status_body(response).await;
    assert_eq!(status, 201, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert!(body["id"].as_i64().unwrap() > max_id, "{body}");

    // Running it again changes nothing, and keeps the upgraded hashes.
    let again = import(&app.db, source, false);
    assert_eq!(
        summary(&again),
        format!(
            "imported {n} users ({with_tokens} with tokens): 0 added, 0 updated, {n} unchanged"
        )
    );
    let md5 = user(users, "u_md5");
    assert!(stored_hash(&app, md5["id"].as_i64().unwrap()).starts_with("$2b$04$"));
    let (status, body) = sign_in(&app, "u_md5", md5["password"].as_str().unwrap()).await;
    assert_eq!((status, &body["token"]), (200, &md5["token"]));
}

#[tokio::test]
async fn the_django_fixture_imports_and_every_key_and_password_works() {
    import_and_check(&fixture_db(), &fixture_users()).await;
}

/// A source made by Django itself elsewhere (CI: PostgreSQL).
#[tokio::test]
async fn a_django_source_from_the_environment_imports() {
    let (Ok(source), Ok(manifest)) = (
        std::env::var("DJANGO_IMPORT_SOURCE"),
        std::env::var("DJANGO_IMPORT_MANIFEST"),
    ) else {
        eprintln!("DJANGO_IMPORT_SOURCE or DJANGO_IMPORT_MANIFEST unset: skipped");
        return;
    };
    let users = manifest_users(&manifest_at(Path::new(&manifest)));
    import_and_check(&source, &users).await;
}

/// A copy of the fixture to change as Django would.
fn fixture_copy(dir: &Path) -> String {
    let path = dir.join("django-copy.sqlite3");
    std::fs::copy(fixture_db(), &path).unwrap();
    path.to_str().unwrap().to_string()
}

fn django_sql(path: &str, sql: &str) {
    let mut conn = SqliteConnection::establish(path).unwrap();
    conn.batch_execute(sql).unwrap();
}

/// Django's `md5` hasher: `md5$<salt>$<hex md5(salt + password)>`.
fn django_md5(salt: &str, password: &str) -> String {
    use md5::Digest as _;
    let digest = md5::Md5::digest(format!("{salt}{password}").as_bytes());
    format!("md5${salt}${}", hex::encode(digest))
}

#[tokio::test]
async fn rows_changed_in_django_are_updated_and_only_their_changed_fields() {
    let users = fixture_users();
    let source_dir = tempfile::tempdir().unwrap();
    let source = fixture_copy(source_dir.path());
    let db = TestDatabase::new();
    summary(&import(&db, &source, false));
    let app = spawn_app_on(db, &[]).await;
    let md5 = user(&users, "u_md5");
    let bcrypt = user(&users, "u_bcrypt");
    // Signed in here since: the hash is upgraded, and `no_token` got a key.
    let (status, _) = sign_in(&app, "u_md5", md5["password"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    let upgraded = stored_hash(&app, 8);
    assert!(upgraded.starts_with("$2b$04$"));

    let new_key = "0123456789abcdef0123456789abcdef01234567";
    django_sql(
        &source,
        &format!(
            "UPDATE auth_user SET email = 'moved@example.com', last_name = 'Five' WHERE username = 'u_md5';
             UPDATE auth_user SET password = '{}' WHERE username = 'u_bcrypt';
             UPDATE authtoken_token SET key = '{new_key}' WHERE user_id = 3;
             DELETE FROM authtoken_token WHERE user_id = 4;
             INSERT INTO auth_user (id, password, last_login, is_superuser, username, first_name,
                 last_name, email, is_staff, is_active, date_joined)
             VALUES (40, '{}', NULL, 0, 'latecomer', '', '', 'late@example.com', 0, 1,
                 '2026-12-01 10:00:00.000001');",
            django_md5("salt1", "changed in Django"),
            django_md5("salt2", "latecomer password"),
        ),
    );
    let out = import(&app.db, &source, false);
    assert_eq!(
        summary(&out),
        "imported 13 users (10 with tokens): 1 added, 4 updated, 8 unchanged"
    );
    // u_md5: the e-mail and name changed in Django, not the password: the
    // upgraded hash stays.
    let me = |key: &str| {
        let key = key.to_string();
        let app = &app;
        async move { status_body(app.get_with_token("/api/auth/me/", &key).await).await }
    };
    let (status, body) = me(md5["token"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert!(body.contains("moved@example.com"), "{body}");
    assert_eq!(stored_hash(&app, 8), upgraded);
    // u_bcrypt: the password changed in Django: the new one signs in.
    let (status, _) = sign_in(&app, "u_bcrypt", bcrypt["password"].as_str().unwrap()).await;
    assert_eq!(status, 400);
    let (status, body) = sign_in(&app, "u_bcrypt", "changed in Django").await;
    assert_eq!((status, &body["token"]), (200, &bcrypt["token"]));
    // u_pbkdf2_sha1's key changed, u_argon2's was deleted in Django.
    let sha1 = user(&users, "u_pbkdf2_sha1");
    assert_eq!(me(sha1["token"].as_str().unwrap()).await.0, 401);
    assert_eq!(me(new_key).await.0, 200);
    let argon2 = user(&users, "u_argon2");
    assert_eq!(me(argon2["token"].as_str().unwrap()).await.0, 401);
    // The admin's search follows: the new e-mail is found, and the
    // newcomer (SQLite's search index is kept by the
    // import itself).
    let search = |q: &str| {
        app.state
            .domain
            .db
            .run(|c| users::search(c, q, 1, 50))
            .unwrap()
            .rows
            .into_iter()
            .map(|(u, _)| u.username)
            .collect::<Vec<_>>()
    };
    assert_eq!(search("moved@exa"), ["u_md5"]);
    assert_eq!(search("zoë_"), ["zoë_ß"]);
    assert_eq!(search("latecom"), ["latecomer"]);
    assert_eq!(search("LATE@EX"), ["latecomer"]);
    // The newcomer, who has no DRF token, gets one at sign-in.
    let (status, body) = sign_in(&app, "latecomer", "latecomer password").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = me(body["token"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert!(body.starts_with(r#"{"id":40,"#), "{body}");
}

#[tokio::test]
async fn a_target_user_no_import_created_is_a_conflict_and_nothing_is_written() {
    let db = TestDatabase::new();
    for name in ["someone", "admin"] {
        let out = authtoken(
            &db,
            &["user", "create", name],
            &[("AUTHTOKEN_PASSWORD", "correct horse")],
        );
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let out = import(&db, &fixture_db(), false);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    let conflicts: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("conflict: "))
        .collect();
    // Django's admin (id 1) meets `someone` (id 1); u_pbkdf2_sha256 (id 2)
    // meets `admin` (id 2).
    assert_eq!(conflicts.len(), 2, "{err}");
    assert!(conflicts[0].contains(r#"Django user 1 ("admin")"#), "{err}");
    assert!(
        conflicts[0].contains(r#"target user 1 ("someone")"#),
        "{err}"
    );
    assert!(err.trim_end().ends_with("nothing was imported"), "{err}");
    let app = spawn_app_on(db, &[]).await;
    assert_eq!(user_count(&app), 2);
}

/// One audit record per run that wrote something, its summary as detail;
/// a dry run and a run that changes nothing leave none.
#[tokio::test]
async fn an_import_that_writes_is_audited_once() {
    use authtoken::models::audit::{self, Filter};
    let db = TestDatabase::new();
    summary(&import(&db, &fixture_db(), true));
    let first = summary(&import(&db, &fixture_db(), false));
    let again = summary(&import(&db, &fixture_db(), false));
    assert!(
        again.contains("0 added, 0 updated, 12 unchanged"),
        "{again}"
    );
    let app = spawn_app_on(db, &[]).await;
    let events = app
        .state
        .domain
        .db
        .run(|c| audit::list(c, &Filter::default(), 1, 100))
        .unwrap()
        .events;
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.action.as_str(), "import");
    assert_eq!(
        (event.actor.as_str(), event.address.as_str()),
        ("cli", "cli")
    );
    assert_eq!(event.user_id, None);
    assert_eq!(event.detail, first);
}

#[tokio::test]
async fn a_dry_run_reports_and_writes_nothing() {
    let db = TestDatabase::new();
    let out = import(&db, &fixture_db(), true);
    assert_eq!(
        summary(&out),
        "imported 12 users (11 with tokens): 12 added, 0 updated, 0 unchanged"
    );
    let app = spawn_app_on(db, &[]).await;
    assert_eq!(user_count(&app), 0);
}

#[tokio::test]
async fn unverifiable_hashes_are_counted_by_algorithm() {
    let source_dir = tempfile::tempdir().unwrap();
    let source = fixture_copy(source_dir.path());
    django_sql(
        &source,
        "UPDATE auth_user SET password = 'sha1$salt$0123456789abcdef0123456789abcdef01234567' WHERE id IN (2, 3);
         UPDATE auth_user SET password = 'crypt$$ab1234567890' WHERE id = 4;",
    );
    let db = TestDatabase::new();
    let out = import(&db, &source, true);
    assert_eq!(
        summary(&out),
        "imported 12 users (11 with tokens): 12 added, 0 updated, 0 unchanged; unverifiable: crypt 1, sha1 2"
    );
}

#[tokio::test]
async fn bad_sources_are_one_line_and_write_nothing() {
    let db = TestDatabase::new();
    let dir = tempfile::tempdir().unwrap();
    let not_django = dir.path().join("other.sqlite3");
    django_sql(
        not_django.to_str().unwrap(),
        "CREATE TABLE things (id INTEGER PRIMARY KEY);",
    );
    let missing = dir.path().join("missing.sqlite3");
    for (source, says) in [
        (missing.to_str().unwrap(), "no such file"),
        (not_django.to_str().unwrap(), "is not a Django database"),
        ("postgres://postgres@127.0.0.1:1/nothing", "cannot connect"),
    ] {
        let out = import(&db, source, false);
        assert_eq!(out.status.code(), Some(1), "{source}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(says), "{err}");
        assert_eq!(stdout(&out), "");
    }
    if !db.is_postgres() {
        assert!(!Path::new(&db.url).exists(), "the target was not touched");
    }
    let app = spawn_app_on(db, &[]).await;
    assert_eq!(user_count(&app), 0);
}

#[test]
fn a_target_that_cannot_be_migrated_is_one_line_and_exit_1() {
    let db = TestDatabase::new();
    let out = authtoken(
        &db,
        &["import-django", &fixture_db()],
        &[(
            "DATABASE_URL",
            "postgres://postgres@127.0.0.1:1/unreachable",
        )],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
}

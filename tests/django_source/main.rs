//! Reading a Django database (issue 10), against a database made by the real
//! Django: `tests/fixtures/django/django.sqlite3` and its manifest
//! `fixture.json`, written by `make_fixture.py` (Django 5.2, DRF 3.18; see
//! `requirements.txt` there). No Python is needed to run these tests.
//!
//! With `TEST_DATABASE_URL` (`postgres://postgres@127.0.0.1:5432`) the
//! PostgreSQL path is tested too: the tables are made by the SQL Django's own
//! migrations emit on PostgreSQL (`postgres_migrations.sql`, from
//! `make_fixture.py --ddl`) and filled with the fixture's rows. With
//! `DJANGO_FIXTURE_PYTHON` as well (a Python with `requirements.txt`
//! installed), the script itself fills a fresh PostgreSQL database.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use authtoken::crypto::django_hash::{self, DjangoHash, Parsed};
use authtoken::import::source::{self, DjangoData, DjangoSource, SourceError};
use chrono::{NaiveDateTime, Timelike};
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};
use serde_json::Value;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/django")
}

fn fixture_db() -> PathBuf {
    fixture_dir().join("django.sqlite3")
}

fn manifest_at(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("the fixture manifest");
    serde_json::from_str(&text).expect("a JSON manifest")
}

fn manifest() -> Value {
    manifest_at(&fixture_dir().join("fixture.json"))
}

fn manifest_users(manifest: &Value) -> &Vec<Value> {
    manifest["users"].as_array().expect("users")
}

fn stamp(value: &Value) -> Option<NaiveDateTime> {
    value
        .as_str()
        .map(|text| source::parse_timestamp(text).unwrap_or_else(|| panic!("a timestamp: {text}")))
}

fn read_fixture() -> DjangoData {
    source::read(fixture_db().to_str().unwrap()).expect("the fixture reads")
}

/// Every field the manifest names, user by user, in id order.
fn assert_matches_manifest(data: &DjangoData, manifest: &Value) {
    let expected = manifest_users(manifest);
    assert_eq!(data.users.len(), expected.len());
    for (user, want) in data.users.iter().zip(expected) {
        let name = want["username"].as_str().unwrap();
        assert_eq!(user.id, want["id"].as_i64().unwrap(), "{name}");
        assert_eq!(user.username, name);
        assert_eq!(user.email, want["email"].as_str().unwrap(), "{name}");
        assert_eq!(user.first_name, want["first_name"].as_str().unwrap());
        assert_eq!(user.last_name, want["last_name"].as_str().unwrap());
        assert_eq!(user.password, want["encoded"].as_str().unwrap(), "{name}");
        assert_eq!(
            user.is_active,
            want["is_active"].as_bool().unwrap(),
            "{name}"
        );
        assert_eq!(user.is_staff, want["is_staff"].as_bool().unwrap(), "{name}");
        assert_eq!(
            user.is_superuser,
            want["is_superuser"].as_bool().unwrap(),
            "{name}"
        );
        assert_eq!(
            Some(user.date_joined),
            stamp(&want["date_joined"]),
            "{name}"
        );
        assert_eq!(user.last_login, stamp(&want["last_login"]), "{name}");
        let token = data.tokens.iter().find(|t| t.user_id == user.id);
        match want["token"].as_str() {
            Some(key) => {
                let token = token.unwrap_or_else(|| panic!("{name} has a token"));
                assert_eq!(token.key, key);
                assert_eq!(Some(token.created), stamp(&want["token_created"]));
            }
            None => assert!(token.is_none(), "{name} has no token"),
        }
    }
    let with_tokens = expected.iter().filter(|u| !u["token"].is_null()).count();
    assert_eq!(data.tokens.len(), with_tokens);
}

#[test]
fn reads_every_user_and_token_of_the_fixture() {
    let data = read_fixture();
    assert_matches_manifest(&data, &manifest());

    // What the fixture is known to hold (see make_fixture.py).
    let ids: Vec<i64> = data.users.iter().map(|u| u.id).collect();
    assert_eq!(
        ids,
        [1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13],
        "id 9 was deleted"
    );
    assert_eq!(data.tokens.len(), 11);
    let token_users: Vec<i64> = data.tokens.iter().map(|t| t.user_id).collect();
    assert_eq!(token_users, [1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 13]);
    for token in &data.tokens {
        assert_eq!(token.key.len(), 40);
        assert!(token.key.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    let user = |name: &str| data.users.iter().find(|u| u.username == name).unwrap();
    let admin = user("admin");
    assert!(admin.is_staff && admin.is_superuser && admin.is_active);
    assert_eq!(
        (admin.first_name.as_str(), admin.last_name.as_str()),
        ("Ada", "Lovelace")
    );
    assert_eq!(
        admin.last_login.unwrap().to_string(),
        "2026-11-28 14:11:12.182073"
    );
    assert_eq!(admin.date_joined.nanosecond(), 678_901_000);
    assert!(!user("inactive").is_active);
    let zoe = user("zoë_ß");
    assert_eq!(
        (zoe.first_name.as_str(), zoe.last_name.as_str()),
        ("Zoë", "Straße")
    );
    assert_eq!(zoe.last_login.unwrap().nanosecond(), 5_000);
    assert_eq!(user("u_bcrypt").date_joined.nanosecond(), 42_000);
    assert!(user("u_pbkdf2_sha1").last_login.is_none());
    // Stored by Django on SQLite without a fraction (zero microseconds).
    let no_token = user("no_token");
    assert_eq!(no_token.date_joined.to_string(), "2024-05-01 00:00:00");
    assert_eq!(
        no_token.last_login.unwrap().to_string(),
        "2026-02-03 04:05:06"
    );
    assert!(user("unusable").password.starts_with('!'));
}

#[test]
fn a_sqlite_url_reads_the_same() {
    let url = format!("sqlite://{}", fixture_db().display());
    assert_eq!(source::read(&url).unwrap(), read_fixture());
    let mut opened = DjangoSource::open(&url).unwrap();
    assert_eq!(opened.read().unwrap(), opened.read().unwrap());
}

#[test]
fn the_source_is_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("django.sqlite3");
    std::fs::copy(fixture_db(), &copy).unwrap();
    let before = std::fs::read(&copy).unwrap();
    source::read(copy.to_str().unwrap()).unwrap();
    assert_eq!(std::fs::read(&copy).unwrap(), before);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["django.sqlite3"], "no journal, no WAL");

    // A read-only file is read all the same.
    let mut permissions = std::fs::metadata(&copy).unwrap().permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(&copy, permissions).unwrap();
    assert_eq!(
        source::read(copy.to_str().unwrap()).unwrap(),
        read_fixture()
    );
}

/// The proof that each hasher matches real Django output: every password the
/// manifest names verifies against the hash Django wrote, a wrong one does not.
#[test]
fn every_password_verifies_against_the_hash_django_wrote() {
    let manifest = manifest();
    let data = read_fixture();
    let users = manifest_users(&manifest);

    let hashers: std::collections::BTreeSet<&str> =
        users.iter().filter_map(|u| u["hasher"].as_str()).collect();
    let all: std::collections::BTreeSet<&str> = DjangoHash::ALL.iter().map(|h| h.name()).collect();
    assert_eq!(hashers, all, "the fixture covers every hasher");

    // Slow hashes (PBKDF2 at 1,000,000 iterations, argon2 at 100 MiB): in parallel.
    std::thread::scope(|scope| {
        for want in users {
            let user = data
                .users
                .iter()
                .find(|u| u.id == want["id"].as_i64().unwrap())
                .unwrap();
            scope.spawn(move || match want["password"].as_str() {
                Some(password) => {
                    let hasher = want["hasher"].as_str().unwrap();
                    assert_eq!(django_hash::algorithm(&user.password), Some(hasher));
                    assert!(django_hash::is_verifiable(&user.password));
                    assert!(django_hash::is_django_hash(&user.password));
                    assert!(
                        django_hash::verify(&user.password, password),
                        "{}: {password} against {}",
                        user.username,
                        user.password
                    );
                    let wrong = format!("{password}x");
                    assert!(!django_hash::verify(&user.password, &wrong));
                }
                None => {
                    assert_eq!(DjangoHash::parse(&user.password), Parsed::Unusable);
                    assert_eq!(django_hash::algorithm(&user.password), None);
                    assert!(!django_hash::verify(&user.password, ""));
                    assert!(!django_hash::verify(&user.password, &user.password));
                }
            });
        }
    });
}

#[test]
fn a_missing_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.sqlite3");
    let error = source::read(missing.to_str().unwrap()).unwrap_err();
    assert!(
        matches!(&error, SourceError::NotFound(p) if p == &missing),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!("{}: no such file", missing.display())
    );
    assert!(!missing.exists(), "nothing was created");
    let error = source::read(&format!("sqlite://{}", missing.display())).unwrap_err();
    assert!(matches!(error, SourceError::NotFound(_)), "{error:?}");
}

#[test]
fn a_file_that_is_not_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(
        &path,
        "these are not the tables you are looking for\n".repeat(200),
    )
    .unwrap();
    let error = source::read(path.to_str().unwrap()).unwrap_err();
    assert!(matches!(error, SourceError::NotSqlite(_)), "{error:?}");
    assert!(
        error.to_string().ends_with("is not a SQLite database"),
        "{error}"
    );

    let error = source::read(dir.path().to_str().unwrap()).unwrap_err();
    assert!(matches!(error, SourceError::Connect { .. }), "{error:?}");
}

#[test]
fn a_sqlite_database_without_the_django_tables() {
    let dir = tempfile::tempdir().unwrap();
    let make = |name: &str, sql: &str| {
        let path = dir.path().join(name);
        let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        conn.batch_execute(sql).unwrap();
        path.to_str().unwrap().to_string()
    };

    let other = make(
        "other.sqlite3",
        "CREATE TABLE notes (id INTEGER PRIMARY KEY)",
    );
    let error = source::read(&other).unwrap_err();
    assert!(matches!(error, SourceError::NotDjango(_)), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!("{other} is not a Django database: it has no auth_user table")
    );

    let empty = make("empty.sqlite3", "");
    let error = source::read(&empty).unwrap_err();
    assert!(matches!(error, SourceError::NotDjango(_)), "{error:?}");

    let no_drf = make(
        "no_drf.sqlite3",
        "CREATE TABLE auth_user (id integer NOT NULL PRIMARY KEY AUTOINCREMENT)",
    );
    let error = source::read(&no_drf).unwrap_err();
    assert!(
        matches!(
            error,
            SourceError::MissingTable {
                table: "authtoken_token",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .ends_with("table authtoken_token is missing")
    );

    let no_users = make(
        "no_users.sqlite3",
        "CREATE TABLE authtoken_token (\"key\" varchar(40) NOT NULL PRIMARY KEY)",
    );
    let error = source::read(&no_users).unwrap_err();
    assert!(
        matches!(
            error,
            SourceError::MissingTable {
                table: "auth_user",
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn a_url_of_another_kind_is_refused() {
    let error = source::read("mysql://root:hunter2@localhost/app").unwrap_err();
    assert!(matches!(error, SourceError::UnsupportedUrl(_)), "{error:?}");
    assert!(!error.to_string().contains("hunter2"), "{error}");
}

// ---- PostgreSQL -------------------------------------------------------------

fn test_database_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .map(|u| u.trim_end_matches('/').to_string())
}

/// A fresh PostgreSQL database, dropped at the end of the test.
struct PgDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PgDatabase {
    fn new(base: &str) -> PgDatabase {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "authtoken_django_source_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let admin_url = format!("{base}/postgres");
        let mut conn = PgConnection::establish(&admin_url)
            .unwrap_or_else(|e| panic!("cannot reach TEST_DATABASE_URL: {e}"));
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn)
            .unwrap();
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .unwrap();
        PgDatabase {
            url: format!("{base}/{name}"),
            admin_url,
            name,
        }
    }

    fn connect(&self) -> PgConnection {
        PgConnection::establish(&self.url).unwrap()
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(mut conn) = PgConnection::establish(&self.admin_url) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn);
        }
    }
}

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn timestamp_literal(value: Option<NaiveDateTime>) -> String {
    match value {
        Some(value) => format!("'{}+00'", value.format("%Y-%m-%d %H:%M:%S%.6f")),
        None => "NULL".into(),
    }
}

/// The fixture's rows, into tables made as Django 5.2 makes them on PostgreSQL.
fn load_fixture_into(db: &PgDatabase, data: &DjangoData) {
    let mut conn = db.connect();
    let ddl = std::fs::read_to_string(fixture_dir().join("postgres_migrations.sql")).unwrap();
    conn.batch_execute(&ddl)
        .expect("Django's migrations SQL runs");
    let mut sql = String::from("BEGIN;\n");
    for u in &data.users {
        sql.push_str(&format!(
            "INSERT INTO auth_user (id, password, last_login, is_superuser, username, \
             first_name, last_name, email, is_staff, is_active, date_joined) \
             VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {});\n",
            u.id,
            literal(&u.password),
            timestamp_literal(u.last_login),
            u.is_superuser,
            literal(&u.username),
            literal(&u.first_name),
            literal(&u.last_name),
            literal(&u.email),
            u.is_staff,
            u.is_active,
            timestamp_literal(Some(u.date_joined)),
        ));
    }
    for t in &data.tokens {
        sql.push_str(&format!(
            "INSERT INTO authtoken_token (\"key\", created, user_id) VALUES ({}, {}, {});\n",
            literal(&t.key),
            timestamp_literal(Some(t.created)),
            t.user_id
        ));
    }
    sql.push_str("COMMIT;\n");
    conn.batch_execute(&sql).expect("the fixture's rows go in");
}

#[test]
fn postgres_reads_what_sqlite_reads() {
    let Some(base) = test_database_url() else {
        eprintln!("TEST_DATABASE_URL unset: PostgreSQL not tested");
        return;
    };
    let db = PgDatabase::new(&base);
    let expected = read_fixture();
    load_fixture_into(&db, &expected);
    // Timestamps come back in UTC whatever the server's zone.
    db.connect()
        .batch_execute(&format!(
            "ALTER DATABASE {} SET timezone TO 'Asia/Kolkata'",
            db.name
        ))
        .unwrap();

    let data = source::read(&db.url).expect("the PostgreSQL copy reads");
    assert_eq!(data, expected);
    assert_matches_manifest(&data, &manifest());
    let url = db.url.replacen("postgres://", "postgresql://", 1);
    assert_eq!(source::read(&url).unwrap(), expected);
}

#[test]
fn postgres_without_the_django_tables() {
    let Some(base) = test_database_url() else {
        return;
    };
    let db = PgDatabase::new(&base);
    let error = source::read(&db.url).unwrap_err();
    assert!(matches!(error, SourceError::NotDjango(_)), "{error:?}");

    db.connect()
        .batch_execute("CREATE TABLE auth_user (id integer PRIMARY KEY)")
        .unwrap();
    let error = source::read(&db.url).unwrap_err();
    assert!(
        matches!(
            error,
            SourceError::MissingTable {
                table: "authtoken_token",
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn postgres_that_cannot_be_reached() {
    if test_database_url().is_none() {
        return;
    }
    // Port 1 on the loopback: refused at once.
    let error = source::read("postgres://django:hunter2@127.0.0.1:1/app").unwrap_err();
    assert!(matches!(error, SourceError::Connect { .. }), "{error:?}");
    let text = error.to_string();
    assert!(text.starts_with("cannot connect to postgres://django:***@127.0.0.1:1/app: "));
    assert!(!text.contains("hunter2"), "{text}");
    assert!(!text.contains('\n'));
}

/// With a Python that has requirements.txt installed: the real Django fills
/// a fresh PostgreSQL database, and every hash it wrote there verifies.
#[test]
fn postgres_filled_by_django_itself() {
    let (Some(base), Some(python)) = (
        test_database_url(),
        std::env::var("DJANGO_FIXTURE_PYTHON")
            .ok()
            .filter(|p| !p.is_empty()),
    ) else {
        eprintln!("TEST_DATABASE_URL or DJANGO_FIXTURE_PYTHON unset: skipped");
        return;
    };
    let db = PgDatabase::new(&base);
    let dir = tempfile::tempdir().unwrap();
    let manifest_path = dir.path().join("fixture.json");
    let status = std::process::Command::new(python)
        .arg(fixture_dir().join("make_fixture.py"))
        .arg("--database")
        .arg(&db.url)
        .arg("--manifest")
        .arg(&manifest_path)
        .status()
        .expect("make_fixture.py runs");
    assert!(status.success(), "make_fixture.py failed");
    let manifest = manifest_at(&manifest_path);
    assert_eq!(manifest["database"], "postgresql");

    let data = source::read(&db.url).unwrap();
    assert_matches_manifest(&data, &manifest);
    std::thread::scope(|scope| {
        for (user, want) in data.users.iter().zip(manifest_users(&manifest)) {
            scope.spawn(move || {
                if let Some(password) = want["password"].as_str() {
                    assert!(
                        django_hash::verify(&user.password, password),
                        "{}",
                        user.username
                    );
                } else {
                    assert!(!django_hash::verify(&user.password, ""));
                }
            });
        }
    });
}

//! Reading a Django database: the source of `authtoken import-django`.
//!
//! The source is a SQLite file (a path, or `sqlite://path`), opened read-only
//! (`mode=ro`, and `PRAGMA query_only`), or a `postgres://…` URL, read in one
//! `READ ONLY` `REPEATABLE READ` transaction. Nothing is ever written to it.
//! Both tables are read in one transaction, so users and tokens are one
//! snapshot even while Django keeps serving.
//!
//! It must hold Django's `auth_user` and DRF's `authtoken_token`. Every row
//! of both is read into plain structs, in id order (tokens in `user_id`
//! order). Timestamps are UTC to the microsecond: Django on SQLite stores
//! text (`2026-11-28 14:11:12.182073`, no fraction when the microseconds are
//! zero), on PostgreSQL `timestamptz`; a naive value (Django with
//! `USE_TZ = False`) is taken as UTC.
//!
//! The backend connections are used directly (not the server's
//! `MultiConnection`): the queries are plain text, the same for both, without
//! bind parameters.

use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime};

pub use super::url::SourceUrl;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::sql_types::{BigInt, Bool, Nullable, Text};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, QueryableByName, RunQueryDsl};

/// One `auth_user` row. `Debug` leaves the password hash out.
#[derive(Clone, PartialEq, Eq)]
pub struct DjangoUser {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// The hash as Django wrote it (`pbkdf2_sha256$…`, `!…` when unusable).
    pub password: String,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_superuser: bool,
    /// UTC.
    pub date_joined: NaiveDateTime,
    /// UTC; `None` for a user who never signed in.
    pub last_login: Option<NaiveDateTime>,
}

impl fmt::Debug for DjangoUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DjangoUser")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("is_active", &self.is_active)
            .field("is_staff", &self.is_staff)
            .finish_non_exhaustive()
    }
}

/// One `authtoken_token` row. `Debug` shows only the key's first 8 characters.
#[derive(Clone, PartialEq, Eq)]
pub struct DjangoToken {
    /// The key in clear, as DRF stores it (40 hex characters by default).
    pub key: String,
    pub user_id: i64,
    /// UTC.
    pub created: NaiveDateTime,
}

impl fmt::Debug for DjangoToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix: String = self.key.chars().take(8).collect();
        f.debug_struct("DjangoToken")
            .field("key", &format_args!("{prefix}…"))
            .field("user_id", &self.user_id)
            .field("created", &self.created)
            .finish()
    }
}

/// Everything the import takes from a Django database.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DjangoData {
    /// In `id` order.
    pub users: Vec<DjangoUser>,
    /// In `user_id` order.
    pub tokens: Vec<DjangoToken>,
}

/// Why a Django database could not be read. Each is one line for stderr;
/// none repeats a password from a URL.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{0}: no such file")]
    NotFound(PathBuf),
    #[error(
        "{0}: not a Django database URL (expected a SQLite path, sqlite://path or postgres://…)"
    )]
    UnsupportedUrl(String),
    #[error("cannot connect to {location}: {message}")]
    Connect { location: String, message: String },
    #[error("{0} is not a SQLite database")]
    NotSqlite(String),
    #[error("{0} is not a Django database: it has no auth_user table")]
    NotDjango(String),
    #[error("{location} is not a Django REST framework token database: table {table} is missing")]
    MissingTable {
        location: String,
        table: &'static str,
    },
    #[error("cannot read {location}: {message}")]
    Query { location: String, message: String },
    #[error("{location}: {column} of {row} is not a timestamp: {value:?}")]
    BadTimestamp {
        location: String,
        column: &'static str,
        row: String,
        value: String,
    },
}

/// Read every user and token of the Django database at `url`.
pub fn read(url: &str) -> Result<DjangoData, SourceError> {
    DjangoSource::open(url)?.read()
}

/// An open, checked connection to a Django database.
pub struct DjangoSource {
    url: SourceUrl,
    conn: SourceConnection,
}

enum SourceConnection {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

impl DjangoSource {
    /// Connect read-only and check that both tables are there.
    pub fn open(url: &str) -> Result<DjangoSource, SourceError> {
        let url = SourceUrl::parse(url)?;
        let location = url.display();
        let conn = match &url {
            SourceUrl::Sqlite(path) => SourceConnection::Sqlite(open_sqlite(path, &location)?),
            SourceUrl::Postgres(pg) => {
                SourceConnection::Postgres(PgConnection::establish(pg).map_err(|e| {
                    SourceError::Connect {
                        location: location.clone(),
                        message: one_line(&e.to_string()),
                    }
                })?)
            }
        };
        let mut source = DjangoSource { url, conn };
        source.in_snapshot(|_| Ok(()))?;
        Ok(source)
    }

    pub fn url(&self) -> &SourceUrl {
        &self.url
    }

    /// Every `auth_user` and `authtoken_token` row, from one snapshot.
    pub fn read(&mut self) -> Result<DjangoData, SourceError> {
        let location = self.url.display();
        let (users, tokens) = self.in_snapshot(|conn| {
            let users: Vec<UserRow> = conn.load(USERS_SQL)?;
            let tokens: Vec<TokenRow> = conn.load(TOKENS_SQL)?;
            Ok((users, tokens))
        })?;
        let users = users
            .into_iter()
            .map(|row| row.into_user(&location))
            .collect::<Result<Vec<_>, _>>()?;
        let tokens = tokens
            .into_iter()
            .map(|row| row.into_token(&location))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(DjangoData { users, tokens })
    }

    /// Run `body` in one read-only transaction, after checking the tables.
    fn in_snapshot<T>(
        &mut self,
        body: impl FnOnce(&mut Conn<'_>) -> Result<T, ReadError>,
    ) -> Result<T, SourceError> {
        let result = match &mut self.conn {
            SourceConnection::Sqlite(conn) => conn.transaction(|conn| {
                let mut conn = Conn::Sqlite(conn);
                check_tables(&mut conn)?;
                body(&mut conn)
            }),
            SourceConnection::Postgres(conn) => conn
                .build_transaction()
                .read_only()
                .repeatable_read()
                .run(|conn| {
                    // to_char below spells timestamps in the session's zone.
                    conn.batch_execute("SET LOCAL TIME ZONE 'UTC'")?;
                    let mut conn = Conn::Postgres(conn);
                    check_tables(&mut conn)?;
                    body(&mut conn)
                }),
        };
        result.map_err(|e| e.into_source_error(&self.url))
    }
}

fn open_sqlite(path: &Path, location: &str) -> Result<SqliteConnection, SourceError> {
    // SQLite would open a missing file as an empty database (or fail with
    // "unable to open"): say what is wrong instead.
    let metadata = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => SourceError::NotFound(path.to_path_buf()),
        _ => SourceError::Connect {
            location: location.to_string(),
            message: e.to_string(),
        },
    })?;
    if !metadata.is_file() {
        return Err(SourceError::Connect {
            location: location.to_string(),
            message: "not a file".into(),
        });
    }
    let absolute = std::fs::canonicalize(path).map_err(|e| SourceError::Connect {
        location: location.to_string(),
        message: e.to_string(),
    })?;
    let Some(absolute) = absolute.to_str() else {
        return Err(SourceError::Connect {
            location: location.to_string(),
            message: "the path is not UTF-8".into(),
        });
    };
    let uri = format!("file:{}?mode=ro", uri_escape(absolute));
    let mut conn = SqliteConnection::establish(&uri).map_err(|e| SourceError::Connect {
        location: location.to_string(),
        message: one_line(&e.to_string()),
    })?;
    // A second guard: this connection refuses to write even to a temp table.
    conn.batch_execute("PRAGMA query_only = ON")
        .map_err(|e| ReadError::Diesel(e).into_source_error(&SourceUrl::Sqlite(path.into())))?;
    Ok(conn)
}

/// Escape what a `file:` URI gives a meaning to.
fn uri_escape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3F"),
            '#' => out.push_str("%23"),
            _ => out.push(c),
        }
    }
    out
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A connection of either backend, inside the snapshot transaction.
enum Conn<'a> {
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
}

/// The query of each backend.
struct Sql {
    sqlite: &'static str,
    postgres: &'static str,
}

impl Conn<'_> {
    fn load<T>(&mut self, sql: Sql) -> Result<Vec<T>, diesel::result::Error>
    where
        T: QueryableByName<diesel::sqlite::Sqlite> + QueryableByName<diesel::pg::Pg> + 'static,
    {
        match self {
            Conn::Sqlite(conn) => diesel::sql_query(sql.sqlite).load(*conn),
            Conn::Postgres(conn) => diesel::sql_query(sql.postgres).load(*conn),
        }
    }
}

const TABLES_SQL: Sql = Sql {
    sqlite: "SELECT \
        EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'auth_user') AS has_users, \
        EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'authtoken_token') AS has_tokens",
    postgres: "SELECT \
        to_regclass('auth_user') IS NOT NULL AS has_users, \
        to_regclass('authtoken_token') IS NOT NULL AS has_tokens",
};

const USERS_SQL: Sql = Sql {
    sqlite: "SELECT CAST(id AS INTEGER) AS id, username, email, first_name, last_name, \
        password, is_active, is_staff, is_superuser, \
        CAST(date_joined AS TEXT) AS date_joined, CAST(last_login AS TEXT) AS last_login \
        FROM auth_user ORDER BY id",
    postgres: "SELECT id::bigint AS id, username::text AS username, email::text AS email, \
        first_name::text AS first_name, last_name::text AS last_name, \
        password::text AS password, is_active, is_staff, is_superuser, \
        to_char(date_joined::timestamptz, 'YYYY-MM-DD HH24:MI:SS.US') AS date_joined, \
        to_char(last_login::timestamptz, 'YYYY-MM-DD HH24:MI:SS.US') AS last_login \
        FROM auth_user ORDER BY id",
};

const TOKENS_SQL: Sql = Sql {
    sqlite: "SELECT \"key\" AS token_key, CAST(user_id AS INTEGER) AS user_id, \
        CAST(created AS TEXT) AS created \
        FROM authtoken_token ORDER BY user_id",
    postgres: "SELECT \"key\"::text AS token_key, user_id::bigint AS user_id, \
        to_char(created::timestamptz, 'YYYY-MM-DD HH24:MI:SS.US') AS created \
        FROM authtoken_token ORDER BY user_id",
};

#[derive(QueryableByName)]
struct TablesRow {
    #[diesel(sql_type = Bool)]
    has_users: bool,
    #[diesel(sql_type = Bool)]
    has_tokens: bool,
}

fn check_tables(conn: &mut Conn<'_>) -> Result<(), ReadError> {
    let row = conn
        .load::<TablesRow>(TABLES_SQL)?
        .pop()
        .ok_or(ReadError::Diesel(diesel::result::Error::NotFound))?;
    match (row.has_users, row.has_tokens) {
        (true, true) => Ok(()),
        (false, false) => Err(ReadError::NotDjango),
        (false, true) => Err(ReadError::MissingTable("auth_user")),
        (true, false) => Err(ReadError::MissingTable("authtoken_token")),
    }
}

#[derive(QueryableByName)]
struct UserRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    username: String,
    #[diesel(sql_type = Text)]
    email: String,
    #[diesel(sql_type = Text)]
    first_name: String,
    #[diesel(sql_type = Text)]
    last_name: String,
    #[diesel(sql_type = Text)]
    password: String,
    #[diesel(sql_type = Bool)]
    is_active: bool,
    #[diesel(sql_type = Bool)]
    is_staff: bool,
    #[diesel(sql_type = Bool)]
    is_superuser: bool,
    #[diesel(sql_type = Text)]
    date_joined: String,
    #[diesel(sql_type = Nullable<Text>)]
    last_login: Option<String>,
}

impl UserRow {
    fn into_user(self, location: &str) -> Result<DjangoUser, SourceError> {
        let row = || format!("auth_user id {}", self.id);
        let date_joined = timestamp(&self.date_joined, location, "date_joined", row)?;
        let last_login = match &self.last_login {
            Some(text) => Some(timestamp(text, location, "last_login", row)?),
            None => None,
        };
        Ok(DjangoUser {
            id: self.id,
            username: self.username,
            email: self.email,
            first_name: self.first_name,
            last_name: self.last_name,
            password: self.password,
            is_active: self.is_active,
            is_staff: self.is_staff,
            is_superuser: self.is_superuser,
            date_joined,
            last_login,
        })
    }
}

#[derive(QueryableByName)]
struct TokenRow {
    #[diesel(sql_type = Text)]
    token_key: String,
    #[diesel(sql_type = BigInt)]
    user_id: i64,
    #[diesel(sql_type = Text)]
    created: String,
}

impl TokenRow {
    fn into_token(self, location: &str) -> Result<DjangoToken, SourceError> {
        let row = || format!("the authtoken_token of user_id {}", self.user_id);
        let created = timestamp(&self.created, location, "created", row)?;
        Ok(DjangoToken {
            key: self.token_key,
            user_id: self.user_id,
            created,
        })
    }
}

/// A Django timestamp in text: `2026-11-28 14:11:12.182073` (fraction
/// optional, `T` accepted), UTC; or with an offset, converted to UTC.
pub fn parse_timestamp(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return Some(naive);
        }
    }
    for format in [
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M:%S%.f%:z",
        "%Y-%m-%d %H:%M:%S%.f%#z",
        "%Y-%m-%dT%H:%M:%S%.f%#z",
    ] {
        if let Ok(aware) = DateTime::parse_from_str(text, format) {
            return Some(aware.naive_utc());
        }
    }
    if let Some(utc) = text.strip_suffix('Z') {
        return parse_timestamp(utc);
    }
    None
}

fn timestamp(
    text: &str,
    location: &str,
    column: &'static str,
    row: impl Fn() -> String,
) -> Result<NaiveDateTime, SourceError> {
    parse_timestamp(text).ok_or_else(|| SourceError::BadTimestamp {
        location: location.to_string(),
        column,
        row: row(),
        value: text.to_string(),
    })
}

/// What can go wrong inside the transaction, before the location is known.
#[derive(Debug)]
enum ReadError {
    Diesel(diesel::result::Error),
    NotDjango,
    MissingTable(&'static str),
}

impl From<diesel::result::Error> for ReadError {
    fn from(error: diesel::result::Error) -> ReadError {
        ReadError::Diesel(error)
    }
}

impl ReadError {
    fn into_source_error(self, url: &SourceUrl) -> SourceError {
        let location = url.display();
        match self {
            ReadError::NotDjango => SourceError::NotDjango(location),
            ReadError::MissingTable(table) => SourceError::MissingTable { location, table },
            ReadError::Diesel(error) => {
                let message = one_line(&error.to_string());
                // SQLITE_NOTADB: "file is not a database".
                if matches!(url, SourceUrl::Sqlite(_)) && message.contains("not a database") {
                    SourceError::NotSqlite(location)
                } else {
                    SourceError::Query { location, message }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, Timelike};

    #[test]
    fn django_timestamps() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        let full = day.and_hms_micro_opt(14, 11, 12, 182_073).unwrap();
        assert_eq!(parse_timestamp("2026-11-28 14:11:12.182073"), Some(full));
        assert_eq!(parse_timestamp("2026-11-28T14:11:12.182073"), Some(full));
        assert_eq!(
            parse_timestamp("2026-11-28 14:11:12.182073+00:00"),
            Some(full)
        );
        assert_eq!(
            parse_timestamp("2026-11-28 15:11:12.182073+01:00"),
            Some(full)
        );
        assert_eq!(parse_timestamp("2026-11-28T14:11:12.182073Z"), Some(full));
        // Django on SQLite writes no fraction when the microseconds are zero.
        let whole = day.and_hms_opt(14, 11, 12).unwrap();
        assert_eq!(parse_timestamp("2026-11-28 14:11:12"), Some(whole));
        assert_eq!(
            parse_timestamp("2026-11-28 14:11:12.000001")
                .unwrap()
                .nanosecond(),
            1_000
        );
        for bad in ["", "yesterday", "2026-11-28", "2026-13-01 00:00:00"] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn debug_shows_no_hash_and_no_whole_key() {
        let at = NaiveDate::from_ymd_opt(2026, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        let user = DjangoUser {
            id: 1,
            username: "ada".into(),
            email: String::new(),
            first_name: String::new(),
            last_name: String::new(),
            password: "pbkdf2_sha256$1$salt$SECRETHASH".into(),
            is_active: true,
            is_staff: false,
            is_superuser: false,
            date_joined: at,
            last_login: None,
        };
        assert!(!format!("{user:?}").contains("SECRETHASH"));
        let token = DjangoToken {
            key: "0123456789abcdef0123456789abcdef01234567".into(),
            user_id: 1,
            created: at,
        };
        let shown = format!("{token:?}");
        assert!(
            shown.contains("01234567…") && !shown.contains("89abcdef0123"),
            "{shown}"
        );
    }

    #[test]
    fn uri_escaping() {
        assert_eq!(uri_escape("/a b/c?d#e%f"), "/a b/c%3Fd%23e%25f");
    }
}

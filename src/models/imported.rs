//! Users imported from Django (`authtoken import-django`): inserted with
//! their Django ids and hashes, without the post-insert hooks (a user without
//! a DRF token gets one at the next sign-in, as DRF's `get_or_create`), and
//! the record of what each import took from the source (`django_imports`),
//! against which the next import judges what changed.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use sha2::{Digest as _, Sha256};

use super::{UserId, user_search};
use crate::db::{DbConnection, DbError};
use crate::on_backend;
use crate::schema::{django_imports, users};

/// Rows per multi-row INSERT: 14 columns × 500 stays far below SQLite's
/// and PostgreSQL's limits on bind parameters.
const CHUNK: usize = 500;

/// A Django user as the import writes them. No `Debug`: it holds a hash.
#[derive(Clone, Insertable)]
#[diesel(table_name = users)]
pub struct ImportedUser {
    pub id: UserId,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// As Django wrote it (`pbkdf2_sha256$…`, `!…`).
    pub password_hash: String,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_superuser: bool,
    pub date_joined: NaiveDateTime,
    pub last_login: Option<NaiveDateTime>,
}

/// What one import took from the source for one user. The password hash
/// and the token key are kept only as SHA-256 digests: enough to tell a
/// change, useless to an attacker.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = django_imports)]
pub struct ImportRecord {
    pub user_id: UserId,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub password_digest: String,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_superuser: bool,
    pub date_joined: NaiveDateTime,
    pub last_login: Option<NaiveDateTime>,
    pub token_digest: Option<String>,
    pub token_created: Option<NaiveDateTime>,
    pub imported_at: NaiveDateTime,
}

impl ImportRecord {
    /// Whether two records took the same from the source (the time of the
    /// import aside).
    pub fn same_source(&self, other: &ImportRecord) -> bool {
        ImportRecord {
            imported_at: other.imported_at,
            ..self.clone()
        } == *other
    }
}

/// The SHA-256 hex of a password hash, as `django_imports` keeps it.
pub fn password_digest(hash: &str) -> String {
    hex::encode(Sha256::digest(hash.as_bytes()))
}

/// Inserts users with their own ids, in multi-row statements; no hook runs.
pub fn insert_users(conn: &mut DbConnection, rows: &[ImportedUser]) -> Result<(), DbError> {
    for chunk in rows.chunks(CHUNK) {
        // Multi-row inserts do not compile through the MultiConnection.
        on_backend!(conn, c => diesel::insert_into(users::table).values(chunk).execute(c))?;
        let indexed = chunk
            .iter()
            .map(|u| (u.id, u.username.as_str(), u.email.as_str()));
        user_search::index(conn, indexed)?;
    }
    Ok(())
}

/// Every import record, by user.
pub fn records(conn: &mut DbConnection) -> Result<Vec<ImportRecord>, DbError> {
    Ok(django_imports::table
        .select(ImportRecord::as_select())
        .load(conn)?)
}

/// Replaces the records of these users by these.
pub fn save_records(conn: &mut DbConnection, rows: &[ImportRecord]) -> Result<(), DbError> {
    for chunk in rows.chunks(CHUNK) {
        let ids: Vec<UserId> = chunk.iter().map(|r| r.user_id).collect();
        diesel::delete(django_imports::table.filter(django_imports::user_id.eq_any(&ids)))
            .execute(conn)?;
        on_backend!(conn, c => diesel::insert_into(django_imports::table).values(chunk).execute(c))?;
    }
    Ok(())
}

/// Every user's id and username: what an import checks for conflicts.
pub fn user_names(conn: &mut DbConnection) -> Result<Vec<(UserId, String)>, DbError> {
    Ok(users::table
        .select((users::id, users::username))
        .load(conn)?)
}

/// The fields of a user that changed in Django since the last import.
/// `None` leaves the target's value alone.
#[derive(Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub username: Option<String>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub password_hash: Option<String>,
    pub is_active: Option<bool>,
    pub is_staff: Option<bool>,
    pub is_superuser: Option<bool>,
    pub date_joined: Option<NaiveDateTime>,
    pub last_login: Option<Option<NaiveDateTime>>,
}

impl UserChanges {
    pub fn is_empty(&self) -> bool {
        self.username.is_none()
            && self.email.is_none()
            && self.first_name.is_none()
            && self.last_name.is_none()
            && self.password_hash.is_none()
            && self.is_active.is_none()
            && self.is_staff.is_none()
            && self.is_superuser.is_none()
            && self.date_joined.is_none()
            && self.last_login.is_none()
    }
}

pub fn update_user(
    conn: &mut DbConnection,
    id: UserId,
    changes: &UserChanges,
) -> Result<(), DbError> {
    if changes.is_empty() {
        return Ok(());
    }
    let searched = changes.username.is_some() || changes.email.is_some();
    let old: Option<(String, String)> = if searched {
        users::table
            .find(id)
            .select((users::username, users::email))
            .first(conn)
            .optional()?
    } else {
        None
    };
    diesel::update(users::table.find(id))
        .set(changes)
        .execute(conn)?;
    if let Some((username, email)) = &old {
        user_search::reindex(conn, id, (username, email))?;
    }
    Ok(())
}

/// Takes the write lock now: on SQLite a transaction that reads first could
/// not wait for it later, only fail. (A statement that writes takes the lock
/// even when it matches no row.)
pub fn lock_for_writing(conn: &mut DbConnection) -> Result<(), DbError> {
    if let DbConnection::Sqlite(c) = conn {
        diesel::sql_query("UPDATE django_imports SET user_id = user_id WHERE 0").execute(c)?;
    }
    Ok(())
}

/// New users get ids above every imported one. PostgreSQL's sequence does
/// not follow explicit ids, so it is moved; SQLite's AUTOINCREMENT
/// (`sqlite_sequence`) follows the largest id inserted by itself.
pub fn advance_user_ids(conn: &mut DbConnection) -> Result<(), DbError> {
    if let DbConnection::Pg(c) = conn {
        diesel::sql_query(
            "SELECT setval(pg_get_serial_sequence('users', 'id'), \
             GREATEST((SELECT COALESCE(MAX(id), 0) FROM users), 1), \
             (SELECT COUNT(*) > 0 FROM users))",
        )
        .execute(c)?;
    }
    Ok(())
}

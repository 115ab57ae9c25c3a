//! Queries on users. `create_user` is the only way a user comes to exist.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::hooks::{Actor, HookError};
use super::user::UserRow;
use super::{NewUser, User, UserHooks, UserId, clock, user_search};
use crate::db::{AsOutage, DbConnection, DbError};
use crate::schema::users;

/// The admin's search lives in its own module; it is a query on users.
pub use super::user_search::{UserPage, search};

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("a user with that username already exists")]
    UsernameTaken,
    #[error("the post-insert hook {hook:?} failed: {error}")]
    Hook {
        hook: &'static str,
        error: HookError,
    },
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for CreateUserError {
    fn from(e: diesel::result::Error) -> Self {
        CreateUserError::Db(e.into())
    }
}

impl AsOutage for CreateUserError {
    fn is_outage(&self) -> bool {
        match self {
            CreateUserError::Db(e) => e.is_unavailable(),
            CreateUserError::Hook {
                error: HookError::Db(e),
                ..
            } => e.is_unavailable(),
            _ => false,
        }
    }
}

/// Inserts the user, indexes them for the admin's search and runs the
/// post-insert hooks, all in one transaction.
pub fn create_user(
    conn: &mut DbConnection,
    hooks: &UserHooks,
    new: &NewUser,
    actor: Actor<'_>,
) -> Result<User, CreateUserError> {
    // The transaction starts with the INSERT, so on SQLite it takes the write
    // lock at once (waiting under busy_timeout) instead of upgrading a read.
    conn.transaction(|conn| {
        let row = UserRow {
            username: new.username.as_str(),
            email: new.email.as_str(),
            password_hash: &new.password_hash,
            is_active: new.is_active,
            is_staff: new.is_staff,
            is_superuser: new.is_superuser,
            date_joined: clock::now(),
        };
        // A savepoint: on PostgreSQL a failed statement would otherwise
        // abort the whole transaction.
        let id: UserId = conn
            .transaction(|conn| {
                diesel::insert_into(users::table)
                    .values(&row)
                    .returning(users::id)
                    .get_result(conn)
            })
            .map_err(|e| {
                let e = DbError::from(e);
                if e.is_unique_violation() {
                    CreateUserError::UsernameTaken
                } else {
                    CreateUserError::Db(e)
                }
            })?;
        let user = find_by_id(conn, id)?
            .ok_or_else(|| CreateUserError::Db(DbError::Query(diesel::result::Error::NotFound)))?;
        user_search::index(
            conn,
            [(user.id, user.username.as_str(), user.email.as_str())],
        )?;
        hooks
            .run(conn, &user, actor)
            .map_err(|(hook, error)| CreateUserError::Hook { hook, error })?;
        Ok(user)
    })
}

pub fn find_by_id(conn: &mut DbConnection, id: UserId) -> Result<Option<User>, DbError> {
    Ok(users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// Exact, case-sensitive match, as Django's `get_by_natural_key`.
pub fn find_by_username(conn: &mut DbConnection, username: &str) -> Result<Option<User>, DbError> {
    Ok(users::table
        .filter(users::username.eq(username))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// Sets `is_active`; returns false when there is no such user.
pub fn set_active(conn: &mut DbConnection, id: UserId, active: bool) -> Result<bool, DbError> {
    let n = diesel::update(users::table.find(id))
        .set(users::is_active.eq(active))
        .execute(conn)?;
    Ok(n == 1)
}

pub fn record_login(conn: &mut DbConnection, id: UserId, at: NaiveDateTime) -> Result<(), DbError> {
    diesel::update(users::table.find(id))
        .set(users::last_login.eq(at))
        .execute(conn)?;
    Ok(())
}

pub fn set_password_hash(conn: &mut DbConnection, id: UserId, hash: &str) -> Result<bool, DbError> {
    let n = diesel::update(users::table.find(id))
        .set(users::password_hash.eq(hash))
        .execute(conn)?;
    Ok(n == 1)
}

/// Replaces the password hash only while it is still `old` (a sign-in's
/// upgrade must not overwrite a change made meanwhile); whether it did.
pub fn replace_password_hash(
    conn: &mut DbConnection,
    id: UserId,
    old: &str,
    new: &str,
) -> Result<bool, DbError> {
    let n = diesel::update(users::table.find(id).filter(users::password_hash.eq(old)))
        .set(users::password_hash.eq(new))
        .execute(conn)?;
    Ok(n == 1)
}

/// All users, sorted by username (the CLI's `user list`).
pub fn all(conn: &mut DbConnection) -> Result<Vec<User>, DbError> {
    Ok(users::table
        .order(users::username.asc())
        .select(User::as_select())
        .load(conn)?)
}

//! Queries on users. `create_user` is the only way a user comes to exist.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::hooks::{Actor, HookError};
use super::user::UserRow;
use super::{NewUser, TokenRow, User, UserHooks, UserId, clock};
use crate::db::{AsOutage, DbConnection, DbError};
use crate::schema::{tokens, users};

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

/// Inserts the user and runs the post-insert hooks, all in one transaction.
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

diesel::define_sql_function! {
    /// SQL `lower()`, the same on both backends.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// One page of a user search.
pub struct UserPage {
    /// Users sorted by username, each with their token if they have one.
    pub rows: Vec<(User, Option<TokenRow>)>,
    /// How many users match in all.
    pub total: i64,
}

/// One page of users with their tokens, sorted by username. `query` matches
/// a substring of username or e-mail, case-insensitively; empty matches all.
/// On PostgreSQL a query of three characters or more is answered from
/// `pg_trgm` indexes on the lower-cased columns, which serve this `LIKE`;
/// SQLite reads every row.
pub fn search(
    conn: &mut DbConnection,
    query: &str,
    page: i64,
    per_page: i64,
) -> Result<UserPage, DbError> {
    let offset = page.saturating_sub(1).saturating_mul(per_page);
    // Counts the matches and loads one page of them, sorted by username.
    macro_rules! page_where {
        ($filter:expr) => {{
            let total: i64 = users::table.filter($filter).count().get_result(conn)?;
            let rows = users::table
                .left_join(
                    tokens::table.on(tokens::user_id
                        .eq(users::id)
                        .and(tokens::is_primary.eq(true))),
                )
                .filter($filter)
                .select((User::as_select(), Option::<TokenRow>::as_select()))
                .order(users::username.asc())
                .limit(per_page)
                .offset(offset)
                .load(conn)?;
            Ok(UserPage { rows, total })
        }};
    }
    if query.is_empty() {
        return page_where!(diesel::dsl::sql::<Bool>("1 = 1"));
    }
    let pattern = format!("%{}%", escape_like(&query.to_lowercase()));
    page_where!(
        lower(users::username)
            .like(pattern.clone())
            .escape('\\')
            .or(lower(users::email).like(pattern.clone()).escape('\\'))
    )
}

/// All users, sorted by username (the CLI's `user list`).
pub fn all(conn: &mut DbConnection) -> Result<Vec<User>, DbError> {
    Ok(users::table
        .order(users::username.asc())
        .select(User::as_select())
        .load(conn)?)
}

fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

//! Admin sessions in the database. The browser holds a random session id;
//! the table holds its SHA-256 only, so neither a copy of the table nor a
//! log line of it signs anybody in. A row exists only for a staff member
//! who gave the right password: anonymous visitors write nothing here.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use rand::TryRng;
use rand::rngs::SysRng;
use sha2::{Digest as _, Sha256};

use super::{User, UserId};
use crate::db::{DbConnection, DbError};
use crate::schema::{admin_sessions, two_factor, users};

/// `last_seen` is written at most this often per session.
pub const TOUCH_EVERY: TimeDelta = TimeDelta::seconds(60);
/// How long a session waiting for its second factor lives.
pub const PENDING_FOR_AT_MOST: TimeDelta = TimeDelta::minutes(10);
/// The longest user agent kept.
const USER_AGENT_MAX: usize = 200;

/// The id the cookie carries: 32 bytes from the OS CSPRNG, as hex. No
/// `Debug` or `Display`: it is a secret.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionId(String);

impl SessionId {
    pub fn generate() -> SessionId {
        let mut bytes = [0u8; 32];
        SysRng
            .try_fill_bytes(&mut bytes)
            .expect("the operating system's random generator failed");
        SessionId(hex::encode(bytes))
    }

    /// An id as read from the cookie: 64 hex digits, else none.
    pub fn parse(raw: &str) -> Option<SessionId> {
        (raw.len() == 64 && raw.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| SessionId(raw.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn digest(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

/// A fingerprint of the user's id and password hash (Django's session auth
/// hash): a session made with an older password no longer matches, however
/// the password was changed.
pub fn auth_hash(user: &User) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"authtoken/admin-session-auth/v2\0");
    hasher.update(user.id.get().to_be_bytes());
    hasher.update(user.password_hash.as_bytes());
    hex::encode(hasher.finalize())
}

/// A user agent as kept: at most 200 characters, control characters dropped.
pub fn user_agent(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_control())
        .take(USER_AGENT_MAX)
        .collect()
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = admin_sessions)]
pub struct SessionRow {
    pub id: i32,
    pub user_id: UserId,
    pub auth_hash: String,
    pub pending: bool,
    pub created: NaiveDateTime,
    pub last_seen: NaiveDateTime,
    pub expires: NaiveDateTime,
    pub address: String,
    pub user_agent: String,
}

/// Where a session is used from.
#[derive(Debug, Clone)]
pub struct Client {
    pub address: String,
    pub user_agent: String,
}

/// Starts a session for `user`; `pending` while a second factor is due (it
/// then lives [`PENDING_FOR_AT_MOST`] at most).
pub fn create(
    conn: &mut DbConnection,
    user: &User,
    pending: bool,
    client: &Client,
    now: NaiveDateTime,
    ttl: TimeDelta,
) -> Result<SessionId, DbError> {
    let id = SessionId::generate();
    let ttl = if pending {
        ttl.min(PENDING_FOR_AT_MOST)
    } else {
        ttl
    };
    diesel::insert_into(admin_sessions::table)
        .values((
            admin_sessions::digest.eq(id.digest()),
            admin_sessions::user_id.eq(user.id),
            admin_sessions::auth_hash.eq(auth_hash(user)),
            admin_sessions::pending.eq(pending),
            admin_sessions::created.eq(now),
            admin_sessions::last_seen.eq(now),
            admin_sessions::expires.eq(now.checked_add_signed(ttl).unwrap_or(NaiveDateTime::MAX)),
            admin_sessions::address.eq(&client.address),
            admin_sessions::user_agent.eq(user_agent(&client.user_agent)),
        ))
        .execute(conn)?;
    Ok(id)
}

/// The session with this id, its user, and whether the user has two-factor
/// sign-in on: one query.
pub fn find(
    conn: &mut DbConnection,
    id: &SessionId,
) -> Result<Option<(SessionRow, User, bool)>, DbError> {
    let found: Option<(SessionRow, User, Option<bool>)> = admin_sessions::table
        .inner_join(users::table)
        .left_join(two_factor::table.on(two_factor::user_id.eq(admin_sessions::user_id)))
        .filter(admin_sessions::digest.eq(id.digest()))
        .select((
            SessionRow::as_select(),
            User::as_select(),
            two_factor::enabled.nullable(),
        ))
        .first(conn)
        .optional()?;
    Ok(found.map(|(s, u, on)| (s, u, on.unwrap_or(false))))
}

/// Records that the session was used now.
pub fn touch(conn: &mut DbConnection, id: i32, now: NaiveDateTime) -> Result<(), DbError> {
    diesel::update(admin_sessions::table.find(id))
        .set(admin_sessions::last_seen.eq(now))
        .execute(conn)?;
    Ok(())
}

/// The second factor was given: the session is complete, under a new id
/// (what was known of the pending one is worth nothing now), for `ttl`.
pub fn complete(
    conn: &mut DbConnection,
    id: i32,
    now: NaiveDateTime,
    ttl: TimeDelta,
) -> Result<Option<SessionId>, DbError> {
    let new_id = SessionId::generate();
    let changed = diesel::update(
        admin_sessions::table
            .find(id)
            .filter(admin_sessions::pending.eq(true)),
    )
    .set((
        admin_sessions::digest.eq(new_id.digest()),
        admin_sessions::pending.eq(false),
        admin_sessions::last_seen.eq(now),
        admin_sessions::expires.eq(now.checked_add_signed(ttl).unwrap_or(NaiveDateTime::MAX)),
    ))
    .execute(conn)?;
    Ok((changed == 1).then_some(new_id))
}

/// Ends the session with this id: its user and whether it was still
/// pending, if there was one.
pub fn delete(conn: &mut DbConnection, id: &SessionId) -> Result<Option<(UserId, bool)>, DbError> {
    Ok(
        diesel::delete(admin_sessions::table.filter(admin_sessions::digest.eq(id.digest())))
            .returning((admin_sessions::user_id, admin_sessions::pending))
            .get_result(conn)
            .optional()?,
    )
}

/// Ends one session by its row id.
pub fn delete_by_id(conn: &mut DbConnection, id: i32) -> Result<(), DbError> {
    diesel::delete(admin_sessions::table.find(id)).execute(conn)?;
    Ok(())
}

/// Ends every session of the user but `keep`; how many.
pub fn delete_others(conn: &mut DbConnection, user: UserId, keep: i32) -> Result<usize, DbError> {
    Ok(diesel::delete(
        admin_sessions::table
            .filter(admin_sessions::user_id.eq(user))
            .filter(admin_sessions::id.ne(keep)),
    )
    .execute(conn)?)
}

/// Ends every session of the user; how many.
pub fn delete_for_user(conn: &mut DbConnection, user: UserId) -> Result<usize, DbError> {
    Ok(
        diesel::delete(admin_sessions::table.filter(admin_sessions::user_id.eq(user)))
            .execute(conn)?,
    )
}

/// The user's open sessions (complete, unexpired), last used first.
pub fn for_user(
    conn: &mut DbConnection,
    user: UserId,
    now: NaiveDateTime,
) -> Result<Vec<SessionRow>, DbError> {
    Ok(admin_sessions::table
        .filter(admin_sessions::user_id.eq(user))
        .filter(admin_sessions::pending.eq(false))
        .filter(admin_sessions::expires.gt(now))
        .order((admin_sessions::last_seen.desc(), admin_sessions::id.desc()))
        .select(SessionRow::as_select())
        .load(conn)?)
}

/// Forgets every expired session; how many. Cheap (indexed), so it runs at
/// each sign-in instead of on a timer.
pub fn purge_expired(conn: &mut DbConnection, now: NaiveDateTime) -> Result<usize, DbError> {
    Ok(
        diesel::delete(admin_sessions::table.filter(admin_sessions::expires.le(now)))
            .execute(conn)?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_random_and_parse_back() {
        let a = SessionId::generate();
        assert_ne!(a.as_str(), SessionId::generate().as_str());
        assert!(SessionId::parse(a.as_str()) == Some(a.clone()));
        assert!(SessionId::parse("abc").is_none());
        assert!(SessionId::parse(&"g".repeat(64)).is_none());
        assert_ne!(a.digest(), a.as_str());
        assert_eq!(a.digest().len(), 64);
    }

    #[test]
    fn user_agents_are_bounded() {
        assert_eq!(user_agent(&"x".repeat(500)).len(), 200);
        assert_eq!(user_agent("a\nb\u{7}c"), "abc");
    }
}

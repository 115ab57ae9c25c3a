//! Tokens with DRF's semantics (one primary token per user, the same key on
//! every sign-in while it lives) and nothing usable at rest: rows hold the
//! key's digest, the key sealed under a secret, and its first 8 characters.
//! Named tokens (`named_tokens.rs`) are rows of the same table, found by the
//! same lookup.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;

use super::caller::{CallerToken, CallerUser, Time};
use super::events::{self, EventKind};
use super::hooks::Actor;
use super::token_row::{KeyChange, NewToken, primary_of};
use super::{Digest, KeyFormat, Scopes, TokenKey, TokenRow, User, UserId, clock};
use crate::crypto::Sealer;
use crate::db::{DbConnection, DbError};
use crate::metrics::{TokenEvent, TokenEvents};
use crate::on_backend;
use crate::schema::{tokens, users};

/// What a presented key turned out to be.
// Built once per request and matched at once: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum AuthOutcome {
    Valid(CallerUser, CallerToken),
    Unknown,
    Inactive,
    Expired,
}

/// `last_used` is written at most this often per token.
const LAST_USED_RESOLUTION: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

/// Rounds of re-reading when another request changed the token under us.
const MAX_ATTEMPTS: usize = 8;

/// The token of a digest joined to its user. `digest` is unique, so no
/// `LIMIT`: diesel binds a `LIMIT` as a parameter, which the bundled SQLite
/// (3.50) reads while planning, so it re-prepared the cached statement at
/// every execution (twice the CPU per request, BENCHMARKS.md). Run on the
/// backend's own connection: through the `MultiConnection` diesel writes
/// the SQL text anew at every execution (13 % fewer `me/` requests).
macro_rules! lookup {
    ($conn:expr, $digest:expr) => {
        tokens::table
            .inner_join(users::table)
            .filter(tokens::digest.eq($digest))
            .select((CallerUser::as_select(), CallerToken::as_select()))
            .get_result::<(CallerUser, CallerToken)>($conn)
            .optional()
    };
}

/// Records a use of the token `digest` of `user_id` at `at`, unless it was
/// replaced meanwhile or a later use is already recorded.
pub fn touch_last_used(
    conn: &mut DbConnection,
    user_id: UserId,
    digest: &Digest,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    on_backend!(conn, c => diesel::update(tokens::table)
        .filter(tokens::digest.eq(digest))
        .filter(tokens::user_id.eq(user_id))
        .filter(tokens::last_used.is_null().or(tokens::last_used.lt(at)))
        .set(tokens::last_used.eq(at))
        .execute(c))?;
    Ok(())
}

/// The token operations, with the sealing key and the lifetime they need.
#[derive(Clone, Debug)]
pub struct Tokens {
    pub(super) sealer: Sealer,
    ttl: Option<Duration>,
    pub(super) format: KeyFormat,
    /// The most unexpired named tokens one user may hold.
    pub(super) named_limit: u32,
    /// Counted once a change is written (inside the caller's transaction,
    /// if any: one rolled back later is counted all the same).
    pub(super) events: TokenEvents,
}

impl Tokens {
    pub fn new(sealer: Sealer, ttl: Option<Duration>) -> Tokens {
        Tokens {
            sealer,
            ttl,
            format: KeyFormat::default(),
            named_limit: 100,
            events: TokenEvents::default(),
        }
    }

    /// New keys in `format` (`TOKEN_FORMAT`); keys of every format keep
    /// authenticating whatever it is.
    pub fn with_format(self, format: KeyFormat) -> Tokens {
        Tokens { format, ..self }
    }

    /// At most `limit` unexpired named tokens per user
    /// (`TOKEN_LIMIT_PER_USER`).
    pub fn with_named_limit(self, named_limit: u32) -> Tokens {
        Tokens {
            named_limit,
            ..self
        }
    }

    /// The same, counting its events in `events` (the metrics).
    pub fn counting(self, events: TokenEvents) -> Tokens {
        Tokens { events, ..self }
    }

    /// The post-insert hook that gives every new user a token.
    pub fn post_insert_hook(
        &self,
    ) -> impl Fn(&mut DbConnection, &User, Actor<'_>) -> Result<(), super::HookError>
    + Send
    + Sync
    + 'static {
        let tokens = self.clone();
        move |conn, user, actor| {
            tokens.insert_if_absent(conn, user.id, actor, clock::now())?;
            Ok(())
        }
    }

    fn expiry_from(&self, now: NaiveDateTime) -> Option<NaiveDateTime> {
        self.ttl
            .and_then(|ttl| chrono::TimeDelta::from_std(ttl).ok())
            .and_then(|ttl| now.checked_add_signed(ttl))
    }

    /// A named token's expiry always counts; the DRF token's only while a
    /// `TOKEN_TTL` is configured.
    pub fn is_expired(&self, row: &TokenRow, now: NaiveDateTime) -> bool {
        self.expired(row.is_primary, row.expires, now)
    }

    fn expired(
        &self,
        is_primary: bool,
        expires: Option<NaiveDateTime>,
        now: NaiveDateTime,
    ) -> bool {
        (self.ttl.is_some() || !is_primary) && expires.is_some_and(|e| e <= now)
    }

    fn new_row(&self, user_id: UserId, key: &TokenKey, now: NaiveDateTime) -> NewToken {
        NewToken {
            is_primary: true,
            name: None,
            scopes: Scopes::default(),
            ..self.new_key_row(user_id, key, now, self.expiry_from(now))
        }
    }

    /// The key columns of a row; the caller says what the token is.
    pub(super) fn new_key_row(
        &self,
        user_id: UserId,
        key: &TokenKey,
        now: NaiveDateTime,
        expires: Option<NaiveDateTime>,
    ) -> NewToken {
        NewToken {
            user_id,
            is_primary: false,
            name: None,
            scopes: Scopes::default(),
            digest: key.digest(),
            sealed: self.sealer.seal(key.as_str().as_bytes(), user_id.get()),
            prefix: key.prefix().to_owned(),
            created: now,
            last_used: None,
            expires,
        }
    }

    pub(super) fn unseal(&self, row: &TokenRow) -> Option<TokenKey> {
        let bytes = self.sealer.unseal(&row.sealed, row.user_id.get())?;
        let key = TokenKey::existing(String::from_utf8(bytes).ok()?)?;
        // A row whose sealed key does not match its digest is not trusted.
        (key.digest() == row.digest).then_some(key)
    }

    /// The authentication of a presented key: one indexed query joining the
    /// token to its user, then at most one write a minute for `last_used`.
    pub fn authenticate(
        &self,
        conn: &mut DbConnection,
        digest: &Digest,
    ) -> Result<AuthOutcome, DbError> {
        let found = on_backend!(conn, c => lookup!(c, digest))?;
        let (mut outcome, touch) = self.judge(found, clock::now());
        if let (Some(at), AuthOutcome::Valid(_, token)) = (touch, &mut outcome) {
            touch_last_used(conn, token.user_id, digest, at)?;
            token.last_used = Some(Time(at));
        }
        Ok(outcome)
    }

    /// The lookup alone: the token of `digest` and its user, if any.
    pub fn lookup(
        &self,
        conn: &mut DbConnection,
        digest: &Digest,
    ) -> Result<Option<(CallerUser, CallerToken)>, DbError> {
        Ok(on_backend!(conn, c => lookup!(c, digest))?)
    }

    /// The same lookup on a SQLite connection of its own (a worker's
    /// read-only one): no write; `last_used` is the caller's to record.
    pub fn lookup_sqlite(
        &self,
        conn: &mut SqliteConnection,
        digest: &Digest,
    ) -> QueryResult<Option<(CallerUser, CallerToken)>> {
        lookup!(conn, digest)
    }

    /// What a lookup's result means at `now`, and, for a valid token whose
    /// `last_used` is due (at most once a minute), the time to record.
    pub fn judge(
        &self,
        found: Option<(CallerUser, CallerToken)>,
        now: NaiveDateTime,
    ) -> (AuthOutcome, Option<NaiveDateTime>) {
        let Some((user, token)) = found else {
            return (AuthOutcome::Unknown, None);
        };
        if !user.is_active {
            return (AuthOutcome::Inactive, None);
        }
        if self.expired(token.is_primary, token.expires_at(), now) {
            return (AuthOutcome::Expired, None);
        }
        let due = token
            .last_used
            .is_none_or(|t| now.signed_duration_since(t.0) >= LAST_USED_RESOLUTION);
        (AuthOutcome::Valid(user, token), due.then_some(now))
    }

    pub fn find(
        &self,
        conn: &mut DbConnection,
        user_id: UserId,
    ) -> Result<Option<TokenRow>, DbError> {
        Ok(primary_of(user_id)
            .select(TokenRow::as_select())
            .first(conn)
            .optional()?)
    }

    /// DRF's `Token.objects.get_or_create(user=user)`, race-free: the user's
    /// live key, or a new one. A token that expired, or whose sealed key no
    /// longer opens (the secret changed), is replaced.
    pub fn get_or_create(
        &self,
        conn: &mut DbConnection,
        user_id: UserId,
        actor: Actor<'_>,
    ) -> Result<TokenKey, DbError> {
        for _ in 0..MAX_ATTEMPTS {
            let now = clock::now();
            match self.find(conn, user_id)? {
                None => {
                    if let Some(key) = self.insert_if_absent(conn, user_id, actor, now)? {
                        return Ok(key);
                    }
                }
                Some(row) => {
                    let expired = self.is_expired(&row, now);
                    if !expired && let Some(key) = self.unseal(&row) {
                        return Ok(key);
                    }
                    let kind = if expired {
                        EventKind::Expired
                    } else {
                        EventKind::Regenerated
                    };
                    if let Some(key) =
                        self.replace(conn, user_id, Some(&row.digest), actor, kind)?
                    {
                        return Ok(key);
                    }
                }
            }
        }
        Err(contention())
    }

    /// Creates the user's token unless one exists; `None` if one did.
    pub fn insert_if_absent(
        &self,
        conn: &mut DbConnection,
        user_id: UserId,
        actor: Actor<'_>,
        now: NaiveDateTime,
    ) -> Result<Option<TokenKey>, DbError> {
        self.insert_key_if_absent(conn, user_id, TokenKey::generate(self.format), actor, now)
    }

    /// Stores a given key (an import from DRF) unless the user has a token.
    pub fn insert_key_if_absent(
        &self,
        conn: &mut DbConnection,
        user_id: UserId,
        key: TokenKey,
        actor: Actor<'_>,
        now: NaiveDateTime,
    ) -> Result<Option<TokenKey>, DbError> {
        let row = self.new_row(user_id, &key, now);
        let inserted = conn.transaction(|conn| {
            // Upserts do not compile through the MultiConnection.
            let n = on_backend!(conn, c => diesel::insert_into(tokens::table)
                .values(&row)
                .on_conflict_do_nothing()
                .execute(c))?;
            if n == 1 {
                events::record(conn, user_id, actor, EventKind::Created, now)?;
            }
            Ok::<_, DbError>(n == 1)
        })?;
        if inserted {
            self.events.count(TokenEvent::created);
        }
        Ok(inserted.then_some(key))
    }

    /// The row of a key imported from DRF, created when DRF created it.
    pub fn imported_row(
        &self,
        user_id: UserId,
        key: &TokenKey,
        created: NaiveDateTime,
    ) -> NewToken {
        self.new_row(user_id, key, created)
    }

    /// Stores imported keys (users who have no token yet), in multi-row
    /// statements, each with its `created` event at the key's creation.
    pub fn insert_imported(
        &self,
        conn: &mut DbConnection,
        rows: &[NewToken],
        actor: Actor<'_>,
    ) -> Result<(), DbError> {
        for chunk in rows.chunks(500) {
            // Multi-row inserts do not compile through the MultiConnection.
            on_backend!(conn, c => diesel::insert_into(tokens::table).values(chunk).execute(c))?;
            events::record_many(
                conn,
                chunk.iter().map(|row| (row.user_id, row.created)),
                actor,
                EventKind::Created,
            )?;
        }
        Ok(())
    }

    /// Makes `key` the user's key whatever they had (an import whose source
    /// key changed): replaced in place, or created.
    pub fn put_key(
        &self,
        conn: &mut DbConnection,
        user_id: UserId,
        key: &TokenKey,
        created: NaiveDateTime,
        actor: Actor<'_>,
    ) -> Result<(), DbError> {
        let row = self.new_row(user_id, key, created);
        let n = diesel::update(primary_of(user_id))
            .set(KeyChange::of(&row))
            .execute(conn)?;
        if n == 1 {
            events::record(conn, user_id, actor, EventKind::Regenerated, created)?;
        } else {
            diesel::insert_into(tokens::table)
                .values(&row)
                .execute(conn)?;
            events::record(conn, user_id, actor, EventKind::Created, created)?;
        }
        Ok(())
    }

    /// Replaces the user's key by a new one, if the stored digest is still
    /// `expected` (or whatever it is, when `expected` is `None`). `None` when
    /// the token changed or vanished meanwhile.
    pub fn replace(
        &self,
        conn: &mut DbConnection,
        user_id: UserId,
        expected: Option<&Digest>,
        actor: Actor<'_>,
        kind: EventKind,
    ) -> Result<Option<TokenKey>, DbError> {
        let now = clock::now();
        let key = TokenKey::generate(self.format);
        let row = self.new_row(user_id, &key, now);
        let replaced = conn.transaction(|conn| {
            let target = primary_of(user_id);
            let changes = KeyChange::of(&row);
            let n = match expected {
                Some(old) => diesel::update(target.filter(tokens::digest.eq(old)))
                    .set(changes)
                    .execute(conn)?,
                None => diesel::update(target).set(changes).execute(conn)?,
            };
            if n == 1 {
                if kind == EventKind::Expired {
                    events::record(conn, user_id, actor, EventKind::Expired, now)?;
                    events::record(conn, user_id, actor, EventKind::Created, now)?;
                } else {
                    events::record(conn, user_id, actor, kind, now)?;
                }
            }
            Ok::<_, DbError>(n == 1)
        })?;
        if replaced {
            self.events.count(match kind {
                EventKind::Regenerated => TokenEvent::regenerated,
                // A new key in place of an expired one.
                _ => TokenEvent::created,
            });
        }
        Ok(replaced.then_some(key))
    }

    /// A new key for the user whatever they had (admin, CLI `--reset`);
    /// creates the token when there was none.
    pub fn regenerate(
        &self,
        conn: &mut DbConnection,
        user_id: UserId,
        actor: Actor<'_>,
    ) -> Result<TokenKey, DbError> {
        for _ in 0..MAX_ATTEMPTS {
            if let Some(key) = self.replace(conn, user_id, None, actor, EventKind::Regenerated)? {
                return Ok(key);
            }
            if let Some(key) = self.insert_if_absent(conn, user_id, actor, clock::now())? {
                return Ok(key);
            }
        }
        Err(contention())
    }

    /// Deletes the user's token (only if it is still `expected`, when given);
    /// returns whether one was deleted.
    pub fn revoke(
        &self,
        conn: &mut DbConnection,
        user_id: UserId,
        expected: Option<&Digest>,
        actor: Actor<'_>,
    ) -> Result<bool, DbError> {
        let revoked = conn.transaction(|conn| {
            let target = primary_of(user_id);
            let n = match expected {
                Some(old) => diesel::delete(target.filter(tokens::digest.eq(old))).execute(conn)?,
                None => diesel::delete(target).execute(conn)?,
            };
            if n == 1 {
                events::record(conn, user_id, actor, EventKind::Revoked, clock::now())?;
            }
            Ok::<_, DbError>(n == 1)
        })?;
        if revoked {
            self.events.count(TokenEvent::revoked);
        }
        Ok(revoked)
    }
}

fn contention() -> DbError {
    DbError::Query(diesel::result::Error::QueryBuilderError(
        "the token kept changing under concurrent updates".into(),
    ))
}

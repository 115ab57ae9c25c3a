//! Named tokens: beside the DRF token, any number per user (up to a limit),
//! each with a name unique to its user, its own scopes and expiry. Stored
//! like every key (digest, sealed copy, prefix) in the same table, so the
//! same lookup authenticates them.

use chrono::TimeDelta;
use diesel::prelude::*;

use super::events::{self, EventKind};
use super::hooks::Actor;
use super::token_row::{KeyChange, NewToken};
use super::{CallerToken, Scopes, TokenId, TokenKey, TokenRow, Tokens, UserId, clock};
use crate::db::{DbConnection, DbError};
use crate::metrics::TokenEvent;
use crate::schema::{tokens, users};

/// A name: 1–100 characters once trimmed.
pub const NAME_MAX_CHARS: usize = 100;
/// The longest `expires_in`, in seconds: ten years.
pub const MAX_EXPIRES_IN: i64 = 315_360_000;

/// What a client asks for: validated at the edge.
#[derive(Debug, Clone)]
pub struct NamedTokenSpec {
    pub name: String,
    pub scopes: Scopes,
    /// Seconds from now, 1 to [`MAX_EXPIRES_IN`]; `None` for never.
    pub expires_in: Option<i64>,
}

/// Why a named token was not created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamedTokenError {
    /// The user already has a token of that name.
    NameTaken,
    /// The user holds `TOKEN_LIMIT_PER_USER` unexpired named tokens.
    LimitReached,
}

impl Tokens {
    /// Creates a named token for `user_id`: the row and the key, which is
    /// never shown again. Concurrent creations for one user are serialized
    /// (a row lock on PostgreSQL, the write lock on SQLite), so the limit
    /// holds under races.
    pub fn create_named(
        &self,
        conn: &mut DbConnection,
        user_id: UserId,
        spec: &NamedTokenSpec,
        actor: Actor<'_>,
    ) -> Result<Result<(TokenRow, TokenKey), NamedTokenError>, DbError> {
        let now = clock::now();
        let expires = spec
            .expires_in
            .and_then(TimeDelta::try_seconds)
            .and_then(|d| now.checked_add_signed(d));
        let key = TokenKey::generate(self.format);
        let row = NewToken {
            name: Some(spec.name.clone()),
            scopes: spec.scopes.clone(),
            ..self.new_key_row(user_id, &key, now, expires)
        };
        let created = conn.transaction(|conn| {
            // A write first: it takes the lock (waiting for it on SQLite,
            // where a transaction that read first could not) before counting.
            diesel::update(users::table.find(user_id))
                .set(users::id.eq(users::id))
                .execute(conn)?;
            let mine = tokens::table
                .filter(tokens::user_id.eq(user_id))
                .filter(tokens::is_primary.eq(false));
            let taken: i64 = mine
                .filter(tokens::name.eq(&spec.name))
                .count()
                .get_result(conn)?;
            if taken > 0 {
                return Ok(Err(NamedTokenError::NameTaken));
            }
            let live: i64 = mine
                .filter(tokens::expires.is_null().or(tokens::expires.gt(now)))
                .count()
                .get_result(conn)?;
            if live >= i64::from(self.named_limit) {
                return Ok(Err(NamedTokenError::LimitReached));
            }
            let id: TokenId = diesel::insert_into(tokens::table)
                .values(&row)
                .returning(tokens::id)
                .get_result(conn)?;
            events::record_named(
                conn,
                user_id,
                Some(&spec.name),
                actor,
                EventKind::Created,
                now,
            )?;
            Ok::<_, DbError>(Ok(id))
        })?;
        Ok(created.map(|id| {
            self.events.count(TokenEvent::created);
            (stored(id, row), key)
        }))
    }

    /// The user's named tokens, newest first.
    pub fn list_named(
        &self,
        conn: &mut DbConnection,
        user_id: UserId,
    ) -> Result<Vec<TokenRow>, DbError> {
        Ok(tokens::table
            .filter(tokens::user_id.eq(user_id))
            .filter(tokens::is_primary.eq(false))
            .order((tokens::created.desc(), tokens::id.desc()))
            .select(TokenRow::as_select())
            .load(conn)?)
    }

    /// Deletes the named token `id` of `user_id` (only if its key is still
    /// `expected`, when given); its name if one was deleted. Another user's
    /// token or the DRF token is never touched.
    pub fn revoke_named(
        &self,
        conn: &mut DbConnection,
        user_id: UserId,
        id: TokenId,
        expected: Option<&super::Digest>,
        actor: Actor<'_>,
    ) -> Result<Option<String>, DbError> {
        let revoked = conn.transaction(|conn| {
            let target = tokens::table
                .filter(tokens::id.eq(id))
                .filter(tokens::user_id.eq(user_id))
                .filter(tokens::is_primary.eq(false));
            let name: Option<Option<String>> = match expected {
                Some(digest) => diesel::delete(target.filter(tokens::digest.eq(digest)))
                    .returning(tokens::name)
                    .get_result(conn)
                    .optional()?,
                None => diesel::delete(target)
                    .returning(tokens::name)
                    .get_result(conn)
                    .optional()?,
            };
            if let Some(name) = &name {
                events::record_named(
                    conn,
                    user_id,
                    name.as_deref(),
                    actor,
                    EventKind::Revoked,
                    clock::now(),
                )?;
            }
            Ok::<_, DbError>(name.map(Option::unwrap_or_default))
        })?;
        if revoked.is_some() {
            self.events.count(TokenEvent::revoked);
        }
        Ok(revoked)
    }

    /// A new key for the named token `token` if its key is still the one
    /// presented (`digest`); it keeps its id, name, scopes and expiry.
    /// `None` when it changed or vanished meanwhile.
    pub fn rotate_named(
        &self,
        conn: &mut DbConnection,
        token: &CallerToken,
        digest: &super::Digest,
        actor: Actor<'_>,
    ) -> Result<Option<TokenKey>, DbError> {
        let now = clock::now();
        let key = TokenKey::generate(self.format);
        let row = self.new_key_row(token.user_id, &key, now, token.expires_at());
        let rotated = conn.transaction(|conn| {
            let n = diesel::update(tokens::table)
                .filter(tokens::id.eq(token.id))
                .filter(tokens::digest.eq(digest))
                .filter(tokens::is_primary.eq(false))
                .set(KeyChange::of(&row))
                .execute(conn)?;
            if n == 1 {
                events::record_named(
                    conn,
                    token.user_id,
                    token.name.as_deref(),
                    actor,
                    EventKind::Regenerated,
                    now,
                )?;
            }
            Ok::<_, DbError>(n == 1)
        })?;
        if rotated {
            self.events.count(TokenEvent::regenerated);
        }
        Ok(rotated.then_some(key))
    }
}

/// The row as stored, now that the database gave it an id.
fn stored(id: TokenId, row: NewToken) -> TokenRow {
    TokenRow {
        id,
        user_id: row.user_id,
        is_primary: row.is_primary,
        name: row.name,
        scopes: row.scopes,
        digest: row.digest,
        sealed: row.sealed,
        prefix: row.prefix,
        created: row.created,
        last_used: row.last_used,
        expires: row.expires,
    }
}

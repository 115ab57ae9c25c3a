//! A token row as stored: the primary (DRF) token of a user or a named one,
//! with what a new key writes over an old one.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{Digest, Scope, Scopes, TokenId, UserId};
use crate::schema::tokens;

#[derive(Clone, Queryable, Selectable)]
#[diesel(table_name = tokens)]
pub struct TokenRow {
    pub id: TokenId,
    pub user_id: UserId,
    /// The user's DRF token; otherwise a named one.
    pub is_primary: bool,
    /// `None` for the DRF token.
    pub name: Option<String>,
    /// A named token's scopes (the DRF token holds every scope).
    pub scopes: Scopes,
    pub digest: Digest,
    pub sealed: String,
    pub prefix: String,
    pub created: NaiveDateTime,
    pub last_used: Option<NaiveDateTime>,
    pub expires: Option<NaiveDateTime>,
}

impl std::fmt::Debug for TokenRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRow")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("is_primary", &self.is_primary)
            .field("name", &self.name)
            .field("scopes", &self.scopes)
            .field("prefix", &self.prefix)
            .field("created", &self.created)
            .field("last_used", &self.last_used)
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

impl TokenRow {
    /// Whether the token holds `scope`: the DRF token holds every one.
    pub fn holds(&self, scope: &Scope) -> bool {
        self.is_primary || self.scopes.contains(scope)
    }

    /// Whether the token holds every one of `scopes`.
    pub fn holds_all(&self, scopes: &Scopes) -> bool {
        self.is_primary || scopes.is_subset(&self.scopes)
    }
}

/// A token about to be inserted (its id comes from the database).
#[derive(Clone, Insertable)]
#[diesel(table_name = tokens)]
pub struct NewToken {
    pub user_id: UserId,
    pub is_primary: bool,
    pub name: Option<String>,
    pub scopes: Scopes,
    pub digest: Digest,
    pub sealed: String,
    pub prefix: String,
    pub created: NaiveDateTime,
    pub last_used: Option<NaiveDateTime>,
    pub expires: Option<NaiveDateTime>,
}

/// Every column of a new key, `last_used` cleared: what replacing a key
/// writes over the old one.
#[derive(AsChangeset)]
#[diesel(table_name = tokens, treat_none_as_null = true)]
pub(super) struct KeyChange<'a> {
    digest: &'a Digest,
    sealed: &'a str,
    prefix: &'a str,
    created: NaiveDateTime,
    last_used: Option<NaiveDateTime>,
    expires: Option<NaiveDateTime>,
}

impl<'a> KeyChange<'a> {
    pub(super) fn of(row: &'a NewToken) -> KeyChange<'a> {
        KeyChange {
            digest: &row.digest,
            sealed: &row.sealed,
            prefix: &row.prefix,
            created: row.created,
            last_used: None,
            expires: row.expires,
        }
    }
}

/// The user's primary (DRF) token.
#[diesel::dsl::auto_type]
pub(super) fn primary_of(user_id: UserId) -> _ {
    tokens::table
        .filter(tokens::user_id.eq(user_id))
        .filter(tokens::is_primary.eq(true))
}

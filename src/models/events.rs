//! The token history: every creation, regeneration, revocation and expiry.

use chrono::NaiveDateTime;
use diesel::deserialize::FromSqlRow;
use diesel::expression::AsExpression;
use diesel::prelude::*;
use diesel::sql_types::Text;

use super::UserId;
use super::hooks::Actor;
use super::sql_types::text_column;
use crate::db::{DbConnection, DbError};
use crate::schema::token_events;

/// What happened to a token; stored as its name (the column's CHECK lists them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub enum EventKind {
    Created,
    Regenerated,
    Revoked,
    Expired,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Created => "created",
            EventKind::Regenerated => "regenerated",
            EventKind::Revoked => "revoked",
            EventKind::Expired => "expired",
        }
    }

    pub fn parse(name: &str) -> Option<EventKind> {
        [
            EventKind::Created,
            EventKind::Regenerated,
            EventKind::Revoked,
            EventKind::Expired,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == name)
    }
}

text_column!(
    EventKind,
    |kind: &EventKind| kind.as_str(),
    |name: String| {
        EventKind::parse(&name).ok_or_else(|| format!("unknown token event kind {name:?}").into())
    }
);

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = token_events)]
pub struct TokenEvent {
    pub id: i32,
    pub user_id: UserId,
    pub actor: String,
    pub kind: EventKind,
    pub at: NaiveDateTime,
    /// The named token it was about; `None` for the DRF token.
    pub token_name: Option<String>,
}

/// An event of the user's DRF token.
pub fn record(
    conn: &mut DbConnection,
    user_id: UserId,
    actor: Actor<'_>,
    kind: EventKind,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    record_named(conn, user_id, None, actor, kind, at)
}

/// An event of the token called `token_name` (`None`: the DRF token).
pub fn record_named(
    conn: &mut DbConnection,
    user_id: UserId,
    token_name: Option<&str>,
    actor: Actor<'_>,
    kind: EventKind,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::insert_into(token_events::table)
        .values((
            token_events::user_id.eq(user_id),
            token_events::actor.eq(actor),
            token_events::kind.eq(kind),
            token_events::at.eq(at),
            token_events::token_name.eq(token_name),
        ))
        .execute(conn)?;
    Ok(())
}

/// One event of the same kind for each `(user, at)`, in one statement.
pub fn record_many(
    conn: &mut DbConnection,
    rows: impl Iterator<Item = (UserId, NaiveDateTime)>,
    actor: Actor<'_>,
    kind: EventKind,
) -> Result<(), DbError> {
    let values: Vec<_> = rows
        .map(|(user_id, at)| {
            (
                token_events::user_id.eq(user_id),
                token_events::actor.eq(actor),
                token_events::kind.eq(kind),
                token_events::at.eq(at),
            )
        })
        .collect();
    if !values.is_empty() {
        // Multi-row inserts do not compile through the MultiConnection.
        crate::on_backend!(conn, c => diesel::insert_into(token_events::table)
            .values(&values)
            .execute(c))?;
    }
    Ok(())
}

/// A user's events, newest first.
pub fn for_user(
    conn: &mut DbConnection,
    user_id: UserId,
    limit: i64,
) -> Result<Vec<TokenEvent>, DbError> {
    Ok(token_events::table
        .filter(token_events::user_id.eq(user_id))
        .order(token_events::id.desc())
        .limit(limit)
        .select(TokenEvent::as_select())
        .load(conn)?)
}

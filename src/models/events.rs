//! The token history: every creation, regeneration, revocation and expiry.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::hooks::Actor;
use crate::db::{DbConnection, DbError};
use crate::schema::token_events;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = token_events)]
pub struct TokenEvent {
    pub id: i32,
    pub user_id: i32,
    pub actor: String,
    pub kind: String,
    pub at: NaiveDateTime,
}

pub fn record(
    conn: &mut DbConnection,
    user_id: i32,
    actor: Actor<'_>,
    kind: EventKind,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::insert_into(token_events::table)
        .values((
            token_events::user_id.eq(user_id),
            token_events::actor.eq(actor),
            token_events::kind.eq(kind.as_str()),
            token_events::at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// A user's events, newest first.
pub fn for_user(
    conn: &mut DbConnection,
    user_id: i32,
    limit: i64,
) -> Result<Vec<TokenEvent>, DbError> {
    Ok(token_events::table
        .filter(token_events::user_id.eq(user_id))
        .order(token_events::id.desc())
        .limit(limit)
        .select(TokenEvent::as_select())
        .load(conn)?)
}

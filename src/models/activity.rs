//! Sign-ins and failed sign-ins (API and admin) counted per UTC hour, for
//! the admin's overview: one upsert per sign-in attempt, never a write per
//! API request.

use chrono::{NaiveDateTime, Timelike};
use diesel::prelude::*;

use crate::db::{DbConnection, DbError};
use crate::on_backend;
use crate::schema::sign_in_counts;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInOutcome {
    Ok,
    /// Wrong credentials, a refused two-factor code, a throttled attempt.
    Failed,
}

/// The start of the UTC hour `at` falls in.
pub fn hour_of(at: NaiveDateTime) -> NaiveDateTime {
    at.with_nanosecond(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_minute(0))
        .unwrap_or(at)
}

/// Counts one sign-in attempt at `at`.
pub fn count(
    conn: &mut DbConnection,
    outcome: SignInOutcome,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    let hour = hour_of(at);
    let (ok, failed) = match outcome {
        SignInOutcome::Ok => (1, 0),
        SignInOutcome::Failed => (0, 1),
    };
    // Upserts do not compile through the MultiConnection.
    on_backend!(conn, c => diesel::insert_into(sign_in_counts::table)
        .values((
            sign_in_counts::hour.eq(hour),
            sign_in_counts::ok.eq(ok),
            sign_in_counts::failed.eq(failed),
        ))
        .on_conflict(sign_in_counts::hour)
        .do_update()
        .set((
            sign_in_counts::ok.eq(sign_in_counts::ok + ok),
            sign_in_counts::failed.eq(sign_in_counts::failed + failed),
        ))
        .execute(c))?;
    Ok(())
}

/// `(hour, ok, failed)` for every hour from `since` on that had an attempt,
/// oldest first.
pub fn since(
    conn: &mut DbConnection,
    since: NaiveDateTime,
) -> Result<Vec<(NaiveDateTime, i32, i32)>, DbError> {
    Ok(sign_in_counts::table
        .filter(sign_in_counts::hour.ge(hour_of(since)))
        .order(sign_in_counts::hour.asc())
        .select((
            sign_in_counts::hour,
            sign_in_counts::ok,
            sign_in_counts::failed,
        ))
        .load(conn)?)
}

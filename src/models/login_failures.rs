//! Sign-in attempts per scope (client address and username), kept in the
//! database so that every server process sees the same count. An attempt
//! is recorded, `pending`, *before* its password is checked; a failure
//! keeps the row as a failure, a success deletes the scope's failures. So
//! parallel attempts cannot all pass a check made before any of them was
//! counted, and parallel correct ones are not refused for each other.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::db::{DbConnection, DbError};
use crate::schema::login_failures;

/// A pending attempt older than this counts as a failure: its server died
/// (or lost the database) before it could say how the check went.
pub const PENDING_FOR_AT_MOST: TimeDelta = TimeDelta::seconds(60);

/// The row that stands for one attempt while its password is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptId(i32);

/// What [`reserve`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// Recorded as pending: the password may be checked.
    Granted(AttemptId),
    /// `limit` failures are already in the window; the oldest of them is
    /// when it starts to free up. Nothing was recorded.
    Full { oldest: NaiveDateTime },
    /// Failures and attempts still being checked fill the allowance: one
    /// of those may yet succeed (and free it) or fail. Nothing was recorded.
    InFlight,
}

/// Records a pending attempt for `scope` at `now` unless the window since
/// `since` holds `limit` failures, or failures and pending attempts
/// together; forgets the scope's rows older than the window. Atomic across
/// connections and processes: PostgreSQL serialises a scope with a
/// transaction-scoped advisory lock; on SQLite the first statement writes,
/// taking the database's one write lock (a transaction that read first
/// would fail, not wait, if another wrote meanwhile).
pub fn reserve(
    conn: &mut DbConnection,
    scope: &str,
    now: NaiveDateTime,
    since: NaiveDateTime,
    limit: u32,
) -> Result<Reservation, DbError> {
    conn.transaction(|conn| {
        if let DbConnection::Pg(pg) = conn {
            // The first key keeps this lock apart from other advisory locks.
            diesel::sql_query("SELECT pg_advisory_xact_lock(1636, hashtext($1))")
                .bind::<Text, _>(scope)
                .execute(pg)?;
        }
        diesel::delete(
            login_failures::table
                .filter(login_failures::scope.eq(scope))
                .filter(login_failures::at.le(since)),
        )
        .execute(conn)?;
        // One statement, so one snapshot: with two (failures, then pending
        // ones) a check finishing in between would be counted in neither.
        let rows: Vec<(bool, NaiveDateTime)> = login_failures::table
            .filter(login_failures::scope.eq(scope))
            .select((login_failures::pending, login_failures::at))
            .load(conn)?;
        let stale = now - PENDING_FOR_AT_MOST;
        let is_failure = |(pending, at): &(bool, NaiveDateTime)| !pending || *at <= stale;
        let failures = rows.iter().filter(|row| is_failure(row)).count();
        let oldest = rows
            .iter()
            .filter(|row| is_failure(row))
            .map(|(_, at)| *at)
            .min();
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        if failures >= limit {
            return Ok(Reservation::Full {
                oldest: oldest.unwrap_or(now),
            });
        }
        if rows.len() >= limit {
            return Ok(Reservation::InFlight);
        }
        let id: i32 = diesel::insert_into(login_failures::table)
            .values((
                login_failures::scope.eq(scope),
                login_failures::at.eq(now),
                login_failures::pending.eq(true),
            ))
            .returning(login_failures::id)
            .get_result(conn)?;
        Ok(Reservation::Granted(AttemptId(id)))
    })
}

/// The attempt's password was wrong: it stays, as a failure.
pub fn fail(conn: &mut DbConnection, attempt: AttemptId) -> Result<(), DbError> {
    diesel::update(login_failures::table.find(attempt.0))
        .set(login_failures::pending.eq(false))
        .execute(conn)?;
    Ok(())
}

/// Forgets an attempt whose password was never checked (the hashing queue
/// was full), so that it does not count against the client.
pub fn release(conn: &mut DbConnection, attempt: AttemptId) -> Result<(), DbError> {
    diesel::delete(login_failures::table.find(attempt.0)).execute(conn)?;
    Ok(())
}

/// A successful sign-in: forgets the attempt and the scope's failures.
/// Other attempts still being checked keep their rows.
pub fn clear(conn: &mut DbConnection, scope: &str, attempt: AttemptId) -> Result<(), DbError> {
    diesel::delete(
        login_failures::table.filter(
            login_failures::id.eq(attempt.0).or(login_failures::scope
                .eq(scope)
                .and(login_failures::pending.eq(false))),
        ),
    )
    .execute(conn)?;
    Ok(())
}

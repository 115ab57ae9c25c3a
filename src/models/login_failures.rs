//! Failed sign-ins per scope (client address and username), kept in the
//! database so that every server process sees the same count.

use chrono::NaiveDateTime;
use diesel::dsl::{count_star, min};
use diesel::prelude::*;

use crate::db::{DbConnection, DbError};
use crate::schema::login_failures;

/// How many failures `scope` has had since `since`, and the oldest of them.
pub fn recent(
    conn: &mut DbConnection,
    scope: &str,
    since: NaiveDateTime,
) -> Result<(i64, Option<NaiveDateTime>), DbError> {
    Ok(login_failures::table
        .filter(login_failures::scope.eq(scope))
        .filter(login_failures::at.gt(since))
        .select((count_star(), min(login_failures::at)))
        .first(conn)?)
}

/// Records a failure and forgets the scope's failures older than `forget_before`.
pub fn record(
    conn: &mut DbConnection,
    scope: &str,
    at: NaiveDateTime,
    forget_before: NaiveDateTime,
) -> Result<(), DbError> {
    conn.transaction(|conn| {
        diesel::insert_into(login_failures::table)
            .values((login_failures::scope.eq(scope), login_failures::at.eq(at)))
            .execute(conn)?;
        diesel::delete(
            login_failures::table
                .filter(login_failures::scope.eq(scope))
                .filter(login_failures::at.le(forget_before)),
        )
        .execute(conn)?;
        Ok::<_, diesel::result::Error>(())
    })?;
    Ok(())
}

pub fn clear(conn: &mut DbConnection, scope: &str) -> Result<(), DbError> {
    diesel::delete(login_failures::table.filter(login_failures::scope.eq(scope))).execute(conn)?;
    Ok(())
}

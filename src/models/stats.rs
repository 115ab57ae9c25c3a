//! The counts the admin's overview shows: users, active users, staff and
//! token rows (the DRF token and named tokens share the `tokens` table).

use diesel::dsl::count_star;
use diesel::prelude::*;

use crate::db::{DbConnection, DbError};
use crate::schema::{tokens, users};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub users: i64,
    pub active: i64,
    pub staff: i64,
    pub tokens: i64,
}

/// Reads the counts: one pass over `users` (the flags summed as integers,
/// the same SQL on both backends) and one count of `tokens`.
pub fn counts(conn: &mut DbConnection) -> Result<Counts, DbError> {
    use diesel::dsl::sql;
    use diesel::sql_types::BigInt;
    let (users, active, staff) = users::table
        .select((
            count_star(),
            sql::<BigInt>("COALESCE(SUM(CASE WHEN is_active THEN 1 ELSE 0 END), 0)"),
            sql::<BigInt>("COALESCE(SUM(CASE WHEN is_staff THEN 1 ELSE 0 END), 0)"),
        ))
        .get_result::<(i64, i64, i64)>(conn)?;
    let tokens = tokens::table.count().get_result(conn)?;
    Ok(Counts {
        users,
        active,
        staff,
        tokens,
    })
}

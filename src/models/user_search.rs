//! The admin's users search: a substring of the username or e-mail, any
//! case, sorted by username, one page at a time; fast with 100,000 users.
//!
//! - PostgreSQL: `lower(username) || '\n' || lower(email) LIKE '%q%'`,
//!   which one `pg_trgm` index serves (a query without a newline cannot
//!   match across it, so this is `lower(username) LIKE … OR lower(email)
//!   LIKE …`, the form a query with a newline takes).
//! - SQLite: the same `LIKE` (SQLite's `LIKE` already ignores ASCII case,
//!   and its `lower()` changes nothing else, so `lower()` is left out). For
//!   a query of three characters or more, FTS5's trigram table
//!   (`users_search`) names the candidates first; when there are at most
//!   `CANDIDATES`, only they are read. A query that more users match reads
//!   the username index in order, and stops at the page's last row.
//! - One query finds the matches' ids in username order, up to `COUNT_CAP`
//!   (or just past the page asked for): that is the count (the page then
//!   says "more than") and the page's ids, whose rows a second query reads
//!   by primary key. Counting every match of a common query, and matching
//!   twice (count, then page), was most of the search's time.
//!
//! The matches are the same whichever way is taken: the candidates are a
//! superset (FTS5 folds the case of more characters than `LIKE`), and the
//! `LIKE` decides.
//!
//! The application keeps `users_search` in step (`index`, `reindex`) inside
//! the transactions that write users, after their write to `users`.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};

use super::{TokenRow, User, UserId};
use crate::db::{DbConnection, DbError};
use crate::schema::{tokens, users};

/// The count shown exactly up to this many matches.
pub const COUNT_CAP: i64 = 1_000;
/// Up to this many FTS candidates, only they are read.
const CANDIDATES: i64 = 1_000;
/// FTS5's trigram index needs three characters.
const TRIGRAM: usize = 3;

diesel::table! {
    /// SQLite only: the FTS5 table (external content: `users`).
    users_search (rowid) {
        rowid -> Integer,
        username -> Text,
        email -> Text,
    }
}

diesel::define_sql_function! {
    /// SQL `lower()`, the same on both backends.
    fn lower(x: Text) -> Text;
}

/// Indexes new users for the search (SQLite; nothing on PostgreSQL).
/// Call it in the transaction that inserted them, after the insert.
pub fn index<'a>(
    conn: &mut DbConnection,
    rows: impl IntoIterator<Item = (UserId, &'a str, &'a str)>,
) -> Result<(), DbError> {
    let DbConnection::Sqlite(c) = conn else {
        return Ok(());
    };
    let values: Vec<_> = rows
        .into_iter()
        .map(|(id, username, email)| {
            (
                users_search::rowid.eq(id.get()),
                users_search::username.eq(username),
                users_search::email.eq(email),
            )
        })
        .collect();
    for chunk in values.chunks(300) {
        diesel::insert_into(users_search::table)
            .values(chunk)
            .execute(c)?;
    }
    Ok(())
}

/// A user's username or e-mail changed from `old` (SQLite; nothing on
/// PostgreSQL): the old entry goes, the row as it is now comes in.
pub fn reindex(conn: &mut DbConnection, id: UserId, old: (&str, &str)) -> Result<(), DbError> {
    let DbConnection::Sqlite(c) = conn else {
        return Ok(());
    };
    // FTS5's external-content delete needs the values it indexed.
    diesel::sql_query(
        "INSERT INTO users_search (users_search, rowid, username, email) \
         VALUES ('delete', ?, ?, ?)",
    )
    .bind::<diesel::sql_types::Integer, _>(id.get())
    .bind::<Text, _>(old.0)
    .bind::<Text, _>(old.1)
    .execute(c)?;
    diesel::sql_query(
        "INSERT INTO users_search (rowid, username, email) \
         SELECT id, username, email FROM users WHERE id = ?",
    )
    .bind::<diesel::sql_types::Integer, _>(id.get())
    .execute(c)?;
    Ok(())
}

/// One page of a user search.
pub struct UserPage {
    /// Users sorted by username, each with their token if they have one.
    pub rows: Vec<(User, Option<TokenRow>)>,
    /// How many users match, or, when `capped`, how many at least.
    pub total: i64,
    /// More than `total` match: the count stopped there.
    pub capped: bool,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// A phrase of FTS5's query syntax: the text, quotes doubled.
fn phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// How many FTS candidates `text` has, up to `CANDIDATES + 1`.
fn candidates(conn: &mut DbConnection, text: &str) -> Result<i64, DbError> {
    let DbConnection::Sqlite(c) = conn else {
        return Ok(0);
    };
    let found: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM (SELECT rowid FROM users_search \
         WHERE users_search MATCH ? LIMIT ?)",
    )
    .bind::<Text, _>(phrase(text))
    .bind::<BigInt, _>(CANDIDATES + 1)
    .get_result(c)?;
    Ok(found.n)
}

/// One page of users with their tokens, sorted by username. `query` matches
/// a substring of username or e-mail, case-insensitively; empty matches all
/// (and is counted exactly).
pub fn search(
    conn: &mut DbConnection,
    query: &str,
    page: i64,
    per_page: i64,
) -> Result<UserPage, DbError> {
    let offset = page.saturating_sub(1).saturating_mul(per_page);
    // Enough to tell whether a page follows the one asked for.
    let count_limit = COUNT_CAP.max(offset.saturating_add(per_page)) + 1;
    // One pass over the matches: their ids in username order, up to
    // `count_limit`, give the count and the page's ids; then the page's
    // rows by primary key. (Counting and paging separately ran the
    // substring match twice.)
    macro_rules! page_where {
        ($filter:expr) => {{
            let found: Vec<UserId> = users::table
                .filter($filter)
                .select(users::id)
                .order(users::username.asc())
                .limit(count_limit)
                .load(conn)?;
            let capped = found.len() as i64 == count_limit;
            let total = if capped {
                count_limit - 1
            } else {
                found.len() as i64
            };
            let ids: Vec<UserId> = found
                .into_iter()
                .skip(usize::try_from(offset).unwrap_or(usize::MAX))
                .take(usize::try_from(per_page).unwrap_or(0))
                .collect();
            let rows = users::table
                .left_join(
                    tokens::table.on(tokens::user_id
                        .eq(users::id)
                        .and(tokens::is_primary.eq(true))),
                )
                .filter(users::id.eq_any(&ids))
                .select((User::as_select(), Option::<TokenRow>::as_select()))
                .order(users::username.asc())
                .load(conn)?;
            Ok(UserPage {
                rows,
                total,
                capped,
            })
        }};
    }
    if query.is_empty() {
        let total: i64 = users::table.count().get_result(conn)?;
        let rows = users::table
            .left_join(
                tokens::table.on(tokens::user_id
                    .eq(users::id)
                    .and(tokens::is_primary.eq(true))),
            )
            .select((User::as_select(), Option::<TokenRow>::as_select()))
            .order(users::username.asc())
            .limit(per_page)
            .offset(offset)
            .load(conn)?;
        return Ok(UserPage {
            rows,
            total,
            capped: false,
        });
    }
    let text = query.to_lowercase();
    let pattern = format!("%{}%", escape_like(&text));
    if matches!(conn, DbConnection::Pg(_)) {
        if !text.contains('\n') {
            // The expression of `users_search_trgm_idx`, exactly.
            let joined = || {
                diesel::dsl::sql::<Bool>(
                    "(lower(users.username) || E'\\n' || lower(users.email)) LIKE ",
                )
                .bind::<Text, _>(pattern.clone())
                .sql(" ESCAPE '\\'")
            };
            return page_where!(joined());
        }
        return page_where!(
            lower(users::username)
                .like(pattern.clone())
                .escape('\\')
                .or(lower(users::email).like(pattern.clone()).escape('\\'))
        );
    }
    let like = || {
        users::username
            .like(pattern.clone())
            .escape('\\')
            .or(users::email.like(pattern.clone()).escape('\\'))
    };
    if text.chars().count() >= TRIGRAM && candidates(conn, &text)? <= CANDIDATES {
        let among = || {
            diesel::dsl::sql::<Bool>(
                "users.id IN (SELECT rowid FROM users_search WHERE users_search MATCH ",
            )
            .bind::<Text, _>(phrase(&text))
            .sql(")")
        };
        return page_where!(among().and(like()));
    }
    page_where!(like())
}

fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_and_patterns_are_literal() {
        assert_eq!(phrase("a\"b"), "\"a\"\"b\"");
        assert_eq!(escape_like("50%_a\\b"), "50\\%\\_a\\\\b");
    }
}

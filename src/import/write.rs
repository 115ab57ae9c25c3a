//! Applying a [`Plan`](super::plan::Plan): in the caller's transaction, so
//! that the import is all or nothing.

use crate::db::{DbConnection, DbError};
use crate::models::imported::{self, ImportRecord};
use crate::models::{NewToken, Tokens};

use super::plan::{Plan, TokenChange};

/// Who the import acts as, in token events.
pub const ACTOR: &str = "import";

/// Writes the plan; `progress` is told how many users were written so far.
pub fn apply(
    conn: &mut DbConnection,
    tokens: &Tokens,
    plan: &Plan,
    progress: &dyn Fn(usize),
) -> Result<(), DbError> {
    let mut done = 0;
    // Users first, then their tokens and records, a chunk at a time: the
    // foreign keys need the users, and the progress moves steadily.
    for chunk in plan.added.chunks(2_000) {
        let users: Vec<_> = chunk.iter().map(|i| i.user.clone()).collect();
        imported::insert_users(conn, &users)?;
        let rows: Vec<NewToken> = chunk
            .iter()
            .filter_map(|i| {
                let (key, created) = i.token.as_ref()?;
                Some(tokens.imported_row(i.user.id, key, *created))
            })
            .collect();
        tokens.insert_imported(conn, &rows, ACTOR)?;
        let records: Vec<ImportRecord> = chunk.iter().map(|i| i.record.clone()).collect();
        imported::save_records(conn, &records)?;
        done += chunk.len();
        progress(done);
    }
    for update in &plan.updated {
        imported::update_user(conn, update.id, &update.changes)?;
        match &update.token {
            Some(TokenChange::Put(key, created)) => {
                tokens.put_key(conn, update.id, key, *created, ACTOR)?;
            }
            Some(TokenChange::Revoke(digest)) => {
                tokens.revoke(conn, update.id, Some(digest), ACTOR)?;
            }
            None => {}
        }
        done += 1;
        progress(done);
    }
    let records: Vec<ImportRecord> = plan.updated.iter().map(|u| u.record.clone()).collect();
    imported::save_records(conn, &records)?;
    imported::advance_user_ids(conn)?;
    Ok(())
}

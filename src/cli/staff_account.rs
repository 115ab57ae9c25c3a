//! The commands for a staff member locked out: a lost authenticator, a
//! forgotten password. Each ends the user's admin sessions and is audited,
//! in one transaction.

use diesel::Connection;

use super::{CommandError, read_password};
use crate::models::audit::{self, AuditAction, Origin, Subject};
use crate::models::validation::password_problems;
use crate::models::{User, admin_sessions, clock, two_factor, users};
use crate::services::{Domain, cause_chain};

fn find(conn: &mut crate::db::DbConnection, username: &str) -> Result<User, CommandError> {
    users::find_by_username(conn, username)?
        .ok_or_else(|| CommandError::Failed(format!("user {username} does not exist")))
}

fn record(
    conn: &mut crate::db::DbConnection,
    user: &User,
    action: AuditAction,
) -> Result<(), CommandError> {
    let subject = Subject {
        id: user.id,
        username: &user.username,
    };
    audit::record(
        conn,
        &Origin::cli(),
        action,
        Some(subject),
        "",
        clock::now(),
    )?;
    Ok(())
}

/// Whether it was on.
pub fn reset_two_factor(state: &Domain, username: &str) -> Result<bool, CommandError> {
    state.db.run(|conn| {
        let user = find(conn, username)?;
        // Writes first: on SQLite a transaction that read first could
        // not wait for the write lock.
        conn.transaction(|conn| {
            if !two_factor::remove(conn, user.id)? {
                return Ok(false);
            }
            admin_sessions::delete_for_user(conn, user.id)?;
            record(conn, &user, AuditAction::TwoFactorDisabled)?;
            Ok(true)
        })
    })
}

pub fn set_password(state: &Domain, username: &str) -> Result<(), CommandError> {
    // An unknown user is said before the password is asked for.
    let user = state.db.run(|conn| find(conn, username))?;
    let password = read_password()?;
    let problems = password_problems(&password);
    if !problems.is_empty() {
        return Err(CommandError::Failed(problems.join(" ")));
    }
    let hash = state
        .hasher
        .hash_blocking(&password)
        .map_err(|e| CommandError::Failed(cause_chain(&e)))?;
    state.db.run(|conn| {
        conn.transaction(|conn| {
            users::set_password_hash(conn, user.id, &hash)?;
            admin_sessions::delete_for_user(conn, user.id)?;
            record(conn, &user, AuditAction::PasswordSet)
        })
    })
}

//! The audit trail: every admin and command-line action, one row each,
//! written by the caller inside the action's own transaction so that an
//! action and its record stand or fall together.

use chrono::NaiveDateTime;
use diesel::deserialize::FromSqlRow;
use diesel::expression::AsExpression;
use diesel::prelude::*;
use diesel::sql_types::Text;

use super::sql_types::text_column;
use super::{User, UserId};
use crate::db::{DbConnection, DbError};
use crate::schema::audit_events;

/// What was done; stored as its name (the column's CHECK lists them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub enum AuditAction {
    SignIn,
    SignInFailed,
    SignOut,
    TokenCreated,
    TokenRegenerated,
    TokenRevoked,
    UserCreated,
    UserActivated,
    UserDeactivated,
    PasswordSet,
    TwoFactorEnabled,
    TwoFactorDisabled,
    Import,
}

impl AuditAction {
    pub const ALL: [AuditAction; 13] = [
        AuditAction::SignIn,
        AuditAction::SignInFailed,
        AuditAction::SignOut,
        AuditAction::TokenCreated,
        AuditAction::TokenRegenerated,
        AuditAction::TokenRevoked,
        AuditAction::UserCreated,
        AuditAction::UserActivated,
        AuditAction::UserDeactivated,
        AuditAction::PasswordSet,
        AuditAction::TwoFactorEnabled,
        AuditAction::TwoFactorDisabled,
        AuditAction::Import,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::SignIn => "sign_in",
            AuditAction::SignInFailed => "sign_in_failed",
            AuditAction::SignOut => "sign_out",
            AuditAction::TokenCreated => "token_created",
            AuditAction::TokenRegenerated => "token_regenerated",
            AuditAction::TokenRevoked => "token_revoked",
            AuditAction::UserCreated => "user_created",
            AuditAction::UserActivated => "user_activated",
            AuditAction::UserDeactivated => "user_deactivated",
            AuditAction::PasswordSet => "password_set",
            AuditAction::TwoFactorEnabled => "2fa_enabled",
            AuditAction::TwoFactorDisabled => "2fa_disabled",
            AuditAction::Import => "import",
        }
    }

    pub fn parse(name: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

text_column!(
    AuditAction,
    |action: &AuditAction| action.as_str(),
    |name: String| {
        AuditAction::parse(&name).ok_or_else(|| format!("unknown audit action {name:?}").into())
    }
);

impl std::fmt::Display for AuditAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The command line's name in the `actor` and `address` columns.
pub const CLI: &str = "cli";

/// Who acted and from where: a staff member and their client's address, or
/// the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub actor: String,
    pub address: String,
}

impl Origin {
    pub fn cli() -> Origin {
        Origin {
            actor: CLI.to_owned(),
            address: CLI.to_owned(),
        }
    }

    pub fn staff(username: &str, address: &str) -> Origin {
        Origin {
            actor: username.to_owned(),
            address: address.to_owned(),
        }
    }
}

/// The user an action was about, as named at the time.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub id: UserId,
    pub username: &'a str,
}

impl<'a> Subject<'a> {
    pub fn of(user: &'a User) -> Subject<'a> {
        Subject {
            id: user.id,
            username: &user.username,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct AuditEvent {
    pub id: i32,
    pub at: NaiveDateTime,
    pub actor: String,
    pub action: AuditAction,
    pub user_id: Option<UserId>,
    pub username: String,
    pub address: String,
    pub detail: String,
}

/// Records one action. Call it on the connection (and inside the
/// transaction) that does the action.
pub fn record(
    conn: &mut DbConnection,
    origin: &Origin,
    action: AuditAction,
    subject: Option<Subject<'_>>,
    detail: &str,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::at.eq(at),
            audit_events::actor.eq(&origin.actor),
            audit_events::action.eq(action),
            audit_events::user_id.eq(subject.map(|s| s.id)),
            audit_events::username.eq(subject.map_or("", |s| s.username)),
            audit_events::address.eq(&origin.address),
            audit_events::detail.eq(detail),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records `user_activated` or `user_deactivated` on `user`, now.
pub fn record_activation(
    conn: &mut DbConnection,
    origin: &Origin,
    user: &User,
    active: bool,
) -> Result<(), DbError> {
    let action = if active {
        AuditAction::UserActivated
    } else {
        AuditAction::UserDeactivated
    };
    let at = super::clock::now();
    record(conn, origin, action, Some(Subject::of(user)), "", at)
}

/// Takes the write lock now: on SQLite a transaction that reads first (the
/// user acted on) could not wait for the lock later, only fail. A statement
/// that writes takes the lock even when it matches no row.
pub fn lock_for_writing(conn: &mut DbConnection) -> Result<(), DbError> {
    if let DbConnection::Sqlite(c) = conn {
        diesel::sql_query("UPDATE audit_events SET id = id WHERE 0").execute(c)?;
    }
    Ok(())
}

/// What the audit page narrows the trail to; `None` is no filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub actor: Option<String>,
    pub action: Option<AuditAction>,
    /// The username acted on, as named at the time.
    pub username: Option<String>,
}

/// One page of the trail.
pub struct AuditPage {
    /// Newest first.
    pub events: Vec<AuditEvent>,
    /// How many events match in all.
    pub total: i64,
}

/// The events matching `filter`, newest first, page `page` (from 1) of
/// `per_page`. Each filter is an equality the indexes on `(column, id)` serve.
pub fn list(
    conn: &mut DbConnection,
    filter: &Filter,
    page: i64,
    per_page: i64,
) -> Result<AuditPage, DbError> {
    let query = || {
        let mut q = audit_events::table.into_boxed();
        if let Some(actor) = &filter.actor {
            q = q.filter(audit_events::actor.eq(actor.clone()));
        }
        if let Some(action) = filter.action {
            q = q.filter(audit_events::action.eq(action));
        }
        if let Some(username) = &filter.username {
            q = q.filter(audit_events::username.eq(username.clone()));
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let offset = page.saturating_sub(1).saturating_mul(per_page);
    let events = query()
        .order(audit_events::id.desc())
        .limit(per_page)
        .offset(offset)
        .select(AuditEvent::as_select())
        .load(conn)?;
    Ok(AuditPage { events, total })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for action in AuditAction::ALL {
            assert_eq!(AuditAction::parse(action.as_str()), Some(action));
        }
        assert_eq!(
            AuditAction::parse("2fa_enabled"),
            Some(AuditAction::TwoFactorEnabled)
        );
        assert_eq!(AuditAction::parse("nope"), None);
    }
}

//! The audit trail: every admin and command-line action, one row each,
//! written by the caller inside the action's own transaction so that an
//! action and its record stand or fall together.

use chrono::NaiveDateTime;
use diesel::deserialize::FromSqlRow;
use diesel::expression::AsExpression;
use diesel::prelude::*;
use diesel::sql_types::Text;

use super::UserId;
use super::sql_types::text_column;
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

use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// What a database call can fail with, as the layers above need to tell it:
/// the database being unreachable (503) is not a bug (500).
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Query(DieselError),
}

impl From<DieselError> for DbError {
    fn from(e: DieselError) -> Self {
        match &e {
            DieselError::DatabaseError(
                DatabaseErrorKind::UnableToSendCommand | DatabaseErrorKind::ClosedConnection,
                info,
            ) => DbError::Unavailable(info.message().to_string()),
            DieselError::DatabaseError(DatabaseErrorKind::Unknown, info)
                if is_outage_message(info.message()) =>
            {
                DbError::Unavailable(info.message().to_string())
            }
            _ => DbError::Query(e),
        }
    }
}

impl From<diesel::r2d2::PoolError> for DbError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        DbError::Unavailable(e.to_string())
    }
}

/// Messages with which SQLite and PostgreSQL report that the database itself
/// went away (file unreadable, server shut down) rather than a bad query.
fn is_outage_message(message: &str) -> bool {
    const OUTAGE: &[&str] = &[
        "unable to open database",
        "disk I/O error",
        "file is not a database",
        "attempt to write a readonly database",
        "database is locked",
        "terminating connection",
        "server closed the connection",
        "no connection to the server",
        "connection to server",
        "the database system is shutting down",
        "the database system is starting up",
        "could not connect",
        "SSL connection has been closed",
    ];
    OUTAGE.iter().any(|m| message.contains(m))
}

impl DbError {
    pub fn is_unavailable(&self) -> bool {
        matches!(self, DbError::Unavailable(_))
    }

    /// True when the error is a violated unique constraint.
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            DbError::Query(DieselError::DatabaseError(
                DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }
}

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
        match outage_message(&e) {
            Some(message) => DbError::Unavailable(message),
            None => DbError::Query(e),
        }
    }
}

/// The backend's message when `e` means the database went away.
fn outage_message(e: &DieselError) -> Option<String> {
    match e {
        DieselError::DatabaseError(
            DatabaseErrorKind::UnableToSendCommand | DatabaseErrorKind::ClosedConnection,
            info,
        ) => Some(info.message().to_string()),
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, info)
            if is_outage_message(info.message()) =>
        {
            Some(info.message().to_string())
        }
        // COMMIT failed and so did the ROLLBACK after it: when the
        // connection died under the COMMIT, that is an outage (503), not a
        // bug (500).
        DieselError::RollbackErrorOnCommit { commit_error, .. } => outage_message(commit_error),
        _ => None,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn db_error(kind: DatabaseErrorKind, message: &str) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(message.to_string()))
    }

    #[test]
    fn outages_are_unavailable_the_rest_are_query_errors() {
        let closed = db_error(
            DatabaseErrorKind::ClosedConnection,
            "server closed the connection",
        );
        assert!(DbError::from(closed).is_unavailable());
        let locked = db_error(DatabaseErrorKind::Unknown, "database is locked");
        assert!(DbError::from(locked).is_unavailable());
        let syntax = db_error(DatabaseErrorKind::Unknown, "syntax error");
        assert!(!DbError::from(syntax).is_unavailable());
        let unique = db_error(DatabaseErrorKind::UniqueViolation, "duplicate key");
        assert!(DbError::from(unique).is_unique_violation());
    }

    #[test]
    fn a_commit_lost_with_the_connection_is_an_outage() {
        let lost = DieselError::RollbackErrorOnCommit {
            rollback_error: Box::new(db_error(
                DatabaseErrorKind::ClosedConnection,
                "no connection",
            )),
            commit_error: Box::new(db_error(
                DatabaseErrorKind::ClosedConnection,
                "server closed the connection unexpectedly",
            )),
        };
        assert!(DbError::from(lost).is_unavailable());
        let failed = DieselError::RollbackErrorOnCommit {
            rollback_error: Box::new(db_error(DatabaseErrorKind::Unknown, "x")),
            commit_error: Box::new(db_error(DatabaseErrorKind::SerializationFailure, "y")),
        };
        assert!(!DbError::from(failed).is_unavailable());
    }
}

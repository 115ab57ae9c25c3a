use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// What a database call can fail with, as the layers above need to tell it:
/// the database being unreachable (503) is not a bug (500).
///
/// `Display` says what went wrong; `source()` is the cause, which the
/// layers above log as a chain (`services::cause_chain`). Neither is ever
/// sent to a client: a message from the backend may quote SQL.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("the database is unavailable")]
    Unavailable(#[source] Outage),
    #[error("database error")]
    Query(#[source] DieselError),
}

/// Why the database is unavailable.
#[derive(Debug, thiserror::Error)]
pub enum Outage {
    /// The backend said the database went away (server shut down,
    /// connection lost, file unreadable).
    #[error(transparent)]
    Backend(DieselError),
    /// The pool could not hand out a connection in time (r2d2 keeps the
    /// last connection error as text only).
    #[error(transparent)]
    Pool(diesel::r2d2::PoolError),
    /// Every pooled connection stayed busy for `DATABASE_TIMEOUT`.
    #[error("timed out waiting for a database connection")]
    TimedOut,
    /// The server is stopping: no thread is left to run the query on.
    #[error("the blocking thread pool is shut down")]
    BlockingPoolShutDown,
}

impl From<DieselError> for DbError {
    fn from(e: DieselError) -> Self {
        if is_outage(&e) {
            DbError::Unavailable(Outage::Backend(e))
        } else {
            DbError::Query(e)
        }
    }
}

impl From<diesel::r2d2::PoolError> for DbError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        DbError::Unavailable(Outage::Pool(e))
    }
}

impl From<Outage> for DbError {
    fn from(outage: Outage) -> Self {
        DbError::Unavailable(outage)
    }
}

/// Whether `e` means the database went away.
fn is_outage(e: &DieselError) -> bool {
    match e {
        DieselError::DatabaseError(
            DatabaseErrorKind::UnableToSendCommand | DatabaseErrorKind::ClosedConnection,
            _,
        ) => true,
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, info) => {
            is_outage_message(info.message())
        }
        // COMMIT failed and so did the ROLLBACK after it: when the
        // connection died under the COMMIT, that is an outage (503), not a
        // bug (500).
        DieselError::RollbackErrorOnCommit { commit_error, .. } => is_outage(commit_error),
        _ => false,
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

/// Errors that can say whether they mean the database is unavailable.
pub trait AsOutage {
    fn is_outage(&self) -> bool;
}

impl AsOutage for DbError {
    fn is_outage(&self) -> bool {
        self.is_unavailable()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

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

    #[test]
    fn the_cause_is_kept() {
        let e = DbError::from(db_error(
            DatabaseErrorKind::ClosedConnection,
            "server closed the connection",
        ));
        assert_eq!(
            crate::services::cause_chain(&e),
            "the database is unavailable: server closed the connection"
        );
        let DbError::Unavailable(Outage::Backend(DieselError::DatabaseError(kind, _))) = &e else {
            panic!("{e:?}");
        };
        assert!(matches!(kind, DatabaseErrorKind::ClosedConnection));
        assert!(e.source().is_some());

        let e = DbError::from(Outage::TimedOut);
        assert_eq!(
            crate::services::cause_chain(&e),
            "the database is unavailable: timed out waiting for a database connection"
        );
        assert_eq!(
            e.source().map(ToString::to_string).as_deref(),
            Some("timed out waiting for a database connection")
        );

        let e = DbError::from(db_error(DatabaseErrorKind::Unknown, "syntax error"));
        assert_eq!(
            crate::services::cause_chain(&e),
            "database error: syntax error"
        );
        assert!(e.source().is_some());
    }
}

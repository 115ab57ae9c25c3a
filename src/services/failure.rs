//! The failures every use case shares, whatever the page or endpoint: the
//! database being away, the password hashing queue being full, and
//! everything unexpected. The HTTP layers render them (503 with
//! `Retry-After`, or 500) and log them once, with their causes.

use crate::auth::HashError;
use crate::db::{AsOutage, DbError};

#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The database cannot be reached: 503, worth retrying.
    #[error(transparent)]
    Unavailable(DbError),
    /// Too many password checks are waiting: 503, worth retrying.
    #[error("too many password checks are waiting")]
    Busy,
    /// A bug or a broken invariant: 500.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl Failure {
    /// Seconds a client should wait before retrying a 503, on the API and
    /// in the admin alike.
    pub const RETRY_AFTER_SECS: u64 = 1;

    pub fn internal(cause: impl Into<anyhow::Error>) -> Failure {
        Failure::Internal(cause.into())
    }

    /// Whether the client may retry (503) rather than having met a bug (500).
    pub fn is_temporary(&self) -> bool {
        matches!(self, Failure::Unavailable(_) | Failure::Busy)
    }
}

impl From<DbError> for Failure {
    fn from(e: DbError) -> Self {
        if e.is_unavailable() {
            Failure::Unavailable(e)
        } else {
            Failure::Internal(e.into())
        }
    }
}

impl From<HashError> for Failure {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Busy => Failure::Busy,
            other => Failure::Internal(other.into()),
        }
    }
}

impl AsOutage for Failure {
    fn is_outage(&self) -> bool {
        matches!(self, Failure::Unavailable(_))
    }
}

/// `error: cause: cause…`, the whole chain on one line.
pub fn cause_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        line.push_str(": ");
        line.push_str(&cause.to_string());
        source = cause.source();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outages_and_busy_are_temporary_the_rest_internal() {
        let closed = diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::ClosedConnection,
            Box::new("server closed the connection".to_string()),
        );
        assert!(matches!(
            Failure::from(DbError::from(closed)),
            Failure::Unavailable(_)
        ));
        let missing = DbError::from(diesel::result::Error::NotFound);
        let failure = Failure::from(missing);
        assert!(!failure.is_temporary());
        // The cause is kept for the log line.
        let chain = format!("{:#}", anyhow::Error::new(failure));
        assert!(chain.contains("Record not found"), "{chain}");
        assert!(Failure::from(HashError::Busy).is_temporary());
    }
}

//! `authtoken import-django`: moving users and DRF tokens from a Django
//! database (API.md, "Moving from Django REST framework").
//!
//! [`source`] reads the Django database; [`plan`] compares it with what the
//! last import took and finds what to add, update or leave alone (and the
//! conflicts); [`write`] applies that in one transaction. The password
//! hashes are copied as they are, never re-hashed here: they are verified at
//! sign-in by [`crate::crypto::django_hash`] and replaced there.

pub mod plan;
pub mod source;
mod url;
pub mod write;

use diesel::Connection;

pub use plan::{BadRow, Conflict, Plan, Summary};
pub use source::{DjangoData, DjangoSource, DjangoToken, DjangoUser, SourceError, SourceUrl};

use crate::db::{AsOutage, Database, DbError};
use crate::models::audit::{self, AuditAction, Origin};
use crate::models::{Tokens, clock, imported};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    BadRow(#[from] BadRow),
    /// Each is listed on its own line; nothing was written.
    #[error("{} conflicting users: nothing was imported", .0.len())]
    Conflicts(Vec<Conflict>),
    #[error("the import failed, nothing was written")]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for ImportError {
    fn from(e: diesel::result::Error) -> Self {
        ImportError::Db(e.into())
    }
}

impl AsOutage for ImportError {
    fn is_outage(&self) -> bool {
        matches!(self, ImportError::Db(e) if e.is_unavailable())
    }
}

/// How an import is run.
pub struct Options<'a> {
    /// Compute and report, write nothing.
    pub dry_run: bool,
    /// Told the number of users to write, once known.
    pub started: &'a dyn Fn(usize),
    /// Told how many users were written so far.
    pub progress: &'a dyn Fn(usize),
}

/// Imports what was read from a Django database ([`source::read`]) into
/// `db`, in one transaction (none with `dry_run`).
pub fn import_django(
    db: &Database,
    tokens: &Tokens,
    data: DjangoData,
    options: &Options<'_>,
) -> Result<Summary, ImportError> {
    db.run(|conn| {
        conn.transaction(|conn| {
            imported::lock_for_writing(conn)?;
            let targets = imported::user_names(conn)?;
            let records = imported::records(conn)?;
            let plan = plan::plan(data, targets, records, clock::now())?;
            if !plan.conflicts.is_empty() {
                return Err(ImportError::Conflicts(plan.conflicts));
            }
            let summary = plan.summary();
            let writes = plan.added.len() + plan.updated.len();
            if !options.dry_run {
                (options.started)(writes);
                write::apply(conn, tokens, &plan, options.progress)?;
            }
            // One record per run that wrote something, its summary as detail.
            if !options.dry_run && writes > 0 {
                let detail = summary.to_string();
                let (origin, action) = (Origin::cli(), AuditAction::Import);
                audit::record(conn, &origin, action, None, &detail, clock::now())?;
            }
            Ok(summary)
        })
    })
}

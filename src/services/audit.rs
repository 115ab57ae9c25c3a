//! Reading the audit trail for the admin's audit page.

use std::sync::Arc;

use super::{Domain, Failure};
use crate::models::audit::{self, AuditEvent, Filter};

/// One page of the trail.
pub struct AuditList {
    /// Newest first.
    pub events: Vec<AuditEvent>,
    /// How many events match the filter in all.
    pub total: i64,
    /// The page shown (the last one when the one asked for is past the end).
    pub page: i64,
}

#[derive(Clone)]
pub struct AuditTrail {
    domain: Arc<Domain>,
}

impl AuditTrail {
    pub fn new(domain: Arc<Domain>) -> AuditTrail {
        AuditTrail { domain }
    }

    /// Page `wanted` of `per_page` of the events `filter` lets through;
    /// past the end, the last page.
    pub async fn list(
        &self,
        filter: Filter,
        wanted: i64,
        per_page: i64,
    ) -> Result<AuditList, Failure> {
        self.domain
            .db
            .call(move |conn| {
                let found = audit::list(conn, &filter, wanted, per_page)?;
                let last = ((found.total + per_page - 1) / per_page).max(1);
                if wanted <= last {
                    return Ok(AuditList {
                        events: found.events,
                        total: found.total,
                        page: wanted,
                    });
                }
                let found = audit::list(conn, &filter, last, per_page)?;
                Ok(AuditList {
                    events: found.events,
                    total: found.total,
                    page: last,
                })
            })
            .await
    }
}

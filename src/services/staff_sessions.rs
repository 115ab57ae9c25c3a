//! The admin's server-side sessions: who a session id stands for (checked
//! on every request), signing out, and a staff member's own sessions.

use std::sync::Arc;

use diesel::Connection;

use super::{Domain, Failure};
use crate::models::admin_sessions::{self, SessionId, SessionRow};
use crate::models::audit::{self, AuditAction, Origin, Subject};
use crate::models::{User, UserId, clock};

/// A live session and its user.
pub struct Identified {
    pub session: SessionRow,
    pub user: User,
    /// Whether the user has two-factor sign-in on.
    pub two_factor: bool,
}

/// What a session id turned out to be.
pub enum SessionLookup {
    /// No such session (never was, signed out, or ended).
    Unknown,
    /// It was there but its time was up; it is gone now.
    Expired,
    /// Its user was deactivated, deleted or has a new password; it is gone now.
    Ended,
    Live(Box<Identified>),
}

#[derive(Clone)]
pub struct StaffSessions {
    domain: Arc<Domain>,
}

impl StaffSessions {
    pub fn new(domain: Arc<Domain>) -> StaffSessions {
        StaffSessions { domain }
    }

    /// The session `id` stands for, now. One query; `last_seen` is written
    /// at most once a minute; a session that should end is deleted.
    pub async fn identify(&self, id: SessionId) -> Result<SessionLookup, Failure> {
        self.domain
            .db
            .call(move |conn| {
                let now = clock::now();
                let Some((session, user, two_factor)) = admin_sessions::find(conn, &id)? else {
                    return Ok(SessionLookup::Unknown);
                };
                if session.expires <= now {
                    admin_sessions::delete_by_id(conn, session.id)?;
                    return Ok(SessionLookup::Expired);
                }
                if !user.is_active || session.auth_hash != admin_sessions::auth_hash(&user) {
                    admin_sessions::delete_by_id(conn, session.id)?;
                    return Ok(SessionLookup::Ended);
                }
                if now - session.last_seen >= admin_sessions::TOUCH_EVERY {
                    admin_sessions::touch(conn, session.id, now)?;
                }
                Ok(SessionLookup::Live(Box::new(Identified {
                    session,
                    user,
                    two_factor,
                })))
            })
            .await
    }

    /// Ends the session: its row is deleted, so a copy of the cookie is
    /// worth nothing from now on. A complete session's end is audited.
    pub async fn sign_out(&self, id: SessionId, address: String) -> Result<(), Failure> {
        self.domain
            .db
            .call(move |conn| {
                conn.transaction(|conn| {
                    let Some((user_id, pending)) = admin_sessions::delete(conn, &id)? else {
                        return Ok(());
                    };
                    if pending {
                        return Ok::<_, crate::db::DbError>(());
                    }
                    let Some(user) = crate::models::users::find_by_id(conn, user_id)? else {
                        return Ok(());
                    };
                    let origin = Origin::staff(&user.username, &address);
                    let subject = Subject {
                        id: user.id,
                        username: &user.username,
                    };
                    audit::record(
                        conn,
                        &origin,
                        AuditAction::SignOut,
                        Some(subject),
                        "",
                        clock::now(),
                    )
                })
                .map_err(Failure::from)
            })
            .await
    }

    /// Ends every session of `user` but `keep`; how many ended. Audited as
    /// a `sign_out` naming how many, when there were any.
    pub async fn sign_out_others(
        &self,
        user: User,
        keep: i32,
        address: String,
    ) -> Result<usize, Failure> {
        self.domain
            .db
            .call(move |conn| {
                conn.transaction(|conn| {
                    let ended = admin_sessions::delete_others(conn, user.id, keep)?;
                    if ended > 0 {
                        let origin = Origin::staff(&user.username, &address);
                        let subject = Subject {
                            id: user.id,
                            username: &user.username,
                        };
                        let detail = format!("other sessions: {ended}");
                        audit::record(
                            conn,
                            &origin,
                            AuditAction::SignOut,
                            Some(subject),
                            &detail,
                            clock::now(),
                        )?;
                    }
                    Ok::<_, crate::db::DbError>(ended)
                })
                .map_err(Failure::from)
            })
            .await
    }

    /// The user's open sessions, last used first.
    pub async fn list(&self, user: UserId) -> Result<Vec<SessionRow>, Failure> {
        self.domain
            .db
            .call(move |conn| Ok(admin_sessions::for_user(conn, user, clock::now())?))
            .await
    }
}

//! Acting on tokens: authenticating a presented key, a client revoking or
//! rotating the key it presents, and staff regenerating or revoking a
//! user's token. Changes to a presented key are compare-and-swap: of
//! concurrent calls with one key exactly one wins.

use std::sync::Arc;

use diesel::Connection;

use super::accounts::{UserDetail, load_detail};
use super::{Domain, Failure};
use crate::db::DbError;
use crate::models::audit::{self, AuditAction, Origin, Subject};
use crate::models::events::EventKind;
use crate::models::{AuthOutcome, Digest, TokenKey, User, UserId, clock, users};

#[derive(Clone)]
pub struct TokenService {
    domain: Arc<Domain>,
}

impl TokenService {
    pub fn new(domain: Arc<Domain>) -> TokenService {
        TokenService { domain }
    }

    /// What a presented key is: one indexed lookup (and `last_used` at most
    /// once a minute). On SQLite the lookup runs on this worker when it can
    /// without waiting, else (and on PostgreSQL) on the blocking pool.
    pub async fn authenticate(&self, digest: Digest) -> Result<AuthOutcome, Failure> {
        let domain = &self.domain;
        if let (Some(local), Some(last_used)) = (domain.db.local_reads(), &domain.last_used)
            && let Some(found) = local.read(|c| domain.tokens.lookup_sqlite(c, &digest))
        {
            let (outcome, touch) = domain.tokens.judge(found, clock::now());
            if let (Some(at), AuthOutcome::Valid(_, token)) = (touch, &outcome) {
                last_used.note(token.user_id, &digest, at);
            }
            return Ok(outcome);
        }
        let domain = self.domain.clone();
        self.domain
            .db
            .call(move |conn| Ok(domain.tokens.authenticate(conn, &digest)?))
            .await
    }

    /// `logout/`: deletes the presented key; false when it was no longer
    /// the user's key.
    pub async fn revoke_presented(&self, user: &User, digest: Digest) -> Result<bool, Failure> {
        let domain = self.domain.clone();
        let (id, actor) = (user.id, user.username.clone());
        self.domain
            .db
            .call(move |conn| Ok(domain.tokens.revoke(conn, id, Some(&digest), &actor)?))
            .await
    }

    /// `token/regenerate/`: a new key in place of the presented one; `None`
    /// when it was no longer the user's key.
    pub async fn rotate_presented(
        &self,
        user: &User,
        digest: Digest,
    ) -> Result<Option<TokenKey>, Failure> {
        let domain = self.domain.clone();
        let (id, actor) = (user.id, user.username.clone());
        self.domain
            .db
            .call(move |conn| {
                Ok(domain.tokens.replace(
                    conn,
                    id,
                    Some(&digest),
                    &actor,
                    EventKind::Regenerated,
                )?)
            })
            .await
    }

    /// Staff: a new key for user `id` whatever they had, and the user's
    /// page as it is now; `None` when there is no such user. Audited as
    /// `token_created` or `token_regenerated`, in the same transaction.
    pub async fn regenerate(
        &self,
        origin: Origin,
        id: UserId,
        events_shown: i64,
    ) -> Result<Option<(TokenKey, UserDetail)>, Failure> {
        let domain = self.domain.clone();
        self.domain
            .db
            .call(move |conn| {
                conn.transaction(|conn| {
                    audit::lock_for_writing(conn)?;
                    let Some(user) = users::find_by_id(conn, id)? else {
                        return Ok(None);
                    };
                    let had = domain.tokens.find(conn, id)?.is_some();
                    let key = domain.tokens.regenerate(conn, id, &origin.actor)?;
                    let action = if had {
                        AuditAction::TokenRegenerated
                    } else {
                        AuditAction::TokenCreated
                    };
                    let subject = Some(Subject::of(&user));
                    audit::record(conn, &origin, action, subject, "", clock::now())?;
                    let detail = load_detail(conn, &domain, id, events_shown)?;
                    Ok::<_, DbError>(detail.map(|detail| (key, detail)))
                })
                .map_err(Failure::from)
            })
            .await
    }

    /// Staff: deletes user `id`'s token. The user and whether there was a
    /// token; `None` when there is no such user. A deletion is audited as
    /// `token_revoked` in the same transaction.
    pub async fn revoke(
        &self,
        origin: Origin,
        id: UserId,
    ) -> Result<Option<(User, bool)>, Failure> {
        let domain = self.domain.clone();
        self.domain
            .db
            .call(move |conn| {
                conn.transaction(|conn| {
                    audit::lock_for_writing(conn)?;
                    let Some(user) = users::find_by_id(conn, id)? else {
                        return Ok(None);
                    };
                    let revoked = domain.tokens.revoke(conn, id, None, &origin.actor)?;
                    if revoked {
                        let (action, subject) = (AuditAction::TokenRevoked, Subject::of(&user));
                        audit::record(conn, &origin, action, Some(subject), "", clock::now())?;
                    }
                    Ok::<_, DbError>(Some((user, revoked)))
                })
                .map_err(Failure::from)
            })
            .await
    }
}

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
use crate::models::{
    AuthOutcome, CallerToken, CallerUser, Digest, TokenKey, Tokens, User, UserId, clock, users,
};

#[derive(Clone)]
pub struct TokenService {
    pub(super) domain: Arc<Domain>,
}

impl TokenService {
    pub fn new(domain: Arc<Domain>) -> TokenService {
        TokenService { domain }
    }

    /// What a presented key is: one indexed lookup. On SQLite it runs on
    /// this worker when it can without waiting, else (and on PostgreSQL) on
    /// the blocking pool; either way `last_used` (at most once a minute) is
    /// left to the background writer, so no request waits for that write.
    pub async fn authenticate(&self, digest: Digest) -> Result<AuthOutcome, Failure> {
        let domain = &self.domain;
        if let Some(local) = domain.db.local_reads()
            && let Some(found) = local.read(|c| domain.tokens.lookup_sqlite(c, &digest))
        {
            return Ok(self.judged(found, &digest));
        }
        let theirs = self.domain.clone();
        let (found, digest) = self
            .domain
            .db
            .call(move |conn| Ok::<_, Failure>((theirs.tokens.lookup(conn, &digest)?, digest)))
            .await?;
        Ok(self.judged(found, &digest))
    }

    fn judged(&self, found: Option<(CallerUser, CallerToken)>, digest: &Digest) -> AuthOutcome {
        let (outcome, touch) = self.domain.tokens.judge(found, clock::now());
        if let (Some(at), AuthOutcome::Valid(_, token)) = (touch, &outcome) {
            self.domain.last_used.note(token.user_id, digest, at);
        }
        outcome
    }

    /// `logout/`: deletes the presented key (the DRF token or a named
    /// one); false when it was no longer the user's key.
    pub async fn revoke_presented(
        &self,
        user: &CallerUser,
        token: &CallerToken,
        digest: Digest,
    ) -> Result<bool, Failure> {
        let domain = self.domain.clone();
        let (id, actor) = (user.id, user.username.clone());
        let (token_id, primary) = (token.id, token.is_primary);
        self.domain
            .db
            .call(move |conn| {
                let tokens = &domain.tokens;
                Ok(if primary {
                    tokens.revoke(conn, id, Some(&digest), &actor)?
                } else {
                    tokens
                        .revoke_named(conn, id, token_id, Some(&digest), &actor)?
                        .is_some()
                })
            })
            .await
    }

    /// `token/regenerate/`: a new key in place of the presented one (a
    /// named token keeps its id, name, scopes and expiry); `None` when it
    /// was no longer the user's key.
    pub async fn rotate_presented(
        &self,
        user: &CallerUser,
        token: CallerToken,
        digest: Digest,
    ) -> Result<Option<TokenKey>, Failure> {
        let domain = self.domain.clone();
        let (id, actor) = (user.id, user.username.clone());
        self.domain
            .db
            .call(move |conn| {
                let tokens = &domain.tokens;
                Ok(if token.is_primary {
                    tokens.replace(conn, id, Some(&digest), &actor, EventKind::Regenerated)?
                } else {
                    tokens.rotate_named(conn, &token, &digest, &actor)?
                })
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
        self.revoke_as_staff(origin, id, move |tokens, conn, actor| {
            Ok(tokens.revoke(conn, id, None, actor)?.then(String::new))
        })
        .await
    }

    /// Staff revoking one of user `id`'s tokens: `revoke` deletes it and
    /// says what it deleted (the audit record's detail), audited as
    /// `token_revoked` in the same transaction. The user and whether one
    /// was deleted; `None` when there is no such user.
    pub(super) async fn revoke_as_staff(
        &self,
        origin: Origin,
        id: UserId,
        revoke: impl FnOnce(
            &Tokens,
            &mut crate::db::DbConnection,
            &str,
        ) -> Result<Option<String>, DbError>
        + Send
        + 'static,
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
                    let revoked = revoke(&domain.tokens, conn, &origin.actor)?;
                    if let Some(detail) = &revoked {
                        let (action, subject) = (AuditAction::TokenRevoked, Subject::of(&user));
                        audit::record(conn, &origin, action, Some(subject), detail, clock::now())?;
                    }
                    Ok::<_, DbError>(Some((user, revoked.is_some())))
                })
                .map_err(Failure::from)
            })
            .await
    }
}

//! A client managing its user's named tokens with the token it presents,
//! and staff revoking one. The presented token's scopes bound what it may
//! do: managing tokens needs `tokens`, and a new token holds no scope its
//! creator does not.

use super::Failure;
use super::tokens::TokenService;
use crate::models::audit::Origin;
use crate::models::scope::TOKENS_SCOPE;
use crate::models::{
    CallerToken, CallerUser, NamedTokenError, NamedTokenSpec, Scope, TokenId, TokenKey, TokenRow,
    User, UserId,
};

/// Why a request about named tokens was refused.
#[derive(Debug, thiserror::Error)]
pub enum NamedTokensError {
    /// The presented token lacks `tokens`, or a scope it would grant.
    #[error("the presented token may not do this")]
    Forbidden,
    #[error("no such token of this user")]
    NotFound,
    #[error("a token with that name already exists")]
    NameTaken,
    #[error("the user holds the most named tokens allowed")]
    LimitReached,
    #[error(transparent)]
    Failure(#[from] Failure),
}

impl From<NamedTokenError> for NamedTokensError {
    fn from(e: NamedTokenError) -> Self {
        match e {
            NamedTokenError::NameTaken => NamedTokensError::NameTaken,
            NamedTokenError::LimitReached => NamedTokensError::LimitReached,
        }
    }
}

impl TokenService {
    /// Whether `token` may create, list or delete tokens: it holds `tokens`.
    pub fn may_manage(&self, token: &CallerToken) -> Result<(), NamedTokensError> {
        let tokens = Scope::parse(TOKENS_SCOPE).expect("`tokens` is a scope name");
        if token.holds(&tokens) {
            Ok(())
        } else {
            Err(NamedTokensError::Forbidden)
        }
    }

    /// `POST /api/auth/tokens/`: a new named token for the caller's user,
    /// with no scope the presented token does not hold.
    pub async fn create_named(
        &self,
        user: &CallerUser,
        presented: &CallerToken,
        spec: NamedTokenSpec,
    ) -> Result<(TokenRow, TokenKey), NamedTokensError> {
        self.may_manage(presented)?;
        if !presented.holds_all(&spec.scopes) {
            return Err(NamedTokensError::Forbidden);
        }
        let domain = self.domain.clone();
        let (id, actor) = (user.id, user.username.clone());
        let created = self
            .domain
            .db
            .call(move |conn| {
                Ok::<_, Failure>(domain.tokens.create_named(conn, id, &spec, &actor)?)
            })
            .await?;
        Ok(created?)
    }

    /// `GET /api/auth/tokens/`: the user's named tokens, newest first.
    pub async fn list_named(
        &self,
        user: &CallerUser,
        presented: &CallerToken,
    ) -> Result<Vec<TokenRow>, NamedTokensError> {
        self.may_manage(presented)?;
        let domain = self.domain.clone();
        let id = user.id;
        Ok(self
            .domain
            .db
            .call(move |conn| Ok::<_, Failure>(domain.tokens.list_named(conn, id)?))
            .await?)
    }

    /// `DELETE /api/auth/tokens/<id>/`: another user's token or an unknown
    /// id is not found.
    pub async fn delete_named(
        &self,
        user: &CallerUser,
        presented: &CallerToken,
        token: Option<TokenId>,
    ) -> Result<(), NamedTokensError> {
        self.may_manage(presented)?;
        let Some(token) = token else {
            return Err(NamedTokensError::NotFound);
        };
        let domain = self.domain.clone();
        let (id, actor) = (user.id, user.username.clone());
        let deleted = self
            .domain
            .db
            .call(move |conn| {
                Ok::<_, Failure>(domain.tokens.revoke_named(conn, id, token, None, &actor)?)
            })
            .await?;
        if deleted.is_some() {
            Ok(())
        } else {
            Err(NamedTokensError::NotFound)
        }
    }

    /// Staff: revokes user `id`'s named token `token`, with its audit
    /// record. The user and whether the token was there; `None` when there
    /// is no such user.
    pub async fn revoke_named_by_staff(
        &self,
        origin: Origin,
        id: UserId,
        token: TokenId,
    ) -> Result<Option<(User, bool)>, Failure> {
        self.revoke_as_staff(origin, id, move |tokens, conn, actor| {
            let revoked = tokens.revoke_named(conn, id, token, None, actor)?;
            Ok(revoked.map(|name| format!("named token {name:?}")))
        })
        .await
    }
}

//! Users: signing up, the admin's search and user page, (de)activation.

use std::sync::Arc;

use diesel::Connection;

use super::{Domain, Failure};
use crate::db::{AsOutage, DbConnection, DbError};
use crate::models::audit::{self, Origin};
use crate::models::events::{self, TokenEvent};
use crate::models::validation::{Email, Username};
use crate::models::{CreateUserError, HookError, NewUser, TokenKey, TokenRow, User, UserId, users};

/// A sign-up whose fields are valid. No `Debug`: it holds a password.
pub struct Registration {
    pub username: Username,
    pub email: Email,
    pub password: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// Taken by a sign-up that won a race with this one.
    #[error("a user with that username already exists")]
    UsernameTaken,
    #[error(transparent)]
    Failure(#[from] Failure),
}

impl From<CreateUserError> for RegisterError {
    fn from(e: CreateUserError) -> Self {
        match e {
            CreateUserError::UsernameTaken => RegisterError::UsernameTaken,
            CreateUserError::Db(e)
            | CreateUserError::Hook {
                error: HookError::Db(e),
                ..
            } => RegisterError::Failure(e.into()),
            other => RegisterError::Failure(Failure::internal(other)),
        }
    }
}

impl From<DbError> for RegisterError {
    fn from(e: DbError) -> Self {
        RegisterError::Failure(e.into())
    }
}

impl AsOutage for RegisterError {
    fn is_outage(&self) -> bool {
        matches!(self, RegisterError::Failure(f) if f.is_outage())
    }
}

/// One page of the users search.
pub struct UserList {
    /// Users sorted by username, each with their token if they have one.
    pub rows: Vec<(User, Option<TokenRow>)>,
    /// How many users match in all, or at least (`capped`).
    pub total: i64,
    /// The count stopped at `total`: more match.
    pub capped: bool,
    /// The page shown (the last one when the one asked for is past the end).
    pub page: i64,
}

/// What the admin's user page shows.
pub struct UserDetail {
    pub user: User,
    pub token: Option<TokenRow>,
    /// The user's named tokens, newest first.
    pub named: Vec<TokenRow>,
    /// The latest token events, newest first.
    pub events: Vec<TokenEvent>,
}

/// Reads a user's page; `None` when there is no such user.
pub(super) fn load_detail(
    conn: &mut DbConnection,
    domain: &Domain,
    id: UserId,
    events_shown: i64,
) -> Result<Option<UserDetail>, DbError> {
    let Some(user) = users::find_by_id(conn, id)? else {
        return Ok(None);
    };
    let token = domain.tokens.find(conn, id)?;
    let named = domain.tokens.list_named(conn, id)?;
    let events = events::for_user(conn, id, events_shown)?;
    Ok(Some(UserDetail {
        user,
        token,
        named,
        events,
    }))
}

#[derive(Clone)]
pub struct Accounts {
    domain: Arc<Domain>,
}

impl Accounts {
    pub fn new(domain: Arc<Domain>) -> Accounts {
        Accounts { domain }
    }

    pub async fn find(&self, id: UserId) -> Result<Option<User>, Failure> {
        self.domain
            .db
            .call(move |conn| Ok(users::find_by_id(conn, id)?))
            .await
    }

    pub async fn is_username_taken(&self, username: &Username) -> Result<bool, Failure> {
        let name = username.as_str().to_owned();
        self.domain
            .db
            .call(move |conn| Ok(users::find_by_username(conn, &name)?.is_some()))
            .await
    }

    /// Creates the user (the post-insert hook gives them a token) and reads
    /// the token back, in one transaction; the password is hashed first,
    /// off the database connection.
    pub async fn register(&self, form: Registration) -> Result<(User, TokenKey), RegisterError> {
        let password_hash = self
            .domain
            .hasher
            .hash(form.password)
            .await
            .map_err(Failure::from)?;
        let new = NewUser {
            username: form.username,
            email: form.email,
            password_hash,
            is_active: true,
            is_staff: false,
            is_superuser: false,
        };
        let domain = self.domain.clone();
        self.domain
            .db
            .call(move |conn| {
                conn.transaction(|conn| {
                    let actor = new.username.as_str();
                    let user = users::create_user(conn, &domain.hooks, &new, actor)?;
                    let key = domain.tokens.get_or_create(conn, user.id, actor)?;
                    Ok::<_, CreateUserError>((user, key))
                })
                .map_err(RegisterError::from)
            })
            .await
    }

    /// Users whose username or e-mail contains `query` (all for an empty
    /// one), page `wanted` of `per_page`; past the end, the last page. The
    /// count of a non-empty query stops past `COUNT_CAP` (`capped`).
    pub async fn search(
        &self,
        query: String,
        wanted: i64,
        per_page: i64,
    ) -> Result<UserList, Failure> {
        self.domain
            .db
            .call(move |conn| {
                let found = users::search(conn, &query, wanted, per_page)?;
                let last = ((found.total + per_page - 1) / per_page).max(1);
                if wanted <= last {
                    return Ok(UserList {
                        rows: found.rows,
                        total: found.total,
                        capped: found.capped,
                        page: wanted,
                    });
                }
                // The list shrank, or a hand-made URL.
                let found = users::search(conn, &query, last, per_page)?;
                Ok(UserList {
                    rows: found.rows,
                    total: found.total,
                    capped: found.capped,
                    page: last,
                })
            })
            .await
    }

    pub async fn detail(
        &self,
        id: UserId,
        events_shown: i64,
    ) -> Result<Option<UserDetail>, Failure> {
        let domain = self.domain.clone();
        self.domain
            .db
            .call(move |conn| Ok(load_detail(conn, &domain, id, events_shown)?))
            .await
    }

    /// Sets `is_active`; the user as they were, or `None` when there is no
    /// such user. A deactivated user's keys are refused from the next request.
    /// Audited as `user_activated` or `user_deactivated` in the same
    /// transaction.
    pub async fn set_active(
        &self,
        origin: Origin,
        id: UserId,
        active: bool,
    ) -> Result<Option<User>, Failure> {
        self.domain
            .db
            .call(move |conn| {
                conn.transaction(|conn| {
                    audit::lock_for_writing(conn)?;
                    let Some(user) = users::find_by_id(conn, id)? else {
                        return Ok(None);
                    };
                    users::set_active(conn, id, active)?;
                    if !active {
                        crate::models::admin_sessions::delete_for_user(conn, id)?;
                    }
                    audit::record_activation(conn, &origin, &user, active)?;
                    Ok::<_, DbError>(Some(user))
                })
                .map_err(Failure::from)
            })
            .await
    }
}

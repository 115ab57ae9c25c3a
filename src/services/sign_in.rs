//! Signing in with a username and password, for the API (DRF's
//! `obtain_auth_token`: the user's token, created if need be) and for the
//! admin (staff only). Throttled per client address and username, with one
//! password check whatever the user (a dummy hash for unknown ones).

use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::Connection;

use super::{Domain, Failure};
use crate::auth::throttle::Admission;
use crate::auth::{LoginThrottle, Upgrade};
use crate::db::{AsOutage, DbError};
use crate::metrics::SignInOutcome;
use crate::models::activity::{self, SignInOutcome as Activity};
use crate::models::admin_sessions::{self, SessionId};
use crate::models::audit::{self, AuditAction, Origin};
use crate::models::login_failures::AttemptId;
use crate::models::{TokenKey, User, clock, two_factor, users};

/// How often an attempt asks again while others of its scope are checked.
const WAIT_STEP: Duration = Duration::from_millis(25);
/// How long an attempt waits for those before it is refused as busy (503).
const WAIT_AT_MOST: Duration = Duration::from_secs(10);

/// An admitted attempt whose password was right.
struct Checked {
    user: User,
    scope: String,
    attempt: AttemptId,
    /// The hash to replace by this server's own (Django's, or another cost).
    upgrade: Option<Upgrade>,
}

/// Writes the upgraded hash (in the sign-in's transaction) if the stored one
/// is still the one verified, and keeps `user` in step with it.
fn upgrade_hash(
    conn: &mut crate::db::DbConnection,
    user: &mut User,
    upgrade: Option<Upgrade>,
) -> Result<(), DbError> {
    if let Some(Upgrade { old, new }) = upgrade
        && users::replace_password_hash(conn, user.id, &old, &new)?
    {
        user.password_hash = new;
    }
    Ok(())
}

/// One sign-in attempt. No `Debug`: it holds a password.
pub struct Attempt {
    /// The client's address, as `TRUSTED_PROXIES` lets us know it.
    pub client: String,
    pub username: String,
    pub password: String,
}

/// The admin's sign-in after a right password: the session started, which
/// waits for a second factor when the user has two-factor sign-in on.
pub struct StaffSignIn {
    pub user: User,
    pub session: SessionId,
    pub needs_code: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Wrong password, unknown or inactive user, or (for the admin) not staff.
    #[error("invalid credentials")]
    Invalid,
    /// Too many failures for this client and username: retry in N seconds.
    #[error("throttled for {0}s")]
    Throttled(u64),
    #[error(transparent)]
    Failure(#[from] Failure),
}

impl From<DbError> for SignInError {
    fn from(e: DbError) -> Self {
        SignInError::Failure(e.into())
    }
}

impl AsOutage for SignInError {
    fn is_outage(&self) -> bool {
        matches!(self, SignInError::Failure(f) if f.is_outage())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Audience {
    AnyUser,
    Staff,
}

/// A refused API sign-in (bad credentials or throttled) in the overview's
/// hourly count; the admin's sign-ins are counted with its sessions.
fn count_api_failure(
    conn: &mut crate::db::DbConnection,
    audience: Audience,
) -> Result<(), DbError> {
    if audience == Audience::AnyUser {
        activity::count(conn, Activity::Failed, clock::now())?;
    }
    Ok(())
}

#[derive(Clone)]
pub struct SignIn {
    domain: Arc<Domain>,
}

impl SignIn {
    pub fn new(domain: Arc<Domain>) -> SignIn {
        SignIn { domain }
    }

    /// The API's sign-in: the user and their token. The token's
    /// get-or-create, `last_login` and the throttle's reset are one
    /// transaction.
    pub async fn token(&self, attempt: Attempt) -> Result<(User, TokenKey), SignInError> {
        let result = self.token_unmeasured(attempt).await;
        self.measure(&result);
        result
    }

    /// The admin's sign-in: staff only. With a right password, a session
    /// is started; it is complete at once (with `last_login`, the
    /// throttle's reset, the audit record, in one transaction) unless the
    /// user has two-factor sign-in on, and then waits for the code.
    /// `replaces` is the session the browser held before, if any: it ends
    /// with the new one's start.
    pub async fn staff(
        &self,
        attempt: Attempt,
        user_agent: String,
        replaces: Option<SessionId>,
    ) -> Result<StaffSignIn, SignInError> {
        let result = self.staff_unmeasured(attempt, user_agent, replaces).await;
        // A right password with a code still due is no sign-in yet: the
        // code's outcome is counted instead (`TwoFactor::complete_sign_in`).
        if !matches!(&result, Ok(signed) if signed.needs_code) {
            self.measure(&result);
        }
        if let Err(SignInError::Throttled(_)) = result {
            self.count_refused().await;
        }
        result
    }

    /// A throttled admin attempt still counts as a failed sign-in on the
    /// overview; nothing else is written for it.
    pub(super) async fn count_refused(&self) {
        let counted = self
            .domain
            .db
            .call(|conn| activity::count(conn, Activity::Failed, clock::now()))
            .await;
        if let Err(e) = counted {
            log::warn!(
                "could not count a refused sign-in: {}",
                super::cause_chain(&e)
            );
        }
    }

    /// Counts how a sign-in ended, if it ended as one of the outcomes that
    /// are counted (a database outage is not a sign-in's outcome).
    pub(super) fn measure<T>(&self, result: &Result<T, SignInError>) {
        let outcome = match result {
            Ok(_) => SignInOutcome::ok,
            Err(SignInError::Invalid) => SignInOutcome::bad_credentials,
            Err(SignInError::Throttled(_)) => SignInOutcome::throttled,
            Err(SignInError::Failure(Failure::Busy)) => SignInOutcome::busy,
            Err(SignInError::Failure(_)) => return,
        };
        self.domain.metrics.sign_in(outcome);
    }

    async fn token_unmeasured(&self, attempt: Attempt) -> Result<(User, TokenKey), SignInError> {
        let Checked {
            mut user,
            scope,
            attempt,
            upgrade,
        } = self.check(attempt, Audience::AnyUser).await?;
        let domain = self.domain.clone();
        self.domain
            .db
            .call(move |conn| {
                let key = conn.transaction(|conn| {
                    // Writes first: on SQLite a transaction that read first
                    // could not wait for the write lock, only fail.
                    users::record_login(conn, user.id, clock::now())?;
                    domain.throttle.clear(conn, &scope, attempt)?;
                    upgrade_hash(conn, &mut user, upgrade)?;
                    // The overview's hourly count (the admin's are counted
                    // with its sessions).
                    activity::count(conn, Activity::Ok, clock::now())?;
                    domain.tokens.get_or_create(conn, user.id, &user.username)
                })?;
                Ok((user, key))
            })
            .await
    }

    async fn staff_unmeasured(
        &self,
        attempt: Attempt,
        user_agent: String,
        replaces: Option<SessionId>,
    ) -> Result<StaffSignIn, SignInError> {
        let client = admin_sessions::Client {
            address: attempt.client.clone(),
            user_agent,
        };
        let Checked {
            mut user,
            scope,
            attempt,
            upgrade,
        } = self.check(attempt, Audience::Staff).await?;
        let domain = self.domain.clone();
        self.domain
            .db
            .call(move |conn| {
                conn.transaction(|conn| {
                    let now = clock::now();
                    // A write first (see above); expired sessions go at each sign-in.
                    admin_sessions::purge_expired(conn, now)?;
                    if let Some(old) = &replaces {
                        admin_sessions::delete(conn, old)?;
                    }
                    let needs_code = two_factor::find(conn, user.id)?.is_some_and(|t| t.enabled);
                    // The session's auth hash is taken from the user: it
                    // must be the upgraded hash.
                    upgrade_hash(conn, &mut user, upgrade)?;
                    if needs_code {
                        // The password was right, so this attempt is no
                        // failure; but the scope's failures stay until the
                        // code is right too, or a known password would reset
                        // the count of wrong codes.
                        domain.throttle.release(conn, attempt)?;
                    } else {
                        users::record_login(conn, user.id, now)?;
                        domain.throttle.clear(conn, &scope, attempt)?;
                        record_sign_in(conn, &user, &client.address, "password", now)?;
                    }
                    let ttl = domain.admin_session_ttl;
                    let session =
                        admin_sessions::create(conn, &user, needs_code, &client, now, ttl)?;
                    Ok::<_, DbError>(StaffSignIn {
                        user,
                        session,
                        needs_code,
                    })
                })
                .map_err(SignInError::from)
            })
            .await
    }

    /// The throttle admits the attempt (counting it before anything else),
    /// then exactly one password check runs, against the user's hash or a
    /// dummy one; a wrong one is recorded as a failure.
    async fn check(&self, attempt: Attempt, audience: Audience) -> Result<Checked, SignInError> {
        let Attempt {
            client,
            username,
            password,
        } = attempt;
        let scope = LoginThrottle::scope(&client, &username);
        let (attempt, user) = self.admit(&scope, username.clone(), audience).await?;
        let hash = user.as_ref().map(|u| u.password_hash.clone());
        let eligible =
            |user: &User| user.is_active && (audience == Audience::AnyUser || user.is_staff);
        let may_upgrade = user.as_ref().is_some_and(eligible);
        let verdict = match self.domain.hasher.verify(password, hash, may_upgrade).await {
            Ok(verified) => verified,
            Err(e) => {
                // Never checked: the attempt does not count.
                self.settle(attempt, |throttle, conn, attempt| {
                    throttle.release(conn, attempt)
                })
                .await;
                return Err(Failure::from(e).into());
            }
        };
        match user {
            Some(user) if verdict.ok && eligible(&user) => Ok(Checked {
                user,
                scope,
                attempt,
                upgrade: verdict.upgrade,
            }),
            _ => {
                let staff = audience == Audience::Staff;
                self.settle(attempt, move |throttle, conn, attempt| {
                    conn.transaction(|conn| {
                        throttle.fail(conn, attempt)?;
                        if staff {
                            record_failure(conn, &username, &client, "wrong password")?;
                        }
                        count_api_failure(conn, audience)
                    })
                })
                .await;
                Err(SignInError::Invalid)
            }
        }
    }

    /// The throttle's admission and the user, in one database call; while
    /// other attempts of the scope are being checked, asks again.
    pub(super) async fn admit(
        &self,
        scope: &str,
        username: String,
        audience: Audience,
    ) -> Result<(AttemptId, Option<User>), SignInError> {
        let started = Instant::now();
        loop {
            let domain = self.domain.clone();
            let (scope, username) = (scope.to_owned(), username.clone());
            let (admission, user) = self
                .domain
                .db
                .call(move |conn| {
                    let admission = domain.throttle.admit(conn, &scope)?;
                    let user = match admission {
                        Admission::Admitted(_) => users::find_by_username(conn, &username)?,
                        Admission::Throttled(_) => {
                            count_api_failure(conn, audience)?;
                            None
                        }
                        Admission::Wait => None,
                    };
                    Ok::<_, DbError>((admission, user))
                })
                .await?;
            match admission {
                Admission::Admitted(attempt) => return Ok((attempt, user)),
                Admission::Throttled(wait) => return Err(SignInError::Throttled(wait)),
                Admission::Wait if started.elapsed() >= WAIT_AT_MOST => {
                    return Err(Failure::Busy.into());
                }
                Admission::Wait => tokio::time::sleep(WAIT_STEP).await,
            }
        }
    }

    /// Reports how an attempt ended; a failure to do so is logged, not
    /// shown (the answer does not depend on it, and a pending attempt
    /// counts as a failure after a while anyway).
    pub(super) async fn settle(
        &self,
        attempt: AttemptId,
        report: impl FnOnce(
            &LoginThrottle,
            &mut crate::db::DbConnection,
            AttemptId,
        ) -> Result<(), DbError>
        + Send
        + 'static,
    ) {
        let domain = self.domain.clone();
        let reported = self
            .domain
            .db
            .call(move |conn| report(&domain.throttle, conn, attempt))
            .await;
        if let Err(e) = reported {
            log::warn!(
                "could not record a sign-in attempt's outcome: {}",
                super::cause_chain(&e)
            );
        }
    }
}

/// An admin sign-in that is complete: its audit record and its count.
pub(super) fn record_sign_in(
    conn: &mut crate::db::DbConnection,
    user: &User,
    address: &str,
    detail: &str,
    now: chrono::NaiveDateTime,
) -> Result<(), DbError> {
    let subject = audit::Subject {
        id: user.id,
        username: &user.username,
    };
    let origin = Origin::staff(&user.username, address);
    audit::record(
        conn,
        &origin,
        AuditAction::SignIn,
        Some(subject),
        detail,
        now,
    )?;
    activity::count(conn, Activity::Ok, now)
}

/// A refused admin sign-in (wrong password or code): audited under the
/// username tried, and counted.
pub(super) fn record_failure(
    conn: &mut crate::db::DbConnection,
    username: &str,
    address: &str,
    detail: &str,
) -> Result<(), DbError> {
    let now = clock::now();
    let origin = Origin::staff(username, address);
    audit::record(conn, &origin, AuditAction::SignInFailed, None, detail, now)?;
    activity::count(conn, Activity::Failed, now)
}

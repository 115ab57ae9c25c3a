//! Two-factor sign-in: enrolment from the account page, the code asked for
//! after the password, and turning it off. Codes (TOTP or recovery) are
//! checked under the sign-in throttle, in the transaction that acts on them.

use std::sync::Arc;

use diesel::Connection;

use super::sign_in::{Audience, record_failure, record_sign_in};
use super::{Domain, Failure, SignIn, SignInError};
use crate::auth::LoginThrottle;
use crate::db::{AsOutage, DbConnection, DbError};
use crate::models::admin_sessions::{self, SessionId, SessionRow};
use crate::models::audit::{self, AuditAction, Origin, Subject};
use crate::models::two_factor::{self as totp, TotpSecret};
use crate::models::{User, clock, recovery_codes, users};

/// What the account page shows of a staff member's own sign-in.
pub struct AccountState {
    /// Their open sessions, last used first.
    pub sessions: Vec<SessionRow>,
    /// The enrolment waiting for its first code, if any.
    pub enrolment: Option<Enrolment>,
    /// Unused recovery codes.
    pub recovery_codes_left: i64,
}

/// What the enrolment shows: the secret typed in or scanned. No `Debug`.
pub struct Enrolment {
    pub secret_base32: String,
    pub uri: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CodeError {
    /// Not a current code, a step already used, or an unknown recovery code.
    #[error("the code was refused")]
    Refused,
    /// Too many failures for this client and username: retry in N seconds.
    #[error("throttled for {0}s")]
    Throttled(u64),
    /// Nothing waits for a code (no enrolment, the session ended).
    #[error("no code is expected")]
    NotExpected,
    #[error(transparent)]
    Failure(#[from] Failure),
}

impl From<DbError> for CodeError {
    fn from(e: DbError) -> Self {
        CodeError::Failure(e.into())
    }
}

impl From<SignInError> for CodeError {
    fn from(e: SignInError) -> Self {
        match e {
            SignInError::Throttled(wait) => CodeError::Throttled(wait),
            SignInError::Invalid => CodeError::Refused,
            SignInError::Failure(f) => CodeError::Failure(f),
        }
    }
}

impl AsOutage for CodeError {
    fn is_outage(&self) -> bool {
        matches!(self, CodeError::Failure(f) if f.is_outage())
    }
}

fn unix_now() -> u64 {
    u64::try_from(clock::now().and_utc().timestamp()).unwrap_or(0)
}

/// Whether `code` is a TOTP code of the user's (its step then used up) or
/// one of their unused recovery codes (then deleted); which, for the audit.
fn use_code(
    conn: &mut DbConnection,
    domain: &Domain,
    user: &User,
    code: &str,
) -> Result<Option<&'static str>, DbError> {
    let Some(row) = totp::find(conn, user.id)?.filter(|row| row.enabled) else {
        return Ok(None);
    };
    if recovery_codes::looks_like_one(code) {
        let used = recovery_codes::use_code(conn, user.id, code)?;
        return Ok(used.then_some("recovery code"));
    }
    let Some(secret) = TotpSecret::unseal(&domain.totp_sealer, &row.sealed_secret, user.id) else {
        // Sealed under another SECRET_KEY: only a recovery code can help.
        log::warn!(
            "the two-factor secret of user {} cannot be unsealed",
            user.id
        );
        return Ok(None);
    };
    match secret.check(code, unix_now()) {
        Some(step) if totp::accept_step(conn, user.id, step)? => Ok(Some("authenticator code")),
        _ => Ok(None),
    }
}

#[derive(Clone)]
pub struct TwoFactor {
    domain: Arc<Domain>,
    sign_in: SignIn,
}

impl TwoFactor {
    pub fn new(domain: Arc<Domain>, sign_in: SignIn) -> TwoFactor {
        TwoFactor { domain, sign_in }
    }

    /// The pending session's user, if `id` is a pending session that is
    /// still good.
    async fn pending_user(&self, id: SessionId) -> Result<Option<User>, Failure> {
        self.domain
            .db
            .call(move |conn| {
                let Some((session, user, _)) = admin_sessions::find(conn, &id)? else {
                    return Ok(None);
                };
                let good = session.pending
                    && session.expires > clock::now()
                    && user.is_active
                    && user.is_staff
                    && session.auth_hash == admin_sessions::auth_hash(&user);
                Ok(good.then_some(user))
            })
            .await
    }

    /// The second step of the admin's sign-in: the code completes the
    /// pending session `id` (under a new id, returned). Counted by the
    /// throttle like a password; a refused code is a failed sign-in.
    pub async fn complete_sign_in(
        &self,
        id: SessionId,
        code: String,
        address: String,
    ) -> Result<(User, SessionId), CodeError> {
        let Some(pending) = self.pending_user(id.clone()).await? else {
            return Err(CodeError::NotExpected);
        };
        let result = self.check_sign_in_code(pending, id, code, address).await;
        // Counted in the sign-in metrics like a password's outcome.
        let measured: Result<(), SignInError> = match &result {
            Ok(_) => Ok(()),
            Err(CodeError::Refused) => Err(SignInError::Invalid),
            Err(CodeError::Throttled(wait)) => Err(SignInError::Throttled(*wait)),
            Err(CodeError::Failure(Failure::Busy)) => Err(Failure::Busy.into()),
            Err(CodeError::NotExpected | CodeError::Failure(_)) => return result,
        };
        self.sign_in.measure(&measured);
        result
    }

    async fn check_sign_in_code(
        &self,
        pending: User,
        id: SessionId,
        code: String,
        address: String,
    ) -> Result<(User, SessionId), CodeError> {
        let scope = LoginThrottle::scope(&address, &pending.username);
        let admitted = self
            .sign_in
            .admit(&scope, pending.username.clone(), Audience::Staff)
            .await;
        let (attempt, user) = match admitted {
            Ok(admitted) => admitted,
            Err(e) => {
                if let SignInError::Throttled(_) = e {
                    self.sign_in.count_refused().await;
                }
                return Err(e.into());
            }
        };
        let domain = self.domain.clone();
        let outcome = self
            .domain
            .db
            .call(move |conn| {
                conn.transaction(|conn| {
                    let now = clock::now();
                    // A write first: on SQLite a transaction that read first
                    // could not wait for the write lock. Counted as a failure
                    // until the code proves right (then `clear` forgets it).
                    domain.throttle.fail(conn, attempt)?;
                    let found = admin_sessions::find(conn, &id)?;
                    let Some((session, _, _)) =
                        found.filter(|(s, _, _)| s.pending && s.expires > now)
                    else {
                        domain.throttle.release(conn, attempt)?;
                        return Ok(Err(CodeError::NotExpected));
                    };
                    let user = user.filter(|u| u.id == pending.id).unwrap_or(pending);
                    let Some(how) = use_code(conn, &domain, &user, &code)? else {
                        record_failure(conn, &user.username, &address, "wrong code")?;
                        return Ok(Err(CodeError::Refused));
                    };
                    let ttl = domain.admin_session_ttl;
                    let Some(new_id) = admin_sessions::complete(conn, session.id, now, ttl)? else {
                        domain.throttle.release(conn, attempt)?;
                        return Ok(Err(CodeError::NotExpected));
                    };
                    users::record_login(conn, user.id, now)?;
                    domain.throttle.clear(conn, &scope, attempt)?;
                    record_sign_in(conn, &user, &address, how, now)?;
                    Ok::<_, DbError>(Ok((user, new_id)))
                })
            })
            .await;
        // A refused code is written (commit), then reported.
        outcome.map_err(CodeError::from)?
    }

    /// The account page's data, in one database call.
    pub async fn account(&self, user: User) -> Result<AccountState, Failure> {
        let domain = self.domain.clone();
        self.domain
            .db
            .call(move |conn| {
                let sessions = admin_sessions::for_user(conn, user.id, clock::now())?;
                let row = totp::find(conn, user.id)?.filter(|row| !row.enabled);
                let enrolment = row
                    .and_then(|row| {
                        TotpSecret::unseal(&domain.totp_sealer, &row.sealed_secret, user.id)
                    })
                    .map(|secret| Enrolment {
                        secret_base32: secret.base32(),
                        uri: secret.uri(&user.username),
                    });
                let recovery_codes_left = recovery_codes::remaining(conn, user.id)?;
                Ok(AccountState {
                    sessions,
                    enrolment,
                    recovery_codes_left,
                })
            })
            .await
    }

    /// Starts an enrolment with a new secret; `None` when it is already on.
    pub async fn begin(&self, user: User) -> Result<Option<Enrolment>, Failure> {
        let domain = self.domain.clone();
        self.domain
            .db
            .call(move |conn| {
                let secret = TotpSecret::generate();
                let sealed = secret.seal(&domain.totp_sealer, user.id);
                if !totp::start(conn, user.id, &sealed, clock::now())? {
                    return Ok(None);
                }
                Ok(Some(Enrolment {
                    secret_base32: secret.base32(),
                    uri: secret.uri(&user.username),
                }))
            })
            .await
    }

    /// Confirms the enrolment with a current code (whose step then counts
    /// as used): two-factor sign-in is on, and the recovery codes to show
    /// once are returned.
    pub async fn confirm(
        &self,
        user: User,
        code: String,
        address: String,
    ) -> Result<Vec<String>, CodeError> {
        let domain = self.domain.clone();
        self.domain
            .db
            .call(move |conn| {
                let Some(row) = totp::find(conn, user.id)?.filter(|row| !row.enabled) else {
                    return Ok(Err(CodeError::NotExpected));
                };
                let secret = TotpSecret::unseal(&domain.totp_sealer, &row.sealed_secret, user.id);
                let Some(step) = secret.and_then(|s| s.check(&code, unix_now())) else {
                    return Ok(Err(CodeError::Refused));
                };
                conn.transaction(|conn| {
                    let now = clock::now();
                    // A write first (SQLite), and only of the secret the code
                    // was checked against: another tab may have begun anew.
                    if !totp::enable(conn, user.id, &row.sealed_secret, step)? {
                        return Ok(Err(CodeError::NotExpected));
                    }
                    let codes = recovery_codes::replace(conn, user.id, now)?;
                    record(conn, &user, &address, AuditAction::TwoFactorEnabled, now)?;
                    Ok::<_, DbError>(Ok(codes))
                })
            })
            .await
            .map_err(CodeError::from)?
    }

    /// Turns two-factor sign-in off, given a current code (or a recovery
    /// code): a session left open must not be enough. Under the throttle.
    pub async fn disable(
        &self,
        user: User,
        code: String,
        address: String,
    ) -> Result<(), CodeError> {
        let scope = LoginThrottle::scope(&address, &user.username);
        let (attempt, _) = self
            .sign_in
            .admit(&scope, user.username.clone(), Audience::Staff)
            .await?;
        let domain = self.domain.clone();
        self.domain
            .db
            .call(move |conn| {
                conn.transaction(|conn| {
                    let now = clock::now();
                    // A write first (SQLite), and it is the refusal's write too.
                    domain.throttle.fail(conn, attempt)?;
                    if use_code(conn, &domain, &user, &code)?.is_none() {
                        return Ok(Err(CodeError::Refused));
                    }
                    totp::remove(conn, user.id)?;
                    domain.throttle.clear(conn, &scope, attempt)?;
                    record(conn, &user, &address, AuditAction::TwoFactorDisabled, now)?;
                    Ok::<_, DbError>(Ok(()))
                })
            })
            .await
            .map_err(CodeError::from)?
    }
}

/// An account-page action on one's own two-factor sign-in, audited.
fn record(
    conn: &mut DbConnection,
    user: &User,
    address: &str,
    action: AuditAction,
    now: chrono::NaiveDateTime,
) -> Result<(), DbError> {
    let subject = Subject {
        id: user.id,
        username: &user.username,
    };
    let origin = Origin::staff(&user.username, address);
    audit::record(conn, &origin, action, Some(subject), "", now)
}

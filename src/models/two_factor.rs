//! Two-factor sign-in with TOTP (RFC 6238: HMAC-SHA-1, 6 digits, 30 s
//! steps, one step of tolerance either side), computed by `totp-rs`. The
//! secret is stored sealed (under its own key, the user id as associated
//! data); the last accepted step is kept so that no step is accepted twice.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use rand::TryRng;
use rand::rngs::SysRng;
use totp_rs::{Algorithm, Secret, Totp};
use zeroize::Zeroizing;

use super::UserId;
use crate::crypto::Sealer;
use crate::db::{DbConnection, DbError};
use crate::schema::two_factor;

/// The issuer authenticator apps show beside the account.
pub const ISSUER: &str = "authtoken";
const SECRET_LEN: usize = 20;

/// A TOTP secret, only ever in memory. No `Debug`.
pub struct TotpSecret(Zeroizing<Vec<u8>>);

impl TotpSecret {
    /// 160 bits from the OS CSPRNG (RFC 4226's recommended length).
    pub fn generate() -> TotpSecret {
        let mut bytes = Zeroizing::new(vec![0u8; SECRET_LEN]);
        SysRng
            .try_fill_bytes(&mut bytes)
            .expect("the operating system's random generator failed");
        TotpSecret(bytes)
    }

    fn totp(&self, account: &str) -> Totp {
        // A colon would split issuer from account in the URI.
        let account = account.replace(':', "_");
        totp_rs::Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(6)
            .with_skew(1)
            .with_step_duration(30)
            .with_secret(self.0.to_vec())
            .with_issuer(Some(ISSUER))
            .with_account_name(if account.is_empty() {
                "-".into()
            } else {
                account
            })
            .build_noncompliant()
    }

    /// The secret as authenticator apps take it typed in: base32, no padding.
    pub fn base32(&self) -> String {
        Secret::from(self.0.to_vec()).to_base32()
    }

    /// The `otpauth://totp/…` URI the QR code holds.
    pub fn uri(&self, account: &str) -> String {
        self.totp(account)
            .to_url()
            .unwrap_or_else(|_| format!("otpauth://totp/{ISSUER}?secret={}", self.base32()))
    }

    /// The time step `code` is valid for at `unix_time`, within one step
    /// either side; `None` if it is not a current code.
    pub fn check(&self, code: &str, unix_time: u64) -> Option<i64> {
        let code = code.trim();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        self.totp("-")
            .check(code, unix_time)
            .and_then(|step| i64::try_from(step).ok())
    }

    /// The code for `unix_time` (tests, and the enrolment's own check).
    pub fn code_at(&self, unix_time: u64) -> String {
        self.totp("-").generate(unix_time).to_string()
    }

    pub fn seal(&self, sealer: &Sealer, user: UserId) -> String {
        sealer.seal(&self.0, user.get())
    }

    pub fn unseal(sealer: &Sealer, sealed: &str, user: UserId) -> Option<TotpSecret> {
        sealer
            .unseal(sealed, user.get())
            .map(|bytes| TotpSecret(Zeroizing::new(bytes)))
    }
}

#[derive(Clone, Queryable, Selectable)]
#[diesel(table_name = two_factor)]
pub struct TwoFactorRow {
    pub user_id: UserId,
    pub sealed_secret: String,
    pub enabled: bool,
    pub last_step: Option<i64>,
    pub created: NaiveDateTime,
}

pub fn find(conn: &mut DbConnection, user: UserId) -> Result<Option<TwoFactorRow>, DbError> {
    Ok(two_factor::table
        .find(user)
        .select(TwoFactorRow::as_select())
        .first(conn)
        .optional()?)
}

/// Starts an enrolment with a new (sealed) secret, replacing one not yet
/// confirmed. `false`, and nothing changed, when two-factor sign-in is
/// already on.
pub fn start(
    conn: &mut DbConnection,
    user: UserId,
    sealed_secret: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    conn.transaction(|conn| {
        // Delete first: on SQLite the transaction then holds the write lock.
        diesel::delete(
            two_factor::table
                .find(user)
                .filter(two_factor::enabled.eq(false)),
        )
        .execute(conn)?;
        if find(conn, user)?.is_some() {
            return Ok(false);
        }
        diesel::insert_into(two_factor::table)
            .values((
                two_factor::user_id.eq(user),
                two_factor::sealed_secret.eq(sealed_secret),
                two_factor::enabled.eq(false),
                two_factor::last_step.eq(None::<i64>),
                two_factor::created.eq(now),
            ))
            .execute(conn)?;
        Ok(true)
    })
}

/// Turns it on, the confirming code's step counting as used, if the
/// enrolment waiting is still the one with `sealed_secret`; `false` if not.
pub fn enable(
    conn: &mut DbConnection,
    user: UserId,
    sealed_secret: &str,
    step: i64,
) -> Result<bool, DbError> {
    let changed = diesel::update(
        two_factor::table
            .find(user)
            .filter(two_factor::enabled.eq(false))
            .filter(two_factor::sealed_secret.eq(sealed_secret)),
    )
    .set((
        two_factor::enabled.eq(true),
        two_factor::last_step.eq(Some(step)),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Accepts `step` unless it (or a later one) was accepted before: one
/// conditional update, so two requests with the same code cannot both pass.
pub fn accept_step(conn: &mut DbConnection, user: UserId, step: i64) -> Result<bool, DbError> {
    let changed = diesel::update(
        two_factor::table
            .find(user)
            .filter(two_factor::enabled.eq(true))
            .filter(
                two_factor::last_step
                    .is_null()
                    .or(two_factor::last_step.lt(step)),
            ),
    )
    .set(two_factor::last_step.eq(Some(step)))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Turns it off (and forgets any enrolment and the recovery codes);
/// whether it was on. Writes only, so it may open a transaction on SQLite.
pub fn remove(conn: &mut DbConnection, user: UserId) -> Result<bool, DbError> {
    let was_on = diesel::delete(
        two_factor::table
            .find(user)
            .filter(two_factor::enabled.eq(true)),
    )
    .execute(conn)?
        == 1;
    diesel::delete(two_factor::table.find(user)).execute(conn)?;
    super::recovery_codes::delete_all(conn, user)?;
    Ok(was_on)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_sha1_vectors() {
        // RFC 6238, appendix B: the ASCII secret "12345678901234567890";
        // the 8-digit codes' last 6 digits are the 6-digit codes.
        let secret = TotpSecret(Zeroizing::new(b"12345678901234567890".to_vec()));
        assert_eq!(secret.code_at(59), "287082");
        assert_eq!(secret.code_at(1_111_111_109), "081804");
        assert_eq!(secret.code_at(1_234_567_890), "005924");
        assert_eq!(secret.base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    }

    #[test]
    fn one_step_either_side() {
        let secret = TotpSecret::generate();
        let t = 1_800_000_000u64;
        let step = (t / 30) as i64;
        assert_eq!(secret.check(&secret.code_at(t), t), Some(step));
        assert_eq!(secret.check(&secret.code_at(t - 30), t), Some(step - 1));
        assert_eq!(secret.check(&secret.code_at(t + 30), t), Some(step + 1));
        assert_eq!(secret.check(&secret.code_at(t - 60), t), None);
        assert_eq!(secret.check(&secret.code_at(t + 60), t), None);
        assert_eq!(secret.check("12345", t), None);
        assert_eq!(secret.check("abcdef", t), None);
    }

    #[test]
    fn the_uri_names_issuer_account_and_secret() {
        let secret = TotpSecret::generate();
        let uri = secret.uri("ad:min");
        assert!(uri.starts_with("otpauth://totp/"), "{uri}");
        assert!(
            uri.contains(&format!("secret={}", secret.base32())),
            "{uri}"
        );
        assert!(uri.contains("issuer=authtoken"), "{uri}");
        assert!(uri.contains("ad_min"), "{uri}");
    }
}

//! The sign-in throttle: at most `rate.count` failed attempts per
//! `rate.period` for one client address and username, shared by every
//! server process through the database, and counted before the password
//! is checked (see `models::login_failures`).

use chrono::TimeDelta;

use crate::db::{DbConnection, DbError};
use crate::models::clock;
use crate::models::login_failures::{self, AttemptId, Reservation};
use crate::settings::Rate;

#[derive(Debug, Clone)]
pub struct LoginThrottle {
    rate: Rate,
}

/// Whether an attempt may check its password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Counted as pending: report the outcome with `fail`, `clear` or
    /// `release`.
    Admitted(AttemptId),
    /// Refused: retry after this many seconds (at least 1).
    Throttled(u64),
    /// Attempts of the same scope being checked right now hold the rest of
    /// the allowance: ask again in a moment.
    Wait,
}

impl LoginThrottle {
    pub fn new(rate: Rate) -> LoginThrottle {
        LoginThrottle { rate }
    }

    /// The scope attempts are counted in.
    pub fn scope(client: &str, username: &str) -> String {
        format!("{client}\u{1f}{username}")
    }

    fn window(&self) -> TimeDelta {
        TimeDelta::from_std(self.rate.period).unwrap_or(TimeDelta::MAX)
    }

    /// Counts an attempt before its password is checked, atomically: of N
    /// parallel attempts at most the remaining allowance is admitted.
    pub fn admit(&self, conn: &mut DbConnection, scope: &str) -> Result<Admission, DbError> {
        let now = clock::now();
        let since = now - self.window();
        Ok(
            match login_failures::reserve(conn, scope, now, since, self.rate.count)? {
                Reservation::Granted(attempt) => Admission::Admitted(attempt),
                Reservation::InFlight => Admission::Wait,
                Reservation::Full { oldest } => {
                    let remaining = (oldest + self.window()) - now;
                    let micros = remaining.num_microseconds().unwrap_or(0).max(0) as u64;
                    Admission::Throttled(micros.div_ceil(1_000_000).max(1))
                }
            },
        )
    }

    /// The password was wrong: the attempt counts as a failure.
    pub fn fail(&self, conn: &mut DbConnection, attempt: AttemptId) -> Result<(), DbError> {
        login_failures::fail(conn, attempt)
    }

    /// The password was never checked: the attempt does not count.
    pub fn release(&self, conn: &mut DbConnection, attempt: AttemptId) -> Result<(), DbError> {
        login_failures::release(conn, attempt)
    }

    /// A successful sign-in forgets the scope's failures.
    pub fn clear(
        &self,
        conn: &mut DbConnection,
        scope: &str,
        attempt: AttemptId,
    ) -> Result<(), DbError> {
        login_failures::clear(conn, scope, attempt)
    }
}

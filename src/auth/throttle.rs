//! Sign-in throttling: failures per (client address, username) within a
//! sliding window, in the database. While a scope is over the limit even the
//! right password is refused, until the oldest failure leaves the window.

use chrono::TimeDelta;

use crate::db::{DbConnection, DbError};
use crate::models::{clock, login_failures};
use crate::settings::Rate;

#[derive(Debug, Clone)]
pub struct LoginThrottle {
    rate: Rate,
}

impl LoginThrottle {
    pub fn new(rate: Rate) -> LoginThrottle {
        LoginThrottle { rate }
    }

    pub fn scope(client: &str, username: &str) -> String {
        format!("{client}\u{1f}{username}")
    }

    fn window(&self) -> TimeDelta {
        TimeDelta::from_std(self.rate.period).unwrap_or(TimeDelta::MAX)
    }

    /// `Some(seconds to wait)` when the scope is over its limit.
    pub fn check(&self, conn: &mut DbConnection, scope: &str) -> Result<Option<u64>, DbError> {
        let now = clock::now();
        let (count, oldest) = login_failures::recent(conn, scope, now - self.window())?;
        if count < i64::from(self.rate.count) {
            return Ok(None);
        }
        let oldest = oldest.unwrap_or(now);
        let remaining = (oldest + self.window()) - now;
        // DRF rounds the wait up to whole seconds.
        let micros = remaining.num_microseconds().unwrap_or(0).max(0) as u64;
        Ok(Some(micros.div_ceil(1_000_000).max(1)))
    }

    pub fn record_failure(&self, conn: &mut DbConnection, scope: &str) -> Result<(), DbError> {
        let now = clock::now();
        login_failures::record(conn, scope, now, now - self.window())
    }

    pub fn clear(&self, conn: &mut DbConnection, scope: &str) -> Result<(), DbError> {
        login_failures::clear(conn, scope)
    }
}

//! Who presented a key: what a request needs of the user and of the token,
//! as the token check reads them on every authenticated request. Fewer
//! columns than [`User`](super::User) and [`TokenRow`](super::TokenRow) (no
//! password hash, no sealed key), and SQLite's text timestamps read without
//! chrono's format parser: both showed in the profile of `me/`
//! (BENCHMARKS.md, issue 14).

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::Timestamp;
use diesel::sqlite::Sqlite;

use super::{Scope, Scopes, TokenId, UserId};
use crate::schema::{tokens, users};

/// A timestamp column read for the token check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, FromSqlRow)]
pub struct Time(pub NaiveDateTime);

impl FromSql<Timestamp, Sqlite> for Time {
    fn from_sql(
        mut value: <Sqlite as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        if let Some(t) = parse_sqlite_time(value.read_text()) {
            return Ok(Time(t));
        }
        // Any other shape diesel accepts.
        <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value).map(Time)
    }
}

impl FromSql<Timestamp, Pg> for Time {
    fn from_sql(
        value: <Pg as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(Time)
    }
}

/// `YYYY-MM-DD HH:MM:SS[.ffffff]`, as diesel writes a timestamp to SQLite;
/// `None` for anything else.
fn parse_sqlite_time(text: &str) -> Option<NaiveDateTime> {
    let b = text.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b' '
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    let nanos = match &b[19..] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            let n = num(20..b.len())?;
            n * 10u32.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    let time = NaiveTime::from_hms_nano_opt(num(11..13)?, num(14..16)?, num(17..19)?, nanos)?;
    Some(date.and_time(time))
}

/// The user who presented the key.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct CallerUser {
    pub id: UserId,
    pub username: String,
    pub email: String,
    pub is_active: bool,
    pub is_staff: bool,
    pub date_joined: Time,
}

/// The token the key belongs to: the DRF token or a named one.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tokens)]
pub struct CallerToken {
    pub id: TokenId,
    pub user_id: UserId,
    pub is_primary: bool,
    pub name: Option<String>,
    pub scopes: Scopes,
    pub last_used: Option<Time>,
    pub expires: Option<Time>,
}

impl CallerToken {
    /// Whether the token holds `scope`: the DRF token holds every one.
    pub fn holds(&self, scope: &Scope) -> bool {
        self.is_primary || self.scopes.contains(scope)
    }

    /// Whether the token holds every one of `scopes`.
    pub fn holds_all(&self, scopes: &Scopes) -> bool {
        self.is_primary || scopes.is_subset(&self.scopes)
    }

    pub fn expires_at(&self) -> Option<NaiveDateTime> {
        self.expires.map(|t| t.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_times_as_diesel_writes_them() {
        let t = |s: &str| parse_sqlite_time(s).map(|t| t.format("%F %T%.f").to_string());
        assert_eq!(
            t("2026-12-03 09:22:54.341764").as_deref(),
            Some("2026-12-03 09:22:54.341764")
        );
        assert_eq!(
            t("2026-12-03 09:22:54").as_deref(),
            Some("2026-12-03 09:22:54")
        );
        assert_eq!(
            t("2026-12-03 09:22:54.5").as_deref(),
            Some("2026-12-03 09:22:54.500")
        );
        assert_eq!(
            t("1970-01-01 00:00:00.000000001").as_deref(),
            Some("1970-01-01 00:00:00.000000001")
        );
        // What diesel's own parser must read.
        for other in [
            "2026-12-03T09:22:54",
            "2026-12-03 09:22",
            "2026-12-03 09:22:54Z",
            "2026-12-03 09:22:54.",
            "2026-13-03 09:22:54",
            "2026-12-03 25:22:54",
            "2026-12-03 09:22:54.1234567890",
            "x026-12-03 09:22:54",
            "",
        ] {
            assert_eq!(parse_sqlite_time(other), None, "{other:?}");
        }
        // The same instant as chrono reads it, to the nanosecond.
        let s = "2026-02-28 23:59:59.999999";
        assert_eq!(
            parse_sqlite_time(s),
            NaiveDateTime::parse_from_str(s, "%F %T%.f").ok()
        );
    }
}

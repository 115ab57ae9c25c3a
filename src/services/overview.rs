//! The admin's overview: how many users, staff and tokens there are, and
//! the sign-ins (API and admin) per hour over the last week.

use std::sync::Arc;

use chrono::{Duration, NaiveDateTime};

use super::{Domain, Failure};
use crate::models::activity::{self, hour_of};
use crate::models::stats::{self, Counts};

/// How many hours the chart covers: 7 days.
pub const HOURS: i64 = 7 * 24;

/// Sign-ins in one UTC hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HourCount {
    /// The hour's start.
    pub hour: NaiveDateTime,
    pub ok: i64,
    pub failed: i64,
}

pub struct Overview {
    pub counts: Counts,
    /// `HOURS` hours, oldest first, the current (unfinished) hour last.
    pub hours: Vec<HourCount>,
    /// Sums over the last 24 of `hours` (the current hour and the 23 before).
    pub last_day_ok: i64,
    pub last_day_failed: i64,
}

/// Every one of the `HOURS` hours up to `now`'s, zero where `rows` (as
/// `activity::since` reads them) has none.
pub fn hourly(rows: &[(NaiveDateTime, i32, i32)], now: NaiveDateTime) -> Vec<HourCount> {
    let last = hour_of(now);
    let first = last - Duration::hours(HOURS - 1);
    let mut hours: Vec<HourCount> = (0..HOURS)
        .map(|i| HourCount {
            hour: first + Duration::hours(i),
            ok: 0,
            failed: 0,
        })
        .collect();
    for (hour, ok, failed) in rows {
        let index = (*hour - first).num_hours();
        if let Some(slot) = usize::try_from(index).ok().and_then(|i| hours.get_mut(i)) {
            slot.ok += i64::from(*ok);
            slot.failed += i64::from(*failed);
        }
    }
    hours
}

#[derive(Clone)]
pub struct Overviews {
    domain: Arc<Domain>,
}

impl Overviews {
    pub fn new(domain: Arc<Domain>) -> Overviews {
        Overviews { domain }
    }

    /// The overview as of `now`.
    pub async fn read(&self, now: NaiveDateTime) -> Result<Overview, Failure> {
        self.domain
            .db
            .call(move |conn| {
                let counts = stats::counts(conn)?;
                let since = hour_of(now) - Duration::hours(HOURS - 1);
                let hours = hourly(&activity::since(conn, since)?, now);
                let day = &hours[hours.len() - 24..];
                Ok(Overview {
                    counts,
                    last_day_ok: day.iter().map(|h| h.ok).sum(),
                    last_day_failed: day.iter().map(|h| h.failed).sum(),
                    hours,
                })
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(d: u32, h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, d)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap()
    }

    #[test]
    fn every_hour_of_the_week_oldest_first() {
        let now = at(10, 12, 34);
        let rows = [
            (at(3, 13, 0), 1, 2),
            (at(10, 12, 0), 5, 0),
            (at(3, 12, 0), 9, 9),
        ];
        let hours = hourly(&rows, now);
        assert_eq!(hours.len(), 168);
        assert_eq!(hours[0].hour, at(3, 13, 0));
        assert_eq!((hours[0].ok, hours[0].failed), (1, 2));
        assert_eq!(hours[167].hour, at(10, 12, 0));
        assert_eq!((hours[167].ok, hours[167].failed), (5, 0));
        // The hour before the window is left out.
        assert_eq!(hours.iter().map(|h| h.ok).sum::<i64>(), 6);
    }
}

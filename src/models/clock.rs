//! Time as the database stores it: naive UTC, to the microsecond (the
//! precision both backends keep, so a value reads back as it was written).

use chrono::{Datelike, NaiveDateTime, SubsecRound, Timelike, Utc};

pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// DRF's `DateTimeField` output: Python's `isoformat()` with `Z` for UTC,
/// which leaves out the fraction when it is zero.
pub fn drf_datetime(t: &NaiveDateTime) -> String {
    use std::fmt::Write as _;
    // Written field by field: `format()` parses its pattern at every call,
    // which showed in the profile of `me/`.
    let (date, time) = (t.date(), t.time());
    let mut out = String::with_capacity(27);
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        date.year(),
        date.month(),
        date.day(),
        time.hour(),
        time.minute(),
        time.second()
    );
    let micros = t.and_utc().timestamp_subsec_micros();
    if micros != 0 {
        let _ = write!(out, ".{micros:06}");
    }
    out.push('Z');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn drf_format() {
        let t = NaiveDate::from_ymd_opt(2026, 11, 28)
            .unwrap()
            .and_hms_micro_opt(14, 11, 12, 182073)
            .unwrap();
        assert_eq!(drf_datetime(&t), "2026-11-28T14:11:12.182073Z");
        let t = NaiveDate::from_ymd_opt(2026, 11, 28)
            .unwrap()
            .and_hms_micro_opt(14, 11, 12, 7)
            .unwrap();
        assert_eq!(drf_datetime(&t), "2026-11-28T14:11:12.000007Z");
        let t = NaiveDate::from_ymd_opt(2026, 1, 2)
            .unwrap()
            .and_hms_opt(3, 4, 5)
            .unwrap();
        assert_eq!(drf_datetime(&t), "2026-01-02T03:04:05Z");
    }

    #[test]
    fn now_is_whole_microseconds() {
        assert_eq!(now().and_utc().timestamp_subsec_nanos() % 1000, 0);
    }
}

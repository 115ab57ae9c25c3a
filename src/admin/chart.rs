//! The overview's chart of sign-ins per hour: where each bar, tick and
//! label goes, computed here so that the template only places them. Drawn
//! as inline SVG (no script, no inline styles: the CSP allows neither);
//! colours come from classes in `static/admin.css`.

use chrono::Timelike;

use crate::services::HourCount;

/// The drawing's size in SVG units; it scales to the page's width.
pub const WIDTH: f64 = 760.0;
pub const HEIGHT: f64 = 280.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 44.0;
const BOTTOM: f64 = 48.0;
/// Room a day's label ("Thu 03 Dec") needs at the chart's font size.
const DAY_LABEL: f64 = 64.0;

pub struct Bar {
    pub x: String,
    pub width: String,
    pub ok_y: String,
    pub ok_height: String,
    pub failed_y: String,
    pub failed_height: String,
    /// What a pointer over the bar shows.
    pub title: String,
}

pub struct Tick {
    /// The tick's position along its axis.
    pub at: String,
    pub label: String,
}

pub struct Chart {
    pub bars: Vec<Bar>,
    pub y_ticks: Vec<Tick>,
    /// Midnights (UTC): a line each, unlabelled.
    pub midnights: Vec<String>,
    /// Each day's name in the middle of its part of the chart, where
    /// there is room for it.
    pub days: Vec<Tick>,
    pub left: String,
    pub right: String,
    pub top: String,
    pub bottom: String,
    /// The middle of the plot, for the axis titles.
    pub middle_x: String,
    pub middle_y: String,
}

fn n(v: f64) -> String {
    format!("{v:.1}")
}

/// The smallest 1, 2 or 5 × 10ⁿ step that covers `max` in at most 5 steps.
fn step_for(max: i64) -> i64 {
    let mut magnitude = 1;
    loop {
        for factor in [1, 2, 5] {
            let step = factor * magnitude;
            if max <= step * 5 {
                return step;
            }
        }
        magnitude *= 10;
    }
}

/// Lays out `hours` (oldest first) as stacked bars: successful sign-ins at
/// the bottom, failed ones on top.
pub fn layout(hours: &[HourCount]) -> Chart {
    let highest = hours.iter().map(|h| h.ok + h.failed).max().unwrap_or(0);
    let step = step_for(highest.max(1));
    let top_value = (highest.max(1) + step - 1) / step * step;
    let (plot_w, plot_h) = (WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
    let bottom = TOP + plot_h;
    let slot = plot_w / hours.len().max(1) as f64;
    let scale = |v: i64| v as f64 / top_value as f64 * plot_h;
    let bars = hours
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let (ok_h, failed_h) = (scale(h.ok), scale(h.failed));
            Bar {
                x: n(LEFT + i as f64 * slot + slot * 0.1),
                width: n(slot * 0.8),
                ok_y: n(bottom - ok_h),
                ok_height: n(ok_h),
                failed_y: n(bottom - ok_h - failed_h),
                failed_height: n(failed_h),
                title: format!(
                    "{}: {} sign-ins, {} failed",
                    h.hour.format("%a %d %b %H:00 UTC"),
                    h.ok,
                    h.failed
                ),
            }
        })
        .collect();
    let y_ticks = (0..=top_value / step)
        .map(|k| Tick {
            at: n(bottom - scale(k * step)),
            label: super::view::count(k * step),
        })
        .collect();
    // Where each day starts: the chart's left edge, then every midnight.
    let mut starts: Vec<(f64, chrono::NaiveDateTime)> = hours
        .iter()
        .enumerate()
        .filter(|(i, h)| *i == 0 || h.hour.hour() == 0)
        .map(|(i, h)| (LEFT + i as f64 * slot, h.hour))
        .collect();
    let midnights = starts
        .iter()
        .filter(|(_, hour)| hour.hour() == 0)
        .map(|(at, _)| n(*at))
        .collect();
    starts.push((WIDTH - RIGHT, chrono::NaiveDateTime::MAX));
    let days = starts
        .windows(2)
        .filter(|w| w[1].0 - w[0].0 >= DAY_LABEL)
        .map(|w| Tick {
            at: n((w[0].0 + w[1].0) / 2.0),
            label: w[0].1.format("%a %d %b").to_string(),
        })
        .collect();
    Chart {
        bars,
        y_ticks,
        midnights,
        days,
        left: n(LEFT),
        right: n(WIDTH - RIGHT),
        top: n(TOP),
        bottom: n(bottom),
        middle_x: n(LEFT + plot_w / 2.0),
        middle_y: n(TOP + plot_h / 2.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn steps_are_round() {
        assert_eq!(step_for(1), 1);
        assert_eq!(step_for(5), 1);
        assert_eq!(step_for(6), 2);
        assert_eq!(step_for(11), 5);
        assert_eq!(step_for(26), 10);
        assert_eq!(step_for(12_345), 5_000);
    }

    #[test]
    fn bars_stack_and_days_are_marked() {
        let start = NaiveDate::from_ymd_opt(2026, 12, 2)
            .unwrap()
            .and_hms_opt(22, 0, 0)
            .unwrap();
        let hours: Vec<HourCount> = (0..4)
            .map(|i| HourCount {
                hour: start + chrono::Duration::hours(i),
                ok: i * 2,
                failed: i,
            })
            .collect();
        let chart = layout(&hours);
        assert_eq!(chart.bars.len(), 4);
        // 3 + 6 = 9 at most: steps of 2 up to 10.
        let labels: Vec<&str> = chart.y_ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["0", "2", "4", "6", "8", "10"]);
        let last = &chart.bars[3];
        let ok_top: f64 = last.ok_y.parse().unwrap();
        let failed_bottom: f64 =
            last.failed_y.parse::<f64>().unwrap() + last.failed_height.parse::<f64>().unwrap();
        assert!((ok_top - failed_bottom).abs() < 0.11, "stacked");
        assert_eq!(chart.bars[0].ok_height, "0.0");
        assert!(
            last.title.contains("6 sign-ins, 3 failed"),
            "{}",
            last.title
        );
        assert_eq!(chart.midnights.len(), 1);
        let days: Vec<&str> = chart.days.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(days, ["Wed 02 Dec", "Thu 03 Dec"]);
        // A week from Thu 26 Nov 02:00 to Thu 03 Dec 01:00: the last day's
        // one hour has no room for its name, the first day's 22 have.
        let week: Vec<HourCount> = (0..168)
            .map(|i| HourCount {
                hour: start + chrono::Duration::hours(i - 164),
                ok: 0,
                failed: 0,
            })
            .collect();
        let chart = layout(&week);
        assert_eq!(chart.midnights.len(), 7);
        let days: Vec<&str> = chart.days.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(days.len(), 7, "{days:?}");
        assert_eq!(days[0], "Thu 26 Nov");
        assert_eq!(days[6], "Wed 02 Dec");
        // Nothing yet: one step up to 1.
        assert_eq!(chart.y_ticks.len(), 2);
    }
}

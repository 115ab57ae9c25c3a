//! `GET /admin/`: the overview. Counts of users, active users, staff and
//! tokens; sign-ins and failed ones (API and admin) over the last 24 hours;
//! and a chart of both per hour over the last 7 days, with the same numbers
//! in a table.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::AdminError;
use super::chart::{self, Chart};
use super::guard::{self, require_staff};
use super::page::{Chrome, html};
use super::session::AdminSession;
use super::view::count;
use crate::models::clock;
use crate::state::AppState;

/// One hour of the table under the chart.
pub struct HourRow {
    pub hour: String,
    pub ok: i64,
    pub failed: i64,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    chrome: Chrome,
    users: String,
    active: String,
    staff: String,
    tokens: String,
    sign_ins: String,
    failed: String,
    chart: Chart,
    width: f64,
    height: f64,
    /// Newest first, as one reads a log.
    rows: Vec<HourRow>,
    week_ok: String,
    week_failed: String,
}

pub async fn show(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AdminError> {
    let session = AdminSession::new(session);
    let staff = require_staff(&session, &state, guard::here(&req)).await?;
    let overview = state.services.overview.read(clock::now()).await?;
    let counts = overview.counts;
    let rows = overview
        .hours
        .iter()
        .rev()
        .map(|h| HourRow {
            hour: h.hour.format("%a %d %b %H:00").to_string(),
            ok: h.ok,
            failed: h.failed,
        })
        .collect();
    let page = OverviewPage {
        chrome: Chrome {
            staff: Some(staff.user.username),
            csrf: staff.csrf,
            flashes: session.take_flashes(),
        },
        users: count(counts.users),
        active: count(counts.active),
        staff: count(counts.staff),
        tokens: count(counts.tokens),
        sign_ins: count(overview.last_day_ok),
        failed: count(overview.last_day_failed),
        chart: chart::layout(&overview.hours),
        width: chart::WIDTH,
        height: chart::HEIGHT,
        rows,
        week_ok: count(overview.hours.iter().map(|h| h.ok).sum()),
        week_failed: count(overview.hours.iter().map(|h| h.failed).sum()),
    };
    html(StatusCode::OK, &page)
}

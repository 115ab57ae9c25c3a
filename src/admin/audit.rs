//! `GET /admin/audit/?actor=&action=&user=&page=N`: the audit trail, newest
//! first, 50 a page, narrowed by who acted, what they did and to whom.
//!
//! An unknown `action` or a `page` that is not a whole number from 1 gets a
//! 400: the page with the filter form and a message saying what was wrong,
//! and no rows (a silently ignored filter would show events it was meant to
//! hide). A page past the end shows the last page, as the users list does.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::AdminError;
use super::guard::{self, require_staff};
use super::page::{Chrome, html};
use super::session::AdminSession;
use super::view::{count, time, user_url};
use crate::models::audit::{AuditAction, AuditEvent, CLI, Filter};
use crate::state::AppState;

pub const AUDIT_PATH: &str = "/admin/audit/";
pub const PER_PAGE: i64 = 50;
/// Longer usernames are cut to this many characters (no username is longer).
const MAX_NAME_CHARS: usize = 150;

#[derive(Default, Deserialize)]
struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    page: String,
}

/// The filters as typed, kept in the form and the pagination links.
#[derive(Clone, Default)]
struct Typed {
    actor: String,
    action: String,
    user: String,
}

impl Typed {
    fn is_empty(&self) -> bool {
        self.actor.is_empty() && self.action.is_empty() && self.user.is_empty()
    }
}

pub struct EventRow {
    pub at: String,
    pub actor: String,
    pub action: &'static str,
    /// The user acted on as named then; empty when the action had none.
    pub username: String,
    /// Their page, while the user exists.
    pub user_url: Option<String>,
    pub address: String,
    pub detail: String,
    /// The command line rather than a staff member.
    pub by_cli: bool,
}

impl EventRow {
    fn of(event: AuditEvent) -> EventRow {
        EventRow {
            at: time(&event.at),
            by_cli: event.actor == CLI && event.address == CLI,
            actor: event.actor,
            action: event.action.as_str(),
            user_url: event.user_id.map(user_url),
            username: event.username,
            address: event.address,
            detail: event.detail,
        }
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    typed: Typed,
    actions: Vec<&'static str>,
    /// Why the request was refused (400), if it was.
    error: Option<String>,
    events: Vec<EventRow>,
    total: String,
    first: String,
    last: String,
    page: i64,
    pages: i64,
    previous_url: Option<String>,
    next_url: Option<String>,
}

/// The page's URL for the filters and a page; empty filters and page 1 are
/// left out.
fn audit_url(typed: &Typed, page: i64) -> String {
    let mut params: Vec<(&str, String)> = Vec::new();
    for (name, value) in [
        ("actor", &typed.actor),
        ("action", &typed.action),
        ("user", &typed.user),
    ] {
        if !value.is_empty() {
            params.push((name, value.clone()));
        }
    }
    if page > 1 {
        params.push(("page", page.to_string()));
    }
    if params.is_empty() {
        return AUDIT_PATH.to_string();
    }
    let query = serde_urlencoded::to_string(&params).unwrap_or_default();
    format!("{AUDIT_PATH}?{query}")
}

/// The filter and the page asked for, or what is wrong with them.
fn parse(typed: &Typed, page: &str) -> Result<(Filter, i64), String> {
    let action = match typed.action.as_str() {
        "" => None,
        name => Some(AuditAction::parse(name).ok_or_else(|| {
            format!(
                "Unknown action “{name}”. Choose one of: {}.",
                AuditAction::ALL.map(AuditAction::as_str).join(", ")
            )
        })?),
    };
    let page =
        match page.trim() {
            "" => 1,
            raw => raw.parse::<i64>().ok().filter(|p| *p >= 1).ok_or_else(|| {
                format!("“{raw}” is not a page number: pages are counted from 1.")
            })?,
        };
    let name = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let filter = Filter {
        actor: name(&typed.actor),
        action,
        username: name(&typed.user),
    };
    Ok((filter, page))
}

fn page_count(total: i64) -> i64 {
    ((total + PER_PAGE - 1) / PER_PAGE).max(1)
}

pub async fn list(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AdminError> {
    let session = AdminSession::new(session);
    let staff = require_staff(&session, &state, guard::here(&req)).await?;
    let query: AuditQuery = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let cut = |s: &str| s.trim().chars().take(MAX_NAME_CHARS).collect::<String>();
    let typed = Typed {
        actor: cut(&query.actor),
        action: cut(&query.action),
        user: cut(&query.user),
    };
    let mut view = AuditPage {
        chrome: Chrome {
            staff: Some(staff.user.username),
            csrf: staff.csrf,
            flashes: session.take_flashes(),
        },
        typed: typed.clone(),
        actions: AuditAction::ALL.map(AuditAction::as_str).to_vec(),
        error: None,
        events: Vec::new(),
        total: "0".into(),
        first: "0".into(),
        last: "0".into(),
        page: 1,
        pages: 1,
        previous_url: None,
        next_url: None,
    };
    let (filter, wanted) = match parse(&typed, &query.page) {
        Ok(parsed) => parsed,
        Err(message) => {
            view.error = Some(message);
            return html(StatusCode::BAD_REQUEST, &view);
        }
    };
    let found = state.services.audit.list(filter, wanted, PER_PAGE).await?;
    let (page, total) = (found.page, found.total);
    let pages = page_count(total);
    let shown = found.events.len() as i64;
    let first = if shown == 0 {
        0
    } else {
        (page - 1) * PER_PAGE + 1
    };
    view.events = found.events.into_iter().map(EventRow::of).collect();
    view.total = count(total);
    view.first = count(first);
    view.last = count(if shown == 0 { 0 } else { first + shown - 1 });
    view.page = page;
    view.pages = pages;
    view.previous_url = (page > 1).then(|| audit_url(&typed, page - 1));
    view.next_url = (page < pages).then(|| audit_url(&typed, page + 1));
    html(StatusCode::OK, &view)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(actor: &str, action: &str, user: &str) -> Typed {
        Typed {
            actor: actor.into(),
            action: action.into(),
            user: user.into(),
        }
    }

    #[test]
    fn urls_keep_the_filters() {
        assert_eq!(audit_url(&Typed::default(), 1), "/admin/audit/");
        assert_eq!(audit_url(&Typed::default(), 2), "/admin/audit/?page=2");
        assert_eq!(
            audit_url(&typed("ad min", "token_revoked", "zoë"), 3),
            "/admin/audit/?actor=ad+min&action=token_revoked&user=zo%C3%AB&page=3"
        );
    }

    #[test]
    fn filters_and_pages() {
        let (filter, page) = parse(&typed("cli", "2fa_enabled", ""), "").unwrap();
        assert_eq!(filter.actor.as_deref(), Some("cli"));
        assert_eq!(filter.action, Some(AuditAction::TwoFactorEnabled));
        assert_eq!(filter.username, None);
        assert_eq!(page, 1);
        assert_eq!(parse(&Typed::default(), " 7 ").unwrap().1, 7);
        let unknown = parse(&typed("", "nope", ""), "").unwrap_err();
        assert!(unknown.contains("Unknown action “nope”"), "{unknown}");
        assert!(unknown.contains("token_created"), "{unknown}");
        for bad in ["0", "-1", "two", "1.5"] {
            assert!(parse(&Typed::default(), bad).is_err(), "{bad}");
        }
    }
}

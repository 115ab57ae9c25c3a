//! `GET /admin/users/<id>/`: one user's profile, token state and token
//! events (newest first), with the action buttons.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::AdminError;
use super::guard::{self, Staff, require_staff};
use super::page::{Chrome, html};
use super::session::{AdminSession, Flash};
use super::view::{NamedTokenView, UserView, time};
use crate::models::{TokenKey, UserId, clock};
use crate::services::UserDetail;
use crate::state::AppState;

/// How many token events the page lists.
pub const EVENTS_SHOWN: i64 = 100;

pub struct EventView {
    pub kind: String,
    pub actor: String,
    pub at: String,
    /// The named token's name; `None` for the DRF token.
    pub token: Option<String>,
}

/// What the page shows about a user.
pub struct Detail {
    pub user: UserView,
    pub named: Vec<NamedTokenView>,
    pub events: Vec<EventView>,
}

impl Detail {
    /// Whether older events exist beyond those shown.
    pub fn events_truncated(&self) -> bool {
        self.events.len() as i64 >= EVENTS_SHOWN
    }
}

impl Detail {
    /// The page's view of what the service read.
    pub fn of(state: &AppState, detail: UserDetail) -> Detail {
        let events = detail
            .events
            .into_iter()
            .map(|e| EventView {
                kind: e.kind.to_string(),
                actor: e.actor,
                at: time(&e.at),
                token: e.token_name,
            })
            .collect();
        let tokens = &state.domain.tokens;
        let now = clock::now();
        Detail {
            named: detail
                .named
                .iter()
                .map(|row| NamedTokenView::of(tokens, row, now))
                .collect(),
            user: UserView::of(tokens, detail.user, detail.token.as_ref(), now),
            events,
        }
    }
}

#[derive(Template)]
#[template(path = "user.html")]
struct UserPage {
    chrome: Chrome,
    user: UserView,
    named: Vec<NamedTokenView>,
    events: Vec<EventView>,
    events_truncated: bool,
    /// The new key, right after `Regenerate token`: shown this once.
    new_key: Option<String>,
    is_self: bool,
}

/// Renders the user's page. With `new_key`, the one response that shows it.
pub fn render(
    staff: Staff,
    flashes: Vec<Flash>,
    detail: Detail,
    new_key: Option<TokenKey>,
) -> Result<HttpResponse, AdminError> {
    let page = UserPage {
        is_self: staff.user.id == detail.user.id,
        chrome: Chrome {
            staff: Some(staff.user.username),
            csrf: staff.csrf,
            flashes,
        },
        events_truncated: detail.events_truncated(),
        user: detail.user,
        named: detail.named,
        events: detail.events,
        new_key: new_key.map(|k| k.as_str().to_string()),
    };
    html(StatusCode::OK, &page)
}

/// The user id of the path; anything else is a 404.
pub fn parse_id(raw: &str) -> Result<UserId, AdminError> {
    UserId::parse(raw).ok_or(AdminError::NotFound)
}

pub async fn show(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let session = AdminSession::new(session);
    let staff = require_staff(&session, &state, guard::here(&req)).await?;
    let id = parse_id(&path)?;
    let detail = state.services.accounts.detail(id, EVENTS_SHOWN).await?;
    let detail = Detail::of(&state, detail.ok_or(AdminError::NotFound)?);
    render(staff, session.take_flashes(), detail, None)
}

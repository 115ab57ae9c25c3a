//! `GET /admin/users/?q=…&page=N`: the users, sorted by username, 50 a
//! page, searched by username and e-mail.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::guard::{self, require_staff};
use super::page::{Chrome, html};
use super::session::AdminSession;
use super::view::{UserView, count};
use super::{AdminError, USERS_PATH};
use crate::models::clock;
use crate::state::AppState;

pub const PER_PAGE: i64 = 50;
/// Longer searches are cut to this many characters.
const MAX_QUERY_CHARS: usize = 150;

#[derive(Default, Deserialize)]
struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: String,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    chrome: Chrome,
    q: String,
    users: Vec<UserView>,
    total: String,
    /// More than `total` match (the count stops there).
    capped: bool,
    /// `user` or `users`, as `total` needs.
    noun: &'static str,
    first: String,
    last: String,
    page: i64,
    pages: i64,
    previous_url: Option<String>,
    next_url: Option<String>,
}

/// The list's URL for a search and a page; `q` is kept, page 1 left out.
fn list_url(q: &str, page: i64) -> String {
    let mut params: Vec<(&str, String)> = Vec::new();
    if !q.is_empty() {
        params.push(("q", q.to_string()));
    }
    if page > 1 {
        params.push(("page", page.to_string()));
    }
    if params.is_empty() {
        return USERS_PATH.to_string();
    }
    let query = serde_urlencoded::to_string(&params).unwrap_or_default();
    format!("{USERS_PATH}?{query}")
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
    let query: ListQuery = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let q: String = query.q.trim().chars().take(MAX_QUERY_CHARS).collect();
    let wanted = query
        .page
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|p| *p >= 1)
        .unwrap_or(1);

    let accounts = &state.services.accounts;
    let found = accounts.search(q.clone(), wanted, PER_PAGE).await?;
    let (rows, total, page, capped) = (found.rows, found.total, found.page, found.capped);

    let now = clock::now();
    let pages = page_count(total);
    let shown = rows.len() as i64;
    let first = if shown == 0 {
        0
    } else {
        (page - 1) * PER_PAGE + 1
    };
    let users: Vec<UserView> = rows
        .into_iter()
        .map(|(user, token)| UserView::of(&state.domain.tokens, user, token.as_ref(), now))
        .collect();
    let view = UsersPage {
        chrome: Chrome {
            staff: Some(staff.user.username),
            csrf: staff.csrf,
            flashes: session.take_flashes(),
        },
        previous_url: (page > 1).then(|| list_url(&q, page - 1)),
        next_url: (page < pages || capped).then(|| list_url(&q, page + 1)),
        q,
        users,
        total: count(total),
        capped,
        noun: if total == 1 && !capped {
            "user"
        } else {
            "users"
        },
        first: count(first),
        last: count(if shown == 0 { 0 } else { first + shown - 1 }),
        page,
        pages,
    };
    html(StatusCode::OK, &view)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_the_search() {
        assert_eq!(list_url("", 1), "/admin/users/");
        assert_eq!(list_url("", 2), "/admin/users/?page=2");
        assert_eq!(list_url("a b&c", 3), "/admin/users/?q=a+b%26c&page=3");
        assert_eq!(list_url("zoë", 1), "/admin/users/?q=zo%C3%AB");
    }

    #[test]
    fn pages() {
        assert_eq!(page_count(0), 1);
        assert_eq!(page_count(50), 1);
        assert_eq!(page_count(51), 2);
        assert_eq!(page_count(100_000), 2000);
    }
}

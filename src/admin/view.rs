//! What the pages show, computed from domain values: a token's state (never
//! its key, only the first 8 characters) and times as text.

use chrono::NaiveDateTime;

use crate::models::{TokenId, TokenRow, Tokens, User, UserId};

/// A time as the admin shows it: UTC, to the second.
pub fn time(t: &NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A count with thousands separators (`12,345`).
pub fn count(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A token as a row or the user's page shows it.
pub struct TokenView {
    /// `none`, `active`, `expired` or `refused` (the user is inactive): the
    /// badge's class.
    pub state: &'static str,
    /// The badge's text.
    pub label: &'static str,
    /// The key's first 8 characters.
    pub prefix: String,
    pub created: String,
    pub last_used: Option<String>,
    pub expires: Option<String>,
}

impl TokenView {
    pub fn of(
        tokens: &Tokens,
        row: Option<&TokenRow>,
        user_active: bool,
        now: NaiveDateTime,
    ) -> TokenView {
        let Some(row) = row else {
            return TokenView {
                state: "none",
                label: "No token",
                prefix: String::new(),
                created: String::new(),
                last_used: None,
                expires: None,
            };
        };
        let (state, label) = if tokens.is_expired(row, now) {
            ("expired", "Expired")
        } else if !user_active {
            ("refused", "Refused")
        } else {
            ("active", "Valid")
        };
        TokenView {
            state,
            label,
            prefix: row.prefix.chars().take(8).collect(),
            created: time(&row.created),
            last_used: row.last_used.as_ref().map(time),
            expires: row.expires.as_ref().map(time),
        }
    }

    pub fn exists(&self) -> bool {
        self.state != "none"
    }
}

/// A named token on the user's page; never its key.
pub struct NamedTokenView {
    pub id: TokenId,
    pub name: String,
    pub prefix: String,
    /// Comma-separated; empty when it holds none.
    pub scopes: String,
    pub created: String,
    pub last_used: Option<String>,
    pub expires: Option<String>,
    pub expired: bool,
}

impl NamedTokenView {
    pub fn of(tokens: &Tokens, row: &TokenRow, now: NaiveDateTime) -> NamedTokenView {
        NamedTokenView {
            id: row.id,
            name: row.name.clone().unwrap_or_default(),
            prefix: row.prefix.chars().take(8).collect(),
            scopes: row.scopes.iter().collect::<Vec<_>>().join(", "),
            created: time(&row.created),
            last_used: row.last_used.as_ref().map(time),
            expires: row.expires.as_ref().map(time),
            expired: tokens.is_expired(row, now),
        }
    }
}

/// A user with their token, as the pages show them.
pub struct UserView {
    pub id: UserId,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_superuser: bool,
    pub date_joined: String,
    pub last_login: Option<String>,
    pub token: TokenView,
}

impl UserView {
    pub fn of(tokens: &Tokens, user: User, row: Option<&TokenRow>, now: NaiveDateTime) -> UserView {
        let token = TokenView::of(tokens, row, user.is_active, now);
        UserView {
            id: user.id,
            date_joined: time(&user.date_joined),
            last_login: user.last_login.as_ref().map(time),
            username: user.username,
            email: user.email,
            first_name: user.first_name,
            last_name: user.last_name,
            is_active: user.is_active,
            is_staff: user.is_staff,
            is_superuser: user.is_superuser,
            token,
        }
    }

    pub fn url(&self) -> String {
        user_url(self.id)
    }
}

/// The user's page.
pub fn user_url(id: UserId) -> String {
    format!("/admin/users/{id}/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(100_000), "100,000");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(-1234), "-1,234");
    }
}

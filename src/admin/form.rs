//! Reading the admin's `application/x-www-form-urlencoded` bodies. A body
//! that does not parse reads as an empty form, which then fails the CSRF
//! check (403) instead of giving a 400 that says why.

use serde::Deserialize;
use serde::de::DeserializeOwned;

pub fn parse<T: DeserializeOwned + Default>(body: &[u8]) -> T {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

/// The body of the action forms: only the CSRF token (no `Debug`: it is a secret).
#[derive(Default, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf_token: String,
}

/// The sign-in form.
#[derive(Default, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub next: String,
    #[serde(default)]
    pub csrf_token: String,
}

/// The two-factor code form, and the account page's forms (`action` says
/// which button). No `Debug`: codes are secrets.
#[derive(Default, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub next: String,
    #[serde(default)]
    pub csrf_token: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_tolerates_garbage() {
        let f: LoginForm = parse(b"username=a%20b&password=p%26q&next=%2Fadmin%2F&csrf_token=t");
        assert_eq!(f.username, "a b");
        assert_eq!(f.password, "p&q");
        assert_eq!(f.next, "/admin/");
        assert_eq!(f.csrf_token, "t");
        let f: CsrfForm = parse(b"\xff\xfe=%%");
        assert_eq!(f.csrf_token, "");
        let f: CsrfForm = parse(b"other=1");
        assert_eq!(f.csrf_token, "");
    }
}

//! The `next` parameter of the sign-in: where to go once signed in. Only a
//! local path is accepted, so the sign-in can never send anyone elsewhere.

use super::{CODE_PATH, LOGIN_PATH};

const MAX_LEN: usize = 2048;

#[derive(Default, serde::Deserialize)]
struct NextQuery {
    #[serde(default)]
    next: String,
}

/// The safe `next` of a query string (`?next=…`), if any.
pub fn from_query(query: &str) -> Option<String> {
    let query: NextQuery = serde_urlencoded::from_str(query).unwrap_or_default();
    safe(&query.next)
}

/// `next` when it is a path on this site: it starts with one `/` (not `//`,
/// which a browser reads as another host), holds no backslash (some read it
/// as `/`) and only printable ASCII (a request's own path always is: other
/// characters arrive percent-encoded).
pub fn safe(next: &str) -> Option<String> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && next.len() <= MAX_LEN
        && next.chars().all(|c| c.is_ascii_graphic() && c != '\\');
    ok.then(|| next.to_string())
}

/// `/admin/login/`, with `?next=<path>` when there is somewhere to return to.
/// The path is percent-encoded except for `/`, as Django writes it.
pub fn login_url(next: Option<&str>) -> String {
    match next.and_then(safe) {
        Some(next) => format!("{LOGIN_PATH}?next={}", encode(&next)),
        None => LOGIN_PATH.to_string(),
    }
}

/// The two-factor code form, keeping `next` for after it.
pub fn code_url(next: Option<&str>) -> String {
    match next.and_then(safe) {
        Some(next) => format!("{CODE_PATH}?next={}", encode(&next)),
        None => CODE_PATH.to_string(),
    }
}

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths() {
        assert_eq!(safe("/admin/users/").as_deref(), Some("/admin/users/"));
        assert_eq!(
            safe("/admin/users/?q=a&page=2").as_deref(),
            Some("/admin/users/?q=a&page=2")
        );
        for bad in [
            "",
            "admin/",
            "//evil.example/",
            "/\\evil.example/",
            "https://evil.example/",
            "/\tx",
            "/a b",
            "javascript:alert(1)",
            "/admin/users/?q=Zoë",
        ] {
            assert_eq!(safe(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn login_urls() {
        assert_eq!(login_url(None), "/admin/login/");
        assert_eq!(
            login_url(Some("/admin/users/")),
            "/admin/login/?next=/admin/users/"
        );
        assert_eq!(
            login_url(Some("/admin/users/?q=a b&page=2")),
            "/admin/login/"
        );
        assert_eq!(
            login_url(Some("/admin/users/?q=a%20b&page=2")),
            "/admin/login/?next=/admin/users/%3Fq%3Da%2520b%26page%3D2"
        );
        assert_eq!(login_url(Some("//evil")), "/admin/login/");
    }
}

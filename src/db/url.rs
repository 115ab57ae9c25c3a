//! What a `DATABASE_URL` says: which backend, which SQLite file, and a form
//! of it fit for a log line. The URL itself is held as a secret, since a
//! PostgreSQL URL may carry a password.

use secrecy::{ExposeSecret, SecretString};

/// Which database a `DATABASE_URL` selects; decided by its scheme, never by trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// A `DATABASE_URL`. `Debug` shows it with any password replaced; the
/// URL itself is only read through `expose`, where a connection is opened.
#[derive(Clone)]
pub struct DatabaseUrl {
    url: SecretString,
    redacted: String,
}

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> DatabaseUrl {
        let url = url.into();
        DatabaseUrl {
            redacted: redact_url(&url),
            url: SecretString::from(url),
        }
    }

    /// The URL, password included: only for opening a connection.
    pub fn expose(&self) -> &str {
        self.url.expose_secret()
    }

    /// The URL with any password replaced, fit for a log line.
    pub fn redacted(&self) -> &str {
        &self.redacted
    }

    pub fn backend(&self) -> Backend {
        Backend::of_url(self.expose())
    }

    /// The file of a SQLite URL; `None` for PostgreSQL.
    pub fn sqlite_path(&self) -> Option<&str> {
        sqlite_path(self.expose())
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("DatabaseUrl").field(&self.redacted).finish()
    }
}

impl From<String> for DatabaseUrl {
    fn from(url: String) -> DatabaseUrl {
        DatabaseUrl::new(url)
    }
}

impl From<&str> for DatabaseUrl {
    fn from(url: &str) -> DatabaseUrl {
        DatabaseUrl::new(url)
    }
}

impl From<&DatabaseUrl> for DatabaseUrl {
    fn from(url: &DatabaseUrl) -> DatabaseUrl {
        url.clone()
    }
}

/// The file path of a SQLite URL (`sqlite://x`, `file:x`, or a plain path).
pub fn sqlite_path(url: &str) -> Option<&str> {
    if Backend::of_url(url) != Backend::Sqlite {
        return None;
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("file:"))
        .unwrap_or(url);
    Some(path.split('?').next().unwrap_or(path))
}

/// A URL with any password replaced (in the user part, or a `password`
/// parameter of the query), fit for a log line.
pub fn redact_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut out = match base.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((userinfo, host)) => {
                let user = userinfo.split(':').next().unwrap_or("");
                format!("{scheme}://{user}:***@{host}")
            }
            None => base.to_string(),
        },
        None => base.to_string(),
    };
    if let Some(query) = query {
        out.push('?');
        let parameters: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) if name.eq_ignore_ascii_case("password") => format!("{name}=***"),
                _ => pair.to_string(),
            })
            .collect();
        out.push_str(&parameters.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_urls_select_postgres() {
        assert_eq!(Backend::of_url("postgres://u@h/db"), Backend::Postgres);
        assert_eq!(Backend::of_url("postgresql://u@h/db"), Backend::Postgres);
        assert_eq!(Backend::of_url("/tmp/x.sqlite3"), Backend::Sqlite);
    }

    #[test]
    fn sqlite_paths() {
        assert_eq!(sqlite_path("db.sqlite3"), Some("db.sqlite3"));
        assert_eq!(sqlite_path("sqlite:///x/db?mode=rwc"), Some("/x/db"));
        assert_eq!(sqlite_path("file:db"), Some("db"));
        assert_eq!(sqlite_path("postgres://u@h/db"), None);
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/x"),
            "postgres://app:***@db:5432/x"
        );
        assert_eq!(
            redact_url("postgres://app:p@ss@db/x?sslmode=require"),
            "postgres://app:***@db/x?sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://db/x?user=app&password=s3cret"),
            "postgres://db/x?user=app&password=***"
        );
        assert_eq!(redact_url("/tmp/db.sqlite3"), "/tmp/db.sqlite3");
        let url = DatabaseUrl::new("postgres://app:s3cret@db/x");
        assert!(!format!("{url:?}").contains("s3cret"));
        assert!(format!("{url:?}").contains("app:***@db/x"));
        assert_eq!(url.expose(), "postgres://app:s3cret@db/x");
        assert_eq!(url.backend(), Backend::Postgres);
    }
}

//! Where a Django database is: a SQLite path or a PostgreSQL URL, shown
//! without its password.

use std::fmt;
use std::path::PathBuf;

use super::source::SourceError;

/// Where the Django database is.
#[derive(Clone, PartialEq, Eq)]
pub enum SourceUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl SourceUrl {
    /// A SQLite path, `sqlite://path` (`sqlite:///abs/path` for an absolute
    /// one), or `postgres://…` / `postgresql://…`. Any other `scheme://` is
    /// refused rather than taken for a file name.
    pub fn parse(url: &str) -> Result<SourceUrl, SourceError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(SourceUrl::Postgres(url.to_string()));
        }
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(SourceError::UnsupportedUrl(url.to_string()));
            }
            return Ok(SourceUrl::Sqlite(PathBuf::from(path)));
        }
        if url.is_empty() || url.contains("://") {
            return Err(SourceError::UnsupportedUrl(redact(url)));
        }
        Ok(SourceUrl::Sqlite(PathBuf::from(url)))
    }

    /// For messages: the path, or the URL without its password.
    pub fn display(&self) -> String {
        match self {
            SourceUrl::Sqlite(path) => path.display().to_string(),
            SourceUrl::Postgres(url) => redact(url),
        }
    }
}

impl fmt::Debug for SourceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceUrl::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            SourceUrl::Postgres(_) => f.debug_tuple("Postgres").field(&self.display()).finish(),
        }
    }
}

/// `scheme://user:secret@host/db` → `scheme://user:***@host/db`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            SourceUrl::parse("db.sqlite3").unwrap(),
            SourceUrl::Sqlite("db.sqlite3".into())
        );
        assert_eq!(
            SourceUrl::parse("sqlite:///srv/app/db.sqlite3").unwrap(),
            SourceUrl::Sqlite("/srv/app/db.sqlite3".into())
        );
        assert_eq!(
            SourceUrl::parse("sqlite://db.sqlite3").unwrap(),
            SourceUrl::Sqlite("db.sqlite3".into())
        );
        assert!(matches!(
            SourceUrl::parse("postgresql://u@h/db").unwrap(),
            SourceUrl::Postgres(_)
        ));
        for bad in ["", "sqlite://", "mysql://root:pw@localhost/db"] {
            let error = SourceUrl::parse(bad).unwrap_err();
            assert!(matches!(error, SourceError::UnsupportedUrl(_)), "{bad}");
            assert!(!error.to_string().contains(":pw@"), "{error}");
        }
    }

    #[test]
    fn passwords_in_urls_are_not_shown() {
        let url = SourceUrl::parse("postgres://django:s3cret@db.internal:5432/app").unwrap();
        assert_eq!(url.display(), "postgres://django:***@db.internal:5432/app");
        assert!(!format!("{url:?}").contains("s3cret"));
        assert_eq!(
            redact("postgres://django@db/app?password=x"),
            "postgres://django@db/app?password=x"
        );
        assert_eq!(redact("postgres://u:p@h"), "postgres://u:***@h");
    }
}

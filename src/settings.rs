//! Configuration from the environment (and `.env`, loaded by `main`).
//!
//! Every value is parsed once here; a bad value is a `SettingsError` naming the
//! variable, which `main` prints as one line before exiting with code 2.

use crate::models::KeyFormat;
use std::net::IpAddr;
use std::time::Duration;

use secrecy::SecretString;

pub use crate::db::{Backend, DatabaseUrl, redact_url};
pub use crate::logging::LogFormat;

/// A rate such as `5/min`: at most `count` events per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub period: Duration,
}

/// Every setting, parsed. `Debug` shows neither `SECRET_KEY` nor the
/// database password.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: DatabaseUrl,
    pub bind: String,
    pub secret_key: Option<SecretString>,
    pub token_keyword: String,
    pub token_ttl: Option<Duration>,
    /// The format of every new key (`TOKEN_FORMAT`: `drf` or `prefixed`).
    pub token_format: KeyFormat,
    /// The most unexpired named tokens one user may hold.
    pub token_limit_per_user: u32,
    pub bcrypt_cost: u32,
    pub login_throttle: Rate,
    pub trusted_proxies: Vec<IpAddr>,
    pub password_hash_concurrency: usize,
    pub password_hash_queue: usize,
    pub db_pool_size: u32,
    pub db_timeout: Duration,
    /// `DATABASE_STATEMENT_CACHE`: PostgreSQL's named prepared statements
    /// (off behind PgBouncer in transaction mode before 1.21).
    pub db_statement_cache: bool,
    pub admin_session_ttl: Duration,
    /// `ADMIN_REQUIRE_2FA`: staff without two-factor sign-in are sent to
    /// their account page until they turn it on.
    pub admin_require_2fa: bool,
    pub secure_cookies: bool,
    pub shutdown_timeout: Duration,
    /// How long a request body may take to arrive (`BODY_TIMEOUT`).
    pub body_timeout: Duration,
    pub workers: usize,
    /// `LOG_FORMAT`: how log lines are written.
    pub log_format: LogFormat,
    /// `METRICS_BIND`: where `/metrics` is served; unset, nowhere.
    pub metrics_bind: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{var}: {problem}")]
pub struct SettingsError {
    pub var: &'static str,
    pub problem: String,
}

fn bad(var: &'static str, problem: impl Into<String>) -> SettingsError {
    SettingsError {
        var,
        problem: problem.into(),
    }
}

pub const DEFAULT_DATABASE_URL: &str = "authtoken.sqlite3";
pub const DEFAULT_BIND: &str = "127.0.0.1:8000";

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Settings, SettingsError> {
        Settings::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests can supply their own values.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, SettingsError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());

        let database_url =
            DatabaseUrl::new(get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into()));

        let token_keyword = get("TOKEN_KEYWORD").unwrap_or_else(|| "Token".into());
        if token_keyword.chars().any(|c| c.is_whitespace()) || !token_keyword.is_ascii() {
            return Err(bad(
                "TOKEN_KEYWORD",
                "must be one ASCII word without spaces",
            ));
        }

        let secret_key = get("SECRET_KEY");
        if let Some(key) = &secret_key
            && key.len() < 32
        {
            return Err(bad("SECRET_KEY", "must be at least 32 characters long"));
        }
        let secret_key = secret_key.map(SecretString::from);

        Ok(Settings {
            bind: get("BIND").unwrap_or_else(|| DEFAULT_BIND.into()),
            secret_key,
            token_keyword,
            token_ttl: get("TOKEN_TTL")
                .map(|v| parse_duration(&v).map_err(|p| bad("TOKEN_TTL", p)))
                .transpose()?,
            token_format: get("TOKEN_FORMAT")
                .map(|v| {
                    KeyFormat::parse(v.trim())
                        .ok_or_else(|| bad("TOKEN_FORMAT", "must be drf or prefixed"))
                })
                .transpose()?
                .unwrap_or_default(),
            token_limit_per_user: parse_in_range(
                get("TOKEN_LIMIT_PER_USER"),
                "TOKEN_LIMIT_PER_USER",
                100,
                0,
                1_000_000,
            )?,
            bcrypt_cost: parse_in_range(get("BCRYPT_COST"), "BCRYPT_COST", 12, 4, 31)?,
            login_throttle: get("LOGIN_THROTTLE")
                .map(|v| parse_rate(&v).map_err(|p| bad("LOGIN_THROTTLE", p)))
                .transpose()?
                .unwrap_or(Rate {
                    count: 5,
                    period: Duration::from_secs(60),
                }),
            trusted_proxies: get("TRUSTED_PROXIES")
                .map(|v| parse_ip_list(&v).map_err(|p| bad("TRUSTED_PROXIES", p)))
                .transpose()?
                .unwrap_or_default(),
            password_hash_concurrency: parse_in_range(
                get("PASSWORD_HASH_CONCURRENCY"),
                "PASSWORD_HASH_CONCURRENCY",
                // Leave at least one core to the token-authenticated requests.
                cores.saturating_sub(1).max(1),
                1,
                1024,
            )?,
            password_hash_queue: parse_in_range(
                get("PASSWORD_HASH_QUEUE"),
                "PASSWORD_HASH_QUEUE",
                64,
                0,
                100_000,
            )?,
            db_pool_size: parse_in_range(
                get("DATABASE_POOL_SIZE"),
                "DATABASE_POOL_SIZE",
                // The same for SQLite as for PostgreSQL: with 4 SQLite
                // connections on 2 cores, too few authenticated requests were
                // in flight to keep the blocking threads busy, and `me/`
                // served 7 % fewer requests than with 8 (BENCHMARKS.md).
                (cores as u32 * 4).max(8),
                1,
                1000,
            )?,
            db_timeout: get("DATABASE_TIMEOUT")
                .map(|v| parse_duration(&v).map_err(|p| bad("DATABASE_TIMEOUT", p)))
                .transpose()?
                .unwrap_or(Duration::from_secs(5)),
            db_statement_cache: get("DATABASE_STATEMENT_CACHE")
                .map(|v| parse_bool(&v).map_err(|p| bad("DATABASE_STATEMENT_CACHE", p)))
                .transpose()?
                .unwrap_or(true),
            admin_session_ttl: get("ADMIN_SESSION_TTL")
                .map(|v| parse_duration(&v).map_err(|p| bad("ADMIN_SESSION_TTL", p)))
                .transpose()?
                .unwrap_or(Duration::from_secs(8 * 3600)),
            admin_require_2fa: get("ADMIN_REQUIRE_2FA")
                .map(|v| parse_bool(&v).map_err(|p| bad("ADMIN_REQUIRE_2FA", p)))
                .transpose()?
                .unwrap_or(false),
            secure_cookies: get("SECURE_COOKIES")
                .map(|v| parse_bool(&v).map_err(|p| bad("SECURE_COOKIES", p)))
                .transpose()?
                .unwrap_or(false),
            shutdown_timeout: get("SHUTDOWN_TIMEOUT")
                .map(|v| parse_duration(&v).map_err(|p| bad("SHUTDOWN_TIMEOUT", p)))
                .transpose()?
                .unwrap_or(Duration::from_secs(30)),
            body_timeout: get("BODY_TIMEOUT")
                .map(|v| parse_duration(&v).map_err(|p| bad("BODY_TIMEOUT", p)))
                .transpose()?
                .unwrap_or(Duration::from_secs(10)),
            workers: parse_in_range(get("WORKERS"), "WORKERS", cores, 1, 1024)?,
            log_format: get("LOG_FORMAT")
                .map(|v| v.parse().map_err(|p| bad("LOG_FORMAT", p)))
                .transpose()?
                .unwrap_or_default(),
            metrics_bind: get("METRICS_BIND").map(|v| v.trim().to_owned()),
            database_url,
        })
    }

    pub fn backend(&self) -> Backend {
        self.database_url.backend()
    }
}

fn parse_in_range<T>(
    value: Option<String>,
    var: &'static str,
    default: T,
    min: T,
    max: T,
) -> Result<T, SettingsError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let Some(value) = value else {
        return Ok(default);
    };
    match value.trim().parse::<T>() {
        Ok(n) if n >= min && n <= max => Ok(n),
        _ => Err(bad(
            var,
            format!("expected a whole number from {min} to {max}, got {value:?}"),
        )),
    }
}

/// The units a duration setting takes, as humantime spells them: seconds
/// to days. humantime also reads sub-second units, weeks, months and years;
/// those are refused, as before humantime.
const DURATION_UNITS: &[&str] = &[
    "s", "sec", "secs", "second", "seconds", "m", "min", "mins", "minute", "minutes", "h", "hr",
    "hrs", "hour", "hours", "d", "day", "days",
];

/// `90s`, `15m`, `12h`, `30d` (humantime's syntax, so `1h 30m` too), or a
/// bare number of seconds.
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    let value = value.trim();
    let expected =
        || format!("expected a positive duration such as 90s, 15m, 12h or 30d, got {value:?}");
    let too_long = || format!("{value:?} is too long");
    let duration = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        Duration::from_secs(value.parse().map_err(|_| too_long())?)
    } else {
        let mut units = value
            .split(|c: char| !c.is_ascii_alphabetic())
            .filter(|unit| !unit.is_empty());
        if units.any(|unit| !DURATION_UNITS.contains(&unit)) {
            return Err(expected());
        }
        humantime::parse_duration(value).map_err(|e| match e {
            humantime::DurationError::NumberOverflow => too_long(),
            _ => expected(),
        })?
    };
    if duration.is_zero() {
        return Err(expected());
    }
    Ok(duration)
}

/// `5/min` (DRF's rate syntax: `N/s`, `N/m[in]`, `N/h[our]`, `N/d[ay]`).
pub fn parse_rate(value: &str) -> Result<Rate, String> {
    let error = || format!("expected a rate such as 5/min, got {value:?}");
    let (count, period) = value.trim().split_once('/').ok_or_else(error)?;
    let count: u32 = count.trim().parse().map_err(|_| error())?;
    let seconds = match period.trim().chars().next() {
        Some('s') => 1,
        Some('m') => 60,
        Some('h') => 3600,
        Some('d') => 86400,
        _ => return Err(error()),
    };
    if count == 0 {
        return Err(error());
    }
    Ok(Rate {
        count,
        period: Duration::from_secs(seconds),
    })
}

fn parse_ip_list(value: &str) -> Result<Vec<IpAddr>, String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpAddr>()
                .map_err(|_| format!("{s:?} is not an IP address"))
        })
        .collect()
}

fn parse_bool(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(format!("expected true or false, got {value:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.database_url.expose(), "authtoken.sqlite3");
        assert_eq!(s.backend(), Backend::Sqlite);
        assert_eq!(s.bind, "127.0.0.1:8000");
        assert_eq!(s.token_keyword, "Token");
        assert_eq!(s.token_ttl, None);
        assert_eq!(s.token_format, KeyFormat::Drf);
        assert_eq!(s.token_limit_per_user, 100);
        assert_eq!(s.bcrypt_cost, 12);
        assert_eq!(s.login_throttle.count, 5);
        assert_eq!(s.login_throttle.period, Duration::from_secs(60));
        assert_eq!(s.db_timeout, Duration::from_secs(5));
        assert_eq!(s.body_timeout, Duration::from_secs(10));
        assert_eq!(s.admin_session_ttl, Duration::from_secs(8 * 3600));
        assert!(!s.admin_require_2fa);
        assert_eq!(s.log_format, LogFormat::Text);
        assert_eq!(s.metrics_bind, None);
        assert!(s.db_statement_cache);
    }

    #[test]
    fn log_format_and_metrics() {
        let s = settings(&[("LOG_FORMAT", "json"), ("METRICS_BIND", "127.0.0.1:9100")]).unwrap();
        assert_eq!(s.log_format, LogFormat::Json);
        assert_eq!(s.metrics_bind.as_deref(), Some("127.0.0.1:9100"));
        assert_eq!(
            settings(&[("LOG_FORMAT", "xml")]).unwrap_err().var,
            "LOG_FORMAT"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30d"), Ok(Duration::from_secs(30 * 86400)));
        assert_eq!(parse_duration("12h"), Ok(Duration::from_secs(12 * 3600)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-5s").is_err());
        assert!(parse_duration("5w").is_err());
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(
            parse_duration(" 2 days "),
            Ok(Duration::from_secs(2 * 86400))
        );
        assert!(parse_duration("").is_err());
        assert!(parse_duration("500ms").is_err());
        assert_eq!(
            parse_duration("99999999999999999999"),
            Err("\"99999999999999999999\" is too long".into())
        );
        assert_eq!(
            parse_duration("soon"),
            Err("expected a positive duration such as 90s, 15m, 12h or 30d, got \"soon\"".into())
        );
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = settings(&[("BCRYPT_COST", "3")]).unwrap_err();
        assert_eq!(e.var, "BCRYPT_COST");
        assert_eq!(
            e.to_string(),
            "BCRYPT_COST: expected a whole number from 4 to 31, got \"3\""
        );
        assert_eq!(
            settings(&[("TOKEN_TTL", "forever")]).unwrap_err().var,
            "TOKEN_TTL"
        );
        assert_eq!(
            settings(&[("LOGIN_THROTTLE", "5")]).unwrap_err().var,
            "LOGIN_THROTTLE"
        );
        assert_eq!(
            settings(&[("SECRET_KEY", "short")]).unwrap_err().var,
            "SECRET_KEY"
        );
        assert_eq!(
            settings(&[("TOKEN_KEYWORD", "Two words")]).unwrap_err().var,
            "TOKEN_KEYWORD"
        );
        assert_eq!(
            settings(&[("TOKEN_FORMAT", "base64")]).unwrap_err().var,
            "TOKEN_FORMAT"
        );
        assert_eq!(
            settings(&[("TOKEN_FORMAT", "prefixed")])
                .unwrap()
                .token_format,
            KeyFormat::Prefixed
        );
    }

    #[test]
    fn rates() {
        assert_eq!(
            parse_rate("10/hour"),
            Ok(Rate {
                count: 10,
                period: Duration::from_secs(3600)
            })
        );
        assert!(parse_rate("0/min").is_err());
    }

    #[test]
    fn debug_hides_secrets() {
        let s = settings(&[
            ("SECRET_KEY", "0123456789abcdef0123456789abcdef-very-secret"),
            ("DATABASE_URL", "postgres://app:hunter2@db/x"),
        ])
        .unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("very-secret"));
        assert!(!shown.contains("hunter2"));
    }
}

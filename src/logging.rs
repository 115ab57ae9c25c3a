//! The log: `LOG_FORMAT=text` (env_logger's look) or `json` (one object a
//! line), filtered by `RUST_LOG`, with the id of the request a line is about.
//!
//! The request id lives in a task-local for the request's future (set by
//! `http::request_id`) and is carried into blocking-pool closures by
//! `db::Database::call` through a thread-local, so that the formatter can
//! read it wherever the line is written. This module knows nothing of HTTP:
//! the database layer uses it too.

use std::cell::RefCell;
use std::future::Future;
use std::io::Write;
use std::sync::Arc;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// `[time LEVEL target] message request_id=…`, for people.
    #[default]
    Text,
    /// `{"time", "level", "target", "message", "request_id"}`, for machines.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(value: &str) -> Result<LogFormat, String> {
        match value.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!("expected text or json, got {value:?}")),
        }
    }
}

/// A request's id, cheap to clone into every task and closure of the request.
pub type RequestId = Arc<str>;

tokio::task_local! {
    static TASK_REQUEST_ID: RequestId;
}

thread_local! {
    static THREAD_REQUEST_ID: RefCell<Option<RequestId>> = const { RefCell::new(None) };
}

/// Runs `future` as part of request `id`: its log lines carry the id.
pub async fn in_request<F: Future>(id: RequestId, future: F) -> F::Output {
    TASK_REQUEST_ID.scope(id, future).await
}

/// Runs blocking `work` (on another thread) as part of request `id`.
pub fn in_request_blocking<T>(id: Option<RequestId>, work: impl FnOnce() -> T) -> T {
    let Some(id) = id else {
        return work();
    };
    let previous = THREAD_REQUEST_ID.with(|cell| cell.replace(Some(id)));
    // Restored even if `work` panics, so that a pooled thread never carries
    // one request's id into the next one's lines.
    struct Restore(Option<RequestId>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            THREAD_REQUEST_ID.with(|cell| *cell.borrow_mut() = previous);
        }
    }
    let _restore = Restore(previous);
    work()
}

/// The id of the request being served here, if any.
pub fn current_request_id() -> Option<RequestId> {
    TASK_REQUEST_ID
        .try_with(Clone::clone)
        .ok()
        .or_else(|| THREAD_REQUEST_ID.with(|cell| cell.borrow().clone()))
}

#[derive(serde::Serialize)]
struct JsonLine<'a> {
    time: String,
    level: &'a str,
    target: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Writes one record in `format`.
fn write_record(
    out: &mut dyn Write,
    format: LogFormat,
    record: &log::Record<'_>,
) -> std::io::Result<()> {
    let id = current_request_id();
    match format {
        LogFormat::Text => {
            write!(
                out,
                "[{} {:<5} {}] {}",
                now(),
                record.level(),
                record.target(),
                record.args()
            )?;
            if let Some(id) = id {
                write!(out, " request_id={id}")?;
            }
            writeln!(out)
        }
        LogFormat::Json => {
            let line = JsonLine {
                time: now(),
                level: record.level().as_str(),
                target: record.target(),
                message: record.args().to_string(),
                request_id: id.as_deref(),
            };
            serde_json::to_writer(&mut *out, &line)?;
            writeln!(out)
        }
    }
}

/// Installs the logger: `RUST_LOG` filters, `default_filter` when it is unset.
pub fn init(format: LogFormat, default_filter: &str) {
    let inner =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default_filter))
            .format(move |buf, record| write_record(buf, format, record))
            .build();
    let max_level = inner.filter();
    if log::set_boxed_logger(Box::new(ClientErrorsAsWarnings(inner))).is_ok() {
        log::set_max_level(max_level);
    }
}

/// Where actix-http's HTTP/1 dispatcher logs. A client's malformed request
/// (a bad request line or header, broken chunked encoding, a connection
/// dropped in the middle of a body) is not a server error, but actix-http
/// logs it at `error` (`stream error: …`); it is logged at `warn` here.
const DISPATCHER: &str = "actix_http::h1::dispatcher";

struct ClientErrorsAsWarnings(env_logger::Logger);

/// A dispatcher `stream error`: what a client did wrong.
fn is_client_error(record: &log::Record) -> bool {
    record.level() == log::Level::Error
        && record.target().starts_with(DISPATCHER)
        && record.args().to_string().starts_with("stream error")
}

impl log::Log for ClientErrorsAsWarnings {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        self.0.enabled(metadata)
    }

    fn log(&self, record: &log::Record) {
        if is_client_error(record) {
            self.0.log(
                &log::Record::builder()
                    .level(log::Level::Warn)
                    .target(record.target())
                    .args(*record.args())
                    .module_path(record.module_path())
                    .file(record.file())
                    .line(record.line())
                    .build(),
            );
        } else {
            self.0.log(record);
        }
    }

    fn flush(&self) {
        self.0.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(format: LogFormat, message: &str) -> String {
        let mut out = Vec::new();
        write_record(
            &mut out,
            format,
            &log::Record::builder()
                .level(log::Level::Warn)
                .target("authtoken::x")
                .args(format_args!("{message}"))
                .build(),
        )
        .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn json_lines_are_one_object_each() {
        let text = line(LogFormat::Json, "two\nlines \"quoted\"");
        assert_eq!(text.lines().count(), 1);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["level"], "WARN");
        assert_eq!(value["target"], "authtoken::x");
        assert_eq!(value["message"], "two\nlines \"quoted\"");
        assert!(value.get("request_id").is_none());
        assert!(value["time"].as_str().unwrap().ends_with('Z'));
    }

    #[test]
    fn the_request_id_is_read_from_the_thread_inside_blocking_work() {
        let id: RequestId = Arc::from("abc-123");
        let text = in_request_blocking(Some(id), || line(LogFormat::Json, "inside"));
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["request_id"], "abc-123");
        assert!(current_request_id().is_none(), "restored after the work");
        let text = line(LogFormat::Text, "after");
        assert!(text.contains("WARN  authtoken::x] after"), "{text}");
        assert!(!text.contains("request_id"));
    }

    #[actix_web::test]
    async fn the_request_id_is_read_from_the_task() {
        let id: RequestId = Arc::from("task-id");
        let text = in_request(id, async { line(LogFormat::Text, "in the task") }).await;
        assert!(text.ends_with("in the task request_id=task-id\n"), "{text}");
    }

    #[test]
    fn formats_parse() {
        assert_eq!("json".parse(), Ok(LogFormat::Json));
        assert_eq!(" Text ".parse(), Ok(LogFormat::Text));
        assert!("xml".parse::<LogFormat>().is_err());
    }
}

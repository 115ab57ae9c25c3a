//! The process's logger: `env_logger` (`RUST_LOG`), with one change. A
//! client's malformed request (a bad request line or header, broken chunked
//! encoding, a connection dropped in the middle of a body) is not a server
//! error, but actix-http logs it at `error` (`stream error: …`); it is
//! logged at `warn` here.

use log::{Level, Log, Metadata, Record};

/// Installs the logger; `default_filter` applies when `RUST_LOG` is unset.
pub fn init(default_filter: &str) {
    let inner =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default_filter))
            .build();
    let max_level = inner.filter();
    if log::set_boxed_logger(Box::new(ClientErrorsAsWarnings(inner))).is_ok() {
        log::set_max_level(max_level);
    }
}

/// Where actix-http's HTTP/1 dispatcher logs.
const DISPATCHER: &str = "actix_http::h1::dispatcher";

struct ClientErrorsAsWarnings(env_logger::Logger);

/// A dispatcher `stream error`: what a client did wrong.
fn is_client_error(record: &Record) -> bool {
    record.level() == Level::Error
        && record.target().starts_with(DISPATCHER)
        && record.args().to_string().starts_with("stream error")
}

impl Log for ClientErrorsAsWarnings {
    fn enabled(&self, metadata: &Metadata) -> bool {
        self.0.enabled(metadata)
    }

    fn log(&self, record: &Record) {
        if is_client_error(record) {
            self.0.log(
                &Record::builder()
                    .level(Level::Warn)
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

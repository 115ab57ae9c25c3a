//! Building the server: settings in, a running HTTP server out. Tests use
//! the same path on port 0.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;

use actix_web::dev::{Server, Service};
use actix_web::middleware::{self, DefaultHeaders};
use actix_web::{App, HttpResponse, HttpServer, web};
use futures_util::future::{Either, ready};

use crate::crypto::{SecretError, SecretKey, SecretSource};
use crate::db::{ConnectionManager, PrepareError, prepare_database_with};
use crate::http::{failure_log, metrics, request_id};
use crate::settings::Settings;
use crate::state::AppState;
use crate::{admin, api, http};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Database(#[from] PrepareError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
}

/// The secret and a migrated database: what every command needs first.
pub fn prepare(settings: &Settings) -> Result<SecretKey, StartupError> {
    let (secret, source) = SecretKey::resolve(
        settings.secret_key.as_ref(),
        settings.database_url.sqlite_path(),
    )?;
    match source {
        SecretSource::CreatedFile(path) => log::warn!(
            "SECRET_KEY is not set: created a random one in {} (keep it: tokens are sealed with it)",
            path.display()
        ),
        SecretSource::File(path) => log::info!("SECRET_KEY read from {}", path.display()),
        SecretSource::Environment => {}
    }
    let applied = prepare_database_with(
        &ConnectionManager::new(&settings.database_url)
            .with_statement_cache(settings.db_statement_cache),
    )?;
    for version in applied {
        log::info!("applied migration {version}");
    }
    Ok(secret)
}

pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
    /// The `METRICS_BIND` listener's server and the address it got.
    metrics: Option<(Server, SocketAddr)>,
}

impl Application {
    /// Prepares the database and starts serving on `listener`.
    pub fn build(settings: Settings, listener: TcpListener) -> Result<Application, StartupError> {
        let secret = prepare(&settings)?;
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        let workers = settings.workers;
        let shutdown = settings.shutdown_timeout.as_secs();
        let metrics_listener = settings
            .metrics_bind
            .as_ref()
            .map(|addr| {
                TcpListener::bind(addr).map_err(|source| StartupError::Bind {
                    addr: addr.clone(),
                    source,
                })
            })
            .transpose()?;
        let measured = metrics_listener.is_some();
        let state = web::Data::from(AppState::new(settings, &secret));
        let app_state = state.clone();
        let static_dir = static_dir();
        let server = HttpServer::new(move || {
            let admin_state = app_state.clone();
            App::new()
                .app_data(app_state.clone())
                .wrap_fn(|req, srv| {
                    if header_bytes(req.headers()) > MAX_HEADER_BYTES {
                        let response = req.into_response(headers_too_large());
                        return Either::Left(ready(Ok(response.map_into_right_body())));
                    }
                    let call = srv.call(req);
                    Either::Right(async move { Ok(call.await?.map_into_left_body()) })
                })
                .wrap(middleware::from_fn(failure_log::log_failures))
                .wrap(middleware::from_fn(http::body_deadline::body_deadline))
                .wrap(middleware::Condition::new(
                    measured,
                    middleware::from_fn(metrics::record),
                ))
                .wrap(
                    DefaultHeaders::new()
                        .add(("X-Content-Type-Options", "nosniff"))
                        .add(("X-Frame-Options", "DENY"))
                        .add(("Referrer-Policy", "same-origin")),
                )
                // Outermost: every answer (a 431 too) gets its request id, and
                // every line logged while serving it carries the id.
                .wrap(middleware::from_fn(request_id::observe))
                .configure(api::configure)
                .configure(|cfg| admin::configure(cfg, &admin_state))
                .service(http::static_files::service(static_dir.clone()))
                .default_service(web::to(not_found))
        })
        .workers(workers)
        .shutdown_timeout(shutdown)
        .listen(listener)
        .map_err(|source| StartupError::Bind {
            addr: format!("port {port}"),
            source,
        })?
        .run();
        let metrics = metrics_listener
            .map(|listener| serve_metrics(listener, state.clone()))
            .transpose()?;
        Ok(Application {
            port,
            server,
            state,
            metrics,
        })
    }

    /// Where `/metrics` is served, when `METRICS_BIND` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|(_, addr)| *addr)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    pub fn server(&self) -> &Server {
        &self.server
    }

    /// Serves until the public server stops; the metrics listener stops
    /// with it.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let Some((metrics, _)) = self.metrics else {
            return self.server.await;
        };
        // Both polled here rather than spawned: the caller may run us on
        // any runtime (a test's, or actix's own).
        let handle = metrics.handle();
        let public = async move {
            let result = self.server.await;
            handle.stop(false).await;
            result
        };
        let (result, _) = futures_util::future::join(public, metrics).await;
        result
    }
}

/// The metrics listener: its own server and `App`, one worker, nothing but
/// `GET /metrics` (everything else 404), so that nothing of it is reachable
/// on the public port and nothing public on it.
fn serve_metrics(
    listener: TcpListener,
    state: web::Data<AppState>,
) -> Result<(Server, SocketAddr), StartupError> {
    let addr = listener.local_addr().map_err(|source| StartupError::Bind {
        addr: "METRICS_BIND".into(),
        source,
    })?;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route("/metrics", web::get().to(metrics::metrics))
            .default_service(web::to(not_found))
    })
    .workers(1)
    // The public server's stop (SIGTERM) stops this one.
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)
    .map_err(|source| StartupError::Bind {
        addr: addr.to_string(),
        source,
    })?
    .run();
    log::info!("metrics on http://{addr}/metrics");
    Ok((server, addr))
}

/// `./static` when present (a deployment), else the source tree's.
fn static_dir() -> PathBuf {
    let local = PathBuf::from("static");
    if local.join("admin.css").is_file() {
        local
    } else {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/static"))
    }
}

/// Request headers larger than this in all (names and values) get a 431
/// in the API's JSON shape, like gunicorn's 8 KiB limit in front of DRF.
/// (Heads over 128 KiB, or with more than 96 headers, never reach the app:
/// actix-http answers them with a bare 431 itself.)
pub const MAX_HEADER_BYTES: usize = 8 * 1024;

fn header_bytes(headers: &actix_web::http::header::HeaderMap) -> usize {
    headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum()
}

fn headers_too_large() -> HttpResponse {
    api::response::json(
        actix_web::http::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        &serde_json::json!({ "detail": "Request header fields too large." }),
    )
}

async fn not_found() -> HttpResponse {
    api::response::json(
        actix_web::http::StatusCode::NOT_FOUND,
        &serde_json::json!({ "detail": "Not found." }),
    )
}

//! The HTTP side of the metrics: every answered request counted by its
//! route's pattern, and `GET /metrics` for the listener at `METRICS_BIND`
//! (never the public one: it tells how busy the server is and which routes
//! are used).

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::ContentType;
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};

use crate::state::AppState;

/// The `route` of requests that matched no route: a fixed label, so that
/// clients probing random paths cannot grow the series without end.
pub const UNMATCHED: &str = "unmatched";

/// Middleware: counts the request and its duration under its route's pattern.
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let response = next.call(req).await?;
    if let Some(state) = state {
        let route = response.request().match_pattern();
        state.domain.metrics.request(
            route.as_deref().unwrap_or(UNMATCHED),
            response.request().method().as_str(),
            response.status().as_u16(),
            started.elapsed().as_secs_f64(),
        );
    }
    Ok(response)
}

/// `GET /metrics`: the Prometheus text exposition.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let pool = state.domain.db.state();
    let text = state.domain.metrics.encode(
        pool.idle_connections,
        pool.connections.saturating_sub(pool.idle_connections),
        state.domain.hasher.waiting(),
    );
    HttpResponse::Ok()
        .insert_header(ContentType(
            "application/openmetrics-text; version=1.0.0; charset=utf-8"
                .parse()
                .expect("a valid media type"),
        ))
        .body(text)
}

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use diesel::connection::SimpleConnection;
use serde_json::json;

use super::response::json;
use crate::db::DbError;
use crate::http::failure_log::cause_chain;
use crate::state::AppState;

/// `GET /healthz`: the process answers; the database is not touched.
pub async fn healthz() -> HttpResponse {
    json(StatusCode::OK, &json!({ "status": "ok" }))
}

/// `GET /readyz`: 200 when the database answers, 503 when it does not.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let ping = state
        .domain
        .db
        .call(|conn| conn.batch_execute("SELECT 1").map_err(DbError::from))
        .await;
    match ping {
        Ok(()) => json(StatusCode::OK, &json!({ "status": "ok" })),
        Err(e) => {
            log::warn!("readiness check failed: {}", cause_chain(&e));
            json(
                StatusCode::SERVICE_UNAVAILABLE,
                &json!({ "status": "unavailable" }),
            )
        }
    }
}

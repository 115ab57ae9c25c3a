//! `GET /api/schema/`: the OpenAPI 3.1 description of the JSON endpoints,
//! written by hand (`openapi.json`) and checked against the running server
//! by `tests/api/schema.rs` and, in CI, by schemathesis.

use actix_web::HttpResponse;

pub(super) const DOCUMENT: &str = include_str!("openapi.json");

pub async fn schema() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(DOCUMENT)
}

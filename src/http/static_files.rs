//! `/static/`, served by actix-files, with the server's JSON errors instead
//! of actix-files' plain-text ones: a missing file, a directory or a bad
//! path segment (`/static/..%2f`) is the JSON 404 every unknown path gets.

use std::path::PathBuf;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{HttpServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::{Next, from_fn};
use actix_web::{Error, web};
use serde_json::json;

use crate::api::response::json;

pub fn service(dir: PathBuf) -> impl HttpServiceFactory {
    web::scope("/static")
        .wrap(from_fn(json_errors))
        .service(actix_files::Files::new("", dir))
}

async fn json_errors<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    let method = req.method().to_string();
    let response = next.call(req).await?;
    let replacement = match response.status() {
        StatusCode::METHOD_NOT_ALLOWED => {
            let mut replacement = json(
                StatusCode::METHOD_NOT_ALLOWED,
                &json!({ "detail": format!("Method \"{method}\" not allowed.") }),
            );
            replacement
                .headers_mut()
                .insert(header::ALLOW, header::HeaderValue::from_static("GET, HEAD"));
            replacement
        }
        StatusCode::BAD_REQUEST | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND => {
            json(StatusCode::NOT_FOUND, &json!({ "detail": "Not found." }))
        }
        _ => return Ok(response.map_into_left_body()),
    };
    Ok(response.into_response(replacement).map_into_right_body())
}

//! Every way an API request can fail, rendered as DRF renders it.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde_json::{Value, json};

use super::response::json_body;
use crate::http::failure_log::Logged;
use crate::services::Failure;

pub const SERVER_ERROR: &str = "A server error occurred.";
/// DRF's `PermissionDenied` text.
pub const MSG_PERMISSION_DENIED: &str = "You do not have permission to perform this action.";
/// DRF's `NotFound` text.
pub const MSG_NOT_FOUND: &str = "Not found.";
pub const REQUEST_TIMEOUT: &str = "Timed out waiting for the request body.";
pub const UNAVAILABLE: &str = "Service temporarily unavailable, try again later.";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401 with `WWW-Authenticate: <keyword>`.
    #[error("401: {detail}")]
    Unauthenticated {
        detail: &'static str,
        keyword: String,
    },
    /// 403: the token lacks a scope the request needs.
    #[error("403: permission denied")]
    Forbidden,
    /// 404 `{"detail": "Not found."}`.
    #[error("404")]
    NotFound,
    /// 400 `{"field": ["message", …], …}` in field order.
    #[error("400: field errors")]
    Fields(Vec<(String, Vec<String>)>),
    /// 400 `{"detail": …}` (a body that could not be parsed).
    #[error("400: {0}")]
    BadRequest(String),
    #[error("405: {method}")]
    MethodNotAllowed { method: String, allow: &'static str },
    /// 408, and the connection is closed: the body did not arrive within
    /// `BODY_TIMEOUT`.
    #[error("408")]
    RequestTimeout,
    #[error("413")]
    PayloadTooLarge { limit: usize },
    #[error("415: {0}")]
    UnsupportedMediaType(String),
    #[error("429: wait {0}s")]
    Throttled(u64),
    /// 503 with `Retry-After` (the database, the hashing queue) or 500.
    #[error(transparent)]
    Failure(#[from] Failure),
}

impl ApiError {
    pub fn field(name: &str, messages: Vec<&'static str>) -> ApiError {
        ApiError::Fields(vec![(
            name.to_string(),
            messages.into_iter().map(String::from).collect(),
        )])
    }

    pub fn non_field(message: impl Into<String>) -> ApiError {
        ApiError::Fields(vec![("non_field_errors".into(), vec![message.into()])])
    }
}

impl Logged for ApiError {
    fn failure(&self) -> Option<&Failure> {
        match self {
            ApiError::Failure(failure) => Some(failure),
            _ => None,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Fields(_) | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Failure(f) if f.is_temporary() => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Failure(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The body and headers only: the failure's log line is written once,
    /// by `http::failure_log`, where the request's method and path are known.
    fn error_response(&self) -> HttpResponse {
        let body: Value = match self {
            ApiError::Unauthenticated { detail, .. } => json!({ "detail": detail }),
            ApiError::Forbidden => json!({ "detail": MSG_PERMISSION_DENIED }),
            ApiError::NotFound => json!({ "detail": MSG_NOT_FOUND }),
            ApiError::Fields(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(name, messages)| (name.clone(), json!(messages)))
                    .collect(),
            ),
            ApiError::BadRequest(detail) => json!({ "detail": detail }),
            ApiError::MethodNotAllowed { method, .. } => {
                json!({ "detail": format!("Method \"{method}\" not allowed.") })
            }
            ApiError::RequestTimeout => json!({ "detail": REQUEST_TIMEOUT }),
            ApiError::PayloadTooLarge { limit } => json!({
                "detail": format!("Request body is too large (the limit is {limit} bytes).")
            }),
            ApiError::UnsupportedMediaType(media_type) => json!({
                "detail": format!("Unsupported media type \"{media_type}\" in request.")
            }),
            ApiError::Throttled(wait) => {
                let unit = if *wait == 1 { "second" } else { "seconds" };
                json!({
                    "detail": format!("Request was throttled. Expected available in {wait} {unit}.")
                })
            }
            ApiError::Failure(f) if f.is_temporary() => json!({ "detail": UNAVAILABLE }),
            ApiError::Failure(_) => json!({ "detail": SERVER_ERROR }),
        };
        let mut response = HttpResponse::build(self.status_code());
        match self {
            ApiError::Unauthenticated { keyword, .. } => {
                if let Ok(value) = HeaderValue::from_str(keyword) {
                    response.insert_header((header::WWW_AUTHENTICATE, value));
                }
            }
            ApiError::MethodNotAllowed { allow, .. } => {
                response.insert_header((header::ALLOW, *allow));
            }
            ApiError::Throttled(wait) => {
                response.insert_header((header::RETRY_AFTER, wait.to_string()));
            }
            ApiError::Failure(f) if f.is_temporary() => {
                response.insert_header((header::RETRY_AFTER, Failure::RETRY_AFTER_SECS));
            }
            ApiError::RequestTimeout => {
                response.force_close();
            }
            _ => {}
        }
        json_body(response, &body)
    }
}

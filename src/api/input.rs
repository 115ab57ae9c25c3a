//! Reading a request body: the size limit, then DRF's parsers.

use actix_web::HttpRequest;
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::web::{self, BytesMut};
use futures_util::StreamExt;

use super::ApiError;
use super::body::{self, Body, BodyError};
use super::fields::{Fields, FieldsError};

/// Request bodies over this many bytes get 413.
pub const BODY_LIMIT: usize = 64 * 1024;

pub async fn read_fields(req: &HttpRequest, mut payload: web::Payload) -> Result<Fields, ApiError> {
    let too_large = ApiError::PayloadTooLarge { limit: BODY_LIMIT };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > BODY_LIMIT) {
        return Err(too_large);
    }
    // Django reads `Content-Length` bytes and nothing else: a body sent
    // without it (chunked) is not parsed, and the fields are missing.
    if declared.is_none() {
        return Fields::from_body(Body::Empty).map_err(fields_error);
    }
    let mut bytes = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| match e {
            // The deadline of `crate::http::body_deadline`.
            PayloadError::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                ApiError::RequestTimeout
            }
            e => ApiError::BadRequest(format!("Could not read the request body: {e}")),
        })?;
        if bytes.len() + chunk.len() > BODY_LIMIT {
            return Err(too_large);
        }
        bytes.extend_from_slice(&chunk);
    }
    let content_type = req.headers().get(header::CONTENT_TYPE);
    let parsed = body::parse(content_type.map(|v| v.as_bytes()), bytes.freeze())
        .await
        .map_err(|e| match e {
            BodyError::UnsupportedMediaType(t) => ApiError::UnsupportedMediaType(t),
            BodyError::Parse(detail) => ApiError::BadRequest(detail),
        })?;
    Fields::from_body(parsed).map_err(fields_error)
}

fn fields_error(e: FieldsError) -> ApiError {
    match e {
        FieldsError::NotADict(type_name) => ApiError::non_field(format!(
            "Invalid data. Expected a dictionary, but got {type_name}."
        )),
        FieldsError::NoData => ApiError::non_field("No data provided"),
    }
}

/// Collects per-field errors in field order, DRF's `serializer.errors`.
#[derive(Default)]
pub struct FieldErrors(Vec<(String, Vec<String>)>);

impl FieldErrors {
    pub fn add<M: Into<String>>(&mut self, field: &str, messages: Vec<M>) {
        if !messages.is_empty() {
            self.0.push((
                field.to_string(),
                messages.into_iter().map(Into::into).collect(),
            ));
        }
    }

    /// The value if it parsed, recording its messages otherwise.
    pub fn take<T, M: Into<String>>(
        &mut self,
        field: &str,
        result: Result<T, Vec<M>>,
    ) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(messages) => {
                self.add(field, messages);
                None
            }
        }
    }

    pub fn into_result(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Fields(self.0))
        }
    }
}

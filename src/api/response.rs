//! JSON written the way DRF's `JSONRenderer` writes it: compact, raw UTF-8,
//! U+2028 and U+2029 escaped, `Content-Type: application/json`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, HttpResponseBuilder};
use serde::Serialize;
use serde_json::Value;

pub fn drf_json(value: &Value) -> String {
    escape_separators(value.to_string())
}

/// U+2028 and U+2029 escaped, as DRF's renderer does.
fn escape_separators(text: String) -> String {
    if text.contains(['\u{2028}', '\u{2029}']) {
        text.replace('\u{2028}', "\\u2028")
            .replace('\u{2029}', "\\u2029")
    } else {
        text
    }
}

pub fn json_body(mut builder: HttpResponseBuilder, value: &Value) -> HttpResponse {
    builder
        .content_type("application/json")
        .body(drf_json(value))
}

pub fn json(status: StatusCode, value: &Value) -> HttpResponse {
    json_body(HttpResponse::build(status), value)
}

/// The same for a typed answer, written without building a `Value` first
/// (the hot endpoints: `me/`).
pub fn json_of<T: Serialize>(status: StatusCode, value: &T) -> HttpResponse {
    match serde_json::to_string(value) {
        Ok(text) => HttpResponse::build(status)
            .content_type("application/json")
            .body(escape_separators(text)),
        // Only a map with keys that are not strings can fail; none is sent.
        Err(e) => {
            log::error!("an answer could not be written as JSON: {e}");
            HttpResponse::InternalServerError()
                .content_type("application/json")
                .body(r#"{"detail":"A server error occurred."}"#)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_raw_utf8_with_line_separators_escaped() {
        let v = serde_json::json!({"detail": "Zoë\u{2028}x", "n": [1, 2]});
        assert_eq!(drf_json(&v), "{\"detail\":\"Zoë\\u2028x\",\"n\":[1,2]}");
    }
}

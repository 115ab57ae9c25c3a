//! The shape every API answer must have (shared/API.md): JSON objects,
//! `{"detail": "…"}` for errors other than field errors, `{"field": ["…"]}`
//! for those.

use serde_json::Value;

/// DRF's texts for the 401s.
pub const AUTH_FAILURES: &[&str] = &[
    "Authentication credentials were not provided.",
    "Invalid token header. No credentials provided.",
    "Invalid token header. Token string should not contain spaces.",
    "Invalid token header. Token string should not contain invalid characters.",
    "Invalid token.",
    "User inactive or deleted.",
    "Token has expired.",
];

/// Panics unless `status`/`content_type`/`body` is an answer the contract
/// allows. Returns the parsed body.
pub fn assert_shape(what: &str, status: u16, content_type: Option<&str>, body: &[u8]) -> Value {
    let text = String::from_utf8_lossy(body);
    assert!(status < 500 || status == 503, "{what}: {status} {text}");
    if status == 204 {
        assert!(body.is_empty(), "{what}: 204 with a body");
        return Value::Null;
    }
    assert_eq!(
        content_type,
        Some("application/json"),
        "{what}: {status} {text}"
    );
    let value: Value = serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("{what}: {status} body is not JSON ({e}): {text}"));
    let object = value
        .as_object()
        .unwrap_or_else(|| panic!("{what}: {status} body is not an object: {text}"));
    let is_detail = object.len() == 1 && object.get("detail").is_some_and(Value::is_string);
    match status {
        200 | 201 => {}
        400 => {
            let field_errors = !object.is_empty()
                && object.values().all(|v| {
                    v.as_array().is_some_and(|messages| {
                        !messages.is_empty() && messages.iter().all(Value::is_string)
                    })
                });
            assert!(
                is_detail || field_errors,
                "{what}: 400 neither a detail nor field errors: {text}"
            );
        }
        401 => {
            assert!(is_detail, "{what}: {text}");
            let detail = object["detail"].as_str().unwrap();
            assert!(AUTH_FAILURES.contains(&detail), "{what}: {text}");
        }
        403 | 404 | 405 | 408 | 413 | 415 | 429 | 431 | 503 => {
            assert!(is_detail, "{what}: {status} {text}")
        }
        other => panic!("{what}: unexpected status {other}: {text}"),
    }
    value
}

/// [`assert_shape`] for a reqwest answer.
pub async fn response_shape(what: &str, response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if status == 401 {
        assert!(
            response.headers().contains_key("www-authenticate"),
            "{what}: a 401 without WWW-Authenticate"
        );
    }
    let body = response.bytes().await.unwrap();
    let value = assert_shape(what, status, content_type.as_deref(), &body);
    (status, value)
}

//! Request bodies, parsed by the ecosystem's parsers: `serde_json` for JSON,
//! `serde_urlencoded` for forms, `actix-multipart` for `multipart/form-data`,
//! `mime` for the media type. What DRF's parsers decide that clients can see
//! is kept on top: which media types are parsed (DRF's `JSONParser`,
//! `FormParser`, `MultiPartParser`), the 415 quoting the whole `Content-Type`
//! value, an empty body not parsed at all, and the `JSON parse error - ` /
//! `Multipart form parse error - ` prefixes. The reason after the prefix is
//! the parser's own message.
//!
//! Bodies are UTF-8: a `charset` parameter is ignored. Invalid UTF-8 in JSON
//! is a parse error; in forms and multipart text parts it becomes U+FFFD, as
//! Django's `errors='replace'` does.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use actix_web::error::PayloadError;
use actix_web::http::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use actix_web::web::Bytes;
use futures_util::StreamExt;
use serde_json::Value;

use super::input::BODY_LIMIT;

/// What `request.data` holds. `Debug` shows the shape, not the values
/// (they include passwords).
#[derive(Clone, PartialEq)]
pub enum Body {
    /// No body (length 0): DRF does not even look at the content type.
    Empty,
    Json(Value),
    /// `application/x-www-form-urlencoded`: every `(key, value)` in order.
    Form(Vec<(String, String)>),
    /// `multipart/form-data`: the text parts in order, and the names of the
    /// parts that carried a file. A file comes after the text values of its
    /// name in `request.data`, so it is what `data[name]` gives.
    Multipart {
        fields: Vec<(String, String)>,
        files: Vec<String>,
    },
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names =
            |pairs: &[(String, String)]| pairs.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
        match self {
            Body::Empty => f.write_str("Empty"),
            Body::Json(value) => write!(f, "Json({})", type_name(value)),
            Body::Form(fields) => f.debug_tuple("Form").field(&names(fields)).finish(),
            Body::Multipart { fields, files } => f
                .debug_struct("Multipart")
                .field("fields", &names(fields))
                .field("files", files)
                .finish(),
        }
    }
}

/// The Python type name DRF puts in `Expected a dictionary, but got {type}.`
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// 415; the whole `Content-Type` value, `""` when absent.
    #[error("Unsupported media type \"{0}\" in request.")]
    UnsupportedMediaType(String),
    /// 400 `{"detail": <this>}`.
    #[error("{0}")]
    Parse(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parser {
    Json,
    Form,
    Multipart,
}

/// DRF's `select_parser`: the first parser whose media type matches; `*`
/// in the request's type or subtype matches anything.
fn select_parser(media_type: &mime::Mime) -> Option<Parser> {
    let (main, sub) = (media_type.type_(), media_type.subtype());
    let matches = |want_main: &str, want_sub: &str| {
        (sub == "*" || sub == want_sub) && (main == "*" || main == want_main)
    };
    if matches("application", "json") {
        Some(Parser::Json)
    } else if matches("application", "x-www-form-urlencoded") {
        Some(Parser::Form)
    } else if matches("multipart", "form-data") {
        Some(Parser::Multipart)
    } else {
        None
    }
}

/// Parses a whole request body; `content_type` is the raw header value,
/// `None` when absent.
pub async fn parse(content_type: Option<&[u8]>, body: Bytes) -> Result<Body, BodyError> {
    if body.is_empty() {
        return Ok(Body::Empty);
    }
    let raw = content_type.unwrap_or_default();
    // Quoted byte for byte (bytes beyond ASCII as the latin-1 characters
    // HTTP historically meant, as WSGI hands them to Django).
    let unsupported =
        || BodyError::UnsupportedMediaType(raw.iter().map(|&b| char::from(b)).collect());
    let media_type: mime::Mime = std::str::from_utf8(raw)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(unsupported)?;
    match select_parser(&media_type).ok_or_else(unsupported)? {
        Parser::Json => serde_json::from_slice(&body)
            .map(Body::Json)
            .map_err(|e| BodyError::Parse(format!("JSON parse error - {e}"))),
        Parser::Form => serde_urlencoded::from_bytes(&body)
            .map(Body::Form)
            .map_err(|e| BodyError::Parse(format!("Form parse error - {e}"))),
        Parser::Multipart => {
            let header = HeaderValue::from_bytes(raw).map_err(|_| unsupported())?;
            // The whole body is in memory: actix-multipart waiting for more
            // (it does on some truncated bodies) would wait forever.
            in_memory(multipart(header, body))
                .unwrap_or_else(|| Err(multipart_error("Multipart stream is incomplete")))
        }
    }
}

/// Runs `future` to completion as long as it makes progress by itself:
/// `None` when it waits without having asked to be polled again.
fn in_memory<F: Future>(future: F) -> Option<F::Output> {
    struct Woken(AtomicBool);
    impl Wake for Woken {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let woken = Arc::new(Woken(AtomicBool::new(false)));
    let waker = Waker::from(woken.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    for _ in 0..10_000 {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(output) => return Some(output),
            Poll::Pending if woken.0.swap(false, Ordering::Relaxed) => {}
            Poll::Pending => return None,
        }
    }
    None
}

fn multipart_error(reason: impl std::fmt::Display) -> BodyError {
    BodyError::Parse(format!("Multipart form parse error - {reason}"))
}

async fn multipart(content_type: HeaderValue, body: Bytes) -> Result<Body, BodyError> {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, content_type);
    let stream = futures_util::stream::once(async move { Ok::<_, PayloadError>(body) });
    let mut parts = actix_multipart::Multipart::new(&headers, stream);
    let mut fields = Vec::new();
    let mut files = Vec::new();
    while let Some(part) = parts.next().await {
        let mut part = part.map_err(multipart_error)?;
        let data = match part.bytes(BODY_LIMIT).await {
            Ok(data) => data.map_err(multipart_error)?,
            Err(too_large) => return Err(multipart_error(too_large)),
        };
        let Some(disposition) = part.content_disposition() else {
            continue;
        };
        let Some(name) = disposition.get_name() else {
            continue;
        };
        let file_name = match (disposition.get_filename(), disposition.get_filename_ext()) {
            (Some(name), _) => Some(!name.is_empty()),
            (None, Some(ext)) => Some(!ext.value.is_empty()),
            (None, None) => None,
        };
        match file_name {
            None => fields.push((
                name.to_string(),
                String::from_utf8_lossy(&data).into_owned(),
            )),
            Some(true) => files.push(name.to_string()),
            // A file input left empty: browsers send `filename=""` and no
            // data; Django skips the part.
            Some(false) => {}
        }
    }
    Ok(Body::Multipart { fields, files })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(content_type: Option<&str>, body: &[u8]) -> Result<Body, BodyError> {
        let body = Bytes::copy_from_slice(body);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(parse(content_type.map(str::as_bytes), body))
    }

    fn pairs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn an_empty_body_is_not_parsed() {
        assert_eq!(run(Some("text/plain"), b""), Ok(Body::Empty));
        assert_eq!(run(None, b""), Ok(Body::Empty));
    }

    #[test]
    fn media_types_as_drf_selects_parsers() {
        let json = Ok(Body::Json(serde_json::json!({"a": 1})));
        for content_type in [
            "application/json",
            "APPLICATION/JSON",
            "application/json; charset=utf-8",
            "application/json; charset=latin-1",
            "application/*",
            "*/*",
        ] {
            assert_eq!(
                run(Some(content_type), br#"{"a": 1}"#),
                json,
                "{content_type}"
            );
        }
        for content_type in [
            "text/plain",
            "text/plain; charset=x",
            "application/xml",
            "multipart/mixed; boundary=x",
            "",
            "json",
            "text/html; x=\"<script>\"",
        ] {
            assert_eq!(
                run(Some(content_type), b"x"),
                Err(BodyError::UnsupportedMediaType(content_type.into())),
                "{content_type}"
            );
        }
        assert_eq!(
            run(None, b"x"),
            Err(BodyError::UnsupportedMediaType(String::new()))
        );
    }

    #[test]
    fn json_errors_are_serde_jsons_behind_drfs_prefix() {
        let detail = |body: &[u8]| match run(Some("application/json"), body) {
            Err(BodyError::Parse(detail)) => detail,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            detail(b"{\"username\": "),
            "JSON parse error - EOF while parsing a value at line 1 column 13"
        );
        assert_eq!(
            detail(b"{} x"),
            "JSON parse error - trailing characters at line 1 column 4"
        );
        // serde_json's nesting limit is ours: 127 levels parse, the 128th
        // is refused.
        let deepest = format!("{}{}", "[".repeat(127), "]".repeat(127));
        assert!(run(Some("application/json"), deepest.as_bytes()).is_ok());
        assert_eq!(
            detail("[".repeat(200).as_bytes()),
            "JSON parse error - recursion limit exceeded at line 1 column 128"
        );
        assert!(detail(b"{\"a\": \"\xff\"}").starts_with("JSON parse error - invalid unicode"));
        // What Python accepts and serde_json does not.
        assert!(detail(b"[1e400]").starts_with("JSON parse error - number out of range"));
        assert!(detail(br#"{"a": "\ud800"}"#).starts_with("JSON parse error - "));
    }

    #[test]
    fn duplicate_json_keys_keep_the_first_position_and_the_last_value() {
        let Ok(Body::Json(Value::Object(map))) =
            run(Some("application/json"), br#"{"a": 1, "b": 2, "a": 3}"#)
        else {
            panic!("an object")
        };
        let items: Vec<_> = map.into_iter().collect();
        assert_eq!(
            items,
            vec![("a".into(), Value::from(3)), ("b".into(), Value::from(2))]
        );
    }

    #[test]
    fn forms_keep_every_pair_in_order() {
        assert_eq!(
            run(
                Some("application/x-www-form-urlencoded; charset=iso-8859-1"),
                b"a=1&a=&b+c=d%20e&f&&g=%FF%00"
            ),
            Ok(Body::Form(pairs(&[
                ("a", "1"),
                ("a", ""),
                ("b c", "d e"),
                ("f", ""),
                ("g", "\u{fffd}\0"),
            ])))
        );
    }

    #[test]
    fn multipart_text_parts_and_files() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n\
            --XyZ\r\nContent-Disposition: form-data; name=\"b\"; filename=\"f.txt\"\r\n\r\ny\r\n\
            --XyZ\r\nContent-Disposition: form-data; name=\"c\"; filename=\"\"\r\n\r\n\r\n\
            --XyZ\r\nContent-Disposition: form-data; name=\"d\"\r\n\r\n\xffz\r\n--XyZ--\r\n";
        assert_eq!(
            run(Some("multipart/form-data; boundary=XyZ"), body),
            Ok(Body::Multipart {
                fields: pairs(&[("a", "x"), ("d", "\u{fffd}z")]),
                files: vec!["b".into()],
            })
        );
        assert_eq!(
            run(Some("multipart/form-data; boundary=\"XyZ\""), body),
            run(Some("multipart/form-data; boundary=XyZ"), body)
        );
    }

    #[test]
    fn broken_multipart_is_a_parse_error() {
        for (content_type, body) in [
            ("multipart/form-data", &b"--XyZ--\r\n"[..]),
            (
                "multipart/form-data; boundary=XyZ",
                b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx",
            ),
            ("multipart/form-data; boundary=XyZ", b"no boundary at all"),
            // actix-multipart waits for more here; the body is all there is.
            (
                "multipart/form-data; boundary=XyZ",
                b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"",
            ),
            ("multipart/form-data; boundary=XyZ", b"--XyZ"),
            (
                "multipart/form-data; boundary=XyZ",
                b"--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--\r\n",
            ),
            (
                "multipart/form-data; boundary=XyZ",
                b"--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ--\r\n",
            ),
            ("multipart/form-data; boundary=XyZ", b"--XyZ\r\n"),
        ] {
            match run(Some(content_type), body) {
                Err(BodyError::Parse(detail)) => {
                    assert!(
                        detail.starts_with("Multipart form parse error - "),
                        "{detail}"
                    )
                }
                other => panic!("{content_type}: {other:?}"),
            }
        }
    }

    #[test]
    fn debug_shows_the_shape_not_the_values() {
        let secret = "hunter2-secret";
        for body in [
            Body::Json(serde_json::json!({"password": secret})),
            Body::Form(pairs(&[("password", secret)])),
            Body::Multipart {
                fields: pairs(&[("password", secret)]),
                files: vec!["avatar".into()],
            },
        ] {
            let debug = format!("{body:?}");
            assert!(!debug.contains(secret), "{debug}");
        }
        assert_eq!(
            format!("{:?}", Body::Form(pairs(&[("password", secret)]))),
            "Form([\"password\"])"
        );
        assert_eq!(
            format!("{:?}", Body::Json(serde_json::json!({"password": secret}))),
            "Json(dict)"
        );
    }
}

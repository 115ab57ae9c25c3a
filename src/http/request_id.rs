//! Every request's id, and the one access-log line about it.
//!
//! The id is the `X-Request-Id` a trusted proxy sent (so that the proxy's
//! log, ours and the answer can be matched), else a new random one; a proxy's
//! id that is not 1–128 characters of `A-Za-z0-9._-` is replaced, so nothing
//! a client chose can forge or break a log line. A client that is not a
//! trusted proxy cannot choose its id at all. The id goes back in the
//! answer's `X-Request-Id`, and every line logged while the request is
//! served carries it (`logging::in_request`).

use std::sync::Arc;
use std::time::Instant;

use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;

use crate::http::client_addr::from_trusted_proxy;
use crate::logging::{self, RequestId};
use crate::state::AppState;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Whether a proxy's id may be used as it is.
pub fn is_valid(id: &[u8]) -> bool {
    (1..=128).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// A new id: 128 random bits in hex.
pub fn generate() -> RequestId {
    Arc::from(format!("{:032x}", rand::random::<u128>()))
}

/// The id of `req`: its trusted proxy's, when valid, else a new one.
fn choose(req: &ServiceRequest) -> RequestId {
    let trusted = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|state| from_trusted_proxy(req.request(), &state.settings.trusted_proxies));
    if trusted
        && let Some(value) = req.headers().get(&HEADER)
        && is_valid(value.as_bytes())
        && let Ok(id) = value.to_str()
    {
        return Arc::from(id);
    }
    generate()
}

/// Middleware (the outermost): gives the request its id, serves it inside
/// the id's scope, answers with the id and writes the access-log line. The
/// line holds the peer, method, path (never the query string: it may hold a
/// key), status, body size and time; no header, no body.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = choose(&req);
    let peer = req
        .peer_addr()
        .map_or_else(|| "-".to_owned(), |a| a.ip().to_string());
    let method = req.method().clone();
    let path = req.path().to_owned();
    logging::in_request(id.clone(), async move {
        let mut response = next.call(req).await?;
        if let Ok(value) = HeaderValue::from_str(&id) {
            response.headers_mut().insert(HEADER, value);
        }
        let size = match response.response().body().size() {
            BodySize::Sized(n) => n.to_string(),
            BodySize::None | BodySize::Stream => "-".to_owned(),
        };
        log::info!(
            target: "authtoken::access",
            "{peer} \"{method} {path}\" {} {size} {:.3}ms",
            response.status().as_u16(),
            started.elapsed().as_secs_f64() * 1000.0
        );
        Ok(response)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_ids() {
        assert!(is_valid(b"abc-123_X.y"));
        assert!(is_valid(&[b'a'; 128]));
        assert!(!is_valid(&[b'a'; 129]));
        assert!(!is_valid(b""));
        assert!(!is_valid(b"has space"));
        assert!(!is_valid(b"new\nline"));
        assert!(!is_valid("é".as_bytes()));
        assert!(!is_valid(b"a\"b"));
    }

    #[test]
    fn generated_ids_are_valid_and_differ() {
        let (a, b) = (generate(), generate());
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert!(is_valid(a.as_bytes()));
    }
}

//! `BODY_TIMEOUT`: a request's body must arrive within this long of its
//! head. The payload of every request that has a body is wrapped in a stream
//! that fails once the deadline passes, so every reader is covered (the API's
//! parsers and the admin's `web::Bytes` forms alike); the answer is then a
//! 408 `{"detail": …}` and the connection is closed, so half-sent requests
//! cannot pile up.

use std::cell::Cell;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use actix_web::{Error, ResponseError};
use futures_util::stream::Stream;
use tokio::time::Sleep;

use crate::api::ApiError;
use crate::state::AppState;

/// The middleware (`middleware::from_fn(body_deadline)`).
pub async fn body_deadline<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    let timeout = req
        .app_data::<web::Data<AppState>>()
        .map(|state| state.settings.body_timeout);
    let (http_req, payload) = req.into_parts();
    let (Some(timeout), false) = (timeout, matches!(payload, Payload::None)) else {
        let req = ServiceRequest::from_parts(http_req, payload);
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let expired = Rc::new(Cell::new(false));
    let stream = Deadline {
        inner: payload,
        sleep: Box::pin(tokio::time::sleep(timeout)),
        expired: expired.clone(),
    };
    let req = ServiceRequest::from_parts(http_req, Payload::from(Box::pin(stream) as Pin<Box<_>>));
    let result = next.call(req).await;
    if !expired.get() {
        return Ok(result?.map_into_left_body());
    }
    log::warn!("request body not received within {timeout:?}; closing the connection");
    match result {
        Ok(response) => Ok(response
            .into_response(ApiError::RequestTimeout.error_response())
            .map_into_right_body()),
        Err(_) => Err(ApiError::RequestTimeout.into()),
    }
}

/// A payload that fails with `TimedOut` once `sleep` is over.
struct Deadline {
    inner: Payload,
    sleep: Pin<Box<Sleep>>,
    expired: Rc<Cell<bool>>,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.expired.get() {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = Pin::new(&mut this.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        match this.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => {
                this.expired.set(true);
                Poll::Ready(Some(Err(PayloadError::Io(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the request body did not arrive in time",
                )))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

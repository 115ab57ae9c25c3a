//! `BODY_TIMEOUT`: a request's body must arrive within this long of its
//! head. The payload of every request that has a body is wrapped in a stream
//! that fails once the deadline passes, so every reader is covered (the API's
//! parsers and the admin's `web::Bytes` forms alike); the answer is then a
//! 408 `{"detail": …}` and the connection is closed, so half-sent requests
//! cannot pile up.
//!
//! The request's payload is also kept alive until its answer is sent:
//! actix-http closes a connection whose request body is still unfinished
//! when the answer ends, whereas a payload the handler dropped may be
//! drained first (chunked bodies), which would wait on an idle client with
//! no deadline at all.

use std::cell::{Cell, RefCell};
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, BoxBody, EitherBody, MessageBody};
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
    let unread = Rc::new(Unread {
        payload: RefCell::new(payload),
        expired: Cell::new(false),
    });
    let stream = Deadline {
        unread: unread.clone(),
        sleep: Box::pin(tokio::time::sleep(timeout)),
    };
    let req = ServiceRequest::from_parts(http_req, Payload::from(Box::pin(stream) as Pin<Box<_>>));
    let result = next.call(req).await;
    if !unread.expired.get() {
        return Ok(result?.map_body(|_, body| {
            EitherBody::right(BoxBody::new(Holding {
                body: BoxBody::new(body),
                _unread: unread,
            }))
        }));
    }
    log::warn!("request body not received within {timeout:?}; closing the connection");
    let timed_out = ApiError::RequestTimeout
        .error_response()
        .map_body(|_, body| Holding {
            body,
            _unread: unread,
        });
    match result {
        Ok(response) => Ok(response
            .into_response(timed_out)
            .map_into_boxed_body()
            .map_into_right_body()),
        Err(_) => Err(ApiError::RequestTimeout.into()),
    }
}

/// The request's payload, shared by its reader and its answer.
struct Unread {
    payload: RefCell<Payload>,
    expired: Cell<bool>,
}

/// A payload that fails with `TimedOut` once `sleep` is over.
struct Deadline {
    unread: Rc<Unread>,
    sleep: Pin<Box<Sleep>>,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.unread.expired.get() {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = Pin::new(&mut *this.unread.payload.borrow_mut()).poll_next(cx) {
            return Poll::Ready(item);
        }
        match this.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => {
                this.unread.expired.set(true);
                Poll::Ready(Some(Err(PayloadError::Io(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the request body did not arrive in time",
                )))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// An answer's body that keeps the request's payload until it is sent.
struct Holding {
    body: BoxBody,
    _unread: Rc<Unread>,
}

impl MessageBody for Holding {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_next(cx)
    }
}

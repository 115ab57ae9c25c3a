//! One log line per failed request, written once, here: method, path and
//! the error's whole cause chain. 500s are `error`, 503s `warn`; client
//! mistakes (4xx) are not logged. Error types say what to log through
//! [`Logged`]; their causes never hold a password, a key or a cookie (the
//! services' errors carry database and hashing failures only).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

use crate::services::Failure;
pub use crate::services::cause_chain;

/// An HTTP error that may carry a [`Failure`] worth a log line.
pub trait Logged {
    fn failure(&self) -> Option<&Failure>;
}

/// Middleware: logs the failure behind a 5xx answer.
pub async fn log_failures(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let method = req.method().clone();
    let path = req.path().to_owned();
    let response = next.call(req).await?;
    if let Some(error) = response.response().error() {
        let failure = error
            .as_error::<crate::api::ApiError>()
            .and_then(Logged::failure)
            .or_else(|| {
                error
                    .as_error::<crate::admin::AdminError>()
                    .and_then(Logged::failure)
            });
        if let Some(failure) = failure {
            let chain = cause_chain(failure);
            if failure.is_temporary() {
                log::warn!("{method} {path}: {chain}");
            } else {
                log::error!("{method} {path}: {chain}");
            }
        } else if response.status().is_server_error() {
            log::error!("{method} {path}: {error}");
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_is_on_one_line() {
        let failure =
            Failure::internal(anyhow::anyhow!("disk full").context("cannot write the session"));
        let chain = cause_chain(&failure);
        assert_eq!(chain, "internal error: cannot write the session: disk full");
    }
}

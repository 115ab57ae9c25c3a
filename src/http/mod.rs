//! What the two HTTP layers (`api/`, `admin/`) share: the client's address,
//! the request id and access log, and the one log line of every failed
//! request.

pub mod client_addr;
pub mod failure_log;
pub mod metrics;
pub mod request_id;

pub use client_addr::client_addr;

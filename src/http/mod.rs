//! What the two HTTP layers (`api/`, `admin/`) share, and the plumbing
//! around every route: the client's address, the request id, the metrics of
//! every request, the one log line of every failed request, the request
//! body deadline and JSON errors for `/static/`.

pub mod body_deadline;
pub mod client_addr;
pub mod failure_log;
pub mod metrics;
pub mod request_id;
pub mod static_files;

pub use client_addr::client_addr;

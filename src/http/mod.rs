//! What the two HTTP layers (`api/`, `admin/`) share: the client's address
//! and the one log line of every failed request.

pub mod client_addr;
pub mod failure_log;

pub use client_addr::client_addr;

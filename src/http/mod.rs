//! What the two HTTP layers (`api/`, `admin/`) share, and the plumbing
//! around every route: the client's address, the one log line of every
//! failed request, the request body deadline, JSON errors for `/static/`,
//! and how client mistakes are logged.

pub mod body_deadline;
pub mod client_addr;
pub mod failure_log;
pub mod log;
pub mod static_files;

pub use client_addr::client_addr;

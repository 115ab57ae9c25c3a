//! HTTP plumbing around every route: the request body deadline, JSON
//! errors for `/static/`, and how client mistakes are logged.

pub mod body_deadline;
pub mod log;
pub mod static_files;

//! Several server processes over one database (issue 11): starting together
//! on an empty database (SQLite and PostgreSQL), and, on PostgreSQL, three
//! processes behind a real HAProxy. The processes are the real binary.

#[path = "../common/mod.rs"]
mod common;

#[allow(dead_code)]
#[path = "../reliability/support.rs"]
mod support;

mod haproxy;
mod pgbouncer;
mod startup;

//! Reliability and security under races, faults, crashes and hostile input
//! (issue 6), on SQLite or (with TEST_DATABASE_URL) PostgreSQL. Every test
//! has its own database and its own server.

#[path = "../common/mod.rs"]
mod common;

mod admin_race;
mod contract;
mod crash;
mod fuzz;
mod hostile;
mod local_reads;
mod outage;
mod request_ids;
mod secrets;
mod shutdown;
mod signups;
mod support;
mod threats;

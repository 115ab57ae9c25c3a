//! N processes started at once on an empty database: one migrates while the
//! others wait for its lock; all of them serve within seconds, and every
//! migration is applied exactly once.

use std::time::{Duration, Instant};

use diesel::QueryableByName;
use diesel::RunQueryDsl;
use diesel::sql_types::BigInt;

use crate::common::TestDatabase;
use crate::support::{ChildServer, blocking_client, connect};

const PROCESSES: usize = 6;
/// The migrations the binary embeds (one folder per version, per backend).
fn embedded_migrations() -> i64 {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite");
    std::fs::read_dir(dir).unwrap().count() as i64
}

#[derive(QueryableByName)]
struct Counts {
    #[diesel(sql_type = BigInt)]
    rows: i64,
    #[diesel(sql_type = BigInt)]
    versions: i64,
}

#[test]
fn processes_started_together_on_an_empty_database_all_serve() {
    let db = TestDatabase::new();
    let started = Instant::now();
    let servers: Vec<ChildServer> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..PROCESSES)
            .map(|_| s.spawn(|| ChildServer::start(&db, &[("DATABASE_POOL_SIZE", "2")])))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let client = blocking_client();
    for server in &servers {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let status = client
                .get(server.url("/readyz"))
                .send()
                .map(|r| r.status().as_u16());
            if status.as_ref().is_ok_and(|s| *s == 200) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "not ready: {status:?}\n{}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let took = started.elapsed();
    assert!(took < Duration::from_secs(20), "took {took:?}");
    let applied: usize = servers
        .iter()
        .map(|s| s.log().matches("applied migration").count())
        .sum();
    assert_eq!(
        applied as i64,
        embedded_migrations(),
        "one process migrates"
    );

    let mut conn = connect(&db.url);
    let counts: Counts = diesel::sql_query(
        "SELECT COUNT(*) AS rows, COUNT(DISTINCT version) AS versions \
         FROM __diesel_schema_migrations",
    )
    .get_result(&mut conn)
    .unwrap();
    assert_eq!(counts.rows, embedded_migrations());
    assert_eq!(counts.versions, embedded_migrations());
    println!("{PROCESSES} processes ready after {took:?}");
}

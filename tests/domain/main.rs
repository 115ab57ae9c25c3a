//! The data layer without HTTP: tokens, hooks, storage at rest. Runs on
//! SQLite, and on PostgreSQL when TEST_DATABASE_URL is set.

#[path = "../common/mod.rs"]
mod common;

use std::sync::Arc;

use authtoken::db::{DbConnection, DbError};
use authtoken::models::validation::{Email, Username};
use authtoken::models::{
    AuthOutcome, CreateUserError, Digest, HookError, NewUser, User, UserId, users,
};
use authtoken::startup::prepare;
use authtoken::state::AppState;
use common::{TestDatabase, test_settings};
use diesel::prelude::*;

fn state(db: &TestDatabase, overrides: &[(&str, &str)]) -> Arc<AppState> {
    let settings = test_settings(db, overrides);
    let secret = prepare(&settings).expect("database prepared");
    AppState::new(settings, &secret)
}

fn new_user(name: &str) -> NewUser {
    NewUser {
        username: Username::parse(name).unwrap(),
        email: Email::parse("").unwrap(),
        password_hash: "not a real hash".into(),
        is_active: true,
        is_staff: false,
        is_superuser: false,
    }
}

fn create(state: &AppState, name: &str) -> User {
    state
        .domain
        .db
        .run(|conn| users::create_user(conn, &state.domain.hooks, &new_user(name), "test"))
        .unwrap()
}

fn authenticate(state: &AppState, key: &str) -> AuthOutcome {
    state
        .domain
        .db
        .run(|conn| state.domain.tokens.authenticate(conn, &Digest::of(key)))
        .unwrap()
}

fn get_or_create(state: &AppState, user_id: UserId) -> String {
    state
        .domain
        .db
        .run(|conn| state.domain.tokens.get_or_create(conn, user_id, "test"))
        .unwrap()
        .as_str()
        .to_string()
}

#[test]
fn the_hook_gives_every_new_user_a_token() {
    let db = TestDatabase::new();
    let state = state(&db, &[]);
    let user = create(&state, "alice");
    let token = state
        .domain
        .db
        .run(|conn| state.domain.tokens.find(conn, user.id))
        .unwrap()
        .expect("the hook created a token");
    let key = get_or_create(&state, user.id);
    assert_eq!(token.prefix, &key[..8]);
    assert!(matches!(authenticate(&state, &key), AuthOutcome::Valid(u, _) if u.id == user.id));
}

#[test]
fn get_or_create_returns_the_same_key_until_regenerate() {
    let db = TestDatabase::new();
    let state = state(&db, &[]);
    let user = create(&state, "bob");
    let first = get_or_create(&state, user.id);
    assert_eq!(get_or_create(&state, user.id), first);
    let regenerated = state
        .domain
        .db
        .run(|conn| state.domain.tokens.regenerate(conn, user.id, "test"))
        .unwrap();
    assert_ne!(regenerated.as_str(), first);
    assert!(matches!(authenticate(&state, &first), AuthOutcome::Unknown));
    assert_eq!(get_or_create(&state, user.id), regenerated.as_str());
    let revoked = state
        .domain
        .db
        .run(|conn| state.domain.tokens.revoke(conn, user.id, None, "test"))
        .unwrap();
    assert!(revoked);
    assert!(matches!(
        authenticate(&state, regenerated.as_str()),
        AuthOutcome::Unknown
    ));
    let kinds: Vec<String> = state
        .domain
        .db
        .run(|conn| authtoken::models::events::for_user(conn, user.id, 10))
        .unwrap()
        .into_iter()
        .map(|e| e.kind.to_string())
        .collect();
    assert_eq!(kinds, ["revoked", "regenerated", "created"]);
}

#[test]
fn a_changed_secret_gives_a_new_key_on_get_or_create_and_the_old_works_until_then() {
    let db = TestDatabase::new();
    let before = state(&db, &[]);
    let user = create(&before, "carol");
    let old = get_or_create(&before, user.id);
    let after = state(
        &db,
        &[(
            "SECRET_KEY",
            "a-completely-different-secret-0123456789abcdef",
        )],
    );
    // Authenticating needs no secret: the digest still matches.
    assert!(matches!(authenticate(&after, &old), AuthOutcome::Valid(..)));
    let new = get_or_create(&after, user.id);
    assert_ne!(new, old);
    assert!(matches!(authenticate(&after, &old), AuthOutcome::Unknown));
    assert!(matches!(authenticate(&after, &new), AuthOutcome::Valid(..)));
    assert_eq!(get_or_create(&after, user.id), new);
}

#[test]
fn an_expired_key_is_refused_and_replaced() {
    let db = TestDatabase::new();
    let state = state(&db, &[("TOKEN_TTL", "1s")]);
    let user = create(&state, "dave");
    let old = get_or_create(&state, user.id);
    assert!(matches!(authenticate(&state, &old), AuthOutcome::Valid(..)));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert!(matches!(authenticate(&state, &old), AuthOutcome::Expired));
    let new = get_or_create(&state, user.id);
    assert_ne!(new, old);
    assert!(matches!(authenticate(&state, &new), AuthOutcome::Valid(..)));
}

#[test]
fn sixteen_threads_get_or_create_one_key() {
    let db = TestDatabase::new();
    let state = state(&db, &[("DATABASE_POOL_SIZE", "16")]);
    let user = create(&state, "erin");
    state
        .domain
        .db
        .run(|conn| state.domain.tokens.revoke(conn, user.id, None, "test"))
        .unwrap();
    let barrier = Arc::new(std::sync::Barrier::new(16));
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let state = state.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                state
                    .domain
                    .db
                    .run(|conn| state.domain.tokens.get_or_create(conn, user.id, "test"))
                    .map(|k| k.as_str().to_string())
            })
        })
        .collect();
    let keys: Vec<String> = threads
        .into_iter()
        .map(|t| t.join().unwrap().expect("no error"))
        .collect();
    assert!(keys.iter().all(|k| *k == keys[0]), "one key for all");
    let rows: i64 = state
        .domain
        .db
        .run(|conn| {
            authtoken::schema::tokens::table
                .filter(authtoken::schema::tokens::user_id.eq(user.id))
                .count()
                .get_result(conn)
                .map_err(DbError::from)
        })
        .unwrap();
    assert_eq!(rows, 1);
}

#[test]
fn a_failing_hook_leaves_no_user() {
    let db = TestDatabase::new();
    let state = state(&db, &[]);
    let mut hooks = state.domain.hooks.clone();
    hooks.register("always fails", |_: &mut DbConnection, _: &User, _: &str| {
        Err(HookError::Failed("refused".into()))
    });
    let result = state
        .domain
        .db
        .run(|conn| users::create_user(conn, &hooks, &new_user("frank"), "test"));
    assert!(matches!(
        result,
        Err(CreateUserError::Hook {
            hook: "always fails",
            ..
        })
    ));
    let found = state
        .domain
        .db
        .run(|conn| users::find_by_username(conn, "frank"))
        .unwrap();
    assert!(found.is_none());
    // Nor its token, which the first hook had inserted.
    let tokens: i64 = state
        .domain
        .db
        .run(|conn| {
            authtoken::schema::tokens::table
                .count()
                .get_result(conn)
                .map_err(DbError::from)
        })
        .unwrap();
    assert_eq!(tokens, 0);
}

#[test]
fn duplicate_usernames_are_refused_cleanly() {
    let db = TestDatabase::new();
    let state = state(&db, &[]);
    create(&state, "gina");
    let again = state
        .domain
        .db
        .run(|conn| users::create_user(conn, &state.domain.hooks, &new_user("gina"), "test"));
    assert!(matches!(again, Err(CreateUserError::UsernameTaken)));
}

#[derive(QueryableByName)]
struct RawToken {
    #[diesel(sql_type = diesel::sql_types::Text)]
    everything: String,
}

#[test]
fn no_column_of_the_tokens_table_holds_a_usable_key() {
    let db = TestDatabase::new();
    let state = state(&db, &[]);
    let user = create(&state, "hank");
    let key = get_or_create(&state, user.id);
    // Every column, as text, straight from the database.
    let rows: Vec<RawToken> = state
        .domain
        .db
        .run(|conn| {
            diesel::sql_query(
                "SELECT CAST(user_id AS TEXT) || '|' || digest || '|' || sealed || '|' || prefix \
                 || '|' || CAST(created AS TEXT) || '|' || COALESCE(CAST(last_used AS TEXT), '') \
                 || '|' || COALESCE(CAST(expires AS TEXT), '') AS everything FROM tokens",
            )
            .load(conn)
            .map_err(DbError::from)
        })
        .unwrap();
    assert_eq!(rows.len(), 1);
    let stored = rows[0].everything.to_lowercase();
    assert!(!stored.contains(&key), "the key is stored in clear");
    assert!(!stored.contains(&key[8..]), "most of the key is stored");
    assert!(
        !stored.contains(&hex_of(&key)),
        "the key is stored as hex of its bytes"
    );
    // What is stored is its digest, and the 8-character prefix for display.
    assert!(stored.contains(Digest::of(&key).as_str()));
    assert!(stored.contains(&key[..8]));
}

fn hex_of(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

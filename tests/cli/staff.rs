//! `user reset-2fa` and `user set-password`: for a staff member who lost
//! their authenticator or password. Each ends the user's admin sessions on
//! a running server at once and is audited as the command line's.

use super::*;
use authtoken::db::DbError;
use authtoken::models::admin_sessions::{self, Client as SessionClient};
use authtoken::models::audit::{AuditAction, AuditEvent};
use authtoken::models::two_factor::{self, TotpSecret};
use authtoken::models::{User, clock};
use authtoken::schema;
use common::TestApp;
use diesel::prelude::*;

const PASSWORD: &str = "correct horse";

/// Signs in through the admin's form: the client (cookies kept) and where
/// the sign-in sent it.
async fn admin_sign_in(app: &TestApp, username: &str, password: &str) -> (reqwest::Client, String) {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = http
        .get(app.url("/admin/login/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = "name=\"csrf_token\" value=\"";
    let start = form.find(marker).expect("a CSRF token") + marker.len();
    let csrf = &form[start..start + form[start..].find('"').unwrap()];
    let response = http
        .post(app.url("/admin/login/"))
        .form(&[
            ("csrf_token", csrf),
            ("username", username),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (http, location)
}

async fn status_of(http: &reqwest::Client, app: &TestApp, path: &str) -> u16 {
    http.get(app.url(path))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn sessions_of(app: &TestApp, user: &User) -> i64 {
    use schema::admin_sessions::dsl;
    app.state
        .domain
        .db
        .run(|conn| {
            dsl::admin_sessions
                .filter(dsl::user_id.eq(user.id))
                .count()
                .get_result(conn)
                .map_err(DbError::from)
        })
        .unwrap()
}

fn audited(app: &TestApp, action: AuditAction) -> Vec<AuditEvent> {
    use schema::audit_events::dsl;
    app.state
        .domain
        .db
        .run(|conn| {
            dsl::audit_events
                .filter(dsl::action.eq(action))
                .select(AuditEvent::as_select())
                .load(conn)
                .map_err(DbError::from)
        })
        .unwrap()
}

/// Two-factor sign-in turned on through the domain, as the account page does.
fn turn_on_two_factor(app: &TestApp, user: &User) {
    let domain = &app.state.domain;
    let secret = TotpSecret::generate();
    let sealed = secret.seal(&domain.totp_sealer, user.id);
    domain
        .db
        .run(|conn| {
            assert!(two_factor::start(conn, user.id, &sealed, clock::now())?);
            assert!(two_factor::enable(conn, user.id, &sealed, 1)?);
            Ok::<_, DbError>(())
        })
        .unwrap();
}

#[tokio::test]
async fn reset_2fa_turns_it_off_and_ends_the_sessions() {
    let app = spawn_app().await;
    let erin = app.create_user("erin", PASSWORD, true);
    turn_on_two_factor(&app, &erin);
    let (pending, location) = admin_sign_in(&app, "erin", PASSWORD).await;
    assert_eq!(location, "/admin/login/code/", "a code is asked for");
    // A complete session elsewhere, too.
    let client = SessionClient {
        address: "192.0.2.1".into(),
        user_agent: "elsewhere".into(),
    };
    app.state
        .domain
        .db
        .run(|conn| {
            admin_sessions::create(
                conn,
                &erin,
                false,
                &client,
                clock::now(),
                chrono::TimeDelta::hours(1),
            )
        })
        .unwrap();
    assert_eq!(sessions_of(&app, &erin), 2);

    let secret = [("SECRET_KEY", SECRET)];
    let out = authtoken(&app.db, &["user", "reset-2fa", "erin"], &secret);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "Turned off two-factor sign-in for user erin; their admin sessions ended.\n"
    );
    assert_eq!(sessions_of(&app, &erin), 0);
    assert_eq!(status_of(&pending, &app, "/admin/login/code/").await, 302);
    // The password alone signs in now.
    let (_, location) = admin_sign_in(&app, "erin", PASSWORD).await;
    assert_eq!(location, "/admin/users/");
    let disabled = audited(&app, AuditAction::TwoFactorDisabled);
    assert_eq!(disabled.len(), 1);
    assert_eq!(
        (
            disabled[0].actor.as_str(),
            disabled[0].address.as_str(),
            disabled[0].username.as_str()
        ),
        ("cli", "cli", "erin")
    );

    // Again: nothing to turn off, said so, still exit 0.
    let out = authtoken(&app.db, &["user", "reset-2fa", "erin"], &secret);
    assert!(out.status.success());
    assert_eq!(
        stdout(&out),
        "User erin does not have two-factor sign-in on.\n"
    );
    assert_eq!(audited(&app, AuditAction::TwoFactorDisabled).len(), 1);

    let out = authtoken(&app.db, &["user", "reset-2fa", "nobody"], &secret);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "CommandError: user nobody does not exist\n");
    assert_eq!(stdout(&out), "");
}

#[tokio::test]
async fn set_password_sets_it_and_ends_the_sessions() {
    let app = spawn_app().await;
    let erin = app.create_user("erin", PASSWORD, true);
    let (signed_in, location) = admin_sign_in(&app, "erin", PASSWORD).await;
    assert_eq!(location, "/admin/users/");
    assert_eq!(status_of(&signed_in, &app, "/admin/users/").await, 200);

    let new_password = "a brand new passphrase";
    let env = [("SECRET_KEY", SECRET), ("AUTHTOKEN_PASSWORD", new_password)];
    let out = authtoken(&app.db, &["user", "set-password", "erin"], &env);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "Set a new password for user erin; their admin sessions ended.\n"
    );
    assert!(!stdout(&out).contains(new_password) && !stderr(&out).contains(new_password));
    assert_eq!(sessions_of(&app, &erin), 0);
    assert_eq!(status_of(&signed_in, &app, "/admin/users/").await, 302);
    let (_, location) = admin_sign_in(&app, "erin", PASSWORD).await;
    assert_eq!(location, "", "the old password is refused");
    let (_, location) = admin_sign_in(&app, "erin", new_password).await;
    assert_eq!(location, "/admin/users/");
    // The API takes the new password too.
    let response = app
        .post_json(
            "/api-token-auth/",
            &serde_json::json!({"username": "erin", "password": new_password}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let set = audited(&app, AuditAction::PasswordSet);
    assert_eq!(set.len(), 1);
    assert_eq!(
        (set[0].actor.as_str(), set[0].username.as_str()),
        ("cli", "erin")
    );

    // A password the sign-up would refuse is refused here too.
    let env = [("SECRET_KEY", SECRET), ("AUTHTOKEN_PASSWORD", "1234")];
    let out = authtoken(&app.db, &["user", "set-password", "erin"], &env);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("CommandError: "),
        "{}",
        stderr(&out)
    );
    let (_, location) = admin_sign_in(&app, "erin", new_password).await;
    assert_eq!(location, "/admin/users/", "unchanged");
    // No password at all (no variable, no terminal).
    let out = authtoken(
        &app.db,
        &["user", "set-password", "erin"],
        &[("SECRET_KEY", SECRET)],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "CommandError: no password: set AUTHTOKEN_PASSWORD or run in a terminal\n"
    );
    let out = authtoken(&app.db, &["user", "set-password", "nobody"], &env);
    assert_eq!(stderr(&out), "CommandError: user nobody does not exist\n");
    assert_eq!(audited(&app, AuditAction::PasswordSet).len(), 1);
}

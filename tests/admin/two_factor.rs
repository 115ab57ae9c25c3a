//! Two-factor sign-in: enrolment, the code after the password (TOTP or a
//! recovery code, each step and code once), the throttle, what a pending
//! session may reach, ADMIN_REQUIRE_2FA, turning it off, and the audit.

use super::*;
use authtoken::models::audit::{AuditAction, AuditEvent};
use totp_rs::{Algorithm, Secret};

pub const CODE_REFUSED: &str = "That code is not valid.";

/// The text of the element with `id="<id>"`.
pub fn text_of_id(body: &str, id: &str) -> Option<String> {
    let start = body.find(&format!("id=\"{id}\""))?;
    let rest = &body[start..];
    let open = rest.find('>')? + 1;
    let close = rest[open..].find('<')?;
    Some(rest[open..open + close].trim().to_string())
}

/// The recovery codes shown in `id="recovery-codes"`.
pub fn recovery_codes(body: &str) -> Vec<String> {
    let Some(start) = body.find("id=\"recovery-codes\"") else {
        return Vec::new();
    };
    let list = &body[start
        ..body[start..]
            .find("</ul>")
            .map_or(body.len(), |e| start + e)];
    list.split("class=\"recovery-code")
        .skip(1)
        .filter_map(|part| {
            let open = part.find('>')? + 1;
            let close = part[open..].find('<')?;
            Some(part[open..open + close].trim().to_string())
        })
        .collect()
}

/// The RFC 6238 code of `secret` (base32, as the page shows it) for `step`.
pub fn code_for_step(secret: &str, step: i64) -> String {
    let bytes = Secret::try_from_base32(secret)
        .expect("a base32 secret")
        .as_ref()
        .to_vec();
    let totp = totp_rs::Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_secret(bytes)
        .build()
        .expect("a valid TOTP");
    totp.generate(u64::try_from(step).unwrap() * 30).to_string()
}

pub fn current_step() -> i64 {
    authtoken::models::clock::now().and_utc().timestamp() / 30
}

/// The step the server last accepted for the user.
pub fn last_step(app: &TestApp, user: UserId) -> Option<i64> {
    use schema::two_factor::dsl;
    app.state
        .domain
        .db
        .run(|conn| {
            dsl::two_factor
                .find(user)
                .select(dsl::last_step)
                .first::<Option<i64>>(conn)
                .optional()
                .map_err(authtoken::db::DbError::from)
        })
        .unwrap()
        .flatten()
}

pub fn audit_rows(app: &TestApp) -> Vec<AuditEvent> {
    use schema::audit_events::dsl;
    app.state
        .domain
        .db
        .run(|conn| {
            dsl::audit_events
                .order(dsl::id.asc())
                .select(AuditEvent::as_select())
                .load(conn)
                .map_err(authtoken::db::DbError::from)
        })
        .unwrap()
}

pub fn audited(app: &TestApp, action: AuditAction) -> Vec<AuditEvent> {
    audit_rows(app)
        .into_iter()
        .filter(|e| e.action == action)
        .collect()
}

/// Sign-ins and failed sign-ins counted for the overview, in all.
pub fn activity(app: &TestApp) -> (i64, i64) {
    use schema::sign_in_counts::dsl;
    let rows: Vec<(i32, i32)> = app
        .state
        .domain
        .db
        .run(|conn| {
            dsl::sign_in_counts
                .select((dsl::ok, dsl::failed))
                .load(conn)
                .map_err(authtoken::db::DbError::from)
        })
        .unwrap();
    rows.iter().fold((0, 0), |(ok, failed), (o, f)| {
        (ok + i64::from(*o), failed + i64::from(*f))
    })
}

/// Turns two-factor sign-in on from the account page of a signed-in
/// client: the secret it showed and the recovery codes.
pub async fn enrol(client: &Client<'_>) -> (String, Vec<String>) {
    let page = client.get("/admin/account/").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(">Turn on two-factor sign-in</button>"));
    let csrf = page.csrf();
    let page = client
        .post(
            "/admin/account/",
            &[("csrf_token", &csrf), ("action", "enable")],
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let secret = text_of_id(&page.body, "totp-secret").expect("the secret is shown");
    assert!(page.body.contains("<svg"), "an inline QR code");
    assert!(page.body.contains(">Verify</button>"));
    let code = code_for_step(&secret, current_step());
    let page = client
        .post(
            "/admin/account/",
            &[
                ("csrf_token", &csrf),
                ("action", "confirm"),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let codes = recovery_codes(&page.body);
    assert_eq!(codes.len(), 10, "{}", page.body);
    (secret, codes)
}

/// The password step of the sign-in, for a user with two-factor sign-in on.
pub async fn password_step(client: &Client<'_>, username: &str, next: &str) -> Page {
    let page = client.sign_in_with_next(username, PASSWORD, next).await;
    assert_eq!(page.status, 303, "{}", page.body);
    page
}

/// Submits a code on the code form.
pub async fn submit_code(client: &Client<'_>, code: &str) -> Page {
    let form = client.get("/admin/login/code/").await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = form.csrf();
    client
        .post(
            "/admin/login/code/",
            &[("csrf_token", &csrf), ("code", code), ("next", "")],
        )
        .await
}

#[tokio::test]
async fn enrolment_needs_a_valid_code_and_shows_recovery_codes_once() {
    let app = spawn_app().await;
    let (client, admin) = signed_in(&app).await;
    let page = client.get("/admin/account/").await;
    assert!(text_of_id(&page.body, "two-factor-state").as_deref() == Some("Off"));
    let csrf = page.csrf();
    let page = client
        .post(
            "/admin/account/",
            &[("csrf_token", &csrf), ("action", "enable")],
        )
        .await;
    let secret = text_of_id(&page.body, "totp-secret").unwrap();
    assert_eq!(secret.len(), 32, "160 bits in base32: {secret}");
    assert!(
        secret
            .chars()
            .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c))
    );
    // The QR code is inline SVG, never a data: image.
    assert!(page.body.contains("<svg role=\"img\""));
    assert!(!page.body.contains("data:"));
    // The secret is stored sealed, never as shown.
    let stored: String = app
        .state
        .domain
        .db
        .run(|conn| {
            schema::two_factor::table
                .find(admin.id)
                .select(schema::two_factor::sealed_secret)
                .first(conn)
                .map_err(authtoken::db::DbError::from)
        })
        .unwrap();
    assert!(!stored.contains(&secret));

    // A wrong code: not on, the same secret asked for again.
    let wrong = code_for_step(&secret, current_step() + 5);
    let page = client
        .post(
            "/admin/account/",
            &[
                ("csrf_token", &csrf),
                ("action", "confirm"),
                ("code", &wrong),
            ],
        )
        .await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(super::two_factor::CODE_REFUSED),
        "{}",
        page.body
    );
    assert_eq!(text_of_id(&page.body, "totp-secret"), Some(secret.clone()));
    assert!(recovery_codes(&page.body).is_empty());
    assert!(audited(&app, AuditAction::TwoFactorEnabled).is_empty());
    // Reloading shows the enrolment still waiting.
    let page = client.get("/admin/account/").await;
    assert_eq!(text_of_id(&page.body, "totp-secret"), Some(secret.clone()));

    let step = current_step();
    let page = client
        .post(
            "/admin/account/",
            &[
                ("csrf_token", &csrf),
                ("action", "confirm"),
                ("code", &code_for_step(&secret, step)),
            ],
        )
        .await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("cache-control"), Some("no-store"));
    let codes = recovery_codes(&page.body);
    assert_eq!(codes.len(), 10);
    let unique: std::collections::HashSet<_> = codes.iter().collect();
    assert_eq!(unique.len(), 10);
    // The confirming step counts as used.
    assert!(last_step(&app, admin.id).is_some_and(|s| s >= step));
    // Only digests are stored.
    let digests: Vec<String> = app
        .state
        .domain
        .db
        .run(|conn| {
            schema::recovery_codes::table
                .select(schema::recovery_codes::digest)
                .load(conn)
                .map_err(authtoken::db::DbError::from)
        })
        .unwrap();
    assert_eq!(digests.len(), 10);
    for code in &codes {
        assert!(digests.iter().all(|d| !d.contains(code.as_str())));
    }
    // Shown once: the next page has none, and says it is on.
    let page = client.get("/admin/account/").await;
    assert!(recovery_codes(&page.body).is_empty());
    assert!(!page.body.contains("totp-secret"));
    assert_eq!(
        text_of_id(&page.body, "two-factor-state").as_deref(),
        Some("On")
    );
    let enabled = audited(&app, AuditAction::TwoFactorEnabled);
    assert_eq!(enabled.len(), 1);
    assert_eq!(enabled[0].actor, "admin");
    assert_eq!(enabled[0].address, "127.0.0.1");
}

#[tokio::test]
async fn sign_in_asks_for_the_code_and_a_step_is_never_accepted_twice() {
    let app = spawn_app().await;
    let (client, admin) = signed_in(&app).await;
    let (secret, _) = enrol(&client).await;
    let confirmed = last_step(&app, admin.id).unwrap();
    let (ok_before, failed_before) = activity(&app);

    let other = Client::new(&app);
    let page = password_step(&other, "admin", "/admin/users/2/").await;
    assert_eq!(
        page.location(),
        Some("/admin/login/code/?next=/admin/users/2/")
    );
    // The password alone is no sign-in.
    assert!(
        audited(&app, AuditAction::SignIn).len() == 1,
        "only the first one"
    );
    // The step that confirmed the enrolment is used up.
    let page = submit_code(&other, &code_for_step(&secret, confirmed)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(CODE_REFUSED), "{}", page.body);
    // The next step is fine.
    let form = other.get("/admin/login/code/?next=/admin/users/").await;
    let page = other
        .post(
            "/admin/login/code/",
            &[
                ("csrf_token", &form.csrf()),
                ("code", &code_for_step(&secret, confirmed + 1)),
                ("next", "/admin/users/"),
            ],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.location(), Some("/admin/users/"));
    assert_eq!(other.get("/admin/users/").await.status, 200);

    // Replayed at once by a third browser (the same step): refused.
    let third = Client::new(&app);
    password_step(&third, "admin", "").await;
    let page = submit_code(&third, &code_for_step(&secret, confirmed + 1)).await;
    assert!(page.body.contains(CODE_REFUSED));
    assert_eq!(third.get("/admin/users/").await.status, 302);

    let signed_in = audited(&app, AuditAction::SignIn);
    assert_eq!(signed_in.len(), 2);
    assert_eq!(signed_in[1].detail, "authenticator code");
    let failed = audited(&app, AuditAction::SignInFailed);
    assert_eq!(failed.len(), 2);
    assert!(
        failed
            .iter()
            .all(|e| e.actor == "admin" && e.detail == "wrong code")
    );
    let (ok, failed) = activity(&app);
    assert_eq!((ok - ok_before, failed - failed_before), (1, 2));
}

#[tokio::test]
async fn a_recovery_code_works_once() {
    let app = spawn_app().await;
    let (client, _) = signed_in(&app).await;
    let (_, codes) = enrol(&client).await;

    let second = Client::new(&app);
    password_step(&second, "admin", "").await;
    // Typed loosely: upper case, a space for the dash.
    let typed = codes[3].to_uppercase().replace('-', " ");
    let page = submit_code(&second, &typed).await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(second.get("/admin/users/").await.status, 200);
    let page = second.get("/admin/account/").await;
    assert!(
        page.body.contains("9 unused recovery codes"),
        "{}",
        page.body
    );

    let third = Client::new(&app);
    password_step(&third, "admin", "").await;
    let page = submit_code(&third, &codes[3]).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(CODE_REFUSED));
    assert_eq!(third.get("/admin/users/").await.status, 302);
    // Another unused one works.
    let page = submit_code(&third, &codes[4]).await;
    assert_eq!(page.status, 303);
    let signed_in = audited(&app, AuditAction::SignIn);
    assert_eq!(signed_in.last().unwrap().detail, "recovery code");
}

#[tokio::test]
async fn wrong_codes_are_throttled_like_wrong_passwords() {
    let app = spawn_app_with(&[("LOGIN_THROTTLE", "3/min")]).await;
    let (client, _) = signed_in(&app).await;
    let (_, codes) = enrol(&client).await;
    let attacker = Client::new(&app);
    password_step(&attacker, "admin", "").await;
    for _ in 0..3 {
        let page = submit_code(&attacker, "000000").await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains(CODE_REFUSED));
    }
    // Even a right code is refused now, with the throttle's answer.
    let page = submit_code(&attacker, &codes[0]).await;
    assert_eq!(page.status, 429, "{}", page.body);
    assert!(page.header("retry-after").is_some());
    assert!(page.body.contains("Too many failed sign-in attempts."));
    assert_eq!(attacker.get("/admin/users/").await.status, 302);
    // The password again does not reset the count of wrong codes.
    let page = Client::new(&app).sign_in("admin", PASSWORD).await;
    assert_eq!(page.status, 429);
    // The recovery code was not used up by the refused attempt.
    assert_eq!(
        audited(&app, AuditAction::SignInFailed).len(),
        3,
        "the throttled attempts are not checked"
    );
    let (_, failed) = activity(&app);
    assert!(
        failed >= 4,
        "refused codes and the throttled attempts count: {failed}"
    );
}

#[tokio::test]
async fn nothing_but_the_code_form_and_sign_out_before_the_code() {
    let app = spawn_app().await;
    let (client, admin) = signed_in(&app).await;
    enrol(&client).await;

    let pending = Client::new(&app);
    password_step(&pending, "admin", "").await;
    for path in [
        "/admin/users/",
        &format!("/admin/users/{}/", admin.id),
        "/admin/account/",
        "/admin/",
    ] {
        let page = pending.get(path).await;
        assert!(
            page.status == 302 || page.status == 303,
            "{path}: {}",
            page.status
        );
        let location = page.location().unwrap_or_default().to_string();
        assert!(
            location.starts_with("/admin/login/code/") || location == "/admin/users/",
            "{path} → {location}"
        );
        if location == "/admin/users/" {
            assert_eq!(
                pending.get(&location).await.location(),
                Some("/admin/login/code/")
            );
        }
    }
    let page = pending.get("/admin/login/").await;
    assert_eq!(page.location(), Some("/admin/login/code/"));
    // An action with a good CSRF token does nothing either.
    let form = pending.get("/admin/login/code/").await;
    assert!(form.body.contains(">Sign out</button>"));
    let csrf = form.csrf();
    let page = pending
        .post(
            &format!("/admin/users/{}/token/revoke/", admin.id),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(page.location(), Some("/admin/login/code/"));
    assert!(
        app.state
            .domain
            .db
            .run(|c| app.state.domain.tokens.find(c, admin.id))
            .unwrap()
            .is_some()
    );
    let page = pending
        .post(
            "/admin/account/",
            &[("csrf_token", &csrf), ("action", "sign_out_others")],
        )
        .await;
    assert_eq!(page.location(), Some("/admin/login/code/"));
    assert_eq!(client.get("/admin/users/").await.status, 200);
    // The pending session is not listed among the open ones.
    let page = client.get("/admin/account/").await;
    assert_eq!(
        page.body.matches("<tr class=\"session").count(),
        1,
        "{}",
        page.body
    );
    // Sign out works, and then the code form is gone.
    let page = pending
        .post("/admin/logout/", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(page.location(), Some("/admin/login/"));
    assert_eq!(
        pending.get("/admin/login/code/").await.location(),
        Some("/admin/login/")
    );
}

#[tokio::test]
async fn admin_require_2fa_sends_staff_to_their_account_until_it_is_on() {
    let app = spawn_app_with(&[("ADMIN_REQUIRE_2FA", "true")]).await;
    let (client, _) = signed_in(&app).await;
    let page = client.get("/admin/users/").await;
    assert_eq!(page.status, 302);
    assert_eq!(page.location(), Some("/admin/account/"));
    let page = client.get("/admin/account/").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"two-factor-required\""));
    enrol(&client).await;
    assert_eq!(client.get("/admin/users/").await.status, 200);
    let page = client.get("/admin/account/").await;
    assert!(!page.body.contains("id=\"two-factor-required\""));
}

#[tokio::test]
async fn turning_it_off_needs_a_code() {
    let app = spawn_app().await;
    let (client, admin) = signed_in(&app).await;
    let (_, codes) = enrol(&client).await;
    let page = client.get("/admin/account/").await;
    assert!(page.body.contains(">Turn off two-factor sign-in</button>"));
    let csrf = page.csrf();
    let page = client
        .post(
            "/admin/account/",
            &[
                ("csrf_token", &csrf),
                ("action", "disable"),
                ("code", "123456"),
            ],
        )
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("two-factor sign-in stays on"));
    assert_eq!(
        text_of_id(&page.body, "two-factor-state").as_deref(),
        Some("On")
    );
    let page = client
        .post(
            "/admin/account/",
            &[
                ("csrf_token", &csrf),
                ("action", "disable"),
                ("code", &codes[0]),
            ],
        )
        .await;
    assert_eq!(page.status, 303);
    let page = client.get("/admin/account/").await;
    assert!(page.body.contains("Two-factor sign-in is off."));
    assert_eq!(
        text_of_id(&page.body, "two-factor-state").as_deref(),
        Some("Off")
    );
    assert!(last_step(&app, admin.id).is_none());
    // The password alone signs in again.
    let again = Client::new(&app);
    let page = again.sign_in("admin", PASSWORD).await;
    assert_eq!(page.location(), Some("/admin/users/"));
    let disabled = audited(&app, AuditAction::TwoFactorDisabled);
    assert_eq!(disabled.len(), 1);
    assert_eq!(disabled[0].actor, "admin");
}

#[tokio::test]
async fn admin_sign_ins_and_failures_are_audited_and_counted() {
    let app = spawn_app().await;
    app.create_user("admin", PASSWORD, true);
    let client = Client::new(&app);
    let page = client.sign_in("admin", "hunter2-guess").await;
    assert_eq!(page.status, 200);
    let page = client.sign_in("nobody", "hunter2-guess").await;
    assert_eq!(page.status, 200);
    let page = client.sign_in("admin", PASSWORD).await;
    assert_eq!(page.status, 303);
    let csrf = client.csrf().await;
    client
        .post("/admin/logout/", &[("csrf_token", &csrf)])
        .await;
    let rows = audit_rows(&app);
    let summary: Vec<(AuditAction, &str, &str)> = rows
        .iter()
        .map(|e| (e.action, e.actor.as_str(), e.address.as_str()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (AuditAction::SignInFailed, "admin", "127.0.0.1"),
            (AuditAction::SignInFailed, "nobody", "127.0.0.1"),
            (AuditAction::SignIn, "admin", "127.0.0.1"),
            (AuditAction::SignOut, "admin", "127.0.0.1"),
        ]
    );
    assert_eq!(rows[2].username, "admin");
    assert_eq!(activity(&app), (1, 2));
    // Passwords never reach the audit trail.
    assert!(rows.iter().all(|e| !e.detail.contains("hunter2")));
    assert_eq!(rows[0].detail, "wrong password");
}

#[tokio::test]
async fn the_same_code_sent_twice_at_once_signs_in_once() {
    let app = spawn_app().await;
    let (client, admin) = signed_in(&app).await;
    let (secret, _) = enrol(&client).await;
    let code = code_for_step(&secret, last_step(&app, admin.id).unwrap() + 1);
    let (a, b) = (Client::new(&app), Client::new(&app));
    password_step(&a, "admin", "").await;
    password_step(&b, "admin", "").await;
    let (form_a, form_b) = (
        a.get("/admin/login/code/").await,
        b.get("/admin/login/code/").await,
    );
    let (csrf_a, csrf_b) = (form_a.csrf(), form_b.csrf());
    let fields_a = [("csrf_token", csrf_a.as_str()), ("code", code.as_str())];
    let fields_b = [("csrf_token", csrf_b.as_str()), ("code", code.as_str())];
    let (page_a, page_b) = tokio::join!(
        a.post("/admin/login/code/", &fields_a),
        b.post("/admin/login/code/", &fields_b),
    );
    let mut statuses = [page_a.status, page_b.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 303], "exactly one of them signs in");
    assert_eq!(audited(&app, AuditAction::SignIn).len(), 2);
}

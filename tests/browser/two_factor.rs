//! Two-factor sign-in in the browser: enrolment (the QR code drawn inline,
//! the secret, the recovery codes), signing in with a code and with a
//! recovery code, a replayed code refused, and sign-out ending a copy of
//! the session's cookie.

use super::*;
use totp_rs::{Algorithm, Secret};

fn code_for_step(secret: &str, step: i64) -> String {
    let bytes = Secret::try_from_base32(secret)
        .expect("a base32 secret")
        .as_ref()
        .to_vec();
    totp_rs::Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_secret(bytes)
        .build()
        .expect("a valid TOTP")
        .generate(u64::try_from(step).unwrap() * 30)
        .to_string()
}

fn current_step() -> i64 {
    authtoken::models::clock::now().and_utc().timestamp() / 30
}

/// The step the server accepted last for the user.
fn last_step(app: &TestApp, user: authtoken::models::UserId) -> i64 {
    use authtoken::schema::two_factor::dsl;
    use diesel::prelude::*;
    app.state
        .domain
        .db
        .run(|conn| {
            dsl::two_factor
                .find(user)
                .select(dsl::last_step)
                .first::<Option<i64>>(conn)
                .map_err(authtoken::db::DbError::from)
        })
        .unwrap()
        .expect("a step was accepted")
}

async fn type_into(c: &Client, id: &str, text: &str) -> Outcome {
    let field = c.find(Locator::Id(id)).await?;
    field.clear().await?;
    field.send_keys(text).await?;
    Ok(())
}

/// The password step from the sign-in form: the code form follows.
async fn sign_in_to_code_form(c: &Client, app: &TestApp) -> Outcome {
    c.goto(&app.url("/admin/login/")).await?;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Id("id_username"))
        .await?;
    type_into(c, "id_username", "admin").await?;
    type_into(c, "id_password", PASSWORD).await?;
    click_and_wait(
        c,
        Locator::XPath(&button("Sign in")),
        Locator::Id("id_code"),
    )
    .await?;
    assert_eq!(path_of(c).await?, "/admin/login/code/");
    Ok(())
}

/// A GET with only this cookie, as a copy of it elsewhere would send.
async fn status_with_cookie(app: &TestApp, cookie: &str) -> u16 {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/admin/users/"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn two_factor_sign_in_in_the_browser() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    let admin = app.create_user("admin", PASSWORD, true);
    let outcome = AssertUnwindSafe(story(&browser.client, &app, admin.id))
        .catch_unwind()
        .await;
    browser.finish(outcome).await;
}

async fn story(c: &Client, app: &TestApp, admin: authtoken::models::UserId) -> Outcome {
    // Signed in with the password alone, to the account page.
    c.goto(&app.url("/admin/login/?next=/admin/account/"))
        .await?;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Id("id_username"))
        .await?;
    type_into(c, "id_username", "admin").await?;
    type_into(c, "id_password", PASSWORD).await?;
    click_and_wait(
        c,
        Locator::XPath(&button("Sign in")),
        Locator::XPath(&button("Turn on two-factor sign-in")),
    )
    .await?;
    assert_eq!(path_of(c).await?, "/admin/account/");
    screenshot(c, "2fa-01-account").await?;

    // Enrolment: the QR code is drawn inline and the secret is shown.
    click_and_wait(
        c,
        Locator::XPath(&button("Turn on two-factor sign-in")),
        Locator::Id("totp-secret"),
    )
    .await?;
    let secret = c.find(Locator::Id("totp-secret")).await?.text().await?;
    let secret = secret.trim().to_string();
    assert_eq!(secret.len(), 32, "{secret:?}");
    let qr = c.find(Locator::Css(".qr-box svg")).await?;
    let size = qr.rectangle().await?;
    assert!(
        size.2 >= 150.0 && size.3 >= 150.0,
        "the QR code is drawn: {size:?}"
    );
    screenshot(c, "2fa-02-enrolment").await?;

    // A wrong code does not turn it on.
    type_into(c, "id_code", &code_for_step(&secret, current_step() + 10)).await?;
    click_and_wait(
        c,
        Locator::XPath(&button("Verify")),
        Locator::Id("account-error"),
    )
    .await?;
    assert!(c.find(Locator::Id("recovery-codes")).await.is_err());
    // The right one does, and the recovery codes are shown.
    type_into(c, "id_code", &code_for_step(&secret, current_step())).await?;
    click_and_wait(
        c,
        Locator::XPath(&button("Verify")),
        Locator::Id("recovery-codes"),
    )
    .await?;
    let mut codes = Vec::new();
    for element in c
        .find_all(Locator::Css("#recovery-codes .recovery-code"))
        .await?
    {
        codes.push(element.text().await?.trim().to_string());
    }
    assert_eq!(codes.len(), 10, "{codes:?}");
    screenshot(c, "2fa-03-recovery-codes").await?;
    let enrolled_step = last_step(app, admin);

    // Sign out, then in again: the password leads to the code form, and
    // nothing else is reachable before the code.
    click_and_wait(
        c,
        Locator::XPath(&button("Sign out")),
        Locator::Id("id_username"),
    )
    .await?;
    sign_in_to_code_form(c, app).await?;
    screenshot(c, "2fa-04-code-form").await?;
    c.goto(&app.url("/admin/users/")).await?;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Id("id_code"))
        .await?;
    assert_eq!(path_of(c).await?, "/admin/login/code/");

    // The code that confirmed the enrolment is used up.
    type_into(c, "id_code", &code_for_step(&secret, enrolled_step)).await?;
    click_and_wait(
        c,
        Locator::XPath(&button("Verify")),
        Locator::Id("code-error"),
    )
    .await?;
    assert!(page_text(c).await?.contains("That code is not valid."));
    screenshot(c, "2fa-05-replayed-code-refused").await?;

    // The next step's code signs in.
    type_into(c, "id_code", &code_for_step(&secret, enrolled_step + 1)).await?;
    click_and_wait(c, Locator::XPath(&button("Verify")), Locator::Id("id_q")).await?;
    assert_eq!(path_of(c).await?, "/admin/users/");
    screenshot(c, "2fa-06-signed-in-with-code").await?;

    // A copy of the session's cookie works until the browser signs out.
    let cookie = c.get_named_cookie("authtoken_admin").await?;
    let copied = format!("authtoken_admin={}", cookie.value());
    assert_eq!(status_with_cookie(app, &copied).await, 200);
    click_and_wait(
        c,
        Locator::XPath(&button("Sign out")),
        Locator::Id("id_username"),
    )
    .await?;
    assert_eq!(status_with_cookie(app, &copied).await, 302);
    screenshot(c, "2fa-07-signed-out").await?;

    // A recovery code signs in, once.
    sign_in_to_code_form(c, app).await?;
    type_into(c, "id_code", &codes[0]).await?;
    click_and_wait(c, Locator::XPath(&button("Verify")), Locator::Id("id_q")).await?;
    screenshot(c, "2fa-08-signed-in-with-recovery-code").await?;
    c.goto(&app.url("/admin/account/")).await?;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Id("sessions"))
        .await?;
    let text = page_text(c).await?;
    assert!(text.contains("9 unused recovery codes"), "{text}");
    assert!(
        text.contains("HeadlessChrome") || text.contains("Chrome"),
        "{text}"
    );
    screenshot(c, "2fa-09-account").await?;
    click_and_wait(
        c,
        Locator::XPath(&button("Sign out")),
        Locator::Id("id_username"),
    )
    .await?;
    sign_in_to_code_form(c, app).await?;
    type_into(c, "id_code", &codes[0]).await?;
    click_and_wait(
        c,
        Locator::XPath(&button("Verify")),
        Locator::Id("code-error"),
    )
    .await?;
    screenshot(c, "2fa-10-used-recovery-code-refused").await?;
    Ok(())
}

//! Secrets stay out of logs and `Debug`: the real binary at
//! `RUST_LOG=trace`, every endpoint and admin action driven, and no password,
//! key, `Authorization` value, session cookie, CSRF token, password hash or
//! `SECRET_KEY` in what it wrote.

use authtoken::api::TokenAuth;
use authtoken::crypto::{Sealer, SecretKey};
use authtoken::db::ConnectionManager;
use authtoken::models::caller::Time;
use authtoken::models::{
    AuthOutcome, CallerToken, CallerUser, Digest, TokenKey, TokenRow, Tokens, User,
};
use authtoken::settings::Settings;
use diesel::prelude::*;
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::{Value, json};

use crate::common::{SECRET, TestDatabase};
use crate::support::{ChildServer, NEVER_A_HANG, blocking_client, command, connect};

const ALICE_PASSWORD: &str = "Alice-pw-5ecret-7f3a9c";
const WRONG_PASSWORD: &str = "Wrong-pw-5ecret-91b2e4";
const BOSS_PASSWORD: &str = "Boss-pw-5ecret-c0ffee";

/// Everything secret the test saw, to look for in the log afterwards.
#[derive(Default)]
struct Secrets(Vec<(String, String)>);

impl Secrets {
    fn add(&mut self, what: &str, value: &str) {
        assert!(!value.is_empty(), "{what} is empty");
        self.0.push((what.to_string(), value.to_string()));
    }

    /// A token key: whole, and without its 8-character display prefix.
    fn key(&mut self, what: &str, key: &str) {
        assert_eq!(key.len(), 40, "{what}: {key}");
        self.add(what, key);
        self.add(&format!("{what} after its prefix"), &key[8..]);
    }
}

/// An admin browser: keeps the session cookie by hand, so that every value
/// it ever had is known.
struct Browser<'a> {
    client: Client,
    server: &'a ChildServer,
    cookie: Option<String>,
}

impl Browser<'_> {
    fn send(&mut self, request: RequestBuilder, secrets: &mut Secrets) -> Response {
        let request = match &self.cookie {
            Some(cookie) => request.header("Cookie", cookie),
            None => request,
        };
        let response = request.send().unwrap();
        for set in response.headers().get_all("set-cookie") {
            let pair = set.to_str().unwrap().split(';').next().unwrap().to_string();
            let (_, value) = pair.split_once('=').unwrap();
            if !value.is_empty() {
                secrets.add("session cookie", value);
                self.cookie = Some(pair);
            }
        }
        response
    }

    fn get(&mut self, path: &str, secrets: &mut Secrets) -> (u16, String) {
        let response = self.send(self.client.get(self.server.url(path)), secrets);
        (response.status().as_u16(), response.text().unwrap())
    }

    fn post(&mut self, path: &str, form: &[(&str, &str)], secrets: &mut Secrets) -> (u16, String) {
        let response = self.send(self.client.post(self.server.url(path)).form(form), secrets);
        (response.status().as_u16(), response.text().unwrap())
    }
}

/// The value of the first `<input name="csrf_token" value="…">`.
fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf_token\" value=\"")
        .unwrap_or_else(|| panic!("no CSRF token in {html}"));
    let rest = &html[at + "name=\"csrf_token\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

fn new_token_of(html: &str) -> String {
    let at = html
        .find("id=\"new-token\"")
        .unwrap_or_else(|| panic!("no new token in {html}"));
    let rest = &html[at..];
    let rest = &rest[rest.find('>').unwrap() + 1..];
    rest[..rest.find('<').unwrap()].trim().to_string()
}

fn token_of(response: Response) -> String {
    let body: Value = response.json().unwrap();
    body["token"].as_str().unwrap().to_string()
}

fn with_key(request: RequestBuilder, scheme: &str, key: &str) -> RequestBuilder {
    request.header("Authorization", format!("{scheme} {key}"))
}

#[test]
fn trace_log_holds_no_secret() {
    trace_log_holds_no_secret_in("text");
}

#[test]
fn json_trace_log_holds_no_secret() {
    trace_log_holds_no_secret_in("json");
}

fn trace_log_holds_no_secret_in(log_format: &str) {
    let db = TestDatabase::new();
    let mut server = ChildServer::start(&db, &[("RUST_LOG", "trace"), ("LOG_FORMAT", log_format)]);
    let mut secrets = Secrets::default();
    secrets.add("SECRET_KEY", SECRET);
    secrets.add("alice's password", ALICE_PASSWORD);
    secrets.add("a wrong password", WRONG_PASSWORD);
    secrets.add("boss's password", BOSS_PASSWORD);
    let client = blocking_client();
    let url = |path: &str| server.url(path);

    // The API, every endpoint, the successes and the failures.
    let response = client
        .post(url("/api/auth/register/"))
        .json(
            &json!({"username": "alice", "password": ALICE_PASSWORD, "email": "alice@example.com"}),
        )
        .send()
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().unwrap();
    let alice_id = body["id"].as_i64().unwrap();
    let key1 = body["token"].as_str().unwrap().to_string();
    secrets.key("key from register", &key1);
    let credentials = json!({"username": "alice", "password": ALICE_PASSWORD});
    for path in ["/api-token-auth/", "/api/auth/login/"] {
        let response = client.post(url(path)).json(&credentials).send().unwrap();
        assert_eq!(token_of(response), key1);
        let response = client
            .post(url(path))
            .form(&[("username", "alice"), ("password", ALICE_PASSWORD)])
            .send()
            .unwrap();
        assert_eq!(token_of(response), key1);
        let form = reqwest::blocking::multipart::Form::new()
            .text("username", "alice")
            .text("password", ALICE_PASSWORD);
        let response = client.post(url(path)).multipart(form).send().unwrap();
        assert_eq!(token_of(response), key1);
        let response = client
            .post(url(path))
            .json(&json!({"username": "alice", "password": WRONG_PASSWORD}))
            .send()
            .unwrap();
        assert_eq!(response.status(), 400);
        // Bodies that fail to parse, with the password inside.
        let response = client
            .post(url(path))
            .header("Content-Type", "application/json")
            .body(format!(
                "{{\"username\": \"alice\", \"password\": \"{ALICE_PASSWORD}\""
            ))
            .send()
            .unwrap();
        assert_eq!(response.status(), 400);
        let response = client
            .post(url(path))
            .header("Content-Type", "text/plain")
            .body(format!("password={ALICE_PASSWORD}"))
            .send()
            .unwrap();
        assert_eq!(response.status(), 415);
        // Another method, with a key.
        let response = with_key(client.get(url(path)), "Token", &key1)
            .send()
            .unwrap();
        assert_eq!(response.status(), 405);
    }
    for scheme in ["Token", "token", "TOKEN"] {
        let response = with_key(client.get(url("/api/auth/me/")), scheme, &key1)
            .send()
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let response = with_key(client.head(url("/api/auth/me/")), "Token", &key1)
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    let unknown = TokenKey::generate(authtoken::models::KeyFormat::Drf);
    secrets.key("an unknown key", unknown.as_str());
    for value in [
        format!("Token {}", unknown.as_str()),
        format!("Token {key1} {key1}"),
        format!("Bearer {key1}"),
        format!("Basic {key1}"),
    ] {
        let response = client
            .get(url("/api/auth/me/"))
            .header("Authorization", value)
            .send()
            .unwrap();
        assert_eq!(response.status(), 401);
    }
    let response = with_key(client.delete(url("/api/auth/me/")), "Token", &key1)
        .send()
        .unwrap();
    assert_eq!(response.status(), 405);
    let response = with_key(
        client.post(url("/api/auth/token/regenerate/")),
        "Token",
        &key1,
    )
    .send()
    .unwrap();
    let key2 = token_of(response);
    secrets.key("regenerated key", &key2);
    let response = with_key(
        client.post(url("/api/auth/token/regenerate/")),
        "Token",
        &key1,
    )
    .send()
    .unwrap();
    assert_eq!(response.status(), 401);
    let response = with_key(client.post(url("/api/auth/logout/")), "Token", &key2)
        .send()
        .unwrap();
    assert_eq!(response.status(), 204);
    let response = with_key(client.post(url("/api/auth/logout/")), "Token", &key2)
        .send()
        .unwrap();
    assert_eq!(response.status(), 401);
    let response = client
        .post(url("/api-token-auth/"))
        .json(&credentials)
        .send()
        .unwrap();
    let key3 = token_of(response);
    secrets.key("key after logout", &key3);
    for path in [
        "/api-token-auth/",
        "/api/auth/login/",
        "/api/auth/register/",
        "/api/auth/me/",
        "/api/auth/logout/",
        "/api/auth/token/regenerate/",
    ] {
        let response = with_key(
            client.request(reqwest::Method::OPTIONS, url(path)),
            "Token",
            &key3,
        )
        .send()
        .unwrap();
        assert_eq!(response.status(), 200, "OPTIONS {path}");
    }
    for path in ["/healthz", "/readyz"] {
        assert_eq!(client.get(url(path)).send().unwrap().status(), 200);
    }
    assert_eq!(client.get(url("/nope/")).send().unwrap().status(), 404);

    // The admin: a staff user made by the command line, signed in with the
    // form, every action on alice.
    let out = command(
        &db,
        &[
            "user",
            "create",
            "boss",
            "--email",
            "boss@example.com",
            "--staff",
        ],
        &[("AUTHTOKEN_PASSWORD", BOSS_PASSWORD)],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut browser = Browser {
        client: blocking_client(),
        server: &server,
        cookie: None,
    };
    let (status, page) = browser.get("/admin/login/?next=/admin/users/", &mut secrets);
    assert_eq!(status, 200);
    let csrf = csrf_of(&page);
    secrets.add("CSRF token", &csrf);
    let (status, page) = browser.post(
        "/admin/login/",
        &[
            ("username", "boss"),
            ("password", WRONG_PASSWORD),
            ("next", "/admin/users/"),
            ("csrf_token", &csrf),
        ],
        &mut secrets,
    );
    assert_eq!(status, 200, "{page}");
    let csrf = csrf_of(&page);
    secrets.add("CSRF token", &csrf);
    let (status, _) = browser.post(
        "/admin/login/",
        &[
            ("username", "boss"),
            ("password", BOSS_PASSWORD),
            ("next", "/admin/users/"),
            ("csrf_token", &csrf),
        ],
        &mut secrets,
    );
    assert_eq!(status, 303);
    let (status, _) = browser.get("/admin/", &mut secrets);
    assert_eq!(status, 200);
    let (status, page) = browser.get("/admin/users/?q=ali&page=1", &mut secrets);
    assert_eq!(status, 200);
    assert!(page.contains("alice"));
    let user_page = format!("/admin/users/{alice_id}/");
    let (status, page) = browser.get(&user_page, &mut secrets);
    assert_eq!(status, 200);
    let csrf = csrf_of(&page);
    secrets.add("CSRF token", &csrf);
    let (status, page) = browser.post(
        &format!("{user_page}token/regenerate/"),
        &[("csrf_token", &csrf)],
        &mut secrets,
    );
    assert_eq!(status, 200, "{page}");
    let key4 = new_token_of(&page);
    secrets.key("key regenerated by the admin", &key4);
    for action in ["token/revoke/", "deactivate/", "activate/"] {
        let (status, _) = browser.post(
            &format!("{user_page}{action}"),
            &[("csrf_token", &csrf)],
            &mut secrets,
        );
        assert_eq!(status, 303, "{action}");
    }
    // A forged POST: refused.
    let (status, _) = browser.post(
        &format!("{user_page}deactivate/"),
        &[("csrf_token", "forged")],
        &mut secrets,
    );
    assert_eq!(status, 403);
    let (status, _) = browser.post("/admin/logout/", &[("csrf_token", &csrf)], &mut secrets);
    assert_eq!(status, 303);

    // Two-factor sign-in: the secret, the recovery codes and the session
    // ids never reach the log. Signed in again, enrolled, then signed in
    // with a recovery code.
    let (_, page) = browser.get("/admin/login/", &mut secrets);
    let csrf = csrf_of(&page);
    let form = [
        ("username", "boss"),
        ("password", BOSS_PASSWORD),
        ("next", ""),
        ("csrf_token", csrf.as_str()),
    ];
    let (status, _) = browser.post("/admin/login/", &form, &mut secrets);
    assert_eq!(status, 303);
    let (_, page) = browser.get("/admin/account/", &mut secrets);
    let csrf = csrf_of(&page);
    secrets.add("CSRF token", &csrf);
    let enable = [("csrf_token", csrf.as_str()), ("action", "enable")];
    let (status, page) = browser.post("/admin/account/", &enable, &mut secrets);
    assert_eq!(status, 200, "{page}");
    let secret = element_text(&page, "id=\"totp-secret\"");
    secrets.add("the TOTP secret", &secret);
    let step = authtoken::models::clock::now().and_utc().timestamp() / 30;
    let code = totp_rs::Builder::new()
        .with_secret(
            totp_rs::Secret::try_from_base32(&secret)
                .unwrap()
                .as_ref()
                .to_vec(),
        )
        .build()
        .unwrap()
        .generate(u64::try_from(step).unwrap() * 30)
        .to_string();
    let confirm = [
        ("csrf_token", csrf.as_str()),
        ("action", "confirm"),
        ("code", code.as_str()),
    ];
    let (status, page) = browser.post("/admin/account/", &confirm, &mut secrets);
    assert_eq!(status, 200, "{page}");
    let codes: Vec<String> = page
        .split("class=\"recovery-code")
        .skip(1)
        .map(|part| element_text(part, ""))
        .collect();
    assert_eq!(codes.len(), 10);
    for code in &codes {
        secrets.add("a recovery code", code);
    }
    let (status, _) = browser.post("/admin/logout/", &[("csrf_token", &csrf)], &mut secrets);
    assert_eq!(status, 303);
    let (_, page) = browser.get("/admin/login/", &mut secrets);
    let csrf = csrf_of(&page);
    let form = [
        ("username", "boss"),
        ("password", BOSS_PASSWORD),
        ("next", ""),
        ("csrf_token", csrf.as_str()),
    ];
    let (status, _) = browser.post("/admin/login/", &form, &mut secrets);
    assert_eq!(status, 303);
    let (_, page) = browser.get("/admin/login/code/", &mut secrets);
    let csrf = csrf_of(&page);
    let wrong = [("csrf_token", csrf.as_str()), ("code", "zzzzz-zzzzz")];
    let (status, _) = browser.post("/admin/login/code/", &wrong, &mut secrets);
    assert_eq!(status, 200);
    let right = [("csrf_token", csrf.as_str()), ("code", codes[0].as_str())];
    let (status, _) = browser.post("/admin/login/code/", &right, &mut secrets);
    assert_eq!(status, 303);
    let (status, page) = browser.get("/admin/account/", &mut secrets);
    assert_eq!(status, 200);
    let csrf = csrf_of(&page);
    let (status, _) = browser.post("/admin/logout/", &[("csrf_token", &csrf)], &mut secrets);
    assert_eq!(status, 303);

    // Stored secrets too: the password hashes, the sealed TOTP secret, and
    // the digests of session ids and recovery codes.
    {
        use authtoken::schema::{admin_sessions, recovery_codes, two_factor, users};
        let mut conn = connect(&db.url);
        let sealed: String = two_factor::table
            .select(two_factor::sealed_secret)
            .first(&mut conn)
            .unwrap();
        secrets.add("the sealed TOTP secret", &sealed);
        let digests: Vec<String> = recovery_codes::table
            .select(recovery_codes::digest)
            .load(&mut conn)
            .unwrap();
        for digest in digests {
            secrets.add("a recovery code's digest", &digest);
        }
        let digests: Vec<String> = admin_sessions::table
            .select(admin_sessions::digest)
            .load(&mut conn)
            .unwrap();
        for digest in digests {
            secrets.add("a session id's digest", &digest);
        }
        let hashes: Vec<String> = users::table
            .select(users::password_hash)
            .load(&mut conn)
            .unwrap();
        for hash in hashes {
            secrets.add("a password hash", &hash);
            // The part after `$2b$NN$` (the salt and the hash).
            secrets.add("a password hash's salt and digest", &hash[7..]);
        }
    }

    server.terminate();
    let status = server.wait_exit(NEVER_A_HANG);
    assert_eq!(status.code(), Some(0));
    let raw = server.log();
    // JSON: every line is an object; the checks below read its messages
    // (the raw lines are searched for secrets too, escaped as they are).
    let log = if log_format == "json" {
        // A line written by a handler names its request.
        let action = raw
            .lines()
            .find(|l| l.contains("regenerated the token of user"))
            .expect("the admin's action is logged");
        let action: Value = serde_json::from_str(action).unwrap();
        assert_eq!(
            action["request_id"].as_str().map(str::len),
            Some(32),
            "{action}"
        );
        raw.lines()
            .map(|line| {
                let value: Value = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("{e}: not a JSON line: {line}"));
                format!(
                    "{} {}",
                    value["level"].as_str().unwrap(),
                    value["message"].as_str().unwrap()
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    } else {
        raw.clone()
    };
    // The log is a trace log of all of the above.
    assert!(log.contains("TRACE"), "not a trace log:\n{log}");
    assert!(log.contains("\"POST /api/auth/register/\" 201"), "{log}");
    assert!(log.contains("\"POST /admin/login/\" 303"), "{log}");
    assert!(log.contains("\"POST /admin/login/code/\" 303"), "{log}");
    assert!(log.contains("regenerated the token of user"), "{log}");
    assert!(secrets.0.len() > 20);
    for (what, value) in &secrets.0 {
        assert!(
            !log.contains(value.as_str()) && !raw.contains(value.as_str()),
            "{what} appears in the log:\n{}",
            log.lines()
                .filter(|l| l.contains(value.as_str()))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// The text of the first element after `marker` (its opening tag's end).
fn element_text(html: &str, marker: &str) -> String {
    let start = html.find(marker).expect("the element") + marker.len();
    let open = start + html[start..].find('>').unwrap() + 1;
    let close = open + html[open..].find('<').unwrap();
    html[open..close].trim().to_string()
}

#[test]
fn debug_of_types_holding_secrets_is_redacted() {
    let hash = "$2b$04$abcdefghijklmnopqrstuuJ0Ov1FS9d5sS2ogdqzuLumTiK3Jm4sa";
    let user = User {
        id: authtoken::models::UserId::new(7),
        username: "alice".into(),
        email: "alice@example.com".into(),
        first_name: String::new(),
        last_name: String::new(),
        password_hash: hash.into(),
        is_active: true,
        is_staff: false,
        is_superuser: false,
        date_joined: chrono::DateTime::from_timestamp(0, 0).unwrap().naive_utc(),
        last_login: None,
    };
    let key = TokenKey::generate(authtoken::models::KeyFormat::Drf);
    let secret = SecretKey::from_bytes(SECRET.as_bytes());
    let sealer = Sealer::new(&secret);
    let sealed = sealer.seal(key.as_str().as_bytes(), 7);
    let token = TokenRow {
        id: authtoken::models::TokenId::new(3),
        user_id: authtoken::models::UserId::new(7),
        is_primary: false,
        name: Some("laptop".into()),
        scopes: Default::default(),
        digest: key.digest(),
        sealed: sealed.clone(),
        prefix: key.prefix().to_string(),
        created: user.date_joined,
        last_used: None,
        expires: None,
    };
    let settings = Settings::from_lookup(|name| match name {
        "SECRET_KEY" => Some(SECRET.to_string()),
        "DATABASE_URL" => Some("postgres://app:db-Pa55word@db.internal/authtoken".into()),
        _ => None,
    })
    .unwrap();
    let caller = CallerUser {
        id: user.id,
        username: user.username.clone(),
        email: user.email.clone(),
        is_active: true,
        is_staff: false,
        date_joined: Time(user.date_joined),
    };
    let presented = CallerToken {
        id: token.id,
        user_id: token.user_id,
        is_primary: token.is_primary,
        name: token.name.clone(),
        scopes: token.scopes.clone(),
        last_used: None,
        expires: None,
    };
    let auth = TokenAuth {
        user: caller.clone(),
        token: presented.clone(),
        digest: Digest::of(key.as_str()),
    };
    let shown = [
        format!("{user:?}"),
        format!("{key:?}"),
        format!("{secret:?}"),
        format!("{sealer:?}"),
        format!("{:?}", Tokens::new(sealer.clone(), None)),
        format!("{token:?}"),
        format!("{settings:?}"),
        format!("{auth:?}"),
        format!("{:?}", AuthOutcome::Valid(caller, presented)),
        format!(
            "{:?}",
            ConnectionManager::new("postgres://app:db-Pa55word@db.internal/authtoken")
        ),
    ];
    for text in &shown {
        for (what, secret) in [
            ("password hash", hash),
            ("hash digest", &hash[7..]),
            ("key", key.as_str()),
            ("key after its prefix", &key.as_str()[8..]),
            ("sealed key", sealed.as_str()),
            ("SECRET_KEY", SECRET),
            ("database password", "db-Pa55word"),
        ] {
            assert!(!text.contains(secret), "{what} in {text}");
        }
    }
    // What is shown is still useful.
    assert!(shown[0].contains("alice"));
    assert!(shown[1].contains(key.prefix()));
    assert!(shown[5].contains(key.prefix()));
    assert!(shown[6].contains("db.internal"));
}

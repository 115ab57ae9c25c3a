//! Property-based fuzzing, bounded so that it runs in every `cargo test`:
//! the `Authorization` parser, the body parsers (`body::parse`, over
//! serde_json, serde_urlencoded and actix-multipart, and `Fields`), and the
//! HTTP answers of the endpoints that use them. No input may panic, and every answer keeps the contract's shape.
//!
//! The seed is fixed, so CI is deterministic; `PROPTEST_RNG_SEED=<n>` and
//! `PROPTEST_CASES=<n>` explore further (a failure prints its seed-reproducible
//! minimal input).

use authtoken::api::body::{self, Body, BodyError};
use authtoken::api::fields::{CharField, Fields};
use authtoken::auth::header::{HeaderCredentials, HeaderError, parse_authorization};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};
use serde_json::Value;

use crate::common::{TestApp, spawn_app_with};
use crate::contract::response_shape;

/// Cases per property: `PROPTEST_CASES` overrides.
fn config(cases: u32) -> Config {
    let mut config = Config::with_cases(cases);
    if let Some(n) = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        config.cases = n;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = RngSeed::Fixed(0x0006_a17e);
    }
    config.failure_persistence = None;
    config
}

// ---------------------------------------------------------------------------
// Inputs

const ASCII_WHITESPACE: &[u8] = b" \t\n\r\x0b\x0c";

/// `Authorization` values: mostly near-misses of `Token <key>`.
fn authorization() -> impl Strategy<Value = Vec<u8>> {
    let keyword = prop_oneof![
        Just(b"Token".to_vec()),
        Just(b"token".to_vec()),
        Just(b"TOKEN".to_vec()),
        Just(b"Bearer".to_vec()),
        Just(b"Tokens".to_vec()),
        Just(Vec::new()),
        proptest::collection::vec(any::<u8>(), 0..8),
    ];
    let space =
        proptest::collection::vec(proptest::sample::select(ASCII_WHITESPACE.to_vec()), 0..3);
    let piece = prop_oneof![
        Just(b"9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b".to_vec()),
        "[0-9a-f]{0,48}".prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 0..12),
        Just(b"\xff\xfe".to_vec()),
        Just("é".as_bytes().to_vec()),
    ];
    prop_oneof![
        4 => (space.clone(), keyword, space.clone(), proptest::collection::vec((piece, space), 0..4))
            .prop_map(|(lead, keyword, gap, pieces)| {
                let mut header = lead;
                header.extend(keyword);
                header.extend(gap);
                for (piece, space) in pieces {
                    header.extend(piece);
                    header.extend(space);
                }
                header
            }),
        1 => proptest::collection::vec(any::<u8>(), 0..64),
    ]
}

/// JSON values of bounded size.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        "[a-z]{0,6}\u{0}[a-z]{0,3}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 24, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::vec(
                (
                    prop_oneof![
                        Just("username".to_string()),
                        Just("password".to_string()),
                        Just("email".to_string()),
                        ".{0,6}"
                    ],
                    inner
                ),
                0..5
            )
            .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

/// Bodies: JSON (valid, then sometimes damaged), forms, multipart, bytes.
fn body_bytes() -> impl Strategy<Value = Vec<u8>> {
    let json = (
        json_value(),
        any::<bool>(),
        any::<proptest::sample::Index>(),
        any::<u8>(),
    )
        .prop_map(|(value, damage, at, byte)| {
            let mut bytes = serde_json::to_vec(&value).unwrap();
            if damage && !bytes.is_empty() {
                let i = at.index(bytes.len());
                if byte % 2 == 0 {
                    bytes.truncate(i);
                } else {
                    bytes.insert(i, byte);
                }
            }
            bytes
        });
    let form_value = prop_oneof![
        "[a-zA-Z0-9 ]{0,12}",
        "(%[0-9A-Fa-f]{2}|%|\\+|&|=|[a-z]){0,10}",
        Just("%00".to_string()),
        Just("%FF".to_string()),
    ];
    let form = proptest::collection::vec(
        (
            prop_oneof![
                Just("username".to_string()),
                Just("password".to_string()),
                Just("email".to_string()),
                "[a-z%&=+]{0,6}"
            ],
            form_value.clone(),
        ),
        0..5,
    )
    .prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
            .into_bytes()
    });
    let multipart = (
        proptest::collection::vec(
            (
                prop_oneof![
                    Just("username".to_string()),
                    Just("password".to_string()),
                    "[a-z\"; =]{0,8}"
                ],
                form_value,
                proptest::option::of("[a-z./\\\\\"]{0,8}"),
            ),
            0..4,
        ),
        any::<bool>(),
        any::<proptest::sample::Index>(),
    )
        .prop_map(|(parts, damage, at)| {
            let mut body = String::new();
            for (name, value, filename) in parts {
                body.push_str("--BOUNDARY\r\nContent-Disposition: form-data; name=\"");
                body.push_str(&name);
                body.push('"');
                if let Some(filename) = filename {
                    body.push_str(&format!("; filename=\"{filename}\""));
                }
                body.push_str("\r\n\r\n");
                body.push_str(&value);
                body.push_str("\r\n");
            }
            body.push_str("--BOUNDARY--\r\n");
            let mut bytes = body.into_bytes();
            if damage {
                bytes.truncate(at.index(bytes.len() + 1));
            }
            bytes
        });
    prop_oneof![
        3 => json,
        2 => form,
        2 => multipart,
        1 => proptest::collection::vec(any::<u8>(), 0..128),
        1 => Just(Vec::new()),
    ]
}

fn content_type() -> impl Strategy<Value = Option<Vec<u8>>> {
    let known = proptest::sample::select(vec![
        "application/json",
        "application/json; charset=utf-8",
        "application/json; charset=latin-1",
        "application/json; charset=utf-16",
        "APPLICATION/JSON",
        "application/*",
        "*/*",
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=iso-8859-1",
        "multipart/form-data; boundary=BOUNDARY",
        "multipart/form-data; boundary=\"BOUNDARY\"",
        "multipart/form-data",
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary*=utf-8''BOUNDARY",
        "text/plain",
        "",
        "application/json; charset*=x''%ff",
    ])
    .prop_map(|s| Some(s.as_bytes().to_vec()));
    prop_oneof![
        6 => known,
        1 => Just(None),
        1 => proptest::collection::vec(any::<u8>(), 0..40).prop_map(Some),
    ]
}

// ---------------------------------------------------------------------------
// The parsers, in process

/// DRF's splitting, written out again as the oracle.
fn drf_authorization<'a>(header: &'a [u8], keyword: &str) -> Result<Option<&'a [u8]>, HeaderError> {
    let parts: Vec<&[u8]> = header
        .split(|b| ASCII_WHITESPACE.contains(b))
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() || parts[0].to_ascii_lowercase() != keyword.to_lowercase().as_bytes() {
        return Ok(None);
    }
    match parts.len() {
        1 => Err(HeaderError::NoCredentials),
        2 => Ok(Some(parts[1])),
        _ => Err(HeaderError::ContainsSpaces),
    }
}

proptest! {
    #![proptest_config(config(5000))]

    #[test]
    fn authorization_parser_is_drf(header in authorization(), bearer in any::<bool>()) {
        let keyword = if bearer { "Bearer" } else { "Token" };
        let parsed = parse_authorization(Some(&header), keyword);
        match (drf_authorization(&header, keyword), parsed) {
            (Ok(None), Ok(HeaderCredentials::NotProvided)) => {}
            (Ok(Some(raw)), Ok(HeaderCredentials::Key(key))) => {
                prop_assert_eq!(raw, key.as_bytes());
                prop_assert!(!key.is_empty());
            }
            (Ok(Some(raw)), Err(HeaderError::InvalidCharacters)) => {
                prop_assert!(std::str::from_utf8(raw).is_err());
            }
            (Err(want), Err(got)) => prop_assert_eq!(want, got),
            (want, got) => prop_assert!(false, "{:?}: DRF {:?}, we {:?}", header, want, got),
        }
        if let Err(e) = parsed {
            prop_assert!(e.detail().starts_with("Invalid token header. "));
        }
    }

    #[test]
    fn body_parsers_never_panic(content_type in content_type(), bytes in body_bytes()) {
        let result = parse(content_type.as_deref(), &bytes);
        match result {
            Ok(parsed) => {
                if bytes.is_empty() {
                    prop_assert_eq!(&parsed, &Body::Empty);
                }
                if let Ok(fields) = Fields::from_body(parsed) {
                    for spec in [
                        CharField { trim_whitespace: true, allow_blank: false, required: true },
                        CharField { trim_whitespace: false, allow_blank: false, required: true },
                        CharField { trim_whitespace: true, allow_blank: true, required: false },
                    ] {
                        for name in ["username", "password", "email"] {
                            match fields.char(name, spec) {
                                Ok(Some(text)) => prop_assert!(!text.contains('\0')),
                                Ok(None) => prop_assert!(!spec.required),
                                Err(messages) => prop_assert!(!messages.is_empty()),
                            }
                        }
                    }
                }
            }
            Err(BodyError::UnsupportedMediaType(quoted)) => {
                let latin1: String = content_type.unwrap_or_default().iter().map(|&b| b as char).collect();
                prop_assert_eq!(quoted, latin1);
            }
            Err(BodyError::Parse(detail)) => {
                prop_assert!(
                    detail.starts_with("JSON parse error - ")
                        || detail.starts_with("Multipart form parse error - "),
                    "{}", detail
                );
            }
        }
    }

    #[test]
    fn json_parser_never_panics(bytes in prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..256),
        body_bytes(),
        (1usize..2_000, any::<bool>()).prop_map(|(n, list)| {
            if list { "[".repeat(n).into_bytes() } else { "{\"a\":".repeat(n).into_bytes() }
        }),
        "[-+0-9eE.]{1,40}".prop_map(String::into_bytes),
        "\"(\\\\u[0-9a-fA-FdD]{4}|\\\\.|[^\"]){0,10}\"".prop_map(String::into_bytes),
    ]) {
        match parse(Some(b"application/json"), &bytes) {
            Ok(Body::Json(_)) => {}
            Ok(Body::Empty) => prop_assert!(bytes.is_empty()),
            Err(BodyError::Parse(detail)) => {
                prop_assert!(detail.starts_with("JSON parse error - "), "{}", detail)
            }
            other => prop_assert!(false, "{:?}", other),
        }
    }
}

/// `body::parse` on a runtime of this thread's own.
fn parse(content_type: Option<&[u8]>, bytes: &[u8]) -> Result<Body, BodyError> {
    thread_local! {
        static RUNTIME: tokio::runtime::Runtime =
            tokio::runtime::Builder::new_current_thread().build().unwrap();
    }
    let bytes = actix_web::web::Bytes::copy_from_slice(bytes);
    RUNTIME.with(|runtime| runtime.block_on(body::parse(content_type, bytes)))
}

// ---------------------------------------------------------------------------
// Over HTTP

#[derive(Debug, Clone)]
struct HttpCase {
    path: &'static str,
    method: &'static str,
    content_type: Option<Vec<u8>>,
    body: Vec<u8>,
    authorization: Option<Vec<u8>>,
}

fn http_case() -> impl Strategy<Value = HttpCase> {
    (
        proptest::sample::select(vec![
            "/api-token-auth/",
            "/api/auth/login/",
            "/api/auth/register/",
            "/api/auth/me/",
            "/api/auth/token/regenerate/",
            "/api/auth/logout/",
        ]),
        proptest::sample::select(vec!["POST", "POST", "POST", "GET", "PUT", "DELETE"]),
        content_type(),
        prop_oneof![
            4 => body_bytes(),
            1 => Just(br#"{"username":"alice","password":"correct horse battery"}"#.to_vec()),
        ],
        proptest::option::of(authorization()),
    )
        .prop_map(
            |(path, method, content_type, body, authorization)| HttpCase {
                path,
                method,
                content_type,
                body,
                authorization,
            },
        )
}

async fn send(app: &TestApp, case: HttpCase) {
    let method = reqwest::Method::from_bytes(case.method.as_bytes()).unwrap();
    let mut request = app.client.request(method, app.url(case.path));
    // Bytes no HTTP header may carry are left out: the parsers above get them.
    let header = |bytes: &[u8]| reqwest::header::HeaderValue::from_bytes(bytes).ok();
    if let Some(value) = case.content_type.as_deref().and_then(header) {
        request = request.header("Content-Type", value);
    }
    if let Some(value) = case.authorization.as_deref().and_then(header) {
        request = request.header("Authorization", value);
    }
    let what = format!("{case:?}");
    let response = request.body(case.body).send().await.unwrap();
    response_shape(&what, response).await;
}

#[test]
fn http_answers_keep_the_contract_shape() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let app = runtime.block_on(async {
        let app = spawn_app_with(&[("LOGIN_THROTTLE", "3/min")]).await;
        app.create_user("alice", "correct horse battery", false);
        app
    });
    let mut runner = TestRunner::new(config(2000));
    let result = runner.run(&http_case(), |case| {
        runtime.block_on(send(&app, case));
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // Still serving.
    let status = runtime.block_on(async {
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 200);
    runtime.block_on(async move { drop(app) });
}

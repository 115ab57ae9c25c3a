//! `POST /api-token-auth/` (DRF's `obtain_auth_token`) and
//! `POST /api/auth/login/`: username and password in, the user's token out.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::ApiError;
use super::fields::CharField;
use super::input::{FieldErrors, read_fields};
use super::response::json;
use crate::auth::LoginThrottle;
use crate::auth::client_addr::client_addr;
use crate::auth::credentials::{Audience, CredentialsError, check_credentials};
use crate::models::{TokenKey, User, clock, users};
use crate::state::AppState;

pub const MSG_BAD_CREDENTIALS: &str = "Unable to log in with provided credentials.";

/// DRF's `CharField()`: trimmed, not blank.
pub(super) const USERNAME: CharField = CharField {
    trim_whitespace: true,
    allow_blank: false,
    required: true,
};
/// `CharField(trim_whitespace=False)`: a password is taken as typed.
pub(super) const PASSWORD: CharField = CharField {
    trim_whitespace: false,
    allow_blank: false,
    required: true,
};

pub async fn obtain_auth_token(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (_, key) = sign_in(&req, payload, &state).await?;
    Ok(json(StatusCode::OK, &json!({ "token": key.as_str() })))
}

pub async fn login(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (user, key) = sign_in(&req, payload, &state).await?;
    Ok(json(
        StatusCode::OK,
        &json!({
            "token": key.as_str(),
            "user_id": user.id,
            "username": user.username,
            "email": user.email,
        }),
    ))
}

/// DRF's `AuthTokenSerializer` and `Token.objects.get_or_create`, throttled.
async fn sign_in(
    req: &HttpRequest,
    payload: web::Payload,
    state: &web::Data<AppState>,
) -> Result<(User, TokenKey), ApiError> {
    let fields = read_fields(req, payload).await?;
    let mut errors = FieldErrors::default();
    let username = errors.take("username", fields.char("username", USERNAME));
    let password = errors.take("password", fields.char("password", PASSWORD));
    errors.into_result()?;
    let (Some(username), Some(password)) = (username.flatten(), password.flatten()) else {
        return Err(ApiError::non_field(
            "Must include \"username\" and \"password\".",
        ));
    };
    let client = client_addr(req, &state.settings.trusted_proxies);
    let user = check_credentials(state, &client, username, password, Audience::AnyUser).await?;
    let app = state.clone();
    let scope = LoginThrottle::scope(&client, &user.username);
    state
        .db
        .call(move |conn| {
            let key = app.tokens.get_or_create(conn, user.id, &user.username)?;
            users::record_login(conn, user.id, clock::now())?;
            app.throttle.clear(conn, &scope)?;
            Ok::<_, ApiError>((user, key))
        })
        .await
}

impl From<CredentialsError> for ApiError {
    fn from(e: CredentialsError) -> Self {
        match e {
            CredentialsError::Invalid => ApiError::non_field(MSG_BAD_CREDENTIALS),
            CredentialsError::Throttled(wait) => ApiError::Throttled(wait),
            CredentialsError::Db(e) => e.into(),
            CredentialsError::Hash(e) => e.into(),
        }
    }
}

//! `POST /api-token-auth/` (DRF's `obtain_auth_token`) and
//! `POST /api/auth/login/`: username and password in, the user's token out.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::ApiError;
use super::fields::CharField;
use super::input::{FieldErrors, read_fields};
use super::response::json;
use crate::http::client_addr;
use crate::models::{TokenKey, User};
use crate::services::{Attempt, SignInError};
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

/// DRF's `AuthTokenSerializer`, then the sign-in service.
async fn sign_in(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
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
    let attempt = Attempt {
        client: client_addr(req, &state.settings.trusted_proxies),
        username,
        password,
    };
    Ok(state.services.sign_in.token(attempt).await?)
}

impl From<SignInError> for ApiError {
    fn from(e: SignInError) -> Self {
        match e {
            SignInError::Invalid => ApiError::non_field(MSG_BAD_CREDENTIALS),
            SignInError::Throttled(wait) => ApiError::Throttled(wait),
            SignInError::Failure(failure) => failure.into(),
        }
    }
}

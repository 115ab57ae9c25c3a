//! `POST /api/auth/register/`: a new user, created with the token the
//! post-insert hook gives it.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::ApiError;
use super::fields::CharField;
use super::input::{FieldErrors, read_fields};
use super::response::json;
use super::sign_in::{PASSWORD, USERNAME};
use crate::models::validation::{Email, MSG_USERNAME_TAKEN, Username, password_problems};
use crate::services::{Failure, RegisterError, Registration};
use crate::state::AppState;

const EMAIL: CharField = CharField {
    trim_whitespace: true,
    allow_blank: true,
    required: false,
};

pub async fn register(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let form = validate(&req, payload, &state).await?;
    let (user, key) = state.services.accounts.register(form).await?;
    Ok(json(
        StatusCode::CREATED,
        &json!({
            "id": user.id,
            "username": user.username,
            "email": user.email,
            "token": key.as_str(),
        }),
    ))
}

/// DRF's serializer validation: every field's messages, in field order. A
/// taken username is one of them (DRF's `UniqueValidator`), so it is
/// reported beside a bad password.
async fn validate(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<Registration, ApiError> {
    let fields = read_fields(req, payload).await?;
    let mut errors = FieldErrors::default();
    let username = errors
        .take("username", fields.char("username", USERNAME))
        .flatten()
        .and_then(|raw| errors.take("username", Username::parse(&raw)));
    if let Some(name) = &username
        && state.services.accounts.is_username_taken(name).await?
    {
        errors.add("username", vec![MSG_USERNAME_TAKEN]);
    }
    let password = errors
        .take("password", fields.char("password", PASSWORD))
        .flatten();
    if let Some(p) = &password {
        errors.add("password", password_problems(p));
    }
    let email = errors
        .take("email", fields.char("email", EMAIL))
        .map(Option::unwrap_or_default)
        .and_then(|raw| errors.take("email", Email::parse(&raw)));
    errors.into_result()?;
    match (username, password, email) {
        (Some(username), Some(password), Some(email)) => Ok(Registration {
            username,
            email,
            password,
        }),
        // Every field either parsed or recorded an error above.
        _ => Err(Failure::internal(anyhow::anyhow!("validated fields went missing")).into()),
    }
}

impl From<RegisterError> for ApiError {
    fn from(e: RegisterError) -> Self {
        match e {
            RegisterError::UsernameTaken => ApiError::field("username", vec![MSG_USERNAME_TAKEN]),
            RegisterError::Failure(failure) => failure.into(),
        }
    }
}

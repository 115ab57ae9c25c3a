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
use crate::models::{NewUser, users};
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
    let fields = read_fields(&req, payload).await?;
    let mut errors = FieldErrors::default();

    let username = errors
        .take("username", fields.char("username", USERNAME))
        .flatten()
        .and_then(|raw| errors.take("username", Username::parse(&raw)));
    if let Some(name) = &username {
        let candidate = name.as_str().to_owned();
        let taken = state
            .db
            .call(move |conn| {
                Ok::<_, ApiError>(users::find_by_username(conn, &candidate)?.is_some())
            })
            .await?;
        if taken {
            errors.add("username", vec![MSG_USERNAME_TAKEN]);
        }
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
    let (Some(username), Some(password), Some(email)) = (username, password, email) else {
        return Err(ApiError::Internal("validated fields went missing".into()));
    };

    let password_hash = state.hasher.hash(password).await?;
    let app = state.clone();
    let (user, key) = state
        .db
        .call(move |conn| {
            let new = NewUser {
                username,
                email,
                password_hash,
                is_active: true,
                is_staff: false,
                is_superuser: false,
            };
            let user = users::create_user(conn, &app.hooks, &new, new.username.as_str())?;
            // The hook created the token; this reads (unseals) it.
            let key = app.tokens.get_or_create(conn, user.id, &user.username)?;
            Ok::<_, ApiError>((user, key))
        })
        .await?;
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

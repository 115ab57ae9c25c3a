//! `POST /api-token-auth/` (DRF's `obtain_auth_token`) and
//! `POST /api/auth/login/`: username and password in, the user's token out.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::fields::CharField;
use super::input::{FieldErrors, read_fields};
use super::response::json;
use super::ApiError;
use crate::auth::client_addr::client_addr;
use crate::auth::LoginThrottle;
use crate::models::{TokenKey, User, clock, users};
use crate::state::AppState;

pub const MSG_BAD_CREDENTIALS: &str = "Unable to log in with provided credentials.";

const USERNAME: CharField = CharField {
    trim_whitespace: true,
    allow_blank: false,
    required: true,
};
const PASSWORD: CharField = CharField {
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
    let user = check_credentials(state, &client, username, password).await?;
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

/// The user whose password this is, or the one answer every failure gets.
/// Exactly one bcrypt verification runs whether or not the user exists or
/// is active, so neither the answer nor its timing tells them apart.
pub async fn check_credentials(
    state: &web::Data<AppState>,
    client: &str,
    username: String,
    password: String,
) -> Result<User, ApiError> {
    let scope = LoginThrottle::scope(client, &username);
    let app = state.clone();
    let lookup_scope = scope.clone();
    let user = state
        .db
        .call(move |conn| {
            if let Some(wait) = app.throttle.check(conn, &lookup_scope)? {
                return Err(ApiError::Throttled(wait));
            }
            Ok(users::find_by_username(conn, &username)?)
        })
        .await?;
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let password_ok = state.hasher.verify(password, hash).await?;
    match user {
        Some(user) if password_ok && user.is_active => Ok(user),
        _ => {
            let app = state.clone();
            state
                .db
                .call(move |conn| app.throttle.record_failure(conn, &scope).map_err(ApiError::from))
                .await?;
            Err(ApiError::non_field(MSG_BAD_CREDENTIALS))
        }
    }
}

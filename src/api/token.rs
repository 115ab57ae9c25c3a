//! Acting on the presented token: logout revokes it, regenerate rotates it.
//! Both act only if the stored key is still the one presented, so of
//! concurrent calls with one key exactly one wins and the rest get 401.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde_json::json;

use super::ApiError;
use super::response::json;
use crate::auth::TokenAuth;
use crate::auth::extractor::MSG_INVALID_TOKEN;
use crate::models::events::EventKind;
use crate::state::AppState;

fn invalid_token(state: &AppState) -> ApiError {
    ApiError::Unauthenticated {
        detail: MSG_INVALID_TOKEN,
        keyword: state.settings.token_keyword.clone(),
    }
}

/// `POST /api/auth/logout/`: 204, and the key is invalid from then on.
pub async fn logout(auth: TokenAuth, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let app = state.clone();
    let revoked = state
        .db
        .call(move |conn| {
            Ok::<_, ApiError>(app.tokens.revoke(
                conn,
                auth.user.id,
                Some(&auth.digest),
                &auth.user.username,
            )?)
        })
        .await?;
    if !revoked {
        return Err(invalid_token(&state));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/auth/token/regenerate/`: a new key; the old one stops working.
pub async fn regenerate(
    auth: TokenAuth,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let app = state.clone();
    let key = state
        .db
        .call(move |conn| {
            Ok::<_, ApiError>(app.tokens.replace(
                conn,
                auth.user.id,
                Some(&auth.digest),
                &auth.user.username,
                EventKind::Regenerated,
            )?)
        })
        .await?;
    match key {
        Some(key) => Ok(json(StatusCode::OK, &json!({ "token": key.as_str() }))),
        None => Err(invalid_token(&state)),
    }
}

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde_json::json;

use super::response::json;
use super::token_auth::TokenAuth;
use crate::models::clock::drf_datetime;

/// `GET /api/auth/me/`: who the token belongs to.
pub async fn me(auth: TokenAuth) -> HttpResponse {
    let user = auth.user;
    json(
        StatusCode::OK,
        &json!({
            "id": user.id,
            "username": user.username,
            "email": user.email,
            "is_staff": user.is_staff,
            "date_joined": drf_datetime(&user.date_joined),
        }),
    )
}

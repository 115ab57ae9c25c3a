use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde::Serialize;

use super::response::json_of;
use super::token_auth::TokenAuth;
use crate::models::UserId;
use crate::models::clock::drf_datetime;

/// The answer of `me/`, in DRF's field order.
#[derive(Serialize)]
struct Me<'a> {
    id: UserId,
    username: &'a str,
    email: &'a str,
    is_staff: bool,
    date_joined: String,
}

/// `GET /api/auth/me/`: who the token belongs to.
pub async fn me(auth: TokenAuth) -> HttpResponse {
    let user = &auth.user;
    json_of(
        StatusCode::OK,
        &Me {
            id: user.id,
            username: &user.username,
            email: &user.email,
            is_staff: user.is_staff,
            date_joined: drf_datetime(&user.date_joined.0),
        },
    )
}

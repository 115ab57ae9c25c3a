//! 405 answers. For endpoints that need a token DRF authenticates first, so
//! an anonymous wrong method gets the 401, not the 405.

use actix_web::{HttpRequest, HttpResponse, http::Method};

use super::ApiError;
use crate::auth::TokenAuth;

fn refuse(req: &HttpRequest, allow: &'static str) -> Result<HttpResponse, ApiError> {
    if req.method() == Method::OPTIONS {
        // DRF answers OPTIONS with the view's metadata; the methods are what
        // clients use from it.
        return Ok(HttpResponse::Ok()
            .insert_header(("Allow", allow))
            .content_type("application/json")
            .body(format!(
                "{{\"name\":\"{}\",\"description\":\"\",\"renders\":[\"application/json\"],\"parses\":[\"application/json\",\"application/x-www-form-urlencoded\",\"multipart/form-data\"]}}",
                view_name(req.path())
            )));
    }
    Err(ApiError::MethodNotAllowed {
        method: req.method().to_string(),
        allow,
    })
}

fn view_name(path: &str) -> &'static str {
    match path {
        "/api-token-auth/" => "Obtain Auth Token",
        "/api/auth/login/" => "Login",
        "/api/auth/register/" => "Register",
        "/api/auth/me/" => "Me",
        "/api/auth/logout/" => "Logout",
        "/api/auth/token/regenerate/" => "Regenerate Token",
        _ => "",
    }
}

pub fn open(
    allow: &'static str,
) -> impl Fn(HttpRequest) -> std::future::Ready<Result<HttpResponse, ApiError>> + Clone {
    move |req: HttpRequest| std::future::ready(refuse(&req, allow))
}

pub fn authenticated(
    allow: &'static str,
) -> impl Fn(
    HttpRequest,
    TokenAuth,
) -> std::future::Ready<Result<HttpResponse, ApiError>>
+ Clone {
    move |req: HttpRequest, _auth: TokenAuth| std::future::ready(refuse(&req, allow))
}

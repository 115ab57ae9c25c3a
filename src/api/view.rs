//! What DRF's `APIView` adds around every handler: `Allow` (and `Vary:
//! Accept` where the view has more than one renderer) on every answer, the
//! OPTIONS metadata, and 405 for other methods. For views that need a token
//! DRF authenticates first, so an anonymous wrong method gets the 401.

use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpRequest, HttpResponse, http::Method};

use super::ApiError;
use super::token_auth::TokenAuth;

/// One endpoint as DRF describes it.
#[derive(Clone, Copy)]
pub struct View {
    /// The view's name in the OPTIONS metadata.
    pub name: &'static str,
    /// The `Allow` header.
    pub allow: &'static str,
    /// The OPTIONS metadata after `"description":""`: renderers, parsers
    /// and, for views with a serializer, the POST actions.
    pub metadata: &'static str,
    /// Views on DRF's default renderers (JSON and the browsable API) vary
    /// on `Accept`; `obtain_auth_token` has only the JSON renderer.
    pub vary_accept: bool,
}

const AUTH_TOKEN_SERIALIZER: &str = r#""renders":["application/json"],"parses":["application/x-www-form-urlencoded","multipart/form-data","application/json"],"actions":{"POST":{"username":{"type":"string","required":true,"read_only":false,"label":"Username"},"password":{"type":"string","required":true,"read_only":false,"label":"Password"},"token":{"type":"string","required":false,"read_only":true,"label":"Token"}}}"#;
const DEFAULT_RENDERERS: &str = r#""renders":["application/json","text/html"],"parses":["application/json","application/x-www-form-urlencoded","multipart/form-data"]"#;
const REGISTER_SERIALIZER: &str = r#""renders":["application/json","text/html"],"parses":["application/json","application/x-www-form-urlencoded","multipart/form-data"],"actions":{"POST":{"id":{"type":"integer","required":false,"read_only":true,"label":"ID"},"username":{"type":"string","required":true,"read_only":false,"label":"Username","help_text":"Required. 150 characters or fewer. Letters, digits and @/./+/-/_ only.","max_length":150},"email":{"type":"email","required":false,"read_only":false,"label":"Email address","max_length":254},"password":{"type":"string","required":true,"read_only":false,"label":"Password"},"token":{"type":"string","required":false,"read_only":true,"label":"Token"}}}"#;

const POST: &str = "POST, OPTIONS";
const GET: &str = "GET, HEAD, OPTIONS";

pub const OBTAIN_AUTH_TOKEN: View = View {
    name: "Obtain Auth Token",
    allow: POST,
    metadata: AUTH_TOKEN_SERIALIZER,
    vary_accept: false,
};
pub const LOGIN: View = View {
    name: "Login",
    allow: POST,
    metadata: AUTH_TOKEN_SERIALIZER,
    vary_accept: false,
};
pub const REGISTER: View = View {
    name: "Register",
    allow: POST,
    metadata: REGISTER_SERIALIZER,
    vary_accept: true,
};
pub const ME: View = View {
    name: "Me",
    allow: GET,
    metadata: DEFAULT_RENDERERS,
    vary_accept: true,
};
pub const VERIFY: View = View {
    name: "Verify",
    allow: GET,
    metadata: DEFAULT_RENDERERS,
    vary_accept: true,
};
pub const TOKENS: View = View {
    name: "Tokens",
    allow: "GET, POST, HEAD, OPTIONS",
    metadata: DEFAULT_RENDERERS,
    vary_accept: true,
};
pub const TOKEN: View = View {
    name: "Token",
    allow: "DELETE, OPTIONS",
    metadata: DEFAULT_RENDERERS,
    vary_accept: true,
};
pub const LOGOUT: View = View {
    name: "Logout",
    allow: POST,
    metadata: DEFAULT_RENDERERS,
    vary_accept: true,
};
pub const REGENERATE: View = View {
    name: "Regenerate Token",
    allow: POST,
    metadata: DEFAULT_RENDERERS,
    vary_accept: true,
};
pub const PROBE: View = View {
    name: "Probe",
    allow: GET,
    metadata: r#""renders":["application/json"],"parses":[]"#,
    vary_accept: false,
};

impl View {
    /// The headers DRF puts on every answer of the view.
    pub fn headers(self) -> DefaultHeaders {
        let headers = DefaultHeaders::new().add(("Allow", self.allow));
        if self.vary_accept {
            headers.add(("Vary", "Accept"))
        } else {
            headers
        }
    }

    fn other_method(self, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
        if req.method() == Method::OPTIONS {
            return Ok(HttpResponse::Ok()
                .content_type("application/json")
                .body(format!(
                    "{{\"name\":\"{}\",\"description\":\"\",{}}}",
                    self.name, self.metadata
                )));
        }
        Err(ApiError::MethodNotAllowed {
            method: req.method().to_string(),
            allow: self.allow,
        })
    }

    /// The handler for methods the view does not serve, for open views.
    pub fn open(
        self,
    ) -> impl Fn(HttpRequest) -> std::future::Ready<Result<HttpResponse, ApiError>> + Clone {
        move |req: HttpRequest| std::future::ready(self.other_method(&req))
    }

    /// The same for views that need a token: authentication comes first.
    pub fn authenticated(
        self,
    ) -> impl Fn(HttpRequest, TokenAuth) -> std::future::Ready<Result<HttpResponse, ApiError>> + Clone
    {
        move |req: HttpRequest, _auth: TokenAuth| std::future::ready(self.other_method(&req))
    }
}

//! `GET`/`HEAD /api/auth/verify/`: forward authentication for the other
//! services of a deployment (nginx `auth_request`, Traefik `ForwardAuth`,
//! Envoy `ext_authz`). 200 with who the caller is in headers, DRF's 401
//! when the key is not good, 403 when a scope asked for in `?scopes=a,b`
//! is not held. The same single indexed lookup as `me/`.

use actix_web::{HttpRequest, HttpResponse};
use percent_encoding::{CONTROLS, utf8_percent_encode};

use super::ApiError;
use super::token_auth::TokenAuth;
use crate::models::Scope;

pub async fn verify(req: HttpRequest, auth: TokenAuth) -> Result<HttpResponse, ApiError> {
    let wanted = required_scopes(req.query_string());
    // A name that is not a valid scope is never held by any token.
    let token = &auth.token;
    if !wanted
        .iter()
        .all(|s| s.as_ref().is_some_and(|s| token.holds(s)))
    {
        return Err(ApiError::Forbidden);
    }
    let (token_id, scopes) = if token.is_primary {
        ("primary".to_owned(), "*".to_owned())
    } else {
        (
            token.id.to_string(),
            token.scopes.iter().collect::<Vec<_>>().join(","),
        )
    };
    let user = auth.user;
    Ok(HttpResponse::Ok()
        .insert_header(("X-Auth-User-Id", user.id.to_string()))
        .insert_header((
            "X-Auth-Username",
            utf8_percent_encode(&user.username, CONTROLS).to_string(),
        ))
        .insert_header((
            "X-Auth-Is-Staff",
            if user.is_staff { "true" } else { "false" },
        ))
        .insert_header(("X-Auth-Token-Id", token_id))
        .insert_header(("X-Auth-Scopes", scopes))
        .finish())
}

/// The scopes of `?scopes=a,b` (empty names are skipped); `None` for a
/// name that is not a valid scope.
fn required_scopes(query: &str) -> Vec<Option<Scope>> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    pairs
        .iter()
        .filter(|(name, _)| name == "scopes")
        .flat_map(|(_, list)| list.split(','))
        .filter(|name| !name.is_empty())
        .map(Scope::parse)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_from_the_query() {
        assert!(required_scopes("").is_empty());
        assert!(required_scopes("scopes=").is_empty());
        let two = required_scopes("scopes=orders:read,orders%3Awrite");
        assert_eq!(
            two.iter().flatten().map(Scope::as_str).collect::<Vec<_>>(),
            ["orders:read", "orders:write"]
        );
        assert_eq!(required_scopes("scopes=a,Bad"), [Scope::parse("a"), None]);
        assert_eq!(required_scopes("other=x&scopes=a").len(), 1);
    }

    #[test]
    fn usernames_outside_ascii_are_percent_encoded() {
        assert_eq!(
            utf8_percent_encode("zoë_ß", CONTROLS).to_string(),
            "zo%C3%AB_%C3%9F"
        );
        assert_eq!(
            utf8_percent_encode("a.b@c+d-e", CONTROLS).to_string(),
            "a.b@c+d-e"
        );
    }
}

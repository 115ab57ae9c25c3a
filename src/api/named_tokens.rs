//! `/api/auth/tokens/`: a user's named tokens, managed with a token that
//! holds the `tokens` scope (or the DRF token, which holds every scope).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::ApiError;
use super::fields::{CharField, MSG_INTEGER, MSG_UNKNOWN_FIELD};
use super::input::{FieldErrors, read_fields};
use super::response::json;
use super::token_auth::TokenAuth;
use crate::models::clock::drf_datetime;
use crate::models::named_tokens::{MAX_EXPIRES_IN, NAME_MAX_CHARS};
use crate::models::scope::{MAX_SCOPES, SCOPE_MAX_LEN};
use crate::models::{NamedTokenSpec, Scope, Scopes, TokenId, TokenRow};
use crate::services::{Failure, NamedTokensError};
use crate::state::AppState;

pub const MSG_NAME_TAKEN: &str = "A token with that name already exists.";
pub const MSG_LIMIT_REACHED: &str = "Token limit reached.";

const FIELDS: [&str; 3] = ["name", "scopes", "expires_in"];

/// `POST /api/auth/tokens/` → 201 with the key, shown this once.
pub async fn create(
    req: HttpRequest,
    payload: web::Payload,
    auth: TokenAuth,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let tokens = &state.services.tokens;
    // Permission comes before the body, as DRF checks it before the view.
    tokens.may_manage(&auth.token)?;
    let spec = validate(&req, payload).await?;
    let (row, key) = tokens.create_named(&auth.user, &auth.token, spec).await?;
    Ok(json(
        StatusCode::CREATED,
        &json!({
            "id": row.id,
            "name": row.name,
            "token": key.as_str(),
            "prefix": row.prefix,
            "scopes": scopes(&row),
            "created": drf_datetime(&row.created),
            "expires": row.expires.as_ref().map(drf_datetime),
        }),
    ))
}

/// `GET /api/auth/tokens/` → the user's named tokens, newest first; never
/// a key.
pub async fn list(auth: TokenAuth, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let rows = state
        .services
        .tokens
        .list_named(&auth.user, &auth.token)
        .await?;
    let listed: Vec<Value> = rows
        .iter()
        .map(|row| {
            json!({
                "id": row.id,
                "name": row.name,
                "prefix": row.prefix,
                "scopes": scopes(row),
                "created": drf_datetime(&row.created),
                "last_used": row.last_used.as_ref().map(drf_datetime),
                "expires": row.expires.as_ref().map(drf_datetime),
            })
        })
        .collect();
    Ok(json(StatusCode::OK, &Value::Array(listed)))
}

/// `DELETE /api/auth/tokens/<id>/` → 204; another user's or an unknown id
/// is 404, an id that is not an integer 400.
pub async fn delete(
    req: HttpRequest,
    auth: TokenAuth,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let tokens = &state.services.tokens;
    tokens.may_manage(&auth.token)?;
    let id = token_id(req.match_info().get("id").unwrap_or_default())?;
    tokens.delete_named(&auth.user, &auth.token, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// An integer id, or 400; `None` for an integer no token can have.
fn token_id(raw: &str) -> Result<Option<TokenId>, ApiError> {
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::field("id", vec![MSG_INTEGER]));
    }
    Ok(TokenId::parse(raw))
}

fn scopes(row: &TokenRow) -> Vec<&str> {
    row.scopes.iter().collect()
}

/// The serializer: every field's messages in field order, then one per
/// field the endpoint does not know.
async fn validate(req: &HttpRequest, payload: web::Payload) -> Result<NamedTokenSpec, ApiError> {
    let fields = read_fields(req, payload).await?;
    let mut errors = FieldErrors::default();
    let name = errors
        .take("name", fields.strict_char("name", CharField::default()))
        .flatten()
        .and_then(|name| {
            let too_long = name.chars().count() > NAME_MAX_CHARS;
            let message =
                format!("Ensure this field has no more than {NAME_MAX_CHARS} characters.");
            errors.take(
                "name",
                if too_long {
                    Err(vec![message])
                } else {
                    Ok(name)
                },
            )
        });
    let scopes = errors
        .take("scopes", fields.string_list("scopes"))
        .and_then(|names| errors.take("scopes", parse_scopes(&names)));
    let expires_in = errors
        .take(
            "expires_in",
            fields.optional_integer("expires_in", 1, MAX_EXPIRES_IN),
        )
        .flatten();
    for unknown in fields.unknown(&FIELDS) {
        errors.add(unknown, vec![MSG_UNKNOWN_FIELD]);
    }
    errors.into_result()?;
    match (name, scopes) {
        (Some(name), Some(scopes)) => Ok(NamedTokenSpec {
            name,
            scopes,
            expires_in,
        }),
        // Every field either parsed or recorded an error above.
        _ => Err(Failure::internal(anyhow::anyhow!("validated fields went missing")).into()),
    }
}

fn parse_scopes(names: &[String]) -> Result<Scopes, Vec<String>> {
    let mut problems = Vec::new();
    let mut scopes = Vec::with_capacity(names.len());
    for name in names {
        match Scope::parse(name) {
            Some(scope) => scopes.push(scope),
            None => {
                let message = format!(
                    "\"{name}\" is not a valid scope: 1 to {SCOPE_MAX_LEN} characters of a-z 0-9 _ . : -."
                );
                if !problems.contains(&message) {
                    problems.push(message);
                }
            }
        }
    }
    if names.len() > MAX_SCOPES {
        problems.push(format!(
            "Ensure this field has no more than {MAX_SCOPES} elements."
        ));
    }
    if problems.is_empty() {
        Ok(Scopes::new(scopes))
    } else {
        Err(problems)
    }
}

impl From<NamedTokensError> for ApiError {
    fn from(e: NamedTokensError) -> Self {
        match e {
            NamedTokensError::Forbidden => ApiError::Forbidden,
            NamedTokensError::NotFound => ApiError::NotFound,
            NamedTokensError::NameTaken => ApiError::field("name", vec![MSG_NAME_TAKEN]),
            NamedTokensError::LimitReached => ApiError::non_field(MSG_LIMIT_REACHED),
            NamedTokensError::Failure(failure) => failure.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert_eq!(token_id("7").unwrap(), Some(TokenId::new(7)));
        assert_eq!(token_id("0").unwrap(), None);
        assert_eq!(token_id("-3").unwrap(), None);
        assert_eq!(token_id("99999999999").unwrap(), None);
        for bad in ["", "x", "1.5", "1e3", " 1", "-", "0x10"] {
            assert!(token_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn scope_lists() {
        let ok = parse_scopes(&["b".into(), "a".into(), "b".into()]).unwrap();
        assert_eq!(ok.iter().collect::<Vec<_>>(), ["a", "b"]);
        let bad = parse_scopes(&["A".into(), "A".into(), "ok".into()]).unwrap_err();
        assert_eq!(bad.len(), 1);
        assert!(bad[0].starts_with("\"A\" is not a valid scope"));
        let many: Vec<String> = (0..33).map(|i| format!("s{i}")).collect();
        assert_eq!(
            parse_scopes(&many).unwrap_err(),
            ["Ensure this field has no more than 32 elements."]
        );
    }
}

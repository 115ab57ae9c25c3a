//! `GET /api/docs/`: the API description as a page to read, with forms to
//! try the endpoints that take a form body. Rendered on the server from the
//! same document as `/api/schema/`; nothing is loaded from other hosts.

use actix_web::HttpResponse;
use askama::Template;
use serde_json::Value;

use super::schema::DOCUMENT;

pub struct Field {
    pub name: String,
    pub required: bool,
    pub description: String,
}

pub struct Operation {
    pub id: String,
    pub method: String,
    pub path: String,
    pub summary: String,
    pub needs_key: bool,
    pub fields: Vec<Field>,
    /// Whether the page offers a form to send it.
    pub try_it: bool,
    pub responses: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "api_docs.html")]
struct DocsPage {
    description: String,
    operations: Vec<Operation>,
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// Follows a local `$ref` (`#/components/...`) in the document.
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => doc.pointer(r.trim_start_matches('#')).unwrap_or(v),
        None => v,
    }
}

fn operations(doc: &Value) -> Vec<Operation> {
    let mut out = Vec::new();
    let Some(paths) = doc["paths"].as_object() else {
        return out;
    };
    for (path, item) in paths {
        let Some(methods) = item.as_object() else {
            continue;
        };
        for (method, op) in methods {
            let body = resolve(doc, &op["requestBody"]);
            let form = &body["content"]["application/x-www-form-urlencoded"]["schema"];
            // A form can be tried from the page; a JSON body only described.
            let try_it = !form.is_null();
            let schema = if try_it {
                resolve(doc, form)
            } else {
                resolve(doc, &body["content"]["application/json"]["schema"])
            };
            let required: Vec<&str> = schema["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let fields = schema["properties"]
                .as_object()
                .map(|props| {
                    props
                        .iter()
                        .map(|(name, p)| Field {
                            required: required.contains(&name.as_str()),
                            description: text(&p["description"]),
                            name: name.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let responses = op["responses"]
                .as_object()
                .map(|r| {
                    r.iter()
                        .map(|(code, resp)| {
                            (code.clone(), text(&resolve(doc, resp)["description"]))
                        })
                        .collect()
                })
                .unwrap_or_default();
            out.push(Operation {
                id: text(&op["operationId"]),
                method: method.to_uppercase(),
                path: path.clone(),
                summary: text(&op["summary"]),
                needs_key: op.get("security").is_some(),
                try_it,
                fields,
                responses,
            });
        }
    }
    out
}

pub async fn docs() -> HttpResponse {
    let doc: Value = serde_json::from_str(DOCUMENT).unwrap_or_default();
    let page = DocsPage {
        description: text(&doc["info"]["description"]),
        operations: operations(&doc),
    };
    match page.render() {
        Ok(html) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header((
                "Content-Security-Policy",
                "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ))
            .body(html),
        Err(e) => {
            log::error!("cannot render the API page: {e}");
            HttpResponse::InternalServerError().finish()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_of_the_document_is_listed() {
        let doc: Value = serde_json::from_str(DOCUMENT).unwrap();
        let ops = operations(&doc);
        assert_eq!(ops.len(), 12);
        let sign_in = ops.iter().find(|o| o.id == "obtainAuthToken").unwrap();
        let names: Vec<&str> = sign_in.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["username", "password"]);
        assert!(sign_in.responses.iter().any(|(c, _)| c == "429"));
        assert!(ops.iter().find(|o| o.id == "me").unwrap().needs_key);
        let create = ops.iter().find(|o| o.id == "createToken").unwrap();
        let names: Vec<&str> = create.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["name", "scopes", "expires_in"]);
    }
}

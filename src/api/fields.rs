//! DRF `CharField` semantics over a parsed body: `Field.get_value`,
//! `CharField.run_validation`, `Field.validate_empty_values`,
//! `CharField.to_internal_value` and `Field.run_validators` (DRF 3.18
//! `rest_framework/fields.py`), as a `Serializer` runs them for each field.

use std::sync::LazyLock;

use super::body::Body;
use super::pyjson::PyValue;

/// One field's incoming value.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Json(PyValue),
    /// A form value (`QueryDict`).
    Text(String),
    /// An uploaded file (`UploadedFile`), with its sanitized name, which is
    /// what `str(file)` gives.
    File(String),
}

/// The data a serializer validates: a JSON object, or a `QueryDict` (HTML
/// form input, which DRF treats differently for blank optional fields).
// `Debug` lists field names only: the values include passwords.
#[derive(Clone, Default)]
pub struct Fields {
    html: bool,
    values: Vec<(String, Value)>,
}

impl std::fmt::Debug for Fields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fields")
            .field("html", &self.html)
            .field(
                "names",
                &self.values.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// A body that is not a mapping, as `Serializer.errors` reports it under
/// `non_field_errors`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldsError {
    /// `Invalid data. Expected a dictionary, but got {type}.`
    NotADict(&'static str),
    /// `No data provided` (a JSON `null` body).
    NoData,
}

/// A `serializers.CharField(...)` declaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CharField {
    pub trim_whitespace: bool,
    pub allow_blank: bool,
    pub required: bool,
}

impl Default for CharField {
    /// `CharField()`: trimmed, not blank, required.
    fn default() -> Self {
        CharField {
            trim_whitespace: true,
            allow_blank: false,
            required: true,
        }
    }
}

pub const MSG_REQUIRED: &str = "This field is required.";
pub const MSG_NULL: &str = "This field may not be null.";
pub const MSG_INVALID: &str = "Not a valid string.";
pub const MSG_BLANK: &str = "This field may not be blank.";
pub const MSG_NULL_CHARACTERS: &str = "Null characters are not allowed.";

/// `Surrogate characters are not allowed: U+D800.` for each surrogate.
static SURROGATE_MESSAGES: LazyLock<Vec<String>> = LazyLock::new(|| {
    (0xD800u32..=0xDFFF)
        .map(|u| format!("Surrogate characters are not allowed: U+{u:X}."))
        .collect()
});

fn surrogate_message(unit: u16) -> &'static str {
    let index = usize::from(unit.saturating_sub(0xD800)).min(0x7FF);
    SURROGATE_MESSAGES[index].as_str()
}

impl Fields {
    /// What `Serializer.to_internal_value` accepts as data.
    pub fn from_body(body: Body) -> Result<Fields, FieldsError> {
        match body {
            Body::Empty => Ok(Fields::default()),
            Body::Json(PyValue::Object(items)) => Ok(Fields {
                html: false,
                values: items
                    .into_iter()
                    .map(|(k, v)| (k, Value::Json(v)))
                    .collect(),
            }),
            Body::Json(PyValue::Null) => Err(FieldsError::NoData),
            Body::Json(other) => Err(FieldsError::NotADict(other.type_name())),
            Body::Form(pairs) => Ok(Fields {
                html: true,
                values: pairs
                    .into_iter()
                    .map(|(k, v)| (k, Value::Text(v)))
                    .collect(),
            }),
            // `data.copy(); data.update(files)`: a key's files come after its
            // text values.
            Body::FormWithFiles { fields, files } => Ok(Fields {
                html: true,
                values: fields
                    .into_iter()
                    .map(|(k, v)| (k, Value::Text(v)))
                    .chain(files.into_iter().map(|(k, name)| (k, Value::File(name))))
                    .collect(),
            }),
        }
    }

    /// `data[name]`: a JSON object has one value per key, a `QueryDict` gives
    /// the last one.
    fn get(&self, name: &str) -> Option<&Value> {
        self.values
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// Validates field `name` as `spec`: `Ok(None)` when an optional field is
    /// absent, the validated text otherwise, or DRF's messages in order.
    pub fn char(&self, name: &str, spec: CharField) -> Result<Option<String>, Vec<&'static str>> {
        // Field.get_value
        let data = match self.get(name) {
            None => None,
            // HTML forms cannot send "nothing": an empty optional value counts
            // as absent unless blank is allowed.
            Some(Value::Text(t)) if self.html && t.is_empty() && !spec.required => {
                if spec.allow_blank {
                    Some(Value::Text(String::new()))
                } else {
                    None
                }
            }
            Some(v) => Some(v.clone()),
        };
        let Some(data) = data else {
            // validate_empty_values(empty)
            return if spec.required {
                Err(vec![MSG_REQUIRED])
            } else {
                Ok(None)
            };
        };

        // CharField.run_validation: `data == ''` or a blank `str(data)`.
        let text = python_str(&data);
        let empty_text =
            matches!(&data, Value::Text(t) | Value::Json(PyValue::Str(t)) if t.is_empty());
        if empty_text || (spec.trim_whitespace && python_strip(&text).is_empty()) {
            return if spec.allow_blank {
                Ok(Some(String::new()))
            } else {
                Err(vec![MSG_BLANK])
            };
        }

        // validate_empty_values(None), then to_internal_value.
        let surrogate = match &data {
            Value::Json(PyValue::Null) => return Err(vec![MSG_NULL]),
            Value::Json(PyValue::Bool(_) | PyValue::List(_) | PyValue::Object(_))
            | Value::File(_) => {
                return Err(vec![MSG_INVALID]);
            }
            Value::Json(PyValue::SurrogateStr(_, unit)) => Some(*unit),
            _ => None,
        };
        let value = if spec.trim_whitespace {
            python_strip(&text).to_string()
        } else {
            text
        };

        // run_validators: every failing validator's message, in order.
        let mut errors = Vec::new();
        if value.contains('\0') {
            errors.push(MSG_NULL_CHARACTERS);
        }
        if let Some(unit) = surrogate {
            errors.push(surrogate_message(unit));
        }
        if errors.is_empty() {
            Ok(Some(value))
        } else {
            Err(errors)
        }
    }
}

/// Python's `str(data)` for the values a `CharField` can see.
fn python_str(data: &Value) -> String {
    match data {
        Value::Text(t) | Value::File(t) => t.clone(),
        Value::Json(v) => match v {
            PyValue::Null => "None".to_string(),
            PyValue::Bool(true) => "True".to_string(),
            PyValue::Bool(false) => "False".to_string(),
            PyValue::Int(s) | PyValue::Float(s) | PyValue::Str(s) | PyValue::SurrogateStr(s, _) => {
                s.clone()
            }
            // Never blank: `[...]` / `{...}`.
            PyValue::List(_) => "[]".to_string(),
            PyValue::Object(_) => "{}".to_string(),
        },
    }
}

/// Python's `str.isspace()` for one character: Unicode White_Space plus the
/// information separators `\x1c`-`\x1f`.
pub fn python_isspace(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Python's `str.strip()` with no argument.
pub fn python_strip(s: &str) -> &str {
    s.trim_matches(python_isspace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::body::parse_request;
    use crate::api::pyjson::tests::esc;

    /// The serializer the expectations were generated with (DRF 3.18).
    const SPECS: [(&str, CharField); 6] = [
        // a = CharField()
        (
            "a",
            CharField {
                trim_whitespace: true,
                allow_blank: false,
                required: true,
            },
        ),
        // b = CharField(trim_whitespace=False)
        (
            "b",
            CharField {
                trim_whitespace: false,
                allow_blank: false,
                required: true,
            },
        ),
        // c = CharField(required=False)
        (
            "c",
            CharField {
                trim_whitespace: true,
                allow_blank: false,
                required: false,
            },
        ),
        // d = CharField(required=False, allow_blank=True)
        (
            "d",
            CharField {
                trim_whitespace: true,
                allow_blank: true,
                required: false,
            },
        ),
        // e = CharField(allow_blank=True)
        (
            "e",
            CharField {
                trim_whitespace: true,
                allow_blank: true,
                required: true,
            },
        ),
        // f = CharField(trim_whitespace=False, required=False)
        (
            "f",
            CharField {
                trim_whitespace: false,
                allow_blank: false,
                required: false,
            },
        ),
    ];

    /// `(Content-Type, body, expected)`.
    type Case = (Option<&'static [u8]>, &'static [u8], &'static str);

    fn describe(content_type: Option<&[u8]>, body: &[u8]) -> String {
        let body = parse_request(content_type, body).expect("body parses");
        match Fields::from_body(body) {
            Err(FieldsError::NotADict(t)) => {
                format!("NF:Invalid data. Expected a dictionary, but got {t}.")
            }
            Err(FieldsError::NoData) => "NF:No data provided".to_string(),
            Ok(fields) => SPECS
                .iter()
                .map(|(name, spec)| match fields.char(name, *spec) {
                    Ok(None) => format!("{name}:-"),
                    Ok(Some(v)) => format!("{name}:V:{}", esc(&v)),
                    Err(messages) => format!("{name}:E:{}", messages.join("|")),
                })
                .collect::<Vec<_>>()
                .join(" "),
        }
    }

    /// `serializer.errors` / each field's validated value under DRF 3.18.
    #[rustfmt::skip]
    const DRF: &[Case] = &[
        (Some(b"application/json"), b"{}", "a:E:This field is required. b:E:This field is required. c:- d:- e:E:This field is required. f:-"),
        (None, b"", "a:E:This field is required. b:E:This field is required. c:- d:- e:E:This field is required. f:-"),
        (Some(b"application/x-www-form-urlencoded"), b"", "a:E:This field is required. b:E:This field is required. c:- d:- e:E:This field is required. f:-"),
        (Some(b"application/json"), b"[]", "NF:Invalid data. Expected a dictionary, but got list."),
        (Some(b"application/json"), b"\"s\"", "NF:Invalid data. Expected a dictionary, but got str."),
        (Some(b"application/json"), b"1", "NF:Invalid data. Expected a dictionary, but got int."),
        (Some(b"application/json"), b"1.5", "NF:Invalid data. Expected a dictionary, but got float."),
        (Some(b"application/json"), b"true", "NF:Invalid data. Expected a dictionary, but got bool."),
        (Some(b"application/json"), b"null", "NF:No data provided"),
        (Some(b"application/json"), b"{\"a\": \"x\", \"b\": \"y\", \"c\": \"z\", \"d\": \"w\", \"e\": \"v\", \"f\": \"u\"}", "a:V:\"x\" b:V:\"y\" c:V:\"z\" d:V:\"w\" e:V:\"v\" f:V:\"u\""),
        (Some(b"application/json"), b"{\"a\": \"  x  \", \"b\": \"  y  \", \"c\": \" z \", \"d\": \" \", \"e\": \" \", \"f\": \" u \"}", "a:V:\"x\" b:V:\"  y  \" c:V:\"z\" d:V:\"\" e:V:\"\" f:V:\" u \""),
        (Some(b"application/json"), b"{\"a\": \"\", \"b\": \"\", \"c\": \"\", \"d\": \"\", \"e\": \"\", \"f\": \"\"}", "a:E:This field may not be blank. b:E:This field may not be blank. c:E:This field may not be blank. d:V:\"\" e:V:\"\" f:E:This field may not be blank."),
        (Some(b"application/json"), b"{\"a\": \" \", \"b\": \" \", \"c\": \" \", \"d\": \"\\t\", \"e\": \"\\n\", \"f\": \" \"}", "a:E:This field may not be blank. b:V:\" \" c:E:This field may not be blank. d:V:\"\" e:V:\"\" f:V:\" \""),
        (Some(b"application/json"), b"{\"a\": null, \"b\": null, \"c\": null, \"d\": null, \"e\": null, \"f\": null}", "a:E:This field may not be null. b:E:This field may not be null. c:E:This field may not be null. d:E:This field may not be null. e:E:This field may not be null. f:E:This field may not be null."),
        (Some(b"application/json"), b"{\"a\": true, \"b\": false, \"c\": [], \"d\": {}, \"e\": [1], \"f\": {\"k\": 1}}", "a:E:Not a valid string. b:E:Not a valid string. c:E:Not a valid string. d:E:Not a valid string. e:E:Not a valid string. f:E:Not a valid string."),
        (Some(b"application/json"), b"{\"a\": 0, \"b\": -1, \"c\": 1.0, \"d\": 1e+16, \"e\": 1.5e-07, \"f\": 1000000000000000000000000000000}", "a:V:\"0\" b:V:\"-1\" c:V:\"1.0\" d:V:\"1e+16\" e:V:\"1.5e-07\" f:V:\"1000000000000000000000000000000\""),
        (Some(b"application/json"), b"{\"a\": -0, \"b\": -0.0, \"c\": 1e999, \"d\": 12345678901234567890.0, \"e\": 0.1, \"f\": 1E+2}", "a:V:\"0\" b:V:\"-0.0\" c:V:\"inf\" d:V:\"1.2345678901234567e+19\" e:V:\"0.1\" f:V:\"100.0\""),
        (Some(b"application/json"), b"{\"a\": \"a\\u0000b\", \"b\": \"\\u0000\", \"c\": \" \\u0000 \", \"d\": \"\\u0000\", \"e\": \"x\", \"f\": \"y\"}", "a:E:Null characters are not allowed. b:E:Null characters are not allowed. c:E:Null characters are not allowed. d:E:Null characters are not allowed. e:V:\"x\" f:V:\"y\""),
        (Some(b"application/json"), b"{\"a\": \"\\ud800\", \"b\": \"x\\u0000\\udfff\", \"c\": \" \\udc00 \", \"d\": \"\\ud83d\\ude00\", \"e\": \"ok\", \"f\": \"\\ud800\\ud800\"}", "a:E:Surrogate characters are not allowed: U+D800. b:E:Null characters are not allowed.|Surrogate characters are not allowed: U+DFFF. c:E:Surrogate characters are not allowed: U+DC00. d:V:\"\\u{1f600}\" e:V:\"ok\" f:E:Surrogate characters are not allowed: U+D800."),
        (Some(b"application/json"), b"{\"a\": \"\\u001c\\u001dx\\u001e\\u001f\", \"b\": \"\\u0085\", \"c\": \"\\u00a0y\\u3000\", \"d\": \"\\u200b\", \"e\": \"\\u180e\", \"f\": \"\\u2028\"}", "a:V:\"x\" b:V:\"\\u{85}\" c:V:\"y\" d:V:\"\\u{200b}\" e:V:\"\\u{180e}\" f:V:\"\\u{2028}\""),
        (Some(b"application/json"), b"{\"a\": \"\\u200bx\\u200b\", \"b\": \"\\u000b\", \"c\": \"\\f\", \"d\": \"\\r\", \"e\": \"\\u2003\", \"f\": \"\\u001f\"}", "a:V:\"\\u{200b}x\\u{200b}\" b:V:\"\\u{b}\" c:E:This field may not be blank. d:V:\"\" e:V:\"\" f:V:\"\\u{1f}\""),
        (Some(b"application/x-www-form-urlencoded"), b"a=x&b=y&c=z&d=w&e=v&f=u", "a:V:\"x\" b:V:\"y\" c:V:\"z\" d:V:\"w\" e:V:\"v\" f:V:\"u\""),
        (Some(b"application/x-www-form-urlencoded"), b"a=&b=&c=&d=&e=&f=", "a:E:This field may not be blank. b:E:This field may not be blank. c:- d:V:\"\" e:V:\"\" f:-"),
        (Some(b"application/x-www-form-urlencoded"), b"a=+&b=+&c=+&d=+&e=+&f=+", "a:E:This field may not be blank. b:V:\" \" c:E:This field may not be blank. d:V:\"\" e:V:\"\" f:V:\" \""),
        (Some(b"application/x-www-form-urlencoded"), b"a&b&c&d&e&f", "a:E:This field may not be blank. b:E:This field may not be blank. c:- d:V:\"\" e:V:\"\" f:-"),
        (Some(b"application/x-www-form-urlencoded"), b"a=1&a=&a=2&c=%00&d=%20%20x", "a:V:\"2\" b:E:This field is required. c:E:Null characters are not allowed. d:V:\"x\" e:E:This field is required. f:-"),
        (Some(b"application/x-www-form-urlencoded"), b"a=x&a=&b=y&b=&c=z&c=", "a:E:This field may not be blank. b:E:This field may not be blank. c:- d:- e:E:This field is required. f:-"),
        (Some(b"application/x-www-form-urlencoded"), b"a=%00&b=%E2%80%83", "a:E:Null characters are not allowed. b:V:\"\\u{2003}\" c:- d:- e:E:This field is required. f:-"),
        (Some(b"multipart/form-data; boundary=XyZ"), b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"; filename=\"f\"\r\n\r\nx\r\n--XyZ\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\ny\r\n--XyZ\r\nContent-Disposition: form-data; name=\"b\"; filename=\"  \"\r\n\r\nz\r\n--XyZ\r\nContent-Disposition: form-data; name=\"c\"; filename=\"f\"\r\n\r\nw\r\n--XyZ--\r\n", "a:E:Not a valid string. b:E:Not a valid string. c:E:Not a valid string. d:- e:E:This field is required. f:-"),
        (Some(b"multipart/form-data; boundary=XyZ"), b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\r\n--XyZ\r\nContent-Disposition: form-data; name=\"c\"\r\n\r\n\r\n--XyZ\r\nContent-Disposition: form-data; name=\"d\"\r\n\r\n\r\n--XyZ\r\nContent-Disposition: form-data; name=\"e\"\r\n\r\n  \r\n--XyZ--\r\n", "a:E:This field may not be blank. b:E:This field is required. c:- d:V:\"\" e:V:\"\" f:-"),
    ];

    #[test]
    fn matches_drf() {
        for (content_type, body, expected) in DRF {
            assert_eq!(
                describe(*content_type, body),
                *expected,
                "body {:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn python_whitespace_set() {
        // [c for c in range(0x110000) if chr(c).isspace()] on CPython 3.11.
        let python: Vec<u32> = vec![
            0x9, 0xa, 0xb, 0xc, 0xd, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000,
            0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028,
            0x2029, 0x202f, 0x205f, 0x3000,
        ];
        let ours: Vec<u32> = (0..=0x10FFFFu32)
            .filter_map(char::from_u32)
            .filter(|c| python_isspace(*c))
            .map(|c| c as u32)
            .collect();
        assert_eq!(ours, python);
    }

    #[test]
    fn python_strip_differs_from_rust_trim() {
        assert_eq!(python_strip("\x1c\x1f a b \u{85}\u{a0}\u{3000}"), "a b");
        assert_eq!(python_strip("\u{200b}x\u{200b}"), "\u{200b}x\u{200b}");
        assert_eq!(python_strip("\u{180e}"), "\u{180e}");
        assert_eq!(python_strip(""), "");
        assert_eq!(python_strip(" \t\n "), "");
    }

    #[test]
    fn username_and_password_as_drf_declares_them() {
        // AuthTokenSerializer: username = CharField(); password =
        // CharField(trim_whitespace=False).
        let username = CharField::default();
        let password = CharField {
            trim_whitespace: false,
            ..CharField::default()
        };
        let body = crate::api::body::Body::Json(
            crate::api::pyjson::loads(br#"{"username": " alice ", "password": " pw "}"#).unwrap(),
        );
        let fields = Fields::from_body(body).unwrap();
        assert_eq!(fields.char("username", username), Ok(Some("alice".into())));
        assert_eq!(fields.char("password", password), Ok(Some(" pw ".into())));
        assert_eq!(fields.char("email", username), Err(vec![MSG_REQUIRED]));
    }

    #[test]
    fn surrogate_messages() {
        assert_eq!(
            surrogate_message(0xD800),
            "Surrogate characters are not allowed: U+D800."
        );
        assert_eq!(
            surrogate_message(0xDFFF),
            "Surrogate characters are not allowed: U+DFFF."
        );
    }
}

//! DRF `CharField` semantics over a parsed body: `Field.get_value`,
//! `CharField.run_validation`, `Field.validate_empty_values`,
//! `CharField.to_internal_value` and the validators DRF adds to every
//! `CharField` (DRF 3.x `rest_framework/fields.py`), as a `Serializer` runs
//! them for each field. These rules and their messages are what clients see;
//! they are kept exactly.

use serde_json::Value as Json;

use super::body::{Body, type_name};

/// One field's incoming value.
#[derive(Clone, PartialEq)]
enum Value {
    Json(Json),
    /// A form value (`QueryDict`).
    Text(String),
    /// An uploaded file.
    File,
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

impl Fields {
    /// What `Serializer.to_internal_value` accepts as data.
    pub fn from_body(body: Body) -> Result<Fields, FieldsError> {
        let text = |pairs: Vec<(String, String)>| {
            pairs
                .into_iter()
                .map(|(k, v)| (k, Value::Text(v)))
                .collect::<Vec<_>>()
        };
        match body {
            Body::Empty => Ok(Fields::default()),
            Body::Json(Json::Object(items)) => Ok(Fields {
                html: false,
                values: items
                    .into_iter()
                    .map(|(k, v)| (k, Value::Json(v)))
                    .collect(),
            }),
            Body::Json(Json::Null) => Err(FieldsError::NoData),
            Body::Json(other) => Err(FieldsError::NotADict(type_name(&other))),
            Body::Form(pairs) => Ok(Fields {
                html: true,
                values: text(pairs),
            }),
            // `data.copy(); data.update(files)`: a name's files come after
            // its text values.
            Body::Multipart { fields, files } => {
                let mut values = text(fields);
                values.extend(files.into_iter().map(|name| (name, Value::File)));
                Ok(Fields { html: true, values })
            }
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
            // HTML forms cannot send "nothing": an empty optional value counts
            // as absent unless blank is allowed.
            Some(Value::Text(t)) if self.html && t.is_empty() && !spec.required => {
                spec.allow_blank.then_some(Value::Text(String::new()))
            }
            other => other.cloned(),
        };
        let Some(data) = data else {
            // validate_empty_values(empty)
            return if spec.required {
                Err(vec![MSG_REQUIRED])
            } else {
                Ok(None)
            };
        };

        // to_internal_value: strings and numbers, as their text.
        let text = match data {
            Value::Text(t) | Value::Json(Json::String(t)) => t,
            Value::Json(Json::Number(n)) => n.to_string(),
            // validate_empty_values(None)
            Value::Json(Json::Null) => return Err(vec![MSG_NULL]),
            Value::Json(Json::Bool(_) | Json::Array(_) | Json::Object(_)) | Value::File => {
                return Err(vec![MSG_INVALID]);
            }
        };
        // CharField.run_validation: `data == ''`, or blank once trimmed.
        let value = if spec.trim_whitespace {
            python_strip(&text).to_string()
        } else {
            text
        };
        if value.is_empty() {
            return if spec.allow_blank {
                Ok(Some(String::new()))
            } else {
                Err(vec![MSG_BLANK])
            };
        }
        // run_validators
        if value.contains('\0') {
            return Err(vec![MSG_NULL_CHARACTERS]);
        }
        Ok(Some(value))
    }
}

pub const MSG_INTEGER: &str = "A valid integer is required.";
pub const MSG_UNKNOWN_FIELD: &str = "Unknown field.";

impl Fields {
    /// The names sent that are not in `known`, in the order sent.
    pub fn unknown<'a>(&'a self, known: &[&str]) -> Vec<&'a str> {
        let mut names: Vec<&str> = Vec::new();
        for (name, _) in &self.values {
            if !known.contains(&name.as_str()) && !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
        names
    }

    /// A `CharField` that takes only text: a JSON number is not a string
    /// here (the endpoints beyond DRF are typed as their schema says).
    pub fn strict_char(
        &self,
        name: &str,
        spec: CharField,
    ) -> Result<Option<String>, Vec<&'static str>> {
        match self.get(name) {
            Some(Value::Json(Json::Number(_))) => Err(vec![MSG_INVALID]),
            _ => self.char(name, spec),
        }
    }

    /// `IntegerField(required=False, allow_null=True, min_value,
    /// max_value)`: `Ok(None)` when absent or null. JSON takes a number with
    /// no fraction; a form, decimal text.
    pub fn optional_integer(
        &self,
        name: &str,
        min: i64,
        max: i64,
    ) -> Result<Option<i64>, Vec<String>> {
        let below = || {
            vec![format!(
                "Ensure this value is greater than or equal to {min}."
            )]
        };
        let above = || vec![format!("Ensure this value is less than or equal to {max}.")];
        let invalid = || vec![MSG_INTEGER.to_string()];
        // `Err(true)`: beyond 64 bits, negative; `Err(false)`: positive.
        let value: Result<i64, bool> = match self.get(name) {
            None | Some(Value::Json(Json::Null)) => return Ok(None),
            Some(Value::Text(t)) if self.html && t.is_empty() => return Ok(None),
            Some(Value::Text(t)) => integer_text(python_strip(t)).ok_or_else(invalid)?,
            Some(Value::Json(Json::Number(n))) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => Ok(i),
                (None, Some(f)) if f.fract() == 0.0 => {
                    // `as` saturates; a float this large is out of range anyway.
                    if f.abs() < 9.0e18 {
                        Ok(f as i64)
                    } else {
                        Err(f < 0.0)
                    }
                }
                // Beyond `i64` but integral (`u64`), or a fraction.
                _ => n.as_u64().map(|_| Err(false)).ok_or_else(invalid)?,
            },
            Some(_) => return Err(invalid()),
        };
        match value {
            Err(true) => Err(below()),
            Err(false) => Err(above()),
            Ok(v) if v < min => Err(below()),
            Ok(v) if v > max => Err(above()),
            Ok(v) => Ok(Some(v)),
        }
    }

    /// `ListField(child=CharField(), required=False)`: the strings sent (a
    /// form's repeated values), empty when absent; JSON items must be text.
    pub fn string_list(&self, name: &str) -> Result<Vec<String>, Vec<String>> {
        if self.html {
            return Ok(self
                .values
                .iter()
                .filter(|(k, _)| k == name)
                .filter_map(|(_, v)| match v {
                    Value::Text(t) => Some(python_strip(t).to_owned()),
                    _ => None,
                })
                .collect());
        }
        let items = match self.get(name) {
            None => return Ok(Vec::new()),
            Some(Value::Json(Json::Array(items))) => items,
            Some(Value::Json(Json::Null)) => return Err(vec![MSG_NULL.into()]),
            Some(Value::Json(other)) => {
                return Err(vec![format!(
                    "Expected a list of items but got type \"{}\".",
                    type_name(other)
                )]);
            }
            Some(_) => return Err(vec![MSG_INVALID.into()]),
        };
        let mut strings = Vec::with_capacity(items.len());
        for item in items {
            match item {
                Json::String(t) => strings.push(python_strip(t).to_owned()),
                Json::Null => return Err(vec![MSG_NULL.into()]),
                _ => return Err(vec![MSG_INVALID.into()]),
            }
        }
        Ok(strings)
    }
}

/// Decimal text as DRF's `IntegerField` reads it (an optional sign, digits,
/// an optional `.000` tail); `Err(negative)` beyond 64 bits; `None` if it
/// is not an integer.
fn integer_text(text: &str) -> Option<Result<i64, bool>> {
    let integral = match text.split_once('.') {
        Some((whole, zeros)) if zeros.bytes().all(|b| b == b'0') => whole,
        Some(_) => return None,
        None => text,
    };
    let (negative, digits) = match integral.as_bytes().first() {
        Some(b'-') => (true, &integral[1..]),
        Some(b'+') => (false, &integral[1..]),
        _ => (false, integral),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(match digits.parse::<i64>() {
        Ok(m) if negative => Ok(-m),
        Ok(m) => Ok(m),
        Err(_) => Err(negative),
    })
}

/// Python's `str.isspace()` for one character (what `str.strip()` trims,
/// and so what DRF's `trim_whitespace` trims): Unicode White_Space plus the
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

    /// The serializer the expectations were taken from (DRF 3.18).
    const SPECS: [(&str, CharField); 6] = [
        // a = CharField()
        ("a", spec(true, false, true)),
        // b = CharField(trim_whitespace=False)
        ("b", spec(false, false, true)),
        // c = CharField(required=False)
        ("c", spec(true, false, false)),
        // d = CharField(required=False, allow_blank=True)
        ("d", spec(true, true, false)),
        // e = CharField(allow_blank=True)
        ("e", spec(true, true, true)),
        // f = CharField(trim_whitespace=False, required=False)
        ("f", spec(false, false, false)),
    ];

    const fn spec(trim_whitespace: bool, allow_blank: bool, required: bool) -> CharField {
        CharField {
            trim_whitespace,
            allow_blank,
            required,
        }
    }

    fn describe(content_type: Option<&str>, body: &[u8]) -> String {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let body = runtime
            .block_on(crate::api::body::parse(
                content_type.map(str::as_bytes),
                actix_web::web::Bytes::copy_from_slice(body),
            ))
            .expect("body parses");
        match Fields::from_body(body) {
            Err(FieldsError::NotADict(t)) => {
                format!("NF:Invalid data. Expected a dictionary, but got {t}.")
            }
            Err(FieldsError::NoData) => "NF:No data provided".to_string(),
            Ok(fields) => SPECS
                .iter()
                .map(|(name, spec)| match fields.char(name, *spec) {
                    Ok(None) => format!("{name}:-"),
                    Ok(Some(v)) => format!("{name}:V:{v:?}"),
                    Err(messages) => format!("{name}:E:{}", messages.join("|")),
                })
                .collect::<Vec<_>>()
                .join(" "),
        }
    }

    const JSON: Option<&str> = Some("application/json");
    const FORM: Option<&str> = Some("application/x-www-form-urlencoded");
    const MULTIPART: Option<&str> = Some("multipart/form-data; boundary=XyZ");

    /// `serializer.errors` / each field's validated value under DRF 3.18,
    /// except where a row says otherwise.
    #[rustfmt::skip]
    const DRF: &[(Option<&str>, &[u8], &str)] = &[
        (JSON, b"{}", "a:E:This field is required. b:E:This field is required. c:- d:- e:E:This field is required. f:-"),
        (None, b"", "a:E:This field is required. b:E:This field is required. c:- d:- e:E:This field is required. f:-"),
        (FORM, b"", "a:E:This field is required. b:E:This field is required. c:- d:- e:E:This field is required. f:-"),
        (JSON, b"[]", "NF:Invalid data. Expected a dictionary, but got list."),
        (JSON, b"\"s\"", "NF:Invalid data. Expected a dictionary, but got str."),
        (JSON, b"1", "NF:Invalid data. Expected a dictionary, but got int."),
        (JSON, b"-1", "NF:Invalid data. Expected a dictionary, but got int."),
        (JSON, b"1.5", "NF:Invalid data. Expected a dictionary, but got float."),
        // DRF: `int` (serde_json holds integers beyond 64 bits as floats).
        (JSON, b"100000000000000000000000", "NF:Invalid data. Expected a dictionary, but got float."),
        (JSON, b"true", "NF:Invalid data. Expected a dictionary, but got bool."),
        (JSON, b"null", "NF:No data provided"),
        (JSON, b"{\"a\": \"x\", \"b\": \"y\", \"c\": \"z\", \"d\": \"w\", \"e\": \"v\", \"f\": \"u\"}", "a:V:\"x\" b:V:\"y\" c:V:\"z\" d:V:\"w\" e:V:\"v\" f:V:\"u\""),
        (JSON, b"{\"a\": \"  x  \", \"b\": \"  y  \", \"c\": \" z \", \"d\": \" \", \"e\": \" \", \"f\": \" u \"}", "a:V:\"x\" b:V:\"  y  \" c:V:\"z\" d:V:\"\" e:V:\"\" f:V:\" u \""),
        (JSON, b"{\"a\": \"\", \"b\": \"\", \"c\": \"\", \"d\": \"\", \"e\": \"\", \"f\": \"\"}", "a:E:This field may not be blank. b:E:This field may not be blank. c:E:This field may not be blank. d:V:\"\" e:V:\"\" f:E:This field may not be blank."),
        (JSON, b"{\"a\": \" \", \"b\": \" \", \"c\": \" \", \"d\": \"\\t\", \"e\": \"\\n\", \"f\": \" \"}", "a:E:This field may not be blank. b:V:\" \" c:E:This field may not be blank. d:V:\"\" e:V:\"\" f:V:\" \""),
        (JSON, b"{\"a\": null, \"b\": null, \"c\": null, \"d\": null, \"e\": null, \"f\": null}", "a:E:This field may not be null. b:E:This field may not be null. c:E:This field may not be null. d:E:This field may not be null. e:E:This field may not be null. f:E:This field may not be null."),
        (JSON, b"{\"a\": true, \"b\": false, \"c\": [], \"d\": {}, \"e\": [1], \"f\": {\"k\": 1}}", "a:E:Not a valid string. b:E:Not a valid string. c:E:Not a valid string. d:E:Not a valid string. e:E:Not a valid string. f:E:Not a valid string."),
        // Numbers become their text; DRF gives the same for these.
        (JSON, b"{\"a\": 0, \"b\": -1, \"c\": 1.0, \"d\": 0.1, \"e\": 12345678901234567890, \"f\": -2.5}", "a:V:\"0\" b:V:\"-1\" c:V:\"1.0\" d:V:\"0.1\" e:V:\"12345678901234567890\" f:V:\"-2.5\""),
        // serde_json's formatting, not Python's: DRF gives "0" for `-0`,
        // "1.5e-07", and every digit of an integer beyond 64 bits
        // ("1000000000000000000000000000000").
        (JSON, b"{\"a\": -0, \"b\": -0.0, \"c\": 1e+16, \"d\": 1.5e-07, \"e\": 1E+2, \"f\": 1000000000000000000000000000000}", "a:V:\"-0.0\" b:V:\"-0.0\" c:V:\"1e+16\" d:V:\"1.5e-7\" e:V:\"100.0\" f:V:\"1e+30\""),
        (JSON, b"{\"a\": \"a\\u0000b\", \"b\": \"\\u0000\", \"c\": \" \\u0000 \", \"d\": \"\\u0000\", \"e\": \"x\", \"f\": \"y\"}", "a:E:Null characters are not allowed. b:E:Null characters are not allowed. c:E:Null characters are not allowed. d:E:Null characters are not allowed. e:V:\"x\" f:V:\"y\""),
        (JSON, b"{\"a\": \"\\ud83d\\ude00\", \"b\": \"\\u00e9\", \"c\": \"ok\"}", "a:V:\"\u{1f600}\" b:V:\"\u{e9}\" c:V:\"ok\" d:- e:E:This field is required. f:-"),
        // Python's whitespace set: `\x1c`-`\x1f` are trimmed, U+200B and
        // U+180E are not.
        (JSON, b"{\"a\": \"\\u001c\\u001dx\\u001e\\u001f\", \"b\": \"\\u0085\", \"c\": \"\\u00a0y\\u3000\", \"d\": \"\\u200b\", \"e\": \"\\u180e\", \"f\": \"\\u2028\"}", "a:V:\"x\" b:V:\"\\u{85}\" c:V:\"y\" d:V:\"\\u{200b}\" e:V:\"\\u{180e}\" f:V:\"\\u{2028}\""),
        (JSON, b"{\"a\": \"\\u200bx\\u200b\", \"b\": \"\\u000b\", \"c\": \"\\f\", \"d\": \"\\r\", \"e\": \"\\u2003\", \"f\": \"\\u001f\"}", "a:V:\"\\u{200b}x\\u{200b}\" b:V:\"\\u{b}\" c:E:This field may not be blank. d:V:\"\" e:V:\"\" f:V:\"\\u{1f}\""),
        (JSON, b"{\"a\": \"x\", \"a\": \"\"}", "a:E:This field may not be blank. b:E:This field is required. c:- d:- e:E:This field is required. f:-"),
        (FORM, b"a=x&b=y&c=z&d=w&e=v&f=u", "a:V:\"x\" b:V:\"y\" c:V:\"z\" d:V:\"w\" e:V:\"v\" f:V:\"u\""),
        (FORM, b"a=&b=&c=&d=&e=&f=", "a:E:This field may not be blank. b:E:This field may not be blank. c:- d:V:\"\" e:V:\"\" f:-"),
        (FORM, b"a=+&b=+&c=+&d=+&e=+&f=+", "a:E:This field may not be blank. b:V:\" \" c:E:This field may not be blank. d:V:\"\" e:V:\"\" f:V:\" \""),
        (FORM, b"a&b&c&d&e&f", "a:E:This field may not be blank. b:E:This field may not be blank. c:- d:V:\"\" e:V:\"\" f:-"),
        (FORM, b"a=1&a=&a=2&c=%00&d=%20%20x", "a:V:\"2\" b:E:This field is required. c:E:Null characters are not allowed. d:V:\"x\" e:E:This field is required. f:-"),
        (FORM, b"a=x&a=&b=y&b=&c=z&c=", "a:E:This field may not be blank. b:E:This field may not be blank. c:- d:- e:E:This field is required. f:-"),
        (FORM, b"a=%00&b=%E2%80%83", "a:E:Null characters are not allowed. b:V:\"\\u{2003}\" c:- d:- e:E:This field is required. f:-"),
        (MULTIPART, b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"; filename=\"f\"\r\n\r\nx\r\n--XyZ\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\ny\r\n--XyZ\r\nContent-Disposition: form-data; name=\"b\"; filename=\"  \"\r\n\r\nz\r\n--XyZ\r\nContent-Disposition: form-data; name=\"c\"; filename=\"f\"\r\n\r\nw\r\n--XyZ--\r\n", "a:E:Not a valid string. b:E:Not a valid string. c:E:Not a valid string. d:- e:E:This field is required. f:-"),
        (MULTIPART, b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\r\n--XyZ\r\nContent-Disposition: form-data; name=\"c\"\r\n\r\n\r\n--XyZ\r\nContent-Disposition: form-data; name=\"d\"\r\n\r\n\r\n--XyZ\r\nContent-Disposition: form-data; name=\"e\"\r\n\r\n  \r\n--XyZ--\r\n", "a:E:This field may not be blank. b:E:This field is required. c:- d:V:\"\" e:V:\"\" f:-"),
        // A file input left empty (`filename=""`) is skipped, as by Django.
        (MULTIPART, b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--XyZ\r\nContent-Disposition: form-data; name=\"a\"; filename=\"\"\r\n\r\n\r\n--XyZ--\r\n", "a:V:\"x\" b:E:This field is required. c:- d:- e:E:This field is required. f:-"),
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
    fn username_and_password_as_drf_declares_them() {
        // AuthTokenSerializer: username = CharField(); password =
        // CharField(trim_whitespace=False).
        let username = CharField::default();
        let password = CharField {
            trim_whitespace: false,
            ..CharField::default()
        };
        let body = Body::Json(serde_json::json!({"username": " alice ", "password": " pw "}));
        let fields = Fields::from_body(body).unwrap();
        assert_eq!(fields.char("username", username), Ok(Some("alice".into())));
        assert_eq!(fields.char("password", password), Ok(Some(" pw ".into())));
        assert_eq!(fields.char("email", username), Err(vec![MSG_REQUIRED]));
    }

    #[test]
    fn debug_lists_names_not_values() {
        let body = Body::Form(vec![("password".into(), "hunter2-secret".into())]);
        let debug = format!("{:?}", Fields::from_body(body).unwrap());
        assert!(debug.contains("password"), "{debug}");
        assert!(!debug.contains("hunter2"), "{debug}");
    }

    #[test]
    fn integer_text_as_drf_reads_it() {
        assert_eq!(integer_text("42"), Some(Ok(42)));
        assert_eq!(integer_text("+7"), Some(Ok(7)));
        assert_eq!(integer_text("-3.000"), Some(Ok(-3)));
        assert_eq!(integer_text("99999999999999999999"), Some(Err(false)));
        assert_eq!(integer_text("-99999999999999999999"), Some(Err(true)));
        for bad in ["", "-", "1.5", "1e3", "0x10", "1 2", "abc"] {
            assert_eq!(integer_text(bad), None, "{bad:?}");
        }
    }
}

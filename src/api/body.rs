//! Request bodies, parsed as DRF's `Request._parse` parses them with the
//! default parsers (`JSONParser`, `FormParser`, `MultiPartParser`).
//!
//! Reference: DRF 3.18 (`request.py`, `parsers.py`, `negotiation.py`,
//! `utils/mediatypes.py`) on Django 5.2 (`http/request.py` `QueryDict` and
//! `_set_content_type_params`, `http/multipartparser.py`,
//! `utils/http.py` `parse_header_parameters`, which goes through
//! `email.message.Message.get_params`) and CPython 3.11, with Django's default
//! settings (`DATA_UPLOAD_MAX_NUMBER_FIELDS` 1000,
//! `DATA_UPLOAD_MAX_NUMBER_FILES` 100, `DATA_UPLOAD_MAX_MEMORY_SIZE` 2.5 MB).
//!
//! The `Content-Type` value is read as WSGI hands it to Django: each byte is a
//! latin-1 character, so the text quoted in a 415 is that string.
//!
//! Documented deviations (all on inputs no real client sends):
//! - Charsets: `charset=` selects the body's codec as in Django, but only the
//!   UTF-8, UTF-8-SIG, latin-1 and ASCII codecs (under any Python alias) are
//!   known; any other name is treated like an unknown one (UTF-8 is used).
//! - Where Django would raise an unexpected exception (a 500) — a
//!   `Content-Type` whose RFC 2231 parameters Python cannot decode — the body
//!   is refused as an unsupported media type; inside a multipart part header
//!   the header line is ignored.
//! - Multipart file names: the "is it a file at all" decision uses
//!   `str.isprintable` without Python's table of unassigned code points, and
//!   `html.unescape` only for numeric references and the named references that
//!   can change the outcome.
//! - Bodies are parsed as one chunk; Django reads in 64 KiB chunks, which only
//!   matters for base64 file parts beyond that size.

use std::borrow::Cow;

use actix_web::http::header::HeaderValue;
use actix_web::web::Bytes;

use super::fields::python_strip;
use super::pyjson::{self, PyValue};

/// What `request.data` holds. `Debug` shows the shape, not the values
/// (they include passwords).
#[derive(Clone, PartialEq)]
pub enum Body {
    /// No body (length 0): DRF does not even look at the content type.
    Empty,
    Json(PyValue),
    /// `application/x-www-form-urlencoded`, or `multipart/form-data` without
    /// file parts: every `(key, value)` in order.
    Form(Vec<(String, String)>),
    /// `multipart/form-data` with file parts: the text fields, then each
    /// uploaded file as `(field name, file name)`. In `request.data` a file
    /// comes after the text values of its key, so it is what `data[key]` gives.
    FormWithFiles {
        fields: Vec<(String, String)>,
        files: Vec<(String, String)>,
    },
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names =
            |pairs: &[(String, String)]| pairs.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
        match self {
            Body::Empty => f.write_str("Empty"),
            Body::Json(value) => write!(f, "Json({})", value.type_name()),
            Body::Form(fields) => f.debug_tuple("Form").field(&names(fields)).finish(),
            Body::FormWithFiles { fields, files } => f
                .debug_struct("FormWithFiles")
                .field("fields", &names(fields))
                .field("files", &names(files))
                .finish(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// 415; the whole `Content-Type` value, `""` when absent.
    #[error("Unsupported media type \"{0}\" in request.")]
    UnsupportedMediaType(String),
    /// 400 `{"detail": <this>}`: the complete DRF `ParseError` detail.
    #[error("{0}")]
    Parse(String),
}

/// Everything [`parse_request`] can refuse, including what Django itself
/// refuses before DRF sees the data.
#[derive(Debug, thiserror::Error)]
pub enum ParseFailure {
    #[error(transparent)]
    Body(#[from] BodyError),
    /// A `SuspiciousOperation` raised by Django (too many fields or files, or
    /// too much field data). DRF does not handle it; Django answers `400` with
    /// its plain HTML "Bad Request (400)" page. The text is the exception's.
    #[error("{0}")]
    Suspicious(&'static str),
}

pub const TOO_MANY_FIELDS: &str =
    "The number of GET/POST parameters exceeded settings.DATA_UPLOAD_MAX_NUMBER_FIELDS.";
pub const TOO_MANY_FILES: &str =
    "The number of files exceeded settings.DATA_UPLOAD_MAX_NUMBER_FILES.";
pub const DATA_TOO_BIG: &str = "Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.";

const DATA_UPLOAD_MAX_NUMBER_FIELDS: usize = 1000;
const DATA_UPLOAD_MAX_NUMBER_FILES: usize = 100;
const DATA_UPLOAD_MAX_MEMORY_SIZE: usize = 2_621_440;
/// Django's `MAX_TOTAL_HEADER_SIZE` for one multipart part.
const MAX_TOTAL_HEADER_SIZE: usize = 1024;

/// Parses a request body as DRF's `request.data` would see it.
///
/// Django's own refusals ([`ParseFailure::Suspicious`]) are folded into
/// [`BodyError::Parse`] here; use [`parse_request`] to tell them apart.
pub async fn parse(content_type: Option<&HeaderValue>, body: Bytes) -> Result<Body, BodyError> {
    parse_request(content_type.map(HeaderValue::as_bytes), &body).map_err(|e| match e {
        ParseFailure::Body(e) => e,
        ParseFailure::Suspicious(text) => BodyError::Parse(text.to_string()),
    })
}

/// The synchronous parser behind [`parse`]: `content_type` is the raw
/// `Content-Type` value, `None` when absent.
pub fn parse_request(content_type: Option<&[u8]>, body: &[u8]) -> Result<Body, ParseFailure> {
    // `request.META['CONTENT_TYPE']`: WSGI decodes header bytes as latin-1.
    let content_type: String = content_type
        .unwrap_or_default()
        .iter()
        .map(|&b| b as char)
        .collect();
    if body.is_empty() {
        return Ok(Body::Empty);
    }
    let unsupported = || BodyError::UnsupportedMediaType(content_type.clone());
    let Ok(header) = parse_header_parameters(&content_type) else {
        return Err(unsupported().into());
    };
    // `HttpRequest._set_content_type_params`: a known charset is the request
    // encoding, otherwise DEFAULT_CHARSET.
    let codec = header
        .param("charset")
        .and_then(lookup_codec)
        .unwrap_or(Codec::Utf8);
    let (main, sub) = header
        .key
        .split_once('/')
        .unwrap_or((header.key.as_str(), ""));
    let matches = |want_main: &str, want_sub: &str| {
        (sub == "*" || sub == want_sub) && (main == "*" || main == want_main)
    };
    if matches("application", "json") {
        let text = codec.decode_stream(body).map_err(json_error)?;
        let value = pyjson::loads_str(&text).map_err(json_error)?;
        Ok(Body::Json(value))
    } else if matches("application", "x-www-form-urlencoded") {
        Ok(Body::Form(query_dict(body, codec)?))
    } else if matches("multipart", "form-data") {
        multipart(&content_type, body, codec)
    } else {
        Err(unsupported().into())
    }
}

fn json_error(reason: String) -> BodyError {
    BodyError::Parse(format!("JSON parse error - {reason}"))
}

fn multipart_error(reason: impl std::fmt::Display) -> ParseFailure {
    BodyError::Parse(format!("Multipart form parse error - {reason}")).into()
}

// ---------------------------------------------------------------------------
// Codecs

/// The Python codecs we know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    Utf8,
    Utf8Sig,
    Latin1,
    Ascii,
}

/// `codecs.lookup(name)`, for the codecs we know: CPython's name
/// normalization and the `encodings.aliases` table.
pub fn lookup_codec(name: &str) -> Option<Codec> {
    if name.contains('\0') {
        return None;
    }
    // _Py_normalize_encoding: lowercase ASCII alphanumerics and '.', any run
    // of other bytes becomes one '_' between them.
    let mut norm = String::new();
    let mut punct = false;
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b == b'.' {
            if punct && !norm.is_empty() {
                norm.push('_');
            }
            norm.push(b.to_ascii_lowercase() as char);
            punct = false;
        } else {
            punct = true;
        }
    }
    let alias = |n: &str| match n {
        "cp65001" | "u8" | "utf" | "utf8" | "utf8_ucs2" | "utf8_ucs4" => Some(Codec::Utf8),
        "8859" | "cp819" | "csisolatin1" | "ibm819" | "iso8859" | "iso8859_1" | "iso_8859_1"
        | "iso_8859_1_1987" | "iso_ir_100" | "l1" | "latin" | "latin1" => Some(Codec::Latin1),
        "646" | "ansi_x3.4_1968" | "ansi_x3.4_1986" | "ansi_x3_4_1968" | "cp367" | "csascii"
        | "ibm367" | "iso646_us" | "iso_646.irv_1991" | "iso_ir_6" | "us" | "us_ascii" => {
            Some(Codec::Ascii)
        }
        _ => None,
    };
    let module = |n: &str| match n {
        "utf_8" => Some(Codec::Utf8),
        "utf_8_sig" => Some(Codec::Utf8Sig),
        "latin_1" | "iso8859_1" => Some(Codec::Latin1),
        "ascii" => Some(Codec::Ascii),
        _ => None,
    };
    alias(&norm)
        .or_else(|| alias(&norm.replace('.', "_")))
        .or_else(|| module(&norm))
}

impl Codec {
    /// `codecs.getreader(codec)(stream).read()`: the text, or the
    /// `UnicodeDecodeError` message.
    pub fn decode_stream(self, input: &[u8]) -> Result<Cow<'_, str>, String> {
        match self {
            Codec::Utf8 => pyjson::decode_utf8_stream(input),
            Codec::Utf8Sig => {
                const BOM: &[u8] = b"\xef\xbb\xbf";
                if input.len() < 3 && BOM.starts_with(input) {
                    Ok(Cow::Borrowed(""))
                } else {
                    pyjson::decode_utf8_stream(input.strip_prefix(BOM).unwrap_or(input))
                }
            }
            Codec::Latin1 => Ok(Cow::Owned(latin1(input))),
            Codec::Ascii => match input.iter().position(|b| !b.is_ascii()) {
                None => Ok(Cow::Owned(latin1(input))),
                Some(at) => Err(format!(
                    "'ascii' codec can't decode byte 0x{:02x} in position {at}: ordinal not in range(128)",
                    input[at]
                )),
            },
        }
    }

    /// `bytes.decode(codec)` (strict): `None` on a decoding error.
    fn decode_strict(self, input: &[u8]) -> Option<String> {
        match self {
            Codec::Utf8 => std::str::from_utf8(input).ok().map(str::to_string),
            Codec::Utf8Sig => Codec::Utf8.decode_strict(strip_bom(input)),
            Codec::Latin1 => Some(latin1(input)),
            Codec::Ascii => input.is_ascii().then(|| latin1(input)),
        }
    }

    /// `bytes.decode(codec, 'replace')`.
    fn decode_replace(self, input: &[u8]) -> String {
        match self {
            Codec::Utf8 => String::from_utf8_lossy(input).into_owned(),
            Codec::Utf8Sig => Codec::Utf8.decode_replace(strip_bom(input)),
            Codec::Latin1 => latin1(input),
            Codec::Ascii => input
                .iter()
                .map(|&b| if b.is_ascii() { b as char } else { '\u{fffd}' })
                .collect(),
        }
    }
}

fn strip_bom(input: &[u8]) -> &[u8] {
    input.strip_prefix(b"\xef\xbb\xbf").unwrap_or(input)
}

fn latin1(input: &[u8]) -> String {
    input.iter().map(|&b| b as char).collect()
}

// ---------------------------------------------------------------------------
// Header parameters: Django 5.2 `parse_header_parameters`, built on
// `email.message.Message.get_params()` (compat32).

/// A parsed `Content-Type`-like header: the lowercased main value and the
/// parameters in order (a repeated name: the last one counts).
#[derive(Debug, Clone, PartialEq)]
pub struct HeaderParams {
    pub key: String,
    pub params: Vec<(String, String)>,
}

impl HeaderParams {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Python raised an exception: a `ValueError` (`Value`) or something Django
/// does not catch at all (`Crash`, a `TypeError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderParseError {
    Value,
    Crash,
}

/// A parameter value inside `email.utils.decode_params`.
enum ParamValue {
    Plain(String),
    /// RFC 2231 `(charset, language, text)`.
    Extended(Option<String>, String),
}

/// Django's `parse_header_parameters(line)`.
pub fn parse_header_parameters(line: &str) -> Result<HeaderParams, HeaderParseError> {
    if line.is_empty() {
        return Ok(HeaderParams {
            key: String::new(),
            params: Vec::new(),
        });
    }
    if !line.contains(';') {
        return Ok(HeaderParams {
            key: python_strip(line).to_lowercase(),
            params: Vec::new(),
        });
    }
    // Message._get_params_preserve
    let raw: Vec<(String, String)> = email_parseparam(line)
        .into_iter()
        .map(|p| match p.split_once('=') {
            Some((name, val)) => (
                python_strip(name).to_string(),
                python_strip(val).to_string(),
            ),
            None => (python_strip(&p).to_string(), String::new()),
        })
        .collect();
    let params = decode_params(raw)?;
    let mut iter = params.into_iter();
    let key = match iter.next() {
        Some((name, _)) => name.to_lowercase(),
        None => String::new(),
    };
    let mut out = Vec::new();
    for (name, value) in iter {
        if name.is_empty() {
            continue;
        }
        let value = match value {
            // get_params(unquote=True) unquotes every value.
            ParamValue::Plain(v) => email_unquote(&v).to_string(),
            ParamValue::Extended(charset, text) => {
                let text = email_unquote(&text).to_string();
                // "Invalid encoding ... for RFC 2231 param."
                if let Some(cs) = charset.as_deref().filter(|cs| !cs.is_empty())
                    && lookup_codec(cs).is_none()
                {
                    return Err(HeaderParseError::Value);
                }
                collapse_rfc2231_value(charset.as_deref(), &text)
            }
        };
        out.push((name, value));
    }
    Ok(HeaderParams { key, params: out })
}

/// `email.message._parseparam`.
fn email_parseparam(line: &str) -> Vec<String> {
    let owned = format!(";{line}");
    let mut s = owned.as_str();
    let mut plist = Vec::new();
    while let Some(rest) = s.strip_prefix(';') {
        s = rest;
        let mut end = s.find(';');
        while let Some(e) = end {
            if e == 0 {
                break;
            }
            let head = &s[..e];
            let quotes = head.matches('"').count() - head.matches("\\\"").count();
            if quotes % 2 == 0 {
                break;
            }
            end = s[e + 1..].find(';').map(|i| i + e + 1);
        }
        let end = end.unwrap_or(s.len());
        let f = &s[..end];
        let f: Cow<str> = match f.find('=') {
            Some(i) => Cow::Owned(format!(
                "{}={}",
                python_strip(&f[..i]).to_lowercase(),
                python_strip(&f[i + 1..])
            )),
            None => Cow::Borrowed(f),
        };
        plist.push(python_strip(&f).to_string());
        s = &s[end..];
    }
    plist
}

/// `email.utils.unquote`.
fn email_unquote(s: &str) -> Cow<'_, str> {
    if s.chars().count() > 1 {
        if let Some(inner) = s.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            return Cow::Owned(inner.replace("\\\\", "\\").replace("\\\"", "\""));
        }
        if let Some(inner) = s.strip_prefix('<').and_then(|t| t.strip_suffix('>')) {
            return Cow::Borrowed(inner);
        }
    }
    Cow::Borrowed(s)
}

/// `email._parseaddr.quote`.
fn email_quote(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// `email.utils.rfc2231_continuation.match(name)`:
/// `^(?P<name>\w+)\*((?P<num>[0-9]+)\*?)?$` (ASCII).
fn rfc2231_continuation(name: &str) -> Option<(&str, Option<&str>)> {
    let star = name.find('*')?;
    let base = &name[..star];
    if base.is_empty() || !base.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return None;
    }
    let rest = &name[star + 1..];
    if rest.is_empty() {
        return Some((base, None));
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || !matches!(&rest[digits..], "" | "*") {
        return None;
    }
    Some((base, Some(&rest[..digits])))
}

/// A continuation number, compared as Python compares ints.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct BigNum {
    len: usize,
    digits: String,
}

impl BigNum {
    fn parse(s: &str) -> Result<BigNum, HeaderParseError> {
        let digits = s.trim_start_matches('0');
        if digits.len() > pyjson::INT_MAX_STR_DIGITS {
            return Err(HeaderParseError::Value);
        }
        Ok(BigNum {
            len: digits.len(),
            digits: digits.to_string(),
        })
    }
}

/// `email.utils.decode_params`.
fn decode_params(
    params: Vec<(String, String)>,
) -> Result<Vec<(String, ParamValue)>, HeaderParseError> {
    let mut iter = params.into_iter();
    let mut out = Vec::new();
    if let Some((name, value)) = iter.next() {
        out.push((name, ParamValue::Plain(value)));
    }
    type Continuation = (Option<BigNum>, String, bool);
    let mut rfc2231: Vec<(String, Vec<Continuation>)> = Vec::new();
    for (name, value) in iter {
        let encoded = name.ends_with('*');
        let value = email_unquote(&value).into_owned();
        match rfc2231_continuation(&name) {
            Some((base, num)) => {
                let num = num.map(BigNum::parse).transpose()?;
                let entry = (num, value, encoded);
                match rfc2231.iter_mut().find(|(n, _)| n == base) {
                    Some((_, list)) => list.push(entry),
                    None => rfc2231.push((base.to_string(), vec![entry])),
                }
            }
            None => out.push((
                name,
                ParamValue::Plain(format!("\"{}\"", email_quote(&value))),
            )),
        }
    }
    for (name, mut continuations) in rfc2231 {
        let numbered = continuations.iter().filter(|c| c.0.is_some()).count();
        if numbered != 0 && numbered != continuations.len() {
            // Sorting mixes None and int: TypeError.
            return Err(HeaderParseError::Crash);
        }
        continuations.sort();
        let mut extended = false;
        let mut joined = String::new();
        for (_, s, encoded) in continuations {
            if encoded {
                joined.push_str(&url_unquote(&s, Codec::Latin1));
                extended = true;
            } else {
                joined.push_str(&s);
            }
        }
        let value = email_quote(&joined);
        if extended {
            // decode_rfc2231: charset'language'text, or all of it.
            let parts: Vec<&str> = value.splitn(3, '\'').collect();
            let (charset, text) = match parts.as_slice() {
                [charset, _language, text] => (Some(charset.to_string()), *text),
                _ => (None, value.as_str()),
            };
            out.push((name, ParamValue::Extended(charset, format!("\"{text}\""))));
        } else {
            out.push((name, ParamValue::Plain(format!("\"{value}\""))));
        }
    }
    Ok(out)
}

/// `email.utils.collapse_rfc2231_value((charset, lang, text))`.
fn collapse_rfc2231_value(charset: Option<&str>, text: &str) -> String {
    // bytes(text, 'raw-unicode-escape')
    let mut raw = Vec::new();
    for c in text.chars() {
        let u = c as u32;
        if u < 0x100 {
            raw.push(u as u8);
        } else if u <= 0xFFFF {
            raw.extend_from_slice(format!("\\u{u:04x}").as_bytes());
        } else {
            raw.extend_from_slice(format!("\\U{u:08x}").as_bytes());
        }
    }
    match lookup_codec(charset.unwrap_or("us-ascii")) {
        Some(codec) => codec.decode_replace(&raw),
        None => email_unquote(text).into_owned(),
    }
}

// ---------------------------------------------------------------------------
// application/x-www-form-urlencoded: `QueryDict(body, encoding=...)`

fn query_dict(body: &[u8], codec: Codec) -> Result<Vec<(String, String)>, ParseFailure> {
    let text = codec.decode_strict(body).unwrap_or_else(|| latin1(body));
    // parse_qsl(keep_blank_values=True, max_num_fields=1000)
    if !text.is_empty() && 1 + text.matches('&').count() > DATA_UPLOAD_MAX_NUMBER_FIELDS {
        return Err(ParseFailure::Suspicious(TOO_MANY_FIELDS));
    }
    let mut pairs = Vec::new();
    for field in text.split('&') {
        if field.is_empty() {
            continue;
        }
        let (name, value) = field.split_once('=').unwrap_or((field, ""));
        pairs.push((
            url_unquote(&name.replace('+', " "), codec),
            url_unquote(&value.replace('+', " "), codec),
        ));
    }
    Ok(pairs)
}

/// `urllib.parse.unquote(s, encoding, errors='replace')`: each run of ASCII
/// characters is percent-decoded to bytes and decoded; other characters stay.
fn url_unquote(s: &str, codec: Codec) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let mut out = String::new();
    let mut rest = s;
    while !rest.is_empty() {
        let ascii_len = rest.bytes().take_while(u8::is_ascii).count();
        let (run, tail) = if ascii_len > 0 {
            let (run, tail) = rest.split_at(ascii_len);
            out.push_str(&codec.decode_replace(&unquote_to_bytes(run)));
            (run, tail)
        } else {
            let other = rest
                .char_indices()
                .find(|(_, c)| c.is_ascii())
                .map_or(rest.len(), |(i, _)| i);
            let (run, tail) = rest.split_at(other);
            out.push_str(run);
            (run, tail)
        };
        debug_assert!(!run.is_empty());
        rest = tail;
    }
    out
}

/// `urllib.parse.unquote_to_bytes` of an ASCII string.
fn unquote_to_bytes(s: &str) -> Vec<u8> {
    let mut bits = s.split('%');
    let mut out = bits.next().unwrap_or_default().as_bytes().to_vec();
    for item in bits {
        let b = item.as_bytes();
        let hex = b
            .get(..2)
            .and_then(|h| std::str::from_utf8(h).ok())
            .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()))
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(byte) => {
                out.push(byte);
                out.extend_from_slice(&b[2..]);
            }
            None => {
                out.push(b'%');
                out.extend_from_slice(b);
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// multipart/form-data: Django's `MultiPartParser`

enum PartKind {
    Raw,
    Field,
    File,
}

/// One parsed part header: `(value after the colon, parameters)`, the
/// parameter values UTF-8 encoded as Django keeps them.
type PartHeader = (String, Vec<(String, Vec<u8>)>);

fn part_param<'h>(header: &'h PartHeader, name: &str) -> Option<&'h [u8]> {
    header
        .1
        .iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_slice())
}

fn multipart(content_type: &str, body: &[u8], codec: Codec) -> Result<Body, ParseFailure> {
    if !content_type.starts_with("multipart/") {
        return Err(multipart_error(format_args!(
            "Invalid Content-Type: {content_type}"
        )));
    }
    if !content_type.is_ascii() {
        return Err(multipart_error(format_args!(
            "Invalid non-ASCII Content-Type in multipart: {content_type}"
        )));
    }
    let header = parse_header_parameters(content_type).map_err(|_| {
        ParseFailure::from(BodyError::UnsupportedMediaType(content_type.to_string()))
    })?;
    let boundary = match header.param("boundary") {
        Some(b) if valid_boundary(b) => b.as_bytes().to_vec(),
        Some(b) => {
            return Err(multipart_error(format_args!(
                "Invalid boundary in multipart: {b}"
            )));
        }
        None => return Err(multipart_error("Invalid boundary in multipart: None")),
    };
    let mut separator = b"--".to_vec();
    separator.extend_from_slice(&boundary);

    let mut fields: Vec<(String, String)> = Vec::new();
    let mut files: Vec<(String, String)> = Vec::new();
    let mut pending_file: Option<(String, String)> = None;
    let mut num_post_keys = 0usize;
    let mut num_files = 0usize;
    let mut num_bytes_read = 0usize;

    let mut pos = 0;
    while pos < body.len() {
        // BoundaryIter: the bytes up to the next separator, less the line
        // break before it.
        let rest = &body[pos..];
        let terminated = find(rest, &separator).is_some();
        let part = match find(rest, &separator) {
            Some(at) => {
                let mut end = at;
                if end > 0 && rest[end - 1] == b'\n' {
                    end -= 1;
                }
                if end > 0 && rest[end - 1] == b'\r' {
                    end -= 1;
                }
                pos += at + separator.len();
                &rest[..end]
            }
            None => {
                pos = body.len();
                rest
            }
        };

        // parse_boundary_stream
        let head = &part[..part.len().min(MAX_TOTAL_HEADER_SIZE)];
        let (kind, headers, data): (PartKind, Vec<(String, PartHeader)>, &[u8]) =
            match find(head, b"\r\n\r\n") {
                None if head.len() < MAX_TOTAL_HEADER_SIZE => (PartKind::Raw, Vec::new(), part),
                None => return Err(multipart_error("Request max total header size exceeded.")),
                Some(end) => {
                    let (kind, headers) = parse_part_headers(&part[..end]);
                    (kind, headers, &part[end + 4..])
                }
            };

        // MultiPartParser._parse, one item.
        if let Some(file) = pending_file.take() {
            files.push(file);
        }
        if matches!(kind, PartKind::Raw | PartKind::Field) {
            num_post_keys += 1;
            if DATA_UPLOAD_MAX_NUMBER_FIELDS + 2 < num_post_keys {
                return Err(ParseFailure::Suspicious(TOO_MANY_FIELDS));
            }
        }
        let lookup = |name: &str| {
            headers
                .iter()
                .rev()
                .find(|(n, _)| n == name)
                .map(|(_, h)| h)
        };
        let Some(disposition) = lookup("content-disposition") else {
            continue;
        };
        let Some(raw_name) = part_param(disposition, "name") else {
            continue;
        };
        let transfer_encoding = lookup("content-transfer-encoding").map(|h| python_strip(&h.0));
        let field_name = codec.decode_replace(trim_ascii_whitespace(raw_name));
        let base64 = transfer_encoding == Some("base64");

        match kind {
            PartKind::Field => {
                let read_size = DATA_UPLOAD_MAX_MEMORY_SIZE - num_bytes_read;
                let raw = &data[..data.len().min(read_size)];
                num_bytes_read += raw.len();
                let value: Cow<[u8]> = if base64 {
                    b64decode(raw).map_or(Cow::Borrowed(raw), Cow::Owned)
                } else {
                    Cow::Borrowed(raw)
                };
                num_bytes_read += field_name.chars().count() + 2;
                if num_bytes_read > DATA_UPLOAD_MAX_MEMORY_SIZE {
                    return Err(ParseFailure::Suspicious(DATA_TOO_BIG));
                }
                fields.push((field_name, codec.decode_replace(&value)));
            }
            PartKind::File => {
                num_files += 1;
                if num_files > DATA_UPLOAD_MAX_NUMBER_FILES {
                    return Err(ParseFailure::Suspicious(TOO_MANY_FILES));
                }
                let file_name = part_param(disposition, "filename")
                    .map(|f| codec.decode_replace(f))
                    .and_then(|f| sanitize_file_name(&f));
                let Some(file_name) = file_name else {
                    continue;
                };
                if base64 && !file_base64_ok(part, data, terminated, separator.len()) {
                    return Err(multipart_error("Could not decode base64 data."));
                }
                // Django completes a file when the next part starts, and only
                // if its field name is not empty (`if old_field_name:`).
                if !field_name.is_empty() {
                    pending_file = Some((field_name, file_name));
                }
            }
            PartKind::Raw => {}
        }
    }

    if files.is_empty() {
        Ok(Body::Form(fields))
    } else {
        Ok(Body::FormWithFiles { fields, files })
    }
}

/// Whether Django decodes a base64 file part without error. It decodes
/// chunk by chunk (each whitespace-stripped, carrying the bytes past a
/// multiple of 4 over) and fails on leftover bytes at the end. The data comes
/// in one chunk, except for a last part that no separator closes: then
/// `BoundaryIter` holds back its final `len(separator) + 6` bytes as a second
/// chunk (once the first holds more than the 1024 header bytes).
fn file_base64_ok(part: &[u8], data: &[u8], terminated: bool, separator_len: usize) -> bool {
    let rollback = separator_len + 6;
    let data_start = part.len() - data.len();
    let chunks: Vec<&[u8]> = if !terminated && part.len() >= rollback + MAX_TOTAL_HEADER_SIZE {
        let split = part.len() - rollback;
        vec![&part[data_start.min(split)..split], &part[split..]]
    } else {
        vec![data]
    };
    let mut remainder: Vec<u8> = Vec::new();
    for chunk in chunks {
        let mut stripped = std::mem::take(&mut remainder);
        stripped.extend(
            chunk
                .iter()
                .filter(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)),
        );
        let aligned = stripped.len() / 4 * 4;
        remainder = stripped.split_off(aligned);
        if aligned > 0 && b64decode(&stripped).is_none() {
            return false;
        }
    }
    remainder.is_empty()
}

/// `MultiPartParser.boundary_re.fullmatch`: `[ -~]{0,200}[!-~]`.
fn valid_boundary(b: &str) -> bool {
    !b.is_empty()
        && b.len() <= 201
        && b.bytes().all(|c| (b' '..=b'~').contains(&c))
        && !b.ends_with(' ')
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Python's `bytes.strip()`.
fn trim_ascii_whitespace(b: &[u8]) -> &[u8] {
    let ws = |c: &u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
    let start = b.iter().position(|c| !ws(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !ws(c)).map_or(start, |i| i + 1);
    &b[start..end]
}

/// The header block of one part: its kind and its headers by lowercased name.
fn parse_part_headers(block: &[u8]) -> (PartKind, Vec<(String, PartHeader)>) {
    let mut kind = PartKind::Raw;
    let mut headers: Vec<(String, PartHeader)> = Vec::new();
    let mut lines: Vec<&[u8]> = Vec::new();
    let mut rest = block;
    while let Some(at) = find(rest, b"\r\n") {
        lines.push(&rest[..at]);
        rest = &rest[at + 2..];
    }
    lines.push(rest);
    for line in lines {
        let Ok(line) = std::str::from_utf8(line) else {
            continue;
        };
        let Ok(parsed) = parse_header_parameters(line) else {
            continue;
        };
        let Some((name, value)) = parsed.key.split_once(':') else {
            continue;
        };
        let params: Vec<(String, Vec<u8>)> = parsed
            .params
            .into_iter()
            .map(|(k, v)| (k, v.into_bytes()))
            .collect();
        if name == "content-disposition" {
            kind = PartKind::Field;
            if params
                .iter()
                .rev()
                .find(|(k, _)| k == "filename")
                .is_some_and(|(_, v)| !v.is_empty())
            {
                kind = PartKind::File;
            }
        }
        headers.push((name.to_string(), (value.to_string(), params)));
    }
    (kind, headers)
}

/// `base64.b64decode(data)` (non-validating `binascii.a2b_base64`): `None`
/// where Python raises `binascii.Error`.
fn b64decode(data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len() / 4 * 3);
    let mut quad_pos = 0;
    let mut left: u32 = 0;
    let mut pads = 0;
    for &c in data {
        if c == b'=' {
            if quad_pos >= 2 {
                pads += 1;
                if quad_pos + pads >= 4 {
                    return Some(out);
                }
            }
            continue;
        }
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue,
        } as u32;
        pads = 0;
        match quad_pos {
            0 => {
                quad_pos = 1;
                left = v;
            }
            1 => {
                quad_pos = 2;
                out.push(((left << 2) | (v >> 4)) as u8);
                left = v & 0x0f;
            }
            2 => {
                quad_pos = 3;
                out.push(((left << 4) | (v >> 2)) as u8);
                left = v & 0x03;
            }
            _ => {
                quad_pos = 0;
                out.push(((left << 6) | v) as u8);
                left = 0;
            }
        }
    }
    (quad_pos == 0).then_some(out)
}

/// `MultiPartParser.sanitize_file_name`: `None` when nothing usable is left.
fn sanitize_file_name(name: &str) -> Option<String> {
    let name = html_unescape(name);
    let name = name.rsplit('/').next().unwrap_or_default();
    let name = name.rsplit('\\').next().unwrap_or_default();
    let name: String = name.chars().filter(|c| python_isprintable(*c)).collect();
    (!matches!(name.as_str(), "" | "." | "..")).then_some(name)
}

/// `html.unescape`, as far as it can change [`sanitize_file_name`]'s verdict:
/// every numeric reference, and the named references that expand to a path
/// separator, a dot or invisible characters. Other named references are left
/// as they are, which is equivalent for that purpose.
fn html_unescape(s: &str) -> String {
    const NAMED: &[(&str, &str)] = &[
        ("af;", "\u{2061}"),
        ("ApplyFunction;", "\u{2061}"),
        ("bsol;", "\\"),
        ("emsp13;", "\u{2004}"),
        ("emsp14;", "\u{2005}"),
        ("emsp;", "\u{2003}"),
        ("ensp;", "\u{2002}"),
        ("hairsp;", "\u{200a}"),
        ("ic;", "\u{2063}"),
        ("InvisibleComma;", "\u{2063}"),
        ("InvisibleTimes;", "\u{2062}"),
        ("it;", "\u{2062}"),
        ("lrm;", "\u{200e}"),
        ("MediumSpace;", "\u{205f}"),
        ("nbsp", "\u{a0}"),
        ("nbsp;", "\u{a0}"),
        ("NegativeMediumSpace;", "\u{200b}"),
        ("NegativeThickSpace;", "\u{200b}"),
        ("NegativeThinSpace;", "\u{200b}"),
        ("NegativeVeryThinSpace;", "\u{200b}"),
        ("NewLine;", "\n"),
        ("NoBreak;", "\u{2060}"),
        ("NonBreakingSpace;", "\u{a0}"),
        ("numsp;", "\u{2007}"),
        ("period;", "."),
        ("puncsp;", "\u{2008}"),
        ("rlm;", "\u{200f}"),
        ("shy", "\u{ad}"),
        ("shy;", "\u{ad}"),
        ("sol;", "/"),
        ("Tab;", "\t"),
        ("ThickSpace;", "\u{205f}\u{200a}"),
        ("thinsp;", "\u{2009}"),
        ("ThinSpace;", "\u{2009}"),
        ("VeryThinSpace;", "\u{200a}"),
        ("ZeroWidthSpace;", "\u{200b}"),
        ("zwj;", "\u{200d}"),
        ("zwnj;", "\u{200c}"),
    ];
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::new();
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let (replacement, used) = charref(after, NAMED);
        match replacement {
            Some(text) => out.push_str(&text),
            None => out.push_str(&rest[amp..amp + 1 + used]),
        }
        rest = &after[used..];
    }
    out.push_str(rest);
    out
}

/// One `&...` reference (`after` follows the `&`): the replacement text
/// (`None`: keep the source) and how many bytes of `after` it consumed.
fn charref(after: &str, named: &[(&str, &str)]) -> (Option<String>, usize) {
    let b = after.as_bytes();
    if b.first() == Some(&b'#') {
        let hex = matches!(b.get(1), Some(b'x' | b'X'));
        let start = if hex { 2 } else { 1 };
        let digits = b[start..]
            .iter()
            .take_while(|c| {
                if hex {
                    c.is_ascii_hexdigit()
                } else {
                    c.is_ascii_digit()
                }
            })
            .count();
        if digits == 0 {
            return (None, 0);
        }
        let end = start + digits;
        let used = end + usize::from(b.get(end) == Some(&b';'));
        let text = &after[start..end];
        let significant = text.trim_start_matches('0');
        let num = if significant.len() > 8 {
            u32::MAX
        } else {
            u32::from_str_radix(
                if significant.is_empty() {
                    "0"
                } else {
                    significant
                },
                if hex { 16 } else { 10 },
            )
            .unwrap_or(u32::MAX)
        };
        return (Some(numeric_charref(num)), used);
    }
    // [^\t\n\f <&#;]{1,32};?
    let mut len = 0;
    for (count, (i, c)) in after.char_indices().enumerate() {
        if count == 32 || matches!(c, '\t' | '\n' | '\x0c' | ' ' | '<' | '&' | '#' | ';') {
            break;
        }
        len = i + c.len_utf8();
    }
    if len == 0 {
        return (None, 0);
    }
    let used = len + usize::from(after[len..].starts_with(';'));
    let name = &after[..used];
    if let Some((_, text)) = named.iter().find(|(n, _)| *n == name) {
        return (Some(text.to_string()), used);
    }
    // The longest legacy (semicolon-less) prefix; only these two matter.
    for (prefix, text) in [("nbsp", "\u{a0}"), ("shy", "\u{ad}")] {
        if name.len() > prefix.len() && name.starts_with(prefix) {
            return (Some(format!("{text}{}", &name[prefix.len()..])), used);
        }
    }
    (None, used)
}

fn numeric_charref(num: u32) -> String {
    match num {
        // _invalid_charrefs: NUL, CR, and the cp1252 range (printable except
        // the five undefined slots, which map to themselves).
        0x00 => "\u{fffd}".to_string(),
        0x0d => "\r".to_string(),
        0x81 | 0x8d | 0x8f | 0x90 | 0x9d => char::from_u32(num).unwrap_or('\u{fffd}').to_string(),
        0x80..=0x9f => "\u{20ac}".to_string(),
        0xD800..=0xDFFF => "\u{fffd}".to_string(),
        n if n > 0x10FFFF => "\u{fffd}".to_string(),
        // _invalid_codepoints are dropped.
        0x01..=0x08 | 0x0b | 0x0e..=0x1f | 0x7f | 0xfdd0..=0xfdef => String::new(),
        n if n & 0xFFFE == 0xFFFE => String::new(),
        n => char::from_u32(n).map(String::from).unwrap_or_default(),
    }
}

/// Python's `str.isprintable()` for one character, without the table of
/// unassigned code points (those count as printable here).
fn python_isprintable(c: char) -> bool {
    const FORMAT: &[(u32, u32)] = &[
        (0xAD, 0xAD),
        (0x600, 0x605),
        (0x61C, 0x61C),
        (0x6DD, 0x6DD),
        (0x70F, 0x70F),
        (0x890, 0x891),
        (0x8E2, 0x8E2),
        (0x180E, 0x180E),
        (0x200B, 0x200F),
        (0x202A, 0x202E),
        (0x2060, 0x2064),
        (0x2066, 0x206F),
        (0xFEFF, 0xFEFF),
        (0xFFF9, 0xFFFB),
        (0x110BD, 0x110BD),
        (0x110CD, 0x110CD),
        (0x13430, 0x13438),
        (0x1BCA0, 0x1BCA3),
        (0x1D173, 0x1D17A),
        (0xE0001, 0xE0001),
        (0xE0020, 0xE007F),
    ];
    if c == ' ' {
        return true;
    }
    let u = c as u32;
    let control = u < 0x20 || (0x7f..=0x9f).contains(&u);
    let private = (0xE000..=0xF8FF).contains(&u) || u >= 0xF0000;
    let noncharacter = (0xFDD0..=0xFDEF).contains(&u) || u & 0xFFFE == 0xFFFE;
    !(control
        || private
        || noncharacter
        || c.is_whitespace()
        || FORMAT.iter().any(|&(lo, hi)| (lo..=hi).contains(&u)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::pyjson::tests::{canon, esc};

    /// `(Content-Type, body, expected)`.
    type Case = (Option<&'static [u8]>, &'static [u8], &'static str);

    fn describe(result: Result<Body, ParseFailure>) -> String {
        let grouped = |fields: &[(String, String)], files: &[(String, String)]| {
            let mut keys: Vec<(&str, Vec<String>)> = Vec::new();
            let values = fields
                .iter()
                .map(|(k, v)| (k, esc(v)))
                .chain(files.iter().map(|(k, n)| (k, format!("file({})", esc(n)))));
            for (k, v) in values {
                match keys.iter_mut().find(|(key, _)| key == k) {
                    Some((_, list)) => list.push(v),
                    None => keys.push((k, vec![v])),
                }
            }
            keys.iter()
                .map(|(k, vs)| format!("{}:[{}]", esc(k), vs.join(",")))
                .collect::<Vec<_>>()
                .join(",")
        };
        match result {
            Ok(Body::Empty) => "EMPTY".to_string(),
            Ok(Body::Json(v)) => format!("json {}", canon(&v)),
            Ok(Body::Form(fields)) => format!("form {}", grouped(&fields, &[])),
            Ok(Body::FormWithFiles { fields, files }) => {
                format!("form {}", grouped(&fields, &files))
            }
            Err(ParseFailure::Body(e @ BodyError::UnsupportedMediaType(_))) => format!("415 {e}"),
            Err(ParseFailure::Body(BodyError::Parse(detail))) => format!("400 {detail}"),
            Err(ParseFailure::Suspicious(text)) => format!("suspicious {text}"),
        }
    }

    /// What `request.data` is (or raises) under Django 5.2 + DRF 3.18 for a
    /// `Content-Type` value and a body; generated with them.
    #[rustfmt::skip]
    const DJANGO: &[Case] = &[
        (None, b"", "EMPTY"),
        (Some(b"text/plain"), b"", "EMPTY"),
        (None, b"{}", "415 Unsupported media type \"\" in request."),
        (Some(b""), b"{}", "415 Unsupported media type \"\" in request."),
        (Some(b"text/plain"), b"x", "415 Unsupported media type \"text/plain\" in request."),
        (Some(b"text/plain; charset=utf-8"), b"x", "415 Unsupported media type \"text/plain; charset=utf-8\" in request."),
        (Some(b"t\xc3\xabxt/plain"), b"x", "415 Unsupported media type \"t\u{c3}\u{ab}xt/plain\" in request."),
        (Some(b"application/xml"), b"<a/>", "415 Unsupported media type \"application/xml\" in request."),
        (Some(b"application"), b"{}", "415 Unsupported media type \"application\" in request."),
        (Some(b"*"), b"{}", "415 Unsupported media type \"*\" in request."),
        (Some(b"application/json/x"), b"{}", "415 Unsupported media type \"application/json/x\" in request."),
        (Some(b"application/json"), b"{\"username\": \"alice\", \"password\": \"pw\"}", "json {\"username\":\"alice\",\"password\":\"pw\"}"),
        (Some(b"application/json; charset=utf-8"), b"{\"a\":1}", "json {\"a\":1}"),
        (Some(b"APPLICATION/JSON"), b"{\"a\":1}", "json {\"a\":1}"),
        (Some(b" application/json "), b"{\"a\":1}", "json {\"a\":1}"),
        (Some(b"\xa0application/json"), b"{\"a\":1}", "json {\"a\":1}"),
        (Some(b"application/*"), b"[1]", "json [1]"),
        (Some(b"*/*"), b"\"s\"", "json \"s\""),
        (Some(b"*/json"), b"null", "json null"),
        (Some(b"application/json; charset=latin-1"), b"{\"a\": \"\xe9\"}", "json {\"a\":\"\\u{e9}\"}"),
        (Some(b"application/json; charset=ascii"), b"{\"a\": \"\xc3\xa9\"}", "400 JSON parse error - 'ascii' codec can't decode byte 0xc3 in position 7: ordinal not in range(128)"),
        (Some(b"application/json; charset=utf-8-sig"), b"\xef\xbb\xbf{\"a\": 1}", "json {\"a\":1}"),
        (Some(b"application/json"), b"\xef\xbb\xbf{\"a\": 1}", "400 JSON parse error - Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)"),
        (Some(b"application/json; charset=bogus"), b"{\"a\": \"\xc3\xa9\"}", "json {\"a\":\"\\u{e9}\"}"),
        (Some(b"application/json; charset=\"UTF8\""), b"{\"a\": \"\xc3\xa9\"}", "json {\"a\":\"\\u{e9}\"}"),
        (Some(b"application/json; charset*=utf-8''latin1"), b"{\"a\": \"\xe9\"}", "json {\"a\":\"\\u{e9}\"}"),
        (Some(b"application/json"), b"{\"a\": 1,}", "400 JSON parse error - Expecting property name enclosed in double quotes: line 1 column 9 (char 8)"),
        (Some(b"application/json"), b"{\"a\": NaN}", "400 JSON parse error - Out of range float values are not JSON compliant: 'NaN'"),
        (Some(b"application/json"), b"[1e999, -0.0, 1e16]", "json [f:inf,f:-0.0,f:1e+16]"),
        (Some(b"application/json"), b"{\"a\": \"\xff\"}", "400 JSON parse error - 'utf-8' codec can't decode byte 0xff in position 7: invalid start byte"),
        (Some(b"application/json"), b"{\"a\": \"x\"}\xe2\x82", "json {\"a\":\"x\"}"),
        (Some(b"application/x-www-form-urlencoded"), b"username=alice&password=p%40ss+word", "form \"username\":[\"alice\"],\"password\":[\"p@ss word\"]"),
        (Some(b"application/x-www-form-urlencoded"), b"a=1&a=2&b&=c&&d=", "form \"a\":[\"1\",\"2\"],\"b\":[\"\"],\"\":[\"c\"],\"d\":[\"\"]"),
        (Some(b"application/x-www-form-urlencoded"), b"a=%zz%2&b=%C3%A9%C3&c=%e2%82%ac", "form \"a\":[\"%zz%2\"],\"b\":[\"\\u{e9}\\u{fffd}\"],\"c\":[\"\\u{20ac}\"]"),
        (Some(b"application/x-www-form-urlencoded"), b"a=\xe9&b=%C3%A9", "form \"a\":[\"\\u{e9}\"],\"b\":[\"\\u{e9}\"]"),
        (Some(b"application/x-www-form-urlencoded"), b"a=\xc3\xa9%FF", "form \"a\":[\"\\u{e9}\\u{fffd}\"]"),
        (Some(b"application/x-www-form-urlencoded; charset=latin-1"), b"a=%E9&b=\xe9", "form \"a\":[\"\\u{e9}\"],\"b\":[\"\\u{e9}\"]"),
        (Some(b"*/x-www-form-urlencoded"), b"a=1", "form \"a\":[\"1\"]"),
        (Some(b"application/x-www-form-urlencoded"), b"a=%00b+", "form \"a\":[\"\\u{0}b \"]"),
        (Some(b"multipart/form-data; boundary=XyZ"), b"--XyZ\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nalice\r\n--XyZ\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\n p w \r\n--XyZ--\r\n", "form \"username\":[\"alice\"],\"password\":[\" p w \"]"),
        (Some(b"multipart/form-data; boundary=\"XyZ\""), b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ--\r\n", "form \"a\":[\"1\"]"),
        (Some(b"multipart/form-data"), b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ--\r\n", "400 Multipart form parse error - Invalid boundary in multipart: None"),
        (Some(b"multipart/form-data; boundary="), b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ--\r\n", "400 Multipart form parse error - Invalid boundary in multipart: "),
        (Some(b"multipart/form-data; boundary=bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"), b"x", "400 Multipart form parse error - Invalid boundary in multipart: bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"),
        (Some(b"multipart/form-data; boundary=a "), b"x", "form "),
        (Some(b"multipart/form-data; boundary=\xe9"), b"x", "400 Multipart form parse error - Invalid non-ASCII Content-Type in multipart: multipart/form-data; boundary=\u{e9}"),
        (Some(b"Multipart/form-data; boundary=XyZ"), b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ--\r\n", "400 Multipart form parse error - Invalid Content-Type: Multipart/form-data; boundary=XyZ"),
        (Some(b"multipart/*; boundary=XyZ"), b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ--\r\n", "form \"a\":[\"1\"]"),
        (Some(b"*/form-data; boundary=XyZ"), b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ--\r\n", "400 Multipart form parse error - Invalid Content-Type: */form-data; boundary=XyZ"),
        (Some(b"multipart/form-data; boundary=XyZ"), b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n2\r\n--XyZ\r\nContent-Disposition: form-data; name=\"b\"; filename=\"f.txt\"\r\n\r\n\r\n--XyZ--\r\n", "form \"a\":[\"1\",\"2\"],\"b\":[file(\"f.txt\")]"),
        (Some(b"multipart/form-data; boundary=XyZ"), b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ\r\nContent-Disposition: form-data; name=\"a\"; filename=\"f.txt\"\r\n\r\ndata\r\n--XyZ--\r\n", "form \"a\":[\"1\",file(\"f.txt\")]"),
        (Some(b"multipart/form-data; boundary=XyZ"), b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"; filename=\"f.txt\"\r\n\r\ndata\r\n--XyZ", "form "),
        (Some(b"multipart/form-data; boundary=XyZ"), b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"; filename=\"\"\r\n\r\nx\r\n--XyZ--\r\n", "form \"a\":[\"x\"]"),
        (Some(b"multipart/form-data; boundary=XyZ"), b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"; filename=\"a/..\"\r\n\r\nx\r\n--XyZ\r\nContent-Disposition: form-data; name=\"b\"; filename=\"&nbsp;\"\r\n\r\nx\r\n--XyZ\r\nContent-Disposition: form-data; name=\"c\"; filename=\"  \"\r\n\r\nx\r\n--XyZ--\r\n", "form \"c\":[file(\"  \")]"),
        (Some(b"multipart/form-data; boundary=XyZ"), b"--XyZ\r\nContent-Disposition: form-data; name=\" a \"\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--XyZ\r\nContent-Disposition: form-data; name=\"b\"\r\ncontent-transfer-encoding: BASE64\r\n\r\nnot base64!\r\n--XyZ--\r\n", "form \"a\":[\"hello\"],\"b\":[\"not base64!\"]"),
        (Some(b"multipart/form-data; boundary=XyZ"), b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"; filename=\"f\"\r\nContent-Transfer-Encoding: base64\r\n\r\nabc\r\n--XyZ--\r\n", "400 Multipart form parse error - Could not decode base64 data."),
        (Some(b"multipart/form-data; boundary=XyZ"), b"--XyZ\r\nContent-Disposition: form-data; name*=utf-8''%C3%A9t%C3%A9\r\n\r\nv\r\n--XyZ\r\nContent-Disposition: form-data; name*0=\"us\"; name*1=\"er\"\r\n\r\nw\r\n--XyZ--\r\n", "form \"\\u{e9}t\\u{e9}\":[\"v\"],\"user\":[\"w\"]"),
        (Some(b"multipart/form-data; boundary=XyZ"), b"--XyZ\r\nContent-Disposition : form-data; name=\"a\"\r\n\r\nignored\r\n--XyZ\r\nContent-Disposition: form-data\r\n\r\nnameless\r\n--XyZ\r\nX-Other: 1\r\n\r\nraw\r\n--XyZ--\r\n", "form "),
        (Some(b"multipart/form-data; boundary=XyZ"), b"preamble\r\n\r\n--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ--\r\n", "form \"a\":[\"1\"]"),
        (Some(b"multipart/form-data; boundary=XyZ"), b"Content-Disposition: form-data; name=\"pre\"\r\n\r\nv\r\n--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ--\r\n", "form \"pre\":[\"v\"],\"a\":[\"1\"]"),
        (Some(b"multipart/form-data; boundary=XyZ"), b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nline1\nline2\r\n\r\n--XyZ--\r\n", "form \"a\":[\"line1\\u{a}line2\\u{d}\\u{a}\"]"),
        (Some(b"multipart/form-data; boundary=XyZ"), b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\xff\xfe\r\n--XyZ--\r\n", "form \"a\":[\"\\u{fffd}\\u{fffd}\"]"),
        (Some(b"multipart/form-data; boundary=XyZ; charset=latin-1"), b"--XyZ\r\nContent-Disposition: form-data; name=\"\xe9\"\r\n\r\n\xe9\r\n--XyZ--\r\n", "form "),
        (Some(b"multipart/form-data; boundary=XyZ"), b"no boundary here", "form "),
    ];

    #[test]
    fn matches_django_and_drf() {
        for (content_type, body, expected) in DJANGO {
            let got = describe(parse_request(*content_type, body));
            assert_eq!(
                got,
                *expected,
                "content type {:?}, body {:?}",
                content_type.map(String::from_utf8_lossy),
                String::from_utf8_lossy(body)
            );
        }
    }

    const MULTIPART: &[u8] = b"multipart/form-data; boundary=XyZ";
    const FIELD_PART: &[u8] = b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n";

    fn parts(part: &[u8], count: usize) -> Vec<u8> {
        let mut body = part.repeat(count);
        body.extend_from_slice(b"--XyZ--");
        body
    }

    #[test]
    fn too_many_fields() {
        let form = Some(&b"application/x-www-form-urlencoded"[..]);
        assert_eq!(describe(parse_request(form, &b"&".repeat(999))), "form ");
        assert_eq!(
            describe(parse_request(form, &b"&".repeat(1000))),
            format!("suspicious {TOO_MANY_FIELDS}")
        );
        // Multipart counts the empty parts before the first and after the
        // last boundary too.
        let ok = describe(parse_request(Some(MULTIPART), &parts(FIELD_PART, 1000)));
        assert!(ok.starts_with("form \"a\":[\"v\","), "{ok}");
        assert_eq!(
            describe(parse_request(Some(MULTIPART), &parts(FIELD_PART, 1001))),
            format!("suspicious {TOO_MANY_FIELDS}")
        );
    }

    #[test]
    fn too_many_files() {
        let file =
            b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"; filename=\"f\"\r\n\r\nv\r\n";
        let ok = describe(parse_request(Some(MULTIPART), &parts(file, 100)));
        assert!(ok.starts_with("form \"a\":[file(\"f\"),"), "{ok}");
        assert_eq!(
            describe(parse_request(Some(MULTIPART), &parts(file, 101))),
            format!("suspicious {TOO_MANY_FILES}")
        );
    }

    #[test]
    fn part_headers_must_end_within_1024_bytes() {
        let mut body = b"--XyZ\r\nX-Long: ".to_vec();
        body.extend_from_slice(&b"y".repeat(1100));
        body.extend_from_slice(
            b"\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ--\r\n",
        );
        let expected = "400 Multipart form parse error - Request max total header size exceeded.";
        assert_eq!(describe(parse_request(Some(MULTIPART), &body)), expected);
        // Also for a long epilogue: it is a part too.
        let mut body = FIELD_PART.to_vec();
        body.extend_from_slice(b"--XyZ--");
        body.extend_from_slice(&b"e".repeat(1100));
        assert_eq!(describe(parse_request(Some(MULTIPART), &body)), expected);
        // Under 1024 bytes without a header end, a part is just ignored.
        let mut body = FIELD_PART.to_vec();
        body.extend_from_slice(b"--XyZ--");
        body.extend_from_slice(&b"e".repeat(1000));
        assert_eq!(
            describe(parse_request(Some(MULTIPART), &body)),
            "form \"a\":[\"v\"]"
        );
    }

    #[test]
    fn unterminated_base64_file_is_checked_in_two_chunks() {
        // Django holds back len("--XyZ") + 6 = 11 bytes of a part that no
        // separator closes, and decodes them on their own: the padding that
        // ends the first chunk no longer hides the junk after it.
        let head = b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"; filename=\"f\"\r\n\
                     Content-Transfer-Encoding: base64\r\n\r\n";
        let mut body = head.to_vec();
        body.extend_from_slice(&b"QUJD".repeat(300));
        body.extend_from_slice(b"QQ==!QU!!!!!!!!!");
        assert_eq!(
            describe(parse_request(Some(MULTIPART), &body)),
            "400 Multipart form parse error - Could not decode base64 data."
        );
        body.extend_from_slice(b"\r\n--XyZ--");
        assert_eq!(
            describe(parse_request(Some(MULTIPART), &body)),
            "form \"a\":[file(\"f\")]"
        );
    }

    #[test]
    fn header_parameters_follow_email_get_params() {
        let p = parse_header_parameters("Form-Data; Name=\"a;b\"; filename*=UTF-8''%C3%A9.txt; x")
            .unwrap();
        assert_eq!(p.key, "form-data");
        assert_eq!(p.param("name"), Some("a;b"));
        assert_eq!(p.param("filename"), Some("é.txt"));
        assert_eq!(p.param("x"), Some(""));
        let p = parse_header_parameters("a; b*0=\"x\"; b*1=y; c=<z>; c=\"q\\\"\"").unwrap();
        assert_eq!(p.param("b"), Some("xy"));
        assert_eq!(p.param("c"), Some("q\""));
        assert_eq!(
            parse_header_parameters("a; b*=bogus''%41"),
            Err(HeaderParseError::Value)
        );
        assert_eq!(
            parse_header_parameters("a; b*=x; b*0=y"),
            Err(HeaderParseError::Crash)
        );
        assert_eq!(
            parse_header_parameters("  Text/Plain  ").unwrap().key,
            "text/plain"
        );
    }

    #[test]
    fn codec_lookup_normalizes_like_python() {
        for name in [
            "utf-8",
            "UTF8",
            "utf_8",
            " utf--8 ",
            "u8",
            "cp65001",
            "utf-8\u{e9}",
            "\u{e9}-utf-8",
        ] {
            assert_eq!(lookup_codec(name), Some(Codec::Utf8), "{name}");
        }
        for name in ["latin-1", "ISO-8859-1", "iso_8859_1:1987", "l1", "cp819"] {
            assert_eq!(lookup_codec(name), Some(Codec::Latin1), "{name}");
        }
        for name in ["ascii", "US-ASCII", "646", "ansi_x3.4-1968"] {
            assert_eq!(lookup_codec(name), Some(Codec::Ascii), "{name}");
        }
        assert_eq!(lookup_codec("UTF-8-SIG"), Some(Codec::Utf8Sig));
        for name in ["", "bogus", "utf.8", "utf8.", "u.t.f.8", "utf-8\0"] {
            assert_eq!(lookup_codec(name), None, "{name:?}");
        }
    }

    #[test]
    fn file_names_are_sanitized_like_django() {
        assert_eq!(sanitize_file_name("dir/f.txt").as_deref(), Some("f.txt"));
        assert_eq!(
            sanitize_file_name("c:\\dir\\f.txt").as_deref(),
            Some("f.txt")
        );
        assert_eq!(sanitize_file_name("a/"), None);
        assert_eq!(sanitize_file_name(".."), None);
        assert_eq!(sanitize_file_name("&period;&#46;"), None);
        assert_eq!(sanitize_file_name("x&sol;"), None);
        assert_eq!(sanitize_file_name("\t\u{200b}&nbsp;"), None);
        assert_eq!(sanitize_file_name("&nbspx").as_deref(), Some("x"));
        assert_eq!(sanitize_file_name("&amp;").as_deref(), Some("&amp;"));
        assert_eq!(sanitize_file_name("  ").as_deref(), Some("  "));
    }

    #[test]
    fn base64_is_pythons_lenient_decoder() {
        assert_eq!(b64decode(b"aGVsbG8="), Some(b"hello".to_vec()));
        assert_eq!(b64decode(b"aGVs bG8=\r\n"), Some(b"hello".to_vec()));
        assert_eq!(b64decode(b"aGVsbG8=junk"), Some(b"hello".to_vec()));
        assert_eq!(b64decode(b"aGVsbG8"), None);
        assert_eq!(b64decode(b"a"), None);
        assert_eq!(b64decode(b"=a=="), None);
        assert_eq!(b64decode(b"!!!"), Some(Vec::new()));
    }

    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn random_input_never_panics() {
        const CONTENT_TYPES: &[&[u8]] = &[
            b"application/json",
            b"application/json; charset=utf-8-sig",
            b"application/json; charset=ascii",
            b"application/x-www-form-urlencoded",
            b"application/x-www-form-urlencoded; charset=latin-1",
            b"multipart/form-data; boundary=XyZ",
            b"multipart/form-data; boundary=\"a;b\"; charset=utf8",
            b"multipart/*; boundary*=utf-8''%58",
            b"text/plain; a*0=x; a*=y",
            b"\xff\xfe; =; ;;\"",
        ];
        const PIECES: &[&[u8]] = &[
            b"--XyZ",
            b"\r\n",
            b"\r\n\r\n",
            b"Content-Disposition: form-data; name=\"a\"",
            b"; filename=\"f\"",
            b"Content-Transfer-Encoding: base64",
            b"QUJD",
            b"=",
            b"%",
            b"%C3",
            b"&",
            b"+",
            b"{\"a\": ",
            b"\"\\ud800\"",
            b"}",
            b"[",
            b"\xff",
            b"\xed\xa0",
            b"&#47;",
            b";",
            b"\"",
            b"*0=",
            b"''",
        ];
        let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
        for _ in 0..20_000 {
            let content_type = CONTENT_TYPES[(rng.next() % CONTENT_TYPES.len() as u64) as usize];
            let mut body = Vec::new();
            for _ in 0..rng.next() % 12 {
                if rng.next().is_multiple_of(4) {
                    body.push(rng.next() as u8);
                } else {
                    body.extend_from_slice(PIECES[(rng.next() % PIECES.len() as u64) as usize]);
                }
            }
            let _ = parse_request(Some(content_type), &body);
            let mut random_type = Vec::new();
            for _ in 0..rng.next() % 30 {
                random_type.push(rng.next() as u8);
            }
            let _ = parse_request(Some(&random_type), &body);
        }
    }

    #[actix_web::test]
    async fn async_parse_folds_suspicious_into_parse() {
        let content_type = HeaderValue::from_static("application/x-www-form-urlencoded");
        let body = Bytes::from(b"&".repeat(1000));
        match parse(Some(&content_type), body).await {
            Err(BodyError::Parse(text)) => assert_eq!(text, TOO_MANY_FIELDS),
            other => panic!("{other:?}"),
        }
        let json = HeaderValue::from_static("application/json");
        assert!(matches!(
            parse(Some(&json), Bytes::from_static(b"{\"a\": 1}")).await,
            Ok(Body::Json(PyValue::Object(_)))
        ));
        assert!(matches!(parse(None, Bytes::new()).await, Ok(Body::Empty)));
    }
}

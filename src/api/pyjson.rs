//! A JSON decoder that accepts exactly what CPython's `json.loads` accepts and
//! fails with exactly its messages, as DRF's `JSONParser` runs it:
//!
//! ```python
//! json.load(codecs.getreader('utf-8')(stream), parse_constant=strict_constant)
//! ```
//!
//! Reference: CPython 3.11 `Lib/json/decoder.py` and the C scanner in
//! `Modules/_json.c` (`scan_once_unicode`, `scanstring_unicode`,
//! `_match_number_unicode`), and DRF 3.x `rest_framework/utils/json.py`.
//!
//! Where we cannot be Python (documented deviations):
//! - A lone surrogate from a `\uD800`-`\uDFFF` escape cannot live in a Rust
//!   `String`: it becomes U+FFFD, and the string is returned as
//!   [`PyValue::SurrogateStr`] carrying the first lone surrogate, so that DRF's
//!   `ProhibitSurrogateCharactersValidator` message can still be produced. Two
//!   object keys that differ only in lone surrogates collapse into one key.
//! - CPython raises `RecursionError` (a DRF 500) somewhere below ~1000 levels
//!   of nesting; we stop at [`MAX_DEPTH`] with RecursionError's own text,
//!   `maximum recursion depth exceeded while decoding a JSON array from a
//!   unicode string` (or `object`), which DRF would have shown had it caught it.
//!   The parser is iterative: any depth of input is safe.
//! - Messages are those of CPython 3.11/3.12. (3.13 reports a trailing comma as
//!   `Illegal trailing comma before end of array/object`; 3.11/3.12 say
//!   `Expecting value` / `Expecting property name enclosed in double quotes`.)

use std::borrow::Cow;
use std::collections::HashMap;

/// Deepest nesting of arrays and objects accepted.
pub const MAX_DEPTH: usize = 512;

/// CPython's default `sys.get_int_max_str_digits()` (3.11+).
pub const INT_MAX_STR_DIGITS: usize = 4300;

/// A JSON value as Python's json module builds it.
#[derive(Debug, Clone, PartialEq)]
pub enum PyValue {
    Null,
    Bool(bool),
    /// Python's `str(int)` of the literal (`-0` is `0`).
    Int(String),
    /// Python's `repr(float)`: `1.0`, `1e+16`, `1.5e-07`, `inf`.
    Float(String),
    Str(String),
    /// A `str` that held lone surrogates: the text with each replaced by
    /// U+FFFD, and the first lone surrogate's code unit.
    SurrogateStr(String, u16),
    List(Vec<PyValue>),
    /// Insertion order; a duplicate key keeps its first position and its last
    /// value, like a Python dict.
    Object(Vec<(String, PyValue)>),
}

impl PyValue {
    /// Python's `type(x).__name__`.
    pub fn type_name(&self) -> &'static str {
        match self {
            PyValue::Null => "NoneType",
            PyValue::Bool(_) => "bool",
            PyValue::Int(_) => "int",
            PyValue::Float(_) => "float",
            PyValue::Str(_) | PyValue::SurrogateStr(..) => "str",
            PyValue::List(_) => "list",
            PyValue::Object(_) => "dict",
        }
    }
}

/// Decodes `input` the way DRF does (a UTF-8 `codecs.StreamReader`), then
/// parses it like `json.loads` with DRF's `strict_constant`.
pub fn loads(input: &[u8]) -> Result<PyValue, String> {
    let text = decode_utf8_stream(input)?;
    loads_str(&text)
}

/// `json.loads(s, parse_constant=strict_constant)` for an already decoded
/// document.
pub fn loads_str(s: &str) -> Result<PyValue, String> {
    if s.starts_with('\u{feff}') {
        return Err(format_error(
            "Unexpected UTF-8 BOM (decode using utf-8-sig)",
            s,
            0,
        ));
    }
    let bytes = s.as_bytes();
    let start = skip_ws(bytes, 0);
    let result = Parser { s, b: bytes }
        .parse(start)
        .and_then(|(value, end)| {
            let end = skip_ws(bytes, end);
            if end != bytes.len() {
                Err(Fail::Decode("Extra data", end))
            } else {
                Ok(value)
            }
        });
    result.map_err(|fail| match fail {
        Fail::Decode(msg, at) => format_error(msg, s, at),
        Fail::StopIteration(at) => format_error("Expecting value", s, at),
        Fail::Value(msg) => msg,
    })
}

/// What `codecs.getreader('utf-8')(stream).read()` returns for `input`: the
/// decoded text, or the `UnicodeDecodeError` message. The reader decodes with
/// `final=False`, so an incomplete sequence at the very end is silently
/// dropped rather than reported.
pub fn decode_utf8_stream(input: &[u8]) -> Result<Cow<'_, str>, String> {
    match std::str::from_utf8(input) {
        Ok(s) => Ok(Cow::Borrowed(s)),
        Err(e) => {
            let at = e.valid_up_to();
            let prefix = String::from_utf8_lossy(&input[..at]);
            match e.error_len() {
                None => Ok(prefix),
                // CPython treats a truncated surrogate encoding (ED A0..BF) at
                // the end as incomplete, not invalid, when not final.
                Some(1)
                    if input[at] == 0xED
                        && input.len() == at + 2
                        && (0xA0..=0xBF).contains(&input[at + 1]) =>
                {
                    Ok(prefix)
                }
                Some(len) => Err(utf8_error_message("utf-8", input, at, len)),
            }
        }
    }
}

/// CPython's `UnicodeDecodeError` text for an invalid UTF-8 sequence of `len`
/// bytes at `at`.
pub fn utf8_error_message(codec: &str, input: &[u8], at: usize, len: usize) -> String {
    let first = input.get(at).copied().unwrap_or(0);
    let reason = if (0xC2..=0xF4).contains(&first) {
        "invalid continuation byte"
    } else {
        "invalid start byte"
    };
    if len <= 1 {
        format!("'{codec}' codec can't decode byte 0x{first:02x} in position {at}: {reason}")
    } else {
        let last = at + len - 1;
        format!("'{codec}' codec can't decode bytes in position {at}-{last}: {reason}")
    }
}

/// Python's `repr(float)` (also `str(float)`).
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    // Rust's `{:e}` gives the shortest round-tripping digits, as Python's
    // repr does; only the layout differs.
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    if !(-4..16).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.unsigned_abs()));
    } else if exp >= 0 {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', int_len - digits.len()));
            out.push_str(".0");
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    } else {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
        out.push_str(&digits);
    }
    out
}

/// `JSONDecodeError.__str__`: `msg: line L column C (char P)`, with P counted
/// in code points and only `\n` starting a line. `at` is a byte offset on a
/// character boundary of `doc`.
fn format_error(msg: &str, doc: &str, at: usize) -> String {
    let prefix = doc.get(..at).unwrap_or(doc);
    let pos = prefix.chars().count();
    let lineno = prefix.bytes().filter(|b| *b == b'\n').count() + 1;
    let colno = match prefix.rfind('\n') {
        Some(nl) => pos - prefix[..nl].chars().count(),
        None => pos + 1,
    };
    format!("{msg}: line {lineno} column {colno} (char {pos})")
}

enum Fail {
    /// A `JSONDecodeError` at a byte offset.
    Decode(&'static str, usize),
    /// The scanner's `StopIteration(idx)`: `Expecting value` at idx.
    StopIteration(usize),
    /// Any other `ValueError` (or the nesting limit), shown as is.
    Value(String),
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn skip_ws(b: &[u8], mut idx: usize) -> usize {
    while idx < b.len() && is_ws(b[idx]) {
        idx += 1;
    }
    idx
}

enum Frame {
    List(Vec<PyValue>),
    Object {
        items: Vec<(String, PyValue)>,
        index: HashMap<String, usize>,
        key: String,
    },
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
}

/// What scanning at a value position produced.
enum Scanned {
    Value(PyValue, usize),
    /// `[` or `{` whose first member starts at the offset.
    Open(Frame, usize),
}

impl Parser<'_> {
    /// `scan_once(s, idx)`, iteratively: returns the value and the offset
    /// just after it.
    fn parse(&self, start: usize) -> Result<(PyValue, usize), Fail> {
        let b = self.b;
        let mut stack: Vec<Frame> = Vec::new();
        let mut idx = start;
        loop {
            // A value is expected at idx.
            let (mut value, mut end) = match self.scan_value(idx, stack.len())? {
                Scanned::Value(v, end) => (v, end),
                Scanned::Open(frame, next) => {
                    stack.push(frame);
                    idx = next;
                    continue;
                }
            };
            // Attach the value to the enclosing containers, closing them as
            // they end, until one wants another member.
            loop {
                let Some(top) = stack.last_mut() else {
                    return Ok((value, end));
                };
                match top {
                    Frame::List(items) => {
                        items.push(value);
                        let i = skip_ws(b, end);
                        if i < b.len() && b[i] == b']' {
                            let Some(Frame::List(items)) = stack.pop() else {
                                unreachable!("top frame is a list")
                            };
                            value = PyValue::List(items);
                            end = i + 1;
                            continue;
                        }
                        if i >= b.len() || b[i] != b',' {
                            return Err(Fail::Decode("Expecting ',' delimiter", i));
                        }
                        idx = skip_ws(b, i + 1);
                        break;
                    }
                    Frame::Object { items, index, key } => {
                        let key = std::mem::take(key);
                        match index.get(&key) {
                            Some(&at) => items[at].1 = value,
                            None => {
                                index.insert(key.clone(), items.len());
                                items.push((key, value));
                            }
                        }
                        let i = skip_ws(b, end);
                        if i < b.len() && b[i] == b'}' {
                            let Some(Frame::Object { items, .. }) = stack.pop() else {
                                unreachable!("top frame is an object")
                            };
                            value = PyValue::Object(items);
                            end = i + 1;
                            continue;
                        }
                        if i >= b.len() || b[i] != b',' {
                            return Err(Fail::Decode("Expecting ',' delimiter", i));
                        }
                        let i = skip_ws(b, i + 1);
                        let (next_key, next) = self.scan_key(i)?;
                        if let Some(Frame::Object { key, .. }) = stack.last_mut() {
                            *key = next_key;
                        }
                        idx = next;
                        break;
                    }
                }
            }
        }
    }

    /// Reads `"key"` then the `:` delimiter at `idx`; returns the key and the
    /// offset of the value.
    fn scan_key(&self, idx: usize) -> Result<(String, usize), Fail> {
        let b = self.b;
        if idx >= b.len() || b[idx] != b'"' {
            return Err(Fail::Decode(
                "Expecting property name enclosed in double quotes",
                idx,
            ));
        }
        let (key, _, next) = self.scan_string(idx + 1)?;
        let i = skip_ws(b, next);
        if i >= b.len() || b[i] != b':' {
            return Err(Fail::Decode("Expecting ':' delimiter", i));
        }
        Ok((key, skip_ws(b, i + 1)))
    }

    fn scan_value(&self, idx: usize, depth: usize) -> Result<Scanned, Fail> {
        let b = self.b;
        let len = b.len();
        if idx >= len {
            return Err(Fail::StopIteration(idx));
        }
        let rest = &b[idx..];
        match b[idx] {
            b'"' => {
                let (text, surrogate, end) = self.scan_string(idx + 1)?;
                let value = match surrogate {
                    Some(unit) => PyValue::SurrogateStr(text, unit),
                    None => PyValue::Str(text),
                };
                return Ok(Scanned::Value(value, end));
            }
            b'{' => {
                if depth >= MAX_DEPTH {
                    return Err(recursion("object"));
                }
                let i = skip_ws(b, idx + 1);
                if i < len && b[i] == b'}' {
                    return Ok(Scanned::Value(PyValue::Object(Vec::new()), i + 1));
                }
                let (key, next) = self.scan_key(i)?;
                let frame = Frame::Object {
                    items: Vec::new(),
                    index: HashMap::new(),
                    key,
                };
                return Ok(Scanned::Open(frame, next));
            }
            b'[' => {
                if depth >= MAX_DEPTH {
                    return Err(recursion("array"));
                }
                let i = skip_ws(b, idx + 1);
                if i < len && b[i] == b']' {
                    return Ok(Scanned::Value(PyValue::List(Vec::new()), i + 1));
                }
                return Ok(Scanned::Open(Frame::List(Vec::new()), i));
            }
            b'n' if rest.starts_with(b"null") => {
                return Ok(Scanned::Value(PyValue::Null, idx + 4));
            }
            b't' if rest.starts_with(b"true") => {
                return Ok(Scanned::Value(PyValue::Bool(true), idx + 4));
            }
            b'f' if rest.starts_with(b"false") => {
                return Ok(Scanned::Value(PyValue::Bool(false), idx + 5));
            }
            b'N' if rest.starts_with(b"NaN") => return Err(constant("NaN")),
            b'I' if rest.starts_with(b"Infinity") => return Err(constant("Infinity")),
            b'-' if rest.starts_with(b"-Infinity") => return Err(constant("-Infinity")),
            _ => {}
        }
        self.scan_number(idx)
            .map(|(value, end)| Scanned::Value(value, end))
    }

    /// `_match_number_unicode`.
    fn scan_number(&self, start: usize) -> Result<(PyValue, usize), Fail> {
        let b = self.b;
        let len = b.len();
        let digit = |i: usize| i < len && b[i].is_ascii_digit();
        let mut idx = start;
        if b[idx] == b'-' {
            idx += 1;
            if idx >= len {
                return Err(Fail::StopIteration(start));
            }
        }
        if (b'1'..=b'9').contains(&b[idx]) {
            idx += 1;
            while digit(idx) {
                idx += 1;
            }
        } else if b[idx] == b'0' {
            idx += 1;
        } else {
            return Err(Fail::StopIteration(start));
        }
        let mut is_float = false;
        if idx + 1 < len && b[idx] == b'.' && b[idx + 1].is_ascii_digit() {
            is_float = true;
            idx += 2;
            while digit(idx) {
                idx += 1;
            }
        }
        if idx + 1 < len && (b[idx] == b'e' || b[idx] == b'E') {
            let e_start = idx;
            idx += 1;
            if idx + 1 < len && (b[idx] == b'-' || b[idx] == b'+') {
                idx += 1;
            }
            while digit(idx) {
                idx += 1;
            }
            if b[idx - 1].is_ascii_digit() {
                is_float = true;
            } else {
                idx = e_start;
            }
        }
        let text = &self.s[start..idx];
        if is_float {
            let f: f64 = text.parse().unwrap_or(f64::NAN);
            return Ok((PyValue::Float(float_repr(f)), idx));
        }
        let digits = text.strip_prefix('-').unwrap_or(text);
        if digits.len() > INT_MAX_STR_DIGITS {
            return Err(Fail::Value(format!(
                "Exceeds the limit ({INT_MAX_STR_DIGITS} digits) for integer string conversion: \
                 value has {} digits; use sys.set_int_max_str_digits() to increase the limit",
                digits.len()
            )));
        }
        let text = if digits == "0" { digits } else { text };
        Ok((PyValue::Int(text.to_string()), idx))
    }

    /// `scanstring_unicode(s, end, strict=True)`: `end` is just after the
    /// opening quote. Returns the text, the first lone surrogate if any, and
    /// the offset after the closing quote.
    fn scan_string(&self, mut end: usize) -> Result<(String, Option<u16>, usize), Fail> {
        let b = self.b;
        let len = b.len();
        let begin = end - 1;
        let mut out = String::new();
        let mut surrogate: Option<u16> = None;
        loop {
            let mut next = end;
            while next < len {
                let d = b[next];
                if d == b'"' || d == b'\\' {
                    break;
                }
                if d <= 0x1f {
                    return Err(Fail::Decode("Invalid control character at", next));
                }
                next += 1;
            }
            if next >= len {
                return Err(Fail::Decode("Unterminated string starting at", begin));
            }
            out.push_str(&self.s[end..next]);
            let c = b[next];
            next += 1;
            if c == b'"' {
                return Ok((out, surrogate, next));
            }
            if next == len {
                return Err(Fail::Decode("Unterminated string starting at", begin));
            }
            let c = b[next];
            if c != b'u' {
                end = next + 1;
                let ch = match c {
                    b'"' => '"',
                    b'\\' => '\\',
                    b'/' => '/',
                    b'b' => '\u{8}',
                    b'f' => '\u{c}',
                    b'n' => '\n',
                    b'r' => '\r',
                    b't' => '\t',
                    _ => return Err(Fail::Decode("Invalid \\escape", end - 2)),
                };
                out.push(ch);
                continue;
            }
            next += 1;
            end = next + 4;
            if end >= len {
                return Err(Fail::Decode("Invalid \\uXXXX escape", next - 1));
            }
            let mut unit =
                hex4(&b[next..end]).ok_or(Fail::Decode("Invalid \\uXXXX escape", end - 5))?;
            if (0xD800..=0xDBFF).contains(&unit)
                && end + 6 < len
                && b[end] == b'\\'
                && b[end + 1] == b'u'
            {
                let low = hex4(&b[end + 2..end + 6])
                    .ok_or(Fail::Decode("Invalid \\uXXXX escape", end + 1))?;
                if (0xDC00..=0xDFFF).contains(&low) {
                    unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                    end += 6;
                }
            }
            match char::from_u32(unit) {
                Some(ch) => out.push(ch),
                None => {
                    surrogate.get_or_insert(unit as u16);
                    out.push('\u{fffd}');
                }
            }
        }
    }
}

fn hex4(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0u32, |acc, &d| {
        let v = (d as char).to_digit(16)?;
        Some(acc << 4 | v)
    })
}

fn constant(name: &str) -> Fail {
    Fail::Value(format!(
        "Out of range float values are not JSON compliant: '{name}'"
    ))
}

fn recursion(kind: &str) -> Fail {
    Fail::Value(format!(
        "maximum recursion depth exceeded while decoding a JSON {kind} from a unicode string"
    ))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The canonical form the expectation tables use (produced by CPython).
    pub(crate) fn esc(s: &str) -> String {
        let mut out = String::from("\"");
        for c in s.chars() {
            if (' '..='~').contains(&c) && c != '"' && c != '\\' {
                out.push(c);
            } else {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
        }
        out.push('"');
        out
    }

    pub(crate) fn canon(v: &PyValue) -> String {
        match v {
            PyValue::Null => "null".into(),
            PyValue::Bool(b) => b.to_string(),
            PyValue::Int(s) => s.clone(),
            PyValue::Float(s) => format!("f:{s}"),
            PyValue::Str(s) => esc(s),
            PyValue::SurrogateStr(s, u) => format!("s!{u:X}{}", esc(s)),
            PyValue::List(items) => {
                let inner: Vec<String> = items.iter().map(canon).collect();
                format!("[{}]", inner.join(","))
            }
            PyValue::Object(items) => {
                let inner: Vec<String> = items
                    .iter()
                    .map(|(k, v)| format!("{}:{}", esc(k), canon(v)))
                    .collect();
                format!("{{{}}}", inner.join(","))
            }
        }
    }

    /// `json.load(codecs.getreader('utf-8')(io.BytesIO(input)),
    /// parse_constant=strict_constant)` on CPython 3.11.
    #[rustfmt::skip]
    const CPYTHON: &[(&[u8], Result<&str, &str>)] = &[
        (b"", Err("Expecting value: line 1 column 1 (char 0)")),
        (b" ", Err("Expecting value: line 1 column 2 (char 1)")),
        (b"null", Ok("null")),
        (b"true", Ok("true")),
        (b"false", Ok("false")),
        (b"0", Ok("0")),
        (b"-0", Ok("0")),
        (b"-0.0", Ok("f:-0.0")),
        (b"1.0", Ok("f:1.0")),
        (b"1e16", Ok("f:1e+16")),
        (b"1e15", Ok("f:1000000000000000.0")),
        (b"1.5e-7", Ok("f:1.5e-07")),
        (b"0.0001", Ok("f:0.0001")),
        (b"0.00001", Ok("f:1e-05")),
        (b"123456789012345678901234567890", Ok("123456789012345678901234567890")),
        (b"1e999", Ok("f:inf")),
        (b"-1e999", Ok("f:-inf")),
        (b"1e-999", Ok("f:0.0")),
        (b"12345678901234567890.5", Ok("f:1.2345678901234567e+19")),
        (b"0.1", Ok("f:0.1")),
        (b"1E+2", Ok("f:100.0")),
        (b"1e-0", Ok("f:1.0")),
        (b"2.5E3", Ok("f:2500.0")),
        (b"\"abc\"", Ok("\"abc\"")),
        (b"\"\\u00e9\\u4e2d\"", Ok("\"\\u{e9}\\u{4e2d}\"")),
        (b"\"\\ud83d\\ude00\"", Ok("\"\\u{1f600}\"")),
        (b"\"\\ud800\"", Ok("s!D800\"\\u{fffd}\"")),
        (b"\"a\\udc00b\\ud800\"", Ok("s!DC00\"a\\u{fffd}b\\u{fffd}\"")),
        (b"\"\\ud800\\u0041\"", Ok("s!D800\"\\u{fffd}A\"")),
        (b"\"\\ud800\\ud800\\udc00\"", Ok("s!D800\"\\u{fffd}\\u{10000}\"")),
        (b"\"\\/\\b\\f\\n\\r\\t\\\"\\\\\"", Ok("\"/\\u{8}\\u{c}\\u{a}\\u{d}\\u{9}\\u{22}\\u{5c}\"")),
        (b"\"\\u0000\"", Ok("\"\\u{0}\"")),
        (b"[]", Ok("[]")),
        (b"{}", Ok("{}")),
        (b"[1, [2, [3]], {\"a\": {}}]", Ok("[1,[2,[3]],{\"a\":{}}]")),
        (b"{\"a\": 1, \"b\": 2, \"a\": 3}", Ok("{\"a\":3,\"b\":2}")),
        (b" \t\n\r{\"k\" : \"v\" } \n", Ok("{\"k\":\"v\"}")),
        (b"{\"a\":1,}", Err("Expecting property name enclosed in double quotes: line 1 column 8 (char 7)")),
        (b"[1,]", Err("Expecting value: line 1 column 4 (char 3)")),
        (b"[1,,2]", Err("Expecting value: line 1 column 4 (char 3)")),
        (b"[", Err("Expecting value: line 1 column 2 (char 1)")),
        (b"{", Err("Expecting property name enclosed in double quotes: line 1 column 2 (char 1)")),
        (b"{\"a\"", Err("Expecting ':' delimiter: line 1 column 5 (char 4)")),
        (b"{\"a\":", Err("Expecting value: line 1 column 6 (char 5)")),
        (b"{\"a\" 1}", Err("Expecting ':' delimiter: line 1 column 6 (char 5)")),
        (b"{\"a\":1 \"b\":2}", Err("Expecting ',' delimiter: line 1 column 8 (char 7)")),
        (b"{1:2}", Err("Expecting property name enclosed in double quotes: line 1 column 2 (char 1)")),
        (b"{'a':1}", Err("Expecting property name enclosed in double quotes: line 1 column 2 (char 1)")),
        (b"[1 2]", Err("Expecting ',' delimiter: line 1 column 4 (char 3)")),
        (b"[1}", Err("Expecting ',' delimiter: line 1 column 3 (char 2)")),
        (b"{\"a\":1]", Err("Expecting ',' delimiter: line 1 column 7 (char 6)")),
        (b"-", Err("Expecting value: line 1 column 1 (char 0)")),
        (b"-a", Err("Expecting value: line 1 column 1 (char 0)")),
        (b"+1", Err("Expecting value: line 1 column 1 (char 0)")),
        (b"01", Err("Extra data: line 1 column 2 (char 1)")),
        (b"1.", Err("Extra data: line 1 column 2 (char 1)")),
        (b".5", Err("Expecting value: line 1 column 1 (char 0)")),
        (b"1e", Err("Extra data: line 1 column 2 (char 1)")),
        (b"1e+", Err("Extra data: line 1 column 2 (char 1)")),
        (b"1.5e", Err("Extra data: line 1 column 4 (char 3)")),
        (b"0x10", Err("Extra data: line 1 column 2 (char 1)")),
        (b"1_000", Err("Extra data: line 1 column 2 (char 1)")),
        (b"nul", Err("Expecting value: line 1 column 1 (char 0)")),
        (b"tru", Err("Expecting value: line 1 column 1 (char 0)")),
        (b"fals", Err("Expecting value: line 1 column 1 (char 0)")),
        (b"None", Err("Expecting value: line 1 column 1 (char 0)")),
        (b"True", Err("Expecting value: line 1 column 1 (char 0)")),
        (b"NaN", Err("Out of range float values are not JSON compliant: 'NaN'")),
        (b"Infinity", Err("Out of range float values are not JSON compliant: 'Infinity'")),
        (b"-Infinity", Err("Out of range float values are not JSON compliant: '-Infinity'")),
        (b"[NaN]", Err("Out of range float values are not JSON compliant: 'NaN'")),
        (b"{\"a\": -Infinity}", Err("Out of range float values are not JSON compliant: '-Infinity'")),
        (b"-Inf", Err("Expecting value: line 1 column 1 (char 0)")),
        (b"nan", Err("Expecting value: line 1 column 1 (char 0)")),
        (b"inf", Err("Expecting value: line 1 column 1 (char 0)")),
        (b"Infinit", Err("Expecting value: line 1 column 1 (char 0)")),
        (b"[1, NaN, x]", Err("Out of range float values are not JSON compliant: 'NaN'")),
        (b"\"abc", Err("Unterminated string starting at: line 1 column 1 (char 0)")),
        (b"\"\\", Err("Unterminated string starting at: line 1 column 1 (char 0)")),
        (b"\"\\x\"", Err("Invalid \\escape: line 1 column 2 (char 1)")),
        (b"\"\\u12\"", Err("Invalid \\uXXXX escape: line 1 column 3 (char 2)")),
        (b"\"\\u1234", Err("Invalid \\uXXXX escape: line 1 column 3 (char 2)")),
        (b"\"\\u12zz\"", Err("Invalid \\uXXXX escape: line 1 column 3 (char 2)")),
        (b"\"\\ud800\\u12\"", Err("Invalid \\uXXXX escape: line 1 column 9 (char 8)")),
        (b"\"\\ud800\\uzzzz\"", Err("Invalid \\uXXXX escape: line 1 column 9 (char 8)")),
        (b"\"\\ud800\\udc00", Err("Invalid \\uXXXX escape: line 1 column 9 (char 8)")),
        (b"\"\\ud800\\", Err("Unterminated string starting at: line 1 column 1 (char 0)")),
        (b"\"a\nb\"", Err("Invalid control character at: line 1 column 3 (char 2)")),
        (b"\"\x1f\"", Err("Invalid control character at: line 1 column 2 (char 1)")),
        (b"\"\x7f\"", Ok("\"\\u{7f}\"")),
        (b"\"tab\there\"", Err("Invalid control character at: line 1 column 5 (char 4)")),
        (b"1 2", Err("Extra data: line 1 column 3 (char 2)")),
        (b"{} x", Err("Extra data: line 1 column 4 (char 3)")),
        (b"\"a\" \"b\"", Err("Extra data: line 1 column 5 (char 4)")),
        (b"[1]\n\n  ]", Err("Extra data: line 3 column 3 (char 7)")),
        (b"\n\n  x", Err("Expecting value: line 3 column 3 (char 4)")),
        (b"[1,\n2,\n  x]", Err("Expecting value: line 3 column 3 (char 9)")),
        (b"{\"\xc3\xa9\xc3\xa9\": x}", Err("Expecting value: line 1 column 8 (char 7)")),
        (b"\"\xe6\x97\xa5\xe6\x9c\xac\" x", Err("Extra data: line 1 column 6 (char 5)")),
        (b"\xef\xbb\xbf{}", Err("Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)")),
        (b"\xff", Err("'utf-8' codec can't decode byte 0xff in position 0: invalid start byte")),
        (b"\x80abc", Err("'utf-8' codec can't decode byte 0x80 in position 0: invalid start byte")),
        (b"ab\xc3(", Err("'utf-8' codec can't decode byte 0xc3 in position 2: invalid continuation byte")),
        (b"\xe2\x82x", Err("'utf-8' codec can't decode bytes in position 0-1: invalid continuation byte")),
        (b"\"\xed\xa0\x80\"", Err("'utf-8' codec can't decode byte 0xed in position 1: invalid continuation byte")),
        (b"\xf0\x80", Err("'utf-8' codec can't decode byte 0xf0 in position 0: invalid continuation byte")),
        (b"\xf4\x90\x80\x80", Err("'utf-8' codec can't decode byte 0xf4 in position 0: invalid continuation byte")),
        (b"\xe0\x80\x80", Err("'utf-8' codec can't decode byte 0xe0 in position 0: invalid continuation byte")),
        (b"\xc0\xaf", Err("'utf-8' codec can't decode byte 0xc0 in position 0: invalid start byte")),
        (b"\"abc\xc3", Err("Unterminated string starting at: line 1 column 1 (char 0)")),
        (b"{}\xe2\x82", Ok("{}")),
        (b"\xed\xa0", Err("Expecting value: line 1 column 1 (char 0)")),
        (b"\xf0\x9f\x98", Err("Expecting value: line 1 column 1 (char 0)")),
        (b"\"\xf0\x9f\x98\x80\"", Ok("\"\\u{1f600}\"")),
        (b"{\"a\": \"b\"}\xf0\x9f", Ok("{\"a\":\"b\"}")),
        (b"[\xed\xa0", Err("Expecting value: line 1 column 2 (char 1)")),
        (b"0.0000000000000000000000000000001", Ok("f:1e-31")),
        (b"{\"a\": {\"b\": [true, false, null, 1.25, \"x\"]}, \"c\": []}", Ok("{\"a\":{\"b\":[true,false,null,f:1.25,\"x\"]},\"c\":[]}")),
        (b"[\"\\u0041\\u00DF\\u6771\\uD834\\uDD1E\"]", Ok("[\"A\\u{df}\\u{6771}\\u{1d11e}\"]")),
        (b"[[[[[[]]]]]]", Ok("[[[[[[]]]]]]")),
        (b"{\"\": \"\"}", Ok("{\"\":\"\"}")),
        (b"\x00", Err("Expecting value: line 1 column 1 (char 0)")),
        (b"\"\x00\"", Err("Invalid control character at: line 1 column 2 (char 1)")),
    ];

    #[test]
    fn matches_cpython() {
        for (input, expected) in CPYTHON {
            let got = loads(input).map(|v| canon(&v));
            let expected = expected.map(str::to_string).map_err(str::to_string);
            assert_eq!(got, expected, "input {:?}", String::from_utf8_lossy(input));
        }
    }

    /// `repr(struct.unpack('<d', bits)[0])`.
    #[rustfmt::skip]
    const REPRS: &[(u64, &str)] = &[
            (0x0000000000000000, "0.0"),
            (0x8000000000000000, "-0.0"),
            (0x3ff0000000000000, "1.0"),
            (0xbff0000000000000, "-1.0"),
            (0x3fb999999999999a, "0.1"),
            (0x3fe0000000000000, "0.5"),
            (0x3ff8000000000000, "1.5"),
            (0x4059000000000000, "100.0"),
            (0x430c6bf526340000, "1000000000000000.0"),
            (0x4341c37937e08000, "1e+16"),
            (0x434aa535d3d0c000, "1.5e+16"),
            (0x4341c37937e07fff, "9999999999999998.0"),
            (0x3f1a36e2eb1c432d, "0.0001"),
            (0x3ee4f8b588e368f1, "1e-05"),
            (0x3e8421f5f40d8376, "1.5e-07"),
            (0x3f202e4b6ce5dc68, "0.00012345"),
            (0x40fe240c9fbe76c9, "123456.789"),
            (0x0000000000000001, "5e-324"),
            (0x0010000000000000, "2.2250738585072014e-308"),
            (0x7fefffffffffffff, "1.7976931348623157e+308"),
            (0x4480f0cf064dd592, "1e+22"),
            (0x444b1ae4d6e2ef50, "1e+21"),
            (0x54b249ad2594c37d, "1e+100"),
            (0x3fd5555555555555, "0.3333333333333333"),
            (0x3fe5555555555555, "0.6666666666666666"),
            (0x3fd3333333333334, "0.30000000000000004"),
            (0x4340000000000000, "9007199254740992.0"),
            (0x4340000000000001, "9007199254740994.0"),
            (0x4345ee2a2eb5a5c4, "1.2345678901234568e+16"),
            (0x43118b54f22aeb00, "1234567890123456.0"),
            (0x3e7ad7f29abcaf48, "1e-07"),
            (0x3f1a36371ea531a8, "9.999e-05"),
            (0x7ff0000000000000, "inf"),
            (0xfff0000000000000, "-inf"),
            (0x1c80317fa3b1799d, "2.0951218323850843e-171"),
            (0xbdd640fb06671ad1, "-8.095896314512539e-11"),
            (0x3eb13b9046685257, "1.0271471865319853e-06"),
            (0x23b8c1e9392456de, "1.3305406583752764e-136"),
            (0x1a3d1fa7bc8960a9, "2.7416277501616697e-182"),
            (0xbd9c66b3ad3c2d6d, "-6.4576804899972755e-12"),
            (0x8b9d2434e465e150, "-9.936982866895821e-253"),
            (0x972a846916419f82, "-4.4342582195166703e-197"),
            (0x0822e8f36c031199, "1.7897179706846397e-269"),
            (0x17fc695a07a0ca6e, "3.8920410665109616e-193"),
            (0x3b8faa1837f8a88b, "8.3815053749933375e-22"),
            (0x9a1de644815ef6d1, "-7.0366560133932934e-183"),
            (0x8fadc1a606cb0fb3, "-3.74346981262903e-233"),
            (0xb74d0fb132e70629, "-2.6063073077576445e-42"),
            (0xb38a088ca65ed389, "-2.025077774461046e-60"),
            (0x6b65a6a48b8148f6, "2.2243541059934106e+209"),
            (0x72ff5d2a386ecbe0, "8.566174015121906e+245"),
            (0x4737819096da1dac, "1.2205071412701158e+35"),
            (0xde8a774bcf36d58b, "-2.6438463592029654e+147"),
            (0xc241330b01a9e71f, "-147741606739.80563"),
            (0x28df6ec4ce4a2bbd, "8.168892449408124e-112"),
            (0x6c307511b2b9437a, "1.3850822627547856e+213"),
            (0x47229389571aa876, "4.82268694405258e+34"),
            (0x371ecd7b27cd8130, "3.4530976632468286e-43"),
            (0xc37459eef50bea63, "-9.165411812000722e+16"),
            (0x1a2a73ed562b0f79, "1.245102053364068e-182"),
            (0x6142ea7d17be3111, "3.3242704709371837e+160"),
            (0x5be6128e18c26797, "5.013479291044358e+134"),
            (0x580d7b71d8f56413, "1.4520725756704513e+116"),
            (0x43b7a3a69a8dca03, "1.7033882668101804e+18"),
            (0x0b1f9163ce9ff57f, "4.2048429468447037e-255"),
            (0x759cde66bacfb3d0, "3.467722627586937e+258"),
            (0x1ff49b7889463e85, "9.606020282432862e-155"),
            (0xec1b8ca1f91e1d4c, "-5.796532266416865e+212"),
            (0x142c3fe860e7a113, "1.678285985249165e-211"),
            (0x4b0dbb418d5288f1, "3.559636223270555e+53"),
            (0xa0ee89aed453dd32, "-4.6645554400601785e-150"),
            (0xe2acf72f9e574f7a, "-2.135058088242266e+167"),
            (0x5c941cf0dc98d2c1, "9.356124026369747e+137"),
            (0x3139d32c93cd59bf, "1.4616374818865636e-71"),
            (0x11ce5dd2b45ed1f0, "6.563083173032833e-223"),
            (0xa9488d990bbb2599, "-8.167670639936238e-110"),
            (0xc5e7ce8a3a578a8e, "-5.894277366020282e+28"),
            (0xfc377a4c4a15544d, "-2.2879781783174108e+290"),
            (0xdaf61a26146d3f31, "-1.5320485900097169e+130"),
            (0xddd1dfb23b982ef8, "-8.718367338387145e+143"),
            (0x614ff3d719db3ad0, "5.615294812803369e+160"),
            (0x7412b29347294739, "1.3386940453763434e+251"),
            (0xd58842dea2bc372f, "-1.0867783350916245e+104"),
            (0x29a3b2e95d65a441, "4.193850584025333e-108"),
            (0x5af305535ec42e08, "1.3184601271006646e+130"),
            (0xab9099a435a240ae, "-7.589510292596495e-99"),
            (0xb3aa7efe4458a885, "-8.244271582479788e-60"),
            (0xaefcfad8efc89849, "-2.3868090177693467e-82"),
            (0x12476f57a5e5a5ab, "1.2966323984861066e-220"),
            (0xa28defe39bf00273, "-3.0687485613600386e-142"),
            (0x88bd64072bcfbe01, "-1.4242108461895417e-266"),
            (0x3eabedcbbaa80dd4, "8.323457810214681e-07"),
            (0x7656af7229d4beef, "1.1161471541231893e+262"),
            (0x451b4cf36123fdf7, "8.251096635205119e+24"),
            (0x44153acd0b09da9a, "9.790467012731906e+19"),
            (0x3e99413216f15a6c, "3.7632391686662634e-07"),
            (0x3c510714ac675ff7, "3.6922850197974925e-18"),
            (0xbc23fe23206fecbf, "-5.419038560717913e-19"),
            (0x40edca251ffbca6e, "61009.16015424287"),
            (0xbe68f04a49c38122, "-4.645182480485945e-08"),
            (0x433d5ae6fe84ebb4, "8262722483710900.0"),
            (0x3fe816683dbe49d6, "0.7527352529453377"),
            (0xc22ac38460ea5800, "-57474691189.171875"),
            (0xc426a197e413e7b8, "-2.0873619787867147e+20"),
            (0xbee1423fa9ddc035, "-8.22962948252024e-06"),
            (0xc3047c11acae17db, "-720739360948987.4"),
            (0x433bb1ed7cfc3aa3, "7795457933458083.0"),
            (0xc3496ce7ce343ed0, "-1.4313234541084064e+16"),
            (0xbe8b0125079038d2, "-2.0119898971920547e-07"),
            (0x3d717f832b2160f2, "9.94651555978322e-13"),
            (0x3c75f754cc80b142, "1.905258735292903e-17"),
            (0x3d2ccc6b330fb578, "5.115643150674756e-14"),
            (0xbdd315d2f6bf59d7, "-6.943173613034779e-11"),
            (0x415648acd26274c2, "5841587.287259283"),
            (0x409e20b8f30b46ec, "1928.1806146394765"),
            (0xc1ac3962a5f94e6e, "-236761426.9869265"),
            (0x42ca7ab6328f8105, "58228690198274.04"),
            (0x3bc1098f18ce0926, "7.215594044689961e-21"),
            (0x3d244c50c59ae9af, "3.60566820513037e-14"),
            (0x42c086c63325017a, "36342073805314.95"),
            (0x443b3341fb0ac313, "5.0175559918321946e+20"),
            (0xbf6a2f86ca83f205, "-0.0031964905393790954"),
            (0xc19f1b39eaa5ac49, "-130469498.66179003"),
            (0xbf1a0b5418e0f0a6, "-9.935093677965415e-05"),
            (0x3e1036c5887a4a71, "9.437761977402286e-10"),
            (0x3ca624134eae8f0e, "1.5363349208650456e-16"),
            (0x3fb2f87604007de8, "0.07410371396735338"),
            (0x4263e34520d31de5, "683338696344.9342"),
            (0x3d832b9500544b81, "2.1794042287634462e-12"),
            (0xbdbbba04e27f8b7c, "-2.521722948177041e-11"),
            (0x4266ebeec9031078, "787580602392.5146"),
            (0x43a73b2676a91230, "8.369869887914045e+17"),
            (0xbbe4c28e9c51cf54, "-3.516878859906538e-20"),
            (0xc088421dcc0dcd84, "-776.2645493582099"),
    ];

    #[test]
    fn float_repr_matches_cpython() {
        for (bits, expected) in REPRS {
            assert_eq!(float_repr(f64::from_bits(*bits)), *expected, "{bits:#x}");
        }
    }

    #[test]
    fn integers_keep_every_digit_up_to_python_limit() {
        let digits = "7".repeat(INT_MAX_STR_DIGITS);
        assert_eq!(loads(digits.as_bytes()), Ok(PyValue::Int(digits.clone())));
        let negative = format!("-{digits}");
        assert_eq!(
            loads(negative.as_bytes()),
            Ok(PyValue::Int(negative.clone()))
        );
        let too_long = "1".repeat(INT_MAX_STR_DIGITS + 1);
        let message = "Exceeds the limit (4300 digits) for integer string conversion: \
                       value has 4301 digits; use sys.set_int_max_str_digits() to increase the limit";
        assert_eq!(loads(too_long.as_bytes()), Err(message.to_string()));
        assert_eq!(
            loads(format!("-{too_long}").as_bytes()),
            Err(message.to_string())
        );
        assert_eq!(
            loads(format!("[{too_long}]").as_bytes()),
            Err(message.to_string())
        );
        // Floats have no such limit.
        let float = format!("{too_long}.5");
        assert!(matches!(loads(float.as_bytes()), Ok(PyValue::Float(_))));
        assert_eq!(loads(b"-0"), Ok(PyValue::Int("0".into())));
    }

    #[test]
    fn duplicate_keys_keep_first_position_and_last_value() {
        let got = loads(br#"{"a": 1, "b": 2, "a": 3}"#).unwrap();
        assert_eq!(
            got,
            PyValue::Object(vec![
                ("a".into(), PyValue::Int("3".into())),
                ("b".into(), PyValue::Int("2".into())),
            ])
        );
    }

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        assert_eq!(
            loads(br#""x\udc01y\ud800""#),
            Ok(PyValue::SurrogateStr("x\u{fffd}y\u{fffd}".into(), 0xDC01))
        );
        assert_eq!(loads(br#""\ud83d\ude00""#), Ok(PyValue::Str("😀".into())));
        assert_eq!(
            loads(br#"{"\ud800": 1}"#),
            Ok(PyValue::Object(vec![(
                "\u{fffd}".into(),
                PyValue::Int("1".into())
            )]))
        );
    }

    #[test]
    fn type_names_are_pythons() {
        let names: Vec<&str> = [
            "null",
            "true",
            "1",
            "1.5",
            "\"s\"",
            "\"\\ud800\"",
            "[]",
            "{}",
        ]
        .iter()
        .map(|s| loads(s.as_bytes()).unwrap().type_name())
        .collect();
        assert_eq!(
            names,
            [
                "NoneType", "bool", "int", "float", "str", "str", "list", "dict"
            ]
        );
    }

    #[test]
    fn nesting_is_limited_not_recursive() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(loads(ok.as_bytes()).is_ok());
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(
            loads(deep.as_bytes()),
            Err("maximum recursion depth exceeded while decoding a JSON array from a unicode string".into())
        );
        let objects = "{\"a\":".repeat(MAX_DEPTH + 1);
        assert_eq!(
            loads(objects.as_bytes()),
            Err("maximum recursion depth exceeded while decoding a JSON object from a unicode string".into())
        );
        // 100,000 levels: an error, not a stack overflow.
        let huge = "[".repeat(100_000);
        assert!(loads(huge.as_bytes()).is_err());
        let huge = "{\"k\":[".repeat(100_000);
        assert!(loads(huge.as_bytes()).is_err());
        // A syntax error before the limit is reported first.
        assert_eq!(
            loads(b"[[x"),
            Err("Expecting value: line 1 column 3 (char 2)".into())
        );
    }

    #[test]
    fn deep_but_allowed_values_drop_without_overflow() {
        let doc = format!("{}1{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        let value = loads(doc.as_bytes()).unwrap();
        drop(value);
    }

    #[test]
    fn positions_count_code_points() {
        assert_eq!(
            loads("{\"é日\": x}".as_bytes()),
            Err("Expecting value: line 1 column 8 (char 7)".into())
        );
        assert_eq!(
            loads("\n😀\n  é x".as_bytes()),
            Err("Expecting value: line 2 column 1 (char 1)".into())
        );
        assert_eq!(
            loads("\"😀\" x".as_bytes()),
            Err("Extra data: line 1 column 5 (char 4)".into())
        );
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
    fn random_bytes_never_panic() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        const ALPHABET: &[u8] =
            b"{}[]\",:\\/ubfnrt0123456789-+.eE NaIiyl\t\n\xc3\xa9\xed\xa0\x80\xff\xef\xbb\xbfd8";
        for round in 0..20_000 {
            let len = (rng.next() % 40) as usize;
            let input: Vec<u8> = (0..len)
                .map(|_| {
                    let r = rng.next();
                    if round % 3 == 0 {
                        r as u8
                    } else {
                        ALPHABET[(r % ALPHABET.len() as u64) as usize]
                    }
                })
                .collect();
            let _ = loads(&input);
        }
    }

    #[test]
    fn stream_decoding_drops_a_truncated_tail() {
        assert_eq!(decode_utf8_stream(b"ab\xe2\x82").as_deref(), Ok("ab"));
        assert_eq!(decode_utf8_stream(b"ab\xed\xa0").as_deref(), Ok("ab"));
        assert_eq!(
            decode_utf8_stream(b"ab\xed\xa0\x80").map(|s| s.into_owned()),
            Err(
                "'utf-8' codec can't decode byte 0xed in position 2: invalid continuation byte"
                    .to_string()
            )
        );
        assert_eq!(
            decode_utf8_stream(b"\xe2\x82x").map(|s| s.into_owned()),
            Err(
                "'utf-8' codec can't decode bytes in position 0-1: invalid continuation byte"
                    .to_string()
            )
        );
        assert_eq!(
            decode_utf8_stream(b"\xff").map(|s| s.into_owned()),
            Err(
                "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"
                    .to_string()
            )
        );
    }
}

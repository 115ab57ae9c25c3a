//! The `Authorization` header, read exactly as DRF's
//! `TokenAuthentication.authenticate` reads it:
//!
//! ```python
//! auth = get_authorization_header(request).split()
//! if not auth or auth[0].lower() != self.keyword.lower().encode():
//!     return None
//! if len(auth) == 1: raise AuthenticationFailed('... No credentials provided.')
//! elif len(auth) > 2: raise AuthenticationFailed('... should not contain spaces.')
//! try: token = auth[1].decode()
//! except UnicodeError: raise AuthenticationFailed('... invalid characters.')
//! ```
//!
//! The header reaches DRF as the original bytes (WSGI's latin-1 str encoded
//! back with latin-1), so this works on bytes.

/// What the header holds when it is well formed. `Debug` hides the key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum HeaderCredentials<'a> {
    /// No header, an empty one, or another scheme: not our business.
    NotProvided,
    /// The key, borrowed from the header bytes (valid UTF-8).
    Key(&'a str),
}

impl std::fmt::Debug for HeaderCredentials<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HeaderCredentials::NotProvided => f.write_str("NotProvided"),
            HeaderCredentials::Key(_) => f.write_str("Key([redacted])"),
        }
    }
}

/// A header that names our keyword but is malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderError {
    NoCredentials,
    ContainsSpaces,
    InvalidCharacters,
}

impl HeaderError {
    /// DRF's exact `detail` text.
    pub fn detail(&self) -> &'static str {
        match self {
            HeaderError::NoCredentials => "Invalid token header. No credentials provided.",
            HeaderError::ContainsSpaces => {
                "Invalid token header. Token string should not contain spaces."
            }
            HeaderError::InvalidCharacters => {
                "Invalid token header. Token string should not contain invalid characters."
            }
        }
    }
}

impl std::fmt::Display for HeaderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.detail())
    }
}

impl std::error::Error for HeaderError {}

/// Python's `bytes.split()` with no argument: runs of ASCII whitespace
/// (`b' \t\n\r\x0b\x0c'`) separate, and empty pieces are dropped.
fn split_ascii_whitespace(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes
        .split(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
        .filter(|piece| !piece.is_empty())
}

/// Parses the `Authorization` header value (`None` when absent) for the
/// configured keyword (`Token` by default).
pub fn parse_authorization<'a>(
    header: Option<&'a [u8]>,
    keyword: &str,
) -> Result<HeaderCredentials<'a>, HeaderError> {
    let Some(header) = header else {
        return Ok(HeaderCredentials::NotProvided);
    };
    let mut parts = split_ascii_whitespace(header);
    let Some(scheme) = parts.next() else {
        return Ok(HeaderCredentials::NotProvided);
    };
    // `bytes.lower()` lowercases ASCII only; `str.lower()` is Unicode.
    let wanted = keyword.to_lowercase();
    if scheme.to_ascii_lowercase() != wanted.as_bytes() {
        return Ok(HeaderCredentials::NotProvided);
    }
    let Some(key) = parts.next() else {
        return Err(HeaderError::NoCredentials);
    };
    if parts.next().is_some() {
        return Err(HeaderError::ContainsSpaces);
    }
    std::str::from_utf8(key)
        .map(HeaderCredentials::Key)
        .map_err(|_| HeaderError::InvalidCharacters)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(h: &[u8]) -> Result<HeaderCredentials<'_>, HeaderError> {
        parse_authorization(Some(h), "Token")
    }

    const KEY: &str = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b";

    #[test]
    fn absent_or_empty_is_not_provided() {
        assert_eq!(
            parse_authorization(None, "Token"),
            Ok(HeaderCredentials::NotProvided)
        );
        assert_eq!(parse(b""), Ok(HeaderCredentials::NotProvided));
        assert_eq!(parse(b"   "), Ok(HeaderCredentials::NotProvided));
        assert_eq!(
            parse(b" \t\x0b\x0c\r\n"),
            Ok(HeaderCredentials::NotProvided)
        );
    }

    #[test]
    fn other_schemes_are_not_provided() {
        assert_eq!(
            parse(b"Basic dXNlcjpwYXNz"),
            Ok(HeaderCredentials::NotProvided)
        );
        assert_eq!(parse(b"Bearer abc"), Ok(HeaderCredentials::NotProvided));
        assert_eq!(parse(b"Tokens abc"), Ok(HeaderCredentials::NotProvided));
        assert_eq!(parse(b"Toke abc"), Ok(HeaderCredentials::NotProvided));
        assert_eq!(parse(b"Token:abc"), Ok(HeaderCredentials::NotProvided));
        // Other schemes are ignored even when malformed.
        assert_eq!(parse(b"Bearer"), Ok(HeaderCredentials::NotProvided));
        assert_eq!(parse(b"Bearer a b c"), Ok(HeaderCredentials::NotProvided));
        assert_eq!(parse(b"Bearer \xff"), Ok(HeaderCredentials::NotProvided));
        // Non-ASCII whitespace does not split.
        assert_eq!(parse(b"Token\xa0abc"), Ok(HeaderCredentials::NotProvided));
        assert_eq!(parse(b"Token\x1cabc"), Ok(HeaderCredentials::NotProvided));
    }

    #[test]
    fn key_is_returned() {
        let h = format!("Token {KEY}");
        assert_eq!(parse(h.as_bytes()), Ok(HeaderCredentials::Key(KEY)));
    }

    #[test]
    fn keyword_is_case_insensitive() {
        for kw in ["token", "TOKEN", "tOkEn", "Token"] {
            let h = format!("{kw} {KEY}");
            assert_eq!(parse(h.as_bytes()), Ok(HeaderCredentials::Key(KEY)));
        }
        assert_eq!(
            parse_authorization(Some(b"bearer abc"), "Bearer"),
            Ok(HeaderCredentials::Key("abc"))
        );
        assert_eq!(
            parse_authorization(Some(b"Token abc"), "Bearer"),
            Ok(HeaderCredentials::NotProvided)
        );
    }

    #[test]
    fn any_ascii_whitespace_separates() {
        for sep in ["\t", "   ", " \t ", "\x0b", "\x0c", "\r\n "] {
            let h = format!("  Token{sep}{KEY}{sep}");
            assert_eq!(
                parse(h.as_bytes()),
                Ok(HeaderCredentials::Key(KEY)),
                "{sep:?}"
            );
        }
    }

    #[test]
    fn keyword_alone_has_no_credentials() {
        assert_eq!(parse(b"Token"), Err(HeaderError::NoCredentials));
        assert_eq!(parse(b"  token  "), Err(HeaderError::NoCredentials));
    }

    #[test]
    fn more_than_two_parts_contain_spaces() {
        assert_eq!(parse(b"Token a b"), Err(HeaderError::ContainsSpaces));
        assert_eq!(parse(b"Token a\tb"), Err(HeaderError::ContainsSpaces));
        // Counted before the key is decoded.
        assert_eq!(parse(b"Token \xff b"), Err(HeaderError::ContainsSpaces));
    }

    #[test]
    fn invalid_utf8_key_has_invalid_characters() {
        assert_eq!(parse(b"Token \xff"), Err(HeaderError::InvalidCharacters));
        assert_eq!(parse(b"Token abc\xc3"), Err(HeaderError::InvalidCharacters));
        // A UTF-8 encoded surrogate is invalid for Python too.
        assert_eq!(
            parse(b"Token \xed\xa0\x80"),
            Err(HeaderError::InvalidCharacters)
        );
        // Latin-1 bytes that are valid UTF-8 decode.
        assert_eq!(parse("Token é".as_bytes()), Ok(HeaderCredentials::Key("é")));
    }

    #[test]
    fn non_ascii_keyword() {
        // str.lower() lowercases the keyword; bytes.lower() leaves non-ASCII
        // bytes of the header alone.
        assert_eq!(
            parse_authorization(Some("clé k".as_bytes()), "CLÉ"),
            Ok(HeaderCredentials::Key("k"))
        );
        assert_eq!(
            parse_authorization(Some("CLÉ k".as_bytes()), "clé"),
            Ok(HeaderCredentials::NotProvided)
        );
    }

    #[test]
    fn details_are_drf_texts() {
        assert_eq!(
            HeaderError::NoCredentials.detail(),
            "Invalid token header. No credentials provided."
        );
        assert_eq!(
            HeaderError::ContainsSpaces.detail(),
            "Invalid token header. Token string should not contain spaces."
        );
        assert_eq!(
            HeaderError::InvalidCharacters.detail(),
            "Invalid token header. Token string should not contain invalid characters."
        );
    }
}

//! CSRF protection: a random token kept in the (encrypted) session and put
//! in every form; a POST whose `csrf_token` field does not match it is
//! refused with 403 before anything else happens.

use rand::TryRng;
use rand::rngs::SysRng;
use subtle::ConstantTimeEq;

use super::AdminError;
use super::session::AdminSession;

/// 32 bytes from the OS CSPRNG, as hex.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    SysRng
        .try_fill_bytes(&mut bytes)
        .expect("the operating system's random generator failed");
    hex::encode(bytes)
}

/// `Ok` only when the session has a token and `submitted` is that token.
pub fn verify(session: &AdminSession, submitted: &str) -> Result<(), AdminError> {
    let Some(expected) = session.existing_csrf_token() else {
        return Err(AdminError::Csrf);
    };
    let same = expected.len() == submitted.len()
        && bool::from(expected.as_bytes().ct_eq(submitted.as_bytes()));
    if same { Ok(()) } else { Err(AdminError::Csrf) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_hex() {
        let a = new_token();
        let b = new_token();
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}

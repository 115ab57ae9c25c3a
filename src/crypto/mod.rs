//! Keys derived from `SECRET_KEY`, and the sealing of token keys at rest.

pub mod django_hash;
mod sealer;
mod secret;

pub use sealer::Sealer;
pub use secret::{SecretError, SecretKey, SecretSource};

/// HKDF labels: one derived key per purpose, so that no two uses share a key.
pub const TOKEN_SEALING_LABEL: &[u8] = b"authtoken/token-sealing/v1";
pub const SESSION_COOKIE_LABEL: &[u8] = b"authtoken/admin-session/v1";
/// Two-factor (TOTP) secrets are sealed under a key of their own: a sealed
/// token key copied into their column does not open, nor the reverse.
pub const TOTP_SEALING_LABEL: &[u8] = b"authtoken/totp-sealing/v1";

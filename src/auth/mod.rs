//! Authentication's building blocks below HTTP: the `Authorization` header's
//! parsing (DRF's rules), password hashing off the async workers, and the
//! sign-in throttle.

pub mod header;
pub mod password;
pub mod throttle;

pub use password::{HashError, PasswordHasher, Upgrade, Verdict};
pub use throttle::LoginThrottle;

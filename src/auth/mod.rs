//! Who is calling: the token extractor, the `Authorization` parser, password
//! hashing and the sign-in throttle.

pub mod client_addr;
pub mod credentials;
pub mod extractor;
pub mod header;
pub mod password;
pub mod throttle;

pub use extractor::TokenAuth;
pub use password::{HashError, PasswordHasher};
pub use throttle::LoginThrottle;

//! The domain: users, their tokens and token events, the post-insert hooks,
//! and the sign-in failure records. Functions here take plain types and a
//! connection and know nothing of HTTP.

pub mod activity;
pub mod audit;
pub mod clock;
pub mod events;
pub mod hooks;
pub mod imported;
pub mod key_format;
pub mod login_failures;
pub mod scope;
mod sql_types;
pub mod stats;
pub mod token_key;
pub mod tokens;
pub mod user;
pub mod user_search;
pub mod users;
pub mod validation;

pub use hooks::{HookError, UserHooks};
pub use key_format::KeyFormat;
pub use scope::Scope;
pub use sql_types::UserId;
pub use token_key::{Digest, TokenKey};
pub use tokens::{AuthOutcome, TokenRow, Tokens};
pub use user::{NewUser, User};
pub use users::CreateUserError;

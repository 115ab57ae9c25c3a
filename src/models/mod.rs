//! The domain: users, their tokens and token events, the post-insert hooks,
//! and the sign-in failure records. Functions here take plain types and a
//! connection and know nothing of HTTP.

pub mod activity;
pub mod admin_sessions;
pub mod audit;
pub mod caller;
pub mod clock;
pub mod events;
pub mod hooks;
pub mod imported;
pub mod key_format;
pub mod login_failures;
pub mod named_tokens;
pub mod recovery_codes;
pub mod scope;
mod sql_types;
pub mod stats;
pub mod token_key;
mod token_row;
pub mod tokens;
pub mod two_factor;
pub mod user;
pub mod user_search;
pub mod users;
pub mod validation;

pub use caller::{CallerToken, CallerUser};
pub use hooks::{HookError, UserHooks};
pub use key_format::KeyFormat;
pub use named_tokens::{NamedTokenError, NamedTokenSpec};
pub use scope::{Scope, Scopes};
pub use sql_types::{TokenId, UserId};
pub use token_key::{Digest, TokenKey};
pub use token_row::{NewToken, TokenRow};
pub use tokens::{AuthOutcome, Tokens};
pub use user::{NewUser, User};
pub use users::CreateUserError;

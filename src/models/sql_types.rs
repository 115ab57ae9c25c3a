//! Domain types that are also column types: an id, a digest or an event
//! kind is parsed once and stays typed down to the database, so a user id
//! cannot be passed where a token id is wanted, nor a key where its digest is.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Integer;

/// A user's primary key. Shown to clients as a JSON number (`user_id`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    AsExpression,
    FromSqlRow,
    serde::Serialize,
)]
#[diesel(sql_type = Integer)]
#[serde(transparent)]
pub struct UserId(i32);

impl UserId {
    pub const fn new(id: i32) -> UserId {
        UserId(id)
    }

    pub const fn get(self) -> i32 {
        self.0
    }

    /// A path segment such as `42`: digits only, positive, in range.
    pub fn parse(raw: &str) -> Option<UserId> {
        if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        raw.parse::<i32>().ok().filter(|id| *id > 0).map(UserId)
    }
}

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<DB> ToSql<Integer, DB> for UserId
where
    DB: Backend,
    i32: ToSql<Integer, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        self.0.to_sql(out)
    }
}

impl<DB> FromSql<Integer, DB> for UserId
where
    DB: Backend,
    i32: FromSql<Integer, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        i32::from_sql(bytes).map(UserId)
    }
}

/// Implements `ToSql`/`FromSql` over `Text` for a type that is a string in
/// the database, on every backend (the `MultiConnection`'s included).
macro_rules! text_column {
    ($type:ty, $as_str:expr, $parse:expr) => {
        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $type
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, DB>,
            ) -> diesel::serialize::Result {
                let text: &'b str = $as_str(self);
                text.to_sql(out)
            }
        }

        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $type
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                // One line: rustfmt re-indents a split turbofish in a macro
                // further at every run, so `cargo fmt --check` never passed.
                type Text = diesel::sql_types::Text;
                let text = <String as diesel::deserialize::FromSql<Text, DB>>::from_sql(bytes)?;
                $parse(text)
            }
        }
    };
}
pub(crate) use text_column;

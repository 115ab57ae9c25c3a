//! Domain types that are also column types: an id, a digest or an event
//! kind is parsed once and stays typed down to the database, so a user id
//! cannot be passed where a token id is wanted, nor a key where its digest is.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Integer;

/// A positive integer primary key, typed so that one table's id cannot be
/// passed where another's is wanted. Shown to clients as a JSON number.
macro_rules! integer_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
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
        pub struct $name(i32);

        impl $name {
            pub const fn new(id: i32) -> $name {
                $name(id)
            }

            pub const fn get(self) -> i32 {
                self.0
            }

            /// A path segment such as `42`: digits only, positive, in range.
            pub fn parse(raw: &str) -> Option<$name> {
                if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                raw.parse::<i32>().ok().filter(|id| *id > 0).map($name)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl<DB> ToSql<Integer, DB> for $name
        where
            DB: Backend,
            i32: ToSql<Integer, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                self.0.to_sql(out)
            }
        }

        impl<DB> FromSql<Integer, DB> for $name
        where
            DB: Backend,
            i32: FromSql<Integer, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                i32::from_sql(bytes).map($name)
            }
        }
    };
}

integer_id!(
    /// A user's primary key (`user_id` to clients).
    UserId
);
integer_id!(
    /// A token's primary key: the `id` of a named token to clients.
    TokenId
);

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
                // A short line: rustfmt re-indents a wrapped one inside a
                // macro at every run.
                use diesel::{deserialize::FromSql, sql_types::Text};
                let text = <String as FromSql<Text, DB>>::from_sql(bytes)?;
                $parse(text)
            }
        }
    };
}
pub(crate) use text_column;

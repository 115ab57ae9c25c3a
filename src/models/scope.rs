//! A scope a token may hold (`orders:read`): 1–64 characters of
//! `a-z 0-9 _ . : -`. Parsed once at the edge; a name that does not parse
//! is never held by any token.

use diesel::deserialize::FromSqlRow;
use diesel::expression::AsExpression;
use diesel::sql_types::Text;

use super::sql_types::text_column;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope(String);

pub const SCOPE_MAX_LEN: usize = 64;
/// The most scopes one token may hold.
pub const MAX_SCOPES: usize = 32;
/// The scope that lets a named token create, list and delete tokens.
pub const TOKENS_SCOPE: &str = "tokens";

impl Scope {
    pub fn parse(name: &str) -> Option<Scope> {
        let ok = (1..=SCOPE_MAX_LEN).contains(&name.len())
            && name.bytes().all(|b| {
                b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || matches!(b, b'_' | b'.' | b':' | b'-')
            });
        ok.then(|| Scope(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The scopes a named token holds: sorted, without repeats, stored as one
/// space-separated column (a scope name has no space).
#[derive(Debug, Clone, Default, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub struct Scopes(String);

text_column!(Scopes, Scopes::as_column, |text: String| {
    Scopes::from_column(&text).ok_or_else(|| format!("bad scopes column {text:?}").into())
});

impl Scopes {
    pub fn new(scopes: impl IntoIterator<Item = Scope>) -> Scopes {
        let mut names: Vec<String> = scopes.into_iter().map(|s| s.0).collect();
        names.sort_unstable();
        names.dedup();
        Scopes(names.join(" "))
    }

    fn from_column(text: &str) -> Option<Scopes> {
        let scopes: Option<Vec<Scope>> = text.split_whitespace().map(Scope::parse).collect();
        scopes.map(Scopes::new)
    }

    fn as_column(&self) -> &str {
        &self.0
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.split(' ').filter(|s| !s.is_empty())
    }

    pub fn len(&self) -> usize {
        self.iter().count()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, scope: &Scope) -> bool {
        self.iter().any(|s| s == scope.as_str())
    }

    pub fn is_subset(&self, other: &Scopes) -> bool {
        self.iter().all(|s| other.iter().any(|o| o == s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(names: &[&str]) -> Scopes {
        Scopes::new(names.iter().map(|n| Scope::parse(n).unwrap()))
    }

    #[test]
    fn scope_sets() {
        let s = scopes(&["orders:write", "orders:read", "orders:read"]);
        assert_eq!(
            s.iter().collect::<Vec<_>>(),
            ["orders:read", "orders:write"]
        );
        assert_eq!(s.len(), 2);
        assert!(s.contains(&Scope::parse("orders:read").unwrap()));
        assert!(!s.contains(&Scope::parse("orders").unwrap()));
        assert!(scopes(&["orders:read"]).is_subset(&s));
        assert!(scopes(&[]).is_subset(&s));
        assert!(!scopes(&["tokens"]).is_subset(&s));
        assert!(scopes(&[]).is_empty());
        assert_eq!(scopes(&[]).iter().count(), 0);
        assert_eq!(Scopes::from_column("b a"), Some(scopes(&["a", "b"])));
        assert_eq!(Scopes::from_column("A"), None);
    }

    #[test]
    fn names() {
        for good in ["orders:read", "a", "tokens", "x_y.z-1", &"a".repeat(64)] {
            assert_eq!(Scope::parse(good).map(|s| s.0), Some(good.to_string()));
        }
        for bad in ["", "Orders", "a b", "é", "a/b", "*", &"a".repeat(65)] {
            assert_eq!(Scope::parse(bad), None, "{bad:?}");
        }
    }
}

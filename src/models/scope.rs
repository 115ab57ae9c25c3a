//! A scope a token may hold (`orders:read`): 1–64 characters of
//! `a-z 0-9 _ . : -`. Parsed once at the edge; a name that does not parse
//! is never held by any token.

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope(String);

pub const SCOPE_MAX_LEN: usize = 64;

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

#[cfg(test)]
mod tests {
    use super::*;

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

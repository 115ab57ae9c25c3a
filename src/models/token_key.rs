use diesel::deserialize::FromSqlRow;
use diesel::expression::AsExpression;
use diesel::sql_types::Text;
use sha2::{Digest as _, Sha256};

use super::key_format::KeyFormat;

use super::sql_types::text_column;

/// A token key: what the client sends. Only ever held in memory; `Debug`
/// shows just its first 8 characters.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenKey(String);

pub const PREFIX_LEN: usize = 8;

impl TokenKey {
    /// A new key of `format`, from the OS CSPRNG.
    pub fn generate(format: KeyFormat) -> TokenKey {
        TokenKey(format.generate())
    }

    /// A key that was already issued (unsealed from the database, or
    /// imported from a DRF `authtoken_token` table). DRF keys are at most 40
    /// characters; anything longer or empty is refused.
    pub fn existing(key: String) -> Option<TokenKey> {
        (!key.is_empty() && key.len() <= 40 && key.chars().all(|c| c.is_ascii_graphic()))
            .then_some(TokenKey(key))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn prefix(&self) -> &str {
        &self.0[..self.0.len().min(PREFIX_LEN)]
    }

    pub fn digest(&self) -> Digest {
        Digest::of(&self.0)
    }
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenKey({}…)", self.prefix())
    }
}

/// The SHA-256 hex of a key: what the database stores and looks up.
#[derive(Debug, Clone, PartialEq, Eq, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub struct Digest(String);

text_column!(Digest, Digest::as_str, |hex| Ok(Digest(hex)));

impl Digest {
    /// The digest of any presented key; an unknown one simply finds nothing.
    pub fn of(key: &str) -> Digest {
        Digest(hex::encode(Sha256::digest(key.as_bytes())))
    }

    /// A digest read back from where it was stored (an import record).
    pub fn from_stored(hex: &str) -> Digest {
        Digest(hex.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_40_lowercase_hex_and_differ() {
        let a = TokenKey::generate(KeyFormat::Drf);
        let b = TokenKey::generate(KeyFormat::Drf);
        assert_eq!(a.as_str().len(), 40);
        assert!(
            a.as_str()
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(a, b);
        assert_eq!(a.prefix(), &a.as_str()[..8]);
    }

    #[test]
    fn sha256_known_answer() {
        assert_eq!(
            Digest::of("abc").as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            Digest::of("").as_str(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn debug_shows_only_the_prefix() {
        let k = TokenKey::generate(KeyFormat::Prefixed);
        let shown = format!("{k:?}");
        assert!(!shown.contains(k.as_str()));
        assert!(shown.contains(k.prefix()));
    }

    #[test]
    fn existing_keys_are_bounded() {
        assert!(TokenKey::existing("x".repeat(40)).is_some());
        assert!(TokenKey::existing("x".repeat(41)).is_none());
        assert!(TokenKey::existing(String::new()).is_none());
        assert!(TokenKey::existing("a b".into()).is_none());
    }
}

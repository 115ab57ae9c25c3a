//! The two formats of a new key (`TOKEN_FORMAT`): DRF's 40 lowercase hex,
//! or `atk_` + 30 base62 + a 6-character base62 CRC-32 of those 30, so that
//! secret scanners can find a leaked key (`atk_[0-9A-Za-z]{36}`) and a
//! mistyped one is refused without a database query. Both are 40
//! characters, so a prefixed key fits wherever a DRF key does.

use rand::TryRng;
use rand::rngs::SysRng;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
pub const PREFIX: &str = "atk_";
const BODY_LEN: usize = 30;
const CHECKSUM_LEN: usize = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyFormat {
    /// 20 random bytes as 40 lowercase hex, DRF's `secrets.token_hex(20)`.
    #[default]
    Drf,
    /// `atk_` + 30 base62 + checksum.
    Prefixed,
}

impl KeyFormat {
    pub fn parse(name: &str) -> Option<KeyFormat> {
        match name {
            "drf" => Some(KeyFormat::Drf),
            "prefixed" => Some(KeyFormat::Prefixed),
            _ => None,
        }
    }

    /// A new key of this format from the OS CSPRNG.
    pub fn generate(self) -> String {
        match self {
            KeyFormat::Drf => hex::encode(random_bytes::<20>()),
            KeyFormat::Prefixed => prefixed_key(),
        }
    }
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    SysRng
        .try_fill_bytes(&mut bytes)
        .expect("the operating system's random generator failed");
    bytes
}

/// 30 base62 characters, each uniform (bytes ≥ 248 are drawn again, so no
/// character is likelier than another): about 178 bits.
fn prefixed_key() -> String {
    let mut body = String::with_capacity(BODY_LEN);
    while body.len() < BODY_LEN {
        for byte in random_bytes::<64>() {
            if byte < 248 && body.len() < BODY_LEN {
                body.push(char::from(BASE62[usize::from(byte % 62)]));
            }
        }
    }
    format!("{PREFIX}{body}{}", checksum(&body))
}

/// The CRC-32 (IEEE) of `body` in base62, most significant digit first,
/// padded with `0` to 6 characters.
fn checksum(body: &str) -> String {
    let mut n = crc32fast::hash(body.as_bytes());
    let mut digits = [b'0'; CHECKSUM_LEN];
    for digit in digits.iter_mut().rev() {
        *digit = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(digits.to_vec()).expect("base62 is ASCII")
}

/// False for a key that claims the prefixed format (`atk_…`) but is not a
/// well-formed one with the right checksum: it cannot exist, so it is
/// refused without asking the database. Other keys pass through.
pub fn may_exist(key: &str) -> bool {
    let Some(rest) = key.strip_prefix(PREFIX) else {
        return true;
    };
    if rest.len() != BODY_LEN + CHECKSUM_LEN || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let (body, sum) = rest.split_at(BODY_LEN);
    checksum(body) == sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixed_keys_have_the_documented_shape() {
        for _ in 0..200 {
            let key = KeyFormat::Prefixed.generate();
            assert_eq!(key.len(), 40);
            assert!(key.starts_with("atk_"));
            assert!(key[4..].bytes().all(|b| b.is_ascii_alphanumeric()), "{key}");
            assert!(may_exist(&key));
        }
        assert_ne!(
            KeyFormat::Prefixed.generate(),
            KeyFormat::Prefixed.generate()
        );
    }

    #[test]
    fn checksum_known_answers() {
        // CRC-32 of "123456789" is 0xCBF43926 = 3421780262 = "3jZRME" in base62.
        assert_eq!(crc32fast::hash(b"123456789"), 0xCBF4_3926);
        assert_eq!(checksum("123456789"), "3jZRME");
        // Small values are padded with zeros.
        assert_eq!(checksum(""), "000000");
    }

    #[test]
    fn a_wrong_checksum_cannot_exist() {
        let key = KeyFormat::Prefixed.generate();
        let mut typo = key.clone().into_bytes();
        typo[10] = if typo[10] == b'a' { b'b' } else { b'a' };
        assert!(!may_exist(std::str::from_utf8(&typo).unwrap()));
        assert!(!may_exist("atk_short"));
        assert!(!may_exist(&format!("{}!", &key[..39])));
        // DRF keys and anything else are for the database to judge.
        assert!(may_exist(&KeyFormat::Drf.generate()));
        assert!(may_exist("anything"));
    }

    #[test]
    fn formats_by_name() {
        assert_eq!(KeyFormat::parse("drf"), Some(KeyFormat::Drf));
        assert_eq!(KeyFormat::parse("prefixed"), Some(KeyFormat::Prefixed));
        assert_eq!(KeyFormat::parse("other"), None);
        let drf = KeyFormat::Drf.generate();
        assert_eq!(drf.len(), 40);
        assert!(
            drf.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
    }
}

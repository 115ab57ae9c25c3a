//! Django's password hashes: recognise one and check a password against it.
//!
//! Django stores `algorithm$...`, each hasher with its own layout after the
//! first `$`. This module verifies the hashers Django ships and a Django 3.2–5.2
//! site may have written: `pbkdf2_sha256`, `pbkdf2_sha1`, `argon2`,
//! `bcrypt_sha256`, `bcrypt`, `scrypt` and `md5`. It follows Django's own
//! `verify` of each hasher: the password is taken as UTF-8, the hash is
//! recomputed with the stored parameters, and the comparison is constant-time
//! (over the whole encoded string where Django compares that).
//!
//! Pure functions: no I/O. Verifying is as slow as the stored parameters ask
//! (Django 5.2's PBKDF2 default is 1,000,000 iterations), so callers run it on
//! the blocking pool like bcrypt.
//!
//! Never verifies: an unusable password (`!…`, Django's
//! `set_unusable_password`), a hash of another algorithm (`unsalted_md5`,
//! `sha1`, `crypt`, a custom hasher…), a malformed hash, and a hash whose
//! parameters ask for more than [`MAX_MEMORY_BYTES`] of memory.

use std::fmt;

use argon2::Argon2;
use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq;

/// Django's prefix of an unusable password (`UNUSABLE_PASSWORD_PREFIX`).
pub const UNUSABLE_PASSWORD_PREFIX: &str = "!";

/// The most memory one verification may take (argon2's `m`, scrypt's
/// `128·r·(n + p)`): 1 GiB, far above any Django default (argon2 100 MiB,
/// scrypt 16 MiB), so that a hostile source row cannot exhaust the server.
pub const MAX_MEMORY_BYTES: u64 = 1 << 30;

/// A Django password hasher this server can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DjangoHash {
    /// `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>` (Django's default).
    Pbkdf2Sha256,
    /// `pbkdf2_sha1$<iterations>$<salt>$<base64 hash>`.
    Pbkdf2Sha1,
    /// `argon2$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>` (also `argon2i`, `argon2d`).
    Argon2,
    /// `bcrypt_sha256$$2b$<cost>$…`: bcrypt of the hex SHA-256 of the password.
    BcryptSha256,
    /// `bcrypt$$2b$<cost>$…`: bcrypt of the password.
    Bcrypt,
    /// `scrypt$<n>$<salt>$<r>$<p>$<base64 hash>` (Django 4.0+).
    Scrypt,
    /// `md5$<salt>$<hex hash>`: MD5 of salt + password.
    Md5,
}

/// What [`DjangoHash::parse`] makes of a stored password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed<'a> {
    /// A hasher this module verifies (the rest may still be malformed: see
    /// [`is_verifiable`]).
    Known(DjangoHash),
    /// Django's unusable password (`!…`): never verifies.
    Unusable,
    /// Another algorithm, named as Django's `identify_hasher` names it, or
    /// `None` when the value does not even look like a hash (never a piece of
    /// a value that might be a password in clear).
    Unknown(Option<&'a str>),
}

impl DjangoHash {
    /// Every hasher, in Django's order of `PASSWORD_HASHERS`.
    pub const ALL: [DjangoHash; 7] = [
        DjangoHash::Pbkdf2Sha256,
        DjangoHash::Pbkdf2Sha1,
        DjangoHash::Argon2,
        DjangoHash::BcryptSha256,
        DjangoHash::Bcrypt,
        DjangoHash::Scrypt,
        DjangoHash::Md5,
    ];

    /// Django's name of the algorithm, the prefix of an encoded hash.
    pub fn name(self) -> &'static str {
        match self {
            DjangoHash::Pbkdf2Sha256 => "pbkdf2_sha256",
            DjangoHash::Pbkdf2Sha1 => "pbkdf2_sha1",
            DjangoHash::Argon2 => "argon2",
            DjangoHash::BcryptSha256 => "bcrypt_sha256",
            DjangoHash::Bcrypt => "bcrypt",
            DjangoHash::Scrypt => "scrypt",
            DjangoHash::Md5 => "md5",
        }
    }

    /// The hasher of that Django name.
    pub fn from_name(name: &str) -> Option<DjangoHash> {
        DjangoHash::ALL.into_iter().find(|h| h.name() == name)
    }

    /// Which hasher wrote `encoded`, by Django's `identify_hasher` rules.
    pub fn parse(encoded: &str) -> Parsed<'_> {
        if encoded.starts_with(UNUSABLE_PASSWORD_PREFIX) {
            return Parsed::Unusable;
        }
        match identify(encoded) {
            Some(name) => match DjangoHash::from_name(name) {
                Some(hash) => Parsed::Known(hash),
                None => Parsed::Unknown(Some(name)),
            },
            None => Parsed::Unknown(None),
        }
    }
}

impl fmt::Display for DjangoHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Django's algorithm name of `encoded` (`identify_hasher`): `None` for an
/// unusable password and for a value that names no algorithm. Meant for the
/// import summary's `unverifiable: <algorithm> <count>`.
pub fn algorithm(encoded: &str) -> Option<&str> {
    match DjangoHash::parse(encoded) {
        Parsed::Known(hash) => Some(hash.name()),
        Parsed::Unknown(name) => name,
        Parsed::Unusable => None,
    }
}

/// Whether `encoded` is a well-formed hash of a hasher this module verifies,
/// so that some password can verify against it.
pub fn is_verifiable(encoded: &str) -> bool {
    decode(encoded).is_some()
}

/// Whether `encoded` is in Django's encoding (`algorithm$…`, or an unusable
/// `!…`) rather than this server's own bcrypt (`$2b$…`, modular crypt format,
/// which starts with `$`).
pub fn is_django_hash(encoded: &str) -> bool {
    !encoded.is_empty() && !encoded.starts_with('$')
}

/// Whether `password` matches the Django hash `encoded`, as Django's
/// `check_password` says. Unusable, unknown and malformed hashes never match.
pub fn verify(encoded: &str, password: &str) -> bool {
    match decode(encoded) {
        Some(decoded) => decoded.verify(encoded, password.as_bytes()),
        None => false,
    }
}

/// The algorithm name Django's `identify_hasher` reads from `encoded`.
fn identify(encoded: &str) -> Option<&str> {
    // Ancient Django: plain MD5 hex digests, and MD5/SHA-1 with an empty salt.
    if (encoded.len() == 32 && !encoded.contains('$'))
        || (encoded.len() == 37 && encoded.starts_with("md5$$"))
    {
        return Some("unsalted_md5");
    }
    if encoded.len() == 46 && encoded.starts_with("sha1$$") {
        return Some("unsalted_sha1");
    }
    let (name, _) = encoded.split_once('$')?;
    // Hasher names are identifiers; anything else is not a hash, and is not
    // repeated back (it might be a password stored in clear).
    let is_name = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    is_name.then_some(name)
}

/// A parsed hash, with everything needed to recompute it.
enum Decoded<'a> {
    /// Recomputed as `pbkdf2_<digest>$<iterations>$<salt>$<base64>` and
    /// compared with the whole encoded string, as Django does.
    Pbkdf2 {
        sha1: bool,
        iterations: u32,
        salt: &'a str,
    },
    Argon2 {
        algorithm: argon2::Algorithm,
        version: argon2::Version,
        params: argon2::Params,
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
    /// The bcrypt hash after `bcrypt$` / `bcrypt_sha256$`.
    Bcrypt { sha256: bool, mcf: &'a str },
    /// Recomputed as `scrypt$<n>$<salt>$<r>$<p>$<base64>` and compared whole.
    Scrypt {
        n: u64,
        log_n: u8,
        r: u32,
        p: u32,
        salt: &'a str,
    },
    /// Recomputed as `md5$<salt>$<hex>` and compared whole.
    Md5 { salt: &'a str },
}

fn decode(encoded: &str) -> Option<Decoded<'_>> {
    let Parsed::Known(hash) = DjangoHash::parse(encoded) else {
        return None;
    };
    match hash {
        DjangoHash::Pbkdf2Sha256 | DjangoHash::Pbkdf2Sha1 => {
            // algorithm, iterations, salt, hash = encoded.split("$", 3)
            let mut parts = encoded.splitn(4, '$');
            let (_, iterations, salt, _) =
                (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
            let iterations = parse_decimal(iterations)?;
            let iterations = u32::try_from(iterations).ok().filter(|&i| i >= 1)?;
            if salt.is_empty() {
                return None;
            }
            Some(Decoded::Pbkdf2 {
                sha1: hash == DjangoHash::Pbkdf2Sha1,
                iterations,
                salt,
            })
        }
        DjangoHash::Argon2 => decode_argon2(&encoded["argon2$".len()..]),
        DjangoHash::BcryptSha256 | DjangoHash::Bcrypt => {
            let (_, mcf) = encoded.split_once('$')?;
            // A bcrypt hash is 60 ASCII characters: `$2b$12$` + 53.
            if mcf.len() != 60 || !mcf.is_ascii() || !mcf.starts_with('$') {
                return None;
            }
            Some(Decoded::Bcrypt {
                sha256: hash == DjangoHash::BcryptSha256,
                mcf,
            })
        }
        DjangoHash::Scrypt => {
            // algorithm, work_factor, salt, block_size, parallelism, hash_ = encoded.split("$", 6)
            let parts: Vec<&str> = encoded.split('$').collect();
            let [_, n, salt, r, p, _] = parts.as_slice() else {
                return None;
            };
            let n = parse_decimal(n)?;
            if n < 2 || !n.is_power_of_two() || salt.is_empty() {
                return None;
            }
            let log_n = u8::try_from(n.trailing_zeros()).ok()?;
            let r = u32::try_from(parse_decimal(r)?).ok().filter(|&r| r >= 1)?;
            let p = u32::try_from(parse_decimal(p)?).ok().filter(|&p| p >= 1)?;
            // scrypt's memory: V is 128·r·n bytes, B is 128·r·p.
            let memory = 128u64
                .checked_mul(u64::from(r))?
                .checked_mul(n.checked_add(u64::from(p))?)?;
            if memory > MAX_MEMORY_BYTES {
                return None;
            }
            // The same limits the scrypt crate checks, so that it cannot refuse later.
            scrypt::Params::new(log_n, r, p).ok()?;
            Some(Decoded::Scrypt {
                n,
                log_n,
                r,
                p,
                salt,
            })
        }
        DjangoHash::Md5 => {
            // algorithm, salt, hash = encoded.split("$", 2)
            let mut parts = encoded.splitn(3, '$');
            let (_, salt, _) = (parts.next()?, parts.next()?, parts.next()?);
            if salt.is_empty() {
                return None;
            }
            Some(Decoded::Md5 { salt })
        }
    }
}

/// `argon2id$v=19$m=102400,t=2,p=8$<salt>$<hash>`, as argon2-cffi (libargon2)
/// reads it: the version is optional (then 0x10), salt and hash are base64
/// without padding, and the hash's length is the output length.
fn decode_argon2(phc: &str) -> Option<Decoded<'static>> {
    let fields: Vec<&str> = phc.split('$').collect();
    let (variant, version, params, salt, hash) = match fields.as_slice() {
        [variant, version, params, salt, hash] => (*variant, Some(*version), *params, *salt, *hash),
        [variant, params, salt, hash] => (*variant, None, *params, *salt, *hash),
        _ => return None,
    };
    let algorithm = match variant {
        "argon2id" => argon2::Algorithm::Argon2id,
        "argon2i" => argon2::Algorithm::Argon2i,
        "argon2d" => argon2::Algorithm::Argon2d,
        _ => return None,
    };
    let version = match version {
        None => argon2::Version::V0x10,
        Some("v=19") => argon2::Version::V0x13,
        Some("v=16") => argon2::Version::V0x10,
        Some(_) => return None,
    };
    let (mut m, mut t, mut p) = (None, None, None);
    for pair in params.split(',') {
        let (key, value) = pair.split_once('=')?;
        let value = u32::try_from(parse_decimal(value)?).ok()?;
        let slot = match key {
            "m" => &mut m,
            "t" => &mut t,
            "p" => &mut p,
            _ => return None,
        };
        if slot.replace(value).is_some() {
            return None;
        }
    }
    let (m, t, p) = (m?, t?, p?);
    if u64::from(m) * 1024 > MAX_MEMORY_BYTES {
        return None;
    }
    let salt = ARGON2_B64.decode(salt).ok()?;
    let hash = ARGON2_B64.decode(hash).ok()?;
    let params = argon2::Params::new(m, t, p, Some(hash.len())).ok()?;
    if salt.len() < argon2::MIN_SALT_LEN {
        return None;
    }
    Some(Decoded::Argon2 {
        algorithm,
        version,
        params,
        salt,
        hash,
    })
}

/// Base64 as libargon2 reads it: standard alphabet, padding optional.
const ARGON2_B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// A non-negative decimal number of ASCII digits (what Django's `int()` of
/// its own output reads back).
fn parse_decimal(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

impl Decoded<'_> {
    fn verify(&self, encoded: &str, password: &[u8]) -> bool {
        match self {
            Decoded::Pbkdf2 {
                sha1,
                iterations,
                salt,
            } => {
                let (name, derived) = if *sha1 {
                    let mut out = [0u8; 20];
                    pbkdf2::pbkdf2_hmac::<Sha1>(password, salt.as_bytes(), *iterations, &mut out);
                    ("pbkdf2_sha1", STANDARD.encode(out))
                } else {
                    let mut out = [0u8; 32];
                    pbkdf2::pbkdf2_hmac::<Sha256>(password, salt.as_bytes(), *iterations, &mut out);
                    ("pbkdf2_sha256", STANDARD.encode(out))
                };
                let recomputed = format!("{name}${iterations}${salt}${derived}");
                ct_eq(encoded.as_bytes(), recomputed.as_bytes())
            }
            Decoded::Argon2 {
                algorithm,
                version,
                params,
                salt,
                hash,
            } => {
                let mut out = vec![0u8; hash.len()];
                let argon2 = Argon2::new(*algorithm, *version, params.clone());
                match argon2.hash_password_into(password, salt, &mut out) {
                    Ok(()) => ct_eq(&out, hash),
                    Err(_) => false,
                }
            }
            Decoded::Bcrypt { sha256, mcf } => {
                let result = if *sha256 {
                    // Django: binascii.hexlify(sha256(password).digest()), lowercase.
                    bcrypt::verify(hex::encode(Sha256::digest(password)), mcf)
                } else {
                    bcrypt::verify(password, mcf)
                };
                result.unwrap_or(false)
            }
            Decoded::Scrypt {
                n,
                log_n,
                r,
                p,
                salt,
            } => {
                let Ok(params) = scrypt::Params::new(*log_n, *r, *p) else {
                    return false;
                };
                let mut out = [0u8; 64];
                if scrypt::scrypt(password, salt.as_bytes(), &params, &mut out).is_err() {
                    return false;
                }
                let recomputed = format!("scrypt${n}${salt}${r}${p}${}", STANDARD.encode(out));
                ct_eq(encoded.as_bytes(), recomputed.as_bytes())
            }
            Decoded::Md5 { salt } => {
                let mut md5 = Md5::new();
                md5.update(salt.as_bytes());
                md5.update(password);
                let recomputed = format!("md5${salt}${}", hex::encode(md5.finalize()));
                ct_eq(encoded.as_bytes(), recomputed.as_bytes())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every hash below was written by Django 5.2.19's own hashers
    /// (`hasher.encode(PASSWORD, salt, …)` with low costs, argon2-cffi 25.1,
    /// bcrypt 5.0), so these are known answers from the real thing (the
    /// argon2 version-0x10 ones by argon2-cffi, which Django's verify calls).
    const PASSWORD: &str = "pässwörd 🔑";

    const PBKDF2_SHA256: &str =
        "pbkdf2_sha256$1000$seasalt$ak9Xuye0In48YZL7nxMqv9sgbK/vnWH3maEw3iARY/8=";
    const PBKDF2_SHA256_ASCII: &str =
        "pbkdf2_sha256$1$seasalt$25AaZOClAOzTDEv9+nNA5HubZwUsHLhKlzN9pSIs6C8=";
    const PBKDF2_SHA1: &str = "pbkdf2_sha1$1000$seasalt$DeZuT0f1OcJjVJVgPvbAm5dgwEE=";
    const ARGON2ID: &str = "argon2$argon2id$v=19$m=64,t=1,p=1$c2Vhc2FsdHNlYXNhbHQ$LmDNiaAwbyfXgngSq5AGIZ4xmLGdEAv1yfj0fyOT3h8";
    const ARGON2ID_P2: &str = "argon2$argon2id$v=19$m=256,t=2,p=2$c2Vhc2FsdHNlYXNhbHQ$hrWWViBbowuL92ibjAcGHr6cKOMfpH3Wn1EiJ4WkL58";
    /// Older Django sites used argon2i; a 16-byte hash here.
    const ARGON2I: &str =
        "argon2$argon2i$v=19$m=256,t=2,p=2$c2Vhc2FsdHNlYXNhbHQ$atCQCEVLH94d/KNGHs0bUw";
    /// Argon2 version 0x10, as argon2-cffi writes it (`hash_secret(version=16)`),
    /// and without the `v=` field, as Django 1.10 stored its hashes.
    const ARGON2I_V16: &str =
        "argon2$argon2i$v=16$m=256,t=2,p=2$c2Vhc2FsdHNlYXNhbHQ$VW2hy1Ictzsja6ttSDGnuA";
    const ARGON2I_NO_VERSION: &str =
        "argon2$argon2i$m=256,t=2,p=2$c2Vhc2FsdHNlYXNhbHQ$VW2hy1Ictzsja6ttSDGnuA";
    const BCRYPT_SHA256: &str =
        "bcrypt_sha256$$2b$04$JAYWXZr1PbeXWtFZE68YNuXZO94yPXqt/vSsZ.18x/ooVHxH1l5pO";
    const BCRYPT: &str = "bcrypt$$2b$04$qbnWFoGoe0XA0uyCozPYfu83xjKcgwOlOksKyURPatGNwewCsA4cW";
    const BCRYPT_2A: &str = "bcrypt$$2a$04$zoh1Xk/uIEK1EzHBFs6utOk8cOWUEevTtYvG5R53M1hWnCV1SWfBm";
    const SCRYPT: &str = "scrypt$1024$seasalt$8$1$NizLrGIxv5nfytFQfFt3EuB02giDB9q5UcrJFkeow32w5OaicaochuZr2yGQbqAFI00SM0aAkI+OU54xSitDPA==";
    const SCRYPT_SMALL: &str = "scrypt$16$seasalt$2$3$sfeVD0TqJ0OzEw+8NDYT0RJPZq6CwrIsmcKmU0jmHlT/uyQYAmuFYID1719a0zFR8TBm5MMWwd0iSSS/Qxpm+Q==";
    const MD5: &str = "md5$seasalt$82c0d2a328984cddc952a02e2d6af2bc";

    const ALL_KNOWN: [(&str, DjangoHash); 13] = [
        (PBKDF2_SHA256, DjangoHash::Pbkdf2Sha256),
        (PBKDF2_SHA1, DjangoHash::Pbkdf2Sha1),
        (ARGON2ID, DjangoHash::Argon2),
        (ARGON2ID_P2, DjangoHash::Argon2),
        (ARGON2I, DjangoHash::Argon2),
        (ARGON2I_V16, DjangoHash::Argon2),
        (ARGON2I_NO_VERSION, DjangoHash::Argon2),
        (BCRYPT_SHA256, DjangoHash::BcryptSha256),
        (BCRYPT, DjangoHash::Bcrypt),
        (BCRYPT_2A, DjangoHash::Bcrypt),
        (SCRYPT, DjangoHash::Scrypt),
        (SCRYPT_SMALL, DjangoHash::Scrypt),
        (MD5, DjangoHash::Md5),
    ];

    #[test]
    fn every_known_answer_verifies_and_a_wrong_password_does_not() {
        for (encoded, hasher) in ALL_KNOWN {
            assert_eq!(
                DjangoHash::parse(encoded),
                Parsed::Known(hasher),
                "{encoded}"
            );
            assert_eq!(algorithm(encoded), Some(hasher.name()));
            assert!(is_verifiable(encoded), "{encoded}");
            assert!(is_django_hash(encoded), "{encoded}");
            assert!(verify(encoded, PASSWORD), "{encoded} should verify");
            assert!(!verify(encoded, "pässwörd 🔐"), "{encoded}: wrong password");
            assert!(!verify(encoded, ""), "{encoded}: empty password");
            // The same text in another normalisation is another password.
            assert!(
                !verify(encoded, "pa\u{308}sswo\u{308}rd 🔑"),
                "{encoded}: NFD"
            );
        }
        assert!(verify(PBKDF2_SHA256_ASCII, "letmein"));
        assert!(!verify(PBKDF2_SHA256_ASCII, "letmein "));
    }

    #[test]
    fn a_changed_hash_or_salt_does_not_verify() {
        for (encoded, _) in ALL_KNOWN {
            // Flip one character of the hash (the last one before any padding).
            let trimmed = encoded.trim_end_matches('=');
            let at = trimmed.len() - 2;
            let mut bytes = encoded.as_bytes().to_vec();
            bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(bytes).unwrap();
            assert!(!verify(&tampered, PASSWORD), "{tampered}");
        }
        assert!(!verify(
            &PBKDF2_SHA256.replace("seasalt", "seasalu"),
            PASSWORD
        ));
        assert!(!verify(
            &PBKDF2_SHA256.replace("$1000$", "$1001$"),
            PASSWORD
        ));
        assert!(!verify(&MD5.replace("seasalt", "Seasalt"), PASSWORD));
        assert!(!verify(&SCRYPT.replace("$8$1$", "$8$2$"), PASSWORD));
        // Django compares the whole string it recomputes: a leading zero fails there too.
        assert!(!verify(
            &PBKDF2_SHA256.replace("$1000$", "$01000$"),
            PASSWORD
        ));
    }

    #[test]
    fn unusable_passwords_never_verify() {
        // What set_unusable_password writes: "!" and 40 random characters.
        let unusable = "!w8YyyQCUf7byXd16PgExWUF10jKbc9V2yPqHkXZ7";
        assert_eq!(DjangoHash::parse(unusable), Parsed::Unusable);
        assert_eq!(algorithm(unusable), None);
        assert!(!is_verifiable(unusable));
        assert!(is_django_hash(unusable));
        assert!(!verify(unusable, unusable));
        assert!(!verify(unusable, &unusable[1..]));
        assert!(!verify("!", ""));
        // An unusable prefix in front of a real hash is still unusable.
        assert!(!verify(&format!("!{MD5}"), PASSWORD));
    }

    #[test]
    fn unknown_algorithms_are_named_and_never_verify() {
        let cases = [
            (
                "sha1$seasalt$5e1b1b6f5d2e0bd5c2f0e7e1c6a3b57b3a3a0a1f",
                Some("sha1"),
            ),
            ("crypt$$abcdefghijk", Some("crypt")),
            ("5f4dcc3b5aa765d61d8327deb882cf99", Some("unsalted_md5")),
            (
                "md5$$5f4dcc3b5aa765d61d8327deb882cf99",
                Some("unsalted_md5"),
            ),
            (
                "sha1$$5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8",
                Some("unsalted_sha1"),
            ),
            ("my_custom_hasher$1$x$y", Some("my_custom_hasher")),
            // Not a hash at all: nothing of it is repeated back.
            ("hunter2", None),
            ("hunter 2$", None),
            ("", None),
            ("$", None),
        ];
        for (encoded, name) in cases {
            assert_eq!(
                DjangoHash::parse(encoded),
                Parsed::Unknown(name),
                "{encoded}"
            );
            assert_eq!(algorithm(encoded), name, "{encoded}");
            assert!(!is_verifiable(encoded), "{encoded}");
            assert!(!verify(encoded, "password"), "{encoded}");
            assert!(!verify(encoded, encoded), "{encoded}");
        }
    }

    #[test]
    fn this_servers_own_bcrypt_is_not_a_django_hash() {
        let own = "$2b$04$qbnWFoGoe0XA0uyCozPYfu83xjKcgwOlOksKyURPatGNwewCsA4cW";
        assert!(!is_django_hash(own));
        assert!(!is_django_hash(""));
        assert_eq!(DjangoHash::parse(own), Parsed::Unknown(None));
        assert!(!verify(own, PASSWORD));
        assert!(is_django_hash(BCRYPT));
    }

    #[test]
    fn malformed_known_hashes_are_not_verifiable() {
        let cases = [
            "pbkdf2_sha256$",
            "pbkdf2_sha256$1000$seasalt",
            "pbkdf2_sha256$$seasalt$ak9X",
            "pbkdf2_sha256$0$seasalt$ak9X",
            "pbkdf2_sha256$-5$seasalt$ak9X",
            "pbkdf2_sha256$ 100$seasalt$ak9X",
            "pbkdf2_sha256$99999999999$seasalt$ak9X",
            "pbkdf2_sha256$1000$$ak9X",
            "pbkdf2_sha1$x$seasalt$ak9X",
            "argon2$",
            "argon2$argon2id$v=19$m=64,t=1,p=1$c2Vhc2FsdHNlYXNhbHQ",
            "argon2$argon2x$v=19$m=64,t=1,p=1$c2Vhc2FsdHNlYXNhbHQ$LmDNiaAwbyfXgngSq5AGIZ4xmLGdEAv1yfj0fyOT3h8",
            "argon2$argon2id$v=20$m=64,t=1,p=1$c2Vhc2FsdHNlYXNhbHQ$LmDNiaAwbyfXgngSq5AGIZ4xmLGdEAv1yfj0fyOT3h8",
            "argon2$argon2id$v=19$m=64,t=1$c2Vhc2FsdHNlYXNhbHQ$LmDNiaAwbyfXgngSq5AGIZ4xmLGdEAv1yfj0fyOT3h8",
            "argon2$argon2id$v=19$m=64,t=1,p=1,p=1$c2Vhc2FsdHNlYXNhbHQ$LmDNiaAwbyfXgngSq5AGIZ4xmLGdEAv1yfj0fyOT3h8",
            "argon2$argon2id$v=19$m=64,t=0,p=1$c2Vhc2FsdHNlYXNhbHQ$LmDNiaAwbyfXgngSq5AGIZ4xmLGdEAv1yfj0fyOT3h8",
            "argon2$argon2id$v=19$m=64,t=1,p=1$c2Vh$LmDNiaAwbyfXgngSq5AGIZ4xmLGdEAv1yfj0fyOT3h8",
            "argon2$argon2id$v=19$m=64,t=1,p=1$c2Vhc2FsdHNlYXNhbHQ$!!!",
            // 2 TiB of memory: refused before anything is allocated.
            "argon2$argon2id$v=19$m=2147483648,t=1,p=1$c2Vhc2FsdHNlYXNhbHQ$LmDNiaAwbyfXgngSq5AGIZ4xmLGdEAv1yfj0fyOT3h8",
            "bcrypt$",
            "bcrypt$2b$04$qbnWFoGoe0XA0uyCozPYfu83xjKcgwOlOksKyURPatGNwewCsA4cW",
            "bcrypt_sha256$$2b$04$short",
            "scrypt$1024$seasalt$8$1",
            "scrypt$1000$seasalt$8$1$abc",
            "scrypt$1$seasalt$8$1$abc",
            "scrypt$1024$seasalt$0$1$abc",
            "scrypt$1024$$8$1$abc",
            "scrypt$1024$seasalt$8$1$abc$extra",
            // 2^40 · 128 · 8 bytes.
            "scrypt$1099511627776$seasalt$8$1$abc",
            "md5$",
            "md5$seasalt",
            "md5$$82c0d2a328984cddc952a02e2d6af2bc00",
        ];
        for encoded in cases {
            assert!(!is_verifiable(encoded), "{encoded}");
            assert!(!verify(encoded, PASSWORD), "{encoded}");
        }
    }

    #[test]
    fn a_wrong_bcrypt_version_or_cost_fails_without_panicking() {
        let bad_cost = BCRYPT.replace("$2b$04$", "$2b$03$");
        assert!(is_verifiable(&bad_cost));
        assert!(!verify(&bad_cost, PASSWORD));
        let bad_version = BCRYPT.replace("$2b$", "$2c$");
        assert!(!verify(&bad_version, PASSWORD));
    }

    #[test]
    fn bcrypt_sha256_is_not_plain_bcrypt() {
        // The same bcrypt string under the other name verifies another input.
        let as_plain = BCRYPT_SHA256.replacen("bcrypt_sha256$", "bcrypt$", 1);
        assert!(!verify(&as_plain, PASSWORD));
        let digest = hex::encode(Sha256::digest(PASSWORD.as_bytes()));
        assert!(verify(&as_plain, &digest));
    }

    #[test]
    fn names_round_trip() {
        for hash in DjangoHash::ALL {
            assert_eq!(DjangoHash::from_name(hash.name()), Some(hash));
            assert_eq!(hash.to_string(), hash.name());
        }
        assert_eq!(DjangoHash::from_name("unsalted_md5"), None);
    }
}

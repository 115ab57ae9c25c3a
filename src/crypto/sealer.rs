use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::TryRng;
use rand::rngs::SysRng;

use super::{SecretKey, TOKEN_SEALING_LABEL};

const NONCE_LEN: usize = 12;

/// Seals token keys for storage with ChaCha20-Poly1305 under a key derived
/// from `SECRET_KEY`. Each sealing has a fresh random nonce, stored in front
/// of the ciphertext; the user id is the associated data, so a sealed key
/// copied onto another user's row does not open.
#[derive(Clone)]
pub struct Sealer {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer([redacted])")
    }
}

impl Sealer {
    pub fn new(secret: &SecretKey) -> Sealer {
        Sealer::labelled(secret, TOKEN_SEALING_LABEL)
    }

    /// A sealer under the key HKDF derives for `label`: one per kind of
    /// secret, so that what one seals the others cannot open.
    pub fn labelled(secret: &SecretKey, label: &[u8]) -> Sealer {
        let key = Key::from(secret.derive(label));
        Sealer {
            cipher: ChaCha20Poly1305::new(&key),
        }
    }

    /// Hex of nonce ‖ ciphertext ‖ tag.
    pub fn seal(&self, plaintext: &[u8], user_id: i32) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        SysRng
            .try_fill_bytes(&mut nonce)
            .expect("the operating system's random generator failed");
        let aad = user_id.to_be_bytes();
        let ciphertext = self
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .expect("ChaCha20-Poly1305 encryption of a short message cannot fail");
        let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        hex::encode(out)
    }

    /// The plaintext, or `None` when the data was sealed under another
    /// secret, for another user, or was altered.
    pub fn unseal(&self, sealed: &str, user_id: i32) -> Option<Vec<u8>> {
        let bytes = hex::decode(sealed).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        let aad = user_id.to_be_bytes();
        self.cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer(secret: &str) -> Sealer {
        Sealer::new(&SecretKey::from_bytes(secret.as_bytes()))
    }

    #[test]
    fn round_trip() {
        let s = sealer("a secret that is long enough for us");
        let sealed = s.seal(b"0123456789abcdef0123456789abcdef01234567", 7);
        assert_eq!(
            s.unseal(&sealed, 7).as_deref(),
            Some(&b"0123456789abcdef0123456789abcdef01234567"[..])
        );
    }

    #[test]
    fn fresh_nonce_each_time() {
        let s = sealer("a secret that is long enough for us");
        assert_ne!(s.seal(b"same", 1), s.seal(b"same", 1));
    }

    #[test]
    fn other_secret_other_user_or_tampering_fail() {
        let s = sealer("a secret that is long enough for us");
        let sealed = s.seal(b"key", 7);
        assert_eq!(
            sealer("another secret, also long enough").unseal(&sealed, 7),
            None
        );
        assert_eq!(s.unseal(&sealed, 8), None);
        let mut tampered = sealed.into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'0' { b'1' } else { b'0' };
        assert_eq!(s.unseal(std::str::from_utf8(&tampered).unwrap(), 7), None);
        assert_eq!(s.unseal("not hex", 7), None);
        assert_eq!(s.unseal("00", 7), None);
    }

    #[test]
    fn labels_do_not_open_each_other() {
        let secret = SecretKey::from_bytes(b"a secret that is long enough for us".to_vec());
        let tokens = Sealer::new(&secret);
        let totp = Sealer::labelled(&secret, crate::crypto::TOTP_SEALING_LABEL);
        let sealed = tokens.seal(b"key", 7);
        assert_eq!(totp.unseal(&sealed, 7), None);
        assert_eq!(tokens.unseal(&totp.seal(b"key", 7), 7), None);
    }
}

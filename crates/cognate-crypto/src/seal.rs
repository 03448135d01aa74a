//! Secrets at rest: AES-256-GCM under a server master key, for the values the server must be
//! able to read back (token-signing private keys, app-client secrets). Passwords, codes,
//! refresh tokens and sessions are never sealed: they are stored as hashes or digests.
//!
//! A master key file holds one key a line, `KEY_ID BASE64_OF_32_BYTES` (`#` starts a
//! comment). The first key seals; every key opens, so a rotation adds a new first line and
//! keeps the old ones until everything is sealed again under the new key.
//!
//! A sealed value names its key and is bound to its context (e.g. the pool and key id of a
//! signing key), so a ciphertext copied to another row does not open there.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use rand::rngs::OsRng;
use rand::RngCore;

/// The first bytes of a sealed binary value (a PKCS#8 DER key starts with 0x30, never this).
const MAGIC: &[u8; 4] = b"CGS1";
/// The prefix of a sealed text value.
const TEXT_PREFIX: &str = "sealed:v1:";
const KEY_LEN: usize = 32;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("master key file line {line}: {problem}")]
    KeyFile { line: usize, problem: &'static str },
    #[error("the master key file holds no key")]
    NoKey,
    /// The value names a key the key file does not hold (its id is not secret).
    #[error("sealed with master key '{0}', which the master key file does not hold")]
    UnknownKey(String),
    /// Wrong key, wrong context or a tampered value: the same error for all three.
    #[error("a sealed value could not be opened")]
    Open,
    #[error("sealing failed")]
    Seal,
}

struct MasterKey {
    id: String,
    key: LessSafeKey,
}

/// The server's master keys: the first seals, all open.
pub struct MasterKeys {
    keys: Vec<MasterKey>,
}

impl std::fmt::Debug for MasterKeys {
    // Key ids only: the key bytes never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|k| k.id.as_str()).collect();
        f.debug_struct("MasterKeys").field("ids", &ids).finish()
    }
}

impl MasterKeys {
    /// Parses a master key file. Errors name the line, never its content.
    pub fn parse(text: &str) -> Result<Self, SealError> {
        let mut keys = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line_no = index + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |problem| SealError::KeyFile {
                line: line_no,
                problem,
            };
            let mut parts = line.split_whitespace();
            let (Some(id), Some(encoded), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err(bad("expected `KEY_ID BASE64_KEY`"));
            };
            if id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                return Err(bad("a key id is 1 to 64 letters, digits or '-'"));
            }
            let bytes = STANDARD
                .decode(encoded)
                .map_err(|_| bad("the key is not base64"))?;
            if bytes.len() != KEY_LEN {
                return Err(bad("a key is 32 bytes"));
            }
            if keys.iter().any(|k: &MasterKey| k.id == id) {
                return Err(bad("a key id appears twice"));
            }
            let key = UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| bad("unusable key"))?;
            keys.push(MasterKey {
                id: id.to_string(),
                key: LessSafeKey::new(key),
            });
        }
        if keys.is_empty() {
            return Err(SealError::NoKey);
        }
        Ok(MasterKeys { keys })
    }

    /// A new key file line with a fresh random key and an id from the current time.
    pub fn generate_line(unix_seconds: i64) -> String {
        let mut key = [0u8; KEY_LEN];
        OsRng.fill_bytes(&mut key);
        let mut suffix = [0u8; 3];
        OsRng.fill_bytes(&mut suffix);
        format!(
            "k{unix_seconds}-{} {}",
            hex::encode(suffix),
            STANDARD.encode(key)
        )
    }

    /// The id of the key that seals.
    pub fn current_id(&self) -> &str {
        self.keys.first().map_or("", |k| k.id.as_str())
    }

    /// Seals `plaintext` under the current key, bound to `context`.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Result<Vec<u8>, SealError> {
        let current = self.keys.first().ok_or(SealError::NoKey)?;
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let mut body = plaintext.to_vec();
        current
            .key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut body,
            )
            .map_err(|_| SealError::Seal)?;
        let id = current.id.as_bytes();
        let mut out = Vec::with_capacity(MAGIC.len() + 1 + id.len() + NONCE_LEN + body.len());
        out.extend_from_slice(MAGIC);
        out.push(id.len() as u8);
        out.extend_from_slice(id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Opens a value sealed by `seal` with the same context.
    pub fn open(&self, sealed: &[u8], context: &str) -> Result<Vec<u8>, SealError> {
        let (id, nonce, body) = split(sealed).ok_or(SealError::Open)?;
        let key = self
            .keys
            .iter()
            .find(|k| k.id.as_bytes() == id)
            .ok_or_else(|| SealError::UnknownKey(String::from_utf8_lossy(id).into_owned()))?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Open)?;
        let mut body = body.to_vec();
        let plain = key
            .key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut body)
            .map_err(|_| SealError::Open)?;
        Ok(plain.to_vec())
    }

    /// Whether `value` is sealed (else it is a plaintext from before sealing).
    pub fn is_sealed(value: &[u8]) -> bool {
        value.starts_with(MAGIC)
    }

    /// Whether `value` is sealed under the current key.
    pub fn sealed_with_current(&self, value: &[u8]) -> bool {
        split(value).is_some_and(|(id, _, _)| id == self.current_id().as_bytes())
    }

    /// `seal` for a text value: `sealed:v1:` and URL-safe base64, so it stays a plain JSON
    /// string.
    pub fn seal_text(&self, plaintext: &str, context: &str) -> Result<String, SealError> {
        let sealed = self.seal(plaintext.as_bytes(), context)?;
        Ok(format!("{TEXT_PREFIX}{}", URL_SAFE_NO_PAD.encode(sealed)))
    }

    /// `open` for a text value; a value without the prefix is a plaintext from before
    /// sealing and is returned as it is.
    pub fn open_text(&self, value: &str, context: &str) -> Result<String, SealError> {
        let Some(encoded) = value.strip_prefix(TEXT_PREFIX) else {
            return Ok(value.to_string());
        };
        let sealed = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| SealError::Open)?;
        String::from_utf8(self.open(&sealed, context)?).map_err(|_| SealError::Open)
    }

    /// Whether a text value is sealed under the current key.
    pub fn text_sealed_with_current(&self, value: &str) -> bool {
        value
            .strip_prefix(TEXT_PREFIX)
            .and_then(|encoded| URL_SAFE_NO_PAD.decode(encoded).ok())
            .is_some_and(|sealed| self.sealed_with_current(&sealed))
    }
}

/// (key id, nonce, ciphertext with tag) of a sealed value.
fn split(sealed: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let rest = sealed.strip_prefix(MAGIC)?;
    let (&id_len, rest) = rest.split_first()?;
    let id_len = usize::from(id_len);
    if rest.len() < id_len + NONCE_LEN {
        return None;
    }
    let (id, rest) = rest.split_at(id_len);
    let (nonce, body) = rest.split_at(NONCE_LEN);
    Some((id, nonce, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(lines: &[String]) -> MasterKeys {
        MasterKeys::parse(&lines.join("\n")).unwrap()
    }

    #[test]
    fn a_sealed_value_opens_only_with_its_context_and_a_key_that_holds_it() {
        let first = MasterKeys::generate_line(1);
        let ring = keys(std::slice::from_ref(&first));
        let sealed = ring.seal(b"private key", "signing_key:p:k1").unwrap();
        assert!(MasterKeys::is_sealed(&sealed));
        assert!(!sealed.windows(11).any(|w| w == b"private key"));
        assert_eq!(
            ring.open(&sealed, "signing_key:p:k1").unwrap(),
            b"private key"
        );
        assert_eq!(ring.open(&sealed, "signing_key:p:k2"), Err(SealError::Open));
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(
            ring.open(&tampered, "signing_key:p:k1"),
            Err(SealError::Open)
        );
        // Another key file (a different server) cannot open it.
        let other = keys(&[MasterKeys::generate_line(1)]);
        assert!(matches!(
            other.open(&sealed, "signing_key:p:k1"),
            Err(SealError::UnknownKey(_)) | Err(SealError::Open)
        ));
    }

    #[test]
    fn after_a_rotation_old_values_open_and_new_ones_use_the_new_key() {
        let old_line = MasterKeys::generate_line(1);
        let old = keys(std::slice::from_ref(&old_line));
        let sealed_old = old.seal_text("secret", "client_secret:c").unwrap();
        let rotated = keys(&[MasterKeys::generate_line(2), old_line]);
        assert_eq!(
            rotated.open_text(&sealed_old, "client_secret:c").unwrap(),
            "secret"
        );
        assert!(!rotated.text_sealed_with_current(&sealed_old));
        let sealed_new = rotated.seal_text("secret", "client_secret:c").unwrap();
        assert!(rotated.text_sealed_with_current(&sealed_new));
        assert!(matches!(
            old.open_text(&sealed_new, "client_secret:c"),
            Err(SealError::UnknownKey(_))
        ));
    }

    #[test]
    fn plaintext_from_before_sealing_reads_as_it_is() {
        let ring = keys(&[MasterKeys::generate_line(1)]);
        assert_eq!(ring.open_text("abc123", "x").unwrap(), "abc123");
        assert!(!MasterKeys::is_sealed(&[0x30, 0x82, 0x04]));
    }

    #[test]
    fn key_file_errors_name_the_line_not_the_key() {
        let e = MasterKeys::parse("# comment\nk1 notbase64!!\n").unwrap_err();
        assert_eq!(
            e,
            SealError::KeyFile {
                line: 2,
                problem: "the key is not base64"
            }
        );
        assert!(!e.to_string().contains("notbase64"));
        assert_eq!(
            MasterKeys::parse("\n# none\n").unwrap_err(),
            SealError::NoKey
        );
        assert!(MasterKeys::parse(&format!("k1 {}", STANDARD.encode([0u8; 16]))).is_err());
        let line = MasterKeys::generate_line(5);
        assert!(MasterKeys::parse(&format!("{line}\n{line}")).is_err());
        let ring = keys(&[line]);
        assert!(format!("{ring:?}").starts_with("MasterKeys { ids: [\"k5-"));
    }
}

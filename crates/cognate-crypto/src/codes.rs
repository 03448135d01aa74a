//! Confirmation and reset codes are short, so they are stored only as keyed digests bound to
//! their purpose and user: a database leak does not reveal live codes (without the key), and a
//! digest issued for one user or flow can never satisfy a check for another.

use rand::rngs::OsRng;
use rand::{Rng as _, RngCore as _};
use subtle::ConstantTimeEq;

use crate::mac::hmac_sha256;

/// Domain-separation label, so these digests never collide with other HMACs under the same key.
const DIGEST_LABEL: &[u8] = b"cognate/code-digest/v1";

/// A fresh 6-digit code (`000000`–`999999`, uniformly distributed, zero-padded).
pub fn generate_code() -> String {
    format!("{:06}", OsRng.gen_range(0..1_000_000u32))
}

/// The server-wide secret key for code digests.
#[derive(Clone, PartialEq, Eq)]
pub struct CodeKey([u8; 32]);

impl CodeKey {
    /// A new random key from the OS RNG.
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        OsRng.fill_bytes(&mut key);
        Self(key)
    }

    /// A key loaded from storage.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw key, for storing it.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for CodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeKey(<redacted>)")
    }
}

/// HMAC-SHA256 under `key` over a length-prefixed encoding of `(purpose, user_key, code)`.
///
/// Each field is preceded by its byte length as a big-endian `u64`, so no two distinct triples
/// encode to the same message (`("ab", "c")` ≠ `("a", "bc")`).
pub fn digest(key: &CodeKey, purpose: &str, user_key: &str, code: &str) -> Vec<u8> {
    let fields = [purpose.as_bytes(), user_key.as_bytes(), code.as_bytes()];
    let lens = fields.map(|f| (f.len() as u64).to_be_bytes());
    hmac_sha256(
        &key.0,
        &[
            DIGEST_LABEL,
            &lens[0],
            fields[0],
            &lens[1],
            fields[1],
            &lens[2],
            fields[2],
        ],
    )
    .to_vec()
}

/// True if `candidate` is the code whose digest is `expected` for this purpose and user.
/// Constant time in the digest comparison.
pub fn digest_matches(
    expected: &[u8],
    key: &CodeKey,
    purpose: &str,
    user_key: &str,
    candidate: &str,
) -> bool {
    digests_equal(expected, &digest(key, purpose, user_key, candidate))
}

/// Two code digests compared in constant time (for equal lengths).
pub fn digests_equal(stored: &[u8], candidate: &[u8]) -> bool {
    stored.ct_eq(candidate).into()
}

#[cfg(test)]
mod tests {

    #[test]
    fn at_hash_of_the_oidc_core_example() {
        // OpenID Connect Core, Appendix A.3 (the `at_hash` of the example access token).
        assert_eq!(
            super::at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }

    use super::*;

    #[test]
    fn codes_are_six_digits() {
        for _ in 0..1000 {
            let code = generate_code();
            assert_eq!(code.len(), 6, "{code}");
            assert!(code.bytes().all(|c| c.is_ascii_digit()), "{code}");
        }
    }

    #[test]
    fn codes_are_spread_over_the_range() {
        // 20 000 draws: every leading digit appears (expected 2 000 each), and codes below
        // 100000 (which need zero padding) show up too.
        let mut first_digit = [0u32; 10];
        let mut distinct = std::collections::HashSet::new();
        for _ in 0..20_000 {
            let code = generate_code();
            first_digit[usize::from(code.as_bytes()[0] - b'0')] += 1;
            distinct.insert(code);
        }
        for (digit, count) in first_digit.iter().enumerate() {
            assert!((1_500..2_500).contains(count), "digit {digit}: {count}");
        }
        // Birthday bound: ~200 collisions expected among 20 000 draws from 10^6.
        assert!(distinct.len() > 19_500, "{}", distinct.len());
    }

    #[test]
    fn key_round_trip_and_randomness() {
        let key = CodeKey::generate();
        assert_eq!(CodeKey::from_bytes(*key.as_bytes()), key);
        assert_ne!(CodeKey::generate(), key);
        assert_eq!(format!("{key:?}"), "CodeKey(<redacted>)");
    }

    #[test]
    fn digest_is_hmac_over_length_prefixed_fields() {
        let key = CodeKey::from_bytes([7u8; 32]);
        let mut msg = DIGEST_LABEL.to_vec();
        for field in ["signup", "pool1/alice", "123456"] {
            msg.extend_from_slice(&(field.len() as u64).to_be_bytes());
            msg.extend_from_slice(field.as_bytes());
        }
        let expected = hmac_sha256(&[7u8; 32], &[&msg]);
        assert_eq!(digest(&key, "signup", "pool1/alice", "123456"), expected);
        assert_eq!(expected.len(), 32);
    }

    #[test]
    fn digest_binds_purpose_user_code_and_key() {
        let key = CodeKey::generate();
        let d = digest(&key, "signup", "pool1/alice", "123456");
        assert!(digest_matches(&d, &key, "signup", "pool1/alice", "123456"));
        assert!(!digest_matches(&d, &key, "signup", "pool1/alice", "123457"));
        assert!(!digest_matches(
            &d,
            &key,
            "forgot-password",
            "pool1/alice",
            "123456"
        ));
        assert!(!digest_matches(&d, &key, "signup", "pool1/bob", "123456"));
        assert!(!digest_matches(
            &d,
            &CodeKey::generate(),
            "signup",
            "pool1/alice",
            "123456"
        ));
        assert!(!digest_matches(
            &d[..31],
            &key,
            "signup",
            "pool1/alice",
            "123456"
        ));
        assert!(!digest_matches(
            &[],
            &key,
            "signup",
            "pool1/alice",
            "123456"
        ));
    }

    #[test]
    fn field_boundaries_cannot_be_shifted() {
        let key = CodeKey::from_bytes([1u8; 32]);
        let base = digest(&key, "ab", "c", "123456");
        assert_ne!(base, digest(&key, "a", "bc", "123456"));
        assert_ne!(
            digest(&key, "p", "u1", "23456"),
            digest(&key, "p", "u", "123456")
        );
        assert_ne!(digest(&key, "", "", ""), digest(&key, "", "", "\0"));
    }
}

/// RFC 7636: whether a PKCE `code_verifier` matches the `code_challenge` for its method
/// (`S256`: the unpadded base64url SHA-256 of the verifier; `plain`: the verifier itself),
/// compared in constant time. A verifier outside 43 to 128 unreserved characters never
/// matches, nor does an unknown method.
/// OpenID Connect's `at_hash` of an RS256-signed access token: the left half of its SHA-256,
/// base64url without padding (OIDC Core 3.1.3.6).
pub fn at_hash(access_token: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let digest = sha2::Sha256::digest(access_token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
}

pub fn pkce_matches(method: &str, challenge: &str, verifier: &str) -> bool {
    use base64::Engine;
    use sha2::Digest;
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    if !well_formed {
        return false;
    }
    let derived = match method {
        "S256" => base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sha2::Sha256::digest(verifier.as_bytes())),
        "plain" => verifier.to_string(),
        _ => return false,
    };
    digests_equal(derived.as_bytes(), challenge.as_bytes())
}

#[cfg(test)]
mod pkce_tests {
    use super::pkce_matches;

    #[test]
    fn rfc7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_matches("S256", challenge, verifier));
        assert!(!pkce_matches(
            "S256",
            challenge,
            &verifier.replace('d', "e")
        ));
        assert!(pkce_matches("plain", verifier, verifier));
        assert!(!pkce_matches("plain", "short", "short"));
        assert!(!pkce_matches("S384", challenge, verifier));
    }
}

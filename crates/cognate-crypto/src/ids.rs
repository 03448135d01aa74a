//! Identifiers must be unguessable (client secrets are credentials, and IDs and tokens must not
//! be enumerable) and must match the shapes clients validate or parse: SDKs split pool IDs at
//! `_` to find the region and the SRP pool name, so every value comes from the OS RNG in the
//! exact alphabet and length Cognito uses.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::distributions::{Alphanumeric, DistString as _};
use rand::rngs::OsRng;
use rand::{Rng as _, RngCore as _};

const LOWER_ALNUM: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// `<region>_` followed by 9 characters from `[A-Za-z0-9]` (e.g. `us-east-1_AbC123xYz`).
pub fn user_pool_id(region: &str) -> String {
    format!("{region}_{}", Alphanumeric.sample_string(&mut OsRng, 9))
}

/// An app-client ID: 26 characters from `[a-z0-9]`.
pub fn client_id() -> String {
    lower_alnum(26)
}

/// An app-client secret: 51 characters from `[a-z0-9]`.
pub fn client_secret() -> String {
    lower_alnum(51)
}

/// `bytes` random bytes as URL-safe Base64 without padding (for pagination and session tokens).
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// `bytes` random bytes as standard Base64 with padding (for values clients decode with a
/// strict standard decoder, such as SRP's `SECRET_BLOCK`).
pub fn random_standard_b64(bytes: usize) -> String {
    use base64::engine::general_purpose::STANDARD;
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    STANDARD.encode(buf)
}

/// A temporary password of `len` characters (at least 8): one lower-case letter, one
/// upper-case letter, one digit and one symbol, the rest from all four, shuffled, so that it
/// meets any pool's password policy of that length.
pub fn temporary_password(len: usize) -> String {
    const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const DIGITS: &[u8] = b"23456789";
    const SYMBOLS: &[u8] = b"!#$%&*+-.=?@^_";
    let pick = |set: &[u8]| set[OsRng.gen_range(0..set.len())];
    let all: Vec<u8> = [LOWER, UPPER, DIGITS, SYMBOLS].concat();
    let mut chars: Vec<u8> = vec![pick(LOWER), pick(UPPER), pick(DIGITS), pick(SYMBOLS)];
    while chars.len() < len.max(8) {
        chars.push(pick(&all));
    }
    // Fisher–Yates, so the four required classes are not always in front.
    for i in (1..chars.len()).rev() {
        chars.swap(i, OsRng.gen_range(0..=i));
    }
    chars.into_iter().map(char::from).collect()
}

fn lower_alnum(len: usize) -> String {
    // gen_range is uniform (rejection sampling), so every character is equally likely.
    (0..len)
        .map(|_| char::from(LOWER_ALNUM[OsRng.gen_range(0..LOWER_ALNUM.len())]))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn temporary_passwords_hold_every_class() {
        for len in [6, 8, 20] {
            let p = super::temporary_password(len);
            assert_eq!(p.len(), len.max(8));
            assert!(p.chars().any(|c| c.is_ascii_lowercase()));
            assert!(p.chars().any(|c| c.is_ascii_uppercase()));
            assert!(p.chars().any(|c| c.is_ascii_digit()));
            assert!(p.chars().any(|c| !c.is_ascii_alphanumeric()));
        }
        assert_ne!(super::temporary_password(12), super::temporary_password(12));
    }

    use super::*;
    use std::collections::HashSet;

    /// The model's `UserPoolIdType` pattern `[\w-]+_[0-9a-zA-Z]+`, length 1..=55, by hand.
    fn is_user_pool_id(s: &str) -> bool {
        let Some((region, suffix)) = s.split_once('_') else {
            return false;
        };
        // `[\w-]+` is greedy and `\w` includes `_`, but our regions contain no `_`, so the
        // first `_` is the separator.
        !region.is_empty()
            && region
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            && !suffix.is_empty()
            && suffix.chars().all(|c| c.is_ascii_alphanumeric())
            && s.len() <= 55
    }

    #[test]
    fn pool_ids_have_cognito_shape() {
        for region in ["us-east-1", "eu-west-2", "ap-southeast-2", "local"] {
            let id = user_pool_id(region);
            assert!(is_user_pool_id(&id), "{id}");
            let (r, suffix) = id.split_once('_').unwrap();
            assert_eq!(r, region);
            assert_eq!(suffix.len(), 9);
        }
    }

    #[test]
    fn pool_id_suffix_uses_full_alphabet() {
        let mut seen = HashSet::new();
        for _ in 0..500 {
            let id = user_pool_id("us-east-1");
            seen.extend(id["us-east-1_".len()..].chars());
        }
        assert!(seen.iter().any(char::is_ascii_uppercase));
        assert!(seen.iter().any(char::is_ascii_lowercase));
        assert!(seen.iter().any(char::is_ascii_digit));
        assert!(seen.len() > 55, "{}", seen.len());
    }

    #[test]
    fn client_ids_and_secrets() {
        let mut seen = HashSet::new();
        for _ in 0..200 {
            let id = client_id();
            let secret = client_secret();
            assert_eq!(id.len(), 26);
            assert_eq!(secret.len(), 51);
            for s in [&id, &secret] {
                assert!(
                    s.bytes()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
                    "{s}"
                );
                seen.extend(s.bytes());
            }
            assert_ne!(id, client_id());
            assert_ne!(secret, client_secret());
        }
        assert_eq!(seen.len(), 36);
    }

    #[test]
    fn tokens_are_url_safe_and_sized() {
        for bytes in [0, 1, 16, 32, 33, 64] {
            let token = random_token(bytes);
            assert_eq!(token.len(), (bytes * 4).div_ceil(3));
            assert!(token
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
            assert_eq!(URL_SAFE_NO_PAD.decode(&token).unwrap().len(), bytes);
        }
        assert_ne!(random_token(32), random_token(32));
    }
}

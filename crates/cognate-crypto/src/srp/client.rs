//! The client's side of `USER_SRP_AUTH` (BEHAV §g), as Amplify computes it: `SRP_A` for
//! `InitiateAuth`, then the `PASSWORD_CLAIM_SIGNATURE` answering the `PASSWORD_VERIFIER`
//! challenge. For load generators and tests that need a real SRP client in Rust; the server
//! never calls it. Pure computation: the caller sends the values and supplies `TIMESTAMP`
//! (render it with [`super::format_timestamp`]).
//!
//! ```text
//! A = g^a                      u = H(PAD(A) ‖ PAD(B))
//! x = H(PAD(salt) ‖ H(poolName ‖ USER_ID_FOR_SRP ‖ ":" ‖ password))
//! S = (B − k·g^x)^(a + u·x)    K = HKDF(salt = PAD(u), ikm = PAD(S), "Caldera Derived Key")
//! signature = HMAC(K, poolName ‖ USER_ID_FOR_SRP ‖ Base64Decode(SECRET_BLOCK) ‖ TIMESTAMP)
//! ```

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use num_bigint::BigUint;
use num_traits::Zero;
use rand::rngs::OsRng;
use rand::RngCore;

use super::{claim_signature, compute_x, g_pow, pad_bytes, parse_hex, session_key, sha256, K, N};
use crate::CryptoError;

/// Size of a freshly drawn private `a`. Amplify and pycognito draw 128 bytes; 32 bytes (the
/// size of the server's `b`) is as sound in this safe-prime group and makes `A = g^a` one
/// table walk instead of a 1024-bit exponentiation, which matters to a load generator.
pub const EPHEMERAL_BYTES: usize = 32;

/// One sign-in attempt's ephemeral pair: the private `a` and `A = g^a mod N`.
#[derive(Clone)]
pub struct SrpClient {
    a: BigUint,
    srp_a: String,
}

impl std::fmt::Debug for SrpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `a` is the attempt's secret.
        f.debug_struct("SrpClient")
            .field("srp_a", &self.srp_a)
            .finish_non_exhaustive()
    }
}

/// What the password contributes, derived once per user and salt: the pool name and
/// `USER_ID_FOR_SRP` it was derived for, `x`, and `k·g^x mod N`.
#[derive(Clone)]
pub struct PasswordKey {
    pool_name: String,
    user_id_for_srp: String,
    x: BigUint,
    k_g_x: BigUint,
}

impl std::fmt::Debug for PasswordKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `x` is as good as the password.
        f.debug_struct("PasswordKey")
            .field("pool_name", &self.pool_name)
            .field("user_id_for_srp", &self.user_id_for_srp)
            .finish_non_exhaustive()
    }
}

impl PasswordKey {
    /// `x` and `k·g^x` for a password, from the challenge's `SALT` (hex) and
    /// `USER_ID_FOR_SRP`. The salt is read as an integer and hashed as `PAD(salt)`, as Amplify
    /// does (pycognito hashes the string as sent; the two agree on the canonical `PAD()` form
    /// Cognito and Cognate emit).
    pub fn derive(
        pool_name: &str,
        user_id_for_srp: &str,
        password: &str,
        salt_hex: &str,
    ) -> Result<Self, CryptoError> {
        let salt = parse_hex(salt_hex, "SALT")?;
        let x = compute_x(pool_name, user_id_for_srp, password, &salt);
        let k_g_x = &*K * g_pow(&x) % &*N;
        Ok(Self {
            pool_name: pool_name.to_string(),
            user_id_for_srp: user_id_for_srp.to_string(),
            x,
            k_g_x,
        })
    }

    pub fn pool_name(&self) -> &str {
        &self.pool_name
    }

    pub fn user_id_for_srp(&self) -> &str {
        &self.user_id_for_srp
    }
}

impl SrpClient {
    /// A fresh random `a` of [`EPHEMERAL_BYTES`] bytes.
    pub fn generate() -> Self {
        loop {
            let mut bytes = [0u8; EPHEMERAL_BYTES];
            OsRng.fill_bytes(&mut bytes);
            // Only an all-zero draw fails.
            if let Ok(client) = Self::from_private(&bytes) {
                return client;
            }
        }
    }

    /// A given private `a` (big-endian bytes, any length): deterministic, for tests and
    /// vectors. Errors if `a` is zero.
    pub fn from_private(a_be: &[u8]) -> Result<Self, CryptoError> {
        let a = BigUint::from_bytes_be(a_be);
        if a.is_zero() {
            return Err(CryptoError::IllegalSrpParameter("a is zero"));
        }
        let big_a = g_pow(&a);
        Ok(Self {
            a,
            // Lowercase hex without leading zeros, as Amplify and pycognito send it.
            srp_a: big_a.to_str_radix(16),
        })
    }

    /// `SRP_A` for `InitiateAuth`.
    pub fn srp_a(&self) -> &str {
        &self.srp_a
    }

    /// `PASSWORD_CLAIM_SIGNATURE` (standard Base64) for the challenge's `SRP_B` and
    /// `SECRET_BLOCK` and the `TIMESTAMP` string the response will carry.
    ///
    /// Errors, as Amplify aborts, if `SRP_B` is not hex or is ≡ 0 mod N, if `u` is zero, or if
    /// the secret block is not standard Base64.
    pub fn password_claim(
        &self,
        key: &PasswordKey,
        srp_b_hex: &str,
        secret_block_b64: &str,
        timestamp: &str,
    ) -> Result<String, CryptoError> {
        let big_b = parse_hex(srp_b_hex, "SRP_B")? % &*N;
        if big_b.is_zero() {
            return Err(CryptoError::IllegalSrpParameter("B mod N is zero"));
        }
        let big_a = parse_hex(&self.srp_a, "SRP_A")?;
        let u = BigUint::from_bytes_be(&sha256(&[&pad_bytes(&big_a), &pad_bytes(&big_b)]));
        if u.is_zero() {
            return Err(CryptoError::IllegalSrpParameter("u is zero"));
        }
        let secret_block = STANDARD
            .decode(secret_block_b64)
            .map_err(|_| CryptoError::InvalidBase64("SECRET_BLOCK"))?;
        // B − k·g^x, kept non-negative.
        let base = (big_b + &*N - &key.k_g_x) % &*N;
        let s = base.modpow(&(&self.a + &u * &key.x), &N);
        let (_, session) = session_key(&u, &s);
        let signature = claim_signature(
            &session,
            &key.pool_name,
            &key.user_id_for_srp,
            &secret_block,
            timestamp,
        );
        Ok(STANDARD.encode(signature))
    }
}

#[cfg(test)]
mod tests {
    use super::super::vectors::VECTORS;
    use super::super::{
        compute_verifier, format_timestamp, server_ephemeral, verify_password_claim,
    };
    use super::*;

    #[test]
    fn reproduces_the_vectors() {
        for v in &VECTORS {
            let a = hex::decode(v.a).unwrap();
            let client = SrpClient::from_private(&a).unwrap();
            assert_eq!(client.srp_a(), v.srp_a, "{}", v.name);
            // The SALT exactly as the vector's server emitted it.
            let key =
                PasswordKey::derive(v.pool_name, v.user_id_for_srp, v.password, v.salt_emitted)
                    .unwrap();
            assert_eq!(key.x, parse_hex(v.x, "x").unwrap(), "{}", v.name);
            let timestamp = format_timestamp(v.clock_unix);
            assert_eq!(timestamp, v.timestamp, "{}", v.name);
            let sig = client
                .password_claim(&key, v.pad_b, v.secret_block, &timestamp)
                .unwrap();
            assert_eq!(sig, v.signature, "{}", v.name);
        }
    }

    #[test]
    fn the_server_accepts_its_claims() {
        let pool = "AbCdEfGhI";
        let user = "7d3e2a10-5b4c-4f1e-9a8b-0c1d2e3f4a5b";
        let password = "Correct-Horse-9 ünïcødé";
        let stored = compute_verifier(pool, user, password);
        for _ in 0..3 {
            let client = SrpClient::generate();
            let (b, srp_b) = server_ephemeral(&stored.verifier_hex, None).unwrap();
            let block = STANDARD.encode([7u8; 48]);
            let timestamp = format_timestamp(1_767_225_600);
            let key = PasswordKey::derive(pool, user, password, &stored.salt_hex).unwrap();
            let sig = client
                .password_claim(&key, &srp_b, &block, &timestamp)
                .unwrap();
            let check = |sig: &str| {
                verify_password_claim(
                    pool,
                    user,
                    &stored.verifier_hex,
                    &b,
                    client.srp_a(),
                    &block,
                    &timestamp,
                    sig,
                )
            };
            assert_eq!(check(&sig), Ok(true));

            let wrong = PasswordKey::derive(pool, user, "correct-horse", &stored.salt_hex).unwrap();
            let bad = client
                .password_claim(&wrong, &srp_b, &block, &timestamp)
                .unwrap();
            assert_eq!(check(&bad), Ok(false));
        }
    }

    #[test]
    fn refuses_what_amplify_refuses() {
        let client = SrpClient::generate();
        let key = PasswordKey::derive("p", "u", "pw", "0a").unwrap();
        let block = STANDARD.encode([1u8; 48]);
        let n_hex = N.to_str_radix(16);
        for zero in ["0", "00", n_hex.as_str()] {
            assert!(matches!(
                client.password_claim(&key, zero, &block, "t"),
                Err(CryptoError::IllegalSrpParameter(_))
            ));
        }
        assert_eq!(
            client.password_claim(&key, "xyz", &block, "t").unwrap_err(),
            CryptoError::InvalidHex("SRP_B")
        );
        assert_eq!(
            client.password_claim(&key, "1234", "***", "t").unwrap_err(),
            CryptoError::InvalidBase64("SECRET_BLOCK")
        );
        assert!(SrpClient::from_private(&[0, 0]).is_err());
        assert_eq!(
            PasswordKey::derive("p", "u", "pw", "").unwrap_err(),
            CryptoError::InvalidHex("SALT")
        );
        // Fresh attempts differ; a is 256 bits, so A = g^a goes through the table.
        assert_ne!(SrpClient::generate().srp_a(), client.srp_a());
        assert!(!format!("{client:?}").contains(&client.a.to_str_radix(16)));
    }
}

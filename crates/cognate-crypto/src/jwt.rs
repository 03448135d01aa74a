//! RS256 JSON Web Tokens as Cognito issues them: the header is exactly
//! `{"kid":"<id>","alg":"RS256"}`, the signature RSASSA-PKCS1-v1_5 with SHA-256 over
//! `base64url(header).base64url(claims)`, and the public keys are published as a JWKS
//! (`{"kid","alg":"RS256","kty":"RSA","e","n","use":"sig"}`).
//!
//! Verification here checks only the form and the signature (and refuses every `alg` but
//! RS256, `none` included); what the claims must say (issuer, expiry, `token_use`) is the
//! caller's rule.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::{json, Map, Value};
use sha2::Sha256;

use crate::CryptoError;

/// Bits of a generated key (AWS's pool keys are 2048-bit).
pub const KEY_BITS: usize = 2048;

/// A private signing key with its key id.
#[derive(Clone)]
pub struct PrivateKey {
    kid: String,
    key: RsaPrivateKey,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey({}, <redacted>)", self.kid)
    }
}

/// A public key as published in a JWKS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    kid: String,
    key: RsaPublicKey,
}

impl PrivateKey {
    pub fn generate(kid: impl Into<String>) -> Result<Self, CryptoError> {
        let key = RsaPrivateKey::new(&mut rand::thread_rng(), KEY_BITS)
            .map_err(|e| CryptoError::Key(e.to_string()))?;
        Ok(PrivateKey {
            kid: kid.into(),
            key,
        })
    }

    /// The key from its PKCS#8 DER form (as stored).
    pub fn from_pkcs8_der(kid: impl Into<String>, der: &[u8]) -> Result<Self, CryptoError> {
        let key =
            RsaPrivateKey::from_pkcs8_der(der).map_err(|e| CryptoError::Key(e.to_string()))?;
        Ok(PrivateKey {
            kid: kid.into(),
            key,
        })
    }

    /// PKCS#8 DER, for storage. Handle as a secret.
    pub fn to_pkcs8_der(&self) -> Result<Vec<u8>, CryptoError> {
        Ok(self
            .key
            .to_pkcs8_der()
            .map_err(|e| CryptoError::Key(e.to_string()))?
            .as_bytes()
            .to_vec())
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn public(&self) -> PublicKey {
        PublicKey {
            kid: self.kid.clone(),
            key: self.key.to_public_key(),
        }
    }

    /// A signed token with these claims (a JSON object).
    pub fn sign(&self, claims: &Map<String, Value>) -> String {
        let header = json!({"kid": self.kid, "alg": "RS256"});
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(Value::Object(claims.clone()).to_string())
        );
        let signer = SigningKey::<Sha256>::new(self.key.clone());
        let signature = signer.sign(signing_input.as_bytes()).to_bytes();
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

impl PublicKey {
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The JWKS entry.
    pub fn jwk(&self) -> Value {
        json!({
            "kid": self.kid,
            "alg": "RS256",
            "kty": "RSA",
            "e": URL_SAFE_NO_PAD.encode(self.key.e().to_bytes_be()),
            "n": URL_SAFE_NO_PAD.encode(self.key.n().to_bytes_be()),
            "use": "sig",
        })
    }

    /// The key from its modulus and exponent (big-endian bytes); tests rebuild a key from a
    /// JWKS entry with it.
    #[cfg(test)]
    fn from_components(kid: impl Into<String>, n: &[u8], e: &[u8]) -> Result<Self, CryptoError> {
        let key = RsaPublicKey::new(
            rsa::BigUint::from_bytes_be(n),
            rsa::BigUint::from_bytes_be(e),
        )
        .map_err(|e| CryptoError::Key(e.to_string()))?;
        Ok(PublicKey {
            kid: kid.into(),
            key,
        })
    }

    #[cfg(test)]
    fn exponent(&self) -> Vec<u8> {
        self.key.e().to_bytes_be()
    }
}

/// Why a token was refused before its claims were looked at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("not a compact JWS")]
    Malformed,
    #[error("algorithm is not RS256")]
    Algorithm,
    #[error("unknown key id")]
    UnknownKey,
    #[error("bad signature")]
    Signature,
}

/// The key id a token names in its header, if it has the form of a token.
pub fn key_id(token: &str) -> Result<String, TokenError> {
    let header = token.split('.').next().ok_or(TokenError::Malformed)?;
    let header: Value = decode_json(header)?;
    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(TokenError::Algorithm);
    }
    header
        .get("kid")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or(TokenError::Malformed)
}

/// The claims of a token signed by `key` (whose kid the header must name), else why not.
pub fn verify(token: &str, key: &PublicKey) -> Result<Map<String, Value>, TokenError> {
    let mut parts = token.split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    if key_id(token)? != key.kid {
        return Err(TokenError::UnknownKey);
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| TokenError::Malformed)?;
    let signature = Signature::try_from(signature.as_slice()).map_err(|_| TokenError::Signature)?;
    let verifier = VerifyingKey::<Sha256>::new(key.key.clone());
    verifier
        .verify(format!("{header}.{claims}").as_bytes(), &signature)
        .map_err(|_| TokenError::Signature)?;
    match decode_json(claims)? {
        Value::Object(map) => Ok(map),
        _ => Err(TokenError::Malformed),
    }
}

fn decode_json(part: &str) -> Result<Value, TokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    fn key() -> &'static PrivateKey {
        static KEY: OnceLock<PrivateKey> = OnceLock::new();
        KEY.get_or_init(|| PrivateKey::generate("k1").unwrap())
    }

    fn claims() -> Map<String, Value> {
        match json!({"sub": "abc", "token_use": "access", "exp": 2_000_000_000}) {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn a_signed_token_verifies_and_has_cognitos_header() {
        let token = key().sign(&claims());
        let header = token.split('.').next().unwrap();
        assert_eq!(
            String::from_utf8(URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap(),
            r#"{"alg":"RS256","kid":"k1"}"#
        );
        assert_eq!(verify(&token, &key().public()).unwrap(), claims());
    }

    #[test]
    fn tampered_foreign_and_unsigned_tokens_are_refused() {
        let token = key().sign(&claims());
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(r#"{"sub":"someone-else"}"#);
        parts[1] = &forged;
        assert_eq!(
            verify(&parts.join("."), &key().public()),
            Err(TokenError::Signature)
        );
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"k1"}"#),
            URL_SAFE_NO_PAD.encode(r#"{"sub":"x"}"#)
        );
        assert_eq!(verify(&none, &key().public()), Err(TokenError::Algorithm));
        let other = PrivateKey::generate("k1").unwrap();
        assert_eq!(
            verify(&other.sign(&claims()), &key().public()),
            Err(TokenError::Signature)
        );
        let renamed = PrivateKey::from_pkcs8_der("k2", &key().to_pkcs8_der().unwrap()).unwrap();
        assert_eq!(
            verify(&renamed.sign(&claims()), &key().public()),
            Err(TokenError::UnknownKey)
        );
        assert_eq!(verify("a.b", &key().public()), Err(TokenError::Malformed));
        assert_eq!(verify("", &key().public()), Err(TokenError::Malformed));
    }

    #[test]
    fn jwk_round_trips_the_public_key() {
        let public = key().public();
        let jwk = public.jwk();
        assert_eq!(jwk["e"], "AQAB");
        assert_eq!(jwk["kty"], "RSA");
        assert_eq!(jwk["use"], "sig");
        let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
        assert_eq!(n.len(), KEY_BITS / 8);
        let again = PublicKey::from_components("k1", &n, &public.exponent()).unwrap();
        assert_eq!(again, public);
    }

    #[test]
    fn debug_hides_the_private_key() {
        assert_eq!(format!("{:?}", key()), "PrivateKey(k1, <redacted>)");
    }
}

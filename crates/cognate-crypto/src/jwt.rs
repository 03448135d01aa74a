//! RS256 JSON Web Tokens as Cognito issues them: the header is exactly
//! `{"kid":"<id>","alg":"RS256"}`, the signature RSASSA-PKCS1-v1_5 with SHA-256 over
//! `base64url(header).base64url(claims)`, and the public keys are published as a JWKS
//! (`{"kid","alg":"RS256","kty":"RSA","e","n","use":"sig"}`).
//!
//! Verification here checks only the form and the signature (and refuses every `alg` but
//! RS256, `none` included); what the claims must say (issuer, expiry, `token_use`) is the
//! caller's rule.

use std::sync::Arc;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{
    KeyPair as _, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};

use crate::CryptoError;

/// Bits of a generated key (AWS's pool keys are 2048-bit).
pub const KEY_BITS: usize = 2048;

/// A private signing key with its key id. The RSA work is aws-lc's: it signs RSA-2048 in
/// about a third of the time of the pure-Rust `rsa` crate and verifies about ten times
/// faster (BENCHMARKS.md, session 8), and it is already linked for rustls.
#[derive(Clone)]
pub struct PrivateKey {
    kid: String,
    key: Arc<KeyPair>,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey({}, <redacted>)", self.kid)
    }
}

/// A public key as published in a JWKS, parsed once for verification.
#[derive(Clone)]
pub struct PublicKey {
    kid: String,
    /// Big-endian, without leading zeros (as a JWK carries them).
    n: Vec<u8>,
    e: Vec<u8>,
    parsed: Arc<ParsedPublicKey>,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.kid)
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.kid == other.kid && self.n == other.n && self.e == other.e
    }
}

impl Eq for PublicKey {}

impl PrivateKey {
    pub fn generate(kid: impl Into<String>) -> Result<Self, CryptoError> {
        let key = KeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| CryptoError::Key("RSA key generation failed".into()))?;
        Ok(PrivateKey {
            kid: kid.into(),
            key: Arc::new(key),
        })
    }

    /// The key from its PKCS#8 DER form (as stored).
    pub fn from_pkcs8_der(kid: impl Into<String>, der: &[u8]) -> Result<Self, CryptoError> {
        let key = KeyPair::from_pkcs8(der).map_err(|e| CryptoError::Key(e.to_string()))?;
        Ok(PrivateKey {
            kid: kid.into(),
            key: Arc::new(key),
        })
    }

    /// PKCS#8 DER, for storage. Handle as a secret.
    pub fn to_pkcs8_der(&self) -> Result<Vec<u8>, CryptoError> {
        let der: Pkcs8V1Der<'static> = self
            .key
            .as_der()
            .map_err(|_| CryptoError::Key("PKCS#8 encoding failed".into()))?;
        Ok(der.as_ref().to_vec())
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn public(&self) -> Result<PublicKey, CryptoError> {
        let components = PublicKeyComponents::<Vec<u8>>::from(self.key.public_key());
        PublicKey::from_components(self.kid.clone(), &components.n, &components.e)
    }

    /// A signed token with these claims (a JSON object).
    pub fn sign(&self, claims: &Map<String, Value>) -> Result<String, CryptoError> {
        let header = json!({"kid": self.kid, "alg": "RS256"});
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(Value::Object(claims.clone()).to_string())
        );
        let mut signature = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| CryptoError::Key("RSA signing failed".into()))?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }
}

impl PublicKey {
    /// The key from its modulus and exponent (big-endian bytes, as in a JWK).
    pub fn from_components(
        kid: impl Into<String>,
        n: &[u8],
        e: &[u8],
    ) -> Result<Self, CryptoError> {
        let parsed = PublicKeyComponents { n, e }
            .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
            .map_err(|e| CryptoError::Key(e.to_string()))?;
        Ok(PublicKey {
            kid: kid.into(),
            n: n.to_vec(),
            e: e.to_vec(),
            parsed: Arc::new(parsed),
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The JWKS entry.
    pub fn jwk(&self) -> Value {
        json!({
            "kid": self.kid,
            "alg": "RS256",
            "kty": "RSA",
            "e": URL_SAFE_NO_PAD.encode(&self.e),
            "n": URL_SAFE_NO_PAD.encode(&self.n),
            "use": "sig",
        })
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
    key.parsed
        .verify_sig(format!("{header}.{claims}").as_bytes(), &signature)
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
        let token = key().sign(&claims()).unwrap();
        let header = token.split('.').next().unwrap();
        assert_eq!(
            String::from_utf8(URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap(),
            r#"{"alg":"RS256","kid":"k1"}"#
        );
        assert_eq!(verify(&token, &key().public().unwrap()).unwrap(), claims());
    }

    #[test]
    fn tampered_foreign_and_unsigned_tokens_are_refused() {
        let token = key().sign(&claims()).unwrap();
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(r#"{"sub":"someone-else"}"#);
        parts[1] = &forged;
        assert_eq!(
            verify(&parts.join("."), &key().public().unwrap()),
            Err(TokenError::Signature)
        );
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"k1"}"#),
            URL_SAFE_NO_PAD.encode(r#"{"sub":"x"}"#)
        );
        assert_eq!(
            verify(&none, &key().public().unwrap()),
            Err(TokenError::Algorithm)
        );
        let other = PrivateKey::generate("k1").unwrap();
        assert_eq!(
            verify(&other.sign(&claims()).unwrap(), &key().public().unwrap()),
            Err(TokenError::Signature)
        );
        let renamed = PrivateKey::from_pkcs8_der("k2", &key().to_pkcs8_der().unwrap()).unwrap();
        assert_eq!(
            verify(&renamed.sign(&claims()).unwrap(), &key().public().unwrap()),
            Err(TokenError::UnknownKey)
        );
        assert_eq!(
            verify("a.b", &key().public().unwrap()),
            Err(TokenError::Malformed)
        );
        assert_eq!(
            verify("", &key().public().unwrap()),
            Err(TokenError::Malformed)
        );
    }

    #[test]
    fn jwk_round_trips_the_public_key() {
        let public = key().public().unwrap();
        let jwk = public.jwk();
        assert_eq!(jwk["e"], "AQAB");
        assert_eq!(jwk["kty"], "RSA");
        assert_eq!(jwk["use"], "sig");
        let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
        let e = URL_SAFE_NO_PAD.decode(jwk["e"].as_str().unwrap()).unwrap();
        assert_eq!(n.len(), KEY_BITS / 8);
        // A verifier that knows only the JWKS entry accepts the key's tokens.
        let again = PublicKey::from_components("k1", &n, &e).unwrap();
        assert_eq!(again, public);
        let token = key().sign(&claims()).unwrap();
        assert_eq!(verify(&token, &again).unwrap(), claims());
    }

    #[test]
    fn debug_hides_the_private_key() {
        assert_eq!(format!("{:?}", key()), "PrivateKey(k1, <redacted>)");
    }
}

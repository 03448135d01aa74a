//! Cognito's `USER_SRP_AUTH` lets a client prove it knows the password without sending it.
//! The protocol is SRP-6a with Cognito-specific choices (3072-bit group, `k` over an unpadded
//! `g`, two's-complement `PAD()` hex, an HKDF step and a signed timestamp) that real clients
//! (Amplify, pycognito and the mobile SDKs) hard-code, so every detail here must match them
//! bit for bit; see `cognito-behaviour.md` §g and the SRP test vectors.

pub mod client;
mod timestamp;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod vectors;

use std::sync::LazyLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use num_bigint::BigUint;
use num_traits::{One, Zero};
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::mac::hmac_sha256;
use crate::CryptoError;

pub use timestamp::{format_timestamp, parse_timestamp};

/// RFC 3526 group 15 (3072-bit MODP) prime.
const N_HEX: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05",
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718",
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33",
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864",
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2",
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
);

/// Decoded at compile time: a typo in [`N_HEX`] is a build error, not a runtime panic.
const N_BYTES: [u8; 384] = decode_hex_const(N_HEX);

/// The group modulus N (3072 bits).
pub static N: LazyLock<BigUint> = LazyLock::new(|| BigUint::from_bytes_be(&N_BYTES));

/// The generator g = 2.
pub static G: LazyLock<BigUint> = LazyLock::new(|| BigUint::from(2u32));

/// Bits per digit of the fixed-base exponentiation table.
const WINDOW_BITS: usize = 4;
/// Digits covered by the table: exponents up to 256 bits (`x` is a SHA-256, `b` 32 bytes).
const WINDOWS: usize = 256 / WINDOW_BITS;

/// `G_POWERS[i][d] = g^(d · 16^i) mod N`: with it, `g^e` for a 256-bit `e` takes one modular
/// multiplication per non-zero hex digit of `e` (≤ 64) instead of ~256 squarings plus
/// multiplications. Built once (about a thousand multiplications, a few ms); 384 KiB.
static G_POWERS: LazyLock<Vec<Vec<BigUint>>> = LazyLock::new(|| {
    let mut table = Vec::with_capacity(WINDOWS);
    let mut base = G.clone();
    for _ in 0..WINDOWS {
        let mut row = Vec::with_capacity(1 << WINDOW_BITS);
        row.push(BigUint::from(1u32));
        for d in 1..(1usize << WINDOW_BITS) {
            let next = &row[d - 1] * &base % &*N;
            row.push(next);
        }
        base = &row[(1 << WINDOW_BITS) - 1] * &base % &*N;
        table.push(row);
    }
    table
});

/// `g^e mod N`, through `G_POWERS` when `e` fits in 256 bits.
fn g_pow(e: &BigUint) -> BigUint {
    if e.bits() > (WINDOWS * WINDOW_BITS) as u64 {
        return G.modpow(e, &N);
    }
    let mut acc = BigUint::from(1u32);
    // Little-endian bytes: each holds two digits, low nibble first.
    for (i, byte) in e.to_bytes_le().iter().enumerate() {
        for (half, digit) in [(0, byte & 0x0f), (1, byte >> 4)] {
            if digit != 0 {
                acc = acc * &G_POWERS[2 * i + half][usize::from(digit)] % &*N;
            }
        }
    }
    acc
}

/// The multiplier k = H(PAD(N) ‖ PAD(g)) (g is *not* padded to the width of N).
pub static K: LazyLock<BigUint> =
    LazyLock::new(|| BigUint::from_bytes_be(&sha256(&[&pad_bytes(&N), &pad_bytes(&G)])));

/// Size of the server's private ephemeral `b` when generated here. 256 bits matches the
/// ~128-bit strength of the 3072-bit group (short exponents are sound in a safe-prime group).
const EPHEMERAL_BYTES: usize = 32;

/// Size of a freshly generated salt.
const SALT_BYTES: usize = 16;

/// What the server stores for an SRP-capable password: salt and verifier `v = g^x mod N`,
/// both as lowercase `PAD()` hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifier {
    /// `PAD(salt)`: the form to emit as `SALT`, on which pycognito and Amplify agree.
    pub salt_hex: String,
    /// `PAD(v)`.
    pub verifier_hex: String,
}

/// Cognito's `PAD()`: lowercase hex of the integer, a `0` prepended if the length is odd, then
/// `00` prepended if the first nibble is 8–f (so the value never reads as negative). Not padded
/// to a fixed width.
pub fn pad_hex(n: &BigUint) -> String {
    hex::encode(pad_bytes(n))
}

/// `PAD()` as bytes: big-endian magnitude, with a `0x00` byte prepended when the top bit is set.
fn pad_bytes(n: &BigUint) -> Vec<u8> {
    let mut bytes = n.to_bytes_be(); // `[0]` for zero
    if bytes.first().is_some_and(|b| b & 0x80 != 0) {
        bytes.insert(0, 0);
    }
    bytes
}

/// The pool name used in SRP: the part of the pool ID after the first `_`
/// (`us-east-1_AbC123` → `AbC123`). An ID without `_` is returned unchanged.
pub fn pool_name(pool_id: &str) -> &str {
    pool_id.split_once('_').map_or(pool_id, |(_, name)| name)
}

/// Salt and verifier for a new password, with a fresh random 16-byte salt.
pub fn compute_verifier(pool_name: &str, user_id_for_srp: &str, password: &str) -> Verifier {
    let mut salt = [0u8; SALT_BYTES];
    OsRng.fill_bytes(&mut salt);
    compute_verifier_with_salt(
        pool_name,
        user_id_for_srp,
        password,
        &BigUint::from_bytes_be(&salt),
    )
}

/// Salt and verifier for a password with a given salt (deterministic; for tests and imports).
pub fn compute_verifier_with_salt(
    pool_name: &str,
    user_id_for_srp: &str,
    password: &str,
    salt: &BigUint,
) -> Verifier {
    let x = compute_x(pool_name, user_id_for_srp, password, salt);
    Verifier {
        salt_hex: pad_hex(salt),
        verifier_hex: pad_hex(&g_pow(&x)),
    }
}

/// `x = H(PAD(salt) ‖ H(poolName ‖ userIdForSrp ‖ ":" ‖ password))`.
fn compute_x(pool_name: &str, user_id_for_srp: &str, password: &str, salt: &BigUint) -> BigUint {
    let inner = inner_hash(pool_name, user_id_for_srp, password);
    BigUint::from_bytes_be(&sha256(&[&pad_bytes(salt), &inner]))
}

fn inner_hash(pool_name: &str, user_id_for_srp: &str, password: &str) -> [u8; 32] {
    sha256(&[
        pool_name.as_bytes(),
        user_id_for_srp.as_bytes(),
        b":",
        password.as_bytes(),
    ])
}

/// The server's ephemeral pair for `InitiateAuth`: returns the private `b` (keep it, e.g. in
/// the secret block) and `PAD(B)` hex to emit as `SRP_B`, where `B = (k·v + g^b) mod N`.
///
/// With `b = None` a random 256-bit `b` is drawn from the OS RNG. Errors if the verifier is not
/// hex or is ≡ 0 mod N, or if a supplied `b` is zero or yields B ≡ 0 mod N.
pub fn server_ephemeral(
    verifier_hex: &str,
    b: Option<&BigUint>,
) -> Result<(BigUint, String), CryptoError> {
    let v = parse_verifier(verifier_hex)?;
    match b {
        Some(b) => {
            let big_b = public_b(&v, b)?;
            Ok((b.clone(), pad_hex(&big_b)))
        }
        None => loop {
            let mut bytes = [0u8; EPHEMERAL_BYTES];
            OsRng.fill_bytes(&mut bytes);
            let b = BigUint::from_bytes_be(&bytes);
            // Zero b or B ≡ 0 mod N happen with negligible probability; draw again.
            if let Ok(big_b) = public_b(&v, &b) {
                return Ok((b, pad_hex(&big_b)));
            }
        },
    }
}

/// Checks a `PASSWORD_VERIFIER` response.
///
/// Recomputes `B` from `v` and `b`, then `u = H(PAD(A) ‖ PAD(B))`, `S = (A·v^u)^b mod N`, the
/// HKDF key `K`, and `HMAC(K, poolName ‖ userIdForSrp ‖ Base64Decode(secretBlock) ‖ timestamp)`
/// over the timestamp string exactly as received, and compares it in constant time with the
/// claimed signature.
///
/// `Ok(false)` means a well-formed but wrong proof (including a signature that is not valid
/// Base64). `Err` means the inputs were unusable: non-hex `SRP_A` or verifier, `A ≡ 0 mod N` or
/// `A ≥ N` (no honest client sends either), `u = 0`, `b = 0`, or a secret block that is not
/// standard Base64. Callers should answer both with `NotAuthorizedException`. Freshness of
/// `timestamp` is not checked here; see [`parse_timestamp`].
#[allow(clippy::too_many_arguments)] // the protocol's inputs, named as on the wire
pub fn verify_password_claim(
    pool_name: &str,
    user_id_for_srp: &str,
    verifier_hex: &str,
    b: &BigUint,
    srp_a_hex: &str,
    secret_block_b64: &str,
    timestamp: &str,
    claimed_signature_b64: &str,
) -> Result<bool, CryptoError> {
    let a = parse_client_a(srp_a_hex)?;
    let v = parse_verifier(verifier_hex)?;
    let session = derive_session(&v, b, &a)?;
    let secret_block = STANDARD
        .decode(secret_block_b64)
        .map_err(|_| CryptoError::InvalidBase64("PASSWORD_CLAIM_SECRET_BLOCK"))?;
    let expected = claim_signature(
        &session.key,
        pool_name,
        user_id_for_srp,
        &secret_block,
        timestamp,
    );
    let Ok(claimed) = STANDARD.decode(claimed_signature_b64) else {
        return Ok(false);
    };
    Ok(expected.as_slice().ct_eq(&claimed).into())
}

/// Everything the server derives for one login attempt (kept together so tests can compare the
/// intermediate values with the vectors; only `key` is needed outside tests).
#[cfg_attr(not(test), allow(dead_code))]
struct Session {
    big_b: BigUint,
    u: BigUint,
    s: BigUint,
    prk: [u8; 32],
    key: [u8; 16],
}

fn derive_session(v: &BigUint, b: &BigUint, a: &BigUint) -> Result<Session, CryptoError> {
    let big_b = public_b(v, b)?;
    let u = BigUint::from_bytes_be(&sha256(&[&pad_bytes(a), &pad_bytes(&big_b)]));
    if u.is_zero() {
        return Err(CryptoError::IllegalSrpParameter("u is zero"));
    }
    let s = (a * v.modpow(&u, &N) % &*N).modpow(b, &N);
    let (prk, key) = session_key(&u, &s);
    Ok(Session {
        big_b,
        u,
        s,
        prk,
        key,
    })
}

/// The HKDF step (RFC 5869, SHA-256, one block): `PRK = HMAC(PAD(u), PAD(S))` and the
/// 16-byte key `HMAC(PRK, "Caldera Derived Key" ‖ 0x01)[..16]`.
fn session_key(u: &BigUint, s: &BigUint) -> ([u8; 32], [u8; 16]) {
    let prk = hmac_sha256(&pad_bytes(u), &[&pad_bytes(s)]);
    let okm = hmac_sha256(&prk, &[b"Caldera Derived Key", &[1u8]]);
    let mut key = [0u8; 16];
    key.copy_from_slice(&okm[..16]);
    (prk, key)
}

fn claim_signature(
    key: &[u8; 16],
    pool_name: &str,
    user_id_for_srp: &str,
    secret_block: &[u8],
    timestamp: &str,
) -> [u8; 32] {
    hmac_sha256(
        key,
        &[
            pool_name.as_bytes(),
            user_id_for_srp.as_bytes(),
            secret_block,
            timestamp.as_bytes(),
        ],
    )
}

/// `B = (k·v + g^b) mod N`.
fn public_b(v: &BigUint, b: &BigUint) -> Result<BigUint, CryptoError> {
    if b.is_zero() {
        return Err(CryptoError::IllegalSrpParameter("b is zero"));
    }
    let big_b = (&*K * v + g_pow(b)) % &*N;
    if big_b.is_zero() {
        return Err(CryptoError::IllegalSrpParameter("B mod N is zero"));
    }
    Ok(big_b)
}

/// Checks a client's `SRP_A` before a challenge is issued for it: hex, below N, not zero.
pub fn check_client_a(srp_a_hex: &str) -> Result<(), CryptoError> {
    parse_client_a(srp_a_hex).map(|_| ())
}

/// `b` as hex, to keep between the two SRP steps, and back.
pub fn ephemeral_to_hex(b: &BigUint) -> String {
    b.to_str_radix(16)
}

pub fn ephemeral_from_hex(hex: &str) -> Result<BigUint, CryptoError> {
    parse_hex(hex, "b")
}

/// A salt and verifier for a user who does not exist, so that a client hiding existence can
/// answer a PASSWORD_VERIFIER challenge for any name (the salt is the caller's, stable per
/// name). The verifier is a random number below N rather than `g^x` of a random password:
/// no proof matches either way (nobody knows its discrete logarithm), and skipping that
/// exponentiation keeps step one as costly for a missing user as for a real one, whose
/// verifier is stored.
pub fn simulated_verifier(salt: &[u8]) -> Verifier {
    let mut bytes = [0u8; N_BYTES.len()];
    OsRng.fill_bytes(&mut bytes);
    let mut v = BigUint::from_bytes_be(&bytes) % &*N;
    if v.is_zero() {
        v = BigUint::one();
    }
    Verifier {
        salt_hex: pad_hex(&BigUint::from_bytes_be(salt)),
        verifier_hex: pad_hex(&v),
    }
}

fn parse_client_a(srp_a_hex: &str) -> Result<BigUint, CryptoError> {
    let a = parse_hex(srp_a_hex, "SRP_A")?;
    if a >= *N {
        return Err(CryptoError::IllegalSrpParameter("A is not below N"));
    }
    if a.is_zero() {
        return Err(CryptoError::IllegalSrpParameter("A mod N is zero"));
    }
    Ok(a)
}

fn parse_verifier(verifier_hex: &str) -> Result<BigUint, CryptoError> {
    let v = parse_hex(verifier_hex, "verifier")?;
    if (&v % &*N).is_zero() {
        return Err(CryptoError::IllegalSrpParameter("verifier mod N is zero"));
    }
    Ok(v)
}

/// Hex digits only (either case, any length, leading zeros allowed). `num-bigint` alone would
/// also accept `_` separators and a leading `+`, which no client sends.
fn parse_hex(s: &str, what: &'static str) -> Result<BigUint, CryptoError> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Err(CryptoError::InvalidHex(what));
    }
    BigUint::parse_bytes(s.as_bytes(), 16).ok_or(CryptoError::InvalidHex(what))
}

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in parts {
        h.update(part);
    }
    h.finalize().into()
}

const fn decode_hex_const<const LEN: usize>(s: &str) -> [u8; LEN] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => panic!("non-hex character in constant"),
        }
    }
    let s = s.as_bytes();
    assert!(s.len() == 2 * LEN, "hex constant has the wrong length");
    let mut out = [0u8; LEN];
    let mut i = 0;
    while i < LEN {
        out[i] = (nibble(s[2 * i]) << 4) | nibble(s[2 * i + 1]);
        i += 1;
    }
    out
}

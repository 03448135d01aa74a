//! Cognito's `SecretHash` proves that a request from a public endpoint was built by someone who
//! holds the app client's secret. Clients disagree about which username they hash (the typed
//! alias or the internal name), so verification accepts any of the candidates the caller knows
//! about, and compares in constant time so a mismatch leaks nothing about the expected value.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use subtle::{Choice, ConstantTimeEq};

use crate::mac::hmac_sha256;

/// `Base64(HMAC-SHA256(key = client_secret, msg = username ‖ client_id))`, standard alphabet with
/// padding (always 44 characters).
pub fn compute(client_secret: &str, username: &str, client_id: &str) -> String {
    STANDARD.encode(raw(client_secret, username, client_id))
}

/// True if `supplied` equals the SecretHash over any of `usernames`.
///
/// Every candidate is computed and compared (no early exit), each comparison in constant time.
/// An empty candidate list never matches.
pub fn verify(supplied: &str, client_secret: &str, client_id: &str, usernames: &[&str]) -> bool {
    let mut matched = Choice::from(0u8);
    for username in usernames {
        let expected = compute(client_secret, username, client_id);
        matched |= supplied.as_bytes().ct_eq(expected.as_bytes());
    }
    matched.into()
}

fn raw(client_secret: &str, username: &str, client_id: &str) -> [u8; 32] {
    hmac_sha256(
        client_secret.as_bytes(),
        &[username.as_bytes(), client_id.as_bytes()],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // (client id, client secret, username, expected) from test-vectors.md.
    const SH: [(&str, &str, &str, &str); 3] = [
        (
            "7gk2v9pq4sd8fj3m1l6h0n5r2t",
            "c3e1t9m2k8s7q4p6z0a5w1x3y8r2v7u4n6b9d0f5g1h3j8l2o7k4",
            "alice",
            "G09Uz33BpYTpiVdnxsQE4kALfiEDX2adEMhNsU0F/mM=",
        ),
        (
            "2b4d6f8h0j2l4n6p8r0t2v4x6z",
            "9z8y7x6w5v4u3t2s1r0q9p8o7n6m5l4k3j2i1h0g9f8e7d6c5b4a",
            "jane.doe@example.com",
            "WIHYEr4qpJD517OIYCI0F5oi1SfXOBP0J4D3hnM4xVA=",
        ),
        (
            "2b4d6f8h0j2l4n6p8r0t2v4x6z",
            "9z8y7x6w5v4u3t2s1r0q9p8o7n6m5l4k3j2i1h0g9f8e7d6c5b4a",
            "jürgen",
            "+aONUgAHrfLHz4F45HcHadyWw1KmuGU/s/lYIkHdcnU=",
        ),
    ];

    const SH_HMAC_HEX: [&str; 3] = [
        "1b4f54cf7dc1a584e9895767c6c404e2400b7e21035f669d10c84db14d05fe63",
        "5881d812be2aa490f9d7b388602234179a22d527d73813f42780f7867338c550",
        "f9a38d520007adf2c7cf8178e4770769dc96c352a6b8653fb3f9582241dd7275",
    ];

    // SRP-2: client with a secret, typed name ≠ internal name.
    const SRP2_CLIENT_ID: &str = "4q8s1d7f2g9h3j6k5l0z2x7c1v";
    const SRP2_SECRET: &str = "1n5b8m2v6c9x3z7l4k0j8h2g6f5d1s9a3p7o4i8u2y6t0r5e3w1q";
    const SRP2_TYPED: &str = "jane.doe@example.com";
    const SRP2_INTERNAL: &str = "6f1c3a52-8d4e-4b7a-9e21-3c5d7f0a1b2c";
    const SRP2_HASH_TYPED: &str = "BGj6XX2xx4buV6DB6WI47MV4nyv8r4iSNyLhC2kiHgs=";
    const SRP2_HASH_INTERNAL: &str = "VSmSnr/7DU2cxQHsuOo9mSZN+flJJQZy/lCaDzXTKno=";

    #[test]
    fn sh_vectors_compute() {
        for ((client_id, secret, username, expected), hmac_hex) in SH.iter().zip(SH_HMAC_HEX) {
            assert_eq!(hex::encode(raw(secret, username, client_id)), hmac_hex);
            let got = compute(secret, username, client_id);
            assert_eq!(&got, expected, "username {username}");
            assert_eq!(got.len(), 44);
        }
    }

    #[test]
    fn sh_vectors_verify() {
        for (client_id, secret, username, expected) in SH {
            assert!(verify(expected, secret, client_id, &[username]));
            assert!(verify(
                expected,
                secret,
                client_id,
                &["someone-else", username]
            ));
            assert!(!verify(expected, secret, client_id, &["someone-else"]));
            assert!(!verify(expected, secret, client_id, &[]));
            assert!(!verify(expected, "wrong-secret", client_id, &[username]));
            assert!(!verify(expected, secret, "wrongclientid", &[username]));
        }
    }

    #[test]
    fn srp2_secret_hashes_over_typed_and_internal_names() {
        assert_eq!(
            compute(SRP2_SECRET, SRP2_TYPED, SRP2_CLIENT_ID),
            SRP2_HASH_TYPED
        );
        assert_eq!(
            compute(SRP2_SECRET, SRP2_INTERNAL, SRP2_CLIENT_ID),
            SRP2_HASH_INTERNAL
        );
        let candidates = [SRP2_TYPED, SRP2_INTERNAL];
        assert!(verify(
            SRP2_HASH_TYPED,
            SRP2_SECRET,
            SRP2_CLIENT_ID,
            &candidates
        ));
        assert!(verify(
            SRP2_HASH_INTERNAL,
            SRP2_SECRET,
            SRP2_CLIENT_ID,
            &candidates
        ));
        // Only the typed name known: the hash over the internal name must not pass.
        assert!(!verify(
            SRP2_HASH_INTERNAL,
            SRP2_SECRET,
            SRP2_CLIENT_ID,
            &[SRP2_TYPED]
        ));
    }

    #[test]
    fn near_misses_are_rejected() {
        let (client_id, secret, username, expected) = SH[0];
        // Unpadded, truncated, one character changed, URL-safe alphabet, empty.
        let unpadded = expected.trim_end_matches('=');
        let mut flipped = expected.to_owned();
        flipped.replace_range(0..1, "H");
        let url_safe = SH[2].3.replace('+', "-").replace('/', "_");
        for bad in [unpadded, &expected[..40], flipped.as_str(), ""] {
            assert!(!verify(bad, secret, client_id, &[username]), "{bad:?}");
        }
        let (client_id3, secret3, username3, _) = SH[2];
        assert!(!verify(&url_safe, secret3, client_id3, &[username3]));
    }
}

use super::vectors::{SrpVector, VECTORS};
use super::*;

fn int(hex: &str) -> BigUint {
    parse_hex(hex, "test").unwrap()
}

fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Calls `verify_password_claim` with the vector's values, any of which a test can override.
fn verify_with(v: &SrpVector, edit: impl FnOnce(&mut Claim)) -> Result<bool, CryptoError> {
    let mut c = Claim {
        pool_name: v.pool_name.to_owned(),
        user_id: v.user_id_for_srp.to_owned(),
        verifier_hex: v.pad_v.to_owned(),
        b: int(v.b),
        srp_a: v.srp_a.to_owned(),
        secret_block: v.secret_block.to_owned(),
        timestamp: v.timestamp.to_owned(),
        signature: v.signature.to_owned(),
    };
    edit(&mut c);
    verify_password_claim(
        &c.pool_name,
        &c.user_id,
        &c.verifier_hex,
        &c.b,
        &c.srp_a,
        &c.secret_block,
        &c.timestamp,
        &c.signature,
    )
}

struct Claim {
    pool_name: String,
    user_id: String,
    verifier_hex: String,
    b: BigUint,
    srp_a: String,
    secret_block: String,
    timestamp: String,
    signature: String,
}

#[test]
fn group_constants() {
    assert_eq!(N.bits(), 3072);
    assert_eq!(pad_hex(&N), format!("00{}", N_HEX.to_ascii_lowercase()));
    assert_eq!(*G, BigUint::from(2u32));
    for v in &VECTORS {
        assert_eq!(*K, int(v.k), "{}", v.name);
    }
    // k = H(hex "00" ‖ N ‖ "02"), spelled out independently of pad_bytes.
    let mut preimage = vec![0u8];
    preimage.extend_from_slice(&N_BYTES);
    preimage.push(2);
    assert_eq!(*K, BigUint::from_bytes_be(&sha256(&[&preimage])));
}

#[test]
fn pad_hex_rules() {
    let cases: [(u64, &str); 9] = [
        (0, "00"),
        (1, "01"),
        (0x7f, "7f"),
        (0x80, "0080"),
        (0xff, "00ff"),
        (0x100, "0100"),
        (0x7fff, "7fff"),
        (0x8fff, "008fff"),
        (0xabcde, "0abcde"),
    ];
    for (n, expected) in cases {
        assert_eq!(pad_hex(&BigUint::from(n)), expected, "{n:#x}");
    }
}

#[test]
fn pool_name_from_id() {
    assert_eq!(pool_name("us-east-1_AbCdEfGhI"), "AbCdEfGhI");
    assert_eq!(pool_name("ap-southeast-2_q1W2e3R4t"), "q1W2e3R4t");
    assert_eq!(pool_name("noUnderscore"), "noUnderscore");
    for v in &VECTORS {
        assert_eq!(pool_name(v.pool_id), v.pool_name);
    }
}

#[test]
fn vectors_password_set_x_and_v() {
    for v in &VECTORS {
        let salt = int(v.salt_raw);
        assert_eq!(pad_hex(&salt), v.pad_salt, "{}", v.name);
        // The SALT the vector's server emitted denotes the same integer.
        assert_eq!(int(v.salt_emitted), salt, "{}", v.name);
        assert_eq!(
            hex::encode(inner_hash(v.pool_name, v.user_id_for_srp, v.password)),
            v.inner_hash,
            "{}",
            v.name
        );
        let x = compute_x(v.pool_name, v.user_id_for_srp, v.password, &salt);
        assert_eq!(x, int(v.x), "{}", v.name);
        let verifier =
            compute_verifier_with_salt(v.pool_name, v.user_id_for_srp, v.password, &salt);
        assert_eq!(verifier.verifier_hex, v.pad_v, "{}", v.name);
        assert_eq!(verifier.salt_hex, v.pad_salt, "{}", v.name);
    }
}

#[test]
fn vectors_server_ephemeral_b() {
    for v in &VECTORS {
        let (b, b_hex) = server_ephemeral(v.pad_v, Some(&int(v.b))).unwrap();
        assert_eq!(b, int(v.b), "{}", v.name);
        assert_eq!(b_hex, v.pad_b, "{}", v.name);
    }
}

#[test]
fn vectors_intermediate_values() {
    for v in &VECTORS {
        let a = parse_client_a(v.srp_a).unwrap();
        assert_eq!(pad_hex(&a), v.pad_a, "{}", v.name);
        let session = derive_session(&int(v.pad_v), &int(v.b), &a).unwrap();
        assert_eq!(pad_hex(&session.big_b), v.pad_b, "{}", v.name);
        assert_eq!(pad_hex(&session.u), v.pad_u, "{}", v.name);
        assert_eq!(pad_hex(&session.s), v.pad_s, "{}", v.name);
        assert_eq!(hex::encode(session.prk), v.prk, "{}", v.name);
        assert_eq!(hex::encode(session.key), v.hkdf_key, "{}", v.name);

        let block = STANDARD.decode(v.secret_block).unwrap();
        let mut message = Vec::new();
        for part in [
            v.pool_name.as_bytes(),
            v.user_id_for_srp.as_bytes(),
            &block,
            v.timestamp.as_bytes(),
        ] {
            message.extend_from_slice(part);
        }
        assert_eq!(hex::encode(&message), v.message_hex, "{}", v.name);
        let sig = claim_signature(
            &session.key,
            v.pool_name,
            v.user_id_for_srp,
            &block,
            v.timestamp,
        );
        assert_eq!(b64(&sig), v.signature, "{}", v.name);
    }
}

#[test]
fn vectors_accept_client_signature() {
    for v in &VECTORS {
        assert_eq!(verify_with(v, |_| {}), Ok(true), "{}", v.name);
    }
}

#[test]
fn vectors_accept_equivalent_spellings_of_a_and_verifier() {
    for v in &VECTORS {
        // Upper case and redundant leading zeros denote the same integers.
        assert_eq!(
            verify_with(v, |c| c.srp_a = c.srp_a.to_ascii_uppercase()),
            Ok(true),
            "{}",
            v.name
        );
        assert_eq!(
            verify_with(v, |c| c.srp_a = format!("0000{}", c.srp_a)),
            Ok(true),
            "{}",
            v.name
        );
        let plain_v = int(v.pad_v).to_str_radix(16);
        assert_eq!(
            verify_with(v, |c| c.verifier_hex = plain_v),
            Ok(true),
            "{}",
            v.name
        );
    }
}

#[test]
fn vectors_timestamps() {
    for v in &VECTORS {
        assert_eq!(format_timestamp(v.clock_unix), v.timestamp, "{}", v.name);
        assert_eq!(
            parse_timestamp(v.timestamp),
            Some(v.clock_unix),
            "{}",
            v.name
        );
    }
}

#[test]
fn srp3_non_canonical_salt_signature_is_rejected() {
    let v = &VECTORS[2];
    assert_eq!(v.name, "SRP-3");
    let wrong = v.wrong_salt_signature.unwrap();
    assert_ne!(wrong, v.signature);
    assert_eq!(
        verify_with(v, |c| c.signature = wrong.to_owned()),
        Ok(false)
    );

    // That signature is exactly what a client computes when it hashes the raw 16 salt bytes
    // (leading 0x00 included), while the canonical PAD(salt) reproduces the accepted one: the
    // rejection is about the salt spelling, nothing else.
    let raw_salt = hex::decode(v.salt_raw).unwrap();
    assert_eq!((raw_salt.len(), raw_salt[0]), (16, 0));
    let block = STANDARD.decode(v.secret_block).unwrap();
    let client = |salt: &[u8]| {
        client_signature(
            v.pool_name,
            v.user_id_for_srp,
            v.password,
            salt,
            v.pad_b,
            &int(v.a),
            &block,
            v.timestamp,
        )
    };
    assert_eq!(client(&raw_salt), wrong);
    assert_eq!(client(&pad_bytes(&int(v.salt_raw))), v.signature);
}

#[test]
fn tampered_claims_are_rejected() {
    for v in &VECTORS {
        let name = v.name;
        let mut sig = STANDARD.decode(v.signature).unwrap();
        sig[7] ^= 0x01;
        let tampered_sig = b64(&sig);
        assert_eq!(
            verify_with(v, |c| c.signature = tampered_sig),
            Ok(false),
            "{name}"
        );
        assert_eq!(
            verify_with(v, |c| c.signature =
                c.signature.trim_end_matches('=').to_owned()),
            Ok(false),
            "{name}: unpadded signature"
        );
        assert_eq!(
            verify_with(v, |c| c.signature = String::new()),
            Ok(false),
            "{name}"
        );
        assert_eq!(
            verify_with(v, |c| c.signature = "not base64!".to_owned()),
            Ok(false),
            "{name}"
        );

        // One character of TIMESTAMP (the seconds' last digit).
        let mut ts = v.timestamp.to_owned();
        let pos = ts.find(" UTC").unwrap() - 1;
        let digit = if &ts[pos..=pos] == "9" { "8" } else { "9" };
        ts.replace_range(pos..=pos, digit);
        assert_eq!(
            verify_with(v, |c| c.timestamp = ts),
            Ok(false),
            "{name}: timestamp"
        );

        // One byte of the secret block.
        let mut block = STANDARD.decode(v.secret_block).unwrap();
        block[0] ^= 0x80;
        let block = b64(&block);
        assert_eq!(
            verify_with(v, |c| c.secret_block = block),
            Ok(false),
            "{name}: block"
        );

        assert_eq!(
            verify_with(v, |c| c.pool_name.push('x')),
            Ok(false),
            "{name}: pool name"
        );
        assert_eq!(
            verify_with(v, |c| c.user_id = c.user_id.to_ascii_uppercase()),
            Ok(false),
            "{name}: user id"
        );
        assert_eq!(
            verify_with(v, |c| c.b += 1u32),
            Ok(false),
            "{name}: different b"
        );
        let other = compute_verifier_with_salt(
            v.pool_name,
            v.user_id_for_srp,
            "not the password",
            &int(v.salt_raw),
        );
        assert_eq!(
            verify_with(v, |c| c.verifier_hex = other.verifier_hex),
            Ok(false),
            "{name}: wrong password"
        );
    }
}

#[test]
fn illegal_a_and_malformed_inputs_are_errors() {
    let v = &VECTORS[0];
    let n_hex = N.to_str_radix(16);
    let n_plus_a = (&*N + int(v.srp_a)).to_str_radix(16);
    for bad_a in ["0", "000000", n_hex.as_str(), n_plus_a.as_str()] {
        let result = verify_with(v, |c| c.srp_a = bad_a.to_owned());
        assert!(
            matches!(result, Err(CryptoError::IllegalSrpParameter(_))),
            "{bad_a:.16}: {result:?}"
        );
    }
    for bad_hex in ["", "xyz", "+12", "1_000", "0x12", " 12"] {
        assert_eq!(
            verify_with(v, |c| c.srp_a = bad_hex.to_owned()),
            Err(CryptoError::InvalidHex("SRP_A")),
            "{bad_hex:?}"
        );
    }
    assert_eq!(
        verify_with(v, |c| c.verifier_hex = "zz".to_owned()),
        Err(CryptoError::InvalidHex("verifier"))
    );
    assert!(matches!(
        verify_with(v, |c| c.b = BigUint::zero()),
        Err(CryptoError::IllegalSrpParameter(_))
    ));
    assert_eq!(
        verify_with(v, |c| c.secret_block = "***".to_owned()),
        Err(CryptoError::InvalidBase64("PASSWORD_CLAIM_SECRET_BLOCK"))
    );
}

#[test]
fn server_ephemeral_errors() {
    assert_eq!(
        server_ephemeral("not hex", None),
        Err(CryptoError::InvalidHex("verifier"))
    );
    assert!(matches!(
        server_ephemeral("00", None),
        Err(CryptoError::IllegalSrpParameter(_))
    ));
    let n_hex = N.to_str_radix(16);
    assert!(matches!(
        server_ephemeral(&n_hex, None),
        Err(CryptoError::IllegalSrpParameter(_))
    ));
    assert!(matches!(
        server_ephemeral(VECTORS[0].pad_v, Some(&BigUint::zero())),
        Err(CryptoError::IllegalSrpParameter(_))
    ));
}

/// The client's side of the exchange, as Amplify computes it, for round-trip tests.
#[allow(clippy::too_many_arguments)]
fn client_signature(
    pool: &str,
    user: &str,
    password: &str,
    salt_bytes: &[u8],
    srp_b_hex: &str,
    a: &BigUint,
    block: &[u8],
    timestamp: &str,
) -> String {
    let big_a = G.modpow(a, &N);
    let big_b = int(srp_b_hex);
    let inner = inner_hash(pool, user, password);
    let x = BigUint::from_bytes_be(&sha256(&[salt_bytes, &inner]));
    let u = BigUint::from_bytes_be(&sha256(&[&pad_bytes(&big_a), &pad_bytes(&big_b)]));
    let kgx = &*K * G.modpow(&x, &N) % &*N;
    let base = (&big_b + &*N - kgx) % &*N;
    let s = base.modpow(&(a + &u * &x), &N);
    let prk = hmac_sha256(&pad_bytes(&u), &[&pad_bytes(&s)]);
    let okm = hmac_sha256(&prk, &[b"Caldera Derived Key", &[1u8]]);
    let mut key = [0u8; 16];
    key.copy_from_slice(&okm[..16]);
    b64(&claim_signature(&key, pool, user, block, timestamp))
}

#[test]
fn client_math_reproduces_vectors() {
    for v in &VECTORS {
        assert_eq!(
            G.modpow(&int(v.a), &N).to_str_radix(16),
            v.srp_a,
            "{}",
            v.name
        );
        let sig = client_signature(
            v.pool_name,
            v.user_id_for_srp,
            v.password,
            &hex::decode(v.pad_salt).unwrap(),
            v.pad_b,
            &int(v.a),
            &STANDARD.decode(v.secret_block).unwrap(),
            v.timestamp,
        );
        assert_eq!(sig, v.signature, "{}", v.name);
    }
}

#[test]
fn random_round_trip_with_independent_client_math() {
    // The client-side formula S = (B − k·g^x)^(a + u·x) must meet the server's (A·v^u)^b
    // for fresh salts, b and a, not only for the vectors.
    for _ in 0..3 {
        let pool = "AbCdEfGhI";
        let user = "7d3e2a10-5b4c-4f1e-9a8b-0c1d2e3f4a5b";
        let password = "Correct-Horse-9 ünïcødé";
        let stored = compute_verifier(pool, user, password);
        // Canonical PAD form, 16 random bytes at most (17 with the sign byte).
        assert_eq!(pad_hex(&int(&stored.salt_hex)), stored.salt_hex);
        assert!(stored.salt_hex.len() <= 34);

        let (b, srp_b) = server_ephemeral(&stored.verifier_hex, None).unwrap();
        assert!(!b.is_zero() && b.bits() <= 256);
        assert_eq!(pad_hex(&int(&srp_b)), srp_b);

        let mut a_bytes = [0u8; 128];
        OsRng.fill_bytes(&mut a_bytes);
        let a = BigUint::from_bytes_be(&a_bytes);
        let srp_a = G.modpow(&a, &N).to_str_radix(16);
        let mut block = [0u8; 64];
        OsRng.fill_bytes(&mut block);
        let timestamp = format_timestamp(1_767_225_600);
        let sig = client_signature(
            pool,
            user,
            password,
            &hex::decode(&stored.salt_hex).unwrap(),
            &srp_b,
            &a,
            &block,
            &timestamp,
        );
        let check = |password_sig: &str, verifier: &str| {
            verify_password_claim(
                pool,
                user,
                verifier,
                &b,
                &srp_a,
                &b64(&block),
                &timestamp,
                password_sig,
            )
        };
        assert_eq!(check(&sig, &stored.verifier_hex), Ok(true));

        let wrong_pw = client_signature(
            pool,
            user,
            "correct-horse-9 ünïcødé",
            &hex::decode(&stored.salt_hex).unwrap(),
            &srp_b,
            &a,
            &block,
            &timestamp,
        );
        assert_eq!(check(&wrong_pw, &stored.verifier_hex), Ok(false));
    }
}

#[test]
fn signature_for_another_a_is_rejected() {
    // A correct client whose SRP_A is not the one the server sees (e.g. replayed or swapped)
    // derives a different u and S, so its signature must not pass.
    for v in &VECTORS {
        let mut bytes = [0u8; 128];
        OsRng.fill_bytes(&mut bytes);
        let sig = client_signature(
            v.pool_name,
            v.user_id_for_srp,
            v.password,
            &hex::decode(v.pad_salt).unwrap(),
            v.pad_b,
            &BigUint::from_bytes_be(&bytes),
            &STANDARD.decode(v.secret_block).unwrap(),
            v.timestamp,
        );
        assert_eq!(
            verify_with(v, |c| c.signature = sig),
            Ok(false),
            "{}",
            v.name
        );
    }
}

#[test]
fn fresh_salts_and_ephemerals_differ() {
    let one = compute_verifier("p", "u", "pw");
    let two = compute_verifier("p", "u", "pw");
    assert_ne!(one.salt_hex, two.salt_hex);
    assert_ne!(one.verifier_hex, two.verifier_hex);
    let (b1, big_b1) = server_ephemeral(&one.verifier_hex, None).unwrap();
    let (b2, big_b2) = server_ephemeral(&one.verifier_hex, None).unwrap();
    assert_ne!(b1, b2);
    assert_ne!(big_b1, big_b2);
}

#[test]
fn fixed_base_powers_of_g_agree_with_modpow() {
    let mut exponents = vec![
        BigUint::from(0u32),
        BigUint::from(1u32),
        BigUint::from(15u32),
        BigUint::from(16u32),
        (BigUint::from(1u32) << 256usize) - 1u32,
        BigUint::from(1u32) << 255usize,
        // Past the table: falls back to modpow.
        (BigUint::from(1u32) << 300usize) + 7u32,
    ];
    for seed in 0u8..16 {
        exponents.push(BigUint::from_bytes_be(&sha256(&[&[seed]])));
    }
    for e in &exponents {
        assert_eq!(super::g_pow(e), G.modpow(e, &N), "exponent {e:x}");
    }
}

#[test]
fn a_simulated_verifier_is_usable_random_and_keeps_the_salt() {
    let salt = [7u8; 16];
    let one = simulated_verifier(&salt);
    let two = simulated_verifier(&salt);
    assert_eq!(one.salt_hex, two.salt_hex, "the salt is the caller's");
    assert_eq!(one.salt_hex, pad_hex(&BigUint::from_bytes_be(&salt)));
    assert_ne!(one.verifier_hex, two.verifier_hex);
    let v = int(&one.verifier_hex);
    assert!(!v.is_zero() && v < *N);
    // The server can run a challenge on it like on a stored verifier.
    server_ephemeral(&one.verifier_hex, None).unwrap();
}

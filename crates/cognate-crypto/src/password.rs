//! Passwords are stored as Argon2id PHC strings so that a leaked database does not yield
//! passwords cheaply, and so that each stored hash carries its own parameters: raising the
//! cost later leaves existing hashes verifiable. (SRP users additionally get a verifier; see
//! [`crate::srp`].)

use argon2::password_hash::{Output, Salt};
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::rngs::OsRng;

use crate::CryptoError;

/// Argon2 cost parameters for new hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    /// Memory cost in KiB.
    pub memory_kib: u32,
    /// Number of passes.
    pub iterations: u32,
    /// Degree of parallelism (lanes).
    pub parallelism: u32,
}

impl Default for Argon2Params {
    /// The OWASP minimum for Argon2id: 19 MiB, 2 iterations, 1 lane.
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// Argon2's working memory, kept by a hashing thread between hashes.
#[derive(Default)]
pub struct HashWorkArea {
    blocks: Vec<Block>,
}

/// Hashes new passwords with fixed parameters and verifies stored PHC strings.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    argon2: Argon2<'static>,
}

impl PasswordHasher {
    /// Fails if Argon2 rejects the parameters (e.g. memory below 8 KiB per lane).
    pub fn new(params: Argon2Params) -> Result<Self, CryptoError> {
        let params = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            None,
        )
        .map_err(|e| CryptoError::InvalidArgon2Params(e.to_string()))?;
        Ok(Self {
            argon2: Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
        })
    }

    /// Argon2id PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) with a fresh random salt.
    pub fn hash(&self, password: &str) -> Result<String, CryptoError> {
        let salt = SaltString::generate(&mut OsRng);
        self.argon2
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| CryptoError::Hashing(e.to_string()))
    }

    /// The same PHC string as [`hash`](Self::hash), computed in a caller-owned work area that
    /// is reused from one hash to the next (no allocation and freeing of the whole Argon2
    /// memory per hash, so a hashing thread keeps a fixed footprint).
    pub fn hash_with(
        &self,
        password: &str,
        work: &mut HashWorkArea,
    ) -> Result<String, CryptoError> {
        let err = |e: &dyn std::fmt::Display| CryptoError::Hashing(e.to_string());
        let salt_string = SaltString::generate(&mut OsRng);
        let salt: Salt<'_> = salt_string.as_salt();
        let mut salt_bytes = [0u8; 64];
        let salt_raw = salt.decode_b64(&mut salt_bytes).map_err(|e| err(&e))?;
        let params = self.argon2.params().clone();
        let len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
        let mut out = vec![0u8; len];
        let blocks = params.block_count();
        if work.blocks.len() != blocks {
            work.blocks = vec![Block::default(); blocks];
        }
        self.argon2
            .hash_password_into_with_memory(
                password.as_bytes(),
                salt_raw,
                &mut out,
                &mut work.blocks,
            )
            .map_err(|e| err(&e))?;
        let output = Output::new(&out).map_err(|e| err(&e))?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: (&params)
                .try_into()
                .map_err(|e: argon2::password_hash::Error| err(&e))?,
            salt: Some(salt),
            hash: Some(output),
        };
        Ok(phc.to_string())
    }

    /// True if `password` matches `phc`. The algorithm variant and cost are taken from the PHC
    /// string, not from this hasher. Malformed or non-Argon2 strings give `false`.
    /// [`verify`](Self::verify) in a caller-owned work area (see
    /// [`hash_with`](Self::hash_with)): a sign-in's check then neither allocates nor clears
    /// Argon2's whole memory. The stored hash's own parameters, salt and length are used; the
    /// comparison is constant-time.
    pub fn verify_with(&self, password: &str, phc: &str, work: &mut HashWorkArea) -> bool {
        use subtle::ConstantTimeEq;
        let Ok(parsed) = PasswordHash::new(phc) else {
            return false;
        };
        let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
            return false;
        };
        let version = match parsed.version.map(Version::try_from) {
            None => Version::V0x13,
            Some(Ok(v)) => v,
            Some(Err(_)) => return false,
        };
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return false;
        };
        let Ok(params) = Params::try_from(&parsed) else {
            return false;
        };
        let mut salt_bytes = [0u8; 64];
        let Ok(salt_raw) = salt.decode_b64(&mut salt_bytes) else {
            return false;
        };
        let blocks = params.block_count();
        if work.blocks.len() != blocks {
            work.blocks = vec![Block::default(); blocks];
        }
        let mut out = vec![0u8; expected.len()];
        let hashed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
            password.as_bytes(),
            salt_raw,
            &mut out,
            &mut work.blocks,
        );
        hashed.is_ok() && bool::from(out.ct_eq(expected.as_bytes()))
    }

    pub fn verify(&self, password: &str, phc: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(phc) else {
            return false;
        };
        if Algorithm::try_from(parsed.algorithm).is_err() {
            return false;
        }
        self.argon2
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    }
}

#[cfg(test)]
mod work_area_tests {
    use super::*;

    #[test]
    fn hash_with_a_reused_work_area_verifies() {
        let hasher = PasswordHasher::new(Argon2Params {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap();
        let mut work = HashWorkArea::default();
        let a = hasher.hash_with("Passw0rd!", &mut work).unwrap();
        let b = hasher.hash_with("Passw0rd!", &mut work).unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{a}");
        assert_ne!(a, b, "fresh salt each time");
        assert!(hasher.verify("Passw0rd!", &a));
        // Verifying in the work area agrees with the plain check, for these parameters and
        // for a hash made with others (the stored parameters count, not the hasher's).
        assert!(hasher.verify_with("Passw0rd!", &a, &mut work));
        assert!(!hasher.verify_with("Passw0rd?", &a, &mut work));
        let other = PasswordHasher::new(Argon2Params {
            memory_kib: 2048,
            iterations: 2,
            parallelism: 2,
        })
        .unwrap()
        .hash("Passw0rd!")
        .unwrap();
        assert!(hasher.verify_with("Passw0rd!", &other, &mut work));
        assert!(!hasher.verify_with("passw0rd!", &other, &mut work));
        assert!(
            hasher.verify_with("Passw0rd!", &a, &mut work),
            "after a resize"
        );
        for bad in [
            "",
            "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ",
            "$md5$x",
            &a[..a.len() - 4],
        ] {
            assert!(!hasher.verify_with("Passw0rd!", bad, &mut work), "{bad}");
        }
        assert!(hasher.verify("Passw0rd!", &b));
        assert!(!hasher.verify("passw0rd!", &b));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordHasher {
        PasswordHasher::new(Argon2Params {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap()
    }

    #[test]
    fn default_params_are_owasp_minimum() {
        let p = Argon2Params::default();
        assert_eq!((p.memory_kib, p.iterations, p.parallelism), (19_456, 2, 1));
    }

    #[test]
    fn default_hasher_round_trip_and_phc_shape() {
        let hasher = PasswordHasher::new(Argon2Params::default()).unwrap();
        let phc = hasher.hash("Passw0rd!").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(hasher.verify("Passw0rd!", &phc));
        assert!(!hasher.verify("Passw0rd?", &phc));
        assert!(!hasher.verify("", &phc));
    }

    #[test]
    fn salts_are_random() {
        let hasher = cheap();
        let a = hasher.hash("same").unwrap();
        let b = hasher.hash("same").unwrap();
        assert_ne!(a, b);
        assert!(hasher.verify("same", &a) && hasher.verify("same", &b));
    }

    #[test]
    fn verify_uses_params_from_the_phc_string() {
        let old = cheap().hash("Pässwörd€1").unwrap();
        assert!(old.contains("m=64,t=1,p=1"), "{old}");
        let current = PasswordHasher::new(Argon2Params {
            memory_kib: 128,
            iterations: 2,
            parallelism: 2,
        })
        .unwrap();
        assert!(current.verify("Pässwörd€1", &old));
        assert!(!current.verify("Passwörd€1", &old));
    }

    #[test]
    fn reference_implementation_vectors_verify() {
        // From the Argon2 reference implementation's test suite (phc-winner-argon2
        // src/test.c, version 0x13): password "password", salt "somesalt".
        let hasher = cheap();
        let m256_p1 =
            "$argon2i$v=19$m=256,t=2,p=1$c29tZXNhbHQ$iekCn0Y3spW+sCcFanM2xBT63UP2sghkUoHLIUpWRS8";
        let m256_p2 =
            "$argon2i$v=19$m=256,t=2,p=2$c29tZXNhbHQ$T/XOJ2mh1/TIpJHfCdQan76Q5esCFVoT5MAeIM1Oq2E";
        assert!(hasher.verify("password", m256_p1));
        assert!(hasher.verify("password", m256_p2));
        assert!(!hasher.verify("passwore", m256_p1));
        // The suite's "mismatched password" case: a hash of "passwore" under "password".
        let passwore =
            "$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$8iIuixkI73Js3G1uMbezQXD0b8LG4SXGsOwoQkdAQIM";
        assert!(!hasher.verify("password", passwore));
    }

    #[test]
    fn malformed_input_is_false_not_panic() {
        let hasher = cheap();
        let good = hasher.hash("pw").unwrap();
        let truncated = &good[..good.len() - 5];
        let cases = [
            "",
            "$",
            "not a phc string",
            "$argon2id$v=19$m=64,t=1,p=1$",
            "$argon2id$v=19$m=0,t=0,p=0$c29tZXNhbHQ$AAAA",
            "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$!!!!",
            "$pbkdf2-sha256$i=1000$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "$scrypt$ln=4,r=8,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            truncated,
        ];
        for phc in cases {
            assert!(!hasher.verify("pw", phc), "{phc:?}");
        }
    }

    #[test]
    fn invalid_params_are_rejected() {
        let err = PasswordHasher::new(Argon2Params {
            memory_kib: 1,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap_err();
        assert!(matches!(err, CryptoError::InvalidArgon2Params(_)));
        assert!(PasswordHasher::new(Argon2Params {
            memory_kib: 19_456,
            iterations: 0,
            parallelism: 1,
        })
        .is_err());
    }
}

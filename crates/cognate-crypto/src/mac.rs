//! The single HMAC-SHA256 helper every module uses, so the one "cannot fail" branch of the
//! `hmac` API lives in exactly one place.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// HMAC-SHA256 over the concatenation of `parts`.
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        // HMAC hashes over-long keys and zero-pads short ones; every length is accepted.
        Err(_) => unreachable!("HMAC-SHA256 accepts keys of any length"),
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4231_case_2() {
        let out = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            hex::encode(out),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn empty_and_long_keys_work() {
        let long = [0xaau8; 131];
        assert_ne!(hmac_sha256(&[], &[b"x"]), hmac_sha256(&long, &[b"x"]));
    }
}

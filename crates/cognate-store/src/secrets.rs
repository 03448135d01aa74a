//! Secrets at rest: token-signing private keys and app-client secrets are sealed with the
//! server's master keys (`cognate_crypto::seal`) as they are written and opened as they are
//! read, so the domain only ever sees plaintext and the database only ciphertext. Values
//! written before sealing (or by a store without keys) are plaintext and read as such;
//! `Store::seal_secrets` seals them, and re-seals values of an older key after a rotation.

use cognate_crypto::seal::{MasterKeys, SealError};

use crate::db::{params, Tx};
use crate::{Result, Store, StoreError};

/// The JSON member the client settings keep their secret in (serde_json writes it compact,
/// without spaces; a secret is `[\w+]+` and a sealed one URL-safe base64, so neither needs
/// escaping).
const SECRET_MEMBER: &str = "\"ClientSecret\":\"";

fn client_context(client_id: &str) -> String {
    format!("client_secret:{client_id}")
}

fn key_context(pool_id: &str, kid: &str) -> String {
    format!("signing_key:{pool_id}:{kid}")
}

fn unreadable(what: &str, e: SealError) -> StoreError {
    // Names the key id (not secret) so an operator sees which key file is missing a key.
    StoreError::Config(format!("{what}: {e}"))
}

/// The byte range of the secret's value in a client's settings JSON.
fn secret_span(config: &str) -> Option<(usize, usize)> {
    let start = config.find(SECRET_MEMBER)? + SECRET_MEMBER.len();
    let len = config[start..].find('"')?;
    Some((start, start + len))
}

fn replace_secret(
    config: &str,
    change: impl FnOnce(&str) -> std::result::Result<String, SealError>,
) -> std::result::Result<String, SealError> {
    match secret_span(config) {
        None => Ok(config.to_string()),
        Some((start, end)) => {
            let value = change(&config[start..end])?;
            Ok(format!("{}{value}{}", &config[..start], &config[end..]))
        }
    }
}

pub(crate) fn seal_client_config(
    keys: Option<&MasterKeys>,
    client_id: &str,
    config: &str,
) -> Result<String> {
    let Some(keys) = keys else {
        return Ok(config.to_string());
    };
    replace_secret(config, |secret| {
        keys.seal_text(secret, &client_context(client_id))
    })
    .map_err(|e| unreadable("sealing a client secret", e))
}

pub(crate) fn open_client_config(
    keys: Option<&MasterKeys>,
    client_id: &str,
    config: String,
) -> Result<String> {
    let sealed =
        secret_span(&config).is_some_and(|(start, _)| config[start..].starts_with("sealed:"));
    if !sealed {
        return Ok(config);
    }
    let keys = keys.ok_or_else(no_keys)?;
    replace_secret(&config, |secret| {
        keys.open_text(secret, &client_context(client_id))
    })
    .map_err(|e| unreadable(&format!("client {client_id}'s secret"), e))
}

pub(crate) fn seal_private_key(
    keys: Option<&MasterKeys>,
    pool_id: &str,
    kid: &str,
    der: Vec<u8>,
) -> Result<Vec<u8>> {
    seal_bytes(keys, &key_context(pool_id, kid), der)
}

pub(crate) fn open_private_key(
    keys: Option<&MasterKeys>,
    pool_id: &str,
    kid: &str,
    stored: Vec<u8>,
) -> Result<Vec<u8>> {
    open_bytes(keys, &key_context(pool_id, kid), stored, || {
        format!("signing key {kid} of pool {pool_id}")
    })
}

/// Seals a binary secret (unchanged without keys).
fn seal_bytes(keys: Option<&MasterKeys>, context: &str, value: Vec<u8>) -> Result<Vec<u8>> {
    match keys {
        None => Ok(value),
        Some(keys) => keys
            .seal(&value, context)
            .map_err(|e| unreadable("sealing a secret", e)),
    }
}

/// Opens a binary secret; a plaintext from before sealing is returned as it is.
fn open_bytes(
    keys: Option<&MasterKeys>,
    context: &str,
    stored: Vec<u8>,
    what: impl FnOnce() -> String,
) -> Result<Vec<u8>> {
    if !MasterKeys::is_sealed(&stored) {
        return Ok(stored);
    }
    keys.ok_or_else(no_keys)?
        .open(&stored, context)
        .map_err(|e| unreadable(&what(), e))
}

fn secret_context(name: &str) -> String {
    format!("server_secret:{name}")
}

pub(crate) fn seal_server_secret(
    keys: Option<&MasterKeys>,
    name: &str,
    value: Vec<u8>,
) -> Result<Vec<u8>> {
    seal_bytes(keys, &secret_context(name), value)
}

pub(crate) fn open_server_secret(
    keys: Option<&MasterKeys>,
    name: &str,
    stored: Vec<u8>,
) -> Result<Vec<u8>> {
    open_bytes(keys, &secret_context(name), stored, || {
        format!("server secret {name}")
    })
}

fn no_keys() -> StoreError {
    StoreError::Config("the database holds sealed secrets: give the master key file".into())
}

/// What `Store::seal_secrets` changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SealReport {
    pub server_secrets: u64,
    pub signing_keys: u64,
    pub client_secrets: u64,
}

impl Store {
    /// Seals every secret that is plaintext or sealed under an older master key with the
    /// current one, in one transaction; fails (changing nothing) if a value does not open,
    /// e.g. because the key file lacks the key it was sealed with. Idempotent.
    pub async fn seal_secrets(&self) -> Result<SealReport> {
        let Some(keys) = self.sealer.clone() else {
            return Ok(SealReport::default());
        };
        self.db
            .transact(move |tx, _dialect| reseal_in(tx, &keys))
            .await
    }
}

fn reseal_in(tx: &mut dyn Tx, keys: &MasterKeys) -> Result<SealReport> {
    let mut report = SealReport::default();
    for row in tx.fetch_all("SELECT name, value FROM server_secrets", params![])? {
        let name: String = row.get("name")?;
        let stored: Vec<u8> = row.get("value")?;
        if keys.sealed_with_current(&stored) {
            continue;
        }
        let plain = open_server_secret(Some(keys), &name, stored)?;
        let sealed = seal_server_secret(Some(keys), &name, plain)?;
        tx.execute(
            "UPDATE server_secrets SET value = $2 WHERE name = $1",
            params![&name, sealed.as_slice()],
        )?;
        report.server_secrets += 1;
    }
    for row in tx.fetch_all(
        "SELECT pool_id, kid, private_key FROM signing_keys",
        params![],
    )? {
        let (pool_id, kid): (String, String) = (row.get("pool_id")?, row.get("kid")?);
        let stored: Vec<u8> = row.get("private_key")?;
        if keys.sealed_with_current(&stored) {
            continue;
        }
        let der = open_private_key(Some(keys), &pool_id, &kid, stored)?;
        let sealed = seal_private_key(Some(keys), &pool_id, &kid, der)?;
        tx.execute(
            "UPDATE signing_keys SET private_key = $3 WHERE pool_id = $1 AND kid = $2",
            params![&pool_id, &kid, sealed.as_slice()],
        )?;
        report.signing_keys += 1;
    }
    for row in tx.fetch_all("SELECT client_id, config FROM user_pool_clients", params![])? {
        let client_id: String = row.get("client_id")?;
        let config: String = row.get("config")?;
        let Some((start, end)) = secret_span(&config) else {
            continue;
        };
        if keys.text_sealed_with_current(&config[start..end]) {
            continue;
        }
        let plain = open_client_config(Some(keys), &client_id, config)?;
        let sealed = seal_client_config(Some(keys), &client_id, &plain)?;
        // The revision is left alone: the settings a client reads do not change.
        tx.execute(
            "UPDATE user_pool_clients SET config = $2 WHERE client_id = $1",
            params![&client_id, &sealed],
        )?;
        report.client_secrets += 1;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_secret_is_sealed_in_place_and_opens_again() {
        let keys = MasterKeys::parse(&MasterKeys::generate_line(1)).unwrap();
        let config =
            r#"{"v":1,"client":{"ClientId":"c1","ClientSecret":"abc123xyz","ClientName":"n"}}"#;
        let sealed = seal_client_config(Some(&keys), "c1", config).unwrap();
        assert!(!sealed.contains("abc123xyz"));
        assert!(sealed.contains(r#""ClientSecret":"sealed:v1:"#));
        assert!(sealed.ends_with(r#"","ClientName":"n"}}"#));
        assert_eq!(
            open_client_config(Some(&keys), "c1", sealed.clone()).unwrap(),
            config
        );
        // Bound to its client: the same ciphertext does not open as another client's.
        assert!(open_client_config(Some(&keys), "c2", sealed.clone()).is_err());
        // Without keys a sealed value is an error, a plaintext one is read as it is.
        assert!(open_client_config(None, "c1", sealed).is_err());
        assert_eq!(
            open_client_config(None, "c1", config.to_string()).unwrap(),
            config
        );
        let no_secret = r#"{"client":{"ClientId":"c1"}}"#;
        assert_eq!(
            seal_client_config(Some(&keys), "c1", no_secret).unwrap(),
            no_secret
        );
    }
}

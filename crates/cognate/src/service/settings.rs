//! Domain views of the stored pool and client settings. The store keeps each pool as the JSON
//! of the wire `UserPoolType` (so DescribeUserPool returns exactly what was set); these
//! structs read the parts that behaviour depends on, by their wire names.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::Deserialize;

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(rename_all = "PascalCase", default)]
pub struct PoolSettings {
    pub id: String,
    pub name: String,
    pub policies: Policies,
    pub deletion_protection: Option<String>,
    pub lambda_config: BTreeMap<String, serde_json::Value>,
    pub schema_attributes: Vec<SchemaAttribute>,
    pub auto_verified_attributes: Vec<String>,
    pub alias_attributes: Vec<String>,
    pub username_attributes: Vec<String>,
    pub sms_verification_message: Option<String>,
    pub email_verification_message: Option<String>,
    pub email_verification_subject: Option<String>,
    pub verification_message_template: VerificationTemplate,
    pub email_configuration: EmailConfiguration,
    pub admin_create_user_config: AdminCreateUserConfig,
    pub username_configuration: Option<UsernameConfiguration>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(rename_all = "PascalCase", default)]
pub struct Policies {
    pub password_policy: PasswordPolicy,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(rename_all = "PascalCase", default)]
pub struct PasswordPolicy {
    pub minimum_length: i64,
    pub require_uppercase: bool,
    pub require_lowercase: bool,
    pub require_numbers: bool,
    pub require_symbols: bool,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            minimum_length: 8,
            require_uppercase: true,
            require_lowercase: true,
            require_numbers: true,
            require_symbols: true,
        }
    }
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(rename_all = "PascalCase", default)]
pub struct SchemaAttribute {
    pub name: String,
    pub attribute_data_type: Option<String>,
    pub developer_only_attribute: bool,
    pub mutable: Option<bool>,
    pub required: bool,
    pub string_attribute_constraints: Option<BTreeMap<String, String>>,
    pub number_attribute_constraints: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(rename_all = "PascalCase", default)]
pub struct VerificationTemplate {
    pub sms_message: Option<String>,
    pub email_message: Option<String>,
    pub email_subject: Option<String>,
    pub email_message_by_link: Option<String>,
    pub email_subject_by_link: Option<String>,
    pub default_email_option: Option<String>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(rename_all = "PascalCase", default)]
pub struct EmailConfiguration {
    pub source_arn: Option<String>,
    pub reply_to_email_address: Option<String>,
    pub email_sending_account: Option<String>,
    pub from: Option<String>,
    pub configuration_set: Option<String>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(rename_all = "PascalCase", default)]
pub struct AdminCreateUserConfig {
    pub allow_admin_create_user_only: bool,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(rename_all = "PascalCase", default)]
pub struct UsernameConfiguration {
    pub case_sensitive: bool,
}

impl PoolSettings {
    pub fn parse(config: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(config)
    }

    /// Pools created without UsernameConfiguration through the API are case sensitive.
    pub fn case_sensitive(&self) -> bool {
        self.username_configuration
            .as_ref()
            .map(|c| c.case_sensitive)
            .unwrap_or(true)
    }

    pub fn username_key(&self, username: &str) -> String {
        if self.case_sensitive() {
            username.to_string()
        } else {
            username.to_lowercase()
        }
    }

    pub fn auto_verifies(&self, attribute: &str) -> bool {
        self.auto_verified_attributes.iter().any(|a| a == attribute)
    }

    pub fn is_alias(&self, attribute: &str) -> bool {
        self.alias_attributes.iter().any(|a| a == attribute)
    }

    pub fn is_username_attribute(&self, attribute: &str) -> bool {
        self.username_attributes.iter().any(|a| a == attribute)
    }

    pub fn developer_email(&self) -> bool {
        self.email_configuration.email_sending_account.as_deref() == Some("DEVELOPER")
    }

    pub fn lambda_arn(&self, trigger: &str) -> Option<String> {
        self.lambda_config
            .get(trigger)
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    }

    pub fn schema_attribute(&self, name: &str) -> Option<&SchemaAttribute> {
        self.schema_attributes.iter().find(|a| a.name == name)
    }
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(rename_all = "PascalCase", default)]
pub struct ClientSettings {
    pub client_id: String,
    pub user_pool_id: String,
    pub client_name: String,
    pub client_secret: Option<String>,
    pub prevent_user_existence_errors: Option<String>,
    pub write_attributes: Option<Vec<String>>,
    pub read_attributes: Option<Vec<String>>,
    pub explicit_auth_flows: Option<Vec<String>>,
}

impl ClientSettings {
    pub fn parse(config: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(config)
    }

    pub fn hides_user_existence(&self) -> bool {
        self.prevent_user_existence_errors.as_deref() == Some("ENABLED")
    }
}

/// A client and its pool as parsed from their stored JSON.
pub type ClientContext = (Arc<ClientSettings>, Arc<PoolSettings>);

struct ParsedContext {
    revision: i64,
    parsed: ClientContext,
}

/// Clients parsed at most this many per thread before the cache starts afresh.
const PARSED_PER_THREAD: usize = 1024;

thread_local! {
    /// Per thread, so no lock is shared between requests. An entry is reused only while the
    /// client's revision is the one it was parsed at, so a change made through any instance
    /// is seen by the next request.
    static PARSED: RefCell<HashMap<String, ParsedContext>> = RefCell::new(HashMap::new());
}

/// The settings of a client and its pool as parsed at the client's `revision`, if this thread
/// has them.
pub fn cached_client_context(client_id: &str, revision: i64) -> Option<ClientContext> {
    PARSED.with_borrow(|cache| {
        cache
            .get(client_id)
            .filter(|c| c.revision == revision)
            .map(|c| c.parsed.clone())
    })
}

/// Parses a client's and its pool's stored JSON and keeps the result for this thread while
/// the client's revision stays the same (parsing a pool's settings costs more than reading
/// the revision).
pub fn parse_client_context(
    client_id: &str,
    revision: i64,
    client_json: &str,
    pool_json: &str,
) -> Result<ClientContext, serde_json::Error> {
    let parsed = (
        Arc::new(ClientSettings::parse(client_json)?),
        Arc::new(PoolSettings::parse(pool_json)?),
    );
    PARSED.with_borrow_mut(|cache| {
        if cache.len() >= PARSED_PER_THREAD {
            cache.clear();
        }
        cache.insert(
            client_id.to_string(),
            ParsedContext {
                revision,
                parsed: parsed.clone(),
            },
        );
    });
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_reused_only_at_the_revision_they_were_parsed_at() {
        let client = r#"{"ClientId":"c1","UserPoolId":"p"}"#;
        assert!(cached_client_context("c1", 0).is_none());
        let first = parse_client_context("c1", 0, client, r#"{"Id":"p","Name":"a"}"#).unwrap();
        let again = cached_client_context("c1", 0).unwrap();
        assert!(
            Arc::ptr_eq(&first.1, &again.1),
            "settings at the same revision are not parsed again"
        );
        assert!(cached_client_context("c1", 1).is_none());
        assert!(cached_client_context("c1", 2).is_none());
        let changed = parse_client_context("c1", 1, client, r#"{"Id":"p","Name":"b"}"#).unwrap();
        assert_eq!(changed.1.name, "b");
        assert_eq!(cached_client_context("c1", 1).unwrap().1.name, "b");
        assert!(parse_client_context("c2", 0, "{", "{}").is_err());
    }
}

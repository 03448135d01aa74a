//! The settings behaviour depends on, read once from a pool's and a client's typed
//! configuration (`crate::config`), and kept per thread while the client's revision stays
//! the same.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use cognate_wire::{
    AttributeDataType, DefaultEmailOptionType, EmailConfigurationType, EmailSendingAccountType,
    LambdaConfigType, PreventUserExistenceErrorTypes, UserPoolClientType, UserPoolType,
    VerificationMessageTemplateType,
};

use crate::config::{self, defaults};
use crate::records::AliasKind;
use crate::triggers::TriggerKind;

#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub id: String,
    pub password_policy: PasswordPolicy,
    lambda: LambdaConfigType,
    pub schema_attributes: Vec<SchemaAttribute>,
    auto_verified_attributes: Vec<&'static str>,
    alias_attributes: Vec<&'static str>,
    username_attributes: Vec<&'static str>,
    pub verification_message_template: VerificationMessageTemplateType,
    /// `AdminCreateUserConfig.InviteMessageTemplate`.
    pub invite_message_template: cognate_wire::MessageTemplateType,
    pub sms_verification_message: Option<String>,
    pub email_verification_message: Option<String>,
    pub email_verification_subject: Option<String>,
    pub email_configuration: EmailConfigurationType,
    pub allow_admin_create_user_only: bool,
    /// How long a temporary password signs in (`TemporaryPasswordValidityDays`, else the
    /// legacy `UnusedAccountValidityDays`; 0 means the default, 7 days).
    pub temporary_password_validity_secs: i64,
    /// Threat protection (`UserPoolAddOns.AdvancedSecurityMode` `AUDIT` or `ENFORCED`): the
    /// pool keeps its users' authentication events.
    pub records_auth_events: bool,
    /// Where ForgotPassword sends its code (`AccountRecoverySetting`).
    pub recovery: Recovery,
    /// How many previous passwords a new one may not repeat (`PasswordHistorySize`; 0: off).
    pub password_history_size: i64,
    /// Attributes whose new value waits for verification before it replaces the old one
    /// (`UserAttributeUpdateSettings.AttributesRequireVerificationBeforeUpdate`).
    verify_before_update: Vec<&'static str>,
    case_sensitive: bool,
}

/// The pool's account-recovery setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery {
    /// No setting: a verified phone number first, then a verified email (spec b.5).
    Legacy,
    /// The verified attributes to try, highest priority first.
    Verified(Vec<&'static str>),
    /// Only an administrator resets passwords.
    AdminOnly,
}

impl Recovery {
    fn from_setting(setting: Option<&cognate_wire::AccountRecoverySettingType>) -> Self {
        use cognate_wire::RecoveryOptionNameType as Name;
        let Some(mut options) = setting
            .and_then(|s| s.recovery_mechanisms.clone())
            .filter(|m| !m.is_empty())
        else {
            return Recovery::Legacy;
        };
        options.sort_by_key(|o| o.priority);
        if options.iter().any(|o| o.name == Name::AdminOnly) {
            return Recovery::AdminOnly;
        }
        Recovery::Verified(
            options
                .iter()
                .map(|o| match o.name {
                    Name::VerifiedPhoneNumber => "phone_number",
                    _ => "email",
                })
                .collect(),
        )
    }

    /// The attributes a code may go to, in the order they are tried.
    pub fn order(&self) -> &[&'static str] {
        match self {
            Recovery::Legacy => &["phone_number", "email"],
            Recovery::Verified(order) => order,
            Recovery::AdminOnly => &[],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
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
            minimum_length: i64::from(defaults::PASSWORD_MINIMUM_LENGTH),
            require_uppercase: true,
            require_lowercase: true,
            require_numbers: true,
            require_symbols: true,
        }
    }
}

/// One attribute of the pool's schema, as the attribute checks need it.
#[derive(Debug, Clone)]
pub struct SchemaAttribute {
    pub name: String,
    pub data_type: AttributeDataType,
    pub required: bool,
    pub mutable: bool,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
}

impl From<&UserPoolType> for PoolSettings {
    fn from(pool: &UserPoolType) -> Self {
        let policy = pool
            .policies
            .as_ref()
            .and_then(|p| p.password_policy.as_ref());
        let password_policy = match policy {
            None => PasswordPolicy::default(),
            Some(p) => PasswordPolicy {
                minimum_length: i64::from(
                    p.minimum_length
                        .unwrap_or(defaults::PASSWORD_MINIMUM_LENGTH),
                ),
                require_uppercase: p.require_uppercase.unwrap_or(false),
                require_lowercase: p.require_lowercase.unwrap_or(false),
                require_numbers: p.require_numbers.unwrap_or(false),
                require_symbols: p.require_symbols.unwrap_or(false),
            },
        };
        let schema_attributes = pool
            .schema_attributes
            .iter()
            .flatten()
            .map(|a| {
                let strings = a.string_attribute_constraints.as_ref();
                SchemaAttribute {
                    name: a.name.clone().unwrap_or_default(),
                    data_type: a.attribute_data_type.unwrap_or(AttributeDataType::String),
                    required: a.required.unwrap_or(false),
                    mutable: a.mutable.unwrap_or(true),
                    min_length: strings
                        .and_then(|c| c.min_length.as_deref())
                        .and_then(|m| m.parse().ok()),
                    max_length: strings
                        .and_then(|c| c.max_length.as_deref())
                        .and_then(|m| m.parse().ok()),
                }
            })
            .collect();
        let validity_days = policy
            .and_then(|p| p.temporary_password_validity_days)
            .or_else(|| {
                pool.admin_create_user_config
                    .as_ref()
                    .and_then(|c| c.unused_account_validity_days)
            })
            .filter(|days| *days > 0)
            .unwrap_or(defaults::TEMPORARY_PASSWORD_VALIDITY_DAYS);
        PoolSettings {
            id: pool.id.clone().unwrap_or_default(),
            temporary_password_validity_secs: i64::from(validity_days) * 86_400,
            records_auth_events: pool.user_pool_add_ons.as_ref().is_some_and(|a| {
                a.advanced_security_mode != cognate_wire::AdvancedSecurityModeType::Off
            }),
            recovery: Recovery::from_setting(pool.account_recovery_setting.as_ref()),
            password_history_size: policy
                .and_then(|p| p.password_history_size)
                .map_or(0, i64::from),
            verify_before_update: pool
                .user_attribute_update_settings
                .iter()
                .flat_map(|s| {
                    s.attributes_require_verification_before_update
                        .iter()
                        .flatten()
                })
                .map(|a| a.as_str())
                .collect(),
            password_policy,
            lambda: pool.lambda_config.clone().unwrap_or_default(),
            schema_attributes,
            auto_verified_attributes: pool
                .auto_verified_attributes
                .iter()
                .flatten()
                .map(|a| a.as_str())
                .collect(),
            alias_attributes: pool
                .alias_attributes
                .iter()
                .flatten()
                .map(|a| a.as_str())
                .collect(),
            username_attributes: pool
                .username_attributes
                .iter()
                .flatten()
                .map(|a| a.as_str())
                .collect(),
            verification_message_template: pool
                .verification_message_template
                .clone()
                .unwrap_or_default(),
            invite_message_template: pool
                .admin_create_user_config
                .as_ref()
                .and_then(|c| c.invite_message_template.clone())
                .unwrap_or_default(),
            sms_verification_message: pool.sms_verification_message.clone(),
            email_verification_message: pool.email_verification_message.clone(),
            email_verification_subject: pool.email_verification_subject.clone(),
            email_configuration: pool.email_configuration.clone().unwrap_or_default(),
            allow_admin_create_user_only: pool
                .admin_create_user_config
                .as_ref()
                .and_then(|c| c.allow_admin_create_user_only)
                .unwrap_or(false),
            // Pools created through the API without UsernameConfiguration are case sensitive.
            case_sensitive: pool
                .username_configuration
                .as_ref()
                .map(|c| c.case_sensitive)
                .unwrap_or(true),
        }
    }
}

impl PoolSettings {
    pub fn parse(stored: &str) -> Result<Self, serde_json::Error> {
        Ok(Self::from(&config::decode_pool(stored)?))
    }

    pub fn username_key(&self, username: &str) -> String {
        if self.case_sensitive {
            username.to_string()
        } else {
            username.to_lowercase()
        }
    }

    pub fn auto_verifies(&self, attribute: &str) -> bool {
        self.auto_verified_attributes.contains(&attribute)
    }

    /// Whether a new value of `attribute` waits for verification before it takes effect.
    pub fn verifies_before_update(&self, attribute: &str) -> bool {
        self.verify_before_update.contains(&attribute)
    }

    pub fn is_alias(&self, kind: AliasKind) -> bool {
        self.alias_attributes.contains(&kind.as_str())
    }

    pub fn is_username_attribute(&self, kind: AliasKind) -> bool {
        self.username_attributes.contains(&kind.as_str())
    }

    /// Email or phone number is the username (`UsernameAttributes`).
    pub fn has_username_attributes(&self) -> bool {
        !self.username_attributes.is_empty()
    }

    pub fn developer_email(&self) -> bool {
        self.email_configuration.email_sending_account == Some(EmailSendingAccountType::Developer)
    }

    pub fn confirms_by_link(&self) -> bool {
        self.verification_message_template.default_email_option
            == Some(DefaultEmailOptionType::ConfirmWithLink)
    }

    /// The function configured for a trigger, if any.
    pub fn lambda_arn(&self, kind: TriggerKind) -> Option<&str> {
        let l = &self.lambda;
        let arn = match kind {
            TriggerKind::PreSignUp => &l.pre_sign_up,
            TriggerKind::CustomMessage => &l.custom_message,
            TriggerKind::PostConfirmation => &l.post_confirmation,
            TriggerKind::PreAuthentication => &l.pre_authentication,
            TriggerKind::PostAuthentication => &l.post_authentication,
            TriggerKind::PreTokenGeneration => &l.pre_token_generation,
            TriggerKind::DefineAuthChallenge => &l.define_auth_challenge,
            TriggerKind::CreateAuthChallenge => &l.create_auth_challenge,
            TriggerKind::VerifyAuthChallengeResponse => &l.verify_auth_challenge_response,
            TriggerKind::UserMigration => &l.user_migration,
        };
        arn.as_deref().filter(|s| !s.is_empty())
    }

    /// The PreTokenGeneration function and its event version: `PreTokenGenerationConfig` when
    /// set, else the legacy `PreTokenGeneration` ARN (version 1).
    pub fn pre_token_generation(&self) -> Option<(&str, u8)> {
        if let Some(config) = &self.lambda.pre_token_generation_config {
            let version = match config.lambda_version {
                cognate_wire::PreTokenGenerationLambdaVersionType::V10 => 1,
                cognate_wire::PreTokenGenerationLambdaVersionType::V20 => 2,
                cognate_wire::PreTokenGenerationLambdaVersionType::V30 => 3,
            };
            return Some((config.lambda_arn.as_str(), version)).filter(|(arn, _)| !arn.is_empty());
        }
        self.lambda_arn(TriggerKind::PreTokenGeneration)
            .map(|arn| (arn, 1))
    }

    pub fn schema_attribute(&self, name: &str) -> Option<&SchemaAttribute> {
        self.schema_attributes.iter().find(|a| a.name == name)
    }
}

#[derive(Debug, Clone, Default)]
pub struct ClientSettings {
    pub client_id: String,
    pub client_secret: Option<String>,
    pub prevent_user_existence_errors: bool,
    pub write_attributes: Option<Vec<String>>,
    pub read_attributes: Option<Vec<String>>,
    /// `ExplicitAuthFlows` as wire values.
    pub explicit_auth_flows: Vec<&'static str>,
    pub enable_token_revocation: bool,
    pub access_token_validity_secs: i64,
    pub id_token_validity_secs: i64,
    pub refresh_token_validity_secs: i64,
    /// How long a challenge may wait for its answer (`AuthSessionValidity`, minutes on the
    /// wire).
    pub auth_session_validity_secs: i64,
    /// `RefreshTokenRotation` enabled: its grace period in seconds (None: rotation off).
    pub refresh_token_rotation_grace_secs: Option<i64>,
}

impl From<&UserPoolClientType> for ClientSettings {
    fn from(client: &UserPoolClientType) -> Self {
        let units = client.token_validity_units.clone().unwrap_or_default();
        ClientSettings {
            client_id: client.client_id.clone().unwrap_or_default(),
            client_secret: client.client_secret.clone(),
            prevent_user_existence_errors: client.prevent_user_existence_errors
                == Some(PreventUserExistenceErrorTypes::Enabled),
            write_attributes: client.write_attributes.clone(),
            read_attributes: client.read_attributes.clone(),
            explicit_auth_flows: client
                .explicit_auth_flows
                .iter()
                .flatten()
                .map(|f| f.as_str())
                .collect(),
            enable_token_revocation: client.enable_token_revocation.unwrap_or(true),
            access_token_validity_secs: config::validity_secs(
                client.access_token_validity,
                units.access_token,
                config::TokenKind::Access,
            ),
            id_token_validity_secs: config::validity_secs(
                client.id_token_validity,
                units.id_token,
                config::TokenKind::Id,
            ),
            refresh_token_rotation_grace_secs: client
                .refresh_token_rotation
                .as_ref()
                .filter(|r| r.feature == cognate_wire::FeatureType::Enabled)
                .map(|r| i64::from(r.retry_grace_period_seconds.unwrap_or(0))),
            auth_session_validity_secs: i64::from(
                client
                    .auth_session_validity
                    .unwrap_or(config::defaults::AUTH_SESSION_VALIDITY_MINUTES),
            ) * 60,
            refresh_token_validity_secs: config::validity_secs(
                client.refresh_token_validity,
                units.refresh_token,
                config::TokenKind::Refresh,
            ),
        }
    }
}

impl ClientSettings {
    pub fn parse(stored: &str) -> Result<Self, serde_json::Error> {
        Ok(Self::from(&config::decode_client(stored)?))
    }

    pub fn hides_user_existence(&self) -> bool {
        self.prevent_user_existence_errors
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
        let pool_b = r#"{"version":1,"pool":{"Id":"p","Name":"b"}}"#;
        assert!(cached_client_context("c1", 0).is_none());
        let first = parse_client_context("c1", 0, client, r#"{"Id":"p","Name":"a"}"#).unwrap();
        let again = cached_client_context("c1", 0).unwrap();
        assert!(
            Arc::ptr_eq(&first.1, &again.1),
            "settings at the same revision are not parsed again"
        );
        assert!(cached_client_context("c1", 1).is_none());
        assert!(cached_client_context("c1", 2).is_none());
        let changed = parse_client_context("c1", 1, client, pool_b).unwrap();
        assert_eq!(changed.1.id, "p");
        assert!(!Arc::ptr_eq(&first.1, &changed.1));
        assert!(Arc::ptr_eq(
            &cached_client_context("c1", 1).unwrap().1,
            &changed.1
        ));
        assert!(parse_client_context("c2", 0, "{", "{}").is_err());
    }
}

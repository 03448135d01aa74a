//! Pool and client configuration as typed structures: the model's `UserPoolType` and
//! `UserPoolClientType`, built from the create/update requests with every AWS default applied
//! here and nowhere else, and stored in a versioned envelope (`StoredPool`, `StoredClient`) so
//! later fields are added as typed members, not string keys. DescribeUserPool and
//! DescribeUserPoolClient answer exactly what is stored.

use serde::{Deserialize, Serialize};

use cognate_wire::{
    AdminCreateUserConfigType, AttributeDataType, CreateUserPoolClientRequest,
    CreateUserPoolRequest, DefaultEmailOptionType, DeletionProtectionType, EmailConfigurationType,
    EmailSendingAccountType, ExplicitAuthFlowsType, LambdaConfigType,
    NumberAttributeConstraintsType, PasswordPolicyType, PreventUserExistenceErrorTypes,
    SchemaAttributeType, StringAttributeConstraintsType, TimeUnitsType, TokenValidityUnitsType,
    UpdateUserPoolClientRequest, UpdateUserPoolRequest, UserAttributeUpdateSettingsType,
    UserPoolClientType, UserPoolMfaType, UserPoolPolicyType, UserPoolTierType, UserPoolType,
    VerificationMessageTemplateType,
};

use crate::error::{DomainError, DomainResult, Invalid, UrlList, UrlProblem};

/// AWS's defaults, in one place.
pub mod defaults {
    pub const CODE_MESSAGE: &str = "Your verification code is {####}. ";
    pub const CODE_SUBJECT: &str = "Your verification code";
    pub const INVITE_MESSAGE: &str =
        "Your username is {username} and temporary password is {####}. ";
    pub const INVITE_SUBJECT: &str = "Your temporary password";
    pub const LINK_MESSAGE: &str =
        "Please click the link below to verify your email address. {##Verify Email##} ";
    pub const LINK_SUBJECT: &str = "Your verification link";
    pub const PASSWORD_MINIMUM_LENGTH: i32 = 8;
    pub const TEMPORARY_PASSWORD_VALIDITY_DAYS: i32 = 7;
    pub const UNUSED_ACCOUNT_VALIDITY_DAYS: i32 = 7;
    pub const REFRESH_TOKEN_VALIDITY_DAYS: i32 = 30;
    pub const ACCESS_TOKEN_VALIDITY_MINUTES: i32 = 60;
    pub const ID_TOKEN_VALIDITY_MINUTES: i32 = 60;
    pub const AUTH_SESSION_VALIDITY_MINUTES: i32 = 3;
    pub const MAX_CUSTOM_ATTRIBUTES: usize = 50;
    pub const MAX_CUSTOM_ATTRIBUTE_NAME: usize = 20;
}

/// The version of the stored envelope this build writes. Version 0 is the bare wire JSON that
/// earlier builds stored; it is read as it is.
pub const CONFIG_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct StoredPool {
    version: u32,
    pool: UserPoolType,
}

#[derive(Serialize, Deserialize)]
struct StoredClient {
    version: u32,
    client: UserPoolClientType,
}

pub fn encode_pool(pool: &UserPoolType) -> String {
    serde_json::to_string(&StoredPool {
        version: CONFIG_VERSION,
        pool: pool.clone(),
    })
    .unwrap_or_default()
}

pub fn decode_pool(text: &str) -> Result<UserPoolType, serde_json::Error> {
    match serde_json::from_str::<StoredPool>(text) {
        Ok(stored) => Ok(stored.pool),
        Err(_) => serde_json::from_str(text),
    }
}

pub fn encode_client(client: &UserPoolClientType) -> String {
    serde_json::to_string(&StoredClient {
        version: CONFIG_VERSION,
        client: client.clone(),
    })
    .unwrap_or_default()
}

pub fn decode_client(text: &str) -> Result<UserPoolClientType, serde_json::Error> {
    match serde_json::from_str::<StoredClient>(text) {
        Ok(stored) => Ok(stored.client),
        Err(_) => serde_json::from_str(text),
    }
}

// ------------------------------------------------------------------ pools

/// A new pool's settings: the request with AWS's defaults filled in.
pub fn new_pool(
    input: CreateUserPoolRequest,
    id: String,
    arn: String,
    now: i64,
) -> DomainResult<UserPoolType> {
    check_pool_rules(
        input
            .username_attributes
            .as_deref()
            .unwrap_or_default()
            .len(),
        input.alias_attributes.as_deref().unwrap_or_default().len(),
        input.verification_message_template.as_ref(),
    )?;
    let template = verification_template(
        input.verification_message_template.clone(),
        &input.sms_verification_message,
        &input.email_verification_message,
        &input.email_verification_subject,
    );
    Ok(UserPoolType {
        id: Some(id),
        name: Some(input.pool_name),
        arn: Some(arn),
        policies: Some(policies(
            input.policies,
            legacy_validity(input.admin_create_user_config.as_ref()),
        )),
        deletion_protection: Some(
            input
                .deletion_protection
                .unwrap_or(DeletionProtectionType::Inactive),
        ),
        lambda_config: Some(input.lambda_config.unwrap_or_default()),
        schema_attributes: Some(build_schema(input.schema)?),
        auto_verified_attributes: input.auto_verified_attributes,
        alias_attributes: input.alias_attributes,
        username_attributes: input.username_attributes,
        sms_verification_message: input.sms_verification_message,
        email_verification_message: input.email_verification_message,
        email_verification_subject: input.email_verification_subject,
        verification_message_template: Some(template),
        sms_authentication_message: input.sms_authentication_message,
        user_attribute_update_settings: Some(
            input
                .user_attribute_update_settings
                .unwrap_or_else(default_attribute_update_settings),
        ),
        mfa_configuration: Some(input.mfa_configuration.unwrap_or(UserPoolMfaType::Off)),
        device_configuration: input.device_configuration,
        email_configuration: Some(
            input
                .email_configuration
                .unwrap_or_else(default_email_configuration),
        ),
        sms_configuration: input.sms_configuration,
        user_pool_tags: input.user_pool_tags,
        admin_create_user_config: Some(admin_create_user_config(input.admin_create_user_config)),
        user_pool_add_ons: input.user_pool_add_ons,
        username_configuration: input.username_configuration,
        account_recovery_setting: input.account_recovery_setting,
        user_pool_tier: Some(input.user_pool_tier.unwrap_or(UserPoolTierType::Essentials)),
        key_configuration: input.key_configuration,
        issuer_configuration: input.issuer_configuration,
        creation_date: Some(now as f64),
        last_modified_date: Some(now as f64),
        ..UserPoolType::default()
    })
}

/// A pool's settings after UpdateUserPool. As on AWS, omitted settings return to their
/// defaults; the name is kept when omitted, and so are the tier and the attribute-update
/// settings. Schema, aliases and username settings cannot change.
pub fn updated_pool(
    mut pool: UserPoolType,
    input: UpdateUserPoolRequest,
    now: i64,
) -> DomainResult<UserPoolType> {
    check_pool_rules(0, 0, input.verification_message_template.as_ref())?;
    let template = verification_template(
        input.verification_message_template.clone(),
        &input.sms_verification_message,
        &input.email_verification_message,
        &input.email_verification_subject,
    );
    if let Some(name) = input.pool_name {
        pool.name = Some(name);
    }
    pool.policies = Some(policies(
        input.policies,
        legacy_validity(input.admin_create_user_config.as_ref()),
    ));
    pool.deletion_protection = Some(
        input
            .deletion_protection
            .unwrap_or(DeletionProtectionType::Inactive),
    );
    pool.lambda_config = Some(input.lambda_config.unwrap_or_default());
    pool.auto_verified_attributes = input.auto_verified_attributes;
    pool.sms_verification_message = input.sms_verification_message;
    pool.email_verification_message = input.email_verification_message;
    pool.email_verification_subject = input.email_verification_subject;
    pool.verification_message_template = Some(template);
    pool.sms_authentication_message = input.sms_authentication_message;
    if input.user_attribute_update_settings.is_some() {
        pool.user_attribute_update_settings = input.user_attribute_update_settings;
    }
    pool.mfa_configuration = Some(input.mfa_configuration.unwrap_or(UserPoolMfaType::Off));
    pool.device_configuration = input.device_configuration;
    pool.email_configuration = Some(
        input
            .email_configuration
            .unwrap_or_else(default_email_configuration),
    );
    pool.sms_configuration = input.sms_configuration;
    pool.user_pool_tags = input.user_pool_tags;
    pool.admin_create_user_config = Some(admin_create_user_config(input.admin_create_user_config));
    pool.user_pool_add_ons = input.user_pool_add_ons;
    pool.account_recovery_setting = input.account_recovery_setting;
    if input.user_pool_tier.is_some() {
        pool.user_pool_tier = input.user_pool_tier;
    }
    pool.key_configuration = input.key_configuration;
    pool.issuer_configuration = input.issuer_configuration;
    pool.last_modified_date = Some(now as f64);
    Ok(pool)
}

fn default_email_configuration() -> EmailConfigurationType {
    EmailConfigurationType {
        email_sending_account: Some(EmailSendingAccountType::CognitoDefault),
        ..Default::default()
    }
}

fn default_attribute_update_settings() -> UserAttributeUpdateSettingsType {
    UserAttributeUpdateSettingsType {
        attributes_require_verification_before_update: Some(Vec::new()),
    }
}

fn admin_create_user_config(given: Option<AdminCreateUserConfigType>) -> AdminCreateUserConfigType {
    let given = given.unwrap_or_default();
    AdminCreateUserConfigType {
        allow_admin_create_user_only: Some(given.allow_admin_create_user_only.unwrap_or(false)),
        unused_account_validity_days: Some(
            given
                .unused_account_validity_days
                .unwrap_or(defaults::UNUSED_ACCOUNT_VALIDITY_DAYS),
        ),
        invite_message_template: given.invite_message_template,
    }
}

/// The legacy `UnusedAccountValidityDays`, which sets the temporary-password validity when
/// the password policy does not (the model: it cannot be set once the newer one is).
fn legacy_validity(config: Option<&AdminCreateUserConfigType>) -> Option<i32> {
    config
        .and_then(|c| c.unused_account_validity_days)
        .filter(|days| *days > 0)
}

/// The pool's policies. Without a password policy every rule is on; a given policy replaces
/// the defaults member by member, and its omitted rules are off. The temporary-password
/// validity is the policy's, else the legacy setting's, else 7 days.
fn policies(given: Option<UserPoolPolicyType>, legacy_validity: Option<i32>) -> UserPoolPolicyType {
    let default_validity = legacy_validity.unwrap_or(defaults::TEMPORARY_PASSWORD_VALIDITY_DAYS);
    let mut policies = given.unwrap_or_default();
    let password = match policies.password_policy.take() {
        None => PasswordPolicyType {
            minimum_length: Some(defaults::PASSWORD_MINIMUM_LENGTH),
            require_uppercase: Some(true),
            require_lowercase: Some(true),
            require_numbers: Some(true),
            require_symbols: Some(true),
            temporary_password_validity_days: Some(default_validity),
            ..Default::default()
        },
        Some(p) => PasswordPolicyType {
            minimum_length: Some(
                p.minimum_length
                    .unwrap_or(defaults::PASSWORD_MINIMUM_LENGTH),
            ),
            require_uppercase: Some(p.require_uppercase.unwrap_or(false)),
            require_lowercase: Some(p.require_lowercase.unwrap_or(false)),
            require_numbers: Some(p.require_numbers.unwrap_or(false)),
            require_symbols: Some(p.require_symbols.unwrap_or(false)),
            temporary_password_validity_days: Some(
                p.temporary_password_validity_days
                    .unwrap_or(default_validity),
            ),
            ..p
        },
    };
    policies.password_policy = Some(password);
    policies
}

/// The verification template: AWS's defaults, overridden by the legacy top-level messages,
/// overridden by the members of the given template.
fn verification_template(
    given: Option<VerificationMessageTemplateType>,
    sms: &Option<String>,
    email: &Option<String>,
    subject: &Option<String>,
) -> VerificationMessageTemplateType {
    let given = given.unwrap_or_default();
    VerificationMessageTemplateType {
        sms_message: given
            .sms_message
            .or_else(|| sms.clone())
            .or_else(|| Some(defaults::CODE_MESSAGE.into())),
        email_message: given
            .email_message
            .or_else(|| email.clone())
            .or_else(|| Some(defaults::CODE_MESSAGE.into())),
        email_subject: given
            .email_subject
            .or_else(|| subject.clone())
            .or_else(|| Some(defaults::CODE_SUBJECT.into())),
        email_message_by_link: given
            .email_message_by_link
            .or_else(|| Some(defaults::LINK_MESSAGE.into())),
        email_subject_by_link: given
            .email_subject_by_link
            .or_else(|| Some(defaults::LINK_SUBJECT.into())),
        default_email_option: given
            .default_email_option
            .or(Some(DefaultEmailOptionType::ConfirmWithCode)),
    }
}

fn check_pool_rules(
    username_attributes: usize,
    alias_attributes: usize,
    template: Option<&VerificationMessageTemplateType>,
) -> DomainResult<()> {
    let invalid = |reason| Err(DomainError::Invalid(reason));
    if username_attributes > 0 && alias_attributes > 0 {
        return invalid(Invalid::AliasAndUsernameAttributes);
    }
    let Some(t) = template else {
        return Ok(());
    };
    let non_empty = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.is_empty());
    if t.sms_message
        .as_deref()
        .is_some_and(|m| !m.contains("{####}"))
    {
        return invalid(Invalid::SmsMessageWithoutCode);
    }
    if t.email_message
        .as_deref()
        .is_some_and(|m| !m.contains("{####}"))
    {
        return invalid(Invalid::EmailMessageWithoutCode);
    }
    let by_link = t.default_email_option == Some(DefaultEmailOptionType::ConfirmWithLink);
    if by_link && !non_empty(&t.email_message_by_link) && non_empty(&t.email_message) {
        return invalid(Invalid::EmailMessageByLinkRequired);
    }
    if t.email_message_by_link
        .as_deref()
        .is_some_and(|m| !(m.contains("{##") && m.contains("##}")))
    {
        return invalid(Invalid::EmailMessageByLinkWithoutLink);
    }
    Ok(())
}

/// Cognito's standard attributes, as every pool's schema starts.
pub fn standard_schema() -> Vec<SchemaAttributeType> {
    let string = |name: &str, mutable: bool, required: bool, min: &str, max: Option<&str>| {
        SchemaAttributeType {
            name: Some(name.into()),
            attribute_data_type: Some(AttributeDataType::String),
            developer_only_attribute: Some(false),
            mutable: Some(mutable),
            required: Some(required),
            string_attribute_constraints: Some(StringAttributeConstraintsType {
                min_length: (!min.is_empty()).then(|| min.into()),
                max_length: max.map(str::to_string),
            }),
            number_attribute_constraints: None,
        }
    };
    let optional = |name: &str| string(name, true, false, "0", Some("2048"));
    let boolean = |name: &str| SchemaAttributeType {
        name: Some(name.into()),
        attribute_data_type: Some(AttributeDataType::Boolean),
        developer_only_attribute: Some(false),
        mutable: Some(true),
        required: Some(false),
        ..Default::default()
    };
    vec![
        string("sub", false, true, "1", Some("2048")),
        optional("name"),
        optional("given_name"),
        optional("family_name"),
        optional("middle_name"),
        optional("nickname"),
        optional("preferred_username"),
        optional("profile"),
        optional("picture"),
        optional("website"),
        optional("email"),
        boolean("email_verified"),
        optional("gender"),
        string("birthdate", true, false, "10", Some("10")),
        optional("zoneinfo"),
        optional("locale"),
        optional("phone_number"),
        boolean("phone_number_verified"),
        optional("address"),
        SchemaAttributeType {
            name: Some("updated_at".into()),
            attribute_data_type: Some(AttributeDataType::Number),
            developer_only_attribute: Some(false),
            mutable: Some(true),
            required: Some(false),
            number_attribute_constraints: Some(NumberAttributeConstraintsType {
                min_value: Some("0".into()),
                max_value: None,
            }),
            string_attribute_constraints: None,
        },
        string("identities", true, false, "", None),
    ]
}

/// Merges the caller's schema into the standard attributes: a standard name adjusts the
/// standard entry, any other name becomes a `custom:` attribute.
fn build_schema(
    requested: Option<Vec<SchemaAttributeType>>,
) -> DomainResult<Vec<SchemaAttributeType>> {
    let mut schema = standard_schema();
    let mut custom_count = 0;
    for item in requested.unwrap_or_default() {
        let Some(name) = item.name.clone() else {
            return Err(DomainError::Invalid(Invalid::SchemaAttributeNameRequired));
        };
        if let Some(existing) = schema
            .iter_mut()
            .find(|a| a.name.as_deref() == Some(name.as_str()))
        {
            if name != "sub" {
                existing.required = item.required.or(existing.required);
                existing.mutable = item.mutable.or(existing.mutable);
                if item.string_attribute_constraints.is_some() {
                    existing.string_attribute_constraints = item.string_attribute_constraints;
                }
                if item.number_attribute_constraints.is_some() {
                    existing.number_attribute_constraints = item.number_attribute_constraints;
                }
            }
            continue;
        }
        custom_count += 1;
        if custom_count > defaults::MAX_CUSTOM_ATTRIBUTES {
            return Err(DomainError::Invalid(Invalid::TooManyCustomAttributes));
        }
        schema.push(custom_attribute(&name, item)?);
    }
    Ok(schema)
}

/// A custom attribute as the schema keeps it (`custom:` prefixed, never required).
fn custom_attribute(name: &str, item: SchemaAttributeType) -> DomainResult<SchemaAttributeType> {
    let bare = name.strip_prefix("custom:").unwrap_or(name);
    if bare.is_empty() || bare.chars().count() > defaults::MAX_CUSTOM_ATTRIBUTE_NAME {
        return Err(DomainError::Invalid(Invalid::CustomAttributeName {
            name: name.to_string(),
        }));
    }
    if item.required == Some(true) {
        return Err(DomainError::Invalid(Invalid::RequiredCustomAttribute));
    }
    let data_type = item
        .attribute_data_type
        .unwrap_or(AttributeDataType::String);
    let string_constraints = match (data_type, item.string_attribute_constraints) {
        (AttributeDataType::String, None) => Some(StringAttributeConstraintsType::default()),
        (_, given) => given,
    };
    Ok(SchemaAttributeType {
        name: Some(format!("custom:{bare}")),
        attribute_data_type: Some(data_type),
        developer_only_attribute: Some(item.developer_only_attribute.unwrap_or(false)),
        mutable: Some(item.mutable.unwrap_or(true)),
        required: Some(false),
        string_attribute_constraints: string_constraints,
        number_attribute_constraints: item.number_attribute_constraints,
    })
}

/// AddCustomAttributes: the pool's schema with `items` added as custom attributes, under the
/// rules CreateUserPool applies (names, not required, at most 50), none replacing one it has.
pub fn with_custom_attributes(
    mut pool: UserPoolType,
    items: Vec<SchemaAttributeType>,
    now: i64,
) -> DomainResult<UserPoolType> {
    let mut schema = pool.schema_attributes.take().unwrap_or_default();
    for item in items {
        let Some(name) = item.name.clone() else {
            return Err(DomainError::Invalid(Invalid::SchemaAttributeNameRequired));
        };
        let added = custom_attribute(&name, item)?;
        if schema.iter().any(|a| a.name == added.name) {
            return Err(DomainError::Invalid(Invalid::AttributeExists {
                name: added.name.unwrap_or_default(),
            }));
        }
        schema.push(added);
    }
    let customs = schema
        .iter()
        .filter(|a| a.name.as_deref().is_some_and(|n| n.starts_with("custom:")))
        .count();
    if customs > defaults::MAX_CUSTOM_ATTRIBUTES {
        return Err(DomainError::Invalid(Invalid::TooManyCustomAttributes));
    }
    pool.schema_attributes = Some(schema);
    pool.last_modified_date = Some(now as f64);
    Ok(pool)
}

// ------------------------------------------------------------------ app clients

/// The three tokens a client's validity settings govern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Id,
    Refresh,
}

/// A token's lifetime in seconds from the client's stored value and unit. Without a unit AWS
/// reads ID and access values as hours and refresh values as days; without a value the
/// defaults are 1 h, 1 h and 30 days, and a refresh value of 0 means 30 days.
pub fn validity_secs(value: Option<i32>, unit: Option<TimeUnitsType>, kind: TokenKind) -> i64 {
    let default_unit = match kind {
        TokenKind::Access | TokenKind::Id => TimeUnitsType::Hours,
        TokenKind::Refresh => TimeUnitsType::Days,
    };
    let seconds_per = |unit: TimeUnitsType| match unit {
        TimeUnitsType::Seconds => 1,
        TimeUnitsType::Minutes => 60,
        TimeUnitsType::Hours => 3600,
        TimeUnitsType::Days => 86_400,
    };
    match (kind, value) {
        (TokenKind::Refresh, None | Some(0)) => {
            i64::from(defaults::REFRESH_TOKEN_VALIDITY_DAYS) * 86_400
        }
        (_, None) => 3600,
        (_, Some(v)) => i64::from(v) * seconds_per(unit.unwrap_or(default_unit)),
    }
}

fn default_token_units() -> TokenValidityUnitsType {
    TokenValidityUnitsType {
        access_token: Some(TimeUnitsType::Minutes),
        id_token: Some(TimeUnitsType::Minutes),
        refresh_token: Some(TimeUnitsType::Days),
    }
}

fn default_auth_flows() -> Vec<ExplicitAuthFlowsType> {
    vec![
        ExplicitAuthFlowsType::AllowRefreshTokenAuth,
        ExplicitAuthFlowsType::AllowUserSrpAuth,
        ExplicitAuthFlowsType::AllowCustomAuth,
    ]
}

/// A client's members that CreateUserPoolClient and UpdateUserPoolClient share, with AWS's
/// defaults for those omitted.
struct ClientSettingsInput {
    refresh_token_validity: Option<i32>,
    access_token_validity: Option<i32>,
    id_token_validity: Option<i32>,
    token_validity_units: Option<TokenValidityUnitsType>,
    read_attributes: Option<Vec<String>>,
    write_attributes: Option<Vec<String>>,
    explicit_auth_flows: Option<Vec<ExplicitAuthFlowsType>>,
    supported_identity_providers: Option<Vec<String>>,
    callback_urls: Option<Vec<String>>,
    logout_urls: Option<Vec<String>>,
    default_redirect_uri: Option<String>,
    allowed_oauth_flows: Option<Vec<cognate_wire::OAuthFlowType>>,
    allowed_oauth_scopes: Option<Vec<String>>,
    allowed_oauth_flows_user_pool_client: Option<bool>,
    analytics_configuration: Option<cognate_wire::AnalyticsConfigurationType>,
    prevent_user_existence_errors: Option<PreventUserExistenceErrorTypes>,
    enable_token_revocation: Option<bool>,
    enable_propagate_additional_user_context_data: Option<bool>,
    auth_session_validity: Option<i32>,
    refresh_token_rotation: Option<cognate_wire::RefreshTokenRotationType>,
}

impl ClientSettingsInput {
    /// The units to store. A given unit stands; a value given without its unit is in hours
    /// (ID, access) or days (refresh), as AWS reads it; the defaults are shown as 60 minutes.
    fn units(&self) -> TokenValidityUnitsType {
        let given = self.token_validity_units.clone().unwrap_or_default();
        let defaults = default_token_units();
        let pick = |given: Option<TimeUnitsType>, value_given: bool, default, unitless| {
            given.or(if value_given { Some(unitless) } else { default })
        };
        TokenValidityUnitsType {
            access_token: pick(
                given.access_token,
                self.access_token_validity.is_some(),
                defaults.access_token,
                TimeUnitsType::Hours,
            ),
            id_token: pick(
                given.id_token,
                self.id_token_validity.is_some(),
                defaults.id_token,
                TimeUnitsType::Hours,
            ),
            refresh_token: pick(
                given.refresh_token,
                self.refresh_token_validity.is_some(),
                defaults.refresh_token,
                TimeUnitsType::Days,
            ),
        }
    }

    fn apply(self, client: &mut UserPoolClientType) -> DomainResult<()> {
        check_auth_flows(self.explicit_auth_flows.as_deref())?;
        client.refresh_token_validity = Some(
            self.refresh_token_validity
                .unwrap_or(defaults::REFRESH_TOKEN_VALIDITY_DAYS),
        );
        client.access_token_validity = Some(
            self.access_token_validity
                .unwrap_or(defaults::ACCESS_TOKEN_VALIDITY_MINUTES),
        );
        client.id_token_validity = Some(
            self.id_token_validity
                .unwrap_or(defaults::ID_TOKEN_VALIDITY_MINUTES),
        );
        client.token_validity_units = Some(self.units());
        client.read_attributes = self.read_attributes;
        client.write_attributes = self.write_attributes;
        client.explicit_auth_flows =
            Some(self.explicit_auth_flows.unwrap_or_else(default_auth_flows));
        client.supported_identity_providers = self.supported_identity_providers;
        client.callback_urls = self.callback_urls;
        client.logout_urls = self.logout_urls;
        client.default_redirect_uri = self.default_redirect_uri;
        client.allowed_oauth_flows = self.allowed_oauth_flows;
        client.allowed_oauth_scopes = self.allowed_oauth_scopes;
        client.allowed_oauth_flows_user_pool_client =
            Some(self.allowed_oauth_flows_user_pool_client.unwrap_or(false));
        client.analytics_configuration = self.analytics_configuration;
        client.prevent_user_existence_errors = Some(
            self.prevent_user_existence_errors
                .unwrap_or(PreventUserExistenceErrorTypes::Legacy),
        );
        client.enable_token_revocation = Some(self.enable_token_revocation.unwrap_or(true));
        client.enable_propagate_additional_user_context_data = Some(
            self.enable_propagate_additional_user_context_data
                .unwrap_or(false),
        );
        client.auth_session_validity = Some(
            self.auth_session_validity
                .unwrap_or(defaults::AUTH_SESSION_VALIDITY_MINUTES),
        );
        client.refresh_token_rotation = self.refresh_token_rotation;
        Ok(())
    }
}

/// A new client's settings. `secret` is the given or generated secret, if any.
pub fn new_client(
    input: CreateUserPoolClientRequest,
    client_id: String,
    generate_secret: impl FnOnce() -> String,
    now: i64,
) -> DomainResult<UserPoolClientType> {
    if input.client_secret.is_some() && input.generate_secret == Some(false) {
        return Err(DomainError::Invalid(Invalid::ClientSecretWithoutGenerate));
    }
    let secret = match (input.client_secret, input.generate_secret) {
        (Some(given), _) => Some(given),
        (None, Some(true)) => Some(generate_secret()),
        (None, _) => None,
    };
    let mut client = UserPoolClientType {
        user_pool_id: Some(input.user_pool_id),
        client_name: Some(input.client_name),
        client_id: Some(client_id),
        client_secret: secret,
        creation_date: Some(now as f64),
        last_modified_date: Some(now as f64),
        ..Default::default()
    };
    ClientSettingsInput {
        refresh_token_validity: input.refresh_token_validity,
        access_token_validity: input.access_token_validity,
        id_token_validity: input.id_token_validity,
        token_validity_units: input.token_validity_units,
        read_attributes: input.read_attributes,
        write_attributes: input.write_attributes,
        explicit_auth_flows: input.explicit_auth_flows,
        supported_identity_providers: input.supported_identity_providers,
        callback_urls: input.callback_urls,
        logout_urls: input.logout_urls,
        default_redirect_uri: input.default_redirect_uri,
        allowed_oauth_flows: input.allowed_oauth_flows,
        allowed_oauth_scopes: input.allowed_oauth_scopes,
        allowed_oauth_flows_user_pool_client: input.allowed_oauth_flows_user_pool_client,
        analytics_configuration: input.analytics_configuration,
        prevent_user_existence_errors: input.prevent_user_existence_errors,
        enable_token_revocation: input.enable_token_revocation,
        enable_propagate_additional_user_context_data: input
            .enable_propagate_additional_user_context_data,
        auth_session_validity: input.auth_session_validity,
        refresh_token_rotation: input.refresh_token_rotation,
    }
    .apply(&mut client)?;
    Ok(client)
}

/// A client's settings after UpdateUserPoolClient: omitted settings return to their
/// defaults, as on AWS; identity, secret, creation date and (when omitted) name stay.
pub fn updated_client(
    old: UserPoolClientType,
    input: UpdateUserPoolClientRequest,
    now: i64,
) -> DomainResult<UserPoolClientType> {
    let mut client = UserPoolClientType {
        user_pool_id: old.user_pool_id,
        client_id: old.client_id,
        client_secret: old.client_secret,
        creation_date: old.creation_date,
        client_name: input.client_name.or(old.client_name),
        last_modified_date: Some(now as f64),
        ..Default::default()
    };
    ClientSettingsInput {
        refresh_token_validity: input.refresh_token_validity,
        access_token_validity: input.access_token_validity,
        id_token_validity: input.id_token_validity,
        token_validity_units: input.token_validity_units,
        read_attributes: input.read_attributes,
        write_attributes: input.write_attributes,
        explicit_auth_flows: input.explicit_auth_flows,
        supported_identity_providers: input.supported_identity_providers,
        callback_urls: input.callback_urls,
        logout_urls: input.logout_urls,
        default_redirect_uri: input.default_redirect_uri,
        allowed_oauth_flows: input.allowed_oauth_flows,
        allowed_oauth_scopes: input.allowed_oauth_scopes,
        allowed_oauth_flows_user_pool_client: input.allowed_oauth_flows_user_pool_client,
        analytics_configuration: input.analytics_configuration,
        prevent_user_existence_errors: input.prevent_user_existence_errors,
        enable_token_revocation: input.enable_token_revocation,
        enable_propagate_additional_user_context_data: input
            .enable_propagate_additional_user_context_data,
        auth_session_validity: input.auth_session_validity,
        refresh_token_rotation: input.refresh_token_rotation,
    }
    .apply(&mut client)?;
    Ok(client)
}

/// `ALLOW_` flows and legacy flows cannot be mixed.
fn check_auth_flows(flows: Option<&[ExplicitAuthFlowsType]>) -> DomainResult<()> {
    let flows = flows.unwrap_or_default();
    let legacy = flows.iter().any(|f| !f.as_str().starts_with("ALLOW_"));
    let modern = flows.iter().any(|f| f.as_str().starts_with("ALLOW_"));
    if legacy && modern {
        return Err(DomainError::Invalid(Invalid::MixedAuthFlows));
    }
    Ok(())
}

/// The scopes every pool has (spec vii.1); others are `<identifier>/<scope>` of a resource
/// server of the pool.
pub const STANDARD_SCOPES: [&str; 5] = [
    "openid",
    "email",
    "phone",
    "profile",
    "aws.cognito.signin.user.admin",
];

pub fn is_standard_scope(scope: &str) -> bool {
    STANDARD_SCOPES.contains(&scope)
}

/// The one identity provider a pool has here.
pub const COGNITO_PROVIDER: &str = "COGNITO";

/// Checks a client's OAuth settings as AWS does (spec vii.1): the OAuth switch needs flows
/// and scopes, `client_credentials` stands alone and needs a secret, every scope exists
/// (`custom_scope_exists` answers for `<identifier>/<scope>` values), callback and logout URLs
/// are absolute, without fragment and HTTPS unless to a loopback host, `DefaultRedirectURI`
/// is a callback URL, and every identity provider exists.
pub fn check_oauth_settings(
    client: &UserPoolClientType,
    pool_id: &str,
    custom_scope_exists: impl Fn(&str) -> bool,
) -> DomainResult<()> {
    use cognate_wire::OAuthFlowType;
    let flows = client.allowed_oauth_flows.as_deref().unwrap_or_default();
    let scopes = client.allowed_oauth_scopes.as_deref().unwrap_or_default();
    if client.allowed_oauth_flows_user_pool_client == Some(true)
        && (flows.is_empty() || scopes.is_empty())
    {
        return Err(DomainError::Invalid(Invalid::OAuthFlowsAndScopesRequired));
    }
    if flows.contains(&OAuthFlowType::ClientCredentials) {
        if flows.iter().any(|f| *f != OAuthFlowType::ClientCredentials) {
            return Err(DomainError::ClientCredentialsNotAlone);
        }
        if client.client_secret.is_none() {
            return Err(DomainError::ClientCredentialsWithoutSecret);
        }
    }
    if let Some(scope) = scopes
        .iter()
        .find(|s| !is_standard_scope(s) && !custom_scope_exists(s))
    {
        return Err(DomainError::ScopeDoesNotExist {
            scope: scope.clone(),
        });
    }
    let callbacks = client.callback_urls.as_deref().unwrap_or_default();
    for url in callbacks {
        check_redirect_url(UrlList::Callback, url)?;
    }
    for url in client.logout_urls.as_deref().unwrap_or_default() {
        check_redirect_url(UrlList::Logout, url)?;
    }
    if let Some(default) = &client.default_redirect_uri {
        if !callbacks.contains(default) {
            return Err(DomainError::Invalid(Invalid::DefaultRedirectNotCallback));
        }
    }
    if let Some(name) = client
        .supported_identity_providers
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|p| p.as_str() != COGNITO_PROVIDER)
    {
        return Err(DomainError::Invalid(Invalid::UnknownIdentityProvider {
            name: name.clone(),
            pool_id: pool_id.to_string(),
        }));
    }
    Ok(())
}

/// A callback or logout URL: absolute (a scheme and something after it), no fragment, and
/// `http:` only to `localhost`, `127.0.0.1` or `[::1]` (any port). App schemes
/// (`myapp://…`) pass.
fn check_redirect_url(list: UrlList, url: &str) -> DomainResult<()> {
    let fail = |problem| {
        Err(DomainError::Invalid(Invalid::RedirectUrl {
            list,
            url: url.to_string(),
            problem,
        }))
    };
    let Some((scheme, rest)) = url.split_once(':') else {
        return fail(UrlProblem::NotAbsolute);
    };
    let scheme_ok = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok || rest.is_empty() || url.chars().any(char::is_whitespace) {
        return fail(UrlProblem::NotAbsolute);
    }
    if url.contains('#') {
        return fail(UrlProblem::Fragment);
    }
    let scheme = scheme.to_ascii_lowercase();
    if scheme == "http" || scheme == "https" {
        let Some(after) = rest.strip_prefix("//") else {
            return fail(UrlProblem::NotAbsolute);
        };
        let authority = after.split(['/', '?']).next().unwrap_or_default();
        let host_port = authority.rsplit('@').next().unwrap_or_default();
        if host_port.is_empty() {
            return fail(UrlProblem::NotAbsolute);
        }
        if scheme == "http" && !is_loopback_host(host_port) {
            return fail(UrlProblem::Insecure);
        }
    }
    Ok(())
}

/// `localhost`, `127.0.0.1` or `[::1]`, with or without a port.
fn is_loopback_host(host_port: &str) -> bool {
    let host = if host_port.starts_with('[') {
        host_port
            .find(']')
            .map_or(host_port, |end| &host_port[..=end])
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    let port = &host_port[host.len()..];
    let port_ok = port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    port_ok
        && matches!(
            host.to_ascii_lowercase().as_str(),
            "localhost" | "127.0.0.1" | "[::1]"
        )
}

/// A pool's LambdaConfig as ListUserPools shows it (empty when none is set).
pub fn lambda_config_of(pool: &UserPoolType) -> LambdaConfigType {
    pool.lambda_config.clone().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(json: serde_json::Value) -> UserPoolType {
        let input: CreateUserPoolRequest = serde_json::from_value(json).unwrap();
        new_pool(input, "us-east-1_x".into(), "arn".into(), 100).unwrap()
    }

    #[test]
    fn a_pool_gets_aws_defaults() {
        let pool = create(serde_json::json!({"PoolName": "p"}));
        let p = pool.policies.unwrap().password_policy.unwrap();
        assert_eq!(p.minimum_length, Some(8));
        assert_eq!(p.require_symbols, Some(true));
        assert_eq!(p.temporary_password_validity_days, Some(7));
        assert_eq!(pool.mfa_configuration, Some(UserPoolMfaType::Off));
        assert_eq!(pool.schema_attributes.unwrap().len(), 21);
        let t = pool.verification_message_template.unwrap();
        assert_eq!(t.email_message.as_deref(), Some(defaults::CODE_MESSAGE));
        assert_eq!(
            t.default_email_option,
            Some(DefaultEmailOptionType::ConfirmWithCode)
        );
    }

    #[test]
    fn a_given_password_policy_turns_omitted_rules_off() {
        let pool = create(serde_json::json!({"PoolName": "p",
            "Policies": {"PasswordPolicy": {"MinimumLength": 6, "RequireNumbers": true}}}));
        let p = pool.policies.unwrap().password_policy.unwrap();
        assert_eq!(p.minimum_length, Some(6));
        assert_eq!(p.require_numbers, Some(true));
        assert_eq!(p.require_uppercase, Some(false));
    }

    #[test]
    fn legacy_messages_feed_the_template_unless_it_says_otherwise() {
        let pool = create(serde_json::json!({"PoolName": "p",
            "EmailVerificationMessage": "legacy {####}",
            "VerificationMessageTemplate": {"SmsMessage": "sms {####}"}}));
        let t = pool.verification_message_template.unwrap();
        assert_eq!(t.email_message.as_deref(), Some("legacy {####}"));
        assert_eq!(t.sms_message.as_deref(), Some("sms {####}"));
    }

    #[test]
    fn stored_form_round_trips_and_reads_the_bare_legacy_form() {
        let pool = create(serde_json::json!({"PoolName": "p"}));
        let text = encode_pool(&pool);
        assert!(text.starts_with("{\"version\":1,"));
        assert_eq!(decode_pool(&text).unwrap(), pool);
        let legacy = serde_json::to_string(&pool).unwrap();
        assert_eq!(decode_pool(&legacy).unwrap(), pool);
    }

    #[test]
    fn custom_attributes_are_prefixed_and_checked() {
        let pool = create(serde_json::json!({"PoolName": "p",
            "Schema": [{"Name": "tier", "AttributeDataType": "String"}]}));
        let schema = pool.schema_attributes.unwrap();
        let custom = schema.last().unwrap();
        assert_eq!(custom.name.as_deref(), Some("custom:tier"));
        assert_eq!(
            custom.string_attribute_constraints,
            Some(StringAttributeConstraintsType::default())
        );
        let input: CreateUserPoolRequest = serde_json::from_value(serde_json::json!({
            "PoolName": "p", "Schema": [{"Name": "t", "Required": true}]}))
        .unwrap();
        assert_eq!(
            new_pool(input, "i".into(), "a".into(), 0).unwrap_err(),
            DomainError::Invalid(Invalid::RequiredCustomAttribute)
        );
    }

    #[test]
    fn token_validity_reads_units_as_aws_does() {
        let input: CreateUserPoolClientRequest = serde_json::from_value(serde_json::json!({
            "UserPoolId": "p", "ClientName": "c", "AccessTokenValidity": 2}))
        .unwrap();
        let client = new_client(input, "id".into(), String::new, 0).unwrap();
        let units = client.token_validity_units.unwrap();
        assert_eq!(units.access_token, Some(TimeUnitsType::Hours));
        assert_eq!(units.id_token, Some(TimeUnitsType::Minutes));
        assert_eq!(
            validity_secs(Some(2), units.access_token, TokenKind::Access),
            7200
        );
        assert_eq!(validity_secs(Some(60), units.id_token, TokenKind::Id), 3600);
        assert_eq!(
            validity_secs(Some(0), None, TokenKind::Refresh),
            30 * 86_400
        );
        assert_eq!(validity_secs(None, None, TokenKind::Access), 3600);
    }

    #[test]
    fn clients_get_defaults_and_keep_identity_on_update() {
        let input: CreateUserPoolClientRequest = serde_json::from_value(serde_json::json!({
            "UserPoolId": "p", "ClientName": "c", "GenerateSecret": true}))
        .unwrap();
        let client = new_client(input, "id".into(), || "s3cret".into(), 5).unwrap();
        assert_eq!(client.client_secret.as_deref(), Some("s3cret"));
        assert_eq!(client.explicit_auth_flows, Some(default_auth_flows()));
        assert_eq!(client.auth_session_validity, Some(3));
        let update: UpdateUserPoolClientRequest = serde_json::from_value(serde_json::json!({
            "UserPoolId": "p", "ClientId": "id", "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH"]}))
        .unwrap();
        let updated = updated_client(client, update, 9).unwrap();
        assert_eq!(updated.client_secret.as_deref(), Some("s3cret"));
        assert_eq!(updated.client_name.as_deref(), Some("c"));
        assert_eq!(updated.creation_date, Some(5.0));
        let mixed: UpdateUserPoolClientRequest = serde_json::from_value(serde_json::json!({
            "UserPoolId": "p", "ClientId": "id",
            "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"]}))
        .unwrap();
        assert_eq!(
            updated_client(updated, mixed, 10).unwrap_err(),
            DomainError::Invalid(Invalid::MixedAuthFlows)
        );
    }

    fn oauth_client(json: serde_json::Value) -> UserPoolClientType {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn oauth_settings_are_checked_as_aws_does() {
        let ok = |json| check_oauth_settings(&oauth_client(json), "p", |s| s == "api/read");
        assert_eq!(
            ok(serde_json::json!({"AllowedOAuthFlowsUserPoolClient": true,
                "AllowedOAuthFlows": ["code"], "AllowedOAuthScopes": ["openid", "api/read"],
                "CallbackURLs": ["https://a.example/cb", "http://localhost:3000/cb",
                    "http://127.0.0.1/x", "http://[::1]:8080", "myapp://cb"],
                "DefaultRedirectURI": "myapp://cb", "LogoutURLs": ["https://a.example/out"],
                "SupportedIdentityProviders": ["COGNITO"]})),
            Ok(())
        );
        assert_eq!(
            ok(serde_json::json!({"AllowedOAuthFlowsUserPoolClient": true,
                "AllowedOAuthFlows": ["code"]})),
            Err(DomainError::Invalid(Invalid::OAuthFlowsAndScopesRequired))
        );
        assert_eq!(
            ok(serde_json::json!({"AllowedOAuthFlows": ["client_credentials", "code"]})),
            Err(DomainError::ClientCredentialsNotAlone)
        );
        assert_eq!(
            ok(serde_json::json!({"AllowedOAuthFlows": ["client_credentials"]})),
            Err(DomainError::ClientCredentialsWithoutSecret)
        );
        assert_eq!(
            ok(serde_json::json!({"AllowedOAuthScopes": ["api/write"]})),
            Err(DomainError::ScopeDoesNotExist {
                scope: "api/write".into()
            })
        );
        let url = |list, url: &str, problem| {
            Err(DomainError::Invalid(Invalid::RedirectUrl {
                list,
                url: url.into(),
                problem,
            }))
        };
        for (given, problem) in [
            ("http://example.com/cb", UrlProblem::Insecure),
            ("http://localhost.example.com/cb", UrlProblem::Insecure),
            ("https://a.example/cb#x", UrlProblem::Fragment),
            ("/relative", UrlProblem::NotAbsolute),
            ("https:/a", UrlProblem::NotAbsolute),
        ] {
            assert_eq!(
                ok(serde_json::json!({"CallbackURLs": [given]})),
                url(UrlList::Callback, given, problem)
            );
        }
        assert_eq!(
            ok(serde_json::json!({"LogoutURLs": ["http://example.com"]})),
            url(UrlList::Logout, "http://example.com", UrlProblem::Insecure)
        );
        assert_eq!(
            ok(
                serde_json::json!({"CallbackURLs": ["https://a"], "DefaultRedirectURI": "https://b"})
            ),
            Err(DomainError::Invalid(Invalid::DefaultRedirectNotCallback))
        );
        assert_eq!(
            ok(serde_json::json!({"SupportedIdentityProviders": ["COGNITO", "Google"]})),
            Err(DomainError::Invalid(Invalid::UnknownIdentityProvider {
                name: "Google".into(),
                pool_id: "p".into()
            }))
        );
    }
}

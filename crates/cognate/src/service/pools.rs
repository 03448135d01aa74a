//! User pools and app clients: create, describe, update, delete, list. Settings are kept as
//! the wire JSON with AWS's defaults filled in, so every setting the model defines is stored
//! and returned faithfully even where Cognate does not act on it yet.

use serde_json::{json, Map, Value};

use cognate_wire::ApiError;

use super::Service;
use crate::errors::{self, OrWire};
use crate::store::{ClientRecord, PoolRecord};

const DEFAULT_SMS: &str = "Your verification code is {####}. ";
const DEFAULT_EMAIL: &str = "Your verification code is {####}. ";
const DEFAULT_SUBJECT: &str = "Your verification code";
const DEFAULT_EMAIL_BY_LINK: &str =
    "Please click the link below to verify your email address. {##Verify Email##} ";
const DEFAULT_SUBJECT_BY_LINK: &str = "Your verification link";

/// Members of CreateUserPool's input that are settings copied as given.
const COPIED_POOL_SETTINGS: &[&str] = &[
    "LambdaConfig",
    "AutoVerifiedAttributes",
    "AliasAttributes",
    "UsernameAttributes",
    "SmsVerificationMessage",
    "EmailVerificationMessage",
    "EmailVerificationSubject",
    "SmsAuthenticationMessage",
    "UserAttributeUpdateSettings",
    "MfaConfiguration",
    "DeviceConfiguration",
    "SmsConfiguration",
    "UserPoolTags",
    "UserPoolAddOns",
    "UsernameConfiguration",
    "AccountRecoverySetting",
    "KeyConfiguration",
    "IssuerConfiguration",
];

/// Members UpdateUserPool may change (it cannot change schema, aliases or username settings).
const UPDATABLE_POOL_SETTINGS: &[&str] = &[
    "Policies",
    "DeletionProtection",
    "LambdaConfig",
    "AutoVerifiedAttributes",
    "SmsVerificationMessage",
    "EmailVerificationMessage",
    "EmailVerificationSubject",
    "VerificationMessageTemplate",
    "SmsAuthenticationMessage",
    "UserAttributeUpdateSettings",
    "MfaConfiguration",
    "DeviceConfiguration",
    "EmailConfiguration",
    "SmsConfiguration",
    "UserPoolTags",
    "AdminCreateUserConfig",
    "UserPoolAddOns",
    "AccountRecoverySetting",
    "PoolName",
    "UserPoolTier",
    "KeyConfiguration",
    "IssuerConfiguration",
];

pub fn standard_schema() -> Vec<Value> {
    let string = |name: &str, mutable: bool, required: bool, min: &str| {
        json!({"Name": name, "AttributeDataType": "String", "DeveloperOnlyAttribute": false,
               "Mutable": mutable, "Required": required,
               "StringAttributeConstraints": {"MinLength": min, "MaxLength": "2048"}})
    };
    let boolean = |name: &str| {
        json!({"Name": name, "AttributeDataType": "Boolean", "DeveloperOnlyAttribute": false,
               "Mutable": true, "Required": false})
    };
    vec![
        string("sub", false, true, "1"),
        string("name", true, false, "0"),
        string("given_name", true, false, "0"),
        string("family_name", true, false, "0"),
        string("middle_name", true, false, "0"),
        string("nickname", true, false, "0"),
        string("preferred_username", true, false, "0"),
        string("profile", true, false, "0"),
        string("picture", true, false, "0"),
        string("website", true, false, "0"),
        string("email", true, false, "0"),
        boolean("email_verified"),
        string("gender", true, false, "0"),
        json!({"Name": "birthdate", "AttributeDataType": "String", "DeveloperOnlyAttribute": false,
               "Mutable": true, "Required": false,
               "StringAttributeConstraints": {"MinLength": "10", "MaxLength": "10"}}),
        string("zoneinfo", true, false, "0"),
        string("locale", true, false, "0"),
        string("phone_number", true, false, "0"),
        boolean("phone_number_verified"),
        string("address", true, false, "0"),
        json!({"Name": "updated_at", "AttributeDataType": "Number", "DeveloperOnlyAttribute": false,
               "Mutable": true, "Required": false,
               "NumberAttributeConstraints": {"MinValue": "0"}}),
        json!({"Name": "identities", "AttributeDataType": "String", "DeveloperOnlyAttribute": false,
               "Mutable": true, "Required": false, "StringAttributeConstraints": {}}),
    ]
}

/// Merges the caller's Schema into the standard attributes: standard names adjust the
/// standard entry, other names become `custom:` attributes.
fn build_schema(requested: Option<&Value>) -> Result<Vec<Value>, ApiError> {
    let mut schema = standard_schema();
    let Some(Value::Array(items)) = requested else {
        return Ok(schema);
    };
    let mut custom_count = 0;
    for item in items {
        let Some(name) = item.get("Name").and_then(Value::as_str) else {
            return Err(errors::invalid_parameter(
                "Schema attribute name is required.",
            ));
        };
        if let Some(existing) = schema
            .iter_mut()
            .find(|a| a.get("Name").and_then(Value::as_str) == Some(name))
        {
            if name == "sub" {
                continue;
            }
            if let (Value::Object(dst), Value::Object(src)) = (existing, item) {
                for key in [
                    "Required",
                    "Mutable",
                    "StringAttributeConstraints",
                    "NumberAttributeConstraints",
                ] {
                    if let Some(v) = src.get(key) {
                        dst.insert(key.to_string(), v.clone());
                    }
                }
            }
            continue;
        }
        let bare = name.strip_prefix("custom:").unwrap_or(name);
        if bare.is_empty() || bare.chars().count() > 20 {
            return Err(errors::invalid_parameter(format!(
                "Invalid custom attribute name {name}: custom attribute names are 1 to 20 characters."
            )));
        }
        if item.get("Required").and_then(Value::as_bool) == Some(true) {
            return Err(errors::invalid_parameter(
                "Required custom attributes are not supported currently.",
            ));
        }
        custom_count += 1;
        if custom_count > 50 {
            return Err(errors::invalid_parameter(
                "A user pool can have at most 50 custom attributes.",
            ));
        }
        let mut attr = item.as_object().cloned().unwrap_or_default();
        attr.insert("Name".into(), json!(format!("custom:{bare}")));
        attr.entry("AttributeDataType").or_insert(json!("String"));
        attr.entry("DeveloperOnlyAttribute").or_insert(json!(false));
        attr.entry("Mutable").or_insert(json!(true));
        attr.entry("Required").or_insert(json!(false));
        if attr.get("AttributeDataType") == Some(&json!("String")) {
            attr.entry("StringAttributeConstraints")
                .or_insert(json!({}));
        }
        schema.push(Value::Object(attr));
    }
    Ok(schema)
}

fn default_password_policy(policies: Option<&Value>) -> Value {
    let mut policy = json!({
        "MinimumLength": 8, "RequireUppercase": true, "RequireLowercase": true,
        "RequireNumbers": true, "RequireSymbols": true, "TemporaryPasswordValidityDays": 7
    });
    if let Some(given) = policies
        .and_then(|p| p.get("PasswordPolicy"))
        .and_then(Value::as_object)
    {
        // A given policy replaces the defaults member by member; omitted booleans are false.
        policy = json!({"MinimumLength": 8, "RequireUppercase": false, "RequireLowercase": false,
                        "RequireNumbers": false, "RequireSymbols": false, "TemporaryPasswordValidityDays": 7});
        if let Value::Object(p) = &mut policy {
            for (k, v) in given {
                p.insert(k.clone(), v.clone());
            }
        }
    }
    let mut out = policies
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    out.insert("PasswordPolicy".into(), policy);
    Value::Object(out)
}

fn verification_template(input: &Map<String, Value>) -> Value {
    let mut t = json!({
        "SmsMessage": DEFAULT_SMS, "EmailMessage": DEFAULT_EMAIL, "EmailSubject": DEFAULT_SUBJECT,
        "EmailMessageByLink": DEFAULT_EMAIL_BY_LINK, "EmailSubjectByLink": DEFAULT_SUBJECT_BY_LINK,
        "DefaultEmailOption": "CONFIRM_WITH_CODE"
    });
    // Legacy top-level message members feed the template when it does not say otherwise.
    let legacy = [
        ("SmsVerificationMessage", "SmsMessage"),
        ("EmailVerificationMessage", "EmailMessage"),
        ("EmailVerificationSubject", "EmailSubject"),
    ];
    if let Value::Object(tm) = &mut t {
        for (from, to) in legacy {
            if let Some(v) = input.get(from) {
                tm.insert(to.into(), v.clone());
            }
        }
        if let Some(Value::Object(given)) = input.get("VerificationMessageTemplate") {
            for (k, v) in given {
                tm.insert(k.clone(), v.clone());
            }
        }
    }
    t
}

fn check_pool_rules(input: &Map<String, Value>) -> Result<(), ApiError> {
    let non_empty = |k: &str| {
        input
            .get(k)
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
    };
    if non_empty("UsernameAttributes") && non_empty("AliasAttributes") {
        return Err(errors::invalid_parameter(
            "Only one of the aliasAttributes or usernameAttributes can be set in a User Pool.",
        ));
    }
    if let Some(Value::Object(t)) = input.get("VerificationMessageTemplate") {
        let has = |k: &str| {
            t.get(k)
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty())
        };
        let link = t.get("DefaultEmailOption").and_then(Value::as_str) == Some("CONFIRM_WITH_LINK");
        if let Some(sms) = t.get("SmsMessage").and_then(Value::as_str) {
            if !sms.contains("{####}") {
                return Err(errors::invalid_parameter(
                    "SmsMessage must contain the code placeholder {####}.",
                ));
            }
        }
        if let Some(email) = t.get("EmailMessage").and_then(Value::as_str) {
            if !email.contains("{####}") {
                return Err(errors::invalid_parameter(
                    "EmailMessage must contain the code placeholder {####}.",
                ));
            }
        }
        if link && !has("EmailMessageByLink") && has("EmailMessage") {
            return Err(errors::invalid_parameter(
                "EmailMessageByLink is required when DefaultEmailOption is CONFIRM_WITH_LINK.",
            ));
        }
        if let Some(msg) = t.get("EmailMessageByLink").and_then(Value::as_str) {
            if !(msg.contains("{##") && msg.contains("##}")) {
                return Err(errors::invalid_parameter(
                    "EmailMessageByLink must contain the link placeholder {##...##}.",
                ));
            }
        }
    }
    Ok(())
}

fn as_object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

impl Service {
    pub(super) fn pool_arn(&self, pool_id: &str) -> String {
        format!(
            "arn:aws:cognito-idp:{}:{}:userpool/{}",
            self.settings.region, self.settings.account_id, pool_id
        )
    }

    pub async fn create_pool(&self, input: Value) -> Result<Value, ApiError> {
        let input = as_object(input);
        check_pool_rules(&input)?;
        let now = self.clock.now();
        let id = cognate_crypto::ids::user_pool_id(&self.settings.region);
        let name = input
            .get("PoolName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let mut pool = Map::new();
        pool.insert("Id".into(), json!(id));
        pool.insert("Name".into(), json!(name));
        pool.insert("Arn".into(), json!(self.pool_arn(&id)));
        pool.insert(
            "Policies".into(),
            default_password_policy(input.get("Policies")),
        );
        for key in COPIED_POOL_SETTINGS {
            if let Some(v) = input.get(*key) {
                pool.insert((*key).into(), v.clone());
            }
        }
        pool.insert(
            "DeletionProtection".into(),
            input
                .get("DeletionProtection")
                .cloned()
                .unwrap_or(json!("INACTIVE")),
        );
        pool.entry("LambdaConfig").or_insert(json!({}));
        pool.insert(
            "SchemaAttributes".into(),
            json!(build_schema(input.get("Schema"))?),
        );
        pool.insert(
            "VerificationMessageTemplate".into(),
            verification_template(&input),
        );
        pool.entry("MfaConfiguration").or_insert(json!("OFF"));
        pool.insert(
            "EmailConfiguration".into(),
            input
                .get("EmailConfiguration")
                .cloned()
                .unwrap_or(json!({"EmailSendingAccount": "COGNITO_DEFAULT"})),
        );
        let mut admin = json!({"AllowAdminCreateUserOnly": false, "UnusedAccountValidityDays": 7});
        if let (Value::Object(a), Some(Value::Object(given))) =
            (&mut admin, input.get("AdminCreateUserConfig"))
        {
            for (k, v) in given {
                a.insert(k.clone(), v.clone());
            }
        }
        pool.insert("AdminCreateUserConfig".into(), admin);
        pool.entry("UserAttributeUpdateSettings")
            .or_insert(json!({"AttributesRequireVerificationBeforeUpdate": []}));
        pool.insert(
            "UserPoolTier".into(),
            input
                .get("UserPoolTier")
                .cloned()
                .unwrap_or(json!("ESSENTIALS")),
        );
        pool.insert("CreationDate".into(), json!(now));
        pool.insert("LastModifiedDate".into(), json!(now));
        let config = Value::Object(pool.clone()).to_string();
        self.store
            .insert_pool(&PoolRecord {
                id: id.clone(),
                name,
                config,
                created_at: now,
                updated_at: now,
            })
            .await
            .or_wire()?;
        pool.insert("EstimatedNumberOfUsers".into(), json!(0));
        Ok(Value::Object(pool))
    }

    pub async fn load_pool(
        &self,
        pool_id: &str,
    ) -> Result<(PoolRecord, Map<String, Value>), ApiError> {
        let record = self
            .store
            .get_pool(pool_id)
            .await
            .or_wire()?
            .ok_or_else(|| errors::pool_not_found(pool_id))?;
        let json: Value =
            serde_json::from_str(&record.config).map_err(|e| errors::internal("stored pool", e))?;
        Ok((record, as_object(json)))
    }

    pub async fn describe_pool(&self, pool_id: &str) -> Result<Value, ApiError> {
        let (_, mut pool) = self.load_pool(pool_id).await?;
        let users = self.store.count_users(pool_id).await.or_wire()?;
        pool.insert("EstimatedNumberOfUsers".into(), json!(users));
        Ok(Value::Object(pool))
    }

    pub async fn update_pool(&self, input: Value) -> Result<(), ApiError> {
        let input = as_object(input);
        let pool_id = input
            .get("UserPoolId")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let (mut record, mut pool) = self.load_pool(&pool_id).await?;
        check_pool_rules(&input)?;
        // UpdateUserPool resets settings that are omitted to their defaults, as AWS does.
        for key in UPDATABLE_POOL_SETTINGS {
            match (*key, input.get(*key)) {
                ("PoolName", Some(v)) => {
                    pool.insert("Name".into(), v.clone());
                    record.name = v.as_str().unwrap_or_default().to_string();
                }
                ("PoolName", None) => {}
                ("Policies", v) => {
                    pool.insert("Policies".into(), default_password_policy(v));
                }
                ("VerificationMessageTemplate", _) => {
                    pool.insert(
                        "VerificationMessageTemplate".into(),
                        verification_template(&input),
                    );
                }
                ("DeletionProtection", v) => {
                    pool.insert(
                        "DeletionProtection".into(),
                        v.cloned().unwrap_or(json!("INACTIVE")),
                    );
                }
                ("EmailConfiguration", v) => {
                    pool.insert(
                        "EmailConfiguration".into(),
                        v.cloned()
                            .unwrap_or(json!({"EmailSendingAccount": "COGNITO_DEFAULT"})),
                    );
                }
                ("LambdaConfig", v) => {
                    pool.insert("LambdaConfig".into(), v.cloned().unwrap_or(json!({})));
                }
                ("MfaConfiguration", v) => {
                    pool.insert(
                        "MfaConfiguration".into(),
                        v.cloned().unwrap_or(json!("OFF")),
                    );
                }
                ("AdminCreateUserConfig", v) => {
                    let mut admin =
                        json!({"AllowAdminCreateUserOnly": false, "UnusedAccountValidityDays": 7});
                    if let (Value::Object(a), Some(Value::Object(given))) = (&mut admin, v) {
                        for (k, val) in given {
                            a.insert(k.clone(), val.clone());
                        }
                    }
                    pool.insert("AdminCreateUserConfig".into(), admin);
                }
                (k, Some(v)) => {
                    pool.insert(k.into(), v.clone());
                }
                (k, None) => {
                    if !matches!(k, "UserPoolTier" | "UserAttributeUpdateSettings") {
                        pool.remove(k);
                    }
                }
            }
        }
        let now = self.clock.now();
        pool.insert("LastModifiedDate".into(), json!(now));
        record.config = Value::Object(pool).to_string();
        record.updated_at = now;
        if !self.store.update_pool(&record).await.or_wire()? {
            return Err(errors::pool_not_found(&pool_id));
        }
        Ok(())
    }

    pub async fn delete_pool(&self, pool_id: &str) -> Result<(), ApiError> {
        let (_, pool) = self.load_pool(pool_id).await?;
        if pool.get("DeletionProtection").and_then(Value::as_str) == Some("ACTIVE") {
            return Err(errors::invalid_parameter(
                "The user pool cannot be deleted because deletion protection is activated. Deletion protection must be inactivated first.",
            ));
        }
        if !self.store.delete_pool(pool_id).await.or_wire()? {
            return Err(errors::pool_not_found(pool_id));
        }
        Ok(())
    }

    pub async fn list_pools(
        &self,
        max_results: i32,
        next_token: Option<&str>,
    ) -> Result<(Vec<Value>, Option<String>), ApiError> {
        let after = next_token.map(decode_token).transpose()?;
        let limit = i64::from(max_results.clamp(1, 60));
        let mut pools = self
            .store
            .list_pools(after.as_deref(), limit + 1)
            .await
            .or_wire()?;
        let next = page_token(&mut pools, limit, |p| p.id.clone());
        let items = pools
            .iter()
            .map(|p| {
                let cfg: Value = serde_json::from_str(&p.config).unwrap_or(Value::Null);
                json!({
                    "Id": p.id, "Name": p.name,
                    "LambdaConfig": cfg.get("LambdaConfig").cloned().unwrap_or(json!({})),
                    "CreationDate": p.created_at, "LastModifiedDate": p.updated_at,
                })
            })
            .collect();
        Ok((items, next))
    }

    // ------------------------------------------------------------------ app clients

    pub async fn create_client(&self, input: Value) -> Result<Value, ApiError> {
        let mut input = as_object(input);
        let pool_id = input
            .get("UserPoolId")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        self.load_pool(&pool_id).await?;
        check_client_rules(&input)?;
        let generate = input.remove("GenerateSecret").and_then(|v| v.as_bool()) == Some(true);
        let given_secret = input.remove("ClientSecret");
        let now = self.clock.now();
        let client_id = cognate_crypto::ids::client_id();
        let mut client = client_defaults();
        for (k, v) in input {
            client.insert(k, v);
        }
        client.insert("ClientId".into(), json!(client_id));
        client.insert("UserPoolId".into(), json!(pool_id));
        if let Some(secret) = given_secret {
            client.insert("ClientSecret".into(), secret);
        } else if generate {
            client.insert(
                "ClientSecret".into(),
                json!(cognate_crypto::ids::client_secret()),
            );
        }
        client.insert("CreationDate".into(), json!(now));
        client.insert("LastModifiedDate".into(), json!(now));
        self.store
            .insert_client(&ClientRecord {
                client_id,
                pool_id,
                config: Value::Object(client.clone()).to_string(),
                created_at: now,
                updated_at: now,
            })
            .await
            .or_wire()?;
        Ok(Value::Object(client))
    }

    pub async fn load_client(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> Result<(ClientRecord, Map<String, Value>), ApiError> {
        self.load_pool(pool_id).await?;
        let record = self
            .store
            .get_client(client_id)
            .await
            .or_wire()?
            .filter(|c| c.pool_id == pool_id)
            .ok_or_else(|| errors::client_not_found(client_id))?;
        let json: Value = serde_json::from_str(&record.config)
            .map_err(|e| errors::internal("stored client", e))?;
        Ok((record, as_object(json)))
    }

    pub async fn update_client(&self, input: Value) -> Result<Value, ApiError> {
        let input = as_object(input);
        let pool_id = input
            .get("UserPoolId")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let client_id = input
            .get("ClientId")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let (mut record, old) = self.load_client(pool_id, client_id).await?;
        check_client_rules(&input)?;
        // Omitted settings return to their defaults, as on AWS; identity and secret stay.
        let mut client = client_defaults();
        for key in [
            "ClientId",
            "UserPoolId",
            "ClientSecret",
            "CreationDate",
            "ClientName",
        ] {
            if let Some(v) = old.get(key) {
                client.insert(key.into(), v.clone());
            }
        }
        for (k, v) in input {
            client.insert(k, v);
        }
        let now = self.clock.now();
        client.insert("LastModifiedDate".into(), json!(now));
        record.config = Value::Object(client.clone()).to_string();
        record.updated_at = now;
        if !self.store.update_client(&record).await.or_wire()? {
            return Err(errors::client_not_found(&record.client_id));
        }
        Ok(Value::Object(client))
    }

    pub async fn delete_client(&self, pool_id: &str, client_id: &str) -> Result<(), ApiError> {
        self.load_client(pool_id, client_id).await?;
        if !self
            .store
            .delete_client(pool_id, client_id)
            .await
            .or_wire()?
        {
            return Err(errors::client_not_found(client_id));
        }
        Ok(())
    }

    pub async fn list_clients(
        &self,
        pool_id: &str,
        max_results: Option<i32>,
        next_token: Option<&str>,
    ) -> Result<(Vec<Value>, Option<String>), ApiError> {
        self.load_pool(pool_id).await?;
        let after = next_token.map(decode_token).transpose()?;
        let limit = i64::from(max_results.unwrap_or(60).clamp(1, 60));
        let mut clients = self
            .store
            .list_clients(pool_id, after.as_deref(), limit + 1)
            .await
            .or_wire()?;
        let next = page_token(&mut clients, limit, |c| c.client_id.clone());
        let items = clients
            .iter()
            .map(|c| {
                let cfg: Value = serde_json::from_str(&c.config).unwrap_or(Value::Null);
                json!({"ClientId": c.client_id, "UserPoolId": c.pool_id,
                       "ClientName": cfg.get("ClientName").cloned().unwrap_or(json!(""))})
            })
            .collect();
        Ok((items, next))
    }
}

fn client_defaults() -> Map<String, Value> {
    as_object(json!({
        "RefreshTokenValidity": 30,
        "AccessTokenValidity": 60,
        "IdTokenValidity": 60,
        "TokenValidityUnits": {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "days"},
        "ExplicitAuthFlows": ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH"],
        "AllowedOAuthFlowsUserPoolClient": false,
        "PreventUserExistenceErrors": "LEGACY",
        "EnableTokenRevocation": true,
        "EnablePropagateAdditionalUserContextData": false,
        "AuthSessionValidity": 3
    }))
}

fn check_client_rules(input: &Map<String, Value>) -> Result<(), ApiError> {
    if let Some(Value::Array(flows)) = input.get("ExplicitAuthFlows") {
        let names: Vec<&str> = flows.iter().filter_map(Value::as_str).collect();
        let legacy = names.iter().any(|f| !f.starts_with("ALLOW_"));
        let modern = names.iter().any(|f| f.starts_with("ALLOW_"));
        if legacy && modern {
            return Err(errors::invalid_parameter(
                "ExplicitAuthFlows can't have both ALLOW_ and legacy values.",
            ));
        }
    }
    if input.contains_key("ClientSecret")
        && input.get("GenerateSecret").and_then(Value::as_bool) == Some(false)
    {
        return Err(errors::invalid_parameter(
            "ClientSecret cannot be set when GenerateSecret is false.",
        ));
    }
    Ok(())
}

/// Pagination tokens are opaque base64 of the last key returned.
pub(super) fn page_token<T>(
    items: &mut Vec<T>,
    limit: i64,
    key: impl Fn(&T) -> String,
) -> Option<String> {
    if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|last| encode_token(&key(last)))
    } else {
        None
    }
}

pub(super) fn encode_token(key: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(key.as_bytes())
}

pub(super) fn decode_token(token: &str) -> Result<String, ApiError> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| errors::invalid_parameter("Invalid pagination token."))
}

/// A wire output shape from the JSON the service built.
pub(super) fn wire<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, ApiError> {
    serde_json::from_value(v).map_err(|e| errors::internal("building a response", e))
}

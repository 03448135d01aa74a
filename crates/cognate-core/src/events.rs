//! Trigger events as AWS sends them, and validation of the functions' answers.
//!
//! Envelope (all triggers):
//! `{version: "1", triggerSource, region, userPoolId, userName,
//!   callerContext: {awsSdkVersion, clientId}, request: {...}, response: {...}}`.
//! Attribute values are strings. `clientMetadata` is present in `request` only
//! when the API call carried `ClientMetadata` (captured AWS events for calls
//! without it have no such member).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::triggers::TriggerError;

/// `callerContext.clientId` for events not started by an app client (admin APIs).
pub const CLIENT_ID_NOT_APPLICABLE: &str = "CLIENT_ID_NOT_APPLICABLE";

/// `callerContext.awsSdkVersion` when the caller's SDK is not recognised.
pub const UNKNOWN_SDK_VERSION: &str = "aws-sdk-unknown-unknown";

/// The placeholder for the code in custom messages (`request.codeParameter`).
pub const CODE_PARAMETER: &str = "{####}";

/// The link placeholder in custom messages (`request.linkParameter`).
pub const LINK_PARAMETER: &str = "{##Click Here##}";

/// The username placeholder in invitation messages (`request.usernameParameter`).
pub const USERNAME_PARAMETER: &str = "{username}";

/// Longest `smsMessage` a custom-message function may return (characters).
pub const MAX_SMS_MESSAGE: usize = 140;
/// Longest `emailMessage` a custom-message function may return (characters).
pub const MAX_EMAIL_MESSAGE: usize = 20_000;
/// Longest `emailSubject` a custom-message function may return (characters).
pub const MAX_EMAIL_SUBJECT: usize = 140;

/// Who and where: the envelope fields common to every trigger.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventContext {
    /// e.g. `PreSignUp_SignUp`, `CustomMessage_ResendCode`.
    pub trigger_source: String,
    pub region: String,
    pub user_pool_id: String,
    /// The user's internal username.
    pub user_name: String,
    /// The app client; `None` (admin APIs) → `CLIENT_ID_NOT_APPLICABLE`.
    pub client_id: Option<String>,
    /// The calling request's `User-Agent`, from which `awsSdkVersion` is derived.
    pub user_agent: Option<String>,
}

/// User attributes, name → string value (include `sub` and `cognito:user_status`).
pub type Attrs = BTreeMap<String, String>;
/// `ClientMetadata` / `ValidationData` of the API call.
pub type Metadata = BTreeMap<String, String>;

/// `callerContext.awsSdkVersion` from a User-Agent: the first
/// `aws-sdk-<lang>/<version>` product token becomes `aws-sdk-<lang>-<version>`
/// (`aws-sdk-java/1.11.93 Linux/...` → `aws-sdk-java-1.11.93`,
/// `aws-sdk-nodejs/2.856.0 ...` → `aws-sdk-nodejs-2.856.0`,
/// `aws-sdk-rust/1.3.0 os/linux` → `aws-sdk-rust-1.3.0`). Anything else
/// (browsers, Amplify, boto3/botocore, the CLI, no header) →
/// `aws-sdk-unknown-unknown`, the value captured AWS events show for callers
/// without such a token.
pub fn aws_sdk_version(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent else {
        return UNKNOWN_SDK_VERSION.to_string();
    };
    for token in ua.split_whitespace() {
        let Some((product, version)) = token.split_once('/') else {
            continue;
        };
        let lower = product.to_ascii_lowercase();
        let Some(lang) = lower.strip_prefix("aws-sdk-") else {
            continue;
        };
        let version_ok = !version.is_empty()
            && version
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+'));
        if lang.is_empty() || !version_ok {
            continue;
        }
        return format!("aws-sdk-{lang}-{version}");
    }
    UNKNOWN_SDK_VERSION.to_string()
}

fn string_map(m: &BTreeMap<String, String>) -> Value {
    Value::Object(
        m.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

/// The common envelope around `request` and `response`.
pub fn envelope(
    ctx: &EventContext,
    request: Map<String, Value>,
    response: Map<String, Value>,
) -> Value {
    let mut caller = Map::new();
    caller.insert(
        "awsSdkVersion".into(),
        Value::String(aws_sdk_version(ctx.user_agent.as_deref())),
    );
    caller.insert(
        "clientId".into(),
        Value::String(
            ctx.client_id
                .clone()
                .unwrap_or_else(|| CLIENT_ID_NOT_APPLICABLE.to_string()),
        ),
    );
    let mut ev = Map::new();
    ev.insert("version".into(), Value::String("1".into()));
    ev.insert(
        "triggerSource".into(),
        Value::String(ctx.trigger_source.clone()),
    );
    ev.insert("region".into(), Value::String(ctx.region.clone()));
    ev.insert("userPoolId".into(), Value::String(ctx.user_pool_id.clone()));
    ev.insert("userName".into(), Value::String(ctx.user_name.clone()));
    ev.insert("callerContext".into(), Value::Object(caller));
    ev.insert("request".into(), Value::Object(request));
    ev.insert("response".into(), Value::Object(response));
    Value::Object(ev)
}

fn insert_client_metadata(request: &mut Map<String, Value>, client_metadata: Option<&Metadata>) {
    if let Some(md) = client_metadata {
        request.insert("clientMetadata".into(), string_map(md));
    }
}

/// A function's output must be a JSON object whose `response` member is an
/// object or null; anything else is `InvalidResponse`. Applied by
/// [`crate::TriggerInvoker::invoke`] to every successful invocation.
pub fn check_envelope(output: &Value) -> Result<(), TriggerError> {
    match output.as_object().and_then(|o| o.get("response")) {
        Some(Value::Object(_)) | Some(Value::Null) => Ok(()),
        _ => Err(TriggerError::InvalidResponse),
    }
}

/// The `response` object of a function's output (an empty one for `null`).
fn response_of(output: &Value) -> Result<Map<String, Value>, TriggerError> {
    match output.as_object().and_then(|o| o.get("response")) {
        Some(Value::Object(r)) => Ok(r.clone()),
        Some(Value::Null) => Ok(Map::new()),
        _ => Err(TriggerError::InvalidResponse),
    }
}

// ---------------------------------------------------------------- PreSignUp

/// `PreSignUp_SignUp` / `PreSignUp_AdminCreateUser` / `PreSignUp_ExternalProvider`.
/// `request`: `userAttributes`, `validationData` (null when none),
/// `clientMetadata` (only when given). `response`: the three flags, false.
pub fn pre_sign_up(
    ctx: &EventContext,
    user_attributes: &Attrs,
    validation_data: Option<&Attrs>,
    client_metadata: Option<&Metadata>,
) -> Value {
    let mut request = Map::new();
    request.insert("userAttributes".into(), string_map(user_attributes));
    request.insert(
        "validationData".into(),
        validation_data.map(string_map).unwrap_or(Value::Null),
    );
    insert_client_metadata(&mut request, client_metadata);
    let mut response = Map::new();
    response.insert("autoConfirmUser".into(), Value::Bool(false));
    response.insert("autoVerifyEmail".into(), Value::Bool(false));
    response.insert("autoVerifyPhone".into(), Value::Bool(false));
    envelope(ctx, request, response)
}

/// What a PreSignUp function decided.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PreSignUpResponse {
    pub auto_confirm_user: bool,
    pub auto_verify_email: bool,
    pub auto_verify_phone: bool,
}

/// A boolean response flag: JSON true/false; null or absent = false. Like the
/// Java service (Jackson's default scalar coercion) the strings "true"/"false"
/// are accepted too [INF]. Anything else is `InvalidResponse`.
fn flag(resp: &Map<String, Value>, name: &str) -> Result<bool, TriggerError> {
    match resp.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(false),
        Some(_) => Err(TriggerError::InvalidResponse),
    }
}

/// Reads a PreSignUp function's output. Auto-verifying email or phone without
/// auto-confirming the user is rejected as AWS does
/// (`TriggerError::AutoVerifyWithoutConfirm`).
/// For `PreSignUp_AdminCreateUser` AWS ignores the flags: don't call this there.
/// Whether the verified attribute exists is the caller's check.
pub fn parse_pre_sign_up(resp: &Value) -> Result<PreSignUpResponse, TriggerError> {
    check_envelope(resp)?;
    let r = response_of(resp)?;
    let out = PreSignUpResponse {
        auto_confirm_user: flag(&r, "autoConfirmUser")?,
        auto_verify_email: flag(&r, "autoVerifyEmail")?,
        auto_verify_phone: flag(&r, "autoVerifyPhone")?,
    };
    if (out.auto_verify_email || out.auto_verify_phone) && !out.auto_confirm_user {
        return Err(TriggerError::AutoVerifyWithoutConfirm);
    }
    Ok(out)
}

// ------------------------------------------------------------ CustomMessage

/// `CustomMessage_SignUp` / `_ResendCode` / `_ForgotPassword` / ...
/// `request`: `userAttributes`, `codeParameter`, `linkParameter` and
/// `usernameParameter` (null when not given), `clientMetadata` (only when
/// given). `response`: `smsMessage`, `emailMessage`, `emailSubject`, all null.
pub fn custom_message(
    ctx: &EventContext,
    user_attributes: &Attrs,
    code_parameter: &str,
    link_parameter: Option<&str>,
    username_parameter: Option<&str>,
    client_metadata: Option<&Metadata>,
) -> Value {
    let opt = |s: Option<&str>| {
        s.map(|s| Value::String(s.to_string()))
            .unwrap_or(Value::Null)
    };
    let mut request = Map::new();
    request.insert("userAttributes".into(), string_map(user_attributes));
    request.insert(
        "codeParameter".into(),
        Value::String(code_parameter.to_string()),
    );
    request.insert("linkParameter".into(), opt(link_parameter));
    request.insert("usernameParameter".into(), opt(username_parameter));
    insert_client_metadata(&mut request, client_metadata);
    let mut response = Map::new();
    response.insert("smsMessage".into(), Value::Null);
    response.insert("emailMessage".into(), Value::Null);
    response.insert("emailSubject".into(), Value::Null);
    envelope(ctx, request, response)
}

/// What a CustomMessage function returned; `None` = use the pool's template.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CustomMessageResponse {
    pub sms_message: Option<String>,
    pub email_message: Option<String>,
    pub email_subject: Option<String>,
}

fn opt_string(resp: &Map<String, Value>, name: &str) -> Result<Option<String>, TriggerError> {
    match resp.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(TriggerError::InvalidResponse),
    }
}

/// Reads a CustomMessage function's output. Rules (spec §d.4): a returned
/// message must contain the code placeholder `{####}`; `smsMessage` ≤ 140,
/// `emailMessage` ≤ 20,000, `emailSubject` ≤ 140 characters; `emailMessage`
/// or `emailSubject` returned while the pool's `EmailSendingAccount` is not
/// `DEVELOPER` (`developer_email_account == false`) is an error. Every
/// violation is `InvalidResponse` (`InvalidLambdaResponseException`).
pub fn parse_custom_message(
    resp: &Value,
    developer_email_account: bool,
) -> Result<CustomMessageResponse, TriggerError> {
    check_envelope(resp)?;
    let r = response_of(resp)?;
    let out = CustomMessageResponse {
        sms_message: opt_string(&r, "smsMessage")?,
        email_message: opt_string(&r, "emailMessage")?,
        email_subject: opt_string(&r, "emailSubject")?,
    };
    let message_ok = |m: &Option<String>, max: usize| match m {
        None => true,
        Some(s) => s.contains(CODE_PARAMETER) && s.chars().count() <= max,
    };
    if !message_ok(&out.sms_message, MAX_SMS_MESSAGE)
        || !message_ok(&out.email_message, MAX_EMAIL_MESSAGE)
    {
        return Err(TriggerError::InvalidResponse);
    }
    if let Some(subject) = &out.email_subject {
        if subject.chars().count() > MAX_EMAIL_SUBJECT {
            return Err(TriggerError::InvalidResponse);
        }
    }
    if !developer_email_account && (out.email_message.is_some() || out.email_subject.is_some()) {
        return Err(TriggerError::InvalidResponse);
    }
    Ok(out)
}

// --------------------------------------------------------- PostConfirmation

/// `PostConfirmation_ConfirmSignUp` / `PostConfirmation_ConfirmForgotPassword`.
/// `request`: `userAttributes`, `clientMetadata` (only when given);
/// `response`: `{}` (nothing is read back).
pub fn post_confirmation(
    ctx: &EventContext,
    user_attributes: &Attrs,
    client_metadata: Option<&Metadata>,
) -> Value {
    let mut request = Map::new();
    request.insert("userAttributes".into(), string_map(user_attributes));
    insert_client_metadata(&mut request, client_metadata);
    envelope(ctx, request, Map::new())
}

// ------------------------------------------------------ Pre/PostAuthentication

/// `PreAuthentication_Authentication`. `request`: `userAttributes`, `validationData` (the
/// sign-in's `ClientMetadata`, null when none) and, for a client that hides user existence,
/// `userNotFound`. `response`: `{}` (nothing is read back; throwing rejects the sign-in).
pub fn pre_authentication(
    ctx: &EventContext,
    user_attributes: &Attrs,
    client_metadata: Option<&Metadata>,
    user_not_found: Option<bool>,
) -> Value {
    let mut request = Map::new();
    request.insert("userAttributes".into(), string_map(user_attributes));
    request.insert(
        "validationData".into(),
        client_metadata.map_or(Value::Null, string_map),
    );
    if let Some(not_found) = user_not_found {
        request.insert("userNotFound".into(), Value::Bool(not_found));
    }
    envelope(ctx, request, Map::new())
}

/// `PostAuthentication_Authentication`. `request`: `userAttributes`, `newDeviceUsed` (false:
/// no remembered devices), `clientMetadata` (only when given). `response`: `{}`.
pub fn post_authentication(
    ctx: &EventContext,
    user_attributes: &Attrs,
    client_metadata: Option<&Metadata>,
) -> Value {
    let mut request = Map::new();
    request.insert("userAttributes".into(), string_map(user_attributes));
    request.insert("newDeviceUsed".into(), Value::Bool(false));
    insert_client_metadata(&mut request, client_metadata);
    envelope(ctx, request, Map::new())
}

// ------------------------------------------------------ PreTokenGeneration

/// Claims no PreTokenGeneration function may add, change or suppress (spec iv.3).
pub const PROTECTED_CLAIMS: &[&str] = &[
    "acr",
    "amr",
    "aud",
    "at_hash",
    "auth_time",
    "azp",
    "cognito:username",
    "exp",
    "iat",
    "identities",
    "iss",
    "jti",
    "nbf",
    "nonce",
    "origin_jti",
    "sub",
    "token_use",
];
/// Further access-token claims a function may not touch (`scope` changes only through the
/// scope lists).
pub const PROTECTED_ACCESS_CLAIMS: &[&str] = &["client_id", "scope", "username", "version"];

/// `TokenGeneration_*` for event version 1, 2 or 3 (the pool's `LambdaVersion`). `request`:
/// `userAttributes`, `groupConfiguration` (the user's groups and roles, as the tokens would
/// carry them), `scopes` (versions 2 and 3), `clientMetadata` (only when given).
/// `response`: `{}`.
pub fn pre_token_generation(
    ctx: &EventContext,
    version: u8,
    user_attributes: &Attrs,
    groups: &GroupOverride,
    scopes: &[String],
    client_metadata: Option<&Metadata>,
) -> Value {
    let mut request = Map::new();
    request.insert("userAttributes".into(), string_map(user_attributes));
    let strings = |list: &[String]| Value::Array(list.iter().cloned().map(Value::String).collect());
    let mut configuration = Map::new();
    configuration.insert("groupsToOverride".into(), strings(&groups.groups));
    configuration.insert("iamRolesToOverride".into(), strings(&groups.iam_roles));
    configuration.insert(
        "preferredRole".into(),
        groups
            .preferred_role
            .clone()
            .map_or(Value::Null, Value::String),
    );
    request.insert("groupConfiguration".into(), Value::Object(configuration));
    if version >= 2 {
        request.insert(
            "scopes".into(),
            Value::Array(scopes.iter().cloned().map(Value::String).collect()),
        );
    }
    insert_client_metadata(&mut request, client_metadata);
    let mut ev = envelope(ctx, request, Map::new());
    if let Some(obj) = ev.as_object_mut() {
        obj.insert("version".into(), Value::String(version.to_string()));
    }
    ev
}

/// What a PreTokenGeneration function asks to change in one token.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClaimChanges {
    pub add_or_override: Map<String, Value>,
    pub suppress: Vec<String>,
}

/// `groupOverrideDetails`: the groups (`cognito:groups` in both tokens) and IAM roles
/// (`cognito:roles`, `cognito:preferred_role` in the ID token) the tokens carry instead of
/// the user's own.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GroupOverride {
    pub groups: Vec<String>,
    pub iam_roles: Vec<String>,
    pub preferred_role: Option<String>,
}

/// A PreTokenGeneration function's answer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TokenOverrides {
    pub id: ClaimChanges,
    pub access: ClaimChanges,
    pub scopes_to_add: Vec<String>,
    pub scopes_to_suppress: Vec<String>,
    /// None: the function named no `groupOverrideDetails`.
    pub groups: Option<GroupOverride>,
}

/// Reads a PreTokenGeneration answer of event version `version`. Version 1 changes the ID
/// token only, with string values; versions 2 and 3 change either token with any JSON values
/// and change scopes. A protected claim, or a value of the wrong type, is an invalid answer.
pub fn parse_pre_token_generation(
    version: u8,
    output: &Value,
) -> Result<TokenOverrides, TriggerError> {
    check_envelope(output)?;
    let r = response_of(output)?;
    let mut out = TokenOverrides::default();
    if version == 1 {
        if let Some(details) = object_member(&r, "claimsOverrideDetails")? {
            out.id = claim_changes(&details, true, PROTECTED_CLAIMS)?;
            out.groups = group_override(&details)?;
        }
        return Ok(out);
    }
    let Some(details) = object_member(&r, "claimsAndScopeOverrideDetails")? else {
        return Ok(out);
    };
    out.groups = group_override(&details)?;
    if let Some(id) = object_member(&details, "idTokenGeneration")? {
        out.id = claim_changes(&id, false, PROTECTED_CLAIMS)?;
    }
    if let Some(access) = object_member(&details, "accessTokenGeneration")? {
        let protected: Vec<&str> = PROTECTED_CLAIMS
            .iter()
            .chain(PROTECTED_ACCESS_CLAIMS)
            .copied()
            .collect();
        out.access = claim_changes(&access, false, &protected)?;
        out.scopes_to_add = string_list(&access, "scopesToAdd")?;
        out.scopes_to_suppress = string_list(&access, "scopesToSuppress")?;
    }
    Ok(out)
}

fn group_override(details: &Map<String, Value>) -> Result<Option<GroupOverride>, TriggerError> {
    let Some(g) = object_member(details, "groupOverrideDetails")? else {
        return Ok(None);
    };
    let preferred_role = match g.get("preferredRole") {
        None | Some(Value::Null) => None,
        Some(Value::String(role)) => Some(role.clone()),
        Some(_) => return Err(TriggerError::InvalidResponse),
    };
    Ok(Some(GroupOverride {
        groups: string_list(&g, "groupsToOverride")?,
        iam_roles: string_list(&g, "iamRolesToOverride")?,
        preferred_role,
    }))
}

fn object_member(
    m: &Map<String, Value>,
    key: &str,
) -> Result<Option<Map<String, Value>>, TriggerError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o.clone())),
        Some(_) => Err(TriggerError::InvalidResponse),
    }
}

fn string_list(m: &Map<String, Value>, key: &str) -> Result<Vec<String>, TriggerError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or(TriggerError::InvalidResponse)
            })
            .collect(),
        Some(_) => Err(TriggerError::InvalidResponse),
    }
}

fn claim_changes(
    m: &Map<String, Value>,
    strings_only: bool,
    protected: &[&str],
) -> Result<ClaimChanges, TriggerError> {
    let add_or_override = match m.get("claimsToAddOrOverride") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(o)) => o.clone(),
        Some(_) => return Err(TriggerError::InvalidResponse),
    };
    let suppress = string_list(m, "claimsToSuppress")?;
    for name in add_or_override.keys().chain(suppress.iter()) {
        if protected.contains(&name.as_str()) {
            return Err(TriggerError::InvalidResponse);
        }
    }
    if strings_only && add_or_override.values().any(|v| !v.is_string()) {
        return Err(TriggerError::InvalidResponse);
    }
    Ok(ClaimChanges {
        add_or_override,
        suppress,
    })
}

// ------------------------------------------------------------- UserMigration

/// `UserMigration_Authentication` (with the password typed at sign-in) or
/// `UserMigration_ForgotPassword` (without). `request`: `password` (sign-in only),
/// `validationData` (the call's `ClientMetadata`, null when none), `clientMetadata` (only
/// when given). `response`: `{}`. The event holds a plaintext password: never log it.
pub fn user_migration(
    ctx: &EventContext,
    password: Option<&str>,
    client_metadata: Option<&Metadata>,
) -> Value {
    let mut request = Map::new();
    if let Some(password) = password {
        request.insert("password".into(), Value::String(password.to_string()));
    }
    request.insert(
        "validationData".into(),
        client_metadata.map_or(Value::Null, string_map),
    );
    insert_client_metadata(&mut request, client_metadata);
    envelope(ctx, request, Map::new())
}

/// What a UserMigration function answered for a user it knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigratedUser {
    pub attributes: Attrs,
    /// `finalUserStatus` is `CONFIRMED` (else `RESET_REQUIRED`, the default).
    pub confirmed: bool,
    pub force_alias_creation: bool,
}

/// Reads a UserMigration answer: `None` when the function knows no such user (an empty
/// response, or no `userAttributes`); attribute values must be strings.
pub fn parse_user_migration(output: &Value) -> Result<Option<MigratedUser>, TriggerError> {
    check_envelope(output)?;
    let r = response_of(output)?;
    let attributes = match r.get("userAttributes") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(o)) => o
            .iter()
            .map(|(k, v)| {
                v.as_str()
                    .map(|v| (k.clone(), v.to_string()))
                    .ok_or(TriggerError::InvalidResponse)
            })
            .collect::<Result<Attrs, _>>()?,
        Some(_) => return Err(TriggerError::InvalidResponse),
    };
    let confirmed = match r.get("finalUserStatus") {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) if s == "CONFIRMED" => true,
        Some(Value::String(s)) if s == "RESET_REQUIRED" => false,
        Some(_) => return Err(TriggerError::InvalidResponse),
    };
    let force_alias_creation = match r.get("forceAliasCreation") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(TriggerError::InvalidResponse),
    };
    Ok(Some(MigratedUser {
        attributes,
        confirmed,
        force_alias_creation,
    }))
}

// ------------------------------------------------------------- Custom auth

/// One round of a custom sign-in so far, as DefineAuthChallenge sees it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChallengeResult {
    pub challenge_name: String,
    pub challenge_result: bool,
    pub challenge_metadata: Option<String>,
}

fn session_value(history: &[ChallengeResult]) -> Value {
    Value::Array(
        history
            .iter()
            .map(|r| {
                let mut m = Map::new();
                m.insert(
                    "challengeName".into(),
                    Value::String(r.challenge_name.clone()),
                );
                m.insert("challengeResult".into(), Value::Bool(r.challenge_result));
                m.insert(
                    "challengeMetadata".into(),
                    r.challenge_metadata
                        .clone()
                        .map_or(Value::Null, Value::String),
                );
                Value::Object(m)
            })
            .collect(),
    )
}

fn custom_request(
    user_attributes: &Attrs,
    client_metadata: Option<&Metadata>,
    user_not_found: bool,
) -> Map<String, Value> {
    let mut request = Map::new();
    request.insert("userAttributes".into(), string_map(user_attributes));
    insert_client_metadata(&mut request, client_metadata);
    request.insert("userNotFound".into(), Value::Bool(user_not_found));
    request
}

/// `DefineAuthChallenge_Authentication`: `request {userAttributes, session, clientMetadata,
/// userNotFound}`, `response {challengeName, issueTokens, failAuthentication}`.
pub fn define_auth_challenge(
    ctx: &EventContext,
    user_attributes: &Attrs,
    history: &[ChallengeResult],
    client_metadata: Option<&Metadata>,
    user_not_found: bool,
) -> Value {
    let mut request = custom_request(user_attributes, client_metadata, user_not_found);
    request.insert("session".into(), session_value(history));
    let mut response = Map::new();
    response.insert("challengeName".into(), Value::Null);
    response.insert("issueTokens".into(), Value::Bool(false));
    response.insert("failAuthentication".into(), Value::Bool(false));
    envelope(ctx, request, response)
}

/// What DefineAuthChallenge decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DefineDecision {
    IssueTokens,
    Fail,
    Challenge(String),
}

/// Tokens win over failure, failure over a next challenge; none of the three is an invalid
/// answer.
pub fn parse_define_auth_challenge(output: &Value) -> Result<DefineDecision, TriggerError> {
    check_envelope(output)?;
    let r = response_of(output)?;
    if flag(&r, "issueTokens")? {
        return Ok(DefineDecision::IssueTokens);
    }
    if flag(&r, "failAuthentication")? {
        return Ok(DefineDecision::Fail);
    }
    match r.get("challengeName") {
        Some(Value::String(name)) if !name.is_empty() => {
            Ok(DefineDecision::Challenge(name.clone()))
        }
        _ => Err(TriggerError::InvalidResponse),
    }
}

/// `CreateAuthChallenge_Authentication`: `request {userAttributes, challengeName, session,
/// clientMetadata, userNotFound}`, `response {publicChallengeParameters,
/// privateChallengeParameters, challengeMetadata}`.
pub fn create_auth_challenge(
    ctx: &EventContext,
    user_attributes: &Attrs,
    challenge_name: &str,
    history: &[ChallengeResult],
    client_metadata: Option<&Metadata>,
    user_not_found: bool,
) -> Value {
    let mut request = custom_request(user_attributes, client_metadata, user_not_found);
    request.insert(
        "challengeName".into(),
        Value::String(challenge_name.to_string()),
    );
    request.insert("session".into(), session_value(history));
    let mut response = Map::new();
    response.insert("publicChallengeParameters".into(), Value::Null);
    response.insert("privateChallengeParameters".into(), Value::Null);
    response.insert("challengeMetadata".into(), Value::Null);
    envelope(ctx, request, response)
}

/// A challenge as CreateAuthChallenge made it.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CreatedChallenge {
    pub public: Attrs,
    pub private: Attrs,
    pub metadata: Option<String>,
}

pub fn parse_create_auth_challenge(output: &Value) -> Result<CreatedChallenge, TriggerError> {
    check_envelope(output)?;
    let r = response_of(output)?;
    let strings = |key: &str| -> Result<Attrs, TriggerError> {
        match r.get(key) {
            None | Some(Value::Null) => Ok(Attrs::new()),
            Some(Value::Object(o)) => o
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    Value::Number(_) | Value::Bool(_) => Ok((k.clone(), v.to_string())),
                    _ => Err(TriggerError::InvalidResponse),
                })
                .collect(),
            Some(_) => Err(TriggerError::InvalidResponse),
        }
    };
    let metadata = match r.get("challengeMetadata") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(TriggerError::InvalidResponse),
    };
    Ok(CreatedChallenge {
        public: strings("publicChallengeParameters")?,
        private: strings("privateChallengeParameters")?,
        metadata,
    })
}

/// `VerifyAuthChallengeResponse_Authentication`: `request {userAttributes,
/// privateChallengeParameters, challengeAnswer, clientMetadata, userNotFound}`, `response
/// {answerCorrect}`.
pub fn verify_auth_challenge_response(
    ctx: &EventContext,
    user_attributes: &Attrs,
    private_parameters: &Attrs,
    answer: &str,
    client_metadata: Option<&Metadata>,
    user_not_found: bool,
) -> Value {
    let mut request = custom_request(user_attributes, client_metadata, user_not_found);
    request.insert(
        "privateChallengeParameters".into(),
        string_map(private_parameters),
    );
    request.insert("challengeAnswer".into(), Value::String(answer.to_string()));
    let mut response = Map::new();
    response.insert("answerCorrect".into(), Value::Bool(false));
    envelope(ctx, request, response)
}

pub fn parse_verify_auth_challenge_response(output: &Value) -> Result<bool, TriggerError> {
    check_envelope(output)?;
    flag(&response_of(output)?, "answerCorrect")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(version: u8, details: Value) -> Result<TokenOverrides, TriggerError> {
        let member = if version == 1 {
            "claimsOverrideDetails"
        } else {
            "claimsAndScopeOverrideDetails"
        };
        parse_pre_token_generation(version, &json!({"response": {member: details}}))
    }

    #[test]
    fn group_overrides_are_read_in_every_version() {
        for version in [1, 2, 3] {
            let out = answer(
                version,
                json!({"groupOverrideDetails": {
                    "groupsToOverride": ["a", "b"],
                    "iamRolesToOverride": ["arn:r"],
                    "preferredRole": "arn:r"
                }}),
            )
            .unwrap();
            assert_eq!(
                out.groups,
                Some(GroupOverride {
                    groups: vec!["a".into(), "b".into()],
                    iam_roles: vec!["arn:r".into()],
                    preferred_role: Some("arn:r".into()),
                })
            );
            // Named but empty: the tokens carry no groups; not named: nothing changes.
            let empty = answer(version, json!({"groupOverrideDetails": {}})).unwrap();
            assert_eq!(empty.groups, Some(GroupOverride::default()));
            assert_eq!(answer(version, json!({})).unwrap().groups, None);
        }
    }

    #[test]
    fn malformed_group_overrides_are_invalid_answers() {
        for bad in [
            json!({"groupOverrideDetails": ["a"]}),
            json!({"groupOverrideDetails": {"groupsToOverride": "a"}}),
            json!({"groupOverrideDetails": {"groupsToOverride": [1]}}),
            json!({"groupOverrideDetails": {"preferredRole": 7}}),
        ] {
            assert_eq!(
                answer(2, bad.clone()),
                Err(TriggerError::InvalidResponse),
                "{bad}"
            );
        }
    }
}

//! Checks of what a client may write at sign-up: the pool schema, the client's write
//! permissions, formats of email and phone number, and the password policy. Messages are
//! AWS's (spec §b.1).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use regex::Regex;

use cognate_wire::ApiError;

use super::settings::{ClientSettings, PasswordPolicy, PoolSettings};
use crate::errors;

fn email_re() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^[^@\s]+@[^@\s]+\.[^@\s]+$").ok())
        .as_ref()
}

fn phone_re() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^\+[0-9]{4,15}$").ok())
        .as_ref()
}

pub fn looks_like_email(s: &str) -> bool {
    email_re().is_some_and(|re| re.is_match(s))
}

pub fn looks_like_phone(s: &str) -> bool {
    phone_re().is_some_and(|re| re.is_match(s))
}

/// Attributes no client may set for itself.
const SERVER_OWNED: &[&str] = &[
    "sub",
    "email_verified",
    "phone_number_verified",
    "identities",
];

pub fn check_client_writable(
    client: &ClientSettings,
    attrs: &BTreeMap<String, String>,
) -> Result<(), ApiError> {
    for name in attrs.keys() {
        let allowed_by_client = client
            .write_attributes
            .as_ref()
            .is_none_or(|list| list.iter().any(|a| a == name));
        if SERVER_OWNED.contains(&name.as_str()) || !allowed_by_client {
            return Err(errors::not_authorized(
                "A client attempted to write unauthorized attribute",
            ));
        }
    }
    Ok(())
}

pub fn check_schema(pool: &PoolSettings, attrs: &BTreeMap<String, String>) -> Result<(), ApiError> {
    let mut problems = Vec::new();
    for (name, value) in attrs {
        let Some(def) = pool.schema_attribute(name) else {
            return Err(errors::invalid_parameter(format!(
                "Attributes did not conform to the schema: Type for attribute {{{name}}} could not be determined"
            )));
        };
        match def.attribute_data_type.as_deref() {
            Some("Number") => {
                if value.parse::<f64>().is_err() {
                    problems.push(format!("{name}: Number is not valid"));
                }
            }
            Some("Boolean") => {
                if value != "true" && value != "false" {
                    problems.push(format!("{name}: Boolean is not valid"));
                }
            }
            _ => {
                if let Some(c) = &def.string_attribute_constraints {
                    let len = value.chars().count();
                    if let Some(max) = c.get("MaxLength").and_then(|m| m.parse::<usize>().ok()) {
                        if len > max {
                            problems.push(format!(
                                "{name}: String must be no longer than {max} characters"
                            ));
                        }
                    }
                    if let Some(min) = c.get("MinLength").and_then(|m| m.parse::<usize>().ok()) {
                        if len < min && !(def.name != "sub" && len == 0 && min == 0) {
                            problems.push(format!(
                                "{name}: String must be no shorter than {min} characters"
                            ));
                        }
                    }
                }
            }
        }
    }
    let missing: Vec<String> = pool
        .schema_attributes
        .iter()
        .filter(|a| a.required && a.name != "sub")
        .filter(|a| attrs.get(&a.name).is_none_or(|v| v.is_empty()))
        .map(|a| format!("{}: The attribute is required", a.name))
        .collect();
    problems.extend(missing);
    if !problems.is_empty() {
        return Err(errors::invalid_parameter(format!(
            "Attributes did not conform to the schema: {}",
            problems.join(" ")
        )));
    }
    if let Some(email) = attrs.get("email") {
        if !looks_like_email(email) {
            return Err(errors::invalid_parameter("Invalid email address format."));
        }
    }
    if let Some(phone) = attrs.get("phone_number") {
        if !looks_like_phone(phone) {
            return Err(errors::invalid_parameter("Invalid phone number format."));
        }
    }
    Ok(())
}

/// Cognito's accepted special characters (plus space, which may not lead or trail).
const SYMBOLS: &str = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ";

/// The first rule the password breaks, in AWS's order and wording.
pub fn check_password(policy: &PasswordPolicy, password: &str) -> Result<(), ApiError> {
    let reason = if (password.chars().count() as i64) < policy.minimum_length {
        Some("Password not long enough")
    } else if policy.require_lowercase && !password.chars().any(|c| c.is_lowercase()) {
        Some("Password must have lowercase characters")
    } else if policy.require_uppercase && !password.chars().any(|c| c.is_uppercase()) {
        Some("Password must have uppercase characters")
    } else if policy.require_numbers && !password.chars().any(|c| c.is_ascii_digit()) {
        Some("Password must have numeric characters")
    } else if policy.require_symbols
        && !password.chars().any(|c| SYMBOLS.contains(c) && c != ' ')
        && !password.trim().contains(' ')
    {
        Some("Password must have symbol characters")
    } else {
        None
    };
    match reason {
        Some(r) => Err(errors::invalid_password(r)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_rules_in_order() {
        let p = PasswordPolicy::default();
        let msg = |pw: &str| check_password(&p, pw).err().map(|e| e.message);
        assert_eq!(
            msg("Ab1!"),
            Some("Password did not conform with policy: Password not long enough".into())
        );
        assert_eq!(
            msg("ABCDEFG1!"),
            Some(
                "Password did not conform with policy: Password must have lowercase characters"
                    .into()
            )
        );
        assert_eq!(
            msg("abcdefg1!"),
            Some(
                "Password did not conform with policy: Password must have uppercase characters"
                    .into()
            )
        );
        assert_eq!(
            msg("Abcdefgh!"),
            Some(
                "Password did not conform with policy: Password must have numeric characters"
                    .into()
            )
        );
        assert_eq!(
            msg("Abcdefgh1"),
            Some(
                "Password did not conform with policy: Password must have symbol characters".into()
            )
        );
        assert_eq!(msg("Abcdefg1!"), None);
        assert_eq!(msg("Abc defg1"), None, "an inner space counts as a symbol");
    }

    #[test]
    fn formats() {
        assert!(looks_like_email("jane@example.com"));
        assert!(!looks_like_email("jane"));
        assert!(!looks_like_email("jane@example"));
        assert!(looks_like_phone("+12065551234"));
        assert!(!looks_like_phone("12065551234"));
        assert!(!looks_like_phone("+1 206"));
    }
}

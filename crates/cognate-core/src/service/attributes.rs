//! Checks of what a client may write at sign-up: the pool schema, the client's write
//! permissions, formats of email and phone number, and the password policy. Messages are
//! AWS's (spec §b.1).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use regex::Regex;

use cognate_wire::AttributeDataType;

use crate::error::{DomainError, DomainResult, Invalid, PasswordRule, SchemaProblem};
use crate::settings::{ClientSettings, PasswordPolicy, PoolSettings};

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
) -> DomainResult<()> {
    for name in attrs.keys() {
        let allowed_by_client = client
            .write_attributes
            .as_ref()
            .is_none_or(|list| list.iter().any(|a| a == name));
        if SERVER_OWNED.contains(&name.as_str()) || !allowed_by_client {
            return Err(DomainError::UnauthorizedAttribute);
        }
    }
    Ok(())
}

/// A user's whole attribute set against the schema: known names, types, lengths, formats,
/// and every required attribute present.
pub fn check_schema(pool: &PoolSettings, attrs: &BTreeMap<String, String>) -> DomainResult<()> {
    check_attributes(pool, attrs, true)
}

/// Some attributes' values against the schema (an update: what it does not name stays).
pub fn check_values(pool: &PoolSettings, attrs: &BTreeMap<String, String>) -> DomainResult<()> {
    check_attributes(pool, attrs, false)
}

fn check_attributes(
    pool: &PoolSettings,
    attrs: &BTreeMap<String, String>,
    whole: bool,
) -> DomainResult<()> {
    let mut problems = Vec::new();
    for (name, value) in attrs {
        let Some(def) = pool.schema_attribute(name) else {
            return Err(DomainError::Invalid(Invalid::UnknownAttribute {
                name: name.clone(),
            }));
        };
        let name = name.clone();
        match def.data_type {
            AttributeDataType::Number => {
                if value.parse::<f64>().is_err() {
                    problems.push(SchemaProblem::NotANumber { name });
                }
            }
            AttributeDataType::Boolean => {
                if value != "true" && value != "false" {
                    problems.push(SchemaProblem::NotABoolean { name });
                }
            }
            _ => {
                let len = value.chars().count();
                if let Some(max) = def.max_length.filter(|max| len > *max) {
                    problems.push(SchemaProblem::TooLong {
                        name: name.clone(),
                        max,
                    });
                }
                if let Some(min) = def.min_length.filter(|min| len < *min) {
                    problems.push(SchemaProblem::TooShort { name, min });
                }
            }
        }
    }
    let missing = pool
        .schema_attributes
        .iter()
        .filter(|_| whole)
        .filter(|a| a.required && a.name != "sub")
        .filter(|a| attrs.get(&a.name).is_none_or(|v| v.is_empty()))
        .map(|a| SchemaProblem::Required {
            name: a.name.clone(),
        });
    problems.extend(missing);
    if !problems.is_empty() {
        return Err(DomainError::Invalid(Invalid::Schema { problems }));
    }
    if let Some(email) = attrs.get("email") {
        if !looks_like_email(email) {
            return Err(DomainError::Invalid(Invalid::EmailFormat));
        }
    }
    if let Some(phone) = attrs.get("phone_number") {
        if !looks_like_phone(phone) {
            return Err(DomainError::Invalid(Invalid::PhoneFormat));
        }
    }
    Ok(())
}

/// Cognito's accepted special characters (plus space, which may not lead or trail).
const SYMBOLS: &str = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ";

/// The first rule the password breaks, in AWS's order and wording.
pub fn check_password(policy: &PasswordPolicy, password: &str) -> DomainResult<()> {
    let broken = if (password.chars().count() as i64) < policy.minimum_length {
        Some(PasswordRule::TooShort)
    } else if policy.require_lowercase && !password.chars().any(|c| c.is_lowercase()) {
        Some(PasswordRule::NeedsLowercase)
    } else if policy.require_uppercase && !password.chars().any(|c| c.is_uppercase()) {
        Some(PasswordRule::NeedsUppercase)
    } else if policy.require_numbers && !password.chars().any(|c| c.is_ascii_digit()) {
        Some(PasswordRule::NeedsNumber)
    } else if policy.require_symbols
        && !password.chars().any(|c| SYMBOLS.contains(c) && c != ' ')
        && !password.trim().contains(' ')
    {
        Some(PasswordRule::NeedsSymbol)
    } else {
        None
    };
    match broken {
        Some(rule) => Err(DomainError::InvalidPassword(rule)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_rules_in_order() {
        let p = PasswordPolicy::default();
        let broken = |pw: &str| match check_password(&p, pw) {
            Err(DomainError::InvalidPassword(rule)) => Some(rule),
            _ => None,
        };
        assert_eq!(broken("Ab1!"), Some(PasswordRule::TooShort));
        assert_eq!(broken("ABCDEFG1!"), Some(PasswordRule::NeedsLowercase));
        assert_eq!(broken("abcdefg1!"), Some(PasswordRule::NeedsUppercase));
        assert_eq!(broken("Abcdefgh!"), Some(PasswordRule::NeedsNumber));
        assert_eq!(broken("Abcdefgh1"), Some(PasswordRule::NeedsSymbol));
        assert_eq!(broken("Abcdefg1!"), None);
        assert_eq!(
            broken("Abc defg1"),
            None,
            "an inner space counts as a symbol"
        );
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

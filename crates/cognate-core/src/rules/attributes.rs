//! Applying an attribute change to what the store loaded and locked: values set and removed,
//! pending values set and cleared, in that order.

use std::collections::BTreeMap;

use crate::records::AttributeUpdate;

pub fn apply(
    mut attributes: BTreeMap<String, String>,
    mut pending: BTreeMap<String, String>,
    update: &AttributeUpdate,
) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    for name in &update.remove {
        attributes.remove(name);
    }
    attributes.extend(update.set.clone());
    for name in &update.pending_remove {
        pending.remove(name);
    }
    pending.extend(update.pending_set.clone());
    (attributes, pending)
}

/// VerifyUserAttribute's change: the verified value (pending or current) becomes the
/// attribute's, marked verified, and nothing stays pending for it.
pub fn verified(
    mut attributes: BTreeMap<String, String>,
    mut pending: BTreeMap<String, String>,
    attribute: &str,
    value: &str,
) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    attributes.insert(attribute.to_string(), value.to_string());
    attributes.insert(format!("{attribute}_verified"), "true".to_string());
    pending.remove(attribute);
    (attributes, pending)
}

/// The value a verification code of `attribute` is for: the pending one, else the current.
pub fn value_to_verify<'a>(
    attributes: &'a BTreeMap<String, String>,
    pending: &'a BTreeMap<String, String>,
    attribute: &str,
) -> Option<&'a str> {
    pending
        .get(attribute)
        .or_else(|| attributes.get(attribute))
        .map(String::as_str)
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn removes_then_sets_and_keeps_what_it_does_not_name() {
        let update = AttributeUpdate {
            set: map(&[("name", "Ann"), ("email_verified", "false")]),
            remove: vec!["nickname".into()],
            pending_set: map(&[("email", "new@x.com")]),
            pending_remove: vec!["phone_number".into()],
            ..Default::default()
        };
        let (attributes, pending) = apply(
            map(&[
                ("nickname", "a"),
                ("locale", "fr"),
                ("email_verified", "true"),
            ]),
            map(&[("phone_number", "+15550100")]),
            &update,
        );
        assert_eq!(
            attributes,
            map(&[
                ("name", "Ann"),
                ("locale", "fr"),
                ("email_verified", "false")
            ])
        );
        assert_eq!(pending, map(&[("email", "new@x.com")]));
    }

    #[test]
    fn verification_applies_the_pending_value() {
        let attributes = map(&[("email", "old@x.com"), ("email_verified", "true")]);
        let pending = map(&[("email", "new@x.com")]);
        assert_eq!(
            value_to_verify(&attributes, &pending, "email"),
            Some("new@x.com")
        );
        let (attributes, pending) = verified(attributes, pending, "email", "new@x.com");
        assert_eq!(
            attributes,
            map(&[("email", "new@x.com"), ("email_verified", "true")])
        );
        assert!(pending.is_empty());
        assert_eq!(value_to_verify(&attributes, &pending, "phone_number"), None);
    }
}

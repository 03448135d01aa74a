//! Naming, doc-comment and literal helpers.

const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "do", "dyn",
    "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let",
    "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return",
    "static", "struct", "trait", "true", "try", "type", "typeof", "unsafe", "unsized", "use",
    "virtual", "where", "while", "yield",
];

/// `UserPoolId` -> `user_pool_id`, `KMSKeyID` -> `kms_key_id`,
/// `CallbackURLs` -> `callback_urls`, `AllowedOAuthFlows` -> `allowed_oauth_flows`.
pub fn snake_case(name: &str) -> String {
    let name = name.replace("OAuth", "Oauth");
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next = chars.get(i + 1).copied();
            // "URLs": a trailing plural `s` stays with the acronym.
            let plural_s =
                next == Some('s') && chars.get(i + 2).is_none_or(|c| c.is_ascii_uppercase());
            let starts_word = prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase()
                    && next.is_some_and(|n| n.is_ascii_lowercase())
                    && !plural_s);
            if starts_word && !out.ends_with('_') {
                out.push('_');
            }
        }
        if c == '-' || c == ' ' || c == '.' {
            out.push('_');
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// A field or method identifier, escaping keywords with `r#`.
pub fn ident(snake: &str) -> String {
    if KEYWORDS.contains(&snake) {
        format!("r#{snake}")
    } else {
        snake.to_owned()
    }
}

/// Enum variant name from a wire value: `ALLOW_USER_SRP_AUTH` -> `AllowUserSrpAuth`,
/// `email` -> `Email`, `SignInWithApple` -> `SignInWithApple`, `V1_0` -> `V10`.
pub fn variant_name(value: &str) -> String {
    let mut out = String::new();
    for segment in value.split(|c: char| !c.is_ascii_alphanumeric()) {
        if segment.is_empty() {
            continue;
        }
        let all_upper = !segment.chars().any(|c| c.is_ascii_lowercase());
        let mut chars = segment.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            if all_upper {
                out.extend(chars.map(|c| c.to_ascii_lowercase()));
            } else {
                out.extend(chars);
            }
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    out
}

/// Lower-cases the first character: the member path segment used in
/// validation messages (`UserPoolId` -> `userPoolId`).
pub fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A Rust string literal for `s` (raw when that is possible, for readability).
pub fn lit(s: &str) -> String {
    let plain = !s.chars().any(|c| c.is_control());
    if plain && !s.contains('"') && !s.contains('\\') {
        format!("\"{s}\"")
    } else if plain && !s.contains('"') {
        format!("r\"{s}\"")
    } else if plain && !s.contains("\"#") {
        format!("r#\"{s}\"#")
    } else {
        format!("{s:?}")
    }
}

fn strip_html(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' if in_tag => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

const MAX_DOC: usize = 200;

/// The first sentence of a model documentation string, HTML stripped.
/// `None` when there is no documentation or the sentence is unreasonably long.
pub fn first_sentence(doc: Option<&str>) -> Option<String> {
    let text = strip_html(doc?);
    let mut end = text.len();
    let bytes = text.as_bytes();
    for (i, _) in text.match_indices(". ") {
        let before = &text[..i];
        let last_word = before.rsplit(' ').next().unwrap_or("");
        // Abbreviations such as "e.g." and "i.e." do not end a sentence.
        if matches!(last_word, "e.g" | "i.e" | "etc" | "vs" | "Inc") || last_word.len() == 1 {
            continue;
        }
        if bytes.get(i + 2).is_some_and(|b| b.is_ascii_lowercase()) {
            continue;
        }
        end = i + 1;
        break;
    }
    let sentence = text[..end].trim();
    if sentence.is_empty() || sentence.chars().count() > MAX_DOC {
        return None;
    }
    // Keep rustdoc from reading `[x]` as a link or `<x>` as HTML.
    Some(
        sentence
            .replace('[', "\\[")
            .replace(']', "\\]")
            .replace('<', "&lt;")
            .replace('>', "&gt;"),
    )
}

/// Joins `items` with `, `, wrapping lines at about 100 columns; every line
/// starts with `indent`. For tables under `#[rustfmt::skip]`.
pub fn wrap(items: &[String], indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for item in items {
        if !line.is_empty() && indent.len() + line.len() + item.len() + 2 > 100 {
            out.push_str(indent);
            out.push_str(line.trim_end());
            out.push('\n');
            line.clear();
        }
        line.push_str(item);
        line.push_str(", ");
    }
    if !line.is_empty() {
        out.push_str(indent);
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `/// <sentence>` (with the given indentation), or nothing.
pub fn doc_line(doc: Option<&str>, indent: &str) -> String {
    match first_sentence(doc) {
        Some(s) => format!("{indent}/// {s}\n"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_cases() {
        for (input, want) in [
            ("UserPoolId", "user_pool_id"),
            ("KMSKeyID", "kms_key_id"),
            ("CallbackURLs", "callback_urls"),
            ("AllowedOAuthFlows", "allowed_oauth_flows"),
            (
                "AllowedOAuthFlowsUserPoolClient",
                "allowed_oauth_flows_user_pool_client",
            ),
            (
                "PrimaryRoute53HealthCheckId",
                "primary_route53_health_check_id",
            ),
            ("S3Bucket", "s3_bucket"),
            ("AWSAccountId", "aws_account_id"),
            ("SMSMfaSettings", "sms_mfa_settings"),
            ("SetUserMFAPreference", "set_user_mfa_preference"),
            ("GetUICustomization", "get_ui_customization"),
            ("CSVHeader", "csv_header"),
            ("AdminConfirmSignUp", "admin_confirm_sign_up"),
            ("Type", "type"),
        ] {
            assert_eq!(snake_case(input), want, "{input}");
        }
    }

    #[test]
    fn variants() {
        assert_eq!(variant_name("ALLOW_USER_SRP_AUTH"), "AllowUserSrpAuth");
        assert_eq!(variant_name("email"), "Email");
        assert_eq!(variant_name("SignInWithApple"), "SignInWithApple");
        assert_eq!(variant_name("V1_0"), "V10");
        assert_eq!(variant_name("verified_phone_number"), "VerifiedPhoneNumber");
    }

    #[test]
    fn sentences() {
        assert_eq!(
            first_sentence(Some("<p>Registers a user, e.g. Bob. More text.</p>")).as_deref(),
            Some("Registers a user, e.g. Bob.")
        );
        assert_eq!(first_sentence(Some("<p></p>")), None);
        assert_eq!(
            first_sentence(Some("<p>Uses <code>a[b]</code> &amp; more</p>")).as_deref(),
            Some("Uses a\\[b\\] & more")
        );
    }

    #[test]
    fn literals() {
        assert_eq!(lit(r"[\w+]+"), r#"r"[\w+]+""#);
        assert_eq!(lit("ClientId"), r#""ClientId""#);
        assert_eq!(lit("a\"b"), "r#\"a\"b\"#");
        assert_eq!(lit("a\nb"), "\"a\\nb\"");
    }
}

//! `CodeDeliveryDetails.Destination` tells the user where a code went without disclosing the
//! full address to whoever sent the (unauthenticated) request, so it shows only enough to
//! recognise: `j***@e***` for email, `+*******1234` for a phone (`cognito-behaviour.md` §b.7).

/// `first char of local part` + `***@` + `first char of domain` + `***`.
///
/// Characters, not bytes, so non-ASCII addresses are never split. Case is kept. The domain is
/// whatever follows the last `@`; an empty part contributes nothing, and a value without `@`
/// gives its first character and `***`.
pub fn email(addr: &str) -> String {
    match addr.rsplit_once('@') {
        Some((local, domain)) => format!("{}***@{}***", first(local), first(domain)),
        None => format!("{}***", first(addr)),
    }
}

/// `+`, then one `*` per hidden character, then the last four characters
/// (`+12065551234` → `+*******1234`).
///
/// Counted in characters after the leading `+` (kept only if present). Values of four
/// characters or fewer are shown without stars.
pub fn phone(e164: &str) -> String {
    let (plus, digits) = match e164.strip_prefix('+') {
        Some(rest) => ("+", rest),
        None => ("", e164),
    };
    let count = digits.chars().count();
    let hidden = count.saturating_sub(4);
    let shown: String = digits.chars().skip(hidden).collect();
    format!("{plus}{}{shown}", "*".repeat(hidden))
}

fn first(s: &str) -> &str {
    s.char_indices().nth(1).map_or(s, |(i, _)| &s[..i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_rows_from_test_vectors() {
        assert_eq!(email("jane.doe@example.com"), "j***@e***");
        assert_eq!(email("sam@mail.example.org"), "s***@m***");
        assert_eq!(email("a@b.co"), "a***@b***");
        assert_eq!(email("Jane.Doe@Example.com"), "J***@E***");
    }

    #[test]
    fn phone_rows_from_test_vectors() {
        assert_eq!(phone("+447700900123"), "+********0123");
        assert_eq!(phone("+14155550123"), "+*******0123");
        assert_eq!(phone("+61412345678"), "+*******5678");
    }

    #[test]
    fn examples_from_the_behaviour_spec() {
        assert_eq!(email("jane@example.com"), "j***@e***");
        assert_eq!(phone("+12065551234"), "+*******1234");
        // §b.7's observed 12-digit example `+********4114`.
        assert_eq!(phone("+123456784114"), "+********4114");
    }

    #[test]
    fn email_edge_cases_do_not_panic() {
        assert_eq!(email("jürgen@bücher.de"), "j***@b***");
        assert_eq!(email("élodie@ëxample.fr"), "é***@ë***");
        assert_eq!(email("\"a@b\"@example.com"), "\"***@e***");
        assert_eq!(email("@example.com"), "***@e***");
        assert_eq!(email("jane@"), "j***@***");
        assert_eq!(email("no-at-sign"), "n***");
        assert_eq!(email(""), "***");
    }

    #[test]
    fn phone_edge_cases_do_not_panic() {
        assert_eq!(phone("+1234"), "+1234");
        assert_eq!(phone("+12345"), "+*2345");
        assert_eq!(phone("+"), "+");
        assert_eq!(phone(""), "");
        assert_eq!(phone("2065551234"), "******1234");
        assert_eq!(phone("+٠١٢٣٤٥٦"), "+***٣٤٥٦");
    }
}

//! Translation of the model's Java regular expressions into `regex` crate
//! syntax with the same meaning.
//!
//! Differences handled: Java's `\w`, `\d`, `\s` (and negations) are
//! ASCII-only unless UNICODE_CHARACTER_CLASS is set, whereas the `regex`
//! crate makes them Unicode-aware; Java's `.` excludes every line terminator
//! (`\n`, `\r`, U+0085, U+2028, U+2029) unless DOTALL is set, whereas the
//! `regex` crate's excludes only `\n`. Everything else is passed through and
//! test-compiled; what the `regex` crate rejects (e.g. look-behind) is
//! reported as untranslatable.

const WORD: &str = "[0-9A-Za-z_]";
const NOT_WORD: &str = "[^0-9A-Za-z_]";
const DIGIT: &str = "[0-9]";
const NOT_DIGIT: &str = "[^0-9]";
const SPACE: &str = r"[\t\n\x0B\x0C\r ]";
const NOT_SPACE: &str = r"[^\t\n\x0B\x0C\r ]";
const DOT: &str = r"[^\n\r\x{85}\x{2028}\x{2029}]";

/// Rewrites a Java pattern into equivalent `regex` crate syntax (not anchored).
pub fn translate(java: &str) -> String {
    let dotall = java.contains("(?s)");
    let mut out = String::with_capacity(java.len() * 2);
    let mut class_depth = 0usize;
    let mut chars = java.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('w') => out.push_str(WORD),
                Some('W') => out.push_str(NOT_WORD),
                Some('d') => out.push_str(DIGIT),
                Some('D') => out.push_str(NOT_DIGIT),
                Some('s') => out.push_str(SPACE),
                Some('S') => out.push_str(NOT_SPACE),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            },
            '[' => {
                class_depth += 1;
                out.push('[');
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
            }
            ']' if class_depth > 0 => {
                class_depth -= 1;
                out.push(']');
            }
            '.' if class_depth == 0 && !dotall => out.push_str(DOT),
            other => out.push(other),
        }
    }
    out
}

/// The anchored form used for whole-value matching (Java's `matches()`).
pub fn anchored(rust: &str) -> String {
    format!("^(?:{rust})$")
}

/// Translates and test-compiles; `Err` carries the compiler's message.
pub fn compile_check(java: &str) -> Result<String, String> {
    let rust = translate(java);
    match regex::Regex::new(&anchored(&rust)) {
        Ok(_) => Ok(rust),
        Err(e) => Err(e.to_string().lines().last().unwrap_or("").trim().to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(java: &str, value: &str) -> bool {
        let rust = compile_check(java).expect("compiles");
        regex::Regex::new(&anchored(&rust))
            .expect("compiles")
            .is_match(value)
    }

    #[test]
    fn ascii_word_class() {
        assert!(matches(r"[\w-]+_[0-9a-zA-Z]+", "us-east-1_AbC123"));
        assert!(!matches(r"[\w-]+_[0-9a-zA-Z]+", "us-éast-1_AbC123"));
        assert!(matches(r"[\w+]+", "abc+12"));
        assert!(!matches(r"[\w+]+", "abc 12"));
    }

    #[test]
    fn whole_value_only() {
        assert!(!matches(r"[0-9]+", "12a"));
        assert!(matches(r"^[0-9a-fA-F]+$", "00ff"));
        assert!(!matches(r"^[0-9a-fA-F]+$", "00ff\n"));
    }

    #[test]
    fn non_space() {
        assert!(matches(r"[\S]+", "pässwörd!"));
        assert!(!matches(r"[\S]+", "pass word"));
        // Java's \s is ASCII-only, so a no-break space counts as non-space.
        assert!(matches(r"[\S]+", "a\u{a0}b"));
        assert!(!matches(r"[\S]+", ""));
    }

    #[test]
    fn dots() {
        assert!(matches(r".*\{####\}.*", "code {####}"));
        assert!(!matches(r".*\{####\}.*", "line\r{####}"));
        assert!(matches(r"(?s).*", "a\nb"));
    }

    #[test]
    fn lookbehind_is_rejected() {
        assert!(compile_check(r"^[0-9A-Za-z\.\-_]*(?<!\.)$").is_err());
    }

    #[test]
    fn unicode_properties() {
        let p = r"[\p{L}\p{M}\p{S}\p{N}\p{P}]+";
        assert!(matches(p, "jörg@example.com"));
        assert!(!matches(p, "with space"));
    }
}

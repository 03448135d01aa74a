//! Message template rendering, as Cognito does it.
//!
//! * `{####}` is the code placeholder (`render_code`).
//! * `{##Link text##}` in `EmailMessageByLink` becomes a link to the hosted
//!   confirmation endpoint (`render_link` + `confirm_link_url`).
//! * `looks_like_html` / `html_to_text` decide whether an email goes out as
//!   `multipart/alternative` and produce its `text/plain` part.

/// The code placeholder in every Cognito message template.
pub const CODE_PLACEHOLDER: &str = "{####}";

/// Replaces every `{####}` in `template` with `code`.
pub fn render_code(template: &str, code: &str) -> String {
    template.replace(CODE_PLACEHOLDER, code)
}

/// Replaces every `{##text##}` with `<a href="url">text</a>`.
///
/// The link text is HTML-escaped, and so is the URL inside the attribute
/// (`&` becomes `&amp;`, which every HTML reader decodes back). An opening
/// `{##` without a closing `##}` is left as it is.
pub fn render_link(template: &str, url: &str) -> String {
    let href = escape_html(url);
    let mut out = String::with_capacity(template.len() + url.len() + 16);
    let mut rest = template;
    while let Some(start) = rest.find("{##") {
        let after = &rest[start + 3..];
        let Some(end) = after.find("##}") else {
            break;
        };
        out.push_str(&rest[..start]);
        out.push_str("<a href=\"");
        out.push_str(&href);
        out.push_str("\">");
        out.push_str(&escape_html(&after[..end]));
        out.push_str("</a>");
        rest = &after[end + 3..];
    }
    out.push_str(rest);
    out
}

/// The confirmation link Cognito puts in `EmailMessageByLink` messages:
/// `<base>/confirmUser?client_id=…&user_name=…&confirmation_code=…`,
/// every value percent-encoded (RFC 3986 unreserved characters kept).
pub fn confirm_link_url(base: &str, client_id: &str, user_name: &str, code: &str) -> String {
    format!(
        "{}/confirmUser?client_id={}&user_name={}&confirmation_code={}",
        base.trim_end_matches('/'),
        percent_encode(client_id),
        percent_encode(user_name),
        percent_encode(code)
    )
}

/// Percent-encodes everything except the RFC 3986 unreserved characters.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Escapes `& < > " '` for HTML text and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const HTML_TAGS: &[&str] = &[
    "a",
    "abbr",
    "b",
    "big",
    "blockquote",
    "body",
    "br",
    "center",
    "code",
    "div",
    "em",
    "font",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "hr",
    "html",
    "i",
    "img",
    "label",
    "li",
    "meta",
    "ol",
    "p",
    "pre",
    "s",
    "section",
    "small",
    "span",
    "strong",
    "style",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "title",
    "tr",
    "u",
    "ul",
];

/// Whether a message body should be sent as HTML: it contains a known HTML
/// tag (`<p>`, `</b>`, `<br/>`, `<a href=…>`, …), a doctype or a comment.
/// Plain text with a stray `<` (e.g. "code < 5") is not HTML.
pub fn looks_like_html(body: &str) -> bool {
    let bytes = body.as_bytes();
    let mut i = 0;
    while let Some(off) = body[i..].find('<') {
        let start = i + off + 1;
        i = start;
        let rest = &body[start..];
        let lower_prefix: String = rest
            .chars()
            .take(9)
            .collect::<String>()
            .to_ascii_lowercase();
        if lower_prefix.starts_with("!doctype") || lower_prefix.starts_with("!--") {
            return true;
        }
        let name_start = if bytes.get(start) == Some(&b'/') {
            start + 1
        } else {
            start
        };
        let name_len = body[name_start..]
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        if name_len == 0 {
            continue;
        }
        let name = body[name_start..name_start + name_len].to_ascii_lowercase();
        let next = bytes.get(name_start + name_len).copied();
        let delimited = matches!(next, Some(b'>' | b'/' | b' ' | b'\t' | b'\r' | b'\n'));
        if delimited
            && HTML_TAGS.contains(&name.as_str())
            && body[name_start + name_len..].contains('>')
        {
            return true;
        }
    }
    false
}

/// Tags whose start or end begins a new line in the text rendering.
const BLOCK_TAGS: &[&str] = &[
    "blockquote",
    "body",
    "center",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "html",
    "li",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "tr",
    "ul",
];

/// Renders an HTML body as readable plain text for the `text/plain`
/// alternative: tags dropped, `<br>` and block elements become line breaks,
/// list items get `- `, links become `text (url)` (just `url` when the text
/// is the URL), `<head>`/`<style>`/`<script>` content is dropped, entities
/// are decoded and whitespace collapsed as a browser would.
pub fn html_to_text(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut pending_space = false;
    let mut skip_until: Option<String> = None;
    let mut link: Option<(String, usize)> = None; // (href, position of link text in out)
    let mut rest = body;

    while !rest.is_empty() {
        if let Some(lt) = rest.find('<') {
            let text = &rest[..lt];
            if skip_until.is_none() {
                push_text(&mut out, &decode_entities(text), &mut pending_space);
            }
            let after = &rest[lt..];
            // Comments.
            if after.starts_with("<!--") {
                rest = match after.find("-->") {
                    Some(e) => &after[e + 3..],
                    None => "",
                };
                continue;
            }
            let Some(gt) = after.find('>') else {
                // A lone '<': literal text.
                if skip_until.is_none() {
                    push_text(&mut out, &decode_entities(after), &mut pending_space);
                }
                break;
            };
            let tag = &after[1..gt];
            rest = &after[gt + 1..];
            let (closing, name, attrs) = parse_tag(tag);
            if let Some(until) = &skip_until {
                if closing && name == *until {
                    skip_until = None;
                }
                continue;
            }
            if !closing && matches!(name.as_str(), "head" | "style" | "script" | "title") {
                if !tag.trim_end().ends_with('/') {
                    skip_until = Some(name);
                }
                continue;
            }
            match name.as_str() {
                "br" => {
                    out.push('\n');
                    pending_space = false;
                }
                "a" if !closing => {
                    let href = attr_value(attrs, "href").map(|h| decode_entities(&h));
                    if pending_space && !out.is_empty() && !out.ends_with(['\n', ' ']) {
                        out.push(' ');
                    }
                    pending_space = false;
                    link = href.map(|h| (h, out.len()));
                }
                "a" => {
                    if let Some((href, at)) = link.take() {
                        let text = out[at..].trim().to_string();
                        if !href.is_empty() && text != href {
                            if text.is_empty() {
                                out.push_str(&href);
                            } else {
                                out.push_str(" (");
                                out.push_str(&href);
                                out.push(')');
                            }
                        }
                    }
                }
                "li" if !closing => {
                    newline(&mut out);
                    out.push_str("- ");
                    pending_space = false;
                }
                "td" | "th" if !closing => {
                    if !out.is_empty() && !out.ends_with(['\n', ' ', '\t']) {
                        out.push('\t');
                    }
                    pending_space = false;
                }
                n if BLOCK_TAGS.contains(&n) => {
                    newline(&mut out);
                    if matches!(n, "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6") && closing {
                        out.push('\n');
                    }
                    pending_space = false;
                }
                _ => {}
            }
        } else {
            if skip_until.is_none() {
                push_text(&mut out, &decode_entities(rest), &mut pending_space);
            }
            break;
        }
    }
    tidy_lines(&out)
}

fn push_text(out: &mut String, text: &str, pending_space: &mut bool) {
    for c in text.chars() {
        if c.is_whitespace() && c != '\u{a0}' {
            *pending_space = true;
        } else {
            if *pending_space && !out.is_empty() && !out.ends_with(['\n', ' ', '\t']) {
                out.push(' ');
            }
            *pending_space = false;
            out.push(if c == '\u{a0}' { ' ' } else { c });
        }
    }
}

fn newline(out: &mut String) {
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
}

/// Trims each line, drops leading/trailing blank lines and keeps at most one
/// blank line in a row.
fn tidy_lines(s: &str) -> String {
    let mut lines: Vec<&str> = Vec::new();
    for line in s.lines() {
        let line = line.trim_matches(|c: char| c == ' ' || c == '\t');
        if line.is_empty() && lines.last().is_none_or(|l| l.is_empty()) {
            continue;
        }
        lines.push(line);
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines.join("\n")
}

/// Splits `tag` (the text between `<` and `>`) into (closing, lowercase name, attributes).
fn parse_tag(tag: &str) -> (bool, String, &str) {
    let t = tag.trim_start();
    let (closing, t) = match t.strip_prefix('/') {
        Some(r) => (true, r.trim_start()),
        None => (false, t),
    };
    let len = t
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'!')
        .count();
    (closing, t[..len].to_ascii_lowercase(), &t[len..])
}

/// The value of attribute `name` in an attribute string (quoted or bare).
fn attr_value(attrs: &str, name: &str) -> Option<String> {
    let lower = attrs.to_ascii_lowercase();
    let mut from = 0;
    while let Some(off) = lower[from..].find(name) {
        let pos = from + off;
        from = pos + name.len();
        let boundary = pos == 0 || lower.as_bytes()[pos - 1].is_ascii_whitespace();
        let after = lower[pos + name.len()..].trim_start();
        if !boundary || !after.starts_with('=') {
            continue;
        }
        // Work on the original string at the same offsets.
        let orig_after = attrs[pos + name.len()..].trim_start();
        let value = orig_after[1..].trim_start();
        return Some(match value.chars().next() {
            Some(q @ ('"' | '\'')) => value[1..].split(q).next().unwrap_or("").to_string(),
            _ => value
                .split(|c: char| c.is_whitespace() || c == '/')
                .next()
                .unwrap_or("")
                .to_string(),
        });
    }
    None
}

/// Decodes the common named entities and numeric character references.
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let semi = after.find(';').filter(|&p| p <= 10);
        let decoded = semi.and_then(|p| {
            let ent = &after[..p];
            let c = match ent {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => {
                    if let Some(hex) = ent.strip_prefix("#x").or_else(|| ent.strip_prefix("#X")) {
                        u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
                    } else if let Some(dec) = ent.strip_prefix('#') {
                        dec.parse::<u32>().ok().and_then(char::from_u32)
                    } else {
                        None
                    }
                }
            };
            c.map(|c| (c, p))
        });
        match decoded {
            Some((c, p)) => {
                out.push(c);
                rest = &after[p + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_placeholder_is_replaced_everywhere() {
        assert_eq!(
            render_code("Your code is {####}. Again: {####}", "012345"),
            "Your code is 012345. Again: 012345"
        );
        assert_eq!(render_code("no placeholder", "1"), "no placeholder");
    }

    #[test]
    fn near_miss_placeholders_are_left_alone() {
        assert_eq!(render_code("{###} and {## ##}", "9"), "{###} and {## ##}");
        // "{#####}" contains "{####" followed by "#}", not "{####}".
        assert_eq!(render_code("{#####}", "9"), "{#####}");
    }

    #[test]
    fn link_placeholder_becomes_an_anchor_with_escaped_text() {
        let url = "https://auth.example.com/confirmUser?client_id=abc&user_name=bob&confirmation_code=123";
        let out = render_link("Please {##Click <here> & go##} to verify.", url);
        assert_eq!(
            out,
            "Please <a href=\"https://auth.example.com/confirmUser?client_id=abc&amp;user_name=bob&amp;confirmation_code=123\">Click &lt;here&gt; &amp; go</a> to verify."
        );
        // Two links, and an unterminated one left alone.
        let out = render_link("{##A##} and {##B##} and {##C", "u");
        assert_eq!(out, "<a href=\"u\">A</a> and <a href=\"u\">B</a> and {##C");
        assert_eq!(render_link("nothing here", "u"), "nothing here");
    }

    #[test]
    fn confirm_link_url_percent_encodes_every_value() {
        assert_eq!(
            confirm_link_url("https://auth.example.com/", "client1", "bob smith+x@example.com", "0123"),
            "https://auth.example.com/confirmUser?client_id=client1&user_name=bob%20smith%2Bx%40example.com&confirmation_code=0123"
        );
        assert_eq!(
            confirm_link_url("http://localhost:9229", "c", "ünï&=", "1"),
            "http://localhost:9229/confirmUser?client_id=c&user_name=%C3%BCn%C3%AF%26%3D&confirmation_code=1"
        );
    }

    #[test]
    fn html_detection() {
        assert!(looks_like_html("<p>Your code is 123</p>"));
        assert!(looks_like_html("Code: <b>123</b>"));
        assert!(looks_like_html("line<br/>line"));
        assert!(looks_like_html("line<br>line"));
        assert!(looks_like_html(
            "<!DOCTYPE html><html><body>x</body></html>"
        ));
        assert!(looks_like_html("Click <a href=\"https://x\">here</a>"));
        assert!(!looks_like_html("Your verification code is 123456"));
        assert!(!looks_like_html("if 1 < 2 and 3 > 2"));
        assert!(!looks_like_html("<unknowntag>"));
        assert!(!looks_like_html("a <b"));
    }

    #[test]
    fn html_to_text_keeps_the_words_links_and_breaks() {
        let html = "<html><head><title>T</title><style>p { color: red }</style></head>\
                    <body><h1>Welcome</h1><p>Your   verification\n code is <b>123456</b>.</p>\
                    <p>Or <a href=\"https://x.test/confirm?a=1&amp;b=2\">click here</a>.</p>\
                    line one<br>line two<ul><li>first</li><li>second</li></ul>\
                    <p>5 &lt; 6 &amp; &quot;ok&quot; &#39;x&#39; &#x41;&nbsp;B</p></body></html>";
        let text = html_to_text(html);
        assert_eq!(
            text,
            "Welcome\n\nYour verification code is 123456.\n\n\
             Or click here (https://x.test/confirm?a=1&b=2).\n\n\
             line one\nline two\n- first\n- second\n\
             5 < 6 & \"ok\" 'x' A B"
        );
    }

    #[test]
    fn html_to_text_link_whose_text_is_the_url() {
        assert_eq!(
            html_to_text("Go to <a href='https://x.test'>https://x.test</a> now"),
            "Go to https://x.test now"
        );
        assert_eq!(
            html_to_text("<a href=\"https://x.test\"></a>"),
            "https://x.test"
        );
    }

    #[test]
    fn entity_decoding_leaves_unknown_ampersands() {
        assert_eq!(decode_entities("a & b &bogus; &amp;"), "a & b &bogus; &");
    }
}

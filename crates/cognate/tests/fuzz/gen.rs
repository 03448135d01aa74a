//! proptest strategies built from the model: for every operation a body from its input shape
//! (members respecting their types, lengths, patterns and enums, with real ids and tokens
//! substituted where the shape names them, so that calls get past validation into the
//! service), then mutated (wrong types, missing and extra members, duplicate keys, deep
//! nesting, huge strings, invalid UTF-8, numbers out of range) and framed (truncated, empty,
//! not an object), with mangled X-Amz-Target, Content-Type and Authorization headers.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use base64::Engine as _;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::Value;

use super::json::{Fx, MutKind, Mutation, J};
use super::model::Model;

/// Usernames shared by every generated input, so that one input's SignUp is another's
/// ConfirmSignUp, AdminGetUser or InitiateAuth.
pub const USERNAMES: &[&str] = &[
    "fz0",
    "fz1",
    "fz2",
    "fz3",
    "fz4",
    "FZ0",
    "fz0@example.com",
    "fz1@example.com",
    "+15555550100",
];
/// Meets the default password policy; the harness gives its users this password.
pub const PASSWORD: &str = "Fuzz-Passw0rd!1";
const PASSWORDS: &[&str] = &[
    PASSWORD,
    PASSWORD,
    "Fuzz-Passw0rd!2",
    "short",
    "nouppercase1!",
    "NOLOWERCASE1!",
    "NoSymbols123",
    "NoDigits!!aA",
];
const GROUPS: &[&str] = &["g0", "g1", "g2", "G0"];
const ATTRIBUTE_NAMES: &[&str] = &[
    "email",
    "phone_number",
    "email_verified",
    "phone_number_verified",
    "name",
    "given_name",
    "family_name",
    "preferred_username",
    "custom:tier",
    "custom:nope",
    "sub",
    "address",
    "updated_at",
    "locale",
    "cognito:user_status",
    "dev:custom:tier",
];
const FILTERS: &[&str] = &[
    "username = \"fz0\"",
    "email ^= \"fz\"",
    "status = \"Enabled\"",
    "status = \"Disabled\"",
    "cognito:user_status = \"CONFIRMED\"",
    "cognito:user_status = \"UNCONFIRMED\"",
    "sub = \"00000000-0000-4000-8000-000000000000\"",
    "name = \"\"",
    "phone_number ^= \"+1\"",
    "given_name = \"a\\\"b\"",
    "email = fz0",
    "email == \"x\"",
    "email ^= \"",
    "unknown = \"x\"",
    "email = \"x\" and name = \"y\"",
    "",
    " ",
];
/// Names of the fake Lambda's scripted functions (and one it does not know).
pub const FUNCTIONS: &[&str] = &["fuzz-echo", "fuzz-throw", "fuzz-garbage", "fuzz-missing"];
const AUTH_KEYS: &[&str] = &[
    "USERNAME",
    "PASSWORD",
    "NEW_PASSWORD",
    "SECRET_HASH",
    "REFRESH_TOKEN",
    "SRP_A",
    "DEVICE_KEY",
    "ANSWER",
    "SMS_MFA_CODE",
    "EMAIL_OTP_CODE",
    "SOFTWARE_TOKEN_MFA_CODE",
    "PASSWORD_CLAIM_SIGNATURE",
    "PASSWORD_CLAIM_SECRET_BLOCK",
    "TIMESTAMP",
    "PREFERRED_CHALLENGE",
    "CHALLENGE_NAME",
    "userAttributes.name",
];

/// Where an input is sent and how it is framed; the body is `body` with `mutations` applied.
#[derive(Clone, Debug)]
pub struct WireInput {
    pub op: usize,
    pub target: Target,
    pub content_type: ContentType,
    pub auth: Auth,
    /// Which of the harness's pools the input's fixtures name (0: the anchor pool).
    pub pool: u8,
    pub body: J,
    pub mutations: Vec<Mutation>,
    pub framing: Framing,
}

#[derive(Clone, Debug)]
pub enum Target {
    Valid,
    Missing,
    Unknown(String),
    /// The operation name lower-cased.
    Lowercase,
    /// The operation name without the service prefix.
    NoPrefix,
    /// A valid target with this many extra characters after it.
    Long(usize),
    /// Bytes that are not UTF-8.
    Bytes(Vec<u8>),
}

#[derive(Clone, Debug)]
pub enum ContentType {
    Amz11,
    Amz10,
    Json,
    WithCharset,
    Upper,
    Missing,
    Text,
    Other(String),
    Bytes(Vec<u8>),
}

#[derive(Clone, Debug)]
pub enum Auth {
    /// A well-formed SigV4 header (accepted in AcceptAny mode).
    Signed {
        date: String,
        signature: String,
    },
    Missing,
    Malformed(String),
    Bytes(Vec<u8>),
}

#[derive(Clone, Debug)]
pub enum Framing {
    Normal,
    Empty,
    Whitespace(String),
    /// Cut after this many thousandths of the rendered body.
    Truncated(u16),
    Trailing(Vec<u8>),
    /// A UTF-8 byte-order mark first.
    Bom,
    /// The body inside an array, or replaced by a JSON scalar.
    NotObject(String),
    /// Bytes that are not UTF-8 spliced in at this thousandth of the body.
    Splice(u16, Vec<u8>),
}

fn s(v: &str) -> J {
    J::Str(v.to_string())
}

fn strs(values: &'static [&'static str]) -> BoxedStrategy<J> {
    select(values).prop_map(s).boxed()
}

fn num<T: ToString>(n: T) -> J {
    J::Num(n.to_string())
}

/// Numbers at the edges of every integer type, fractions, exponents, and ones out of range.
fn edge_number() -> BoxedStrategy<J> {
    prop_oneof![
        select(vec![
            "0",
            "-0",
            "-1",
            "1.5",
            "0.0",
            "1e2",
            "1E400",
            "-1e400",
            "1e-400",
            "2147483647",
            "2147483648",
            "-2147483649",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775809",
            "18446744073709551616",
            "123456789012345678901234567890123456789",
            "1.7976931348623157e308",
        ])
        .prop_map(num),
        any::<i64>().prop_map(num),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(num),
    ]
    .boxed()
}

/// Sequences that are not valid UTF-8, or not valid JSON string content.
fn bad_bytes() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        select(vec![
            vec![0xff],
            vec![0xc3, 0x28],
            vec![0xed, 0xa0, 0x80],
            vec![0xf4, 0x90, 0x80, 0x80],
            vec![0xc0, 0xaf],
            vec![0xe2, 0x82],
            b"\\ud800".to_vec(),
            b"\\udc00\\ud800".to_vec(),
            b"\\u0000".to_vec(),
            b"\\uD83D\\uDE00".to_vec(),
            b"\\x41".to_vec(),
            b"\\u12".to_vec(),
            b"\\".to_vec(),
            b"\n\t".to_vec(),
            vec![0x00],
            vec![0x1f],
        ]),
        vec(any::<u8>(), 1..8),
    ]
    .boxed()
}

/// Strings no shape expects: empty, blank, control characters, long, odd Unicode.
fn edge_string() -> BoxedStrategy<String> {
    prop_oneof![
        select(vec![
            "",
            " ",
            "\u{0}",
            "a\nb",
            " fz0 ",
            "\u{202e}rtl",
            "😀",
            "e\u{301}",
            "null",
            "{}",
            "%s%n",
            "' OR 1=1 --",
            "../../etc/passwd",
        ])
        .prop_map(str::to_string),
        any::<String>(),
        "[ -~]{0,40}",
        select(vec![129usize, 256, 2049, 20_001]).prop_map(|n| "x".repeat(n)),
    ]
    .boxed()
}

/// An element of a long array: a few bytes each.
fn small_item() -> BoxedStrategy<J> {
    prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        any::<i32>().prop_map(num),
        "[a-z]{0,8}".prop_map(J::Str),
        Just(J::Obj(vec![
            ("Name".into(), s("email")),
            ("Value".into(), s("fz0@example.com")),
        ])),
    ]
    .boxed()
}

/// A value of any type and size, for mutations.
pub fn chaos() -> BoxedStrategy<J> {
    let leaf = prop_oneof![
        3 => Just(J::Null),
        3 => any::<bool>().prop_map(J::Bool),
        4 => edge_number(),
        5 => edge_string().prop_map(J::Str),
        2 => bad_bytes().prop_map(J::RawStr),
    ];
    let leaf = leaf.boxed();
    prop_oneof![
        40 => leaf.clone(),
        6 => vec(leaf.clone(), 0..4).prop_map(J::Arr),
        6 => vec(("[a-zA-Z]{0,12}", leaf.clone()), 0..4).prop_map(J::Obj),
        3 => (select(vec![64usize, 127, 128, 129, 1000, 10_000]), any::<bool>())
            .prop_map(|(depth, objects)| J::Deep { depth, objects }),
        // 1 MB strings, just under and just over the 1 MiB body limit, and wide characters.
        1 => (select(vec!['a', 'é', '😀', ' ', '\u{0}']), select(vec![65_536usize, 1_000_000, 1_048_577]))
            .prop_map(|(ch, len)| J::Huge { ch, len }),
        // Small items: 50,000 of them make a body of about the 1 MiB limit, not a gigabyte.
        1 => (select(vec![1_000usize, 50_000]), small_item())
            .prop_map(|(n, item)| J::Many { n, item: Box::new(item) }),
    ]
    .boxed()
}

/// Builds (and memoises) the body strategy of every shape.
pub struct Gen<'m> {
    model: &'m Model,
    cache: HashMap<String, BoxedStrategy<J>>,
    /// Shapes being built, to stop at a recursive one.
    building: Vec<String>,
}

impl<'m> Gen<'m> {
    pub fn new(model: &'m Model) -> Self {
        Gen {
            model,
            cache: HashMap::new(),
            building: vec![],
        }
    }

    pub fn shape(&mut self, name: &str) -> BoxedStrategy<J> {
        if let Some(s) = self.cache.get(name) {
            return s.clone();
        }
        if self.building.iter().any(|b| b == name) {
            return Just(J::Null).boxed();
        }
        self.building.push(name.to_string());
        let base = self.build(name);
        let strategy = hint(name, base);
        self.building.pop();
        self.cache.insert(name.to_string(), strategy.clone());
        strategy
    }

    fn build(&mut self, name: &str) -> BoxedStrategy<J> {
        let shape = self.model.shape(name).clone();
        let min = shape["min"].as_i64();
        let max = shape["max"].as_i64();
        match shape["type"].as_str().unwrap_or("") {
            "structure" if shape["document"].as_bool() == Some(true) => document(),
            "structure" => self.structure(&shape),
            "string" => string(&shape),
            "integer" => integer(min, max, (i32::MIN as i64, i32::MAX as i64)),
            "long" => integer(min, max, (i64::MIN, i64::MAX)),
            "boolean" => {
                prop_oneof![19 => any::<bool>().prop_map(J::Bool), 1 => edge_number()].boxed()
            }
            "timestamp" => prop_oneof![
                (0i64..4_000_000_000).prop_map(num),
                Just(num("1767225600.5")),
                Just(s("2026-01-01T00:00:00Z")),
            ]
            .boxed(),
            "blob" => blob(min, max),
            "list" => {
                let item = self.shape(shape["member"]["shape"].as_str().unwrap_or_default());
                let (lo, hi) = sizes(min, max);
                vec(item, lo..=hi).prop_map(J::Arr).boxed()
            }
            "map" => {
                let key = self.shape(shape["key"]["shape"].as_str().unwrap_or_default());
                let value = self.shape(shape["value"]["shape"].as_str().unwrap_or_default());
                let key = key.prop_map(|k| match k {
                    J::Str(s) => s,
                    other => format!("{other:?}"),
                });
                let (lo, hi) = sizes(min, max);
                vec((key, value), lo..=hi).prop_map(J::Obj).boxed()
            }
            other => panic!("shape {name} has a type the fuzzer does not know: {other}"),
        }
    }

    fn structure(&mut self, shape: &Value) -> BoxedStrategy<J> {
        let required: Vec<&str> = shape["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let mut keys = vec![];
        let mut members = vec![];
        let count = shape["members"].as_object().map_or(0, |m| m.len());
        let optional = count.saturating_sub(required.len());
        for (member, spec) in shape["members"].as_object().into_iter().flatten() {
            let target = spec["shape"].as_str().unwrap_or_default();
            let value = member_hint(member, self.shape(target));
            // Required members are nearly always there; optional ones about three at a time
            // (CreateUserPool has thirty: each one set makes another way to be refused).
            let present = if required.contains(&member.as_str()) {
                0.97
            } else {
                (3.0 / optional.max(1) as f64).min(0.4)
            };
            keys.push(member.clone());
            members.push(proptest::option::weighted(present, value).boxed());
        }
        let keys = Arc::new(keys);
        members
            .prop_map(move |values| {
                J::Obj(
                    keys.iter()
                        .zip(values)
                        .filter_map(|(k, v)| v.map(|v| (k.clone(), v)))
                        .collect(),
                )
            })
            .boxed()
    }
}

fn sizes(min: Option<i64>, max: Option<i64>) -> (usize, usize) {
    let lo = min.unwrap_or(0).max(0) as usize;
    let hi = max
        .map(|m| m.max(0) as usize)
        .unwrap_or(usize::MAX)
        .min(lo + 3);
    (lo, hi.max(lo))
}

/// Whatever a free-form document member may hold.
fn document() -> BoxedStrategy<J> {
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        any::<i32>().prop_map(num),
        "[a-z]{0,8}".prop_map(J::Str),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(J::Arr),
            vec(("[a-zA-Z]{1,8}", inner), 0..4).prop_map(J::Obj),
        ]
    })
    .boxed()
}

fn integer(min: Option<i64>, max: Option<i64>, (lo, hi): (i64, i64)) -> BoxedStrategy<J> {
    let min = min.unwrap_or(lo);
    let max = max.unwrap_or(hi);
    let near = min.max(-5)..=max.min(min.saturating_add(100)).max(min.max(-5));
    prop_oneof![
        10 => (min..=max).prop_map(num),
        6 => near.prop_map(num),
        2 => select(vec![min.saturating_sub(1), max.saturating_add(1), min, max]).prop_map(num),
        1 => edge_number(),
    ]
    .boxed()
}

fn blob(min: Option<i64>, max: Option<i64>) -> BoxedStrategy<J> {
    let (lo, hi) = sizes(min, max.map(|m| m.min(64)));
    prop_oneof![
        8 => vec(any::<u8>(), lo..=hi.max(lo + 8))
            .prop_map(|b| J::Str(base64::engine::general_purpose::STANDARD.encode(b))),
        1 => Just(s("not base64!")),
        1 => Just(s("QUJD=")),
    ]
    .boxed()
}

/// `pattern` as a generator: Java's anchors dropped, look-arounds unsupported (`None`).
fn pattern_strategy(pattern: &str) -> Option<BoxedStrategy<String>> {
    let p = pattern.strip_prefix('^').unwrap_or(pattern);
    let p = p.strip_suffix('$').unwrap_or(p);
    proptest::string::string_regex(&java_classes(p))
        .ok()
        .map(|s| s.boxed())
}

/// Java's `\w`, `\d` and `\s` are ASCII (the model's patterns are Java's); Rust's are
/// Unicode, and would generate names the model refuses.
fn java_classes(pattern: &str) -> String {
    let mut out = String::new();
    let mut in_class = false;
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e @ ('w' | 'd' | 's')) => {
                    let ascii = match e {
                        'w' => "A-Za-z0-9_",
                        'd' => "0-9",
                        _ => " \\t\\n\\x0B\\x0C\\r",
                    };
                    if in_class {
                        out.push_str(ascii);
                    } else {
                        out.push_str(&format!("[{ascii}]"));
                    }
                }
                Some(e) => {
                    out.push('\\');
                    out.push(e);
                }
                None => out.push('\\'),
            },
            '[' => {
                in_class = true;
                out.push(c);
            }
            ']' => {
                in_class = false;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

fn string(shape: &Value) -> BoxedStrategy<J> {
    if let Some(values) = shape["enum"].as_array() {
        let values: Vec<String> = values
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        return prop_oneof![
            19 => select(values).prop_map(J::Str),
            1 => edge_string().prop_map(J::Str),
        ]
        .boxed();
    }
    let min = shape["min"].as_u64().unwrap_or(0) as usize;
    let max = shape["max"].as_u64().map(|m| m as usize);
    let valid = shape["pattern"]
        .as_str()
        .and_then(pattern_strategy)
        .unwrap_or_else(|| "[a-zA-Z0-9 ._@+-]{0,40}".boxed());
    let cap = max.unwrap_or(64).min(64);
    let valid = valid.prop_map(move |v| J::Str(fit(v, min, cap)));
    let mut edges: Vec<BoxedStrategy<J>> = vec![edge_string().prop_map(J::Str).boxed()];
    if let Some(max) = max {
        edges.push(
            Just(J::Huge {
                ch: 'a',
                len: max + 1,
            })
            .boxed(),
        );
    }
    if min > 0 {
        edges.push(Just(J::Str("a".repeat(min - 1))).boxed());
    }
    prop_oneof![
        30 => valid,
        1 => proptest::strategy::Union::new(edges),
    ]
    .boxed()
}

/// Clips a pattern-generated string into `[min, cap]` characters, repeating its own
/// characters to lengthen it (so that it still fits the pattern's classes).
fn fit(v: String, min: usize, cap: usize) -> String {
    let mut chars: Vec<char> = v.chars().take(cap.max(min)).collect();
    if chars.is_empty() && min > 0 {
        chars.push('a');
    }
    let mut i = 0;
    while chars.len() < min {
        chars.push(chars[i]);
        i += 1;
    }
    chars.into_iter().collect()
}

fn usernames() -> BoxedStrategy<J> {
    strs(USERNAMES)
}

fn passwords() -> BoxedStrategy<J> {
    strs(PASSWORDS)
}

fn codes() -> BoxedStrategy<J> {
    prop_oneof![
        Just(s("123456")),
        "[0-9]{6}".prop_map(J::Str),
        "[0-9]{0,9}".prop_map(J::Str)
    ]
    .boxed()
}

fn lambda_arns() -> BoxedStrategy<J> {
    select(FUNCTIONS)
        .prop_map(|f| {
            J::Str(format!(
                "arn:aws:lambda:us-east-1:123456789012:function:{f}"
            ))
        })
        .boxed()
}

/// SRP `A` values: random, zero, `N` and `2N` (which must be refused), and not hex at all.
fn srp_a() -> BoxedStrategy<J> {
    let n = &*cognate_crypto::srp::N;
    let multiples = vec![
        "0".to_string(),
        "00".to_string(),
        cognate_crypto::srp::pad_hex(n),
        cognate_crypto::srp::pad_hex(&(n * 2u32)),
        "ZZ".to_string(),
    ];
    prop_oneof![
        "[0-9a-f]{1,768}".prop_map(J::Str),
        select(multiples).prop_map(J::Str),
    ]
    .boxed()
}

/// AuthParameters / ChallengeResponses: the keys the flows read, with plausible values.
fn auth_map(base: BoxedStrategy<J>) -> BoxedStrategy<J> {
    let entry = select(AUTH_KEYS).prop_flat_map(|key| {
        let value = match key {
            "USERNAME" => usernames(),
            "PASSWORD" | "NEW_PASSWORD" => passwords(),
            "SECRET_HASH" => Just(J::Fx(Fx::SecretHash)).boxed(),
            "REFRESH_TOKEN" => prop_oneof![
                4 => Just(J::Fx(Fx::RefreshToken)),
                1 => Just(J::Fx(Fx::OldRefreshToken)),
                1 => Just(J::Fx(Fx::AccessToken)),
            ]
            .boxed(),
            "SRP_A" => srp_a(),
            "ANSWER" | "SMS_MFA_CODE" | "EMAIL_OTP_CODE" | "SOFTWARE_TOKEN_MFA_CODE" => codes(),
            "PASSWORD_CLAIM_SIGNATURE" | "PASSWORD_CLAIM_SECRET_BLOCK" => vec(any::<u8>(), 0..80)
                .prop_map(|b| J::Str(base64::engine::general_purpose::STANDARD.encode(b)))
                .boxed(),
            "TIMESTAMP" => prop_oneof![
                Just(s("Thu Jan 1 00:00:00 UTC 2026")),
                "[ -~]{0,30}".prop_map(J::Str)
            ]
            .boxed(),
            "PREFERRED_CHALLENGE" | "CHALLENGE_NAME" => strs(&[
                "PASSWORD",
                "PASSWORD_SRP",
                "EMAIL_OTP",
                "SMS_OTP",
                "WEB_AUTHN",
                "SELECT_CHALLENGE",
                "nope",
            ]),
            _ => "[ -~]{0,20}".prop_map(J::Str).boxed(),
        };
        value.prop_map(move |v| (key.to_string(), v))
    });
    prop_oneof![
        4 => vec(entry, 0..5).prop_map(J::Obj),
        1 => base,
    ]
    .boxed()
}

/// `body` with these members set (replacing any it had).
fn set(body: J, members: Vec<(String, J)>) -> J {
    match body {
        J::Obj(mut have) => {
            for (k, v) in members {
                have.retain(|(key, _)| *key != k);
                have.push((k, v));
            }
            J::Obj(have)
        }
        other => other,
    }
}

/// An `AuthFlow` with the `AuthParameters` it reads.
fn flow() -> BoxedStrategy<Vec<(String, J)>> {
    let params = |flow: &'static str, keys: &'static [&'static str]| {
        let values: Vec<BoxedStrategy<(String, J)>> = keys
            .iter()
            .map(|k| {
                let value = match *k {
                    "USERNAME" => usernames(),
                    "PASSWORD" => passwords(),
                    "SECRET_HASH" => Just(J::Fx(Fx::SecretHash)).boxed(),
                    "REFRESH_TOKEN" => Just(J::Fx(Fx::RefreshToken)).boxed(),
                    "SRP_A" => srp_a(),
                    _ => strs(&["PASSWORD", "PASSWORD_SRP", "EMAIL_OTP", "SMS_OTP", "nope"]),
                };
                value.prop_map(move |v| (k.to_string(), v)).boxed()
            })
            .collect();
        values.prop_map(move |params| {
            vec![
                ("AuthFlow".to_string(), s(flow)),
                ("AuthParameters".to_string(), J::Obj(params)),
            ]
        })
    };
    prop_oneof![
        params("USER_PASSWORD_AUTH", &["USERNAME", "PASSWORD"]),
        params(
            "USER_PASSWORD_AUTH",
            &["USERNAME", "PASSWORD", "SECRET_HASH"]
        ),
        params("ADMIN_USER_PASSWORD_AUTH", &["USERNAME", "PASSWORD"]),
        params(
            "ADMIN_NO_SRP_AUTH",
            &["USERNAME", "PASSWORD", "SECRET_HASH"]
        ),
        params("USER_SRP_AUTH", &["USERNAME", "SRP_A"]),
        params("USER_SRP_AUTH", &["USERNAME", "SRP_A", "SECRET_HASH"]),
        params("REFRESH_TOKEN_AUTH", &["REFRESH_TOKEN"]),
        params("REFRESH_TOKEN", &["REFRESH_TOKEN", "SECRET_HASH"]),
        params("CUSTOM_AUTH", &["USERNAME", "SECRET_HASH"]),
        params(
            "USER_AUTH",
            &["USERNAME", "PREFERRED_CHALLENGE", "PASSWORD"]
        ),
    ]
    .boxed()
}

/// The newest challenge an input was given, with an answer of its kind.
fn answer() -> BoxedStrategy<Vec<(String, J)>> {
    let keys = prop_oneof![
        Just(vec!["USERNAME", "NEW_PASSWORD"]),
        Just(vec![
            "USERNAME",
            "PASSWORD_CLAIM_SIGNATURE",
            "PASSWORD_CLAIM_SECRET_BLOCK",
            "TIMESTAMP"
        ]),
        Just(vec!["USERNAME", "ANSWER"]),
        Just(vec!["USERNAME", "ANSWER", "SECRET_HASH"]),
        Just(vec!["USERNAME", "PASSWORD"]),
        Just(vec!["USERNAME", "EMAIL_OTP_CODE"]),
    ];
    keys.prop_flat_map(|keys| {
        let values: Vec<BoxedStrategy<(String, J)>> = keys
            .into_iter()
            .map(|k| {
                let value = match k {
                    "USERNAME" => {
                        prop_oneof![3 => Just(J::Fx(Fx::SessionUser)), 1 => usernames()].boxed()
                    }
                    "NEW_PASSWORD" | "PASSWORD" => passwords(),
                    "SECRET_HASH" => Just(J::Fx(Fx::SecretHash)).boxed(),
                    "TIMESTAMP" => Just(s("Thu Jan 1 00:00:00 UTC 2026")).boxed(),
                    "ANSWER" | "EMAIL_OTP_CODE" => codes(),
                    _ => vec(any::<u8>(), 0..64)
                        .prop_map(|b| J::Str(base64::engine::general_purpose::STANDARD.encode(b)))
                        .boxed(),
                };
                value.prop_map(move |v| (k.to_string(), v)).boxed()
            })
            .collect();
        values
    })
    .prop_map(|responses| {
        vec![
            ("ChallengeName".to_string(), J::Fx(Fx::ChallengeName)),
            ("Session".to_string(), J::Fx(Fx::Session)),
            ("ChallengeResponses".to_string(), J::Obj(responses)),
        ]
    })
    .boxed()
}

/// Attribute name and value that belong together (an email for `email`, …).
fn attribute() -> BoxedStrategy<J> {
    let pair = |name: &'static str, values: BoxedStrategy<J>| {
        values.prop_map(move |v| J::Obj(vec![("Name".into(), s(name)), ("Value".into(), v)]))
    };
    prop_oneof![
        pair(
            "email",
            strs(&[
                "fz0@example.com",
                "fz1@example.com",
                "FZ0@Example.com",
                "not-an-email",
                ""
            ])
        ),
        pair(
            "phone_number",
            strs(&["+15555550100", "+15555550101", "5555550100", "+1"])
        ),
        pair("email_verified", strs(&["true", "false", "yes"])),
        pair("phone_number_verified", strs(&["true", "false"])),
        pair("preferred_username", usernames()),
        pair("name", edge_string().prop_map(J::Str).boxed()),
        pair("custom:tier", strs(&["gold", "", "x"])),
        pair("sub", strs(&["00000000-0000-4000-8000-000000000000"])),
        select(ATTRIBUTE_NAMES).prop_map(|n| J::Obj(vec![("Name".into(), s(n))])),
    ]
    .boxed()
}

/// Values the harness knows to exist (or that other inputs create), by shape.
fn hint(shape: &str, base: BoxedStrategy<J>) -> BoxedStrategy<J> {
    match shape {
        "UserPoolIdType" => prop_oneof![
            8 => Just(J::Fx(Fx::PoolId)),
            1 => Just(s("us-east-1_doesNotExist")),
            2 => base,
        ]
        .boxed(),
        "ClientIdType" => prop_oneof![
            8 => (0u8..3).prop_map(|n| J::Fx(Fx::ClientId(n))),
            2 => base,
        ]
        .boxed(),
        "UsernameType" => prop_oneof![6 => usernames(), 3 => base].boxed(),
        "PasswordType" => prop_oneof![6 => passwords(), 3 => base].boxed(),
        "TokenModelType" => prop_oneof![
            6 => Just(J::Fx(Fx::AccessToken)),
            2 => Just(J::Fx(Fx::OldAccessToken)),
            1 => Just(J::Fx(Fx::RefreshToken)),
            3 => base,
        ]
        .boxed(),
        "SecretHashType" => prop_oneof![5 => Just(J::Fx(Fx::SecretHash)), 5 => base].boxed(),
        "ConfirmationCodeType" => {
            prop_oneof![4 => Just(J::Fx(Fx::Code)), 3 => codes(), 3 => base].boxed()
        }
        "SessionType" => prop_oneof![6 => Just(J::Fx(Fx::Session)), 4 => base].boxed(),
        "InitiateAuthRequest" | "AdminInitiateAuthRequest" => {
            prop_oneof![4 => base.clone(), 6 => (base, flow()).prop_map(|(b, f)| set(b, f))].boxed()
        }
        "RespondToAuthChallengeRequest" | "AdminRespondToAuthChallengeRequest" => prop_oneof![
            4 => base.clone(),
            6 => (base, answer()).prop_map(|(b, a)| set(b, a)),
        ]
        .boxed(),
        "GroupNameType" => prop_oneof![7 => strs(GROUPS), 3 => base].boxed(),
        "ArnType" => prop_oneof![5 => lambda_arns(), 5 => base].boxed(),
        "AttributeType" => prop_oneof![6 => attribute(), 4 => base].boxed(),
        "AttributeNameType" | "CustomAttributeNameType" => {
            prop_oneof![6 => strs(ATTRIBUTE_NAMES), 4 => base].boxed()
        }
        "UserFilterType" => prop_oneof![6 => strs(FILTERS), 4 => base].boxed(),
        "AuthParametersType" | "ChallengeResponsesType" => auth_map(base),
        _ => base,
    }
}

/// Members whose shape is too general to hint by (`StringType` named `UserPoolId`, …).
fn member_hint(member: &str, base: BoxedStrategy<J>) -> BoxedStrategy<J> {
    match member {
        "UserPoolId" => prop_oneof![8 => Just(J::Fx(Fx::PoolId)), 2 => base].boxed(),
        "RefreshToken" | "Token" => prop_oneof![
            6 => Just(J::Fx(Fx::RefreshToken)),
            2 => Just(J::Fx(Fx::OldRefreshToken)),
            4 => base,
        ]
        .boxed(),
        _ => base,
    }
}

fn target() -> BoxedStrategy<Target> {
    prop_oneof![
        400 => Just(Target::Valid),
        3 => Just(Target::Missing),
        3 => "[ -~]{0,64}".prop_map(Target::Unknown),
        2 => Just(Target::Lowercase),
        2 => Just(Target::NoPrefix),
        1 => select(vec![1usize, 200, 10_000]).prop_map(Target::Long),
        1 => vec(0x80u8..=0xff, 1..8).prop_map(Target::Bytes),
    ]
    .boxed()
}

fn content_type() -> BoxedStrategy<ContentType> {
    prop_oneof![
        400 => Just(ContentType::Amz11),
        4 => Just(ContentType::Amz10),
        4 => Just(ContentType::Json),
        3 => Just(ContentType::WithCharset),
        2 => Just(ContentType::Upper),
        3 => Just(ContentType::Missing),
        2 => Just(ContentType::Text),
        2 => "[ -~]{0,40}".prop_map(ContentType::Other),
        1 => vec(0x80u8..=0xff, 1..8).prop_map(ContentType::Bytes),
    ]
    .boxed()
}

fn auth() -> BoxedStrategy<Auth> {
    prop_oneof![
        95 => ("2026[01][0-9][0-3][0-9]|[0-9]{8}", "[0-9a-f]{64}")
            .prop_map(|(date, signature)| Auth::Signed { date, signature }),
        2 => Just(Auth::Missing),
        2 => prop_oneof![
            select(vec![
                "",
                "AWS4-HMAC-SHA256",
                "AWS4-HMAC-SHA256 ",
                "AWS4-HMAC-SHA256 Credential=",
                "AWS4-HMAC-SHA256 Credential=a, SignedHeaders=b",
                "Bearer abc",
                "Basic Zm9vOmJhcg==",
                "aws4-hmac-sha256 Credential=a, SignedHeaders=b, Signature=c",
            ])
            .prop_map(str::to_string),
            "[ -~]{0,80}",
        ]
        .prop_map(Auth::Malformed),
        1 => vec(0x80u8..=0xff, 1..8).prop_map(Auth::Bytes),
    ]
    .boxed()
}

fn framing() -> BoxedStrategy<Framing> {
    prop_oneof![
        200 => Just(Framing::Normal),
        3 => Just(Framing::Empty),
        2 => select(vec![" ", "\n", "\t\r\n "]).prop_map(|w| Framing::Whitespace(w.into())),
        6 => (0u16..1000).prop_map(Framing::Truncated),
        3 => select(vec![b"}".to_vec(), b"{}".to_vec(), b"xyz".to_vec(), b"\0".to_vec(), b",".to_vec()])
            .prop_map(Framing::Trailing),
        2 => Just(Framing::Bom),
        3 => select(vec!["array", "null", "\"text\"", "42", "true", "[]"])
            .prop_map(|k| Framing::NotObject(k.into())),
        3 => (0u16..1000, bad_bytes()).prop_map(|(at, b)| Framing::Splice(at, b)),
    ]
    .boxed()
}

fn mutation() -> BoxedStrategy<Mutation> {
    let kind = prop_oneof![
        10 => chaos().prop_map(MutKind::Replace),
        5 => Just(MutKind::Delete),
        4 => (chaos(), any::<bool>()).prop_map(|(value, after)| MutKind::Duplicate { value, after }),
        3 => (
            prop_oneof![
                select(vec!["username", "USERNAME", "__type", "", "UserPoolId ", "Username"])
                    .prop_map(str::to_string),
                "[a-zA-Z]{1,20}",
                any::<String>(),
            ],
            chaos()
        )
            .prop_map(|(key, value)| MutKind::Extra { key, value }),
        2 => Just(MutKind::Stringify),
        2 => Just(MutKind::Wrap),
    ];
    (any::<u32>(), kind)
        .prop_map(|(node, kind)| Mutation { node, kind })
        .boxed()
}

/// Every input the fuzzer sends: an operation of the model with a body from its input shape.
/// Operations this build implements are picked three times as often as the others (whose
/// answer, past validation, is always `NotImplementedException`); CreateUserPool a
/// fifteenth as often, since each pool it creates costs two RSA key pairs (a quarter of a
/// second), and a hundred or so per 200,000 inputs still run its success path.
pub fn inputs(model: &Model, implemented: &HashSet<String>) -> BoxedStrategy<WireInput> {
    let mut gen = Gen::new(model);
    let bodies: Vec<(u32, BoxedStrategy<(usize, J)>)> = model
        .operations
        .iter()
        .enumerate()
        .map(|(i, op)| {
            let weight = match op.name.as_str() {
                "CreateUserPool" => 1,
                name if implemented.contains(name) => 15,
                _ => 5,
            };
            (
                weight,
                gen.shape(&op.input).prop_map(move |b| (i, b)).boxed(),
            )
        })
        .collect();
    let mutations = prop_oneof![
        13 => Just(vec![]),
        5 => vec(mutation(), 1..=1),
        2 => vec(mutation(), 2..=3),
    ];
    (
        proptest::strategy::Union::new_weighted(bodies),
        target(),
        content_type(),
        auth(),
        prop_oneof![3 => Just(0u8), 2 => any::<u8>()],
        mutations,
        framing(),
    )
        .prop_map(
            |((op, body), target, content_type, auth, pool, mutations, framing)| WireInput {
                op,
                target,
                content_type,
                auth,
                pool,
                body,
                mutations,
                framing,
            },
        )
        .boxed()
}

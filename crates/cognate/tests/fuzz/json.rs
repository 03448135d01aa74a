//! The fuzzer's JSON: a tree that can say what `serde_json::Value` cannot (a key twice, a
//! number out of range, bytes that are not UTF-8, a huge string or a deep nesting built only
//! when rendered), and the mutations applied to a generated body before it is rendered.

use std::fmt;

/// A live value of the harness (a pool it created, a token it obtained), filled in when the
/// body is rendered so that a shrunk input still names whatever exists at that moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fx {
    PoolId,
    /// The `n`th client of the input's pool (modulo their number).
    ClientId(u8),
    AccessToken,
    RefreshToken,
    /// The owner's tokens before the last sign-in: revoked, of a deleted user, or still good.
    OldAccessToken,
    OldRefreshToken,
    /// The SecretHash of the object's `Username`/`USERNAME` for the body's client.
    SecretHash,
    /// The newest code the outbox holds for the object's `Username` (or the token owner).
    Code,
    /// The `Session` of the newest challenge an input was given, its `ChallengeName` and user.
    Session,
    ChallengeName,
    SessionUser,
}

#[derive(Clone)]
pub enum J {
    Null,
    Bool(bool),
    /// The number's text as sent: may be out of any range, fractional, or `-0`.
    Num(String),
    Str(String),
    /// `len` copies of `ch`, built only when rendered.
    Huge {
        ch: char,
        len: usize,
    },
    /// A string literal whose content bytes are sent as they are: invalid UTF-8, raw escapes
    /// (lone surrogates, bad escapes), control characters.
    RawStr(Vec<u8>),
    Arr(Vec<J>),
    /// Members in order; a key may repeat.
    Obj(Vec<(String, J)>),
    /// `depth` nested arrays (or objects `{"a":…}`) around `1`.
    Deep {
        depth: usize,
        objects: bool,
    },
    /// An array of `n` copies of `item`.
    Many {
        n: usize,
        item: Box<J>,
    },
    Fx(Fx),
}

impl fmt::Debug for J {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            J::Null => f.write_str("null"),
            J::Bool(b) => write!(f, "{b}"),
            J::Num(n) => write!(f, "#{n}"),
            J::Str(s) if s.chars().count() > 200 => {
                let head: String = s.chars().take(200).collect();
                write!(f, "{head:?}…({} chars)", s.chars().count())
            }
            J::Str(s) => write!(f, "{s:?}"),
            J::Huge { ch, len } => write!(f, "Huge({ch:?} x {len})"),
            J::RawStr(b) => write!(f, "RawStr({:?})", String::from_utf8_lossy(b)),
            J::Arr(items) => f.debug_list().entries(items).finish(),
            J::Obj(members) => {
                let mut m = f.debug_map();
                for (k, v) in members {
                    m.entry(k, v);
                }
                m.finish()
            }
            J::Deep { depth, objects } => write!(f, "Deep({depth}, objects: {objects})"),
            J::Many { n, item } => write!(f, "Many({n} x {item:?})"),
            J::Fx(x) => write!(f, "Fx({x:?})"),
        }
    }
}

/// What the rendering of [`J::Fx`] needs: the live ids of the input's pool.
pub trait Fixtures {
    fn pool_id(&self) -> String;
    /// The client's id and secret, if it has one.
    fn client(&self, n: u8) -> (String, Option<String>);
    fn access_token(&self) -> String;
    fn refresh_token(&self) -> String;
    fn old_tokens(&self) -> (String, String);
    fn code(&self, username: Option<&str>) -> String;
    /// Session, challenge name and user of the newest challenge.
    fn session(&self) -> (String, String, String);
}

/// Context of one rendering: the client the body names at its top (for SecretHash).
struct Ctx<'a> {
    fx: &'a dyn Fixtures,
    client: Option<u8>,
}

pub fn render(body: &J, fx: &dyn Fixtures) -> Vec<u8> {
    let client = match body {
        J::Obj(members) => members.iter().find_map(|(k, v)| match (k.as_str(), v) {
            ("ClientId", J::Fx(Fx::ClientId(n))) => Some(*n),
            _ => None,
        }),
        _ => None,
    };
    let mut out = Vec::new();
    write(body, &Ctx { fx, client }, None, &mut out);
    out
}

fn write_str(s: &str, out: &mut Vec<u8>) {
    // serde_json writes a valid, escaped JSON string literal.
    out.extend_from_slice(serde_json::Value::from(s).to_string().as_bytes());
}

/// `username`: the `Username`/`USERNAME` of the enclosing object (for SecretHash and codes).
fn write(j: &J, ctx: &Ctx<'_>, username: Option<&str>, out: &mut Vec<u8>) {
    match j {
        J::Null => out.extend_from_slice(b"null"),
        J::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        J::Num(n) => out.extend_from_slice(n.as_bytes()),
        J::Str(s) => write_str(s, out),
        J::Huge { ch, len } => {
            // The character escaped once, then repeated: no per-character work.
            let one = serde_json::Value::from(ch.to_string()).to_string();
            out.push(b'"');
            out.extend_from_slice(one[1..one.len() - 1].repeat(*len).as_bytes());
            out.push(b'"');
        }
        J::RawStr(bytes) => {
            out.push(b'"');
            out.extend_from_slice(bytes);
            out.push(b'"');
        }
        J::Arr(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(item, ctx, None, out);
            }
            out.push(b']');
        }
        J::Obj(members) => {
            let user = members.iter().find_map(|(k, v)| match (k.as_str(), v) {
                ("Username" | "USERNAME", J::Str(s)) => Some(s.clone()),
                ("Username" | "USERNAME", J::Fx(Fx::SessionUser)) => Some(ctx.fx.session().2),
                _ => None,
            });
            let user = user.as_deref();
            out.push(b'{');
            for (i, (k, v)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(k, out);
                out.push(b':');
                write(v, ctx, user, out);
            }
            out.push(b'}');
        }
        J::Deep { depth, objects } => {
            let (open, close): (&[u8], &[u8]) = if *objects {
                (b"{\"a\":", b"}")
            } else {
                (b"[", b"]")
            };
            for _ in 0..*depth {
                out.extend_from_slice(open);
            }
            out.push(b'1');
            for _ in 0..*depth {
                out.extend_from_slice(close);
            }
        }
        J::Many { n, item } => {
            let mut one = Vec::new();
            write(item, ctx, None, &mut one);
            out.push(b'[');
            for i in 0..*n {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(&one);
            }
            out.push(b']');
        }
        J::Fx(x) => {
            let value = match x {
                Fx::PoolId => ctx.fx.pool_id(),
                Fx::ClientId(n) => ctx.fx.client(*n).0,
                Fx::AccessToken => ctx.fx.access_token(),
                Fx::Code => ctx.fx.code(username),
                Fx::Session => ctx.fx.session().0,
                Fx::ChallengeName => ctx.fx.session().1,
                Fx::SessionUser => ctx.fx.session().2,
                Fx::RefreshToken => ctx.fx.refresh_token(),
                Fx::OldAccessToken => ctx.fx.old_tokens().0,
                Fx::OldRefreshToken => ctx.fx.old_tokens().1,
                Fx::SecretHash => {
                    let (id, secret) = ctx.fx.client(ctx.client.unwrap_or(0));
                    // A client without a secret still gets a well-formed (wrong) hash.
                    let secret = secret.unwrap_or_else(|| "no-secret".to_string());
                    cognate_crypto::secret_hash::compute(&secret, username.unwrap_or(""), &id)
                }
            };
            write_str(&value, out);
        }
    }
}

/// A change to a generated body, at the node with this pre-order index (modulo the count).
#[derive(Clone, Debug)]
pub struct Mutation {
    pub node: u32,
    pub kind: MutKind,
}

#[derive(Clone, Debug)]
pub enum MutKind {
    /// The node becomes this value (a wrong type, a huge string, a deep nesting, bad bytes…).
    Replace(J),
    /// The node is removed from its object or array (a missing required member).
    Delete,
    /// The node's key is sent a second time with this value, before or after it.
    Duplicate { value: J, after: bool },
    /// A member the model does not have (on an object; elsewhere the node becomes one).
    Extra { key: String, value: J },
    /// The node is sent as a JSON string of its own text (`5` → `"5"`).
    Stringify,
    /// The node is sent inside an array.
    Wrap,
}

fn count(j: &J) -> usize {
    1 + match j {
        J::Arr(items) => items.iter().map(count).sum(),
        J::Obj(members) => members.iter().map(|(_, v)| count(v)).sum(),
        _ => 0,
    }
}

pub fn apply(body: &mut J, m: &Mutation) {
    let target = m.node as usize % count(body);
    if target == 0 {
        mutate_in_place(body, &m.kind);
        return;
    }
    let mut seen = 0;
    visit(body, target, &mut seen, &m.kind);
}

/// Finds the node with pre-order index `target` below `j` (whose own index is `*seen`).
fn visit(j: &mut J, target: usize, seen: &mut usize, kind: &MutKind) -> bool {
    match j {
        J::Arr(items) => {
            for i in 0..items.len() {
                *seen += 1;
                if *seen == target {
                    match kind {
                        MutKind::Delete => {
                            items.remove(i);
                        }
                        MutKind::Duplicate { value, after } => {
                            items.insert(if *after { i + 1 } else { i }, value.clone());
                        }
                        _ => mutate_in_place(&mut items[i], kind),
                    }
                    return true;
                }
                if visit(&mut items[i], target, seen, kind) {
                    return true;
                }
            }
            false
        }
        J::Obj(members) => {
            for i in 0..members.len() {
                *seen += 1;
                if *seen == target {
                    match kind {
                        MutKind::Delete => {
                            members.remove(i);
                        }
                        MutKind::Duplicate { value, after } => {
                            let key = members[i].0.clone();
                            members.insert(if *after { i + 1 } else { i }, (key, value.clone()));
                        }
                        _ => mutate_in_place(&mut members[i].1, kind),
                    }
                    return true;
                }
                if visit(&mut members[i].1, target, seen, kind) {
                    return true;
                }
            }
            false
        }
        _ => false,
    }
}

fn mutate_in_place(j: &mut J, kind: &MutKind) {
    match kind {
        MutKind::Replace(v) => *j = v.clone(),
        // The root cannot leave its parent: it empties instead.
        MutKind::Delete => *j = J::Obj(vec![]),
        MutKind::Duplicate { value, after } => match j {
            J::Obj(members) if !members.is_empty() => {
                let key = members[0].0.clone();
                members.insert(usize::from(*after), (key, value.clone()));
            }
            _ => *j = value.clone(),
        },
        MutKind::Extra { key, value } => match j {
            J::Obj(members) => members.push((key.clone(), value.clone())),
            _ => *j = J::Obj(vec![(key.clone(), value.clone())]),
        },
        MutKind::Stringify => {
            let text = format!("{:?}", j);
            *j = match j {
                J::Num(n) => J::Str(n.clone()),
                J::Bool(b) => J::Str(b.to_string()),
                J::Str(s) => J::Str(format!("\"{s}\"")),
                _ => J::Str(text),
            };
        }
        MutKind::Wrap => *j = J::Arr(vec![j.clone()]),
    }
}

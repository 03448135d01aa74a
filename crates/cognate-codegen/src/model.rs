//! The subset of the botocore `service-2.json` format that the generator uses.

use std::collections::BTreeMap;

use crate::json::Json;

pub type Error = Box<dyn std::error::Error>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    Integer,
    Long,
    Boolean,
    Timestamp,
    Blob,
    Double,
    Float,
    Structure,
    Document,
    List,
    Map,
}

impl Kind {
    pub fn variant(self) -> &'static str {
        match self {
            Kind::String => "String",
            Kind::Integer => "Integer",
            Kind::Long => "Long",
            Kind::Boolean => "Boolean",
            Kind::Timestamp => "Timestamp",
            Kind::Blob => "Blob",
            Kind::Double => "Double",
            Kind::Float => "Float",
            Kind::Structure => "Structure",
            Kind::Document => "Document",
            Kind::List => "List",
            Kind::Map => "Map",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Member {
    pub name: String,
    pub target: String,
    pub doc: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Shape {
    pub name: String,
    pub kind: Kind,
    /// Structure members in model order.
    pub members: Vec<Member>,
    pub required: Vec<String>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub pattern: Option<String>,
    pub enum_values: Vec<String>,
    pub sensitive: bool,
    pub exception: bool,
    pub fault: bool,
    /// List element shape.
    pub member: Option<String>,
    pub key: Option<String>,
    pub value: Option<String>,
    pub doc: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Operation {
    pub name: String,
    pub input: Option<String>,
    pub output: Option<String>,
    pub errors: Vec<String>,
    pub auth_none: bool,
    pub doc: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Model {
    pub target_prefix: String,
    pub operations: BTreeMap<String, Operation>,
    pub shapes: BTreeMap<String, Shape>,
}

fn err(msg: String) -> Error {
    msg.into()
}

fn shape_ref(value: Option<&Json>, ctx: &str) -> Result<Option<String>, Error> {
    match value {
        None => Ok(None),
        Some(v) => v
            .get("shape")
            .and_then(Json::as_str)
            .map(|s| Some(s.to_owned()))
            .ok_or_else(|| err(format!("{ctx}: shape reference without `shape`"))),
    }
}

fn int_field(shape: &Json, key: &str, ctx: &str) -> Result<Option<i64>, Error> {
    match shape.get(key) {
        None => Ok(None),
        Some(v) => {
            let n = v
                .as_f64()
                .ok_or_else(|| err(format!("{ctx}: `{key}` is not a number")))?;
            if n.fract() != 0.0 || n.abs() > 9.0e15 {
                return Err(err(format!("{ctx}: `{key}` = {n} is not an integer")));
            }
            Ok(Some(n as i64))
        }
    }
}

fn doc(v: &Json) -> Option<String> {
    v.get("documentation")
        .and_then(Json::as_str)
        .map(str::to_owned)
}

fn flag(v: &Json, key: &str) -> bool {
    v.get(key).and_then(Json::as_bool).unwrap_or(false)
}

fn parse_shape(name: &str, v: &Json) -> Result<Shape, Error> {
    let ty = v
        .get("type")
        .and_then(Json::as_str)
        .ok_or_else(|| err(format!("shape {name}: missing type")))?;
    let document = flag(v, "document");
    let kind = match ty {
        "string" => Kind::String,
        "integer" => Kind::Integer,
        "long" => Kind::Long,
        "boolean" => Kind::Boolean,
        "timestamp" => Kind::Timestamp,
        "blob" => Kind::Blob,
        "double" => Kind::Double,
        "float" => Kind::Float,
        "structure" if document => Kind::Document,
        "structure" => Kind::Structure,
        "list" => Kind::List,
        "map" => Kind::Map,
        other => return Err(err(format!("shape {name}: unsupported type {other}"))),
    };
    let mut members = Vec::new();
    if let Some(ms) = v.get("members").and_then(Json::as_object) {
        for (member_name, m) in ms {
            let target = shape_ref(Some(m), &format!("{name}.{member_name}"))?
                .ok_or_else(|| err(format!("{name}.{member_name}: no target")))?;
            members.push(Member {
                name: member_name.clone(),
                target,
                doc: doc(m),
            });
        }
    }
    let required = v
        .get("required")
        .and_then(Json::as_array)
        .unwrap_or(&[])
        .iter()
        .map(|r| {
            r.as_str()
                .map(str::to_owned)
                .ok_or_else(|| err(format!("shape {name}: non-string in `required`")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    for r in &required {
        if !members.iter().any(|m| &m.name == r) {
            return Err(err(format!(
                "shape {name}: required member {r} does not exist"
            )));
        }
    }
    let enum_values = v
        .get("enum")
        .and_then(Json::as_array)
        .unwrap_or(&[])
        .iter()
        .map(|e| {
            e.as_str()
                .map(str::to_owned)
                .ok_or_else(|| err(format!("shape {name}: non-string enum value")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Shape {
        name: name.to_owned(),
        kind,
        members,
        required,
        min: int_field(v, "min", name)?,
        max: int_field(v, "max", name)?,
        pattern: v.get("pattern").and_then(Json::as_str).map(str::to_owned),
        enum_values,
        sensitive: flag(v, "sensitive"),
        exception: flag(v, "exception"),
        fault: flag(v, "fault"),
        member: shape_ref(v.get("member"), name)?,
        key: shape_ref(v.get("key"), name)?,
        value: shape_ref(v.get("value"), name)?,
        doc: doc(v),
    })
}

fn parse_operation(name: &str, v: &Json) -> Result<Operation, Error> {
    let errors = v
        .get("errors")
        .and_then(Json::as_array)
        .unwrap_or(&[])
        .iter()
        .map(|e| {
            shape_ref(Some(e), name)?.ok_or_else(|| err(format!("operation {name}: bad error ref")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Operation {
        name: name.to_owned(),
        input: shape_ref(v.get("input"), name)?,
        output: shape_ref(v.get("output"), name)?,
        errors,
        auth_none: v.get("authtype").and_then(Json::as_str) == Some("none"),
        doc: doc(v),
    })
}

impl Model {
    pub fn parse(root: &Json) -> Result<Model, Error> {
        let target_prefix = root
            .get("metadata")
            .and_then(|m| m.get("targetPrefix"))
            .and_then(Json::as_str)
            .ok_or_else(|| err("metadata.targetPrefix missing".to_owned()))?
            .to_owned();
        let mut shapes = BTreeMap::new();
        for (name, v) in root
            .get("shapes")
            .and_then(Json::as_object)
            .ok_or_else(|| err("`shapes` missing".to_owned()))?
        {
            shapes.insert(name.clone(), parse_shape(name, v)?);
        }
        let mut operations = BTreeMap::new();
        for (name, v) in root
            .get("operations")
            .and_then(Json::as_object)
            .ok_or_else(|| err("`operations` missing".to_owned()))?
        {
            operations.insert(name.clone(), parse_operation(name, v)?);
        }
        let model = Model {
            target_prefix,
            operations,
            shapes,
        };
        model.check_references()?;
        Ok(model)
    }

    fn check_references(&self) -> Result<(), Error> {
        let exists = |n: &str, ctx: &str| -> Result<(), Error> {
            if self.shapes.contains_key(n) {
                Ok(())
            } else {
                Err(err(format!("{ctx}: unknown shape {n}")))
            }
        };
        for s in self.shapes.values() {
            for m in &s.members {
                exists(&m.target, &format!("{}.{}", s.name, m.name))?;
            }
            for r in [&s.member, &s.key, &s.value].into_iter().flatten() {
                exists(r, &s.name)?;
            }
            match s.kind {
                Kind::List if s.member.is_none() => {
                    return Err(err(format!("list {} without member", s.name)))
                }
                Kind::Map if s.key.is_none() || s.value.is_none() => {
                    return Err(err(format!("map {} without key/value", s.name)))
                }
                _ => {}
            }
        }
        for op in self.operations.values() {
            for r in [&op.input, &op.output].into_iter().flatten() {
                exists(r, &op.name)?;
            }
            for e in &op.errors {
                exists(e, &op.name)?;
                if !self.shapes.get(e).is_some_and(|s| s.exception) {
                    return Err(err(format!("{}: error {e} is not an exception", op.name)));
                }
            }
        }
        Ok(())
    }

    /// A shape by name. Every reference was checked by `check_references`.
    pub fn shape(&self, name: &str) -> &Shape {
        &self.shapes[name]
    }
}

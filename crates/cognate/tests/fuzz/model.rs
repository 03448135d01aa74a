//! The pinned API model, read at test start: operations with their input shapes, signing
//! class and modelled errors, and the shapes the generators walk.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Map, Value};

pub struct OpSpec {
    pub name: String,
    pub input: String,
    /// Not `authtype: none`: needs a SigV4 `Authorization` header.
    pub signed: bool,
    /// The error shapes the model lists for the operation.
    pub errors: BTreeSet<String>,
}

pub struct Model {
    pub shapes: Map<String, Value>,
    pub operations: Vec<OpSpec>,
    /// Every shape marked `exception`.
    pub exceptions: BTreeSet<String>,
}

impl Model {
    pub fn load() -> Model {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../model/cognito-idp-2016-04-18.service-2.json");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let model: Value = serde_json::from_str(&text).expect("the model is JSON");
        let shapes = model["shapes"].as_object().expect("shapes").clone();
        let operations = model["operations"]
            .as_object()
            .expect("operations")
            .iter()
            .map(|(name, op)| OpSpec {
                name: name.clone(),
                input: op["input"]["shape"]
                    .as_str()
                    .expect("every operation has an input")
                    .to_string(),
                signed: op["authtype"].as_str() != Some("none"),
                errors: op["errors"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e["shape"].as_str().map(str::to_string))
                    .collect(),
            })
            .collect();
        let exceptions = shapes
            .iter()
            .filter(|(_, s)| s["exception"].as_bool() == Some(true))
            .map(|(n, _)| n.clone())
            .collect();
        Model {
            shapes,
            operations,
            exceptions,
        }
    }

    pub fn shape(&self, name: &str) -> &Value {
        self.shapes
            .get(name)
            .unwrap_or_else(|| panic!("the model has no shape {name}"))
    }
}

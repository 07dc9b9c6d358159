//! JSON Schemas of mlcompat's JSON outputs, generated from the Rust types that produce them (schemars),
//! printed by `mlcompat schema NAME` and committed under `docs/schema/` (a test fails when the committed
//! files drift from these, and validates real outputs against them).
//!
//! Objects are closed (`additionalProperties: false`), so an output field that the schema does not name
//! fails validation instead of passing unnoticed, and each document's `schema` key is pinned to its name.

use std::borrow::Cow;

use schemars::generate::SchemaSettings;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;
use serde_json::Value;

use crate::estimate::llm::{Bound, Capacity, Memory};
use crate::matrix::{RunsOn, Status};
use crate::verdict::check::Check;
use crate::verdict::Fit;
use crate::version::{PyVersion, ToolVersion};

/// One published schema.
pub struct SchemaInfo {
    /// Short name for `mlcompat schema NAME` and the file `docs/schema/NAME-1.schema.json`.
    pub name: &'static str,
    /// The value of the document's `schema` key, e.g. `mlcompat.report/1`.
    pub id: &'static str,
    /// Which command prints it.
    pub printed_by: &'static str,
}

pub const SCHEMAS: &[SchemaInfo] = &[
    SchemaInfo {
        name: "report",
        id: crate::report::REPORT_SCHEMA,
        printed_by: "mlcompat doctor --format json",
    },
    SchemaInfo {
        name: "facts",
        id: crate::facts::FACTS_SCHEMA,
        printed_by: "mlcompat probe (and read by --facts FILE)",
    },
    SchemaInfo {
        name: "check",
        id: CHECK_SCHEMA,
        printed_by: "mlcompat check --format json",
    },
    SchemaInfo {
        name: "compare",
        id: crate::verdict::compare::COMPARE_SCHEMA,
        printed_by: "mlcompat compare --format json",
    },
    SchemaInfo {
        name: "estimate",
        id: ESTIMATE_SCHEMA,
        printed_by: "mlcompat estimate --format json",
    },
    SchemaInfo {
        name: "table",
        id: crate::render::TABLE_SCHEMA,
        printed_by: "mlcompat table --format json",
    },
    SchemaInfo {
        name: "bench",
        id: crate::bench::BENCH_SCHEMA,
        printed_by: "mlcompat bench --format json (and bench fp4 --compile-only)",
    },
    SchemaInfo {
        name: "audit",
        id: crate::render::AUDIT_SCHEMA,
        printed_by: "mlcompat matrix audit --format json",
    },
    SchemaInfo {
        name: "plan",
        id: crate::plan::PLAN_SCHEMA,
        printed_by: "mlcompat install-plan --format json",
    },
    SchemaInfo {
        name: "explain",
        id: crate::explain::EXPLAIN_SCHEMA,
        printed_by: "mlcompat explain --format json",
    },
];

pub const CHECK_SCHEMA: &str = "mlcompat.check/1";
pub const ESTIMATE_SCHEMA: &str = "mlcompat.estimate/1";

/// What `mlcompat check --format json` prints.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CheckDocument<'a> {
    pub schema: &'static str,
    /// The machine's display name.
    pub machine: &'a str,
    pub checks: &'a [Check],
}

/// What `mlcompat estimate --format json` prints: the estimate's figures beside what was asked and the
/// verdict.
#[derive(Debug, Serialize, JsonSchema)]
pub struct EstimateDocument<'a> {
    pub schema: &'static str,
    pub machine: &'a str,
    pub engine: &'a str,
    /// The catalog model, when one was named.
    pub model: Option<&'a str>,
    /// The quantization asked for.
    pub quant: &'a str,
    /// The quantization the engine runs (another when it has no such format).
    pub quant_run: &'a str,
    /// Bits per weight used.
    pub bits: f64,
    /// Whether the model fits; null when the machine's memory is unknown.
    pub fits: Option<bool>,
    pub fit: &'a Fit,
    pub memory: &'a Memory,
    pub decode_tok_s: Option<f64>,
    pub aggregate_tok_s: Option<f64>,
    pub prefill_tok_s: Option<f64>,
    pub prefill_prompt: u32,
    pub time_to_first_token_s: Option<f64>,
    pub bound: Bound,
    pub capacity: Option<&'a Capacity>,
    pub verdict: Status,
    pub reason: &'a str,
    pub runs_on: RunsOn,
    pub assumptions: &'a [String],
}

/// Finds a schema by `report`, `report/1` or `mlcompat.report/1`.
pub fn find(name: &str) -> Option<&'static SchemaInfo> {
    let name = name.trim();
    SCHEMAS
        .iter()
        .find(|s| s.name == name || s.id == name || s.id.strip_prefix("mlcompat.") == Some(name))
}

/// The file under docs/schema/: `report-1.schema.json` for `mlcompat.report/1`.
pub fn file_name(info: &SchemaInfo) -> String {
    let version = info.id.rsplit('/').next().unwrap_or("1");
    format!("{}-{version}.schema.json", info.name)
}

/// The schema as pretty JSON, ending in a newline (the committed file's exact text).
pub fn schema_text(info: &SchemaInfo) -> String {
    let value = schema_value(info);
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

pub fn schema_value(info: &SchemaInfo) -> Value {
    // Facts are read as well as written: their schema is what `--facts` accepts. The rest are outputs.
    let settings = if info.name == "facts" {
        SchemaSettings::draft2020_12().for_deserialize()
    } else {
        SchemaSettings::draft2020_12().for_serialize()
    };
    let mut generator = settings.into_generator();
    let schema = match info.name {
        // One id, two shapes: the measurements, or what NVRTC builds for one architecture.
        "bench" => {
            let measured = generator.subschema_for::<crate::bench::BenchReport>();
            let compiled = generator.subschema_for::<crate::bench::CompileReport>();
            let defs = generator.take_definitions(true);
            json_schema!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "oneOf": [measured, compiled],
                "$defs": defs
            })
        }
        "audit" => generator.into_root_schema_for::<crate::render::AuditJson<'static>>(),
        "plan" => generator.into_root_schema_for::<crate::plan::Plan>(),
        "explain" => generator.into_root_schema_for::<crate::explain::Explanation>(),
        "report" => generator.into_root_schema_for::<crate::report::Report>(),
        "facts" => generator.into_root_schema_for::<crate::facts::Facts>(),
        "check" => generator.into_root_schema_for::<CheckDocument<'static>>(),
        "compare" => generator.into_root_schema_for::<crate::verdict::Comparison>(),
        "estimate" => generator.into_root_schema_for::<EstimateDocument<'static>>(),
        _ => generator.into_root_schema_for::<crate::render::Grid>(),
    };
    let mut value = schema.to_value();
    close_objects(&mut value);
    if let Some(obj) = value.as_object_mut() {
        obj.insert("title".into(), Value::String(info.id.into()));
        obj.insert(
            "description".into(),
            Value::String(format!("{} — what `{}` prints.", info.id, info.printed_by)),
        );
        // The document's `schema` key, on the root type or on each shape of a `oneOf`.
        let roots: Vec<String> = match obj.get("oneOf").and_then(Value::as_array) {
            Some(shapes) => shapes
                .iter()
                .filter_map(|s| s.get("$ref").and_then(Value::as_str))
                .map(|r| r.trim_start_matches("#/$defs/").to_string())
                .collect(),
            None => vec![String::new()],
        };
        for root in roots {
            let target = if root.is_empty() {
                Some(&mut *obj)
            } else {
                obj.get_mut("$defs")
                    .and_then(|d| d.get_mut(&root))
                    .and_then(Value::as_object_mut)
            };
            if let Some(prop) = target
                .and_then(|t| t.get_mut("properties"))
                .and_then(|p| p.get_mut("schema"))
                .and_then(Value::as_object_mut)
            {
                prop.insert("const".into(), Value::String(info.id.into()));
            }
        }
    }
    value
}

/// `additionalProperties: false` on every object schema that lists its properties (maps keep theirs).
fn close_objects(value: &mut Value) {
    match value {
        Value::Object(obj) => {
            if obj.contains_key("properties") && !obj.contains_key("additionalProperties") {
                obj.insert("additionalProperties".into(), Value::Bool(false));
            }
            for v in obj.values_mut() {
                close_objects(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(close_objects),
        _ => {}
    }
}

impl JsonSchema for ToolVersion {
    fn schema_name() -> Cow<'static, str> {
        "ToolVersion".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A driver, toolkit or tool version: up to five dot-separated numbers, an optional -pre-release and +build (580.95.05, 12.8, 1.19.0-rc.1).",
            "pattern": "^\\s*[vV]?[0-9]+(\\.[0-9]+){0,4}(-[0-9A-Za-z.-]+)?(\\+.*)?\\s*$"
        })
    }
}

impl JsonSchema for crate::matrix::Day {
    fn schema_name() -> Cow<'static, str> {
        "Day".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A calendar day, YYYY-MM-DD.",
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
        })
    }
}

impl JsonSchema for PyVersion {
    fn schema_name() -> Cow<'static, str> {
        "PyVersion".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A PEP 440 version (2.6.0+cu126, 2.8.0.dev20250301, 0.0.post1).",
            "pattern": "^\\s*[vV]?([0-9]+!)?[0-9]+"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve() {
        assert_eq!(find("report").unwrap().id, "mlcompat.report/1");
        assert_eq!(find("mlcompat.facts/1").unwrap().name, "facts");
        assert_eq!(find("check/1").unwrap().name, "check");
        assert_eq!(find("plan").unwrap().id, "mlcompat.plan/1");
    }

    #[test]
    fn objects_are_closed_and_schema_pinned() {
        let v = schema_value(find("report").unwrap());
        assert_eq!(v["additionalProperties"], Value::Bool(false));
        assert_eq!(v["properties"]["schema"]["const"], "mlcompat.report/1");
    }
}

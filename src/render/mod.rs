//! Renderers: pure functions from a report (or a grid of reports) to text written into a `Write`:
//! terminal text, JSON, Markdown, HTML, and the formats other tools read (NFD feature files, Prometheus
//! text, JUnit XML).

mod ascii;
mod audit;
mod bench;
mod doctor;
mod explain;
mod grid;
mod junit;
mod nfd;
mod plan;
mod prometheus;
mod text;
mod workloads;

pub use ascii::{to_ascii, AsciiWriter};
pub use audit::{audit_json, audit_text, AuditJson, AUDIT_SCHEMA};
pub use bench::{bench_text, compile_text};
pub use doctor::{doctor_json, doctor_markdown, doctor_text};
pub use explain::{explain_markdown, explain_text};
pub use grid::{
    grid_html, grid_json, grid_markdown, grid_text, grid_text_fit, Cell, Grid, GridMachine,
    GridRow, TABLE_SCHEMA,
};
pub use junit::{junit_xml, RunTime};
pub use nfd::{check_nfd_prefix, nfd_file, nfd_labels, rfc3339_utc, NFD_MAX_FILE_BYTES};
pub use plan::{plan_json, plan_text};
pub use prometheus::prometheus_text;
pub use text::{display_width, three_columns, Style, MIN_WIDTH, PIPED_WIDTH};
pub use workloads::{calibration_markdown, check_text, compare_text, estimate_text};
